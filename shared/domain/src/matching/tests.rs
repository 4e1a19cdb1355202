//! The matching rules, one scenario each, on invoices and POs built in place (and on the
//! bundled sample documents).

use rust_decimal::Decimal;
use strum::IntoEnumIterator;

use crate::core::money::{Currency, Money};
use crate::invoice::accounting::{balance, journal, journal_coded, Chart, Side};
use crate::invoice::cxml::model::*;
use crate::invoice::cxml::Limits;
use crate::invoice::validate::validate;
use crate::ordering::placed::{AcceptedPortion, PlacedCharge, PlacedLine, PlacedOrder, PoStatus, RejectedPortion, Rejection};
use crate::ordering::po::{Address, Distribution, Expected, PoLine, PurchaseOrder, Segment};

use super::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn usd(a: &str) -> Money {
    Money::parse(a, "USD").unwrap()
}

fn po_line(number: &str, quantity: u32, price: &str) -> PoLine {
    let price = usd(price);
    PoLine {
        line_number: number.into(),
        key: crate::ordering::line_key(number).unwrap(),
        asin: format!("B0ASIN{number}"),
        quantity,
        expected_unit_price: price,
        expected_subtotal: price.checked_mul(Decimal::from(quantity)).unwrap(),
        category: None,
        sub_category: None,
        distributions: Vec::new(),
    }
}

fn po(number: &str, lines: &[(&str, u32, &str)]) -> PurchaseOrder {
    PurchaseOrder {
        po_number: number.into(),
        external_id: format!("acme-{number}"),
        currency: Currency::parse("USD").unwrap(),
        buying_group_id: "BG-1".into(),
        buyer_email: "buyer@acme.example".into(),
        region: "US".into(),
        ship_to: Address::default(),
        bill_to: Address::default(),
        expected: Expected { subtotal: None, tax: None, shipping: None },
        requested_delivery_date: None,
        lines: lines.iter().map(|(n, q, p)| po_line(n, *q, p)).collect(),
    }
}

/// A `placeOrder` answer: per line (number, accepted, rejected, unit price), all in one
/// Amazon order.
fn placed(order_id: &str, lines: &[(&str, u32, u32, &str)]) -> PlacedOrder {
    let lines: Vec<PlacedLine> = lines
        .iter()
        .map(|(n, acc, rej, price)| PlacedLine {
            line_number: n.to_string(),
            accepted: if *acc == 0 {
                vec![]
            } else {
                vec![AcceptedPortion {
                    quantity: *acc,
                    unit_price: Some(usd(price)),
                    charges: vec![PlacedCharge {
                        category: "SUBTOTAL".into(),
                        kind: "PRINCIPAL".into(),
                        amount: usd(price).checked_mul(Decimal::from(*acc)).unwrap(),
                    }],
                    order_id: Some(order_id.into()),
                    delivery: None,
                    other: vec![],
                }]
            },
            rejected: if *rej == 0 {
                vec![]
            } else {
                vec![RejectedPortion { quantity: *rej, reasons: vec![Rejection::Code { code: "ITEM_UNAVAILABLE".into() }] }]
            },
        })
        .collect();
    let any_rejected = lines.iter().any(|l| l.rejected_quantity() > 0);
    let any_accepted = lines.iter().any(|l| l.accepted_quantity() > 0);
    PlacedOrder {
        status: match (any_accepted, any_rejected) {
            (true, false) => PoStatus::Placed,
            (true, true) => PoStatus::PartiallyRejected,
            _ => PoStatus::Rejected,
        },
        lines,
        order_ids: vec![order_id.into()],
        charges: vec![],
        other: vec![],
        rejections: vec![],
    }
}

/// Adds charges (category, type, amount) to the first accepted portion of line `i`.
fn charge(mut p: PlacedOrder, i: usize, charges: &[(&str, &str, &str)]) -> PlacedOrder {
    for (cat, kind, amount) in charges {
        p.lines[i].accepted[0].charges.push(PlacedCharge { category: cat.to_string(), kind: kind.to_string(), amount: usd(amount) });
    }
    p
}

/// An invoice built line by line; `build` states the summary the lines add up to.
struct Doc {
    inv: CxmlInvoice,
    summary_tax: Option<Money>,
}

fn invoice(id: &str) -> Doc {
    let inv = CxmlInvoice {
        payload_id: Some(format!("{id}@amazon.com").into()),
        timestamp: Some("2025-11-14T10:00:00-08:00".into()),
        from: vec![Credential { domain: "NetworkID".into(), identity: "AN01011737571".into() }],
        header: InvoiceHeader { invoice_id: Some(id.into()), invoice_date: Some("2025-11-14".into()), ..Default::default() },
        orders: vec![InvoiceOrder { info: OrderInfo { order_id: Some("PO-1".into()), ..Default::default() }, items: vec![] }],
        has_summary: true,
        ..Default::default()
    };
    Doc { inv, summary_tax: None }
}

impl Doc {
    fn block(&mut self) -> &mut InvoiceOrder {
        self.inv.orders.last_mut().unwrap()
    }
    fn last(&mut self) -> &mut Item {
        self.block().items.last_mut().unwrap()
    }
    fn po(mut self, po: Option<&str>) -> Self {
        self.block().info.order_id = po.map(Into::into);
        self
    }
    fn amazon(mut self, order_id: &str) -> Self {
        self.block().info.supplier_order_id = Some(order_id.into());
        self
    }
    fn credit(mut self) -> Self {
        self.inv.header.purpose = Purpose::CreditMemo;
        self.inv.header.purpose_raw = Some("creditMemo".into());
        self
    }
    fn delete(mut self) -> Self {
        self.inv.header.operation = Operation::Delete;
        self
    }
    /// A line: invoice line number, `lineNumber` reference, quantity, unit price; its
    /// subtotal is quantity × price.
    fn line(mut self, n: &str, reference: &str, qty: &str, price: &str) -> Self {
        let count = self.inv.item_count();
        let (q, p) = (d(qty), usd(price));
        self.block().items.push(Item {
            invoice_line_number_raw: Some(n.into()),
            invoice_line_number: n.parse().ok(),
            quantity_raw: Some(qty.into()),
            quantity: Some(q),
            unit_of_measure: Some("EA".into()),
            unit_price: Some(p),
            reference_line_number: Some(reference.into()),
            amounts: LineAmounts { subtotal: Some(p.checked_mul(q).unwrap()), ..Default::default() },
            source_line: 10 + count as u32,
            ..Default::default()
        });
        self
    }
    fn subtotal(mut self, s: &str) -> Self {
        self.last().amounts.subtotal = Some(usd(s));
        self
    }
    fn tax(mut self, t: &str) -> Self {
        self.last().amounts.tax = Some(Tax { amount: Some(usd(t)), ..Default::default() });
        self
    }
    fn part(mut self, part: &str) -> Self {
        self.last().supplier_part_id = Some(part.into());
        self
    }
    fn shipping(mut self, s: &str) -> Self {
        self.inv.summary.shipping = Some(usd(s));
        self
    }
    fn summary_tax(mut self, t: &str) -> Self {
        self.summary_tax = Some(usd(t));
        self
    }
    /// Another order block for `po`.
    fn next_block(mut self, po: Option<&str>) -> Self {
        self.inv.orders.push(InvoiceOrder { info: OrderInfo { order_id: po.map(Into::into), ..Default::default() }, items: vec![] });
        self
    }
    fn currency(mut self, code: &str) -> Self {
        let c = Currency::parse(code).unwrap();
        for o in &mut self.inv.orders {
            for i in &mut o.items {
                i.unit_price = i.unit_price.map(|m| Money::new(m.amount, c));
                i.amounts.subtotal = i.amounts.subtotal.map(|m| Money::new(m.amount, c));
            }
        }
        self
    }
    fn build(mut self) -> CxmlInvoice {
        let cur = self.inv.items().find_map(|i| i.amounts.subtotal).map_or(Currency::parse("USD").unwrap(), |m| m.currency);
        let sum = |f: &dyn Fn(&Item) -> Option<Money>| -> Decimal { self.inv.items().filter_map(f).map(|m| m.amount).sum() };
        let subtotal = sum(&|i: &Item| i.amounts.subtotal);
        let line_tax = self.inv.items().any(|i| i.amounts.tax.is_some()).then(|| sum(&|i: &Item| i.amounts.tax_amount()));
        let tax = self.summary_tax.map(|m| m.amount).or(line_tax);
        let shipping = self.inv.summary.shipping.map_or(Decimal::ZERO, |m| m.amount);
        let s = &mut self.inv.summary;
        s.subtotal = Some(Money::new(subtotal, cur));
        s.tax = tax.map(|t| Tax { amount: Some(Money::new(t, cur)), ..Default::default() });
        s.net = Some(Money::new(subtotal + tax.unwrap_or_default() + shipping, cur));
        s.due = s.net;
        self.inv
    }
}

