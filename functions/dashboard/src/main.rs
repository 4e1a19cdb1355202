//! Lambda entry point: configuration and clients only; the routes are in `dashboard::router`.

use dashboard::{router, App, Config};
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    invoice_wiring::init_lambda_tracing();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let app = App::from_env(config).await;
    lambda_http::run(router(app)).await
}
