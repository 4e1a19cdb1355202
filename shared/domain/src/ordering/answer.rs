//! Reading a `placeOrder` / `orderDetails` answer (the model's `OrderResult`) into a
//! [`PlacedOrder`]. Re-exported from [`super::placed`].
//!
//! Lenient where Amazon's own sample is (no `acceptedItemType`; `DeliveryTimeRange`
//! boundaries as strings or as the model's `DateTime` objects; a missing artifact list is
//! empty), strict where a value is needed to know what was bought (a quantity, an amount, a
//! currency): an answer that cannot be read fully is an error, never a guess.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::placed::{status_of, AcceptedPortion, OtherArtifact, PlacedCharge, PlacedLine, PlacedOrder, RejectedPortion, Rejection};
use crate::core::ids::id_from_json;
use crate::core::json::OrderedEntries;
use crate::core::money::{parse_amount, Currency, Money};

/// Why an answer cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    /// The body is the model's `ErrorList` (a 4xx/5xx answer), not an order result.
    #[error("the answer is an error list: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    ErrorList(Vec<ApiError>),
    /// A part of the answer is missing or not what the model says.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// One entry of an `ErrorList`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match &self.details {
            Some(d) if !d.is_empty() => write!(f, " ({d})"),
            _ => Ok(()),
        }
    }
}

fn invalid(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Invalid { path: path.to_string(), message: message.into() }
}

