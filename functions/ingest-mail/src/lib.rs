//! ingest-mail: S3 `ObjectCreated` events under `mail/` (the raw messages SES stored) → each
//! cXML or PDF attachment written under `incoming/<company>/mail/<message sha256>/` with the
//! message as its source (S3 user metadata), where ingest-cxml takes it like any other
//! document; or the message quarantined with its reasons. The rules are pure
//! (`invoice_domain::channel::mail`); this crate reads, writes and wires.
//!
//! The raw message is never changed or deleted: it stays where SES wrote it; a quarantined
//! one is also copied to `quarantine/<company or _unassigned>/mail/<sha256>/message.eml` with
//! `reason.json` beside it and a Rejected record.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::s3::{decode_event_key, S3Store};
use invoice_domain::channel::mail::{self, decide, resolve_company, Kind, Mail, MailCode, MailDirectory, MailLimits, MailReason};
use invoice_domain::company::{MailSettings, UNASSIGNED};
use invoice_domain::core::time::iso;
use invoice_domain::core::PortError;
use invoice_domain::invoice::ports::{DocumentStore, InvoiceRepository, StoredObject};
use invoice_domain::invoice::records::{Channel, DocumentSource, RejectionRecord};
pub use invoice_wiring::env::ConfigError;
use invoice_wiring::env::{distinct_prefixes, Env};
use serde::Serialize;

/// Configuration from environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub mail_prefix: String,
    pub incoming_prefix: String,
    pub quarantine_prefix: String,
    pub limits: MailLimits,
}

impl Config {
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let e = Env(env);
        let d = MailLimits::default();
        let c = Config {
            table: e.required("TABLE_NAME")?,
            mail_prefix: e.or("MAIL_PREFIX", "mail/"),
            incoming_prefix: e.or("INCOMING_PREFIX", "incoming/"),
            quarantine_prefix: e.or("QUARANTINE_PREFIX", "quarantine/"),
            limits: MailLimits {
                max_message_bytes: e.positive("MAX_MESSAGE_BYTES", d.max_message_bytes)?,
                max_parts: e.positive("MAX_MIME_PARTS", d.max_parts)?,
                max_depth: e.positive("MAX_MIME_DEPTH", d.max_depth)?,
                max_attachment_bytes: e.positive("MAX_ATTACHMENT_BYTES", d.max_attachment_bytes)?,
            },
        };
        distinct_prefixes(&[("mail", &c.mail_prefix), ("incoming", &c.incoming_prefix), ("quarantine", &c.quarantine_prefix)])?;
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

/// What one message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// Its cXML / PDF attachments were written under the incoming prefix (the keys).
    Accepted {
        company: String,
        documents: Vec<String>,
    },
    Quarantined {
        company: String,
        quarantine_key: String,
        reasons: Vec<MailReason>,
    },
    /// The object no longer exists.
    Gone,
}

/// What one record came to, as returned by the function (and logged).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RecordResult {
    pub bucket: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// `accepted`, `quarantined`, `gone`, `ignored`, `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub records: Vec<RecordResult>,
}

pub use invoice_wiring::HandlerError;

/// The JSON written beside a quarantined message.
#[derive(Debug, Clone, Serialize)]
pub struct MailQuarantineReason {
    pub company: String,
    pub source_key: String,
    pub content_sha256: String,
    pub received_at: String,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub reasons: Vec<MailReason>,
    pub what_to_do: String,
}

/// What a person should do about a quarantined message.
pub fn advice(reasons: &[MailReason]) -> String {
    let has = |c: MailCode| reasons.iter().any(|r| r.code == c);
    if has(MailCode::UnknownCompany) {
        "No company has this invoice address. Register it (`invoicectl company set-mail ID --address ADDRESS`) and copy the message under mail/<company>/ again.".into()
    } else if has(MailCode::Spam) || has(MailCode::Virus) {
        "SES judged the message spam or infected. Do not open its attachments; ask the sender to resend from a clean system if it is genuine.".into()
    } else if has(MailCode::SenderNotAllowed) || has(MailCode::NoSender) {
        "The sender is not on this company's allowed senders. If the sender is genuine, add it (`invoicectl company set-mail ID --address … --allow SENDER_OR_DOMAIN`) and copy the message under mail/<company>/ again.".into()
    } else if reasons.iter().any(|r| {
        matches!(r.code, MailCode::SpfFail | MailCode::DkimFail | MailCode::DmarcFail | MailCode::VerdictGray | MailCode::NoSesReceipt)
    }) {
        "The message could not be authenticated as coming from its sender. Confirm with the sender by another channel before using it."
            .into()
    } else {
        "The message could not be used as it is (see reasons). Ask the sender to resend the invoice as a cXML or PDF attachment of a plain e-mail (no archives, under 25 MB).".into()
    }
}

