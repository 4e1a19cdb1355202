//! The single DynamoDB table's helpers, used by every repository: item codec, batch writes
//! with backoff, the put-if-absent claim, conditional-failure detection, paginated queries,
//! and table creation for the local stack. Key layouts are in [`crate::keys`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection,
    ProjectionType, PutRequest, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sdk_err;

pub type Item = HashMap<String, AttributeValue>;

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

/// Reads items by key with BatchGetItem (strongly consistent), 100 keys at a time, retrying
/// unprocessed keys with backoff. Missing items are absent from the result; order is not kept.
pub(crate) async fn batch_get(client: &Client, table: &str, keys: &[(String, String)]) -> Result<Vec<Item>, PortError> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let mut pending: Vec<Item> =
            chunk.iter().map(|(pk, sk)| [("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))].into_iter().collect()).collect();
        let mut attempt = 0u32;
        let mut delays = invoice_spapi::backoff::exponential(Duration::from_millis(100), Duration::from_millis(3200), 8);
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| PortError(format!("build batch get: {e}")))?;
            let res = client.batch_get_item().request_items(table, request).send().await.map_err(|e| sdk_err("dynamodb batch get", e))?;
            out.extend(res.responses.and_then(|mut m| m.remove(table)).unwrap_or_default());
            pending = res.unprocessed_keys.and_then(|mut m| m.remove(table)).map(|k| k.keys).unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                let Some(delay) = delays.next() else {
                    return Err(PortError(format!("{} keys still unprocessed after {attempt} attempts", pending.len())));
                };
                tokio::time::sleep(delay).await;
            }
        }
    }
    Ok(out)
}

/// A conditional put that creates the item only if its key is free. `Ok(None)`: created;
/// `Ok(Some(old))`: an item existed (returned by the failed condition, or read back
/// consistently when the service does not return it).
pub(crate) async fn put_if_absent(client: &Client, table: &str, item: Item, what: &str) -> Result<Option<Item>, PortError> {
    put_if(client, table, item, "attribute_not_exists(PK)", &[], vec![], what).await
}