/// Reads a `placeOrder` answer (`PlaceOrderResult`) fully.
pub fn parse_place_order_result(json: &str) -> Result<PlacedOrder, ParseError> {
    let root: Box<RawValue> = serde_json::from_str(json).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let doc: ResultIn = at(&root, "")?;
    let Some(line_items) = doc.line_items else {
        if let Some(errors) = doc.errors {
            return Err(ParseError::ErrorList(errors));
        }
        return Err(invalid("(root)", "no lineItems: not an order result"));
    };
    let mut lines = Vec::with_capacity(line_items.len());
    for (i, raw) in line_items.iter().enumerate() {
        lines.push(line(raw, &format!("/lineItems/{i}"))?);
    }
    let mut charges = Vec::new();
    let mut order_ids = Vec::new();
    let mut other = Vec::new();
    for (i, raw) in doc.acceptance_artifacts.iter().enumerate() {
        let mut sink = AcceptedPortion { quantity: 0, unit_price: None, charges: vec![], order_id: None, delivery: None, other: vec![] };
        acceptance(raw, &format!("/acceptanceArtifacts/{i}"), &mut sink)?;
        charges.extend(sink.charges);
        order_ids.extend(sink.order_id);
        // An order-level unit price or delivery range is not modelled there: kept as it came.
        if sink.unit_price.is_some() || sink.delivery.is_some() {
            other.push(OtherArtifact { artifact: artifact_type(raw, "acceptanceArtifactType")?, raw: raw.get().to_string() });
        }
        other.extend(sink.other);
    }
    let rejections = doc
        .rejection_artifacts
        .iter()
        .enumerate()
        .map(|(i, raw)| rejection(raw, &format!("/rejectionArtifacts/{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    for id in lines.iter().flat_map(|l| l.accepted.iter().filter_map(|a| a.order_id.clone())) {
        order_ids.push(id);
    }
    let mut seen = std::collections::HashSet::new();
    order_ids.retain(|id| seen.insert(id.clone()));
    let status = status_of(&lines, &rejections);
    Ok(PlacedOrder { status, lines, order_ids, charges, rejections, other })
}

/// Reads an `orderDetails` answer (`OrderDetailsResult`: the same `OrderResult`, possibly
/// with `Shipment` / `ShipmentGroup` artifacts, kept as [`OtherArtifact`]s).
pub fn parse_order_details_result(json: &str) -> Result<PlacedOrder, ParseError> {
    parse_place_order_result(json)
}

/// A part of the answer as `T`, the serde message under the part's JSON pointer.
fn at<T: DeserializeOwned>(raw: &RawValue, path: &str) -> Result<T, ParseError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C" of the part: not of the answer, so dropped.
        let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string();
        invalid(if path.is_empty() { "(root)" } else { path }, msg)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultIn {
    line_items: Option<Vec<Box<RawValue>>>,
    #[serde(default)]
    acceptance_artifacts: Vec<Box<RawValue>>,
    #[serde(default)]
    rejection_artifacts: Vec<Box<RawValue>>,
    errors: Option<Vec<ApiError>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIn {
    external_id: Option<serde_json::Value>,
    #[serde(default)]
    accepted_items: Vec<Box<RawValue>>,
    #[serde(default)]
    rejected_items: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AcceptedIn {
    accepted_item_type: Option<String>,
    quantity: Option<u32>,
    #[serde(default)]
    artifacts: Vec<Box<RawValue>>,
    items: Option<Vec<Box<RawValue>>>,
}

#[derive(Deserialize)]
struct RejectedIn {
    quantity: Option<u32>,
    #[serde(default)]
    artifacts: Vec<Box<RawValue>>,
}

fn line(raw: &RawValue, path: &str) -> Result<PlacedLine, ParseError> {
    let l: LineIn = at(raw, path)?;
    let line_number = match &l.external_id {
        Some(v) => id_from_json(v).map_err(|e| invalid(&format!("{path}/externalId"), e.to_string()))?,
        None => return Err(invalid(path, "no externalId (the PO line number)")),
    };
    let mut accepted = Vec::new();
    for (i, item) in l.accepted_items.iter().enumerate() {
        accepted_item(item, &format!("{path}/acceptedItems/{i}"), 1, None, &mut accepted)?;
    }
    let mut rejected = Vec::with_capacity(l.rejected_items.len());
    for (i, item) in l.rejected_items.iter().enumerate() {
        let p = format!("{path}/rejectedItems/{i}");
        let r: RejectedIn = at(item, &p)?;
        let quantity = r.quantity.ok_or_else(|| invalid(&p, "no quantity"))?;
        let reasons =
            r.artifacts.iter().enumerate().map(|(j, a)| rejection(a, &format!("{p}/artifacts/{j}"))).collect::<Result<Vec<_>, _>>()?;
        rejected.push(RejectedPortion { quantity, reasons });
    }
    Ok(PlacedLine { line_number, accepted, rejected })
}

/// An accepted item, appended to `out` as portions. A `SingleAcceptedItem` (or an item with no
/// `acceptedItemType`, as the guide's sample has) is one portion of `multiplier × quantity`.
/// An `AcceptedItemGroup` of quantity Q makes its items portions of `multiplier × Q × their
/// quantity` (the model: a group of 2 with items of 2 each is 4 of each item); its order id
/// and delivery range apply to each of them unless they state their own, and its other
/// artifacts (charges and unit price, which are the group's) go with its first portion — a
/// group's `UnitPrice` prices a group, not an item, so it is kept as an [`OtherArtifact`].
fn accepted_item(
    raw: &RawValue,
    path: &str,
    multiplier: u32,
    group: Option<&AcceptedPortion>,
    out: &mut Vec<AcceptedPortion>,
) -> Result<(), ParseError> {
    let item: AcceptedIn = at(raw, path)?;
    let quantity = item.quantity.ok_or_else(|| invalid(path, "no quantity"))?;
    let total = quantity.checked_mul(multiplier).ok_or_else(|| invalid(&format!("{path}/quantity"), "the quantity overflows"))?;
    let mut own = AcceptedPortion { quantity: total, unit_price: None, charges: vec![], order_id: None, delivery: None, other: vec![] };
    for (i, a) in item.artifacts.iter().enumerate() {
        acceptance(a, &format!("{path}/artifacts/{i}"), &mut own)?;
    }
    if let Some(g) = group {
        own.order_id = own.order_id.or_else(|| g.order_id.clone());
        own.delivery = own.delivery.or_else(|| g.delivery.clone());
    }
    let is_group = item.accepted_item_type.as_deref() == Some("AcceptedItemGroup") || item.items.is_some();
    let items = item.items.unwrap_or_default();
    if !is_group || items.is_empty() {
        out.push(own);
        return Ok(());
    }
    let first = out.len();
    for (i, inner) in items.iter().enumerate() {
        accepted_item(inner, &format!("{path}/items/{i}"), total, Some(&own), out)?;
    }
    let head = &mut out[first];
    head.charges.extend(own.charges);
    if own.unit_price.is_some() {
        let unit_price = item.artifacts.iter().find(|a| artifact_type(a, "acceptanceArtifactType").ok().as_deref() == Some("UnitPrice"));
        head.other.extend(unit_price.map(|a| OtherArtifact { artifact: "UnitPrice".into(), raw: a.get().to_string() }));
    }
    head.other.extend(own.other);
    Ok(())
}

fn artifact_type(raw: &RawValue, key: &str) -> Result<String, ParseError> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "acceptanceArtifactType")]
        acceptance: Option<String>,
        #[serde(rename = "rejectionArtifactType")]
        rejection: Option<String>,
    }
    let head: Head = serde_json::from_str(raw.get()).map_err(|e| invalid("(artifact)", e.to_string()))?;
    Ok(if key == "acceptanceArtifactType" { head.acceptance } else { head.rejection }.unwrap_or_default())
}

