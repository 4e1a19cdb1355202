//! Reading JSON by hand where serde's derive cannot keep what the domain needs.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON object's entries in their order, each value as its raw text (numbers keep their
/// digits). Read with `serde_json::from_str` from the object's text.
pub struct OrderedEntries(pub Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for OrderedEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedEntries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(OrderedEntries(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn entries_keep_their_order_and_digits() {
        let e: super::OrderedEntries = serde_json::from_str(r#"{"b": 1.50, "a": "x", "c": {"d": 2}}"#).unwrap();
        let got: Vec<(&str, &str)> = e.0.iter().map(|(k, v)| (k.as_str(), v.get())).collect();
        assert_eq!(got, vec![("b", "1.50"), ("a", "\"x\""), ("c", "{\"d\": 2}")]);
        assert!(serde_json::from_str::<super::OrderedEntries>("[1]").is_err());
    }
}
