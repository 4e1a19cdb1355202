//! DynamoDB single-table repository.
//!
//! | item            | PK                    | SK                     | GSI1 (by PO)                         | GSI2 (by status, date)                  | GSI3 (by supplier)                         |
//! |-----------------|-----------------------|------------------------|--------------------------------------|-----------------------------------------|--------------------------------------------|
//! | invoice header  | `INV#<supplier>#<id>` | `#HEADER`              |                                      | `STATUS#<status>` / `<received>#<key>`  | `SUPPLIER#<supplier>` / `<date>#<id>`      |
//! | invoice line    | `INV#…`               | `LINE#<0000000001>`    |                                      |                                         |                                            |
//! | journal line    | `INV#…`               | `ENTRY#<kind>#<00001>` |                                      |                                         |                                            |
//! | PO reference    | `INV#…`               | `PO#<po>`              | `PO#<po>` / `<date>#<key>`           |                                         |                                            |
//! | supplier order  | `INV#…`               | `SORDER#<id>`          | `SORDER#<id>` / `<date>#<key>`       |                                         |                                            |
//! | rejection       | `REJ#<sha256>`        | `#REJECTED`            |                                      | `STATUS#Rejected` / `<received>#<sha>`  |                                            |
//!
//! The status index is written only when an invoice becomes Valid (or Cancelled), so a
//! half-ingested invoice never shows up in listings. No Scan anywhere.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    PutRequest, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::invoice::ingest::{
    CancelResult, Claim, EntryRecord, InvoiceRecord, InvoiceRepository, InvoiceStatus, LineRecord, RejectionRecord,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sdk_err;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub const HEADER_SK: &str = "#HEADER";
pub const REJECTED_SK: &str = "#REJECTED";

/// Writes items with BatchWriteItem, 25 at a time, retrying unprocessed items with backoff.
/// Keys must be distinct (BatchWriteItem rejects duplicates within one call).
pub(crate) async fn batch_put(client: &Client, table: &str, items: Vec<Item>) -> Result<(), PortError> {
    for chunk in items.chunks(25) {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                PutRequest::builder()
                    .set_item(Some(i.clone()))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| PortError(format!("build put request: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let mut attempt = 0u32;
        let mut delays = invoice_spapi::backoff::exponential(Duration::from_millis(100), Duration::from_millis(3200), 8);
        while !pending.is_empty() {
            let out =
                client.batch_write_item().request_items(table, pending).send().await.map_err(|e| sdk_err("dynamodb batch write", e))?;
            pending = out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                let Some(delay) = delays.next() else {
                    return Err(PortError(format!("{} items still unprocessed after {attempt} attempts", pending.len())));
                };
                tokio::time::sleep(delay).await;
            }
        }
    }
    Ok(())
}

/// A conditional put that creates the item only if its key is free. `Ok(None)`: created;
/// `Ok(Some(old))`: an item existed (returned by the failed condition, or read back
/// consistently when the service does not return it).
pub(crate) async fn put_if_absent(client: &Client, table: &str, item: Item, what: &str) -> Result<Option<Item>, PortError> {
    let key: Item = ["PK", "SK"].iter().filter_map(|k| item.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    let res = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match res {
        Ok(_) => Ok(None),
        Err(e) => {
            let Some(svc) = e.as_service_error().filter(|s| s.is_conditional_check_failed_exception()) else {
                return Err(sdk_err(&format!("dynamodb {what}"), e));
            };
            let old = match svc {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item.clone(),
                _ => None,
            };
            if let Some(old) = old.filter(|i| !i.is_empty()) {
                return Ok(Some(old));
            }
            let out = client
                .get_item()
                .table_name(table)
                .set_key(Some(key))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk_err(&format!("dynamodb {what} (read back)"), e))?;
            out.item.map(Some).ok_or_else(|| PortError(format!("{what}: the condition failed but no item exists")))
        }
    }
}

pub fn invoice_pk(invoice_key: &str) -> String {
    format!("INV#{invoice_key}")
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn to_item<T: Serialize>(v: &T) -> Result<Item, PortError> {
    serde_dynamo::to_item(v).map_err(|e| PortError(format!("encode item: {e}")))
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, PortError> {
    serde_dynamo::from_item(item).map_err(|e| PortError(format!("decode item: {e}")))
}

#[derive(Clone)]
pub struct DynamoRepo {
    pub client: Client,
    pub table: String,
}

impl DynamoRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoRepo { client, table: table.into() }
    }

    fn header_item(&self, h: &InvoiceRecord) -> Result<Item, PortError> {
        let mut item = to_item(h)?;
        item.insert("PK".into(), s(invoice_pk(&h.invoice_key)));
        item.insert("SK".into(), s(HEADER_SK));
        item.insert("type".into(), s("invoice"));
        Ok(item)
    }

    /// The invoice header (strongly consistent read).
    pub async fn invoice(&self, invoice_key: &str) -> Result<Option<InvoiceRecord>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(invoice_key)))
            .key("SK", s(HEADER_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb get invoice", e))?;
        out.item.map(from_item).transpose()
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<(), PortError> {
        batch_put(&self.client, &self.table, items).await
    }

    /// Items of an invoice partition whose SK starts with `prefix` (paginated).
    async fn query_partition(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, PortError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":p", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            out.push(item.map_err(|e| sdk_err("dynamodb query", e))?);
        }
        Ok(out)
    }

    /// Queries an index by partition key, newest first.
    async fn query_index(&self, index: &str, pk_attr: &str, pk: &str, limit: i32) -> Result<Vec<Item>, PortError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 1000))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            out.push(item.map_err(|e| sdk_err("dynamodb query index", e))?);
            if out.len() as i32 >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Invoices in a status (Valid, Cancelled), newest first.
    pub async fn invoices_by_status(&self, status: &str, limit: i32) -> Result<Vec<InvoiceRecord>, PortError> {
        self.query_index("GSI2", "GSI2PK", &format!("STATUS#{status}"), limit).await?.into_iter().map(from_item).collect()
    }

    /// Rejected documents, newest first.
    pub async fn rejections(&self, limit: i32) -> Result<Vec<RejectionRecord>, PortError> {
        self.query_index("GSI2", "GSI2PK", "STATUS#Rejected", limit).await?.into_iter().map(from_item).collect()
    }

    /// Invoices of a supplier, newest invoice date first.
    pub async fn invoices_by_supplier(&self, supplier: &str, limit: i32) -> Result<Vec<InvoiceRecord>, PortError> {
        self.query_index("GSI3", "GSI3PK", &format!("SUPPLIER#{supplier}"), limit).await?.into_iter().map(from_item).collect()
    }

    /// Invoice keys that refer to a PO number (or, with `SORDER#`, an Amazon order id).
    pub async fn invoice_keys_by_reference(&self, reference: &str) -> Result<Vec<String>, PortError> {
        let items = self.query_index("GSI1", "GSI1PK", reference, 1000).await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| match i.remove("invoice_key") {
                Some(AttributeValue::S(k)) => Some(k),
                _ => None,
            })
            .collect())
    }

    pub async fn lines(&self, invoice_key: &str) -> Result<Vec<LineRecord>, PortError> {
        self.query_partition(&invoice_pk(invoice_key), "LINE#").await?.into_iter().map(from_item).collect()
    }

    pub async fn entries(&self, invoice_key: &str) -> Result<Vec<EntryRecord>, PortError> {
        self.query_partition(&invoice_pk(invoice_key), "ENTRY#").await?.into_iter().map(from_item).collect()
    }

    fn entry_item(&self, e: &EntryRecord) -> Result<Item, PortError> {
        let mut item = to_item(e)?;
        item.insert("PK".into(), s(invoice_pk(&e.invoice_key)));
        item.insert("SK".into(), s(format!("ENTRY#{}#{:05}", e.kind, e.line.seq)));
        item.insert("type".into(), s("entry"));
        Ok(item)
    }
}

