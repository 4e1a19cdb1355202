//! Amazon Business Ordering API: placeOrder and orderDetails, what an order comes to (its
//! outcome per line) and the `/_emulator/ordering` settings that steer it.
//!
//! Money in answers is written from decimals as JSON numbers with exact digits (a
//! [`RawValue`]), never through `f64`; money in requests is read from the number's own digits.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Duration as Days, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::api::{api_call, with_body_limit};
use crate::serve::{is_json, json_response, sp_error, sp_errors, ConnKill, RequestId};
use crate::state::{some, App, Operation, RecordedIds};
use crate::{model, Config, ORDERS_PATH};

// ---------------------------------------------------------------------------------------------
// Amounts

/// A decimal amount from the digits of a JSON number or string (`12.50`, `"12.50"`, `1e2`).
pub(crate) fn decimal_of(text: &str) -> Option<Decimal> {
    let t = text.trim().trim_matches('"');
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str_exact(t).ok()
    }
}

/// Digits after the decimal point of a currency's amounts (JPY: none).
fn minor_units(currency: &str) -> u32 {
    if matches!(currency, "JPY" | "KRW" | "CLP" | "ISK") {
        0
    } else {
        2
    }
}

/// Rounded to the currency's minor unit, half away from zero (charges, taxes).
pub(crate) fn round_money(d: Decimal, currency: &str) -> Decimal {
    let mut r = d.round_dp_with_strategy(minor_units(currency), RoundingStrategy::MidpointAwayFromZero);
    r.rescale(minor_units(currency));
    r
}

/// A price derived from an expectation: cut (never rounded up) to the minor unit, so it
/// never exceeds the expectation it came from.
fn cut_money(d: Decimal, currency: &str) -> Decimal {
    let mut r = d.round_dp_with_strategy(minor_units(currency), RoundingStrategy::ToZero);
    r.rescale(minor_units(currency));
    r
}

/// A JSON number with exactly these digits.
fn number(d: Decimal) -> Box<RawValue> {
    RawValue::from_string(d.to_string()).expect("a decimal is a JSON number")
}

/// `Money` of the model: `{"currencyCode": "USD", "amount": 7.99}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MoneyOut {
    currency_code: String,
    amount: Box<RawValue>,
}

fn money(currency: &str, amount: Decimal) -> MoneyOut {
    MoneyOut { currency_code: currency.to_owned(), amount: number(amount) }
}

/// An amount the request gave (`Money`), with the digits it was written with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Amount {
    pub(crate) currency: String,
    pub(crate) value: Decimal,
}

// ---------------------------------------------------------------------------------------------
// The request, typed (read after the schema validated it: unknown fields cannot occur)

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MoneyIn {
    currency_code: String,
    amount: Box<RawValue>,
}

