//! What an invoice bills against its PO, per PO line: the summary an adapter persists per
//! (PO, invoice) and gives back to the next match as the invoices before it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::core::money::{Currency, Money};
use crate::invoice::cxml::model::{CxmlInvoice, Item, Operation};
use crate::invoice::records::{identity_of, invoice_key};
use crate::invoice::validate::line_subtotal;
use crate::ordering::po::PurchaseOrder;

use super::index::PoIndex;
use super::resolve::{resolve, trim, LineLookup, Resolved};

/// What one invoice bills of one PO line. Signed: a credit memo's quantity and amount are
/// negative (whatever sign the document wrote them with), so sums over invoices are net.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicedLine {
    /// [`crate::ordering::line_key`] of the PO line (`20` for `0020`).
    pub line_key: String,
    /// Σ quantity of the invoice's lines that bill this PO line.
    pub quantity: Decimal,
    /// Σ their line amounts (subtotal, else unit price × quantity rounded).
    pub amount: Money,
}

/// What one invoice bills against one PO. Persist it per (PO number, invoice) when the
/// invoice is booked; replace it when the same invoice is matched again, delete it when the
/// invoice is rejected. A cancellation (`operation="delete"`, same invoiceID) yields a
/// summary with no lines and zero amounts, so storing it under the same key cancels the
/// original's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoiced {
    /// The invoice's key within its company ([`crate::invoice::records::invoice_key`]:
    /// `<supplier>#<invoiceID>`): a match skips the summary with its own key, so matching the
    /// same invoice again gives the same result.
    pub invoice: String,
    pub po_number: String,
    pub currency: Currency,
    /// Whether the invoice is a credit memo (its quantities and amounts are negative here).
    pub credit: bool,
    /// One per PO line billed, in the order the invoice first bills them.
    pub lines: Vec<InvoicedLine>,
    /// Σ of the line amounts and of the header-level (`InvoiceDetailOrderSummary`) subtotals.
    pub subtotal: Money,
    /// The invoice's tax: the summary's, else Σ line taxes.
    pub tax: Money,
    /// The invoice's shipping: the summary's, else Σ line shipping.
    pub shipping: Money,
}

/// The key [`Invoiced::invoice`] has for this invoice.
pub fn invoice_key_of(inv: &CxmlInvoice) -> String {
    let (supplier, id) = identity_of(inv);
    invoice_key(&supplier, &id)
}

/// The sign an invoice's quantities and amounts count with: −|x| in a credit memo, else as
/// written.
pub(crate) fn signed(x: Decimal, credit: bool) -> Decimal {
    if credit {
        -x.abs()
    } else {
        x
    }
}

/// The invoice currency: the summary's (subtotal, net, due), else the first line amount's.
pub(crate) fn invoice_currency(inv: &CxmlInvoice) -> Option<Currency> {
    let s = &inv.summary;
    s.subtotal.or(s.net).or(s.due).map(|m| m.currency).or_else(|| inv.items().find_map(|i| item_money(i).map(|m| m.currency)))
}

fn item_money(item: &Item) -> Option<Money> {
    item.unit_price.or(item.amounts.subtotal)
}

/// The invoice's tax and shipping: the summary's, else the lines' sums (in `cur`).
pub(crate) fn charges(inv: &CxmlInvoice, cur: Currency) -> (Money, Money) {
    let zero = Money::zero(cur);
    let in_cur = |m: Option<Money>| m.filter(|m| m.currency == cur);
    let add = |acc: Money, m: Option<Money>| in_cur(m).and_then(|m| acc.checked_add(&m).ok()).unwrap_or(acc);
    let tax = in_cur(inv.summary.tax_amount()).unwrap_or_else(|| inv.items().fold(zero, |acc, i| add(acc, i.amounts.tax_amount())));
    let shipping = in_cur(inv.summary.shipping).unwrap_or_else(|| inv.items().fold(zero, |acc, i| add(acc, i.amounts.other().shipping)));
    (tax, shipping)
}

