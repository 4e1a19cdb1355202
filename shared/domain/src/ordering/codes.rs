//! Why a PO is refused before anything is sent to Amazon: a stable code ([`OrderCode`]) and a
//! message naming the line, the field and the value ([`Problem`]).
//!
//! Each code has exactly one spelling, in kebab-case (`as_str`, `Display`, `FromStr`, serde). It
//! is a public contract: printed by `invoicectl order build` and stored with a refused PO. Never
//! rename a spelling; add a new variant instead.

use serde::{Deserialize, Serialize};
use strum::{AsRefStr, Display, EnumIter, EnumString, IntoStaticStr};

/// Why a PO cannot become a `placeOrder` body. Spelled in kebab-case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, EnumIter, IntoStaticStr, AsRefStr, Display, EnumString,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum OrderCode {
    /// `missing-po-number`
    MissingPoNumber,
    /// `missing-external-id`
    MissingExternalId,
    /// `missing-currency`
    MissingCurrency,
    /// `invalid-currency`
    InvalidCurrency,
    /// `currency-mismatch`
    CurrencyMismatch,
    /// `missing-buying-group`
    MissingBuyingGroup,
    /// `missing-buyer-email`
    MissingBuyerEmail,
    /// `invalid-email`
    InvalidEmail,
    /// `missing-region`
    MissingRegion,
    /// `unknown-region`
    UnknownRegion,
    /// `missing-address`
    MissingAddress,
    /// `missing-address-id`
    MissingAddressId,
    /// `incomplete-address`
    IncompleteAddress,
    /// `invalid-country-code`
    InvalidCountryCode,
    /// `invalid-date`
    InvalidDate,
    /// `no-lines`
    NoLines,
    /// `too-many-lines`
    TooManyLines,
    /// `non-numeric-line-id`
    NonNumericLineId,
    /// `duplicate-line-number`
    DuplicateLineNumber,
    /// `missing-asin`
    MissingAsin,
    /// `invalid-asin`
    InvalidAsin,
    /// `invalid-quantity`
    InvalidQuantity,
    /// `quantity-below-one`
    QuantityBelowOne,
    /// `missing-amount`
    MissingAmount,
    /// `invalid-amount`
    InvalidAmount,
    /// `negative-amount`
    NegativeAmount,
    /// `line-subtotal-mismatch`
    LineSubtotalMismatch,
    /// `order-subtotal-mismatch`
    OrderSubtotalMismatch,
    /// `distribution-mismatch`
    DistributionMismatch,
    /// `missing-accounting-name`
    MissingAccountingName,
    /// `missing-segments`
    MissingSegments,
    /// `too-many-segments`
    TooManySegments,
    /// `invalid-segment`
    InvalidSegment,
    /// `too-long`
    TooLong,
}

