//! The official model as a JSON Schema.

use crate::VENDOR_INVOICES_MODEL;
use serde_json::{json, Value};

/// The regular expression the model gives for `Decimal`, read from its description
/// (the model has no `pattern` keyword): `^-?(0|([1-9]\d*))(\.\d+)?([eE][+-]?\d+)?$`.
pub fn decimal_pattern(model: &Value) -> Option<String> {
    let description = model.pointer("/definitions/Decimal/description")?.as_str()?;
    let (_, rest) = description.split_once("**Pattern** : `")?;
    let (pattern, _) = rest.split_once('`')?;
    Some(pattern.to_owned())
}

/// Drops Swagger vendor extensions (`x-…`) and `example` from schema objects. Keys inside
/// `properties`/`definitions` are names, not keywords, and are kept.
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

/// JSON Schema (draft 4, which Swagger 2.0 schema objects are based on) for the
/// submitInvoices request body, built from the model's `definitions` plus:
/// - `Decimal.pattern` = the prose pattern, with `\d` spelled `[0-9]` (ASCII digits only);
/// - `SubmitInvoicesRequest.required = ["invoices"]`.
pub fn submit_invoices_schema() -> Value {
    let model: Value = serde_json::from_str(VENDOR_INVOICES_MODEL).expect("vendorInvoices.json is JSON");
    let pattern = decimal_pattern(&model).expect("Decimal description states its pattern");
    let mut definitions = model["definitions"].clone();
    strip_swagger_only(&mut definitions);
    definitions["Decimal"]["pattern"] = Value::String(pattern.replace("\\d", "[0-9]"));
    definitions["SubmitInvoicesRequest"]["required"] = json!(["invoices"]);
    json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$ref": "#/definitions/SubmitInvoicesRequest",
        "definitions": definitions,
    })
}

/// Compiled validator for submitInvoices bodies, format validation on (`date-time`).
pub fn submit_invoices_validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&submit_invoices_schema())
        .expect("submitInvoices schema compiles")
}