#[derive(Deserialize)]
struct MoneyIn {
    amount: Option<Box<RawValue>>,
    #[serde(rename = "currencyCode")]
    currency_code: Option<String>,
}

/// A `Money` object: the amount from its number's digits (or a string), the currency's code.
fn money(m: Option<MoneyIn>, path: &str) -> Result<Money, ParseError> {
    let m = m.ok_or_else(|| invalid(path, "missing"))?;
    let raw = m.amount.ok_or_else(|| invalid(&format!("{path}/amount"), "missing"))?;
    let text = raw.get().trim();
    let digits = if text.starts_with('"') { serde_json::from_str::<String>(text).unwrap_or_default() } else { text.to_string() };
    let amount = parse_amount(&digits).map_err(|_| invalid(&format!("{path}/amount"), format!("{text} is not a decimal amount")))?;
    let code = m.currency_code.ok_or_else(|| invalid(&format!("{path}/currencyCode"), "missing"))?;
    let currency = Currency::parse(&code).map_err(|e| invalid(&format!("{path}/currencyCode"), e.to_string()))?;
    Ok(Money::new(amount, currency))
}

/// A `DateTime`: the model's `{"date": "…"}` or, as the guide's sample has it, the string.
fn date_time(raw: Option<Box<RawValue>>, path: &str) -> Result<String, ParseError> {
    let raw = raw.ok_or_else(|| invalid(path, "missing"))?;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateIn {
        Text(String),
        Object { date: String },
    }
    match at::<DateIn>(&raw, path) {
        Ok(DateIn::Text(s)) | Ok(DateIn::Object { date: s }) => Ok(s),
        Err(_) => Err(invalid(path, format!("{} is neither a date-time nor a DateTime object", raw.get()))),
    }
}

/// One acceptance artifact into the portion it belongs to.
fn acceptance(raw: &RawValue, path: &str, into: &mut AcceptedPortion) -> Result<(), ParseError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct In {
        acceptance_artifact_type: Option<String>,
        amount: Option<MoneyIn>,
        category: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
        identifier: Option<String>,
        lower_boundary: Option<Box<RawValue>>,
        upper_boundary: Option<Box<RawValue>>,
    }
    let a: In = at(raw, path)?;
    let kind = a.acceptance_artifact_type.unwrap_or_default();
    match kind.as_str() {
        "UnitPrice" => into.unit_price = Some(money(a.amount, &format!("{path}/amount"))?),
        "Charge" => into.charges.push(PlacedCharge {
            category: a.category.ok_or_else(|| invalid(&format!("{path}/category"), "missing"))?,
            kind: a.kind.ok_or_else(|| invalid(&format!("{path}/type"), "missing"))?,
            amount: money(a.amount, &format!("{path}/amount"))?,
        }),
        "OrderIdentifier" => into.order_id = Some(a.identifier.ok_or_else(|| invalid(&format!("{path}/identifier"), "missing"))?),
        "DeliveryTimeRange" => {
            into.delivery = Some((
                date_time(a.lower_boundary, &format!("{path}/lowerBoundary"))?,
                date_time(a.upper_boundary, &format!("{path}/upperBoundary"))?,
            ))
        }
        _ => into.other.push(OtherArtifact { artifact: kind, raw: raw.get().to_string() }),
    }
    Ok(())
}

