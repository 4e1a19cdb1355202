//! An imported invoice as the matching engine reads invoices: [`as_cxml`] gives the parsed
//! cXML model ([`CxmlInvoice`]) of an Amazon Business invoice from its stored records, so that
//! [`crate::matching::match_invoice`] (and [`crate::matching::match_and_record`]) match it
//! against the company's POs exactly as they match its cXML e-invoices. Pure.
//!
//! # What the engine finds there
//!
//! - The header: the invoice number, date, purpose (`standard` or `creditMemo`, as stored)
//!   and operation `new`; the `From` credential of [`crate::import::AMAZON_BUSINESS_SUPPLIER`]
//!   (the record's supplier), so the invoice's key in matching
//!   ([`crate::matching::invoice_key_of`]) is its stored key and a match run again skips its
//!   own billed summary.
//! - One order block per (PO number, Amazon order id) of its lines, in the order the lines
//!   first name them: `OrderReference@orderID` is the buyer's PO number
//!   (`purchaseOrderNumber`), `SupplierOrderInfo@orderID` the Amazon order id. A line
//!   without a PO number still finds its PO by its Amazon order id, among those the PO was
//!   placed as ([`crate::matching::PoIndex::find`]).
//! - Per line: `invoiceLineNumber` (the stored line number), quantity, unit price, the PO
//!   line (`InvoiceDetailItemReference@lineNumber` = `purchaseOrderLineItemId`; when it is
//!   absent or not a number the engine finds the PO line by the ASIN, `SupplierPartID`),
//!   description, UNSPSC, and its amounts: subtotal (the principal), tax, shipping, special
//!   handling (gift wrap + regulatory fee) and discount.
//! - The summary: the record's subtotal, tax, shipping, special handling, discount, net and
//!   due.
//!
//! Amounts keep their stored sign (a credit memo's are negative): the engine counts a credit
//! memo negative whatever sign it is written with. A value that cannot be read (which the
//! import never stores) is left out, as the parser leaves out what it cannot read.

use rust_decimal::Decimal;

use super::mapping::ImportedInvoice;
use crate::core::money::{parse_amount, Currency, Money};
use crate::invoice::cxml::model::{
    Amounts, Credential, CxmlInvoice, InvoiceHeader, InvoiceOrder, Item, ItemKind, LineAmounts, Operation, OrderInfo, OtherAmounts,
    Purpose, Tax, Text,
};
use crate::invoice::records::{Channel, InvoiceRecord, LineRecord};

/// The imported invoice as the matching engine reads it.
pub fn as_cxml(imp: &ImportedInvoice) -> CxmlInvoice {
    stored_as_cxml(&imp.record, &imp.lines)
}

/// Whether a stored invoice is an Amazon Business import (its archive is the imported JSON,
/// not a cXML document): matched again from its records ([`stored_as_cxml`]). A cXML
/// invoice the import completed keeps its channel and its cXML archive.
pub fn is_imported(header: &InvoiceRecord) -> bool {
    header.source.channel == Channel::Import
}

