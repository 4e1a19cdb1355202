//! The ordering side's ports: the Ordering API as the placing workflow needs it (implemented
//! by `invoice-spapi`'s client for Amazon Business) and the PO store (adapters).

use std::future::Future;

use super::records::{ClaimOutcome, PoRecord};
use crate::core::PortError;

/// How a `placeOrder` call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceResult {
    /// 200: the answer's body (still to be read: a 200 can reject lines).
    Answered(String),
    /// Amazon refused the request (400…): nothing was ordered.
    Rejected { status: u16, code: String, message: String },
    /// Nothing was placed; try again later (429 after retries, 5xx, not sent).
    Transient(String),
    /// Login-with-Amazon refused the company's credentials; nothing was sent.
    NotAuthorized(String),
    /// Sent, no (readable) answer: the order may exist. Resolved with `orderDetails`.
    Unknown(String),
}

/// How an `orderDetails` lookup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailsResult {
    /// 200: the answer's body.
    Found(String),
    /// 404: no order with that externalId.
    NotFound,
    /// Could not be asked now (throttled, 5xx, timeout): try again later.
    Unavailable(String),
    NotAuthorized(String),
}

pub trait OrderingApi {
    fn place(&self, body: &super::PlaceOrderRequest) -> impl Future<Output = PlaceResult> + Send;
    /// `GET /ordering/2022-10-30/orders/{externalId}` for the buyer `user_email`.
    fn details(&self, external_id: &str, user_email: &str) -> impl Future<Output = DetailsResult> + Send;
}

/// A company's purchase orders.
pub trait PoRepository {
    fn get(&self, po_number: &str) -> impl Future<Output = Result<Option<PoRecord>, PortError>> + Send;
    /// Creates the record (status `Placing`, this delivery's claim) unless the PO has one.
    fn claim(&self, record: &PoRecord) -> impl Future<Output = Result<ClaimOutcome, PortError>> + Send;
    /// Moves an existing `Placing` record held by `previous_claim` to `record.claim_id`
    /// (a later delivery taking over after resolving that nothing was placed); false when
    /// someone else holds or finished it.
    fn take_over(&self, record: &PoRecord, previous_claim: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Stores the final record (Placed / PartiallyRejected / Rejected / Error) while our claim
    /// holds, with the Amazon order ids findable. False when the claim was lost.
    fn record(&self, record: &PoRecord) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Stores a PO refused before sending (idempotent; never overwrites a placed PO).
    fn put_refused(&self, record: &PoRecord) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes our `Placing` claim (nothing was sent: the message is retried).
    fn release(&self, po_number: &str, claim_id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    /// The PO number an Amazon order id belongs to.
    fn po_of_amazon_order(&self, amazon_order_id: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}
