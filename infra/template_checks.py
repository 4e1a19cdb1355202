"""Checks of template.yaml beyond cfn-lint.

- `sam build` can read it: the template goes through SAM CLI's own stack and function providers
  (the code path that rejects, e.g., Fn::ForEach: aws/aws-sam-cli#5647), and every function is
  built by rust-cargolambda for arm64 on provided.al2023 from its binary.
- The e-mail channel: one SES receipt rule for the InvoiceAddresses, storing under mail/,
  spam/virus scanning on, TLS required.
- The dashboard: its function may only read the table and its indexes (GetItem, Query), update
  (UpdateItem) and read archive/, documents/, quarantine/ objects (GetObject, for presigning);
  the user pool is admin-create-only with custom:company and custom:role; its app client is
  public, code + PKCE only, and cannot write custom:company or custom:role; only /api/ routes
  carry the JWT authorizer, on the pool's issuer and the client as audience.
- samconfig.toml: beta features on (rust-cargolambda), parallel builds (not SAM-cached: cargo caches), the capabilities
  the template needs, and parameter overrides naming only template parameters, equal to their
  defaults (so `sam deploy --guided` offers the template's own defaults).

Run by infra/lint-template.sh with the project venv's Python (cfn-lint and aws-sam-cli installed there).
"""
import json
import os
import sys
import tomllib

from cfnlint.decode import decode_str


def text(v):
    """A resource reference or intrinsic as one string (e.g. '{"Fn::Sub": "${X.Arn}/a/*"}')."""
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def check_dashboard(resources):
    fn = resources["DashboardFunction"]
    assert fn["Metadata"]["BuildProperties"]["Binary"] == "dashboard"
    (policy,) = fn["Properties"]["Policies"]
    allowed = set()
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow", st
        for a in st["Action"]:
            for r in st["Resource"]:
                allowed.add((a, text(r)))
    actions = {a for a, _ in allowed}
    assert actions == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem", "s3:GetObject",
                       "secretsmanager:GetSecretValue"}, actions
    secrets = [r for a, r in allowed if a == "secretsmanager:GetSecretValue"]
    assert secrets == ['{"Ref": "DashboardSecret"}'], secrets
    s3 = sorted(r for a, r in allowed if a == "s3:GetObject")
    want = ['{"Fn::Sub": "${DocumentBucket.Arn}/%s/*"}' % p for p in ("archive", "documents", "quarantine")]
    assert s3 == want, s3
    updates = [r for a, r in allowed if a == "dynamodb:UpdateItem"]
    assert updates == ['{"Fn::GetAtt": ["InvoiceTable", "Arn"]}'], updates
    env = fn["Properties"]["Environment"]["Variables"]
    for var in ("AUTH_ISSUER", "AUTH_JWKS_URL", "AUTH_AUTHORIZE_URL", "AUTH_TOKEN_URL", "AUTH_LOGOUT_URL", "AUTH_CLIENT_ID",
                "DASHBOARD_BASE_URL", "DASHBOARD_SECRET_ID", "TABLE_NAME", "BUCKET_NAME"):
        assert var in env, var
    # The HMAC key is read from Secrets Manager at cold start, never resolved into the configuration.
    assert "DASHBOARD_SECRET" not in env and "resolve:secretsmanager" not in json.dumps(env), env

    pool = resources["DashboardUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    custom = {a["Name"]: a for a in pool["Schema"] if a["Name"] in ("company", "role")}
    assert set(custom) == {"company", "role"} and all(a["Mutable"] is True for a in custom.values()), custom

    client = resources["DashboardUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"], client
    assert "openid" in client["AllowedOAuthScopes"]
    assert not {"custom:company", "custom:role"} & set(client["WriteAttributes"]), client["WriteAttributes"]
    assert {"custom:company", "custom:role"} <= set(client["ReadAttributes"])
    assert [text(u) for u in client["CallbackURLs"]] == [
        '{"Fn::Sub": "https://${DashboardHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/auth/callback"}'
    ], client["CallbackURLs"]

    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources.values()
        if isinstance(r, dict) and r["Type"] == "AWS::ApiGatewayV2::Route" and r["Properties"]["ApiId"] == {"Ref": "DashboardHttpApi"}
    }
    assert routes["ANY /api/{proxy+}"]["AuthorizationType"] == "JWT", routes
    assert routes["$default"]["AuthorizationType"] == "NONE", routes
    jwt = resources["DashboardJwtAuthorizer"]["Properties"]["JwtConfiguration"]
    assert jwt["Audience"] == [{"Ref": "DashboardUserPoolClient"}], jwt
    assert "${DashboardUserPool}" in text(jwt["Issuer"]), jwt
    print("template checks: dashboard function least privilege, admin-only pool, code + PKCE client, JWT on /api/")


