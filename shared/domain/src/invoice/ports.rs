//! The ingestion workflow's ports: where documents are kept (S3) and where invoices are
//! recorded (DynamoDB); in-memory implementations serve the unit tests.

use std::collections::BTreeMap;
use std::future::Future;

use crate::core::PortError;
use crate::invoice::document::{AwaitingReason, DocumentRecord};
use crate::invoice::records::{EntryRecord, InvoiceRecord, LineRecord, RejectionRecord};

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

/// A stored object: its bytes (at most the store's read limit + 1) and its user metadata
/// (e.g. which channel brought it; see [`crate::invoice::records::DocumentSource`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

pub trait DocumentStore {
    /// `Ok(None)` when the object does not exist.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<StoredObject>, PortError>> + Send;
    /// Writes an object with its content type and user metadata (ASCII values).
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Copies an object exactly as stored (server-side), so a document is kept byte for byte
    /// even when only its beginning was read.
    fn copy(&self, from: &str, to: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Every key the repository builds starts with the record's company: one company's calls
/// can never read or write another's items.
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
    /// The header of one of `company`'s invoices (never another company's).
    fn get_invoice(&self, company: &str, invoice_key: &str) -> impl Future<Output = Result<Option<InvoiceRecord>, PortError>> + Send;
    fn get_entries(&self, company: &str, invoice_key: &str) -> impl Future<Output = Result<Vec<EntryRecord>, PortError>> + Send;
    /// The lines of one of `company`'s invoices, by line number.
    fn get_lines(&self, company: &str, invoice_key: &str) -> impl Future<Output = Result<Vec<LineRecord>, PortError>> + Send;
    /// Valid → Cancelled with the reversal entries, conditional on the status still Valid.
    fn cancel(
        &self,
        invoice: &InvoiceRecord,
        by_sha256: &str,
        at: &str,
        cancel_document_key: &str,
        reversal: &[EntryRecord],
    ) -> impl Future<Output = Result<CancelResult, PortError>> + Send;
    /// Records a rejection; `Ok(false)` when it was already recorded.
    fn put_rejection(&self, rec: &RejectionRecord) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// Reads the text of a PDF (bounded; `None` when it cannot be read). The adapters give one
/// (`invoice_adapters::pdf::text_of`); without it only names and subjects are looked at.
pub type PdfText = fn(&[u8]) -> Option<String>;

/// A company's PDF documents and the two "by number" indexes that link them to invoices in
/// either arrival order. `number` is always [`crate::invoice::document::number_key`]'s form.
/// Every read here is strongly consistent: a document's "awaiting" item is written before it
/// looks for invoices, an invoice's "by number" item before it looks for documents, so at
/// least one of two concurrent arrivals sees the other.
pub trait DocumentRepository {
    /// Creates the record unless one exists for its SHA-256; `Ok(Some(existing))` otherwise.
    fn put_document(&self, doc: &DocumentRecord) -> impl Future<Output = Result<Option<DocumentRecord>, PortError>> + Send;
    fn get_document(&self, company: &str, sha: &str) -> impl Future<Output = Result<Option<DocumentRecord>, PortError>> + Send;
    /// The document waits for the invoice with this number (idempotent).
    fn put_awaiting(&self, company: &str, number: &str, sha: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    /// SHA-256s of the documents waiting for this number.
    fn awaiting(&self, company: &str, number: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// The invoice has this number (idempotent).
    fn put_invoice_number(&self, company: &str, number: &str, invoice_key: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Keys of the company's invoices with this number.
    fn invoices_by_number(&self, company: &str, number: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// Links: the document → `invoice_key` (conditional: still awaiting, or already linked to
    /// this invoice), the invoice's `documents` gets the document key (once), then the
    /// awaiting item goes. `Ok(false)`: the document is linked to another invoice (nothing done).
    fn link(&self, doc: &DocumentRecord, invoice_key: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// The document's invoice was cancelled: status `InvoiceCancelled` (only while it is linked
    /// to `doc.invoice_key`; idempotent).
    fn mark_invoice_cancelled(&self, doc: &DocumentRecord) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Records why a document still awaits data (only while it is awaiting).
    fn set_awaiting_reason(
        &self,
        company: &str,
        sha: &str,
        reason: AwaitingReason,
        detail: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