fn index<'a, const N: usize>(pos: [(&'a PurchaseOrder, Option<&'a PlacedOrder>); N]) -> PoIndex<'a> {
    pos.into_iter().collect()
}

fn run(inv: &CxmlInvoice, pos: &[(&PurchaseOrder, Option<&PlacedOrder>)], prior: &[Invoiced], tol: &Tolerances) -> MatchOutcome {
    let idx: PoIndex<'_> = pos.iter().copied().collect();
    match_invoice(inv, &idx, prior, tol)
}

fn codes(o: &MatchOutcome) -> Vec<&'static str> {
    o.exceptions.iter().map(|e| e.code.as_str()).collect()
}

fn statuses(o: &MatchOutcome) -> Vec<(&str, Option<&str>, MatchStatus)> {
    o.lines.iter().map(|l| (l.invoice_line.as_str(), l.po_line.as_deref(), l.status)).collect()
}

fn exact() -> Tolerances {
    Tolerances::EXACT
}

/// Every exception names what it is about: the message carries the found and expected values.
fn assert_explained(o: &MatchOutcome) {
    for e in &o.exceptions {
        assert!(e.message.len() > 30, "{e:?}");
        for v in [&e.expected, &e.found].into_iter().flatten() {
            let bare = v.trim_end_matches(" USD").trim_end_matches(" EUR");
            assert!(e.message.contains(bare), "message does not name {v}: {e:?}");
        }
        if let Some(line) = &e.line {
            assert!(e.message.contains(&format!("invoice line {line}")), "message does not name the line: {e:?}");
        }
    }
}

#[test]
fn an_invoice_that_bills_what_was_ordered_matches() {
    let p = po("PO-1", &[("10", 2, "60.00"), ("20", 5, "4.99")]);
    let inv = invoice("INV-1").line("1", "10", "2", "60.00").line("2", "20", "5", "4.99").build();
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(o.status, MatchStatus::Matched, "{o:#?}");
    assert_eq!(o.po_number.as_deref(), Some("PO-1"));
    assert!(o.exceptions.is_empty());
    assert_eq!(statuses(&o), [("1", Some("10"), MatchStatus::Matched), ("2", Some("20"), MatchStatus::Matched)]);
    assert!(o.is_matched());
}

#[test]
fn line_numbers_compare_by_value_0020_is_20() {
    let p = po("PO-1", &[("0020", 3, "1.00"), ("30", 1, "2.00")]);
    let inv = invoice("INV-1").line("1", "20", "3", "1.00").line("2", "0030", "1", "2.00").build();
    let o = run(&inv, &[(&p, None)], &[], &exact());
    assert!(o.is_matched(), "{o:#?}");
    assert_eq!(statuses(&o), [("1", Some("0020"), MatchStatus::Matched), ("2", Some("30"), MatchStatus::Matched)]);
    // The placed answer's numbers too: `20` in the answer is the PO's `0020`.
    let pl = placed("111-1", &[("20", 3, 0, "1.00"), ("030", 1, 0, "2.00")]);
    let o = run(&inv, &[(&p, Some(&pl))], &[], &exact());
    assert!(o.is_matched(), "{o:#?}");
    // And the prior invoices' keys.
    let before = Invoiced {
        invoice: "NetworkID:AN01011737571#INV-0".into(),
        po_number: "PO-1".into(),
        currency: Currency::parse("USD").unwrap(),
        credit: false,
        lines: vec![InvoicedLine { line_key: "0020".into(), quantity: d("1"), amount: usd("1.00") }],
        subtotal: usd("1.00"),
        tax: usd("0"),
        shipping: usd("0"),
    };
    let o = run(&inv, &[(&p, None)], &[before], &exact());
    assert_eq!(codes(&o), ["over-invoiced"], "{o:#?}");
}

#[test]
fn an_invoice_before_its_po_is_no_po_and_matches_once_the_po_is_there() {
    let inv = invoice("INV-1").amazon("114-5521907-3318242").line("1", "10", "2", "60.00").build();
    let other = po("PO-9", &[("10", 2, "60.00")]);
    let o = run(&inv, &[(&other, None)], &[], &Tolerances::default());
    assert_eq!(o.status, MatchStatus::Exception);
    assert_eq!(o.po_number, None);
    assert_eq!(codes(&o), ["no-po"]);
    let e = &o.exceptions[0];
    assert_eq!(e.line, None);
    assert_eq!(e.found.as_deref(), Some("PO-1"));
    assert!(
        e.message.contains("PO-1") && e.message.contains("114-5521907-3318242") && e.message.contains("match it again"),
        "{}",
        e.message
    );
    assert_eq!(statuses(&o), [("1", None, MatchStatus::Exception)]);
    assert!(invoiced(&inv, &index([(&other, None)])).is_none(), "nothing to persist before the PO");
    assert!(code_invoice(&inv, &index([(&other, None)])).lines.iter().all(Option::is_none));
    // The PO arrives: the same call, with it in the index.
    let p = po("PO-1", &[("10", 2, "60.00")]);
    let o = run(&inv, &[(&other, None), (&p, None)], &[], &Tolerances::default());
    assert!(o.is_matched(), "{o:#?}");
    assert_eq!(o.po_number.as_deref(), Some("PO-1"));
    // No order reference at all.
    let mut bare = invoice("INV-2").po(None).line("1", "10", "1", "60.00").build();
    bare.orders[0].info = OrderInfo::default();
    let o = run(&bare, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["no-po"]);
    assert_eq!(o.exceptions[0].found, None);
}

