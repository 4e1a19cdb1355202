//! An imported invoice that the company already has (the same supplier and number, come by
//! cXML, e-mail or an earlier import): what to add to the stored one, or why a person must
//! look at both. Pure; the stored one is never booked again.
//!
//! They agree when they are in the same currency and their totals (net) are equal to the
//! cent — no tolerance. Then the stored invoice is completed with what it lacks: the imported
//! lines it has no line for (an ASIN of an Amazon order it does not list), the PDF when it has
//! no document, the filing and the payment status and due date Amazon gives. Else the import
//! is flagged with both totals and both versions are kept; nothing is booked.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::codes::{ImportCode, ImportProblem};
use super::mapping::ImportedInvoice;
use super::purchase::Purchase;
use crate::invoice::records::{InvoiceRecord, InvoiceStatus, LineRecord};

/// The stored invoice, as read by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub record: &'a InvoiceRecord,
    pub lines: &'a [LineRecord],
}

/// What to add to a stored invoice the import agrees with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The stored invoice's key (its supplier spelling, not necessarily the import's).
    pub invoice_key: String,
    /// Imported lines it has no line for, keyed to it and numbered after its last line.
    pub add_lines: Vec<LineRecord>,
    /// It has no document: request the import's PDF and link it.
    pub fetch_pdf: bool,
    /// Its filing with the import's payment status and due date, when that changes it.
    pub purchase: Option<Purchase>,
}

impl Completion {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.add_lines.is_empty() && !self.fetch_pdf && self.purchase.is_none()
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciliation {
    /// They agree: complete the stored invoice (possibly with nothing).
    Complete(Completion),
    /// They disagree (`totals-differ`) or the stored one is cancelled (`existing-cancelled`):
    /// keep the import beside it for a person, book nothing.
    Flag { invoice_key: String, problem: ImportProblem, stored_total: String, imported_total: String },
    /// The stored invoice is still being written by another delivery: decide again later.
    Busy { invoice_key: String },
}

fn channel(r: &InvoiceRecord) -> &'static str {
    r.source.channel.as_str()
}

fn amount(text: &str) -> Option<Decimal> {
    crate::core::money::parse_amount(text).ok()
}

/// The identity of a line for "does the stored invoice have it": its ASIN (supplier part id)
/// and its Amazon order, lower-cased and trimmed.
fn line_identity(l: &LineRecord) -> (String, String) {
    let norm = |s: &Option<String>| s.as_deref().unwrap_or("").trim().to_lowercase();
    (norm(&l.supplier_part_id), norm(&l.supplier_order_id))
}

