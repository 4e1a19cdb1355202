//! Money: an exact decimal amount with its ISO 4217 currency.
//!
//! Arithmetic is only defined between equal currencies (`checked_add` and friends return
//! [`MoneyError::CurrencyMismatch`] otherwise); rounding is always explicit and uses the
//! currency's minor units.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// ISO 4217 codes with their minor units. Codes absent from this table are rejected as
/// `invalid-currency`; the table covers every active code of ISO 4217 (2024 edition).
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency code known to [`CURRENCIES`]. `Copy`, three ASCII upper-case letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    /// The code's minor units from the table, kept beside it (it fits the padding of
    /// [`Money`]): a function of the code, so equality and order are the code's.
    minor: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("'{0}' is not a plain decimal amount (digits, optional sign and decimal point)")]
    InvalidAmount(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflow")]
    Overflow,
}

impl Currency {
    /// Parses a code exactly (surrounding white space trimmed; case-sensitive as ISO 4217 is).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let c = trim(code);
        let b = c.as_bytes();
        match CURRENCIES.binary_search_by(|(k, _)| k.as_bytes().cmp(b)) {
            Ok(i) if b.len() == 3 => Ok(Currency { code: [b[0], b[1], b[2]], minor: CURRENCIES[i].1 as u8 }),
            _ => Err(MoneyError::UnknownCurrency(c.to_string())),
        }
    }

    pub fn code(&self) -> &str {
        // Only ever built from ASCII codes of the table.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point of the currency's minor unit (USD 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor)
    }

    /// One minor unit of the currency as a decimal (0.01 for USD, 1 for JPY).
    pub fn minor_unit(&self) -> Decimal {
        Decimal::new(1, self.minor_units())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}
impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses an amount as real cXML senders write it: `365`, `16.2`, `.00`, `-45.00`, `+3`.
/// No thousands separators, no exponent, no comma decimal separator.
pub fn parse_amount(text: &str) -> Result<Decimal, MoneyError> {
    let t = trim(text);
    let bytes = t.as_bytes();
    let body = match bytes.first() {
        Some(b'-') | Some(b'+') => &bytes[1..],
        _ => bytes,
    };
    // One pass: the characters are checked and, while they fit a u64, the digits accumulated.
    let mut digits = 0usize;
    let mut dots = 0usize;
    let mut mantissa: u64 = 0;
    let mut scale = 0u32;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits <= MAX_U64_DIGITS {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    scale += u32::from(dots > 0);
                }
            }
            b'.' => dots += 1,
            _ => return Err(MoneyError::InvalidAmount(t.to_string())),
        }
    }
    if digits == 0 || dots > 1 {
        return Err(MoneyError::InvalidAmount(t.to_string()));
    }
    if digits <= MAX_U64_DIGITS {
        // The same Decimal (mantissa, scale, sign) as `Decimal::from_str_exact` makes, which the
        // tests check, without its general parser: amounts are parsed by the hundred thousand in
        // a large invoice. `from_parts` drops the sign of a zero, as the string parser does.
        let negative = bytes.first() == Some(&b'-');
        return Ok(Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, negative, scale));
    }
    let normalized = t.strip_prefix('+').unwrap_or(t);
    // rust_decimal accepts ".5" and "-.5" and "5." as written.
    Decimal::from_str_exact(normalized).map_err(|_| MoneyError::InvalidAmount(t.to_string()))
}

/// Digits that always fit a `u64` mantissa (10^19 - 1 does).
const MAX_U64_DIGITS: usize = 19;