/// A stored imported invoice (its header and its lines, as `get_lines` reads them back) as the
/// matching engine reads it: what [`as_cxml`] gives for the invoice it was stored from.
pub fn stored_as_cxml(record: &InvoiceRecord, lines: &[LineRecord]) -> CxmlInvoice {
    let cur = Currency::parse(&record.currency).ok();
    let money = |text: &str, cur: Option<Currency>| -> Option<Money> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        Some(Money::new(parse_amount(t).ok()?, cur?))
    };
    let opt = |text: Option<&String>, cur: Option<Currency>| text.and_then(|t| money(t, cur));

    let mut orders: Vec<InvoiceOrder> = Vec::new();
    let mut sorted: Vec<&LineRecord> = lines.iter().collect();
    sorted.sort_by_key(|l| l.line_number);
    for l in sorted {
        let po = text_of(l.po_number.as_deref());
        let amazon_order = text_of(l.supplier_order_id.as_deref());
        let block = match orders.iter().position(|o| o.info.order_id == po && o.info.supplier_order_id == amazon_order) {
            Some(b) => b,
            None => {
                orders.push(InvoiceOrder {
                    info: OrderInfo { order_id: po, supplier_order_id: amazon_order, ..OrderInfo::default() },
                    items: Vec::new(),
                });
                orders.len() - 1
            }
        };
        let line_cur = Currency::parse(&l.currency).ok().or(cur);
        let amazon = l.amazon.as_ref();
        let charge = |f: fn(&super::purchase::AmazonLine) -> Option<&String>| opt(amazon.and_then(f), line_cur);
        let special = sum(charge(|a| a.gift_wrap.as_ref()), charge(|a| a.regulatory_fee.as_ref()));
        let other = OtherAmounts {
            shipping: charge(|a| a.shipping.as_ref()),
            special_handling: special,
            discount: charge(|a| a.discount.as_ref()),
            ..OtherAmounts::default()
        };
        let has_other = other != OtherAmounts::default();
        let quantity = l.quantity.as_deref().and_then(|q| q.trim().parse::<Decimal>().ok());
        let item = Item {
            kind: if l.kind.trim().eq_ignore_ascii_case("service") { ItemKind::Service } else { ItemKind::Goods },
            invoice_line_number_raw: Some(l.line_number.to_string().into()),
            invoice_line_number: Some(l.line_number),
            quantity_raw: l.quantity.as_deref().map(Text::from),
            quantity,
            unit_of_measure: l.unit_of_measure.as_deref().map(Text::from),
            unit_price: opt(l.unit_price.as_ref(), line_cur),
            reference_line_number: text_of(l.reference_line_number.as_deref()),
            supplier_part_id: text_of(l.supplier_part_id.as_deref()),
            description: l.description.as_deref().map(Text::from),
            classifications: l
                .classification
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .map(|(domain, value)| (Text::from(domain), Text::from(value)))
                .into_iter()
                .collect(),
            amounts: LineAmounts {
                subtotal: opt(l.subtotal.as_ref(), line_cur),
                tax: opt(l.tax.as_ref(), line_cur).map(|amount| Tax { amount: Some(amount), ..Tax::default() }),
                other: has_other.then(|| Box::new(other)),
                unreadable: false,
            },
            ..Item::default()
        };
        orders[block].items.push(item);
    }

    let (domain, identity) = record.supplier.split_once(':').unwrap_or(("", record.supplier.as_str()));
    let purpose = Purpose::parse(&record.purpose).unwrap_or_default();
    let amount = |text: &str| money(text, cur);
    CxmlInvoice {
        from: vec![Credential { domain: domain.into(), identity: identity.into() }],
        header: InvoiceHeader {
            invoice_id: Some(record.invoice_id.as_str().into()),
            purpose_raw: Some(purpose.as_str().into()),
            purpose,
            operation_raw: Some(Operation::New.as_str().into()),
            operation: Operation::New,
            invoice_date: Some(record.invoice_date.as_str().into()),
            is_tax_in_line: true,
            ..InvoiceHeader::default()
        },
        orders,
        summary: Amounts {
            subtotal: amount(&record.subtotal),
            tax: amount(&record.tax).map(|amount| Tax { amount: Some(amount), ..Tax::default() }),
            special_handling: amount(&record.special_handling),
            shipping: amount(&record.shipping),
            discount: amount(&record.discount),
            net: amount(&record.net),
            due: amount(&record.due),
            ..Amounts::default()
        },
        has_summary: true,
        ..CxmlInvoice::default()
    }
}

/// A reference as the engine reads one: trimmed, `None` when empty.
fn text_of(s: Option<&str>) -> Option<Text> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(Text::from)
}

