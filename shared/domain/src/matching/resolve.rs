//! Which PO an invoice is matched against, and which PO line each of its lines bills: the
//! part the match, the invoiced summary and the GL coding share. Linear in the lines.

use std::collections::HashMap;

use crate::invoice::cxml::model::{CxmlInvoice, Item, OrderInfo};
use crate::ordering::po::PurchaseOrder;

use super::index::{FoundBy, PoEntry, PoIndex};

/// [`crate::ordering::line_key`] without its allocation: the digits without leading zeros
/// (`0020` → `20`, `000` → `0`), `None` when not all ASCII digits.
pub(crate) fn key_str(text: &str) -> Option<&str> {
    let t = trim(text);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let stripped = t.trim_start_matches('0');
    Some(if stripped.is_empty() { "0" } else { stripped })
}

/// `str::trim`, without its Unicode scan when both ends are visible ASCII (line numbers are).
pub(crate) fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Why an invoice line has no PO line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoLine {
    /// Its order block names no known PO (and neither does any other block).
    NoPo,
    /// Its order block names no known PO, but another block does.
    BlockWithoutPo,
    /// Its order block is another PO's.
    OtherPo(String),
    /// `lineNumber` is numeric but the PO has no such line.
    NoSuchLine(String),
    /// `lineNumber` is absent or not numeric (Amazon writes `li_1` where the order carried no
    /// numeric line id), and no single PO line has the item's `SupplierPartID` as its ASIN.
    NotALineNumber { reference: Option<String>, part: Option<String>, ambiguous: bool },
}

pub(crate) struct ResolvedItem<'i> {
    pub item: &'i Item,
    /// Index of its order block in `inv.orders`.
    pub block: usize,
    /// Index of its PO line in `po.lines`.
    pub line: Result<usize, NoLine>,
}

pub(crate) struct Resolved<'i, 'a> {
    pub entry: Option<PoEntry<'a>>,
    /// One per `inv.items()`, in document order.
    pub items: Vec<ResolvedItem<'i>>,
    /// Indices of the header-level blocks (`inv.header_orders`) that are this PO's.
    pub header_blocks: Vec<usize>,
    /// Order blocks (index in `inv.orders`) that name no known PO while another block does.
    pub blocks_without_po: Vec<usize>,
    /// The PO's lines by key (with a PO).
    pub lookup: Option<LineLookup<'a>>,
}

/// The PO lines by key, and (built on first need) by ASIN when unique.
pub(crate) struct LineLookup<'a> {
    po: &'a PurchaseOrder,
    by_key: HashMap<&'a str, usize>,
    by_asin: Option<HashMap<&'a str, Option<usize>>>,
}

impl<'a> LineLookup<'a> {
    pub fn new(po: &'a PurchaseOrder) -> Self {
        let mut by_key = HashMap::with_capacity(po.lines.len());
        for (i, l) in po.lines.iter().enumerate() {
            let key = key_str(&l.key).unwrap_or(l.key.as_str());
            by_key.entry(key).or_insert(i);
        }
        LineLookup { po, by_key, by_asin: None }
    }

