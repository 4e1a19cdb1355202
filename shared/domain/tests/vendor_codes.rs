//! The vendor side's stable codes, every variant walked from the enum itself (strum
//! `EnumIter`): one unique spelling each, the one its name promises, the same through
//! `as_str`, `Display`, `AsRef<str>`, `FromStr` and serde, and a description for a person.

use std::collections::BTreeSet;
use std::fmt::{Debug, Display};
use std::path::PathBuf;
use std::str::FromStr;

use invoice_domain::vendor::codes::{EligibilityCode, MappingCode, OrderErrorSource};
use invoice_domain::vendor::mapping::{eligibility, map_invoice, preview};
use invoice_domain::vendor::records::{Bundle, OrderError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use strum::IntoEnumIterator;

use invoice_domain::core::codes::kebab_case as kebab;

/// `SubmitInvoices` → `submitInvoices` (the SP-API operation's own name).
fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') && !s.starts_with('-') && !s.ends_with('-') && !s.contains("--")
}

/// Walks every variant of `T` and checks its spelling and description; returns the spellings.
fn walk<T>(as_str: fn(&T) -> &'static str, description: fn(&T) -> &'static str, spelling_of_name: fn(&str) -> String) -> Vec<&'static str>
where
    T: IntoEnumIterator + Debug + Copy + Eq + Display + FromStr + AsRef<str> + Into<&'static str> + Serialize + DeserializeOwned,
    <T as FromStr>::Err: Debug,
{
    let mut spellings = BTreeSet::new();
    let mut descriptions = BTreeSet::new();
    let mut order = Vec::new();
    for v in T::iter() {
        let s = as_str(&v);
        let name = format!("{v:?}");
        assert_eq!(s, spelling_of_name(&name), "{name}: spelled as its name promises");
        assert!(spellings.insert(s), "{s} is the spelling of two variants");
        // Every string form is the same one.
        assert_eq!(v.to_string(), s, "{name}: Display");
        assert_eq!(v.as_ref(), s, "{name}: AsRef<str>");
        assert_eq!(Into::<&'static str>::into(v), s, "{name}: IntoStaticStr");
        assert_eq!(T::from_str(s).unwrap(), v, "{name}: FromStr round trip");
        // Only that spelling: not the Rust name, not shouted, not snake_case.
        assert!(T::from_str(&name).is_err() || name == s, "{name}: the variant name is not a second spelling");
        assert!(T::from_str(&s.to_ascii_uppercase()).is_err(), "{name}: one spelling only");
        if s.contains('-') {
            assert!(T::from_str(&s.replace('-', "_")).is_err(), "{name}: one spelling only");
        }
        // serde: the same string, both ways.
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json, serde_json::json!(s), "{name}: serde spelling");
        assert_eq!(serde_json::from_value::<T>(json).unwrap(), v, "{name}: serde round trip");
        assert!(serde_json::from_value::<T>(serde_json::json!(name)).is_err() || name == s, "{name}: serde accepts one spelling");
        // A description a person can read.
        let d = description(&v);
        assert!(d.len() >= 12 && d.trim() == d && !d.ends_with('.'), "{name}: description {d:?}");
        assert!(d.chars().next().is_some_and(|c| !c.is_ascii_uppercase() || d.starts_with("Amazon")), "{name}: {d:?}");
        assert!(descriptions.insert(d), "{name}: description shared with another code");
        order.push(s);
    }
    assert!(!order.is_empty());
    order
}

#[test]
fn eligibility_codes_walk() {
    let all = walk::<EligibilityCode>(EligibilityCode::as_str, EligibilityCode::description, kebab);
    assert!(all.iter().all(|s| is_kebab(s)), "{all:?}");
    assert_eq!(all.len(), EligibilityCode::iter().count());
}

#[test]
fn mapping_codes_walk() {
    let all = walk::<MappingCode>(MappingCode::as_str, MappingCode::description, kebab);
    assert!(all.iter().all(|s| is_kebab(s)), "{all:?}");
    // No mapping code can be mistaken for an eligibility code in logs or Order Errors.
    for e in EligibilityCode::iter() {
        assert!(!all.contains(&e.as_str()), "{e} is both");
    }
}

#[test]
fn order_error_sources_walk() {
    let all = walk::<OrderErrorSource>(OrderErrorSource::as_str, OrderErrorSource::description, lower_camel);
    for s in &all {
        assert!(s.bytes().all(|b| b.is_ascii_alphabetic()) && s.starts_with(|c: char| c.is_ascii_lowercase()), "{s}");
    }
}

#[test]
fn stored_order_errors_still_read_and_write_the_same() {
    // Records as they were stored while `source` was a plain string.
    for stored in [
        r#"{"order_id":"100048","at":"2025-11-20T09:30:15.250Z","source":"mapping","code":"no-seller-for-vendor-id","message":"m"}"#,
        r#"{"order_id":"100047","at":"2025-11-20T09:30:16.000Z","source":"submitInvoices","code":"InvalidInput","message":"m"}"#,
        r#"{"order_id":"100046","at":"2025-11-22T12:00:00.000Z","source":"getTransaction","code":"INVALID_SHIP_TO","message":"m"}"#,
    ] {
        let e: OrderError = serde_json::from_str(stored).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), stored, "written back byte for byte");
    }
    let bad = r#"{"order_id":"1","at":"t","source":"Mapping","code":"c","message":"m"}"#;
    assert!(serde_json::from_str::<OrderError>(bad).is_err(), "one spelling only");
}

fn bundle(name: &str) -> Bundle {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor").join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn preview_prints_the_codes_as_before() {
    let p = serde_json::to_value(preview(&bundle("v03-no-seller-for-vendor-id.json"))).unwrap();
    assert_eq!(p["errors"][0]["code"], "no-seller-for-vendor-id");
    let p = serde_json::to_value(preview(&bundle("v04-not-eligible.json"))).unwrap();
    let reasons: Vec<&str> = p["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons[0].starts_with("order-not-shipped: order 100045 has status 'Packed'"), "{reasons:?}");
    assert!(reasons[1].starts_with("upload-disabled: "), "{reasons:?}");
    // The typed codes are what the functions return.
    let b = bundle("v04-not-eligible.json");
    let codes: Vec<EligibilityCode> = eligibility(&b.order, &b.account, true).iter().map(|r| r.code).collect();
    assert_eq!(codes, vec![EligibilityCode::OrderNotShipped, EligibilityCode::UploadDisabled, EligibilityCode::InvoiceExists]);
    let e = map_invoice(&bundle("v03-no-seller-for-vendor-id.json")).unwrap_err();
    assert_eq!(e[0].code, MappingCode::NoSellerForVendorId);
}
