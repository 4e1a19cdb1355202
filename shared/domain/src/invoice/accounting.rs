//! Accounting entries for a valid invoice, as an accounts-payable connector books them:
//! one expense line per item (by category, split by its accounting distributions when they
//! add up to the line), input tax, freight, special handling, discount, and the supplier
//! payable. Debits always equal credits for a valid invoice; a credit memo (negative amounts)
//! comes out with the sides swapped, i.e. it reverses; a cancellation reverses the entries of
//! the cancelled invoice. With the GL coding of its PO ([`journal_coded`]) an item's expense
//! is booked to the accounts and segments of the PO line's distributions instead.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::core::money::{Currency, Money};
use crate::invoice::cxml::model::{CxmlInvoice, Item};
use crate::invoice::validate::{line_subtotal, Totals};
use crate::matching::coding::{CodingSplit, InvoiceCoding};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    pub fn flip(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }
}

/// One line of the journal entry of an invoice. `amount` is never negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLine {
    pub seq: u32,
    pub account: String,
    pub side: Side,
    pub amount: Money,
    pub memo: String,
    /// The invoice line this books, if any.
    pub invoice_line: Option<u32>,
    /// Accounting segments (`name=id`) from the item's Distribution, if any.
    pub segments: Vec<String>,
}

/// A company's chart of accounts: where the journal of its invoices is booked. The defaults
/// (6000 expense, 1410 input tax, 6100 freight, 6110 other charges, 6900 discounts, 2000
/// payable) are what a company gets until it sets its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    /// Expense account per item category (the `category` extrinsic or `UNSPSC-<code>`), e.g.
    /// `OFFICE_PRODUCTS` → `6010-office-supplies`.
    #[serde(default)]
    pub expense_by_category: BTreeMap<String, String>,
    /// Expense account for a category not listed above. `{category}` in it is replaced by the
    /// category, so the default `6000-expense:{category}` keeps categories apart; a plain
    /// account (`6000`) books them all to one.
    pub default_expense: String,
    pub input_tax: String,
    pub freight: String,
    /// Special handling and other charges.
    pub other_charges: String,
    pub discount: String,
    pub payable: String,
}

impl Default for Chart {
    fn default() -> Self {
        Chart {
            expense_by_category: BTreeMap::new(),
            default_expense: "6000-expense:{category}".into(),
            input_tax: "1410-input-tax".into(),
            freight: "6100-freight-in".into(),
            other_charges: "6110-other-charges".into(),
            discount: "6900-discounts-received".into(),
            payable: "2000-accounts-payable".into(),
        }
    }
}

impl Chart {
    /// The expense account of a category.
    pub fn expense_account(&self, category: &str) -> String {
        match self.expense_by_category.get(category) {
            Some(a) => a.clone(),
            None => self.default_expense.replace("{category}", category),
        }
    }

    /// Every account must be named: the problems of a chart a person typed.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let named = [
            ("default_expense", &self.default_expense),
            ("input_tax", &self.input_tax),
            ("freight", &self.freight),
            ("other_charges", &self.other_charges),
            ("discount", &self.discount),
            ("payable", &self.payable),
        ];
        for (field, account) in named {
            if account.trim().is_empty() {
                p.push(format!("the chart's {field} account is empty"));
            }
        }
        for (category, account) in &self.expense_by_category {
            if category.trim().is_empty() || account.trim().is_empty() {
                p.push(format!("expense_by_category has an empty category or account ('{category}' → '{account}')"));
            }
        }
        p
    }
}

/// The expense category of an item: its `category` extrinsic (Amazon Business), else its
/// UNSPSC classification, else `uncategorized`.
pub fn category(item: &Item) -> String {
    if let Some(c) = item.extrinsic("category").map(str::trim).filter(|c| !c.is_empty()) {
        return c.to_string();
    }
    if let Some((_, code)) = item.classifications.iter().find(|(d, _)| d.eq_ignore_ascii_case("UNSPSC")) {
        return format!("UNSPSC-{code}");
    }
    "uncategorized".to_string()
}

struct Builder {
    lines: Vec<EntryLine>,
}

