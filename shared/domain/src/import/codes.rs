//! Why an Amazon Business invoice is not imported as it came, or what about it needs a person:
//! a stable code ([`ImportCode`]) and a message naming the invoice, the field, the values
//! ([`ImportProblem`]).
//!
//! Each code has exactly one spelling, in kebab-case (`as_str`, `Display`, `FromStr`, serde). It
//! is a public contract: stored with a flagged or refused import and printed by the CLI. Never
//! rename a spelling; add a new variant instead.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

/// What is wrong with an import, or with one of its settings. Spelled in kebab-case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, EnumIter, IntoStaticStr, AsRefStr, Display, EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ImportCode {
    /// `start-date-too-early`
    StartDateTooEarly,
    /// `start-date-in-future`
    StartDateInFuture,
    /// `missing-invoice-number`
    MissingInvoiceNumber,
    /// `missing-invoice-date`
    MissingInvoiceDate,
    /// `before-start-date`
    BeforeStartDate,
    /// `not-finalised`
    NotFinalised,
    /// `ambiguous-invoice`
    AmbiguousInvoice,
    /// `missing-currency`
    MissingCurrency,
    /// `currency-mismatch`
    CurrencyMismatch,
    /// `no-lines`
    NoLines,
    /// `amount-overflow`
    AmountOverflow,
    /// `line-total-mismatch`
    LineTotalMismatch,
    /// `invoice-total-mismatch`
    InvoiceTotalMismatch,
    /// `payment-details-error`
    PaymentDetailsError,
    /// `totals-differ`
    TotalsDiffer,
    /// `existing-cancelled`
    ExistingCancelled,
    /// `missing-marketplace`
    MissingMarketplace,
    /// `missing-order-line`
    MissingOrderLine,
    /// `report-fatal`
    ReportFatal,
    /// `report-cancelled`
    ReportCancelled,
    /// `report-timeout`
    ReportTimeout,
    /// `not-a-pdf`
    NotAPdf,
}

impl ImportCode {
    /// The stable spelling (`start-date-too-early`).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// What the code means and what to do, for a person.
    pub fn description(&self) -> &'static str {
        match self {
            ImportCode::StartDateTooEarly => {
                "the import start date is more than 30 days before the Amazon Business connection; older invoices need a history migration"
            }
            ImportCode::StartDateInFuture => "the import start date is after today",
            ImportCode::MissingInvoiceNumber => "Amazon gave no invoice number for the purchase: it cannot be filed",
            ImportCode::MissingInvoiceDate => "Amazon gave no invoice date (and no transaction date) for the invoice",
            ImportCode::BeforeStartDate => "the invoice was issued before the import start date: not imported",
            ImportCode::NotFinalised => "the invoice is not final yet (no invoice for the order line): it is imported on a later day",
            ImportCode::AmbiguousInvoice => {
                "an order line belongs to several invoices of the same kind and the transaction names none of them"
            }
            ImportCode::MissingCurrency => "an amount of the invoice has no currency and the invoice names none",
            ImportCode::CurrencyMismatch => "the amounts of one invoice are in different currencies",
            ImportCode::NoLines => "the invoice has no line Amazon reported a purchase for",
            ImportCode::AmountOverflow => "the amounts of the invoice do not fit a decimal when added up",
            ImportCode::LineTotalMismatch => {
                "a line's total from Amazon is not its principal plus its charges, less its discount (with or without its tax)"
            }
            ImportCode::InvoiceTotalMismatch => "the invoice total Amazon states is not the total of the lines imported for it",
            ImportCode::PaymentDetailsError => "Amazon could not give the payment status and due date of the invoice",
            ImportCode::TotalsDiffer => {
                "the invoice is already stored (by cXML or e-mail) with another total: both versions are kept, nothing is booked twice"
            }
            ImportCode::ExistingCancelled => "the invoice is already stored and was cancelled: the import is kept for review, not booked",
            ImportCode::MissingMarketplace => "the invoice's transactions name no marketplace, which the PDF report request needs",
            ImportCode::MissingOrderLine => "the invoice has no complete order line (order, line, shipment) to ask its PDF by",
            ImportCode::ReportFatal => "Amazon aborted the PDF report (FATAL)",
            ImportCode::ReportCancelled => "Amazon cancelled the PDF report (no document for the invoice)",
            ImportCode::ReportTimeout => "the PDF report was still not done after the last poll",
            ImportCode::NotAPdf => "the downloaded report document is not a PDF",
        }
    }

    /// Codes that stop the invoice from being booked (the others are kept on it as warnings).
    pub fn blocks_booking(&self) -> bool {
        matches!(
            self,
            ImportCode::MissingInvoiceNumber
                | ImportCode::MissingInvoiceDate
                | ImportCode::BeforeStartDate
                | ImportCode::NotFinalised
                | ImportCode::AmbiguousInvoice
                | ImportCode::MissingCurrency
                | ImportCode::CurrencyMismatch
                | ImportCode::NoLines
                | ImportCode::AmountOverflow
        )
    }
}

/// One problem of an import: the code and a message naming the invoice, the field, the values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportProblem {
    pub code: ImportCode,
    pub message: String,
}

impl ImportProblem {
    pub fn new(code: ImportCode, message: impl Into<String>) -> Self {
        ImportProblem { code, message: message.into() }
    }
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ImportProblem {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::str::FromStr;

    use strum::IntoEnumIterator;

    use super::*;

    use crate::core::codes::kebab_case as kebab;

    #[test]
    fn the_code_list() {
        let all: Vec<&str> = ImportCode::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            all,
            [
                "start-date-too-early",
                "start-date-in-future",
                "missing-invoice-number",
                "missing-invoice-date",
                "before-start-date",
                "not-finalised",
                "ambiguous-invoice",
                "missing-currency",
                "currency-mismatch",
                "no-lines",
                "amount-overflow",
                "line-total-mismatch",
                "invoice-total-mismatch",
                "payment-details-error",
                "totals-differ",
                "existing-cancelled",
                "missing-marketplace",
                "missing-order-line",
                "report-fatal",
                "report-cancelled",
                "report-timeout",
                "not-a-pdf",
            ]
        );
    }

    #[test]
    fn every_code_has_one_unique_kebab_case_spelling_everywhere() {
        let mut seen = BTreeSet::new();
        for c in ImportCode::iter() {
            let s = c.as_str();
            assert_eq!(s, kebab(&format!("{c:?}")), "{c:?}");
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{s}");
            assert!(seen.insert(s), "{s} spelled twice");
            assert_eq!(c.to_string(), s);
            assert_eq!(c.as_ref(), s);
            assert_eq!(ImportCode::from_str(s).unwrap(), c);
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, serde_json::json!(s));
            assert_eq!(serde_json::from_value::<ImportCode>(v).unwrap(), c);
            assert!(!c.description().is_empty());
        }
        assert!(ImportCode::from_str("StartDateTooEarly").is_err(), "one spelling only");
        assert!(serde_json::from_value::<ImportCode>(serde_json::json!("start_date_too_early")).is_err(), "one spelling only");
    }

    #[test]
    fn a_problem_is_code_and_message() {
        let p = ImportProblem::new(ImportCode::NoLines, "invoice X has no lines");
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"code": "no-lines", "message": "invoice X has no lines"}));
        assert_eq!(p.to_string(), "no-lines: invoice X has no lines");
        assert!(ImportCode::NoLines.blocks_booking());
        assert!(!ImportCode::LineTotalMismatch.blocks_booking(), "a warning: booked, kept for review");
    }
}
