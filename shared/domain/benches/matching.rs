//! Matching throughput of `invoice_domain::matching`.
//!
//! The company: ten POs of 10,000 lines each, every one placed with Amazon (accepted
//! quantity, unit price, subtotal and tax charges per line, shipping on the first line, two
//! accounting distributions per line); 50 earlier invoices of 200 lines each against the
//! invoice's PO (one unit of every PO line in all) and 100 earlier invoices of 1,000 lines
//! against the other POs. The invoice: the generator's 10,000-line Amazon Business invoice
//! (`invoice_testgen::large_invoice`) with numeric PO line references, parsed beforehand.
//!
//! - `matching/match_10000_lines`: `match_invoice` alone (the index built once).
//! - `matching/index_match_invoiced_coding_10000_lines`: building the index of the ten POs,
//!   the match, the invoice's `Invoiced` summary and its GL coding.
//!
//! Run: `cargo bench -p invoice-domain --bench matching` (about 15 s once built).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use invoice_domain::core::money::{Currency, Money};
use invoice_domain::invoice::cxml::{CxmlInvoice, Limits};
use invoice_domain::matching::{code_invoice, invoiced, match_invoice, Invoiced, InvoicedLine, PoIndex, Tolerances};
use invoice_domain::ordering::line_key;
use invoice_domain::ordering::placed::{AcceptedPortion, PlacedCharge, PlacedLine, PlacedOrder, PoStatus};
use invoice_domain::ordering::po::{Address, Distribution, Expected, PoLine, PurchaseOrder, Segment};
use rust_decimal::Decimal;

const LINES: usize = 10_000;
const TARGET_PO: &str = "PO-2025-10000";

fn the_invoice() -> CxmlInvoice {
    let doc = invoice_testgen::large_invoice(LINES).replace("lineNumber=\"li_", "lineNumber=\"");
    let checked = invoice_domain::invoice::check(doc.as_bytes(), &Limits::default());
    assert!(checked.is_valid(), "the generated invoice must be valid");
    checked.invoice.expect("invoice")
}

fn charge(category: &str, kind: &str, amount: Money) -> PlacedCharge {
    PlacedCharge { category: category.into(), kind: kind.into(), amount }
}

/// A PO (and its placeOrder answer) for every line of `inv`, twice the invoiced quantity
/// accepted at the invoiced price, with twice the invoiced tax.
fn po_for(inv: &CxmlInvoice, number: &str, amazon_order: &str) -> (PurchaseOrder, PlacedOrder) {
    let usd = Currency::parse("USD").expect("USD");
    let mut lines = Vec::with_capacity(LINES);
    let mut placed = Vec::with_capacity(LINES);
    for (i, item) in inv.items().enumerate() {
        let n = item.reference_line_number.as_deref().expect("lineNumber").to_string();
        let qty = u32::try_from(item.quantity.expect("quantity").mantissa()).expect("whole") * 2;
        let price = item.unit_price.expect("price");
        let subtotal = price.checked_mul(Decimal::from(qty)).expect("subtotal");
        let seg = |id: String, kind: &str| Segment { id, kind: kind.into(), description: None };
        let half = Money::new(subtotal.amount / Decimal::TWO, usd);
        lines.push(PoLine {
            key: line_key(&n).expect("numeric"),
            line_number: n.clone(),
            asin: item.supplier_part_id.as_deref().unwrap_or_default().to_string(),
            quantity: qty,
            expected_unit_price: price,
            expected_subtotal: subtotal,
            category: None,
            sub_category: None,
            distributions: vec![
                Distribution {
                    accounting_name: "Northwind".into(),
                    charge: half,
                    segments: vec![seg("6100".into(), "GL"), seg(format!("D{}", i % 40), "DeptId")],
                },
                Distribution {
                    accounting_name: "Northwind".into(),
                    charge: half,
                    segments: vec![seg("6200".into(), "GL"), seg(format!("P{}", i % 7), "Project")],
                },
            ],
        });
        let tax = item.amounts.tax_amount().expect("tax");
        let mut charges =
            vec![charge("SUBTOTAL", "PRINCIPAL", subtotal), charge("SUBTOTAL", "TAX", Money::new(tax.amount * Decimal::TWO, usd))];
        if i == 0 {
            charges.push(charge("SHIPPING", "PRINCIPAL", inv.summary.shipping.expect("shipping")));
        }
        placed.push(PlacedLine {
            line_number: n,
            accepted: vec![AcceptedPortion {
                quantity: qty,
                unit_price: Some(price),
                charges,
                order_id: Some(amazon_order.into()),
                delivery: None,
                other: vec![],
            }],
            rejected: vec![],
        });
    }
    let po = PurchaseOrder {
        po_number: number.into(),
        external_id: format!("northwind-{number}"),
        currency: usd,
        buying_group_id: "BG-1".into(),
        buyer_email: "buyer@northwind.example".into(),
        region: "US".into(),
        ship_to: Address::default(),
        bill_to: Address::default(),
        expected: Expected { subtotal: None, tax: None, shipping: None },
        requested_delivery_date: None,
        lines,
    };
    let placed = PlacedOrder {
        status: PoStatus::Placed,
        lines: placed,
        order_ids: vec![amazon_order.into()],
        charges: vec![],
        other: vec![],
        rejections: vec![],
    };
    (po, placed)
}

