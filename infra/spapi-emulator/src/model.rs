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
