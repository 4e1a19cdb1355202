//! A company's matching tolerances: for the unit price, the quantity and the amounts an
//! absolute and a percent tolerance, combined by a rule, as AP systems define them.
//!
//! ```json
//! {"unit_price": {"absolute": "0.01", "percent": "0", "rule": "either"},
//!  "quantity":   {"absolute": 1, "percent": 5, "rule": "either"},
//!  "amount":     {"absolute": "0.05", "percent": 0, "rule": "both"}}
//! ```
//!
//! Every key is optional. An absent `unit_price`, `quantity` or `amount` takes its default
//! (see [`Tolerance::default_unit_price`] and the others, listed in [`crate::matching`]); within
//! a stated one an absent `absolute` or `percent` is 0 and an absent `rule` is `either`, so a
//! tolerance means exactly what is written. Decimals are strings or JSON numbers (read by
//! their digits, never through a float: `0.10` stays `0.10`); negative ones and unknown keys
//! are refused. Read them from JSON text (`serde_json::from_str`/`from_slice`), as the company
//! record stores them: the digits of a number are only kept from the text.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::core::money::{de_amount_text, parse_amount};

/// How the absolute and the percent tolerance combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Within the absolute tolerance OR within the percent tolerance (the looser one wins).
    #[default]
    Either,
    /// Within the absolute tolerance AND within the percent tolerance (the tighter one wins).
    Both,
}

/// One tolerance: a difference `d` from a base value `b` is within it when `|d| ≤ absolute`
/// and/or (by [`Rule`]) `|d| ≤ |b| × percent / 100`. `absolute` is in the unit of what is
/// compared (PO currency units for prices and amounts, units for quantities).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ToleranceInput")]
pub struct Tolerance {
    pub absolute: Decimal,
    pub percent: Decimal,
    pub rule: Rule,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToleranceInput {
    #[serde(default, deserialize_with = "de_amount_text")]
    absolute: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    percent: Option<String>,
    #[serde(default)]
    rule: Rule,
}

impl TryFrom<ToleranceInput> for Tolerance {
    type Error = String;
    fn try_from(t: ToleranceInput) -> Result<Self, Self::Error> {
        let read = |field: &str, text: Option<String>| -> Result<Decimal, String> {
            let Some(text) = text else { return Ok(Decimal::ZERO) };
            let d = parse_amount(&text).map_err(|_| format!("tolerance {field} '{text}' is not a decimal number"))?;
            if d.is_sign_negative() && !d.is_zero() {
                return Err(format!("tolerance {field} '{text}' is negative"));
            }
            Ok(d)
        };
        Ok(Tolerance { absolute: read("absolute", t.absolute)?, percent: read("percent", t.percent)?, rule: t.rule })
    }
}

impl Tolerance {
    /// No difference at all is tolerated.
    pub const EXACT: Tolerance = Tolerance { absolute: Decimal::ZERO, percent: Decimal::ZERO, rule: Rule::Either };

    pub fn new(absolute: Decimal, percent: Decimal, rule: Rule) -> Tolerance {
        Tolerance { absolute, percent, rule }
    }

    /// Unit price default: within one cent (`0.01` of the PO currency; for a currency
    /// without minor units, such as JPY, that is an exact match), no percent.
    pub fn default_unit_price() -> Tolerance {
        Tolerance::new(Decimal::new(1, 2), Decimal::ZERO, Rule::Either)
    }

    /// Quantity default, Ariba's: within 1 unit or 105 % of the accepted quantity, i.e.
    /// absolute 1, percent 5, rule `either`.
    pub fn default_quantity() -> Tolerance {
        Tolerance::new(Decimal::ONE, Decimal::from(5), Rule::Either)
    }

    /// Amount default (line amount, tax, shipping, header-level subtotal): within five cents
    /// (`0.05` of the PO currency), no percent — room for the rounding of a few cent
    /// amounts, nothing more.
    pub fn default_amount() -> Tolerance {
        Tolerance::new(Decimal::new(5, 2), Decimal::ZERO, Rule::Either)
    }

    /// Whether `difference` (found − expected, either sign) is within this tolerance of `base`
    /// (the expected value the percent applies to). Never panics: a percent limit too large to
    /// compute is no limit.
    pub fn within(&self, difference: Decimal, base: Decimal) -> bool {
        let d = difference.abs();
        let by_absolute = d <= self.absolute;
        let by_percent = || {
            if self.percent.is_zero() || base.is_zero() {
                return d.is_zero();
            }
            // |d| ≤ |base| × percent / 100, without the division when the product fits.
            match base.abs().checked_mul(self.percent) {
                Some(limit) => d.checked_mul(Decimal::ONE_HUNDRED).map_or(d <= limit / Decimal::ONE_HUNDRED, |d100| d100 <= limit),
                None => true,
            }
        };
        match self.rule {
            Rule::Either => by_absolute || by_percent(),
            Rule::Both => by_absolute && by_percent(),
        }
    }

