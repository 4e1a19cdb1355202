//! Lambda entry point: configuration and clients only; the work is in `place_order::handle`.

use aws_lambda_events::event::sqs::SqsEvent;
use invoice_wiring::Tenancy;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let conf = invoice_adapters::sdk_config().await;
    let tenancy = Tenancy::from_env(&conf).await.map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    tracing::info!(
        endpoint = tenancy.business_endpoint.as_deref().unwrap_or("per company region"),
        "Amazon Business clients ready (one per company, created on first use)"
    );
    let tenancy = &tenancy;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        let now = chrono::Utc::now();
        Ok::<_, Error>(place_order::handle(tenancy, ev.payload, now).instrument(span).await)
    }))
    .await
}
