//! `invoicectl match` as a process: the Ordering API guide's invoice, PO and placeOrder answer.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

const INVOICE: &str = "tests/fixtures/cxml/samples/s00-spec-amazon-business-appendix2.xml";
const PO: &str = "tests/fixtures/po/po-spec-sample.json";
const PLACED: &str = "shared/domain/tests/fixtures/ordering/spec-sample-response.json";

/// The guide's invoice names its PO "US Ariba Order" and another Amazon order than its
/// answer: written here as the invoice for the guide's PO ("US Order") would be.
fn invoice_for_the_po(dir: &Path) -> String {
    let doc = std::fs::read_to_string(root().join(INVOICE)).unwrap();
    assert!(doc.contains(r#"orderID="US Ariba Order""#));
    let p = dir.join("invoice.xml");
    std::fs::write(&p, doc.replace(r#"orderID="US Ariba Order""#, r#"orderID="US Order""#)).unwrap();
    p.display().to_string()
}

#[test]
fn the_guides_invoice_matches_what_amazon_accepted_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let inv = invoice_for_the_po(dir.path());
    let (code, out, err) = run(&["match", &inv, "--po", &path(PO), "--placed", &path(PLACED), "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let v = json(&out);
    assert_eq!(v["status"], "Matched");
    assert_eq!(v["po_number"], "US Order");
    assert_eq!(v["exceptions"], serde_json::json!([]));
    assert_eq!(v["lines"], serde_json::json!([{"invoice_line": "1", "po_line": "12345", "status": "Matched"}]));
    // Text.
    let (code, out, _) = run(&["match", &inv, "--po", &path(PO), "--placed", &path(PLACED)]);
    assert_eq!(code, Some(0));
    assert!(out.contains("matched against PO US Order") && out.contains("line 1 -> PO line 12345: ok"), "{out}");
}

#[test]
fn exceptions_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let inv = invoice_for_the_po(dir.path());
    // Without the answer: the PO expected 109.99 per unit, the invoice bills 7.99.
    let (code, out, _) = run(&["match", &inv, "--po", &path(PO), "--json"]);
    assert_eq!(code, Some(1), "{out}");
    let v = json(&out);
    assert_eq!(v["status"], "Exception");
    assert_eq!(v["exceptions"][0]["code"], "price-variance");
    assert_eq!(v["exceptions"][0]["expected"], "109.99 USD");
    assert_eq!(v["exceptions"][0]["found"], "7.99 USD");
    // A price tolerance of 95 % lets it through (the line amount then too: 95 %).
    let tol = dir.path().join("tolerances.json");
    std::fs::write(&tol, r#"{"unit_price": {"percent": 95}, "amount": {"percent": 95}}"#).unwrap();
    let (code, out, _) = run(&["match", &inv, "--po", &path(PO), "--tolerances", tol.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0), "{out}");
    // The guide's invoice as it is: its PO number and Amazon order are not the PO's.
    let (code, out, _) = run(&["match", &path(INVOICE), "--po", &path(PO), "--placed", &path(PLACED)]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("EXCEPTION, no PO") && out.contains("no-po: "), "{out}");
}

#[test]
fn the_amazon_order_id_finds_the_po() {
    let dir = tempfile::tempdir().unwrap();
    let doc = std::fs::read_to_string(root().join(INVOICE)).unwrap();
    let p = dir.path().join("invoice.xml");
    std::fs::write(
        &p,
        doc.replace(r#"SupplierOrderInfo orderID="113-2968845-4452123""#, r#"SupplierOrderInfo orderID="113-1746647-0749053""#),
    )
    .unwrap();
    let (code, out, err) = run(&["match", p.to_str().unwrap(), "--po", &path(PO), "--placed", &path(PLACED), "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(json(&out)["po_number"], "US Order");
}

#[test]
fn usage_and_unreadable_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let inv = invoice_for_the_po(dir.path());
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let not_xml = write("not.xml", "%PDF-1.7");
    let bad_json = write("bad.json", "{");
    let bad_tol = write("tol.json", r#"{"unit_price": {"absolute": "-1"}}"#);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["match".into(), inv.clone()], "--po"),
        (vec!["match".into(), "/no/such.xml".into(), "--po".into(), path(PO)], "cannot read invoice"),
        (vec!["match".into(), not_xml, "--po".into(), path(PO)], "not a readable cXML invoice"),
        (vec!["match".into(), inv.clone(), "--po".into(), bad_json.clone()], "is not a PO"),
        (vec!["match".into(), inv.clone(), "--po".into(), path("tests/fixtures/po/po-refused.json")], "does not validate"),
        (vec!["match".into(), inv.clone(), "--po".into(), path(PO), "--placed".into(), bad_json], "not a placeOrder answer"),
        (vec!["match".into(), inv.clone(), "--po".into(), path(PO), "--tolerances".into(), bad_tol], "are not tolerances"),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
