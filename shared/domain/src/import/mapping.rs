//! From the Reconciliation answers to what the store keeps: the invoices a page of
//! transactions bills ([`assemble`]), and each as a purchase invoice of the company with its
//! lines and its journal ([`map_invoice`]).
//!
//! # The supplier
//!
//! Every imported invoice has the one supplier key [`AMAZON_BUSINESS_SUPPLIER`]
//! (`NetworkID:AN01011737571`): the `From` credential of Amazon Business's cXML e-invoices,
//! which is the supplier key [`crate::invoice::records::invoice_key`] gives them. So an
//! invoice that came by cXML and the same invoice imported have the same key
//! (`NetworkID:AN01011737571#<number>`): one company never books it twice, whichever comes
//! first. The seller of each line is kept on the line (`sold_by` = `merchantLegalName`); the
//! supplier's name is "Amazon Business". An invoice stored under another spelling of the
//! credential is found through the company's invoice-number index ([`same_invoice`]).
//!
//! # Amounts
//!
//! The lines and amounts come from the transaction lines, the one source every region has
//! (the invoice details carry lines only in JP). Per line, in the invoice's orientation and
//! rounded half away from zero to the currency's minor units: the principal (else unit price ×
//! quantity), shipping, gift wrap and regulatory fee, the discount (Amazon writes it negative;
//! its size is taken off), the tax. The invoice's totals are their sums, and its net is
//! subtotal + tax + shipping + special handling − discount, so the journal is balanced exactly
//! by construction. A credit memo (invoice type `CREDIT_MEMO`, else a refund transaction)
//! states every amount negative, whatever sign Amazon wrote: its journal comes out reversed.
//! Amazon's own totals (a line's `totalAmount`, a JP invoice's `invoiceTotal`) are checked
//! against ours: a difference is a warning kept on the invoice, which is booked all the same
//! (a person reviews every imported invoice: status "To process").
//!
//! # Accounts
//!
//! A line's expense goes to its GL code (the company's configured `businessOrderInfo` key)
//! when it has one, else to the chart's account for its category: `UNSPSC-<code>` (the rule
//! cXML lines follow, so one chart maps both channels), else `Purchases`. Its cost centre is a
//! `CostCenter=<id>` segment. Tax, shipping, other charges, discount and the payable are
//! booked as for every invoice ([`journal_of_expenses`]).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::answer::{InvoiceDetail, LineInvoices, OrderLineItem, PaymentOutcome, PaymentResult, Transaction, TransactionLine};
use super::codes::{ImportCode, ImportProblem};
use super::purchase::{AmazonLine, Purchase, PurchaseKind};
use super::settings::ImportSettings;
use crate::core::money::{Currency, Money};
use crate::core::sha256_hex;
use crate::invoice::accounting::{journal_of_expenses, Chart, EntryLine, Expense};
use crate::invoice::document::number_key;
use crate::invoice::records::{archive_key, invoice_key, Channel, DocumentSource, InvoiceRecord, InvoiceStatus, LineRecord};
use crate::invoice::validate::Totals;

/// The supplier key of every Amazon Business invoice: the `From` credential of its cXML
/// e-invoices.
pub const AMAZON_BUSINESS_SUPPLIER: &str = "NetworkID:AN01011737571";
/// The supplier's name on an imported invoice.
pub const AMAZON_BUSINESS_NAME: &str = "Amazon Business";
/// Amazon Business's Ariba network ids (the identity of [`AMAZON_BUSINESS_SUPPLIER`]).
pub const AMAZON_BUSINESS_NETWORK_IDS: &[&str] = &["AN01011737571"];
/// The category of an imported line without UNSPSC (and the book every import is filed in).
pub const PURCHASES_CATEGORY: &str = "Purchases";

/// Is this supplier key Amazon Business (`NetworkID:AN01011737571`, the domain in any case)?
pub fn is_amazon_business_supplier(supplier: &str) -> bool {
    match supplier.split_once(':') {
        Some((domain, id)) => domain.trim().eq_ignore_ascii_case("networkid") && AMAZON_BUSINESS_NETWORK_IDS.contains(&id.trim()),
        None => false,
    }
}

/// The key an imported invoice is stored under: `NetworkID:AN01011737571#<number>`.
pub fn imported_invoice_key(invoice_number: &str) -> String {
    invoice_key(AMAZON_BUSINESS_SUPPLIER, invoice_number.trim())
}

/// The invoice keys under which the same Amazon Business invoice may already be stored, by
/// direct read: the imported key first, then the credential's other usual spellings, with the
/// number as given and in its [`number_key`] form.
pub fn same_invoice_keys(invoice_number: &str) -> Vec<String> {
    let given = invoice_number.trim();
    let upper = number_key(given);
    let mut out: Vec<String> = Vec::new();
    for id in AMAZON_BUSINESS_NETWORK_IDS {
        for domain in ["NetworkID", "networkid", "NetworkId", "NETWORKID"] {
            for n in [given, upper.as_str()] {
                let k = invoice_key(&format!("{domain}:{id}"), n);
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
    }
    out
}

/// Which stored invoice is the same as an imported one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SameInvoice {
    None,
    One(String),
    /// Several Amazon Business invoices of the company have the number (under different
    /// spellings): a person decides; nothing is booked.
    Several(Vec<String>),
}

/// Among the keys of the company's invoices with this number (its invoice-number index,
/// `C#<co>#INVNUM#<number_key>`), those from Amazon Business with this very number (compared
/// as [`number_key`]s).
pub fn same_invoice(invoice_number: &str, keys_with_number: &[String]) -> SameInvoice {
    let want = number_key(invoice_number);
    let mut found: Vec<String> = Vec::new();
    for key in keys_with_number {
        let is_it = key.match_indices('#').any(|(i, _)| is_amazon_business_supplier(&key[..i]) && number_key(&key[i + 1..]) == want);
        if is_it && !found.contains(key) {
            found.push(key.clone());
        }
    }
    match found.len() {
        0 => SameInvoice::None,
        1 => SameInvoice::One(found.remove(0)),
        _ => SameInvoice::Several(found),
    }
}

/// The transactions and the invoice detail of one invoice (or credit memo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSource {
    pub number: String,
    pub credit_memo: bool,
    pub detail: Option<InvoiceDetail>,
    /// Each with only its lines of this invoice (a line paid by several transactions of a
    /// split payment is kept once).
    pub transactions: Vec<Transaction>,
}

/// A transaction (line) that cannot be imported now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub transaction_id: Option<String>,
    pub feed_date: Option<DateTime<Utc>>,
    pub problem: ImportProblem,
}

/// What a page of transactions bills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assembly {
    pub invoices: Vec<InvoiceSource>,
    /// Not final yet (`not-finalised`): to be retried — they hold the watermark.
    pub pending: Vec<Held>,
    /// Never importable as they are (`missing-invoice-number`, `ambiguous-invoice`): recorded
    /// for a person, they do not hold the watermark.
    pub refused: Vec<Held>,
}

