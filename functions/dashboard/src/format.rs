//! Dates and amounts in the company's locale (pure). Amounts keep their exact digits (never
//! through a float): grouped and with the locale's decimal mark, then the ISO currency code.

use invoice_domain::company::Locale;

/// `1234567.5` → en-US/en-GB `1,234,567.50`, fr-FR `1 234 567,50` (narrow no-break spaces), with
/// at least `min_decimals` decimals. Text that is not a plain decimal is returned as written.
pub fn amount(value: &str, locale: Locale) -> String {
    let v = value.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return value.to_string();
    }
    let int = if int.is_empty() { "0" } else { int };
    let mut frac = frac.to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    let (group, mark) = match locale {
        Locale::EnUs | Locale::EnGb => (",", "."),
        Locale::FrFr => ("\u{202f}", ","),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push_str(group);
        }
        grouped.push(c);
    }
    format!("{}{grouped}{mark}{frac}", if neg { "-" } else { "" })
}

/// An amount with its currency: `1,234.50 USD` / `1 234,50 EUR`.
pub fn money(value: &str, currency: &str, locale: Locale) -> String {
    format!("{}\u{a0}{currency}", amount(value, locale))
}

/// `YYYY-MM-DD` (or the date part of a timestamp) → en-US `12/31/2026`, en-GB / fr-FR
/// `31/12/2026`. Anything else is returned as written.
pub fn date(value: &str, locale: Locale) -> String {
    let Some(d) = value.get(..10).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
        return value.to_string();
    };
    match locale {
        Locale::EnUs => d.format("%m/%d/%Y").to_string(),
        Locale::EnGb | Locale::FrFr => d.format("%d/%m/%Y").to_string(),
    }
}

/// An RFC 3339 UTC timestamp → the date and `HH:MM UTC` (24 h in en-GB / fr-FR, 12 h in en-US).
pub fn timestamp(value: &str, locale: Locale) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) else { return date(value, locale) };
    let t = t.to_utc();
    let time = match locale {
        Locale::EnUs => t.format("%-I:%M %p").to_string(),
        Locale::EnGb | Locale::FrFr => t.format("%H:%M").to_string(),
    };
    format!("{} {time} UTC", date(value, locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_per_locale() {
        assert_eq!(amount("1234567.5", Locale::EnUs), "1,234,567.50");
        assert_eq!(amount("1234567.5", Locale::EnGb), "1,234,567.50");
        assert_eq!(amount("1234567.5", Locale::FrFr), "1\u{202f}234\u{202f}567,50");
        assert_eq!(amount("-45", Locale::EnUs), "-45.00");
        assert_eq!(amount("0.125", Locale::FrFr), "0,125");
        assert_eq!(amount("999", Locale::EnUs), "999.00");
        assert_eq!(amount("junk", Locale::EnUs), "junk");
        assert_eq!(money("12.5", "EUR", Locale::FrFr), "12,50\u{a0}EUR");
    }

    #[test]
    fn dates_per_locale() {
        assert_eq!(date("2026-12-31", Locale::EnUs), "12/31/2026");
        assert_eq!(date("2026-12-31", Locale::EnGb), "31/12/2026");
        assert_eq!(date("2026-12-31", Locale::FrFr), "31/12/2026");
        assert_eq!(date("", Locale::FrFr), "");
        assert_eq!(timestamp("2026-12-01T16:25:57.123Z", Locale::EnUs), "12/01/2026 4:25 PM UTC");
        assert_eq!(timestamp("2026-12-01T16:25:57.123Z", Locale::FrFr), "01/12/2026 16:25 UTC");
    }
}
