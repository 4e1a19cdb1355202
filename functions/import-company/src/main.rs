//! Lambda entry point: configuration and clients only; the work is in `import_company::handle`.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::sqs::{sqs_client, SqsQueue};
use invoice_wiring::import::{DeadlineClock, ImportRunner};
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
    let env = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
    let sqs = sqs_client(&conf);
    let queues = import_company::Queues {
        import: SqsQueue::new(sqs.clone(), env("IMPORT_QUEUE_URL")?),
        pdfs: SqsQueue::new(sqs, env("PDF_QUEUE_URL")?),
    };
    let state = DynamoRepo::new(tenancy.ddb.clone(), tenancy.table.clone());
    let runner = ImportRunner { tenancy: &tenancy, state: &state, config: invoice_wiring::import::config_from_env()? };
    let (runner, queues) = (&runner, &queues);
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<SqsEvent>| async move {
        let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
        // A minute before the deadline: the page in progress is stored, the cursor saved.
        let clock = DeadlineClock::lambda(ev.context.deadline, Duration::from_secs(60));
        Ok::<_, Error>(import_company::handle(runner, queues, ev.payload, &clock).instrument(span).await)
    }))
    .await
}