impl Assembly {
    /// The invoice numbers, for `getBatchInvoicePaymentDetails`.
    pub fn invoice_numbers(&self) -> Vec<String> {
        self.invoices.iter().map(|i| i.number.clone()).collect()
    }
}

/// The distinct order lines of some transactions, in order: what
/// `getInvoiceDetailsByOrderLineItems` is asked (in chunks of 25, [`super::batch::chunks`]).
pub fn order_line_items(transactions: &[Transaction]) -> Vec<OrderLineItem> {
    let mut seen = BTreeSet::new();
    transactions.iter().flat_map(|t| &t.lines).filter_map(TransactionLine::order_line_item).filter(|l| seen.insert(l.clone())).collect()
}

fn kind_fits(detail: &InvoiceDetail, refund: bool) -> bool {
    match &detail.invoice_type {
        Some(super::answer::InvoiceType::Standard) => !refund,
        Some(super::answer::InvoiceType::CreditMemo) => refund,
        _ => true,
    }
}

/// Groups the lines of a page's transactions into the invoices they bill, with the invoice
/// details of their order lines (`details`, every chunk's answer together).
///
/// A line belongs to the invoice its transaction names (`invoiceNumber`); a refund naming the
/// invoice it refunds belongs to that invoice's credit memo among its order line's invoices. A
/// transaction naming no invoice takes its order line's one invoice of its kind (a standard
/// invoice for a charge, a credit memo for a refund). No invoice yet: `not-finalised` (pending);
/// several: `ambiguous-invoice` (refused); no number at all: `missing-invoice-number` (refused).
pub fn assemble(transactions: &[Transaction], details: &[LineInvoices]) -> Assembly {
    let mut by_line: HashMap<&OrderLineItem, Vec<&InvoiceDetail>> = HashMap::new();
    for entry in details {
        if let Some(l) = &entry.order_line_item {
            let list = by_line.entry(l).or_default();
            for d in &entry.invoices {
                if !list.iter().any(|x| x.invoice_number == d.invoice_number && x.invoice_type == d.invoice_type) {
                    list.push(d);
                }
            }
        }
    }
    let mut out = Assembly::default();
    for t in transactions {
        let refund = t.transaction_type.as_ref().is_some_and(|k| k.is_refund());
        let tx = t.transaction_id.as_deref().unwrap_or("(no transactionId)");
        for line in &t.lines {
            let ids = line.order_line_item();
            let what = ids
                .as_ref()
                .map_or_else(|| "a line without order line ids".to_string(), |l| format!("order line {}", l.order_line_item_id));
            let candidates: Vec<&InvoiceDetail> = ids.as_ref().and_then(|l| by_line.get(l)).cloned().unwrap_or_default();
            let hold = |code: ImportCode, message: String| Held {
                transaction_id: t.transaction_id.clone(),
                feed_date: t.feed_date,
                problem: ImportProblem::new(code, message),
            };
            let named = t.invoice_number.as_deref().map(str::trim).filter(|n| !n.is_empty());
            let chosen: Result<(String, Option<&InvoiceDetail>), Held> = match named {
                Some(n) => match candidates.iter().find(|d| d.invoice_number.as_deref().map(str::trim) == Some(n)) {
                    Some(d) if kind_fits(d, refund) => Ok((n.to_string(), Some(*d))),
                    Some(_) => {
                        // A refund naming the invoice it refunds: its credit memo is the one
                        // reversing that invoice.
                        let memos: Vec<&&InvoiceDetail> = candidates
                            .iter()
                            .filter(|d| kind_fits(d, refund) && d.associated_invoice_number.as_deref().map(str::trim) == Some(n))
                            .collect();
                        match memos.as_slice() {
                            [m] => Ok((m.invoice_number.clone().unwrap_or_default(), Some(**m))),
                            [] => Err(hold(
                                ImportCode::NotFinalised,
                                format!("transaction {tx} refunds invoice {n} ({what}), which has no credit memo yet"),
                            )),
                            _ => Err(hold(
                                ImportCode::AmbiguousInvoice,
                                format!("transaction {tx} refunds invoice {n} ({what}), which has several credit memos"),
                            )),
                        }
                    }
                    None => Ok((n.to_string(), None)),
                },
                None => {
                    let fitting: Vec<&&InvoiceDetail> = candidates
                        .iter()
                        .filter(|d| kind_fits(d, refund) && d.invoice_number.as_deref().is_some_and(|n| !n.trim().is_empty()))
                        .collect();
                    match fitting.as_slice() {
                        [d] => Ok((d.invoice_number.as_deref().unwrap_or_default().trim().to_string(), Some(**d))),
                        [] if ids.is_none() => {
                            Err(hold(ImportCode::MissingInvoiceNumber, format!("transaction {tx} names no invoice and has {what}")))
                        }
                        [] => Err(hold(ImportCode::NotFinalised, format!("transaction {tx}: Amazon has no invoice for {what} yet"))),
                        many => Err(hold(
                            ImportCode::AmbiguousInvoice,
                            format!(
                                "transaction {tx} names no invoice and {what} has several: {}",
                                many.iter().filter_map(|d| d.invoice_number.as_deref()).collect::<Vec<_>>().join(", ")
                            ),
                        )),
                    }
                }
            };
            let (number, detail) = match chosen {
                Ok(c) => c,
                Err(h) if h.problem.code == ImportCode::NotFinalised => {
                    out.pending.push(h);
                    continue;
                }
                Err(h) => {
                    out.refused.push(h);
                    continue;
                }
            };
            let pos = match out.invoices.iter().position(|s| s.number == number) {
                Some(p) => p,
                None => {
                    out.invoices.push(InvoiceSource {
                        number: number.clone(),
                        credit_memo: detail.map_or(refund, |d| match d.invoice_type {
                            Some(super::answer::InvoiceType::CreditMemo) => true,
                            Some(super::answer::InvoiceType::Standard) => false,
                            _ => refund,
                        }),
                        detail: detail.cloned(),
                        transactions: Vec::new(),
                    });
                    out.invoices.len() - 1
                }
            };
            let src = &mut out.invoices[pos];
            if src.detail.is_none() {
                src.detail = detail.cloned();
            }
            let already = ids.is_some() && src.transactions.iter().flat_map(|x| &x.lines).any(|l| l.order_line_item() == ids);
            if already {
                // The same order line paid again by a sibling transaction of a split payment.
                if !src.transactions.iter().any(|x| x.transaction_id == t.transaction_id) {
                    src.transactions.push(Transaction { lines: Vec::new(), ..t.clone() });
                }
                continue;
            }
            match src.transactions.iter_mut().find(|x| x.transaction_id == t.transaction_id) {
                Some(x) => x.lines.push(line.clone()),
                None => src.transactions.push(Transaction { lines: vec![line.clone()], ..t.clone() }),
            }
        }
    }
    out
}

