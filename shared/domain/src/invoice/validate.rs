//! Validation of a parsed invoice: required fields, dates, currency, line numbers, quantities
//! and exact arithmetic. Every problem is reported, not only the first.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::core::money::{Currency, Money};
use crate::invoice::cxml::model::*;
use crate::invoice::cxml::parser::{parse, Limits};
use crate::invoice::issue::{Code, Issue};

/// The invoice's effective totals after the tolerant reading: an absent Tax, shipping, special
/// handling or discount is zero; an absent NetAmount is computed; an absent DueAmount equals
/// Net less any deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub currency: Currency,
    pub subtotal: Money,
    pub tax: Money,
    pub special_handling: Money,
    pub shipping: Money,
    pub discount: Money,
    pub net: Money,
    pub deposit: Money,
    pub due: Money,
    pub net_computed: bool,
    pub due_computed: bool,
}

/// The outcome of reading and validating one document.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub invoice: Option<CxmlInvoice>,
    pub totals: Option<Totals>,
    pub issues: Vec<Issue>,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.issues.is_empty() && self.invoice.is_some() && self.totals.is_some()
    }
}

/// Parses and validates a document.
pub fn check(bytes: &[u8], limits: &Limits) -> Checked {
    let parsed = parse(bytes, limits);
    let mut issues = parsed.issues;
    let Some(inv) = parsed.invoice else {
        return Checked { invoice: None, totals: None, issues };
    };
    let (more, totals) = validate(&inv);
    issues.extend(more);
    Checked { invoice: Some(inv), totals, issues }
}

/// A date as cXML writes it: `2025-11-14`, `2025-10-27T00:00:00-07:00`, `2025-11-04T00:00:00`,
/// with optional fractional seconds. Returns the calendar date as written (no time-zone shift).
pub fn parse_cxml_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // A plain `YYYY-MM-DD` (most invoice and order dates) can only be read by the date-only
    // format: every other one needs a time. Tried first, it spares the eight others.
    if is_plain_date(s) {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    }
    parse_date_formats(s)
}

fn is_plain_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// Every format in turn, the first that reads `s` wins.
fn parse_date_formats(s: &str) -> Option<NaiveDate> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.date_naive());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.date_naive());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.date());
        }
    }
    if let Some(stripped) = s.strip_suffix('Z') {
        if let Ok(dt) = NaiveDateTime::parse_from_str(stripped, "%Y-%m-%dT%H:%M:%S%.f") {
            return Some(dt.date());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    // ISO 8601 basic format (20060428), unambiguous and seen in the field.
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    }
    None
}

fn missing(issues: &mut Vec<Issue>, what: &str) {
    issues.push(Issue::new(Code::MissingField, format!("{what} is required but missing or empty")));
}

/// The stated amounts of a block in the order messages list them (subtotal, special handling,
/// shipping, gross, discount, net, deposit, due), and its tax.
struct Stated<'a> {
    amounts: [Option<Money>; 8],
    tax: &'a Option<Tax>,
}

const STATED_NAMES: [&str; 8] = [
    "SubtotalAmount",
    "SpecialHandlingAmount",
    "ShippingAmount",
    "GrossAmount",
    "InvoiceDetailDiscount",
    "NetAmount",
    "DepositAmount",
    "DueAmount",
];

fn stated(a: &Amounts) -> Stated<'_> {
    Stated { amounts: [a.subtotal, a.special_handling, a.shipping, a.gross, a.discount, a.net, a.deposit, a.due], tax: &a.tax }
}

fn stated_line(a: &LineAmounts) -> Stated<'_> {
    let o = a.other();
    Stated { amounts: [a.subtotal, o.special_handling, o.shipping, o.gross, o.discount, o.net, o.deposit, o.due], tax: &a.tax }
}

/// Calls `f` with every stated amount of a block, in document order (no allocation).
fn visit_block(a: Stated<'_>, f: &mut impl FnMut(Money)) {
    for m in a.amounts.into_iter().flatten() {
        f(m);
    }
    if let Some(t) = a.tax {
        t.amount.into_iter().for_each(&mut *f);
        for d in &t.details {
            [d.taxable_amount, d.tax_amount].into_iter().flatten().for_each(&mut *f);
        }
    }
}

