//! DynamoDB repository of the vendor side, one company at a time (same single table; keys in
//! [`crate::keys`]). By concern: this module (reads, writes, claim helpers), [`seeding`]
//! (operator and local-stack writes), [`submission`] (the submission workflow's port),
//! [`polling`] (the status poller's and reconciliation's ports).
//!
//! | item                     | PK                      | SK                                    | GSI2 (feeds by status, oldest first)                            |
//! |--------------------------|-------------------------|---------------------------------------|-----------------------------------------------------------------|
//! | order (+ items inline)   | `ORDER#<order id>`      | `#ORDER`                              |                                                                 |
//! | vendor invoice (1/order) | `ORDER#<order id>`      | `#INVOICE`                            |                                                                 |
//! | order error              | `ORDER#<order id>`      | `ERROR#<source>#<code>#<sha16(msg)>`  |                                                                 |
//! | amazon account           | `ACCOUNT#<account id>`  | `#ACCOUNT`                            |                                                                 |
//! | seller                   | `SELLER#<vendor id>`    | `#SELLER`                             |                                                                 |
//! | location                 | `LOCATION#<id>`         | `#LOCATION`                           |                                                                 |
//! | amazon delivery location | `DELIVERYLOC#<loc id>`  | `#DELIVERYLOC`                        |                                                                 |
//! | marketplace feed         | `FEED#<transactionId>`  | `#FEED`                               | `FEEDSTATUS#<feed_type>#<status>` / `<submitted_date>#<txId>`   |
//!
//! - The order item is the `Order` record plus `account_id` (which Amazon Account it belongs
//!   to). The seller is found by the order's `purchase_order_selling_party` (GetItem, no scan),
//!   the default location by the account's `default_location_id`, the delivery location by the
//!   order's `shipping_address_id` (only read when the order has no usable shipping address).
//! - Invoice statuses and "Sent By Integration" are stored as their names (`Submitting`,
//!   `Pending`, …). The claim is a conditional PutItem (`attribute_not_exists(PK)`); every later
//!   write of the invoice is conditional on `status = Submitting AND claim_id = <ours>`.
//! - Order errors have a deterministic key (`sha16` = first 16 hex chars of sha256 of the
//!   message): a repeated delivery overwrites the same record instead of adding a duplicate.
//! - A feed's GSI2PK carries its status: whoever changes a feed's status (the status poller)
//!   must rewrite `GSI2PK` (and keep `GSI2SK`) in the same update, so that only `Processing`
//!   feeds are listed by [`DynamoVendorRepo::processing_feeds`].
//!
//! Every item also has a `type` attribute (`order`, `vendor_invoice`, `order_error`, …) for
//! operators reading the table. No Scan anywhere.

mod polling;
mod seeding;
mod submission;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::vendor::ports::{ClaimResult, OrderContext, VendorRepository};
use invoice_domain::vendor::records::{AmazonAccount, DeliveryLocation, Location, Order, Seller, Shipping};
use invoice_domain::vendor::records::{InvoiceState, MarketplaceFeed, OrderError, VendorInvoice};
use invoice_domain::vendor::transitions::{feed_status, FEED_TYPE};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::keys::*;
use crate::sdk_err;
use crate::table::{condition_failed, from_item, keyed, s, Item};

/// Trimmed, non-empty text.
fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|x| !x.is_empty())
}

/// The vendor records of ONE company: every key it builds starts with `C#<company>#`.
#[derive(Clone)]
pub struct DynamoVendorRepo {
    pub client: Client,
    pub table: String,
    pub company: String,
}

impl DynamoVendorRepo {
    pub fn new(client: Client, table: impl Into<String>, company: impl Into<String>) -> Self {
        DynamoVendorRepo { client, table: table.into(), company: company.into() }
    }

