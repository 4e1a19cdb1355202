//! One import pass of one company, and the steps of its PDFs: the pure pieces of this module
//! put together over the ports. Time comes from the [`Clock`] given; nothing else is read.
//!
//! A pass: the cursor's run, page by page ([`ImportCursor::next_run`]) — `getTransactions`,
//! the invoice details of the page's order lines, the payment details of its invoices — then
//! every invoice is stored (claimed under its key, as every channel's invoices are), found
//! stored, completed or flagged against the stored invoice of the same number, or refused
//! with its reason; only then is the cursor saved ([`advance`]), conditionally on its version.
//! A crash anywhere before that save re-reads the page: what it stored is found stored.
//! The pass ends when the daily run is finished, when the clock says time is short (the next
//! message goes on), or at the first answer that says "later" (throttled, 5xx) or "never
//! again" (revoked consent: the connection records it, the company's import stops).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use super::answer::{parse_invoice_details, parse_payment_details, parse_transactions_page, LineInvoices, PaymentResult};
use super::batch::{invoice_details_requests, payment_details_requests};
use super::codes::{ImportCode, ImportProblem};
use super::mapping::{assemble, map_invoice, order_line_items, same_invoice, Held, ImportContext, ImportedInvoice, SameInvoice};
use super::pdf::{self, PdfEvent, PdfJob, PdfSelector, PdfStep};
use super::ports::{Answer, Download, ImportIssue, ImportStatus, ImportStore, IssueKind, PdfTask, ReconciliationApi, ReportsApi};
use super::purchase::PurchaseKind;
use super::reconcile::{reconcile, Reconciliation, Stored};
use super::settings::connection_date;
use super::watermark::{advance, midnight, RunKind, TxOutcome, Window};
use crate::company::{BusinessRegion, Company, ConnectionStatus};
use crate::core::{sha256_hex, PortError};
use crate::invoice::document::{is_pdf, number_key, DocumentStatus};
use crate::invoice::ports::{Claim, DocumentRepository, DocumentStore, InvoiceRepository};
use crate::invoice::records::{entry_records, InvoiceRecord, InvoiceStatus, BOOKING};
use crate::matching::{match_and_record, MatchOutcome, MatchStore};

/// The time, as the import reads it: the caller's clock, its deadline, its sleep.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
    /// How long this pass may still run (the Lambda's deadline less a margin; the CLI's budget).
    fn left(&self) -> Duration;
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// Where the import writes, as the other channels do.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    pub archive_prefix: String,
    pub documents_prefix: String,
    /// Below this much time left, a pass stops before its next page (a page takes a few calls).
    pub page_margin: Duration,
    /// The first poll of a report waits `poll_base × 2^polls` seconds (Amazon: 15).
    pub poll_base_seconds: u64,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            archive_prefix: "archive/".into(),
            documents_prefix: "documents/".into(),
            page_margin: Duration::from_secs(20),
            poll_base_seconds: 15,
        }
    }
}

/// Why an import pass could not run or stopped. [`ImportError::is_retryable`] is the one
/// place that decides whether the message is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The store failed: retried (the cursor is where the last stored page left it).
    #[error("import state: {0}")]
    Port(#[from] PortError),
    #[error("company {0} is not registered")]
    UnknownCompany(String),
    /// The company has no Amazon Business connection.
    #[error("company {0} has not connected an Amazon Business account")]
    NotConnected(String),
}

impl ImportError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ImportError::Port(_))
    }
}

/// How a pass ended. Spelled in kebab-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "end", content = "detail", rename_all = "kebab-case")]
pub enum PassEnd {
    /// The daily window is read to its end (the watermark moved).
    Finished,
    /// Time ran short: the next pass goes on from the stored cursor.
    OutOfTime,
    /// Amazon said "later" (throttled after retries, 5xx, timeout): nothing moved past what
    /// is stored; the next pass re-reads from there.
    Retry(String),
    /// Amazon refused the company's credentials: recorded on its connection; no pass runs
    /// until it reconnects.
    NotAuthorized(String),
    /// Auto import is off, or the connection is stopped.
    Off(String),
    /// Another pass moved the cursor meanwhile (this one stopped; nothing lost).
    Concurrent,
}

impl PassEnd {
    /// The pass should be tried again soon (the message retried).
    pub fn is_retry(&self) -> bool {
        matches!(self, PassEnd::Retry(_))
    }
}

/// The feed-date window of the pass (the first run's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowOut {
    pub from: String,
    pub to: String,
}

