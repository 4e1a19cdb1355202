//! `invoicectl vendor preview` as a process.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v, String::from_utf8_lossy(&out.stderr).to_string())
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor").join(name).display().to_string()
}

#[test]
fn eligible_order_prints_the_exact_body_and_exits_0() {
    let (code, v, _) = run(&["vendor", "preview", &fixture("v01-shipped-order.json")]);
    assert_eq!(code, Some(0));
    assert_eq!(v["eligible"], true);
    assert_eq!(v["reasons"], serde_json::json!([]));
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["payload"]["invoices"][0]["id"], "100045");
    assert_eq!(v["payload"]["invoices"][0]["invoiceTotal"], serde_json::json!({"currencyCode": "USD", "amount": "270.20"}));
}

#[test]
fn ineligible_or_unmappable_exit_1() {
    let (code, v, _) = run(&["vendor", "preview", &fixture("v04-not-eligible.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(v["eligible"], false);
    assert!(v["reasons"][0].as_str().unwrap().starts_with("order-not-shipped"));
    assert!(v["payload"].is_null());
    let (code, v, _) = run(&["vendor", "preview", &fixture("v03-no-seller-for-vendor-id.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(v["eligible"], true);
    assert_eq!(v["errors"][0]["code"], "no-seller-for-vendor-id");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["vendor", "preview", "/no/such.json"]).0, Some(2));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"order": 1}"#).unwrap();
    let (code, _, err) = run(&["vendor", "preview", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a valid order bundle"), "{err}");
    assert_eq!(run(&["vendor", "preview"]).0, Some(2));
}
