//! Matching as ingestion and PO placing run it: the company's POs an invoice names are read
//! through [`MatchStore`], the invoice is coded and matched ([`match_invoice`]), and the
//! outcome and the invoice's billed summary are stored — at booking time, and again for every
//! invoice naming a PO when that PO is recorded later (invoices are issued on delivery, and a
//! PO may be recorded late): no invoice is left unmatched silently (`no-po` until then).

use std::future::Future;

use super::{code_invoice, invoiced, match_invoice, InvoiceCoding, Invoiced, MatchOutcome, PoIndex, Tolerances};
use crate::core::PortError;
use crate::invoice::cxml::CxmlInvoice;
use crate::invoice::records::InvoiceRecord;
use crate::ordering::records::PoRecord;

/// What matching reads and writes, per company.
pub trait MatchStore {
    /// The company's POs with one of these numbers or placed as one of these Amazon orders
    /// (each once), with what Amazon accepted.
    fn purchase_orders(
        &self,
        company: &str,
        po_numbers: &[String],
        amazon_order_ids: &[String],
    ) -> impl Future<Output = Result<Vec<PoRecord>, PortError>> + Send;
    /// What the company's invoices of this PO billed.
    fn invoiced(&self, company: &str, po_number: &str) -> impl Future<Output = Result<Vec<Invoiced>, PortError>> + Send;
    /// Stores the outcome on the invoice and its billed summary under its PO (idempotent:
    /// both are keyed by the invoice).
    fn record_match(
        &self,
        company: &str,
        header: &InvoiceRecord,
        outcome: &MatchOutcome,
        summary: Option<&Invoiced>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Keys of the company's invoices naming this PO number or one of these Amazon order ids.
    fn invoices_naming(
        &self,
        company: &str,
        po_number: &str,
        amazon_order_ids: &[String],
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// The matching index of some PO records (the refused ones have no PO and are left out).
pub fn index_of(pos: &[PoRecord]) -> PoIndex<'_> {
    let mut index = PoIndex::new();
    for r in pos {
        if let Some(po) = &r.po {
            index.insert(po, r.placed.as_ref());
        }
    }
    index
}

/// The invoice's GL coding from the POs it names (empty when it names none).
pub fn coding_for(inv: &CxmlInvoice, pos: &[PoRecord]) -> Option<InvoiceCoding> {
    let index = index_of(pos);
    (!index.is_empty()).then(|| code_invoice(inv, &index))
}

/// Matches a booked invoice against the POs it names and stores the outcome.
pub async fn match_and_record<M: MatchStore + Sync>(
    store: &M,
    header: &InvoiceRecord,
    inv: &CxmlInvoice,
    pos: &[PoRecord],
    tolerances: &Tolerances,
) -> Result<MatchOutcome, PortError> {
    let index = index_of(pos);
    let summary = invoiced(inv, &index);
    let prior = match &summary {
        Some(s) => store.invoiced(&header.company, &s.po_number).await?,
        None => Vec::new(),
    };
    let outcome = match_invoice(inv, &index, &prior, tolerances);
    store.record_match(&header.company, header, &outcome, summary.as_ref()).await?;
    Ok(outcome)
}

/// What [`rematch_po`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rematched {
    /// `(invoice key, outcome)` of every booked invoice naming the PO.
    pub invoices: Vec<(String, MatchOutcome)>,
}

/// A PO was recorded (placed, or what Amazon accepted changed): every booked invoice of the
/// company naming it is coded and matched again — its journal re-booked with the PO's GL
/// coding (same entry keys: idempotent) and its outcome replaced. Cancelled and half-ingested
/// invoices are left alone. The invoice is read back from its archived document; an Amazon
/// Business import from its stored header and lines ([`crate::import::matching::stored_as_cxml`]),
/// matched without re-booking (it keeps the GL coding of its `businessOrderInfo`).
pub async fn rematch_po<S, R>(
    store: &S,
    repo: &R,
    company: &crate::company::Company,
    po: &PoRecord,
    limits: &crate::invoice::cxml::Limits,
) -> Result<Rematched, PortError>
where
    S: crate::invoice::ports::DocumentStore + Sync,
    R: crate::invoice::ports::InvoiceRepository + MatchStore + Sync,
{
    use crate::invoice::accounting::journal_coded;
    use crate::invoice::records::{entry_records, line_records, InvoiceStatus, BOOKING};
    let mut done = Rematched::default();
    for key in repo.invoices_naming(&company.id, &po.po_number, &po.amazon_order_ids).await? {
        let Some(header) = repo.get_invoice(&company.id, &key).await? else { continue };
        if header.status != InvoiceStatus::Valid {
            continue;
        }
        if crate::import::matching::is_imported(&header) {
            // An Amazon Business import: its archive is the imported JSON, its records are the
            // invoice. Matched from them; it keeps its own GL coding (no re-booking).
            let lines = repo.get_lines(&company.id, &key).await?;
            let inv = crate::import::matching::stored_as_cxml(&header, &lines);
            let pos = repo.purchase_orders(&company.id, &inv.order_ids(), &inv.supplier_order_ids()).await?;
            let outcome = match_and_record(repo, &header, &inv, &pos, &company.tolerances).await?;
            done.invoices.push((key, outcome));
            continue;
        }
        let Some(doc) = store.get(&header.document_key).await? else {
            return Err(PortError(format!("invoice {key} of {}: its document {} is missing", company.id, header.document_key)));
        };
        let checked = crate::invoice::validate::check(&doc.bytes, limits);
        let (Some(inv), Some(totals)) = (&checked.invoice, &checked.totals) else { continue };
        let pos = repo.purchase_orders(&company.id, &inv.order_ids(), &inv.supplier_order_ids()).await?;
        if let Some(coding) = coding_for(inv, &pos) {
            let lines = line_records(inv, &header.invoice_key, &header.currency);
            let booked = journal_coded(inv, totals, &company.chart, &coding);
            // Booked on the invoice's date, as at booking time: the same entries, now coded.
            let date = &header.invoice_date;
            let entries = entry_records(booked, &header.invoice_key, BOOKING, date, date);
            repo.put_details(&header, &lines, &entries).await?;
        }
        let outcome = match_and_record(repo, &header, inv, &pos, &company.tolerances).await?;
        done.invoices.push((key, outcome));
    }
    Ok(done)
}
