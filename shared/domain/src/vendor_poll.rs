//! Resolving submitted invoices: for every Marketplace Feed of type "Order Invoice" still
//! Processing (oldest first), ask getTransaction and move the Invoice and the Feed on.
//!
//! | transaction | Invoice | Sent By Integration | Feed | also |
//! |---|---|---|---|---|
//! | Success | Sent | Uploaded | Success | |
//! | Failure | Error | Error | Failure | Integration Error + an Order Error with Amazon's errors |
//! | Processing | unchanged | unchanged | unchanged (checked next run) | an alert once older than `stale_after` |
//! | throttled / 5xx / timeout | unchanged | unchanged | unchanged (retried next run) | never a false Error |
//!
//! Every update is conditional on the Feed still being Processing, so two pollers at once or a
//! retry never apply an outcome twice (and the Order Error key is deterministic).

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ingest::PortError;
use crate::vendor::SubmitInvoicesRequest;
use crate::vendor_submit::{
    iso, InvoiceApi, InvoiceState, MarketplaceFeed, OrderError, SentByIntegration, SubmitResult, VendorInvoice, VendorRepository,
};

/// Error code Amazon (and the emulator) give a second invoice with a number it already has.
pub const DUPLICATE_INVOICE: &str = "DUPLICATE_INVOICE";

/// What getTransaction said, as the poller needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    Processing,
    Success,
    /// Amazon's errors as `(code, message)`.
    Failure(Vec<(String, String)>),
    /// Could not be asked now (throttled, 5xx, timeout, auth): try again next run.
    Unavailable(String),
}

pub trait TransactionApi {
    fn transaction(&self, transaction_id: &str) -> impl Future<Output = TxStatus> + Send;
}

/// The change a Feed and its Invoice go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    Success,
    Failure { integration_error: String, order_errors: Vec<OrderError> },
}

/// Result of applying a resolution (conditional on the feed still Processing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Another poller (or an earlier attempt) already resolved this feed.
    AlreadyResolved,
}

/// A page of Processing feeds, oldest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPage {
    pub feeds: Vec<MarketplaceFeed>,
    pub next: Option<String>,
}

pub trait FeedRepository {
    fn processing_feeds_page(&self, limit: i32, start: Option<String>) -> impl Future<Output = Result<FeedPage, PortError>> + Send;
    fn resolve(&self, feed: &MarketplaceFeed, resolution: &Resolution, at: &str) -> impl Future<Output = Result<Applied, PortError>> + Send;
}

/// Limits of one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollLimits {
    pub page_size: i32,
    /// Stop asking once this many transactions were looked at (bounded work per run).
    pub max_transactions: usize,
    /// A transaction still Processing after this long raises an alert.
    pub stale_after: Duration,
}

impl Default for PollLimits {
    fn default() -> Self {
        PollLimits { page_size: 50, max_transactions: 2_000, stale_after: Duration::hours(48) }
    }
}

/// What one pass did (logged and returned by the function; `stale` feeds are alerted on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    pub checked: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub still_processing: usize,
    pub unavailable: usize,
    pub already_resolved: usize,
    /// Transaction ids still Processing after `stale_after`.
    pub stale: Vec<String>,
    /// True when the pass stopped early (deadline or max_transactions): the rest next run.
    pub stopped_early: bool,
}

/// The pure decision for one feed.
pub fn resolution_for(feed: &MarketplaceFeed, status: &TxStatus, at: &str) -> Option<Resolution> {
    match status {
        TxStatus::Success => Some(Resolution::Success),
        // A reconciliation re-sent an invoice whose first POST had an unknown outcome; Amazon
        // refusing it as a duplicate proves the first one arrived.
        TxStatus::Failure(errors)
            if feed.reconciliation && !errors.is_empty() && errors.iter().all(|(c, _)| c.eq_ignore_ascii_case(DUPLICATE_INVOICE)) =>
        {
            Some(Resolution::Success)
        }
        TxStatus::Failure(errors) => {
            let errors: Vec<(String, String)> = if errors.is_empty() {
                vec![("Failure".into(), "Amazon reported the transaction as failed without details".into())]
            } else {
                errors.clone()
            };
            let integration_error = errors.iter().map(|(c, m)| format!("{c}: {m}")).collect::<Vec<_>>().join("; ");
            let order_errors = errors
                .iter()
                .map(|(code, message)| OrderError {
                    order_id: feed.order_id.clone(),
                    at: at.to_string(),
                    source: "getTransaction".into(),
                    code: code.clone(),
                    message: message.clone(),
                })
                .collect();
            Some(Resolution::Failure { integration_error, order_errors })
        }
        TxStatus::Processing | TxStatus::Unavailable(_) => None,
    }
}

/// Whether a Processing feed is older than the alert threshold.
pub fn is_stale(feed: &MarketplaceFeed, now: DateTime<Utc>, stale_after: Duration) -> bool {
    DateTime::parse_from_rfc3339(&feed.submitted_date)
        .map(|t| now.signed_duration_since(t.with_timezone(&Utc)) > stale_after)
        .unwrap_or(false)
}