impl MoneyIn {
    fn amount(&self, at: &str, errors: &mut Vec<String>) -> Option<Amount> {
        match decimal_of(self.amount.get()) {
            Some(value) => Some(Amount { currency: self.currency_code.clone(), value }),
            None => {
                errors.push(format!("{at}/amount: {} is not an amount a decimal can hold", self.amount.get()));
                None
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefIn {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    email_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressIn {
    address_type: String,
    #[serde(default)]
    address_id: Option<String>,
    #[serde(default)]
    address: Option<Box<AddressIn>>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    address_line1: Option<String>,
    #[serde(default)]
    address_line2: Option<String>,
    #[serde(default)]
    address_line3: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state_or_region: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AuxValueIn {
    value: String,
}

#[derive(Debug, Deserialize)]
struct SegmentIn {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    description: String,
}

#[derive(Debug, Deserialize)]
struct AccountingIn {
    name: String,
    segments: Vec<SegmentIn>,
}

#[derive(Debug, Deserialize)]
struct ChargeIn {
    amount: MoneyIn,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttributeIn {
    attribute_type: String,
    #[serde(default)]
    product_reference: Option<RefIn>,
    #[serde(default)]
    group_reference: Option<RefIn>,
    #[serde(default)]
    user_reference: Option<RefIn>,
    #[serde(default)]
    address: Option<AddressIn>,
    #[serde(default)]
    purchase_order_number: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    values: Option<BTreeMap<String, AuxValueIn>>,
    #[serde(default)]
    accounting: Option<AccountingIn>,
    #[serde(default)]
    charge: Option<ChargeIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExpectationIn {
    expectation_type: String,
    #[serde(default)]
    amount: Option<MoneyIn>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIn {
    external_id: String,
    quantity: u64,
    attributes: Vec<AttributeIn>,
    expectations: Vec<ExpectationIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderIn {
    external_id: String,
    line_items: Vec<LineIn>,
    attributes: Vec<AttributeIn>,
    expectations: Vec<ExpectationIn>,
}

/// Attributes the model allows "only at order level".
const ORDER_LEVEL_ONLY: [&str; 8] = [
    "BillingAddress",
    "SelectedPaymentMethodReference",
    "BuyingGroupReference",
    "BuyerReference",
    "PurchaseOrderNumber",
    "BlanketPurchaseOrderNumber",
    "TrialMode",
    "PriceSuppressionDirective",
];

/// A postal address of the order (`PhysicalAddress`, with the `ExternalAddress` id around it).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PostalAddress {
    pub(crate) address_id: Option<String>,
    pub(crate) full_name: Option<String>,
    pub(crate) company_name: Option<String>,
    pub(crate) streets: Vec<String>,
    pub(crate) city: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) postal_code: Option<String>,
    pub(crate) country_code: Option<String>,
    pub(crate) phone: Option<String>,
}

impl PostalAddress {
    fn from_in(a: &AddressIn) -> PostalAddress {
        if a.address_type == "ExternalAddress" {
            let mut inner = a.address.as_deref().map(PostalAddress::from_in).unwrap_or_default();
            inner.address_id = a.address_id.clone().or(inner.address_id);
            return inner;
        }
        let streets = [&a.address_line1, &a.address_line2, &a.address_line3].into_iter().flatten().filter(|s| !s.is_empty()).cloned();
        PostalAddress {
            address_id: a.address_id.clone(),
            full_name: a.full_name.clone(),
            company_name: a.company_name.clone(),
            streets: streets.collect(),
            city: a.city.clone(),
            state: a.state_or_region.clone(),
            postal_code: a.postal_code.clone(),
            country_code: a.country_code.clone(),
            phone: a.phone_number.clone(),
        }
    }
}

/// A line's `Distribution`: who is charged how much.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Distribution {
    pub(crate) name: String,
    pub(crate) charge: Amount,
    /// (id, type, description) of each accounting segment.
    pub(crate) segments: Vec<(String, String, String)>,
}

/// One line of the order as the emulator uses it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PoLine {
    pub(crate) external_id: String,
    pub(crate) quantity: u64,
    pub(crate) asin: String,
    pub(crate) expected_unit_price: Option<Amount>,
    /// `ExpectedCharge` per source (`SUBTOTAL`, `TAX`, `SHIPPING`): the line's, else the order's.
    pub(crate) expected_charges: BTreeMap<String, Amount>,
    /// `Auxiliary` values (the line's, else the order's): `category`, `subCategory`, ….
    pub(crate) auxiliary: Vec<(String, String)>,
    pub(crate) distributions: Vec<Distribution>,
    pub(crate) currency: String,
}

/// The order as the emulator uses it (and the e-invoice reads it).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Po {
    pub(crate) external_id: String,
    pub(crate) po_number: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) buying_group: Option<String>,
    pub(crate) buyer_email: Option<String>,
    pub(crate) ship_to: Option<PostalAddress>,
    pub(crate) bill_to: Option<PostalAddress>,
    pub(crate) trial: bool,
    pub(crate) lines: Vec<PoLine>,
}

/// The currency of a region's Amazon Business store.
fn region_currency(region: Option<&str>) -> &'static str {
    match region {
        Some("DE" | "FR" | "IT" | "ES") => "EUR",
        Some("UK") => "GBP",
        Some("IN") => "INR",
        Some("CA") => "CAD",
        Some("MX") => "MXN",
        Some("JP") => "JPY",
        Some("AU") => "AUD",
        _ => "USD",
    }
}

fn auxiliary_of(attrs: &[AttributeIn]) -> Option<Vec<(String, String)>> {
    attrs
        .iter()
        .find(|a| a.attribute_type == "Auxiliary")
        .map(|a| a.values.iter().flatten().map(|(k, v)| (k.clone(), v.value.clone())).collect())
}

fn expected_charges(exps: &[ExpectationIn], at: &str, errors: &mut Vec<String>) -> BTreeMap<String, Amount> {
    let mut out = BTreeMap::new();
    for (i, e) in exps.iter().enumerate().filter(|(_, e)| e.expectation_type == "ExpectedCharge") {
        if let (Some(source), Some(m)) = (&e.source, &e.amount) {
            if let Some(a) = m.amount(&format!("{at}/{i}/amount"), errors) {
                out.insert(source.clone(), a);
            }
        }
    }
    out
}

fn expected_unit_price(exps: &[ExpectationIn], at: &str, errors: &mut Vec<String>) -> Option<Amount> {
    let (i, e) = exps.iter().enumerate().find(|(_, e)| e.expectation_type == "ExpectedUnitPrice")?;
    e.amount.as_ref()?.amount(&format!("{at}/{i}/amount"), errors)
}

impl Po {
    /// The order of a schema-valid body, or the reasons Amazon would refuse it (400):
    /// a line `externalId` that is not all digits (with e-invoicing it is the PO line number),
    /// two lines with the same `externalId`, an order-level-only attribute on a line, a line
    /// without a product (`SelectedProductReference` at line or order level).
    fn from_request(o: &OrderIn) -> Result<Po, Vec<String>> {
        let mut errors = Vec::new();
        let order_attr = |t: &str| o.attributes.iter().find(|a| a.attribute_type == t);
        let region = order_attr("Region").and_then(|a| a.region.clone());
        let order_price = expected_unit_price(&o.expectations, "/expectations", &mut errors);
        let order_charges = expected_charges(&o.expectations, "/expectations", &mut errors);
        let order_product = order_attr("SelectedProductReference").and_then(|a| a.product_reference.as_ref()).and_then(|r| r.id.clone());
        let order_aux = auxiliary_of(&o.attributes);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut lines = Vec::new();
        for (i, l) in o.line_items.iter().enumerate() {
            let at = format!("/lineItems/{i}");
            if l.external_id.is_empty() || !l.external_id.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(format!(
                    "{at}/externalId: {:?} is not numeric; the line item externalId is the purchase order line number of the e-invoice and must be digits only",
                    l.external_id
                ));
            } else if let Some(first) = seen.insert(&l.external_id, i) {
                errors.push(format!(
                    "{at}/externalId: {:?} is already the externalId of /lineItems/{first}; each line item needs its own",
                    l.external_id
                ));
            }
            for (j, a) in l.attributes.iter().enumerate() {
                if ORDER_LEVEL_ONLY.contains(&a.attribute_type.as_str()) {
                    errors.push(format!("{at}/attributes/{j}: {} can only be passed at order level", a.attribute_type));
                }
            }
            let product = l
                .attributes
                .iter()
                .find(|a| a.attribute_type == "SelectedProductReference")
                .and_then(|a| a.product_reference.as_ref())
                .and_then(|r| r.id.clone())
                .or_else(|| order_product.clone());
            let Some(asin) = product else {
                errors.push(format!("{at}: no product to order (a SelectedProductReference at line or order level)"));
                continue;
            };
            let expected_price =
                expected_unit_price(&l.expectations, &format!("{at}/expectations"), &mut errors).or_else(|| order_price.clone());
            let mut charges = order_charges.clone();
            charges.extend(expected_charges(&l.expectations, &format!("{at}/expectations"), &mut errors));
            let mut distributions = Vec::new();
            for (j, a) in l.attributes.iter().enumerate().filter(|(_, a)| a.attribute_type == "Distribution") {
                let (Some(acc), Some(charge)) = (&a.accounting, &a.charge) else { continue };
                let Some(charge) = charge.amount.amount(&format!("{at}/attributes/{j}/charge"), &mut errors) else { continue };
                distributions.push(Distribution {
                    name: acc.name.clone(),
                    charge,
                    segments: acc.segments.iter().map(|s| (s.id.clone(), s.kind.clone(), s.description.clone())).collect(),
                });
            }
            let currency = expected_price
                .as_ref()
                .map(|a| a.currency.clone())
                .or_else(|| charges.values().next().map(|a| a.currency.clone()))
                .unwrap_or_else(|| region_currency(region.as_deref()).to_owned());
            lines.push(PoLine {
                external_id: l.external_id.clone(),
                quantity: l.quantity,
                asin,
                expected_unit_price: expected_price,
                expected_charges: charges,
                auxiliary: auxiliary_of(&l.attributes).or_else(|| order_aux.clone()).unwrap_or_default(),
                distributions,
                currency,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let address = |t: &str| order_attr(t).and_then(|a| a.address.as_ref()).map(PostalAddress::from_in);
        Ok(Po {
            external_id: o.external_id.clone(),
            po_number: order_attr("PurchaseOrderNumber")
                .or_else(|| order_attr("BlanketPurchaseOrderNumber"))
                .and_then(|a| a.purchase_order_number.clone()),
            region,
            buying_group: order_attr("BuyingGroupReference").and_then(|a| a.group_reference.as_ref()).and_then(|r| r.identifier.clone()),
            buyer_email: order_attr("BuyerReference").and_then(|a| a.user_reference.as_ref()).and_then(|r| r.email_address.clone()),
            ship_to: address("ShippingAddress"),
            bill_to: address("BillingAddress"),
            trial: order_attr("TrialMode").is_some(),
            lines,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Settings: the configured plan and `/_emulator/ordering`

/// The decimal settings of [`Config`], read once.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) tax_rate: Decimal,
    pub(crate) shipping: Decimal,
    pub(crate) default_unit_price: Decimal,
}

fn non_negative(name: &str, text: &str) -> Result<Decimal, String> {
    decimal_of(text).filter(|d| !d.is_sign_negative()).ok_or_else(|| format!("{name} must be a decimal number >= 0, not {text:?}"))
}

impl Plan {
    pub(crate) fn from_config(c: &Config) -> Result<Plan, String> {
        Ok(Plan {
            tax_rate: non_negative("order_tax_rate", &c.order_tax_rate)?,
            shipping: non_negative("order_shipping", &c.order_shipping)?,
            default_unit_price: non_negative("order_default_unit_price", &c.order_default_unit_price)?,
        })
    }
}

/// A rejection the tests ask for: `RejectionCode` and `RejectionMessage` artifacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectionSpec {
    #[serde(default = "default_rejection_code")]
    pub(crate) code: String,
    #[serde(default = "default_rejection_message")]
    pub(crate) message: String,
}

fn default_rejection_code() -> String {
    "ITEM_UNAVAILABLE".into()
}

fn default_rejection_message() -> String {
    "This item is currently unavailable.".into()
}

/// How orders are answered (`GET`/`POST /_emulator/ordering`); each placed order takes the
/// settings current at its placement.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct OrderingSettings {
    /// ASIN → its lines are rejected whole.
    pub(crate) reject_asins: BTreeMap<String, RejectionSpec>,
    /// ASIN → at most this quantity is accepted; the rest of the line is rejected
    /// (`UnavailableQuantity`).
    pub(crate) partial: BTreeMap<String, u64>,
    /// ASIN → its unit price (the catalogue): above the line's `ExpectedUnitPrice` it is
    /// rejected with `BrokenUnitPriceExpectation`.
    pub(crate) prices: BTreeMap<String, String>,
    /// Accepted lines alternate between two Amazon orders; a single accepted line of
    /// quantity ≥ 2 is split in two portions.
    pub(crate) split_orders: bool,
    /// Overrides [`Config::order_tax_rate`].
    pub(crate) tax_rate: Option<String>,
    /// Overrides [`Config::order_shipping`].
    pub(crate) shipping: Option<String>,
    /// Overrides [`Config::order_delivery_days`].
    pub(crate) delivery_days: Option<u32>,
    /// The whole order is rejected: every line, and order-level artifacts.
    pub(crate) reject_order: Option<RejectionSpec>,
}

/// Body of `POST /_emulator/ordering`: each field given replaces the current one (a map
/// replaces the whole map; `null` resets an optional one), unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderingPatch {
    reject_asins: Option<BTreeMap<String, RejectionSpec>>,
    partial: Option<BTreeMap<String, u64>>,
    prices: Option<BTreeMap<String, Box<RawValue>>>,
    split_orders: Option<bool>,
    #[serde(default, deserialize_with = "some")]
    tax_rate: Option<Option<Box<RawValue>>>,
    #[serde(default, deserialize_with = "some")]
    shipping: Option<Option<Box<RawValue>>>,
    #[serde(default, deserialize_with = "some")]
    delivery_days: Option<Option<u32>>,
    #[serde(default, deserialize_with = "some")]
    reject_order: Option<Option<RejectionSpec>>,
}

/// The digits of an amount given as a JSON number or string, checked.
fn amount_text(field: &str, raw: &RawValue) -> Result<String, String> {
    let d = decimal_of(raw.get()).filter(|d| !d.is_sign_negative());
    d.map(|d| d.to_string()).ok_or_else(|| format!("{field}: {} is not a decimal amount >= 0", raw.get()))
}

pub(crate) async fn get_ordering(State(app): State<App>) -> Response {
    let settings = app.lock().ordering.clone();
    json_response(StatusCode::OK, json!(settings))
}

pub(crate) async fn set_ordering(State(app): State<App>, body: Bytes) -> Response {
    let bad = |e: String| json_response(StatusCode::BAD_REQUEST, json!({"error": format!("bad ordering document: {e}")}));
    let patch: OrderingPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad(e.to_string()),
    };
    let mut prices = None;
    if let Some(p) = &patch.prices {
        let mut m = BTreeMap::new();
        for (asin, raw) in p {
            match amount_text(&format!("prices.{asin}"), raw) {
                Ok(t) => m.insert(asin.clone(), t),
                Err(e) => return bad(e),
            };
        }
        prices = Some(m);
    }
    let optional_amount = |field: &str, v: &Option<Option<Box<RawValue>>>| -> Result<Option<Option<String>>, String> {
        match v {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(raw)) => amount_text(field, raw).map(|t| Some(Some(t))),
        }
    };
    let tax_rate = match optional_amount("tax_rate", &patch.tax_rate) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let shipping = match optional_amount("shipping", &patch.shipping) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let mut inner = app.lock();
    let s = &mut inner.ordering;
    if let Some(v) = patch.reject_asins {
        s.reject_asins = v;
    }
    if let Some(v) = patch.partial {
        s.partial = v;
    }
    if let Some(v) = prices {
        s.prices = v;
    }
    if let Some(v) = patch.split_orders {
        s.split_orders = v;
    }
    if let Some(v) = tax_rate {
        s.tax_rate = v;
    }
    if let Some(v) = shipping {
        s.shipping = v;
    }
    if let Some(v) = patch.delivery_days {
        s.delivery_days = v;
    }
    if let Some(v) = patch.reject_order {
        s.reject_order = v;
    }
    json_response(StatusCode::OK, json!(s.clone()))
}

/// `GET /_emulator/ordering/orders`: every stored order, in (partner, externalId) order.
pub(crate) async fn list_orders(State(app): State<App>) -> Response {
    let inner = app.lock();
    let orders: Vec<Value> = inner
        .orders
        .iter()
        .map(|((partner, external_id), o)| {
            json!({
                "partner": partner,
                "external_id": external_id,
                "placed_at": o.placed.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "amazon_order_ids": o.amazon_order_ids(),
                "po_number": o.po.po_number,
                "lines": o.portions.iter().map(|p| json!({
                    "external_id": p.line, "asin": p.asin, "quantity": p.quantity,
                    "unit_price": p.unit_price.to_string(), "amazon_order_id": p.order_id,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json_response(StatusCode::OK, json!(orders))
}

// ---------------------------------------------------------------------------------------------
// The outcome

/// An accepted portion of a line, with what Amazon charges for it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Portion {
    /// The line's `externalId` (the PO line number).
    pub(crate) line: String,
    pub(crate) asin: String,
    pub(crate) quantity: u64,
    pub(crate) currency: String,
    pub(crate) unit_price: Decimal,
    pub(crate) subtotal: Decimal,
    pub(crate) tax: Decimal,
    pub(crate) shipping: Decimal,
    pub(crate) shipping_tax: Decimal,
    /// The Amazon order (`OrderIdentifier`); empty in trial mode.
    pub(crate) order_id: String,
}

/// A placed order: what was asked, what was answered (the exact bytes orderDetails and a
/// repeated placeOrder answer), what the e-invoice bills.
#[derive(Debug, Clone)]
pub(crate) struct StoredOrder {
    pub(crate) request: Value,
    pub(crate) answer: String,
    pub(crate) placed: DateTime<Utc>,
    pub(crate) po: Po,
    pub(crate) portions: Vec<Portion>,
    /// The tax rate (percent) the order was charged at.
    pub(crate) tax_rate: Decimal,
}

impl StoredOrder {
    /// The Amazon order ids, in first-seen order.
    pub(crate) fn amazon_order_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for p in &self.portions {
            if !p.order_id.is_empty() && !ids.contains(&p.order_id) {
                ids.push(p.order_id.clone());
            }
        }
        ids
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "acceptanceArtifactType")]
enum AcceptanceArtifact {
    DeliveryTimeRange {
        #[serde(rename = "lowerBoundary")]
        lower: String,
        #[serde(rename = "upperBoundary")]
        upper: String,
    },
    UnitPrice {
        amount: MoneyOut,
    },
    Charge {
        amount: MoneyOut,
        category: &'static str,
        #[serde(rename = "type")]
        kind: &'static str,
    },
    OrderIdentifier {
        identifier: String,
    },
    Signed,
}

#[derive(Debug, Serialize)]
#[serde(tag = "rejectionArtifactType")]
enum RejectionArtifact {
    RejectionCode {
        code: String,
    },
    RejectionMessage {
        message: String,
    },
    UnavailableQuantity {
        quantity: u64,
    },
    BrokenUnitPriceExpectation {
        boundary: MoneyOut,
        #[serde(rename = "actualAmount")]
        actual_amount: MoneyOut,
    },
    BrokenChargeExpectation {
        boundary: MoneyOut,
        #[serde(rename = "actualAmount")]
        actual_amount: MoneyOut,
        sources: Vec<String>,
    },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AcceptedItemOut {
    accepted_item_type: &'static str,
    quantity: u64,
    artifacts: Vec<AcceptanceArtifact>,
}

#[derive(Debug, Serialize)]
struct RejectedItemOut {
    quantity: u64,
    artifacts: Vec<RejectionArtifact>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLineOut {
    external_id: String,
    accepted_items: Vec<AcceptedItemOut>,
    rejected_items: Vec<RejectedItemOut>,
}

/// `PlaceOrderResult` / `OrderDetailsResult` (`OrderResult`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderResultOut {
    line_items: Vec<ResultLineOut>,
    acceptance_artifacts: Vec<AcceptanceArtifact>,
    rejection_artifacts: Vec<RejectionArtifact>,
}

/// An Amazon order id: `113-1234567-1234567`.
fn amazon_order_id() -> String {
    let r = uuid::Uuid::new_v4().as_u128();
    format!("113-{:07}-{:07}", r % 10_000_000, (r / 10_000_000) % 10_000_000)
}

/// The settings an order is placed with.
struct Terms<'a> {
    s: &'a OrderingSettings,
    tax_rate: Decimal,
    shipping: Decimal,
    default_price: Decimal,
    delivery: (String, String),
}

impl Terms<'_> {
    /// (subtotal, tax, shipping, shipping tax) of `quantity` at `unit_price`; `None` when a
    /// decimal cannot hold them.
    fn charges(&self, currency: &str, unit_price: Decimal, quantity: u64) -> Option<(Decimal, Decimal, Decimal, Decimal)> {
        let percent = |amount: Decimal| amount.checked_mul(self.tax_rate)?.checked_div(Decimal::ONE_HUNDRED);
        let subtotal = round_money(unit_price.checked_mul(Decimal::from(quantity))?, currency);
        let tax = round_money(percent(subtotal)?, currency);
        let shipping = round_money(self.shipping, currency);
        let shipping_tax = round_money(percent(shipping)?, currency);
        subtotal.checked_add(tax)?.checked_add(shipping)?.checked_add(shipping_tax)?;
        Some((subtotal, tax, shipping, shipping_tax))
    }
}

fn rejection(spec: &RejectionSpec) -> Vec<RejectionArtifact> {
    vec![
        RejectionArtifact::RejectionCode { code: spec.code.clone() },
        RejectionArtifact::RejectionMessage { message: spec.message.clone() },
    ]
}

/// What one line comes to before Amazon orders are assigned: accepted (price, quantity) or
/// not, and the rejected portions.
struct LineOutcome {
    accepted: Option<(Decimal, u64)>,
    rejected: Vec<RejectedItemOut>,
}

/// `None` when the line's amounts are too large for a decimal.
fn line_outcome(l: &PoLine, t: &Terms<'_>) -> Option<LineOutcome> {
    let cur = l.currency.as_str();
    if let Some(spec) = t.s.reject_order.as_ref().or_else(|| t.s.reject_asins.get(&l.asin)) {
        return Some(LineOutcome { accepted: None, rejected: vec![RejectedItemOut { quantity: l.quantity, artifacts: rejection(spec) }] });
    }
    let catalogue = t.s.prices.get(&l.asin).and_then(|p| decimal_of(p));
    let price = match (catalogue, &l.expected_unit_price) {
        (Some(p), _) => p,
        (None, Some(e)) => cut_money(e.value, cur),
        (None, None) => t.default_price,
    };
    if let Some(e) = &l.expected_unit_price {
        if price > e.value {
            let artifact =
                RejectionArtifact::BrokenUnitPriceExpectation { boundary: money(&e.currency, e.value), actual_amount: money(cur, price) };
            return Some(LineOutcome {
                accepted: None,
                rejected: vec![RejectedItemOut { quantity: l.quantity, artifacts: vec![artifact] }],
            });
        }
    }
    let quantity = t.s.partial.get(&l.asin).map_or(l.quantity, |&q| q.min(l.quantity));
    let mut rejected = Vec::new();
    if quantity < l.quantity {
        let missing = l.quantity - quantity;
        rejected.push(RejectedItemOut {
            quantity: missing,
            artifacts: vec![
                RejectionArtifact::UnavailableQuantity { quantity: missing },
                RejectionArtifact::RejectionCode { code: "QUANTITY_UNAVAILABLE".into() },
                RejectionArtifact::RejectionMessage { message: format!("Only {quantity} of the {} requested are available.", l.quantity) },
            ],
        });
    }
    if quantity == 0 {
        return Some(LineOutcome { accepted: None, rejected });
    }
    let (subtotal, tax, shipping, shipping_tax) = t.charges(cur, price, quantity)?;
    for (source, actual) in [("SUBTOTAL", subtotal), ("TAX", tax + shipping_tax), ("SHIPPING", shipping)] {
        if let Some(e) = l.expected_charges.get(source).filter(|e| actual > e.value) {
            let artifact = RejectionArtifact::BrokenChargeExpectation {
                boundary: money(&e.currency, e.value),
                actual_amount: money(cur, actual),
                sources: vec![source.to_owned()],
            };
            // Everything of the line is rejected: the accepted quantity for the charge.
            rejected.push(RejectedItemOut { quantity, artifacts: vec![artifact] });
            return Some(LineOutcome { accepted: None, rejected });
        }
    }
    Some(LineOutcome { accepted: Some((price, quantity)), rejected })
}

/// Places an order: the outcome of every line, the answer and what is stored; `None` when its
/// amounts are too large for a decimal.
fn place(po: &Po, t: &Terms<'_>) -> Option<(String, Vec<Portion>)> {
    let outcomes: Vec<LineOutcome> = po.lines.iter().map(|l| line_outcome(l, t)).collect::<Option<_>>()?;
    let order_ids = if po.trial { [String::new(), String::new()] } else { [amazon_order_id(), amazon_order_id()] };
    let accepted_lines = outcomes.iter().filter(|o| o.accepted.is_some()).count();
    let mut portions = Vec::new();
    let mut lines_out = Vec::new();
    let mut nth_accepted = 0usize;
    for (l, o) in po.lines.iter().zip(outcomes) {
        let mut accepted_items = Vec::new();
        if let Some((price, quantity)) = o.accepted {
            // Quantities per Amazon order.
            let split: Vec<(u64, &String)> = if !t.s.split_orders {
                vec![(quantity, &order_ids[0])]
            } else if accepted_lines == 1 && quantity >= 2 {
                vec![(quantity.div_ceil(2), &order_ids[0]), (quantity / 2, &order_ids[1])]
            } else {
                vec![(quantity, &order_ids[nth_accepted % 2])]
            };
            nth_accepted += 1;
            for (q, order_id) in split {
                let cur = l.currency.as_str();
                let (subtotal, tax, shipping, shipping_tax) = t.charges(cur, price, q)?;
                let charge = |amount, category, kind| AcceptanceArtifact::Charge { amount: money(cur, amount), category, kind };
                let mut artifacts = vec![
                    AcceptanceArtifact::DeliveryTimeRange { lower: t.delivery.0.clone(), upper: t.delivery.1.clone() },
                    AcceptanceArtifact::UnitPrice { amount: money(cur, price) },
                    charge(subtotal, "SUBTOTAL", "PRINCIPAL"),
                    charge(shipping, "SHIPPING", "PRINCIPAL"),
                    charge(shipping_tax, "SHIPPING", "TAX"),
                    charge(tax, "SUBTOTAL", "TAX"),
                ];
                if !po.trial {
                    artifacts.push(AcceptanceArtifact::OrderIdentifier { identifier: order_id.clone() });
                }
                accepted_items.push(AcceptedItemOut { accepted_item_type: "SingleAcceptedItem", quantity: q, artifacts });
                portions.push(Portion {
                    line: l.external_id.clone(),
                    asin: l.asin.clone(),
                    quantity: q,
                    currency: l.currency.clone(),
                    unit_price: price,
                    subtotal,
                    tax,
                    shipping,
                    shipping_tax,
                    order_id: order_id.clone(),
                });
            }
        }
        lines_out.push(ResultLineOut { external_id: l.external_id.clone(), accepted_items, rejected_items: o.rejected });
    }
    let mut acceptance = Vec::new();
    if let Some(first) = portions.first() {
        let cur = first.currency.clone();
        if !po.trial {
            acceptance.push(AcceptanceArtifact::Signed);
        }
        let sum = |f: fn(&Portion) -> Decimal| {
            portions.iter().filter(|p| p.currency == cur).map(f).try_fold(round_money(Decimal::ZERO, &cur), |a, b| a.checked_add(b))
        };
        let charge = |amount, category, kind| AcceptanceArtifact::Charge { amount: money(&cur, amount), category, kind };
        acceptance.extend([
            charge(sum(|p| p.subtotal)?, "SUBTOTAL", "PRINCIPAL"),
            charge(sum(|p| p.shipping)?, "SHIPPING", "PRINCIPAL"),
            charge(sum(|p| p.shipping_tax)?, "SHIPPING", "TAX"),
            charge(sum(|p| p.tax)?, "SUBTOTAL", "TAX"),
        ]);
        // The e-invoice adds them up.
        [sum(|p| p.subtotal)?, sum(|p| p.tax)?, sum(|p| p.shipping)?, sum(|p| p.shipping_tax)?]
            .into_iter()
            .try_fold(Decimal::ZERO, |a, b| a.checked_add(b))?;
    }
    let rejection_artifacts = t.s.reject_order.as_ref().map(rejection).unwrap_or_default();
    let result = OrderResultOut { line_items: lines_out, acceptance_artifacts: acceptance, rejection_artifacts };
    Some((serde_json::to_string(&result).expect("an order result serializes"), portions))
}

/// `2025-03-10T07:00:00Z` … `2025-03-11T06:59:59Z`, `days` after `placed`.
fn delivery_window(placed: DateTime<Utc>, days: u32) -> (String, String) {
    let day = placed.date_naive() + Days::days(i64::from(days));
    let lower = day.and_hms_opt(7, 0, 0).expect("07:00:00 exists").and_utc();
    let upper = lower + Days::days(1) - Days::seconds(1);
    let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    (fmt(lower), fmt(upper))
}

// ---------------------------------------------------------------------------------------------
// Handlers

fn json_text_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn invalid(messages: Vec<String>) -> Response {
    sp_errors(StatusCode::BAD_REQUEST, messages.into_iter().map(|m| ("InvalidInput", m)))
}

pub(crate) async fn place_order(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match with_body_limit(&app, body).await {
        Ok(b) => b,
        Err(_) => return sp_error(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "The request size exceeded the limit."),
    };
    let parsed: Result<Value, serde_json::Error> = serde_json::from_slice(&bytes);
    let recorded = parsed.as_ref().map_or(Value::Null, Value::clone);
    let external_id = recorded.get("externalId").and_then(Value::as_str).map(str::to_owned);
    let partner = app.partner_of_request(&parts.headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::PlaceOrder, partner, ORDERS_PATH, &rid, recorded, RecordedIds::order(external_id));
    let json_body = is_json(&parts.headers);
    api_call(&app, Operation::PlaceOrder, seq, &parts.headers, kill, move |app| {
        if !json_body {
            return sp_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "The request payload is in an unsupported format; send application/json.",
            );
        }
        let body = match parsed {
            Ok(v) => v,
            Err(e) => return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", format!("(root): body is not valid JSON: {e}")),
        };
        let violations = model::violations(&app.order_validator, &body);
        if !violations.is_empty() {
            return invalid(violations);
        }
        let order: OrderIn = match serde_json::from_slice(&bytes) {
            Ok(o) => o,
            Err(e) => return invalid(vec![format!("(root): {e}")]),
        };
        let po = match Po::from_request(&order) {
            Ok(po) => po,
            Err(errors) => return invalid(errors),
        };
        let mut inner = app.lock();
        let key = (owner, po.external_id.clone());
        if let Some(stored) = inner.orders.get(&key) {
            // Amazon identifies an order request by its externalId: the same request again
            // places nothing and gets the first answer; another request with it is refused.
            if stored.request == body {
                return json_text_response(StatusCode::OK, stored.answer.clone());
            }
            return sp_error(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                format!(
                    "/externalId: an order with externalId {:?} was already placed with a different request; externalId must be unique for each order",
                    po.external_id
                ),
            );
        }
        let placed = Utc::now();
        let s = inner.ordering.clone();
        let tax_rate = s.tax_rate.as_deref().and_then(decimal_of).unwrap_or(app.plan.tax_rate);
        let terms = Terms {
            s: &s,
            tax_rate,
            shipping: s.shipping.as_deref().and_then(decimal_of).unwrap_or(app.plan.shipping),
            default_price: app.plan.default_unit_price,
            delivery: delivery_window(placed, s.delivery_days.unwrap_or(app.config.order_delivery_days)),
        };
        let Some((answer, portions)) = place(&po, &terms) else {
            return invalid(vec!["(root): the amounts of this order are too large to compute (a decimal holds 28 digits)".into()]);
        };
        if !po.trial {
            inner.orders.insert(key, StoredOrder { request: body, answer: answer.clone(), placed, po, portions, tax_rate });
        }
        json_text_response(StatusCode::OK, answer)
    })
    .await
}

pub(crate) async fn order_details(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(external_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{ORDERS_PATH}/{external_id}");
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::OrderDetails, partner, &path, &rid, Value::Null, RecordedIds::order(Some(external_id.clone())));
    let email = headers.get("x-amz-user-email").and_then(|v| v.to_str().ok()).map(str::trim).is_some_and(|e| !e.is_empty());
    api_call(&app, Operation::OrderDetails, seq, &headers, kill, move |app| {
        if !email {
            return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "x-amz-user-email: the header is required.");
        }
        let inner = app.lock();
        match inner.orders.get(&(owner, external_id.clone())) {
            Some(o) => json_text_response(StatusCode::OK, o.answer.clone()),
            None => sp_error(StatusCode::NOT_FOUND, "NotFound", format!("No order with externalId {external_id:?} was found.")),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_their_digits() {
        assert_eq!(decimal_of("7.99").unwrap().to_string(), "7.99");
        assert_eq!(decimal_of("\"12.50\"").unwrap().to_string(), "12.50");
        assert_eq!(decimal_of("1e2").unwrap(), Decimal::ONE_HUNDRED);
        assert_eq!(decimal_of("12345678901234567890.12").unwrap().to_string(), "12345678901234567890.12");
        assert!(decimal_of("abc").is_none());
        assert_eq!(round_money(Decimal::new(4795, 4), "USD").to_string(), "0.48");
        assert_eq!(round_money(Decimal::new(101, 0), "USD").to_string(), "101.00");
        assert_eq!(round_money(Decimal::new(1015, 1), "JPY").to_string(), "102");
        assert_eq!(cut_money(Decimal::new(12509, 3), "USD").to_string(), "12.50");
        let m = serde_json::to_string(&money("USD", Decimal::new(10, 1))).unwrap();
        assert_eq!(m, r#"{"currencyCode":"USD","amount":1.0}"#);
    }

    #[test]
    fn delivery_window_is_a_day_from_07_00z() {
        let placed = DateTime::parse_from_rfc3339("2025-03-08T15:00:00Z").unwrap().to_utc();
        assert_eq!(delivery_window(placed, 2), ("2025-03-10T07:00:00Z".into(), "2025-03-11T06:59:59Z".into()));
    }

    #[test]
    fn amazon_order_ids_look_like_amazons() {
        for _ in 0..100 {
            let id = amazon_order_id();
            let b = id.as_bytes();
            assert_eq!((b.len(), b[3], b[11]), (19, b'-', b'-'), "{id}");
            assert!(id.starts_with("113-") && id.bytes().filter(u8::is_ascii_digit).count() == 17, "{id}");
        }
    }
}
