//! Lambda entry point: configuration and clients only; the work is in `receive_cxml::handle`.

use lambda_http::{service_fn, Error, Request, RequestExt};
use receive_cxml::{handle, Config, Deps};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let deps = Deps::from_env(config).await;
    lambda_http::run(service_fn(|req: Request| {
        let deps = deps.clone();
        let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
        let span = tracing::info_span!("invocation", %request_id);
        async move { Ok::<_, Error>(handle(&deps, req).instrument(span).await) }
    }))
    .await
}