/// What `inv` bills against the PO it is matched to; `None` when none of its PO is in
/// `index` (the invoice arrived before its PO: compute it again when the PO is there).
pub fn invoiced(inv: &CxmlInvoice, index: &PoIndex<'_>) -> Option<Invoiced> {
    let resolved = resolve(inv, index);
    invoiced_resolved(inv, &resolved)
}

pub(crate) fn invoiced_resolved(inv: &CxmlInvoice, r: &Resolved<'_, '_>) -> Option<Invoiced> {
    let entry = r.entry?;
    let cur = invoice_currency(inv).unwrap_or(entry.po.currency);
    let credit = inv.header.purpose.is_credit();
    let zero = Money::zero(cur);
    let mut out = Invoiced {
        invoice: invoice_key_of(inv),
        po_number: entry.po.po_number.clone(),
        currency: cur,
        credit,
        lines: Vec::new(),
        subtotal: zero,
        tax: zero,
        shipping: zero,
    };
    if inv.header.operation == Operation::Delete {
        return Some(out);
    }
    // Per PO line, its place in `out.lines` (`usize::MAX`: not billed yet).
    let mut slot = vec![usize::MAX; entry.po.lines.len()];
    let mut subtotal = Decimal::ZERO;
    for ri in &r.items {
        let Ok(line) = ri.line else { continue };
        let qty = signed(ri.item.quantity.unwrap_or_default(), credit);
        let amount = line_subtotal(ri.item).filter(|m| m.currency == cur).map_or(Decimal::ZERO, |m| signed(m.amount, credit));
        subtotal = subtotal.saturating_add(amount);
        if slot[line] == usize::MAX {
            out.lines.push(InvoicedLine { line_key: entry.po.lines[line].key.clone(), quantity: Decimal::ZERO, amount: zero });
            slot[line] = out.lines.len() - 1;
        }
        let i = slot[line];
        let l = &mut out.lines[i];
        l.quantity = l.quantity.saturating_add(qty);
        l.amount = Money::new(l.amount.amount.saturating_add(amount), cur);
    }
    for &h in &r.header_blocks {
        if let Some(m) = inv.header_orders[h].amounts.subtotal.filter(|m| m.currency == cur) {
            subtotal = subtotal.saturating_add(signed(m.amount, credit));
        }
    }
    let (tax, shipping) = charges(inv, cur);
    out.subtotal = Money::new(subtotal, cur);
    out.tax = Money::new(signed(tax.amount, credit), cur);
    out.shipping = Money::new(signed(shipping.amount, credit), cur);
    Some(out)
}

/// The invoices before this one, summed for one PO: per PO line the quantity billed, and
/// the tax, shipping and subtotal billed. Summaries in another currency than the PO's count
/// their quantities only; lines the PO no longer has are left out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prior {
    /// Per PO line (index in `po.lines`).
    pub quantities: Vec<Decimal>,
    pub tax: Decimal,
    pub shipping: Decimal,
    pub subtotal: Decimal,
}

impl Prior {
    pub fn sum(prior: &[Invoiced], po: &PurchaseOrder, lookup: &LineLookup<'_>, this_invoice: &str) -> Prior {
        let mut p = Prior { quantities: vec![Decimal::ZERO; po.lines.len()], ..Prior::default() };
        let po_number = trim(&po.po_number);
        for inv in prior.iter().filter(|i| trim(&i.po_number) == po_number && i.invoice != this_invoice) {
            let money = inv.currency == po.currency;
            for l in &inv.lines {
                if let Some(i) = lookup.by_number(&l.line_key) {
                    p.quantities[i] = p.quantities[i].saturating_add(l.quantity);
                }
            }
            if money {
                p.tax = p.tax.saturating_add(inv.tax.amount);
                p.shipping = p.shipping.saturating_add(inv.shipping.amount);
                p.subtotal = p.subtotal.saturating_add(inv.subtotal.amount);
            }
        }
        p
    }

    pub fn quantity(&self, line: usize) -> Decimal {
        self.quantities.get(line).copied().unwrap_or_default()
    }
}