/// One rejection artifact as a [`Rejection`].
fn rejection(raw: &RawValue, path: &str) -> Result<Rejection, ParseError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct In {
        rejection_artifact_type: Option<String>,
        code: Option<String>,
        message: Option<String>,
        boundary: Option<MoneyIn>,
        actual_amount: Option<MoneyIn>,
        #[serde(default)]
        sources: Vec<String>,
        quantity: Option<u64>,
        minimum_age: Option<Box<RawValue>>,
        upper_boundary: Option<Box<RawValue>>,
        actual_date_time: Option<Box<RawValue>>,
    }
    let r: In = at(raw, path)?;
    let kind = r.rejection_artifact_type.clone().unwrap_or_default();
    let field = |name: &str| format!("{path}/{name}");
    let other = |detail: String| Rejection::Other { artifact: kind.clone(), detail };
    Ok(match kind.as_str() {
        "RejectionCode" => Rejection::Code { code: r.code.ok_or_else(|| invalid(&field("code"), "missing"))? },
        "RejectionMessage" => Rejection::Message { message: r.message.ok_or_else(|| invalid(&field("message"), "missing"))? },
        "BrokenUnitPriceExpectation" => Rejection::BrokenUnitPrice {
            boundary: money(r.boundary, &field("boundary"))?,
            actual: money(r.actual_amount, &field("actualAmount"))?,
        },
        "BrokenChargeExpectation" => Rejection::BrokenCharge {
            boundary: money(r.boundary, &field("boundary"))?,
            actual: money(r.actual_amount, &field("actualAmount"))?,
            sources: r.sources,
        },
        "UnavailableQuantity" => {
            let q = r.quantity.ok_or_else(|| invalid(&field("quantity"), "missing"))?;
            other(format!("{q} of the requested quantity unavailable"))
        }
        "AvailableQuantity" => {
            let q = r.quantity.ok_or_else(|| invalid(&field("quantity"), "missing"))?;
            other(format!("only {q} available"))
        }
        "AgeRestriction" => {
            let age = r.minimum_age.ok_or_else(|| invalid(&field("minimumAge"), "missing"))?;
            other(format!("a minimum age of {} is required to buy it", age.get().trim_matches('"')))
        }
        "DeliveryTimeRangeIncongruity" => {
            let actual = date_time(r.actual_date_time, &field("actualDateTime"))?;
            let upper = date_time(r.upper_boundary, &field("upperBoundary"))?;
            other(format!("the estimated delivery {actual} is later than the latest accepted {upper}"))
        }
        _ => other(words(raw, "rejectionArtifactType")?),
    })
}

