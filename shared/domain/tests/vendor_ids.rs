//! Ids as people send them, in order bundles: ERPs export ids as JSON numbers as often as
//! strings. `"id": 501` and `"id": "501"` are the same id and make the same invoice; a decimal,
//! a negative number or another type is refused with an error that says what is wrong.
//! Quantities must be whole numbers.

use std::path::PathBuf;

use invoice_domain::vendor::mapping::{map_invoice, preview};
use invoice_domain::vendor::records::Bundle;
use serde_json::Value;

/// Every field of a bundle that holds an identifier.
const ID_FIELDS: &[&str] = &[
    "id",
    "channel_item_id",
    "item_transaction_id",
    "marketplace_order_id",
    "purchase_order_selling_party",
    "shipping_address_id",
    "default_location_id",
    "vendor_id",
    "location_id",
];

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor").join(name)).unwrap()
}

fn parse(v: &Value) -> Result<Bundle, String> {
    // Through the text, as `invoicectl vendor preview` reads a file.
    serde_json::from_str::<Bundle>(&v.to_string()).map_err(|e| e.to_string())
}

/// JSON pointers of every id field present in `v` (including `null` ones).
fn id_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{k}");
                if ID_FIELDS.contains(&k.as_str()) {
                    out.push(p.clone());
                }
                id_pointers(x, p, out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| id_pointers(x, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// The same bundle with every numeric id written as a string.
fn ids_as_strings(v: &Value) -> Value {
    let mut v = v.clone();
    let mut ptrs = Vec::new();
    id_pointers(&v, String::new(), &mut ptrs);
    for p in ptrs {
        let x = v.pointer_mut(&p).unwrap();
        if let Value::Number(n) = x {
            *x = Value::String(n.to_string());
        }
    }
    v
}

fn numeric() -> Value {
    serde_json::from_str(&fixture_text("v05-numeric-ids.json")).unwrap()
}

#[test]
fn numeric_ids_make_exactly_the_same_invoice_as_string_ids() {
    let raw = numeric();
    let mut ptrs = Vec::new();
    id_pointers(&raw, String::new(), &mut ptrs);
    let numbers = ptrs.iter().filter(|p| raw.pointer(p).unwrap().is_number()).count();
    assert!(numbers >= 15, "the fixture writes its ids as numbers ({numbers} of {})", ptrs.len());

    let from_numbers = parse(&raw).unwrap();
    let from_strings = parse(&ids_as_strings(&raw)).unwrap();
    assert_eq!(from_numbers, from_strings, "the same records");
    let a = map_invoice(&from_numbers).unwrap();
    let b = map_invoice(&from_strings).unwrap();
    assert_eq!(a, b);
    let body = serde_json::to_string(&a.request).unwrap();
    assert_eq!(body, serde_json::to_string(&b.request).unwrap(), "byte for byte the same body");
    assert_eq!(serde_json::to_value(preview(&from_numbers)).unwrap(), serde_json::to_value(preview(&from_strings)).unwrap());

    // And the ids are where the mapping puts them, as decimal digits.
    let inv = &a.request.invoices[0];
    assert_eq!(inv.id, "501");
    assert_eq!(inv.remit_to_party.party_id, "70412", "Seller matched by a numeric Vendor ID");
    assert_eq!(inv.ship_to_party.as_ref().unwrap().party_id, "4411");
    assert_eq!(
        inv.ship_to_party.as_ref().unwrap().address.as_ref().unwrap().name,
        "Amazon SBD1",
        "Delivery Location matched by a numeric id"
    );
    assert_eq!(inv.ship_from_party.as_ref().unwrap().party_id, "70413", "default Location 12 matched by a numeric id");
    assert_eq!(inv.items.len(), 2);
    assert_eq!(inv.items[0].vendor_product_identifier.as_deref(), Some("8092815100"));
    assert_eq!(inv.items[0].purchase_order_number.as_deref(), Some("48213377"));
    assert_eq!(inv.items[1].amazon_product_identifier.as_deref(), Some("1492052590"), "a book's ASIN is its ISBN-10");
    assert_eq!((inv.items[1].invoiced_quantity.unit_of_measure.as_str(), inv.items[1].invoiced_quantity.unit_size), ("Cases", Some(10)));
    assert_eq!(inv.invoice_total.amount, "436.16", "12 × 21.35 + 4 × 44.99");
    assert_eq!(from_numbers.order.items[0].id, "9001");
}

#[test]
fn the_string_fixtures_read_as_before() {
    // Ids written as strings keep their exact text (trimmed), dashes and leading zeros included.
    let b: Bundle = serde_json::from_str(&fixture_text("v01-shipped-order.json")).unwrap();
    assert_eq!(b.order.id, "100045");
    assert_eq!(b.order.items[1].item_transaction_id.as_deref(), Some("795000-0001"));
    assert_eq!(b.account.default_location_id.as_deref(), Some("LOC-TACOMA"));
    let mut v: Value = serde_json::from_str(&fixture_text("v01-shipped-order.json")).unwrap();
    v["order"]["id"] = " 000501 ".into();
    v["order"]["marketplace_order_id"] = "".into();
    v["account"]["default_location_id"] = Value::Null;
    let b = parse(&v).unwrap();
    assert_eq!(b.order.id, "000501");
    assert_eq!(b.order.marketplace_order_id, None, "an empty cell is no id");
    assert_eq!(b.account.default_location_id, None);
    let mut v: Value = serde_json::from_str(&fixture_text("v01-shipped-order.json")).unwrap();
    v["order"].as_object_mut().unwrap().remove("shipping_address_id");
    v["sellers"][0].as_object_mut().unwrap().remove("vendor_id");
    let b = parse(&v).unwrap();
    assert_eq!((b.order.shipping_address_id, b.sellers[0].vendor_id.clone()), (None, None), "an absent optional id is None");
}

#[test]
fn every_id_field_takes_a_number() {
    // Walks the fields of a fully written bundle (every id field present), not a list of paths.
    let mut ptrs = Vec::new();
    let full = serde_json::to_value(parse(&numeric()).unwrap()).unwrap();
    id_pointers(&full, String::new(), &mut ptrs);
    assert!(ptrs.len() >= 22, "{ptrs:?}");
    for p in &ptrs {
        let mut v = full.clone();
        *v.pointer_mut(p).unwrap() = 77.into();
        let b = parse(&v).unwrap_or_else(|e| panic!("{p} = 77: {e}"));
        let back = serde_json::to_value(&b).unwrap();
        assert_eq!(back.pointer(p), Some(&Value::from("77")), "{p}");
    }
}

#[test]
fn every_id_field_refuses_decimals_negatives_and_other_types_clearly() {
    let raw = numeric();
    let mut ptrs = Vec::new();
    id_pointers(&raw, String::new(), &mut ptrs);
    for p in &ptrs {
        let with = |x: Value| {
            let mut v = raw.clone();
            *v.pointer_mut(p).unwrap() = x;
            parse(&v)
        };
        let e = with(serde_json::json!(501.5)).expect_err(p);
        assert!(e.contains("an id must be a whole number or a string, found the decimal number 501.5"), "{p}: {e}");
        assert!(e.contains("line 1 column"), "{p}: where it is: {e}");
        let e = with(serde_json::json!(-7)).expect_err(p);
        assert!(e.contains("an id must not be negative, found -7"), "{p}: {e}");
        let e = with(serde_json::json!(-7.25)).expect_err(p);
        assert!(e.contains("must not be negative"), "{p}: {e}");
        let e = with(serde_json::json!(true)).expect_err(p);
        assert!(e.contains("an id must be a whole number or a string, found a boolean"), "{p}: {e}");
        let e = with(serde_json::json!({"id": 1})).expect_err(p);
        assert!(e.contains("found an object"), "{p}: {e}");
        let e = with(serde_json::json!([501])).expect_err(p);
        assert!(e.contains("found a list"), "{p}: {e}");
    }
}

#[test]
fn required_ids_must_not_be_empty_or_null() {
    for p in ["/order/id", "/order/items/0/id", "/locations/0/id", "/delivery_locations/0/location_id"] {
        for x in [Value::from(""), Value::from("   "), Value::Null] {
            let mut v = numeric();
            *v.pointer_mut(p).unwrap() = x.clone();
            let e = parse(&v).expect_err(p);
            assert!(e.contains("an id must not be empty") || e.contains("found null"), "{p} = {x}: {e}");
        }
    }
}

#[test]
fn quantities_refuse_decimals_clearly() {
    let with = |p: &str, x: Value| {
        let mut v = numeric();
        *v.pointer_mut(p).unwrap() = x;
        parse(&v)
    };
    let e = with("/order/items/0/quantity", serde_json::json!(12.5)).unwrap_err();
    assert!(e.contains("a quantity must be a whole number, found the decimal number 12.5"), "{e}");
    let e = with("/order/items/0/quantity", serde_json::json!(12.0)).unwrap_err();
    assert!(e.contains("a quantity must be a whole number, found the decimal number 12.0"), "{e}");
    let e = with("/order/items/0/quantity", serde_json::json!("12")).unwrap_err();
    assert!(e.contains("a quantity must be a whole number, found the text \"12\""), "{e}");
    let e = with("/order/items/0/quantity", Value::Null).unwrap_err();
    assert!(e.contains("a quantity must be a whole number, found null"), "{e}");
    let e = with("/order/items/0/quantity", serde_json::json!(u64::MAX)).unwrap_err();
    assert!(e.contains("a quantity 18446744073709551615 is too large"), "{e}");
    let e = with("/order/items/2/unit_size", serde_json::json!(6.5)).unwrap_err();
    assert!(e.contains("a unit size must be a whole number, found the decimal number 6.5"), "{e}");
    assert_eq!(with("/order/items/2/unit_size", Value::Null).unwrap().order.items[2].unit_size, None);
    // A negative whole quantity reads, and the mapping reports it (invalid-quantity).
    let b = with("/order/items/0/quantity", serde_json::json!(-2)).unwrap();
    let e = map_invoice(&b).unwrap_err();
    assert_eq!(e[0].code.as_str(), "invalid-quantity");
}