#[test]
fn the_po_is_found_by_its_amazon_order_id_or_payload_id() {
    let p = po("PO-1", &[("10", 2, "60.00")]);
    let pl = placed("114-5521907-3318242", &[("10", 2, 0, "60.00")]);
    // No PO number on the invoice: the Amazon order id finds it.
    let inv = invoice("INV-1").po(None).amazon("114-5521907-3318242").line("1", "10", "2", "60.00").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &exact());
    assert!(o.is_matched(), "{o:#?}");
    assert_eq!(o.po_number.as_deref(), Some("PO-1"));
    // A PO number the company does not know, but the Amazon order id of one of its POs.
    let inv2 = invoice("INV-2").po(Some("US Ariba Order")).amazon("114-5521907-3318242").line("1", "10", "2", "60.00").build();
    assert_eq!(run(&inv2, &[(&p, Some(&pl))], &[], &exact()).po_number.as_deref(), Some("PO-1"));
    // An order id named only on an accepted portion (a PO split into two Amazon orders).
    let mut split = pl.clone();
    split.lines[0].accepted[0].quantity = 1;
    let portion = AcceptedPortion { order_id: Some("114-0000000-0000002".into()), ..split.lines[0].accepted[0].clone() };
    split.lines[0].accepted.push(portion);
    let inv3 = invoice("INV-3").po(None).amazon(" 114-0000000-0000002 ").line("1", "10", "1", "60.00").build();
    let idx = index([(&p, Some(&split))]);
    assert_eq!(idx.by_amazon_order_id("114-0000000-0000002").map(|e| e.po.po_number.as_str()), Some("PO-1"));
    assert!(match_invoice(&inv3, &idx, &[], &exact()).is_matched());
    // Without the placeOrder answer the Amazon order id is unknown.
    assert_eq!(codes(&run(&inv, &[(&p, None)], &[], &exact())), ["no-po"]);
    // Coupa writes the PO number as the DocumentReference payloadID.
    let mut coupa = invoice("INV-4").po(None).line("1", "10", "2", "60.00").build();
    coupa.orders[0].info.order_payload_id = Some("PO-1".into());
    let idx = index([(&p, None)]);
    assert!(match_invoice(&coupa, &idx, &[], &exact()).is_matched());
    assert_eq!(idx.find(&coupa.orders[0].info).map(|(_, by)| by), Some(FoundBy::PayloadId));
    assert_eq!(idx.find(&inv2.orders[0].info).map(|(_, by)| by), None, "no placed answer in this index");
    assert_eq!(index([(&p, Some(&pl))]).find(&inv2.orders[0].info).map(|(_, by)| by), Some(FoundBy::AmazonOrderId));
}

#[test]
fn the_index_keeps_the_later_version_of_a_po() {
    let old = po("PO-1", &[("10", 2, "60.00")]);
    let new = po(" PO-1 ", &[("10", 3, "60.00")]);
    let idx = index([(&old, None), (&new, None)]);
    assert_eq!(idx.len(), 1);
    assert_eq!(idx.get("PO-1").unwrap().po.lines[0].quantity, 3);
    assert!(!idx.is_empty() && idx.entries().count() == 1);
}

#[test]
fn unknown_lines_and_the_asin_fallback_for_li_references() {
    let mut p = po("PO-1", &[("10", 1, "7.99"), ("20", 1, "5.00"), ("30", 1, "5.00")]);
    p.lines[0].asin = "B01GGKYS6E".into();
    p.lines[2].asin = p.lines[1].asin.clone();
    let inv = invoice("INV-1")
        .line("1", "40", "1", "7.99")
        .line("2", "li_1", "1", "7.99")
        .part("B01GGKYS6E")
        .line("3", "li_2", "1", "5.00")
        .part("B0ASIN20")
        .line("4", "li_3", "1", "5.00")
        .part("B0NOTONPO")
        .line("5", "li_4", "1", "5.00")
        .build();
    let o = run(&inv, &[(&p, None)], &[], &exact());
    assert_eq!(codes(&o), ["unknown-line", "unknown-line", "unknown-line", "unknown-line"], "{o:#?}");
    assert_explained(&o);
    let lines: Vec<_> = o.exceptions.iter().map(|e| e.line.as_deref().unwrap()).collect();
    assert_eq!(lines, ["1", "3", "4", "5"]);
    assert!(o.exceptions[0].message.contains("PO line 40") && o.exceptions[0].message.contains("does not have"));
    assert!(o.exceptions[1].message.contains("several lines"), "{}", o.exceptions[1].message);
    assert!(o.exceptions[2].message.contains("no line of PO PO-1 has its SupplierPartID B0NOTONPO"));
    assert!(o.exceptions[3].message.contains("no SupplierPartID"));
    assert_eq!(
        statuses(&o),
        [
            ("1", None, MatchStatus::Exception),
            ("2", Some("10"), MatchStatus::Matched),
            ("3", None, MatchStatus::Exception),
            ("4", None, MatchStatus::Exception),
            ("5", None, MatchStatus::Exception)
        ]
    );
}

#[test]
fn quantity_tolerance_ariba_default_one_unit_or_five_percent() {
    let p = po("PO-1", &[("10", 10, "1.00"), ("20", 100, "1.00")]);
    let tol = Tolerances::default();
    let m = |q10: &str, q20: &str| {
        let inv = invoice("INV-1").line("1", "10", q10, "1.00").line("2", "20", q20, "1.00").build();
        run(&inv, &[(&p, None)], &[], &tol)
    };
    assert!(m("11", "105").is_matched(), "1 unit over 10, 5 % over 100");
    assert!(m("3", "1").is_matched(), "under-invoicing is no exception");
    let o = m("12", "106");
    assert_eq!(codes(&o), ["over-invoiced", "over-invoiced"], "{o:#?}");
    assert_explained(&o);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("10"));
    assert_eq!(o.exceptions[0].found.as_deref(), Some("12"));
    assert!(o.exceptions[0].message.contains("PO line 10") && o.exceptions[0].message.contains("within 1 or 5 %"));
    // Rule both: 1 unit AND 5 %.
    let both = Tolerances { quantity: Tolerance::new(d("1"), d("5"), Rule::Both), ..Tolerances::default() };
    let inv = invoice("INV-1").line("1", "10", "11", "1.00").line("2", "20", "101", "1.00").build();
    let o = run(&inv, &[(&p, None)], &[], &both);
    assert_eq!(codes(&o), ["over-invoiced"], "11 of 10 is 10 % over; 101 of 100 is within both");
    assert_eq!(o.exceptions[0].line.as_deref(), Some("1"));
    // Percent only, absolute only.
    let pct = Tolerances { quantity: Tolerance::new(d("0"), d("10"), Rule::Either), ..Tolerances::default() };
    assert!(run(&inv, &[(&p, None)], &[], &pct).is_matched());
    let abs = Tolerances { quantity: Tolerance::new(d("0"), d("0"), Rule::Either), ..Tolerances::default() };
    assert_eq!(codes(&run(&inv, &[(&p, None)], &[], &abs)), ["over-invoiced", "over-invoiced"]);
}