impl InvoiceRepository for DynamoRepo {
    async fn claim(&self, header: &InvoiceRecord) -> Result<Claim, PortError> {
        let Some(old) = put_if_absent(&self.client, &self.table, self.header_item(header)?, "claim invoice").await? else {
            return Ok(Claim::Claimed);
        };
        let existing: InvoiceRecord = from_item(old)?;
        if existing.content_sha256 == header.content_sha256 {
            Ok(Claim::Same(existing))
        } else {
            Ok(Claim::Conflict(existing))
        }
    }

    async fn put_details(&self, header: &InvoiceRecord, lines: &[LineRecord], entries: &[EntryRecord]) -> Result<(), PortError> {
        let pk = invoice_pk(&header.invoice_key);
        let mut items = Vec::with_capacity(lines.len() + entries.len() + header.order_ids.len() + 1);
        for l in lines {
            let mut item = to_item(l)?;
            item.insert("PK".into(), s(&pk));
            item.insert("SK".into(), s(format!("LINE#{:010}", l.line_number)));
            item.insert("type".into(), s("line"));
            items.push(item);
        }
        for e in entries {
            items.push(self.entry_item(e)?);
        }
        let gsi1sk = format!("{}#{}", header.invoice_date, header.invoice_key);
        let refs = header.order_ids.iter().map(|po| ("PO", po)).chain(header.supplier_order_ids.iter().map(|o| ("SORDER", o)));
        for (kind, reference) in refs {
            let mut item = Item::new();
            item.insert("PK".into(), s(&pk));
            item.insert("SK".into(), s(format!("{kind}#{reference}")));
            item.insert("GSI1PK".into(), s(format!("{kind}#{reference}")));
            item.insert("GSI1SK".into(), s(&gsi1sk));
            item.insert("type".into(), s("reference"));
            item.insert("invoice_key".into(), s(&header.invoice_key));
            item.insert("invoice_id".into(), s(&header.invoice_id));
            item.insert("supplier".into(), s(&header.supplier));
            item.insert("invoice_date".into(), s(&header.invoice_date));
            item.insert("net".into(), s(&header.net));
            item.insert("currency".into(), s(&header.currency));
            items.push(item);
        }
        self.batch_put(items).await
    }

