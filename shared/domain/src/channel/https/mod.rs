//! The HTTPS channel: a supplier POSTs one cXML document and reads a cXML `Response` on the
//! same connection (see the protocol notes, PROTOCOL.md, in the reference material).
//!
//! [`Receiver::receive`] is the whole decision, behind ports (companies, the document store,
//! the answers and booked headers in the table), with the clock reading and the response's
//! payloadID passed in:
//!
//! | step | answer |
//! |---|---|
//! | `Content-Type` not `text/xml`, `application/xml` or `multipart/related` | 415 |
//! | body over the cap | 413 |
//! | not readable as cXML (not XML, malformed, entity, encoding, multipart broken) | 406 |
//! | `To` registered by no company, `Sender` not registered, SharedSecret missing or wrong | 401 (one answer, one slow hash) |
//! | `From` not among the company's accepted suppliers | 403 |
//! | payloadID answered before (for this company) | that first answer, nothing stored again |
//! | `ProfileRequest` | 200 + `ProfileResponse` |
//! | another request | 450 (HTTP 200) |
//! | InvoiceDetailRequest that is not readable | 406 |
//! | InvoiceDetailRequest with validation errors | 400, every error (code: message) |
//! | same supplier + invoiceID booked with other content | 409 |
//! | valid | stored under `incoming/<company>/https/…` → 200 |
//! | a storage failure | 500 (not remembered: the sender retries) |

pub mod answer;
pub mod envelope;
pub mod multipart;
pub mod secret;

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

pub use answer::{render, response_payload_id, Answer, Profile, StatusCode};
pub use envelope::{read_envelope, Envelope, RequestKind, Secret};
pub use multipart::{media_of, split_related, BodyPart, Media};
pub use secret::{authenticate, dummy_hash, hash_secret, verify_secret, Auth};

use crate::company::{Company, CompanyDirectory};
use crate::core::{sha256_hex, PortError};
use crate::invoice::cxml::model::Operation;
use crate::invoice::cxml::parser::Limits;
use crate::invoice::ports::DocumentStore;
use crate::invoice::records::{identity_of, invoice_key, key_segment, Channel, DocumentSource};
use crate::invoice::validate::check;

/// The requests this endpoint implements (its ProfileResponse).
pub const TRANSACTIONS: [&str; 2] = ["InvoiceDetailRequest", "ProfileRequest"];

/// The one answer of every authentication failure.
pub const UNAUTHORIZED_MESSAGE: &str = "The Sender credential (identity and SharedSecret) is not recognised for the addressed buyer.";

/// An answer as remembered for its payloadID (so a transport retry gets it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub code: u16,
    /// The Response document exactly as first sent.
    pub body: String,
    /// SHA-256 of the document first posted with this payloadID.
    pub sha256: String,
    pub answered_at: String,
    #[serde(default)]
    pub document_key: Option<String>,
    /// When the store may forget it (epoch seconds; DynamoDB's TTL attribute): `answered_at`
    /// plus [`ANSWER_RETENTION_DAYS`].
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// How long the answer to a payloadID is kept for replays. cXML senders retry within minutes
/// or hours; after this a replay is processed as new — the booked invoice's content hash
/// still makes an identical document a no-op and a different one a 409, so nothing is booked
/// twice.
pub const ANSWER_RETENTION_DAYS: i64 = 30;

/// [`StoredAnswer::expires_at`] for an answer given at `answered_at` (RFC 3339).
pub fn answer_expiry(answered_at: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(answered_at).ok()?;
    Some((t + chrono::Duration::days(ANSWER_RETENTION_DAYS)).timestamp())
}

/// Which answers are remembered for their payloadID: the final outcomes of an authenticated
/// InvoiceDetailRequest. Not 500 (the retry must be processed), not 401/403 (nothing is
/// remembered for an unauthenticated caller), not profile or 450 answers (no document).
pub fn is_remembered(status: StatusCode) -> bool {
    matches!(status, StatusCode::Ok | StatusCode::BadRequest | StatusCode::NotAcceptable | StatusCode::Conflict)
}