#[test]
fn quantity_is_cumulative_over_all_invoices_of_the_po_line() {
    let p = po("PO-1", &[("10", 10, "1.00"), ("20", 5, "1.00")]);
    let idx = index([(&p, None)]);
    let first = invoice("INV-1").line("1", "10", "4", "1.00").build();
    let second = invoice("INV-2").line("1", "10", "4", "1.00").line("2", "20", "5", "1.00").build();
    let mut prior = Vec::new();
    for inv in [&first, &second] {
        assert!(match_invoice(inv, &idx, &prior, &exact()).is_matched());
        prior.push(invoiced(inv, &idx).unwrap());
    }
    // 8 billed before; 2 more is exactly 10.
    let third = invoice("INV-3").line("1", "10", "2", "1.00").build();
    assert!(match_invoice(&third, &idx, &prior, &exact()).is_matched());
    // 3 more is 11: over, naming what came before.
    let third = invoice("INV-3").line("7", "10", "3", "1.00").build();
    let o = match_invoice(&third, &idx, &prior, &exact());
    assert_eq!(codes(&o), ["over-invoiced"]);
    assert_explained(&o);
    let e = &o.exceptions[0];
    assert_eq!((e.expected.as_deref(), e.found.as_deref(), e.line.as_deref()), (Some("10"), Some("11"), Some("7")));
    assert!(e.message.contains("8 before this invoice + 3 on it"), "{}", e.message);
    // Summaries of other POs do not count.
    let mut elsewhere = prior[0].clone();
    elsewhere.po_number = "PO-2".into();
    elsewhere.invoice = "x#other".into();
    let third = invoice("INV-3").line("1", "10", "2", "1.00").build();
    assert!(match_invoice(&third, &idx, &[prior.clone(), vec![elsewhere]].concat(), &exact()).is_matched());
}

#[test]
fn several_lines_of_one_invoice_on_one_po_line_add_up() {
    let p = po("PO-1", &[("10", 5, "1.00")]);
    let inv = invoice("INV-1").line("1", "10", "3", "1.00").line("2", "0010", "3", "1.00").build();
    let o = run(&inv, &[(&p, None)], &[], &exact());
    assert_eq!(codes(&o), ["over-invoiced"]);
    assert_eq!(o.exceptions[0].line.as_deref(), Some("1"), "reported once, on the first line billing it");
    assert_eq!(o.exceptions[0].found.as_deref(), Some("6"));
    assert_eq!(statuses(&o), [("1", Some("10"), MatchStatus::Exception), ("2", Some("10"), MatchStatus::Exception)]);
    let s = invoiced(&inv, &index([(&p, None)])).unwrap();
    assert_eq!(s.lines, [InvoicedLine { line_key: "10".into(), quantity: d("6"), amount: usd("6.00") }]);
}

#[test]
fn matching_the_same_invoice_again_is_idempotent() {
    let p = po("PO-1", &[("10", 10, "1.00")]);
    let idx = index([(&p, None)]);
    let inv = invoice("INV-1").line("1", "10", "10", "1.00").build();
    let first = match_invoice(&inv, &idx, &[], &exact());
    assert!(first.is_matched());
    // Its own summary stored, then matched again (a retry, a re-run when a PO changes).
    let own = invoiced(&inv, &idx).unwrap();
    assert_eq!(own.invoice, "NetworkID:AN01011737571#INV-1");
    assert_eq!(own.invoice, invoice_key_of(&inv));
    let again = match_invoice(&inv, &idx, std::slice::from_ref(&own), &exact());
    assert_eq!(again, first);
    // Another invoice for the same 10 units is over.
    let other = invoice("INV-2").line("1", "10", "10", "1.00").build();
    assert_eq!(codes(&match_invoice(&other, &idx, &[own], &exact())), ["over-invoiced"]);
}

#[test]
fn a_credit_memo_reduces_the_invoiced_quantity_and_is_never_over_invoiced() {
    let p = po("PO-1", &[("10", 10, "1.00")]);
    let idx = index([(&p, None)]);
    let full = invoice("INV-1").line("1", "10", "10", "1.00").build();
    let mut prior = vec![invoiced(&full, &idx).unwrap()];
    // Credit of 4, written as cXML credit memos write it (negative quantity and amounts).
    let cm = invoice("CM-1").credit().line("1", "10", "-4", "1.00").build();
    let o = match_invoice(&cm, &idx, &prior, &exact());
    assert!(o.is_matched(), "{o:#?}");
    let s = invoiced(&cm, &idx).unwrap();
    assert!(s.credit);
    assert_eq!(s.lines, [InvoicedLine { line_key: "10".into(), quantity: d("-4"), amount: usd("-4.00") }]);
    assert_eq!(s.subtotal, usd("-4.00"));
    prior.push(s);
    // The same credit written with a positive quantity counts negative all the same.
    let cm2 = invoice("CM-2").credit().line("1", "10", "4", "1.00").build();
    assert_eq!(invoiced(&cm2, &idx).unwrap().lines[0].quantity, d("-4"));
    // 4 units may be billed again; 5 may not.
    assert!(match_invoice(&invoice("INV-2").line("1", "10", "4", "1.00").build(), &idx, &prior, &exact()).is_matched());
    let o = match_invoice(&invoice("INV-2").line("1", "10", "5", "1.00").build(), &idx, &prior, &exact());
    assert_eq!(codes(&o), ["over-invoiced"]);
    assert!(o.exceptions[0].message.contains("6 before this invoice"), "{}", o.exceptions[0].message);
    // A credit memo over an already over-invoiced line, at another price (a price
    // adjustment): never over-invoiced, no price variance.
    let over =
        vec![Invoiced { lines: vec![InvoicedLine { line_key: "10".into(), quantity: d("30"), amount: usd("30") }], ..prior[0].clone() }];
    let adj = invoice("CM-3").credit().line("1", "10", "-10", "0.25").build();
    assert!(match_invoice(&adj, &idx, &over, &exact()).is_matched());
    // Still checked for unknown lines.
    let cm_unknown = invoice("CM-4").credit().line("1", "99", "-1", "1.00").build();
    assert_eq!(codes(&match_invoice(&cm_unknown, &idx, &prior, &exact())), ["unknown-line"]);
}