impl Builder {
    /// Books `amount` on `side`; a negative amount is booked positive on the other side.
    fn add(&mut self, account: &str, side: Side, amount: Money, memo: String, invoice_line: Option<u32>, segments: Vec<String>) {
        if amount.is_zero() {
            return;
        }
        let (side, amount) = if amount.is_negative() { (side.flip(), amount.neg()) } else { (side, amount) };
        let seq = self.lines.len() as u32 + 1;
        self.lines.push(EntryLine { seq, account: account.to_string(), side, amount, memo, invoice_line, segments });
    }
}

/// The journal lines of a valid invoice.
pub fn journal(inv: &CxmlInvoice, totals: &Totals, chart: &Chart) -> Vec<EntryLine> {
    build(inv, totals, chart, None)
}

/// The journal lines of a valid invoice whose lines are GL-coded from their PO
/// ([`crate::matching::code_invoice`]): a coded line's expense is booked as its coding splits
/// it — each part to the account of its distribution's GL segment (else to the category's
/// expense account), with its segments as `type=id`. A line without coding, or whose coding
/// does not add up to its amount in the invoice currency, is booked as [`journal`] books it.
/// Every other line of the entry is [`journal`]'s, so debits still equal credits.
pub fn journal_coded(inv: &CxmlInvoice, totals: &Totals, chart: &Chart, coding: &InvoiceCoding) -> Vec<EntryLine> {
    build(inv, totals, chart, Some(coding))
}

/// The coding's parts of a line booked at `amount`, when they add up to it exactly.
fn coded_splits(coding: Option<&InvoiceCoding>, position: usize, amount: Money) -> Option<&[CodingSplit]> {
    let c = coding?.line(position)?;
    let sum =
        c.splits.iter().try_fold(
            Decimal::ZERO,
            |acc, s| {
                if s.amount.currency == amount.currency {
                    acc.checked_add(s.amount.amount)
                } else {
                    None
                }
            },
        );
    (!c.splits.is_empty() && c.amount == amount && sum == Some(amount.amount)).then_some(c.splits.as_slice())
}

fn build(inv: &CxmlInvoice, totals: &Totals, chart: &Chart, coding: Option<&InvoiceCoding>) -> Vec<EntryLine> {
    let cur = totals.currency;
    let mut b = Builder { lines: Vec::new() };
    let invoice_id = inv.header.invoice_id.as_deref().unwrap_or("");
    let mut position = 0usize;
    for order in &inv.orders {
        let po = order.info.po_number().unwrap_or("no PO");
        for item in &order.items {
            let here = position;
            position += 1;
            let Some(amount) = line_subtotal(item).filter(|m| m.currency == cur) else { continue };
            let account = chart.expense_account(&category(item));
            let what = item.description.as_deref().or(item.supplier_part_id.as_deref()).unwrap_or("item");
            let memo = format!("{invoice_id} line {} ({po}): {}", item.invoice_line_number.unwrap_or(0), truncate(what, 80));
            if let Some(splits) = coded_splits(coding, here, amount) {
                for s in splits {
                    let segs = s.segments.iter().map(|g| format!("{}={}", g.kind, g.id)).collect();
                    let acct = s.account.as_deref().unwrap_or(&account);
                    b.add(acct, Side::Debit, s.amount, memo.clone(), item.invoice_line_number, segs);
                }
                continue;
            }
            let splits: Vec<(Money, Vec<String>)> = item
                .distributions
                .iter()
                .filter_map(|d| {
                    let charge = d.charge.filter(|c| c.currency == cur)?;
                    let name = d.accounting_name.as_deref().unwrap_or("segment");
                    let segs = d.segments.iter().map(|s| format!("{name}={}", s.id)).collect();
                    Some((charge, segs))
                })
                .collect();
            // Checked: amounts too large to add up never panic, the line is then booked whole.
            let split_sum = splits.iter().try_fold(Decimal::ZERO, |acc, (m, _)| acc.checked_add(m.amount));
            if !splits.is_empty() && splits.len() == item.distributions.len() && split_sum == Some(amount.amount) {
                for (charge, segs) in splits {
                    b.add(&account, Side::Debit, charge, memo.clone(), item.invoice_line_number, segs);
                }
            } else {
                b.add(&account, Side::Debit, amount, memo, item.invoice_line_number, Vec::new());
            }
        }
    }
    for ho in &inv.header_orders {
        if let Some(amount) = ho.amounts.subtotal.filter(|m| m.currency == cur) {
            let po = ho.info.po_number().unwrap_or("no PO");
            let account = chart.expense_account("uncategorized");
            b.add(&account, Side::Debit, amount, format!("{invoice_id} header-level ({po})"), None, Vec::new());
        }
    }
    let supplier = inv.supplier_key().unwrap_or_default();
    book_totals(&mut b, invoice_id, &supplier, totals, chart);
    b.lines
}