/// What one pass did: `invoicectl import run` prints it as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PassReport {
    pub company: String,
    pub window: Option<WindowOut>,
    pub pages: u32,
    pub transactions: u32,
    pub invoices_new: u32,
    pub already_stored: u32,
    pub invoices_completed: u32,
    pub credit_memos: u32,
    pub flagged: u32,
    pub refused: u32,
    pub pending: u32,
    pub pdfs_requested: u32,
    pub pdfs_stored: u32,
    pub pdfs_pending: u32,
    pub pdfs_unavailable: u32,
    /// The watermark after the pass (RFC 3339).
    pub watermark: Option<String>,
    /// Amazon Business calls made, by operation.
    pub requests: BTreeMap<String, u32>,
    pub end: Option<PassEnd>,
}

impl PassReport {
    fn count(&mut self, op: &str) {
        *self.requests.entry(op.to_string()).or_default() += 1;
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The PDF selector of a region: by invoice id in NA, by order line in EU and JP (Amazon's
/// guides), falling back to the invoice id when the invoice has no order line.
pub fn selector(region: BusinessRegion, target: &super::mapping::PdfTarget) -> PdfSelector {
    match region {
        BusinessRegion::Na => PdfSelector::ByInvoice,
        _ if target.order_line.is_some() => PdfSelector::ByOrderLine,
        _ => PdfSelector::ByInvoice,
    }
}

/// The import of one company over the ports.
pub struct Importer<'a, A, S, R, I, C> {
    pub api: &'a A,
    pub store: &'a S,
    pub repo: &'a R,
    pub state: &'a I,
    pub clock: &'a C,
    pub config: &'a ImportConfig,
}

/// What became of one invoice of a page.
enum Fate {
    New { credit_memo: bool },
    Already,
    Completed,
    Flagged,
    Refused,
    Busy,
}

impl<'a, A, S, R, I, C> Importer<'a, A, S, R, I, C>
where
    A: ReconciliationApi + Sync,
    S: DocumentStore + Sync,
    R: InvoiceRepository + DocumentRepository + MatchStore + Sync,
    I: ImportStore + Sync,
    C: Clock + Sync,
{
    /// One pass for `company`, reading the feed up to `until` (default: now).
    pub async fn pass(&self, company: &Company, until: Option<DateTime<Utc>>) -> Result<PassReport, ImportError> {
        let co = company.id.as_str();
        let mut report = PassReport { company: co.to_string(), ..PassReport::default() };
        let conn = company.business.as_ref().ok_or_else(|| ImportError::NotConnected(co.to_string()))?;
        let (mut cursor, mut version) = self.state.cursor(co).await?;
        report.watermark = cursor.watermark.map(iso);
        if conn.status == ConnectionStatus::NotAuthorized {
            let why = conn.status_reason.clone().unwrap_or_else(|| "Amazon refused the credentials".into());
            report.end = Some(PassEnd::NotAuthorized(format!("the connection is stopped ({why}); reconnect the account to resume")));
            return Ok(report);
        }
        let connected = connection_date(&conn.connected_at).unwrap_or_else(|| self.clock.now().date_naive());
        let start = conn.import.effective_start(connected);
        let now = self.clock.now();
        let end_at = until.map_or(now, |u| u.min(now));
        let ctx_received = iso(now);
        let ctx = ImportContext {
            company: co,
            chart: &company.chart,
            settings: &conn.import,
            start,
            received_at: &ctx_received,
            archive_prefix: &self.config.archive_prefix,
        };
        let end = loop {
            let Some(run) = cursor.next_run(start, end_at) else { break PassEnd::Finished };
            if self.clock.left() < self.config.page_margin {
                break PassEnd::OutOfTime;
            }
            if report.window.is_none() {
                report.window = Some(window_out(&run.window));
            }
            report.count("getTransactions");
            let page = match self.api.transactions(&run.query()).await {
                Answer::Ok(body) => match parse_transactions_page(&body) {
                    Ok(p) => p,
                    Err(e) => break PassEnd::Retry(format!("a getTransactions page could not be read: {e}")),
                },
                Answer::Retry(why) => break PassEnd::Retry(why),
                Answer::NotAuthorized(why) => break self.refused(co, why).await?,
                Answer::Refused { status, message } if run.next_page_token.is_some() => {
                    // A page token Amazon no longer knows: the window again from its first page
                    // (what it stored is found stored).
                    let restarted = super::watermark::ImportCursor { run: Some(run.restart()), ..cursor.clone() };
                    if !self.state.save_cursor(co, &restarted, version).await? {
                        break PassEnd::Concurrent;
                    }
                    version += 1;
                    cursor = restarted;
                    tracing::warn!(company = co, status, message = %message, "page token refused; the window is read again from its first page");
                    continue;
                }
                Answer::Refused { status, message } => break PassEnd::Retry(format!("getTransactions refused ({status}): {message}")),
            };
            report.pages += 1;
            report.transactions += page.transactions.len() as u32;
            // The invoice details of the page's order lines.
            let mut details: Vec<LineInvoices> = Vec::new();
            let mut stop = None;
            for req in invoice_details_requests(&order_line_items(&page.transactions)) {
                report.count("getInvoiceDetailsByOrderLineItems");
                match self
                    .read(co, "getInvoiceDetailsByOrderLineItems", self.api.invoice_details(&req).await, parse_invoice_details)
                    .await?
                {
                    Ok(Some(d)) => details.extend(d),
                    Ok(None) => {
                        stop = Some(PassEnd::Retry("getInvoiceDetailsByOrderLineItems refused the page's order lines".into()));
                        break;
                    }
                    Err(end) => {
                        stop = Some(end);
                        break;
                    }
                }
            }
            if let Some(s) = stop {
                break s;
            }
            let assembly = assemble(&page.transactions, &details);
            // Payment status and due date of its invoices.
            let (requests, too_long) = payment_details_requests(&assembly.invoice_numbers());
            if !too_long.is_empty() {
                tracing::warn!(company = co, count = too_long.len(), "invoice numbers too long for payment details");
            }
            let mut payments: HashMap<String, PaymentResult> = HashMap::new();
            for req in requests {
                report.count("getBatchInvoicePaymentDetails");
                match self.read(co, "getBatchInvoicePaymentDetails", self.api.payment_details(&req).await, parse_payment_details).await? {
                    Ok(Some(results)) => {
                        for r in results {
                            if let Some(id) = r.invoice_id.clone() {
                                payments.insert(number_key(&id), r);
                            }
                        }
                    }
                    // Payment details are a complement: the invoices are imported without them.
                    Ok(None) => {}
                    Err(end) => {
                        stop = Some(end);
                        break;
                    }
                }
            }
            if let Some(s) = stop {
                break s;
            }
            // Every invoice of the page, then what each transaction became.
            let mut outcomes: HashMap<String, TxOutcome> = HashMap::new();
            for src in &assembly.invoices {
                let payment = payments.get(&number_key(&src.number));
                let outcome = match map_invoice(src, payment, &ctx) {
                    Ok(imp) => self.store_invoice(company, imp, &mut report).await?,
                    Err(problem) => {
                        let ids = src.transactions.iter().filter_map(|t| t.transaction_id.clone()).collect();
                        self.issue(co, IssueKind::Refused, &src.number, Some(src.number.clone()), ids, problem).await?;
                        Fate::Refused
                    }
                };
                let tx = match outcome {
                    Fate::New { credit_memo } => {
                        report.invoices_new += 1;
                        report.credit_memos += u32::from(credit_memo);
                        TxOutcome::Stored
                    }
                    Fate::Already => {
                        report.already_stored += 1;
                        TxOutcome::AlreadyStored
                    }
                    Fate::Completed => {
                        report.invoices_completed += 1;
                        TxOutcome::Completed
                    }
                    Fate::Flagged => {
                        report.flagged += 1;
                        TxOutcome::Flagged
                    }
                    Fate::Refused => {
                        report.refused += 1;
                        TxOutcome::Refused
                    }
                    Fate::Busy => TxOutcome::Failed,
                };
                outcomes.insert(src.number.clone(), tx);
            }
            for h in &assembly.refused {
                self.held_issue(co, IssueKind::Refused, h).await?;
                report.refused += 1;
            }
            report.pending += assembly.pending.len() as u32;
            let results = super::watermark::transaction_results(&page.transactions, &assembly, |n| {
                outcomes.get(n).copied().unwrap_or(TxOutcome::Failed)
            });
            let next = advance(&cursor, &run, &results, page.next_page_token.as_deref(), self.clock.now());
            if let Some(r) = &next.run {
                for id in r.abandoned.iter().filter(|id| !run.abandoned.contains(id)) {
                    self.abandoned(co, id).await?;
                }
            } else {
                for id in &run.abandoned {
                    self.abandoned(co, id).await?;
                }
            }
            if !self.state.save_cursor(co, &next, version).await? {
                break PassEnd::Concurrent;
            }
            version += 1;
            cursor = next;
            report.watermark = cursor.watermark.map(iso);
            // A daily run read to its end: this pass is done (the next one starts a new window).
            if run.kind == RunKind::Daily && cursor.run.is_none() {
                break PassEnd::Finished;
            }
        };
        report.end = Some(end);
        Ok(report)
    }

    /// A Reconciliation answer read: its body parsed (`Ok(Some)`), refused by Amazon (4xx:
    /// `Ok(None)`, logged), or how the pass ends (throttled, unreadable, not authorised).
    async fn read<T>(
        &self,
        co: &str,
        op: &str,
        answer: Answer,
        parse: impl Fn(&str) -> Result<T, super::ParseError>,
    ) -> Result<Result<Option<T>, PassEnd>, ImportError> {
        Ok(match answer {
            Answer::Ok(body) => match parse(&body) {
                Ok(v) => Ok(Some(v)),
                Err(e) => Err(PassEnd::Retry(format!("an answer of {op} could not be read: {e}"))),
            },
            Answer::Retry(why) => Err(PassEnd::Retry(why)),
            Answer::NotAuthorized(why) => Err(self.refused(co, why).await?),
            Answer::Refused { status, message } => {
                tracing::warn!(company = co, operation = op, status, message = %message, "Amazon refused the request");
                Ok(None)
            }
        })
    }

    async fn refused(&self, co: &str, why: String) -> Result<PassEnd, ImportError> {
        self.state.connection_refused(co, &why, &iso(self.clock.now())).await?;
        tracing::error!(company = co, reason = %why, alarm = "business-not-authorized", "Amazon Business refused the company's credentials; its import is stopped");
        Ok(PassEnd::NotAuthorized(why))
    }

    async fn issue(
        &self,
        co: &str,
        kind: IssueKind,
        id: &str,
        invoice_number: Option<String>,
        transaction_ids: Vec<String>,
        problem: ImportProblem,
    ) -> Result<(), ImportError> {
        tracing::warn!(company = co, invoice = invoice_number.as_deref().unwrap_or(""), code = problem.code.as_str(), "import issue");
        let issue = ImportIssue {
            company: co.to_string(),
            kind,
            id: id.to_string(),
            invoice_number,
            invoice_key: None,
            transaction_ids,
            problem,
            stored_total: None,
            imported_total: None,
            archived_key: None,
            at: iso(self.clock.now()),
        };
        self.state.put_issue(&issue).await?;
        Ok(())
    }

    async fn held_issue(&self, co: &str, kind: IssueKind, h: &Held) -> Result<(), ImportError> {
        let id = h.transaction_id.clone().unwrap_or_else(|| sha256_hex(h.problem.message.as_bytes()));
        self.issue(co, kind, &id, None, h.transaction_id.iter().cloned().collect(), h.problem.clone()).await
    }

    async fn abandoned(&self, co: &str, transaction_id: &str) -> Result<(), ImportError> {
        let problem = ImportProblem::new(
            ImportCode::NotFinalised,
            format!(
                "transaction {transaction_id}: its invoice is still not final {} days after its feed date; the import no longer waits for it",
                super::watermark::PENDING_LIMIT_DAYS
            ),
        );
        self.issue(co, IssueKind::Abandoned, transaction_id, None, vec![transaction_id.to_string()], problem).await
    }

    /// Stores one imported invoice, or finds it stored, or completes / flags the stored one.
    async fn store_invoice(&self, company: &Company, imp: ImportedInvoice, report: &mut PassReport) -> Result<Fate, ImportError> {
        let co = company.id.as_str();
        let number = imp.record.invoice_id.clone();
        // The same invoice under another spelling of Amazon Business (by cXML or e-mail).
        let keys = self.repo.invoices_by_number(co, &number_key(&number)).await?;
        let other = match same_invoice(&number, &keys) {
            SameInvoice::One(k) if k != imp.record.invoice_key => Some(k),
            SameInvoice::Several(ks) => {
                let problem = ImportProblem::new(
                    ImportCode::AmbiguousInvoice,
                    format!(
                        "invoice {number}: the company has several Amazon Business invoices with this number ({}); nothing is booked",
                        ks.join(", ")
                    ),
                );
                self.issue(co, IssueKind::Flagged, &imp.record.content_sha256, Some(number), Vec::new(), problem).await?;
                return Ok(Fate::Flagged);
            }
            _ => None,
        };
        if let Some(key) = other {
            return self.against_stored(company, &key, &imp, report).await;
        }
        match self.repo.claim(&imp.record).await? {
            Claim::Claimed => {}
            Claim::Same(existing) if existing.status == InvoiceStatus::Ingesting => {}
            Claim::Same(existing) => {
                // Found stored (a re-run): its match and its PDF task exist unless a crash
                // came between.
                if existing.status == InvoiceStatus::Valid && existing.matching.is_none() {
                    self.match_imported(company, &existing, &imp).await?;
                }
                self.ensure_pdf(company, &imp.record.invoice_key, &imp, report).await?;
                return Ok(Fate::Already);
            }
            Claim::Conflict(existing) => return self.against_stored(company, &existing.invoice_key, &imp, report).await,
        }
        let h = &imp.record;
        self.store.put(&h.document_key, imp.source_json.clone().into_bytes(), "application/json", &BTreeMap::new()).await?;
        let entries = entry_records(imp.entries.clone(), &h.invoice_key, BOOKING, &h.invoice_date, &h.invoice_date);
        self.repo.put_details(h, &imp.lines, &entries).await?;
        self.repo.put_invoice_number(co, &number_key(&h.invoice_id), &h.invoice_key).await?;
        self.repo.mark_valid(h).await?;
        self.match_imported(company, h, &imp).await?;
        self.ensure_pdf(company, &h.invoice_key, &imp, report).await?;
        tracing::info!(company = co, invoice = %h.invoice_key, net = %h.net, currency = %h.currency, "Amazon Business invoice imported");
        Ok(Fate::New { credit_memo: h.purchase.as_ref().is_some_and(|p| p.kind == PurchaseKind::CreditMemo) })
    }

    /// Matches a booked imported invoice against the company's POs it names (by PO number or
    /// Amazon order id) and stores the outcome, as a cXML invoice is matched at booking. The
    /// invoice keeps its own GL coding (its `businessOrderInfo` keys): its journal is not
    /// re-booked from the PO. Without its PO it is `no-po` until the PO is recorded
    /// ([`crate::matching::workflow::rematch_po`] matches it again then).
    async fn match_imported(&self, company: &Company, header: &InvoiceRecord, imp: &ImportedInvoice) -> Result<MatchOutcome, ImportError> {
        let inv = super::matching::as_cxml(imp);
        let pos = self.repo.purchase_orders(&company.id, &inv.order_ids(), &inv.supplier_order_ids()).await?;
        let outcome = match_and_record(self.repo, header, &inv, &pos, &company.tolerances).await?;
        tracing::info!(
            company = %company.id,
            invoice = %header.invoice_key,
            status = ?outcome.status,
            po = outcome.po_number.as_deref().unwrap_or(""),
            exceptions = outcome.exceptions.len(),
            "imported invoice matched"
        );
        Ok(outcome)
    }

    /// The import against the stored invoice `key` of the same number.
    async fn against_stored(
        &self,
        company: &Company,
        key: &str,
        imp: &ImportedInvoice,
        report: &mut PassReport,
    ) -> Result<Fate, ImportError> {
        let co = company.id.as_str();
        let Some(record) = self.repo.get_invoice(co, key).await? else { return Ok(Fate::Busy) };
        let lines = self.repo.get_lines(co, key).await?;
        match reconcile(Stored { record: &record, lines: &lines }, imp) {
            Reconciliation::Busy { .. } => Ok(Fate::Busy),
            Reconciliation::Flag { invoice_key, problem, stored_total, imported_total } => {
                let archived = format!("{}.flagged.json", imp.record.document_key.trim_end_matches(".json"));
                self.store.put(&archived, imp.source_json.clone().into_bytes(), "application/json", &BTreeMap::new()).await?;
                let issue = ImportIssue {
                    company: co.to_string(),
                    kind: IssueKind::Flagged,
                    id: imp.record.content_sha256.clone(),
                    invoice_number: Some(imp.record.invoice_id.clone()),
                    invoice_key: Some(invoice_key),
                    transaction_ids: imp.record.purchase.as_ref().map(|p| p.transaction_ids.clone()).unwrap_or_default(),
                    problem,
                    stored_total: Some(stored_total),
                    imported_total: Some(imported_total),
                    archived_key: Some(archived),
                    at: iso(self.clock.now()),
                };
                tracing::warn!(company = co, invoice = %record.invoice_key, code = issue.problem.code.as_str(), "import flagged beside the stored invoice");
                self.state.put_issue(&issue).await?;
                Ok(Fate::Flagged)
            }
            Reconciliation::Complete(c) => {
                if c.is_empty() && record.invoice_key == imp.record.invoice_key {
                    return Ok(Fate::Already);
                }
                if !c.add_lines.is_empty() {
                    self.repo.put_details(&record, &c.add_lines, &[]).await?;
                }
                if let Some(p) = &c.purchase {
                    self.state.set_purchase(co, &c.invoice_key, p).await?;
                }
                if c.fetch_pdf {
                    self.ensure_pdf(company, &c.invoice_key, imp, report).await?;
                }
                if c.is_empty() {
                    return Ok(Fate::Already);
                }
                tracing::info!(company = co, invoice = %c.invoice_key, lines_added = c.add_lines.len(), "stored invoice completed by the import");
                Ok(Fate::Completed)
            }
        }
    }

    async fn ensure_pdf(
        &self,
        company: &Company,
        invoice_key: &str,
        imp: &ImportedInvoice,
        report: &mut PassReport,
    ) -> Result<(), ImportError> {
        let region = company.business.as_ref().map_or(BusinessRegion::Na, |b| b.region);
        let at = iso(self.clock.now());
        let task = PdfTask {
            company: company.id.clone(),
            invoice_key: invoice_key.to_string(),
            target: imp.pdf.clone(),
            selector: selector(region, &imp.pdf),
            job: PdfJob::default(),
            created_at: at.clone(),
            updated_at: at,
            not_before: None,
        };
        if self.state.add_pdf_task(&task).await? {
            report.pdfs_pending += 1;
        }
        Ok(())
    }
}

fn window_out(w: &Window) -> WindowOut {
    WindowOut { from: iso(w.start), to: iso(w.end) }
}

/// The end of a day given on the command line (`--until 2026-03-31`: the feed up to the
/// start of the next day).
pub fn until_of(day: NaiveDate) -> DateTime<Utc> {
    midnight(day.succ_opt().unwrap_or(day))
}

/// What one PDF step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfProgress {
    pub task: PdfTask,
    /// A report was requested in this step.
    pub requested: bool,
    /// The PDF was stored in this step.
    pub stored: bool,
    /// The next step is due after this long (a report being prepared); `None`: at once, or final.
    pub next_in: Option<Duration>,
    /// Amazon said "later" (paced, throttled, 5xx): the same step again later.
    pub retry: Option<String>,
    /// Amazon refused the company's credentials.
    pub not_authorized: Option<String>,
}

/// The PDF side of the import over the ports.
pub struct PdfFetcher<'a, P, S, R, I, C> {
    pub api: &'a P,
    pub store: &'a S,
    pub repo: &'a R,
    pub state: &'a I,
    pub clock: &'a C,
    pub config: &'a ImportConfig,
}

