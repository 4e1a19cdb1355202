//! The `placeOrder` bodies the builder makes, validated against the Ordering API model
//! (`fixtures/Ordering_API.json`, a byte copy of the reference model), and the guide's sample
//! request and response held against the same model.
//!
//! The Swagger 2.0 definitions become a JSON Schema (draft 2020-12) the way
//! `infra/spapi-emulator/src/model.rs` does it for the vendor model, plus what Swagger's
//! `discriminator` means and JSON Schema lacks: wherever the model refers to a base with a
//! discriminator (`Attribute` by `attributeType`, `Expectation` by `expectationType`, `Address`
//! by `addressType`, …) the object is validated against the subtype its discriminator names
//! (the definition of that name, with `allOf` of the base), an unknown name fails, and — for
//! request bodies — a property no schema of the object declares fails (`unevaluatedProperties`),
//! so a misspelt field is caught, optional or not.
//!
//! Where the model falls short of the guide it is supplemented, each time checked to still be
//! so (a model that grows the definition makes the test fail, and the supplement goes):
//! - subtypes the guide's sample uses and the model does not define: `ExpectedDeliveryDate`
//!   (`requestedDeliveryDate`, a date-time string), `ProductIdentifier` (`id`),
//!   `GroupIdentity` (`identifier`), `UserEmail` (`emailAddress`, an e-mail),
//!   `StoredPaymentMethod` (no fields);
//! - `Auxiliary` requires `auxiliaryValues` but declares (as the sample sends) `values`: it
//!   requires `values`.

use invoice_domain::ordering::po::PoInput;
use invoice_domain::ordering::{build, PlaceOrderRequest};
use serde_json::{json, Map, Value};

const MODEL: &str = include_str!("fixtures/Ordering_API.json");
const SPEC_SAMPLE_REQUEST: &str = include_str!("fixtures/ordering/spec-sample-request.json");
const SPEC_SAMPLE_RESPONSE: &str = include_str!("fixtures/ordering/spec-sample-response.json");
const PO_4711: &str = include_str!("../../../tests/fixtures/po/po-4711.json");
const PO_SPEC_SAMPLE: &str = include_str!("../../../tests/fixtures/po/po-spec-sample.json");

/// (base, subtype, the subtype's own part) for subtypes the model lacks.
fn supplements() -> Vec<(&'static str, &'static str, Value)> {
    let text = json!({"type": "string", "minLength": 1});
    vec![
        (
            "Expectation",
            "ExpectedDeliveryDate",
            json!({"required": ["requestedDeliveryDate"], "properties": {"requestedDeliveryDate": {"type": "string", "format": "date-time"}}}),
        ),
        ("ProductReference", "ProductIdentifier", json!({"required": ["id"], "properties": {"id": text}})),
        ("GroupReference", "GroupIdentity", json!({"required": ["identifier"], "properties": {"identifier": text}})),
        (
            "UserReference",
            "UserEmail",
            json!({"required": ["emailAddress"], "properties": {"emailAddress": {"type": "string", "format": "email"}}}),
        ),
        ("PaymentMethodReference", "StoredPaymentMethod", json!({})),
    ]
}

fn model() -> Value {
    serde_json::from_str(MODEL).expect("Ordering_API.json is JSON")
}

/// Drops Swagger vendor extensions (`x-…`) and `example`; names under `properties` and
/// `definitions` are kept.
fn strip_swagger_only(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-") && k != "example");
            for (k, v) in map.iter_mut() {
                if k == "properties" || k == "definitions" {
                    if let Value::Object(named) = v {
                        named.values_mut().for_each(strip_swagger_only);
                    }
                } else if k != "enum" {
                    strip_swagger_only(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_swagger_only),
        _ => {}
    }
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

fn referenced(part: &Value) -> Option<&str> {
    part.get("$ref")?.as_str()?.strip_prefix("#/definitions/")
}

/// A definition with its `allOf` chain merged into one object schema: every property and
/// every required name of the definition and of what it extends.
fn flattened(defs: &Map<String, Value>, name: &str) -> (Map<String, Value>, Vec<String>) {
    let def = &defs[name];
    let mut properties = Map::new();
    let mut required: Vec<String> = Vec::new();
    let take = |part: &Value, properties: &mut Map<String, Value>, required: &mut Vec<String>| {
        if let Some(p) = part.get("properties").and_then(Value::as_object) {
            properties.extend(p.clone());
        }
        required.extend(part.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string));
    };
    take(def, &mut properties, &mut required);
    for part in def.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        match referenced(part) {
            Some(parent) => {
                let (p, r) = flattened(defs, parent);
                properties.extend(p);
                required.extend(r);
            }
            None => take(part, &mut properties, &mut required),
        }
    }
    required.sort();
    required.dedup();
    (properties, required)
}

