//! The exact `placeOrder` body (Ordering_API.json: `PlaceOrderRequest`) for a validated PO,
//! shaped as the e-invoicing guide's sample request.
//!
//! Every polymorphic object of the model is an enum tagged with the model's discriminator
//! (`attributeType`, `expectationType`, `addressType`, `groupReferenceType`,
//! `userReferenceType`, `paymentMethodReferenceType`, `productReferenceType`), one variant per
//! subtype, so a body cannot name a subtype and carry another's fields.
//!
//! `Money.amount` is a JSON number in the model. It is written from the decimal's own digits
//! ([`JsonDecimal`]: `19.99`, `120.00`, `0.1` exactly as the PO has them), never through a float.
//! Serialize with `serde_json` ([`PlaceOrderRequest::to_json`]) to keep them: a
//! `serde_json::Value` cannot hold them (the workspace's serde_json has no
//! `arbitrary_precision`), so there is deliberately no `Value` form of the body.
//!
//! Subtypes the guide's sample uses and the model does not define (`ExpectedDeliveryDate`,
//! `ProductIdentifier`, `GroupIdentity`, `UserEmail`, `StoredPaymentMethod`) are written with
//! the sample's fields. The `Auxiliary` attribute carries its pairs under `values`, the
//! property the model and the sample name (the model's `required` says `auxiliaryValues`, a
//! slip of the model).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use super::po::{Address as PoAddress, PoLine, PurchaseOrder};
use crate::core::money::Money;

/// `PlaceOrderRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrderRequest {
    pub external_id: String,
    pub line_items: Vec<RequestLineItem>,
    pub attributes: Vec<Attribute>,
    pub expectations: Vec<Expectation>,
}

impl PlaceOrderRequest {
    /// The body as sent: compact JSON, amounts with their exact digits.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: string keys, no maps with non-string keys, and
        // every JsonDecimal is a valid JSON number.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The same, indented for people.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `RequestLineItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLineItem {
    /// The PO line number exactly as written (digits only).
    pub external_id: String,
    pub quantity: u32,
    pub attributes: Vec<Attribute>,
    pub expectations: Vec<Expectation>,
}

/// `Attribute`, by `attributeType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "attributeType")]
pub enum Attribute {
    #[serde(rename_all = "camelCase")]
    PurchaseOrderNumber { purchase_order_number: String },
    #[serde(rename_all = "camelCase")]
    BuyingGroupReference { group_reference: GroupReference },
    #[serde(rename_all = "camelCase")]
    BuyerReference { user_reference: UserReference },
    #[serde(rename_all = "camelCase")]
    Region { region: String },
    #[serde(rename_all = "camelCase")]
    ShippingAddress { address: Address },
    #[serde(rename_all = "camelCase")]
    BillingAddress { address: Address },
    #[serde(rename_all = "camelCase")]
    SelectedPaymentMethodReference { payment_method_reference: PaymentMethodReference },
    #[serde(rename_all = "camelCase")]
    SelectedProductReference { product_reference: ProductReference },
    /// Key/value pairs passed on to the e-invoice (`category`, `subCategory`).
    #[serde(rename_all = "camelCase")]
    Auxiliary { values: BTreeMap<String, AuxiliaryValue> },
    #[serde(rename_all = "camelCase")]
    Distribution { accounting: Accounting, charge: DistributionCharge },
}

/// `GroupReference`, by `groupReferenceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "groupReferenceType")]
pub enum GroupReference {
    GroupIdentity { identifier: String },
}

/// `UserReference`, by `userReferenceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "userReferenceType")]
pub enum UserReference {
    #[serde(rename_all = "camelCase")]
    UserEmail { email_address: String },
}

/// `PaymentMethodReference`, by `paymentMethodReferenceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "paymentMethodReferenceType")]
pub enum PaymentMethodReference {
    /// The group's stored payment method: Pay by Invoice, which is what makes an e-invoice.
    StoredPaymentMethod,
}

/// `ProductReference`, by `productReferenceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "productReferenceType")]
pub enum ProductReference {
    /// An ASIN.
    ProductIdentifier { id: String },
}

/// `Address`, by `addressType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "addressType")]
pub enum Address {
    /// Your system's address id (returned on the e-invoice) and the address itself.
    #[serde(rename_all = "camelCase")]
    ExternalAddress { address_id: String, address: Box<Address> },
    #[serde(rename_all = "camelCase")]
    PhysicalAddress {
        full_name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        phone_number: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        company_name: Option<String>,
        address_line1: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        address_line2: Option<String>,
        city: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        state_or_region: Option<String>,
        postal_code: String,
        country_code: String,
    },
}

