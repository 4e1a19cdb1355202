//! Submitting one shipped order's invoice exactly once.
//!
//! 1. Load the order and what the mapping reads (account, seller, locations, delivery
//!    location, existing invoice) — by key, never a scan.
//! 2. Not eligible → skipped with the reason. Mapping errors → Order Errors, nothing sent.
//! 3. **Claim** the order: create its Invoice record in status `Submitting` with a conditional
//!    write. A redelivered or duplicated message finds the claim and sends nothing.
//! 4. POST. Then, by outcome:
//!    - 202 → Invoice `Pending` / Sent By Integration `Sent` / Generated file `N/A` and the
//!      Marketplace Feed (`Order Invoice`, `Processing`, transactionId) in one transaction;
//!    - rejected (400…) → Invoice `Error` with Amazon's message + an Order Error, no retry;
//!    - transient (429 after retries, 5xx, not sent) → the claim is released and the message
//!      is retried later;
//!    - unknown (sent, no answer) → Invoice `Unknown`: never resent blindly; the status
//!      poller reconciles it.

use chrono::{DateTime, Utc};

use super::codes::OrderErrorSource;
use super::mapping::{eligibility, map_invoice};
use super::ports::{ClaimResult, InvoiceApi, SubmitResult, VendorRepository};
use super::records::{Bundle, InvoiceState, MarketplaceFeed, OrderError, SentByIntegration, VendorInvoice};
use crate::core::time::iso;
use crate::core::PortError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Submitted { transaction_id: String },
    Skipped { reasons: Vec<String> },
    AlreadyClaimed { status: InvoiceState },
    MappingFailed { codes: Vec<String> },
    Rejected { message: String },
    Unknown,
    OrderNotFound,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("storage: {0}")]
    Port(#[from] PortError),
    /// The message must be retried later (claim released).
    #[error("transient SP-API failure, retry later: {0}")]
    Transient(String),
    /// The company's Amazon connection is not authorised (claim released; see
    /// [`SubmitResult::NotAuthorized`]).
    #[error("SP-API authorisation failed, retry after the connection is fixed: {0}")]
    NotAuthorized(String),
}

/// Submits the invoice of one order. `now` is injected; `claim_id` identifies this delivery.
pub async fn submit_order<R: VendorRepository + Sync, A: InvoiceApi + Sync>(
    repo: &R,
    api: &A,
    order_id: &str,
    claim_id: &str,
    now: DateTime<Utc>,
) -> Result<SubmitOutcome, SubmitError> {
    let Some(ctx) = repo.load(order_id).await? else {
        return Ok(SubmitOutcome::OrderNotFound);
    };
    let bundle = Bundle {
        order: ctx.order.clone(),
        account: ctx.account.clone(),
        sellers: ctx.seller.clone().into_iter().collect(),
        locations: ctx.default_location.clone().into_iter().collect(),
        delivery_locations: ctx.delivery_location.clone().into_iter().collect(),
        existing_invoice: ctx.existing_invoice.is_some(),
        now,
    };
    let reasons = eligibility(&bundle.order, &bundle.account, bundle.existing_invoice);
    if !reasons.is_empty() {
        return Ok(match &ctx.existing_invoice {
            Some(inv) if reasons.len() == 1 => SubmitOutcome::AlreadyClaimed { status: inv.status },
            _ => SubmitOutcome::Skipped { reasons: reasons.into_iter().map(|r| format!("{}: {}", r.code, r.message)).collect() },
        });
    }
    let at = iso(now);
    let mapped = match map_invoice(&bundle) {
        Ok(m) => m,
        Err(errors) => {
            let recs: Vec<OrderError> = errors
                .iter()
                .map(|e| OrderError {
                    order_id: order_id.into(),
                    at: at.clone(),
                    source: OrderErrorSource::Mapping,
                    code: e.code.as_str().into(),
                    message: e.message.clone(),
                })
                .collect();
            repo.put_order_errors(&recs).await?;
            return Ok(SubmitOutcome::MappingFailed { codes: errors.iter().map(|e| e.code.to_string()).collect() });
        }
    };
    if let Some(shipping) = &mapped.resolved_shipping {
        repo.store_shipping(order_id, shipping).await?;
    }
    let body = serde_json::to_string(&mapped.request).ok();
    let mut invoice = VendorInvoice {
        order_id: order_id.into(),
        number: order_id.into(),
        status: InvoiceState::Submitting,
        sent_by_integration: None,
        generated_file: "N/A".into(),
        integration_error: None,
        transaction_id: None,
        claim_id: claim_id.into(),
        created_at: at.clone(),
        updated_at: at.clone(),
        request_body: body,
    };
    if let ClaimResult::Exists(existing) = repo.claim(&invoice).await? {
        return Ok(SubmitOutcome::AlreadyClaimed { status: existing.status });
    }
    match api.submit(&mapped.request).await {
        SubmitResult::Accepted { transaction_id } => {
            invoice.status = InvoiceState::Pending;
            invoice.sent_by_integration = Some(SentByIntegration::Sent);
            invoice.transaction_id = Some(transaction_id.clone());
            let feed = MarketplaceFeed {
                external_id: transaction_id.clone(),
                feed_type: super::transitions::FEED_TYPE.into(),
                status: super::transitions::feed_status::PROCESSING.into(),
                submitted_date: at.clone(),
                sent_objects_count: mapped.request.invoices.len() as u32,
                order_id: order_id.into(),
                reconciliation: false,
            };
            repo.record_submitted(&invoice, &feed).await?;
            Ok(SubmitOutcome::Submitted { transaction_id })
        }
        SubmitResult::Rejected { status, code, message } => {
            let text = format!("HTTP {status} {code}: {message}");
            invoice.status = InvoiceState::Error;
            invoice.sent_by_integration = Some(SentByIntegration::Error);
            invoice.integration_error = Some(text.clone());
            let err = OrderError { order_id: order_id.into(), at, source: OrderErrorSource::SubmitInvoices, code, message };
            repo.record_rejected(&invoice, &err).await?;
            Ok(SubmitOutcome::Rejected { message: text })
        }
        SubmitResult::Transient(detail) => {
            repo.release(order_id, claim_id).await?;
            Err(SubmitError::Transient(detail))
        }
        SubmitResult::NotAuthorized(detail) => {
            repo.release(order_id, claim_id).await?;
            Err(SubmitError::NotAuthorized(detail))
        }
        SubmitResult::Unknown(detail) => {
            invoice.status = InvoiceState::Unknown;
            invoice.integration_error = Some(format!("outcome unknown: {detail}"));
            repo.record_unknown(&invoice).await?;
            Ok(SubmitOutcome::Unknown)
        }
    }
}
