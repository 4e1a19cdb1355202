//! Ingestion of one document dropped under the incoming prefix: read, check, then store the
//! invoice (header, lines, accounting entries, archived raw document) or quarantine it with
//! its reasons. The storage is behind [`DocumentStore`] and [`InvoiceRepository`], which the
//! adapters implement for S3 and DynamoDB (and tests implement in memory).
//!
//! Company: the key `incoming/<company>/<name>` names it; a document straight under
//! `incoming/` belongs to the company that registered its `To` credential; else it is
//! quarantined (`unknown-company`) under [`UNASSIGNED`] — kept, never dropped. The company's
//! chart of accounts books the entries, and every key written carries the company.
//!
//! Idempotency: a document is identified by the SHA-256 of its bytes. The invoice header is
//! claimed with a conditional write keyed by supplier + invoiceID; the same document delivered
//! again finds its own claim and completes or skips; a different document with the same
//! supplier + invoiceID is quarantined as `duplicate-invoice` and never overwrites. Every other
//! write is a put of deterministic content under a deterministic key. The incoming object is
//! deleted only after it is stored elsewhere (archive or quarantine) and recorded.

use crate::company::{self, normalize_identity, Company, CompanyDirectory, Resolution, UNASSIGNED};
use crate::core::{sha256_hex, PortError};
use crate::invoice::accounting::{journal, journal_coded, reversal, EntryLine};
use crate::invoice::cxml::model::{CxmlInvoice, Operation};
use crate::invoice::cxml::parser::Limits;
use crate::invoice::issue::{Code, Issue};
use crate::matching::{coding_for, match_and_record, MatchStore};
use std::collections::BTreeMap;

use crate::invoice::document::{
    document_key, file_name, find_invoice_number, is_pdf, number_key, sha_of_document_key, AwaitingReason, DocumentRecord, DocumentStatus,
};
use crate::invoice::ports::{CancelResult, Claim, DocumentRepository, DocumentStore, InvoiceRepository, PdfText, StoredObject};
use crate::invoice::records::{
    archive_key, day_of, entry_records, identity_of, invoice_key, invoice_record, line_records, quarantine_keys, DocumentSource,
    InvoiceStatus, QuarantineReason, RejectionRecord, BOOKING, REVERSAL,
};
use crate::invoice::report::InvoiceSummary;
use crate::invoice::validate::{check, Checked, Totals};

#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub limits: Limits,
    pub incoming_prefix: String,
    pub archive_prefix: String,
    pub quarantine_prefix: String,
    /// Where a company's PDF documents are kept (`documents/<company>/<sha256>.pdf`).
    pub documents_prefix: String,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            limits: Limits::default(),
            incoming_prefix: "incoming/".into(),
            archive_prefix: "archive/".into(),
            quarantine_prefix: "quarantine/".into(),
            documents_prefix: "documents/".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored {
        company: String,
        invoice_key: String,
        resumed: bool,
    },
    AlreadyStored {
        company: String,
        invoice_key: String,
    },
    Cancelled {
        company: String,
        invoice_key: String,
    },
    Quarantined {
        company: String,
        quarantine_key: String,
        codes: Vec<String>,
    },
    /// A PDF kept as one of the company's documents: linked to its invoice, or awaiting data.
    Document {
        company: String,
        document_key: String,
        status: DocumentStatus,
        invoice_key: Option<String>,
        /// The same PDF (SHA-256) was already a document of the company.
        already: bool,
    },
    /// The object no longer exists: it was processed by an earlier delivery (we delete an
    /// incoming object only once it is stored elsewhere) or removed by someone else.
    Gone,
}

impl Outcome {
    /// The stable name of the outcome (`stored`, `already-stored`, `cancelled`, `quarantined`, `gone`).
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Stored { .. } => "stored",
            Outcome::AlreadyStored { .. } => "already-stored",
            Outcome::Cancelled { .. } => "cancelled",
            Outcome::Quarantined { .. } => "quarantined",
            Outcome::Document { .. } => "document",
            Outcome::Gone => "gone",
        }
    }
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

/// The distinct codes of some findings, in the order they first appear.
pub fn distinct_codes(issues: &[Issue]) -> Vec<Code> {
    let mut out: Vec<Code> = Vec::with_capacity(issues.len());
    for i in issues {
        if !out.contains(&i.code) {
            out.push(i.code);
        }
    }
    out
}

