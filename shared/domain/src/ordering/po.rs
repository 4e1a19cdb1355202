//! The purchase order: as received ([`PoInput`], JSON with snake_case fields, every id and
//! amount kept as the text it was written with) and validated ([`PurchaseOrder`], typed).
//!
//! ```json
//! {"po_number": "PO-4711", "external_id": "acme-PO-4711", "currency": "USD",
//!  "buying_group_id": "BG-1", "buyer_email": "buyer@acme.example", "region": "US",
//!  "ship_to": {"address_id": "SHIP-1", "full_name": "Dock 4", ...}, "bill_to": {...},
//!  "expected": {"subtotal": "120.00", "tax": "9.60", "shipping": 0},
//!  "requested_delivery_date": "2026-12-10",
//!  "lines": [{"line_number": 10, "asin": "B000000001", "quantity": 2,
//!             "expected_unit_price": "60.00", "expected_subtotal": "120.00",
//!             "category": "Office", "sub_category": "Paper",
//!             "distributions": [{"accounting_name": "GL", "charge": "120.00",
//!                                "segments": [{"id": "6100", "type": "GL", "description": "Supplies"}]}]}]}
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::core::ids::{de_id, de_opt_id};
use crate::core::money::{de_amount_text, Currency, Money};

/// A postal address with the buyer's id for it (`ExternalAddress.addressId`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AddressInput {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub address_id: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state_or_region: Option<String>,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub phone: Option<String>,
}

/// The order-level expectations.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExpectedInput {
    #[serde(default, deserialize_with = "de_amount_text")]
    pub subtotal: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    pub tax: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    pub shipping: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInput {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionInput {
    #[serde(default)]
    pub accounting_name: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    pub charge: Option<String>,
    #[serde(default)]
    pub segments: Vec<SegmentInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineInput {
    /// As written: a JSON number `20` is `"20"`, a string `"0020"` stays `"0020"`.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub line_number: Option<String>,
    #[serde(default)]
    pub asin: Option<String>,
    /// The quantity's text (`2`, `"2"`); validated by the builder (whole, ≥ 1).
    #[serde(default, deserialize_with = "de_amount_text")]
    pub quantity: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    pub expected_unit_price: Option<String>,
    #[serde(default, deserialize_with = "de_amount_text")]
    pub expected_subtotal: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub distributions: Vec<DistributionInput>,
}

/// The PO as the procurement system sends it. Read with `serde_json::from_str`/`from_slice`
/// (amount digits are kept only from JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoInput {
    #[serde(deserialize_with = "de_id")]
    pub po_number: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub buying_group_id: Option<String>,
    #[serde(default)]
    pub buyer_email: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub ship_to: Option<AddressInput>,
    #[serde(default)]
    pub bill_to: Option<AddressInput>,
    #[serde(default)]
    pub expected: ExpectedInput,
    #[serde(default)]
    pub requested_delivery_date: Option<String>,
    #[serde(default)]
    pub lines: Vec<LineInput>,
}

/// An accounting segment of a distribution (`Segment`: id, type, description).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub id: String,
    pub kind: String,
    pub description: Option<String>,
}

/// How (part of) a line's subtotal is charged: accounting name, amount, segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub accounting_name: String,
    pub charge: Money,
    pub segments: Vec<Segment>,
}

/// A validated PO line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    /// Exactly as written (digits only), sent as the line item's `externalId`.
    pub line_number: String,
    /// [`super::line_key`] of the line number: what invoices are matched by.
    pub key: String,
    pub asin: String,
    pub quantity: u32,
    pub expected_unit_price: Money,
    pub expected_subtotal: Money,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub distributions: Vec<Distribution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub address_id: String,
    pub full_name: Option<String>,
    pub company_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state_or_region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    pub subtotal: Option<Money>,
    pub tax: Option<Money>,
    pub shipping: Option<Money>,
}

/// A validated purchase order: what the builder turns into the `placeOrder` body and what
/// the matching compares invoices against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub po_number: String,
    /// The order's `externalId`: the same on every retry of this PO.
    pub external_id: String,
    pub currency: Currency,
    pub buying_group_id: String,
    pub buyer_email: String,
    pub region: String,
    pub ship_to: Address,
    pub bill_to: Address,
    pub expected: Expected,
    pub requested_delivery_date: Option<NaiveDate>,
    pub lines: Vec<PoLine>,
}

impl PurchaseOrder {
    /// The line with this number (`0020` finds line `20`).
    pub fn line(&self, number: &str) -> Option<&PoLine> {
        let key = super::line_key(number)?;
        self.lines.iter().find(|l| l.key == key)
    }
}