/// Ingests one raw message at `key` (under the mail prefix).
pub async fn ingest_message<S, R, D>(
    store: &S,
    repo: &R,
    dir: &D,
    config: &Config,
    key: &str,
    received_at: &str,
) -> Result<MailOutcome, PortError>
where
    S: DocumentStore + Sync,
    R: InvoiceRepository + Sync,
    D: MailDirectory + Sync,
{
    let Some(StoredObject { bytes, .. }) = store.get(key).await? else {
        return Ok(MailOutcome::Gone);
    };
    let parsed = mail::read(&bytes, &config.limits);
    drop(bytes);
    let (company_id, mut reasons, settings) = match resolve_company(dir, key, &config.mail_prefix, &parsed.recipients).await? {
        Ok(c) => (c.id.clone(), Vec::new(), c.mail),
        Err(why) => (UNASSIGNED.to_string(), vec![MailReason::new(MailCode::UnknownCompany, why)], MailSettings::default()),
    };
    if reasons.is_empty() {
        reasons = decide(&parsed, &settings);
    } else {
        reasons.extend(parsed.problems.iter().cloned());
    }
    if !reasons.is_empty() {
        return quarantine(store, repo, config, &company_id, &parsed, key, received_at, reasons).await;
    }
    let mut documents = Vec::new();
    for a in parsed.attachments.iter().filter(|a| a.kind != Kind::Other) {
        let source = DocumentSource {
            channel: Channel::Email,
            message_id: parsed.message_id.clone(),
            sender: parsed.from.clone(),
            subject: parsed.subject.clone(),
            attachment: Some(a.name.clone()),
            payload_id: None,
        };
        let doc_key = format!("{}{company_id}/mail/{}/{}", config.incoming_prefix, parsed.sha256, a.safe_name());
        let content_type = if a.kind == Kind::Pdf { "application/pdf" } else { "application/xml" };
        store.put(&doc_key, a.bytes.clone(), content_type, &source.to_metadata()).await?;
        documents.push(doc_key);
    }
    Ok(MailOutcome::Accepted { company: company_id, documents })
}

#[allow(clippy::too_many_arguments)]
async fn quarantine<S: DocumentStore + Sync, R: InvoiceRepository + Sync>(
    store: &S,
    repo: &R,
    config: &Config,
    company: &str,
    m: &Mail,
    key: &str,
    received_at: &str,
    reasons: Vec<MailReason>,
) -> Result<MailOutcome, PortError> {
    let base = format!("{}{company}/mail/{}/", config.quarantine_prefix, m.sha256);
    let quarantine_key = format!("{base}message.eml");
    let reason_key = format!("{base}reason.json");
    let reason = MailQuarantineReason {
        company: company.to_string(),
        source_key: key.to_string(),
        content_sha256: m.sha256.clone(),
        received_at: received_at.to_string(),
        from: m.from.clone(),
        subject: m.subject.clone(),
        message_id: m.message_id.clone(),
        reasons: reasons.clone(),
        what_to_do: advice(&reasons),
    };
    store.copy(key, &quarantine_key).await?;
    store.put(&reason_key, serde_json::to_vec_pretty(&reason).unwrap_or_default(), "application/json", &BTreeMap::new()).await?;
    let mut codes: Vec<String> = Vec::new();
    for r in &reasons {
        if !codes.iter().any(|c| c == r.code.as_str()) {
            codes.push(r.code.as_str().to_string());
        }
    }
    let rec = RejectionRecord {
        company: company.to_string(),
        content_sha256: m.sha256.clone(),
        source_key: key.to_string(),
        quarantine_key: quarantine_key.clone(),
        reason_key,
        received_at: received_at.to_string(),
        codes,
        errors: Vec::new(),
        invoice_id: None,
        supplier: None,
        source: DocumentSource {
            channel: Channel::Email,
            message_id: m.message_id.clone(),
            sender: m.from.clone(),
            subject: m.subject.clone(),
            attachment: None,
            payload_id: None,
        },
    };
    repo.put_rejection(&rec).await?;
    Ok(MailOutcome::Quarantined { company: company.to_string(), quarantine_key, reasons })
}

