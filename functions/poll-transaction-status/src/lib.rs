//! poll-transaction-status: one bounded polling pass per scheduled run (see
//! `invoice_domain::vendor::poll`), company by company — each with its own SP-API client (its
//! own refresh token and rate limit) — then the reconciliation of unknown outcomes. Stale transactions (still Processing after `STALE_AFTER_HOURS`,
//! default 48) are logged as an alert and emitted as the CloudWatch metric
//! `InvoiceBridge/StaleTransactions` (Embedded Metric Format), which the template alarms on.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use invoice_domain::core::PortError;
use invoice_domain::vendor::poll::{poll_pass, PollLimits, PollReport};
use invoice_domain::vendor::ports::{FeedRepository, InvoiceApi, TransactionApi, UnknownRepository, VendorRepository};
use invoice_domain::vendor::reconcile::{reconcile_unknown, ReconcileReport};
use invoice_wiring::Tenants;
use serde::Serialize;
use tracing::Instrument;

/// Grace before an Unknown submission is reconciled: `RECONCILE_AFTER_MINUTES` (default 15).
pub fn reconcile_grace_from_env() -> chrono::Duration {
    let m = std::env::var("RECONCILE_AFTER_MINUTES").ok().and_then(|v| v.parse::<i64>().ok()).filter(|n| *n >= 0).unwrap_or(15);
    chrono::Duration::minutes(m)
}

/// Reconciles submissions left Unknown (see `invoice_domain::vendor::reconcile::reconcile_unknown`),
/// stopping `margin` before `deadline`.
pub async fn run_reconcile<R: VendorRepository + UnknownRepository + Sync, A: InvoiceApi + Sync>(
    repo: &R,
    api: &A,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    deadline: Instant,
    margin: Duration,
) -> Result<ReconcileReport, PortError> {
    let r = reconcile_unknown(repo, api, now, grace, move || Instant::now() + margin < deadline).await?;
    if r.unknown > 0 {
        tracing::warn!(
            unknown = r.unknown,
            too_recent = r.too_recent,
            resubmitted = r.resubmitted,
            rejected = r.rejected,
            still_unknown = r.still_unknown,
            skipped = r.skipped,
            "reconciliation of submissions with an unknown outcome"
        );
    }
    Ok(r)
}

/// Limits from the environment: `POLL_PAGE_SIZE` (50), `POLL_MAX_TRANSACTIONS` (2000),
/// `STALE_AFTER_HOURS` (48).
pub fn limits_from_env() -> PollLimits {
    let num = |k: &str, d: i64| std::env::var(k).ok().and_then(|v| v.parse::<i64>().ok()).filter(|n| *n > 0).unwrap_or(d);
    PollLimits {
        page_size: num("POLL_PAGE_SIZE", 50) as i32,
        max_transactions: num("POLL_MAX_TRANSACTIONS", 2000) as usize,
        stale_after: chrono::Duration::hours(num("STALE_AFTER_HOURS", 48)),
    }
}