/// `AuxiliaryValue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuxiliaryValue {
    pub value: String,
}

/// `Accounting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accounting {
    pub name: String,
    pub segments: Vec<Segment>,
}

/// `Segment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub description: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `Charge_2`: the amount charged to the accounting entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistributionCharge {
    pub amount: MoneyAmount,
}

/// `Expectation`, by `expectationType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "expectationType")]
pub enum Expectation {
    ExpectedUnitPrice {
        amount: MoneyAmount,
    },
    ExpectedCharge {
        amount: MoneyAmount,
        source: ChargeSource,
    },
    #[serde(rename_all = "camelCase")]
    ExpectedDeliveryDate {
        requested_delivery_date: String,
    },
}

/// `ChargeSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChargeSource {
    Subtotal,
    Shipping,
    Tax,
}

/// `Money`: `{"amount": <number>, "currencyCode": "USD"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyAmount {
    pub amount: JsonDecimal,
    pub currency_code: crate::core::money::Currency,
}

impl From<Money> for MoneyAmount {
    fn from(m: Money) -> Self {
        MoneyAmount { amount: JsonDecimal(m.amount), currency_code: m.currency }
    }
}

/// A decimal written as a JSON number with exactly its digits (`120.00` stays `120.00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonDecimal(pub Decimal);

impl Serialize for JsonDecimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Decimal's Display is plain digits, optional '-' and '.', never an exponent: a JSON
        // number as it stands. serde_json writes a RawValue verbatim.
        let raw = serde_json::value::RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// The time of day a requested delivery date is sent with: the end of that day, UTC
/// ("delivered on or before that day"). `ExpectedDeliveryDate.requestedDeliveryDate` is a
/// date-time; a PO has a date.
pub const REQUESTED_DELIVERY_TIME: &str = "T23:59:59Z";

/// The `placeOrder` body for a validated PO.
///
/// - order `externalId` = the PO's external id;
/// - one line item per PO line, `externalId` = the line number exactly as written, with
///   `SelectedProductReference` (ASIN), `Auxiliary` (category / subCategory, when given), one
///   `Distribution` per accounting distribution, and the expectations `ExpectedUnitPrice`,
///   `ExpectedCharge` SUBTOTAL and `ExpectedDeliveryDate` (when the PO has a requested date);
/// - order attributes `PurchaseOrderNumber`, `BuyingGroupReference` (GroupIdentity),
///   `BuyerReference` (UserEmail), `Region`, `ShippingAddress` and `BillingAddress`
///   (ExternalAddress with the PhysicalAddress), `SelectedPaymentMethodReference`
///   (StoredPaymentMethod: Pay by Invoice);
/// - order expectations `ExpectedCharge` TAX, SHIPPING, SUBTOTAL (those the PO gives) and
///   `ExpectedDeliveryDate`.
pub fn place_order_body(po: &PurchaseOrder) -> PlaceOrderRequest {
    let delivery = po.requested_delivery_date.map(|d| Expectation::ExpectedDeliveryDate {
        requested_delivery_date: format!("{}{REQUESTED_DELIVERY_TIME}", d.format("%Y-%m-%d")),
    });
    let attributes = vec![
        Attribute::PurchaseOrderNumber { purchase_order_number: po.po_number.clone() },
        Attribute::BuyingGroupReference { group_reference: GroupReference::GroupIdentity { identifier: po.buying_group_id.clone() } },
        Attribute::BuyerReference { user_reference: UserReference::UserEmail { email_address: po.buyer_email.clone() } },
        Attribute::Region { region: po.region.clone() },
        Attribute::ShippingAddress { address: external_address(&po.ship_to) },
        Attribute::BillingAddress { address: external_address(&po.bill_to) },
        Attribute::SelectedPaymentMethodReference { payment_method_reference: PaymentMethodReference::StoredPaymentMethod },
    ];
    let charges = [
        (po.expected.tax, ChargeSource::Tax),
        (po.expected.shipping, ChargeSource::Shipping),
        (po.expected.subtotal, ChargeSource::Subtotal),
    ];
    let mut expectations: Vec<Expectation> =
        charges.into_iter().filter_map(|(m, source)| m.map(|m| Expectation::ExpectedCharge { amount: m.into(), source })).collect();
    expectations.extend(delivery.clone());
    PlaceOrderRequest {
        external_id: po.external_id.clone(),
        line_items: po.lines.iter().map(|l| line_item(l, delivery.as_ref())).collect(),
        attributes,
        expectations,
    }
}

