//! DynamoDB repository of the vendor invoice submission (same single table as [`crate::dynamo`]).
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

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::vendor::ports::{ClaimResult, OrderContext, VendorRepository};
use invoice_domain::vendor::records::{AmazonAccount, DeliveryLocation, Location, Order, Seller, Shipping};
use invoice_domain::vendor::records::{InvoiceState, MarketplaceFeed, OrderError, VendorInvoice};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::sdk_err;

pub const ORDER_SK: &str = "#ORDER";
pub const INVOICE_SK: &str = "#INVOICE";
pub const ERROR_SK_PREFIX: &str = "ERROR#";
pub const ACCOUNT_SK: &str = "#ACCOUNT";
pub const SELLER_SK: &str = "#SELLER";
pub const LOCATION_SK: &str = "#LOCATION";
pub const DELIVERYLOC_SK: &str = "#DELIVERYLOC";
pub const FEED_SK: &str = "#FEED";
/// GSI2 partition of vendor invoices whose submission outcome is unknown.
pub const UNKNOWN_INVOICES_PK: &str = "INVSTATUS#Unknown";

pub fn order_pk(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}

pub fn account_pk(account_id: &str) -> String {
    format!("ACCOUNT#{account_id}")
}

pub fn seller_pk(vendor_id: &str) -> String {
    format!("SELLER#{vendor_id}")
}

pub fn location_pk(id: &str) -> String {
    format!("LOCATION#{id}")
}

pub fn delivery_location_pk(location_id: &str) -> String {
    format!("DELIVERYLOC#{location_id}")
}

pub fn feed_pk(transaction_id: &str) -> String {
    format!("FEED#{transaction_id}")
}

/// GSI2 partition of feeds of a type in a status, e.g. `FEEDSTATUS#Order Invoice#Processing`.
pub fn feed_status_pk(feed_type: &str, status: &str) -> String {
    format!("FEEDSTATUS#{feed_type}#{status}")
}

/// The deterministic sort key of an Order Error.
pub fn order_error_sk(e: &OrderError) -> String {
    let digest = hex::encode(Sha256::digest(e.message.as_bytes()));
    format!("{ERROR_SK_PREFIX}{}#{}#{}", e.source, e.code, &digest[..16])
}

use crate::dynamo::{from_item, s, to_item, Item};

/// Trimmed, non-empty text.
fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|x| !x.is_empty())
}

fn state_name(st: InvoiceState) -> &'static str {
    match st {
        InvoiceState::Submitting => "Submitting",
        InvoiceState::Unknown => "Unknown",
        InvoiceState::Pending => "Pending",
        InvoiceState::Sent => "Sent",
        InvoiceState::Error => "Error",
    }
}

#[derive(Clone)]
pub struct DynamoVendorRepo {
    pub client: Client,
    pub table: String,
}

