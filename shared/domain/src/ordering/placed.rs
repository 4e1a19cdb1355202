//! What Amazon accepted: a `placeOrder` (or `orderDetails`) answer read fully. A 200 can
//! still reject lines; one PO can become several Amazon orders.
//!
//! [`parse_place_order_result`] reads the model's `OrderResult` (both `PlaceOrderResult` and
//! `OrderDetailsResult` are that): per line the accepted portions with their artifacts
//! (`UnitPrice`, `Charge`, `OrderIdentifier`, `DeliveryTimeRange`), accepted item groups
//! (their quantity multiplies their items'), the rejected portions with their reasons, and the
//! order-level artifacts. Amounts are read from the JSON number's digits, never a float. An
//! artifact type it does not know is kept ([`OtherArtifact`], [`Rejection::Other`]), never an
//! error.

use std::fmt;

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
    /// The portion's other artifacts (`ShipmentGroup`, types this reader does not know).
    #[serde(default)]
    pub other: Vec<OtherArtifact>,
}

/// An acceptance artifact kept as it came: its type and its JSON text, digits and all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherArtifact {
    /// `acceptanceArtifactType` (empty when the artifact has none).
    pub artifact: String,
    /// The artifact's JSON, exactly as received.
    pub raw: String,
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
    /// `BrokenChargeExpectation`: the charges (of `sources`: SUBTOTAL, SHIPPING, TAX; empty
    /// when Amazon names none) exceeded the expected limit.
    BrokenCharge {
        boundary: Money,
        actual: Money,
        #[serde(default)]
        sources: Vec<String>,
    },
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
    /// Order-level acceptance artifacts other than charges and order ids (`Signed`,
    /// `Shipment`, types this reader does not know).
    #[serde(default)]
    pub other: Vec<OtherArtifact>,
}

impl PlacedOrder {
    /// The answer's line for this PO line number (`0020` finds `20`).
    pub fn line(&self, number: &str) -> Option<&PlacedLine> {
        let key = super::line_key(number)?;
        self.lines.iter().find(|l| super::line_key(&l.line_number).as_deref() == Some(key.as_str()))
    }

    /// The `Signed` artifact: every accepted item has been placed as an Amazon Business order.
    pub fn signed(&self) -> bool {
        self.other.iter().any(|a| a.artifact == "Signed")
    }

    pub fn accepted_quantity(&self) -> u32 {
        self.lines.iter().map(PlacedLine::accepted_quantity).sum()
    }

    pub fn rejected_quantity(&self) -> u32 {
        self.lines.iter().map(PlacedLine::rejected_quantity).sum()
    }
}

/// The status the quantities say: nothing accepted → Rejected; something accepted and
/// something rejected (a line portion, or an order-level rejection) → PartiallyRejected;
/// else Placed.
pub fn status_of(lines: &[PlacedLine], order_rejections: &[Rejection]) -> PoStatus {
    let accepted: u64 = lines.iter().map(|l| u64::from(l.accepted_quantity())).sum();
    let rejected: u64 = lines.iter().map(|l| u64::from(l.rejected_quantity())).sum();
    if accepted == 0 {
        PoStatus::Rejected
    } else if rejected > 0 || !order_rejections.is_empty() {
        PoStatus::PartiallyRejected
    } else {
        PoStatus::Placed
    }
}

/// Artifacts of the rejection side the reader words itself (kept as [`Rejection::Other`]).
const UNAVAILABLE_QUANTITY: &str = "UnavailableQuantity";
const AVAILABLE_QUANTITY: &str = "AvailableQuantity";
const AGE_RESTRICTION: &str = "AgeRestriction";
const DELIVERY_TIME_RANGE_INCONGRUITY: &str = "DeliveryTimeRangeIncongruity";

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Code { code } => write!(f, "code {code}"),
            Rejection::Message { message } => f.write_str(message),
            Rejection::BrokenUnitPrice { boundary, actual } => write!(f, "unit price {actual} is above the expected limit {boundary}"),
            Rejection::BrokenCharge { boundary, actual, sources } if sources.is_empty() => {
                write!(f, "charge {actual} is above the expected limit {boundary}")
            }
            Rejection::BrokenCharge { boundary, actual, sources } => {
                write!(f, "charges {} of {actual} are above the expected limit {boundary}", sources.join(" + "))
            }
            Rejection::Other { artifact, detail } => match artifact.as_str() {
                UNAVAILABLE_QUANTITY | AVAILABLE_QUANTITY | AGE_RESTRICTION | DELIVERY_TIME_RANGE_INCONGRUITY => f.write_str(detail),
                "" => write!(f, "rejection without a type: {detail}"),
                _ if detail.is_empty() => f.write_str(artifact),
                _ => write!(f, "{artifact}: {detail}"),
            },
        }
    }
}

impl RejectedPortion {
    /// The reasons as one sentence: a code and a message together (`code XYZ: message`), then
    /// the others, separated by `; `.
    pub fn explanation(&self) -> String {
        explain(&self.reasons)
    }
}

/// Reasons as one sentence (see [`RejectedPortion::explanation`]).
pub fn explain(reasons: &[Rejection]) -> String {
    let code = reasons.iter().find_map(|r| match r {
        Rejection::Code { code } => Some(code.as_str()),
        _ => None,
    });
    let message = reasons.iter().find_map(|r| match r {
        Rejection::Message { message } => Some(message.as_str()),
        _ => None,
    });
    let mut parts = Vec::new();
    match (code, message) {
        (Some(c), Some(m)) => parts.push(format!("code {c}: {m}")),
        (Some(c), None) => parts.push(format!("code {c}")),
        (None, Some(m)) => parts.push(m.to_string()),
        (None, None) => {}
    }
    let mut first_code = code.is_some();
    let mut first_message = message.is_some();
    for r in reasons {
        match r {
            Rejection::Code { .. } if first_code => first_code = false,
            Rejection::Message { .. } if first_message => first_message = false,
            other => parts.push(other.to_string()),
        }
    }
    parts.join("; ")
}

impl fmt::Display for RejectedPortion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reasons.is_empty() {
            write!(f, "{} rejected", self.quantity)
        } else {
            write!(f, "{} rejected: {}", self.quantity, self.explanation())
        }
    }
}

pub use super::answer::{parse_order_details_result, parse_place_order_result, ApiError, ParseError};