fn record_target(r: &S3EventRecord) -> Option<(String, String)> {
    let bucket = r.s3.bucket.name.clone()?;
    let key = r.s3.object.key.as_deref().map(decode_event_key)?;
    Some((bucket, key))
}

/// Handles one S3 event: every record is processed; if any failed, the invocation fails
/// (after the others are done) so Lambda retries it (every step is idempotent).
pub async fn handle(deps: &Deps, event: S3Event) -> Result<Response, HandlerError> {
    let mut results = Vec::with_capacity(event.records.len());
    let mut failures = Vec::new();
    for record in &event.records {
        let Some((bucket, key)) = record_target(record) else {
            tracing::warn!(event_name = ?record.event_name, "record without bucket or key skipped");
            continue;
        };
        let mut rr = RecordResult {
            bucket: bucket.clone(),
            key: key.clone(),
            company: None,
            outcome: "ignored".into(),
            documents: vec![],
            codes: vec![],
            quarantine_key: None,
            error: None,
        };
        if key.ends_with('/') || !key.starts_with(&deps.config.mail_prefix) {
            tracing::warn!(%bucket, %key, "object outside the mail prefix (or a folder marker) ignored");
            results.push(rr);
            continue;
        }
        // Read one byte over the limit, so a larger message is seen as too large, never read whole.
        let store = S3Store::new(deps.s3.clone(), bucket.clone(), deps.config.limits.max_message_bytes);
        let received_at = iso(record.event_time);
        match ingest_message(&store, &deps.repo, &deps.companies, &deps.config, &key, &received_at).await {
            Ok(MailOutcome::Accepted { company, documents }) => {
                tracing::info!(%key, %company, documents = documents.len(), "message accepted; attachments written for ingestion");
                rr.outcome = "accepted".into();
                (rr.company, rr.documents) = (Some(company), documents);
            }
            Ok(MailOutcome::Quarantined { company, quarantine_key, reasons }) => {
                let codes: Vec<String> = reasons.iter().map(|r| r.code.as_str().to_string()).collect();
                tracing::warn!(%key, %company, %quarantine_key, codes = %codes.join(","), "message quarantined");
                rr.outcome = "quarantined".into();
                let mut distinct = Vec::new();
                for c in codes {
                    if !distinct.contains(&c) {
                        distinct.push(c);
                    }
                }
                (rr.company, rr.codes, rr.quarantine_key) = (Some(company), distinct, Some(quarantine_key));
            }
            Ok(MailOutcome::Gone) => {
                tracing::info!(%key, "message no longer exists");
                rr.outcome = "gone".into();
            }
            Err(e) => {
                tracing::error!(%key, error = %e, "mail ingestion failed; will be retried");
                rr.outcome = "failed".into();
                rr.error = Some(e.to_string());
                failures.push(e.to_string());
            }
        }
        results.push(rr);
    }
    if failures.is_empty() {
        Ok(Response { records: results })
    } else {
        Err(HandlerError { failed: failures.len(), total: event.records.len(), first: failures[0].clone() })
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
        let c = Config::from_env_map(&env).unwrap();
        assert_eq!((c.mail_prefix.as_str(), c.limits), ("mail/", MailLimits::default()));
        assert_eq!(c.limits.max_message_bytes, 40 * 1024 * 1024);
        env.insert("MAX_MIME_PARTS".to_string(), "0".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::NotANumber(..))));
        env.remove("MAX_MIME_PARTS");
        env.insert("MAIL_PREFIX".to_string(), "incoming/mail/".to_string());
        assert!(matches!(Config::from_env_map(&env), Err(ConfigError::Prefixes(..))));
    }

    #[test]
    fn every_code_gets_advice() {
        use strum::IntoEnumIterator;
        for c in MailCode::iter() {
            assert!(!advice(&[MailReason::new(c, "x")]).is_empty());
        }
    }
}
