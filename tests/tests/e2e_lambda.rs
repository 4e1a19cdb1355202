//! End to end through the real `ingest-cxml` binary: `cargo lambda watch` serves the Lambda
//! Runtime API and runs the binary; `cargo lambda invoke` sends real S3 event payloads; the
//! results are read back from DynamoDB Local and moto S3.

use std::process::Command;

use integration_tests::{all_months, fixture, path_with_cargo_lambda, repo_root, start_watch, Env, ACME};
use invoice_domain::invoice::records::InvoiceStatus;

/// Invokes the function; Ok(response JSON) or Err(error output).
fn invoke(port: u16, event: &serde_json::Value) -> Result<serde_json::Value, String> {
    let out = Command::new("cargo")
        .current_dir(repo_root())
        .env("PATH", path_with_cargo_lambda())
        .args(["lambda", "invoke", "ingest-cxml", "-A", "127.0.0.1", "-P", &port.to_string(), "--data-ascii"])
        .arg(event.to_string())
        .output()
        .expect("cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.success() {
        serde_json::from_str(stdout.trim()).map_err(|e| format!("{e}: {stdout}"))
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_events_through_the_built_binary() {
    let env = Env::new().await;
    env.put("incoming/acme/Amazon Business/s01.xml", fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    env.put("incoming/s05.xml", fixture("cxml/samples/s05-two-orders-net-zero.xml")).await;
    let event = serde_json::to_value(env.event(&["incoming/acme/Amazon Business/s01.xml", "incoming/s05.xml"])).unwrap();
    let watch = start_watch(&env.table);

    let port = watch.port;
    let ev = event.clone();
    let resp = tokio::task::spawn_blocking(move || invoke(port, &ev)).await.unwrap().expect("invocation succeeds");
    let outcomes: Vec<&str> = resp["records"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["stored", "quarantined"], "{resp}");
    assert_eq!(resp["records"][1]["codes"], serde_json::json!(["net-mismatch"]));

    let h = env.repo.invoice(ACME, "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Valid);
    assert_eq!(h.source_key, "incoming/acme/Amazon Business/s01.xml");
    assert_eq!(env.repo.rejections(ACME, &all_months(), 10).await.unwrap().len(), 1);

    // The same event delivered again: nothing new is written.
    let again = tokio::task::spawn_blocking(move || invoke(port, &event)).await.unwrap().unwrap();
    assert_eq!(again["records"][0]["outcome"], "gone");
    assert_eq!(env.repo.invoices_by_status(ACME, "Valid", &all_months(), 10).await.unwrap().len(), 1);
    assert_eq!(env.repo.rejections(ACME, &all_months(), 10).await.unwrap().len(), 1);
    drop(watch);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storage_failure_fails_the_invocation_so_lambda_retries() {
    let env = Env::new().await;
    env.put("incoming/s01.xml", fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    let event = serde_json::to_value(env.event(&["incoming/s01.xml"])).unwrap();
    // The function is pointed at a table that does not exist.
    let watch = start_watch("no-such-table");
    let port = watch.port;
    let res = tokio::task::spawn_blocking(move || invoke(port, &event)).await.unwrap();
    let err = res.expect_err("invocation must fail");
    assert!(err.contains("failed"), "{err}");
    assert!(env.get("incoming/s01.xml").await.is_some(), "the document stays in incoming/ for the retry");
    drop(watch);
}