impl OrderCode {
    /// The stable spelling (`non-numeric-line-id`).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// What the code means and what to fix, for a person.
    pub fn description(&self) -> &'static str {
        match self {
            OrderCode::MissingPoNumber => "the PO has no po_number (sent as the PurchaseOrderNumber attribute)",
            OrderCode::MissingExternalId => "the PO has no external_id (the order's externalId, the same on every retry of the PO)",
            OrderCode::MissingCurrency => "the PO has no currency",
            OrderCode::InvalidCurrency => "a currency is not an ISO 4217 code",
            OrderCode::CurrencyMismatch => "a line's currency differs from the order's (one placeOrder request has one currency)",
            OrderCode::MissingBuyingGroup => "the PO has no buying_group_id (the Amazon Business group, BuyingGroupReference)",
            OrderCode::MissingBuyerEmail => "the PO has no buyer_email (the ordering user, BuyerReference)",
            OrderCode::InvalidEmail => "the buyer e-mail is not an e-mail address",
            OrderCode::MissingRegion => "the PO has no region (the Amazon Business store: US, DE, UK, …)",
            OrderCode::UnknownRegion => "the region is not one of the Amazon Business stores DE FR UK IT ES IN US CA MX JP AU",
            OrderCode::MissingAddress => "the PO has no ship_to or no bill_to address",
            OrderCode::MissingAddressId => "an address has no address_id (the ExternalAddress id returned on the e-invoice)",
            OrderCode::IncompleteAddress => {
                "an address lacks a field Amazon requires: full_name, address_line1, city, postal_code, country_code (state_or_region in the US)"
            }
            OrderCode::InvalidCountryCode => "a country code is not two upper-case letters (ISO 3166 alpha-2: US, DE)",
            OrderCode::InvalidDate => "the requested delivery date is not a calendar date YYYY-MM-DD",
            OrderCode::NoLines => "the PO has no lines",
            OrderCode::TooManyLines => "the PO has more lines than one placeOrder request carries (50)",
            OrderCode::NonNumericLineId => {
                "a line number is missing or not all digits (letters, spaces, empty): it would break the e-invoice's line reference"
            }
            OrderCode::DuplicateLineNumber => "two lines have the same line number (0020 and 20 are the same line)",
            OrderCode::MissingAsin => "a line has no asin (the product to order)",
            OrderCode::InvalidAsin => "an asin is not 10 upper-case letters or digits",
            OrderCode::InvalidQuantity => "a line's quantity is missing or not a whole number",
            OrderCode::QuantityBelowOne => "a line's quantity is below 1",
            OrderCode::MissingAmount => "an amount the order needs is missing (expected unit price, expected subtotal, distribution charge)",
            OrderCode::InvalidAmount => "an amount is not a plain decimal number",
            OrderCode::NegativeAmount => "an amount is negative",
            OrderCode::LineSubtotalMismatch => "a line's expected subtotal is not its quantity times its expected unit price",
            OrderCode::OrderSubtotalMismatch => "the order's expected subtotal is not the sum of its lines' expected subtotals",
            OrderCode::DistributionMismatch => "a line's distribution charges do not add up to its expected subtotal",
            OrderCode::MissingAccountingName => "a distribution has no accounting_name",
            OrderCode::MissingSegments => "a distribution has no accounting segments (at least 1)",
            OrderCode::TooManySegments => "a distribution has more than 15 accounting segments",
            OrderCode::InvalidSegment => "an accounting segment has an empty id, type or description",
            OrderCode::TooLong => "a text is longer than the Ordering API accepts for that field",
        }
    }
}

/// One reason a PO is refused: the code and a message naming the line, the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Problem {
    pub code: OrderCode,
    pub message: String,
}

impl Problem {
    pub fn new(code: OrderCode, message: impl Into<String>) -> Self {
        Problem { code, message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::str::FromStr;

    use strum::IntoEnumIterator;

    use super::*;

    use crate::core::codes::kebab_case as kebab;

    #[test]
    fn the_code_list() {
        let all: Vec<&str> = OrderCode::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            all,
            [
                "missing-po-number",
                "missing-external-id",
                "missing-currency",
                "invalid-currency",
                "currency-mismatch",
                "missing-buying-group",
                "missing-buyer-email",
                "invalid-email",
                "missing-region",
                "unknown-region",
                "missing-address",
                "missing-address-id",
                "incomplete-address",
                "invalid-country-code",
                "invalid-date",
                "no-lines",
                "too-many-lines",
                "non-numeric-line-id",
                "duplicate-line-number",
                "missing-asin",
                "invalid-asin",
                "invalid-quantity",
                "quantity-below-one",
                "missing-amount",
                "invalid-amount",
                "negative-amount",
                "line-subtotal-mismatch",
                "order-subtotal-mismatch",
                "distribution-mismatch",
                "missing-accounting-name",
                "missing-segments",
                "too-many-segments",
                "invalid-segment",
                "too-long",
            ]
        );
    }

    #[test]
    fn every_code_has_one_unique_kebab_case_spelling_everywhere() {
        let mut seen = BTreeSet::new();
        for c in OrderCode::iter() {
            let s = c.as_str();
            assert_eq!(s, kebab(&format!("{c:?}")), "{c:?}");
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{s}");
            assert!(seen.insert(s), "{s} spelled twice");
            assert_eq!(c.to_string(), s);
            assert_eq!(c.as_ref(), s);
            assert_eq!(OrderCode::from_str(s).unwrap(), c);
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, serde_json::json!(s));
            assert_eq!(serde_json::from_value::<OrderCode>(v).unwrap(), c);
            assert!(!c.description().is_empty());
        }
        assert!(OrderCode::from_str("NonNumericLineId").is_err(), "one spelling only");
        assert!(serde_json::from_value::<OrderCode>(serde_json::json!("non_numeric_line_id")).is_err(), "one spelling only");
    }

    #[test]
    fn a_problem_is_code_and_message() {
        let p = Problem::new(OrderCode::NoLines, "the PO has no lines");
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"code": "no-lines", "message": "the PO has no lines"}));
        assert_eq!(p.to_string(), "no-lines: the PO has no lines");
    }
}
