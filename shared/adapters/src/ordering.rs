//! The purchase orders of one company ([`PoRepository`]): the PO item (`C#<co>#PORDER#<po>` /
//! `#PO`, the validated PO, what Amazon accepted, the state), listed per state and month in
//! GSI2, and one pointer per Amazon order id (`C#<co>#AMZORDER#<id>` / `#PO`) so an invoice
//! naming only its Amazon order finds its PO. The claim is a conditional put; every later
//! write is conditional on `state = Placing AND claim_id = <ours>`. No Scan.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::invoice::records::status_month;
use invoice_domain::ordering::ports::PoRepository;
use invoice_domain::ordering::records::{ClaimOutcome, PoRecord, PoState};

use invoice_domain::invoice::records::InvoiceRecord;
use invoice_domain::matching::{Invoiced, MatchOutcome, MatchStatus};

use crate::keys::{amazon_order_pk, invoiced_sk, match_status_pk, po_state_pk, purchase_order_pk, PO_SK};
use crate::sdk_err;
use crate::table::{condition_failed, from_item, get, keyed, put_if, s, Item, Q};

#[derive(Clone)]
pub struct DynamoPoRepo {
    pub client: Client,
    pub table: String,
    pub company: String,
}

impl DynamoPoRepo {
    pub fn new(client: Client, table: impl Into<String>, company: impl Into<String>) -> Self {
        DynamoPoRepo { client, table: table.into(), company: company.into() }
    }

    fn item(&self, r: &PoRecord) -> Result<Item, PortError> {
        let mut item = keyed(r, &self.company, purchase_order_pk(&self.company, &r.po_number), PO_SK, "purchase_order")?;
        item.insert("GSI2PK".into(), s(po_state_pk(&self.company, &r.state.to_string(), status_month(&r.received_at))));
        item.insert("GSI2SK".into(), s(format!("{}#{}", r.received_at, r.po_number)));
        Ok(item)
    }

    /// The company's POs in a state, newest first, over `months` (newest first).
    pub async fn by_state(&self, state: PoState, months: &[String], limit: usize) -> Result<Vec<PoRecord>, PortError> {
        let mut out = Vec::new();
        for month in months {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let pk = po_state_pk(&self.company, &state.to_string(), month);
            out.extend(Q::index("GSI2", &pk).newest_first().limit(left).all(&self.client, &self.table).await?);
        }
        out.into_iter().map(from_item).collect()
    }

    /// The condition of every write after the claim: still `Placing` under `claim`.
    fn ours(claim: &str) -> (String, Vec<(&'static str, AttributeValue)>) {
        (
            "#st = :placing AND claim_id = :claim".to_string(),
            vec![(":placing", s(PoState::Placing.to_string())), (":claim", s(claim.to_string()))],
        )
    }
}

impl PoRepository for DynamoPoRepo {
    async fn get(&self, po_number: &str) -> Result<Option<PoRecord>, PortError> {
        get(&self.client, &self.table, &purchase_order_pk(&self.company, po_number), PO_SK, "purchase order")
            .await?
            .map(from_item)
            .transpose()
    }

    async fn claim(&self, record: &PoRecord) -> Result<ClaimOutcome, PortError> {
        // A PO refused before may be placed once corrected; any other record holds it.
        let cond = "attribute_not_exists(PK) OR #st = :refused";
        let refused = vec![(":refused", s(PoState::Refused.to_string()))];
        match put_if(&self.client, &self.table, self.item(record)?, cond, &[("#st", "state")], refused, "claim purchase order").await? {
            None => Ok(ClaimOutcome::Claimed),
            Some(existing) => Ok(ClaimOutcome::Exists(Box::new(from_item(existing)?))),
        }
    }