fn line_item(line: &PoLine, delivery: Option<&Expectation>) -> RequestLineItem {
    let mut attributes =
        vec![Attribute::SelectedProductReference { product_reference: ProductReference::ProductIdentifier { id: line.asin.clone() } }];
    let values: BTreeMap<String, AuxiliaryValue> = [("category", &line.category), ("subCategory", &line.sub_category)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), AuxiliaryValue { value: v.clone() })))
        .collect();
    if !values.is_empty() {
        attributes.push(Attribute::Auxiliary { values });
    }
    attributes.extend(line.distributions.iter().map(|d| {
        Attribute::Distribution {
            accounting: Accounting {
                name: d.accounting_name.clone(),
                segments: d
                    .segments
                    .iter()
                    .map(|s| Segment {
                        // The model requires a description; a PO without one describes the segment
                        // by its type, as the guide's sample does ("DeptId" / "DeptId").
                        description: s.description.clone().unwrap_or_else(|| s.kind.clone()),
                        id: s.id.clone(),
                        kind: s.kind.clone(),
                    })
                    .collect(),
            },
            charge: DistributionCharge { amount: d.charge.into() },
        }
    }));
    let mut expectations = vec![
        Expectation::ExpectedUnitPrice { amount: line.expected_unit_price.into() },
        Expectation::ExpectedCharge { amount: line.expected_subtotal.into(), source: ChargeSource::Subtotal },
    ];
    expectations.extend(delivery.cloned());
    RequestLineItem { external_id: line.line_number.clone(), quantity: line.quantity, attributes, expectations }
}

