//! The invoice list's query string (pure): every parameter validated (a clear 400 naming it),
//! turned into an adapters [`Listing`], and the opaque cursor tokens: a page's position, signed
//! with the server's key and bound to the company and the filters, so a cursor can be neither
//! forged nor replayed against other filters or another company.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use invoice_adapters::dashboard::{Listing, Position};
use invoice_domain::invoice::review::ListStatus;
use serde::{Deserialize, Serialize};

use crate::auth::Keys;

/// The most months one listing may span (each month is a Query per stream).
pub const MAX_MONTHS: usize = 24;
pub const DEFAULT_PAGE: usize = 25;
pub const MAX_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    DateDesc,
    DateAsc,
    AmountDesc,
    AmountAsc,
}

impl Sort {
    pub fn as_str(&self) -> &'static str {
        match self {
            Sort::DateDesc => "date-desc",
            Sort::DateAsc => "date-asc",
            Sort::AmountDesc => "amount-desc",
            Sort::AmountAsc => "amount-asc",
        }
    }
    pub const ALL: [Sort; 4] = [Sort::DateDesc, Sort::DateAsc, Sort::AmountDesc, Sort::AmountAsc];
    pub fn label(&self) -> &'static str {
        match self {
            Sort::DateDesc => "Newest first",
            Sort::DateAsc => "Oldest first",
            Sort::AmountDesc => "Largest amount first",
            Sort::AmountAsc => "Smallest amount first",
        }
    }
}

pub const CHANNELS: [&str; 4] = ["s3", "email", "https", "import"];

/// The list's filters as given (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub status: Option<ListStatus>,
    pub supplier: Option<String>,
    pub invoice: Option<String>,
    pub po: Option<String>,
    pub channel: Option<String>,
    pub sort: Sort,
    pub size: usize,
    pub cursor: Option<String>,
    /// CSV only: one row per line.
    pub lines: bool,
}

fn text(name: &str, v: &str) -> Result<Option<String>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(format!("{name}: at most 100 characters, no control characters"));
    }
    Ok(Some(v.to_string()))
}

fn parse_date(name: &str, v: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .ok()
        .filter(|_| v.trim().len() == 10)
        .ok_or_else(|| format!("{name}: '{}' is not a date (YYYY-MM-DD)", v.chars().take(40).collect::<String>()))
}

/// The first day of the month `n` months before `d`'s.
fn months_back(d: NaiveDate, n: u32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 - n as i32;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

impl Filters {
    /// From the query's pairs. Defaults: received in the last 12 months (from the first of the
    /// month 11 months back to `today`), newest first, 25 a page. `extra` names the other
    /// parameters the route accepts (`lines` for the CSV).
    pub fn parse(pairs: &[(String, String)], today: NaiveDate, extra: &[&str]) -> Result<Filters, String> {
        let known = ["from", "to", "status", "supplier", "invoice", "po", "channel", "sort", "size", "cursor"];
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in pairs {
            if !known.contains(&k.as_str()) && !extra.contains(&k.as_str()) {
                return Err(format!("unknown parameter '{}'", k.chars().take(40).collect::<String>()));
            }
            if !seen.insert(k.as_str()) {
                return Err(format!("{k}: given more than once"));
            }
        }
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty());
        let to = get("to").map(|v| parse_date("to", v)).transpose()?.unwrap_or(today);
        let from = get("from").map(|v| parse_date("from", v)).transpose()?.unwrap_or_else(|| months_back(to, 11));
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        let span = (to.year() * 12 + to.month0() as i32) - (from.year() * 12 + from.month0() as i32) + 1;
        if span as usize > MAX_MONTHS {
            return Err(format!("the date range spans {span} months; at most {MAX_MONTHS}"));
        }
        let status = get("status")
            .map(|v| {
                ListStatus::parse(v.trim()).ok_or_else(|| "status: one of to-process, approved, exported, cancelled, exception".to_string())
            })
            .transpose()?;
        let channel = get("channel")
            .map(|v| {
                CHANNELS.contains(&v.trim()).then(|| v.trim().to_string()).ok_or_else(|| format!("channel: one of {}", CHANNELS.join(", ")))
            })
            .transpose()?;
        let sort = match get("sort") {
            None => Sort::DateDesc,
            Some(v) => {
                *Sort::ALL.iter().find(|s| s.as_str() == v.trim()).ok_or("sort: one of date-desc, date-asc, amount-desc, amount-asc")?
            }
        };
        let size = match get("size") {
            None => DEFAULT_PAGE,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or(format!("size: a whole number from 1 to {MAX_PAGE}"))?,
        };
        let lines = match get("lines") {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err("lines: 0 or 1".into()),
        };
        let cursor = get("cursor").map(|c| c.trim().to_string());
        if cursor.as_ref().is_some_and(|c| c.len() > 4096) {
            return Err("cursor: too long".into());
        }
        Ok(Filters {
            from,
            to,
            status,
            supplier: text("supplier", get("supplier").unwrap_or(""))?,
            invoice: text("invoice", get("invoice").unwrap_or(""))?,
            po: text("po", get("po").unwrap_or(""))?,
            channel,
            sort,
            size,
            cursor,
            lines,
        })
    }

    /// The filters as a query string, without cursor (links, and what a cursor is bound to).
    pub fn canonical(&self) -> String {
        let mut p: Vec<(&str, String)> = vec![("from", self.from.to_string()), ("to", self.to.to_string())];
        if let Some(s) = self.status {
            p.push(("status", s.as_str().into()));
        }
        for (k, v) in [("supplier", &self.supplier), ("invoice", &self.invoice), ("po", &self.po), ("channel", &self.channel)] {
            if let Some(v) = v {
                p.push((k, v.clone()));
            }
        }
        p.push(("sort", self.sort.as_str().into()));
        p.push(("size", self.size.to_string()));
        serde_urlencoded::to_string(&p).unwrap_or_default()
    }

    /// What the repository walks: months of the range in the sort's order (newest first unless
    /// oldest first), sort keys from `from` to the end of `to`.
    pub fn listing(&self, company: &str) -> Listing {
        let newest_first = self.sort != Sort::DateAsc;
        let mut months =
            invoice_domain::invoice::records::months_newest_first(&self.to.to_string(), &self.from.to_string(), MAX_MONTHS + 1);
        if !newest_first {
            months.reverse();
        }
        Listing {
            company: company.to_string(),
            status: self.status,
            newest_first,
            months,
            low: self.from.to_string(),
            high: format!("{}~", self.to),
            supplier: self.supplier.clone(),
            invoice_number: self.invoice.clone(),
            po_number: self.po.clone(),
            channel: self.channel.clone(),
        }
    }
}

