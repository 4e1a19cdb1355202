//! Typed model of a cXML `InvoiceDetailRequest`, as read by the tolerant parser.
//!
//! Amounts are `Option<Money>`: `None` means the document did not state the amount (absent
//! element or an empty `<Money currency="USD"/>`). Values the parser could not read (bad
//! amount, unknown currency) are reported as issues and left `None` here.
//! A Sender `SharedSecret` is never read into this model.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::core::money::Money;

/// Text of the model: strings up to 24 bytes (units, codes, ids, extrinsic names, most values)
/// are stored inline without a heap allocation, which matters for 10,000-line invoices.
pub type Text = compact_str::CompactString;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub domain: Text,
    pub identity: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    #[default]
    Standard,
    CreditMemo,
    LineLevelCreditMemo,
    DebitMemo,
    LineLevelDebitMemo,
}

impl Purpose {
    pub fn parse(s: &str) -> Option<Purpose> {
        Some(match s.trim() {
            "standard" => Purpose::Standard,
            "creditMemo" => Purpose::CreditMemo,
            "lineLevelCreditMemo" => Purpose::LineLevelCreditMemo,
            "debitMemo" => Purpose::DebitMemo,
            "lineLevelDebitMemo" => Purpose::LineLevelDebitMemo,
            _ => return None,
        })
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::Standard => "standard",
            Purpose::CreditMemo => "creditMemo",
            Purpose::LineLevelCreditMemo => "lineLevelCreditMemo",
            Purpose::DebitMemo => "debitMemo",
            Purpose::LineLevelDebitMemo => "lineLevelDebitMemo",
        }
    }
    pub fn is_credit(&self) -> bool {
        matches!(self, Purpose::CreditMemo | Purpose::LineLevelCreditMemo)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    #[default]
    New,
    Delete,
}

