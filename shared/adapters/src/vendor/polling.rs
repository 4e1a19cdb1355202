//! Status poller (Processing feeds page by page, conditional resolution) and reconciliation of
//! unknown outcomes, for one company.

use super::*;

impl invoice_domain::vendor::ports::FeedRepository for DynamoVendorRepo {
    async fn processing_feeds_page(&self, limit: i32, start: Option<String>) -> Result<invoice_domain::vendor::ports::FeedPage, PortError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(feed_status_pk(&self.company, FEED_TYPE, feed_status::PROCESSING)))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000));
        if let Some(cursor) = start {
            // The cursor is the last feed's transaction id; its index key is rebuilt from the item.
            if let Some(feed) = self.feed(&cursor).await? {
                q = q
                    .exclusive_start_key("PK", s(feed_pk(&self.company, &feed.external_id)))
                    .exclusive_start_key("SK", s(FEED_SK))
                    .exclusive_start_key("GSI2PK", s(feed_status_pk(&self.company, &feed.feed_type, feed_status::PROCESSING)))
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
        use invoice_domain::vendor::ports::Applied;
        let tr = resolution.transition();
        let (feed_status, inv_status, sent_by, integration_error, errors) =
            (tr.feed_status, tr.invoice_status, tr.sent_by_integration.as_str(), tr.integration_error, tr.order_errors);
        let build = |e: aws_sdk_dynamodb::error::BuildError| PortError(format!("build update: {e}"));
        let feed_update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(feed_pk(&self.company, &feed.external_id)))
            .key("SK", s(FEED_SK))
            .update_expression("SET #status = :new, GSI2PK = :g2pk, resolved_at = :at")
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":new", s(feed_status))
            .expression_attribute_values(":processing", s(feed_status::PROCESSING))
            .expression_attribute_values(":g2pk", s(feed_status_pk(&self.company, &feed.feed_type, feed_status)))
            .expression_attribute_values(":at", s(at))
            .build()
            .map_err(build)?;
        let mut inv_update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(order_pk(&self.company, &feed.order_id)))
            .key("SK", s(INVOICE_SK))
            .condition_expression("transaction_id = :tx")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":tx", s(&feed.external_id))
            .expression_attribute_values(":st", s(inv_status.as_str()))
            .expression_attribute_values(":sent", s(sent_by))
            .expression_attribute_values(":at", s(at));
        inv_update = match &integration_error {
            Some(text) => inv_update
                .update_expression("SET #status = :st, sent_by_integration = :sent, integration_error = :err, updated_at = :at")
                .expression_attribute_values(":err", s(*text)),
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
            let item = self.error_item(e)?;
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
            .expression_attribute_values(":pk", s(unknown_invoices_pk(&self.company)))
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