/// Does `name` extend `base` (through its `allOf` chain)?
fn extends(defs: &Map<String, Value>, name: &str, base: &str) -> bool {
    defs[name]
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(referenced)
        .any(|p| p == base || extends(defs, p, base))
}

/// The model's definitions as JSON Schema. Each discriminated base becomes a dispatch on its
/// discriminator to the subtype of that name; each subtype is its `allOf` chain merged into one
/// object with the discriminator fixed to its name. `strict`: no undeclared properties in
/// any object (`additionalProperties: false`).
fn definitions(strict: bool) -> Map<String, Value> {
    let mut model_defs = model()["definitions"].as_object().expect("definitions").clone();
    for def in model_defs.values_mut() {
        strip_swagger_only(def);
    }
    // The model's slip: Auxiliary declares `values` and requires `auxiliaryValues`.
    model_defs["Auxiliary"]["allOf"][1]["required"] = json!(["values"]);
    for (base, name, own) in supplements() {
        model_defs.insert(name.to_string(), json!({"allOf": [reference(base), own]}));
    }
    let bases: Vec<(String, String)> = model_defs
        .iter()
        .filter_map(|(name, def)| def.get("discriminator").and_then(Value::as_str).map(|d| (name.clone(), d.to_string())))
        .collect();

    let mut defs = Map::new();
    for (name, def) in &model_defs {
        let base = bases.iter().find(|(b, _)| b == name || extends(&model_defs, name, b));
        let schema = match base {
            // A base: dispatch to the subtype its discriminator names. A base the model defines
            // no subtype of (BuyingOptionReference) takes no object at all.
            Some((b, discriminator)) if b == name => {
                let subtypes: Vec<&String> = model_defs.keys().filter(|n| extends(&model_defs, n, b)).collect();
                let names = if subtypes.is_empty() { json!(false) } else { json!({"enum": subtypes}) };
                let mut d = json!({"type": "object", "required": [discriminator], "properties": {discriminator: names}});
                if !subtypes.is_empty() {
                    d["allOf"] = subtypes
                        .iter()
                        .map(|s| json!({"if": {"required": [discriminator], "properties": {discriminator: {"const": s}}}, "then": reference(s)}))
                        .collect();
                }
                d
            }
            // A subtype: one closed object, its discriminator its own name.
            Some((_, discriminator)) => {
                let (mut properties, required) = flattened(&model_defs, name);
                properties.insert(discriminator.clone(), json!({"const": name}));
                let mut d = json!({"type": "object", "properties": properties, "required": required});
                if strict {
                    d["additionalProperties"] = json!(false);
                }
                d
            }
            None => {
                let mut d = def.clone();
                if strict && d.get("properties").is_some() && d.get("additionalProperties").is_none() && d.get("allOf").is_none() {
                    d["additionalProperties"] = json!(false);
                }
                d
            }
        };
        defs.insert(name.clone(), schema);
    }
    defs
}

fn validator(root: &str, strict: bool) -> jsonschema::Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/definitions/{root}"),
        "definitions": definitions(strict),
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the {root} schema compiles: {e}"))
}

fn request_validator() -> jsonschema::Validator {
    validator("PlaceOrderRequest", true)
}

/// `<JSON pointer>: <message>` per violation.
fn violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| {
            let path = e.instance_path().as_str().to_string();
            format!("{}: {e}", if path.is_empty() { "(root)" } else { &path })
        })
        .collect()
}

/// The distinct instance paths of the violations.
fn paths(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    let mut p: Vec<String> = validator.iter_errors(body).map(|e| e.instance_path().as_str().to_string()).collect();
    p.sort();
    p.dedup();
    p
}

fn body(po: &str) -> PlaceOrderRequest {
    let input: PoInput = serde_json::from_str(po).unwrap();
    build(&input).unwrap_or_else(|p| panic!("builds: {p:?}")).1
}

fn as_value(body: &PlaceOrderRequest) -> Value {
    serde_json::from_str(&body.to_json()).unwrap()
}

const MINIMAL_PO: &str = r#"{
    "po_number": 1, "external_id": 1, "currency": "EUR", "buying_group_id": "G", "buyer_email": "a@b.de", "region": "DE",
    "ship_to": {"address_id": 1, "full_name": "A", "address_line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country_code": "DE"},
    "bill_to": {"address_id": 2, "full_name": "A", "address_line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country_code": "DE"},
    "lines": [{"line_number": 1, "asin": "B000000001", "quantity": 1, "expected_unit_price": 0.1, "expected_subtotal": 0.1}]
}"#;