    /// Strongly consistent GetItem of one item.
    async fn get(&self, pk: String, sk: &str, what: &str) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err(&format!("dynamodb get {what}"), e))?;
        Ok(out.item)
    }

    async fn get_as<T: DeserializeOwned>(&self, pk: String, sk: &str, what: &str) -> Result<Option<T>, PortError> {
        self.get(pk, sk, what).await?.map(from_item).transpose()
    }

    async fn put(&self, item: Item, what: &str) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_err(&format!("dynamodb put {what}"), e))?;
        Ok(())
    }

    fn keyed<T: Serialize>(&self, v: &T, pk: String, sk: &str, kind: &str) -> Result<Item, PortError> {
        keyed(v, &self.company, pk, sk, kind)
    }

    fn invoice_item(&self, inv: &VendorInvoice) -> Result<Item, PortError> {
        let mut item = self.keyed(inv, order_pk(&self.company, &inv.order_id), INVOICE_SK, "vendor_invoice")?;
        // Unknown outcomes are listed for reconciliation (GSI2, oldest first). Every invoice
        // write is a whole-item Put, so leaving Unknown drops the index entry.
        if inv.status == InvoiceState::Unknown {
            item.insert("GSI2PK".into(), s(unknown_invoices_pk(&self.company)));
            item.insert("GSI2SK".into(), s(format!("{}#{}", inv.updated_at, inv.order_id)));
        }
        // Every vendor invoice, per month it was created, newest first (the dashboard's list).
        item.insert("GSI3PK".into(), s(vendor_invoices_pk(&self.company, invoice_domain::invoice::records::status_month(&inv.created_at))));
        item.insert("GSI3SK".into(), s(format!("{}#{}", inv.created_at, inv.order_id)));
        Ok(item)
    }

    fn feed_item(&self, feed: &MarketplaceFeed) -> Result<Item, PortError> {
        let mut item = self.keyed(feed, feed_pk(&self.company, &feed.external_id), FEED_SK, "marketplace_feed")?;
        item.insert("GSI2PK".into(), s(feed_status_pk(&self.company, &feed.feed_type, &feed.status)));
        item.insert("GSI2SK".into(), s(format!("{}#{}", feed.submitted_date, feed.external_id)));
        Ok(item)
    }

    fn error_item(&self, e: &OrderError) -> Result<Item, PortError> {
        self.keyed(e, order_pk(&self.company, &e.order_id), &order_error_sk(e), "order_error")
    }

    /// A Put of the invoice that only succeeds while `claim_id` holds the Submitting claim.
    fn claimed_invoice_put(&self, inv: &VendorInvoice) -> Result<TransactWriteItem, PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.invoice_item(inv)?))
            .condition_expression("#status = :submitting AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":submitting", s(InvoiceState::Submitting.as_str()))
            .expression_attribute_values(":claim", s(&inv.claim_id))
            .build()
            .map_err(|e| PortError(format!("build put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Puts `invoice` only while the stored one is in `status` under `claim_id`; false when the
    /// condition fails.
    async fn put_invoice_if(&self, invoice: &VendorInvoice, status: InvoiceState, claim_id: &str, what: &str) -> Result<bool, PortError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.invoice_item(invoice)?))
            .condition_expression("#status = :expected AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", s(status.as_str()))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err(&format!("dynamodb {what}"), e)),
        }
    }

    /// True when the stored invoice already is exactly what we meant to write (a retried
    /// request whose first attempt succeeded).
    async fn already_written(&self, inv: &VendorInvoice) -> Result<bool, PortError> {
        Ok(self.invoice(&inv.order_id).await?.as_ref() == Some(inv))
    }

    /// The invoice write + `other`, atomically, while our claim holds. (The SDK gives each call
    /// a ClientRequestToken and keeps it across its own retries; a repeated call whose first
    /// attempt succeeded is recognised by `already_written`.)
    async fn transact_with_claim(&self, inv: &VendorInvoice, other: TransactWriteItem, what: &str) -> Result<(), PortError> {
        let res = self.client.transact_write_items().transact_items(self.claimed_invoice_put(inv)?).transact_items(other).send().await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons: Option<Vec<String>> = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        Some(c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect())
                    }
                    _ => None,
                };
                let Some(reasons) = reasons else {
                    return Err(sdk_err(&format!("dynamodb {what}"), e));
                };
                if reasons.first().map(String::as_str) == Some("ConditionalCheckFailed") && self.already_written(inv).await? {
                    return Ok(());
                }
                let why = match (reasons.first().map(String::as_str), reasons.get(1).map(String::as_str)) {
                    (Some("ConditionalCheckFailed"), _) => {
                        format!("the claim of order {} by {} no longer holds", inv.order_id, inv.claim_id)
                    }
                    (_, Some("ConditionalCheckFailed")) => "the second record already exists".to_string(),
                    _ => format!("transaction cancelled: [{}]", reasons.join(", ")),
                };
                Err(PortError(format!("dynamodb {what} of order {}: {why}", inv.order_id)))
            }
        }
    }
}
