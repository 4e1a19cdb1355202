//! ingest-cxml: S3 `ObjectCreated` events under the incoming prefix → validated invoices in
//! DynamoDB, or quarantined documents with their reasons. The logic is in
//! `invoice_domain::ingest`; this crate only turns events into calls and wires configuration.

use std::collections::HashMap;

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::s3::{decode_event_key, S3Store};
use invoice_domain::core::time::iso;
use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::ingest::{IngestConfig, IngestError, Ingestor, Outcome};
pub use invoice_wiring::env::ConfigError;
use invoice_wiring::env::{distinct_prefixes, Env};
use serde::Serialize;

/// Configuration from environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub incoming_prefix: String,
    pub archive_prefix: String,
    pub quarantine_prefix: String,
    pub documents_prefix: String,
    pub limits: Limits,
}

impl Config {
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let e = Env(env);
        let defaults = Limits::default();
        let c = Config {
            table: e.required("TABLE_NAME")?,
            incoming_prefix: e.or("INCOMING_PREFIX", "incoming/"),
            archive_prefix: e.or("ARCHIVE_PREFIX", "archive/"),
            quarantine_prefix: e.or("QUARANTINE_PREFIX", "quarantine/"),
            documents_prefix: e.or("DOCUMENTS_PREFIX", "documents/"),
            limits: Limits {
                max_bytes: e.positive("MAX_DOCUMENT_BYTES", defaults.max_bytes)?,
                max_depth: e.positive("MAX_NESTING_DEPTH", defaults.max_depth)?,
            },
        };
        distinct_prefixes(&[
            ("incoming", &c.incoming_prefix),
            ("archive", &c.archive_prefix),
            ("quarantine", &c.quarantine_prefix),
            ("documents", &c.documents_prefix),
        ])?;
        Ok(c)
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_map(&std::env::vars().collect())
    }
}

/// The clients a handler needs (cheap to clone).
#[derive(Clone)]
pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub repo: DynamoRepo,
    pub companies: DynamoCompanies,
    pub config: Config,
}

impl Deps {
    pub async fn from_env(config: Config) -> Deps {
        let conf = invoice_adapters::sdk_config().await;
        let ddb = invoice_adapters::dynamodb_client(&conf);
        Deps {
            s3: invoice_adapters::s3_client(&conf),
            repo: DynamoRepo::new(ddb.clone(), config.table.clone()),
            companies: DynamoCompanies::new(ddb, config.table.clone()),
            config,
        }
    }
}

/// What one record came to, as returned by the function (and logged).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordResult {
    pub bucket: String,
    pub key: String,
    /// The company the document was booked or quarantined for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_key: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// A PDF's document key (`documents/<company>/<sha256>.pdf`) and status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub records: Vec<RecordResult>,
}

pub use invoice_wiring::HandlerError;

fn record_target(r: &S3EventRecord) -> Option<(String, String)> {
    let bucket = r.s3.bucket.name.clone()?;
    let key = r.s3.object.key.as_deref().map(decode_event_key)?;
    Some((bucket, key))
}

/// Handles one S3 event: every record is processed; if any failed, the invocation fails
/// (after the others are done) so Lambda retries it and finally sends it to the DLQ.
pub async fn handle(deps: &Deps, event: S3Event) -> Result<Response, HandlerError> {
    let mut results = Vec::with_capacity(event.records.len());
    let mut failures = Vec::new();
    for record in &event.records {
        let Some((bucket, key)) = record_target(record) else {
            tracing::warn!(event_name = ?record.event_name, "record without bucket or key skipped");
            continue;
        };
        if key.ends_with('/') {
            tracing::info!(%bucket, %key, "folder marker ignored");
            results.push(RecordResult::ignored(bucket, key));
            continue;
        }
        if !key.starts_with(&deps.config.incoming_prefix) {
            tracing::warn!(%bucket, %key, prefix = %deps.config.incoming_prefix, "object outside the incoming prefix ignored");
            results.push(RecordResult::ignored(bucket, key));
            continue;
        }
        let received_at = iso(record.event_time);
        let store = S3Store::new(deps.s3.clone(), bucket.clone(), deps.config.limits.max_bytes);
        let ingestor = Ingestor::new(
            store,
            deps.repo.clone(),
            deps.companies.clone(),
            IngestConfig {
                limits: deps.config.limits,
                incoming_prefix: deps.config.incoming_prefix.clone(),
                archive_prefix: deps.config.archive_prefix.clone(),
                quarantine_prefix: deps.config.quarantine_prefix.clone(),
                documents_prefix: deps.config.documents_prefix.clone(),
            },
        )
        .with_pdf_text(invoice_adapters::pdf::text_of);
        let res = ingestor.ingest(&key, &received_at).await;
        let rr = result_of(bucket, key, res);
        if rr.error.is_some() {
            failures.push(rr.error.clone().unwrap_or_default());
        }
        results.push(rr);
    }
    if failures.is_empty() {
        Ok(Response { records: results })
    } else {
        Err(HandlerError { failed: failures.len(), total: event.records.len(), first: failures[0].clone() })
    }
}

