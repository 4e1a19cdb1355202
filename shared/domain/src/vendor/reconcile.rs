//! Reconciling submissions whose outcome is unknown.
//!
//! The Vendor Invoices API has no way to look an invoice up. Amazon refuses a second invoice
//! with a number it already has. So an invoice left `Unknown` (POST sent, no answer) is, after a
//! grace period that lets a first transaction finish, re-submitted ONCE with exactly the body
//! recorded at the time, under a fresh conditional claim, and its feed is marked
//! `reconciliation`. When that transaction resolves: Success → the first POST never arrived and
//! the invoice is now Sent; Failure with only duplicate-invoice errors → the first POST did
//! arrive: Sent / Uploaded; any other Failure → Error as usual. Another unknown outcome or a
//! transient failure puts it back to `Unknown` for the next run. Never two live submissions.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::body::SubmitInvoicesRequest;
use super::codes::OrderErrorSource;
use super::ports::{InvoiceApi, SubmitResult, UnknownRepository, VendorRepository};
use super::records::{InvoiceState, MarketplaceFeed, OrderError, SentByIntegration};
use crate::core::time::iso;
use crate::core::PortError;

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
                    feed_type: super::transitions::FEED_TYPE.into(),
                    status: super::transitions::feed_status::PROCESSING.into(),
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
                let err =
                    OrderError { order_id: inv.order_id.clone(), at: at.clone(), source: OrderErrorSource::SubmitInvoices, code, message };
                repo.record_rejected(&done, &err).await?;
                report.rejected += 1;
            }
            SubmitResult::Transient(detail) | SubmitResult::NotAuthorized(detail) | SubmitResult::Unknown(detail) => {
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