/// The table's part of the channel.
pub trait AnswerStore {
    /// The SHA-256 of the booked invoice header with this key, if one exists.
    fn booked_sha(&self, company: &str, invoice_key: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    fn answer(&self, company: &str, payload_id: &str) -> impl Future<Output = Result<Option<StoredAnswer>, PortError>> + Send;
    /// Stores the answer unless the payloadID has one (conditional put); `Ok(Some(first))`
    /// when another request got there first.
    fn remember(
        &self,
        company: &str,
        payload_id: &str,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<Option<StoredAnswer>, PortError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveConfig {
    /// Largest body accepted (the platform's payload limit: 6 MB for Lambda).
    pub max_body_bytes: usize,
    pub max_depth: usize,
    pub incoming_prefix: String,
    /// Where attachments of multipart posts go (outside `incoming/`: never ingested).
    pub attachments_prefix: String,
    /// [`dummy_hash`], computed once per process.
    pub dummy_hash: String,
}

/// One POST as received, with this request's clock reading and Response payloadID.
#[derive(Debug, Clone)]
pub struct Post<'a> {
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// Now, RFC 3339 (the Response timestamp, the ProfileResponse effectiveDate).
    pub now: &'a str,
    pub response_id: &'a str,
    /// This endpoint's URL (for the ProfileResponse).
    pub endpoint_url: &'a str,
}

/// What a POST came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    /// The Response document.
    pub body: String,
    pub company: Option<String>,
    pub payload_id: Option<String>,
    /// The first answer of this payloadID, sent again.
    pub replayed: bool,
    /// Where the document was stored (under `incoming/<company>/`).
    pub document_key: Option<String>,
    pub attachment_keys: Vec<String>,
    /// For the logs: an internal failure's cause (never sent to the supplier).
    pub internal: Option<String>,
}

impl Reply {
    pub fn http_status(&self) -> u16 {
        self.status.http_status()
    }
}

/// Where a POSTed document goes: `<incoming><company>/https/<id>.xml`, `id` the first 32 hex
/// digits of the SHA-256 of its payloadID (the same payloadID always names the same object).
pub fn document_id(payload_id: &str) -> String {
    sha256_hex(payload_id.as_bytes())[..32].to_string()
}

pub fn document_key(incoming_prefix: &str, company: &str, payload_id: &str) -> String {
    format!("{incoming_prefix}{}/https/{}.xml", key_segment(company), document_id(payload_id))
}

/// Attachments beside it: `<attachments><company>/https/<id>/<n>-<file name or Content-ID>`.
pub fn attachment_key(attachments_prefix: &str, company: &str, payload_id: &str, n: usize, part: &BodyPart) -> String {
    let name = part.filename.as_deref().or(part.content_id.as_deref()).unwrap_or("attachment");
    format!("{attachments_prefix}{}/https/{}/{n}-{}", key_segment(company), document_id(payload_id), key_segment(name))
}

pub struct Receiver<D, S, A> {
    pub companies: D,
    pub store: S,
    pub answers: A,
    pub config: ReceiveConfig,
}

impl<D: CompanyDirectory + Sync, S: DocumentStore + Sync, A: AnswerStore + Sync> Receiver<D, S, A> {
    pub fn new(companies: D, store: S, answers: A, config: ReceiveConfig) -> Self {
        Receiver { companies, store, answers, config }
    }

    fn limits(&self) -> Limits {
        Limits { max_bytes: self.config.max_body_bytes, max_depth: self.config.max_depth }
    }

    fn reply(&self, post: &Post<'_>, answer: Answer) -> Reply {
        Reply {
            status: answer.status,
            body: render(&answer, post.response_id, post.now),
            company: None,
            payload_id: None,
            replayed: false,
            document_key: None,
            attachment_keys: vec![],
            internal: None,
        }
    }

