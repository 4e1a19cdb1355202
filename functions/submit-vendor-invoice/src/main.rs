//! Lambda entry point: configuration and clients only; the work is in `submit_vendor_invoice::handle`.

use aws_lambda_events::event::sqs::SqsEvent;
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
    let credentials = submit_vendor_invoice::credentials(&conf).await.map_err(|e| {
        tracing::error!(error = %e, "LWA credentials unavailable");
        e
    })?;
    let spapi_config = invoice_spapi::Config::from_env()?;
    tracing::info!(endpoint = %spapi_config.endpoint, "SP-API client ready");
    let api = invoice_spapi::Client::new(
        spapi_config,
        credentials,
        invoice_spapi::DEFAULT_PARTNER,
        DynamoSlots::new(ddb.clone(), table.clone()),
    )?;
    let repo = DynamoVendorRepo::new(ddb, table);
    let (repo, api) = (&repo, &api);
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        let now = chrono::Utc::now();
        Ok::<_, Error>(submit_vendor_invoice::handle(repo, api, ev.payload, now).instrument(span).await)
    }))
    .await
}