/// The lines every journal ends with: input tax, freight, special handling, discount, payable.
fn book_totals(b: &mut Builder, invoice_id: &str, supplier: &str, totals: &Totals, chart: &Chart) {
    b.add(&chart.input_tax, Side::Debit, totals.tax, format!("{invoice_id} tax"), None, Vec::new());
    b.add(&chart.freight, Side::Debit, totals.shipping, format!("{invoice_id} shipping"), None, Vec::new());
    b.add(&chart.other_charges, Side::Debit, totals.special_handling, format!("{invoice_id} special handling"), None, Vec::new());
    b.add(&chart.discount, Side::Credit, totals.discount, format!("{invoice_id} discount"), None, Vec::new());
    b.add(&chart.payable, Side::Credit, totals.net, payable_memo(invoice_id, supplier), None, Vec::new());
}

/// One expense of an invoice that is not read from a cXML document (an Amazon Business
/// import): the account it is booked to, its amount (negative on a credit memo), the memo, the
/// invoice line and its segments (`name=id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expense {
    pub account: String,
    pub amount: Money,
    pub memo: String,
    pub invoice_line: Option<u32>,
    pub segments: Vec<String>,
}

/// The journal of an invoice given as its expenses and its totals: each expense debited to its
/// account, then input tax, freight, special handling, discount and the payable exactly as
/// [`journal`] books them (a negative amount is booked on the other side, so a credit memo
/// reverses). Debits equal credits when the expenses add up to `totals.subtotal` and
/// `totals.net` is subtotal + tax + shipping + special handling − discount.
pub fn journal_of_expenses(invoice_id: &str, supplier: &str, expenses: &[Expense], totals: &Totals, chart: &Chart) -> Vec<EntryLine> {
    let mut b = Builder { lines: Vec::with_capacity(expenses.len() + 5) };
    for e in expenses {
        b.add(&e.account, Side::Debit, e.amount, e.memo.clone(), e.invoice_line, e.segments.clone());
    }
    book_totals(&mut b, invoice_id, supplier, totals, chart);
    b.lines
}

/// The memo of an invoice's supplier payable line (the last line [`journal`] books).
fn payable_memo(invoice_id: &str, supplier: &str) -> String {
    format!("{invoice_id} payable to {supplier}")
}

/// True for the supplier payable line of `supplier`'s invoice, booked or reversed (a reversal
/// keeps the memo after its prefix): what an export names the supplier account on.
pub fn is_payable_line(line: &EntryLine, supplier: &str) -> bool {
    !supplier.is_empty() && line.invoice_line.is_none() && line.memo.ends_with(&format!(" payable to {supplier}"))
}

/// The entries that undo `lines` (for a cancelled invoice).
pub fn reversal(lines: &[EntryLine], memo_prefix: &str) -> Vec<EntryLine> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| EntryLine { seq: i as u32 + 1, side: l.side.flip(), memo: format!("{memo_prefix}: {}", l.memo), ..l.clone() })
        .collect()
}

/// Total debits and credits of a set of lines in one currency (saturating: never a panic).
pub fn balance(lines: &[EntryLine], currency: Currency) -> (Money, Money) {
    let mut d = Money::zero(currency);
    let mut c = Money::zero(currency);
    for l in lines {
        match l.side {
            Side::Debit => d = Money::new(d.amount.saturating_add(l.amount.amount), currency),
            Side::Credit => c = Money::new(c.amount.saturating_add(l.amount.amount), currency),
        }
    }
    (d, c)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}