    async fn mark_valid(&self, header: &InvoiceRecord) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(&header.invoice_key)))
            .key("SK", s(HEADER_SK))
            .update_expression("SET #st = :valid, GSI2PK = :g2pk, GSI2SK = :g2sk, GSI3PK = :g3pk, GSI3SK = :g3sk")
            .condition_expression("content_sha256 = :sha")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":valid", s(InvoiceStatus::Valid.as_str()))
            .expression_attribute_values(":g2pk", s("STATUS#Valid"))
            .expression_attribute_values(":g2sk", s(format!("{}#{}", header.received_at, header.invoice_key)))
            .expression_attribute_values(":g3pk", s(format!("SUPPLIER#{}", header.supplier)))
            .expression_attribute_values(":g3sk", s(format!("{}#{}", header.invoice_date, header.invoice_id)))
            .expression_attribute_values(":sha", s(&header.content_sha256))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb mark invoice valid", e))?;
        Ok(())
    }

    async fn get_invoice(&self, invoice_key: &str) -> Result<Option<InvoiceRecord>, PortError> {
        self.invoice(invoice_key).await
    }

    async fn get_entries(&self, invoice_key: &str) -> Result<Vec<EntryRecord>, PortError> {
        self.entries(invoice_key).await
    }

    async fn cancel(
        &self,
        invoice_key: &str,
        by_sha256: &str,
        at: &str,
        cancel_document_key: &str,
        reversal: &[EntryRecord],
    ) -> Result<CancelResult, PortError> {
        // Reversal lines first: deterministic keys and content, so a retry rewrites the same.
        let items = reversal.iter().map(|e| self.entry_item(e)).collect::<Result<Vec<_>, _>>()?;
        self.batch_put(items).await?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(invoice_key)))
            .key("SK", s(HEADER_SK))
            .update_expression(
                "SET #st = :cancelled, cancelled_by_sha256 = :sha, cancelled_at = :at, cancel_document_key = :doc, GSI2PK = :g2pk, GSI2SK = :g2sk",
            )
            .condition_expression("#st = :valid")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":cancelled", s(InvoiceStatus::Cancelled.as_str()))
            .expression_attribute_values(":valid", s(InvoiceStatus::Valid.as_str()))
            .expression_attribute_values(":sha", s(by_sha256))
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":doc", s(cancel_document_key))
            .expression_attribute_values(":g2pk", s("STATUS#Cancelled"))
            .expression_attribute_values(":g2sk", s(format!("{at}#{invoice_key}")))
            .send()
            .await;
        match res {
            Ok(_) => Ok(CancelResult::Cancelled),
            Err(e) if e.as_service_error().map(|s| s.is_conditional_check_failed_exception()).unwrap_or(false) => {
                Ok(CancelResult::NotValid)
            }
            Err(e) => Err(sdk_err("dynamodb cancel invoice", e)),
        }
    }

    async fn put_rejection(&self, rec: &RejectionRecord) -> Result<bool, PortError> {
        let mut item = to_item(rec)?;
        item.insert("PK".into(), s(format!("REJ#{}", rec.content_sha256)));
        item.insert("SK".into(), s(REJECTED_SK));
        item.insert("type".into(), s("rejection"));
        item.insert("status".into(), s("Rejected"));
        item.insert("GSI2PK".into(), s("STATUS#Rejected"));
        item.insert("GSI2SK".into(), s(format!("{}#{}", rec.received_at, rec.content_sha256)));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().map(|s| s.is_conditional_check_failed_exception()).unwrap_or(false) => Ok(false),
            Err(e) => Err(sdk_err("dynamodb put rejection", e)),
        }
    }
}

/// Creates the table with its three indexes when missing (local stack and tests; on AWS the
/// SAM template creates the same table).
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), PortError> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| PortError(e.to_string()))
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().map_err(|e| PortError(e.to_string()));
    let gsi = |name: &str| -> Result<GlobalSecondaryIndex, PortError> {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(&format!("{name}PK"), KeyType::Hash)?)
            .key_schema(key(&format!("{name}SK"), KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(|e| PortError(e.to_string()))
    };
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?);
    for a in ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"] {
        req = req.attribute_definitions(attr(a)?);
    }
    for g in ["GSI1", "GSI2", "GSI3"] {
        req = req.global_secondary_indexes(gsi(g)?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().map(|s| s.is_resource_in_use_exception()).unwrap_or(false) => {}
        Err(e) => return Err(sdk_err("dynamodb create table", e)),
    }
    for _ in 0..60 {
        let d = client.describe_table().table_name(table).send().await.map_err(|e| sdk_err("dynamodb describe table", e))?;
        if d.table().and_then(|t| t.table_status()) == Some(&aws_sdk_dynamodb::types::TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(PortError(format!("table {table} did not become ACTIVE")))
}
