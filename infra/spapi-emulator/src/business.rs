//! Amazon Business Reconciliation API: getTransactions, getInvoiceDetailsByOrderLineItems and
//! getBatchInvoicePaymentDetails, over what `POST /_emulator/business/seed` stored per selling
//! partner (explicit invoices and credit memos, or `generate`d ones).
//!
//! Everything is kept as compact records and rendered on demand, one page at a time: a seed of
//! thousands of invoices answers getTransactions page by page without building the whole list.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use base64::Engine;
use chrono::{DateTime, Duration as Span, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::api::{api_call, with_body_limit};
use crate::ordering::{decimal_of, round_money};
use crate::reports::{Report, StoredDocument};
use crate::serve::{is_json, json_response, sp_error, sp_errors, ConnKill, RequestId};
use crate::state::{some, ApiError, App, Operation, RecordedIds};
use crate::{model, DEFAULT_PARTNER, INVOICES_PATH, PAYMENT_DETAILS_PATH, TRANSACTIONS_PATH};

/// The error code of every Reconciliation 400 (the sandbox's).
pub(crate) const INVALID: &str = "INVALID_REQUEST_PARAMETER";
/// At most this many order line items per getInvoiceDetailsByOrderLineItems call (the model's
/// description; its schema has no maxItems).
pub(crate) const MAX_ORDER_LINE_ITEMS: usize = 25;
/// At most this many invoices per `generate`.
const MAX_GENERATE: u32 = 100_000;

// ---------------------------------------------------------------------------------------------
// Money as the Reconciliation API writes it: strings, in varying formats

/// How a seeded invoice writes its amounts (`money_format`). The sandbox mixes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum MoneyFormat {
    /// Always two decimals: `"1751.00"`, `"0.00"`, `"-2.99"`.
    #[serde(rename = "0.00")]
    Two,
    /// At least one decimal, no trailing zeros beyond it: `"1751.0"`, `"12.5"`, `"0.0"`.
    #[serde(rename = "0.0")]
    One,
    /// No trailing zeros, no decimal point for whole amounts: `"908"`, `"12.5"`, `"0"`.
    #[serde(rename = "0")]
    Minimal,
    /// `"0.00"`, `"0.0"`, `"0"` in turn, amount after amount.
    #[serde(rename = "mixed")]
    Mixed,
}

const FORMATS: [MoneyFormat; 4] = [MoneyFormat::Two, MoneyFormat::One, MoneyFormat::Minimal, MoneyFormat::Mixed];

fn render(d: Decimal, f: MoneyFormat) -> String {
    let d = if d.is_zero() { Decimal::ZERO } else { d };
    match f {
        MoneyFormat::Two | MoneyFormat::Mixed => {
            let mut r = d.round_dp(2);
            r.rescale(2);
            r.to_string()
        }
        MoneyFormat::One => {
            let n = d.normalize();
            if n.scale() == 0 {
                format!("{n}.0")
            } else {
                n.to_string()
            }
        }
        MoneyFormat::Minimal => d.normalize().to_string(),
    }
}

/// Renders the amounts of one document in its format (`Mixed` turns per amount).
struct Fmt {
    format: MoneyFormat,
    turn: Cell<usize>,
    currency: String,
    /// Negate every amount (a refund transaction).
    negate: bool,
}

impl Fmt {
    fn new(format: MoneyFormat, currency: &str, negate: bool) -> Fmt {
        Fmt { format, turn: Cell::new(0), currency: currency.to_owned(), negate }
    }

    fn next_format(&self) -> MoneyFormat {
        match self.format {
            MoneyFormat::Mixed => {
                let i = self.turn.get();
                self.turn.set(i + 1);
                FORMATS[i % 3]
            }
            f => f,
        }
    }

    fn amount(&self, d: Decimal) -> String {
        render(if self.negate { -d } else { d }, self.next_format())
    }

    fn money(&self, d: Decimal) -> Value {
        json!({"currencyCode": self.currency, "amount": self.amount(d)})
    }

