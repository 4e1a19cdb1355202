//! What is stored of a purchase order.

use serde::{Deserialize, Serialize};

use super::placed::{PlacedOrder, PoStatus};
use super::po::PurchaseOrder;

/// Where a PO stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display, strum::EnumString, strum::EnumIter)]
pub enum PoState {
    /// Refused before sending (invalid): the problems say why; never sent.
    Refused,
    /// Claimed by a delivery; being placed, or its outcome is unknown (resolved with
    /// `orderDetails` before anything is sent again).
    Placing,
    /// Every line accepted.
    Placed,
    /// Some quantity accepted, some rejected.
    PartiallyRejected,
    /// Nothing accepted (every line rejected).
    Rejected,
    /// Amazon refused the request itself (400…): nothing ordered.
    Error,
}

impl PoState {
    /// Nothing more will happen to it.
    pub fn is_final(&self) -> bool {
        !matches!(self, PoState::Placing)
    }
}

impl From<PoStatus> for PoState {
    fn from(s: PoStatus) -> Self {
        match s {
            PoStatus::Placed => PoState::Placed,
            PoStatus::PartiallyRejected => PoState::PartiallyRejected,
            PoStatus::Rejected => PoState::Rejected,
        }
    }
}

/// A problem that kept a PO from being sent: a stable code and words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoProblem {
    pub code: String,
    pub message: String,
}

/// A company's purchase order as stored (one item per PO number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoRecord {
    pub company: String,
    pub po_number: String,
    pub external_id: String,
    pub state: PoState,
    /// The validated PO (absent when it was refused).
    #[serde(default)]
    pub po: Option<PurchaseOrder>,
    /// The PO as received (JSON text), kept for a refused one.
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub problems: Vec<PoProblem>,
    /// What Amazon accepted and rejected.
    #[serde(default)]
    pub placed: Option<PlacedOrder>,
    /// Every Amazon order id of the PO.
    #[serde(default)]
    pub amazon_order_ids: Vec<String>,
    /// Amazon's refusal of the request (state Error), or the rejections in words.
    #[serde(default)]
    pub message: Option<String>,
    pub claim_id: String,
    pub received_at: String,
    pub updated_at: String,
}

/// Claiming a PO for one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    Claimed,
    Exists(Box<PoRecord>),
}