/// An object's fields but `skip`, in their order, as `key value` separated by commas: strings
/// without quotes, numbers by their digits, other values as their JSON.
fn words(raw: &RawValue, skip: &str) -> Result<String, ParseError> {
    let fields: OrderedEntries = serde_json::from_str(raw.get()).map_err(|e| invalid("(artifact)", e.to_string()))?;
    Ok(fields
        .0
        .iter()
        .filter(|(k, _)| k != skip)
        .map(|(k, v)| {
            let text = v.get();
            let value = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string());
            format!("{k} {value}")
        })
        .collect::<Vec<_>>()
        .join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ordering::placed::{explain, PoStatus};

    const SPEC_SAMPLE: &str = include_str!("../../tests/fixtures/ordering/spec-sample-response.json");
    const PARTIAL: &str = include_str!("../../tests/fixtures/ordering/partially-rejected.json");
    const REJECTED: &str = include_str!("../../tests/fixtures/ordering/rejected.json");
    const GROUP: &str = include_str!("../../tests/fixtures/ordering/item-group.json");
    const DETAILS: &str = include_str!("../../tests/fixtures/ordering/order-details.json");
    const UNKNOWN: &str = include_str!("../../tests/fixtures/ordering/unknown-artifacts.json");

    fn m(amount: &str, currency: &str) -> Money {
        Money::parse(amount, currency).unwrap()
    }

    fn charge(category: &str, kind: &str, amount: &str) -> PlacedCharge {
        PlacedCharge { category: category.into(), kind: kind.into(), amount: m(amount, "USD") }
    }

    #[test]
    fn the_guides_sample_response() {
        let p = parse_place_order_result(SPEC_SAMPLE).unwrap();
        assert_eq!(p.status, PoStatus::Placed);
        assert_eq!(p.order_ids, ["113-1746647-0749053"]);
        assert!(p.signed());
        assert!(p.rejections.is_empty());
        let line = p.line("12345").unwrap();
        assert_eq!((line.accepted_quantity(), line.rejected_quantity()), (1, 0));
        let a = &line.accepted[0];
        assert_eq!(a.unit_price, Some(m("7.99", "USD")));
        assert_eq!(a.unit_price.unwrap().amount.to_string(), "7.99", "the digits");
        assert_eq!(a.order_id.as_deref(), Some("113-1746647-0749053"));
        assert_eq!(a.delivery, Some(("2025-03-10T07:00:00Z".into(), "2025-03-11T06:59:59Z".into())));
        let charges = [
            charge("SUBTOTAL", "PRINCIPAL", "7.99"),
            charge("SHIPPING", "PRINCIPAL", "6.99"),
            charge("SHIPPING", "TAX", "0.42"),
            charge("SUBTOTAL", "TAX", "0.48"),
        ];
        assert_eq!(a.charges, charges);
        assert_eq!(p.charges, charges, "the order-level charges");
        assert!(a.other.is_empty());
        assert_eq!(p.other.len(), 1);
        assert_eq!(p.other[0].artifact, "Signed");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&p.other[0].raw).unwrap(),
            serde_json::json!({"acceptanceArtifactType": "Signed"})
        );
    }

    #[test]
    fn a_partially_rejected_answer() {
        let p = parse_place_order_result(PARTIAL).unwrap();
        assert_eq!(p.status, PoStatus::PartiallyRejected);
        assert_eq!((p.accepted_quantity(), p.rejected_quantity()), (4, 2));
        assert_eq!(p.order_ids, ["113-0000001-0000001", "113-0000002-0000002"], "one PO, two Amazon orders");
        let l10 = p.line("010").unwrap();
        assert_eq!((l10.accepted_quantity(), l10.rejected_quantity()), (1, 1));
        assert_eq!(l10.accepted[0].delivery, Some(("2026-12-08T08:00:00Z".into(), "2026-12-09T07:59:59Z".into())), "DateTime objects");
        assert_eq!(l10.accepted[0].charges[2], charge("SUBTOTAL", "DISCOUNT", "1.5"));
        assert_eq!(l10.accepted[0].charges[2].amount.amount.to_string(), "1.5");
        let r = &l10.rejected[0];
        assert_eq!(
            r.reasons,
            [
                Rejection::Other { artifact: "UnavailableQuantity".into(), detail: "1 of the requested quantity unavailable".into() },
                Rejection::Code { code: "QUANTITY_UNAVAILABLE".into() },
                Rejection::Message { message: "Only 1 left in stock.".into() },
            ]
        );
        assert_eq!(r.to_string(), "1 rejected: code QUANTITY_UNAVAILABLE: Only 1 left in stock.; 1 of the requested quantity unavailable");
        let l20 = p.line("20").unwrap();
        assert_eq!(l20.line_number, "0020", "as Amazon echoes it");
        assert_eq!((l20.accepted_quantity(), l20.rejected_quantity(), l20.unit_price()), (0, 1, None));
        assert_eq!(l20.rejected[0].reasons[0], Rejection::BrokenUnitPrice { boundary: m("11", "USD"), actual: m("12.5", "USD") });
        assert_eq!(l20.rejected[0].reasons[0].to_string(), "unit price 12.50 USD is above the expected limit 11.00 USD");
        assert_eq!(
            l20.rejected[0].explanation(),
            "code PRICE_EXPECTATION_BROKEN; unit price 12.50 USD is above the expected limit 11.00 USD"
        );
        assert_eq!(p.line("30").unwrap().unit_price(), Some(m("19.99", "USD")));
        assert!(p.signed());
    }

    #[test]
    fn a_rejected_answer() {
        let p = parse_place_order_result(REJECTED).unwrap();
        assert_eq!(p.status, PoStatus::Rejected);
        assert!(p.order_ids.is_empty() && !p.signed());
        assert_eq!(explain(&p.rejections), "code ORDER_EXPECTATIONS_BROKEN: No line item could be ordered.");
        let reasons: Vec<String> =
            p.lines.iter().flat_map(|l| l.rejected.iter().flat_map(|r| r.reasons.iter().map(|x| x.to_string()))).collect();
        assert_eq!(
            reasons,
            [
                "charges SUBTOTAL + TAX of 107.10 EUR are above the expected limit 100.00 EUR",
                "only 5 available",
                "the estimated delivery 2026-12-14T18:00:00Z is later than the latest accepted 2026-12-10T23:59:59Z",
                "a minimum age of 18 is required to buy it",
                "charge 4.99 EUR is above the expected limit 0.00 EUR",
            ]
        );
        assert_eq!(
            p.lines[0].rejected[0].reasons[0],
            Rejection::BrokenCharge {
                boundary: m("100.00", "EUR"),
                actual: m("107.10", "EUR"),
                sources: vec!["SUBTOTAL".into(), "TAX".into()]
            }
        );
    }

    #[test]
    fn an_item_group_multiplies_its_items() {
        let p = parse_place_order_result(GROUP).unwrap();
        assert_eq!(p.status, PoStatus::Placed);
        let l = p.line("10").unwrap();
        assert_eq!(l.accepted.iter().map(|a| a.quantity).collect::<Vec<_>>(), [4, 4, 4]);
        assert_eq!(l.accepted_quantity(), 12, "the model's example: a group of 2 with three items of 2 each");
        assert_eq!(
            l.accepted.iter().map(|a| a.order_id.as_deref().unwrap()).collect::<Vec<_>>(),
            ["113-0000003-0000003", "113-0000004-0000004", "113-0000003-0000003"],
            "the group's order id unless the item has its own"
        );
        assert!(l.accepted.iter().all(|a| a.delivery == Some(("2026-12-08T08:00:00Z".into(), "2026-12-09T07:59:59Z".into()))));
        assert_eq!(l.accepted.iter().map(|a| a.unit_price).collect::<Vec<_>>(), [Some(m("7.50", "USD")), Some(m("5.00", "USD")), None]);
        assert_eq!(l.accepted[0].charges, [charge("SUBTOTAL", "PRINCIPAL", "60.00")], "the group's charges with its first portion");
        assert!(l.accepted[1].charges.is_empty() && l.accepted[2].charges.is_empty());
        assert_eq!(l.accepted[0].other.len(), 1);
        assert_eq!(l.accepted[0].other[0].artifact, "UnitPrice");
        assert!(l.accepted[0].other[0].raw.contains("30.00"), "the group's price, kept as written");
        assert_eq!(p.order_ids, ["113-0000003-0000003", "113-0000004-0000004"]);

        // Nested groups multiply all the way down; an empty group is one portion.
        let nested = r#"{"lineItems": [{"externalId": "1", "rejectedItems": [], "acceptedItems": [
            {"acceptedItemType": "AcceptedItemGroup", "quantity": 3, "artifacts": [], "items": [
                {"acceptedItemType": "AcceptedItemGroup", "quantity": 2, "artifacts": [], "items": [
                    {"acceptedItemType": "SingleAcceptedItem", "quantity": 5, "artifacts": []}]}]},
            {"acceptedItemType": "AcceptedItemGroup", "quantity": 2, "artifacts": [], "items": []}]}],
            "acceptanceArtifacts": [], "rejectionArtifacts": []}"#;
        let p = parse_place_order_result(nested).unwrap();
        assert_eq!(p.lines[0].accepted.iter().map(|a| a.quantity).collect::<Vec<_>>(), [30, 2]);
    }

    #[test]
    fn an_order_details_answer_keeps_its_shipments() {
        let p = parse_order_details_result(DETAILS).unwrap();
        assert_eq!(p.status, PoStatus::Placed);
        assert!(p.signed());
        assert_eq!(p.other.iter().map(|a| a.artifact.as_str()).collect::<Vec<_>>(), ["Signed", "Shipment"]);
        assert!(p.other[1].raw.contains("TBA319926702880"));
        let a = &p.lines[0].accepted[0];
        assert_eq!(a.other[0].artifact, "ShipmentGroup");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&a.other[0].raw).unwrap()["quantity"], 1);
    }

    #[test]
    fn unknown_artifacts_are_kept_not_errors() {
        let p = parse_place_order_result(UNKNOWN).unwrap();
        assert_eq!(p.status, PoStatus::PartiallyRejected);
        let l = p.line("7").unwrap();
        assert_eq!(l.line_number, "7", "an externalId written as a number");
        assert_eq!(l.unit_price(), Some(m("1200", "JPY")));
        assert_eq!(l.accepted[0].other[0].artifact, "CarbonFootprint");
        assert!(l.accepted[0].other[0].raw.contains("1234.5678901234567890123"), "digits as written");
        let reasons = &l.rejected[0].reasons;
        assert_eq!(
            reasons[0],
            Rejection::Other {
                artifact: "FutureRejection".into(),
                detail: r#"reason SANCTIONED_REGION, limit 12.50, detail {"a": 1}"#.into()
            }
        );
        assert_eq!(reasons[0].to_string(), r#"FutureRejection: reason SANCTIONED_REGION, limit 12.50, detail {"a": 1}"#);
        assert_eq!(reasons[1].to_string(), "Silent");
        assert_eq!(p.other[0].artifact, "LoyaltyPoints");
        let untyped = Rejection::Other { artifact: String::new(), detail: "code X".into() };
        assert_eq!(untyped.to_string(), "rejection without a type: code X");
    }

    #[test]
    fn what_cannot_be_read_is_an_error() {
        assert!(matches!(parse_place_order_result("<html>"), Err(ParseError::NotJson(_))));
        let e = parse_place_order_result(
            r#"{"errors": [{"code": "InvalidInput", "message": "externalId already used", "details": "acme-PO-4711"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "the answer is an error list: InvalidInput: externalId already used (acme-PO-4711)");
        let e = parse_place_order_result(r#"{"acceptanceArtifacts": []}"#).unwrap_err();
        assert_eq!(e.to_string(), "(root): no lineItems: not an order result");
        let wrong = |item: &str| {
            let doc = format!(r#"{{"lineItems": [{{"externalId": "1", "rejectedItems": [], "acceptedItems": [{item}]}}]}}"#);
            parse_place_order_result(&doc).unwrap_err().to_string()
        };
        assert_eq!(
            wrong(r#"{"quantity": -1, "artifacts": []}"#),
            "/lineItems/0/acceptedItems/0: invalid value: integer `-1`, expected u32"
        );
        assert_eq!(
            wrong(r#"{"quantity": 1.5, "artifacts": []}"#),
            "/lineItems/0/acceptedItems/0: invalid type: floating point `1.5`, expected u32"
        );
        assert_eq!(wrong(r#"{"artifacts": []}"#), "/lineItems/0/acceptedItems/0: no quantity");
        assert_eq!(
            wrong(
                r#"{"quantity": 1, "artifacts": [{"acceptanceArtifactType": "UnitPrice", "amount": {"currencyCode": "USD", "amount": "7,99"}}]}"#
            ),
            r#"/lineItems/0/acceptedItems/0/artifacts/0/amount/amount: "7,99" is not a decimal amount"#
        );
        assert_eq!(
            wrong(
                r#"{"quantity": 1, "artifacts": [{"acceptanceArtifactType": "UnitPrice", "amount": {"currencyCode": "XXX", "amount": 1}}]}"#
            ),
            "/lineItems/0/acceptedItems/0/artifacts/0/amount/currencyCode: 'XXX' is not an ISO 4217 currency code"
        );
        assert_eq!(
            wrong(r#"{"quantity": 1, "artifacts": [{"acceptanceArtifactType": "UnitPrice"}]}"#),
            "/lineItems/0/acceptedItems/0/artifacts/0/amount: missing"
        );
        assert_eq!(
            wrong(
                r#"{"quantity": 1, "artifacts": [{"acceptanceArtifactType": "DeliveryTimeRange", "lowerBoundary": 5, "upperBoundary": "x"}]}"#
            ),
            "/lineItems/0/acceptedItems/0/artifacts/0/lowerBoundary: 5 is neither a date-time nor a DateTime object"
        );
        assert_eq!(
            wrong(
                r#"{"acceptedItemType": "AcceptedItemGroup", "quantity": 4294967295, "artifacts": [], "items": [{"quantity": 2, "artifacts": []}]}"#
            ),
            "/lineItems/0/acceptedItems/0/items/0/quantity: the quantity overflows"
        );
        let e = parse_place_order_result(r#"{"lineItems": [{"acceptedItems": [], "rejectedItems": []}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "/lineItems/0: no externalId (the PO line number)");
        let e = parse_place_order_result(r#"{"lineItems": [{"externalId": "1", "rejectedItems": [{"artifacts": []}]}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "/lineItems/0/rejectedItems/0: no quantity");
    }

    #[test]
    fn amounts_keep_every_digit() {
        let doc = r#"{"lineItems": [{"externalId": "1", "rejectedItems": [], "acceptedItems": [{"quantity": 1, "artifacts": [
            {"acceptanceArtifactType": "UnitPrice", "amount": {"currencyCode": "USD", "amount": 12345678901234567.891}}]}]}]}"#;
        let p = parse_place_order_result(doc).unwrap();
        assert_eq!(p.lines[0].unit_price().unwrap().amount.to_string(), "12345678901234567.891");
    }

    #[test]
    fn the_status_comes_from_the_quantities() {
        use crate::ordering::placed::status_of;
        let line = |accepted: u32, rejected: u32| PlacedLine {
            line_number: "1".into(),
            accepted: vec![AcceptedPortion {
                quantity: accepted,
                unit_price: None,
                charges: vec![],
                order_id: None,
                delivery: None,
                other: vec![],
            }],
            rejected: vec![RejectedPortion { quantity: rejected, reasons: vec![] }],
        };
        let code = [Rejection::Code { code: "X".into() }];
        assert_eq!(status_of(&[line(2, 0)], &[]), PoStatus::Placed);
        assert_eq!(status_of(&[line(1, 1)], &[]), PoStatus::PartiallyRejected);
        assert_eq!(status_of(&[line(2, 0), line(0, 3)], &[]), PoStatus::PartiallyRejected);
        assert_eq!(status_of(&[line(2, 0)], &code), PoStatus::PartiallyRejected);
        assert_eq!(status_of(&[line(0, 2)], &[]), PoStatus::Rejected);
        assert_eq!(status_of(&[], &code), PoStatus::Rejected);
        assert_eq!(status_of(&[], &[]), PoStatus::Rejected, "nothing accepted");
        assert_eq!(RejectedPortion { quantity: 2, reasons: vec![] }.to_string(), "2 rejected");
    }
}
