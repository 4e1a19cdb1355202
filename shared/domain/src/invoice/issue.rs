//! Validation findings: a stable kebab-case code and a message a clerk can act on.

use serde::{Deserialize, Serialize};

/// Stable error codes. The kebab-case spelling (`as_str`) is the public contract: it is stored
/// in DynamoDB, written in quarantine reasons and printed by `invoicectl check --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, strum::EnumIter)]
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
    /// The invoice names an attachment (`<Attachment><URL>cid:…`) that the POST does not
    /// carry as a part with that Content-ID.
    MissingAttachment,
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
            Code::MissingAttachment => "missing-attachment",
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
    use std::collections::BTreeSet;

    use strum::IntoEnumIterator;

    use super::*;

    use crate::core::codes::kebab_case as kebab;

    #[test]
    fn every_code_has_one_unique_kebab_case_spelling() {
        let mut seen = BTreeSet::new();
        for c in Code::iter() {
            let s = c.as_str();
            assert_eq!(s, kebab(&format!("{c:?}")), "{c:?}");
            assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{c:?}: {s}");
            assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"), "{c:?}: {s}");
            assert!(seen.insert(s), "{s} spelled twice");
        }
        assert_eq!(seen.len(), Code::iter().count());
        assert!(seen.len() >= 23, "the walk covers every code");
    }

    #[test]
    fn every_code_round_trips_through_display_and_serde() {
        for c in Code::iter() {
            assert_eq!(c.to_string(), c.as_str());
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, serde_json::json!(c.as_str()), "{c:?}");
            assert_eq!(serde_json::from_value::<Code>(v).unwrap(), c);
            let issue = Issue::new(c, "m");
            let back: Issue = serde_json::from_str(&serde_json::to_string(&issue).unwrap()).unwrap();
            assert_eq!(back, issue);
        }
        assert!(serde_json::from_value::<Code>(serde_json::json!("NotXml")).is_err(), "one spelling only");
        assert!(serde_json::from_value::<Code>(serde_json::json!("not_xml")).is_err(), "one spelling only");
    }
}