impl Operation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::New => "new",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub role: Text,
    pub address_id: Option<Text>,
    pub name: Option<Text>,
    pub street: Vec<Text>,
    pub city: Option<Text>,
    pub state: Option<Text>,
    pub postal_code: Option<Text>,
    pub country: Option<Text>,
    pub country_code: Option<Text>,
    pub email: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdReference {
    pub domain: Text,
    pub identifier: Text,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PaymentTerm {
    /// As written (`30`, `030`, `net30`).
    pub pay_in_number_of_days_raw: Option<Text>,
    /// The digits of the above (`net30` → 30).
    pub pay_in_number_of_days: Option<u32>,
    pub percentage_rate: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extrinsic {
    pub name: Text,
    pub value: Text,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvoiceHeader {
    pub invoice_id: Option<Text>,
    /// As written; `None` when absent (the DTD default is `standard`).
    pub purpose_raw: Option<Text>,
    pub purpose: Purpose,
    pub operation_raw: Option<Text>,
    pub operation: Operation,
    pub invoice_date: Option<Text>,
    pub is_header_invoice: bool,
    pub is_tax_in_line: bool,
    pub partners: Vec<Contact>,
    pub partner_ids: Vec<IdReference>,
    pub shipping: Vec<Contact>,
    pub payment_terms: Vec<PaymentTerm>,
    pub comments: Option<Text>,
    pub extrinsics: Vec<Extrinsic>,
}

/// The order a block of the invoice refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrderInfo {
    /// `OrderReference@orderID` or `OrderIDInfo@orderID`.
    pub order_id: Option<Text>,
    pub order_date: Option<Text>,
    /// `OrderReference/DocumentReference@payloadID`.
    pub order_payload_id: Option<Text>,
    /// `MasterAgreementReference/DocumentReference@payloadID` or `MasterAgreementIDInfo@agreementID`:
    /// a contract, not a purchase order.
    pub master_agreement_id: Option<Text>,
    /// `SupplierOrderInfo@orderID` (for Amazon Business: the Amazon order id).
    pub supplier_order_id: Option<Text>,
}

impl OrderInfo {
    /// The buyer's PO number: `OrderReference@orderID`, else its `DocumentReference@payloadID`
    /// (Coupa sends the PO number there). A master agreement is not a PO.
    pub fn po_number(&self) -> Option<&str> {
        self.order_id.as_deref().or(self.order_payload_id.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaxDetail {
    pub purpose: Option<Text>,
    pub category: Option<Text>,
    pub percentage_rate: Option<Decimal>,
    pub taxable_amount: Option<Money>,
    pub tax_amount: Option<Money>,
    pub location: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tax {
    pub amount: Option<Money>,
    pub description: Option<Text>,
    pub details: Vec<TaxDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountingSegment {
    pub id: Text,
    pub name: Option<Text>,
    pub description: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub accounting_name: Option<Text>,
    pub segments: Vec<AccountingSegment>,
    pub charge: Option<Money>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    #[default]
    Goods,
    Service,
}

/// Amounts an item, a header-order summary or the invoice summary can carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Amounts {
    pub subtotal: Option<Money>,
    pub tax: Option<Tax>,
    pub special_handling: Option<Money>,
    pub shipping: Option<Money>,
    pub gross: Option<Money>,
    pub discount: Option<Money>,
    pub net: Option<Money>,
    pub deposit: Option<Money>,
    pub due: Option<Money>,
    /// Some amount of this block was stated but could not be read (bad amount or currency,
    /// already reported); arithmetic checks that need it are skipped rather than guessed.
    pub unreadable: bool,
}

impl Amounts {
    pub fn tax_amount(&self) -> Option<Money> {
        self.tax.as_ref().and_then(|t| t.amount)
    }
}

/// Amounts of an item line. A line states its subtotal and tax; its other amounts are rare
/// and kept behind a box (`None` when the line states none of them), so that each of the
/// 10,000 lines of a large invoice does not carry seven empty amounts (160 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineAmounts {
    pub subtotal: Option<Money>,
    pub tax: Option<Tax>,
    pub other: Option<Box<OtherAmounts>>,
    /// As [`Amounts::unreadable`].
    pub unreadable: bool,
}

/// The amounts of a line other than its subtotal and tax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OtherAmounts {
    pub special_handling: Option<Money>,
    pub shipping: Option<Money>,
    pub gross: Option<Money>,
    pub discount: Option<Money>,
    pub net: Option<Money>,
    pub deposit: Option<Money>,
    pub due: Option<Money>,
}

impl LineAmounts {
    pub fn tax_amount(&self) -> Option<Money> {
        self.tax.as_ref().and_then(|t| t.amount)
    }
    /// The amounts other than subtotal and tax, all `None` when the line states none.
    pub fn other(&self) -> &OtherAmounts {
        static NONE: OtherAmounts =
            OtherAmounts { special_handling: None, shipping: None, gross: None, discount: None, net: None, deposit: None, due: None };
        self.other.as_deref().unwrap_or(&NONE)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    /// `invoiceLineNumber` as written (`00001`).
    pub invoice_line_number_raw: Option<Text>,
    /// Its numeric value (`00001` → 1); `None` when absent or not numeric.
    pub invoice_line_number: Option<u32>,
    pub quantity_raw: Option<Text>,
    pub quantity: Option<Decimal>,
    pub unit_of_measure: Option<Text>,
    pub unit_price: Option<Money>,
    /// `PriceBasisQuantity@quantity` and `@conversionFactor` when the price is per N units.
    pub price_basis_quantity: Option<Decimal>,
    pub price_basis_conversion: Option<Decimal>,
    /// `InvoiceDetail(Service)ItemReference@lineNumber`, kept as text (`li_1` for Amazon Business).
    pub reference_line_number: Option<Text>,
    pub supplier_part_id: Option<Text>,
    pub supplier_part_aux_id: Option<Text>,
    pub description: Option<Text>,
    pub classifications: Vec<(Text, Text)>,
    pub amounts: LineAmounts,
    pub distributions: Vec<Distribution>,
    pub comments: Option<Text>,
    pub extrinsics: Vec<Extrinsic>,
    /// 1-based line of the item's start tag in the source document.
    pub source_line: u32,
}

impl Item {
    pub fn extrinsic(&self, name: &str) -> Option<&str> {
        self.extrinsics.iter().find(|e| e.name == name).map(|e| e.value.as_str())
    }
    /// A label for messages: `line 2 (invoiceLineNumber="00002", source line 57)`.
    pub fn label(&self) -> String {
        match &self.invoice_line_number_raw {
            Some(n) => format!("item invoiceLineNumber=\"{}\" (source line {})", n, self.source_line),
            None => format!("item at source line {}", self.source_line),
        }
    }
}

/// A line-level block: one purchase order and its items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvoiceOrder {
    pub info: OrderInfo,
    pub items: Vec<Item>,
}

/// A header-level block: one order and its summary amounts, no item lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeaderOrder {
    pub info: OrderInfo,
    pub invoice_line_number: Option<Text>,
    pub amounts: Amounts,
    pub source_line: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CxmlInvoice {
    pub payload_id: Option<Text>,
    pub timestamp: Option<Text>,
    pub version: Option<Text>,
    pub from: Vec<Credential>,
    pub to: Vec<Credential>,
    pub sender: Vec<Credential>,
    pub user_agent: Option<Text>,
    pub deployment_mode: Option<Text>,
    pub header: InvoiceHeader,
    pub orders: Vec<InvoiceOrder>,
    pub header_orders: Vec<HeaderOrder>,
    pub summary: Amounts,
    /// Whether an `InvoiceDetailSummary` element was present.
    pub has_summary: bool,
    /// The URLs of `Attachment` elements (in comments of the header or of items), in document
    /// order: `cid:<Content-ID>` names a part of the multipart/related body it came in.
    pub attachments: Vec<Text>,
}

impl CxmlInvoice {
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.orders.iter().flat_map(|o| o.items.iter())
    }
    pub fn item_count(&self) -> usize {
        self.orders.iter().map(|o| o.items.len()).sum()
    }
    /// PO numbers of every order block, in document order, without repeats.
    pub fn order_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let infos = self.orders.iter().map(|o| &o.info).chain(self.header_orders.iter().map(|h| &h.info));
        for info in infos {
            if let Some(po) = info.po_number() {
                if !out.iter().any(|x| x == po) {
                    out.push(po.to_string());
                }
            }
        }
        out
    }
    /// Supplier (Amazon) order ids of every order block.
    pub fn supplier_order_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let infos = self.orders.iter().map(|o| &o.info).chain(self.header_orders.iter().map(|h| &h.info));
        for id in infos.filter_map(|i| i.supplier_order_id.as_deref()) {
            if !out.iter().any(|x| x == id) {
                out.push(id.to_string());
            }
        }
        out
    }
    /// The supplier's identity: the first `From` credential (`domain:identity`), which is who
    /// issued the invoice; duplicates are detected per supplier.
    pub fn supplier_key(&self) -> Option<String> {
        self.from.first().map(|c| format!("{}:{}", c.domain, c.identity))
    }
    pub fn partner(&self, role: &str) -> Option<&Contact> {
        self.header.partners.iter().find(|c| c.role == role)
    }
}
