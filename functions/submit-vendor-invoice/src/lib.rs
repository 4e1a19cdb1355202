//! submit-vendor-invoice: SQS messages, one shipped order each, → the submission workflow of
//! `invoice_domain::vendor_submit` (claim, POST once, record). Partial batch failures are
//! reported (`ReportBatchItemFailures`), so only the messages that must be retried return to
//! the queue; after the queue's maxReceiveCount they land in its DLQ.
//!
//! Message body (JSON): `{"order_id": "100045"}` — optionally `"reason"` (free text for logs:
//! who enqueued it, e.g. `"shipped"`, `"manual"`). Anything else is refused (kept in the queue
//! until it reaches the DLQ, where a person can read it).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use invoice_domain::vendor::ports::{InvoiceApi, VendorRepository};
use invoice_domain::vendor::submit::{submit_order, SubmitError, SubmitOutcome};
use serde::{Deserialize, Serialize};

/// The queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitMessage {
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Handles one SQS batch. `now` is read once per batch by the caller (the edge).
pub async fn handle<R: VendorRepository + Sync, A: InvoiceApi + Sync>(
    repo: &R,
    api: &A,
    event: SqsEvent,
    now: DateTime<Utc>,
) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for msg in event.records {
        let message_id = msg.message_id.clone().unwrap_or_default();
        let receive_count = msg.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let parsed: Result<SubmitMessage, String> =
            msg.body.as_deref().ok_or_else(|| "empty body".to_string()).and_then(|b| serde_json::from_str(b).map_err(|e| e.to_string()));
        let m = match parsed {
            Ok(m) if !m.order_id.trim().is_empty() => m,
            Ok(_) | Err(_) => {
                let why = parsed.err().unwrap_or_else(|| "order_id is empty".into());
                tracing::error!(%message_id, error = %why, "malformed message; left for the DLQ");
                failures.push(message_id);
                continue;
            }
        };
        let order_id = m.order_id.trim().to_string();
        match submit_order(repo, api, &order_id, &message_id, now).await {
            Ok(outcome) => log_outcome(&order_id, &message_id, &outcome),
            Err(SubmitError::Transient(e)) => {
                tracing::warn!(%order_id, %message_id, %receive_count, error = %e, "transient failure; message returns to the queue");
                failures.push(message_id);
            }
            Err(e) => {
                tracing::error!(%order_id, %message_id, %receive_count, error = %e, "storage failure; message returns to the queue");
                failures.push(message_id);
            }
        }
    }
    // The event types are non-exhaustive: build them from their defaults.
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

fn log_outcome(order_id: &str, message_id: &str, o: &SubmitOutcome) {
    match o {
        SubmitOutcome::Submitted { transaction_id } => {
            tracing::info!(%order_id, %message_id, %transaction_id, "invoice submitted; feed Processing")
        }
        SubmitOutcome::Skipped { reasons } => {
            tracing::info!(%order_id, %message_id, reasons = %reasons.join("; "), "order not eligible; skipped")
        }
        SubmitOutcome::AlreadyClaimed { status } => {
            tracing::info!(%order_id, %message_id, ?status, "invoice already exists for the order; nothing sent")
        }
        SubmitOutcome::MappingFailed { codes } => {
            tracing::warn!(%order_id, %message_id, codes = %codes.join(","), "order data cannot make an invoice; Order Errors written, nothing sent")
        }
        SubmitOutcome::Rejected { message } => {
            tracing::warn!(%order_id, %message_id, %message, "Amazon rejected the invoice; Invoice Error and Order Error written")
        }
        SubmitOutcome::Unknown => {
            tracing::error!(%order_id, %message_id, "submission outcome unknown; invoice marked Unknown for reconciliation, not resent")
        }
        SubmitOutcome::OrderNotFound => tracing::error!(%order_id, %message_id, "order not found; nothing sent"),
    }
}

/// LWA credentials: from Secrets Manager when `LWA_SECRET_ID` is set (a JSON secret with
/// `client_id`, `client_secret`, `refresh_token`), else from `LWA_CLIENT_ID` /
/// `LWA_CLIENT_SECRET` / `LWA_REFRESH_TOKEN` (local runs).
pub async fn credentials(conf: &aws_config::SdkConfig) -> Result<invoice_spapi::Credentials, String> {
    match std::env::var("LWA_SECRET_ID") {
        Ok(id) if !id.is_empty() => {
            let sm = aws_sdk_secretsmanager::Client::new(conf);
            let out = sm
                .get_secret_value()
                .secret_id(&id)
                .send()
                .await
                .map_err(|e| format!("reading secret {id}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e)))?;
            let text = out.secret_string().ok_or_else(|| format!("secret {id} has no string value"))?;
            serde_json::from_str(text).map_err(|e| format!("secret {id} is not JSON with client_id, client_secret, refresh_token: {e}"))
        }
        _ => invoice_spapi::Credentials::from_env().map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_schema() {
        let m: SubmitMessage = serde_json::from_str(r#"{"order_id":"100045","reason":"shipped"}"#).unwrap();
        assert_eq!(m.order_id, "100045");
        assert!(serde_json::from_str::<SubmitMessage>(r#"{"orderId":"1"}"#).is_err());
        assert!(serde_json::from_str::<SubmitMessage>(r#"{"order_id":"1","extra":1}"#).is_err());
    }
}
