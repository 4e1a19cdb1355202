//! submit-vendor-invoice: SQS messages, one shipped order of one company each, → the
//! submission workflow of `invoice_domain::vendor::submit` (claim, POST once, record) with
//! that company's records and its own SP-API client (its refresh token, its rate limit). Partial batch failures are
//! reported (`ReportBatchItemFailures`), so only the messages that must be retried return to
//! the queue; after the queue's maxReceiveCount they land in its DLQ.
//!
//! Message body (JSON): `{"company": "acme", "order_id": "100045"}` (the id may be a JSON
//! number) — optionally `"reason"` (free text for logs:
//! who enqueued it, e.g. `"shipped"`, `"manual"`). Anything else is refused (kept in the queue
//! until it reaches the DLQ, where a person can read it). A company without a vendor
//! connection, or whose authorisation Amazon refuses, gets no Order Error (its orders are
//! fine): its messages return to the queue, and the refusal is recorded on its connection.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use invoice_domain::vendor::submit::{submit_order, SubmitError, SubmitOutcome};
use invoice_wiring::{TenantError, Tenants};
use serde::{Deserialize, Serialize};

/// The queue message. Ids may be JSON numbers or strings (`"order_id": 100045`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitMessage {
    /// The company (tenant) whose order it is.
    pub company: String,
    #[serde(deserialize_with = "invoice_domain::core::ids::de_id")]
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SubmitMessage {
    /// Parses and checks a message body; the error says what is wrong with it.
    pub fn parse(body: Option<&str>) -> Result<SubmitMessage, String> {
        let body = body.ok_or_else(|| "empty body".to_string())?;
        let m: SubmitMessage = serde_json::from_str(body).map_err(|e| e.to_string())?;
        if let Some(p) = invoice_domain::company::id_problem(&m.company) {
            return Err(p);
        }
        Ok(m)
    }
}

/// Handles one SQS batch. `now` is read once per batch by the caller (the edge).
pub async fn handle<T: Tenants>(tenants: &T, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for msg in event.records {
        let message_id = msg.message_id.clone().unwrap_or_default();
        let receive_count = msg.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let m = match SubmitMessage::parse(msg.body.as_deref()) {
            Ok(m) => m,
            Err(why) => {
                tracing::error!(%message_id, error = %why, "malformed message; left for the DLQ");
                failures.push(message_id);
                continue;
            }
        };
        let (company, order_id) = (m.company.as_str(), m.order_id.as_str());
        let (repo, api) = match tenants.vendor(company).await {
            Ok(v) => v,
            Err(TenantError::NotConnected(why)) => {
                tracing::error!(company, order_id, %message_id, %receive_count, error = %why, "company cannot submit; message returns to the queue (then the DLQ)");
                failures.push(message_id);
                continue;
            }
            Err(TenantError::Unavailable(why)) => {
                tracing::warn!(company, order_id, %message_id, %receive_count, error = %why, "company's connection unavailable; message returns to the queue");
                failures.push(message_id);
                continue;
            }
        };
        match submit_order(&repo, &*api, order_id, &message_id, now).await {
            Ok(outcome) => log_outcome(company, order_id, &message_id, &outcome),
            Err(SubmitError::NotAuthorized(e)) => {
                tracing::error!(company, order_id, %message_id, %receive_count, error = %e, "Amazon refused the company's authorisation; nothing sent, message returns to the queue");
                tenants.not_authorized(company, &e).await;
                failures.push(message_id);
            }
            Err(SubmitError::Transient(e)) => {
                tracing::warn!(company, order_id, %message_id, %receive_count, error = %e, "transient failure; message returns to the queue");
                failures.push(message_id);
            }
            Err(e) => {
                tracing::error!(company, order_id, %message_id, %receive_count, error = %e, "storage failure; message returns to the queue");
                failures.push(message_id);
            }
        }
    }
    invoice_wiring::sqs_failures(failures)
}

fn log_outcome(company: &str, order_id: &str, message_id: &str, o: &SubmitOutcome) {
    match o {
        SubmitOutcome::Submitted { transaction_id } => {
            tracing::info!(company, %order_id, %message_id, %transaction_id, "invoice submitted; feed Processing")
        }
        SubmitOutcome::Skipped { reasons } => {
            tracing::info!(company, %order_id, %message_id, reasons = %reasons.join("; "), "order not eligible; skipped")
        }
        SubmitOutcome::AlreadyClaimed { status } => {
            tracing::info!(company, %order_id, %message_id, ?status, "invoice already exists for the order; nothing sent")
        }
        SubmitOutcome::MappingFailed { codes } => {
            tracing::warn!(company, %order_id, %message_id, codes = %codes.join(","), "order data cannot make an invoice; Order Errors written, nothing sent")
        }
        SubmitOutcome::Rejected { message } => {
            tracing::warn!(company, %order_id, %message_id, %message, "Amazon rejected the invoice; Invoice Error and Order Error written")
        }
        SubmitOutcome::Unknown => {
            tracing::error!(company, %order_id, %message_id, "submission outcome unknown; invoice marked Unknown for reconciliation, not resent")
        }
        SubmitOutcome::OrderNotFound => tracing::error!(company, %order_id, %message_id, "order not found; nothing sent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_schema() {
        let m = SubmitMessage::parse(Some(r#"{"company":"acme","order_id":"100045","reason":"shipped"}"#)).unwrap();
        assert_eq!((m.company.as_str(), m.order_id.as_str()), ("acme", "100045"));
        let n = SubmitMessage::parse(Some(r#"{"company":"acme","order_id":100045}"#)).unwrap();
        assert_eq!(n.order_id, "100045", "a number is the same id");
        for bad in [
            r#"{"orderId":"1","company":"acme"}"#,
            r#"{"order_id":"1"}"#,
            r#"{"company":"acme","order_id":"1","extra":1}"#,
            r#"{"company":"acme","order_id":100045.5}"#,
            r#"{"company":"acme","order_id":-1}"#,
            r#"{"company":"acme","order_id":""}"#,
            r#"{"company":"Not A Slug","order_id":"1"}"#,
            "not json",
        ] {
            assert!(SubmitMessage::parse(Some(bad)).is_err(), "{bad} accepted");
        }
        assert!(SubmitMessage::parse(None).is_err());
        let e = SubmitMessage::parse(Some(r#"{"company":"acme","order_id":501.5}"#)).unwrap_err();
        assert!(e.contains("decimal number 501.5"), "{e}");
    }
}
