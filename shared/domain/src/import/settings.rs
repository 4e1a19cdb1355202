//! A company's import settings and the start-date rule.
//!
//! The import starts from the day the company connected its Amazon Business account, or from a
//! start date it chooses at most [`MAX_BACKFILL_DAYS`] days before that day; earlier history is
//! not imported (it is a paid history migration, not this import). Every date here is a
//! calendar date (UTC), given by the caller: nothing reads a clock.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::codes::{ImportCode, ImportProblem};

/// How far before the connection a company may start its import.
pub const MAX_BACKFILL_DAYS: i64 = 30;

/// A company's Amazon Business import settings.
///
/// `gl_key` and `cost_center_key` name the `businessOrderInfo` fields (the checkout questions
/// the company's Amazon Business administrator set up, e.g. `"GL code"`, `"Cost center"`) that
/// carry a line's GL account and cost centre. They are the company's own names: none is
/// assumed. A key is found exactly, else ignoring case and surrounding or repeated spaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSettings {
    /// "Import automatique des factures fournisseurs": off until the company ticks it.
    #[serde(default)]
    pub auto_import: bool,
    /// The first invoice date imported; `None`: the connection date.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    #[serde(default)]
    pub gl_key: Option<String>,
    #[serde(default)]
    pub cost_center_key: Option<String>,
}

impl ImportSettings {
    /// The first invoice date imported: the chosen start date, else the connection date.
    pub fn effective_start(&self, connected_at: NaiveDate) -> NaiveDate {
        self.start_date.unwrap_or(connected_at)
    }

    /// The GL code of a line: the value of the configured key in its `businessOrderInfo`.
    pub fn gl_code<'a>(&self, info: &'a [(String, String)]) -> Option<&'a str> {
        self.gl_key.as_deref().and_then(|k| order_info_value(info, k))
    }

    /// The cost centre of a line: the value of the configured key in its `businessOrderInfo`.
    pub fn cost_center<'a>(&self, info: &'a [(String, String)]) -> Option<&'a str> {
        self.cost_center_key.as_deref().and_then(|k| order_info_value(info, k))
    }
}

/// The earliest start date a company connected on `connected_at` may choose.
pub fn earliest_start(connected_at: NaiveDate) -> NaiveDate {
    connected_at - Duration::days(MAX_BACKFILL_DAYS)
}

/// Checks a start date: at most [`MAX_BACKFILL_DAYS`] before the connection
/// (`start-date-too-early`), not after today (`start-date-in-future`).
pub fn check_start_date(start: NaiveDate, connected_at: NaiveDate, today: NaiveDate) -> Result<(), ImportProblem> {
    let earliest = earliest_start(connected_at);
    if start < earliest {
        return Err(ImportProblem::new(
            ImportCode::StartDateTooEarly,
            format!(
                "the import start date {start} is more than {MAX_BACKFILL_DAYS} days before the Amazon Business connection on {connected_at}; \
                 the earliest allowed is {earliest} (invoices before it need a history migration)"
            ),
        ));
    }
    if start > today {
        return Err(ImportProblem::new(
            ImportCode::StartDateInFuture,
            format!("the import start date {start} is after today ({today}); choose a date from {earliest} to {today}"),
        ));
    }
    Ok(())
}

/// The connection date of an RFC 3339 timestamp (`2026-03-01T09:30:00.000Z` → 2026-03-01).
pub fn connection_date(connected_at: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(connected_at.trim().get(..10)?, "%Y-%m-%d").ok()
}

/// The words of a key, lowercased: `" GL  Code "` → `"gl code"`.
fn key_form(key: &str) -> String {
    key.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// The value of `key` among a line's `businessOrderInfo` entries: exactly, else by
/// its words lower-cased (case and spaces ignored). Blank values are none.
pub fn order_info_value<'a>(info: &'a [(String, String)], key: &str) -> Option<&'a str> {
    let exact = info.iter().find(|(k, _)| k == key);
    let found = exact.or_else(|| {
        let want = key_form(key);
        info.iter().find(|(k, _)| key_form(k) == want)
    });
    found.map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn start_date_up_to_thirty_days_before_the_connection() {
        let (connected, today) = (d("2026-03-01"), d("2026-03-10"));
        assert_eq!(earliest_start(connected), d("2026-01-30"));
        assert!(check_start_date(d("2026-01-30"), connected, today).is_ok(), "exactly 30 days before");
        assert!(check_start_date(d("2026-03-01"), connected, today).is_ok(), "the connection date");
        assert!(check_start_date(d("2026-03-10"), connected, today).is_ok(), "today");
        let e = check_start_date(d("2026-01-29"), connected, today).unwrap_err();
        assert_eq!(e.code, ImportCode::StartDateTooEarly);
        for date in ["2026-01-29", "2026-03-01", "2026-01-30", "history migration"] {
            assert!(e.message.contains(date), "{date} not in: {}", e.message);
        }
    }

    #[test]
    fn start_date_not_after_today() {
        let e = check_start_date(d("2026-03-11"), d("2026-03-01"), d("2026-03-10")).unwrap_err();
        assert_eq!(e.code, ImportCode::StartDateInFuture);
        for date in ["2026-03-11", "2026-03-10", "2026-01-30"] {
            assert!(e.message.contains(date), "{date} not in: {}", e.message);
        }
    }

    #[test]
    fn default_start_is_the_connection_date() {
        let s = ImportSettings::default();
        assert!(!s.auto_import, "off until the company ticks it");
        assert_eq!(s.effective_start(d("2026-03-01")), d("2026-03-01"));
        let s = ImportSettings { start_date: Some(d("2026-02-15")), ..ImportSettings::default() };
        assert_eq!(s.effective_start(d("2026-03-01")), d("2026-02-15"));
        assert_eq!(connection_date("2026-03-01T09:30:00.000Z"), Some(d("2026-03-01")));
        assert_eq!(connection_date("junk"), None);
        let back: ImportSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(back, ImportSettings::default());
    }

    #[test]
    fn gl_code_and_cost_centre_from_the_company_keys() {
        let info: Vec<(String, String)> = [("GL code", "535-office"), ("COVID-19 Related?", "No"), ("Cost center", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let s = ImportSettings { gl_key: Some("GL code".into()), cost_center_key: Some("Cost center".into()), ..Default::default() };
        assert_eq!(s.gl_code(&info), Some("535-office"));
        assert_eq!(s.cost_center(&info), None, "a blank answer is no cost centre");
        let loose = ImportSettings { gl_key: Some(" gl  CODE ".into()), ..Default::default() };
        assert_eq!(loose.gl_code(&info), Some("535-office"), "case and spaces ignored");
        assert_eq!(ImportSettings::default().gl_code(&info), None, "no key configured: no GL code");
        let other = ImportSettings { gl_key: Some("Account".into()), ..Default::default() };
        assert_eq!(other.gl_code(&info), None);
    }
}
