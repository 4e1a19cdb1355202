//! Ingestion of one document dropped under the incoming prefix: read, check, then store the
//! invoice (header, lines, accounting entries, archived raw document) or quarantine it with
//! its reasons. The storage is behind [`DocumentStore`] and [`InvoiceRepository`], which the
//! adapters implement for S3 and DynamoDB (and tests implement in memory).
//!
//! Idempotency: a document is identified by the SHA-256 of its bytes. The invoice header is
//! claimed with a conditional write keyed by supplier + invoiceID; the same document delivered
//! again finds its own claim and completes or skips; a different document with the same
//! supplier + invoiceID is quarantined as `duplicate-invoice` and never overwrites. Every other
//! write is a put of deterministic content under a deterministic key. The incoming object is
//! deleted only after it is stored elsewhere (archive or quarantine) and recorded.

use std::future::Future;

use crate::core::{sha256_hex, PortError};
use serde::{Deserialize, Serialize};

use crate::invoice::accounting::{journal, reversal, Chart, EntryLine};
use crate::invoice::cxml::model::{CxmlInvoice, Operation};
use crate::invoice::cxml::parser::Limits;
use crate::invoice::issue::{Code, Issue};
use crate::invoice::report::InvoiceSummary;
use crate::invoice::validate::{check, line_subtotal, parse_cxml_date, Checked, Totals};

/// Status of a stored invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    /// Claimed; lines and entries being written. Never visible in the status index.
    Ingesting,
    /// Booked.
    Valid,
    /// Cancelled by an `operation="delete"` document; its entries are reversed.
    Cancelled,
}

impl InvoiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Ingesting => "Ingesting",
            InvoiceStatus::Valid => "Valid",
            InvoiceStatus::Cancelled => "Cancelled",
        }
    }
}

/// The invoice header as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// `<supplier>#<invoiceID>`: unique per supplier.
    pub invoice_key: String,
    pub supplier: String,
    pub supplier_name: Option<String>,
    pub invoice_id: String,
    pub payload_id: Option<String>,
    pub purpose: String,
    pub invoice_date: String,
    pub currency: String,
    pub subtotal: String,
    pub tax: String,
    pub shipping: String,
    pub special_handling: String,
    pub discount: String,
    pub net: String,
    pub due: String,
    pub line_count: u32,
    pub order_ids: Vec<String>,
    pub supplier_order_ids: Vec<String>,
    pub payment_terms_days: Option<u32>,
    pub content_sha256: String,
    pub document_key: String,
    pub source_key: String,
    pub received_at: String,
    pub status: InvoiceStatus,
    pub cancelled_by_sha256: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancel_document_key: Option<String>,
}

/// One invoice line as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    pub invoice_key: String,
    pub line_number: u32,
    pub kind: String,
    pub po_number: Option<String>,
    pub supplier_order_id: Option<String>,
    pub reference_line_number: Option<String>,
    pub quantity: Option<String>,
    pub unit_of_measure: Option<String>,
    pub unit_price: Option<String>,
    pub subtotal: Option<String>,
    pub tax: Option<String>,
    pub currency: String,
    pub description: Option<String>,
    pub supplier_part_id: Option<String>,
    pub category: String,
    pub classification: Option<String>,
    pub sold_by: Option<String>,
}

/// A journal line as stored (`kind` booking or reversal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub invoice_key: String,
    pub kind: String,
    pub invoice_date: String,
    #[serde(flatten)]
    pub line: EntryLine,
}

/// A rejected document, kept under the quarantine prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionRecord {
    pub content_sha256: String,
    pub source_key: String,
    pub quarantine_key: String,
    pub reason_key: String,
    pub received_at: String,
    pub codes: Vec<String>,
    pub errors: Vec<Issue>,
    pub invoice_id: Option<String>,
    pub supplier: Option<String>,
}

/// The JSON written beside a quarantined document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineReason {
    pub source_key: String,
    pub content_sha256: String,
    pub received_at: String,
    pub errors: Vec<Issue>,
    pub invoice: Option<serde_json::Value>,
    pub what_to_do: String,
}

