//! AWS adapters of Invoice Bridge: the DynamoDB repository and the S3 document store that
//! implement the domain's ports, and the SDK configuration (endpoints come from the standard
//! AWS configuration, e.g. `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` for the local
//! stack, so the same code runs against AWS).

pub mod answers;
pub mod companies;
pub mod dashboard;
pub mod documents;
pub mod dynamo;
pub mod import;
pub mod keys;
pub mod ordering;
pub mod pdf;
pub mod s3;
pub mod secrets;
pub mod slots;
pub mod sqs;
pub mod table;
pub mod vendor;

/// Shared SDK configuration from the environment (region, credentials, endpoint overrides).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// An S3 client; path-style addressing when `S3_FORCE_PATH_STYLE=true` (local S3 servers).
pub fn s3_client(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let force = std::env::var("S3_FORCE_PATH_STYLE").map(|v| v == "true" || v == "1").unwrap_or(false);
    let c = aws_sdk_s3::config::Builder::from(conf).force_path_style(force).build();
    aws_sdk_s3::Client::from_conf(c)
}

pub fn dynamodb_client(conf: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(conf)
}

/// Formats an SDK error with its full chain of causes (no request bodies are included).
pub(crate) fn sdk_err<E: std::error::Error>(what: &str, e: E) -> invoice_domain::core::PortError {
    invoice_domain::core::PortError(format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
}