/// Puts the item when `condition` holds; `Ok(Some(existing))` when it does not.
pub(crate) async fn put_if(
    client: &Client,
    table: &str,
    item: Item,
    condition: &str,
    names: &[(&str, &str)],
    values: Vec<(&str, AttributeValue)>,
    what: &str,
) -> Result<Option<Item>, PortError> {
    let key: Item = ["PK", "SK"].iter().filter_map(|k| item.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    let mut req = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (k, v) in names {
        req = req.expression_attribute_names(*k, *v);
    }
    for (k, v) in values {
        req = req.expression_attribute_values(k, v);
    }
    let res = req.send().await;
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

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn to_item<T: Serialize>(v: &T) -> Result<Item, PortError> {
    serde_dynamo::to_item(v).map_err(|e| PortError(format!("encode item: {e}")))
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, PortError> {
    serde_dynamo::from_item(item).map_err(|e| PortError(format!("decode item: {e}")))
}

/// True when an SDK error is a failed condition (the write was refused, nothing changed).
pub(crate) fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// A key-condition query on the table (`PK`) or on an index (`GSI<n>PK`).
pub(crate) struct Q<'a> {
    index: Option<&'a str>,
    pk_attr: String,
    pk: &'a str,
    sk_prefix: Option<&'a str>,
    sk_between: Option<(&'a str, &'a str)>,
    forward: bool,
    limit: Option<usize>,
}

impl<'a> Q<'a> {
    /// Items of a table partition, SK ascending, strongly consistent.
    pub(crate) fn partition(pk: &'a str) -> Self {
        Q { index: None, pk_attr: "PK".into(), pk, sk_prefix: None, sk_between: None, forward: true, limit: None }
    }

    /// Items of an index partition (`GSI2` → `GSI2PK` / `GSI2SK`), SK ascending.
    pub(crate) fn index(index: &'a str, pk: &'a str) -> Self {
        Q { index: Some(index), pk_attr: format!("{index}PK"), pk, sk_prefix: None, sk_between: None, forward: true, limit: None }
    }

    /// Only sort keys that start with `prefix`.
    pub(crate) fn prefix(mut self, prefix: &'a str) -> Self {
        self.sk_prefix = Some(prefix);
        self
    }

    /// Only sort keys from `low` to `high` (inclusive; byte order); instead of a prefix.
    pub(crate) fn between(mut self, low: &'a str, high: &'a str) -> Self {
        self.sk_between = Some((low, high));
        self
    }

    pub(crate) fn newest_first(mut self) -> Self {
        self.forward = false;
        self
    }

    pub(crate) fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Every matching item (all pages, up to the limit).
    pub(crate) async fn all(self, client: &Client, table: &str) -> Result<Vec<Item>, PortError> {
        let q = self.query(client, table);
        let mut out = Vec::new();
        let mut pages = q.into_paginator().items().send();
        while let Some(item) = pages.next().await {
            out.push(item.map_err(|e| sdk_err("dynamodb query", e))?);
            if self.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    /// How many items match (all pages, `Select COUNT`: no item is read back); the limit is
    /// ignored.
    pub(crate) async fn count(self, client: &Client, table: &str) -> Result<usize, PortError> {
        let q = Q { limit: None, ..self }.query(client, table).select(aws_sdk_dynamodb::types::Select::Count);
        let mut n = 0usize;
        let mut pages = q.into_paginator().send();
        while let Some(page) = pages.next().await {
            n += page.map_err(|e| sdk_err("dynamodb count", e))?.count().max(0) as usize;
        }
        Ok(n)
    }

    fn query(&self, client: &Client, table: &str) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let sk_attr = match self.index {
            Some(i) => format!("{i}SK"),
            None => "SK".into(),
        };
        let mut q = client
            .query()
            .table_name(table)
            .set_index_name(self.index.map(str::to_string))
            .expression_attribute_names("#pk", &self.pk_attr)
            .expression_attribute_values(":pk", s(self.pk))
            .scan_index_forward(self.forward)
            .consistent_read(self.index.is_none());
        q = match (self.sk_prefix, self.sk_between) {
            (_, Some((low, high))) => q
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":lo", s(low))
                .expression_attribute_values(":hi", s(high)),
            (Some(prefix), None) => q
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":p", s(prefix)),
            (None, None) => q.key_condition_expression("#pk = :pk"),
        };
        if let Some(l) = self.limit {
            q = q.limit(l.clamp(1, 1000) as i32);
        }
        q
    }
}

/// A strongly consistent GetItem.
pub(crate) async fn get(client: &Client, table: &str, pk: &str, sk: &str, what: &str) -> Result<Option<Item>, PortError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("PK", s(pk))
        .key("SK", s(sk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_err(&format!("dynamodb get {what}"), e))?;
    Ok(out.item)
}

/// `v` as an item with its keys, its `type` and its `company` (every item names its company).
pub(crate) fn keyed<T: Serialize>(v: &T, company: &str, pk: String, sk: &str, kind: &str) -> Result<Item, PortError> {
    let mut item = to_item(v)?;
    item.insert("PK".into(), s(pk));
    item.insert("SK".into(), s(sk));
    item.insert("type".into(), s(kind));
    item.insert("company".into(), s(company));
    Ok(item)
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
            return enable_ttl(client, table).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(PortError(format!("table {table} did not become ACTIVE")))
}

/// The attribute DynamoDB's TTL deletes items by (epoch seconds), as in `template.yaml`.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Turns on TTL on [`TTL_ATTRIBUTE`] unless it is on already.
async fn enable_ttl(client: &Client, table: &str) -> Result<(), PortError> {
    let d = client.describe_time_to_live().table_name(table).send().await.map_err(|e| sdk_err("dynamodb describe ttl", e))?;
    let on = d.time_to_live_description().and_then(|t| t.attribute_name()) == Some(TTL_ATTRIBUTE);
    if !on {
        let spec = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| PortError(e.to_string()))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb update ttl", e))?;
    }
    Ok(())
}