/// Calls `f` with every stated amount of an item line.
fn visit_item(item: &Item, f: &mut impl FnMut(Money)) {
    item.unit_price.into_iter().for_each(&mut *f);
    visit_block(stated_line(&item.amounts), f);
    item.distributions.iter().filter_map(|d| d.charge).for_each(&mut *f);
}

/// The invoice currency as the amounts are read, in document order: the summary's, else the
/// first amount's; and whether any amount is in another currency.
struct CurrencyScan {
    stated: Option<Currency>,
    first: Option<Currency>,
    mixed: bool,
}

impl CurrencyScan {
    fn new(inv: &CxmlInvoice) -> CurrencyScan {
        let stated = inv.summary.subtotal.or(inv.summary.net).or(inv.summary.due).map(|m| m.currency);
        CurrencyScan { stated, first: None, mixed: false }
    }

    fn see(&mut self, m: Money) {
        let reference = *self.stated.as_ref().or(self.first.as_ref()).unwrap_or(&m.currency);
        self.first.get_or_insert(m.currency);
        self.mixed |= m.currency != reference;
    }

    fn currency(&self) -> Option<Currency> {
        self.stated.or(self.first)
    }
}

/// Every stated amount of the document with a label, for currency-mismatch messages (only
/// built when there is a mismatch to report).
fn all_money(inv: &CxmlInvoice) -> Vec<(String, Money)> {
    let mut out = Vec::new();
    fn tax_money(out: &mut Vec<(String, Money)>, owner: &str, t: &Option<Tax>) {
        if let Some(t) = t {
            if let Some(m) = t.amount {
                out.push((format!("{owner} Tax"), m));
            }
            for d in &t.details {
                for m in [d.taxable_amount, d.tax_amount].into_iter().flatten() {
                    out.push((format!("{owner} TaxDetail"), m));
                }
            }
        }
    }
    fn amounts_money(out: &mut Vec<(String, Money)>, owner: &str, a: Stated<'_>) {
        for (n, m) in STATED_NAMES.into_iter().zip(a.amounts) {
            if let Some(m) = m {
                out.push((format!("{owner} {n}"), m));
            }
        }
        tax_money(out, owner, a.tax);
    }
    for item in inv.items() {
        let label = item.label();
        if let Some(m) = item.unit_price {
            out.push((format!("{label} UnitPrice"), m));
        }
        amounts_money(&mut out, &label, stated_line(&item.amounts));
        for d in &item.distributions {
            if let Some(m) = d.charge {
                out.push((format!("{label} Distribution/Charge"), m));
            }
        }
    }
    for ho in &inv.header_orders {
        amounts_money(&mut out, &format!("InvoiceDetailOrderSummary (source line {})", ho.source_line), stated(&ho.amounts));
    }
    amounts_money(&mut out, "InvoiceDetailSummary", stated(&inv.summary));
    out
}

fn fmt_m(m: &Money) -> String {
    format!("{} {}", m.amount, m.currency)
}

/// Validates a parsed invoice; returns the issues and, when the currency and summary could be
/// established, the effective totals.
pub fn validate(inv: &CxmlInvoice) -> (Vec<Issue>, Option<Totals>) {
    let mut issues = Vec::new();
    required_fields(inv, &mut issues);
    // One pass over the lines for the currency, the line rules and the line sums; the lines'
    // problems are reported after the currency's.
    let mut scan = CurrencyScan::new(inv);
    let mut line_issues = Vec::new();
    let lines = check_items(inv, &mut scan, &mut line_issues);
    for ho in &inv.header_orders {
        visit_block(stated(&ho.amounts), &mut |m| scan.see(m));
    }
    visit_block(stated(&inv.summary), &mut |m| scan.see(m));
    let currency = invoice_currency(inv, &scan, &mut issues);
    issues.append(&mut line_issues);
    for ho in &inv.header_orders {
        check_tax_details(&mut issues, || format!("InvoiceDetailOrderSummary (source line {})", ho.source_line), &ho.amounts.tax);
    }
    check_tax_details(&mut issues, || "InvoiceDetailSummary".to_string(), &inv.summary.tax);

    let Some(cur) = currency else {
        return (issues, None);
    };
    let Some(subtotal) = inv.summary.subtotal.filter(|m| m.currency == cur) else {
        return (issues, None);
    };
    if inv.item_count() > 0 {
        lines_against_summary(inv, &lines, subtotal, &mut issues);
    } else if !inv.header_orders.is_empty() {
        header_orders_against_summary(inv, subtotal, &mut issues);
    }
    let totals = summary_totals(&inv.summary, subtotal, &mut issues);
    (issues, totals)
}