fn fifty_lines() -> String {
    let mut po: Value = serde_json::from_str(MINIMAL_PO).unwrap();
    po["lines"] = (1..=50)
        .map(|i| {
            json!({"line_number": format!("{i:04}"), "asin": format!("B{i:09}"), "quantity": i, "expected_unit_price": "19.99",
                   "expected_subtotal": format!("{}", rust_decimal::Decimal::new(1999 * i, 2)),
                   "category": "OFFICE_PRODUCTS", "sub_category": "PAPER",
                   "distributions": [{"accounting_name": "Org", "charge": format!("{}", rust_decimal::Decimal::new(1999 * i, 2)),
                                      "segments": (1..=15).map(|s| json!({"id": s, "type": format!("T{s}")})).collect::<Vec<_>>()}]})
        })
        .collect();
    po.to_string()
}

#[test]
fn built_bodies_validate_against_the_model() {
    let v = request_validator();
    let mut optional_absent: Value = serde_json::from_str(PO_4711).unwrap();
    optional_absent["expected"] = json!({});
    optional_absent["requested_delivery_date"] = Value::Null;
    for address in ["ship_to", "bill_to"] {
        for field in ["company_name", "phone", "address_line2"] {
            optional_absent[address][field] = Value::Null;
        }
    }
    for line in optional_absent["lines"].as_array_mut().unwrap() {
        line["category"] = Value::Null;
        line["sub_category"] = Value::Null;
        line["distributions"] = json!([]);
    }
    for (name, po) in [
        ("the guide's sample", PO_SPEC_SAMPLE.to_string()),
        ("PO-4711 (multi-distribution)", PO_4711.to_string()),
        ("minimal", MINIMAL_PO.to_string()),
        ("50 lines, 15 segments each", fifty_lines()),
        ("optional fields absent", optional_absent.to_string()),
    ] {
        let b = as_value(&body(&po));
        assert_eq!(violations(&v, &b), Vec::<String>::new(), "{name}");
    }
    assert_eq!(body(&fifty_lines()).line_items.len(), 50);
}

/// The dispatch really checks: what a wrong body looks like is refused.
#[test]
fn the_model_refuses_what_is_wrong() {
    let v = request_validator();
    let good = as_value(&body(PO_4711));
    assert!(v.is_valid(&good));
    let wrong = |change: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        change(&mut b);
        paths(&v, &b)
    };
    // A misspelt required field of a subtype.
    let p = wrong(&|b| {
        let a = b["attributes"][0].as_object_mut().unwrap();
        let n = a.remove("purchaseOrderNumber").unwrap();
        a.insert("purchaseOrderNumbr".into(), n);
    });
    assert_eq!(p, ["/attributes/0"]);
    // A misspelt optional field, deep in an address.
    let p = wrong(&|b| {
        let a = b["attributes"][4]["address"]["address"].as_object_mut().unwrap();
        let n = a.remove("companyName").unwrap();
        a.insert("companyNmae".into(), n);
    });
    assert_eq!(p, ["/attributes/4/address/address"]);
    // A field of another subtype.
    assert_eq!(wrong(&|b| b["attributes"][3]["purchaseOrderNumber"] = json!("PO-4711")), ["/attributes/3"]);
    // An unknown subtype name.
    assert_eq!(
        wrong(&|b| b["lineItems"][0]["expectations"][0]["expectationType"] = json!("ExpectedPrice")),
        ["/lineItems/0/expectations/0/expectationType"]
    );
    // The discriminator missing.
    let p = wrong(&|b| {
        b["lineItems"][0]["attributes"][0].as_object_mut().unwrap().remove("attributeType");
    });
    assert!(p.iter().any(|p| p == "/lineItems/0/attributes/0"), "{p:?}");
    // An amount as a string, a quantity of 0, an unknown region, an empty postal code.
    assert_eq!(
        wrong(&|b| b["lineItems"][0]["expectations"][0]["amount"]["amount"] = json!("60.00")),
        ["/lineItems/0/expectations/0/amount/amount"]
    );
    assert_eq!(wrong(&|b| b["lineItems"][0]["quantity"] = json!(0)), ["/lineItems/0/quantity"]);
    assert_eq!(wrong(&|b| b["attributes"][3]["region"] = json!("GB")), ["/attributes/3/region"]);
    assert_eq!(
        wrong(&|b| b["attributes"][5]["address"]["address"]["postalCode"] = json!("")),
        ["/attributes/5/address/address/postalCode"]
    );
    // The Auxiliary attribute needs its values.
    let p = wrong(&|b| {
        b["lineItems"][0]["attributes"][1].as_object_mut().unwrap().remove("values");
    });
    assert_eq!(p, ["/lineItems/0/attributes/1"]);
    // 51 line items.
    let p = wrong(&|b| {
        let item = b["lineItems"][0].clone();
        b["lineItems"] = Value::Array(vec![item; 51]);
    });
    assert_eq!(p, ["/lineItems"]);
    // A misspelt top-level field.
    assert_eq!(wrong(&|b| b["externalID"] = json!("x")), [""]);
}