#[test]
fn unit_price_both_ways_with_either_and_both_rules() {
    let p = po("PO-1", &[("10", 1, "100.00")]);
    let at = |price: &str, tol: &Tolerances| run(&invoice("INV-1").line("1", "10", "1", price).build(), &[(&p, None)], &[], tol);
    let def = Tolerances::default();
    assert!(at("100.01", &def).is_matched() && at("99.99", &def).is_matched(), "one cent either way");
    let o = at("100.02", &def);
    assert_eq!(codes(&o), ["price-variance"]);
    assert_explained(&o);
    let e = &o.exceptions[0];
    assert_eq!((e.expected.as_deref(), e.found.as_deref()), (Some("100.00 USD"), Some("100.02 USD")));
    assert!(
        e.message.contains("the PO expects") && e.message.contains("+0.02 USD") && e.message.contains("within 0.01 or 0 %"),
        "{}",
        e.message
    );
    let o = at("99.50", &def);
    assert_eq!(codes(&o), ["price-variance"], "below is a variance too");
    assert!(o.exceptions[0].message.contains("-0.50 USD"), "{}", o.exceptions[0].message);
    // A tolerated price difference still counts toward the line amount: these leave the
    // amount loose to look at the price alone.
    let price_only =
        |t: Tolerance| Tolerances { unit_price: t, quantity: Tolerance::EXACT, amount: Tolerance::new(d("0"), d("100"), Rule::Either) };
    // either: 0.01 or 1 % (1.00) → 101.00 is within, 101.01 is not.
    let either = price_only(Tolerance::new(d("0.01"), d("1"), Rule::Either));
    assert!(at("101.00", &either).is_matched() && at("99.00", &either).is_matched());
    assert_eq!(codes(&at("101.01", &either)), ["price-variance"]);
    // both: 2.00 and 1 % → the tighter (1.00) wins.
    let both = price_only(Tolerance::new(d("2.00"), d("1"), Rule::Both));
    assert!(at("101.00", &both).is_matched());
    assert_eq!(codes(&at("101.50", &both)), ["price-variance"]);
    let both_abs = price_only(Tolerance::new(d("0.50"), d("5"), Rule::Both));
    // With the default amount tolerance, a price 1.00 off (within 1 %) is an amount variance.
    assert_eq!(
        codes(&at("101.00", &Tolerances { unit_price: Tolerance::new(d("0"), d("1"), Rule::Either), ..Tolerances::default() })),
        ["amount-variance"]
    );
    assert_eq!(codes(&at("100.60", &both_abs)), ["price-variance"], "within 5 % but not within 0.50");
}

#[test]
fn the_accepted_price_wins_over_the_pos_expected_price() {
    let p = po("PO-1", &[("10", 2, "101.00")]);
    let pl = placed("111-1", &[("10", 2, 0, "7.99")]);
    let inv = invoice("INV-1").line("1", "10", "2", "7.99").build();
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default()).is_matched());
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["price-variance"], "against the PO's 101.00");
    // Two Amazon orders at two prices: the invoice's Amazon order picks the price.
    let mut two = placed("111-1", &[("10", 1, 0, "7.99")]);
    let portion = AcceptedPortion { order_id: Some("111-2".into()), unit_price: Some(usd("8.49")), ..two.lines[0].accepted[0].clone() };
    two.lines[0].accepted.push(portion);
    two.order_ids.push("111-2".into());
    let second = invoice("INV-2").amazon("111-2").line("1", "10", "1", "8.49").build();
    assert!(run(&second, &[(&p, Some(&two))], &[], &Tolerances::default()).is_matched());
    let first = invoice("INV-3").amazon("111-1").line("1", "10", "1", "8.49").build();
    let o = run(&first, &[(&p, Some(&two))], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["price-variance"]);
    assert!(o.exceptions[0].message.contains("Amazon accepted 7.99 USD"), "{}", o.exceptions[0].message);
}

#[test]
fn line_amount_variance_when_the_price_is_within_tolerance() {
    let p = po("PO-1", &[("10", 12, "10.00"), ("20", 1, "10.00")]);
    let inv = invoice("INV-1").line("1", "10", "12", "10.01").line("2", "20", "1", "10.00").subtotal("10.10").build();
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    // Line 1: 12 × 0.01 adds up to 0.12 > 0.05. Line 2: a subtotal of 10.10 for 1 × 10.00.
    assert_eq!(codes(&o), ["amount-variance", "amount-variance"], "{o:#?}");
    assert_explained(&o);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("120.00 USD"));
    assert_eq!(o.exceptions[0].found.as_deref(), Some("120.12 USD"));
    assert!(o.exceptions[0].message.contains("12 × 10.00 USD (the PO's price) is 120.00 USD"), "{}", o.exceptions[0].message);
    // A price variance is the one exception of its line.
    let inv = invoice("INV-1").line("1", "10", "12", "11.00").build();
    assert_eq!(codes(&run(&inv, &[(&p, None)], &[], &Tolerances::default())), ["price-variance"]);
    // Amount tolerance by percent, rule both.
    let tol = Tolerances { amount: Tolerance::new(d("1"), d("0.1"), Rule::Both), ..Tolerances::default() };
    let inv = invoice("INV-1").line("1", "10", "12", "10.01").build();
    assert!(run(&inv, &[(&p, None)], &[], &tol).is_matched(), "0.12 of 120: within 1 and within 0.1 % (0.12)");
}

#[test]
fn tax_against_amazons_accepted_tax_pro_rata() {
    let p = po("PO-1", &[("10", 10, "10.00"), ("20", 1, "5.00")]);
    let pl = charge(
        placed("111-1", &[("10", 10, 0, "10.00"), ("20", 1, 0, "5.00")]),
        0,
        &[("SUBTOTAL", "TAX", "8.00"), ("SHIPPING", "TAX", "0.40")],
    );
    // Half the units: half the tax (8.40 / 2 = 4.20). Line 20 has no accepted tax: 0.
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").tax("4.20").line("2", "20", "1", "5.00").tax("0").build();
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default()).is_matched());
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").tax("4.50").line("2", "20", "1", "5.00").tax("0.40").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["tax-variance", "tax-variance"], "{o:#?}");
    assert_explained(&o);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("4.20 USD"));
    assert!(o.exceptions[0].message.contains("Amazon's accepted tax for 5 of 10 units"), "{}", o.exceptions[0].message);
    // Below is a variance too; within five cents is not.
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").tax("4.16").build();
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default()).is_matched());
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").tax("4.00").build();
    assert_eq!(codes(&run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default())), ["tax-variance"]);
    // Tax only in the summary: compared as a whole.
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").line("2", "20", "1", "5.00").summary_tax("4.20").build();
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default()).is_matched());
    let inv = invoice("INV-1").line("1", "10", "5", "10.00").summary_tax("5.00").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["tax-variance"]);
    assert_eq!(o.exceptions[0].line, None);
    assert_explained(&o);
}

