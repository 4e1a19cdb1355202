//! The vendor side's ports: the repository the workflows read and write through, and the
//! SP-API operations as the workflows need them (implemented by `invoice-spapi`).

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::body::SubmitInvoicesRequest;
use super::records::*;
use crate::core::PortError;

/// What the workflow reads for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderContext {
    pub order: Order,
    pub account: AmazonAccount,
    pub seller: Option<Seller>,
    pub default_location: Option<Location>,
    pub delivery_location: Option<DeliveryLocation>,
    pub existing_invoice: Option<VendorInvoice>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimResult {
    Claimed,
    /// An Invoice record already exists (another delivery, or a previous submission).
    Exists(Box<VendorInvoice>),
}

pub trait VendorRepository {
    fn load(&self, order_id: &str) -> impl Future<Output = Result<Option<OrderContext>, PortError>> + Send;
    /// Conditionally creates the Invoice record (status Submitting) unless one exists.
    fn claim(&self, invoice: &VendorInvoice) -> impl Future<Output = Result<ClaimResult, PortError>> + Send;
    /// Invoice Pending + Marketplace Feed Processing, atomically, only while our claim holds.
    fn record_submitted(&self, invoice: &VendorInvoice, feed: &MarketplaceFeed) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Invoice Error (+ the Order Error), only while our claim holds.
    fn record_rejected(&self, invoice: &VendorInvoice, error: &OrderError) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Invoice Unknown, only while our claim holds.
    fn record_unknown(&self, invoice: &VendorInvoice) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Deletes our Submitting claim (transient failure: the message is retried).
    fn release(&self, order_id: &str, claim_id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
    fn put_order_errors(&self, errors: &[OrderError]) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Stores the ship-to address resolved from Amazon Delivery Locations on the order.
    fn store_shipping(&self, order_id: &str, shipping: &Shipping) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// How a submission attempt ended, as the API port reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResult {
    Accepted {
        transaction_id: String,
    },
    /// Amazon refused it (400…): `code`/`message` for the Order Error.
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// Try again later (429 after retries, 5xx, connection not established).
    Transient(String),
    /// Login-with-Amazon refused the credentials (the selling partner's consent was revoked,
    /// or the application's client id / secret are wrong). Nothing was sent. Never an Order
    /// Error: the order is fine, the connection is not. The claim is released and the message
    /// retried later; the client stops asking LWA for a cool-down so no retry loop runs hot.
    NotAuthorized(String),
    /// Sent, no answer.
    Unknown(String),
}

pub trait InvoiceApi {
    fn submit(&self, req: &SubmitInvoicesRequest) -> impl Future<Output = SubmitResult> + Send;
}

/// What getTransaction said, as the poller needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxStatus {
    Processing,
    Success,
    /// Amazon's errors as `(code, message)`.
    Failure(Vec<(String, String)>),
    /// Could not be asked now (throttled, 5xx, timeout, auth): try again next run.
    Unavailable(String),
}

pub trait TransactionApi {
    fn transaction(&self, transaction_id: &str) -> impl Future<Output = TxStatus> + Send;
}

/// The change a Feed and its Invoice go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    Success,
    Failure { integration_error: String, order_errors: Vec<OrderError> },
}

/// Result of applying a resolution (conditional on the feed still Processing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Another poller (or an earlier attempt) already resolved this feed.
    AlreadyResolved,
}

/// A page of Processing feeds, oldest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPage {
    pub feeds: Vec<MarketplaceFeed>,
    pub next: Option<String>,
}

pub trait FeedRepository {
    fn processing_feeds_page(&self, limit: i32, start: Option<String>) -> impl Future<Output = Result<FeedPage, PortError>> + Send;
    fn resolve(&self, feed: &MarketplaceFeed, resolution: &Resolution, at: &str)
        -> impl Future<Output = Result<Applied, PortError>> + Send;
}

pub trait UnknownRepository {
    /// Invoices in status Unknown, oldest first.
    fn unknown_invoices(&self, limit: i32) -> impl Future<Output = Result<Vec<VendorInvoice>, PortError>> + Send;
    /// Unknown → Submitting under `claimed` (conditional on the stored invoice still being
    /// `current`'s Unknown claim); false when someone else took it.
    fn reclaim_unknown(&self, current: &VendorInvoice, claimed: &VendorInvoice) -> impl Future<Output = Result<bool, PortError>> + Send;
}
