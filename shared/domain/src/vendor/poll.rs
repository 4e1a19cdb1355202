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

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::codes::OrderErrorSource;
use super::ports::{Applied, FeedRepository, Resolution, TransactionApi, TxStatus};
use super::records::{MarketplaceFeed, OrderError};
use crate::core::time::iso;
use crate::core::PortError;

/// Error code Amazon (and the emulator) give a second invoice with a number it already has.
pub const DUPLICATE_INVOICE: &str = "DUPLICATE_INVOICE";

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
                    source: OrderErrorSource::GetTransaction,
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