#[test]
fn tax_and_shipping_without_line_charges_are_ceilings_over_all_invoices() {
    let mut p = po("PO-1", &[("10", 10, "10.00")]);
    p.expected.tax = Some(usd("8.00"));
    p.expected.shipping = Some(usd("6.99"));
    let idx = index([(&p, None)]);
    let first = invoice("INV-1").line("1", "10", "5", "10.00").tax("4.00").shipping("6.99").build();
    assert!(match_invoice(&first, &idx, &[], &Tolerances::default()).is_matched());
    let prior = vec![invoiced(&first, &idx).unwrap()];
    assert_eq!((prior[0].tax, prior[0].shipping), (usd("4.00"), usd("6.99")));
    // The second half with its tax: fine; with shipping again: over what the PO expects.
    let second = invoice("INV-2").line("1", "10", "5", "10.00").tax("4.00").build();
    assert!(match_invoice(&second, &idx, &prior, &Tolerances::default()).is_matched());
    let second = invoice("INV-2").line("1", "10", "5", "10.00").tax("4.50").shipping("6.99").build();
    let o = match_invoice(&second, &idx, &prior, &Tolerances::default());
    assert_eq!(codes(&o), ["tax-variance", "shipping-variance"], "{o:#?}");
    assert_explained(&o);
    let ship = &o.exceptions[1];
    assert_eq!((ship.expected.as_deref(), ship.found.as_deref()), (Some("6.99 USD"), Some("13.98 USD")));
    assert!(ship.message.contains("6.99 USD before this invoice") && ship.message.contains("the PO expects"), "{}", ship.message);
    // Less than the ceiling is no exception.
    let cheap = invoice("INV-3").line("1", "10", "1", "10.00").tax("0.10").shipping("1.00").build();
    assert!(match_invoice(&cheap, &idx, &[], &Tolerances::default()).is_matched());
}

#[test]
fn shipping_against_what_amazon_accepted() {
    let p = po("PO-1", &[("10", 2, "10.00"), ("20", 2, "10.00")]);
    let pl = charge(placed("111-1", &[("10", 2, 0, "10.00"), ("20", 2, 0, "10.00")]), 0, &[("SHIPPING", "PRINCIPAL", "6.99")]);
    let pl = charge(pl, 1, &[("SHIPPING", "PRINCIPAL", "5.00"), ("SHIPPING", "DISCOUNT", "-2.00"), ("SHIPPING", "TAX", "0.42")]);
    // Accepted: 6.99 + 5.00 − 2.00 = 9.99.
    let inv = invoice("INV-1").line("1", "10", "2", "10.00").line("2", "20", "2", "10.00").shipping("9.99").build();
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default()).is_matched());
    let inv = invoice("INV-1").line("1", "10", "2", "10.00").shipping("10.99").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["shipping-variance"]);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("9.99 USD"));
    assert!(o.exceptions[0].message.contains("Amazon accepted"), "{}", o.exceptions[0].message);
    // Order-level charges only.
    let mut order_level = placed("111-1", &[("10", 2, 0, "10.00"), ("20", 2, 0, "10.00")]);
    order_level.charges.push(PlacedCharge { category: "SHIPPING".into(), kind: "PRINCIPAL".into(), amount: usd("12.00") });
    assert!(run(&inv, &[(&p, Some(&order_level))], &[], &Tolerances::default()).is_matched());
    // Shipping tolerance is the amount tolerance.
    let loose = Tolerances { amount: Tolerance::new(d("1.00"), d("0"), Rule::Either), ..Tolerances::default() };
    assert!(run(&inv, &[(&p, Some(&pl))], &[], &loose).is_matched());
}

#[test]
fn an_invoice_in_another_currency_is_one_currency_mismatch() {
    let p = po("PO-1", &[("10", 2, "60.00"), ("20", 1, "1.00")]);
    let inv = invoice("INV-1").line("1", "10", "2", "70.00").line("2", "20", "1", "1.00").currency("EUR").build();
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["currency-mismatch"], "no price variance in another currency: {o:#?}");
    assert_explained(&o);
    assert_eq!((o.exceptions[0].expected.as_deref(), o.exceptions[0].found.as_deref()), (Some("USD"), Some("EUR")));
    // Quantities are still compared.
    let inv = invoice("INV-1").line("1", "10", "9", "60.00").currency("EUR").build();
    assert_eq!(codes(&run(&inv, &[(&p, None)], &[], &Tolerances::default())), ["currency-mismatch", "over-invoiced"]);
    // One line in another currency.
    let mut inv = invoice("INV-1").line("1", "10", "2", "60.00").line("2", "20", "1", "1.00").build();
    inv.orders[0].items[1].unit_price = Some(Money::parse("1.00", "EUR").unwrap());
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["currency-mismatch"]);
    assert_eq!(o.exceptions[0].line.as_deref(), Some("2"));
    assert_explained(&o);
}

#[test]
fn lines_amazon_rejected_entirely_and_partially() {
    let p = po("PO-1", &[("10", 5, "1.00"), ("20", 3, "2.00"), ("30", 1, "3.00")]);
    // 10: 3 of 5 accepted; 20: all rejected; 30: not in the answer.
    let pl = placed("111-1", &[("10", 3, 2, "1.00"), ("20", 0, 3, "2.00")]);
    let inv = invoice("INV-1").line("1", "10", "3", "1.00").line("2", "20", "3", "2.00").line("3", "30", "1", "3.00").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &exact());
    assert_eq!(codes(&o), ["po-rejected-line", "po-rejected-line"], "{o:#?}");
    assert_explained(&o);
    assert!(o.exceptions[0].message.contains("rejected all 3"), "{}", o.exceptions[0].message);
    assert!(o.exceptions[1].message.contains("does not list it"), "{}", o.exceptions[1].message);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("0"));
    assert_eq!(o.exceptions[0].found.as_deref(), Some("3"));
    // The accepted quantity, not the ordered one, bounds the billing.
    let inv = invoice("INV-1").line("1", "10", "4", "1.00").build();
    let o = run(&inv, &[(&p, Some(&pl))], &[], &exact());
    assert_eq!(codes(&o), ["over-invoiced"]);
    assert!(o.exceptions[0].message.contains("3 were accepted by Amazon"), "{}", o.exceptions[0].message);
    // Nothing accepted at all.
    let none = placed("111-1", &[("10", 0, 5, "1.00"), ("20", 0, 3, "2.00"), ("30", 0, 1, "3.00")]);
    assert_eq!(none.status, PoStatus::Rejected);
    let inv = invoice("INV-1").line("1", "10", "1", "1.00").build();
    assert_eq!(codes(&run(&inv, &[(&p, Some(&none))], &[], &exact())), ["po-rejected-line"]);
}

#[test]
fn blocks_of_other_pos_and_of_no_known_po() {
    let p1 = po("PO-1", &[("10", 1, "1.00")]);
    let p2 = po("PO-2", &[("10", 1, "1.00")]);
    let inv = invoice("INV-1")
        .line("1", "10", "1", "1.00")
        .next_block(Some("PO-2"))
        .line("2", "10", "1", "1.00")
        .next_block(Some("PO-404"))
        .line("3", "10", "1", "1.00")
        .build();
    let o = run(&inv, &[(&p1, None), (&p2, None)], &[], &exact());
    assert_eq!(o.po_number.as_deref(), Some("PO-1"));
    assert_eq!(codes(&o), ["no-po", "unknown-line"], "{o:#?}");
    assert_explained(&o);
    assert!(o.exceptions[0].message.contains("order block 3") && o.exceptions[0].message.contains("PO-404"));
    assert!(o.exceptions[1].message.contains("belongs to PO PO-2"));
    assert_eq!(
        statuses(&o),
        [("1", Some("10"), MatchStatus::Matched), ("2", None, MatchStatus::Exception), ("3", None, MatchStatus::Exception)]
    );
    let s = invoiced(&inv, &index([(&p1, None), (&p2, None)])).unwrap();
    assert_eq!(s.lines.len(), 1, "only PO-1's line is PO-1's");
}

