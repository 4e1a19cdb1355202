//! Lambda entry point: configuration and clients only; the routes are in `dashboard::router`.

use dashboard::{router, App, Config};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let conf = invoice_adapters::sdk_config().await;
    let config = Config::load(&std::env::vars().collect(), &conf).await.map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    lambda_http::run(router(App::from_sdk(config, &conf))).await
}