impl DynamoVendorRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoVendorRepo { client, table: table.into() }
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

    fn keyed<T: Serialize>(v: &T, pk: String, sk: &str, kind: &str) -> Result<Item, PortError> {
        let mut item = to_item(v)?;
        item.insert("PK".into(), s(pk));
        item.insert("SK".into(), s(sk));
        item.insert("type".into(), s(kind));
        Ok(item)
    }

    fn invoice_item(inv: &VendorInvoice) -> Result<Item, PortError> {
        let mut item = Self::keyed(inv, order_pk(&inv.order_id), INVOICE_SK, "vendor_invoice")?;
        // Unknown outcomes are listed for reconciliation (GSI2, oldest first). Every invoice
        // write is a whole-item Put, so leaving Unknown drops the index entry.
        if inv.status == InvoiceState::Unknown {
            item.insert("GSI2PK".into(), s(UNKNOWN_INVOICES_PK));
            item.insert("GSI2SK".into(), s(format!("{}#{}", inv.updated_at, inv.order_id)));
        }
        Ok(item)
    }

    fn feed_item(feed: &MarketplaceFeed) -> Result<Item, PortError> {
        let mut item = Self::keyed(feed, feed_pk(&feed.external_id), FEED_SK, "marketplace_feed")?;
        item.insert("GSI2PK".into(), s(feed_status_pk(&feed.feed_type, &feed.status)));
        item.insert("GSI2SK".into(), s(format!("{}#{}", feed.submitted_date, feed.external_id)));
        Ok(item)
    }

    fn error_item(e: &OrderError) -> Result<Item, PortError> {
        Self::keyed(e, order_pk(&e.order_id), &order_error_sk(e), "order_error")
    }

    /// A Put of the invoice that only succeeds while `claim_id` holds the Submitting claim.
    fn claimed_invoice_put(&self, inv: &VendorInvoice) -> Result<TransactWriteItem, PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::invoice_item(inv)?))
            .condition_expression("#status = :submitting AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":submitting", s(state_name(InvoiceState::Submitting)))
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
            .set_item(Some(Self::invoice_item(invoice)?))
            .condition_expression("#status = :expected AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", s(state_name(status)))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().map(|x| x.is_conditional_check_failed_exception()).unwrap_or(false) => Ok(false),
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

    // ---- seeding and operator helpers ---------------------------------------------------------

    pub async fn put_order(&self, order: &Order, account_id: &str) -> Result<(), PortError> {
        let mut item = Self::keyed(order, order_pk(&order.id), ORDER_SK, "order")?;
        item.insert("account_id".into(), s(account_id));
        self.put(item, "order").await
    }

    pub async fn put_account(&self, id: &str, account: &AmazonAccount) -> Result<(), PortError> {
        let mut item = Self::keyed(account, account_pk(id), ACCOUNT_SK, "amazon_account")?;
        item.insert("account_id".into(), s(id));
        self.put(item, "account").await
    }

    /// Keyed by the seller's Vendor ID (required).
    pub async fn put_seller(&self, seller: &Seller) -> Result<(), PortError> {
        let vendor_id = nonempty(&seller.vendor_id).ok_or_else(|| PortError("a seller needs a vendor id to be stored".into()))?;
        self.put(Self::keyed(seller, seller_pk(vendor_id), SELLER_SK, "seller")?, "seller").await
    }

    pub async fn put_location(&self, location: &Location) -> Result<(), PortError> {
        self.put(Self::keyed(location, location_pk(location.id.trim()), LOCATION_SK, "location")?, "location").await
    }

    pub async fn put_delivery_location(&self, dl: &DeliveryLocation) -> Result<(), PortError> {
        let item = Self::keyed(dl, delivery_location_pk(dl.location_id.trim()), DELIVERYLOC_SK, "delivery_location")?;
        self.put(item, "delivery location").await
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, PortError> {
        self.get_as(order_pk(order_id), ORDER_SK, "order").await
    }

    pub async fn invoice(&self, order_id: &str) -> Result<Option<VendorInvoice>, PortError> {
        self.get_as(order_pk(order_id), INVOICE_SK, "invoice").await
    }

    pub async fn feed(&self, transaction_id: &str) -> Result<Option<MarketplaceFeed>, PortError> {
        self.get_as(feed_pk(transaction_id), FEED_SK, "feed").await
    }

    /// The Order Errors of an order (by source, code, message hash).
    pub async fn order_errors(&self, order_id: &str) -> Result<Vec<OrderError>, PortError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(order_pk(order_id)))
            .expression_attribute_values(":p", s(ERROR_SK_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            out.push(from_item(item.map_err(|e| sdk_err("dynamodb query order errors", e))?)?);
        }
        Ok(out)
    }

    /// `Order Invoice` feeds still `Processing`, oldest submission first (GSI2; eventually
    /// consistent like every index read).
    pub async fn processing_feeds(&self, limit: i32) -> Result<Vec<MarketplaceFeed>, PortError> {
        use invoice_domain::vendor::ports::FeedRepository;
        Ok(self.processing_feeds_page(limit, None).await?.feeds)
    }
}

impl VendorRepository for DynamoVendorRepo {
    async fn load(&self, order_id: &str) -> Result<Option<OrderContext>, PortError> {
        let Some(mut order_item) = self.get(order_pk(order_id), ORDER_SK, "order").await? else {
            return Ok(None);
        };
        let account_id = match order_item.remove("account_id") {
            Some(AttributeValue::S(a)) if !a.trim().is_empty() => a,
            _ => return Err(PortError(format!("order {order_id} has no account_id"))),
        };
        let order: Order = from_item(order_item)?;
        let usable_shipping =
            order.shipping.as_ref().map(|sh| nonempty(&sh.street1).is_some() || nonempty(&sh.buyer_name).is_some()).unwrap_or(false);
        let seller_key = nonempty(&order.purchase_order_selling_party).map(seller_pk);
        let delivery_key = if usable_shipping { None } else { nonempty(&order.shipping_address_id).map(delivery_location_pk) };

        // Independent reads in parallel; the default location needs the account first.
        let account_and_location = async {
            let account: AmazonAccount = self
                .get_as(account_pk(&account_id), ACCOUNT_SK, "account")
                .await?
                .ok_or_else(|| PortError(format!("order {order_id} belongs to account {account_id}, which does not exist")))?;
            let location = match nonempty(&account.default_location_id) {
                Some(id) => self.get_as::<Location>(location_pk(id), LOCATION_SK, "location").await?,
                None => None,
            };
            Ok::<_, PortError>((account, location))
        };
        let seller = async {
            match seller_key {
                Some(pk) => self.get_as::<Seller>(pk, SELLER_SK, "seller").await,
                None => Ok(None),
            }
        };
        let delivery = async {
            match delivery_key {
                Some(pk) => self.get_as::<DeliveryLocation>(pk, DELIVERYLOC_SK, "delivery location").await,
                None => Ok(None),
            }
        };
        let invoice = self.invoice(order_id);
        let (acc_loc, seller, delivery, invoice) = tokio::join!(account_and_location, seller, delivery, invoice);
        let (account, default_location) = acc_loc?;
        Ok(Some(OrderContext {
            order,
            account,
            seller: seller?,
            default_location,
            delivery_location: delivery?,
            existing_invoice: invoice?,
        }))
    }