/// Decides what an import does to the stored invoice with the same supplier and number.
pub fn reconcile(stored: Stored<'_>, imported: &ImportedInvoice) -> Reconciliation {
    let s = stored.record;
    let i = &imported.record;
    let key = s.invoice_key.clone();
    let stored_total = format!("{} {}", s.net, s.currency);
    let imported_total = format!("{} {}", i.net, i.currency);
    let flag = |code: ImportCode, message: String| Reconciliation::Flag {
        invoice_key: key.clone(),
        problem: ImportProblem::new(code, message),
        stored_total: stored_total.clone(),
        imported_total: imported_total.clone(),
    };
    match s.status {
        InvoiceStatus::Ingesting => return Reconciliation::Busy { invoice_key: key },
        InvoiceStatus::Cancelled => {
            return flag(
                ImportCode::ExistingCancelled,
                format!(
                    "invoice {} is stored as {key} (by {}) and was cancelled on {}; the Amazon Business import ({imported_total}) is kept for review, nothing is booked",
                    i.invoice_id,
                    channel(s),
                    s.cancelled_at.as_deref().unwrap_or("?")
                ),
            );
        }
        InvoiceStatus::Valid => {}
    }
    let agree = s.currency == i.currency && matches!((amount(&s.net), amount(&i.net)), (Some(a), Some(b)) if a == b);
    if !agree {
        return flag(
            ImportCode::TotalsDiffer,
            format!(
                "invoice {} is stored as {key} (by {}) with a total of {stored_total}, but the Amazon Business import totals {imported_total}; both versions are kept, nothing is booked twice",
                i.invoice_id,
                channel(s)
            ),
        );
    }
    // The stored lines each cover one imported line with the same ASIN and order.
    let mut have: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in stored.lines {
        *have.entry(line_identity(l)).or_default() += 1;
    }
    let mut next = stored.lines.iter().map(|l| l.line_number).max().unwrap_or(0);
    let mut add_lines = Vec::new();
    for l in &imported.lines {
        match have.get_mut(&line_identity(l)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                next += 1;
                add_lines.push(LineRecord { invoice_key: key.clone(), line_number: next, ..l.clone() });
            }
        }
    }
    let purchase = match (&s.purchase, &i.purchase) {
        (_, None) => None,
        (None, Some(p)) => Some(p.clone()),
        (Some(old), Some(new)) => {
            let mut merged = old.clone();
            if new.due_date.is_some() {
                merged.due_date = new.due_date.clone();
            }
            if new.payment_status.is_some() {
                merged.payment_status = new.payment_status.clone();
            }
            (merged != *old).then_some(merged)
        }
    };
    Reconciliation::Complete(Completion { invoice_key: key, add_lines, fetch_pdf: s.documents.is_empty(), purchase })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::import::answer::{parse_invoice_details, parse_payment_details, parse_transactions_page, PaymentStatus};
    use crate::import::fixture;
    use crate::import::mapping::{assemble, map_invoice, ImportContext};
    use crate::import::settings::ImportSettings;
    use crate::invoice::accounting::Chart;
    use crate::invoice::cxml::Limits;
    use crate::invoice::records::{invoice_record, line_records, Channel};

    fn imported(number: &str, with_payment: bool) -> ImportedInvoice {
        let mut txs = parse_transactions_page(&fixture("transactions-page-1.json")).unwrap().transactions;
        txs.extend(parse_transactions_page(&fixture("transactions-page-2.json")).unwrap().transactions);
        let details = parse_invoice_details(&fixture("invoice-details.json")).unwrap();
        let src = assemble(&txs, &details).invoices.into_iter().find(|i| i.number == number).unwrap();
        let payments = parse_payment_details(&fixture("payment-details.json")).unwrap();
        let pay = payments.iter().find(|p| p.invoice_id.as_deref() == Some(number)).filter(|_| with_payment);
        let (chart, settings) = (Chart::default(), ImportSettings::default());
        let ctx = ImportContext {
            company: "acme",
            chart: &chart,
            settings: &settings,
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            received_at: "2026-03-03T07:00:00.000Z",
            archive_prefix: "archive/",
        };
        map_invoice(&src, pay, &ctx).unwrap()
    }

    /// The same invoice as Amazon Business's cXML e-invoice would store it (same supplier key).
    fn stored_by_cxml(net: &str, with_lines: bool) -> (InvoiceRecord, Vec<LineRecord>) {
        let imp = imported("FR5001ABC1", false);
        let mut r = imp.record.clone();
        r.net = net.into();
        r.due = net.into();
        r.status = InvoiceStatus::Valid;
        r.source.channel = Channel::Https;
        r.purchase = None;
        r.documents = vec!["documents/acme/abc.pdf".into()];
        let lines =
            if with_lines { imp.lines.iter().map(|l| LineRecord { amazon: None, ..l.clone() }).take(1).collect() } else { Vec::new() };
        (r, lines)
    }

    #[test]
    fn agreeing_totals_complete_the_stored_invoice() {
        let imp = imported("FR5001ABC1", true);
        let (mut rec, lines) = stored_by_cxml("203.350", true);
        rec.invoice_key = "networkid:AN01011737571#FR5001ABC1".into();
        let Reconciliation::Complete(c) = reconcile(Stored { record: &rec, lines: &lines }, &imp) else { panic!() };
        assert_eq!(c.invoice_key, "networkid:AN01011737571#FR5001ABC1", "the stored spelling");
        assert_eq!(c.add_lines.len(), 1, "the chair is missing, the pencils are there");
        assert_eq!(c.add_lines[0].supplier_part_id.as_deref(), Some("B000FURN01"));
        assert_eq!((c.add_lines[0].line_number, c.add_lines[0].invoice_key.as_str()), (2, "networkid:AN01011737571#FR5001ABC1"));
        assert!(!c.fetch_pdf, "it has its PDF");
        let p = c.purchase.unwrap();
        assert_eq!((p.due_date.as_deref(), p.payment_status), (Some("2026-03-31"), Some(PaymentStatus::Issued)));
    }

    #[test]
    fn a_header_only_invoice_gets_every_line_and_the_pdf() {
        let imp = imported("FR5001ABC1", true);
        let (mut rec, lines) = stored_by_cxml("203.35", false);
        rec.documents.clear();
        let Reconciliation::Complete(c) = reconcile(Stored { record: &rec, lines: &lines }, &imp) else { panic!() };
        assert_eq!(c.add_lines.iter().map(|l| l.line_number).collect::<Vec<_>>(), vec![1, 2]);
        assert!(c.fetch_pdf);
    }

    #[test]
    fn the_same_import_again_only_updates_its_payment_status() {
        let mut first = imported("FR5001ABC1", false);
        first.record.status = InvoiceStatus::Valid;
        first.record.documents = vec!["documents/acme/x.pdf".into()];
        let again = imported("FR5001ABC1", false);
        let Reconciliation::Complete(c) = reconcile(Stored { record: &first.record, lines: &first.lines }, &again) else { panic!() };
        assert!(c.is_empty(), "{c:?}");
        let paid = imported("FR5001ABC1", true);
        let Reconciliation::Complete(c) = reconcile(Stored { record: &first.record, lines: &first.lines }, &paid) else { panic!() };
        assert!(c.add_lines.is_empty() && !c.fetch_pdf);
        assert_eq!(c.purchase.unwrap().payment_status, Some(PaymentStatus::Issued));
    }

    #[test]
    fn different_totals_are_flagged_naming_both() {
        let imp = imported("FR5001ABC1", true);
        let (rec, lines) = stored_by_cxml("200.00", true);
        let r = reconcile(Stored { record: &rec, lines: &lines }, &imp);
        let Reconciliation::Flag { problem, stored_total, imported_total, invoice_key } = r else { panic!("{r:?}") };
        assert_eq!(problem.code, ImportCode::TotalsDiffer);
        assert_eq!((stored_total.as_str(), imported_total.as_str()), ("200.00 EUR", "203.35 EUR"));
        assert!(problem.message.contains("200.00 EUR") && problem.message.contains("203.35 EUR"), "{}", problem.message);
        assert!(problem.message.contains("(by https)") && problem.message.contains("nothing is booked twice"));
        assert_eq!(invoice_key, "NetworkID:AN01011737571#FR5001ABC1");
        // One cent is a difference; another currency too.
        let (rec, lines) = stored_by_cxml("203.36", true);
        assert!(matches!(reconcile(Stored { record: &rec, lines: &lines }, &imp), Reconciliation::Flag { .. }));
        let (mut rec, lines) = stored_by_cxml("203.35", true);
        rec.currency = "USD".into();
        assert!(matches!(reconcile(Stored { record: &rec, lines: &lines }, &imp), Reconciliation::Flag { .. }));
    }

    #[test]
    fn a_cancelled_or_busy_stored_invoice_is_not_completed() {
        let imp = imported("FR5001ABC1", true);
        let (mut rec, lines) = stored_by_cxml("203.35", true);
        rec.status = InvoiceStatus::Cancelled;
        rec.cancelled_at = Some("2026-03-02T10:00:00Z".into());
        let r = reconcile(Stored { record: &rec, lines: &lines }, &imp);
        assert!(matches!(r, Reconciliation::Flag { ref problem, .. } if problem.code == ImportCode::ExistingCancelled), "{r:?}");
        rec.status = InvoiceStatus::Ingesting;
        assert!(matches!(reconcile(Stored { record: &rec, lines: &lines }, &imp), Reconciliation::Busy { .. }));
    }

    #[test]
    fn the_real_cxml_sample_of_amazon_business_agrees_with_its_import() {
        // s01 is Amazon Business's e-invoice 1QX7ZK4MPL2T: its supplier key is the import's.
        let p =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples/s01-amazon-business-two-sellers.xml");
        let c = crate::invoice::check(&std::fs::read(p).unwrap(), &Limits::default());
        let (inv, totals) = (c.invoice.unwrap(), c.totals.unwrap());
        let mut rec = invoice_record("acme", &inv, &totals, "sha", "archive/x.xml", "incoming/acme/x.xml", "t");
        rec.status = InvoiceStatus::Valid;
        assert_eq!(rec.invoice_key, crate::import::mapping::imported_invoice_key("1QX7ZK4MPL2T"));
        let lines = line_records(&inv, &rec.invoice_key, &rec.currency);
        let mut imp = imported("FR5001ABC1", true);
        imp.record.invoice_id = "1QX7ZK4MPL2T".into();
        imp.record.currency = rec.currency.clone();
        imp.record.net = rec.net.clone();
        let r = reconcile(Stored { record: &rec, lines: &lines }, &imp);
        let Reconciliation::Complete(c) = r else { panic!("{r:?}") };
        assert!(c.fetch_pdf, "the cXML came without a PDF");
        assert!(c.purchase.is_some(), "it gets its filing and payment status");
    }
}