    /// A tax rate given in percent, written as a fraction (`20` → `"0.2"`, `"0.20"` in the
    /// two-decimal format), as the sandbox writes `taxRate`.
    fn rate(&self, percent: Decimal) -> String {
        let fraction = (percent / Decimal::ONE_HUNDRED).normalize();
        match self.next_format() {
            MoneyFormat::Two if fraction.scale() < 2 => {
                let mut r = fraction;
                r.rescale(2);
                r.to_string()
            }
            MoneyFormat::One if fraction.scale() == 0 => format!("{fraction}.0"),
            _ => fraction.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What is stored

/// One buyer/payer (`Customer`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Customer {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// One order line of an invoice or credit memo.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) order_line_item_id: String,
    pub(crate) shipment_id: String,
    shipment_date: DateTime<Utc>,
    asin: String,
    title: String,
    quantity: u64,
    unit_price: Decimal,
    /// Percent.
    tax_rate: Decimal,
    shipping: Decimal,
    /// Zero or negative.
    discount: Decimal,
    unspsc: Option<String>,
    merchant_legal_name: String,
    purchase_order_number: Option<String>,
    purchase_order_line_item_id: Option<String>,
    budget_id: Option<String>,
    business_order_info: Vec<(String, String)>,
}

/// A line's amounts in its currency (rounded to its minor unit).
struct LineAmounts {
    principal: Decimal,
    item_tax: Decimal,
    shipping_tax: Decimal,
    unit_tax: Decimal,
    /// Principal + discount + item tax: the products, tax included.
    products_total: Decimal,
    /// Everything: principal + shipping + discount + both taxes.
    total: Decimal,
}

impl Line {
    fn amounts(&self, currency: &str) -> LineAmounts {
        let pct = |d: Decimal| round_money(d * self.tax_rate / Decimal::ONE_HUNDRED, currency);
        let principal = round_money(self.unit_price * Decimal::from(self.quantity), currency);
        let item_tax = pct(principal + self.discount);
        let shipping_tax = pct(self.shipping);
        LineAmounts {
            principal,
            item_tax,
            shipping_tax,
            unit_tax: pct(self.unit_price),
            products_total: principal + self.discount + item_tax,
            total: principal + self.shipping + self.discount + item_tax + shipping_tax,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum TransactionType {
    Charge,
    Refund,
    Overrefund,
}

impl TransactionType {
    fn name(self) -> &'static str {
        match self {
            TransactionType::Charge => "CHARGE",
            TransactionType::Refund => "REFUND",
            TransactionType::Overrefund => "OVERREFUND",
        }
    }
}

/// How a GET_AB_INVOICE_PDF report of a document ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Outcome {
    Done,
    Fatal,
    Cancelled,
}

/// Payment details of a document: `Ok((status, due date))` or the error answered for it.
pub(crate) type Payment = Option<Result<(String, DateTime<Utc>), ApiError>>;

/// An invoice or a credit memo, with the transaction that carries it in the feed.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) number: String,
    /// For a credit memo: the invoice it reverses (number, date).
    pub(crate) credits: Option<(String, DateTime<Utc>)>,
    pub(crate) date: DateTime<Utc>,
    pub(crate) order_id: String,
    order_date: DateTime<Utc>,
    pub(crate) currency: String,
    marketplace_id: String,
    format: MoneyFormat,
    pub(crate) lines: Vec<Line>,
    issuer_name: String,
    issuer_registration_number: String,
    consolidated_invoice_number: Option<String>,
    bill_to: Option<Value>,
    /// getInvoiceDetailsByOrderLineItems knows it (else its lines answer no invoice yet).
    available: bool,
    payment: Payment,
    /// Seeded PDF bytes; `None`: a PDF is made from the document when downloaded.
    pub(crate) pdf: Option<Arc<[u8]>>,
    /// Served gzipped (`None`: [`crate::Config::document_gzip`]).
    pub(crate) gzip: Option<bool>,
    pub(crate) report_outcome: Option<Outcome>,
    quirks: bool,
    // The transaction.
    transaction_id: String,
    transaction_type: TransactionType,
    feed_date: DateTime<Utc>,
    transaction_date: DateTime<Utc>,
    charge_identifier: String,
    legal_entity_name: String,
    purchasing_customer_group_name: Option<String>,
    buyer: Customer,
    payer: Customer,
    payment_instrument_type: String,
    payment_instrument_last4_digits: Option<String>,
    refund_reason: Option<String>,
    /// Paid with this many transactions (1 to 5): each carries the invoice number and its lines,
    /// a share of the amount and `associatedTransactionDetails` naming the others.
    split_payments: u8,
}

/// Payment instruments of the parts of a split payment after the first.
const SPLIT_INSTRUMENTS: [&str; 4] = ["GiftCard", "CreditCard", "RewardsPoints", "BankAccount"];

impl Doc {
    /// The transaction id of part `k` (0: the seeded id, then `<id>-2`, `<id>-3`, …).
    fn part_id(&self, k: u8) -> String {
        if k == 0 {
            self.transaction_id.clone()
        } else {
            format!("{}-{}", self.transaction_id, k + 1)
        }
    }

    /// Part `k`'s share of `total`: equal shares in the currency's minor unit, the first part
    /// taking the remainder.
    fn share(&self, total: Decimal, k: u8) -> Decimal {
        let n = Decimal::from(self.split_payments.max(1));
        let each = round_money((total / n).trunc_with_scale(if self.currency == "JPY" { 0 } else { 2 }), &self.currency);
        if k == 0 {
            total - each * (n - Decimal::ONE)
        } else {
            each
        }
    }

    pub(crate) fn is_credit_memo(&self) -> bool {
        self.credits.is_some()
    }

    pub(crate) fn total(&self) -> Decimal {
        self.lines.iter().map(|l| l.amounts(&self.currency).total).sum()
    }
}

/// One selling partner's Amazon Business data.
#[derive(Default)]
pub(crate) struct Book {
    /// Invoices and credit memos by number.
    pub(crate) docs: HashMap<String, Doc>,
    /// (feed date, transaction id) → (document number, part of a split payment):
    /// getTransactions' order.
    feed: BTreeMap<(DateTime<Utc>, String), (String, u8)>,
    /// (orderId, orderLineItemId, shipmentId) → the documents with that line, in seed order.
    pub(crate) by_line: HashMap<(String, String, String), Vec<String>>,
}

impl Book {
    fn insert(&mut self, doc: Doc) {
        for l in &doc.lines {
            let key = (doc.order_id.clone(), l.order_line_item_id.clone(), l.shipment_id.clone());
            let numbers = self.by_line.entry(key).or_default();
            if !numbers.contains(&doc.number) {
                numbers.push(doc.number.clone());
            }
        }
        for k in 0..doc.split_payments.max(1) {
            self.feed.insert((doc.feed_date, doc.part_id(k)), (doc.number.clone(), k));
        }
        self.docs.insert(doc.number.clone(), doc);
    }
}

/// Where a getTransactions page token continues.
pub(crate) struct Cursor {
    partner: String,
    end: DateTime<Utc>,
    /// The last (feed date, transaction id) answered.
    after: (DateTime<Utc>, String),
}

/// The Amazon Business state of the emulator: the partners' books, page tokens, reports.
#[derive(Default)]
pub(crate) struct Business {
    pub(crate) books: BTreeMap<String, Book>,
    pub(crate) page_tokens: HashMap<String, Cursor>,
    /// Reports by id (with their partner).
    pub(crate) reports: HashMap<String, Report>,
    /// Report documents by id.
    pub(crate) documents: HashMap<String, StoredDocument>,
}

// ---------------------------------------------------------------------------------------------
// Rendering (the model's shapes)

fn millis(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn seconds(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<&String>) {
    if let Some(v) = v {
        m.insert(key.to_owned(), json!(v));
    }
}

/// A `Transaction` (with its `transactionLineItems`): part `part` of the document's payment.
fn render_transaction(d: &Doc, part: u8) -> Value {
    let refund = d.transaction_type != TransactionType::Charge;
    let f = Fmt::new(d.format, &d.currency, refund);
    let first_rate = d.lines.first().map_or(Decimal::ZERO, |l| l.tax_rate);
    let mut lines = Vec::with_capacity(d.lines.len());
    let mut total = Decimal::ZERO;
    for l in &d.lines {
        let a = l.amounts(&d.currency);
        total += a.total;
        let mut m = Map::new();
        m.insert("totalAmount".into(), f.money(a.total));
        m.insert("principalAmount".into(), f.money(a.principal));
        m.insert("shippingCharge".into(), f.money(l.shipping));
        m.insert("discount".into(), f.money(l.discount));
        m.insert("tax".into(), f.money(a.item_tax + a.shipping_tax));
        m.insert("unitPrice".into(), f.money(l.unit_price));
        m.insert("taxRate".into(), json!(f.rate(l.tax_rate)));
        m.insert("orderId".into(), json!(d.order_id));
        put(&mut m, "unspsc", l.unspsc.as_ref());
        m.insert("orderLineItemId".into(), json!(l.order_line_item_id));
        let po = l.purchase_order_number.clone().or_else(|| d.quirks.then(String::new));
        put(&mut m, "purchaseOrderNumber", po.as_ref());
        put(&mut m, "purchaseOrderLineItemId", l.purchase_order_line_item_id.as_ref());
        m.insert("asin".into(), json!(l.asin));
        m.insert("productTitle".into(), json!(l.title));
        m.insert("itemQuantity".into(), json!(l.quantity));
        m.insert("shipmentId".into(), json!(l.shipment_id));
        m.insert("shipmentDate".into(), json!(seconds(l.shipment_date)));
        m.insert("merchantLegalName".into(), json!(l.merchant_legal_name));
        put(&mut m, "budgetId", l.budget_id.as_ref());
        let info: Map<String, Value> = l.business_order_info.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        m.insert("businessOrderInfo".into(), Value::Object(info));
        put(&mut m, "refundReason", d.refund_reason.as_ref());
        lines.push(Value::Object(m));
    }
    let mut t = Map::new();
    t.insert("marketplaceId".into(), json!(d.marketplace_id));
    t.insert("transactionDate".into(), json!(millis(d.transaction_date)));
    t.insert("feedDate".into(), json!(millis(d.feed_date)));
    t.insert("transactionType".into(), json!(d.transaction_type.name()));
    t.insert("transactionId".into(), json!(d.part_id(part)));
    t.insert("chargeIdentifier".into(), json!(d.charge_identifier));
    t.insert("shipTaxRate".into(), json!(f.rate(first_rate)));
    t.insert("giftWrapTaxRate".into(), json!(f.rate(Decimal::ZERO)));
    t.insert("legalEntityName".into(), json!(d.legal_entity_name));
    put(&mut t, "purchasingCustomerGroupName", d.purchasing_customer_group_name.as_ref());
    t.insert("invoiceNumber".into(), json!(d.number));
    t.insert("amount".into(), f.money(d.share(total, part)));
    let instrument = match part {
        0 => d.payment_instrument_type.as_str(),
        k => SPLIT_INSTRUMENTS[usize::from(k - 1) % SPLIT_INSTRUMENTS.len()],
    };
    t.insert("paymentInstrumentType".into(), json!(instrument));
    put(&mut t, "paymentInstrumentLast4Digits", d.payment_instrument_last4_digits.as_ref());
    t.insert("buyer".into(), json!(d.buyer));
    t.insert("payer".into(), json!(d.payer));
    let others: Vec<Value> =
        (0..d.split_payments.max(1)).filter(|&k| k != part).map(|k| json!({"associatedTransactionId": d.part_id(k)})).collect();
    t.insert("associatedTransactionDetails".into(), Value::Array(others));
    t.insert("transactionLineItems".into(), Value::Array(lines));
    Value::Object(t)
}

/// A `TaxDetail`.
fn tax_detail(f: &Fmt, rate: Decimal, exclusive: Decimal, tax: Decimal) -> Value {
    json!({"rate": f.rate(rate), "inclusiveTotal": f.money(exclusive + tax), "exclusiveTotal": f.money(exclusive), "amount": f.money(tax)})
}

/// An `InvoiceDetail`.
fn render_invoice_detail(d: &Doc) -> Value {
    let f = Fmt::new(d.format, &d.currency, false);
    let cur = d.currency.as_str();
    // Per tax rate: (exclusive total, tax) of products and of shipping.
    let mut by_rate: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    let mut shipping_by_rate: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    let mut items = Vec::with_capacity(d.lines.len());
    let mut total = Decimal::ZERO;
    for (i, l) in d.lines.iter().enumerate() {
        let a = l.amounts(cur);
        total += a.total;
        let e = by_rate.entry(l.tax_rate).or_default();
        e.0 += a.principal + l.discount + l.shipping;
        e.1 += a.item_tax + a.shipping_tax;
        if !l.shipping.is_zero() {
            let s = shipping_by_rate.entry(l.tax_rate).or_default();
            s.0 += l.shipping;
            s.1 += a.shipping_tax;
        }
        let mut m = Map::new();
        m.insert("taxRate".into(), json!(f.rate(l.tax_rate)));
        m.insert("unit".into(), json!(l.quantity));
        m.insert("asin".into(), json!(l.asin));
        m.insert("title".into(), json!(l.title));
        if d.quirks {
            // The sandbox's unit prices that are not filled in.
            m.insert("unitTaxInclusivePrice".into(), json!({"currencyCode": "", "amount": "0"}));
            m.insert("unitTaxExclusivePrice".into(), json!({"currencyCode": "", "amount": "0"}));
        } else {
            m.insert("unitTaxInclusivePrice".into(), f.money(l.unit_price + a.unit_tax));
            m.insert("unitTaxExclusivePrice".into(), f.money(l.unit_price));
        }
        m.insert("unitTaxAmount".into(), f.money(a.unit_tax));
        m.insert("totalAmount".into(), f.money(a.products_total));
        if !d.quirks {
            m.insert("discount".into(), f.money(l.discount));
        }
        m.insert(
            "apportionment".into(),
            json!([{
                "orderLineItemId": l.order_line_item_id,
                "lineNumber": i + 1,
                "units": l.quantity,
                "unitPrice": f.money(l.unit_price),
                "taxAmount": f.money(a.item_tax),
            }]),
        );
        m.insert("fees".into(), json!([]));
        items.push(Value::Object(m));
    }
    let tax: Vec<Value> = by_rate.iter().map(|(rate, (excl, tax))| tax_detail(&f, *rate, *excl, *tax)).collect();
    let fees: Vec<Value> = shipping_by_rate
        .iter()
        .map(|(rate, (excl, tax))| {
            let mut fee = Map::new();
            fee.insert("feeType".into(), json!("SHIPPING"));
            fee.insert("tax".into(), tax_detail(&f, *rate, *excl, *tax));
            if !d.quirks {
                fee.insert("discount".into(), f.money(Decimal::ZERO));
            }
            fee.insert("apportionment".into(), json!([{"taxExclusiveFee": f.money(*excl), "taxAmount": f.money(*tax)}]));
            Value::Object(fee)
        })
        .collect();
    let party = |name: &str| {
        if d.quirks {
            json!({"name": name})
        } else {
            json!({"name": name, "registrationNumber": d.issuer_registration_number})
        }
    };
    let merchant = d.lines.first().map_or(d.issuer_name.as_str(), |l| l.merchant_legal_name.as_str());
    let mut m = Map::new();
    m.insert("invoiceNumber".into(), json!(d.number));
    m.insert("invoiceDate".into(), json!(millis(d.date)));
    if let Some(c) = &d.consolidated_invoice_number {
        m.insert("consolidatedInvoiceDetails".into(), json!({"invoiceNumber": c}));
    }
    m.insert("invoiceType".into(), json!(if d.is_credit_memo() { "CREDIT_MEMO" } else { "STANDARD" }));
    if let Some((number, date)) = &d.credits {
        m.insert("associatedInvoiceNumber".into(), json!(number));
        m.insert("associatedInvoiceDate".into(), json!(millis(*date)));
    }
    m.insert("invoiceIssuer".into(), party(&d.issuer_name));
    if let Some(b) = &d.bill_to {
        m.insert("billToAddress".into(), b.clone());
    }
    m.insert("sellerInformation".into(), party(merchant));
    m.insert("orderDate".into(), json!(seconds(d.order_date)));
    m.insert("currencyCode".into(), json!(d.currency));
    m.insert("invoiceTotal".into(), json!(f.amount(total)));
    m.insert("tax".into(), Value::Array(tax));
    m.insert("transactionDataItems".into(), Value::Array(items));
    m.insert("fees".into(), Value::Array(fees));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------
// The seed document (`POST /_emulator/business/seed`)

/// A date-time (RFC 3339) or a date (`2026-11-01`: midnight UTC).
#[derive(Debug, Clone, Copy)]
pub(crate) struct When(pub(crate) DateTime<Utc>);

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<When, D::Error> {
        let s = String::deserialize(d)?;
        parse_when(&s).map(When).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is neither an RFC 3339 date-time nor a date")))
    }
}

fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.to_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

/// An amount given as a JSON number or string.
#[derive(Debug)]
struct AmountIn(Decimal);

impl<'de> Deserialize<'de> for AmountIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AmountIn, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        decimal_of(raw.get()).map(AmountIn).ok_or_else(|| serde::de::Error::custom(format!("{} is not a decimal amount", raw.get())))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineSeed {
    order_line_item_id: Option<String>,
    shipment_id: Option<String>,
    shipment_date: Option<When>,
    asin: Option<String>,
    title: Option<String>,
    #[serde(default = "one")]
    quantity: u64,
    unit_price: AmountIn,
    /// Percent; default 20.
    tax_rate: Option<AmountIn>,
    shipping: Option<AmountIn>,
    /// Written negative in answers whatever its sign here.
    discount: Option<AmountIn>,
    unspsc: Option<String>,
    merchant_legal_name: Option<String>,
    purchase_order_number: Option<String>,
    purchase_order_line_item_id: Option<String>,
    budget_id: Option<String>,
    #[serde(default)]
    business_order_info: BTreeMap<String, String>,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentSeed {
    status: Option<String>,
    due_date: Option<When>,
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemoLineSeed {
    order_line_item_id: String,
    quantity: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditMemoSeed {
    invoice_number: String,
    invoice_date: When,
    feed_date: Option<When>,
    transaction_id: Option<String>,
    transaction_type: Option<TransactionType>,
    refund_reason: Option<String>,
    /// Default: every line of the invoice, whole.
    lines: Option<Vec<MemoLineSeed>>,
    #[serde(default, deserialize_with = "some")]
    payment: Option<Option<PaymentSeed>>,
    money_format: Option<MoneyFormat>,
    pdf_base64: Option<String>,
    gzip: Option<bool>,
    report_outcome: Option<Outcome>,
    available: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvoiceSeed {
    invoice_number: String,
    invoice_date: When,
    feed_date: Option<When>,
    transaction_date: Option<When>,
    transaction_id: Option<String>,
    order_id: Option<String>,
    order_date: Option<When>,
    currency: Option<String>,
    marketplace_id: Option<String>,
    money_format: Option<MoneyFormat>,
    legal_entity_name: Option<String>,
    purchasing_customer_group_name: Option<String>,
    buyer: Option<Customer>,
    payer: Option<Customer>,
    payment_instrument_type: Option<String>,
    payment_instrument_last4_digits: Option<String>,
    charge_identifier: Option<String>,
    issuer_name: Option<String>,
    issuer_registration_number: Option<String>,
    consolidated_invoice_number: Option<String>,
    bill_to: Option<Value>,
    available: Option<bool>,
    lines: Vec<LineSeed>,
    #[serde(default, deserialize_with = "some")]
    payment: Option<Option<PaymentSeed>>,
    pdf_base64: Option<String>,
    gzip: Option<bool>,
    report_outcome: Option<Outcome>,
    #[serde(default)]
    sandbox_quirks: bool,
    split_payments: Option<u8>,
    #[serde(default)]
    credit_memos: Vec<CreditMemoSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    count: u32,
    from: When,
    days: Option<u32>,
    prefix: Option<String>,
    currency: Option<String>,
    lines: Option<u32>,
    money_format: Option<MoneyFormat>,
    credit_memo_every: Option<u32>,
    tax_rate: Option<AmountIn>,
    feed_lag_hours: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeedDoc {
    refresh_token: Option<String>,
    partner: Option<String>,
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    invoices: Vec<InvoiceSeed>,
    generate: Option<Generate>,
}

fn marketplace_of(currency: &str) -> &'static str {
    match currency {
        "USD" => "ATVPDKIKX0DER",
        "GBP" => "A1F83G8C2ARO7P",
        "JPY" => "A1VC38T7YXB528",
        "CAD" => "A2EUQ1WTGCTBG2",
        "INR" => "A21TJRUUN4KGV",
        // EUR and the rest: amazon.fr.
        _ => "A13V1IB3VIYZZH",
    }
}

/// 8 letters and digits from a number (deterministic shipment-id-like text).
fn code_of(mut n: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(ALPHABET[(n % ALPHABET.len() as u64) as usize] as char);
        n /= ALPHABET.len() as u64;
    }
    s
}

fn small_hash(text: &str) -> u64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(text.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn payment_of(seed: Option<Option<PaymentSeed>>, default_due: DateTime<Utc>, default_status: &str) -> Payment {
    match seed {
        None => Some(Ok((default_status.to_owned(), default_due))),
        Some(None) => None,
        Some(Some(PaymentSeed { error: Some(e), .. })) => Some(Err(e)),
        Some(Some(p)) => Some(Ok((p.status.unwrap_or_else(|| default_status.to_owned()), p.due_date.map_or(default_due, |w| w.0)))),
    }
}

/// The due date of an invoice of `date`: 30 days on, at 23:59:59Z.
fn due_of(date: DateTime<Utc>) -> DateTime<Utc> {
    (date.date_naive() + Span::days(30)).and_hms_opt(23, 59, 59).expect("23:59:59 exists").and_utc()
}

fn pdf_of(text: Option<String>, at: &str) -> Result<Option<Arc<[u8]>>, String> {
    match text {
        None => Ok(None),
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t.trim())
            .map(|b| Some(Arc::from(b)))
            .map_err(|e| format!("{at}.pdf_base64: not base64: {e}")),
    }
}

fn line_of(s: LineSeed, order_id: &str, shipment_date: DateTime<Utc>, n: usize) -> Result<Line, String> {
    let h = small_hash(&format!("{order_id}/{n}"));
    Ok(Line {
        order_line_item_id: s.order_line_item_id.unwrap_or_else(|| format!("{}", 10_000_000_000_000 + h % 89_999_999_999_999)),
        shipment_id: s.shipment_id.unwrap_or_else(|| format!("D{}", code_of(h, 8))),
        shipment_date: s.shipment_date.map_or(shipment_date, |w| w.0),
        asin: s.asin.unwrap_or_else(|| format!("B0{}", code_of(h >> 8, 8).to_ascii_uppercase())),
        title: s.title.unwrap_or_else(|| format!("Article {}", n + 1)),
        quantity: s.quantity,
        unit_price: s.unit_price.0,
        tax_rate: s.tax_rate.map_or(Decimal::from(20), |a| a.0),
        shipping: s.shipping.map_or(Decimal::ZERO, |a| a.0.abs()),
        discount: s.discount.map_or(Decimal::ZERO, |a| -a.0.abs()),
        unspsc: s.unspsc,
        merchant_legal_name: s.merchant_legal_name.unwrap_or_else(|| "Amazon EU S.à r.l.".into()),
        purchase_order_number: s.purchase_order_number,
        purchase_order_line_item_id: s.purchase_order_line_item_id,
        budget_id: s.budget_id,
        business_order_info: s.business_order_info.into_iter().collect(),
    })
}

/// The documents of one seeded invoice: the invoice, then its credit memos.
fn docs_of(s: InvoiceSeed, at: &str) -> Result<Vec<Doc>, String> {
    if s.lines.is_empty() {
        return Err(format!("{at}.lines: an invoice needs at least one line"));
    }
    if s.invoice_number.is_empty() {
        return Err(format!("{at}.invoice_number: empty"));
    }
    let date = s.invoice_date.0;
    let order_id = s.order_id.unwrap_or_else(|| {
        let h = small_hash(&s.invoice_number);
        format!("402-{:07}-{:07}", h % 10_000_000, (h / 10_000_000) % 10_000_000)
    });
    let currency = s.currency.unwrap_or_else(|| "EUR".into());
    let mut lines = Vec::with_capacity(s.lines.len());
    for (n, l) in s.lines.into_iter().enumerate() {
        if l.quantity == 0 {
            return Err(format!("{at}.lines[{n}].quantity: at least 1"));
        }
        lines.push(line_of(l, &order_id, date, n)?);
    }
    let format = s.money_format.unwrap_or(MoneyFormat::Two);
    let split_payments = s.split_payments.unwrap_or(1);
    if !(1..=5).contains(&split_payments) {
        return Err(format!("{at}.split_payments: 1 to 5"));
    }
    let buyer = s.buyer.unwrap_or_else(|| Customer {
        id: "amzn1.account.AEXAMPLEBUYER".into(),
        name: Some("Alice Buyer".into()),
        email: Some("alice@acme.example".into()),
    });
    let base = Doc {
        number: s.invoice_number.clone(),
        credits: None,
        date,
        order_id,
        order_date: s.order_date.map_or(date - Span::days(1), |w| w.0),
        marketplace_id: s.marketplace_id.unwrap_or_else(|| marketplace_of(&currency).to_owned()),
        currency,
        format,
        lines,
        issuer_name: s.issuer_name.unwrap_or_else(|| "Amazon Business EU S.à r.l.".into()),
        issuer_registration_number: s.issuer_registration_number.unwrap_or_else(|| "FR12487773327".into()),
        consolidated_invoice_number: s.consolidated_invoice_number,
        bill_to: s.bill_to,
        available: s.available.unwrap_or(true),
        payment: payment_of(s.payment, due_of(date), "Issued"),
        pdf: pdf_of(s.pdf_base64, at)?,
        gzip: s.gzip,
        report_outcome: s.report_outcome,
        quirks: s.sandbox_quirks,
        transaction_id: s.transaction_id.unwrap_or_else(|| format!("T{}", code_of(small_hash(&format!("tx/{}", s.invoice_number)), 19))),
        transaction_type: TransactionType::Charge,
        feed_date: s.feed_date.map_or(date + Span::days(1), |w| w.0),
        transaction_date: s.transaction_date.map_or(date, |w| w.0),
        charge_identifier: s.charge_identifier.unwrap_or_else(|| code_of(small_hash(&format!("charge/{}", s.invoice_number)), 9)),
        legal_entity_name: s.legal_entity_name.unwrap_or_else(|| "Acme SAS".into()),
        purchasing_customer_group_name: s.purchasing_customer_group_name,
        payer: s.payer.unwrap_or_else(|| buyer.clone()),
        buyer,
        payment_instrument_type: s.payment_instrument_type.unwrap_or_else(|| "PayByInvoice".into()),
        payment_instrument_last4_digits: s.payment_instrument_last4_digits,
        refund_reason: None,
        split_payments,
    };
    let mut docs = Vec::with_capacity(1 + s.credit_memos.len());
    for (k, m) in s.credit_memos.into_iter().enumerate() {
        let at = format!("{at}.credit_memos[{k}]");
        let lines = match m.lines {
            None => base.lines.clone(),
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for (j, ml) in list.into_iter().enumerate() {
                    let Some(orig) = base.lines.iter().find(|l| l.order_line_item_id == ml.order_line_item_id) else {
                        return Err(format!("{at}.lines[{j}].order_line_item_id: {:?} is no line of the invoice", ml.order_line_item_id));
                    };
                    let mut l = orig.clone();
                    if let Some(q) = ml.quantity.filter(|&q| q != orig.quantity) {
                        if q == 0 || q > orig.quantity {
                            return Err(format!("{at}.lines[{j}].quantity: 1 to {}", orig.quantity));
                        }
                        // A partial refund: the items only.
                        l.quantity = q;
                        l.shipping = Decimal::ZERO;
                        l.discount = Decimal::ZERO;
                    }
                    out.push(l);
                }
                out
            }
        };
        let mdate = m.invoice_date.0;
        docs.push(Doc {
            number: m.invoice_number.clone(),
            credits: Some((base.number.clone(), base.date)),
            date: mdate,
            lines,
            format: m.money_format.unwrap_or(base.format),
            available: m.available.unwrap_or(true),
            payment: payment_of(m.payment, mdate, "Closed"),
            pdf: pdf_of(m.pdf_base64, &at)?,
            gzip: m.gzip.or(base.gzip),
            report_outcome: m.report_outcome,
            transaction_id: m
                .transaction_id
                .unwrap_or_else(|| format!("R{}", code_of(small_hash(&format!("tx/{}", m.invoice_number)), 19))),
            transaction_type: m.transaction_type.unwrap_or(TransactionType::Refund),
            feed_date: m.feed_date.map_or(mdate + Span::days(1), |w| w.0),
            transaction_date: mdate,
            refund_reason: Some(m.refund_reason.unwrap_or_else(|| "Customer return".into())),
            consolidated_invoice_number: None,
            split_payments: 1,
            ..base.clone()
        });
    }
    docs.insert(0, base);
    Ok(docs)
}

const PAYMENT_STATUSES: [&str; 4] = ["Issued", "Payment Processing", "Past Due", "Closed"];

/// The invoices of a `generate` (deterministic: the same document gives the same data).
fn generated(g: &Generate) -> Result<Vec<Doc>, String> {
    if g.count == 0 || g.count > MAX_GENERATE {
        return Err(format!("generate.count: 1 to {MAX_GENERATE}"));
    }
    let days = i64::from(g.days.unwrap_or(1).max(1));
    let lines_per = g.lines.unwrap_or(2);
    if !(1..=10).contains(&lines_per) {
        return Err("generate.lines: 1 to 10".into());
    }
    let prefix = g.prefix.clone().unwrap_or_else(|| "GEN".into());
    let currency = g.currency.clone().unwrap_or_else(|| "EUR".into());
    let tax_rate = g.tax_rate.as_ref().map_or(Decimal::from(20), |a| a.0);
    let lag = Span::hours(i64::from(g.feed_lag_hours.unwrap_or(24)));
    let step_ms = days * 86_400_000 / i64::from(g.count);
    let every = g.credit_memo_every.unwrap_or(0);
    let mut out = Vec::with_capacity(g.count as usize);
    for i in 0..u64::from(g.count) {
        let date = g.from.0 + Span::milliseconds(step_ms * i as i64);
        let number = format!("{prefix}{:07}", i + 1);
        let order_id = format!("402-{:07}-{:07}", (i * 7_919 + 1_234_567) % 10_000_000, (i + 1) % 10_000_000);
        let lines: Vec<Line> = (0..u64::from(lines_per))
            .map(|j| {
                let h = i * 31 + j * 17;
                Line {
                    order_line_item_id: format!("{}", 20_000_000_000_000 + i * 16 + j),
                    shipment_id: format!("D{}", code_of(i * 7 + 3, 8)),
                    shipment_date: date,
                    asin: format!("B0{:08}", (i * 10 + j) % 100_000_000),
                    title: format!("Fourniture {} / {}", i + 1, j + 1),
                    quantity: 1 + (h % 3),
                    unit_price: Decimal::new(500 + (h * 37 % 9_500) as i64, 2),
                    tax_rate,
                    shipping: if j == 0 && i % 3 == 0 { Decimal::new(499, 2) } else { Decimal::ZERO },
                    discount: if j == 0 && i % 5 == 0 { Decimal::new(-100, 2) } else { Decimal::ZERO },
                    unspsc: Some("44121700".into()),
                    merchant_legal_name: "Amazon EU S.à r.l.".into(),
                    purchase_order_number: None,
                    purchase_order_line_item_id: None,
                    budget_id: None,
                    business_order_info: vec![
                        ("GL code".into(), format!("60{:02}", i % 20)),
                        ("Cost center".into(), format!("CC-{}", i % 7)),
                    ],
                }
            })
            .collect();
        let buyer = Customer { id: format!("amzn1.account.GEN{:04}", i % 25), name: Some(format!("Buyer {}", i % 25)), email: None };
        let invoice = Doc {
            number: number.clone(),
            credits: None,
            date,
            order_id,
            order_date: date - Span::hours(20),
            marketplace_id: marketplace_of(&currency).to_owned(),
            currency: currency.clone(),
            format: g.money_format.unwrap_or(FORMATS[(i % 4) as usize]),
            lines,
            issuer_name: "Amazon Business EU S.à r.l.".into(),
            issuer_registration_number: "FR12487773327".into(),
            consolidated_invoice_number: None,
            bill_to: None,
            available: true,
            payment: Some(Ok((PAYMENT_STATUSES[(i % 4) as usize].to_owned(), due_of(date)))),
            pdf: None,
            gzip: None,
            report_outcome: None,
            quirks: false,
            transaction_id: format!("{prefix}-T{:07}", i + 1),
            transaction_type: TransactionType::Charge,
            feed_date: date + lag,
            transaction_date: date,
            charge_identifier: code_of(i * 13 + 5, 9),
            legal_entity_name: "Acme SAS".into(),
            purchasing_customer_group_name: Some(format!("Service {}", i % 5)),
            payer: buyer.clone(),
            buyer,
            payment_instrument_type: "PayByInvoice".into(),
            payment_instrument_last4_digits: None,
            refund_reason: None,
            split_payments: 1,
        };
        if every > 0 && (i + 1) % u64::from(every) == 0 {
            let mdate = date + Span::days(3);
            let memo = Doc {
                number: format!("{prefix}C{:07}", i + 1),
                credits: Some((number, date)),
                date: mdate,
                payment: Some(Ok(("Closed".into(), mdate))),
                transaction_id: format!("{prefix}-R{:07}", i + 1),
                transaction_type: TransactionType::Refund,
                feed_date: mdate + lag,
                transaction_date: mdate,
                refund_reason: Some("Customer return".into()),
                ..invoice.clone()
            };
            out.push(invoice);
            out.push(memo);
        } else {
            out.push(invoice);
        }
    }
    Ok(out)
}

fn seed_error(e: impl std::fmt::Display) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({"error": format!("bad seed document: {e}")}))
}

fn counts(book: Option<&Book>) -> Value {
    let (mut invoices, mut memos, mut pdfs) = (0u64, 0u64, 0u64);
    for d in book.iter().flat_map(|b| b.docs.values()) {
        if d.is_credit_memo() {
            memos += 1;
        } else {
            invoices += 1;
        }
        pdfs += u64::from(d.pdf.is_some());
    }
    json!({
        "invoices": invoices,
        "credit_memos": memos,
        "transactions": book.map_or(0, |b| b.feed.len()),
        "order_line_items": book.map_or(0, |b| b.by_line.len()),
        "seeded_pdfs": pdfs,
    })
}

/// `POST /_emulator/business/seed`.
pub(crate) async fn seed(State(app): State<App>, body: Bytes) -> Response {
    let doc: SeedDoc = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => return seed_error(e),
    };
    let partner = match (&doc.refresh_token, &doc.partner) {
        (Some(_), Some(_)) => return seed_error("give refresh_token or partner, not both"),
        (Some(t), None) => match app.config.partner_of(t) {
            Some(p) => p,
            None => return seed_error("refresh_token: not a refresh token this emulator accepts (Atzr|…)"),
        },
        (None, Some(p)) => p.clone(),
        (None, None) => DEFAULT_PARTNER.to_owned(),
    };
    let mut docs = Vec::new();
    for (i, s) in doc.invoices.into_iter().enumerate() {
        match docs_of(s, &format!("invoices[{i}]")) {
            Ok(d) => docs.extend(d),
            Err(e) => return seed_error(e),
        }
    }
    if let Some(g) = &doc.generate {
        match generated(g) {
            Ok(d) => docs.extend(d),
            Err(e) => return seed_error(e),
        }
    }
    let mut inner = app.lock();
    let business = &mut inner.business;
    if doc.replace {
        business.books.remove(&partner);
    }
    let book = business.books.entry(partner.clone()).or_default();
    {
        let mut seen = std::collections::HashSet::new();
        for d in &docs {
            if book.docs.contains_key(&d.number) || !seen.insert(d.number.as_str()) {
                return seed_error(format!("invoice number {:?} is already seeded for partner {partner}", d.number));
            }
        }
        // Transaction ids are unique per partner too (they order the feed).
        let mut ids: std::collections::HashSet<String> = book.feed.keys().map(|(_, id)| id.clone()).collect();
        for d in &docs {
            for k in 0..d.split_payments.max(1) {
                let id = d.part_id(k);
                if !ids.insert(id.clone()) {
                    return seed_error(format!("transaction id {id:?} is already seeded for partner {partner}"));
                }
            }
        }
    }
    let added = docs.len();
    let memos = docs.iter().filter(|d| d.is_credit_memo()).count();
    for d in docs {
        book.insert(d);
    }
    json_response(
        StatusCode::OK,
        json!({"partner": partner, "added": {"invoices": added - memos, "credit_memos": memos}, "totals": counts(Some(book))}),
    )
}

/// `GET /_emulator/business/seed`.
pub(crate) async fn seed_counts(State(app): State<App>) -> Response {
    let inner = app.lock();
    let b = &inner.business;
    let mut partners = Map::new();
    for (p, book) in &b.books {
        let mut c = counts(Some(book));
        let reports = b.reports.values().filter(|r| &r.partner == p).count();
        let documents = b.documents.values().filter(|d| &d.partner == p).count();
        c["reports"] = json!(reports);
        c["report_documents"] = json!(documents);
        partners.insert(p.clone(), c);
    }
    json_response(StatusCode::OK, json!({"partners": partners, "page_tokens": b.page_tokens.len()}))
}

// ---------------------------------------------------------------------------------------------
// Handlers

fn invalid(message: impl Into<String>) -> Response {
    sp_error(StatusCode::BAD_REQUEST, INVALID, message)
}

fn page_token() -> String {
    let a = uuid::Uuid::new_v4().into_bytes();
    let b = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([a, b].concat())
}

/// An RFC 3339 query date, or the sandbox's message.
fn iso_date(name: &str, value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|d| d.to_utc())
        .map_err(|_| format!("Input date [{value}] is not in the expected ISO8601 format. ({name})"))
}

/// One page of getTransactions: `(start bound, end, partner)` → the answer and the next cursor.
fn transactions_page(app: &App, partner: &str, lower: Bound<(DateTime<Utc>, String)>, end: DateTime<Utc>) -> Response {
    let size = app.config.transactions_page_size.max(1);
    let mut inner = app.lock();
    let business = &mut inner.business;
    let mut page = Vec::with_capacity(size);
    let mut last = None;
    let mut more = false;
    if let Some(book) = business.books.get(partner) {
        for ((feed_date, tx), (number, part)) in book.feed.range((lower, Bound::Unbounded)) {
            if *feed_date > end {
                break;
            }
            if page.len() == size {
                more = true;
                break;
            }
            if let Some(d) = book.docs.get(number) {
                page.push(render_transaction(d, *part));
            }
            last = Some((*feed_date, tx.clone()));
        }
    }
    let mut body = json!({ "transactions": page });
    if let (true, Some(after)) = (more, last) {
        let token = page_token();
        business.page_tokens.insert(token.clone(), Cursor { partner: partner.to_owned(), end, after });
        body["nextPageToken"] = json!(token);
    }
    json_response(StatusCode::OK, body)
}

/// getTransactions: `GET /reconciliation/2021-01-08/transactions?feedStartDate=…&feedEndDate=…`
/// or `?nextPageToken=…` alone.
pub(crate) async fn get_transactions(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let path = if query.is_empty() { TRANSACTIONS_PATH.to_owned() } else { format!("{TRANSACTIONS_PATH}?{query}") };
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::GetTransactions, partner, &path, &rid, Value::Null, RecordedIds::default());
    api_call(&app, Operation::GetTransactions, seq, &headers, kill, move |app| {
        let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(&query) {
            Ok(p) => p,
            Err(e) => return invalid(format!("The query string cannot be parsed: {e}")),
        };
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in pairs {
            if !["feedStartDate", "feedEndDate", "nextPageToken"].contains(&k.as_str()) {
                return invalid(format!("Unknown parameter {k}; getTransactions takes feedStartDate, feedEndDate and nextPageToken."));
            }
            if params.insert(k.clone(), v).is_some() {
                return invalid(format!("Parameter {k} is given more than once."));
            }
        }
        if let Some(token) = params.get("nextPageToken") {
            if params.len() > 1 {
                return invalid("nextPageToken must be the only parameter when it is given; send it alone to get the next page.");
            }
            let cursor = {
                let inner = app.lock();
                inner.business.page_tokens.get(token).filter(|c| c.partner == owner).map(|c| (c.after.clone(), c.end))
            };
            return match cursor {
                Some((after, end)) => transactions_page(app, &owner, Bound::Excluded(after), end),
                None => invalid(format!("Invalid nextPageToken [{token}].")),
            };
        }
        let missing: Vec<&str> = ["feedStartDate", "feedEndDate"].into_iter().filter(|k| !params.contains_key(*k)).collect();
        if !missing.is_empty() {
            return invalid(format!("Missing required request parameters: {}.", missing.join(", ")));
        }
        let start = match iso_date("feedStartDate", &params["feedStartDate"]) {
            Ok(d) => d,
            Err(e) => return invalid(e),
        };
        let end = match iso_date("feedEndDate", &params["feedEndDate"]) {
            Ok(d) => d,
            Err(e) => return invalid(e),
        };
        if start > end {
            return invalid("feedStartDate must not be after feedEndDate.");
        }
        transactions_page(app, &owner, Bound::Included((start, String::new())), end)
    })
    .await
}