/// The fields every invoice needs, and its dates.
fn required_fields(inv: &CxmlInvoice, issues: &mut Vec<Issue>) {
    let h = &inv.header;
    if inv.payload_id.as_deref().is_none_or(str::is_empty) {
        missing(issues, "cXML@payloadID");
    }
    if inv.from.iter().all(|c| c.identity.is_empty()) {
        missing(issues, "Header/From/Credential/Identity (who issued the invoice)");
    }
    if h.invoice_id.is_none() {
        missing(issues, "InvoiceDetailRequestHeader@invoiceID");
    }
    match h.invoice_date.as_deref() {
        None => missing(issues, "InvoiceDetailRequestHeader@invoiceDate"),
        Some(d) if parse_cxml_date(d).is_none() => issues.push(Issue::new(
            Code::InvalidDate,
            format!("InvoiceDetailRequestHeader@invoiceDate is '{d}'; expected an ISO 8601 date such as 2025-11-14 or 2025-11-14T10:00:00-08:00"),
        )),
        _ => {}
    }
    if let Some(ts) = inv.timestamp.as_deref() {
        if parse_cxml_date(ts).is_none() {
            issues.push(Issue::new(
                Code::InvalidDate,
                format!("cXML@timestamp is '{ts}'; expected an ISO 8601 date-time such as 2025-11-14T10:00:00-08:00"),
            ));
        }
    }
    let infos = inv.orders.iter().map(|o| &o.info).chain(inv.header_orders.iter().map(|h| &h.info));
    for info in infos {
        if let Some(d) = info.order_date.as_deref() {
            if parse_cxml_date(d).is_none() {
                issues.push(Issue::new(
                    Code::InvalidDate,
                    format!(
                        "OrderReference@orderDate of order {} is '{d}'; expected an ISO 8601 date",
                        info.po_number().unwrap_or("(no PO number)")
                    ),
                ));
            }
        }
    }
    if !inv.has_summary {
        missing(issues, "InvoiceDetailSummary");
    } else if inv.summary.subtotal.is_none() {
        missing(issues, "InvoiceDetailSummary/SubtotalAmount/Money");
    }
    if h.operation == Operation::New && inv.item_count() == 0 && inv.header_orders.is_empty() {
        missing(
            issues,
            "InvoiceDetailOrder with at least one InvoiceDetailItem or InvoiceDetailServiceItem (or an InvoiceDetailHeaderOrder)",
        );
    }
}

/// The invoice currency: the summary's, else the first amount's. Every amount in another
/// currency is reported.
fn invoice_currency(inv: &CxmlInvoice, scan: &CurrencyScan, issues: &mut Vec<Issue>) -> Option<Currency> {
    let currency = scan.currency();
    if let Some(cur) = currency {
        if scan.mixed {
            for (label, m) in all_money(inv) {
                if m.currency != cur {
                    issues.push(Issue::new(
                        Code::CurrencyMismatch,
                        format!("{label} is in {}; the invoice is in {cur} (every amount must use the invoice currency)", m.currency),
                    ));
                }
            }
        }
    } else if inv.header.operation == Operation::New && !issues.iter().any(|i| i.code == Code::InvalidCurrency) {
        missing(issues, "a currency (no amount of the invoice states one)");
    }
    currency
}

/// What the item lines add up to in the invoice currency, for the comparison with the summary.
struct LineTotals {
    /// Σ line subtotals (stated, else UnitPrice × quantity rounded); an addition that would
    /// overflow is left out.
    subtotal: Decimal,
    /// Every readable line had a subtotal in the invoice currency, and none was unreadable.
    complete: bool,
    /// Σ line taxes in the invoice currency; `None` once the sum overflowed.
    tax: Option<Decimal>,
    taxed_lines: usize,
    any_unreadable: bool,
}

impl LineTotals {
    /// Adds a line whose amounts are all known to `scan` (the currency is then settled, or
    /// the line has no amount).
    fn add(&mut self, item: &Item, cur: Option<Currency>) {
        let in_cur = |m: &Money| Some(m.currency) == cur;
        if item.amounts.unreadable {
            self.complete = false;
            self.any_unreadable = true;
        } else {
            match line_subtotal(item).filter(in_cur) {
                Some(m) => self.subtotal = self.subtotal.checked_add(m.amount).unwrap_or(self.subtotal),
                None => self.complete = false,
            }
        }
        if let Some(m) = item.amounts.tax_amount().filter(in_cur) {
            self.taxed_lines += 1;
            self.tax = self.tax.and_then(|sum| sum.checked_add(m.amount));
        }
    }
}