/// The guide's sample request (its missing quote added) breaks the model exactly where the
/// builder's body differs from it (see the domain's `the_guides_sample_request_from_the_same_po`).
#[test]
fn the_guides_sample_request_breaks_the_model_where_the_builder_differs() {
    let v = request_validator();
    let sample: Value = serde_json::from_str(SPEC_SAMPLE_REQUEST).unwrap();
    assert_eq!(
        paths(&v, &sample),
        [
            "/attributes/2/userReference/emailAddress",
            "/attributes/4/address/address/phoneNumber",
            "/attributes/4/address/address/postalCode",
            "/attributes/5/address/address/phoneNumber",
            "/attributes/5/address/address/postalCode",
            "/externalId",
        ]
    );
}

/// The guide's sample response is read by the parser although it breaks the model: its
/// accepted item has no `acceptedItemType`, and `DeliveryTimeRange`'s boundaries are strings
/// where the model has `DateTime` objects (`{"date": …}`). The parser takes both forms.
#[test]
fn the_guides_sample_response_against_the_model() {
    let v = validator("PlaceOrderResult", false);
    let mut sample: Value = serde_json::from_str(SPEC_SAMPLE_RESPONSE).unwrap();
    assert_eq!(paths(&v, &sample), ["/lineItems/0/acceptedItems/0"], "no acceptedItemType");
    sample["lineItems"][0]["acceptedItems"][0]["acceptedItemType"] = json!("SingleAcceptedItem");
    assert_eq!(
        paths(&v, &sample),
        ["/lineItems/0/acceptedItems/0/artifacts/0/lowerBoundary", "/lineItems/0/acceptedItems/0/artifacts/0/upperBoundary"],
        "boundaries as strings"
    );
    for side in ["lowerBoundary", "upperBoundary"] {
        let boundary = &mut sample["lineItems"][0]["acceptedItems"][0]["artifacts"][0][side];
        *boundary = json!({"date": boundary.clone()});
    }
    assert_eq!(paths(&v, &sample), Vec::<String>::new());
}

/// The supplements are needed: the model still lacks them and still has its slip.
#[test]
fn the_models_gaps_are_still_there() {
    let m = model();
    let defs = m["definitions"].as_object().unwrap();
    for (base, name, _) in supplements() {
        assert!(defs.contains_key(base), "{base}");
        assert!(!defs.contains_key(name), "the model now defines {name}: use it, drop the supplement");
    }
    assert_eq!(defs["Auxiliary"]["allOf"][1]["required"], json!(["auxiliaryValues"]));
    assert!(defs["Auxiliary"]["allOf"][1]["properties"].get("values").is_some());
    assert_eq!(m["definitions"]["PlaceOrderRequest"]["properties"]["lineItems"]["maxItems"], json!(50));
    assert_eq!(m["definitions"]["Accounting"]["properties"]["segments"]["maxItems"], json!(15));
}

/// The answers the parser's tests read are answers the model allows (but the one made of
/// artifact types the model does not have).
#[test]
fn the_answer_fixtures_follow_the_model() {
    let place = validator("PlaceOrderResult", false);
    let details = validator("OrderDetailsResult", false);
    for (name, text) in [
        ("partially-rejected", include_str!("fixtures/ordering/partially-rejected.json")),
        ("rejected", include_str!("fixtures/ordering/rejected.json")),
        ("item-group", include_str!("fixtures/ordering/item-group.json")),
    ] {
        let answer: Value = serde_json::from_str(text).unwrap();
        assert_eq!(violations(&place, &answer), Vec::<String>::new(), "{name}");
    }
    let answer: Value = serde_json::from_str(include_str!("fixtures/ordering/order-details.json")).unwrap();
    assert_eq!(violations(&details, &answer), Vec::<String>::new(), "order-details");
    let answer: Value = serde_json::from_str(include_str!("fixtures/ordering/unknown-artifacts.json")).unwrap();
    assert!(!place.is_valid(&answer), "unknown artifact types are not the model's");
}