/// Reads a JSON body: (parsed, the value to record, whether the content type is JSON).
async fn json_body(app: &App, req: Request) -> Result<(HeaderMap, Result<Value, String>, bool), Response> {
    let (parts, body) = req.into_parts();
    let bytes = with_body_limit(app, body)
        .await
        .map_err(|_| sp_error(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "The request size exceeded the limit."))?;
    let json_ct = is_json(&parts.headers);
    let parsed = serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("The request body is not valid JSON: {e}"));
    Ok((parts.headers, parsed, json_ct))
}

fn violations_response(validator: &jsonschema::Validator, body: &Value) -> Option<Response> {
    let v = model::violations(validator, body);
    (!v.is_empty()).then(|| sp_errors(StatusCode::BAD_REQUEST, v.into_iter().map(|m| (INVALID, m))))
}

/// getInvoiceDetailsByOrderLineItems: `POST /reconciliation/2021-01-08/invoices`.
pub(crate) async fn get_invoice_details(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (headers, parsed, json_ct) = match json_body(&app, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let recorded = parsed.as_ref().map_or(Value::Null, Value::clone);
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::GetInvoiceDetails, partner, INVOICES_PATH, &rid, recorded, RecordedIds::default());
    api_call(&app, Operation::GetInvoiceDetails, seq, &headers, kill, move |app| {
        if !json_ct {
            return invalid("The request body must be application/json.");
        }
        let body = match parsed {
            Ok(v) => v,
            Err(e) => return invalid(e),
        };
        let n = body.get("orderLineItems").and_then(Value::as_array).map_or(0, Vec::len);
        if n > MAX_ORDER_LINE_ITEMS {
            return invalid(format!("orderLineItems: at most {MAX_ORDER_LINE_ITEMS} order line items per call, got {n}."));
        }
        if let Some(r) = violations_response(&app.invoice_details_validator, &body) {
            return r;
        }
        if n == 0 {
            return invalid("Missing required request parameters: orderLineItems is empty.");
        }
        let inner = app.lock();
        let book = inner.business.books.get(&owner);
        let mut out = Vec::with_capacity(n);
        for item in body["orderLineItems"].as_array().into_iter().flatten() {
            let key = (
                item["orderId"].as_str().unwrap_or_default().to_owned(),
                item["orderLineItemId"].as_str().unwrap_or_default().to_owned(),
                item["shipmentId"].as_str().unwrap_or_default().to_owned(),
            );
            // Unknown order line items are left out of the answer (as the sandbox does).
            let Some(numbers) = book.and_then(|b| b.by_line.get(&key)) else { continue };
            let details: Vec<Value> = numbers
                .iter()
                .filter_map(|no| book.and_then(|b| b.docs.get(no)))
                .filter(|d| d.available)
                .map(render_invoice_detail)
                .collect();
            out.push(json!({
                "orderLineItem": {"orderId": key.0, "orderLineItemId": key.1, "shipmentId": key.2},
                "invoiceDetails": details,
            }));
        }
        json_response(StatusCode::OK, json!({ "invoiceDetailsByOrderLineItems": out }))
    })
    .await
}