    async fn take_over(&self, record: &PoRecord, previous_claim: &str) -> Result<bool, PortError> {
        let (cond, values) = Self::ours(previous_claim);
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(purchase_order_pk(&self.company, &record.po_number)))
            .key("SK", s(PO_SK))
            .update_expression("SET claim_id = :new, updated_at = :at")
            .condition_expression(cond)
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":new", s(&record.claim_id))
            .expression_attribute_values(":at", s(&record.updated_at));
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("dynamodb take over purchase order", e)),
        }
    }

    async fn record(&self, record: &PoRecord) -> Result<bool, PortError> {
        // The PO (conditional on our claim) and its Amazon order pointers, in one transaction.
        let (cond, values) = Self::ours(&record.claim_id);
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.item(record)?))
            .condition_expression(cond)
            .expression_attribute_names("#st", "state");
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        let put = put.build().map_err(|e| PortError(format!("build put: {e}")))?;
        let mut tx = self.client.transact_write_items().transact_items(TransactWriteItem::builder().put(put).build());
        for id in record.amazon_order_ids.iter().take(99) {
            let update = Update::builder()
                .table_name(&self.table)
                .key("PK", s(amazon_order_pk(&self.company, id)))
                .key("SK", s(PO_SK))
                .update_expression("SET po_number = :po, company = :co, #ty = :ty")
                .expression_attribute_names("#ty", "type")
                .expression_attribute_values(":po", s(&record.po_number))
                .expression_attribute_values(":co", s(&self.company))
                .expression_attribute_values(":ty", s("amazon_order"))
                .build()
                .map_err(|e| PortError(format!("build update: {e}")))?;
            tx = tx.transact_items(TransactWriteItem::builder().update(update).build());
        }
        match tx.send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let cancelled = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                    }
                    _ => false,
                };
                if cancelled {
                    Ok(false)
                } else {
                    Err(sdk_err("dynamodb record purchase order", e))
                }
            }
        }
    }

    async fn put_refused(&self, record: &PoRecord) -> Result<(), PortError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(record)?))
            // A refused PO never replaces one that was claimed or placed.
            .condition_expression("attribute_not_exists(PK) OR #st = :refused")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":refused", s(PoState::Refused.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb put refused purchase order", e)),
        }
    }

    async fn release(&self, po_number: &str, claim_id: &str) -> Result<(), PortError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(purchase_order_pk(&self.company, po_number)))
            .key("SK", s(PO_SK))
            .condition_expression("#st = :placing AND claim_id = :claim")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":placing", s(PoState::Placing.to_string()))
            .expression_attribute_values(":claim", s(claim_id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb release purchase order", e)),
        }
    }

    async fn po_of_amazon_order(&self, amazon_order_id: &str) -> Result<Option<String>, PortError> {
        let item = get(&self.client, &self.table, &amazon_order_pk(&self.company, amazon_order_id), PO_SK, "amazon order").await?;
        Ok(item.and_then(|mut i| match i.remove("po_number") {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        }))
    }
}

/// The status as the index keys spell it (as it is serialised).
fn status_name(s: MatchStatus) -> &'static str {
    match s {
        MatchStatus::Matched => "Matched",
        MatchStatus::Exception => "Exception",
    }
}

/// Matching's reads and writes on the single table (per company: every key is built from it).
impl invoice_domain::matching::MatchStore for crate::dynamo::DynamoRepo {
    async fn purchase_orders(&self, company: &str, po_numbers: &[String], amazon_order_ids: &[String]) -> Result<Vec<PoRecord>, PortError> {
        let pos = DynamoPoRepo::new(self.client.clone(), self.table.clone(), company);
        let mut numbers: Vec<String> = po_numbers.to_vec();
        for id in amazon_order_ids {
            if let Some(n) = pos.po_of_amazon_order(id).await? {
                numbers.push(n);
            }
        }
        numbers.sort();
        numbers.dedup();
        let mut out = Vec::new();
        for n in numbers {
            if let Some(r) = pos.get(&n).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn invoiced(&self, company: &str, po_number: &str) -> Result<Vec<Invoiced>, PortError> {
        let pk = purchase_order_pk(company, po_number);
        Q::partition(&pk).prefix("INVOICED#").all(&self.client, &self.table).await?.into_iter().map(from_item).collect()
    }

    async fn record_match(
        &self,
        company: &str,
        header: &InvoiceRecord,
        outcome: &MatchOutcome,
        summary: Option<&Invoiced>,
    ) -> Result<(), PortError> {
        if let Some(sum) = summary {
            let item = keyed(sum, company, purchase_order_pk(company, &sum.po_number), &invoiced_sk(&header.invoice_key), "invoiced")?;
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| sdk_err("dynamodb put invoiced", e))?;
        }
        let status = status_name(outcome.status);
        let value = serde_dynamo::to_attribute_value(outcome).map_err(|e| PortError(format!("encode match: {e}")))?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(crate::keys::invoice_pk(company, &header.invoice_key)))
            .key("SK", s(crate::keys::HEADER_SK))
            .update_expression("SET matching = :m, GSI1PK = :g1pk, GSI1SK = :g1sk")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":m", value)
            .expression_attribute_values(":g1pk", s(match_status_pk(company, status, status_month(&header.received_at))))
            .expression_attribute_values(":g1sk", s(format!("{}#{}", header.received_at, header.invoice_key)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("invoice {} of {company} is not stored", header.invoice_key))),
            Err(e) => Err(sdk_err("dynamodb record match", e)),
        }
    }

    async fn invoices_naming(&self, company: &str, po_number: &str, amazon_order_ids: &[String]) -> Result<Vec<String>, PortError> {
        let mut keys = self.invoice_keys_by_reference(company, "PO", po_number).await?;
        for id in amazon_order_ids {
            keys.extend(self.invoice_keys_by_reference(company, "SORDER", id).await?);
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

impl crate::dynamo::DynamoRepo {
    /// A company's invoices with this match status, newest first, over `months`.
    pub async fn invoices_by_match(
        &self,
        company: &str,
        status: MatchStatus,
        months: &[String],
        limit: usize,
    ) -> Result<Vec<InvoiceRecord>, PortError> {
        let status = status_name(status);
        let mut out = Vec::new();
        for month in months {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let pk = match_status_pk(company, status, month);
            out.extend(Q::index("GSI1", &pk).newest_first().limit(left).all(&self.client, &self.table).await?);
        }
        out.into_iter().map(from_item).collect()
    }
}