/// What a clerk should do about a rejected document, from its error codes.
pub fn advice(codes: &[Code]) -> String {
    if codes.contains(&Code::UnknownCompany) {
        return "No company could be found for this document. Register the document's To identity for the right company (`invoicectl company create ID --name NAME --cxml-identity DOMAIN:IDENTITY`), or drop the document under incoming/<company>/ again.".into();
    }
    if codes.contains(&Code::CompanyMismatch) {
        return "The document was dropped under this company's prefix but is addressed to an identity another company has registered. Check who the invoice is for; drop it under that company's prefix (or fix the registration).".into();
    }
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

/// `first`, then the document's own findings.
fn with_first(first: Issue, checked: &Checked) -> Vec<Issue> {
    let mut issues = Vec::with_capacity(checked.issues.len() + 1);
    issues.push(first);
    issues.extend(checked.issues.iter().cloned());
    issues
}

/// The normalised `To` credentials of a parsed document.
fn to_identities(checked: &Checked) -> Vec<String> {
    checked.invoice.as_ref().map(|inv| inv.to.iter().map(|c| normalize_identity(&c.domain, &c.identity)).collect()).unwrap_or_default()
}

pub struct Ingestor<S, R, D> {
    pub store: S,
    pub repo: R,
    pub companies: D,
    pub config: IngestConfig,
    /// Reads a PDF's text for its invoice number (none by default).
    pub pdf_text: PdfText,
}

fn no_pdf_text(_: &[u8]) -> Option<String> {
    None
}

impl<S: DocumentStore + Sync, R: InvoiceRepository + DocumentRepository + MatchStore + Sync, D: CompanyDirectory + Sync> Ingestor<S, R, D> {
    pub fn new(store: S, repo: R, companies: D, config: IngestConfig) -> Self {
        Ingestor { store, repo, companies, config, pdf_text: no_pdf_text }
    }

    /// With a PDF text reader (the adapters' bounded one).
    pub fn with_pdf_text(mut self, pdf_text: PdfText) -> Self {
        self.pdf_text = pdf_text;
        self
    }

    /// Ingests the object at `key`. `received_at` (RFC 3339) is when it arrived (the S3 event
    /// time), so a redelivery records the same value.
    pub async fn ingest(&self, key: &str, received_at: &str) -> Result<Outcome, IngestError> {
        let Some(StoredObject { bytes, metadata }) = self.store.get(key).await? else {
            return Ok(Outcome::Gone);
        };
        let source = DocumentSource::from_metadata(&metadata);
        let sha = sha256_hex(&bytes);
        let checked = check(&bytes, &self.config.limits);
        // A PDF (by its bytes, read whole: within the limit) is a document of its company.
        let pdf = (is_pdf(&bytes) && bytes.len() <= self.config.limits.max_bytes).then_some(bytes);
        let doc = Doc { key, received_at, sha: &sha, checked: &checked, source: &source };
        let resolution = company::resolve(&self.companies, key, &self.config.incoming_prefix, &to_identities(&checked)).await?;
        let outcome = match resolution {
            Resolution::ByPrefix(company) if pdf.is_some() => self.store_pdf(&company.id, &doc, pdf.as_deref().unwrap_or_default()).await?,
            Resolution::ByPrefix(company) | Resolution::ByIdentity(company, _) => {
                match (&checked.invoice, &checked.totals, checked.is_valid()) {
                    (Some(inv), Some(totals), true) => match inv.header.operation {
                        Operation::New => self.store_new(&company, &doc, inv, totals).await?,
                        Operation::Delete => self.cancel(&company, &doc, inv).await?,
                    },
                    _ => self.quarantine(&company.id, &doc, checked.issues.clone()).await?,
                }
            }
            Resolution::Unknown(why) => {
                self.quarantine(UNASSIGNED, &doc, with_first(Issue::new(Code::UnknownCompany, why), &checked)).await?
            }
            Resolution::Mismatch { company, identity, holder } => {
                let why = format!(
                    "dropped under {}{}/ but addressed (To) to {identity}, which company '{holder}' has registered; nothing was booked",
                    self.config.incoming_prefix, company.id
                );
                self.quarantine(&company.id, &doc, with_first(Issue::new(Code::CompanyMismatch, why), &checked)).await?
            }
        };
        self.store.delete(key).await?;
        Ok(outcome)
    }

    async fn store_new(&self, company: &Company, doc: &Doc<'_>, inv: &CxmlInvoice, totals: &Totals) -> Result<Outcome, IngestError> {
        let (supplier, invoice_id) = identity_of(inv);
        let document_key = archive_key(&self.config.archive_prefix, &company.id, &supplier, &invoice_id, doc.sha, ".xml");
        let mut header = invoice_record(&company.id, inv, totals, doc.sha, &document_key, doc.key, doc.received_at);
        header.source = doc.source.clone();
        let resumed = match self.repo.claim(&header).await? {
            Claim::Claimed => false,
            Claim::Same(existing) => match existing.status {
                InvoiceStatus::Ingesting => true,
                _ => return Ok(Outcome::AlreadyStored { company: company.id.clone(), invoice_key: header.invoice_key }),
            },
            Claim::Conflict(existing) => {
                let issue = Issue::new(
                    Code::DuplicateInvoice,
                    format!(
                        "invoice {} from {} was already received on {} with different content (document {}); this document was not booked and the first one is unchanged",
                        invoice_id, supplier, existing.received_at, existing.document_key
                    ),
                );
                return self.quarantine(&company.id, doc, vec![issue]).await;
            }
        };
        self.store.copy(doc.key, &document_key).await?;
        let lines = line_records(inv, &header.invoice_key, &header.currency);
        // The POs it names: its lines take their GL coding from theirs.
        let pos = self.repo.purchase_orders(&company.id, &inv.order_ids(), &inv.supplier_order_ids()).await?;
        let booked = match coding_for(inv, &pos) {
            Some(coding) => journal_coded(inv, totals, &company.chart, &coding),
            None => journal(inv, totals, &company.chart),
        };
        let date = &header.invoice_date;
        let entries = entry_records(booked, &header.invoice_key, BOOKING, date, date);
        self.repo.put_details(&header, &lines, &entries).await?;
        self.link_waiting_documents(&company.id, &invoice_id, &header.invoice_key).await?;
        self.repo.mark_valid(&header).await?;
        match_and_record(&self.repo, &header, inv, &pos, &company.tolerances).await?;
        Ok(Outcome::Stored { company: company.id.clone(), invoice_key: header.invoice_key, resumed })
    }

    async fn cancel(&self, company: &Company, doc: &Doc<'_>, inv: &CxmlInvoice) -> Result<Outcome, IngestError> {
        let (supplier, invoice_id) = identity_of(inv);
        let key = invoice_key(&supplier, &invoice_id);
        let cancelled = || Outcome::Cancelled { company: company.id.clone(), invoice_key: key.clone() };
        let Some(existing) = self.repo.get_invoice(&company.id, &key).await? else {
            let issue = Issue::new(
                Code::UnknownInvoice,
                format!("operation=\"delete\" for invoice {invoice_id} from {supplier}, but no such invoice is booked"),
            );
            return self.quarantine(&company.id, doc, vec![issue]).await;
        };
        match existing.status {
            InvoiceStatus::Ingesting => return Err(IngestError::Busy(key)),
            InvoiceStatus::Cancelled if existing.cancelled_by_sha256.as_deref() == Some(doc.sha) => {
                // A redelivery: finishes what a crash may have left (the documents' flags).
                self.flag_documents_cancelled(&company.id, &existing.documents).await?;
                return Ok(cancelled());
            }
            InvoiceStatus::Cancelled => {
                let issue = Issue::new(
                    Code::AlreadyCancelled,
                    format!(
                        "invoice {invoice_id} from {supplier} was already cancelled on {} by another document",
                        existing.cancelled_at.as_deref().unwrap_or("?")
                    ),
                );
                return self.quarantine(&company.id, doc, vec![issue]).await;
            }
            InvoiceStatus::Valid => {}
        }
        let cancel_key = archive_key(&self.config.archive_prefix, &company.id, &supplier, &invoice_id, doc.sha, ".cancel.xml");
        self.store.copy(doc.key, &cancel_key).await?;
        let booked: Vec<EntryLine> =
            self.repo.get_entries(&company.id, &key).await?.into_iter().filter(|e| e.kind == BOOKING).map(|e| e.line).collect();
        // Booked on the day the cancellation arrives (a redelivery of its event: the same day).
        let memo = format!("cancellation of {invoice_id}");
        let rev = entry_records(reversal(&booked, &memo), &key, REVERSAL, &existing.invoice_date, day_of(doc.received_at));
        match self.repo.cancel(&existing, doc.sha, doc.received_at, &cancel_key, &rev).await? {
            CancelResult::Cancelled => {
                self.flag_documents_cancelled(&company.id, &existing.documents).await?;
                Ok(cancelled())
            }
            CancelResult::NotValid => Err(IngestError::Race(key)),
        }
    }

    async fn quarantine(&self, company: &str, doc: &Doc<'_>, errors: Vec<Issue>) -> Result<Outcome, IngestError> {
        let (quarantine_key, reason_key) = quarantine_keys(&self.config.quarantine_prefix, company, doc.sha, doc.key);
        let codes = distinct_codes(&errors);
        let summary = InvoiceSummary::of(doc.checked).and_then(|s| serde_json::to_value(s).ok());
        let reason = QuarantineReason {
            company: company.to_string(),
            source_key: doc.key.to_string(),
            content_sha256: doc.sha.to_string(),
            received_at: doc.received_at.to_string(),
            errors: errors.clone(),
            invoice: summary,
            what_to_do: advice(&codes),
        };
        let reason_json = serde_json::to_vec_pretty(&reason).unwrap_or_default();
        self.store.copy(doc.key, &quarantine_key).await?;
        self.store.put(&reason_key, reason_json, "application/json", &BTreeMap::new()).await?;
        let code_strs: Vec<String> = codes.iter().map(|c| c.as_str().to_string()).collect();
        let inv = doc.checked.invoice.as_ref();
        let rec = RejectionRecord {
            company: company.to_string(),
            content_sha256: doc.sha.to_string(),
            source_key: doc.key.to_string(),
            quarantine_key: quarantine_key.clone(),
            reason_key,
            received_at: doc.received_at.to_string(),
            codes: code_strs.clone(),
            errors,
            invoice_id: inv.and_then(|i| i.header.invoice_id.as_ref().map(|t| t.to_string())),
            supplier: inv.and_then(|i| i.supplier_key()),
            source: doc.source.clone(),
        };
        self.repo.put_rejection(&rec).await?;
        Ok(Outcome::Quarantined { company: company.to_string(), quarantine_key, codes: code_strs })
    }
}

impl<S: DocumentStore + Sync, R: InvoiceRepository + DocumentRepository + MatchStore + Sync, D: CompanyDirectory + Sync> Ingestor<S, R, D> {
    /// A PDF of `company`: kept once by SHA-256 (server-side copy), recorded, and linked to
    /// the company's invoice with its number if that is booked — else it waits for it.
    async fn store_pdf(&self, company: &str, doc: &Doc<'_>, bytes: &[u8]) -> Result<Outcome, IngestError> {
        let document_key = document_key(&self.config.documents_prefix, company, doc.sha);
        self.store.copy(doc.key, &document_key).await?;
        let name = doc.source.attachment.as_deref().unwrap_or_else(|| file_name(doc.key));
        let found = find_invoice_number(Some(name), doc.source.subject.as_deref(), || (self.pdf_text)(bytes));
        let record = DocumentRecord {
            company: company.to_string(),
            content_sha256: doc.sha.to_string(),
            document_key: document_key.clone(),
            source_key: doc.key.to_string(),
            source: doc.source.clone(),
            size: bytes.len() as u64,
            received_at: doc.received_at.to_string(),
            invoice_number: found.as_ref().map(|(n, _)| n.clone()),
            number_from: found.as_ref().map(|(_, f)| *f),
            status: DocumentStatus::AwaitingData,
            invoice_key: None,
            reason: Some(if found.is_some() { AwaitingReason::NoInvoiceYet } else { AwaitingReason::NoInvoiceNumber }),
            reason_detail: None,
        };
        let existing = self.repo.put_document(&record).await?;
        let already = existing.is_some();
        let record = existing.unwrap_or(record);
        let outcome = |status, invoice_key| Outcome::Document {
            company: company.to_string(),
            document_key: record.document_key.clone(),
            status,
            invoice_key,
            already,
        };
        if record.status == DocumentStatus::InvoiceCancelled {
            return Ok(outcome(DocumentStatus::InvoiceCancelled, record.invoice_key.clone()));
        }
        if let (DocumentStatus::Linked, Some(inv)) = (record.status, record.invoice_key.clone()) {
            // Repairs a link a crash left half-done (idempotent).
            self.repo.link(&record, &inv).await?;
            return Ok(outcome(DocumentStatus::Linked, Some(inv)));
        }
        let Some(number) = record.invoice_number.as_deref().map(number_key) else {
            return Ok(outcome(DocumentStatus::AwaitingData, None));
        };
        // The awaiting item first, then the look-up: an invoice booked meanwhile finds it.
        self.repo.put_awaiting(company, &number, &record.content_sha256).await?;
        match self.try_link(&record, &number).await? {
            Some((inv, status)) => Ok(outcome(status, Some(inv))),
            None => Ok(outcome(DocumentStatus::AwaitingData, None)),
        }
    }

    /// Links the document to the company's one invoice with `number`; `Some((key, status))`
    /// when linked (`InvoiceCancelled` when that invoice is cancelled).
    async fn try_link(&self, doc: &DocumentRecord, number: &str) -> Result<Option<(String, DocumentStatus)>, IngestError> {
        let company = doc.company.as_str();
        let mut keys = self.repo.invoices_by_number(company, number).await?;
        keys.sort();
        keys.dedup();
        match keys.as_slice() {
            [] => Ok(None),
            [one] => {
                if self.repo.link(doc, one).await? {
                    // A document arriving for an invoice already cancelled is flagged with it.
                    if let Some(inv) = self.repo.get_invoice(company, one).await? {
                        if inv.status == InvoiceStatus::Cancelled {
                            self.flag_documents_cancelled(company, &inv.documents).await?;
                            return Ok(Some((one.clone(), DocumentStatus::InvoiceCancelled)));
                        }
                    }
                    Ok(Some((one.clone(), DocumentStatus::Linked)))
                } else {
                    Ok(None)
                }
            }
            many => {
                let detail = format!(
                    "{} invoices of the company have the number {number} ({}); the document is not linked to any of them",
                    many.len(),
                    many.join(", ")
                );
                self.repo.set_awaiting_reason(company, &doc.content_sha256, AwaitingReason::AmbiguousNumber, &detail).await?;
                Ok(None)
            }
        }
    }

    /// The documents of a cancelled invoice (its `documents` keys) get `InvoiceCancelled`.
    async fn flag_documents_cancelled(&self, company: &str, document_keys: &[String]) -> Result<(), IngestError> {
        for sha in document_keys.iter().filter_map(|k| sha_of_document_key(k)) {
            if let Some(d) = self.repo.get_document(company, sha).await? {
                self.repo.mark_invoice_cancelled(&d).await?;
            }
        }
        Ok(())
    }

    /// An invoice is being booked: its "by number" item first, then the documents waiting
    /// for that number are linked (idempotent under redelivery).
    async fn link_waiting_documents(&self, company: &str, invoice_id: &str, invoice_key: &str) -> Result<(), IngestError> {
        if invoice_id.trim().is_empty() {
            return Ok(());
        }
        let number = number_key(invoice_id);
        self.repo.put_invoice_number(company, &number, invoice_key).await?;
        for sha in self.repo.awaiting(company, &number).await? {
            if let Some(doc) = self.repo.get_document(company, &sha).await? {
                self.try_link(&doc, &number).await?;
            }
        }
        Ok(())
    }
}

/// The document being ingested.
struct Doc<'a> {
    key: &'a str,
    received_at: &'a str,
    sha: &'a str,
    checked: &'a Checked,
    source: &'a DocumentSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_codes_drop_non_adjacent_repeats_and_keep_order() {
        let i = |c| Issue::new(c, "x");
        let issues = [i(Code::NetMismatch), i(Code::MissingField), i(Code::NetMismatch), i(Code::MissingField), i(Code::DueMismatch)];
        assert_eq!(distinct_codes(&issues), vec![Code::NetMismatch, Code::MissingField, Code::DueMismatch]);
    }
}