/// Result of claiming an invoice header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    /// The header exists for this very document (same SHA-256).
    Same(InvoiceRecord),
    /// The header exists for another document.
    Conflict(InvoiceRecord),
}

/// Result of cancelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelResult {
    Cancelled,
    /// The header changed concurrently (not Valid any more); re-read and decide again.
    NotValid,
}

pub trait DocumentStore {
    /// `Ok(None)` when the object does not exist.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, PortError>> + Send;
    fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Copies an object exactly as stored (server-side), so a document is kept byte for byte
    /// even when only its beginning was read.
    fn copy(&self, from: &str, to: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

pub trait InvoiceRepository {
    /// Conditionally creates the header (status Ingesting) unless one exists for the key.
    fn claim(&self, header: &InvoiceRecord) -> impl Future<Output = Result<Claim, PortError>> + Send;
    /// Writes lines and entries (idempotent puts; the PO index follows the header's order ids).
    fn put_details(
        &self,
        header: &InvoiceRecord,
        lines: &[LineRecord],
        entries: &[EntryRecord],
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Ingesting → Valid, only for the document that claimed it.
    fn mark_valid(&self, header: &InvoiceRecord) -> impl Future<Output = Result<(), PortError>> + Send;
    fn get_invoice(&self, invoice_key: &str) -> impl Future<Output = Result<Option<InvoiceRecord>, PortError>> + Send;
    fn get_entries(&self, invoice_key: &str) -> impl Future<Output = Result<Vec<EntryRecord>, PortError>> + Send;
    /// Valid → Cancelled with the reversal entries, conditional on the status still Valid.
    fn cancel(
        &self,
        invoice_key: &str,
        by_sha256: &str,
        at: &str,
        cancel_document_key: &str,
        reversal: &[EntryRecord],
    ) -> impl Future<Output = Result<CancelResult, PortError>> + Send;
    /// Records a rejection; `Ok(false)` when it was already recorded.
    fn put_rejection(&self, rec: &RejectionRecord) -> impl Future<Output = Result<bool, PortError>> + Send;
}

#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub limits: Limits,
    pub archive_prefix: String,
    pub quarantine_prefix: String,
    pub chart: Chart,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            limits: Limits::default(),
            archive_prefix: "archive/".into(),
            quarantine_prefix: "quarantine/".into(),
            chart: Chart::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored {
        invoice_key: String,
        resumed: bool,
    },
    AlreadyStored {
        invoice_key: String,
    },
    Cancelled {
        invoice_key: String,
    },
    Quarantined {
        quarantine_key: String,
        codes: Vec<String>,
    },
    /// The object no longer exists: it was processed by an earlier delivery (we delete an
    /// incoming object only once it is stored elsewhere) or removed by someone else.
    Gone,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("storage: {0}")]
    Port(#[from] PortError),
    #[error("invoice {0} is still being ingested by another delivery; retry later")]
    Busy(String),
    #[error("cancellation of {0} raced with another update; retry")]
    Race(String),
}

/// Keeps S3 key segments readable and safe: letters, digits, `.`, `-`, `_`; the rest `_`.
pub fn key_segment(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(120).collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = "_".into();
    }
    out
}

fn basename(key: &str) -> &str {
    key.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("document")
}

/// The header record of a valid invoice (pure; `received_at` is given, not read from a clock).
pub fn invoice_record(
    inv: &CxmlInvoice,
    totals: &Totals,
    sha: &str,
    document_key: &str,
    source_key: &str,
    received_at: &str,
) -> InvoiceRecord {
    let supplier = inv.supplier_key().unwrap_or_default();
    let invoice_id = inv.header.invoice_id.as_deref().unwrap_or_default().to_string();
    let supplier_name = ["from", "invoiceFrom", "remitTo", "supplierCorporate"]
        .iter()
        .find_map(|r| inv.partner(r).and_then(|c| c.name.as_ref().map(|n| n.to_string())));
    let invoice_date =
        inv.header.invoice_date.as_deref().and_then(parse_cxml_date).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    InvoiceRecord {
        invoice_key: format!("{supplier}#{invoice_id}"),
        supplier,
        supplier_name,
        invoice_id,
        payload_id: inv.payload_id.as_ref().map(|t| t.to_string()),
        purpose: inv.header.purpose.as_str().to_string(),
        invoice_date,
        currency: totals.currency.code().to_string(),
        subtotal: totals.subtotal.amount.to_string(),
        tax: totals.tax.amount.to_string(),
        shipping: totals.shipping.amount.to_string(),
        special_handling: totals.special_handling.amount.to_string(),
        discount: totals.discount.amount.to_string(),
        net: totals.net.amount.to_string(),
        due: totals.due.amount.to_string(),
        line_count: inv.item_count() as u32,
        order_ids: inv.order_ids(),
        supplier_order_ids: inv.supplier_order_ids(),
        payment_terms_days: inv.header.payment_terms.iter().find_map(|p| p.pay_in_number_of_days),
        content_sha256: sha.to_string(),
        document_key: document_key.to_string(),
        source_key: source_key.to_string(),
        received_at: received_at.to_string(),
        status: InvoiceStatus::Ingesting,
        cancelled_by_sha256: None,
        cancelled_at: None,
        cancel_document_key: None,
    }
}

/// The line records of a valid invoice.
pub fn line_records(inv: &CxmlInvoice, invoice_key: &str, currency: &str) -> Vec<LineRecord> {
    let mut out = Vec::with_capacity(inv.item_count());
    for order in &inv.orders {
        for item in &order.items {
            out.push(LineRecord {
                invoice_key: invoice_key.to_string(),
                line_number: item.invoice_line_number.unwrap_or(0),
                kind: match item.kind {
                    crate::invoice::cxml::model::ItemKind::Goods => "goods".into(),
                    crate::invoice::cxml::model::ItemKind::Service => "service".into(),
                },
                po_number: order.info.po_number().map(str::to_string),
                supplier_order_id: order.info.supplier_order_id.as_ref().map(|t| t.to_string()),
                reference_line_number: item.reference_line_number.as_ref().map(|t| t.to_string()),
                quantity: item.quantity.map(|q| q.to_string()),
                unit_of_measure: item.unit_of_measure.as_ref().map(|t| t.to_string()),
                unit_price: item.unit_price.map(|m| m.amount.to_string()),
                subtotal: line_subtotal(item).map(|m| m.amount.to_string()),
                tax: item.amounts.tax_amount().map(|m| m.amount.to_string()),
                currency: currency.to_string(),
                description: item.description.as_ref().map(|t| t.to_string()),
                supplier_part_id: item.supplier_part_id.as_ref().map(|t| t.to_string()),
                category: crate::invoice::accounting::category(item),
                classification: item.classifications.first().map(|(d, c)| format!("{d}:{c}")),
                sold_by: item.extrinsic("soldBy").map(str::to_string),
            });
        }
    }
    out
}

fn entry_records(lines: Vec<EntryLine>, invoice_key: &str, kind: &str, invoice_date: &str) -> Vec<EntryRecord> {
    lines
        .into_iter()
        .map(|line| EntryRecord {
            invoice_key: invoice_key.to_string(),
            kind: kind.to_string(),
            invoice_date: invoice_date.to_string(),
            line,
        })
        .collect()
}

/// What a clerk should do about a rejected document, from its error codes.
pub fn advice(codes: &[Code]) -> String {
    if codes.contains(&Code::DuplicateInvoice) {
        return "An invoice with this number from this supplier is already booked with different content. Compare the two documents; if this one is a correction, ask the supplier for a credit memo or a cancellation (operation=\"delete\") of the first, then resubmit.".into();
    }
    if codes.contains(&Code::UnknownInvoice) || codes.contains(&Code::AlreadyCancelled) {
        return "This cancellation does not match a booked invoice. Check the invoice number and supplier; nothing was changed.".into();
    }
    if codes.iter().any(|c| c.is_fatal()) {
        return "The file could not be read as a cXML invoice. Ask the supplier to resend a well-formed cXML InvoiceDetailRequest (UTF-8, no DTD internal subset).".into();
    }
    "The invoice was read but its contents are wrong (see errors). Ask the supplier for a corrected invoice; after fixing, drop the corrected document under the incoming prefix again.".into()
}

pub struct Ingestor<S, R> {
    pub store: S,
    pub repo: R,
    pub config: IngestConfig,
}

impl<S: DocumentStore + Sync, R: InvoiceRepository + Sync> Ingestor<S, R> {
    pub fn new(store: S, repo: R, config: IngestConfig) -> Self {
        Ingestor { store, repo, config }
    }

