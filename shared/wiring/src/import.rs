//! The daily Amazon Business import as the Lambda functions and the CLI run it: a company's
//! client (its refresh token, its region or `AB_ENDPOINT`, its share of the rate plans), the
//! invoice store, the import's state, and the time as the caller sees it.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use invoice_adapters::dynamo::DynamoRepo;
use invoice_domain::import::ports::ImportStore;
use invoice_domain::import::workflow::{status_after, Clock, ImportConfig, ImportError, Importer, PassEnd, PassReport, PdfFetcher};

use crate::{Tenancy, TenantError};

/// The clock of one invocation: the wall clock, and the time left before `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineClock {
    deadline: Instant,
}

impl DeadlineClock {
    pub fn until(deadline: Instant) -> DeadlineClock {
        DeadlineClock { deadline }
    }

    /// A budget from now.
    pub fn budget(d: Duration) -> DeadlineClock {
        DeadlineClock { deadline: Instant::now() + d }
    }

    /// A Lambda invocation's deadline (milliseconds since the epoch, from its context) less
    /// `margin`.
    pub fn lambda(deadline_ms: u64, margin: Duration) -> DeadlineClock {
        let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(margin);
        DeadlineClock::budget(left)
    }
}

impl Clock for DeadlineClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.min(self.left())).await
    }
}

/// The import's settings from an environment: `ARCHIVE_PREFIX`, `DOCUMENTS_PREFIX` (as the
/// other channels), `IMPORT_POLL_BASE_SECONDS` (the first wait before a report is polled;
/// Amazon's guide: 15).
pub fn config_of(env: &crate::env::Env<'_>) -> Result<ImportConfig, crate::env::ConfigError> {
    let d = ImportConfig::default();
    let c = ImportConfig {
        archive_prefix: env.or("ARCHIVE_PREFIX", &d.archive_prefix),
        documents_prefix: env.or("DOCUMENTS_PREFIX", &d.documents_prefix),
        poll_base_seconds: env.positive("IMPORT_POLL_BASE_SECONDS", d.poll_base_seconds as usize)? as u64,
        ..d
    };
    crate::env::distinct_prefixes(&[("ARCHIVE_PREFIX", &c.archive_prefix), ("DOCUMENTS_PREFIX", &c.documents_prefix)])?;
    Ok(c)
}

/// [`config_of`] the process's environment.
pub fn config_from_env() -> Result<ImportConfig, crate::env::ConfigError> {
    let vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    config_of(&crate::env::Env(&vars))
}

/// Why a company's import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Not connected, or no such company: nothing to retry.
    #[error("{0}")]
    NotConnected(String),
    /// Secrets, DynamoDB or configuration unavailable now: retried.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl RunError {
    /// The one place the import's functions decide to retry a message.
    pub fn is_retryable(&self) -> bool {
        match self {
            RunError::NotConnected(_) => false,
            RunError::Unavailable(_) => true,
            RunError::Import(e) => e.is_retryable(),
        }
    }
}

impl From<TenantError> for RunError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::NotConnected(w) => RunError::NotConnected(w),
            TenantError::Unavailable(w) => RunError::Unavailable(w),
        }
    }
}

/// Runs import passes and PDF steps for any company of the deployment.
pub struct ImportRunner<'a, I> {
    pub tenancy: &'a Tenancy,
    pub state: &'a I,
    pub config: ImportConfig,
}

