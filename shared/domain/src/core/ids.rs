//! Ids as people send them. ERPs export ids as JSON numbers (`"id": 501`) as often as strings
//! (`"id": "501"`); both are the same id. A float (`501.5`), a negative number, a boolean, an
//! object or an empty string is a clear error, never silently turned into some other id.
//!
//! Use with serde: `#[serde(deserialize_with = "crate::core::ids::de_id")]` (or `de_opt_id`
//! for optional ids, with `#[serde(default)]`).

use serde::{Deserialize, Deserializer};

/// Why a value is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an id must be a whole number or a string, found the decimal number {0}")]
    Fractional(String),
    #[error("an id must not be negative, found {0}")]
    Negative(String),
    #[error("an id must be a whole number or a string, found {0}")]
    WrongType(&'static str),
    #[error("an id must not be empty")]
    Empty,
}

/// The id's text from a JSON value: strings are trimmed, whole non-negative numbers are
/// written in decimal (`501`, `1e3` is refused as not whole digits).
pub fn id_from_json(v: &serde_json::Value) -> Result<String, IdError> {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Err(IdError::Empty)
            } else {
                Ok(t.to_string())
            }
        }
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Ok(u.to_string())
            } else if n.as_i64().is_some() {
                Err(IdError::Negative(n.to_string()))
            } else {
                let text = n.to_string();
                if text.starts_with('-') {
                    Err(IdError::Negative(text))
                } else {
                    Err(IdError::Fractional(text))
                }
            }
        }
        Value::Null => Err(IdError::WrongType("null")),
        Value::Bool(_) => Err(IdError::WrongType("a boolean")),
        Value::Array(_) => Err(IdError::WrongType("a list")),
        Value::Object(_) => Err(IdError::WrongType("an object")),
    }
}

/// serde `deserialize_with` for a required id.
pub fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    id_from_json(&v).map_err(serde::de::Error::custom)
}

/// serde `deserialize_with` for an optional id: absent or `null` is `None`; `""` is `None`
/// too (spreadsheets export empty cells), anything else must be a valid id.
pub fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => id_from_json(&v).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(deserialize_with = "de_id")]
        id: String,
        #[serde(default, deserialize_with = "de_opt_id")]
        other: Option<String>,
    }

    fn parse(v: serde_json::Value) -> Result<T, String> {
        serde_json::from_value::<T>(v).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_strings_are_the_same_id() {
        assert_eq!(parse(json!({"id": 501})).unwrap().id, "501");
        assert_eq!(parse(json!({"id": "501"})).unwrap().id, "501");
        assert_eq!(parse(json!({"id": " 501 "})).unwrap().id, "501");
        assert_eq!(parse(json!({"id": "PO-7"})).unwrap().id, "PO-7");
        assert_eq!(parse(json!({"id": 1, "other": 42})).unwrap().other.as_deref(), Some("42"));
        assert_eq!(parse(json!({"id": 1})).unwrap().other, None);
        assert_eq!(parse(json!({"id": 1, "other": null})).unwrap().other, None);
        assert_eq!(parse(json!({"id": 1, "other": ""})).unwrap().other, None);
        assert_eq!(parse(json!({"id": u64::MAX})).unwrap().id, u64::MAX.to_string());
    }

    #[test]
    fn floats_negatives_and_other_types_are_clear_errors() {
        let e = parse(json!({"id": 501.5})).unwrap_err();
        assert!(e.contains("decimal number 501.5"), "{e}");
        let e = parse(json!({"id": -3})).unwrap_err();
        assert!(e.contains("must not be negative, found -3"), "{e}");
        let e = parse(json!({"id": -3.5})).unwrap_err();
        assert!(e.contains("negative"), "{e}");
        assert!(parse(json!({"id": ""})).unwrap_err().contains("must not be empty"));
        assert!(parse(json!({"id": true})).unwrap_err().contains("a boolean"));
        assert!(parse(json!({"id": null})).unwrap_err().contains("null"));
        assert!(parse(json!({"id": [1]})).unwrap_err().contains("a list"));
        assert!(parse(json!({"id": 1, "other": 2.5})).unwrap_err().contains("decimal"));
    }
}
