//! Lambda entry point: configuration and clients only; the work is in `ingest_mail::handle`.

use ingest_mail::{handle, Config, Deps};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let deps = Deps::from_env(config).await;
    lambda_runtime::run(service_fn(|ev: LambdaEvent<aws_lambda_events::event::s3::S3Event>| {
        let deps = deps.clone();
        async move {
            let span = tracing::info_span!("invocation", request_id = %ev.context.request_id);
            handle(&deps, ev.payload).instrument(span).await.map_err(Error::from)
        }
    }))
    .await
}
