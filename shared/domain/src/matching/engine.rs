//! The match itself: one pure function over the invoice, the company's POs (with what Amazon
//! accepted), the invoices before it and the company's tolerances. The rules are listed in
//! [`crate::matching`].

use rust_decimal::{Decimal, RoundingStrategy};

use crate::core::money::{Currency, Money};
use crate::invoice::cxml::model::{CxmlInvoice, Item, Operation};
use crate::invoice::validate::{line_amount, line_subtotal};
use crate::ordering::placed::{PlacedCharge, PlacedLine, PlacedOrder};
use crate::ordering::po::PurchaseOrder;

use super::code::MatchCode;
use super::index::PoIndex;
use super::invoiced::{charges, invoice_currency, invoice_key_of, Invoiced, Prior};
use super::outcome::{LineMatch, MatchException, MatchOutcome, MatchStatus};
use super::resolve::{invoice_line_name, reference_value, references, resolve, NoLine};
use super::tolerance::{Tolerance, Tolerances};

/// Matches `inv` against its PO in `index`.
///
/// `prior` is what the company's other invoices billed ([`Invoiced`], as persisted); the
/// summaries of other POs, and the one of this very invoice (same supplier and invoiceID),
/// are skipped, so a match run again on the same inputs — or after this invoice's own summary
/// was stored — gives the same outcome. Linear in the invoice's lines, the PO's lines and the
/// prior summaries' lines.
pub fn match_invoice(inv: &CxmlInvoice, index: &PoIndex<'_>, prior: &[Invoiced], tolerances: &Tolerances) -> MatchOutcome {
    let r = resolve(inv, index);
    let names: Vec<String> = r.items.iter().enumerate().map(|(p, ri)| invoice_line_name(ri.item, p)).collect();
    let mut rep = Report { exceptions: Vec::new(), bad: vec![false; r.items.len()] };

    let Some(entry) = r.entry else {
        let infos: Vec<_> = inv.orders.iter().map(|o| &o.info).chain(inv.header_orders.iter().map(|h| &h.info)).collect();
        let mut refs: Vec<String> = Vec::new();
        for info in &infos {
            let r = references(info);
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        let refs = if refs.is_empty() { "no order reference at all".to_string() } else { refs.join("; ") };
        rep.exceptions.push(MatchException {
            code: MatchCode::NoPo,
            line: None,
            expected: None,
            found: infos.iter().find_map(|i| reference_value(i)),
            message: format!(
                "no PO of the company matches the invoice ({refs}); the invoice waits for its PO: match it again once the PO is known"
            ),
        });
        rep.bad.iter_mut().for_each(|b| *b = true);
        let po_lines = vec![None; r.items.len()];
        return finish(rep, None, names, po_lines);
    };
    let po = entry.po;
    let po_lines: Vec<Option<String>> = r.items.iter().map(|ri| ri.line.as_ref().ok().map(|&l| po.lines[l].line_number.clone())).collect();
    if inv.header.operation == Operation::Delete {
        // A cancellation: nothing is billed, nothing to compare.
        return finish(rep, Some(po.po_number.clone()), names, po_lines);
    }

    let cur = po.currency;
    let tol = tolerances;
    let credit = inv.header.purpose.is_credit();
    let inv_cur = invoice_currency(inv);
    let money_ok = inv_cur.is_none_or(|c| c == cur);
    if let Some(c) = inv_cur.filter(|c| *c != cur) {
        rep.exceptions.push(MatchException {
            code: MatchCode::CurrencyMismatch,
            line: None,
            expected: Some(cur.to_string()),
            found: Some(c.to_string()),
            message: format!("the invoice is in {c}, but PO {} is in {cur}: its prices and amounts are not compared", po.po_number),
        });
    }
    for &b in &r.blocks_without_po {
        let info = &inv.orders[b].info;
        rep.exceptions.push(MatchException {
            code: MatchCode::NoPo,
            line: None,
            expected: Some(po.po_number.clone()),
            found: reference_value(info),
            message: format!(
                "order block {} of the invoice ({}) names no known PO, while the invoice is matched against PO {}; its {} line(s) are not matched",
                b + 1,
                references(info),
                po.po_number,
                inv.orders[b].items.len()
            ),
        });
    }

    let placed = entry.placed;
    let lookup = r.lookup.as_ref().expect("a PO's lines are looked up");
    // Amazon's answer per PO line (the first answer line of its number).
    let placed_lines: Option<Vec<Option<&PlacedLine>>> = placed.map(|p| {
        let mut v = vec![None; po.lines.len()];
        for l in &p.lines {
            if let Some(slot) = lookup.by_number(&l.line_number).and_then(|i| v.get_mut(i)) {
                slot.get_or_insert(l);
            }
        }
        v
    });
    // What Amazon accepted of a PO line (`None`: no placeOrder answer).
    let placed_line = |line: usize| -> Option<Option<&PlacedLine>> { placed_lines.as_ref().map(|v| v[line]) };
    // The quantity the invoices of a PO line may bill: accepted, else ordered.
    let allowed_of = |line: usize, placed: Option<Option<&PlacedLine>>| -> u32 {
        match placed {
            Some(pl) => pl.map_or(0, PlacedLine::accepted_quantity),
            None => po.lines[line].quantity,
        }
    };

    // This invoice's quantity per PO line, and the first of its lines billing it.
    let mut this_qty = vec![Decimal::ZERO; po.lines.len()];
    let mut first_item = vec![usize::MAX; po.lines.len()];
    for (p, ri) in r.items.iter().enumerate() {
        if let Ok(l) = ri.line {
            this_qty[l] = this_qty[l].saturating_add(signed(ri.item.quantity.unwrap_or_default(), credit));
            if first_item[l] == usize::MAX {
                first_item[l] = p;
            }
        }
    }
    let this_key = invoice_key_of(inv);
    let before = Prior::sum(prior, po, lookup, &this_key);
    let tax_mode = TaxMode::of(po, placed, cur);

    let mut expected_tax_sum = Decimal::ZERO;
    let mut any_line_tax = false;
    let mut over = vec![false; po.lines.len()];
    for (p, ri) in r.items.iter().enumerate() {
        let name = &names[p];
        let item = ri.item;
        let line = match &ri.line {
            Ok(l) => *l,
            Err(why) => {
                if let Some(e) = no_line(why, name, po) {
                    rep.add(Some(p), e);
                } else {
                    rep.bad[p] = true;
                }
                continue;
            }
        };
        let pl = &po.lines[line];
        let pline = placed_line(line);
        let accepted = allowed_of(line, pline);
        let qty = item.quantity.map(|q| signed(q, credit));
        if pline.is_some() && accepted == 0 {
            let reason = pline.flatten().map_or_else(
                || "Amazon's answer does not list it".to_string(),
                |l| format!("Amazon rejected all {} ordered", l.rejected_quantity()),
            );
            rep.add(
                Some(p),
                MatchException {
                    code: MatchCode::PoRejectedLine,
                    line: Some(name.clone()),
                    expected: Some("0".into()),
                    found: qty.map(qty_text),
                    message: format!(
                        "invoice line {name} bills {} of PO line {}, of which nothing was accepted ({reason})",
                        qty.map_or_else(|| "an amount".to_string(), qty_text),
                        pl.line_number
                    ),
                },
            );
            continue;
        }
        if first_item[line] == p && !credit {
            let total = before.quantity(line).saturating_add(this_qty[line]);
            let allowed_d = Decimal::from(accepted);
            let excess = total - allowed_d;
            if excess > Decimal::ZERO && !tol.quantity.within(excess, allowed_d) {
                over[line] = true;
                let what = if placed.is_some() { "accepted by Amazon" } else { "ordered" };
                rep.add(
                    Some(p),
                    MatchException {
                        code: MatchCode::OverInvoiced,
                        line: Some(name.clone()),
                        expected: Some(qty_text(allowed_d)),
                        found: Some(qty_text(total)),
                        message: format!(
                            "invoice line {name}: PO line {} is invoiced {} in all ({} before this invoice + {} on it), but {} were {what} (quantity tolerance {})",
                            pl.line_number,
                            qty_text(total),
                            qty_text(before.quantity(line)),
                            qty_text(this_qty[line]),
                            accepted,
                            tol.quantity.describe()
                        ),
                    },
                );
            }
        }
        if !money_ok {
            continue;
        }
        if let Some(m) = item.unit_price.or(item.amounts.subtotal).filter(|m| m.currency != cur) {
            rep.add(
                Some(p),
                MatchException {
                    code: MatchCode::CurrencyMismatch,
                    line: Some(name.clone()),
                    expected: Some(cur.to_string()),
                    found: Some(m.currency.to_string()),
                    message: format!("invoice line {name} (PO line {}) is in {}, but the PO is in {cur}", pl.line_number, m.currency),
                },
            );
            continue;
        }
        if credit {
            continue;
        }
        let block_order = inv.orders[ri.block].info.supplier_order_id.as_deref();
        let (expected_price, source) = match pline.flatten().and_then(|l| accepted_price(l, block_order, cur)) {
            Some(p) => (p, "Amazon accepted"),
            None => (pl.expected_unit_price, "the PO expects"),
        };
        let mut price_bad = false;
        if let Some(price) = item.unit_price.and_then(|p| unit_price(p, item)) {
            let diff = price.amount - expected_price.amount;
            if !tol.unit_price.within(diff, expected_price.amount) {
                price_bad = true;
                rep.add(
                    Some(p),
                    variance(MatchCode::PriceVariance, name, &pl.line_number, "unit price", expected_price, price, source, &tol.unit_price),
                );
            }
        }
        if let (false, Some(q), Some(found)) = (price_bad, qty, line_subtotal(item)) {
            if let Ok(exact) = expected_price.checked_mul(q) {
                let expected = exact.round(RoundingStrategy::MidpointAwayFromZero);
                if !tol.amount.within(found.amount - expected.amount, expected.amount) {
                    let whose = if source == "Amazon accepted" { "Amazon's price" } else { "the PO's price" };
                    let source = format!("{} × {expected_price} ({whose}) is", qty_text(q));
                    rep.add(
                        Some(p),
                        variance(MatchCode::AmountVariance, name, &pl.line_number, "line amount", expected, found, &source, &tol.amount),
                    );
                }
            }
        }
        if let (TaxMode::ProRata, Some(q)) = (&tax_mode, qty) {
            let expected = pro_rata_tax(pline.flatten(), q, accepted, cur);
            expected_tax_sum = expected_tax_sum.saturating_add(expected.amount);
            if let Some(found) = item.amounts.tax_amount().filter(|m| m.currency == cur) {
                any_line_tax = true;
                if !tol.amount.within(found.amount - expected.amount, expected.amount) {
                    let source = format!("Amazon's accepted tax for {} of {accepted} units is", qty_text(q));
                    rep.add(Some(p), variance(MatchCode::TaxVariance, name, &pl.line_number, "tax", expected, found, &source, &tol.amount));
                }
            }
        }
    }
    for (p, ri) in r.items.iter().enumerate() {
        if ri.line.as_ref().is_ok_and(|&l| over[l]) {
            rep.bad[p] = true;
        }
    }

    if money_ok && !credit {
        let (tax, shipping) = charges(inv, cur);
        match tax_mode {
            TaxMode::ProRata if !any_line_tax && inv.summary.tax_amount().is_some_and(|t| t.currency == cur) => {
                let expected = Money::new(expected_tax_sum, cur);
                if !tol.amount.within(tax.amount - expected.amount, expected.amount) {
                    rep.exceptions.push(MatchException {
                        code: MatchCode::TaxVariance,
                        line: None,
                        expected: Some(expected.to_string()),
                        found: Some(tax.to_string()),
                        message: format!(
                            "the invoice's tax is {tax}, but the tax Amazon accepted for the quantities it bills is {expected} (amount tolerance {})",
                            tol.amount.describe()
                        ),
                    });
                }
            }
            TaxMode::Ceiling(ceiling, source) if !tax.is_zero() => {
                ceiling_check(&mut rep, MatchCode::TaxVariance, "tax", before.tax, tax, ceiling, source, &tol.amount);
            }
            _ => {}
        }
        if !shipping.is_zero() {
            if let Some((ceiling, source)) = shipping_ceiling(po, placed, cur) {
                ceiling_check(&mut rep, MatchCode::ShippingVariance, "shipping", before.shipping, shipping, ceiling, source, &tol.amount);
            }
        }
        let header = r
            .header_blocks
            .iter()
            .filter_map(|&h| inv.header_orders[h].amounts.subtotal.filter(|m| m.currency == cur))
            .fold(Decimal::ZERO, |acc, m| acc.saturating_add(m.amount));
        if !header.is_zero() {
            let ceiling = (0..po.lines.len()).fold(Decimal::ZERO, |acc, l| {
                let pl = placed_line(l);
                let price = pl.flatten().and_then(|pl| accepted_price(pl, None, cur)).unwrap_or(po.lines[l].expected_unit_price);
                acc.saturating_add(price.amount.saturating_mul(Decimal::from(allowed_of(l, pl))))
            });
            let source = if placed.is_some() { "the goods Amazon accepted" } else { "the goods the PO orders" };
            let ceiling = Money::new(ceiling, cur).round(RoundingStrategy::MidpointAwayFromZero);
            ceiling_check(
                &mut rep,
                MatchCode::AmountVariance,
                "header-level subtotal",
                before.subtotal,
                Money::new(header, cur),
                ceiling,
                source,
                &tol.amount,
            );
        }
    }
    finish(rep, Some(po.po_number.clone()), names, po_lines)
}

struct Report {
    exceptions: Vec<MatchException>,
    /// Per invoice line: has an exception.
    bad: Vec<bool>,
}

impl Report {
    fn add(&mut self, item: Option<usize>, e: MatchException) {
        if let Some(p) = item {
            self.bad[p] = true;
        }
        self.exceptions.push(e);
    }
}

fn finish(rep: Report, po_number: Option<String>, names: Vec<String>, po_lines: Vec<Option<String>>) -> MatchOutcome {
    let lines = names
        .into_iter()
        .zip(po_lines)
        .zip(&rep.bad)
        .map(|((invoice_line, po_line), bad)| LineMatch {
            invoice_line,
            po_line,
            status: if *bad { MatchStatus::Exception } else { MatchStatus::Matched },
        })
        .collect();
    let status = if rep.exceptions.is_empty() { MatchStatus::Matched } else { MatchStatus::Exception };
    MatchOutcome { status, po_number, exceptions: rep.exceptions, lines }
}

fn signed(x: Decimal, credit: bool) -> Decimal {
    super::invoiced::signed(x, credit)
}

fn qty_text(q: Decimal) -> String {
    q.normalize().to_string()
}

/// The exception of an invoice line without a PO line (`None` for a line of a block already
/// reported as naming no PO).
fn no_line(why: &NoLine, name: &str, po: &PurchaseOrder) -> Option<MatchException> {
    let (found, message) = match why {
        NoLine::NoPo | NoLine::BlockWithoutPo => return None,
        NoLine::OtherPo(other) => (
            Some(other.clone()),
            format!(
                "invoice line {name} belongs to PO {other}, but the invoice is matched against PO {} (one PO per invoice)",
                po.po_number
            ),
        ),
        NoLine::NoSuchLine(reference) => (
            Some(reference.clone()),
            format!(
                "invoice line {name} bills PO line {reference} (InvoiceDetailItemReference@lineNumber), which PO {} does not have",
                po.po_number
            ),
        ),
        NoLine::NotALineNumber { reference, part, ambiguous } => {
            let written = reference.as_deref().map_or_else(|| "no lineNumber".to_string(), |r| format!("lineNumber \"{r}\""));
            let by_part = match (part, ambiguous) {
                (Some(p), true) => format!("and several lines of PO {} have its SupplierPartID {p} as their ASIN", po.po_number),
                (Some(p), false) => format!("and no line of PO {} has its SupplierPartID {p} as its ASIN", po.po_number),
                (None, _) => "and it has no SupplierPartID to find the PO line by".to_string(),
            };
            (reference.clone(), format!("invoice line {name} has {written}, which is not a PO line number, {by_part}"))
        }
    };
    Some(MatchException { code: MatchCode::UnknownLine, line: Some(name.to_string()), expected: None, found, message })
}

#[allow(clippy::too_many_arguments)]
fn variance(
    code: MatchCode,
    name: &str,
    po_line: &str,
    what: &str,
    expected: Money,
    found: Money,
    source: &str,
    tol: &Tolerance,
) -> MatchException {
    let diff = Money::new(found.amount - expected.amount, found.currency);
    let sign = if diff.amount.is_sign_negative() { "" } else { "+" };
    MatchException {
        code,
        line: Some(name.to_string()),
        expected: Some(expected.to_string()),
        found: Some(found.to_string()),
        message: format!(
            "invoice line {name} (PO line {po_line}): {what} {found}, but {source} {expected} (difference {sign}{diff}; {} tolerance {})",
            if code == MatchCode::PriceVariance { "unit price" } else { "amount" },
            tol.describe()
        ),
    }
}

/// Invoice-level: everything billed so far (`before` + `this`) must not exceed `ceiling`
/// beyond the tolerance; under it is no exception (more invoices may follow).
#[allow(clippy::too_many_arguments)]
fn ceiling_check(
    rep: &mut Report,
    code: MatchCode,
    what: &str,
    before: Decimal,
    this: Money,
    ceiling: Money,
    source: &str,
    tol: &Tolerance,
) {
    let cur = this.currency;
    let total = Money::new(before.saturating_add(this.amount), cur);
    let excess = total.amount - ceiling.amount;
    if excess > Decimal::ZERO && !tol.within(excess, ceiling.amount) {
        rep.exceptions.push(MatchException {
            code,
            line: None,
            expected: Some(ceiling.to_string()),
            found: Some(total.to_string()),
            message: format!(
                "the {what} invoiced for this PO comes to {total} ({} before this invoice + {this} on it), more than {source}: {ceiling} (amount tolerance {})",
                Money::new(before, cur),
                tol.describe()
            ),
        });
    }
}

/// The price of one unit: UnitPrice, per PriceBasisQuantity when the price is per N units.
fn unit_price(price: Money, item: &Item) -> Option<Money> {
    if item.price_basis_quantity.is_some_and(|q| !q.is_zero()) {
        line_amount(price, Decimal::ONE, item)
    } else {
        Some(price)
    }
}

/// The unit price Amazon accepted: of the accepted portion of the invoice's Amazon order
/// when there is one, else of the first portion that states one.
fn accepted_price(line: &PlacedLine, amazon_order: Option<&str>, cur: Currency) -> Option<Money> {
    if let [only] = line.accepted.as_slice() {
        return only.unit_price.filter(|m| m.currency == cur);
    }
    let of_order = amazon_order
        .and_then(|id| line.accepted.iter().filter(|a| a.order_id.as_deref().map(str::trim) == Some(id.trim())).find_map(|a| a.unit_price));
    of_order.or_else(|| line.unit_price()).filter(|m| m.currency == cur)
}

fn is_tax(c: &PlacedCharge) -> bool {
    c.kind.trim().eq_ignore_ascii_case("TAX")
}

fn is_shipping(c: &PlacedCharge) -> bool {
    c.category.trim().eq_ignore_ascii_case("SHIPPING")
}

/// Σ of the charges in `cur` that `keep` selects.
fn sum_charges<'c>(
    charges: impl Iterator<Item = &'c PlacedCharge>,
    cur: Currency,
    value: impl Fn(&PlacedCharge) -> Option<Decimal>,
) -> Decimal {
    charges.filter(|c| c.amount.currency == cur).filter_map(value).fold(Decimal::ZERO, Decimal::saturating_add)
}

