//! Lenient reading of the answers' JSON objects, field by field, with the JSON pointer of a
//! bad value in its error. Unknown fields are ignored; absent and `null` are the same; ids and
//! texts may be strings or numbers (kept by their digits); amounts are never read as floats.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use super::amounts::{parse_ab_amount, parse_ab_currency, parse_ab_datetime, resolve_money, RawMoney};
use crate::core::json::OrderedEntries;
use crate::core::money::{Currency, Money};
use crate::ordering::placed::ApiError;

/// Why an answer of the Reconciliation or Document API cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    /// The body is the model's `ErrorList` (a 4xx/5xx answer).
    #[error("the answer is an error list: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    ErrorList(Vec<ApiError>),
    /// A value is not what the model says (an amount that is not one, a date, a wrong type).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

pub(super) fn invalid(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Invalid { path: if path.is_empty() { "(root)".into() } else { path.to_string() }, message: message.into() }
}

/// One JSON object of an answer and where it is (its JSON pointer).
pub(super) struct Obj {
    path: String,
    fields: HashMap<String, Box<RawValue>>,
}

fn kind_of(raw: &RawValue) -> &'static str {
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get().trim() == "null"
}

/// The root object of an answer, which must have its `expected` field: an `ErrorList` body
/// (`errors` instead) is [`ParseError::ErrorList`], any other body an error — never an empty
/// answer (an empty page read from an error body would move the watermark past its data).
pub(super) fn root(json: &str, expected: &str) -> Result<Obj, ParseError> {
    let raw: Box<RawValue> = serde_json::from_str(json).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let obj = Obj::parse(&raw, "")?;
    if obj.raw(expected).is_none() {
        if let Some(errors) = obj.raw("errors") {
            let list: Vec<ApiError> = serde_json::from_str(errors.get()).map_err(|e| invalid("/errors", strip_position(&e)))?;
            return Err(ParseError::ErrorList(list));
        }
        return Err(invalid("", format!("the answer has no {expected}")));
    }
    Ok(obj)
}

fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string()
}