/// The rules of every item line, in one pass over the lines (a 10,000-line model does not fit
/// a cache): each line's amounts go to the currency scan first, then its rules are checked and
/// it is added up.
fn check_items(inv: &CxmlInvoice, scan: &mut CurrencyScan, issues: &mut Vec<Issue>) -> LineTotals {
    let credit = inv.header.purpose.is_credit();
    let mut seen = SeenLineNumbers::new(inv.item_count());
    let mut totals =
        LineTotals { subtotal: Decimal::ZERO, complete: true, tax: Some(Decimal::ZERO), taxed_lines: 0, any_unreadable: false };
    for item in inv.items() {
        visit_item(item, &mut |m| scan.see(m));
        check_item(item, credit, &mut seen, issues);
        totals.add(item, scan.currency());
    }
    totals
}

/// For each `invoiceLineNumber`, the source line of the item that used it last (a duplicate
/// names the previous use): a table for the usual numbers 0..=n, a map for the others.
struct SeenLineNumbers {
    dense: Vec<Option<u32>>,
    sparse: HashMap<u32, u32>,
}

impl SeenLineNumbers {
    fn new(items: usize) -> SeenLineNumbers {
        SeenLineNumbers { dense: vec![None; items + 1], sparse: HashMap::new() }
    }

    /// Records `line` for `n`; the line recorded before for `n`, if any (`HashMap::insert`).
    fn insert(&mut self, n: u32, line: u32) -> Option<u32> {
        match usize::try_from(n).ok().and_then(|i| self.dense.get_mut(i)) {
            Some(slot) => slot.replace(line),
            None => self.sparse.insert(n, line),
        }
    }
}

fn check_item(item: &Item, credit: bool, seen: &mut SeenLineNumbers, issues: &mut Vec<Issue>) {
    // Built only when a message needs it (10,000-line invoices are the norm, errors are not).
    let label = || item.label();
    match (&item.invoice_line_number_raw, item.invoice_line_number) {
        (None, _) => missing(issues, &format!("invoiceLineNumber of the item at source line {}", item.source_line)),
        (Some(raw), None) => issues
            .push(Issue::new(Code::InvalidLineNumber, format!("{}: invoiceLineNumber '{raw}' is not a positive whole number", label()))),
        (Some(_), Some(n)) => {
            if let Some(first) = seen.insert(n, item.source_line) {
                issues.push(Issue::new(
                    Code::DuplicateLineNumber,
                    format!(
                        "{}: invoiceLineNumber {n} is already used by the item at source line {first}; each line needs its own number",
                        label()
                    ),
                ));
            }
        }
    }
    // cXML: a goods item needs quantity and UnitPrice; a service item may be billed as a
    // lump sum (SubtotalAmount only).
    let service = item.kind == ItemKind::Service;
    if item.quantity_raw.is_none() && !service {
        missing(issues, &format!("{} @quantity", label()));
    }
    if service && item.amounts.subtotal.is_none() && (item.unit_price.is_none() || item.quantity.is_none()) && !item.amounts.unreadable {
        missing(issues, &format!("{} SubtotalAmount/Money (or UnitPrice and quantity)", label()));
    }
    if let Some(q) = item.quantity {
        if q.is_sign_negative() && !q.is_zero() && !credit {
            issues.push(Issue::new(
                Code::NegativeQuantity,
                format!(
                    "{}: quantity is {q}; negative quantities are only allowed in credit memos (purpose creditMemo or lineLevelCreditMemo)",
                    label()
                ),
            ));
        }
    }
    if item.unit_price.is_none() && !item.amounts.unreadable && !service {
        missing(issues, &format!("{} UnitPrice/Money", label()));
    }
    if let (Some(price), Some(qty), Some(sub)) = (item.unit_price, item.quantity, item.amounts.subtotal) {
        if let Some(expected) = line_amount(price, qty, item) {
            if price.currency == sub.currency && !expected.rounds_to(&sub) {
                issues.push(Issue::new(
                    Code::LineAmountMismatch,
                    format!(
                        "{}: UnitPrice × quantity = {} × {} = {}, but SubtotalAmount is {}",
                        label(),
                        price.amount,
                        qty,
                        fmt_m(&expected),
                        fmt_m(&sub)
                    ),
                ));
            }
        }
    }
    check_tax_details(issues, label, &item.amounts.tax);
}