    pub async fn receive(&self, post: Post<'_>) -> Reply {
        if post.body.len() > self.config.max_body_bytes {
            let msg = format!("The body is {} bytes; this endpoint accepts at most {} bytes.", post.body.len(), self.config.max_body_bytes);
            return self.reply(&post, Answer::new(StatusCode::PayloadTooLarge, msg));
        }
        let (root, attachments) = match media_of(post.content_type) {
            Media::Xml => (post.body.to_vec(), vec![]),
            Media::Related { boundary, start } => match split_related(post.body, &boundary, start.as_deref()) {
                Ok(r) => (r.root.body, r.attachments),
                Err(e) => {
                    return self
                        .reply(&post, Answer::new(StatusCode::NotAcceptable, format!("The multipart/related body cannot be read: {e}.")))
                }
            },
            Media::Unsupported(t) => {
                let msg = format!("Content-Type '{t}' is not accepted: send the cXML document as text/xml or application/xml, or multipart/related with the cXML as its root part.");
                return self.reply(&post, Answer::new(StatusCode::UnsupportedMediaType, msg));
            }
        };
        let env = match read_envelope(&root, &self.limits()) {
            Ok(e) => e,
            Err(issue) => return self.reply(&post, Answer::new(StatusCode::NotAcceptable, format!("{}: {}", issue.code, issue.message))),
        };
        let company = match self.company_of(&env).await {
            Ok(c) => c,
            Err(e) => return self.internal(&post, e),
        };
        let auth = authenticate(
            company.as_ref(),
            env.sender.as_deref(),
            env.shared_secret.as_ref().map(Secret::expose),
            &env.from,
            &self.config.dummy_hash,
        );
        let (company, sender) = match (auth, company) {
            (Auth::Authenticated { sender }, Some(c)) => (c, sender),
            (Auth::Forbidden { from }, _) => {
                let msg = format!("The supplier {from} is not enabled to send invoices to this buyer.");
                return self.reply(&post, Answer::new(StatusCode::Forbidden, msg));
            }
            _ => return self.reply(&post, Answer::new(StatusCode::Unauthorized, UNAUTHORIZED_MESSAGE)),
        };
        let mut reply = self.authenticated(&post, &env, &company, &sender, &root, &attachments).await;
        reply.company = Some(company.id.clone());
        reply.payload_id = env.payload_id.clone();
        reply
    }

