//! The vendor side's records as stored and as `invoicectl vendor preview` reads them
//! (snake_case): orders, Amazon accounts, sellers, locations, delivery locations.
//!
//! Every identifier read here (order, product, ASIN / vendor SKU, PO number, vendor codes,
//! location and address ids) is read as people send it: a JSON string or a whole non-negative
//! JSON number (`"id": 501` is `"501"`); a decimal, a negative number or another type is a clear
//! error (see [`crate::core::ids`]). Quantities must be whole numbers.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::codes::OrderErrorSource;
use crate::core::ids::{de_id, de_opt_id};

/// An order's shipping address as stored on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipping {
    pub buyer_name: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state_province: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// A Product in Order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// The ASIN (amazonProductIdentifier).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub channel_item_id: Option<String>,
    /// The vendor's SKU (vendorProductIdentifier).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub item_transaction_id: Option<String>,
    /// A whole number (`12`); `12.5` is refused when read.
    #[serde(deserialize_with = "de_quantity")]
    pub quantity: i64,
    /// Unit price in the order currency (a decimal string; a JSON number is read by its text).
    #[serde(deserialize_with = "de_decimal")]
    pub item_price: Decimal,
    pub accepted: bool,
    /// `Eaches` (default) or `Cases`.
    #[serde(default)]
    pub unit_of_measure: Option<String>,
    /// Items per case when `unit_of_measure` is `Cases` (a whole number).
    #[serde(default, deserialize_with = "de_opt_unit_size")]
    pub unit_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    pub status: String,
    pub currency: String,
    /// The Amazon PO number.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub marketplace_order_id: Option<String>,
    /// The vendor code Amazon ordered from (a Seller's Vendor ID).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub purchase_order_selling_party: Option<String>,
    /// The ship-to party id (an Amazon Delivery Location's Location Id).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub shipping_address_id: Option<String>,
    pub shipping: Option<Shipping>,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonAccount {
    pub account_type: String,
    #[serde(deserialize_with = "de_yes_no")]
    pub upload_vendor_invoices: bool,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub default_location_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    #[serde(default, deserialize_with = "de_opt_id")]
    pub vendor_id: Option<String>,
    pub name: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    #[serde(default, deserialize_with = "de_opt_id")]
    pub vendor_id: Option<String>,
    pub name: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state_province: Option<String>,
    pub post_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLocation {
    #[serde(deserialize_with = "de_id")]
    pub location_id: String,
    pub name: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// Everything the mapping reads for one order (`invoicectl vendor preview BUNDLE.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub order: Order,
    pub account: AmazonAccount,
    #[serde(default)]
    pub sellers: Vec<Seller>,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default)]
    pub delivery_locations: Vec<DeliveryLocation>,
    #[serde(default)]
    pub existing_invoice: bool,
    pub now: DateTime<Utc>,
}

fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let text = match &v {
        serde_json::Value::String(s) => s.trim().to_string(),
        // serde_json keeps a number's shortest round-trip text: "12.49" stays 12.49.
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(serde::de::Error::custom(format!("expected a decimal amount, found {other}"))),
    };
    crate::core::money::parse_amount(&text).map_err(serde::de::Error::custom)
}

/// A whole number of units. serde's own message for `12.5` ("invalid type: floating point,
/// expected i64") does not say what was wrong with the order; this one does.
fn whole_number(v: &serde_json::Value, what: &str) -> Result<i64, String> {
    use serde_json::Value;
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i),
            None if n.is_u64() => Err(format!("{what} {n} is too large")),
            None => Err(format!("{what} must be a whole number, found the decimal number {n}")),
        },
        Value::String(s) => Err(format!("{what} must be a whole number, found the text \"{s}\"")),
        Value::Null => Err(format!("{what} must be a whole number, found null")),
        Value::Bool(_) => Err(format!("{what} must be a whole number, found a boolean")),
        Value::Array(_) => Err(format!("{what} must be a whole number, found a list")),
        Value::Object(_) => Err(format!("{what} must be a whole number, found an object")),
    }
}

fn de_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole_number(&serde_json::Value::deserialize(d)?, "a quantity").map_err(serde::de::Error::custom)
}

fn de_opt_unit_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => whole_number(&v, "a unit size").map(Some).map_err(serde::de::Error::custom),
    }
}

fn de_yes_no<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "y" => Ok(true),
            "no" | "false" | "n" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!("expected yes/no, found '{other}'"))),
        },
        other => Err(serde::de::Error::custom(format!("expected yes/no, found {other}"))),
    }
}

/// Invoice > Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceState {
    /// Claimed by a worker, POST in flight (internal).
    Submitting,
    /// POST outcome unknown (timeout after sending); reconciled by the poller (internal).
    Unknown,
    Pending,
    Sent,
    Error,
}

/// Invoice > Sent By Integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SentByIntegration {
    Sent,
    Uploaded,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoice {
    pub order_id: String,
    /// Invoice > Number = Order > Id.
    pub number: String,
    pub status: InvoiceState,
    pub sent_by_integration: Option<SentByIntegration>,
    /// Invoice > Generated file: "N/A" (the body is sent, no file is generated).
    pub generated_file: String,
    pub integration_error: Option<String>,
    pub transaction_id: Option<String>,
    /// Who holds the claim (the SQS message id), so only its holder releases it.
    pub claim_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// The exact body sent (kept for audit and reconciliation; has no secrets).
    pub request_body: Option<String>,
}

/// Marketplace Feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceFeed {
    /// External ID = transactionId.
    pub external_id: String,
    /// "Order Invoice".
    pub feed_type: String,
    /// Processing, Success, Failure.
    pub status: String,
    pub submitted_date: String,
    pub sent_objects_count: u32,
    pub order_id: String,
    /// True when this submission re-sent an invoice whose first POST had an unknown outcome
    /// (see `vendor_poll::reconcile_unknown`): a duplicate-invoice failure then means the
    /// first POST did reach Amazon.
    #[serde(default)]
    pub reconciliation: bool,
}

/// Order Error: something a person must read and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderError {
    pub order_id: String,
    pub at: String,
    /// `mapping`, `submitInvoices`, `getTransaction` (stored and keyed by that spelling).
    pub source: OrderErrorSource,
    /// A [`MappingCode`](super::codes::MappingCode)'s spelling for `mapping` errors, else
    /// Amazon's own code (`INVALID_SHIP_TO`, `InvalidInput`…).
    pub code: String,
    pub message: String,
}