impl<'a, P, S, R, I, C> PdfFetcher<'a, P, S, R, I, C>
where
    P: ReportsApi + Sync,
    S: DocumentStore + Sync,
    R: InvoiceRepository + DocumentRepository + Sync,
    I: ImportStore + Sync,
    C: Clock + Sync,
{
    /// One step of a task (create, poll, or fetch and store), its new state saved
    /// conditionally (another worker on the same task: one of them wins, the other's step is
    /// dropped).
    pub async fn step(&self, task: &PdfTask) -> Result<PdfProgress, ImportError> {
        let mut out = PdfProgress { task: task.clone(), requested: false, stored: false, next_in: None, retry: None, not_authorized: None };
        let co = task.company.as_str();
        let step = match pdf::next_step(&task.job, &task.target, task.selector) {
            Ok(s) => s,
            Err(problem) => {
                return self.save(task, PdfJob::Unavailable { problem }, None, out).await;
            }
        };
        let answer_or = |a: Answer, out: &mut PdfProgress| -> Option<Result<String, (u16, String)>> {
            match a {
                Answer::Ok(b) => Some(Ok(b)),
                Answer::Retry(why) => {
                    out.retry = Some(why);
                    None
                }
                Answer::NotAuthorized(why) => {
                    out.not_authorized = Some(why);
                    None
                }
                Answer::Refused { status, message } => Some(Err((status, message))),
            }
        };
        let event = match step {
            PdfStep::Done => return Ok(out),
            PdfStep::CreateReport(spec) => match answer_or(self.api.create_report(&spec).await, &mut out) {
                None => return self.stopped(task, out).await,
                Some(Ok(body)) => match pdf::parse_create_report(&body) {
                    Ok(report_id) => {
                        out.requested = true;
                        PdfEvent::Created { report_id }
                    }
                    Err(e) => return self.retry(task, format!("createReport answer: {e}"), out).await,
                },
                Some(Err((status, message))) => {
                    let problem = ImportProblem::new(
                        ImportCode::ReportFatal,
                        format!("Amazon refused the PDF report of invoice {} ({status}): {message}", task.target.invoice_number),
                    );
                    return self.save(task, PdfJob::Unavailable { problem }, None, out).await;
                }
            },
            PdfStep::PollReport { report_id, .. } => match answer_or(self.api.get_report(&report_id).await, &mut out) {
                None => return self.stopped(task, out).await,
                Some(Ok(body)) => match pdf::parse_report(&body) {
                    Ok(state) => PdfEvent::Report(state),
                    Err(e) => return self.retry(task, format!("getReport answer: {e}"), out).await,
                },
                Some(Err((status, message))) => {
                    tracing::warn!(company = co, status, message = %message, "getReport refused; the report is taken as failed");
                    PdfEvent::Report(pdf::ReportState {
                        report_id: Some(report_id),
                        status: Some(pdf::ProcessingStatus::Fatal),
                        report_document_id: None,
                    })
                }
            },
            PdfStep::GetDocument { report_document_id } => {
                match answer_or(self.api.get_report_document(&report_document_id).await, &mut out) {
                    None => return self.stopped(task, out).await,
                    Some(Ok(body)) => match pdf::parse_report_document(&body) {
                        Ok(doc) => match self.api.download(&doc).await {
                            Download::Expired => PdfEvent::UrlExpired,
                            Download::Failed(why) => return self.retry(task, why, out).await,
                            Download::Bytes(bytes) => {
                                let ok = is_pdf(&bytes);
                                let key = if ok { self.keep_pdf(task, bytes).await? } else { String::new() };
                                out.stored = ok;
                                PdfEvent::Downloaded { is_pdf: ok, document_key: key }
                            }
                        },
                        Err(e) => return self.retry(task, format!("getReportDocument answer: {e}"), out).await,
                    },
                    Some(Err((status, message))) => {
                        let problem = ImportProblem::new(
                            ImportCode::ReportFatal,
                            format!("Amazon refused the report document of invoice {} ({status}): {message}", task.target.invoice_number),
                        );
                        return self.save(task, PdfJob::Unavailable { problem }, None, out).await;
                    }
                }
            }
        };
        let job = pdf::on_event(&task.job, &event);
        let wait = match &job {
            PdfJob::Requested { polls, .. } => Some(Duration::from_secs(
                (self.config.poll_base_seconds << (*polls).min(5)).min(300).max(u64::from(self.config.poll_base_seconds > 0)),
            )),
            _ => None,
        };
        self.save(task, job, wait, out).await
    }

    async fn stopped(&self, task: &PdfTask, out: PdfProgress) -> Result<PdfProgress, ImportError> {
        if let Some(why) = &out.not_authorized {
            self.state.connection_refused(&task.company, why, &iso(self.clock.now())).await?;
            tracing::error!(company = %task.company, reason = %why, alarm = "business-not-authorized", "Amazon Business refused the company's credentials");
        }
        Ok(out)
    }

    async fn retry(&self, task: &PdfTask, why: String, mut out: PdfProgress) -> Result<PdfProgress, ImportError> {
        tracing::warn!(company = %task.company, invoice = %task.invoice_key, reason = %why, "PDF step to retry");
        out.retry = Some(why);
        Ok(out)
    }

    async fn save(&self, task: &PdfTask, job: PdfJob, wait: Option<Duration>, mut out: PdfProgress) -> Result<PdfProgress, ImportError> {
        let now = self.clock.now();
        let next = PdfTask {
            job,
            updated_at: iso(now),
            not_before: wait.map(|w| iso(now + chrono::Duration::from_std(w).unwrap_or_default())),
            ..task.clone()
        };
        if !self.state.update_pdf_task(&next, &task.job).await? {
            return Ok(out);
        }
        if let PdfJob::Unavailable { problem } = &next.job {
            tracing::warn!(company = %task.company, invoice = %task.invoice_key, code = problem.code.as_str(), "no PDF for the invoice");
        }
        out.next_in = wait;
        out.task = next;
        Ok(out)
    }

    /// Keeps the PDF once by SHA-256 and links it to the invoice.
    async fn keep_pdf(&self, task: &PdfTask, bytes: Vec<u8>) -> Result<String, ImportError> {
        let co = task.company.as_str();
        let sha = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        let doc = pdf::pdf_document(
            co,
            &sha,
            size,
            &iso(self.clock.now()),
            &task.target.invoice_number,
            &task.invoice_key,
            &self.config.documents_prefix,
        );
        let mut meta = BTreeMap::new();
        meta.insert("channel".to_string(), "import".to_string());
        self.store.put(&doc.document_key, bytes, "application/pdf", &meta).await?;
        let existing = self.repo.put_document(&doc).await?;
        let doc = match existing {
            Some(d) if d.status == DocumentStatus::Linked && d.invoice_key.as_deref() != Some(task.invoice_key.as_str()) => {
                // The same PDF is already another invoice's: kept there, noted here.
                tracing::warn!(company = co, invoice = %task.invoice_key, other = d.invoice_key.as_deref().unwrap_or(""), "the PDF is already linked to another invoice");
                return Ok(d.document_key);
            }
            Some(d) => d,
            None => doc,
        };
        self.repo.link(&doc, &task.invoice_key).await?;
        Ok(doc.document_key)
    }

    /// Steps the company's open tasks while time allows: every task due now, one step each,
    /// round after round; sleeps until the next one is due when none is. An operation Amazon
    /// says "later" to (the document operations are paced: about one a minute) is not tried
    /// again before the next sleep; the tasks waiting for it are left for a later round or
    /// pass. A refusal of the credentials stops everything.
    pub async fn drain(&self, company: &str, limit: usize, report: &mut PassReport) -> Result<(), ImportError> {
        let mut blocked: Vec<std::mem::Discriminant<PdfJob>> = Vec::new();
        'rounds: loop {
            let tasks = self.state.open_pdf_tasks(company, limit).await?;
            if tasks.is_empty() {
                break;
            }
            let now = self.clock.now();
            let due_at =
                |t: &PdfTask| t.not_before.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc));
            let mut stepped = 0;
            for t in &tasks {
                if self.clock.left() < self.config.page_margin {
                    break 'rounds;
                }
                let kind = std::mem::discriminant(&t.job);
                if due_at(t).is_some_and(|d| d > now) || blocked.contains(&kind) {
                    continue;
                }
                let p = self.step(t).await?;
                if p.not_authorized.is_some() {
                    break 'rounds;
                }
                if p.retry.is_some() {
                    blocked.push(kind);
                    continue;
                }
                stepped += 1;
                if p.requested {
                    report.pdfs_requested += 1;
                    report.count("createReport");
                }
                if p.stored {
                    report.pdfs_stored += 1;
                }
                if matches!(p.task.job, PdfJob::Unavailable { .. }) {
                    report.pdfs_unavailable += 1;
                }
            }
            if stepped > 0 {
                continue;
            }
            // Nothing could be done now: wait for the next task that is due, if time allows.
            let Some(next) = tasks.iter().filter(|t| !blocked.contains(&std::mem::discriminant(&t.job))).filter_map(due_at).min() else {
                if blocked.is_empty() {
                    break;
                }
                // Only paced operations left: give them one more chance after a short wait.
                let wait = Duration::from_secs(self.config.poll_base_seconds.max(1));
                if wait + self.config.page_margin > self.clock.left() {
                    break;
                }
                self.clock.sleep(wait).await;
                blocked.clear();
                continue;
            };
            let wait = (next - self.clock.now()).to_std().unwrap_or_default();
            if wait + self.config.page_margin > self.clock.left() {
                break;
            }
            self.clock.sleep(wait).await;
            blocked.clear();
        }
        report.pdfs_pending = self.state.open_pdf_tasks(company, limit).await?.len() as u32;
        Ok(())
    }
}

/// The status record after a pass.
pub fn status_after(report: &PassReport, at: DateTime<Utc>) -> ImportStatus {
    let problem = match &report.end {
        Some(PassEnd::Retry(w)) => Some(format!("will retry: {w}")),
        Some(PassEnd::NotAuthorized(w)) => Some(format!("stopped: {w}")),
        Some(PassEnd::Off(w)) => Some(w.clone()),
        _ => None,
    };
    ImportStatus { last_run_at: Some(iso(at)), last_report: serde_json::to_value(report).ok(), last_problem: problem }
}
