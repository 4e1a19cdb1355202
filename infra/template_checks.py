"""Checks of template.yaml beyond cfn-lint: the template expanded as CloudFormation's
LanguageExtensions transform would (cfn-lint's own implementation), with test parameters.

- InvoiceMailboxes with two company=address pairs gives exactly two SES receipt rules, each for
  its address only, storing under mail/<company>/, spam/virus scanning on, TLS required.

Run by infra/lint-template.sh with the project venv's Python (cfn-lint installed there).
"""
import sys

from cfnlint.decode import decode_str
from cfnlint.template import Template
from cfnlint.template.transforms.transform import Transform


def evaluate(v):
    """The few intrinsics the rules use, over literal strings."""
    if isinstance(v, dict) and len(v) == 1:
        (fn, args), = v.items()
        if fn == "Fn::Split":
            return evaluate(args[1]).split(args[0])
        if fn == "Fn::Select":
            return evaluate(args[1])[args[0]]
        if fn == "Fn::Join":
            return args[0].join(evaluate(a) for a in args[1])
    if isinstance(v, list):
        return [evaluate(a) for a in v]
    return v


def main(path):
    src = open(path).read()
    default = 'Default: "acme=invoices@example.com"'
    assert default in src, "InvoiceMailboxes default changed: update infra/template_checks.py"
    src = src.replace(default, 'Default: "acme=invoices@acme.example,globex=ap@globex.example"')
    tpl, matches = decode_str(src)
    assert not matches, matches
    t = Template(path, tpl, ["us-east-1"])
    errors = Transform().transform(t)
    assert not errors, errors
    rules = {k: v for k, v in t.template["Resources"].items() if v["Type"] == "AWS::SES::ReceiptRule"}
    got = {}
    for logical, r in rules.items():
        rule = r["Properties"]["Rule"]
        assert rule["ScanEnabled"] is True and rule["TlsPolicy"] == "Require" and rule["Enabled"] is True, logical
        (action,) = rule["Actions"]
        got[evaluate(rule["Name"])] = (evaluate(rule["Recipients"]), evaluate(action["S3Action"]["ObjectKeyPrefix"]))
    want = {
        "acme-invoices": (["invoices@acme.example"], "mail/acme/"),
        "globex-invoices": (["ap@globex.example"], "mail/globex/"),
    }
    assert got == want, f"receipt rules {got}, expected {want}"
    print(f"template checks: {len(rules)} receipt rules, one per mailbox, each under mail/<company>/")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
