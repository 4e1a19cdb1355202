//! The daily Amazon Business import: every finalised purchase invoice of a connected company
//! arrives by itself, with its lines, its PDF and its entries.
//!
//! - [`settings`]: the company's import settings and the start-date rule.
//! - [`amounts`], [`answer`]: the Reconciliation API's answers read leniently, amounts by their digits.
//! - [`codes`]: the stable codes ([`ImportCode`]) of what is refused, flagged or warned about.

pub mod amounts;
pub mod answer;
pub mod batch;
pub mod codes;
mod json;
pub mod mapping;
pub mod purchase;
pub mod reconcile;
pub mod settings;
pub mod watermark;

pub use answer::{parse_invoice_details, parse_payment_details, parse_transactions_page};
pub use codes::{ImportCode, ImportProblem};
pub use json::ParseError;
pub use settings::{check_start_date, ImportSettings};

/// A JSON answer of `shared/domain/tests/fixtures/import/`.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