/// The item lines' subtotals and taxes against the summary's.
fn lines_against_summary(inv: &CxmlInvoice, lines: &LineTotals, subtotal: Money, issues: &mut Vec<Issue>) {
    let cur = subtotal.currency;
    let zero = Money::zero(cur);
    let sum = Money::new(lines.subtotal, cur);
    if lines.complete && sum.amount != subtotal.amount {
        issues.push(Issue::new(
            Code::SubtotalMismatch,
            format!(
                "the {} item lines add up to {}, but InvoiceDetailSummary/SubtotalAmount is {}",
                inv.item_count(),
                fmt_m(&sum),
                fmt_m(&subtotal)
            ),
        ));
    }
    if lines.taxed_lines > 0 && !inv.summary.unreadable && !lines.any_unreadable {
        let sum_tax = lines.tax.map_or(zero, |t| Money::new(t, cur));
        let stated = inv.summary.tax_amount().filter(|m| m.currency == cur).unwrap_or(zero);
        if sum_tax.amount != stated.amount {
            issues.push(Issue::new(
                Code::TaxMismatch,
                format!("the tax of the item lines adds up to {}, but InvoiceDetailSummary/Tax is {}", fmt_m(&sum_tax), fmt_m(&stated)),
            ));
        }
    }
}

/// A header-level invoice: the InvoiceDetailOrderSummary subtotals and taxes against the summary's.
fn header_orders_against_summary(inv: &CxmlInvoice, subtotal: Money, issues: &mut Vec<Issue>) {
    let cur = subtotal.currency;
    let same = |m: Option<Money>| m.filter(|m| m.currency == cur);
    let zero = Money::zero(cur);
    let subs: Vec<Money> = inv.header_orders.iter().filter_map(|h| same(h.amounts.subtotal)).collect();
    if subs.len() == inv.header_orders.len() && inv.header_orders.iter().all(|h| !h.amounts.unreadable) {
        let sum = Money::sum(cur, &subs).unwrap_or(zero);
        if sum.amount != subtotal.amount {
            issues.push(Issue::new(
                Code::SubtotalMismatch,
                format!(
                    "the InvoiceDetailOrderSummary subtotals add up to {}, but InvoiceDetailSummary/SubtotalAmount is {}",
                    fmt_m(&sum),
                    fmt_m(&subtotal)
                ),
            ));
        }
    }
    let taxes: Vec<Money> = inv.header_orders.iter().filter_map(|h| same(h.amounts.tax_amount())).collect();
    if !taxes.is_empty() && !inv.summary.unreadable {
        let sum = Money::sum(cur, &taxes).unwrap_or(zero);
        let stated = same(inv.summary.tax_amount()).unwrap_or(zero);
        if sum.amount != stated.amount {
            issues.push(Issue::new(
                Code::TaxMismatch,
                format!(
                    "the InvoiceDetailOrderSummary taxes add up to {}, but InvoiceDetailSummary/Tax is {}",
                    fmt_m(&sum),
                    fmt_m(&stated)
                ),
            ));
        }
    }
}