/// getBatchInvoicePaymentDetails: `POST /reconciliation/2021-01-08/invoices/batch/paymentDetails`.
pub(crate) async fn get_payment_details(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (headers, parsed, json_ct) = match json_body(&app, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let recorded = parsed.as_ref().map_or(Value::Null, Value::clone);
    let ids: Vec<String> = recorded
        .get("invoiceIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::GetPaymentDetails, partner, PAYMENT_DETAILS_PATH, &rid, recorded, RecordedIds::invoices(ids));
    api_call(&app, Operation::GetPaymentDetails, seq, &headers, kill, move |app| {
        if !json_ct {
            return sp_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "The request payload is in an unsupported format.",
            );
        }
        let body = match parsed {
            Ok(v) => v,
            Err(e) => return invalid(e),
        };
        if let Some(r) = violations_response(&app.payment_details_validator, &body) {
            return r;
        }
        let inner = app.lock();
        let book = inner.business.books.get(&owner);
        let results: Vec<Value> = body["invoiceIds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|id| match book.and_then(|b| b.docs.get(id)).and_then(|d| d.payment.clone()) {
                Some(Ok((status, due))) => json!({
                    "invoiceId": id, "resultType": "SUCCESS",
                    "paymentDetails": {"status": status, "dueDate": seconds(due)},
                }),
                Some(Err(e)) => json!({"invoiceId": id, "resultType": "ERROR", "error": e}),
                None => json!({
                    "invoiceId": id, "resultType": "ERROR",
                    "error": {"code": "INVOICE_NOT_FOUND", "message": format!("No payment details were found for invoice {id}.")},
                }),
            })
            .collect();
        json_response(StatusCode::OK, json!({ "invoicePaymentDetailsResults": results }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        decimal_of(s).unwrap()
    }

    #[test]
    fn money_formats() {
        let cases = [
            ("1751", "1751.00", "1751.0", "1751"),
            ("12.50", "12.50", "12.5", "12.5"),
            ("0", "0.00", "0.0", "0"),
            ("-2.99", "-2.99", "-2.99", "-2.99"),
        ];
        for (v, two, one, minimal) in cases {
            assert_eq!(render(d(v), MoneyFormat::Two), two);
            assert_eq!(render(d(v), MoneyFormat::One), one);
            assert_eq!(render(d(v), MoneyFormat::Minimal), minimal);
        }
        assert_eq!(render(-Decimal::ZERO, MoneyFormat::Minimal), "0");
        let f = Fmt::new(MoneyFormat::Mixed, "EUR", false);
        let got: Vec<String> = (0..4).map(|_| f.amount(d("908"))).collect();
        assert_eq!(got, ["908.00", "908.0", "908", "908.00"]);
        let f = Fmt::new(MoneyFormat::Two, "EUR", true);
        assert_eq!(f.amount(d("5.99")), "-5.99");
        assert_eq!(f.rate(d("20")), "0.20");
        assert_eq!(f.rate(d("5.5")), "0.055");
        assert_eq!(Fmt::new(MoneyFormat::Minimal, "EUR", false).rate(d("0")), "0");
    }

    #[test]
    fn dates_and_dates_times() {
        assert_eq!(parse_when("2026-11-01").unwrap().to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(parse_when("2026-11-01T10:00:00+01:00").unwrap().to_rfc3339(), "2026-11-01T09:00:00+00:00");
        assert!(parse_when("01/11/2026").is_none());
    }
}
