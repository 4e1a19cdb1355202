//! The import's ports: Amazon Business's Reconciliation and Reports (Document) APIs as the
//! import needs them (implemented by `invoice-spapi`'s client), and the import's own state
//! (adapters: DynamoDB). The invoices themselves go through the invoice store's ports
//! ([`crate::invoice::ports`]), as every channel's do.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::batch::{InvoiceDetailsRequest, PaymentDetailsRequest};
use super::codes::ImportProblem;
use super::mapping::PdfTarget;
use super::pdf::{CreateReportSpecification, PdfJob, PdfSelector, ReportDocument};
use super::purchase::Purchase;
use super::watermark::ImportCursor;
use crate::core::PortError;

/// How one Amazon Business call ended, as the import decides on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: the body.
    Ok(String),
    /// Nothing to act on now (429 after the client's retries, 5xx, a timeout, not sent): the
    /// same call is made again later; nothing moves.
    Retry(String),
    /// Login-with-Amazon or the API refused the company's credentials (revoked consent):
    /// the company's import stops until it reconnects.
    NotAuthorized(String),
    /// The API refused the request itself (400, 404…): retrying the same request cannot help.
    Refused { status: u16, message: String },
}

/// The download of a report document at its presigned URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// The content, gunzipped when the document said GZIP.
    Bytes(Vec<u8>),
    /// The URL's 5 minutes are over (403 / `Request has expired`): get the document again.
    Expired,
    /// Could not be read now (5xx, cut off, a bad GZIP stream).
    Failed(String),
}

/// The Reconciliation API (rate 2/s, burst 10 per application and account, across instances).
pub trait ReconciliationApi {
    /// `GET /reconciliation/2021-01-08/transactions` with the query of
    /// [`super::watermark::Run::query`].
    fn transactions(&self, query: &[(&'static str, String)]) -> impl Future<Output = Answer> + Send;
    /// `POST /reconciliation/2021-01-08/invoices` (at most 25 order lines).
    fn invoice_details(&self, req: &InvoiceDetailsRequest) -> impl Future<Output = Answer> + Send;
    /// `POST /reconciliation/2021-01-08/invoices/batch/paymentDetails` (at most 25 ids).
    fn payment_details(&self, req: &PaymentDetailsRequest) -> impl Future<Output = Answer> + Send;
}

/// The Reports (Document) API: slow (createReport and getReportDocument about one a minute,
/// burst 15, per Amazon's reference), paced by the shared limiter.
pub trait ReportsApi {
    fn create_report(&self, spec: &CreateReportSpecification) -> impl Future<Output = Answer> + Send;
    fn get_report(&self, report_id: &str) -> impl Future<Output = Answer> + Send;
    fn get_report_document(&self, report_document_id: &str) -> impl Future<Output = Answer> + Send;
    /// Fetches the document at once (no credentials: the URL is presigned), gunzipped if said.
    fn download(&self, doc: &ReportDocument) -> impl Future<Output = Download> + Send;
}

/// The PDF of one invoice being fetched: what it is requested by, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfTask {
    pub company: String,
    /// The stored invoice it is linked to (the import's own, or a completed one's).
    pub invoice_key: String,
    pub target: PdfTarget,
    pub selector: PdfSelector,
    pub job: PdfJob,
    /// RFC 3339: when it was asked for, and when its state last changed.
    pub created_at: String,
    pub updated_at: String,
    /// RFC 3339: not to be stepped before (a report being prepared is polled later).
    #[serde(default)]
    pub not_before: Option<String>,
}

/// What a person must look at, from the import. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum IssueKind {
    /// Kept beside the stored invoice of the same number (totals differ, it was cancelled):
    /// both versions kept, nothing booked.
    Flagged,
    /// Never importable as Amazon sent it (no number, mixed currencies…): kept with its reason.
    Refused,
    /// Not final for longer than the import waits for it.
    Abandoned,
}

/// One thing of the import a person must look at, with everything needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportIssue {
    pub company: String,
    pub kind: IssueKind,
    /// Its identity within the company and kind (idempotent records): the import's SHA-256
    /// (flagged), the transaction id or the invoice number (refused, abandoned).
    pub id: String,
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// The stored invoice (flagged).
    #[serde(default)]
    pub invoice_key: Option<String>,
    #[serde(default)]
    pub transaction_ids: Vec<String>,
    pub problem: ImportProblem,
    #[serde(default)]
    pub stored_total: Option<String>,
    #[serde(default)]
    pub imported_total: Option<String>,
    /// Where what Amazon sent is archived (the import's canonical JSON, or the transaction).
    #[serde(default)]
    pub archived_key: Option<String>,
    pub at: String,
}

/// A company's import state, beside its cursor: the record of the last run and why the
/// import is stopped, for `invoicectl import status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    #[serde(default)]
    pub last_run_at: Option<String>,
    #[serde(default)]
    pub last_report: Option<serde_json::Value>,
    /// Why the last pass stopped short (throttled, revoked consent…).
    #[serde(default)]
    pub last_problem: Option<String>,
}

/// The import's state of one company. Every key starts with the company.
pub trait ImportStore {
    /// The company's cursor and its version (0: never saved).
    fn cursor(&self, company: &str) -> impl Future<Output = Result<(ImportCursor, u64), PortError>> + Send;
    /// Saves the cursor if its version is still `version` (then it becomes `version + 1`);
    /// `Ok(false)`: another pass moved it meanwhile (this one stops; nothing is lost, the
    /// invoices it stored are found stored).
    fn save_cursor(&self, company: &str, cursor: &ImportCursor, version: u64) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Creates the task unless the invoice has one; `Ok(false)` when it had.
    fn add_pdf_task(&self, task: &PdfTask) -> impl Future<Output = Result<bool, PortError>> + Send;
    fn pdf_task(&self, company: &str, invoice_key: &str) -> impl Future<Output = Result<Option<PdfTask>, PortError>> + Send;
    /// Replaces the task if its job is still `previous` (two workers on one task: one wins).
    fn update_pdf_task(&self, task: &PdfTask, previous: &PdfJob) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// The company's tasks that are not final, oldest first, at most `limit`.
    fn open_pdf_tasks(&self, company: &str, limit: usize) -> impl Future<Output = Result<Vec<PdfTask>, PortError>> + Send;
    /// Records an issue (idempotent: once per company, kind and id); `Ok(false)` when it was
    /// already recorded.
    fn put_issue(&self, issue: &ImportIssue) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// The company's issues, at most `limit`.
    fn issues(&self, company: &str, limit: usize) -> impl Future<Output = Result<Vec<ImportIssue>, PortError>> + Send;
    /// Sets the filing of a stored invoice (payment status, due date…).
    fn set_purchase(&self, company: &str, invoice_key: &str, purchase: &Purchase) -> impl Future<Output = Result<(), PortError>> + Send;
    fn status(&self, company: &str) -> impl Future<Output = Result<ImportStatus, PortError>> + Send;
    fn put_status(&self, company: &str, status: &ImportStatus) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The company's Amazon Business connection refused its credentials: recorded on the
    /// connection (status not-authorized, the reason, the time) so that no pass runs until it
    /// reconnects.
    fn connection_refused(&self, company: &str, reason: &str, at: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}
