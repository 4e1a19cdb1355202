//! The submission workflow's port (claim, record, release) for one company.

use super::*;

impl VendorRepository for DynamoVendorRepo {
    async fn load(&self, order_id: &str) -> Result<Option<OrderContext>, PortError> {
        let Some(mut order_item) = self.get(order_pk(&self.company, order_id), ORDER_SK, "order").await? else {
            return Ok(None);
        };
        let account_id = match order_item.remove("account_id") {
            Some(AttributeValue::S(a)) if !a.trim().is_empty() => a,
            _ => return Err(PortError(format!("order {order_id} has no account_id"))),
        };
        let order: Order = from_item(order_item)?;
        let usable_shipping = order.shipping.as_ref().is_some_and(Shipping::is_usable);
        let seller_key = nonempty(&order.purchase_order_selling_party).map(|v| seller_pk(&self.company, v));
        let delivery_key =
            if usable_shipping { None } else { nonempty(&order.shipping_address_id).map(|l| delivery_location_pk(&self.company, l)) };

        // Independent reads in parallel; the default location needs the account first.
        let account_and_location = async {
            let account: AmazonAccount = self
                .get_as(account_pk(&self.company, &account_id), ACCOUNT_SK, "account")
                .await?
                .ok_or_else(|| PortError(format!("order {order_id} belongs to account {account_id}, which does not exist")))?;
            let location = match nonempty(&account.default_location_id) {
                Some(id) => self.get_as::<Location>(location_pk(&self.company, id), LOCATION_SK, "location").await?,
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
        let item = self.invoice_item(invoice)?;
        match crate::table::put_if_absent(&self.client, &self.table, item, "claim vendor invoice").await? {
            None => Ok(ClaimResult::Claimed),
            Some(old) => Ok(ClaimResult::Exists(Box::new(from_item(old)?))),
        }
    }

    async fn record_submitted(&self, invoice: &VendorInvoice, feed: &MarketplaceFeed) -> Result<(), PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.feed_item(feed)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| PortError(format!("build put: {e}")))?;
        self.transact_with_claim(invoice, TransactWriteItem::builder().put(put).build(), "record submitted").await
    }

    async fn record_rejected(&self, invoice: &VendorInvoice, error: &OrderError) -> Result<(), PortError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.error_item(error)?))
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
            .key("PK", s(order_pk(&self.company, order_id)))
            .key("SK", s(INVOICE_SK))
            .condition_expression("#status = :submitting AND claim_id = :claim")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":submitting", s(InvoiceState::Submitting.as_str()))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Not ours (any more), or already gone: nothing to release.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb release claim", e)),
        }
    }

    async fn put_order_errors(&self, errors: &[OrderError]) -> Result<(), PortError> {
        // Same key twice in one BatchWriteItem is refused: keep the last of each key.
        let mut by_key: Vec<(String, String, Item)> = Vec::with_capacity(errors.len());
        for e in errors {
            let (pk, sk) = (order_pk(&self.company, &e.order_id), order_error_sk(e));
            let item = self.error_item(e)?;
            match by_key.iter_mut().find(|(p, k, _)| *p == pk && *k == sk) {
                Some(slot) => slot.2 = item,
                None => by_key.push((pk, sk, item)),
            }
        }
        crate::table::batch_put(&self.client, &self.table, by_key.into_iter().map(|(_, _, i)| i).collect()).await
    }

    async fn store_shipping(&self, order_id: &str, shipping: &Shipping) -> Result<(), PortError> {
        let value = serde_dynamo::to_attribute_value(shipping).map_err(|e| PortError(format!("encode shipping: {e}")))?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(order_pk(&self.company, order_id)))
            .key("SK", s(ORDER_SK))
            .update_expression("SET shipping = :shipping")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":shipping", value)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("store shipping: order {order_id} does not exist"))),
            Err(e) => Err(sdk_err("dynamodb store shipping", e)),
        }
    }
}
