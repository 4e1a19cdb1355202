//! The daily Amazon Business import: every finalised purchase invoice of a connected company
//! arrives by itself, with its lines, its PDF and its entries — filed as a purchase (category
//! Purchases), supplier "Amazon Business", status "To process".
//!
//! Pure, like the rest of the domain: the adapters call the Reconciliation and Document APIs
//! and the store; everything here takes their answers and the time as inputs.
//!
//! - [`settings`]: the company's import settings (auto import, start date, the
//!   `businessOrderInfo` keys of its GL code and cost centre) and the start-date rule.
//! - [`amounts`], [`answer`]: the Reconciliation API's answers read leniently, amounts by their
//!   digits; [`ParseError`] names the field of a bad value.
//! - [`batch`]: the requests (the feed-date query, bodies of at most 25 order lines or ids).
//! - [`mapping`]: a page's transactions grouped into invoices, each mapped to the company's
//!   purchase invoice — records, lines, balanced journal — under the supplier key of Amazon
//!   Business's cXML e-invoices; finding the same invoice already stored.
//! - [`matching`](mod@matching): an imported invoice as the matching engine reads invoices
//!   ([`matching::as_cxml`]): matched against the company's POs as its cXML e-invoices are.
//! - [`purchase`]: the filing an imported invoice and its lines carry on the stored records.
//! - [`reconcile`](mod@reconcile): an import against the stored invoice of the same number: complete or flag.
//! - [`watermark`]: the feed-date position of a company, resumable runs, backfill.
//! - [`pdf`]: the `GET_AB_INVOICE_PDF` report request and its state machine.
//! - [`codes`]: the stable codes ([`ImportCode`]) of what is refused, flagged or warned about.
//!
//! One page, as the import function runs it: [`watermark::ImportCursor::next_run`] →
//! `getTransactions` ([`parse_transactions_page`]) → [`mapping::order_line_items`] in
//! [`batch::invoice_details_requests`] → [`parse_invoice_details`] → [`mapping::assemble`] →
//! [`batch::payment_details_requests`] → [`parse_payment_details`] → per invoice
//! [`mapping::map_invoice`], then claim it under its key (or [`reconcile::reconcile`] with the
//! stored one found by [`mapping::same_invoice`]) and its [`pdf::PdfJob`] →
//! [`watermark::transaction_results`] → [`watermark::advance`], stored before the next page.

pub mod amounts;
pub mod answer;
pub mod batch;
pub mod codes;
mod json;
pub mod mapping;
pub mod matching;
pub mod pdf;
pub mod ports;
pub mod purchase;
pub mod reconcile;
pub mod schedule;
pub mod settings;
pub mod watermark;
pub mod workflow;

pub use answer::{parse_invoice_details, parse_payment_details, parse_transactions_page, TransactionsPage};
pub use codes::{ImportCode, ImportProblem};
pub use json::ParseError;
pub use mapping::{map_invoice, ImportedInvoice, AMAZON_BUSINESS_SUPPLIER};
pub use reconcile::{reconcile, Reconciliation};
pub use settings::{check_start_date, ImportSettings};
pub use watermark::{advance, ImportCursor};

/// A JSON answer of `shared/domain/tests/fixtures/import/`.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