/// A page's position: in date order, the streams' positions; in amount order, the last
/// invoice shown (its net amount and key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    #[serde(rename = "d")]
    Date(Position),
    #[serde(rename = "a")]
    Amount { net: String, key: String },
}

/// `<payload>.<tag>`, the tag an HMAC of the company, what it is bound to and the payload.
pub fn seal<T: Serialize>(keys: &Keys, company: &str, bound: &str, c: &T) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default());
    let tag = keys.sign("cursor", format!("{company}\0{bound}\0{payload}").as_bytes());
    format!("{payload}.{tag}")
}

/// The cursor of a token, if the server made it for this company and these filters.
pub fn open<T: serde::de::DeserializeOwned>(keys: &Keys, company: &str, bound: &str, token: &str) -> Result<T, String> {
    const BAD: &str = "cursor: not a cursor of this list (the filters changed or it was altered): start again from the first page";
    let (payload, tag) = token.split_once('.').ok_or(BAD)?;
    if !keys.verify("cursor", format!("{company}\0{bound}\0{payload}").as_bytes(), tag) {
        return Err(BAD.into());
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| BAD)?;
    serde_json::from_slice(&bytes).map_err(|_| BAD.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let f = Filters::parse(&[], today(), &[]).unwrap();
        assert_eq!((f.from.to_string(), f.to.to_string(), f.size, f.sort), ("2026-01-01".into(), "2026-12-02".into(), 25, Sort::DateDesc));
        assert_eq!(f.listing("acme").months.len(), 12);
        let f = Filters::parse(
            &pairs("from=2026-11-01&to=2026-12-31&status=approved&supplier=North&channel=email&sort=date-asc&size=5"),
            today(),
            &[],
        )
        .unwrap();
        assert_eq!(f.status, Some(ListStatus::Approved));
        assert_eq!(f.listing("acme").months, vec!["2026-11", "2026-12"]);
        for (q, err) in [
            ("from=2026-13-01", "from"),
            ("from=2026-12-05&to=2026-12-01", "after"),
            ("from=2020-01-01&to=2026-12-01", "months"),
            ("status=paid", "status"),
            ("channel=fax", "channel"),
            ("sort=name", "sort"),
            ("size=0", "size"),
            ("size=101", "size"),
            ("company=globex", "unknown parameter"),
            ("status=approved&status=exported", "more than once"),
            ("lines=1", "unknown parameter"),
        ] {
            let e = Filters::parse(&pairs(q), today(), &[]).unwrap_err();
            assert!(e.contains(err), "{q}: {e}");
        }
        assert!(Filters::parse(&pairs("lines=1"), today(), &["lines"]).unwrap().lines);
        assert!(Filters::parse(&pairs(&format!("supplier={}", "x".repeat(101))), today(), &[]).is_err());
    }

    #[test]
    fn cursors_are_bound_and_signed() {
        let k = Keys::new(b"0123456789abcdef0123456789abcdef");
        let c = Cursor::Amount { net: "12.50".into(), key: "s#1".into() };
        let t = seal(&k, "acme", "from=a", &c);
        assert_eq!(open::<Cursor>(&k, "acme", "from=a", &t), Ok(c));
        assert!(open::<Cursor>(&k, "globex", "from=a", &t).is_err());
        assert!(open::<Cursor>(&k, "acme", "from=b", &t).is_err());
        assert!(open::<Cursor>(&k, "acme", "from=a", &t.replace('.', "x.")).is_err());
        assert!(open::<Cursor>(&k, "acme", "from=a", "garbage").is_err());
    }
}
