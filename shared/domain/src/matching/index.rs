//! Finding an invoice's PO among a company's: by PO number or by Amazon order id.

use std::collections::HashMap;

use crate::invoice::cxml::model::OrderInfo;
use crate::ordering::placed::PlacedOrder;
use crate::ordering::po::PurchaseOrder;

use super::resolve::trim;

/// A PO and, once `placeOrder` answered, what Amazon accepted of it.
#[derive(Debug, Clone, Copy)]
pub struct PoEntry<'a> {
    pub po: &'a PurchaseOrder,
    pub placed: Option<&'a PlacedOrder>,
}

/// How an invoice's order block found its PO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// `OrderReference@orderID` is the PO number.
    PoNumber,
    /// `OrderReference/DocumentReference@payloadID` is the PO number (Coupa writes it there).
    PayloadId,
    /// `SupplierOrderInfo@orderID` is one of the Amazon order ids the PO was placed as.
    AmazonOrderId,
}

/// The company's POs by PO number and by the Amazon order ids they were placed as. Borrows
/// the POs; building it is linear in the POs and their order ids.
///
/// A PO number inserted twice: the later PO replaces the earlier (a newer version of it). An
/// Amazon order id of two POs (which Amazon never issues): the first PO keeps it.
#[derive(Debug, Clone, Default)]
pub struct PoIndex<'a> {
    entries: Vec<PoEntry<'a>>,
    by_number: HashMap<&'a str, usize>,
    by_amazon_order: HashMap<&'a str, usize>,
}

impl<'a> PoIndex<'a> {
    pub fn new() -> Self {
        PoIndex::default()
    }

    /// Adds a PO with what was accepted of it (`None` before or without a `placeOrder` answer).
    pub fn insert(&mut self, po: &'a PurchaseOrder, placed: Option<&'a PlacedOrder>) {
        let number = trim(&po.po_number);
        let i = match self.by_number.get(number) {
            Some(&i) => {
                self.entries[i] = PoEntry { po, placed };
                i
            }
            None => {
                self.entries.push(PoEntry { po, placed });
                self.by_number.insert(number, self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        if let Some(p) = placed {
            let portions = p.lines.iter().flat_map(|l| l.accepted.iter()).filter_map(|a| a.order_id.as_deref());
            // The portions of a PO name a few order ids, each many times: a repeat of the id
            // just seen is skipped without hashing it.
            let mut last: Option<&str> = None;
            for id in p.order_ids.iter().map(String::as_str).chain(portions) {
                let id = trim(id);
                if !id.is_empty() && last != Some(id) {
                    self.by_amazon_order.entry(id).or_insert(i);
                    last = Some(id);
                }
            }
        }
    }

    /// The PO with this number (white space around it ignored; otherwise exact).
    pub fn get(&self, po_number: &str) -> Option<PoEntry<'a>> {
        self.by_number.get(trim(po_number)).map(|&i| self.entries[i])
    }

    /// The PO placed as this Amazon order.
    pub fn by_amazon_order_id(&self, order_id: &str) -> Option<PoEntry<'a>> {
        self.by_amazon_order.get(trim(order_id)).map(|&i| self.entries[i])
    }

    /// The PO an invoice's order block refers to: by `OrderReference@orderID`, else by its
    /// `DocumentReference@payloadID`, else by the Amazon order id of `SupplierOrderInfo`.
    pub fn find(&self, info: &OrderInfo) -> Option<(PoEntry<'a>, FoundBy)> {
        if let Some(e) = info.order_id.as_deref().and_then(|n| self.get(n)) {
            return Some((e, FoundBy::PoNumber));
        }
        if let Some(e) = info.order_payload_id.as_deref().and_then(|n| self.get(n)) {
            return Some((e, FoundBy::PayloadId));
        }
        info.supplier_order_id.as_deref().and_then(|id| self.by_amazon_order_id(id)).map(|e| (e, FoundBy::AmazonOrderId))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = PoEntry<'a>> + '_ {
        self.entries.iter().copied()
    }
}

impl<'a> FromIterator<(&'a PurchaseOrder, Option<&'a PlacedOrder>)> for PoIndex<'a> {
    fn from_iter<I: IntoIterator<Item = (&'a PurchaseOrder, Option<&'a PlacedOrder>)>>(iter: I) -> Self {
        let mut index = PoIndex::new();
        for (po, placed) in iter {
            index.insert(po, placed);
        }
        index
    }
}