/// Shipping of a set of charges: SHIPPING principal less SHIPPING discount (tax aside).
fn shipping_value(c: &PlacedCharge) -> Option<Decimal> {
    if !is_shipping(c) {
        return None;
    }
    let k = c.kind.trim();
    if k.eq_ignore_ascii_case("PRINCIPAL") {
        Some(c.amount.amount)
    } else if k.eq_ignore_ascii_case("DISCOUNT") {
        Some(-c.amount.amount.abs())
    } else {
        None
    }
}

/// The tax Amazon accepted for a line, for `q` of its `accepted` units, rounded.
fn pro_rata_tax(line: Option<&PlacedLine>, q: Decimal, accepted: u32, cur: Currency) -> Money {
    let total = line.map_or(Decimal::ZERO, |l| {
        sum_charges(l.accepted.iter().flat_map(|a| a.charges.iter()), cur, |c| is_tax(c).then_some(c.amount.amount))
    });
    let share = if accepted == 0 { Decimal::ZERO } else { total.saturating_mul(q) / Decimal::from(accepted) };
    Money::new(share, cur).round(RoundingStrategy::MidpointAwayFromZero)
}

enum TaxMode {
    /// Amazon accepted tax per line: each line's tax is compared with its share of it.
    ProRata,
    /// Only an order-level tax is known: an upper bound for all invoices together.
    Ceiling(Money, &'static str),
    None,
}

impl TaxMode {
    fn of(po: &PurchaseOrder, placed: Option<&PlacedOrder>, cur: Currency) -> TaxMode {
        if let Some(p) = placed {
            let line_charges = || p.lines.iter().flat_map(|l| l.accepted.iter()).flat_map(|a| a.charges.iter());
            if line_charges().any(|c| is_tax(c) && c.amount.currency == cur) {
                return TaxMode::ProRata;
            }
            if p.charges.iter().any(|c| is_tax(c) && c.amount.currency == cur) {
                let total = sum_charges(p.charges.iter(), cur, |c| is_tax(c).then_some(c.amount.amount));
                return TaxMode::Ceiling(Money::new(total, cur), "the tax Amazon accepted");
            }
        }
        match po.expected.tax.filter(|m| m.currency == cur) {
            Some(t) => TaxMode::Ceiling(t, "the tax the PO expects"),
            None => TaxMode::None,
        }
    }
}

/// The shipping all invoices of the PO may bill together: Amazon's accepted SHIPPING charges
/// (of the lines, else of the order), else the PO's expected shipping.
fn shipping_ceiling(po: &PurchaseOrder, placed: Option<&PlacedOrder>, cur: Currency) -> Option<(Money, &'static str)> {
    if let Some(p) = placed {
        let line_charges = || p.lines.iter().flat_map(|l| l.accepted.iter()).flat_map(|a| a.charges.iter());
        let has = |c: &PlacedCharge| c.amount.currency == cur && shipping_value(c).is_some();
        if line_charges().any(has) {
            return Some((Money::new(sum_charges(line_charges(), cur, shipping_value), cur), "the shipping Amazon accepted"));
        }
        if p.charges.iter().any(has) {
            return Some((Money::new(sum_charges(p.charges.iter(), cur, shipping_value), cur), "the shipping Amazon accepted"));
        }
    }
    po.expected.shipping.filter(|m| m.currency == cur).map(|m| (m, "the shipping the PO expects"))
}