/// The summary arithmetic: Net = Subtotal + Tax + SpecialHandling + Shipping − Discount and
/// Due = Net − Deposit, stated or computed. `None` (and an `invalid-amount`) when the amounts
/// are too large to add up.
fn summary_totals(s: &Amounts, subtotal: Money, issues: &mut Vec<Issue>) -> Option<Totals> {
    let cur = subtotal.currency;
    let same = |m: Option<Money>| m.filter(|m| m.currency == cur);
    let zero = Money::zero(cur);
    let tax = same(s.tax_amount()).unwrap_or(zero);
    let special_handling = same(s.special_handling).unwrap_or(zero);
    let shipping = same(s.shipping).unwrap_or(zero);
    let discount = same(s.discount).unwrap_or(zero);
    let deposit = same(s.deposit).unwrap_or(zero);
    let computed_net = subtotal
        .amount
        .checked_add(tax.amount)
        .and_then(|a| a.checked_add(special_handling.amount))
        .and_then(|a| a.checked_add(shipping.amount))
        .and_then(|a| a.checked_sub(discount.amount));
    let Some(computed_net) = computed_net.map(|a| Money::new(a, cur)) else {
        issues.push(too_large(format_args!(
            "Subtotal {} + Tax {} + SpecialHandling {} + Shipping {} − Discount {}",
            subtotal.amount, tax.amount, special_handling.amount, shipping.amount, discount.amount
        )));
        return None;
    };
    let (net, net_computed) = match same(s.net) {
        Some(n) => {
            if n.amount != computed_net.amount && !s.unreadable {
                issues.push(Issue::new(
                    Code::NetMismatch,
                    format!(
                        "InvoiceDetailSummary/NetAmount is {}, but Subtotal {} + Tax {} + SpecialHandling {} + Shipping {} − Discount {} = {}",
                        fmt_m(&n),
                        subtotal.amount,
                        tax.amount,
                        special_handling.amount,
                        shipping.amount,
                        discount.amount,
                        fmt_m(&computed_net)
                    ),
                ));
            }
            (n, false)
        }
        None => (computed_net, true),
    };
    let Some(expected_due) = net.amount.checked_sub(deposit.amount).map(|a| Money::new(a, cur)) else {
        issues.push(too_large(format_args!("NetAmount {} − DepositAmount {}", net.amount, deposit.amount)));
        return None;
    };
    let (due, due_computed) = match same(s.due) {
        Some(d) => {
            if d.amount != expected_due.amount && !s.unreadable {
                let detail = if deposit.is_zero() {
                    format!("NetAmount {}", fmt_m(&net))
                } else {
                    format!("NetAmount {} − DepositAmount {} = {}", net.amount, deposit.amount, fmt_m(&expected_due))
                };
                issues.push(Issue::new(
                    Code::DueMismatch,
                    format!("InvoiceDetailSummary/DueAmount is {}, but it must equal {detail}", fmt_m(&d)),
                ));
            }
            (d, false)
        }
        None => (expected_due, true),
    };
    Some(Totals { currency: cur, subtotal, tax, special_handling, shipping, discount, net, deposit, due, net_computed, due_computed })
}

/// Summary arithmetic whose result a decimal amount cannot hold.
fn too_large(what: std::fmt::Arguments<'_>) -> Issue {
    Issue::new(
        Code::InvalidAmount,
        format!("InvoiceDetailSummary: {what} is too large to compute (a decimal amount holds at most 28 to 29 digits)"),
    )
}

/// Exact UnitPrice × quantity (÷ PriceBasisQuantity × conversion factor when given).
pub fn line_amount(price: Money, qty: Decimal, item: &Item) -> Option<Money> {
    let mut m = price.checked_mul(qty).ok()?;
    if let Some(pbq) = item.price_basis_quantity.filter(|q| !q.is_zero()) {
        let conv = item.price_basis_conversion.unwrap_or(Decimal::ONE);
        m = Money::new(m.amount.checked_mul(conv)?.checked_div(pbq)?, m.currency);
    }
    Some(m)
}

