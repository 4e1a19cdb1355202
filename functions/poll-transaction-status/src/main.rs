//! Lambda entry point: configuration and clients only; the work is in `poll_transaction_status::run_pass`.

use std::time::{Duration, Instant};

use invoice_adapters::slots::DynamoSlots;
use invoice_adapters::vendor::DynamoVendorRepo;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_adapters::init_lambda_tracing();
    let table = std::env::var("TABLE_NAME").map_err(|_| "environment variable TABLE_NAME is required")?;
    let conf = invoice_adapters::sdk_config().await;
    let ddb = invoice_adapters::dynamodb_client(&conf);
    let credentials = submit_vendor_invoice::credentials(&conf).await?;
    let api = invoice_spapi::Client::new(
        invoice_spapi::Config::from_env()?,
        credentials,
        invoice_spapi::DEFAULT_PARTNER,
        DynamoSlots::new(ddb.clone(), table.clone()),
    )?;
    let repo = DynamoVendorRepo::new(ddb, table);
    let limits = poll_transaction_status::limits_from_env();
    let grace = poll_transaction_status::reconcile_grace_from_env();
    let (repo, api) = (&repo, &api);
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        // Stop 15 s before the function's deadline; the next scheduled run carries on.
        let remaining = poll_transaction_status::remaining_time(ev.context.deadline(), std::time::SystemTime::now());
        let deadline = Instant::now() + remaining;
        tracing::info!(remaining_ms = remaining.as_millis() as u64, "polling pass starts");
        let now = chrono::Utc::now();
        let margin = Duration::from_secs(15);
        let (report, reconciled) = async {
            let report = poll_transaction_status::run_pass(repo, api, now, limits, deadline, margin).await?;
            let reconciled = poll_transaction_status::run_reconcile(repo, api, now, grace, deadline, margin).await?;
            Ok::<_, Error>((report, reconciled))
        }
        .instrument(span)
        .await?;
        // CloudWatch Embedded Metric Format: this stdout line becomes the metrics (0 keeps the alarm OK).
        println!("{}", poll_transaction_status::emf(&report, now));
        let mut report = serde_json::to_value(report)?;
        report["reconciliation"] = serde_json::to_value(reconciled)?;
        Ok::<_, Error>(report)
    }))
    .await
}