/// `str::trim`, without its Unicode scan when both ends are visible ASCII (amounts, codes).
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// An exact amount in one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }
    pub fn zero(currency: Currency) -> Self {
        Money { amount: Decimal::ZERO, currency }
    }
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        Ok(Money { amount: parse_amount(amount)?, currency: Currency::parse(currency)? })
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let amount = self.amount.checked_sub(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }
    /// Multiplies by a quantity, exactly (no rounding).
    pub fn checked_mul(&self, qty: Decimal) -> Result<Money, MoneyError> {
        let amount = self.amount.checked_mul(qty).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }
    pub fn neg(&self) -> Money {
        Money { amount: -self.amount, currency: self.currency }
    }
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }
    /// Rounds to the currency's minor units with the given strategy.
    pub fn round(&self, strategy: RoundingStrategy) -> Money {
        Money { amount: self.amount.round_dp_with_strategy(self.currency.minor_units(), strategy), currency: self.currency }
    }
    /// True when both amounts are equal once `self` is rounded half-away-from-zero to minor
    /// units, i.e. `other` is a correctly rounded statement of `self`. Half-even rounding is
    /// accepted too (banker's rounding is common in ERPs).
    pub fn rounds_to(&self, other: &Money) -> bool {
        if self.currency != other.currency {
            return false;
        }
        // The usual case, without rounding: equal, and `other` has no digit past the minor unit
        // (so rounding `self` changes nothing).
        if self.amount == other.amount && other.amount.scale() <= self.currency.minor_units() {
            return true;
        }
        self.round(RoundingStrategy::MidpointAwayFromZero).amount == other.amount
            || self.round(RoundingStrategy::MidpointNearestEven).amount == other.amount
    }
    /// The amount as a decimal string with at least the currency's minor units (`12.50`).
    pub fn amount_string(&self) -> String {
        let mut a = self.amount;
        let mu = self.currency.minor_units();
        if a.scale() < mu {
            a.rescale(mu);
        }
        a.to_string()
    }
    /// Sums amounts that must all be in `currency`.
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::dec;

    mod rust_decimal_macros_free {
        pub fn dec(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn minor_units() {
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("USD").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("EUR").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("BHD").unwrap().minor_units(), 3);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::parse("USD").unwrap().minor_unit(), dec("0.01"));
    }

    #[test]
    fn unknown_and_lowercase_currencies_are_rejected() {
        for c in ["usd", "US", "USDD", "XXX1", "", "ABC"] {
            assert!(matches!(Currency::parse(c), Err(MoneyError::UnknownCurrency(_))), "{c}");
        }
        assert_eq!(Currency::parse(" USD\t").unwrap().code(), "USD");
    }

    #[test]
    fn amounts_as_real_senders_write_them() {
        assert_eq!(parse_amount("365").unwrap(), dec("365"));
        assert_eq!(parse_amount("16.2").unwrap(), dec("16.2"));
        assert_eq!(parse_amount(".00").unwrap(), dec("0"));
        assert_eq!(parse_amount("-45.00").unwrap(), dec("-45.00"));
        assert_eq!(parse_amount("+3").unwrap(), dec("3"));
        assert_eq!(parse_amount(" 7.99\n").unwrap(), dec("7.99"));
        assert_eq!(parse_amount("5.").unwrap(), dec("5"));
    }

    #[test]
    fn small_amounts_are_the_decimals_the_string_parser_makes() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "+0",
            "0.00",
            "-0.00",
            ".0",
            "-.0",
            "0.",
            "-0.",
            "5.",
            ".5",
            "-.5",
            "+.5",
            "007",
            "-007.50",
            "12.50",
            "-45.00",
            "365",
            "0.000000000000000001",
            "1234567890123456789",
            "-1234567890.123456789",
            "9999999999999999999",
            "-9999999999999999999",
            ".9999999999999999999",
            "18446744073709551615",
            "99999999999999999999",
            "12345678901234567890.5",
            "0.0000000000000000000000000001",
            "1.00000000000000000000000000000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every length and position of the point, both signs.
        for len in 1..=21 {
            let digits: String = (0..len).map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8)).collect();
            for dot in 0..=len {
                for sign in ["", "-", "+"] {
                    cases.push(format!("{sign}{}.{}", &digits[..dot], &digits[dot..]));
                    cases.push(format!("{sign}{digits}"));
                }
            }
        }
        for c in &cases {
            let normalized = c.strip_prefix('+').unwrap_or(c);
            let reference = Decimal::from_str_exact(normalized);
            match (parse_amount(c), reference) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours.serialize(), theirs.serialize(), "{c}: {ours} vs {theirs}"),
                (Err(_), Err(_)) => {}
                (ours, theirs) => panic!("{c}: {ours:?} vs {theirs:?}"),
            }
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for t in ["", " ", "x", " x", "x ", "12.50", "\t12.50\n", "\u{a0}1\u{a0}", "1\u{3000}", "\u{e9}", "a b", "~", "!x!"] {
            assert_eq!(trim(t), t.trim(), "{t:?}");
        }
    }

    #[test]
    fn malformed_amounts_are_rejected() {
        for a in ["12,50", "1e3", "1,000.00", "", "-", ".", "1.2.3", "$5", "NaN", "--1", "1 000"] {
            assert!(matches!(parse_amount(a), Err(MoneyError::InvalidAmount(_))), "{a:?}");
        }
    }

    #[test]
    fn arithmetic_only_within_one_currency() {
        let usd = Money::parse("1.10", "USD").unwrap();
        let eur = Money::parse("1.10", "EUR").unwrap();
        assert_eq!(usd.checked_add(&usd).unwrap().amount, dec("2.20"));
        assert!(matches!(usd.checked_add(&eur), Err(MoneyError::CurrencyMismatch(_, _))));
        assert!(matches!(usd.checked_sub(&eur), Err(MoneyError::CurrencyMismatch(_, _))));
    }

    #[test]
    fn exact_decimal_not_float() {
        let a = Money::parse("0.1", "USD").unwrap();
        let b = Money::parse("0.2", "USD").unwrap();
        assert_eq!(a.checked_add(&b).unwrap().amount, dec("0.3"));
    }

    #[test]
    fn explicit_rounding_by_minor_units() {
        let m = Money::parse("2.345", "USD").unwrap();
        assert_eq!(m.round(RoundingStrategy::MidpointAwayFromZero).amount, dec("2.35"));
        assert_eq!(m.round(RoundingStrategy::MidpointNearestEven).amount, dec("2.34"));
        let y = Money::parse("100.5", "JPY").unwrap();
        assert_eq!(y.round(RoundingStrategy::MidpointAwayFromZero).amount, dec("101"));
        let k = Money::parse("1.23456", "KWD").unwrap();
        assert_eq!(k.round(RoundingStrategy::MidpointAwayFromZero).amount, dec("1.235"));
    }

    #[test]
    fn rounds_to_accepts_either_midpoint_rule() {
        let exact = Money::parse("0.125", "USD").unwrap();
        assert!(exact.rounds_to(&Money::parse("0.13", "USD").unwrap()));
        assert!(exact.rounds_to(&Money::parse("0.12", "USD").unwrap()));
        assert!(!exact.rounds_to(&Money::parse("0.11", "USD").unwrap()));
        assert!(!exact.rounds_to(&Money::parse("0.13", "EUR").unwrap()));
        // Equal amounts: only a correct statement when no digit is past the minor unit.
        let usd = |a: &str| Money::parse(a, "USD").unwrap();
        assert!(usd("12.5").rounds_to(&usd("12.50")));
        assert!(usd("12.50").rounds_to(&usd("12.5")));
        assert!(usd("-3").rounds_to(&usd("-3.00")));
        assert!(!usd("1.005").rounds_to(&usd("1.005")));
        assert!(!usd("1.0050").rounds_to(&usd("1.0050")), "1.01 or 1.00 when rounded");
        assert!(usd("1.0000").rounds_to(&usd("1.00")));
        let jpy = |a: &str| Money::parse(a, "JPY").unwrap();
        assert!(!jpy("100.5").rounds_to(&jpy("100.5")));
        assert!(jpy("100").rounds_to(&jpy("100")));
    }

    #[test]
    fn display_pads_minor_units() {
        assert_eq!(Money::parse("12.5", "USD").unwrap().amount_string(), "12.50");
        assert_eq!(Money::parse("529", "USD").unwrap().amount_string(), "529.00");
        assert_eq!(Money::parse("500", "JPY").unwrap().amount_string(), "500");
        assert_eq!(Money::parse("1.2345", "USD").unwrap().amount_string(), "1.2345");
    }

    #[test]
    fn sum_checks_currency() {
        let usd = Currency::parse("USD").unwrap();
        let items = [Money::parse("1", "USD").unwrap(), Money::parse("2.5", "USD").unwrap()];
        assert_eq!(Money::sum(usd, &items).unwrap().amount, dec("3.5"));
        let mixed = [Money::parse("1", "USD").unwrap(), Money::parse("2.5", "EUR").unwrap()];
        assert!(Money::sum(usd, &mixed).is_err());
    }
}