def check_samconfig(path, parameters):
    from samcli.cli.types import CfnParameterOverridesType

    cfg = tomllib.load(open(path, "rb"))["default"]
    assert cfg["global"]["parameters"]["beta_features"] is True
    build = cfg["build"]["parameters"]
    assert build["beta_features"] is True and build["parallel"] is True, build
    # SAM's cache hashes each function's CodeUri (".": the workspace, target/ included) once per
    # function and never hits, as every build changes target/; cargo's target/ is the cache.
    assert build.get("cached") is False, "samconfig.toml: cached builds hash target/ per function; keep cached = false"
    deploy = cfg["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}, deploy["capabilities"]
    overrides = CfnParameterOverridesType().convert(deploy["parameter_overrides"], None, None)
    for name, value in overrides.items():
        assert name in parameters, f"samconfig.toml overrides {name}, not a template parameter"
        assert str(parameters[name].get("Default")) == value, f"samconfig.toml {name}={value!r}, template default {parameters[name].get('Default')!r}"
    missing = {n for n, p in parameters.items() if "Default" in p} - set(overrides)
    assert not missing, f"template parameters with a default missing from samconfig.toml: {missing}"
    print(f"template checks: samconfig.toml ({len(overrides)} parameter defaults, beta features, parallel builds, cargo as the build cache)")


def check_sam_build_reads(path):
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(path)
    functions = list(SamFunctionProvider(stacks).get_all())
    assert functions, "sam build finds no function"
    for f in functions:
        assert f.metadata.get("BuildMethod") == "rust-cargolambda", (f.name, f.metadata)
        assert f.runtime == "provided.al2023" and f.architectures == ["arm64"], (f.name, f.runtime, f.architectures)
        assert f.metadata.get("BuildProperties", {}).get("Binary"), f.name
    print(f"template checks: sam build reads the template ({len(functions)} rust-cargolambda functions, arm64, provided.al2023)")


def check_mail(resources):
    rules = {k: v for k, v in resources.items() if v["Type"] == "AWS::SES::ReceiptRule"}
    assert list(rules) == ["MailReceiptRule"], list(rules)
    rule = rules["MailReceiptRule"]["Properties"]["Rule"]
    assert rule["ScanEnabled"] is True and rule["TlsPolicy"] == "Require" and rule["Enabled"] is True, rule
    assert rule["Recipients"] == {"Ref": "InvoiceAddresses"}, rule["Recipients"]
    (action,) = rule["Actions"]
    assert action["S3Action"]["ObjectKeyPrefix"] == "mail/" and action["S3Action"]["BucketName"] == {"Ref": "DocumentBucket"}, action
    print("template checks: one receipt rule for the invoice addresses, under mail/, scanning on, TLS required")


def main(path):
    tpl, matches = decode_str(open(path).read())
    assert not matches, matches
    check_dashboard(tpl["Resources"])
    check_mail(tpl["Resources"])
    check_samconfig(os.path.join(os.path.dirname(os.path.abspath(path)), "samconfig.toml"), tpl["Parameters"])
    check_sam_build_reads(path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
