//! Amounts, currencies and dates as the Reconciliation API writes them, read without a float.
//!
//! The model's `Money` is `{currencyCode, amount}`, both strings, and the amount's format
//! varies: `"1751.0"`, `"1751.00"`, `"908"`, `"0.0"`, `"0"`, a negative discount `"-2.99"`.
//! Each is read by its digits ([`parse_ab_amount`]); a JSON number in its place is read by its
//! digits too (never through `f64`). The sandbox also sends `{"currencyCode": "", "amount": "0"}`
//! for a unit price it did not fill in: that is no amount ([`resolve_money`]), not a zero in an
//! unknown currency. `invoiceTotal` is a plain string with no currency: it takes the invoice's
//! `currencyCode`. Anything else — `"12,50"`, `"1,751.00"`, `"1e3"`, `"$5"`, `"N/A"`, a
//! currency that is not ISO 4217 — is a clear error naming the field and the value.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::core::money::{parse_amount, Currency, Money};

/// An amount of the Reconciliation API: digits with an optional sign and one decimal point,
/// surrounding white space ignored (`"1751.0"`, `"1751.00"`, `"908"`, `"0.0"`, `"-2.99"`).
pub fn parse_ab_amount(text: &str) -> Result<Decimal, String> {
    parse_amount(text).map_err(|_| {
        format!(
            "'{}' is not an amount (Amazon Business writes digits with an optional sign and one decimal point: 1751.0, 1751.00, 908, -2.99)",
            text.trim()
        )
    })
}

/// A `currencyCode`: `None` when blank (the sandbox's unfilled amounts); ISO 4217, read
/// upper-cased (`"jpy"` is JPY); anything else is an error.
pub fn parse_ab_currency(text: &str) -> Result<Option<Currency>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    Currency::parse(&t.to_ascii_uppercase()).map(Some).map_err(|_| format!("'{t}' is not an ISO 4217 currency code"))
}

/// A `Money` as read, before its currency is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMoney {
    pub amount: Decimal,
    pub currency: Option<Currency>,
}

/// The money a [`RawMoney`] is. With its own currency: that amount. Without one, a zero is
/// "not filled in" (`None`), any other amount takes `fallback` (the invoice's currency), and
/// is an error when there is none.
pub fn resolve_money(raw: RawMoney, fallback: Option<Currency>) -> Result<Option<Money>, String> {
    match (raw.currency, fallback) {
        (Some(c), _) => Ok(Some(Money::new(raw.amount, c))),
        (None, _) if raw.amount.is_zero() => Ok(None),
        (None, Some(c)) => Ok(Some(Money::new(raw.amount, c))),
        (None, None) => Err(format!("the amount {} has no currencyCode and the document names no currency", raw.amount)),
    }
}

/// A `date-time` of the model: RFC 3339 (`2020-04-03T16:59:18.768Z`, `…+09:00`), a date-time
/// without offset (read as UTC, as in `2020-08-01T00:00:00`), or a plain date (midnight UTC).
pub fn parse_ab_datetime(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(n.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!("'{t}' is not an ISO 8601 date-time (e.g. 2020-04-03T16:59:18.768Z)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn every_amount_format_of_the_notes() {
        assert_eq!(parse_ab_amount("1751.0").unwrap(), dec("1751"));
        assert_eq!(parse_ab_amount("1751.0").unwrap().to_string(), "1751.0", "the digits as written");
        assert_eq!(parse_ab_amount("1751.00").unwrap(), dec("1751"));
        assert_eq!(parse_ab_amount("908").unwrap(), dec("908"));
        assert_eq!(parse_ab_amount("0.0").unwrap(), Decimal::ZERO);
        assert_eq!(parse_ab_amount("0").unwrap(), Decimal::ZERO);
        assert_eq!(parse_ab_amount("-2.99").unwrap(), dec("-2.99"));
        assert_eq!(parse_ab_amount(" 5.99 ").unwrap(), dec("5.99"));
        assert_eq!(parse_ab_amount("0.1").unwrap() + parse_ab_amount("0.2").unwrap(), dec("0.3"), "exact, no float");
    }

    #[test]
    fn garbage_amounts_are_clear_errors() {
        for bad in ["12,50", "1,751.00", "1e3", "$5", "N/A", "", "-", "1.2.3", "5.99 USD"] {
            let e = parse_ab_amount(bad).unwrap_err();
            assert!(e.contains(&format!("'{}'", bad.trim())) && e.contains("1751.0"), "{bad}: {e}");
        }
    }

    #[test]
    fn currencies_blank_lowercase_or_wrong() {
        assert_eq!(parse_ab_currency("USD").unwrap().unwrap().code(), "USD");
        assert_eq!(parse_ab_currency(" jpy ").unwrap().unwrap().code(), "JPY");
        assert_eq!(parse_ab_currency("").unwrap(), None);
        assert!(parse_ab_currency("US$").unwrap_err().contains("'US$'"));
        assert!(parse_ab_currency("EURO").is_err());
    }

    #[test]
    fn unfilled_amounts_and_the_fallback_currency() {
        let usd = Currency::parse("USD").ok();
        let zero_blank = RawMoney { amount: Decimal::ZERO, currency: None };
        assert_eq!(resolve_money(zero_blank, usd).unwrap(), None, "currencyCode \"\" with 0: not filled in");
        let total = RawMoney { amount: dec("1751.0"), currency: None };
        assert_eq!(resolve_money(total, Currency::parse("JPY").ok()).unwrap(), Some(Money::parse("1751.0", "JPY").unwrap()));
        assert!(resolve_money(total, None).unwrap_err().contains("1751.0"));
        let own = RawMoney { amount: Decimal::ZERO, currency: usd };
        assert_eq!(resolve_money(own, None).unwrap(), Some(Money::parse("0", "USD").unwrap()), "a stated zero stays a zero");
    }

    #[test]
    fn dates_as_the_model_and_the_sandbox_write_them() {
        assert_eq!(parse_ab_datetime("2020-04-03T16:59:18.768Z").unwrap().to_rfc3339(), "2020-04-03T16:59:18.768+00:00");
        assert_eq!(parse_ab_datetime("2022-03-29T18:46:51Z").unwrap().to_rfc3339(), "2022-03-29T18:46:51+00:00");
        assert_eq!(parse_ab_datetime("2022-03-30T00:30:00+09:00").unwrap().to_rfc3339(), "2022-03-29T15:30:00+00:00");
        assert_eq!(parse_ab_datetime("2020-08-01T00:00:00").unwrap().to_rfc3339(), "2020-08-01T00:00:00+00:00");
        assert_eq!(parse_ab_datetime("2025-06-07").unwrap().to_rfc3339(), "2025-06-07T00:00:00+00:00");
        assert!(parse_ab_datetime("incorrectFormatDate").unwrap_err().contains("'incorrectFormatDate'"));
    }
}