    /// Ingests the object at `key`. `received_at` (RFC 3339) is when it arrived (the S3 event
    /// time), so a redelivery records the same value.
    pub async fn ingest(&self, key: &str, received_at: &str) -> Result<Outcome, IngestError> {
        let Some(bytes) = self.store.get(key).await? else {
            return Ok(Outcome::Gone);
        };
        let sha = sha256_hex(&bytes);
        let checked = check(&bytes, &self.config.limits);
        drop(bytes);
        let outcome = match (&checked.invoice, &checked.totals, checked.is_valid()) {
            (Some(inv), Some(totals), true) => match inv.header.operation {
                Operation::New => self.store_new(key, received_at, &sha, inv, totals, &checked).await?,
                Operation::Delete => self.cancel(key, received_at, &sha, inv, totals, &checked).await?,
            },
            _ => self.quarantine(key, received_at, &sha, &checked, checked.issues.clone()).await?,
        };
        self.store.delete(key).await?;
        Ok(outcome)
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_new(
        &self,
        key: &str,
        received_at: &str,
        sha: &str,
        inv: &CxmlInvoice,
        totals: &Totals,
        checked: &Checked,
    ) -> Result<Outcome, IngestError> {
        let supplier = inv.supplier_key().unwrap_or_default();
        let invoice_id = inv.header.invoice_id.as_deref().unwrap_or_default().to_string();
        let document_key = format!("{}{}/{}/{}.xml", self.config.archive_prefix, key_segment(&supplier), key_segment(&invoice_id), sha);
        let header = invoice_record(inv, totals, sha, &document_key, key, received_at);
        let resumed = match self.repo.claim(&header).await? {
            Claim::Claimed => false,
            Claim::Same(existing) => match existing.status {
                InvoiceStatus::Ingesting => true,
                _ => return Ok(Outcome::AlreadyStored { invoice_key: header.invoice_key }),
            },
            Claim::Conflict(existing) => {
                let issue = Issue::new(
                    Code::DuplicateInvoice,
                    format!(
                        "invoice {} from {} was already received on {} with different content (document {}); this document was not booked and the first one is unchanged",
                        invoice_id, supplier, existing.received_at, existing.document_key
                    ),
                );
                return self.quarantine(key, received_at, sha, checked, vec![issue]).await;
            }
        };
        self.store.copy(key, &document_key).await?;
        let lines = line_records(inv, &header.invoice_key, &header.currency);
        let entries = entry_records(journal(inv, totals, &self.config.chart), &header.invoice_key, "booking", &header.invoice_date);
        self.repo.put_details(&header, &lines, &entries).await?;
        self.repo.mark_valid(&header).await?;
        Ok(Outcome::Stored { invoice_key: header.invoice_key, resumed })
    }

    #[allow(clippy::too_many_arguments)]
    async fn cancel(
        &self,
        key: &str,
        received_at: &str,
        sha: &str,
        inv: &CxmlInvoice,
        _totals: &Totals,
        checked: &Checked,
    ) -> Result<Outcome, IngestError> {
        let supplier = inv.supplier_key().unwrap_or_default();
        let invoice_id = inv.header.invoice_id.as_deref().unwrap_or_default().to_string();
        let invoice_key = format!("{supplier}#{invoice_id}");
        let existing = self.repo.get_invoice(&invoice_key).await?;
        let existing = match existing {
            None => {
                let issue = Issue::new(
                    Code::UnknownInvoice,
                    format!("operation=\"delete\" for invoice {invoice_id} from {supplier}, but no such invoice is booked"),
                );
                return self.quarantine(key, received_at, sha, checked, vec![issue]).await;
            }
            Some(e) => e,
        };
        match existing.status {
            InvoiceStatus::Ingesting => return Err(IngestError::Busy(invoice_key)),
            InvoiceStatus::Cancelled if existing.cancelled_by_sha256.as_deref() == Some(sha) => {
                return Ok(Outcome::Cancelled { invoice_key })
            }
            InvoiceStatus::Cancelled => {
                let issue = Issue::new(
                    Code::AlreadyCancelled,
                    format!(
                        "invoice {invoice_id} from {supplier} was already cancelled on {} by another document",
                        existing.cancelled_at.as_deref().unwrap_or("?")
                    ),
                );
                return self.quarantine(key, received_at, sha, checked, vec![issue]).await;
            }
            InvoiceStatus::Valid => {}
        }
        let cancel_key =
            format!("{}{}/{}/{}.cancel.xml", self.config.archive_prefix, key_segment(&supplier), key_segment(&invoice_id), sha);
        self.store.copy(key, &cancel_key).await?;
        let booked: Vec<EntryLine> =
            self.repo.get_entries(&invoice_key).await?.into_iter().filter(|e| e.kind == "booking").map(|e| e.line).collect();
        let rev =
            entry_records(reversal(&booked, &format!("cancellation of {invoice_id}")), &invoice_key, "reversal", &existing.invoice_date);
        match self.repo.cancel(&invoice_key, sha, received_at, &cancel_key, &rev).await? {
            CancelResult::Cancelled => Ok(Outcome::Cancelled { invoice_key }),
            CancelResult::NotValid => Err(IngestError::Race(invoice_key)),
        }
    }

    async fn quarantine(
        &self,
        key: &str,
        received_at: &str,
        sha: &str,
        checked: &Checked,
        errors: Vec<Issue>,
    ) -> Result<Outcome, IngestError> {
        let base = format!("{}{}", self.config.quarantine_prefix, sha);
        let quarantine_key = format!("{base}/{}", key_segment(basename(key)));
        let reason_key = format!("{base}/reason.json");
        let codes: Vec<Code> = errors.iter().map(|i| i.code).collect();
        let summary = InvoiceSummary::of(checked).and_then(|s| serde_json::to_value(s).ok());
        let reason = QuarantineReason {
            source_key: key.to_string(),
            content_sha256: sha.to_string(),
            received_at: received_at.to_string(),
            errors: errors.clone(),
            invoice: summary,
            what_to_do: advice(&codes),
        };
        let reason_json = serde_json::to_vec_pretty(&reason).unwrap_or_default();
        self.store.copy(key, &quarantine_key).await?;
        self.store.put(&reason_key, reason_json, "application/json").await?;
        let mut code_strs: Vec<String> = codes.iter().map(|c| c.as_str().to_string()).collect();
        code_strs.dedup();
        let rec = RejectionRecord {
            content_sha256: sha.to_string(),
            source_key: key.to_string(),
            quarantine_key: quarantine_key.clone(),
            reason_key,
            received_at: received_at.to_string(),
            codes: code_strs.clone(),
            errors,
            invoice_id: checked.invoice.as_ref().and_then(|i| i.header.invoice_id.as_ref().map(|t| t.to_string())),
            supplier: checked.invoice.as_ref().and_then(|i| i.supplier_key()),
        };
        self.repo.put_rejection(&rec).await?;
        Ok(Outcome::Quarantined { quarantine_key, codes: code_strs })
    }
}
