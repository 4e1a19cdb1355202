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

use std::future::Future;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::ingest::PortError;
use crate::vendor::{map_invoice, AmazonAccount, Bundle, DeliveryLocation, Location, Order, Seller, Shipping, SubmitInvoicesRequest};

/// Invoice > Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceState {
    /// Claimed by a worker, POST in flight (internal).
    Submitting,
    /// POST outcome unknown (timeout after sending); reconciled by the poller (internal).
    Unknown,
    Pending,
    Sent,
    Error,
}

/// Invoice > Sent By Integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SentByIntegration {
    Sent,
    Uploaded,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoice {
    pub order_id: String,
    /// Invoice > Number = Order > Id.
    pub number: String,
    pub status: InvoiceState,
    pub sent_by_integration: Option<SentByIntegration>,
    /// Invoice > Generated file: "N/A" (the body is sent, no file is generated).
    pub generated_file: String,
    pub integration_error: Option<String>,
    pub transaction_id: Option<String>,
    /// Who holds the claim (the SQS message id), so only its holder releases it.
    pub claim_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// The exact body sent (kept for audit and reconciliation; has no secrets).
    pub request_body: Option<String>,
}

/// Marketplace Feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceFeed {
    /// External ID = transactionId.
    pub external_id: String,
    /// "Order Invoice".
    pub feed_type: String,
    /// Processing, Success, Failure.
    pub status: String,
    pub submitted_date: String,
    pub sent_objects_count: u32,
    pub order_id: String,
    /// True when this submission re-sent an invoice whose first POST had an unknown outcome
    /// (see `vendor_poll::reconcile_unknown`): a duplicate-invoice failure then means the
    /// first POST did reach Amazon.
    #[serde(default)]
    pub reconciliation: bool,
}

/// Order Error: something a person must read and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderError {
    pub order_id: String,
    pub at: String,
    /// `mapping`, `submitInvoices`, `getTransaction`.
    pub source: String,
    pub code: String,
    pub message: String,
}

/// What the workflow reads for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderContext {
    pub order: Order,
    pub account: AmazonAccount,
    pub seller: Option<Seller>,
    pub default_location: Option<Location>,
    pub delivery_location: Option<DeliveryLocation>,
    pub existing_invoice: Option<VendorInvoice>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimResult {
    Claimed,
    /// An Invoice record already exists (another delivery, or a previous submission).
    Exists(Box<VendorInvoice>),
}

pub trait VendorRepository {
    fn load(&self, order_id: &str) -> impl Future<Output = Result<Option<OrderContext>, PortError>> + Send;
    /// Conditionally creates the Invoice record (status Submitting) unless one exists.
    fn claim(&self, invoice: &VendorInvoice) -> impl Future<Output = Result<ClaimResult, PortError>> + Send;
    /// Invoice Pending + Marketplace Feed Processing, atomically, only while our claim holds.
    fn record_submitted(&self, invoice: &VendorInvoice, feed: &MarketplaceFeed) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Invoice Error (+ the Order Error), only while our claim holds.
    fn record_rejected(&self, invoice: &VendorInvoice, error: &OrderError) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Invoice Unknown, only while our claim holds.
    fn record_unknown(&self, invoice: &VendorInvoice) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes our Submitting claim (transient failure: the message is retried).
    fn release(&self, order_id: &str, claim_id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    fn put_order_errors(&self, errors: &[OrderError]) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Stores the ship-to address resolved from Amazon Delivery Locations on the order.
    fn store_shipping(&self, order_id: &str, shipping: &Shipping) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// How a submission attempt ended, as the API port reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResult {
    Accepted { transaction_id: String },
    /// Amazon refused it (400…): `code`/`message` for the Order Error.
    Rejected { status: u16, code: String, message: String },
    /// Try again later (429 after retries, 5xx, connection not established).
    Transient(String),
    /// Sent, no answer.
    Unknown(String),
}

pub trait InvoiceApi {
    fn submit(&self, req: &SubmitInvoicesRequest) -> impl Future<Output = SubmitResult> + Send;
}

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
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
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
    let reasons = crate::vendor::eligibility(&bundle.order, &bundle.account, bundle.existing_invoice);
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
                .map(|e| OrderError { order_id: order_id.into(), at: at.clone(), source: "mapping".into(), code: e.code.into(), message: e.message.clone() })
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
                feed_type: "Order Invoice".into(),
                status: "Processing".into(),
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
            let err = OrderError { order_id: order_id.into(), at, source: "submitInvoices".into(), code, message };
            repo.record_rejected(&invoice, &err).await?;
            Ok(SubmitOutcome::Rejected { message: text })
        }
        SubmitResult::Transient(detail) => {
            repo.release(order_id, claim_id).await?;
            Err(SubmitError::Transient(detail))
        }
        SubmitResult::Unknown(detail) => {
            invoice.status = InvoiceState::Unknown;
            invoice.integration_error = Some(format!("outcome unknown: {detail}"));
            repo.record_unknown(&invoice).await?;
            Ok(SubmitOutcome::Unknown)
        }
    }
}
