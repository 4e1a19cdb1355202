//! `invoicectl check` as a process: JSON lines, exit codes, never a panic.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_invoicectl"))
}

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples")
}

#[test]
fn json_lines_for_every_file_and_exit_1_when_any_invalid() {
    let out = bin()
        .args(["check", "--json"])
        .arg(samples().join("s01-amazon-business-two-sellers.xml"))
        .arg(samples().join("s05-two-orders-net-zero.xml"))
        .arg(samples().join("s02-integer-amounts-empty-net.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    let s01 = &lines[0];
    assert_eq!(s01["ok"], true);
    assert_eq!(s01["errors"], serde_json::json!([]));
    let inv = &s01["invoice"];
    for (k, v) in [
        ("invoice_id", "1QX7ZK4MPL2T"),
        ("purpose", "standard"),
        ("operation", "new"),
        ("currency", "USD"),
        ("subtotal", "166.47"),
        ("tax", "14.98"),
        ("shipping", "8.99"),
        ("special_handling", "0.00"),
        ("net", "190.44"),
        ("due", "190.44"),
    ] {
        assert_eq!(inv[k], v, "{k}");
    }
    assert_eq!(inv["discount"], "0");
    assert_eq!(inv["lines"], 2);
    assert_eq!(inv["order_ids"], serde_json::json!(["PO-2025-00931"]));
    assert!(s01["file"].as_str().unwrap().ends_with("s01-amazon-business-two-sellers.xml"));
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[1]["errors"][0]["code"], "net-mismatch");
    assert!(lines[1]["errors"][0]["message"].as_str().unwrap().contains("NetAmount"));
    assert_eq!(lines[1]["invoice"]["invoice_id"], "SUP91-000187", "invoice present whenever readable");
    assert_eq!(lines[2]["invoice"]["net"], "529");
}

#[test]
fn exit_0_when_all_valid_and_readable_text_report() {
    let out = bin().arg("check").arg(samples().join("s07-eur-vat-accounting-distribution.xml")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("OK") && text.contains("RE-2025-118734") && text.contains("EUR") && text.contains("123.90"), "{text}");
}

#[test]
fn unreadable_paths_and_usage_errors_exit_2() {
    let out = bin().args(["check", "--json", "/no/such/file.xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.xml"));
    // A directory is not a document.
    assert_eq!(bin().args(["check"]).arg(samples()).output().unwrap().status.code(), Some(2));
    // Unreadable beats invalid, and the readable files are still reported.
    let out = bin().args(["check", "--json", "/no/such"]).arg(samples().join("s05-two-orders-net-zero.xml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    for args in [vec!["check"], vec!["check", "--frobnicate", "x"], vec!["nope"], vec![]] {
        assert_eq!(bin().args(&args).output().unwrap().status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn hostile_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.xml", vec![]),
        ("binary.xml", (0..=255u8).cycle().take(5000).collect()),
        ("bom-only.xml", vec![0xEF, 0xBB, 0xBF]),
        ("utf16-odd.xml", vec![0xFF, 0xFE, 0x3C]),
        ("laughs.xml", br#"<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><cXML>&b;</cXML>"#.to_vec()),
        ("deep.xml", format!("<cXML>{}</cXML>", "<x>".repeat(100_000)).into_bytes()),
        ("unclosed.xml", b"<cXML><Request><InvoiceDetailRequest>".to_vec()),
        ("nul.xml", b"<cXML>\0</cXML>".to_vec()),
    ];
    for (name, bytes) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        files.push(p);
    }
    let out = bin().args(["check", "--json"]).args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), files.len());
    for l in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["ok"], false);
        assert!(!v["errors"].as_array().unwrap().is_empty());
    }
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let files: Vec<PathBuf> = std::iter::repeat_n(samples().join("s01-amazon-business-two-sellers.xml"), 3000).collect();
    let mut child = bin().args(["check", "--json"]).args(&files).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 10];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take()); // the reader goes away, like `| head -c 10`
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc_sigpipe()), "ended by SIGPIPE at the first write after the reader left: {status:?}");
}

fn libc_sigpipe() -> i32 {
    13 // SIGPIPE on Linux
}

#[test]
fn verdicts_and_read_errors_keep_their_order_in_one_stream() {
    // stdout and stderr into one file, as `> log 2>&1` does: the verdicts are then written in
    // blocks, and those reported before an unreadable file still come before its error.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let f = std::fs::File::create(&log).unwrap();
    let status = bin()
        .arg("check")
        .arg(samples().join("s01-amazon-business-two-sellers.xml"))
        .arg(dir.path().join("missing.xml"))
        .arg(samples().join("s02-integer-amounts-empty-net.xml"))
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("s01-amazon-business-two-sellers.xml: OK"), "{text}");
    assert!(lines[1].starts_with("invoicectl: cannot read") && lines[1].contains("missing.xml"), "{text}");
    assert!(lines[2].contains("s02-integer-amounts-empty-net.xml: OK"), "{text}");
}