    /// `within 0.01 or 5 %`, for messages.
    pub fn describe(&self) -> String {
        let word = match self.rule {
            Rule::Either => "or",
            Rule::Both => "and",
        };
        format!("within {} {word} {} %", self.absolute.normalize(), self.percent.normalize())
    }
}

/// The tolerances of one company. `Default` is the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tolerances {
    #[serde(default = "Tolerance::default_unit_price")]
    pub unit_price: Tolerance,
    #[serde(default = "Tolerance::default_quantity")]
    pub quantity: Tolerance,
    #[serde(default = "Tolerance::default_amount")]
    pub amount: Tolerance,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            unit_price: Tolerance::default_unit_price(),
            quantity: Tolerance::default_quantity(),
            amount: Tolerance::default_amount(),
        }
    }
}

impl Tolerances {
    /// Every difference is an exception.
    pub const EXACT: Tolerances = Tolerances { unit_price: Tolerance::EXACT, quantity: Tolerance::EXACT, amount: Tolerance::EXACT };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_serde_shape_with_strings_and_numbers() {
        let t: Tolerances = serde_json::from_str(
            r#"{"unit_price": {"absolute": "0.01", "percent": "0", "rule": "either"},
                "quantity": {"absolute": 2, "percent": 10.5, "rule": "both"},
                "amount": {"absolute": 0.1}}"#,
        )
        .unwrap();
        assert_eq!(t.unit_price, Tolerance::new(d("0.01"), d("0"), Rule::Either));
        assert_eq!(t.quantity, Tolerance::new(d("2"), d("10.5"), Rule::Both));
        assert_eq!(t.amount, Tolerance::new(d("0.1"), Decimal::ZERO, Rule::Either), "absent fields of a stated tolerance are 0 / either");
        // Numbers are read by their digits: 0.1 is exactly 0.1, 0.10 keeps its zero.
        assert_eq!(t.amount.absolute.to_string(), "0.1");
        let zero: Tolerances = serde_json::from_str(r#"{"amount": {"absolute": 0.10}}"#).unwrap();
        assert_eq!(zero.amount.absolute.to_string(), "0.10");
        let back: Tolerances = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json["unit_price"], serde_json::json!({"absolute": "0.01", "percent": "0", "rule": "either"}));
    }

    #[test]
    fn absent_tolerances_take_the_documented_defaults() {
        let t: Tolerances = serde_json::from_str("{}").unwrap();
        assert_eq!(t, Tolerances::default());
        assert_eq!(t.unit_price, Tolerance::new(d("0.01"), d("0"), Rule::Either));
        assert_eq!(t.quantity, Tolerance::new(d("1"), d("5"), Rule::Either), "Ariba: 1 unit or 105 %");
        assert_eq!(t.amount, Tolerance::new(d("0.05"), d("0"), Rule::Either));
        let only_price: Tolerances = serde_json::from_str(r#"{"unit_price": {"percent": 2}}"#).unwrap();
        assert_eq!(only_price.unit_price, Tolerance::new(Decimal::ZERO, d("2"), Rule::Either));
        assert_eq!(only_price.quantity, Tolerance::default_quantity());
    }

    #[test]
    fn bad_tolerances_are_refused() {
        for bad in [
            r#"{"unit_price": {"absolute": "-1"}}"#,
            r#"{"unit_price": {"absolute": "1,5"}}"#,
            r#"{"unit_price": {"absolute": true}}"#,
            r#"{"unit_price": {"rule": "any"}}"#,
            r#"{"unit_price": {"absolut": 1}}"#,
            r#"{"unitprice": {}}"#,
        ] {
            assert!(serde_json::from_str::<Tolerances>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn either_and_both() {
        let either = Tolerance::new(d("1"), d("5"), Rule::Either);
        let both = Tolerance::new(d("1"), d("5"), Rule::Both);
        // Base 10: 5 % is 0.5; base 100: 5 % is 5.
        for (diff, base, e, b) in [
            ("0", "10", true, true),
            ("0.5", "10", true, true),
            ("1", "10", true, false),
            ("-1", "10", true, false),
            ("1.01", "10", false, false),
            ("3", "100", true, false),
            ("5", "100", true, false),
            ("5.01", "100", false, false),
            ("1", "100", true, true),
            ("0.8", "0", true, false),
        ] {
            assert_eq!(either.within(d(diff), d(base)), e, "either {diff} of {base}");
            assert_eq!(both.within(d(diff), d(base)), b, "both {diff} of {base}");
        }
        assert!(Tolerance::EXACT.within(Decimal::ZERO, d("7")));
        assert!(!Tolerance::EXACT.within(d("0.0001"), d("7")));
        // Percent only.
        let pct = Tolerance::new(Decimal::ZERO, d("10"), Rule::Either);
        assert!(pct.within(d("-1"), d("10")) && !pct.within(d("1.01"), d("10")));
        // A percent limit too large to compute does not panic.
        assert!(Tolerance::new(Decimal::ZERO, Decimal::MAX, Rule::Either).within(Decimal::MAX, Decimal::MAX));
        assert_eq!(either.describe(), "within 1 or 5 %");
        assert_eq!(both.describe(), "within 1 and 5 %");
    }
}