/// One polling pass. `time_left` is asked before each transaction (the Lambda deadline); the
/// pass stops cleanly when it returns false, and the next run carries on (oldest first).
pub async fn poll_pass<R: FeedRepository + Sync, A: TransactionApi + Sync>(
    repo: &R,
    api: &A,
    now: DateTime<Utc>,
    limits: PollLimits,
    mut time_left: impl FnMut() -> bool + Send,
) -> Result<PollReport, PortError> {
    let mut report = PollReport::default();
    let at = iso(now);
    let mut start = None;
    'pages: loop {
        let page = repo.processing_feeds_page(limits.page_size, start.take()).await?;
        for feed in &page.feeds {
            if report.checked >= limits.max_transactions || !time_left() {
                report.stopped_early = true;
                break 'pages;
            }
            report.checked += 1;
            let status = api.transaction(&feed.external_id).await;
            match resolution_for(feed, &status, &at) {
                Some(res) => match repo.resolve(feed, &res, &at).await? {
                    Applied::Done => match res {
                        Resolution::Success => report.succeeded += 1,
                        Resolution::Failure { .. } => report.failed += 1,
                    },
                    Applied::AlreadyResolved => report.already_resolved += 1,
                },
                None => {
                    if matches!(status, TxStatus::Unavailable(_)) {
                        report.unavailable += 1;
                    } else {
                        report.still_processing += 1;
                    }
                    if is_stale(feed, now, limits.stale_after) {
                        report.stale.push(feed.external_id.clone());
                    }
                }
            }
        }
        match page.next {
            Some(n) => start = Some(n),
            None => break,
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Reconciling submissions whose outcome is unknown
//
// The Vendor Invoices API has no way to look an invoice up. Amazon refuses a second invoice
// with a number it already has. So an invoice left `Unknown` (POST sent, no answer) is, after a
// grace period that lets a first transaction finish, re-submitted ONCE with exactly the body
// recorded at the time, under a fresh conditional claim, and its feed is marked
// `reconciliation`. When that transaction resolves: Success → the first POST never arrived and
// the invoice is now Sent; Failure with only duplicate-invoice errors → the first POST did
// arrive: Sent / Uploaded; any other Failure → Error as usual. Another unknown outcome or a
// transient failure puts it back to `Unknown` for the next run. Never two live submissions.

pub trait UnknownRepository {
    /// Invoices in status Unknown, oldest first.
    fn unknown_invoices(&self, limit: i32) -> impl Future<Output = Result<Vec<VendorInvoice>, PortError>> + Send;
    /// Unknown → Submitting under `claimed` (conditional on the stored invoice still being
    /// `current`'s Unknown claim); false when someone else took it.
    fn reclaim_unknown(&self, current: &VendorInvoice, claimed: &VendorInvoice) -> impl Future<Output = Result<bool, PortError>> + Send;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub unknown: usize,
    pub too_recent: usize,
    pub resubmitted: usize,
    pub rejected: usize,
    pub still_unknown: usize,
    pub skipped: usize,
}

pub async fn reconcile_unknown<R: VendorRepository + UnknownRepository + Sync, A: InvoiceApi + Sync>(
    repo: &R,
    api: &A,
    now: DateTime<Utc>,
    grace: Duration,
    mut time_left: impl FnMut() -> bool + Send,
) -> Result<ReconcileReport, PortError> {
    let mut report = ReconcileReport::default();
    let at = iso(now);
    for inv in repo.unknown_invoices(100).await? {
        report.unknown += 1;
        if !time_left() {
            break;
        }
        let since = DateTime::parse_from_rfc3339(&inv.updated_at).map(|t| now.signed_duration_since(t.with_timezone(&Utc)));
        if since.map(|d| d < grace).unwrap_or(false) {
            report.too_recent += 1;
            continue;
        }
        let Some(body) = inv.request_body.as_deref().and_then(|b| serde_json::from_str::<SubmitInvoicesRequest>(b).ok()) else {
            report.skipped += 1; // nothing recorded to re-send: left for a person (logged by the caller)
            continue;
        };
        let mut claimed = inv.clone();
        claimed.status = InvoiceState::Submitting;
        claimed.claim_id = format!("reconcile:{at}");
        claimed.updated_at = at.clone();
        if !repo.reclaim_unknown(&inv, &claimed).await? {
            report.skipped += 1;
            continue;
        }
        match api.submit(&body).await {
            SubmitResult::Accepted { transaction_id } => {
                let mut done = claimed.clone();
                done.status = InvoiceState::Pending;
                done.sent_by_integration = Some(SentByIntegration::Sent);
                done.transaction_id = Some(transaction_id.clone());
                done.integration_error = None;
                let feed = MarketplaceFeed {
                    external_id: transaction_id,
                    feed_type: "Order Invoice".into(),
                    status: "Processing".into(),
                    submitted_date: at.clone(),
                    sent_objects_count: body.invoices.len() as u32,
                    order_id: inv.order_id.clone(),
                    reconciliation: true,
                };
                repo.record_submitted(&done, &feed).await?;
                report.resubmitted += 1;
            }
            SubmitResult::Rejected { status, code, message } => {
                let mut done = claimed.clone();
                done.status = InvoiceState::Error;
                done.sent_by_integration = Some(SentByIntegration::Error);
                done.integration_error = Some(format!("HTTP {status} {code}: {message}"));
                let err = OrderError { order_id: inv.order_id.clone(), at: at.clone(), source: "submitInvoices".into(), code, message };
                repo.record_rejected(&done, &err).await?;
                report.rejected += 1;
            }
            SubmitResult::Transient(detail) | SubmitResult::Unknown(detail) => {
                let mut back = claimed.clone();
                back.status = InvoiceState::Unknown;
                back.integration_error = Some(format!("outcome unknown; reconciliation attempt at {at} did not settle it: {detail}"));
                repo.record_unknown(&back).await?;
                report.still_unknown += 1;
            }
        }
    }
    Ok(report)
}