/// One message per violation: `<JSON pointer>: <validator message>` (`(root)` for the
/// document itself).
pub fn violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| {
            let path = e.instance_path().as_str();
            let path = if path.is_empty() { "(root)" } else { path };
            format!("{path}: {e}")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Amazon Business Ordering API (models/Ordering_API.json)

/// Subtypes the spec's sample request uses (`ExpectedDeliveryDate`, `ProductIdentifier`,
/// `GroupIdentity`, `UserEmail`, `StoredPaymentMethod`) and the buying-option identifier, which
/// the model names only through their base type's discriminator. Each: (name, base, required
/// properties, properties).
fn ordering_supplements() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "ExpectedDeliveryDate",
            "Expectation",
            json!({"required": ["requestedDeliveryDate"], "properties": {"requestedDeliveryDate": {"type": "string", "format": "date-time"}}}),
        ),
        ("ProductIdentifier", "ProductReference", json!({"required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}})),
        (
            "BuyingOptionIdentifier",
            "BuyingOptionReference",
            json!({"required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}}),
        ),
        (
            "GroupIdentity",
            "GroupReference",
            json!({"required": ["identifier"], "properties": {"identifier": {"type": "string", "minLength": 1}}}),
        ),
        (
            "UserEmail",
            "UserReference",
            json!({"required": ["emailAddress"], "properties": {"emailAddress": {"type": "string", "minLength": 1}}}),
        ),
        ("StoredPaymentMethod", "PaymentMethodReference", json!({})),
    ]
}

/// The model's definitions with the supplements and fix-ups, before closing.
fn ordering_definitions() -> serde_json::Map<String, Value> {
    let model: Value = serde_json::from_str(crate::ORDERING_MODEL).expect("Ordering_API.json is JSON");
    let mut definitions = model["definitions"].clone();
    strip_swagger_only(&mut definitions);
    let Value::Object(mut defs) = definitions else { panic!("Ordering_API.json has definitions") };
    for (name, base, extra) in ordering_supplements() {
        defs.insert(name.to_owned(), json!({"allOf": [{"$ref": format!("#/definitions/{base}")}, extra]}));
    }
    // `Auxiliary` requires `auxiliaryValues` but only defines `values` (the property the spec's
    // sample sends): closed, it could never validate. Required is what it defines.
    if let Some(parts) = defs.get_mut("Auxiliary").and_then(|a| a.get_mut("allOf")).and_then(Value::as_array_mut) {
        for part in parts.iter_mut().filter(|p| p.get("required").is_some()) {
            part["required"] = json!(["values"]);
        }
    }
    defs
}

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?.as_str()?.strip_prefix("#/definitions/")
}

/// The discriminated base a definition extends (through `allOf` `$ref`s), with its
/// discriminator property.
fn base_of<'a>(defs: &'a serde_json::Map<String, Value>, name: &'a str) -> Option<(&'a str, &'a str)> {
    let def = defs.get(name)?;
    if let Some(d) = def.get("discriminator").and_then(Value::as_str) {
        return Some((name, d));
    }
    def.get("allOf")?.as_array()?.iter().filter_map(ref_name).find_map(|parent| base_of(defs, parent))
}

/// A definition with its `allOf` chain merged: every property and required name.
fn flatten(defs: &serde_json::Map<String, Value>, name: &str, props: &mut serde_json::Map<String, Value>, required: &mut Vec<Value>) {
    fn own(part: &Value, props: &mut serde_json::Map<String, Value>, required: &mut Vec<Value>) {
        if let Some(p) = part.get("properties").and_then(Value::as_object) {
            props.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for r in part.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
    }
    let Some(def) = defs.get(name) else { return };
    own(def, props, required);
    for part in def.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        match ref_name(part) {
            Some(parent) => flatten(defs, parent, props, required),
            None => own(part, props, required),
        }
    }
}

/// JSON Schema (draft 7) of the Ordering API with every polymorphic type closed:
/// - each subtype (a definition that extends a base with a `discriminator`, such as
///   `SelectedProductReference` of `Attribute`) is its `allOf` chain merged into one object
///   with `additionalProperties: false` and its discriminator fixed to its own name, so a
///   misspelt field is refused instead of ignored;
/// - each base checks its discriminator against the subtype names and validates the object
///   against the subtype it names (`if`/`then`), so errors point into the object;
/// - every other object type with properties (`Money`, `Segment`, `RequestLineItem`, …) is
///   closed as well;
/// - supplements (subtypes the spec uses but the model leaves out) and fix-ups (`Auxiliary`
///   requires `values`): see the crate documentation.
///
/// `root` is the definition the document must be (`PlaceOrderRequest`, `OrderResult`).
/// `sample_shaped_results`: `DeliveryTimeRange` boundaries as date-time strings, the way the
/// spec's sample response writes them, instead of the model's `DateTime` objects.
pub fn ordering_schema(root: &str, sample_shaped_results: bool) -> Value {
    let mut defs = ordering_definitions();
    if sample_shaped_results {
        if let Some(parts) = defs.get_mut("DeliveryTimeRange").and_then(|d| d.get_mut("allOf")).and_then(Value::as_array_mut) {
            for part in parts.iter_mut().filter(|p| p.get("properties").is_some()) {
                for b in ["lowerBoundary", "upperBoundary"] {
                    part["properties"][b] = json!({"type": "string", "format": "date-time"});
                }
            }
        }
    }
    let mut subtypes: std::collections::BTreeMap<String, (String, Vec<String>)> = Default::default();
    let mut closed = serde_json::Map::new();
    for name in defs.keys() {
        let Some((base, disc)) = base_of(&defs, name) else { continue };
        if base == name {
            continue;
        }
        subtypes.entry(base.to_owned()).or_insert_with(|| (disc.to_owned(), Vec::new())).1.push(name.clone());
        let (mut props, mut required) = (serde_json::Map::new(), Vec::new());
        flatten(&defs, name, &mut props, &mut required);
        props.insert(disc.to_owned(), json!({"type": "string", "enum": [name]}));
        closed.insert(name.clone(), json!({"type": "object", "properties": props, "required": required, "additionalProperties": false}));
    }
    for (base, (disc, names)) in subtypes {
        let mut props = serde_json::Map::new();
        let mut required = Vec::new();
        flatten(&defs, &base, &mut props, &mut required);
        props.insert(disc.clone(), json!({"type": "string", "enum": names}));
        let dispatch: Vec<Value> = names
            .iter()
            .map(|n| json!({"if": {"properties": {&disc: {"const": n}}, "required": [&disc]}, "then": {"$ref": format!("#/definitions/{n}")}}))
            .collect();
        closed.insert(base, json!({"type": "object", "properties": props, "required": required, "allOf": dispatch}));
    }
    // Every other object type with named properties (`Money`, `Segment`, `RequestLineItem`, …)
    // is closed too.
    for (name, def) in defs.iter_mut() {
        let plain = def.get("properties").is_some() && def.get("discriminator").is_none() && def.get("additionalProperties").is_none();
        if plain && !closed.contains_key(name) {
            def["additionalProperties"] = json!(false);
        }
    }
    defs.extend(closed);
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "allOf": [{"$ref": format!("#/definitions/{root}")}],
        "definitions": defs,
    })
}

