//! The three Reconciliation API answers the import reads: `getTransactions`
//! ([`parse_transactions_page`]), `getInvoiceDetailsByOrderLineItems`
//! ([`parse_invoice_details`]) and `getBatchInvoicePaymentDetails` ([`parse_payment_details`]).
//!
//! Lenient where Amazon's own data is (its sandbox breaks the model's `required` lists: no
//! field of a transaction is required, an item without `discount`, an issuer without
//! `registrationNumber`, a SUCCESS without `paymentDetails`): an absent field is `None`.
//! Unknown fields are ignored. Strict where a value is there but is not what it says (an amount
//! that is not one, a date, a currency): an error naming the field's JSON pointer and the value,
//! never a guess. Amounts are read by their digits ([`super::amounts`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::json::{root, Obj, ParseError};
use crate::core::money::{Currency, Money};
use crate::ordering::placed::ApiError;

/// One page of `getTransactions`: its transactions and the token of the next page (none on
/// the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionsPage {
    pub transactions: Vec<Transaction>,
    pub next_page_token: Option<String>,
}

/// `transactionType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionType {
    Charge,
    Refund,
    Overrefund,
    /// A type the model does not list, as written.
    Other(String),
}

impl TransactionType {
    pub fn parse(s: &str) -> TransactionType {
        match s.trim().to_ascii_uppercase().as_str() {
            "CHARGE" => TransactionType::Charge,
            "REFUND" => TransactionType::Refund,
            "OVERREFUND" => TransactionType::Overrefund,
            _ => TransactionType::Other(s.trim().to_string()),
        }
    }

    /// Money back to the buyer (a credit memo's transaction).
    pub fn is_refund(&self) -> bool {
        matches!(self, TransactionType::Refund | TransactionType::Overrefund)
    }
}

/// `buyer` / `payer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A business transaction (a charge or a refund) and its lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    pub transaction_id: Option<String>,
    pub transaction_type: Option<TransactionType>,
    pub marketplace_id: Option<String>,
    pub transaction_date: Option<DateTime<Utc>>,
    /// From when `getTransactions` returns it: the import's watermark is on this date.
    pub feed_date: Option<DateTime<Utc>>,
    pub charge_identifier: Option<String>,
    pub ship_tax_rate: Option<String>,
    pub gift_wrap_tax_rate: Option<String>,
    pub legal_entity_name: Option<String>,
    pub purchasing_customer_group_name: Option<String>,
    /// The invoice (or credit memo) this transaction pays.
    pub invoice_number: Option<String>,
    /// The amount charged (the authorised amount while not settled).
    pub amount: Option<Money>,
    pub payment_instrument_type: Option<String>,
    pub payment_instrument_last4_digits: Option<String>,
    pub buyer: Option<Customer>,
    pub payer: Option<Customer>,
    /// The sibling transactions of a split payment.
    pub associated_transaction_ids: Vec<String>,
    pub lines: Vec<TransactionLine>,
}

/// A transaction line (`TransactionLineItem`): what was bought, and the only place the
/// UNSPSC, the PO number, the merchant and the checkout answers (`businessOrderInfo`) are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionLine {
    pub order_id: Option<String>,
    pub order_line_item_id: Option<String>,
    pub shipment_id: Option<String>,
    pub shipment_date: Option<DateTime<Utc>>,
    /// Blank (as the sandbox sends it) is none.
    pub purchase_order_number: Option<String>,
    pub purchase_order_line_item_id: Option<String>,
    pub principal_amount: Option<Money>,
    pub total_amount: Option<Money>,
    pub unit_price: Option<Money>,
    pub tax: Option<Money>,
    pub tax_rate: Option<String>,
    pub shipping_charge: Option<Money>,
    pub gift_wrapping_charge: Option<Money>,
    pub regulatory_fee: Option<Money>,
    /// Written negative by Amazon (`"-2.99"`); read as it is.
    pub discount: Option<Money>,
    pub asin: Option<String>,
    pub product_title: Option<String>,
    pub unspsc: Option<String>,
    pub item_quantity: Option<i64>,
    pub merchant_legal_name: Option<String>,
    pub budget_id: Option<String>,
    pub refund_reason: Option<String>,
    /// The checkout fields the company's administrator set up, in the answer's order.
    pub business_order_info: Vec<(String, String)>,
}