/// Earlier invoices: `count` of `lines` lines each, one unit per line, spread over the PO.
fn prior_invoices(po: &PurchaseOrder, count: usize, lines: usize, tag: &str) -> Vec<Invoiced> {
    (0..count)
        .map(|k| {
            let mut billed = Vec::with_capacity(lines);
            for j in 0..lines {
                let l = &po.lines[(k * lines + j) % po.lines.len()];
                billed.push(InvoicedLine { line_key: l.key.clone(), quantity: Decimal::ONE, amount: l.expected_unit_price });
            }
            let zero = Money::zero(po.currency);
            Invoiced {
                invoice: format!("NetworkID:AN01011737571#{tag}-{k}"),
                po_number: po.po_number.clone(),
                currency: po.currency,
                credit: false,
                lines: billed,
                subtotal: zero,
                tax: zero,
                shipping: zero,
            }
        })
        .collect()
}

fn matching(c: &mut Criterion) {
    let inv = the_invoice();
    let mut pos = vec![po_for(&inv, TARGET_PO, "114-5521907-3318242")];
    for k in 1..10 {
        pos.push(po_for(&inv, &format!("PO-2025-2{k:04}"), &format!("114-0000000-{k:07}")));
    }
    let mut prior = prior_invoices(&pos[0].0, 50, 200, "EARLIER");
    for (k, (po, _)) in pos.iter().enumerate().skip(1) {
        prior.extend(prior_invoices(po, 11, 1_000, &format!("OTHER{k}")));
    }
    let tolerances = Tolerances::default();
    let index: PoIndex<'_> = pos.iter().map(|(po, placed)| (po, Some(placed))).collect();
    let outcome = match_invoice(&inv, &index, &prior, &tolerances);
    assert!(outcome.is_matched(), "the benchmark invoice must match: {:?}", &outcome.exceptions[..outcome.exceptions.len().min(3)]);
    assert_eq!(outcome.lines.len(), LINES);
    let prior_lines: usize = prior.iter().map(|p| p.lines.len()).sum();
    eprintln!("{} POs of {LINES} lines, {} earlier invoices ({prior_lines} lines), a {LINES}-line invoice", pos.len(), prior.len());

    let mut group = c.benchmark_group("matching");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("match_10000_lines", |b| {
        b.iter(|| {
            let o = match_invoice(black_box(&inv), &index, black_box(&prior), &tolerances);
            black_box(o.is_matched())
        })
    });
    group.bench_function("index_match_invoiced_coding_10000_lines", |b| {
        b.iter(|| {
            let index: PoIndex<'_> = pos.iter().map(|(po, placed)| (po, Some(placed))).collect();
            let o = match_invoice(black_box(&inv), &index, black_box(&prior), &tolerances);
            let s = invoiced(&inv, &index).expect("summary");
            let coding = code_invoice(&inv, &index);
            black_box((o.is_matched(), s.lines.len(), coding.lines.len()))
        })
    });
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
