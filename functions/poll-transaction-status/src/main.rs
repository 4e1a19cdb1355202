//! Lambda entry point: configuration and clients only; the work is in `poll_transaction_status::run_scheduled`.

use std::time::{Duration, Instant};

use invoice_wiring::Tenancy;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let conf = invoice_adapters::sdk_config().await;
    let tenancy = Tenancy::from_env(&conf).await?;
    let limits = poll_transaction_status::limits_from_env();
    let grace = poll_transaction_status::reconcile_grace_from_env();
    let tenancy = &tenancy;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        // Stop 15 s before the function's deadline; the next scheduled run carries on.
        let remaining = poll_transaction_status::remaining_time(ev.context.deadline(), std::time::SystemTime::now());
        let deadline = Instant::now() + remaining;
        let now = chrono::Utc::now();
        let margin = Duration::from_secs(15);
        let report = poll_transaction_status::run_scheduled(tenancy, now, limits, grace, deadline, margin).instrument(span).await?;
        poll_transaction_status::print_metrics(&report, now);
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