impl TransactionLine {
    /// The line's ids for `getInvoiceDetailsByOrderLineItems` (all three are required there).
    pub fn order_line_item(&self) -> Option<OrderLineItem> {
        Some(OrderLineItem {
            order_id: self.order_id.clone()?,
            order_line_item_id: self.order_line_item_id.clone()?,
            shipment_id: self.shipment_id.clone()?,
        })
    }
}

/// `OrderLineItem`: the ids that find a line's invoices (and its PDF).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineItem {
    pub order_id: String,
    pub order_line_item_id: String,
    pub shipment_id: String,
}

/// One entry of `invoiceDetailsByOrderLineItems`: an order line and its invoices (an invoice
/// and the credit memo that reverses it are both there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInvoices {
    pub order_line_item: Option<OrderLineItem>,
    pub invoices: Vec<InvoiceDetail>,
}

/// `invoiceType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InvoiceType {
    Standard,
    CreditMemo,
    Other(String),
}

impl InvoiceType {
    pub fn parse(s: &str) -> InvoiceType {
        match s.trim().to_ascii_uppercase().as_str() {
            "STANDARD" => InvoiceType::Standard,
            "CREDIT_MEMO" => InvoiceType::CreditMemo,
            _ => InvoiceType::Other(s.trim().to_string()),
        }
    }
}

/// `invoiceIssuer` / `sellerInformation`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub name: Option<String>,
    /// JCT# in Japan.
    pub registration_number: Option<String>,
}

/// `TaxDetail`: one tax rate's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxDetail {
    pub rate: Option<String>,
    pub inclusive_total: Option<Money>,
    pub exclusive_total: Option<Money>,
    pub amount: Option<Money>,
}

/// `feeType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeeType {
    Shipping,
    GiftWrapping,
    Other(String),
}

/// An invoice- or line-level fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub fee_type: Option<FeeType>,
    pub tax: Option<TaxDetail>,
    pub discount: Option<Money>,
}

/// An invoice line (`TransactionDataItem`; JP only per the model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceItem {
    pub asin: Option<String>,
    pub title: Option<String>,
    pub unit: Option<i64>,
    pub tax_rate: Option<String>,
    pub unit_tax_inclusive_price: Option<Money>,
    pub unit_tax_exclusive_price: Option<Money>,
    pub unit_tax_amount: Option<Money>,
    pub total_amount: Option<Money>,
    pub discount: Option<Money>,
    /// The order line ids of its `apportionment`.
    pub order_line_item_ids: Vec<String>,
    pub fees: Vec<Fee>,
}

/// `InvoiceDetail`: an invoice or credit memo as Amazon states it. Outside JP only the number,
/// the date, the type and the consolidation are filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceDetail {
    pub invoice_number: Option<String>,
    pub invoice_date: Option<DateTime<Utc>>,
    /// The consolidated invoice's number; `Some("Pending")` until it is issued.
    pub consolidated_invoice_number: Option<String>,
    pub invoice_type: Option<InvoiceType>,
    /// The invoice a credit memo reverses (the model writes the text `"null"` for a standard
    /// invoice: none).
    pub associated_invoice_number: Option<String>,
    pub associated_invoice_date: Option<DateTime<Utc>>,
    pub issuer: Option<Party>,
    pub seller: Option<Party>,
    pub bill_to_name: Option<String>,
    pub order_date: Option<DateTime<Utc>>,
    pub currency: Option<Currency>,
    /// A plain string in the model, in the invoice's currency.
    pub invoice_total: Option<Money>,
    pub tax: Vec<TaxDetail>,
    pub items: Vec<InvoiceItem>,
    pub fees: Vec<Fee>,
}

impl InvoiceDetail {
    pub fn is_credit_memo(&self) -> bool {
        self.invoice_type == Some(InvoiceType::CreditMemo)
    }
}

/// `PaymentDetails.status`: free text in the model; these four are the ones it lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum PaymentStatus {
    Closed,
    PastDue,
    Issued,
    PaymentProcessing,
    Other(String),
}