    async fn claim(&self, invoice: &VendorInvoice) -> Result<ClaimResult, PortError> {
        let item = Self::invoice_item(invoice)?;
        match crate::dynamo::put_if_absent(&self.client, &self.table, item, "claim vendor invoice").await? {
            None => Ok(ClaimResult::Claimed),
            Some(old) => Ok(ClaimResult::Exists(Box::new(from_item(old)?))),
        }
    }

    async fn record_submitted(&self, invoice: &VendorInvoice, feed: &MarketplaceFeed) -> Result<(), PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::feed_item(feed)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| PortError(format!("build put: {e}")))?;
        self.transact_with_claim(invoice, TransactWriteItem::builder().put(put).build(), "record submitted").await
    }

    async fn record_rejected(&self, invoice: &VendorInvoice, error: &OrderError) -> Result<(), PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::error_item(error)?))
            .build()
            .map_err(|e| PortError(format!("build put: {e}")))?;
        self.transact_with_claim(invoice, TransactWriteItem::builder().put(put).build(), "record rejected").await
    }

    async fn record_unknown(&self, invoice: &VendorInvoice) -> Result<(), PortError> {
        if self.put_invoice_if(invoice, InvoiceState::Submitting, &invoice.claim_id, "record unknown").await?
            || self.already_written(invoice).await?
        {
            return Ok(());
        }
        Err(PortError(format!("dynamodb record unknown of order {}: the claim by {} no longer holds", invoice.order_id, invoice.claim_id)))
    }

    async fn release(&self, order_id: &str, claim_id: &str) -> Result<(), PortError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(order_pk(order_id)))
            .key("SK", s(INVOICE_SK))
            .condition_expression("#status = :submitting AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":submitting", s(state_name(InvoiceState::Submitting)))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Not ours (any more), or already gone: nothing to release.
            Err(e) if e.as_service_error().map(|x| x.is_conditional_check_failed_exception()).unwrap_or(false) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb release claim", e)),
        }
    }

    async fn put_order_errors(&self, errors: &[OrderError]) -> Result<(), PortError> {
        // Same key twice in one BatchWriteItem is refused: keep the last of each key.
        let mut by_key: Vec<(String, String, Item)> = Vec::with_capacity(errors.len());
        for e in errors {
            let (pk, sk) = (order_pk(&e.order_id), order_error_sk(e));
            let item = Self::error_item(e)?;
            match by_key.iter_mut().find(|(p, k, _)| *p == pk && *k == sk) {
                Some(slot) => slot.2 = item,
                None => by_key.push((pk, sk, item)),
            }
        }
        crate::dynamo::batch_put(&self.client, &self.table, by_key.into_iter().map(|(_, _, i)| i).collect()).await
    }

    async fn store_shipping(&self, order_id: &str, shipping: &Shipping) -> Result<(), PortError> {
        let value = serde_dynamo::to_attribute_value(shipping).map_err(|e| PortError(format!("encode shipping: {e}")))?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(order_pk(order_id)))
            .key("SK", s(ORDER_SK))
            .update_expression("SET shipping = :shipping")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":shipping", value)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().map(|x| x.is_conditional_check_failed_exception()).unwrap_or(false) => {
                Err(PortError(format!("store shipping: order {order_id} does not exist")))
            }
            Err(e) => Err(sdk_err("dynamodb store shipping", e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status poller (issue 5): Processing feeds page by page, and conditional resolution.

impl invoice_domain::vendor::ports::FeedRepository for DynamoVendorRepo {
    async fn processing_feeds_page(&self, limit: i32, start: Option<String>) -> Result<invoice_domain::vendor::ports::FeedPage, PortError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(feed_status_pk("Order Invoice", "Processing")))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000));
        if let Some(cursor) = start {
            // The cursor is the last feed's transaction id; its index key is rebuilt from the item.
            if let Some(feed) = self.feed(&cursor).await? {
                q = q
                    .exclusive_start_key("PK", s(feed_pk(&feed.external_id)))
                    .exclusive_start_key("SK", s(FEED_SK))
                    .exclusive_start_key("GSI2PK", s(feed_status_pk(&feed.feed_type, "Processing")))
                    .exclusive_start_key("GSI2SK", s(format!("{}#{}", feed.submitted_date, feed.external_id)));
            }
        }
        let out = q.send().await.map_err(|e| sdk_err("dynamodb query processing feeds", e))?;
        let feeds: Vec<MarketplaceFeed> = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        let next = match out.last_evaluated_key {
            Some(_) => feeds.last().map(|f| f.external_id.clone()),
            None => None,
        };
        Ok(invoice_domain::vendor::ports::FeedPage { feeds, next })
    }

    async fn resolve(
        &self,
        feed: &MarketplaceFeed,
        resolution: &invoice_domain::vendor::ports::Resolution,
        at: &str,
    ) -> Result<invoice_domain::vendor::ports::Applied, PortError> {
        use aws_sdk_dynamodb::types::Update;
        use invoice_domain::vendor::ports::{Applied, Resolution};
        let (feed_status, inv_status, sent_by, integration_error, errors) = match resolution {
            Resolution::Success => ("Success", InvoiceState::Sent, "Uploaded", None, &[][..]),
            Resolution::Failure { integration_error, order_errors } => {
                ("Failure", InvoiceState::Error, "Error", Some(integration_error.clone()), &order_errors[..])
            }
        };
        let build = |e: aws_sdk_dynamodb::error::BuildError| PortError(format!("build update: {e}"));
        let feed_update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(feed_pk(&feed.external_id)))
            .key("SK", s(FEED_SK))
            .update_expression("SET #status = :new, GSI2PK = :g2pk, resolved_at = :at")
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":new", s(feed_status))
            .expression_attribute_values(":processing", s("Processing"))
            .expression_attribute_values(":g2pk", s(feed_status_pk(&feed.feed_type, feed_status)))
            .expression_attribute_values(":at", s(at))
            .build()
            .map_err(build)?;
        let mut inv_update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(order_pk(&feed.order_id)))
            .key("SK", s(INVOICE_SK))
            .condition_expression("transaction_id = :tx")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":tx", s(&feed.external_id))
            .expression_attribute_values(":st", s(state_name(inv_status)))
            .expression_attribute_values(":sent", s(sent_by))
            .expression_attribute_values(":at", s(at));
        inv_update = match &integration_error {
            Some(text) => inv_update
                .update_expression("SET #status = :st, sent_by_integration = :sent, integration_error = :err, updated_at = :at")
                .expression_attribute_values(":err", s(text)),
            None => inv_update.update_expression("SET #status = :st, sent_by_integration = :sent, updated_at = :at"),
        };
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(feed_update).build())
            .transact_items(TransactWriteItem::builder().update(inv_update.build().map_err(build)?).build());
        // Order Errors have deterministic keys: a repeated resolution could only overwrite them.
        let mut seen = std::collections::HashSet::new();
        for e in errors.iter().take(98) {
            let item = Self::error_item(e)?;
            if !seen.insert(order_error_sk(e)) {
                continue;
            }
            let put = Put::builder().table_name(&self.table).set_item(Some(item)).build().map_err(build)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match tx.send().await {
            Ok(_) => Ok(Applied::Done),
            Err(e) => {
                let first = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().first().and_then(|r| r.code()).map(str::to_string)
                    }
                    _ => None,
                };
                if first.as_deref() == Some("ConditionalCheckFailed") {
                    Ok(Applied::AlreadyResolved)
                } else {
                    Err(sdk_err("dynamodb resolve feed", e))
                }
            }
        }
    }
}

impl invoice_domain::vendor::ports::UnknownRepository for DynamoVendorRepo {
    async fn unknown_invoices(&self, limit: i32) -> Result<Vec<VendorInvoice>, PortError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(UNKNOWN_INVOICES_PK))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb query unknown invoices", e))?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    async fn reclaim_unknown(&self, current: &VendorInvoice, claimed: &VendorInvoice) -> Result<bool, PortError> {
        self.put_invoice_if(claimed, InvoiceState::Unknown, &current.claim_id, "reclaim unknown invoice").await
    }
}