/// What a mapping needs besides the answers; the time (`received_at`) is given, not read.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub company: &'a str,
    pub chart: &'a Chart,
    pub settings: &'a ImportSettings,
    /// The first invoice date imported ([`ImportSettings::effective_start`]).
    pub start: NaiveDate,
    pub received_at: &'a str,
    /// Where the imported data is archived (`archive/`), as for every invoice.
    pub archive_prefix: &'a str,
}

/// What the PDF of an imported invoice is requested by ([`super::pdf::pdf_report_request`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PdfTarget {
    pub invoice_number: String,
    pub kind: PurchaseKind,
    pub marketplace_id: Option<String>,
    /// One of its order lines (for the request by order line).
    pub order_line: Option<OrderLineItem>,
}

/// An Amazon Business invoice as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedInvoice {
    /// Status [`InvoiceStatus::Ingesting`] (claim, write the details, then mark it Valid, as
    /// every invoice); filed in [`InvoiceRecord::purchase`].
    pub record: InvoiceRecord,
    pub lines: Vec<LineRecord>,
    /// The journal (kind `booking`), balanced exactly.
    pub entries: Vec<EntryLine>,
    /// What was imported, as canonical JSON: archived at `record.document_key`; its SHA-256 is
    /// `record.content_sha256`, the same for the same invoice on every run (payment status and
    /// due date are not part of it: they change).
    pub source_json: String,
    pub pdf: PdfTarget,
}

/// One line's amounts in the invoice's orientation (sizes), rounded to minor units.
struct Amounts {
    principal: Decimal,
    shipping: Decimal,
    gift_wrap: Decimal,
    regulatory: Decimal,
    discount: Decimal,
    tax: Decimal,
}

fn round(d: Decimal, cur: Currency) -> Decimal {
    d.round_dp_with_strategy(cur.minor_units(), RoundingStrategy::MidpointAwayFromZero)
}

fn size(m: Option<Money>, cur: Currency) -> Decimal {
    m.map_or(Decimal::ZERO, |m| round(m.amount.abs(), cur))
}

fn text(d: Decimal, cur: Currency) -> String {
    Money::new(d, cur).amount_string()
}

fn overflow(number: &str) -> ImportProblem {
    ImportProblem::new(ImportCode::AmountOverflow, format!("the amounts of invoice {number} do not add up within a decimal"))
}

fn sum(values: impl IntoIterator<Item = Decimal>, number: &str) -> Result<Decimal, ImportProblem> {
    values.into_iter().try_fold(Decimal::ZERO, |a, b| a.checked_add(b)).ok_or_else(|| overflow(number))
}

fn line_moneys(l: &TransactionLine) -> [Option<Money>; 8] {
    [l.principal_amount, l.total_amount, l.unit_price, l.tax, l.shipping_charge, l.gift_wrapping_charge, l.regulatory_fee, l.discount]
}

/// The invoice's currency: its lines' (all one), else its transactions', else its detail's.
fn invoice_currency(src: &InvoiceSource) -> Result<Currency, ImportProblem> {
    let mut found: Option<Currency> = None;
    let moneys = src
        .transactions
        .iter()
        .flat_map(|t| t.lines.iter().flat_map(line_moneys).chain(std::iter::once(t.amount)))
        .chain(src.detail.as_ref().map(|d| d.invoice_total))
        .flatten();
    for m in moneys {
        match found {
            None => found = Some(m.currency),
            Some(c) if c != m.currency => {
                return Err(ImportProblem::new(
                    ImportCode::CurrencyMismatch,
                    format!("invoice {} has amounts in {c} and in {}", src.number, m.currency),
                ));
            }
            Some(_) => {}
        }
    }
    found
        .or(src.detail.as_ref().and_then(|d| d.currency))
        .ok_or_else(|| ImportProblem::new(ImportCode::MissingCurrency, format!("invoice {}: no amount of it names a currency", src.number)))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).chain(std::iter::once('…')).collect()
    }
}

#[derive(Serialize)]
struct Canonical<'a> {
    invoice_key: &'a str,
    purpose: &'a str,
    invoice_date: &'a str,
    currency: &'a str,
    subtotal: &'a str,
    tax: &'a str,
    shipping: &'a str,
    special_handling: &'a str,
    discount: &'a str,
    net: &'a str,
    reverses: Option<&'a str>,
    transaction_ids: &'a [String],
    lines: &'a [LineRecord],
}

