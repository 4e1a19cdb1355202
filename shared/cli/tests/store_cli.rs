//! invoicectl's table-backed commands against DynamoDB Local + moto (the stack is started by
//! the integration-tests support crate when needed).

use std::process::Command;

use integration_tests::{fixture, Env};

fn bin(env: &Env) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_invoicectl"));
    c.env("TABLE_NAME", &env.table).env("BUCKET", &env.bucket);
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_then_ingest_then_list_invoices_and_quarantine() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("s01.xml");
    let bad = dir.path().join("net zero.xml");
    std::fs::write(&good, fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap();
    std::fs::write(&bad, fixture("cxml/samples/s05-two-orders-net-zero.xml")).unwrap();

    let out = bin(&env).args(["local", "drop"]).arg(&good).arg(&bad).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let event: aws_lambda_events::event::s3::S3Event = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(event.records.len(), 2);
    assert_eq!(event.records[1].s3.object.key.as_deref(), Some("incoming/net+zero.xml"));
    ingest_cxml::handle(&env.deps(None), event).await.unwrap();

    let out = bin(&env).args(["invoices", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let inv: serde_json::Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(inv["invoice_id"], "1QX7ZK4MPL2T");
    assert_eq!(inv["status"], "Valid");

    let out = bin(&env).args(["quarantine", "list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("incoming/net zero.xml") && text.contains("net-mismatch") && text.contains("SUP91-000187"), "{text}");

    let out = bin(&env).args(["invoices", "by-po", "PO-2025-00931"]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("1QX7ZK4MPL2T"));

    let out = bin(&env).args(["invoices", "show", "NetworkID:AN01011737571#1QX7ZK4MPL2T"]).output().unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["lines"].as_array().unwrap().len(), 2);
    assert_eq!(shown["entries"].as_array().unwrap().len(), 5);

    let out = bin(&env).args(["invoices", "show", "nobody#nothing"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}