    /// The PO line with this line key.
    pub fn by_key(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// The PO line with this line number as written (`0020`, ` 20`).
    pub fn by_number(&self, number: &str) -> Option<usize> {
        key_str(number).and_then(|k| self.by_key(k))
    }

    fn line_of(&mut self, item: &Item) -> Result<usize, NoLine> {
        let reference = item.reference_line_number.as_deref();
        if let Some(key) = reference.and_then(key_str) {
            return self.by_key(key).ok_or_else(|| NoLine::NoSuchLine(reference.unwrap_or_default().trim().to_string()));
        }
        let part = item.supplier_part_id.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let po = self.po;
        let by_asin = self.by_asin.get_or_insert_with(|| {
            let mut m: HashMap<&str, Option<usize>> = HashMap::new();
            for (i, l) in po.lines.iter().enumerate() {
                m.entry(l.asin.trim()).and_modify(|e| *e = None).or_insert(Some(i));
            }
            m
        });
        match part.map(|p| by_asin.get(p)) {
            Some(Some(Some(i))) => Ok(*i),
            found => Err(NoLine::NotALineNumber {
                reference: reference.map(|r| r.to_string()),
                part: part.map(str::to_string),
                ambiguous: matches!(found, Some(Some(None))),
            }),
        }
    }
}

pub(crate) fn resolve<'i, 'a>(inv: &'i CxmlInvoice, index: &PoIndex<'a>) -> Resolved<'i, 'a> {
    let found: Vec<Option<(PoEntry<'a>, FoundBy)>> = inv.orders.iter().map(|o| index.find(&o.info)).collect();
    let header_found: Vec<Option<(PoEntry<'a>, FoundBy)>> = inv.header_orders.iter().map(|h| index.find(&h.info)).collect();
    let primary = found.iter().chain(header_found.iter()).flatten().next().copied();
    let mut items = Vec::with_capacity(inv.item_count());
    let Some((entry, _)) = primary else {
        for (b, o) in inv.orders.iter().enumerate() {
            items.extend(o.items.iter().map(|item| ResolvedItem { item, block: b, line: Err(NoLine::NoPo) }));
        }
        return Resolved { entry: None, items, header_blocks: Vec::new(), blocks_without_po: Vec::new(), lookup: None };
    };
    let same = |e: &PoEntry<'_>| std::ptr::eq(e.po, entry.po);
    let mut lookup = LineLookup::new(entry.po);
    let mut blocks_without_po = Vec::new();
    for (b, (o, f)) in inv.orders.iter().zip(&found).enumerate() {
        match f {
            Some((e, _)) if same(e) => {
                items.extend(o.items.iter().map(|item| ResolvedItem { item, block: b, line: lookup.line_of(item) }));
            }
            Some((e, _)) => {
                let other = e.po.po_number.clone();
                items.extend(o.items.iter().map(|item| ResolvedItem { item, block: b, line: Err(NoLine::OtherPo(other.clone())) }));
            }
            None => {
                blocks_without_po.push(b);
                items.extend(o.items.iter().map(|item| ResolvedItem { item, block: b, line: Err(NoLine::BlockWithoutPo) }));
            }
        }
    }
    let header_blocks = header_found.iter().enumerate().filter(|(_, f)| f.as_ref().is_some_and(|(e, _)| same(e))).map(|(i, _)| i).collect();
    Resolved { entry: Some(entry), items, header_blocks, blocks_without_po, lookup: Some(lookup) }
}

/// What an order block says about its PO, for messages: `PO "X"`, `Amazon order "Y"`.
pub(crate) fn references(info: &OrderInfo) -> String {
    let mut parts = Vec::new();
    if let Some(n) = info.order_id.as_deref() {
        parts.push(format!("PO number \"{n}\" (OrderReference@orderID)"));
    }
    if let Some(n) = info.order_payload_id.as_deref().filter(|p| Some(*p) != info.order_id.as_deref()) {
        parts.push(format!("\"{n}\" (DocumentReference@payloadID)"));
    }
    if let Some(n) = info.supplier_order_id.as_deref() {
        parts.push(format!("Amazon order \"{n}\" (SupplierOrderInfo@orderID)"));
    }
    if parts.is_empty() {
        "no PO number and no Amazon order id".to_string()
    } else {
        parts.join(", ")
    }
}

/// The `found` value of a `no-po`: the PO number, else the Amazon order id, as written.
pub(crate) fn reference_value(info: &OrderInfo) -> Option<String> {
    info.po_number().or(info.supplier_order_id.as_deref()).map(str::to_string)
}

/// The invoice line as the outcome names it: `invoiceLineNumber` as written, else `#<n>`
/// (its 1-based position among the invoice's items).
pub(crate) fn invoice_line_name(item: &Item, position: usize) -> String {
    match item.invoice_line_number_raw.as_deref().map(trim) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => format!("#{}", position + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::key_str;
    use crate::ordering::line_key;

    #[test]
    fn trim_is_str_trim() {
        for t in ["", " ", "x", " x", "x ", "0020", "\t20\n", "\u{a0}1\u{a0}", "1\u{3000}", "a b"] {
            assert_eq!(super::trim(t), t.trim(), "{t:?}");
        }
    }

    #[test]
    fn key_str_is_line_key() {
        for t in ["0020", "20", " 20 ", "000", "0", "2a", "", " ", "1 0", "li_1", "00000000000000000000000012", "٣"] {
            assert_eq!(key_str(t).map(str::to_string), line_key(t), "{t:?}");
        }
    }
}