impl PaymentStatus {
    /// Amazon's words (`Past Due`), any spacing or case.
    pub fn parse(s: &str) -> PaymentStatus {
        let norm: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        match norm.as_str() {
            "closed" => PaymentStatus::Closed,
            "pastdue" => PaymentStatus::PastDue,
            "issued" => PaymentStatus::Issued,
            "paymentprocessing" => PaymentStatus::PaymentProcessing,
            _ => PaymentStatus::Other(s.trim().to_string()),
        }
    }

    /// As Amazon writes it.
    pub fn as_str(&self) -> &str {
        match self {
            PaymentStatus::Closed => "Closed",
            PaymentStatus::PastDue => "Past Due",
            PaymentStatus::Issued => "Issued",
            PaymentStatus::PaymentProcessing => "Payment Processing",
            PaymentStatus::Other(s) => s,
        }
    }

    /// Paid and closed.
    pub fn is_paid(&self) -> bool {
        *self == PaymentStatus::Closed
    }
}

impl From<String> for PaymentStatus {
    fn from(s: String) -> Self {
        PaymentStatus::parse(&s)
    }
}
impl From<PaymentStatus> for String {
    fn from(s: PaymentStatus) -> Self {
        s.as_str().to_string()
    }
}

/// `PaymentDetails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentDetails {
    pub status: Option<PaymentStatus>,
    pub due_date: Option<DateTime<Utc>>,
}

/// What the batch says of one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// `SUCCESS` (the sandbox sends it without `paymentDetails`: `None`).
    Success(Option<PaymentDetails>),
    /// `ERROR`, with its error when it has one.
    Error(Option<ApiError>),
    /// A `resultType` the model does not list (or none).
    Unknown(Option<String>),
}

/// One `invoicePaymentDetailsResults` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentResult {
    pub invoice_id: Option<String>,
    pub outcome: PaymentOutcome,
}

/// Reads a `getTransactions` answer (`TransactionsResponse`).
pub fn parse_transactions_page(json: &str) -> Result<TransactionsPage, ParseError> {
    let r = root(json, "transactions")?;
    let transactions = r.list("transactions")?.iter().map(transaction).collect::<Result<Vec<_>, _>>()?;
    Ok(TransactionsPage { transactions, next_page_token: r.text("nextPageToken")? })
}

fn customer(o: &Obj) -> Result<Customer, ParseError> {
    Ok(Customer { id: o.text("id")?, name: o.text("name")?, email: o.text("email")? })
}

fn transaction(o: &Obj) -> Result<Transaction, ParseError> {
    let amount = o.money("amount", None)?;
    // A line amount without a currency takes the transaction's (a blank zero stays none).
    let fallback = amount.map(|m| m.currency);
    let lines = o.list("transactionLineItems")?.iter().map(|l| transaction_line(l, fallback)).collect::<Result<Vec<_>, _>>()?;
    let mut associated = Vec::new();
    for a in o.list("associatedTransactionDetails")? {
        associated.extend(a.text("associatedTransactionId")?);
    }
    Ok(Transaction {
        transaction_id: o.text("transactionId")?,
        transaction_type: o.text("transactionType")?.map(|t| TransactionType::parse(&t)),
        marketplace_id: o.text("marketplaceId")?,
        transaction_date: o.date("transactionDate")?,
        feed_date: o.date("feedDate")?,
        charge_identifier: o.text("chargeIdentifier")?,
        ship_tax_rate: o.text("shipTaxRate")?,
        gift_wrap_tax_rate: o.text("giftWrapTaxRate")?,
        legal_entity_name: o.text("legalEntityName")?,
        purchasing_customer_group_name: o.text("purchasingCustomerGroupName")?,
        invoice_number: o.text("invoiceNumber")?,
        amount,
        payment_instrument_type: o.text("paymentInstrumentType")?,
        payment_instrument_last4_digits: o.text("paymentInstrumentLast4Digits")?,
        buyer: o.obj("buyer")?.map(|c| customer(&c)).transpose()?,
        payer: o.obj("payer")?.map(|c| customer(&c)).transpose()?,
        associated_transaction_ids: associated,
        lines,
    })
}

