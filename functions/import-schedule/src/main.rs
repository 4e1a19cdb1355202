//! Lambda entry point: configuration and clients only; the work is in `import_schedule::run`.

use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::sqs::{sqs_client, SqsQueue};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let conf = invoice_adapters::sdk_config().await;
    let table = invoice_wiring::table_from_env()?;
    let queue_url = std::env::var("IMPORT_QUEUE_URL").map_err(|_| "IMPORT_QUEUE_URL is not set")?;
    let companies = DynamoCompanies::new(invoice_adapters::dynamodb_client(&conf), table);
    let queue = SqsQueue::new(sqs_client(&conf), queue_url);
    let (companies, queue) = (&companies, &queue);
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        let run = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let report = import_schedule::run(companies, queue, &run).instrument(span).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
