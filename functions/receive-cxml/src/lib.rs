//! receive-cxml: suppliers POST cXML documents over HTTPS (API Gateway HTTP API, `POST
//! /cxml`); each is authenticated, validated and answered synchronously with a cXML
//! `Response`; an accepted invoice is written under `incoming/<company>/https/` with its
//! source (channel `https`, Sender, payloadID) as S3 metadata, and the usual S3-triggered
//! ingestion books it. The decisions are in `invoice_domain::channel::https`; this crate only
//! turns HTTP requests into calls and wires configuration.

pub use invoice_wiring::env::ConfigError;
use invoice_wiring::env::{distinct_prefixes, Env};
use std::collections::HashMap;
use std::sync::Arc;

use invoice_adapters::answers::DynamoAnswers;
use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::s3::S3Store;
use invoice_domain::channel::https::{dummy_hash, response_payload_id, Post, ReceiveConfig, Receiver, Reply};
use invoice_domain::core::time::iso;
use lambda_http::{Body, Request, Response};

/// Lambda's payload limit for a synchronous invocation.
pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// Configuration from environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub bucket: String,
    pub incoming_prefix: String,
    pub attachments_prefix: String,
    /// `MAX_BODY_BYTES` (default 6 MiB, the Lambda payload limit).
    pub max_body_bytes: usize,
    pub max_depth: usize,
    /// The endpoint's public URL for the ProfileResponse (`ENDPOINT_URL`; default: the
    /// request's own URL).
    pub endpoint_url: Option<String>,
}

impl Config {
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let e = Env(env);
        let c = Config {
            table: e.required("TABLE_NAME")?,
            bucket: e.required("BUCKET_NAME")?,
            incoming_prefix: e.or("INCOMING_PREFIX", "incoming/"),
            attachments_prefix: e.or("ATTACHMENTS_PREFIX", "attachments/"),
            max_body_bytes: e.positive("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?,
            max_depth: e.positive("MAX_NESTING_DEPTH", 64)?,
            endpoint_url: env.get("ENDPOINT_URL").cloned().filter(|u| !u.is_empty()),
        };
        distinct_prefixes(&[("incoming", &c.incoming_prefix), ("attachments", &c.attachments_prefix)])?;
        Ok(c)
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_map(&std::env::vars().collect())
    }
}

pub type HttpsReceiver = Receiver<DynamoCompanies, S3Store, DynamoAnswers>;

/// The receiver with its clients (cheap to clone).
#[derive(Clone)]
pub struct Deps {
    pub receiver: Arc<HttpsReceiver>,
    pub config: Config,
}

impl Deps {
    pub fn new(config: Config, s3: aws_sdk_s3::Client, ddb: aws_sdk_dynamodb::Client) -> Deps {
        let receive = ReceiveConfig {
            max_body_bytes: config.max_body_bytes,
            max_depth: config.max_depth,
            incoming_prefix: config.incoming_prefix.clone(),
            attachments_prefix: config.attachments_prefix.clone(),
            // One slow hash per cold start: what an unknown sender is verified against.
            dummy_hash: dummy_hash(),
        };
        let receiver = Receiver::new(
            DynamoCompanies::new(ddb.clone(), config.table.clone()),
            S3Store::new(s3, config.bucket.clone(), config.max_body_bytes),
            DynamoAnswers::new(ddb, config.table.clone()),
            receive,
        );
        Deps { receiver: Arc::new(receiver), config }
    }

    pub async fn from_env(config: Config) -> Deps {
        let conf = invoice_adapters::sdk_config().await;
        Deps::new(config, invoice_adapters::s3_client(&conf), invoice_adapters::dynamodb_client(&conf))
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Handles one HTTP request. Never fails: every outcome is a cXML Response (a 500 for an
/// internal failure the supplier should retry).
pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let now = chrono::Utc::now();
    let host = header(&req, "host").unwrap_or("invoice-bridge").to_string();
    let endpoint = deps.config.endpoint_url.clone().unwrap_or_else(|| format!("https://{host}{}", req.uri().path()));
    let random = uuid::Uuid::new_v4().simple().to_string();
    let response_id = response_payload_id(now.timestamp_millis(), std::process::id(), &random[..12], &host);
    let now = iso(now);
    let reply = if req.method() != lambda_http::http::Method::POST {
        None
    } else {
        let post = Post {
            content_type: header(&req, "content-type"),
            body: req.body().as_ref(),
            now: &now,
            response_id: &response_id,
            endpoint_url: &endpoint,
        };
        Some(deps.receiver.receive(post).await)
    };
    let Some(reply) = reply else {
        return Response::builder()
            .status(405)
            .header("allow", "POST")
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::Text("POST a cXML document (text/xml, application/xml or multipart/related)\n".into()))
            .unwrap_or_default();
    };
    log(&reply, header(&req, "content-type"), req.body().len());
    Response::builder()
        .status(reply.http_status())
        .header("content-type", "text/xml; charset=UTF-8")
        .body(Body::Text(reply.body))
        .unwrap_or_default()
}

/// One structured line per request: company, status, payloadID, where it went. Never the
/// document, never the SharedSecret.
fn log(reply: &Reply, content_type: Option<&str>, bytes: usize) {
    let code = reply.status.code();
    let company = reply.company.as_deref().unwrap_or("-");
    let payload_id = reply.payload_id.as_deref().unwrap_or("-");
    let key = reply.document_key.as_deref().unwrap_or("-");
    if let Some(cause) = &reply.internal {
        tracing::error!(code, company, payload_id, bytes, error = %cause, "cXML POST failed internally; the supplier is told to retry");
    } else if code >= 400 {
        tracing::warn!(code, company, payload_id, bytes, content_type = content_type.unwrap_or("-"), "cXML POST refused");
    } else {
        tracing::info!(
            code,
            company,
            payload_id,
            bytes,
            document_key = key,
            attachments = reply.attachment_keys.len(),
            replayed = reply.replayed,
            "cXML POST answered"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_errors() {
        let mut env = HashMap::new();
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Missing("TABLE_NAME"))));
        env.insert("TABLE_NAME".to_string(), "t".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Missing("BUCKET_NAME"))));
        env.insert("BUCKET_NAME".to_string(), "b".to_string());
        let c = Config::from_env_map(&env).unwrap();
        assert_eq!(
            (c.max_body_bytes, c.incoming_prefix.as_str(), c.attachments_prefix.as_str()),
            (DEFAULT_MAX_BODY_BYTES, "incoming/", "attachments/")
        );
        env.insert("MAX_BODY_BYTES".to_string(), "6MB".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::NotANumber("MAX_BODY_BYTES", _))));
        env.insert("MAX_BODY_BYTES".to_string(), "1000".to_string());
        assert_eq!(Config::from_env_map(&env).unwrap().max_body_bytes, 1000);
        env.insert("ATTACHMENTS_PREFIX".to_string(), "incoming/att/".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Prefixes(..))));
    }
}