    async fn authenticated(
        &self,
        post: &Post<'_>,
        env: &Envelope,
        company: &Company,
        sender: &str,
        root: &[u8],
        attachments: &[BodyPart],
    ) -> Reply {
        let sha = sha256_hex(root);
        if let Some(pid) = &env.payload_id {
            match self.answers.answer(&company.id, pid).await {
                Ok(Some(first)) => return self.replayed(first),
                Ok(None) => {}
                Err(e) => return self.internal(post, e),
            }
        }
        let (answer, stored) = match self.decide(post, env, company, sender, root, &sha, attachments).await {
            Ok(x) => x,
            Err(e) => return self.internal(post, e),
        };
        let mut reply = self.reply(post, answer);
        (reply.document_key, reply.attachment_keys) = stored.map(|(d, a)| (Some(d), a)).unwrap_or_default();
        if let (Some(pid), true) = (&env.payload_id, is_remembered(reply.status) && env.request() == RequestKind::InvoiceDetail) {
            let record = StoredAnswer {
                code: reply.status.code(),
                body: reply.body.clone(),
                sha256: sha,
                answered_at: post.now.to_string(),
                document_key: reply.document_key.clone(),
                expires_at: answer_expiry(post.now),
            };
            match self.answers.remember(&company.id, pid, &record).await {
                Ok(None) => {}
                Ok(Some(first)) => return self.replayed(first),
                Err(e) => return self.internal(post, e),
            }
        }
        reply
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        post: &Post<'_>,
        env: &Envelope,
        company: &Company,
        sender: &str,
        root: &[u8],
        sha: &str,
        attachments: &[BodyPart],
    ) -> Result<(Answer, Option<(String, Vec<String>)>), PortError> {
        match env.request() {
            RequestKind::InvoiceDetail => {}
            RequestKind::Profile => {
                let mut a = Answer::new(StatusCode::Ok, "");
                a.profile = Some(Profile {
                    effective_date: post.now.to_string(),
                    url: post.endpoint_url.to_string(),
                    transactions: TRANSACTIONS.iter().map(|t| t.to_string()).collect(),
                });
                return Ok((a, None));
            }
            RequestKind::Other(name) => {
                let msg = format!("{name} is not implemented by this endpoint; it accepts InvoiceDetailRequest and ProfileRequest.");
                return Ok((Answer::new(StatusCode::NotImplemented, msg), None));
            }
            RequestKind::Missing => {
                return Ok((Answer::new(StatusCode::NotAcceptable, "The cXML document has no Request."), None));
            }
        }
        let checked = check(root, &self.limits());
        if let Some(fatal) = checked.issues.iter().find(|i| i.code.is_fatal()) {
            return Ok((Answer::new(StatusCode::NotAcceptable, format!("{}: {}", fatal.code, fatal.message)), None));
        }
        let mut issues = checked.issues.clone();
        if let Some(inv) = &checked.invoice {
            issues.extend(multipart::missing_attachments(&inv.attachments, attachments));
        }
        let Some(inv) = checked.invoice.as_ref().filter(|_| issues.is_empty()) else {
            let lines: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.code, i.message)).collect();
            let msg = format!(
                "The invoice was not accepted ({} error{}):\n{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" },
                lines.join("\n")
            );
            return Ok((Answer::new(StatusCode::BadRequest, msg), None));
        };
        let (supplier, invoice_id) = identity_of(inv);
        if inv.header.operation == Operation::New {
            match self.answers.booked_sha(&company.id, &invoice_key(&supplier, &invoice_id)).await? {
                Some(booked) if booked != sha => {
                    let msg = format!("duplicate-invoice: invoice {invoice_id} of {supplier} is already booked from another document; send a new invoice number, or cancel the booked one (operation=\"delete\") first.");
                    return Ok((Answer::new(StatusCode::Conflict, msg), None));
                }
                Some(_) => {
                    return Ok((
                        Answer::new(StatusCode::Ok, format!("Invoice {invoice_id} is already booked from this very document.")),
                        None,
                    ))
                }
                None => {}
            }
        }
        let pid = env.payload_id.as_deref().unwrap_or(sha);
        let mut attachment_keys = Vec::new();
        for (n, part) in attachments.iter().enumerate() {
            let key = attachment_key(&self.config.attachments_prefix, &company.id, pid, n + 1, part);
            let mut meta = BTreeMap::new();
            if let Some(cid) = &part.content_id {
                meta.insert(
                    "ib-content-id".to_string(),
                    percent_encoding::utf8_percent_encode(cid, percent_encoding::NON_ALPHANUMERIC).to_string(),
                );
            }
            let ct = part.content_type.as_deref().unwrap_or("application/octet-stream");
            self.store.put(&key, part.body.clone(), ct, &meta).await?;
            attachment_keys.push(key);
        }
        let source = DocumentSource {
            channel: Channel::Https,
            sender: Some(sender.to_string()),
            payload_id: env.payload_id.clone(),
            attachment: (!attachment_keys.is_empty())
                .then(|| format!("{} attachment(s) under {}", attachment_keys.len(), attachment_prefix_of(&attachment_keys[0]))),
            ..Default::default()
        };
        let key = document_key(&self.config.incoming_prefix, &company.id, pid);
        self.store.put(&key, root.to_vec(), "text/xml", &source.to_metadata()).await?;
        let what = if inv.header.operation == Operation::New { "accepted" } else { "accepted for cancellation" };
        Ok((Answer::new(StatusCode::Ok, format!("Invoice {invoice_id} {what}.")), Some((key, attachment_keys))))
    }

    fn replayed(&self, first: StoredAnswer) -> Reply {
        Reply {
            status: StatusCode::from_code(first.code).unwrap_or(StatusCode::Ok),
            body: first.body,
            company: None,
            payload_id: None,
            replayed: true,
            document_key: first.document_key,
            attachment_keys: vec![],
            internal: None,
        }
    }

    fn internal(&self, post: &Post<'_>, e: PortError) -> Reply {
        let mut r = self.reply(
            post,
            Answer::new(StatusCode::InternalServerError, "The document could not be processed now; send it again later (same payloadID)."),
        );
        r.internal = Some(e.0);
        r
    }

    /// The company whose registered identity is a `To` credential (exactly one holder).
    async fn company_of(&self, env: &Envelope) -> Result<Option<Company>, PortError> {
        let mut holder: Option<String> = None;
        for to in &env.to {
            if let Some(h) = self.companies.company_of_identity(to).await? {
                match &holder {
                    Some(existing) if *existing != h => return Ok(None),
                    _ => holder = Some(h),
                }
            }
        }
        match holder {
            Some(h) => self.companies.company(&h).await,
            None => Ok(None),
        }
    }
}

fn attachment_prefix_of(key: &str) -> &str {
    key.rsplit_once('/').map(|(p, _)| p).unwrap_or(key)
}

#[cfg(test)]
mod tests;