fn sum(a: Option<Money>, b: Option<Money>) -> Option<Money> {
    match (a, b) {
        (Some(a), Some(b)) => a.checked_add(&b).ok(),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;
    use crate::import::answer::{Transaction, TransactionLine, TransactionType};
    use crate::import::mapping::{map_invoice, ImportContext, InvoiceSource};
    use crate::import::settings::ImportSettings;
    use crate::invoice::accounting::Chart;
    use crate::invoice::cxml::model::Purpose;
    use crate::matching::{index_of, invoice_key_of, invoiced, match_invoice, MatchCode, MatchStatus, PoIndex, Tolerances};
    use crate::ordering::placed::{AcceptedPortion, PlacedCharge, PlacedLine, PlacedOrder, PoStatus};
    use crate::ordering::po::{Address, Expected, PoLine, PurchaseOrder};

    const AMAZON_ORDER: &str = "114-5521907-3318242";

    fn usd(a: &str) -> Money {
        Money::parse(a, "USD").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// PO-4711 of the ordering fixtures: line 10 (2 × B000000001 at 60.00), line 0020
    /// (1 × B0000000T2 at 89.99).
    fn po() -> PurchaseOrder {
        let line = |number: &str, asin: &str, quantity: u32, price: &str| PoLine {
            line_number: number.into(),
            key: crate::ordering::line_key(number).unwrap(),
            asin: asin.into(),
            quantity,
            expected_unit_price: usd(price),
            expected_subtotal: usd(price).checked_mul(Decimal::from(quantity)).unwrap(),
            category: None,
            sub_category: None,
            distributions: Vec::new(),
        };
        PurchaseOrder {
            po_number: "PO-4711".into(),
            external_id: "acme-PO-4711".into(),
            currency: Currency::parse("USD").unwrap(),
            buying_group_id: "BG-1".into(),
            buyer_email: "buyer@acme.example".into(),
            region: "US".into(),
            ship_to: Address::default(),
            bill_to: Address::default(),
            expected: Expected { subtotal: None, tax: None, shipping: None },
            requested_delivery_date: None,
            lines: vec![line("10", "B000000001", 2, "60.00"), line("0020", "B0000000T2", 1, "89.99")],
        }
    }

    /// Amazon accepted all of PO-4711 as one order, with 8 % tax per line.
    fn placed() -> PlacedOrder {
        let line = |number: &str, quantity: u32, price: &str, tax: &str| PlacedLine {
            line_number: number.into(),
            accepted: vec![AcceptedPortion {
                quantity,
                unit_price: Some(usd(price)),
                charges: vec![
                    PlacedCharge {
                        category: "SUBTOTAL".into(),
                        kind: "PRINCIPAL".into(),
                        amount: usd(price).checked_mul(Decimal::from(quantity)).unwrap(),
                    },
                    PlacedCharge { category: "SUBTOTAL".into(), kind: "TAX".into(), amount: usd(tax) },
                ],
                order_id: Some(AMAZON_ORDER.into()),
                delivery: None,
                other: vec![],
            }],
            rejected: vec![],
        };
        PlacedOrder {
            status: PoStatus::Placed,
            lines: vec![line("10", 2, "60.00", "9.60"), line("20", 1, "89.99", "7.20")],
            order_ids: vec![AMAZON_ORDER.into()],
            charges: vec![],
            other: vec![],
            rejections: vec![],
        }
    }

    /// A transaction line of Amazon order [`AMAZON_ORDER`].
    fn tline(po: Option<&str>, po_line: Option<&str>, asin: &str, quantity: i64, price: &str, tax: &str) -> TransactionLine {
        let principal = usd(price).checked_mul(Decimal::from(quantity)).unwrap();
        TransactionLine {
            order_id: Some(AMAZON_ORDER.into()),
            order_line_item_id: Some(format!("OLI-{asin}")),
            shipment_id: Some("SHIP-1".into()),
            purchase_order_number: po.map(Into::into),
            purchase_order_line_item_id: po_line.map(Into::into),
            principal_amount: Some(principal),
            unit_price: Some(usd(price)),
            tax: Some(usd(tax)),
            asin: Some(asin.into()),
            product_title: Some(format!("Product {asin}")),
            item_quantity: Some(quantity),
            business_order_info: vec![("GL code".into(), "6064".into())],
            ..TransactionLine::default()
        }
    }

    fn imported(number: &str, lines: Vec<TransactionLine>, credit_memo: bool) -> ImportedInvoice {
        let src = InvoiceSource {
            number: number.into(),
            credit_memo,
            detail: None,
            transactions: vec![Transaction {
                transaction_id: Some(format!("tx-{number}")),
                transaction_type: Some(if credit_memo { TransactionType::Refund } else { TransactionType::Charge }),
                transaction_date: Some(at("2025-11-14T10:00:00Z")),
                feed_date: Some(at("2025-11-15T04:00:00Z")),
                invoice_number: Some(number.into()),
                lines,
                ..Transaction::default()
            }],
        };
        let (chart, settings) = (Chart::default(), ImportSettings { gl_key: Some("GL code".into()), ..ImportSettings::default() });
        let ctx = ImportContext {
            company: "acme",
            chart: &chart,
            settings: &settings,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            received_at: "2025-11-15T05:00:00.000Z",
            archive_prefix: "archive/",
        };
        map_invoice(&src, None, &ctx).expect("mapped")
    }

    fn exact(po: Option<&str>) -> Vec<TransactionLine> {
        vec![tline(po, Some("10"), "B000000001", 2, "60.00", "9.60"), tline(po, Some("20"), "B0000000T2", 1, "89.99", "7.20")]
    }

    #[test]
    fn the_cxml_view_has_the_blocks_lines_and_amounts_the_engine_reads() {
        let mut lines = exact(Some("PO-4711"));
        lines[1].shipping_charge = Some(usd("4.99"));
        lines[1].discount = Some(usd("-1.00"));
        lines[1].gift_wrapping_charge = Some(usd("2.00"));
        lines.push(TransactionLine { order_id: Some("114-0000000-0000001".into()), ..tline(None, None, "B0OTHER001", 1, "5.00", "0.40") });
        let imp = imported("AB-1", lines, false);
        let inv = as_cxml(&imp);
        assert_eq!(invoice_key_of(&inv), imp.record.invoice_key, "its stored key: a match again skips its own summary");
        assert_eq!((inv.header.purpose, inv.header.operation), (Purpose::Standard, Operation::New));
        assert_eq!(inv.header.invoice_date.as_deref(), Some("2025-11-14"));
        assert_eq!(inv.order_ids(), vec!["PO-4711"]);
        // The import numbers its lines by Amazon order: the other order's line is line 1.
        assert_eq!(inv.supplier_order_ids(), vec!["114-0000000-0000001", AMAZON_ORDER]);
        assert_eq!(inv.orders.len(), 2, "one block per (PO, Amazon order)");
        assert_eq!((inv.orders[0].info.order_id.as_deref(), inv.orders[0].items.len()), (None, 1));
        assert_eq!((inv.orders[1].info.order_id.as_deref(), inv.orders[1].items.len()), (Some("PO-4711"), 2));
        let it = &inv.orders[1].items[1];
        assert_eq!(
            (it.invoice_line_number, it.reference_line_number.as_deref(), it.supplier_part_id.as_deref()),
            (Some(3), Some("20"), Some("B0000000T2"))
        );
        assert_eq!((it.quantity, it.unit_price), (Some(Decimal::ONE), Some(usd("89.99"))));
        assert_eq!((it.amounts.subtotal, it.amounts.tax_amount()), (Some(usd("89.99")), Some(usd("7.20"))));
        let other = it.amounts.other();
        assert_eq!((other.shipping, other.discount, other.special_handling), (Some(usd("4.99")), Some(usd("1.00")), Some(usd("2.00"))));
        assert_eq!(inv.orders[1].items[0].amounts.other, None, "no charges: nothing boxed");
        assert_eq!(inv.summary.subtotal, Some(usd("214.99")));
        assert_eq!(inv.summary.tax_amount(), Some(usd("17.20")));
        assert_eq!(
            (inv.summary.shipping, inv.summary.discount, inv.summary.special_handling),
            (Some(usd("4.99")), Some(usd("1.00")), Some(usd("2.00")))
        );
        assert_eq!(inv.summary.net.map(|m| m.amount_string()), Some(imp.record.net.clone()));
        // Read back from the records as stored: the same view.
        assert_eq!(stored_as_cxml(&imp.record, &imp.lines.iter().rev().cloned().collect::<Vec<_>>()), inv);
    }

    #[test]
    fn an_import_of_the_po_at_its_prices_matches() {
        let (po, placed) = (po(), placed());
        let imp = imported("AB-2", exact(Some("PO-4711")), false);
        let inv = as_cxml(&imp);
        for index in [PoIndex::from_iter([(&po, Some(&placed))]), PoIndex::from_iter([(&po, None)])] {
            let m = match_invoice(&inv, &index, &[], &Tolerances::default());
            assert_eq!((m.status, m.po_number.as_deref()), (MatchStatus::Matched, Some("PO-4711")), "{m:?}");
            assert_eq!(m.lines.iter().map(|l| l.po_line.as_deref()).collect::<Vec<_>>(), vec![Some("10"), Some("0020")]);
            let billed = invoiced(&inv, &index).unwrap();
            assert_eq!(billed.invoice, imp.record.invoice_key);
            assert_eq!(
                billed.lines.iter().map(|l| (l.line_key.as_str(), l.quantity)).collect::<Vec<_>>(),
                vec![("10", Decimal::TWO), ("20", Decimal::ONE)]
            );
            // Matched again with its own summary stored: the same outcome.
            assert_eq!(match_invoice(&inv, &index, &[billed], &Tolerances::default()), m);
        }
    }

    #[test]
    fn lines_without_po_number_or_po_line_find_them_by_amazon_order_and_asin() {
        let (po, placed) = (po(), placed());
        let index = PoIndex::from_iter([(&po, Some(&placed))]);
        let lines = vec![tline(None, None, "B000000001", 2, "60.00", "9.60"), tline(None, Some("li_2"), "B0000000T2", 1, "89.99", "7.20")];
        let m = match_invoice(&as_cxml(&imported("AB-3", lines, false)), &index, &[], &Tolerances::default());
        assert_eq!((m.status, m.po_number.as_deref()), (MatchStatus::Matched, Some("PO-4711")), "{m:?}");
        assert_eq!(m.lines.iter().map(|l| l.po_line.as_deref()).collect::<Vec<_>>(), vec![Some("10"), Some("0020")]);
    }

    #[test]
    fn a_higher_price_is_the_price_exception() {
        let (po, placed) = (po(), placed());
        let index = PoIndex::from_iter([(&po, Some(&placed))]);
        let mut lines = exact(Some("PO-4711"));
        lines[0] = tline(Some("PO-4711"), Some("10"), "B000000001", 2, "66.00", "10.56");
        let m = match_invoice(&as_cxml(&imported("AB-4", lines, false)), &index, &[], &Tolerances::default());
        assert_eq!(m.status, MatchStatus::Exception);
        // The tax follows the price (8 % of 132.00): its own exception, beside the price's.
        assert_eq!(m.codes(), vec![MatchCode::PriceVariance, MatchCode::TaxVariance], "{m:?}");
        let e = &m.exceptions[0];
        assert_eq!(
            (e.line.as_deref(), e.expected.as_deref(), e.found.as_deref()),
            (Some("1"), Some("60.00 USD"), Some("66.00 USD")),
            "{e:?}"
        );
        assert!(e.message.contains("unit price 66.00 USD") && e.message.contains("Amazon accepted 60.00 USD"), "{}", e.message);
        assert_eq!(m.lines.iter().map(|l| l.status).collect::<Vec<_>>(), vec![MatchStatus::Exception, MatchStatus::Matched]);
    }

    #[test]
    fn no_po_number_and_no_known_amazon_order_is_no_po() {
        let lines = exact(None);
        let inv = as_cxml(&imported("AB-5", lines, false));
        let m = match_invoice(&inv, &index_of(&[]), &[], &Tolerances::default());
        assert_eq!((m.status, m.po_number.as_deref()), (MatchStatus::Exception, None));
        assert_eq!(m.codes(), vec![MatchCode::NoPo]);
        assert_eq!(m.exceptions[0].found.as_deref(), Some(AMAZON_ORDER));
        assert!(m.exceptions[0].message.contains("waits for its PO"), "{}", m.exceptions[0].message);
        // Another company's PO (unknown number, unknown order): no-po as well.
        let other = PurchaseOrder { po_number: "PO-9".into(), ..po() };
        let m = match_invoice(&inv, &PoIndex::from_iter([(&other, None)]), &[], &Tolerances::default());
        assert_eq!(m.codes(), vec![MatchCode::NoPo]);
    }

    #[test]
    fn a_credit_memo_takes_its_quantities_back() {
        let (po, placed) = (po(), placed());
        let index = PoIndex::from_iter([(&po, Some(&placed))]);
        let memo = imported("CM-1", vec![tline(Some("PO-4711"), Some("10"), "B000000001", 1, "60.00", "4.80")], true);
        let inv = as_cxml(&memo);
        assert_eq!(inv.header.purpose, Purpose::CreditMemo);
        let m = match_invoice(&inv, &index, &[], &Tolerances::default());
        assert_eq!(m.status, MatchStatus::Matched, "{m:?}");
        let billed = invoiced(&inv, &index).unwrap();
        assert!(billed.credit);
        assert_eq!(billed.lines[0].quantity, Decimal::NEGATIVE_ONE);
        assert_eq!(billed.subtotal, usd("-60.00"));
    }
}
