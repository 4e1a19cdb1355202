//! `invoicectl order build` as a process, on the PO fixtures (tests/fixtures/po).

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/po").join(name).display().to_string()
}

#[test]
fn a_valid_po_prints_its_exact_body_and_exits_0() {
    let (code, out, err) = run(&["order", "build", &fixture("po-4711.json")]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"], serde_json::json!([]));
    let body = &v["body"];
    assert_eq!(body["externalId"], "acme-PO-4711");
    let numbers: Vec<&str> = body["lineItems"].as_array().unwrap().iter().map(|l| l["externalId"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["10", "0020"], "line numbers exactly as written");
    assert_eq!(body["attributes"][6]["paymentMethodReference"]["paymentMethodReferenceType"], "StoredPaymentMethod");
    // Amounts are JSON numbers with the PO's digits, trailing zeros and all.
    for exact in [r#""amount": 60.00,"#, r#""amount": 120.00,"#, r#""amount": 16.80,"#, r#""amount": 89.99,"#, r#""amount": 0,"#] {
        assert!(out.contains(exact), "{exact} in {out}");
    }
    // The guide's sample PO builds too.
    assert_eq!(run(&["order", "build", &fixture("po-spec-sample.json")]).0, Some(0));
}

#[test]
fn a_refused_po_prints_every_problem_and_exits_1() {
    let (code, out, _) = run(&["order", "build", &fixture("po-refused.json")]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["body"].is_null());
    let codes: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        [
            "invalid-email",
            "duplicate-line-number",
            "non-numeric-line-id",
            "quantity-below-one",
            "currency-mismatch",
            "distribution-mismatch"
        ]
    );
    assert_eq!(v["errors"][2]["message"], r#"line 10a: line_number "10a" is not all digits; e-invoicing needs a numeric line number"#);
}

#[test]
fn unreadable_or_not_a_po_exits_2() {
    let (code, _, err) = run(&["order", "build", "/no/such/po.json"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot read"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("not-json.json", "po_number: 1"),
        ("not-a-po.json", r#"{"lines": []}"#),
        ("float-line.json", r#"{"po_number": 1, "lines": [{"line_number": 10.5}]}"#),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, out, err) = run(&["order", "build", path.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{name}");
        assert!(out.is_empty() && err.contains("is not a PO"), "{name}: {err}");
    }
    assert_eq!(run(&["order", "build"]).0, Some(2));
    assert_eq!(run(&["order"]).0, Some(2));
}