/// Maps one invoice (or credit memo) of [`assemble`], with its payment details when
/// `getBatchInvoicePaymentDetails` gave them, to the records of the company's purchase invoice.
/// Refused (a blocking [`ImportCode`]): no number, no lines, no currency or several, no date,
/// issued before the start date, amounts too large to add up.
pub fn map_invoice(src: &InvoiceSource, payment: Option<&PaymentResult>, ctx: &ImportContext) -> Result<ImportedInvoice, ImportProblem> {
    let number = src.number.trim();
    if number.is_empty() {
        return Err(ImportProblem::new(ImportCode::MissingInvoiceNumber, "an invoice of the import has no number"));
    }
    let mut rows: Vec<(&Transaction, &TransactionLine)> =
        src.transactions.iter().flat_map(|t| t.lines.iter().map(move |l| (t, l))).collect();
    if rows.is_empty() {
        return Err(ImportProblem::new(ImportCode::NoLines, format!("invoice {number} has no transaction line")));
    }
    // Numbered in a stable order: the same invoice gets the same lines (and SHA-256) on every run.
    rows.sort_by(|(_, a), (_, b)| {
        (&a.order_id, &a.order_line_item_id, &a.shipment_id, &a.asin).cmp(&(&b.order_id, &b.order_line_item_id, &b.shipment_id, &b.asin))
    });
    let cur = invoice_currency(src)?;
    let detail = src.detail.as_ref();
    let date = detail.and_then(|d| d.invoice_date).or_else(|| src.transactions.iter().filter_map(|t| t.transaction_date).min());
    let Some(date) = date.map(|d| d.date_naive()) else {
        return Err(ImportProblem::new(
            ImportCode::MissingInvoiceDate,
            format!("invoice {number} has no invoice date nor transaction date"),
        ));
    };
    if date < ctx.start {
        return Err(ImportProblem::new(
            ImportCode::BeforeStartDate,
            format!("invoice {number} was issued on {date}, before the import start date {}", ctx.start),
        ));
    }
    let sign = if src.credit_memo { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
    let signed = |d: Decimal| d * sign;
    let key = imported_invoice_key(number);
    let mut warnings = Vec::new();
    let mut lines = Vec::with_capacity(rows.len());
    let mut expenses = Vec::with_capacity(rows.len());
    let mut all = Vec::with_capacity(rows.len());
    for (i, (_, l)) in rows.iter().enumerate() {
        let n = i as u32 + 1;
        let qty = l.item_quantity.map(|q| Decimal::from(q.unsigned_abs()));
        let unit = l.unit_price.map(|m| round(m.amount.abs(), cur));
        let principal = match (l.principal_amount, unit, qty) {
            (Some(p), _, _) => round(p.amount.abs(), cur),
            (None, Some(u), Some(q)) => round(u.checked_mul(q).ok_or_else(|| overflow(number))?, cur),
            _ => {
                warnings.push(ImportProblem::new(
                    ImportCode::LineTotalMismatch,
                    format!("invoice {number} line {n}: Amazon gave no principal amount nor unit price; booked at 0"),
                ));
                Decimal::ZERO
            }
        };
        let a = Amounts {
            principal,
            shipping: size(l.shipping_charge, cur),
            gift_wrap: size(l.gift_wrapping_charge, cur),
            regulatory: size(l.regulatory_fee, cur),
            discount: size(l.discount, cur),
            tax: size(l.tax, cur),
        };
        let before_tax =
            sum([a.principal, a.shipping, a.gift_wrap, a.regulatory], number)?.checked_sub(a.discount).ok_or_else(|| overflow(number))?;
        let total = before_tax.checked_add(a.tax).ok_or_else(|| overflow(number))?;
        if let Some(given) = l.total_amount {
            let g = round(given.amount.abs(), cur);
            if g != total && g != before_tax {
                warnings.push(ImportProblem::new(
                    ImportCode::LineTotalMismatch,
                    format!(
                        "invoice {number} line {n}: Amazon's totalAmount is {} but principal {} + shipping {} + gift wrap {} + regulatory fee {} − discount {} + tax {} = {}",
                        text(g, cur),
                        text(a.principal, cur),
                        text(a.shipping, cur),
                        text(a.gift_wrap, cur),
                        text(a.regulatory, cur),
                        text(a.discount, cur),
                        text(a.tax, cur),
                        text(total, cur)
                    ),
                ));
            }
        }
        let gl = ctx.settings.gl_code(&l.business_order_info).map(str::to_string);
        let cost_center = ctx.settings.cost_center(&l.business_order_info).map(str::to_string);
        let category =
            l.unspsc.as_deref().map(str::trim).filter(|u| !u.is_empty()).map_or(PURCHASES_CATEGORY.to_string(), |u| format!("UNSPSC-{u}"));
        let account = gl.clone().unwrap_or_else(|| ctx.chart.expense_account(&category));
        let what = l.product_title.as_deref().or(l.asin.as_deref()).unwrap_or("item");
        let po = l.purchase_order_number.as_deref().unwrap_or("no PO");
        expenses.push(Expense {
            account,
            amount: Money::new(signed(a.principal), cur),
            memo: format!("{number} line {n} ({po}): {}", truncate(what, 80)),
            invoice_line: Some(n),
            segments: cost_center.iter().map(|c| format!("CostCenter={c}")).collect(),
        });
        let opt = |d: Decimal| (!d.is_zero()).then(|| text(signed(d), cur));
        lines.push(LineRecord {
            invoice_key: key.clone(),
            line_number: n,
            kind: "goods".into(),
            po_number: l.purchase_order_number.clone(),
            supplier_order_id: l.order_id.clone(),
            reference_line_number: l.purchase_order_line_item_id.clone(),
            quantity: qty.map(|q| signed(q).to_string()),
            unit_of_measure: None,
            unit_price: unit.map(|u| text(u, cur)),
            subtotal: Some(text(signed(a.principal), cur)),
            tax: Some(text(signed(a.tax), cur)),
            currency: cur.code().to_string(),
            description: l.product_title.clone(),
            supplier_part_id: l.asin.clone(),
            category,
            classification: l.unspsc.as_ref().map(|u| format!("UNSPSC:{u}")),
            sold_by: l.merchant_legal_name.clone(),
            amazon: Some(AmazonLine {
                order_line_item_id: l.order_line_item_id.clone(),
                shipment_id: l.shipment_id.clone(),
                gl_code: gl,
                cost_center,
                shipping: opt(a.shipping),
                gift_wrap: opt(a.gift_wrap),
                regulatory_fee: opt(a.regulatory),
                discount: (!a.discount.is_zero()).then(|| text(signed(a.discount), cur)),
                total: Some(text(signed(total), cur)),
                tax_rate: l.tax_rate.clone(),
                budget_id: l.budget_id.clone(),
                refund_reason: l.refund_reason.clone(),
                order_info: l.business_order_info.iter().cloned().collect(),
            }),
        });
        all.push(a);
    }
    let subtotal = sum(all.iter().map(|a| a.principal), number)?;
    let shipping = sum(all.iter().map(|a| a.shipping), number)?;
    let special = sum(all.iter().flat_map(|a| [a.gift_wrap, a.regulatory]), number)?;
    let discount = sum(all.iter().map(|a| a.discount), number)?;
    let tax = sum(all.iter().map(|a| a.tax), number)?;
    let net = sum([subtotal, tax, shipping, special], number)?.checked_sub(discount).ok_or_else(|| overflow(number))?;
    if let Some(stated) = detail.and_then(|d| d.invoice_total) {
        if stated.currency == cur && round(stated.amount.abs(), cur) != net {
            warnings.push(ImportProblem::new(
                ImportCode::InvoiceTotalMismatch,
                format!("invoice {number}: Amazon states a total of {} but its lines come to {}", stated, Money::new(net, cur)),
            ));
        }
    }
    let m = |d: Decimal| Money::new(signed(d), cur);
    let totals = Totals {
        currency: cur,
        subtotal: m(subtotal),
        tax: m(tax),
        special_handling: m(special),
        shipping: m(shipping),
        discount: m(discount),
        net: m(net),
        deposit: Money::zero(cur),
        due: m(net),
        net_computed: true,
        due_computed: true,
    };
    let entries = journal_of_expenses(number, AMAZON_BUSINESS_SUPPLIER, &expenses, &totals, ctx.chart);

    let (mut due_date, mut payment_status) = (None, None);
    match payment.map(|p| &p.outcome) {
        Some(PaymentOutcome::Success(Some(d))) => {
            due_date = d.due_date.map(|t| t.date_naive());
            payment_status = d.status.clone();
        }
        Some(PaymentOutcome::Error(e)) => warnings.push(ImportProblem::new(
            ImportCode::PaymentDetailsError,
            format!(
                "invoice {number}: Amazon gave no payment status or due date ({})",
                e.as_ref().map_or_else(|| "no error given".to_string(), ToString::to_string)
            ),
        )),
        _ => {}
    }
    let mut transaction_ids: Vec<String> = src.transactions.iter().filter_map(|t| t.transaction_id.clone()).collect();
    transaction_ids.sort();
    transaction_ids.dedup();
    let distinct = |f: fn(&LineRecord) -> Option<&String>| {
        let mut v: Vec<String> = Vec::new();
        for l in &lines {
            if let Some(x) = f(l) {
                if !v.contains(x) {
                    v.push(x.clone());
                }
            }
        }
        v
    };
    let order_ids = distinct(|l| l.po_number.as_ref());
    let supplier_order_ids = distinct(|l| l.supplier_order_id.as_ref());
    let reverses = detail.and_then(|d| d.associated_invoice_number.clone()).filter(|_| src.credit_memo);
    let purpose = if src.credit_memo { "creditMemo" } else { "standard" };
    let invoice_date = date.format("%Y-%m-%d").to_string();
    let s = |x: &Money| x.amount_string();
    let canonical = Canonical {
        invoice_key: &key,
        purpose,
        invoice_date: &invoice_date,
        currency: cur.code(),
        subtotal: &s(&totals.subtotal),
        tax: &s(&totals.tax),
        shipping: &s(&totals.shipping),
        special_handling: &s(&totals.special_handling),
        discount: &s(&totals.discount),
        net: &s(&totals.net),
        reverses: reverses.as_deref(),
        transaction_ids: &transaction_ids,
        lines: &lines,
    };
    let source_json = serde_json::to_string(&canonical).map_err(|e| ImportProblem::new(ImportCode::AmountOverflow, e.to_string()))?;
    let sha = sha256_hex(source_json.as_bytes());
    let marketplace_id = src.transactions.iter().find_map(|t| t.marketplace_id.clone());
    let record = InvoiceRecord {
        company: ctx.company.to_string(),
        invoice_key: key.clone(),
        supplier: AMAZON_BUSINESS_SUPPLIER.to_string(),
        supplier_name: Some(AMAZON_BUSINESS_NAME.to_string()),
        invoice_id: number.to_string(),
        payload_id: None,
        purpose: purpose.to_string(),
        invoice_date: invoice_date.clone(),
        currency: cur.code().to_string(),
        subtotal: s(&totals.subtotal),
        tax: s(&totals.tax),
        shipping: s(&totals.shipping),
        special_handling: s(&totals.special_handling),
        discount: s(&totals.discount),
        net: s(&totals.net),
        due: s(&totals.due),
        line_count: lines.len() as u32,
        order_ids,
        supplier_order_ids,
        payment_terms_days: due_date.and_then(|d| u32::try_from((d - date).num_days()).ok()),
        content_sha256: sha.clone(),
        document_key: archive_key(ctx.archive_prefix, ctx.company, AMAZON_BUSINESS_SUPPLIER, number, &sha, ".json"),
        source_key: format!("amazon-business:transaction/{}", transaction_ids.first().map_or("unknown", String::as_str)),
        received_at: ctx.received_at.to_string(),
        status: InvoiceStatus::Ingesting,
        source: DocumentSource { channel: Channel::Import, sender: Some(AMAZON_BUSINESS_NAME.to_string()), ..DocumentSource::default() },
        cancelled_by_sha256: None,
        cancelled_at: None,
        cancel_document_key: None,
        documents: Vec::new(),
        matching: None,
        purchase: Some(Purchase {
            kind: if src.credit_memo { PurchaseKind::CreditMemo } else { PurchaseKind::Invoice },
            reverses,
            consolidated_invoice: detail.and_then(|d| d.consolidated_invoice_number.clone()),
            marketplace_id: marketplace_id.clone(),
            transaction_ids,
            due_date: due_date.map(|d| d.format("%Y-%m-%d").to_string()),
            payment_status,
            warnings,
            ..Purchase::default()
        }),
        review_status: None,
        history: Vec::new(),
    };
    let pdf = PdfTarget {
        invoice_number: number.to_string(),
        kind: if src.credit_memo { PurchaseKind::CreditMemo } else { PurchaseKind::Invoice },
        marketplace_id,
        order_line: rows.iter().find_map(|(_, l)| l.order_line_item()),
    };
    Ok(ImportedInvoice { record, lines, entries, source_json, pdf })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::answer::{parse_invoice_details, parse_payment_details, parse_transactions_page, TransactionType};
    use crate::import::fixture;
    use crate::import::purchase::{PurchaseCategory, ReviewStatus};
    use crate::invoice::accounting::{balance, Side};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn transactions() -> Vec<Transaction> {
        let mut all = parse_transactions_page(&fixture("transactions-page-1.json")).unwrap().transactions;
        all.extend(parse_transactions_page(&fixture("transactions-page-2.json")).unwrap().transactions);
        all
    }

    fn details() -> Vec<LineInvoices> {
        parse_invoice_details(&fixture("invoice-details.json")).unwrap()
    }

    fn settings() -> ImportSettings {
        ImportSettings {
            auto_import: true,
            gl_key: Some("GL code".into()),
            cost_center_key: Some("Cost center".into()),
            ..Default::default()
        }
    }

    fn map(src: &InvoiceSource, start: &str) -> Result<ImportedInvoice, ImportProblem> {
        let payments = parse_payment_details(&fixture("payment-details.json")).unwrap();
        let pay = payments.iter().find(|p| p.invoice_id.as_deref() == Some(src.number.as_str()));
        let (chart, s) = (Chart::default(), settings());
        let ctx = ImportContext {
            company: "acme",
            chart: &chart,
            settings: &s,
            start: d(start),
            received_at: "2026-03-03T07:00:00.000Z",
            archive_prefix: "archive/",
        };
        map_invoice(src, pay, &ctx)
    }

    fn source(number: &str) -> InvoiceSource {
        assemble(&transactions(), &details()).invoices.into_iter().find(|i| i.number == number).unwrap()
    }

    fn entries(inv: &ImportedInvoice) -> Vec<(String, Side, String)> {
        inv.entries.iter().map(|e| (e.account.clone(), e.side, e.amount.amount_string())).collect()
    }

    fn assert_balanced(inv: &ImportedInvoice) {
        let cur = Currency::parse(&inv.record.currency).unwrap();
        let (dr, cr) = balance(&inv.entries, cur);
        assert_eq!(dr, cr, "debits {dr} != credits {cr}: {:#?}", inv.entries);
        assert!(inv.entries.iter().all(|e| !e.amount.is_negative() && !e.amount.is_zero()));
    }

    #[test]
    fn the_supplier_is_the_cxml_credential_of_amazon_business() {
        assert_eq!(imported_invoice_key(" 1QX7ZK4MPL2T "), "NetworkID:AN01011737571#1QX7ZK4MPL2T");
        assert!(is_amazon_business_supplier("NetworkID:AN01011737571"));
        assert!(is_amazon_business_supplier("networkid:AN01011737571"));
        assert!(!is_amazon_business_supplier("NetworkID:AN99887766554"));
        assert!(!is_amazon_business_supplier("DUNS:AN01011737571"));
        let keys = same_invoice_keys("fr5001abc1");
        assert_eq!(keys[0], "NetworkID:AN01011737571#fr5001abc1");
        assert!(keys.contains(&"networkid:AN01011737571#FR5001ABC1".to_string()));
        assert_eq!(keys.len(), keys.iter().collect::<BTreeSet<_>>().len(), "no key twice");
    }

    #[test]
    fn the_same_invoice_is_found_through_the_number_index() {
        let index = [
            "NetworkID:SUP-1#FR5001ABC1".to_string(),
            "networkid:AN01011737571#fr5001abc1".to_string(),
            "NetworkID:AN01011737571#FR5001ABC10".to_string(),
        ];
        assert_eq!(same_invoice("FR5001ABC1", &index), SameInvoice::One("networkid:AN01011737571#fr5001abc1".into()));
        assert_eq!(same_invoice("FR5001ABC1", &index[..1]), SameInvoice::None, "another supplier's invoice with the number");
        let two = [imported_invoice_key("A1"), "networkid:AN01011737571#a1".to_string()];
        assert!(matches!(same_invoice("A1", &two), SameInvoice::Several(ref k) if k.len() == 2));
    }

    #[test]
    fn a_page_is_assembled_into_its_invoices() {
        let a = assemble(&transactions(), &details());
        assert_eq!(a.invoice_numbers(), vec!["FR5001ABC1", "FR5001CM01", "FR5002XYZ9"]);
        let inv = &a.invoices[0];
        assert!(!inv.credit_memo);
        assert_eq!(inv.transactions.len(), 1);
        assert_eq!(inv.transactions[0].lines.len(), 2);
        assert!(a.invoices[1].credit_memo, "the refund's invoice is a credit memo");
        assert_eq!(a.invoices[2].detail.as_ref().unwrap().consolidated_invoice_number.as_deref(), Some("Pending"));
        assert_eq!(a.pending.len(), 1, "{:?}", a.pending);
        assert_eq!(a.pending[0].transaction_id.as_deref(), Some("tx-0004"));
        assert_eq!(a.pending[0].problem.code, ImportCode::NotFinalised);
        assert!(a.pending[0].problem.message.contains("55555555555501"));
        assert!(a.refused.is_empty());
        let lines = order_line_items(&transactions());
        assert_eq!(lines.len(), 4, "the refunded line is asked once");
    }

    #[test]
    fn a_refund_naming_its_invoice_goes_to_the_credit_memo() {
        let mut txs = transactions();
        txs[1].invoice_number = Some("FR5001ABC1".into());
        let a = assemble(&txs, &details());
        let memo = a.invoices.iter().find(|i| i.number == "FR5001CM01").unwrap();
        assert!(memo.credit_memo);
        assert_eq!(memo.transactions[0].transaction_id.as_deref(), Some("tx-0002"));
        let std = a.invoices.iter().find(|i| i.number == "FR5001ABC1").unwrap();
        assert!(std.transactions.iter().all(|t| t.transaction_type == Some(TransactionType::Charge)));
        // No credit memo yet for that refund: it waits.
        let mut details = details();
        details[0].invoices.truncate(1);
        let a = assemble(&txs, &details);
        assert!(a.invoices.iter().all(|i| i.number != "FR5001CM01"));
        assert!(a
            .pending
            .iter()
            .any(|h| h.transaction_id.as_deref() == Some("tx-0002") && h.problem.message.contains("no credit memo yet")));
    }

    #[test]
    fn split_payments_keep_each_line_once_and_ambiguous_lines_are_refused() {
        let mut txs = transactions();
        let sibling = Transaction { transaction_id: Some("tx-0001b".into()), ..txs[0].clone() };
        txs.insert(1, sibling);
        let a = assemble(&txs, &details());
        let inv = &a.invoices[0];
        assert_eq!(inv.transactions.iter().map(|t| t.lines.len()).sum::<usize>(), 2);
        assert_eq!(inv.transactions.len(), 2, "both transactions are the invoice's");
        let mapped = map(inv, "2026-02-01").unwrap();
        assert_eq!(mapped.record.net, "203.35", "paid twice is not billed twice");
        assert_eq!(mapped.record.purchase.as_ref().unwrap().transaction_ids, vec!["tx-0001", "tx-0001b"]);

        // The model's sandbox: one order line with two standard invoices, no number on the charge.
        let sandbox = parse_invoice_details(&fixture("sandbox-invoice-details.json")).unwrap();
        let line = TransactionLine {
            order_id: Some("250-9059274-9386231".into()),
            order_line_item_id: Some("6172160940605".into()),
            shipment_id: Some("DZms0yvhc".into()),
            ..Default::default()
        };
        let t = Transaction {
            transaction_id: Some("tx-x".into()),
            transaction_type: Some(TransactionType::Charge),
            lines: vec![line],
            ..Default::default()
        };
        let a = assemble(std::slice::from_ref(&t), &sandbox);
        assert!(a.invoices.is_empty());
        assert_eq!(a.refused[0].problem.code, ImportCode::AmbiguousInvoice);
        assert!(a.refused[0].problem.message.contains("JP218PV8HMOI, JP22E0VEIAJGKI"), "{}", a.refused[0].problem.message);
        let named = Transaction { invoice_number: Some("JP22E0VEIAJGKI".into()), ..t };
        assert_eq!(assemble(&[named], &sandbox).invoice_numbers(), vec!["JP22E0VEIAJGKI"], "the transaction's number decides");
    }

    #[test]
    fn an_invoice_maps_with_its_lines_gl_codes_and_cost_centres() {
        let inv = map(&source("FR5001ABC1"), "2026-02-01").unwrap();
        let r = &inv.record;
        assert_eq!(r.invoice_key, "NetworkID:AN01011737571#FR5001ABC1");
        assert_eq!((r.supplier.as_str(), r.supplier_name.as_deref()), ("NetworkID:AN01011737571", Some("Amazon Business")));
        assert_eq!((r.purpose.as_str(), r.invoice_date.as_str(), r.currency.as_str()), ("standard", "2026-03-01", "EUR"));
        assert_eq!(
            (r.subtotal.as_str(), r.tax.as_str(), r.shipping.as_str(), r.special_handling.as_str(), r.discount.as_str(), r.net.as_str()),
            ("166.47", "33.89", "4.99", "0.00", "2.00", "203.35")
        );
        assert_eq!(r.due, "203.35");
        assert_eq!(r.order_ids, vec!["PO-7788"]);
        assert_eq!(r.supplier_order_ids, vec!["402-1111111-2222222"]);
        assert_eq!(r.payment_terms_days, Some(30));
        assert_eq!(r.status, InvoiceStatus::Ingesting);
        assert_eq!(r.source.channel, Channel::Import);
        assert_eq!(r.line_count, 2);
        assert!(r.document_key.starts_with("archive/acme/NetworkID_AN01011737571/FR5001ABC1/") && r.document_key.ends_with(".json"));
        assert_eq!(r.content_sha256, sha256_hex(inv.source_json.as_bytes()));
        let p = r.purchase.as_ref().unwrap();
        assert_eq!((p.category, p.review, p.kind), (PurchaseCategory::Purchases, ReviewStatus::ToProcess, PurchaseKind::Invoice));
        assert_eq!((p.due_date.as_deref(), p.payment_status.as_ref().map(|s| s.as_str())), (Some("2026-03-31"), Some("Issued")));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.marketplace_id.as_deref(), Some("A13V1IB3VIYZZH"));

        let [pencils, chair] = inv.lines.as_slice() else { panic!() };
        assert_eq!((pencils.line_number, pencils.supplier_part_id.as_deref()), (1, Some("B07T8K1HJG")));
        assert_eq!((pencils.quantity.as_deref(), pencils.unit_price.as_deref()), (Some("3"), Some("12.49")));
        assert_eq!((pencils.subtotal.as_deref(), pencils.tax.as_deref()), (Some("37.47"), Some("8.09")));
        assert_eq!(pencils.classification.as_deref(), Some("UNSPSC:44121700"));
        assert_eq!(pencils.sold_by.as_deref(), Some("Amazon EU S.à r.l."), "each line keeps its merchantLegalName");
        assert_eq!((pencils.po_number.as_deref(), pencils.reference_line_number.as_deref()), (Some("PO-7788"), Some("1")));
        assert_eq!(pencils.supplier_order_id.as_deref(), Some("402-1111111-2222222"));
        let a = pencils.amazon.as_ref().unwrap();
        assert_eq!((a.order_line_item_id.as_deref(), a.shipment_id.as_deref()), (Some("11111111111101"), Some("Dx1SHIP01")));
        assert_eq!((a.gl_code.as_deref(), a.cost_center.as_deref()), (Some("6064-office"), Some("CC-PARIS")));
        assert_eq!((a.shipping.as_deref(), a.discount.as_deref(), a.total.as_deref()), (Some("4.99"), Some("2.00"), Some("48.55")));
        assert_eq!(a.gift_wrap, None, "a zero charge is none");
        assert_eq!(a.order_info.get("Project?").map(String::as_str), Some("No"), "every checkout answer is kept");
        assert_eq!(chair.sold_by.as_deref(), Some("Büromöbel GmbH"));
        assert_eq!(chair.amazon.as_ref().unwrap().gl_code, None, "a blank GL code is none");
        assert_eq!(chair.category, "UNSPSC-56101500");
        assert_eq!(chair.subtotal.as_deref(), Some("129.00"));

        assert_eq!(
            entries(&inv),
            vec![
                ("6064-office".to_string(), Side::Debit, "37.47".to_string()),
                ("6000-expense:UNSPSC-56101500".to_string(), Side::Debit, "129.00".to_string()),
                ("1410-input-tax".to_string(), Side::Debit, "33.89".to_string()),
                ("6100-freight-in".to_string(), Side::Debit, "4.99".to_string()),
                ("6900-discounts-received".to_string(), Side::Credit, "2.00".to_string()),
                ("2000-accounts-payable".to_string(), Side::Credit, "203.35".to_string()),
            ]
        );
        assert_eq!(inv.entries[0].segments, vec!["CostCenter=CC-PARIS"]);
        assert_eq!(inv.entries[1].segments, vec!["CostCenter=CC-LYON"]);
        assert_eq!(inv.entries[0].invoice_line, Some(1));
        assert!(inv.entries[0].memo.starts_with("FR5001ABC1 line 1 (PO-7788): Ticonderoga"), "{}", inv.entries[0].memo);
        assert!(inv.entries[5].memo.contains("payable to NetworkID:AN01011737571"));
        assert_balanced(&inv);
        assert_eq!(
            inv.pdf,
            PdfTarget {
                invoice_number: "FR5001ABC1".into(),
                kind: PurchaseKind::Invoice,
                marketplace_id: Some("A13V1IB3VIYZZH".into()),
                order_line: Some(OrderLineItem {
                    order_id: "402-1111111-2222222".into(),
                    order_line_item_id: "11111111111101".into(),
                    shipment_id: "Dx1SHIP01".into()
                }),
            }
        );
    }

    #[test]
    fn without_configured_keys_lines_book_by_category() {
        let (chart, s) = (Chart::default(), ImportSettings::default());
        let ctx = ImportContext {
            company: "acme",
            chart: &chart,
            settings: &s,
            start: d("2026-01-01"),
            received_at: "t",
            archive_prefix: "archive/",
        };
        let inv = map_invoice(&source("FR5001ABC1"), None, &ctx).unwrap();
        assert_eq!(inv.entries[0].account, "6000-expense:UNSPSC-44121700");
        assert!(inv.entries[0].segments.is_empty());
        assert_eq!(inv.record.purchase.as_ref().unwrap().due_date, None, "no payment details: no due date");
        let toner = map_invoice(&source("FR5002XYZ9"), None, &ctx).unwrap();
        assert_eq!(toner.entries[0].account, "6000-expense:Purchases", "no GL code, no UNSPSC: the Purchases category");
        let mut mapped = Chart::default();
        mapped.expense_by_category.insert("UNSPSC-44121700".into(), "6064-office-supplies".into());
        let ctx = ImportContext { chart: &mapped, ..ctx };
        assert_eq!(map_invoice(&source("FR5001ABC1"), None, &ctx).unwrap().entries[0].account, "6064-office-supplies");
    }

    #[test]
    fn a_credit_memo_is_negative_and_its_entries_reverse() {
        let inv = map(&source("FR5001ABC1"), "2026-02-01").unwrap();
        let memo = map(&source("FR5001CM01"), "2026-02-01").unwrap();
        let r = &memo.record;
        assert_eq!((r.purpose.as_str(), r.invoice_date.as_str()), ("creditMemo", "2026-03-05"));
        assert_eq!(
            (r.subtotal.as_str(), r.tax.as_str(), r.shipping.as_str(), r.discount.as_str(), r.net.as_str()),
            ("-37.47", "-8.09", "-4.99", "-2.00", "-48.55")
        );
        let p = r.purchase.as_ref().unwrap();
        assert_eq!((p.kind, p.reverses.as_deref()), (PurchaseKind::CreditMemo, Some("FR5001ABC1")));
        assert_eq!(p.payment_status.as_ref().map(|s| s.as_str()), Some("Closed"));
        assert_eq!(memo.lines[0].quantity.as_deref(), Some("-3"));
        assert_eq!(memo.lines[0].unit_price.as_deref(), Some("12.49"));
        assert_eq!(memo.lines[0].subtotal.as_deref(), Some("-37.47"));
        assert_eq!(memo.lines[0].amazon.as_ref().unwrap().refund_reason.as_deref(), Some("Damaged in transit"));
        assert_eq!(
            entries(&memo),
            vec![
                ("6064-office".to_string(), Side::Credit, "37.47".to_string()),
                ("1410-input-tax".to_string(), Side::Credit, "8.09".to_string()),
                ("6100-freight-in".to_string(), Side::Credit, "4.99".to_string()),
                ("6900-discounts-received".to_string(), Side::Debit, "2.00".to_string()),
                ("2000-accounts-payable".to_string(), Side::Debit, "48.55".to_string()),
            ]
        );
        for e in &memo.entries {
            let same = inv.entries.iter().find(|i| i.account == e.account).unwrap();
            assert_eq!(e.side, same.side.flip(), "{} reverses the invoice's side", e.account);
        }
        assert_balanced(&memo);
        // Amazon's signs do not matter: a refund written with positive amounts is the same memo.
        let mut src = source("FR5001CM01");
        for l in &mut src.transactions[0].lines {
            for m in [&mut l.principal_amount, &mut l.shipping_charge, &mut l.tax, &mut l.total_amount].into_iter().flatten() {
                *m = m.neg();
            }
        }
        assert_eq!(map(&src, "2026-02-01").unwrap().entries, memo.entries);
    }

    #[test]
    fn pending_consolidation_and_payment_errors_are_kept_as_they_are() {
        let inv = map(&source("FR5002XYZ9"), "2026-02-01").unwrap();
        let p = inv.record.purchase.as_ref().unwrap();
        assert_eq!(p.consolidated_invoice.as_deref(), Some("Pending"));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].code, ImportCode::PaymentDetailsError);
        assert!(p.warnings[0].message.contains("INVOICE_NOT_FOUND"), "{}", p.warnings[0].message);
        assert_eq!(inv.lines[0].unit_price, None, "the blank unit price stays unknown");
        assert_eq!((inv.record.net.as_str(), inv.record.order_ids.len()), ("21.00", 0));
        assert!(inv.entries[0].memo.contains("(no PO)"));
        assert_balanced(&inv);
    }

    #[test]
    fn invoices_before_the_start_date_are_not_imported() {
        let e = map(&source("FR5001ABC1"), "2026-03-02").unwrap_err();
        assert_eq!(e.code, ImportCode::BeforeStartDate);
        assert!(e.message.contains("2026-03-01") && e.message.contains("2026-03-02"), "{}", e.message);
        assert!(e.code.blocks_booking());
        assert!(map(&source("FR5001ABC1"), "2026-03-01").is_ok(), "issued on the start date");
    }

    #[test]
    fn the_same_invoice_has_the_same_content_on_every_run() {
        let first = map(&source("FR5001ABC1"), "2026-02-01").unwrap();
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines.reverse();
        let again = map(&src, "2026-02-01").unwrap();
        assert_eq!(again.record.content_sha256, first.record.content_sha256, "the answer's order does not matter");
        assert_eq!(again.lines, first.lines);
        let (chart, s) = (Chart::default(), settings());
        let ctx = ImportContext {
            company: "acme",
            chart: &chart,
            settings: &s,
            start: d("2026-01-01"),
            received_at: "later",
            archive_prefix: "archive/",
        };
        let later = map_invoice(&source("FR5001ABC1"), None, &ctx).unwrap();
        assert_eq!(later.record.content_sha256, first.record.content_sha256, "neither the time nor the payment status is content");
        let mut changed = source("FR5001ABC1");
        changed.transactions[0].lines[1].principal_amount = Some(Money::parse("130", "EUR").unwrap());
        assert_ne!(map(&changed, "2026-02-01").unwrap().record.content_sha256, first.record.content_sha256);
    }

    #[test]
    fn amazon_totals_that_disagree_are_warnings_and_the_entries_still_balance() {
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines[0].total_amount = Some(Money::parse("50.00", "EUR").unwrap());
        let inv = map(&src, "2026-02-01").unwrap();
        let w = &inv.record.purchase.as_ref().unwrap().warnings;
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, ImportCode::LineTotalMismatch);
        assert!(w[0].message.contains("50.00") && w[0].message.contains("48.55"), "{}", w[0].message);
        assert_balanced(&inv);
        // A total given without its tax is Amazon's other way of writing it: no warning.
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines[0].total_amount = Some(Money::parse("40.46", "EUR").unwrap());
        assert!(map(&src, "2026-02-01").unwrap().record.purchase.unwrap().warnings.is_empty());
        // A JP invoice total that is not its lines'.
        let mut src = source("FR5001ABC1");
        src.detail.as_mut().unwrap().invoice_total = Some(Money::parse("200.00", "EUR").unwrap());
        let w = map(&src, "2026-02-01").unwrap().record.purchase.unwrap().warnings;
        assert_eq!(w[0].code, ImportCode::InvoiceTotalMismatch);
        assert!(w[0].message.contains("200.00 EUR") && w[0].message.contains("203.35 EUR"), "{}", w[0].message);
    }

    #[test]
    fn sub_cent_amounts_are_rounded_explicitly_and_balance() {
        let mut src = source("FR5001ABC1");
        let eur = |a: &str| Some(Money::parse(a, "EUR").unwrap());
        src.transactions[0].lines[0].principal_amount = eur("37.465");
        src.transactions[0].lines[0].tax = eur("8.0925");
        src.transactions[0].lines[1].principal_amount = eur("128.995");
        src.transactions[0].lines[0].total_amount = None;
        src.transactions[0].lines[1].total_amount = None;
        let inv = map(&src, "2026-02-01").unwrap();
        assert_eq!(inv.lines[0].subtotal.as_deref(), Some("37.47"), "half away from zero");
        assert_eq!(inv.lines[1].subtotal.as_deref(), Some("129.00"));
        assert_eq!(inv.lines[0].tax.as_deref(), Some("8.09"));
        assert_eq!(inv.record.net, "203.35");
        assert_balanced(&inv);
    }

    #[test]
    fn what_cannot_be_filed_is_refused_with_its_code() {
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines[1].tax = Some(Money::parse("25.80", "USD").unwrap());
        let e = map(&src, "2026-02-01").unwrap_err();
        assert_eq!(e.code, ImportCode::CurrencyMismatch);
        assert!(e.message.contains("EUR") && e.message.contains("USD"));
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines.clear();
        assert_eq!(map(&src, "2026-02-01").unwrap_err().code, ImportCode::NoLines);
        let mut src = source("FR5002XYZ9");
        src.detail = None;
        src.transactions[0].transaction_date = None;
        assert_eq!(map(&src, "2026-02-01").unwrap_err().code, ImportCode::MissingInvoiceDate);
        let mut src = source("FR5002XYZ9");
        src.transactions[0].amount = None;
        for l in &mut src.transactions[0].lines {
            *l = TransactionLine { order_id: l.order_id.clone(), item_quantity: Some(1), ..Default::default() };
        }
        assert_eq!(map(&src, "2026-02-01").unwrap_err().code, ImportCode::MissingCurrency);
        let big = Some(Money::parse("79228162514264337593543950335", "EUR").unwrap());
        let mut src = source("FR5001ABC1");
        src.transactions[0].lines[0].principal_amount = big;
        src.transactions[0].lines[1].principal_amount = big;
        assert_eq!(map(&src, "2026-02-01").unwrap_err().code, ImportCode::AmountOverflow);
    }
}
