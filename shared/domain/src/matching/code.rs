//! Matching exception codes: stable kebab-case spellings, as [`crate::invoice::Code`] has them.

use serde::{Deserialize, Serialize};

/// Why an invoice (or one of its lines) does not match its PO. The kebab-case spelling
/// (`as_str`, serde, `Display`) is the public contract: stored with the match result and
/// printed by `invoicectl match --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum MatchCode {
    /// No PO of the company has the invoice's PO number (`OrderReference@orderID`) or its
    /// Amazon order id (`SupplierOrderInfo@orderID`): yet. Re-run the match when it arrives.
    NoPo,
    /// The invoice line names no line of the PO (`InvoiceDetailItemReference@lineNumber`), or
    /// it belongs to another PO than the one this invoice is matched against.
    UnknownLine,
    /// All invoices of a PO line together bill more than was accepted (or ordered), beyond
    /// the quantity tolerance.
    OverInvoiced,
    /// The unit price differs from the accepted (or expected) one beyond the price tolerance.
    PriceVariance,
    /// The line amount differs from quantity × accepted unit price beyond the amount
    /// tolerance (reported only when the unit price itself is within its tolerance).
    AmountVariance,
    /// The tax differs from the tax Amazon accepted for the billed quantity, or exceeds the
    /// expected tax, beyond the amount tolerance.
    TaxVariance,
    /// The shipping billed so far exceeds the shipping Amazon accepted (or the PO expected)
    /// beyond the amount tolerance.
    ShippingVariance,
    /// The invoice is in another currency than the PO.
    CurrencyMismatch,
    /// The invoice line bills a PO line Amazon rejected entirely (nothing accepted).
    PoRejectedLine,
}

impl MatchCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            MatchCode::NoPo => "no-po",
            MatchCode::UnknownLine => "unknown-line",
            MatchCode::OverInvoiced => "over-invoiced",
            MatchCode::PriceVariance => "price-variance",
            MatchCode::AmountVariance => "amount-variance",
            MatchCode::TaxVariance => "tax-variance",
            MatchCode::ShippingVariance => "shipping-variance",
            MatchCode::CurrencyMismatch => "currency-mismatch",
            MatchCode::PoRejectedLine => "po-rejected-line",
        }
    }
}

impl std::fmt::Display for MatchCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use strum::IntoEnumIterator;

    use super::MatchCode;

    use crate::core::codes::kebab_case as kebab;

    #[test]
    fn the_codes_are_these_each_with_one_kebab_case_spelling() {
        let all: Vec<&str> = MatchCode::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            all,
            [
                "no-po",
                "unknown-line",
                "over-invoiced",
                "price-variance",
                "amount-variance",
                "tax-variance",
                "shipping-variance",
                "currency-mismatch",
                "po-rejected-line"
            ]
        );
        let mut seen = BTreeSet::new();
        for c in MatchCode::iter() {
            assert_eq!(c.as_str(), kebab(&format!("{c:?}")), "{c:?}");
            assert!(seen.insert(c.as_str()), "{c} spelled twice");
            assert_eq!(c.to_string(), c.as_str());
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, serde_json::json!(c.as_str()));
            assert_eq!(serde_json::from_value::<MatchCode>(v).unwrap(), c);
        }
        assert!(serde_json::from_value::<MatchCode>(serde_json::json!("NoPo")).is_err(), "one spelling only");
        assert!(serde_json::from_value::<MatchCode>(serde_json::json!("no_po")).is_err(), "one spelling only");
    }
}
