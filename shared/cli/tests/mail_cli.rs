//! `invoicectl mail inspect` on the e-mail fixtures: the same files the handler tests use.

use std::process::Command;

fn inspect(file: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let path = format!("{}/../../tests/fixtures/mail/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).args(["mail", "inspect", &path, "--json"]).args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn cxml_mail_is_accepted_with_the_check_object() {
    let (rc, v) = inspect("m01-cxml-attachment.eml", &["--allow", "northwind.example"]);
    assert_eq!(rc, 0, "{v}");
    assert_eq!(v["accepted"], true);
    assert_eq!(v["from"], "ap@northwind.example");
    assert_eq!(v["message_id"], "cxml-1@northwind.example");
    let a = &v["attachments"][0];
    assert_eq!((a["kind"].as_str(), a["invoice_number"].as_str()), (Some("cxml"), Some("1QX7ZK4MPL2T")));
    assert_eq!(a["check"]["ok"], true);
    assert_eq!(a["check"]["invoice"]["net"], "190.44");
}

#[test]
fn pdf_invoice_number_comes_from_the_pdf_text() {
    let (rc, v) = inspect("m02-amazon-pdf-invoice.eml", &["--allow", "amazon.com"]);
    assert_eq!(rc, 0, "{v}");
    let a = &v["attachments"][0];
    assert_eq!(
        (a["kind"].as_str(), a["invoice_number"].as_str(), a["name"].as_str()),
        (Some("pdf"), Some("1QX7ZK4MPL2T"), Some("Invoice.pdf"))
    );
    assert!(a["check"].is_null());
    let (rc, v) = inspect("m03-cxml-and-pdf.eml", &["--allow", "ap@northwind.example"]);
    assert_eq!(rc, 0);
    let kinds: Vec<&str> = v["attachments"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["cxml", "pdf"]);
}

#[test]
fn refused_and_hostile_mail_exit_1_with_codes() {
    let allow = ["--allow", "northwind.example"];
    for (file, expected) in [
        ("h01-spam-fail.eml", vec!["spam"]),
        ("h02-forged-verdicts.eml", vec!["dkim-fail"]),
        ("h03-sender-not-allowed.eml", vec!["sender-not-allowed"]),
        ("h04-gray-verdict.eml", vec!["verdict-gray"]),
        ("h05-zip-and-gzip.eml", vec!["compressed-attachment", "compressed-attachment", "no-invoice-attachment"]),
        ("h06-deep-nesting.eml", vec!["too-deep"]),
        ("h07-many-parts.eml", vec!["too-many-parts"]),
        ("h08-malformed-mime.eml", vec!["malformed-mime"]),
        ("h12-no-ses-receipt.eml", vec!["no-ses-receipt"]),
        ("h13-no-attachment.eml", vec!["no-invoice-attachment"]),
    ] {
        let (rc, v) = inspect(file, &allow);
        assert_eq!(rc, 1, "{file}: {v}");
        assert_eq!(codes(&v), expected, "{file}");
    }
    // The company's choice: GRAY passes.
    let (rc, _) = inspect("h04-gray-verdict.eml", &["--allow", "northwind.example", "--gray-passes"]);
    assert_eq!(rc, 0);
    // The zip is reported, never expanded.
    let (_, v) = inspect("h05-zip-and-gzip.eml", &allow);
    assert!(v["attachments"].as_array().unwrap().iter().all(|a| a["kind"] == "other"));
    // A disguised, encoded, over-long name: the bytes decide.
    let (rc, v) = inspect("h10-encoded-long-name.eml", &allow);
    assert_eq!(rc, 0, "{v}");
    assert_eq!(v["attachments"][0]["kind"], "cxml");
    assert!(v["attachments"][0]["name"].as_str().unwrap().chars().count() <= 200);
    assert_eq!(v["subject"], "Rechnung für Acme");
}

#[test]
fn unreadable_file_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).args(["mail", "inspect", "/nonexistent.eml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
