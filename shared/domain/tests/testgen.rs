//! The generated benchmark documents are valid and exact (the generator lives in its own
//! dev crate, `invoice-testgen`, outside every Lambda).

use invoice_domain::invoice::check;
use invoice_domain::invoice::cxml::Limits;
use invoice_testgen::{large_invoice, small_corpus};
use rust_decimal::Decimal;

fn assert_valid(lines: usize) -> usize {
    let doc = large_invoice(lines);
    let checked = check(doc.as_bytes(), &Limits::default());
    assert!(checked.is_valid(), "{lines}-line invoice: {:?}", checked.issues);
    let inv = checked.invoice.expect("invoice");
    assert_eq!(inv.item_count(), lines);
    doc.len()
}

#[test]
fn ten_lines_are_valid() {
    assert_valid(10);
}

#[test]
fn thousand_lines_are_valid() {
    assert_valid(1000);
}

#[test]
fn ten_thousand_lines_are_valid_and_about_9_mb() {
    let len = assert_valid(10_000);
    let mb = len as f64 / 1_000_000.0;
    assert!((7.5..=10.5).contains(&mb), "10,000-line invoice is {mb:.2} MB");
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(large_invoice(50), large_invoice(50));
}

#[test]
fn line_amounts_are_exact() {
    let checked = check(large_invoice(200).as_bytes(), &Limits::default());
    let inv = checked.invoice.expect("invoice");
    for item in inv.items() {
        let price = item.unit_price.expect("price").amount;
        let qty = item.quantity.expect("quantity");
        assert_eq!(price * qty, item.amounts.subtotal.expect("subtotal").amount);
        let tax = item.amounts.tax.as_ref().expect("tax");
        assert_eq!(tax.details.len(), 2);
        let sum: Decimal = tax.details.iter().map(|d| d.tax_amount.expect("detail").amount).sum();
        assert_eq!(sum, tax.amount.expect("tax amount").amount);
    }
}

#[test]
fn small_corpus_is_valid() {
    let corpus = small_corpus();
    assert_eq!(corpus.len(), 7);
    for doc in &corpus {
        let checked = check(doc, &Limits::default());
        assert!(checked.is_valid(), "{:?}", checked.issues);
    }
}