impl RecordResult {
    fn ignored(bucket: String, key: String) -> RecordResult {
        RecordResult {
            bucket,
            key,
            company: None,
            outcome: "ignored".into(),
            invoice_key: None,
            codes: vec![],
            document_key: None,
            document_status: None,
            error: None,
        }
    }
}

fn result_of(bucket: String, key: String, res: Result<Outcome, IngestError>) -> RecordResult {
    let mut rr = RecordResult::ignored(bucket, key);
    match res {
        Ok(outcome) => {
            rr.outcome = outcome.name().into();
            match outcome {
                Outcome::Stored { company, invoice_key, resumed } => {
                    tracing::info!(key = %rr.key, %company, %invoice_key, resumed, "invoice stored");
                    (rr.company, rr.invoice_key) = (Some(company), Some(invoice_key));
                }
                Outcome::AlreadyStored { company, invoice_key } => {
                    tracing::info!(key = %rr.key, %company, %invoice_key, "same document already stored; nothing written");
                    (rr.company, rr.invoice_key) = (Some(company), Some(invoice_key));
                }
                Outcome::Cancelled { company, invoice_key } => {
                    tracing::info!(key = %rr.key, %company, %invoice_key, "invoice cancelled");
                    (rr.company, rr.invoice_key) = (Some(company), Some(invoice_key));
                }
                Outcome::Document { company, document_key, status, invoice_key, already } => {
                    tracing::info!(key = %rr.key, %company, %document_key, status = status.as_str(), invoice_key = ?invoice_key, already, "PDF kept as a document");
                    (rr.company, rr.invoice_key) = (Some(company), invoice_key);
                    rr.document_key = Some(document_key);
                    rr.document_status = Some(status.as_str().to_string());
                }
                Outcome::Quarantined { company, quarantine_key, codes } => {
                    tracing::warn!(key = %rr.key, %company, %quarantine_key, codes = %codes.join(","), "document quarantined");
                    (rr.company, rr.codes) = (Some(company), codes);
                }
                Outcome::Gone => tracing::info!(key = %rr.key, "object no longer exists (already processed by an earlier delivery)"),
            }
        }
        Err(e) => {
            tracing::error!(key = %rr.key, error = %e, "ingestion failed; will be retried");
            rr.outcome = "failed".into();
            rr.error = Some(e.to_string());
        }
    }
    rr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(decode_event_key("incoming/Invoice+2025%2F11+%C3%BC.xml"), "incoming/Invoice 2025/11 ü.xml");
        assert_eq!(decode_event_key("incoming/a%2Bb.xml"), "incoming/a+b.xml");
    }

    #[test]
    fn config_defaults_and_errors() {
        let mut env = HashMap::new();
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Missing("TABLE_NAME"))));
        env.insert("TABLE_NAME".to_string(), "t".to_string());
        let c = Config::from_env_map(&env).unwrap();
        assert_eq!(c.incoming_prefix, "incoming/");
        assert_eq!(c.limits, Limits::default());
        env.insert("MAX_DOCUMENT_BYTES".to_string(), "lots".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::NotANumber(..))));
        env.remove("MAX_DOCUMENT_BYTES");
        env.insert("ARCHIVE_PREFIX".to_string(), "incoming/archive/".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Prefixes(..))));
    }

    #[test]
    fn sample_event_deserializes_with_several_records() {
        let ev: S3Event = serde_json::from_str(include_str!("../testdata/s3-event.json")).unwrap();
        assert_eq!(ev.records.len(), 2);
        let (b, k) = record_target(&ev.records[1]).unwrap();
        assert_eq!(b, "invoice-bridge-docs");
        assert_eq!(k, "incoming/from supplier/INV 2.xml");
    }
}