/// serde `deserialize_with` for an amount written as people write it in JSON: a string
/// (`"365"`, `".00"`) or a number (`365`, `19.99`), kept as the text of its digits — a JSON
/// number is never read through a float. Absent or `null` → `None`. Parse the text with
/// [`parse_amount`] where the amount is validated (so a bad one gets a specific error).
/// Works when deserializing from JSON text (`serde_json::from_str`/`from_slice`), which
/// keeps a number's digits; not from an already parsed `serde_json::Value`.
pub fn de_amount_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    let raw = Option::<Box<serde_json::value::RawValue>>::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).map(Some).map_err(D::Error::custom),
        Some(b'-' | b'0'..=b'9') => Ok(Some(text.to_string())),
        Some(b'n') => Ok(None),
        _ => Err(D::Error::custom(format!("an amount must be a number or a string, found {text}"))),
    }
}

#[cfg(test)]
mod amount_text_tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::de_amount_text")]
        a: Option<String>,
    }
    fn a(json: &str) -> Option<String> {
        serde_json::from_str::<T>(json).unwrap().a
    }

    #[test]
    fn numbers_keep_their_digits_and_strings_their_text() {
        assert_eq!(a(r#"{"a": 0.1}"#).as_deref(), Some("0.1"));
        assert_eq!(a(r#"{"a": 12345678901234567890.123456789}"#).as_deref(), Some("12345678901234567890.123456789"));
        assert_eq!(a(r#"{"a": 365}"#).as_deref(), Some("365"));
        assert_eq!(a(r#"{"a": ".00"}"#).as_deref(), Some(".00"));
        assert_eq!(a(r#"{"a": null}"#), None);
        assert_eq!(a(r#"{}"#), None);
        assert!(serde_json::from_str::<T>(r#"{"a": true}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": [1]}"#).is_err());
    }
}