fn transaction_line(o: &Obj, fallback: Option<Currency>) -> Result<TransactionLine, ParseError> {
    Ok(TransactionLine {
        order_id: o.text("orderId")?,
        order_line_item_id: o.text("orderLineItemId")?,
        shipment_id: o.text("shipmentId")?,
        shipment_date: o.date("shipmentDate")?,
        purchase_order_number: o.text("purchaseOrderNumber")?,
        purchase_order_line_item_id: o.text("purchaseOrderLineItemId")?,
        principal_amount: o.money("principalAmount", fallback)?,
        total_amount: o.money("totalAmount", fallback)?,
        unit_price: o.money("unitPrice", fallback)?,
        tax: o.money("tax", fallback)?,
        tax_rate: o.text("taxRate")?,
        shipping_charge: o.money("shippingCharge", fallback)?,
        gift_wrapping_charge: o.money("giftWrappingCharge", fallback)?,
        regulatory_fee: o.money("regulatoryFee", fallback)?,
        discount: o.money("discount", fallback)?,
        asin: o.text("asin")?,
        product_title: o.text("productTitle")?,
        unspsc: o.text("unspsc")?,
        item_quantity: o.int("itemQuantity")?,
        merchant_legal_name: o.text("merchantLegalName")?,
        budget_id: o.text("budgetId")?,
        refund_reason: o.text("refundReason")?,
        business_order_info: o.string_map("businessOrderInfo")?,
    })
}

/// Reads a `getInvoiceDetailsByOrderLineItems` answer (`InvoiceDetailsByOrderLineItemsResponse`).
pub fn parse_invoice_details(json: &str) -> Result<Vec<LineInvoices>, ParseError> {
    let r = root(json, "invoiceDetailsByOrderLineItems")?;
    let mut out = Vec::new();
    for entry in r.list("invoiceDetailsByOrderLineItems")? {
        let order_line_item = match entry.obj("orderLineItem")? {
            Some(l) => match (l.text("orderId")?, l.text("orderLineItemId")?, l.text("shipmentId")?) {
                (Some(order_id), Some(order_line_item_id), Some(shipment_id)) => {
                    Some(OrderLineItem { order_id, order_line_item_id, shipment_id })
                }
                _ => None,
            },
            None => None,
        };
        let invoices = entry.list("invoiceDetails")?.iter().map(invoice_detail).collect::<Result<Vec<_>, _>>()?;
        out.push(LineInvoices { order_line_item, invoices });
    }
    Ok(out)
}

/// A text the model may write as `"null"` when there is none.
fn not_null(t: Option<String>) -> Option<String> {
    t.filter(|s| !s.eq_ignore_ascii_case("null"))
}

fn party(o: Option<Obj>) -> Result<Option<Party>, ParseError> {
    o.map(|p| Ok(Party { name: p.text("name")?, registration_number: p.text("registrationNumber")? })).transpose()
}

fn tax_detail(o: &Obj, cur: Option<Currency>) -> Result<TaxDetail, ParseError> {
    Ok(TaxDetail {
        rate: o.text("rate")?,
        inclusive_total: o.money("inclusiveTotal", cur)?,
        exclusive_total: o.money("exclusiveTotal", cur)?,
        amount: o.money("amount", cur)?,
    })
}

fn fee(o: &Obj, cur: Option<Currency>) -> Result<Fee, ParseError> {
    let fee_type = o.text("feeType")?.map(|t| match t.to_ascii_uppercase().as_str() {
        "SHIPPING" => FeeType::Shipping,
        "GIFTWRAPPING" => FeeType::GiftWrapping,
        _ => FeeType::Other(t),
    });
    Ok(Fee { fee_type, tax: o.obj("tax")?.map(|t| tax_detail(&t, cur)).transpose()?, discount: o.money("discount", cur)? })
}

