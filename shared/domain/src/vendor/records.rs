//! The vendor side's records as stored and as `invoicectl vendor preview` reads them
//! (snake_case): orders, Amazon accounts, sellers, locations, delivery locations.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::codes::OrderErrorSource;

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
    pub id: String,
    pub channel_item_id: Option<String>,
    pub item_transaction_id: Option<String>,
    pub quantity: i64,
    /// Unit price in the order currency (a decimal string; a JSON number is read by its text).
    #[serde(deserialize_with = "de_decimal")]
    pub item_price: Decimal,
    pub accepted: bool,
    /// `Eaches` (default) or `Cases`.
    #[serde(default)]
    pub unit_of_measure: Option<String>,
    /// Items per case when `unit_of_measure` is `Cases`.
    #[serde(default)]
    pub unit_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub marketplace_order_id: Option<String>,
    pub purchase_order_selling_party: Option<String>,
    pub shipping_address_id: Option<String>,
    pub shipping: Option<Shipping>,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonAccount {
    pub account_type: String,
    #[serde(deserialize_with = "de_yes_no")]
    pub upload_vendor_invoices: bool,
    pub default_location_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
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
    pub id: String,
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