fn ordering_validator(root: &str, sample_shaped_results: bool) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&ordering_schema(root, sample_shaped_results))
        .expect("Ordering schema compiles")
}

/// Compiled validator for placeOrder bodies (`PlaceOrderRequest`).
pub fn place_order_validator() -> jsonschema::Validator {
    ordering_validator("PlaceOrderRequest", false)
}

/// Compiled validator for placeOrder / orderDetails answers (`OrderResult`), with
/// `DeliveryTimeRange` boundaries as the spec's sample writes them (date-time strings).
pub fn order_result_validator() -> jsonschema::Validator {
    ordering_validator("OrderResult", true)
}

// ---------------------------------------------------------------------------------------------
// Amazon Business Reconciliation API (models/Reconciliation_API.json) and Document (Reports)
// API (models/Document_API_v1.json)

/// JSON Schema (draft 4) whose root is one definition of a Swagger 2.0 model, vendor extensions
/// and examples stripped. `closed`: every plain object definition (named properties, no
/// `allOf`) gets `additionalProperties: false`, so a misspelt field is refused.
fn swagger_definition_schema(model_text: &str, root: &str, closed: bool) -> Value {
    let model: Value = serde_json::from_str(model_text).expect("the model is JSON");
    let mut definitions = model["definitions"].clone();
    strip_swagger_only(&mut definitions);
    if closed {
        for def in definitions.as_object_mut().expect("the model has definitions").values_mut() {
            let plain = def.get("properties").is_some() && def.get("allOf").is_none() && def.get("additionalProperties").is_none();
            if plain {
                def["additionalProperties"] = json!(false);
            }
        }
    }
    json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$ref": format!("#/definitions/{root}"),
        "definitions": definitions,
    })
}

/// The Reconciliation model as a JSON Schema rooted at `root` (`InvoiceDetailsByOrderLineItemsRequest`,
/// `TransactionsResponse`, …). `closed` as for requests: plain object types refuse unknown
/// fields. `InvoicePaymentDetailResult` (whose subtypes the model names
/// `SuccessInvoicePaymentDetailResult` / `FailedInvoicePaymentDetailResult` while its
/// discriminator values are `SUCCESS` / `ERROR`) is checked by value: `SUCCESS` requires
/// `paymentDetails`, `ERROR` requires `error`.
pub fn reconciliation_schema(root: &str, closed: bool) -> Value {
    let mut schema = swagger_definition_schema(crate::RECONCILIATION_MODEL, root, closed);
    let result = &mut schema["definitions"]["InvoicePaymentDetailResult"];
    result["properties"]["paymentDetails"] = json!({"$ref": "#/definitions/PaymentDetails"});
    result["properties"]["error"] = json!({"$ref": "#/definitions/Error"});
    result["oneOf"] = json!([
        {"properties": {"resultType": {"enum": ["SUCCESS"]}}, "required": ["paymentDetails"]},
        {"properties": {"resultType": {"enum": ["ERROR"]}}, "required": ["error"]}
    ]);
    schema
}

/// The Document (Reports) model as a JSON Schema rooted at `root` (`CreateReportSpecification`,
/// `Report`, `ReportDocument`, …); `closed` as in [`reconciliation_schema`].
pub fn document_schema(root: &str, closed: bool) -> Value {
    swagger_definition_schema(crate::DOCUMENT_MODEL, root, closed)
}

fn draft4_validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options().with_draft(jsonschema::Draft::Draft4).should_validate_formats(true).build(schema).expect("the schema compiles")
}

/// Compiled validator of a Reconciliation definition (see [`reconciliation_schema`]).
pub fn reconciliation_validator(root: &str, closed: bool) -> jsonschema::Validator {
    draft4_validator(&reconciliation_schema(root, closed))
}

/// Compiled validator of a Document API definition (see [`document_schema`]).
pub fn document_validator(root: &str, closed: bool) -> jsonschema::Validator {
    draft4_validator(&document_schema(root, closed))
}