/// Time left before the invocation's deadline. A deadline that is already past when the
/// invocation starts is not a real one (local runtime emulators send a relative timeout):
/// then the pass gets `POLL_FALLBACK_SECONDS` (default 240).
pub fn remaining_time(deadline: std::time::SystemTime, now: std::time::SystemTime) -> Duration {
    match deadline.duration_since(now) {
        Ok(d) if !d.is_zero() => d,
        _ => {
            let secs = std::env::var("POLL_FALLBACK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(240);
            tracing::warn!(fallback_seconds = secs, "the invocation deadline is not in the future; using the fallback budget");
            Duration::from_secs(secs)
        }
    }
}

/// Runs one pass that stops `margin` before `deadline`.
pub async fn run_pass<R: FeedRepository + Sync, A: TransactionApi + Sync>(
    repo: &R,
    api: &A,
    now: DateTime<Utc>,
    limits: PollLimits,
    deadline: Instant,
    margin: Duration,
) -> Result<PollReport, PortError> {
    let report = poll_pass(repo, api, now, limits, move || Instant::now() + margin < deadline).await?;
    tracing::info!(
        checked = report.checked,
        succeeded = report.succeeded,
        failed = report.failed,
        still_processing = report.still_processing,
        unavailable = report.unavailable,
        already_resolved = report.already_resolved,
        stopped_early = report.stopped_early,
        "polling pass done"
    );
    if !report.stale.is_empty() {
        tracing::error!(
            stale = report.stale.len(),
            transactions = %report.stale.join(","),
            hours = limits.stale_after.num_hours(),
            "ALERT: transactions still Processing after the limit; check them with Amazon Vendor Central"
        );
    }
    Ok(report)
}

/// What one scheduled run did, per company and in total.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub total: PollReport,
    pub companies: Vec<CompanyRun>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompanyRun {
    pub company: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<ReconcileReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn add(total: &mut PollReport, r: &PollReport) {
    total.checked += r.checked;
    total.succeeded += r.succeeded;
    total.failed += r.failed;
    total.still_processing += r.still_processing;
    total.unavailable += r.unavailable;
    total.already_resolved += r.already_resolved;
    total.stale.extend(r.stale.iter().cloned());
    total.stopped_early |= r.stopped_early;
}

/// One scheduled run: every company with a vendor connection, each polled then reconciled,
/// until `margin` before `deadline` (the next run carries on). A company whose connection
/// fails is reported and the others go on; a storage failure fails the run.
pub async fn run_scheduled<T: Tenants>(
    tenants: &T,
    now: DateTime<Utc>,
    limits: PollLimits,
    grace: chrono::Duration,
    deadline: Instant,
    margin: Duration,
) -> Result<RunReport, PortError> {
    let mut report = RunReport::default();
    for company in tenants.vendor_companies().await? {
        if Instant::now() + margin >= deadline {
            report.total.stopped_early = true;
            break;
        }
        let span = tracing::info_span!("company", company = %company);
        let run = async {
            let (repo, api) = match tenants.vendor(&company).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "company skipped this run");
                    return Ok::<_, PortError>(CompanyRun {
                        company: company.clone(),
                        poll: None,
                        reconciliation: None,
                        error: Some(e.to_string()),
                    });
                }
            };
            let poll = run_pass(&repo, &*api, now, limits, deadline, margin).await?;
            let reconciliation = run_reconcile(&repo, &*api, now, grace, deadline, margin).await?;
            Ok(CompanyRun { company: company.clone(), poll: Some(poll), reconciliation: Some(reconciliation), error: None })
        }
        .instrument(span)
        .await?;
        if let Some(p) = &run.poll {
            add(&mut report.total, p);
        }
        report.companies.push(run);
    }
    Ok(report)
}

/// The CloudWatch Embedded Metric Format line of a run (0 keeps the stale alarm OK).
pub fn emf(report: &PollReport, now: DateTime<Utc>) -> serde_json::Value {
    let metrics = [
        ("StaleTransactions", report.stale.len() as u64),
        ("TransactionsChecked", report.checked as u64),
        ("TransactionsFailed", report.failed as u64),
    ];
    invoice_wiring::emf_line(now, &metrics, serde_json::json!({}))
}

/// Prints the run's metrics as one Embedded Metric Format line on stdout (CloudWatch turns
/// it into the metrics the template alarms on).
pub fn print_metrics(report: &RunReport, now: DateTime<Utc>) {
    println!("{}", emf(&report.total, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_uses_the_deadline_or_a_fallback() {
        let now = std::time::SystemTime::now();
        assert_eq!(remaining_time(now + Duration::from_secs(30), now), Duration::from_secs(30));
        assert_eq!(remaining_time(std::time::UNIX_EPOCH + Duration::from_millis(600_000), now), Duration::from_secs(240));
    }

    #[test]
    fn emf_shape() {
        let r = PollReport { checked: 3, failed: 1, stale: vec!["t".into()], ..Default::default() };
        let v = emf(&r, "2025-11-22T12:00:00Z".parse().unwrap());
        assert_eq!(v["StaleTransactions"], 1);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "InvoiceBridge");
    }
}
