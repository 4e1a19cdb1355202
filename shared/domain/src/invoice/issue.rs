//! Validation findings: a stable kebab-case code and a message a clerk can act on.

use serde::{Deserialize, Serialize};

/// Stable error codes. The kebab-case spelling (`as_str`) is the public contract: it is stored
/// in DynamoDB, written in quarantine reasons and printed by `invoicectl check --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    NotXml,
    MalformedXml,
    NotAnInvoice,
    ForbiddenEntity,
    TooLarge,
    InvalidEncoding,
    MissingField,
    InvalidAmount,
    InvalidCurrency,
    CurrencyMismatch,
    InvalidDate,
    InvalidLineNumber,
    InvalidPurpose,
    DuplicateLineNumber,
    NegativeQuantity,
    LineAmountMismatch,
    SubtotalMismatch,
    TaxMismatch,
    NetMismatch,
    DueMismatch,
    /// Same sender + invoiceID already stored with different content.
    DuplicateInvoice,
    /// `operation="delete"` for an invoice that was never stored (or not by this sender).
    UnknownInvoice,
    /// `operation="delete"` for an invoice that was already cancelled by another document.
    AlreadyCancelled,
    /// No company could be found for the document (no company prefix, and its `To`
    /// credential is registered to no company): kept under the unassigned quarantine.
    UnknownCompany,
    /// Dropped under one company's prefix but addressed (`To`) to an identity another company
    /// has registered.
    CompanyMismatch,
}

impl Code {
    pub fn as_str(&self) -> &'static str {
        match self {
            Code::NotXml => "not-xml",
            Code::MalformedXml => "malformed-xml",
            Code::NotAnInvoice => "not-an-invoice",
            Code::ForbiddenEntity => "forbidden-entity",
            Code::TooLarge => "too-large",
            Code::InvalidEncoding => "invalid-encoding",
            Code::MissingField => "missing-field",
            Code::InvalidAmount => "invalid-amount",
            Code::InvalidCurrency => "invalid-currency",
            Code::CurrencyMismatch => "currency-mismatch",
            Code::InvalidDate => "invalid-date",
            Code::InvalidLineNumber => "invalid-line-number",
            Code::InvalidPurpose => "invalid-purpose",
            Code::DuplicateLineNumber => "duplicate-line-number",
            Code::NegativeQuantity => "negative-quantity",
            Code::LineAmountMismatch => "line-amount-mismatch",
            Code::SubtotalMismatch => "subtotal-mismatch",
            Code::TaxMismatch => "tax-mismatch",
            Code::NetMismatch => "net-mismatch",
            Code::DueMismatch => "due-mismatch",
            Code::DuplicateInvoice => "duplicate-invoice",
            Code::UnknownInvoice => "unknown-invoice",
            Code::AlreadyCancelled => "already-cancelled",
            Code::UnknownCompany => "unknown-company",
            Code::CompanyMismatch => "company-mismatch",
        }
    }

    /// Codes after which nothing of the document could be read.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Code::NotXml | Code::MalformedXml | Code::NotAnInvoice | Code::ForbiddenEntity | Code::TooLarge | Code::InvalidEncoding
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: Code,
    pub message: String,
}

impl Issue {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Issue { code, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_spelling_matches_as_str() {
        for c in [
            Code::NotXml,
            Code::MalformedXml,
            Code::NotAnInvoice,
            Code::ForbiddenEntity,
            Code::TooLarge,
            Code::InvalidEncoding,
            Code::MissingField,
            Code::InvalidAmount,
            Code::InvalidCurrency,
            Code::CurrencyMismatch,
            Code::InvalidDate,
            Code::InvalidLineNumber,
            Code::InvalidPurpose,
            Code::DuplicateLineNumber,
            Code::NegativeQuantity,
            Code::LineAmountMismatch,
            Code::SubtotalMismatch,
            Code::TaxMismatch,
            Code::NetMismatch,
            Code::DueMismatch,
            Code::DuplicateInvoice,
            Code::UnknownInvoice,
            Code::AlreadyCancelled,
            Code::UnknownCompany,
            Code::CompanyMismatch,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
        }
    }
}
