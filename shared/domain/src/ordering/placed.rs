//! What Amazon accepted: a `placeOrder` (or `orderDetails`) answer read fully. A 200 can
//! still reject lines; one PO can become several Amazon orders.

use serde::{Deserialize, Serialize};

use crate::core::money::Money;

/// The PO's status after placing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display, strum::EnumString, strum::IntoStaticStr)]
pub enum PoStatus {
    /// Every requested quantity accepted.
    Placed,
    /// Some quantity accepted, some rejected.
    PartiallyRejected,
    /// Nothing accepted.
    Rejected,
}

/// A charge artifact of an accepted portion (`Charge`: category SUBTOTAL/SHIPPING/…, type
/// PRINCIPAL/TAX/DISCOUNT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedCharge {
    pub category: String,
    pub kind: String,
    pub amount: Money,
}

/// An accepted portion of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedPortion {
    pub quantity: u32,
    /// `UnitPrice` artifact.
    pub unit_price: Option<Money>,
    pub charges: Vec<PlacedCharge>,
    /// `OrderIdentifier` artifact: the Amazon order id this portion belongs to.
    pub order_id: Option<String>,
    /// `DeliveryTimeRange` (lower, upper) as Amazon wrote them.
    pub delivery: Option<(String, String)>,
}

/// Why (part of) a line or the order was rejected, as a person can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Rejection {
    /// `RejectionCode`.
    Code { code: String },
    /// `RejectionMessage`.
    Message { message: String },
    /// `BrokenUnitPriceExpectation`: the price exceeded the expected limit.
    BrokenUnitPrice { boundary: Money, actual: Money },
    /// `BrokenChargeExpectation`.
    BrokenCharge { boundary: Money, actual: Money },
    /// `UnavailableQuantity` / `AvailableQuantity` and other artifacts, by their type name,
    /// with their fields in words.
    Other { artifact: String, detail: String },
}

/// A rejected portion of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPortion {
    pub quantity: u32,
    pub reasons: Vec<Rejection>,
}

/// One PO line in the answer (`ResultLineItem`, by its `externalId` = the PO line number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub line_number: String,
    pub accepted: Vec<AcceptedPortion>,
    pub rejected: Vec<RejectedPortion>,
}

impl PlacedLine {
    pub fn accepted_quantity(&self) -> u32 {
        self.accepted.iter().map(|a| a.quantity).sum()
    }
    pub fn rejected_quantity(&self) -> u32 {
        self.rejected.iter().map(|r| r.quantity).sum()
    }
    /// The accepted unit price (the first accepted portion's `UnitPrice`).
    pub fn unit_price(&self) -> Option<Money> {
        self.accepted.iter().find_map(|a| a.unit_price)
    }
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    pub status: PoStatus,
    pub lines: Vec<PlacedLine>,
    /// Every Amazon order id, in first-seen order, without repeats.
    pub order_ids: Vec<String>,
    /// Order-level charges (`acceptanceArtifacts`).
    pub charges: Vec<PlacedCharge>,
    /// Order-level rejections (`rejectionArtifacts`).
    pub rejections: Vec<Rejection>,
}

impl PlacedOrder {
    /// The answer's line for this PO line number (`0020` finds `20`).
    pub fn line(&self, number: &str) -> Option<&PlacedLine> {
        let key = super::line_key(number)?;
        self.lines.iter().find(|l| super::line_key(&l.line_number).as_deref() == Some(key.as_str()))
    }
}