fn external_address(a: &PoAddress) -> Address {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Address::ExternalAddress {
        address_id: a.address_id.clone(),
        address: Box::new(Address::PhysicalAddress {
            full_name: text(&a.full_name),
            phone_number: a.phone.clone(),
            company_name: a.company_name.clone(),
            address_line1: text(&a.address_line1),
            address_line2: a.address_line2.clone(),
            city: text(&a.city),
            state_or_region: a.state_or_region.clone(),
            postal_code: text(&a.postal_code),
            country_code: text(&a.country_code),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::ordering::po::PoInput;
    use crate::ordering::validate;

    const PO_4711: &str = include_str!("../../../../tests/fixtures/po/po-4711.json");
    const PO_SPEC_SAMPLE: &str = include_str!("../../../../tests/fixtures/po/po-spec-sample.json");
    /// The guide's sample request, with the one quote it lacks (`"externalId": "12345,`) added.
    const SPEC_SAMPLE_REQUEST: &str = include_str!("../../tests/fixtures/ordering/spec-sample-request.json");

    fn body_of(po_json: &str) -> PlaceOrderRequest {
        let input: PoInput = serde_json::from_str(po_json).unwrap();
        place_order_body(&validate(&input).unwrap())
    }

    fn value(body: &PlaceOrderRequest) -> Value {
        serde_json::from_str(&body.to_json()).unwrap()
    }

    #[test]
    fn amounts_are_written_with_their_exact_digits() {
        for text in ["0.1", "19.99", "1234567.89", "120.00", "0", "0.000001", "79228162514264337593543950335", "-0.5", "1.10"] {
            let money = MoneyAmount::from(Money::parse(text, "USD").unwrap());
            assert_eq!(serde_json::to_string(&money).unwrap(), format!(r#"{{"amount":{text},"currencyCode":"USD"}}"#));
        }
        let pretty =
            serde_json::to_string_pretty(&Expectation::ExpectedUnitPrice { amount: Money::parse("19.99", "EUR").unwrap().into() }).unwrap();
        assert!(pretty.contains(r#""amount": 19.99"#), "{pretty}");
        // Through the whole body, as the PO wrote them.
        let json = body_of(PO_4711).to_json();
        for exact in [
            r#"{"amount":60.00,"currencyCode":"USD"}"#,
            r#"{"amount":120.00,"currencyCode":"USD"}"#,
            r#"{"amount":16.80,"currencyCode":"USD"}"#,
            r#"{"amount":0,"currencyCode":"USD"}"#,
            r#"{"amount":89.99,"currencyCode":"USD"}"#,
        ] {
            assert!(json.contains(exact), "{exact} in {json}");
        }
    }

    #[test]
    fn the_body_of_po_4711() {
        let v = value(&body_of(PO_4711));
        let ship_to = json!({"addressType": "ExternalAddress", "addressId": "SHIP-DOCK-4", "address": {
            "addressType": "PhysicalAddress", "fullName": "Acme Receiving, Dock 4", "companyName": "Acme Corp",
            "addressLine1": "500 Industrial Way", "addressLine2": "Building C", "city": "Seattle", "stateOrRegion": "WA",
            "postalCode": "98109", "countryCode": "US", "phoneNumber": "+1 206 555 0100"}});
        let bill_to = json!({"addressType": "ExternalAddress", "addressId": "BILL-AP", "address": {
            "addressType": "PhysicalAddress", "fullName": "Acme Accounts Payable", "companyName": "Acme Corp",
            "addressLine1": "1 Acme Plaza", "city": "Seattle", "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}});
        let usd = |a: f64| json!({"amount": a, "currencyCode": "USD"});
        let date = json!({"expectationType": "ExpectedDeliveryDate", "requestedDeliveryDate": "2026-12-10T23:59:59Z"});
        let segment = |id: &str, kind: &str, description: &str| json!({"id": id, "type": kind, "description": description});
        let expected = json!({
            "externalId": "acme-PO-4711",
            "lineItems": [
                {"externalId": "10", "quantity": 2,
                 "attributes": [
                    {"attributeType": "SelectedProductReference", "productReference": {"productReferenceType": "ProductIdentifier", "id": "B000000001"}},
                    {"attributeType": "Auxiliary", "values": {"category": {"value": "OFFICE_PRODUCTS"}, "subCategory": {"value": "GENERAL_OFFICE_SUPPLIES"}}},
                    {"attributeType": "Distribution", "accounting": {"name": "Acme Corp", "segments": [segment("6100", "GL", "Office supplies"), segment("CC-200", "CostCenter", "Operations")]},
                     "charge": {"amount": usd(80.0)}},
                    {"attributeType": "Distribution", "accounting": {"name": "Acme Corp", "segments": [segment("6100", "GL", "Office supplies"), segment("CC-300", "CostCenter", "Sales")]},
                     "charge": {"amount": usd(40.0)}}],
                 "expectations": [
                    {"expectationType": "ExpectedUnitPrice", "amount": usd(60.0)},
                    {"expectationType": "ExpectedCharge", "source": "SUBTOTAL", "amount": usd(120.0)},
                    date.clone()]},
                {"externalId": "0020", "quantity": 1,
                 "attributes": [
                    {"attributeType": "SelectedProductReference", "productReference": {"productReferenceType": "ProductIdentifier", "id": "B0000000T2"}},
                    {"attributeType": "Auxiliary", "values": {"category": {"value": "OFFICE_PRODUCTS"}, "subCategory": {"value": "PRINTER_SUPPLIES"}}},
                    {"attributeType": "Distribution", "accounting": {"name": "Acme Corp", "segments": [segment("6150", "GL", "GL")]},
                     "charge": {"amount": usd(89.99)}}],
                 "expectations": [
                    {"expectationType": "ExpectedUnitPrice", "amount": usd(89.99)},
                    {"expectationType": "ExpectedCharge", "source": "SUBTOTAL", "amount": usd(89.99)},
                    date.clone()]}
            ],
            "attributes": [
                {"attributeType": "PurchaseOrderNumber", "purchaseOrderNumber": "PO-4711"},
                {"attributeType": "BuyingGroupReference", "groupReference": {"groupReferenceType": "GroupIdentity", "identifier": "OrderingAPI1234567891"}},
                {"attributeType": "BuyerReference", "userReference": {"userReferenceType": "UserEmail", "emailAddress": "buyer@acme.example"}},
                {"attributeType": "Region", "region": "US"},
                {"attributeType": "ShippingAddress", "address": ship_to},
                {"attributeType": "BillingAddress", "address": bill_to},
                {"attributeType": "SelectedPaymentMethodReference", "paymentMethodReference": {"paymentMethodReferenceType": "StoredPaymentMethod"}}
            ],
            "expectations": [
                {"expectationType": "ExpectedCharge", "source": "TAX", "amount": usd(16.8)},
                {"expectationType": "ExpectedCharge", "source": "SHIPPING", "amount": {"amount": 0, "currencyCode": "USD"}},
                {"expectationType": "ExpectedCharge", "source": "SUBTOTAL", "amount": usd(209.99)},
                date
            ]
        });
        assert_eq!(v, expected);
    }

    /// The guide's sample request is what the builder makes of the same PO, but for what the
    /// sample gets wrong or leaves as placeholders:
    /// - order `externalId` `""` (the model: `minLength` 1) → the PO's external id;
    /// - `emailAddress` `"test@ amazon.com"` (not an address) → `test@amazon.com`;
    /// - `postalCode` `""` (the model: required, `minLength` 1) → `98109`;
    /// - `phoneNumber` `""` (the model: `minLength` 1) → left out, the PO has none;
    /// - the placeholder amounts 101, 102, 105 (unit price, line and order subtotals that
    ///   contradict the distribution's 109.99) → 109.99; TAX 103 and SHIPPING 104 kept;
    /// - the requested delivery date-times (two different instants) → the PO's date, at the end
    ///   of the day.
    #[test]
    fn the_guides_sample_request_from_the_same_po() {
        let mut sample: Value = serde_json::from_str(SPEC_SAMPLE_REQUEST).unwrap();
        sample["externalId"] = json!("spec-sample-1");
        sample["attributes"][2]["userReference"]["emailAddress"] = json!("test@amazon.com");
        for i in [4, 5] {
            let address = &mut sample["attributes"][i]["address"]["address"];
            address["postalCode"] = json!("98109");
            address.as_object_mut().unwrap().remove("phoneNumber");
        }
        let line = &mut sample["lineItems"][0]["expectations"];
        line[0]["amount"]["amount"] = json!(109.99);
        line[1]["amount"]["amount"] = json!(109.99);
        line[2]["requestedDeliveryDate"] = json!("2026-01-30T23:59:59Z");
        sample["expectations"][2]["amount"]["amount"] = json!(109.99);
        sample["expectations"][3]["requestedDeliveryDate"] = json!("2026-01-30T23:59:59Z");

        assert_eq!(value(&body_of(PO_SPEC_SAMPLE)), sample);
    }

    #[test]
    fn optional_parts_are_left_out() {
        let mut input: PoInput = serde_json::from_str(PO_4711).unwrap();
        input.requested_delivery_date = None;
        input.expected = Default::default();
        input.ship_to.as_mut().unwrap().phone = None;
        input.ship_to.as_mut().unwrap().company_name = Some(" ".into());
        input.ship_to.as_mut().unwrap().address_line2 = None;
        input.lines[0].category = None;
        input.lines[0].sub_category = None;
        input.lines[0].distributions.clear();
        input.lines[1].category = None;
        let v = value(&place_order_body(&validate(&input).unwrap()));
        assert_eq!(v["expectations"], json!([]));
        let line0 = &v["lineItems"][0];
        assert_eq!(line0["attributes"].as_array().unwrap().len(), 1, "only the product: {line0}");
        assert_eq!(
            line0["expectations"].as_array().unwrap().iter().map(|e| e["expectationType"].as_str().unwrap()).collect::<Vec<_>>(),
            ["ExpectedUnitPrice", "ExpectedCharge"]
        );
        assert_eq!(v["lineItems"][1]["attributes"][1]["values"], json!({"subCategory": {"value": "PRINTER_SUPPLIES"}}));
        let ship = v["attributes"][4]["address"]["address"].as_object().unwrap();
        let mut keys: Vec<&str> = ship.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["addressLine1", "addressType", "city", "countryCode", "fullName", "postalCode", "stateOrRegion"]);
    }

    #[test]
    fn build_is_validate_then_body() {
        let input: PoInput = serde_json::from_str(PO_4711).unwrap();
        let (po, body) = crate::ordering::build(&input).unwrap();
        assert_eq!(body, place_order_body(&po));
        assert_eq!(body.to_json_pretty().parse::<Value>().unwrap(), value(&body));
        let mut bad = input.clone();
        bad.lines.clear();
        assert_eq!(crate::ordering::build(&bad).unwrap_err()[0].code, crate::ordering::OrderCode::NoLines);
    }
}
