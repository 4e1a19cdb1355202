//! The requests of the Reconciliation API as the import sends them: the `getTransactions`
//! query (a window, or a next-page token alone), and the bodies of
//! `getInvoiceDetailsByOrderLineItems` and `getBatchInvoicePaymentDetails` in chunks of at
//! most 25 (the first's description caps it at 25 order lines; the second's schema at 25
//! invoice ids of 1 to 255 characters).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::answer::OrderLineItem;
use crate::core::time::iso;

/// Order lines per `getInvoiceDetailsByOrderLineItems` call.
pub const MAX_ORDER_LINES_PER_CALL: usize = 25;
/// Invoice ids per `getBatchInvoicePaymentDetails` call.
pub const MAX_INVOICE_IDS_PER_CALL: usize = 25;
/// Longest invoice id `getBatchInvoicePaymentDetails` takes.
pub const MAX_INVOICE_ID_LEN: usize = 255;

/// `items` in chunks of at most `size` (at least 1), in order; none for no items.
pub fn chunks<T: Clone>(items: &[T], size: usize) -> Vec<Vec<T>> {
    items.chunks(size.max(1)).map(<[T]>::to_vec).collect()
}

/// The body of `getInvoiceDetailsByOrderLineItems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetailsRequest {
    pub order_line_items: Vec<OrderLineItem>,
}

/// The bodies asking for the invoices of these order lines: distinct lines, ≤ 25 per body.
pub fn invoice_details_requests(lines: &[OrderLineItem]) -> Vec<InvoiceDetailsRequest> {
    let mut distinct: Vec<OrderLineItem> = Vec::with_capacity(lines.len());
    for l in lines {
        if !distinct.contains(l) {
            distinct.push(l.clone());
        }
    }
    chunks(&distinct, MAX_ORDER_LINES_PER_CALL).into_iter().map(|order_line_items| InvoiceDetailsRequest { order_line_items }).collect()
}

/// The body of `getBatchInvoicePaymentDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetailsRequest {
    pub invoice_ids: Vec<String>,
}

/// The bodies asking for the payment details of these invoices: distinct, trimmed ids of 1 to
/// 255 characters, ≤ 25 per body; the ids the model does not take are returned apart.
pub fn payment_details_requests(invoice_ids: &[String]) -> (Vec<PaymentDetailsRequest>, Vec<String>) {
    let (mut ok, mut refused): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for id in invoice_ids {
        let t = id.trim();
        if t.is_empty() || t.chars().count() > MAX_INVOICE_ID_LEN {
            refused.push(id.clone());
        } else if !ok.iter().any(|x| x == t) {
            ok.push(t.to_string());
        }
    }
    let bodies = chunks(&ok, MAX_INVOICE_IDS_PER_CALL).into_iter().map(|invoice_ids| PaymentDetailsRequest { invoice_ids }).collect();
    (bodies, refused)
}

/// The query of the first page of a feed-date window (`feedStartDate`, `feedEndDate`, ISO 8601).
pub fn transactions_query(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(&'static str, String)> {
    vec![("feedStartDate", iso(start)), ("feedEndDate", iso(end))]
}

/// The query of a later page: the token alone, as the model requires.
pub fn next_page_query(token: &str) -> Vec<(&'static str, String)> {
    vec![("nextPageToken", token.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> OrderLineItem {
        OrderLineItem { order_id: format!("O-{}", i / 3), order_line_item_id: format!("L-{i}"), shipment_id: "S".into() }
    }

    #[test]
    fn order_lines_in_chunks_of_twenty_five() {
        let lines: Vec<OrderLineItem> = (0..60).map(line).collect();
        let bodies = invoice_details_requests(&lines);
        assert_eq!(bodies.iter().map(|b| b.order_line_items.len()).collect::<Vec<_>>(), vec![25, 25, 10]);
        assert_eq!(bodies[1].order_line_items[0], line(25), "in order");
        let flat: Vec<OrderLineItem> = bodies.iter().flat_map(|b| b.order_line_items.clone()).collect();
        assert_eq!(flat, lines, "nothing lost, nothing twice");
        assert_eq!(invoice_details_requests(&(0..25).map(line).collect::<Vec<_>>()).len(), 1, "exactly 25: one call");
        assert_eq!(invoice_details_requests(&(0..26).map(line).collect::<Vec<_>>()).len(), 2);
        assert!(invoice_details_requests(&[]).is_empty(), "no lines: no call");
        let twice = [line(1), line(2), line(1)];
        assert_eq!(invoice_details_requests(&twice)[0].order_line_items, vec![line(1), line(2)]);
        let body = serde_json::to_value(&invoice_details_requests(&[line(4)])[0]).unwrap();
        assert_eq!(body, serde_json::json!({"orderLineItems": [{"orderId": "O-1", "orderLineItemId": "L-4", "shipmentId": "S"}]}));
    }

    #[test]
    fn invoice_ids_in_chunks_of_twenty_five_within_the_model_lengths() {
        let mut ids: Vec<String> = (0..30).map(|i| format!("INV-{i}")).collect();
        ids.push(" INV-3 ".into());
        ids.push(String::new());
        ids.push("X".repeat(256));
        let (bodies, refused) = payment_details_requests(&ids);
        assert_eq!(bodies.iter().map(|b| b.invoice_ids.len()).collect::<Vec<_>>(), vec![25, 5]);
        assert_eq!(refused.len(), 2);
        assert_eq!(serde_json::to_value(&bodies[1]).unwrap()["invoiceIds"][0], "INV-25");
        assert!(payment_details_requests(&["X".repeat(255)]).1.is_empty(), "255 characters is allowed");
    }

    #[test]
    fn the_transactions_query_and_its_next_page() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            transactions_query(t("2026-03-01T00:00:00Z"), t("2026-03-02T06:00:00Z")),
            vec![("feedStartDate", "2026-03-01T00:00:00.000Z".to_string()), ("feedEndDate", "2026-03-02T06:00:00.000Z".to_string())]
        );
        assert_eq!(next_page_query("abc"), vec![("nextPageToken", "abc".to_string())], "the token alone");
        assert_eq!(chunks(&[1, 2, 3], 0), vec![vec![1], vec![2], vec![3]], "a size of 0 is 1");
    }
}