fn invoice_detail(o: &Obj) -> Result<InvoiceDetail, ParseError> {
    let currency = o.currency("currencyCode")?;
    let cur = currency;
    let mut items = Vec::new();
    for i in o.list("transactionDataItems")? {
        let mut ids = Vec::new();
        for a in i.list("apportionment")? {
            ids.extend(a.text("orderLineItemId")?);
        }
        items.push(InvoiceItem {
            asin: i.text("asin")?,
            title: i.text("title")?,
            unit: i.int("unit")?,
            tax_rate: i.text("taxRate")?,
            unit_tax_inclusive_price: i.money("unitTaxInclusivePrice", cur)?,
            unit_tax_exclusive_price: i.money("unitTaxExclusivePrice", cur)?,
            unit_tax_amount: i.money("unitTaxAmount", cur)?,
            total_amount: i.money("totalAmount", cur)?,
            discount: i.money("discount", cur)?,
            order_line_item_ids: ids,
            fees: i.list("fees")?.iter().map(|f| fee(f, cur)).collect::<Result<Vec<_>, _>>()?,
        });
    }
    let consolidated = match o.obj("consolidatedInvoiceDetails")? {
        Some(c) => not_null(c.text("invoiceNumber")?),
        None => None,
    };
    let associated_date = match not_null(o.text("associatedInvoiceDate")?) {
        Some(_) => o.date("associatedInvoiceDate")?,
        None => None,
    };
    Ok(InvoiceDetail {
        invoice_number: o.text("invoiceNumber")?,
        invoice_date: o.date("invoiceDate")?,
        consolidated_invoice_number: consolidated,
        invoice_type: o.text("invoiceType")?.map(|t| InvoiceType::parse(&t)),
        associated_invoice_number: not_null(o.text("associatedInvoiceNumber")?),
        associated_invoice_date: associated_date,
        issuer: party(o.obj("invoiceIssuer")?)?,
        seller: party(o.obj("sellerInformation")?)?,
        bill_to_name: match o.obj("billToAddress")? {
            Some(a) => a.text("companyName")?.or(a.text("fullName")?),
            None => None,
        },
        order_date: o.date("orderDate")?,
        currency,
        invoice_total: o.money("invoiceTotal", cur)?,
        tax: o.list("tax")?.iter().map(|t| tax_detail(t, cur)).collect::<Result<Vec<_>, _>>()?,
        items,
        fees: o.list("fees")?.iter().map(|f| fee(f, cur)).collect::<Result<Vec<_>, _>>()?,
    })
}