impl Obj {
    pub(super) fn parse(raw: &RawValue, path: &str) -> Result<Obj, ParseError> {
        if !raw.get().trim_start().starts_with('{') {
            return Err(invalid(path, format!("expected an object, found {}", kind_of(raw))));
        }
        let fields: HashMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).map_err(|e| invalid(path, strip_position(&e)))?;
        Ok(Obj { path: path.to_string(), fields })
    }

    pub(super) fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }

    /// The field's raw value; `None` when absent or `null`.
    pub(super) fn raw(&self, name: &str) -> Option<&RawValue> {
        self.fields.get(name).map(|b| &**b).filter(|r| !is_null(r))
    }

    /// A text: a string (trimmed; blank is none) or a number (its digits).
    pub(super) fn text(&self, name: &str) -> Result<Option<String>, ParseError> {
        let Some(raw) = self.raw(name) else { return Ok(None) };
        let t = raw.get().trim();
        match t.as_bytes().first() {
            Some(b'"') => {
                let s: String = serde_json::from_str(t).map_err(|e| invalid(&self.at(name), strip_position(&e)))?;
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_string()))
            }
            Some(b'-' | b'0'..=b'9') => Ok(Some(t.to_string())),
            _ => Err(invalid(&self.at(name), format!("expected a string, found {}", kind_of(raw)))),
        }
    }

    /// A whole number: a JSON integer or a string of one (`1`, `"1"`, `2.0`); else an error.
    pub(super) fn int(&self, name: &str) -> Result<Option<i64>, ParseError> {
        let Some(text) = self.text(name)? else { return Ok(None) };
        let bad = || invalid(&self.at(name), format!("'{text}' is not a whole number"));
        let d = parse_ab_amount(&text).map_err(|_| bad())?;
        if !d.fract().is_zero() {
            return Err(bad());
        }
        i64::try_from(d.trunc()).map(Some).map_err(|_| bad())
    }

    pub(super) fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
        match self.text(name)? {
            None => Ok(None),
            Some(t) => parse_ab_datetime(&t).map(Some).map_err(|m| invalid(&self.at(name), m)),
        }
    }

    /// A `Money` (or a bare amount, string or number), its currency settled by
    /// [`resolve_money`] with `fallback`.
    pub(super) fn money(&self, name: &str, fallback: Option<Currency>) -> Result<Option<Money>, ParseError> {
        let Some(raw) = self.raw_money(name)? else { return Ok(None) };
        resolve_money(raw, fallback).map_err(|m| invalid(&self.at(name), m))
    }

    pub(super) fn raw_money(&self, name: &str) -> Result<Option<RawMoney>, ParseError> {
        let Some(raw) = self.raw(name) else { return Ok(None) };
        let (amount, currency, at) = if raw.get().trim_start().starts_with('{') {
            let m = Obj::parse(raw, &self.at(name))?;
            let currency = match m.text("currencyCode")? {
                Some(c) => parse_ab_currency(&c).map_err(|e| invalid(&m.at("currencyCode"), e))?,
                None => None,
            };
            (m.text("amount")?, currency, m.at("amount"))
        } else {
            (self.text(name)?, None, self.at(name))
        };
        let Some(amount) = amount else { return Ok(None) };
        let amount = parse_ab_amount(&amount).map_err(|m| invalid(&at, m))?;
        Ok(Some(RawMoney { amount, currency }))
    }

    pub(super) fn currency(&self, name: &str) -> Result<Option<Currency>, ParseError> {
        match self.text(name)? {
            None => Ok(None),
            Some(c) => parse_ab_currency(&c).map_err(|e| invalid(&self.at(name), e)),
        }
    }

    pub(super) fn obj(&self, name: &str) -> Result<Option<Obj>, ParseError> {
        self.raw(name).map(|r| Obj::parse(r, &self.at(name))).transpose()
    }

    /// The objects of a list field (absent or `null`: none).
    pub(super) fn list(&self, name: &str) -> Result<Vec<Obj>, ParseError> {
        let Some(raw) = self.raw(name) else { return Ok(Vec::new()) };
        let at = self.at(name);
        if !raw.get().trim_start().starts_with('[') {
            return Err(invalid(&at, format!("expected a list, found {}", kind_of(raw))));
        }
        let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).map_err(|e| invalid(&at, strip_position(&e)))?;
        items.iter().enumerate().filter(|(_, r)| !is_null(r)).map(|(i, r)| Obj::parse(r, &format!("{at}/{i}"))).collect()
    }

    /// A free string-to-string map, in the order the answer lists it. Numbers and booleans
    /// are kept as their text; `null` values are skipped.
    pub(super) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, ParseError> {
        let Some(raw) = self.raw(name) else { return Ok(Vec::new()) };
        let at = self.at(name);
        if !raw.get().trim_start().starts_with('{') {
            return Err(invalid(&at, format!("expected an object, found {}", kind_of(raw))));
        }
        let OrderedEntries(entries) = serde_json::from_str(raw.get()).map_err(|e| invalid(&at, strip_position(&e)))?;
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let t = v.get().trim();
            let value = match t.as_bytes().first() {
                Some(b'n') => continue,
                Some(b'"') => serde_json::from_str::<String>(t).map_err(|e| invalid(&format!("{at}/{k}"), strip_position(&e)))?,
                Some(b'{' | b'[') => return Err(invalid(&format!("{at}/{k}"), format!("expected a string, found {}", kind_of(&v)))),
                _ => t.to_string(),
            };
            out.push((k, value));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(json: &str) -> Obj {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        Obj::parse(&raw, "/x").unwrap()
    }

    #[test]
    fn texts_ids_and_numbers() {
        let o = obj(r#"{"a": " A ", "b": 31208275451321, "c": "", "d": null, "e": true}"#);
        assert_eq!(o.text("a").unwrap().as_deref(), Some("A"));
        assert_eq!(o.text("b").unwrap().as_deref(), Some("31208275451321"));
        assert_eq!(o.text("c").unwrap(), None);
        assert_eq!(o.text("d").unwrap(), None);
        assert_eq!(o.text("missing").unwrap(), None);
        assert_eq!(o.text("e").unwrap_err().to_string(), "/x/e: expected a string, found a boolean");
    }

    #[test]
    fn whole_numbers() {
        let o = obj(r#"{"a": 1, "b": "2", "c": 2.0, "d": 2.5, "e": "x"}"#);
        assert_eq!((o.int("a").unwrap(), o.int("b").unwrap(), o.int("c").unwrap()), (Some(1), Some(2), Some(2)));
        assert_eq!(o.int("d").unwrap_err().to_string(), "/x/d: '2.5' is not a whole number");
        assert!(o.int("e").is_err());
    }

    #[test]
    fn money_by_its_digits_with_a_path_on_garbage() {
        let o = obj(r#"{"m": {"currencyCode": "USD", "amount": "5.99"}, "n": {"currencyCode": "USD", "amount": 0.1},
                       "u": {"currencyCode": "", "amount": "0"}, "g": {"currencyCode": "USD", "amount": "12,50"},
                       "c": {"currencyCode": "$", "amount": "1"}, "t": "1751.0"}"#);
        assert_eq!(o.money("m", None).unwrap().unwrap().to_string(), "5.99 USD");
        assert_eq!(o.money("n", None).unwrap().unwrap().amount.to_string(), "0.1", "a JSON number by its digits");
        assert_eq!(o.money("u", None).unwrap(), None);
        let e = o.money("g", None).unwrap_err().to_string();
        assert!(e.starts_with("/x/g/amount: '12,50' is not an amount"), "{e}");
        assert!(o.money("c", None).unwrap_err().to_string().starts_with("/x/c/currencyCode:"));
        let jpy = Currency::parse("JPY").ok();
        assert_eq!(o.money("t", jpy).unwrap().unwrap().to_string(), "1751.0 JPY", "a bare amount takes the document's currency");
        assert!(o.money("t", None).is_err());
    }

    #[test]
    fn string_maps_keep_their_order_and_read_loosely() {
        let o = obj(r#"{"m": {"GL code": "535-office", "COVID-19 Related?": "No", "Count": 3, "Gone": null, "Flag": false}}"#);
        let m = o.string_map("m").unwrap();
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["GL code", "COVID-19 Related?", "Count", "Flag"]);
        assert_eq!(m[2].1, "3");
        assert!(obj(r#"{"m": {"a": {"b": 1}}}"#).string_map("m").unwrap_err().to_string().starts_with("/x/m/a:"));
    }

    #[test]
    fn error_lists_are_recognised() {
        let e = root(r#"{"errors":[{"code":"INVALID_REQUEST_PARAMETER","message":"bad date"}]}"#, "transactions").err().unwrap();
        assert!(matches!(e, ParseError::ErrorList(ref l) if l[0].code == "INVALID_REQUEST_PARAMETER"), "{e:?}");
        assert!(matches!(root("not json", "transactions"), Err(ParseError::NotJson(_))));
        assert_eq!(
            root(r#"{"message":"Internal error"}"#, "transactions").err().unwrap().to_string(),
            "(root): the answer has no transactions"
        );
        assert!(root(r#"{"transactions": null}"#, "transactions").is_err(), "null is not an empty page");
        assert!(root(r#"{"transactions": []}"#, "transactions").is_ok());
        assert_eq!(root("[1]", "x").err().unwrap().to_string(), "(root): expected an object, found a list");
    }
}