#[test]
fn a_cancellation_needs_its_po_only_and_takes_the_quantities_back() {
    let p = po("PO-1", &[("10", 10, "1.00")]);
    let idx = index([(&p, None)]);
    let original = invoice("INV-1").line("1", "10", "10", "1.00").build();
    let mut store = vec![invoiced(&original, &idx).unwrap()];
    let cancel = invoice("INV-1").delete().line("1", "10", "10", "1.00").build();
    let o = match_invoice(&cancel, &idx, &store, &exact());
    assert!(o.is_matched(), "{o:#?}");
    let s = invoiced(&cancel, &idx).unwrap();
    assert!(s.lines.is_empty() && s.subtotal.is_zero());
    // Stored under the same key, it replaces the original's summary.
    assert_eq!(s.invoice, store[0].invoice);
    store[0] = s;
    let again = invoice("INV-2").line("1", "10", "10", "1.00").build();
    assert!(match_invoice(&again, &idx, &store, &exact()).is_matched());
    // A cancellation without its PO is no-po, like any invoice.
    assert_eq!(codes(&match_invoice(&cancel, &PoIndex::new(), &[], &exact())), ["no-po"]);
}

fn sample(name: &str) -> CxmlInvoice {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples").join(name);
    let c = crate::invoice::check(&std::fs::read(p).unwrap(), &Limits::default());
    assert!(c.is_valid(), "{name}: {:?}", c.issues);
    c.invoice.unwrap()
}

/// The Appendix 2 invoice of the Ordering API e-invoicing guide against the PO and the
/// `placeOrder` answer of the same guide.
#[test]
fn the_ordering_api_guide_invoice_matches_its_placed_order() {
    let inv = sample("s00-spec-amazon-business-appendix2.xml");
    let mut p = po("US Ariba Order", &[("12345", 1, "101")]);
    p.lines[0].asin = "B01GGKYS6E".into();
    let pl = charge(
        placed("113-1746647-0749053", &[("12345", 1, 0, "7.99")]),
        0,
        &[("SHIPPING", "PRINCIPAL", "6.99"), ("SHIPPING", "TAX", "0.42"), ("SUBTOTAL", "TAX", "0.48")],
    );
    let o = run(&inv, &[(&p, Some(&pl))], &[], &Tolerances::default());
    // `li_1` is no PO line number: the line is found by its ASIN. Price 7.99, tax 0.90
    // (0.48 + 0.42), shipping 6.99: as accepted.
    assert!(o.is_matched(), "{o:#?}");
    assert_eq!(statuses(&o), [("1", Some("12345"), MatchStatus::Matched)]);
    // Against the PO's expectations only (101 per unit expected): a price variance.
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(codes(&o), ["price-variance"], "{o:#?}");
    assert_explained(&o);
}

#[test]
fn a_header_level_invoice_is_bounded_by_the_goods() {
    // s06: a header-level credit memo for PO-77120.
    let cm = sample("s06-header-level-credit-memo.xml");
    let p = po("PO-77120", &[("1", 10, "10.00")]);
    let idx = index([(&p, None)]);
    let o = match_invoice(&cm, &idx, &[], &exact());
    assert!(o.is_matched(), "{o:#?}");
    assert!(o.lines.is_empty());
    let s = invoiced(&cm, &idx).unwrap();
    assert!(s.credit && s.subtotal.is_negative(), "{s:?}");
    // A header-level invoice billing more than the goods ordered.
    let mut inv = invoice("INV-H").build();
    inv.orders.clear();
    inv.header_orders.push(HeaderOrder {
        info: OrderInfo { order_id: Some("PO-77120".into()), ..Default::default() },
        amounts: Amounts { subtotal: Some(usd("100.00")), ..Default::default() },
        ..Default::default()
    });
    inv.summary.subtotal = Some(usd("100.00"));
    assert!(match_invoice(&inv, &idx, &[], &exact()).is_matched());
    inv.header_orders[0].amounts.subtotal = Some(usd("100.10"));
    let o = match_invoice(&inv, &idx, &[], &exact());
    assert_eq!(codes(&o), ["amount-variance"]);
    assert_eq!(o.exceptions[0].expected.as_deref(), Some("100.00 USD"));
    assert_explained(&o);
}