/// Reads a `getBatchInvoicePaymentDetails` answer (`GetBatchInvoicePaymentDetailsResponse`).
pub fn parse_payment_details(json: &str) -> Result<Vec<PaymentResult>, ParseError> {
    let r = root(json, "invoicePaymentDetailsResults")?;
    let mut out = Vec::new();
    for e in r.list("invoicePaymentDetailsResults")? {
        let kind = e.text("resultType")?;
        let outcome = match kind.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("SUCCESS") => PaymentOutcome::Success(
                e.obj("paymentDetails")?
                    .map(|p| {
                        Ok::<_, ParseError>(PaymentDetails {
                            status: p.text("status")?.map(|s| PaymentStatus::parse(&s)),
                            due_date: p.date("dueDate")?,
                        })
                    })
                    .transpose()?,
            ),
            Some("ERROR") => PaymentOutcome::Error(match e.obj("error")? {
                Some(err) => Some(ApiError {
                    code: err.text("code")?.unwrap_or_default(),
                    message: err.text("message")?.unwrap_or_default(),
                    details: err.text("details")?,
                }),
                None => None,
            }),
            _ => PaymentOutcome::Unknown(kind),
        };
        out.push(PaymentResult { invoice_id: e.text("invoiceId")?, outcome });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::fixture;

    fn eur(a: &str) -> Option<Money> {
        Some(Money::parse(a, "EUR").unwrap())
    }

    #[test]
    fn the_model_sandbox_transactions_page() {
        let page = parse_transactions_page(&fixture("sandbox-transactions.json")).unwrap();
        assert_eq!(page.next_page_token, None, "no nextPageToken: the last page");
        let [t] = page.transactions.as_slice() else { panic!("{page:?}") };
        assert_eq!(t.transaction_id.as_deref(), Some("1x47pVc03Ffs71cjjCct"));
        assert_eq!(t.transaction_type, Some(TransactionType::Charge));
        assert_eq!(t.invoice_number.as_deref(), Some("JP218PV8HMOI"));
        assert_eq!(t.feed_date.unwrap().to_rfc3339(), "2021-05-12T20:44:21.791+00:00");
        assert_eq!(t.amount.unwrap().to_string(), "5.99 USD");
        assert_eq!(t.associated_transaction_ids, vec!["ONf39R7NmjIh9247YJ34".to_string()]);
        assert_eq!(t.buyer.as_ref().unwrap().email.as_deref(), Some("kozjared+b2b@amazon.com"));
        let [l] = t.lines.as_slice() else { panic!() };
        assert_eq!(l.discount.unwrap().amount.to_string(), "-2.99", "the discount as Amazon writes it");
        assert_eq!(l.tax.unwrap().amount.to_string(), "0.0");
        assert_eq!(l.purchase_order_number, None, "the sandbox's empty PO number is none");
        assert_eq!(l.item_quantity, Some(1));
        assert_eq!(l.unspsc.as_deref(), Some("44121700"));
        assert_eq!(l.business_order_info.len(), 3);
        assert_eq!(l.business_order_info[0], ("GL code".to_string(), "535-office".to_string()));
        assert_eq!(
            l.order_line_item(),
            Some(OrderLineItem {
                order_id: "114-1458190-2465828".into(),
                order_line_item_id: "31208275451321".into(),
                shipment_id: "DhG3L9W23".into()
            })
        );
    }

    #[test]
    fn our_pages_with_unknown_fields_numbers_and_blank_currencies() {
        let page = parse_transactions_page(&fixture("transactions-page-1.json")).unwrap();
        assert_eq!(page.next_page_token.as_deref(), Some("page-2-token"));
        assert_eq!(page.transactions.len(), 2);
        let chair = &page.transactions[0].lines[1];
        assert_eq!(chair.principal_amount, eur("129"), "a JSON number read by its digits");
        assert_eq!(chair.tax, eur("25.8"));
        assert_eq!(chair.discount, None, "absent");
        assert_eq!(chair.regulatory_fee, None);
        assert_eq!(chair.merchant_legal_name.as_deref(), Some("Büromöbel GmbH"));
        let refund = &page.transactions[1];
        assert_eq!(refund.transaction_type, Some(TransactionType::Refund));
        assert!(refund.transaction_type.as_ref().unwrap().is_refund());
        assert_eq!(refund.lines[0].principal_amount, eur("-37.47"));
        assert_eq!(refund.lines[0].refund_reason.as_deref(), Some("Damaged in transit"));

        let page = parse_transactions_page(&fixture("transactions-page-2.json")).unwrap();
        assert_eq!(page.next_page_token, None);
        let toner = &page.transactions[0].lines[0];
        assert_eq!(toner.unit_price, None, "currencyCode \"\" with 0: not filled in");
        assert_eq!(toner.item_quantity, Some(1), "a quantity as a string");
        assert_eq!(toner.discount.unwrap().amount.to_string(), "0.0", "-0.0 is a zero");
        assert!(toner.business_order_info.is_empty(), "businessOrderInfo null");
        assert_eq!(page.transactions[0].invoice_number, None);
    }

    #[test]
    fn a_garbage_amount_names_its_field() {
        let e = parse_transactions_page(&fixture("transactions-garbage-amount.json")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("/transactions/0/transactionLineItems/0/discount/amount: '12,50' is not an amount"), "{text}");
        let e = parse_transactions_page(r#"{"transactions":[{"feedDate":"yesterday"}]}"#).unwrap_err();
        assert_eq!(e.to_string(), "/transactions/0/feedDate: 'yesterday' is not an ISO 8601 date-time (e.g. 2020-04-03T16:59:18.768Z)");
        let e = parse_transactions_page(r#"{"transactions":[{"amount":{"currencyCode":"EUR","amount":"1e3"}}]}"#).unwrap_err();
        assert!(e.to_string().starts_with("/transactions/0/amount/amount: '1e3'"), "{e}");
        let e = parse_transactions_page(r#"{"transactions":{"a":1}}"#).unwrap_err();
        assert_eq!(e.to_string(), "/transactions: expected a list, found an object");
    }

    #[test]
    fn an_error_list_is_an_error_list() {
        let e = parse_transactions_page(&fixture("sandbox-transactions-400.json")).unwrap_err();
        let ParseError::ErrorList(list) = &e else { panic!("{e:?}") };
        assert_eq!(list[0].code, "INVALID_REQUEST_PARAMETER");
        assert!(e.to_string().contains("is not in the expected ISO8601 format"));
        assert!(matches!(parse_invoice_details("{\"errors\":[]}"), Err(ParseError::ErrorList(_))));
        assert!(matches!(parse_payment_details("<html>"), Err(ParseError::NotJson(_))));
    }

    #[test]
    fn the_model_sandbox_invoice_details() {
        let lines = parse_invoice_details(&fixture("sandbox-invoice-details.json")).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].order_line_item.as_ref().unwrap().order_line_item_id, "6172160940605");
        let inv = &lines[0].invoices;
        assert_eq!(inv.len(), 5, "the invoices and the credit memos that reverse them");
        let first = &inv[0];
        assert_eq!(first.invoice_number.as_deref(), Some("JP218PV8HMOI"));
        assert_eq!(first.invoice_type, Some(InvoiceType::Standard));
        assert_eq!(first.consolidated_invoice_number.as_deref(), Some("11XS-123S-XFA1"));
        assert_eq!(first.invoice_total.unwrap().to_string(), "1751.0 JPY", "a plain string in the invoice's currency");
        assert_eq!(first.issuer.as_ref().unwrap().registration_number, None, "the sandbox issuer has no registrationNumber");
        let item = &first.items[0];
        assert_eq!(item.discount, None, "the sandbox item has no discount");
        assert_eq!(item.unit_tax_inclusive_price, None, "currencyCode \"\" with 0");
        assert_eq!(item.unit_tax_amount.unwrap().to_string(), "159.0 JPY");
        assert_eq!(first.fees[0].fee_type, Some(FeeType::Shipping));
        assert_eq!(first.fees[0].discount.unwrap().amount.to_string(), "-61.0");
        let memo = &inv[2];
        assert!(memo.is_credit_memo());
        assert_eq!(memo.associated_invoice_number.as_deref(), Some("JP218PV8HMOI"));
        assert_eq!(memo.invoice_total.unwrap().amount.to_string(), "1751.00", "1751.0 and 1751.00 both read");
        assert_eq!(memo.invoice_total.unwrap().amount, first.invoice_total.unwrap().amount);
        assert_eq!(memo.items[0].order_line_item_ids, vec!["6172160940605".to_string()]);
        assert_eq!(memo.tax[0].exclusive_total.unwrap().to_string(), "1592.0 JPY");
    }

    #[test]
    fn our_invoice_details_with_null_texts_and_pending_consolidation() {
        let lines = parse_invoice_details(&fixture("invoice-details.json")).unwrap();
        assert_eq!(lines.len(), 4);
        let std = &lines[0].invoices[0];
        assert_eq!(std.associated_invoice_number, None, "the model writes \"null\" for a standard invoice");
        assert_eq!(std.associated_invoice_date, None);
        assert_eq!(std.consolidated_invoice_number, None, "consolidatedInvoiceDetails null");
        assert_eq!(std.currency, None, "JP only");
        assert_eq!(lines[2].invoices[0].consolidated_invoice_number.as_deref(), Some("Pending"));
        assert!(lines[3].invoices.is_empty(), "no invoice yet");
    }

    #[test]
    fn payment_details_success_error_and_the_sandbox_without_details() {
        let r = parse_payment_details(&fixture("sandbox-payment-details.json")).unwrap();
        assert_eq!(r[0], PaymentResult { invoice_id: Some("JP218PV8HMOI".into()), outcome: PaymentOutcome::Success(None) });
        assert_eq!(r[1], PaymentResult { invoice_id: Some("1XQX-T4VG-9939".into()), outcome: PaymentOutcome::Error(None) });
        let r = parse_payment_details(&fixture("payment-details.json")).unwrap();
        let PaymentOutcome::Success(Some(d)) = &r[0].outcome else { panic!("{r:?}") };
        assert_eq!(d.status, Some(PaymentStatus::Issued));
        assert_eq!(d.due_date.unwrap().date_naive().to_string(), "2026-03-31");
        let PaymentOutcome::Error(Some(e)) = &r[2].outcome else { panic!("{r:?}") };
        assert_eq!(e.code, "INVOICE_NOT_FOUND");
        let PaymentOutcome::Success(Some(d)) = &r[3].outcome else { panic!("{r:?}") };
        assert_eq!(d.status, Some(PaymentStatus::PastDue));
        assert_eq!(PaymentStatus::parse("payment processing"), PaymentStatus::PaymentProcessing);
        assert_eq!(PaymentStatus::parse("Refunded"), PaymentStatus::Other("Refunded".into()));
        assert_eq!(serde_json::to_value(PaymentStatus::PastDue).unwrap(), "Past Due");
        assert_eq!(serde_json::from_value::<PaymentStatus>("Closed".into()).unwrap(), PaymentStatus::Closed);
    }
}
