//! place-order: SQS messages, one purchase order of one company each, → the placing workflow
//! of `invoice_domain::ordering::place` (validate, claim, place once, record what Amazon
//! accepted) with that company's PO store and its own Amazon Business client (its refresh
//! token, its 0.5 rps plan shared by every instance). Partial batch failures are reported, so
//! only the messages to retry return to the queue; after maxReceiveCount they land in its DLQ.
//!
//! Message body (JSON): `{"company": "acme", "po": {…the PO, see the README…}}`. A PO with
//! problems is stored `Refused` with every problem and the message is done; a message that is
//! not a PO message at all is left for the DLQ, where a person can read it.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use invoice_domain::ordering::place::{place_po, read_message, PlaceError, PlaceOutcome};
use invoice_wiring::{Buyers, TenantError};

/// Handles one SQS batch. `now` is read once per batch by the caller (the edge).
pub async fn handle<B: Buyers>(buyers: &B, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for msg in event.records {
        let message_id = msg.message_id.clone().unwrap_or_default();
        let receive_count = msg.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        let body = msg.body.as_deref().unwrap_or("");
        let m = match read_message(body) {
            Ok(m) => m,
            Err(why) => {
                tracing::error!(%message_id, error = %why, "malformed message; left for the DLQ");
                failures.push(message_id);
                continue;
            }
        };
        if let Some(p) = invoice_domain::company::id_problem(&m.company) {
            tracing::error!(%message_id, error = %p, "malformed company id; left for the DLQ");
            failures.push(message_id);
            continue;
        }
        let (company, po_number) = (m.company.as_str(), m.po.po_number.as_str());
        let (repo, api) = match buyers.buyer(company).await {
            Ok(b) => b,
            Err(TenantError::NotConnected(why) | TenantError::Unavailable(why)) => {
                tracing::error!(company, po_number, %message_id, %receive_count, error = %why, "company cannot order now; message returns to the queue (then the DLQ)");
                failures.push(message_id);
                continue;
            }
        };
        // The PO as received, kept with a refused one (the message's `po` member).
        let raw = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| v.get("po").map(|p| p.to_string())).unwrap_or_default();
        // Each delivery is its own claim: a redelivery must resolve what an earlier one left.
        let claim = format!("{message_id}#{receive_count}");
        match place_po(&repo, &*api, company, &m.po, &raw, &claim, now).await {
            Ok(outcome) => {
                log_outcome(company, po_number, &message_id, &outcome);
                // Invoices that arrived before their PO are matched now.
                if matches!(outcome, PlaceOutcome::Recorded { .. } | PlaceOutcome::AlreadyDone { .. }) {
                    match buyers.rematch(company, po_number).await {
                        Ok(r) => {
                            for (invoice_key, o) in &r.invoices {
                                tracing::info!(company, po_number, invoice_key, status = ?o.status, exceptions = o.exceptions.len(), "invoice matched again with its PO");
                            }
                        }
                        Err(e) => {
                            // The PO is recorded; the message is retried so the matching runs again.
                            tracing::error!(company, po_number, %message_id, error = %e, "invoices of the PO could not be matched again; message returns to the queue");
                            failures.push(message_id);
                        }
                    }
                }
            }
            Err(PlaceError::NotAuthorized(e)) => {
                tracing::error!(company, po_number, %message_id, %receive_count, error = %e, "Amazon refused the company's authorisation; nothing placed, message returns to the queue");
                buyers.buyer_not_authorized(company, &e).await;
                failures.push(message_id);
            }
            Err(e @ (PlaceError::Transient(_) | PlaceError::Unresolved(_))) => {
                tracing::warn!(company, po_number, %message_id, %receive_count, error = %e, "not finished; message returns to the queue");
                failures.push(message_id);
            }
            Err(e) => {
                tracing::error!(company, po_number, %message_id, %receive_count, error = %e, "storage failure; message returns to the queue");
                failures.push(message_id);
            }
        }
    }
    invoice_wiring::sqs_failures(failures)
}

fn log_outcome(company: &str, po_number: &str, message_id: &str, o: &PlaceOutcome) {
    match o {
        PlaceOutcome::Refused { codes } => {
            tracing::warn!(company, po_number, message_id, codes = %codes.join(","), "PO refused before sending; stored with its problems")
        }
        PlaceOutcome::Recorded { state, amazon_order_ids, resolved } => tracing::info!(
            company,
            po_number,
            message_id,
            %state,
            amazon_order_ids = %amazon_order_ids.join(","),
            resolved_from_order_details = resolved,
            "PO placed and recorded"
        ),
        PlaceOutcome::AlreadyDone { state } => tracing::info!(company, po_number, message_id, %state, "PO already placed; nothing sent"),
        PlaceOutcome::Error { message } => {
            tracing::warn!(company, po_number, message_id, %message, "Amazon refused the order; recorded as Error")
        }
    }
}
