//! GCRA rate-limit state in DynamoDB, shared by every Lambda instance and worker process
//! (same single table as [`crate::dynamo`]).
//!
//! | item       | PK            | SK      | attributes                                   |
//! |------------|---------------|---------|----------------------------------------------|
//! | rate state | `RATE#<key>`  | `#GCRA` | `tat_us` (N): theoretical arrival time, µs   |
//!
//! A reservation is a compare-and-set: read TAT → [`invoice_spapi::rate::reserve`] → write the
//! new TAT only if the stored one is still the one we computed from (`attribute_not_exists(PK)`
//! when there was none). On a lost race the current value comes back with the failure
//! (ReturnValuesOnConditionCheckFailure ALL_OLD; a consistent GetItem otherwise) and the
//! reservation is recomputed, a bounded number of times. Each instance remembers the last TAT
//! it saw per key, so the first write usually succeeds without a read, and runs one
//! compare-and-set per key at a time (its own tasks queue locally instead of racing each other
//! through DynamoDB; only other processes can make a write fail).
//!
//! A *look* ([`SlotStore::next_slot`]: when would a slot reserved now be sent?) is one
//! consistent GetItem of the TAT and [`invoice_spapi::rate::next_slot`]; it writes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_spapi::rate::{reserve, Plan, Reservation};
use invoice_spapi::SlotStore;

use crate::keys::{rate_pk, GCRA_SK};
use crate::sdk_err;

/// Compare-and-set attempts before giving up (the caller treats it as a transient failure).
pub const MAX_ATTEMPTS: u32 = 50;

/// What this instance knows of one key: `None` = never seen (assume absent).
type Known = Arc<tokio::sync::Mutex<Option<i64>>>;

pub struct DynamoSlots {
    client: Client,
    table: String,
    known: Mutex<HashMap<String, Known>>,
}

impl DynamoSlots {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoSlots { client, table: table.into(), known: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, key: &str) -> Result<Known, PortError> {
        let mut m = self.known.lock().map_err(|_| PortError("rate state poisoned".into()))?;
        Ok(m.entry(key.to_string()).or_default().clone())
    }
}

fn tat_of(item: &HashMap<String, AttributeValue>) -> Result<Option<i64>, PortError> {
    match item.get("tat_us") {
        Some(AttributeValue::N(n)) => n.parse().map(Some).map_err(|e| PortError(format!("rate state tat_us '{n}': {e}"))),
        Some(other) => Err(PortError(format!("rate state tat_us is not a number: {other:?}"))),
        None => Ok(None),
    }
}

impl SlotStore for DynamoSlots {
    async fn reserve(&self, key: &str, plan: &Plan, now_us: i64) -> Result<Reservation, PortError> {
        let slot = self.slot(key)?;
        let mut known = slot.lock().await;
        let pk = rate_pk(key);
        // Another process keeps winning: step aside a little, more each time (jittered).
        let mut step_aside =
            invoice_spapi::backoff::exponential(Duration::from_micros(500), Duration::from_millis(4), MAX_ATTEMPTS as usize);
        for attempt in 0..MAX_ATTEMPTS {
            let r = reserve(plan, *known, now_us);
            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("PK", AttributeValue::S(pk.clone()))
                .key("SK", AttributeValue::S(GCRA_SK.into()))
                .update_expression("SET tat_us = :new")
                .expression_attribute_values(":new", AttributeValue::N(r.new_tat_us.to_string()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            req = match *known {
                Some(seen) => {
                    req.condition_expression("tat_us = :seen").expression_attribute_values(":seen", AttributeValue::N(seen.to_string()))
                }
                None => req.condition_expression("attribute_not_exists(PK)"),
            };
            match req.send().await {
                Ok(_) => {
                    *known = Some(r.new_tat_us);
                    return Ok(r);
                }
                Err(e) => {
                    let old = match e.as_service_error() {
                        Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item.clone(),
                        _ => return Err(sdk_err("dynamodb reserve rate slot", e)),
                    };
                    *known = match old.filter(|i| !i.is_empty()) {
                        Some(item) => tat_of(&item)?,
                        None => self.stored_tat(key).await?,
                    };
                    if attempt > 0 {
                        tokio::time::sleep(step_aside.next().unwrap_or_default()).await;
                    }
                }
            }
        }
        Err(PortError(format!("rate slot '{key}': compare-and-set lost {MAX_ATTEMPTS} times in a row")))
    }

    /// The stored TAT (a consistent GetItem); `None` when the key was never used. What
    /// [`SlotStore::next_slot`] looks at (no write, nothing reserved).
    async fn stored_tat(&self, key: &str) -> Result<Option<i64>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(rate_pk(key)))
            .key("SK", AttributeValue::S(GCRA_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb get rate state", e))?;
        out.item.map(|i| tat_of(&i)).transpose().map(Option::flatten)
    }
}