/// The line's subtotal: as stated, or UnitPrice × quantity rounded half away from zero.
pub fn line_subtotal(item: &Item) -> Option<Money> {
    if let Some(s) = item.amounts.subtotal {
        return Some(s);
    }
    let (price, qty) = (item.unit_price?, item.quantity?);
    line_amount(price, qty, item).map(|m| m.round(rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// When every TaxDetail of a Tax states its amount, they must add up to the Tax amount.
fn check_tax_details(issues: &mut Vec<Issue>, owner: impl FnOnce() -> String, tax: &Option<Tax>) {
    let Some(t) = tax else { return };
    let Some(total) = t.amount else { return };
    if t.details.is_empty() || t.details.iter().any(|d| d.tax_amount.is_none()) {
        return;
    }
    if t.details.iter().any(|d| d.tax_amount.map(|m| m.currency) != Some(total.currency)) {
        return; // reported as currency-mismatch
    }
    let sum = t.details.iter().filter_map(|d| d.tax_amount).try_fold(Decimal::ZERO, |sum, m| sum.checked_add(m.amount));
    match sum {
        Some(sum) if sum == total.amount => {}
        Some(sum) => issues.push(Issue::new(
            Code::TaxMismatch,
            format!("{}: the TaxDetail amounts add up to {} {}, but the Tax is {}", owner(), sum, total.currency, fmt_m(&total)),
        )),
        None => issues.push(Issue::new(
            Code::TaxMismatch,
            format!("{}: the TaxDetail amounts add up to more than a decimal amount holds, but the Tax is {}", owner(), fmt_m(&total)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_read_as_all_formats_read_them() {
        let mut cases = vec![
            "2025-11-14".to_string(),
            "2024-02-29".into(),
            "2025-02-29".into(),
            "2025-13-01".into(),
            "2025-00-10".into(),
            "0000-01-01".into(),
            "9999-12-31".into(),
            "2025-11-1x".into(),
            "2025/11/14".into(),
        ];
        for y in [1999, 2025] {
            for m in 0..=13 {
                for d in [0, 1, 28, 29, 30, 31, 32] {
                    cases.push(format!("{y:04}-{m:02}-{d:02}"));
                }
            }
        }
        let mut plain = 0;
        for c in &cases {
            if is_plain_date(c) {
                plain += 1;
                assert_eq!(parse_cxml_date(c), parse_date_formats(c), "{c}");
            }
        }
        assert!(plain > 200, "{plain}");
        assert_eq!(parse_cxml_date(" 2025-11-14\n"), NaiveDate::from_ymd_opt(2025, 11, 14));
        assert_eq!(parse_cxml_date("2025-11-14T23:30:00-08:00"), NaiveDate::from_ymd_opt(2025, 11, 14));
        assert_eq!(parse_cxml_date("20251114"), NaiveDate::from_ymd_opt(2025, 11, 14));
        assert_eq!(parse_cxml_date("2025-02-30"), None);
    }

    const MAX: &str = "79228162514264337593543950335";

    fn summary_doc(shipping: &str, deposit: Option<&str>) -> String {
        let deposit = deposit.map(|d| format!("<DepositAmount><Money currency=\"USD\">{d}</Money></DepositAmount>")).unwrap_or_default();
        format!(
            r#"<cXML payloadID="p" timestamp="2025-11-14T10:00:00-08:00"><Header><From><Credential domain="d"><Identity>s</Identity></Credential></From></Header>
<Request><InvoiceDetailRequest><InvoiceDetailRequestHeader invoiceID="1" invoiceDate="2025-11-14"/>
<InvoiceDetailOrder><InvoiceDetailItem invoiceLineNumber="1" quantity="1"><UnitPrice><Money currency="USD">10</Money></UnitPrice>
<SubtotalAmount><Money currency="USD">10</Money></SubtotalAmount>
<Tax><Money currency="USD">1</Money><TaxDetail><TaxAmount><Money currency="USD">{MAX}</Money></TaxAmount></TaxDetail><TaxDetail><TaxAmount><Money currency="USD">{MAX}</Money></TaxAmount></TaxDetail></Tax>
</InvoiceDetailItem></InvoiceDetailOrder>
<InvoiceDetailSummary><SubtotalAmount><Money currency="USD">10</Money></SubtotalAmount><Tax><Money currency="USD">1</Money></Tax>
<ShippingAmount><Money currency="USD">{shipping}</Money></ShippingAmount>{deposit}</InvoiceDetailSummary></InvoiceDetailRequest></Request></cXML>"#
        )
    }

    #[test]
    fn amounts_too_large_to_add_up_are_reported_not_a_panic() {
        let c = check(summary_doc(MAX, None).as_bytes(), &Limits::default());
        let codes: Vec<Code> = c.issues.iter().map(|i| i.code).collect();
        assert_eq!(codes, [Code::TaxMismatch, Code::InvalidAmount], "{:?}", c.issues);
        assert!(c.issues[0].message.contains("more than a decimal amount holds"), "{}", c.issues[0].message);
        assert!(c.issues[1].message.contains(&format!("Shipping {MAX}")), "{}", c.issues[1].message);
        assert!(c.totals.is_none());
        // Net fits, Net − Deposit does not.
        let c = check(summary_doc(&format!("-{MAX}"), Some(MAX)).as_bytes(), &Limits::default());
        let last = c.issues.last().expect("an issue");
        assert_eq!(last.code, Code::InvalidAmount, "{:?}", c.issues);
        assert!(last.message.contains("DepositAmount"), "{}", last.message);
        // Large but representable amounts still add up.
        let c = check(summary_doc("1000000000000000000000000000", None).as_bytes(), &Limits::default());
        assert_eq!(c.totals.map(|t| t.net.amount.to_string()).as_deref(), Some("1000000000000000000000000011"));
    }
}
