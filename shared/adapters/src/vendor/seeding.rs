//! Seeding and operator helpers: storing orders, accounts, sellers and locations.

use super::*;

impl DynamoVendorRepo {
    pub async fn put_order(&self, order: &Order, account_id: &str) -> Result<(), PortError> {
        let mut item = self.keyed(order, order_pk(&self.company, &order.id), ORDER_SK, "order")?;
        item.insert("account_id".into(), s(account_id));
        self.put(item, "order").await
    }

    pub async fn put_account(&self, id: &str, account: &AmazonAccount) -> Result<(), PortError> {
        let mut item = self.keyed(account, account_pk(&self.company, id), ACCOUNT_SK, "amazon_account")?;
        item.insert("account_id".into(), s(id));
        self.put(item, "account").await
    }

    /// Keyed by the seller's Vendor ID (required).
    pub async fn put_seller(&self, seller: &Seller) -> Result<(), PortError> {
        let vendor_id = nonempty(&seller.vendor_id).ok_or_else(|| PortError("a seller needs a vendor id to be stored".into()))?;
        self.put(self.keyed(seller, seller_pk(&self.company, vendor_id), SELLER_SK, "seller")?, "seller").await
    }

    pub async fn put_location(&self, location: &Location) -> Result<(), PortError> {
        self.put(self.keyed(location, location_pk(&self.company, location.id.trim()), LOCATION_SK, "location")?, "location").await
    }

    pub async fn put_delivery_location(&self, dl: &DeliveryLocation) -> Result<(), PortError> {
        let item = self.keyed(dl, delivery_location_pk(&self.company, dl.location_id.trim()), DELIVERYLOC_SK, "delivery_location")?;
        self.put(item, "delivery location").await
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, PortError> {
        self.get_as(order_pk(&self.company, order_id), ORDER_SK, "order").await
    }

    pub async fn invoice(&self, order_id: &str) -> Result<Option<VendorInvoice>, PortError> {
        self.get_as(order_pk(&self.company, order_id), INVOICE_SK, "invoice").await
    }

    pub async fn feed(&self, transaction_id: &str) -> Result<Option<MarketplaceFeed>, PortError> {
        self.get_as(feed_pk(&self.company, transaction_id), FEED_SK, "feed").await
    }

    /// The Order Errors of an order (by source, code, message hash).
    pub async fn order_errors(&self, order_id: &str) -> Result<Vec<OrderError>, PortError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(order_pk(&self.company, order_id)))
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
