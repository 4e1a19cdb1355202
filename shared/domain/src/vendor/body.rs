//! The SP-API body (vendorInvoices.json: SubmitInvoicesRequest). Amounts are decimal strings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitInvoicesRequest {
    pub invoices: Vec<Invoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub invoice_type: String,
    pub id: String,
    pub date: String,
    pub remit_to_party: Party,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to_party: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_from_party: Option<Party>,
    pub invoice_total: SpMoney,
    pub items: Vec<InvoiceItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    pub party_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: String,
    pub address_line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_or_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_or_zip_code: Option<String>,
    pub country_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpMoney {
    pub currency_code: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemQuantity {
    pub amount: i64,
    pub unit_of_measure: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceItem {
    pub item_sequence_number: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amazon_product_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_product_identifier: Option<String>,
    pub invoiced_quantity: ItemQuantity,
    pub net_cost: SpMoney,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<String>,
}