#[test]
fn the_outcome_serializes_as_documented() {
    let p = po("PO-1", &[("10", 2, "60.00")]);
    let inv = invoice("INV-1").line("1", "10", "2", "61.50").line("2", "99", "1", "1.00").build();
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    let v = serde_json::to_value(&o).unwrap();
    assert_eq!(v["status"], "Exception");
    assert_eq!(v["po_number"], "PO-1");
    assert_eq!(v["exceptions"][0]["code"], "price-variance");
    assert_eq!(v["exceptions"][0]["line"], "1");
    assert_eq!(v["exceptions"][0]["expected"], "60.00 USD");
    assert_eq!(v["exceptions"][0]["found"], "61.50 USD");
    assert!(v["exceptions"][0]["message"].as_str().unwrap().contains("61.50"));
    assert_eq!(v["exceptions"][1]["code"], "unknown-line");
    assert_eq!(v["exceptions"][1]["expected"], serde_json::Value::Null);
    assert_eq!(
        v["lines"],
        serde_json::json!([
            {"invoice_line": "1", "po_line": "10", "status": "Exception"},
            {"invoice_line": "2", "po_line": null, "status": "Exception"}
        ])
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
    let e: Vec<&String> = v["exceptions"][0].as_object().unwrap().keys().collect();
    assert_eq!(e.len(), 5);
    let back: MatchOutcome = serde_json::from_value(v).unwrap();
    assert_eq!(back, o);
    let ok = run(&invoice("INV-1").line("1", "10", "2", "60.00").build(), &[(&p, None)], &[], &Tolerances::default());
    assert_eq!(serde_json::to_value(&ok).unwrap()["status"], "Matched");
    // Invoice lines without invoiceLineNumber are named by position.
    let mut inv = invoice("INV-1").line("1", "10", "2", "60.00").build();
    inv.orders[0].items[0].invoice_line_number_raw = None;
    assert_eq!(run(&inv, &[(&p, None)], &[], &Tolerances::default()).lines[0].invoice_line, "#1");
}

/// Each code, from one scenario above in small: the list of codes is what the matching
/// produces.
#[test]
fn every_code_is_produced() {
    let mut p = po("PO-1", &[("10", 2, "10.00"), ("20", 1, "5.00"), ("30", 1, "1.00")]);
    p.expected.shipping = Some(usd("1.00"));
    let pl =
        charge(placed("111-1", &[("10", 2, 0, "10.00"), ("20", 0, 1, "5.00"), ("30", 1, 0, "1.00")]), 0, &[("SUBTOTAL", "TAX", "1.00")]);
    let tol = Tolerances::default();
    let case = |code: MatchCode| -> MatchOutcome {
        let b = invoice("INV-1");
        let inv = match code {
            MatchCode::NoPo => b.po(Some("PO-404")).line("1", "10", "1", "10.00").build(),
            MatchCode::UnknownLine => b.line("1", "40", "1", "10.00").build(),
            MatchCode::OverInvoiced => b.line("1", "10", "4", "10.00").build(),
            MatchCode::PriceVariance => b.line("1", "10", "1", "11.00").build(),
            MatchCode::AmountVariance => b.line("1", "10", "1", "10.00").subtotal("10.50").build(),
            MatchCode::TaxVariance => b.line("1", "10", "1", "10.00").tax("0.90").build(),
            MatchCode::ShippingVariance => b.line("1", "10", "1", "10.00").shipping("5.00").build(),
            MatchCode::CurrencyMismatch => b.line("1", "10", "1", "10.00").currency("EUR").build(),
            MatchCode::PoRejectedLine => b.line("1", "20", "1", "5.00").build(),
        };
        run(&inv, &[(&p, Some(&pl))], &[], &tol)
    };
    for code in MatchCode::iter() {
        let o = case(code);
        assert_eq!(o.codes(), [code], "{code}: {o:#?}");
        assert_eq!(o.status, MatchStatus::Exception);
        assert_explained(&o);
    }
    assert!(run(&invoice("INV-1").line("1", "10", "1", "10.00").tax("0.50").build(), &[(&p, Some(&pl))], &[], &tol).is_matched());
}

#[test]
fn invoice_lines_take_their_gl_coding_from_the_po_and_the_journal_stays_balanced() {
    let mut p = po("PO-1", &[("10", 3, "10.00"), ("20", 1, "5.00")]);
    let seg = |id: &str, kind: &str| Segment { id: id.into(), kind: kind.into(), description: None };
    p.lines[0].distributions = vec![
        Distribution { accounting_name: "Acme".into(), charge: usd("20.00"), segments: vec![seg("6100", "GL"), seg("001", "DeptId")] },
        Distribution { accounting_name: "Acme".into(), charge: usd("10.00"), segments: vec![seg("002", "DeptId")] },
    ];
    let idx = index([(&p, None)]);
    let mut inv = invoice("INV-1").line("1", "10", "1", "10.00").line("2", "20", "1", "5.00").shipping("2.00").build();
    inv.orders[0].items[0].extrinsics.push(Extrinsic { name: "category".into(), value: "OFFICE_PRODUCTS".into() });
    let coding = code_invoice(&inv, &idx);
    assert_eq!(coding.lines.len(), 2);
    let c = coding.line(0).unwrap();
    assert_eq!((c.invoice_line.as_str(), c.po_line.as_str(), c.amount), ("1", "10", usd("10.00")));
    let parts: Vec<_> = c.splits.iter().map(|s| (s.account.as_deref(), s.amount.amount.to_string())).collect();
    assert_eq!(parts, [(Some("6100"), "6.67".to_string()), (None, "3.33".to_string())]);
    assert!(coding.line(1).is_none(), "PO line 20 has no distributions");

    let (issues, totals) = validate(&inv);
    assert!(issues.is_empty(), "{issues:?}");
    let totals = totals.unwrap();
    let coded = journal_coded(&inv, &totals, &Chart::default(), &coding);
    let acc: Vec<(&str, Side, String, Vec<String>)> =
        coded.iter().map(|l| (l.account.as_str(), l.side, l.amount.amount.to_string(), l.segments.clone())).collect();
    assert_eq!(
        acc,
        vec![
            ("6100", Side::Debit, "6.67".into(), vec!["GL=6100".to_string(), "DeptId=001".into()]),
            ("6000-expense:OFFICE_PRODUCTS", Side::Debit, "3.33".into(), vec!["DeptId=002".to_string()]),
            ("6000-expense:uncategorized", Side::Debit, "5.00".into(), vec![]),
            ("6100-freight-in", Side::Debit, "2.00".into(), vec![]),
            ("2000-accounts-payable", Side::Credit, "17.00".into(), vec![]),
        ]
    );
    let (dr, cr) = balance(&coded, totals.currency);
    assert_eq!(dr, cr);
    // Without coding: the journal as before; an empty coding changes nothing either.
    let plain = journal(&inv, &totals, &Chart::default());
    assert_eq!(journal_coded(&inv, &totals, &Chart::default(), &InvoiceCoding::default()), plain);
    assert_eq!(plain[0].account, "6000-expense:OFFICE_PRODUCTS");
    assert_eq!(plain[0].amount, usd("10.00"));
    // A coding that does not add up to the line is not used.
    let mut wrong = coding.clone();
    wrong.lines[0].as_mut().unwrap().splits[0].amount = usd("1.00");
    assert_eq!(journal_coded(&inv, &totals, &Chart::default(), &wrong), plain);
}

#[test]
fn a_credit_memo_is_coded_negative_and_reverses() {
    let mut p = po("PO-1", &[("10", 3, "10.00")]);
    p.lines[0].distributions = vec![
        Distribution {
            accounting_name: "A".into(),
            charge: usd("1"),
            segments: vec![Segment { id: "6100".into(), kind: "GLAccount".into(), description: None }],
        },
        Distribution {
            accounting_name: "B".into(),
            charge: usd("2"),
            segments: vec![Segment { id: "6200".into(), kind: "GLAccount".into(), description: None }],
        },
    ];
    let idx = index([(&p, None)]);
    let cm = invoice("CM-1").credit().line("1", "10", "-1", "10.00").build();
    let coding = code_invoice(&cm, &idx);
    let amounts: Vec<String> = coding.line(0).unwrap().splits.iter().map(|s| s.amount.amount.to_string()).collect();
    assert_eq!(amounts, ["-3.33", "-6.67"]);
    let (issues, totals) = validate(&cm);
    assert!(issues.is_empty(), "{issues:?}");
    let lines = journal_coded(&cm, &totals.unwrap(), &Chart::default(), &coding);
    let sides: Vec<(&str, Side)> = lines.iter().map(|l| (l.account.as_str(), l.side)).collect();
    assert_eq!(sides, [("6100", Side::Credit), ("6200", Side::Credit), ("2000-accounts-payable", Side::Debit)]);
    let (dr, cr) = balance(&lines, Currency::parse("USD").unwrap());
    assert_eq!(dr, cr);
}

#[test]
fn a_large_invoice_matches_line_by_line() {
    // The benchmark's shape, small: the generator's invoice with numeric line references.
    let doc = invoice_testgen::large_invoice(300).replace("lineNumber=\"li_", "lineNumber=\"");
    let c = crate::invoice::check(doc.as_bytes(), &Limits::default());
    assert!(c.is_valid());
    let inv = c.invoice.unwrap();
    let mut p = po("PO-2025-10000", &[]);
    for item in inv.items() {
        let q = item.quantity.unwrap();
        let mut l = po_line(item.reference_line_number.as_deref().unwrap(), u32::try_from(q.mantissa()).unwrap(), "0");
        l.expected_unit_price = item.unit_price.unwrap();
        p.lines.push(l);
    }
    let o = run(&inv, &[(&p, None)], &[], &Tolerances::default());
    assert!(o.is_matched(), "{:?}", &o.exceptions[..o.exceptions.len().min(3)]);
    assert_eq!(o.lines.len(), 300);
}