impl<I: ImportStore + Sync> ImportRunner<'_, I> {
    fn documents(&self) -> Result<&invoice_adapters::s3::S3Store, RunError> {
        self.tenancy
            .documents
            .as_ref()
            .ok_or_else(|| RunError::Unavailable("BUCKET_NAME is not set: imported invoices cannot be archived".into()))
    }

    /// One pass over the company's feed up to `until` (default now); its report is recorded
    /// as the company's import status.
    pub async fn pass<C: Clock + Sync>(&self, company: &str, until: Option<DateTime<Utc>>, clock: &C) -> Result<PassReport, RunError> {
        let (c, client) = self.tenancy.business(company).await?;
        let repo = DynamoRepo::new(self.tenancy.ddb.clone(), self.tenancy.table.clone());
        let store = self.documents()?;
        let importer = Importer { api: &*client, store, repo: &repo, state: self.state, clock, config: &self.config };
        let report = importer.pass(&c, until).await?;
        self.state.put_status(&c.id, &status_after(&report, clock.now())).await.map_err(ImportError::from)?;
        log_pass(&report);
        Ok(report)
    }

    /// Steps the company's open PDF tasks while the clock allows, adding to `report`.
    pub async fn pdfs<C: Clock + Sync>(&self, company: &str, limit: usize, clock: &C, report: &mut PassReport) -> Result<(), RunError> {
        let (c, client) = self.tenancy.business(company).await?;
        let repo = DynamoRepo::new(self.tenancy.ddb.clone(), self.tenancy.table.clone());
        let store = self.documents()?;
        let fetcher = PdfFetcher { api: &*client, store, repo: &repo, state: self.state, clock, config: &self.config };
        fetcher.drain(&c.id, limit, report).await?;
        tracing::info!(
            company = %c.id,
            pdfs_requested = report.pdfs_requested,
            pdfs_stored = report.pdfs_stored,
            pdfs_pending = report.pdfs_pending,
            pdfs_unavailable = report.pdfs_unavailable,
            "PDF steps done"
        );
        Ok(())
    }
}

fn log_pass(r: &PassReport) {
    let end = r.end.as_ref().and_then(|e| serde_json::to_value(e).ok()).unwrap_or_default();
    match &r.end {
        Some(PassEnd::NotAuthorized(why)) => {
            tracing::error!(company = %r.company, reason = %why, "import stopped: Amazon Business refused the company's credentials")
        }
        _ => tracing::info!(
            company = %r.company,
            pages = r.pages,
            transactions = r.transactions,
            invoices_new = r.invoices_new,
            invoices_completed = r.invoices_completed,
            credit_memos = r.credit_memos,
            flagged = r.flagged,
            refused = r.refused,
            watermark = r.watermark.as_deref().unwrap_or(""),
            end = %end,
            "import pass done"
        ),
    }
}

/// The CloudWatch Embedded Metric Format line of a pass: `ImportNotAuthorized` (alarmed on),
/// and what it imported.
pub fn emf(r: &PassReport, now: DateTime<Utc>) -> serde_json::Value {
    let metrics = [
        ("ImportNotAuthorized", u64::from(matches!(r.end, Some(PassEnd::NotAuthorized(_))))),
        ("ImportInvoices", u64::from(r.invoices_new)),
        ("ImportFlagged", u64::from(r.flagged)),
        ("ImportRefused", u64::from(r.refused)),
    ];
    crate::emf_line(now, &metrics, serde_json::json!({"company": r.company}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_line_counts_a_refused_connection() {
        let r = PassReport {
            company: "acme".into(),
            invoices_new: 3,
            end: Some(PassEnd::NotAuthorized("invalid_grant".into())),
            ..Default::default()
        };
        let v = emf(&r, Utc::now());
        assert_eq!((v["ImportNotAuthorized"].as_u64(), v["ImportInvoices"].as_u64()), (Some(1), Some(3)));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "InvoiceBridge");
        let ok = emf(&PassReport { end: Some(PassEnd::Finished), ..Default::default() }, Utc::now());
        assert_eq!(ok["ImportNotAuthorized"], 0);
    }

    #[test]
    fn a_lambda_clock_keeps_its_margin() {
        let deadline = u64::try_from(Utc::now().timestamp_millis()).unwrap() + 60_000;
        let c = DeadlineClock::lambda(deadline, Duration::from_secs(15));
        assert!(c.left() <= Duration::from_secs(45) && c.left() > Duration::from_secs(40), "{:?}", c.left());
        assert_eq!(DeadlineClock::lambda(0, Duration::from_secs(1)).left(), Duration::ZERO);
    }

    #[test]
    fn only_store_and_availability_failures_are_retried() {
        assert!(!RunError::NotConnected("x".into()).is_retryable());
        assert!(RunError::Unavailable("x".into()).is_retryable());
        assert!(RunError::Import(ImportError::Port(invoice_domain::core::PortError("ddb".into()))).is_retryable());
        assert!(!RunError::Import(ImportError::NotConnected("acme".into())).is_retryable());
    }
}
