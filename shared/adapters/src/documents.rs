//! A company's PDF documents on the single table ([`DocumentRepository`]): the document
//! (`C#<co>#DOC#<sha256>`), listed per company, status and month received in GSI2
//! (`C#<co>#DOCSTATUS#<status>#<YYYY-MM>` / `<received>#<sha>`), and the two "by number" partitions that
//! link documents and invoices in either arrival order (`C#<co>#DOCNUM#<n>`, `C#<co>#INVNUM#<n>`),
//! read strongly consistent. No Scan.

use aws_sdk_dynamodb::types::AttributeValue;
use invoice_domain::core::PortError;
use invoice_domain::invoice::document::{number_key, AwaitingReason, DocumentRecord, DocumentStatus};
use invoice_domain::invoice::ports::DocumentRepository;
use invoice_domain::invoice::records::status_month;

use crate::dynamo::DynamoRepo;
use crate::keys::{
    awaiting_pk, awaiting_sk, document_pk, document_status_pk, invoice_number_pk, invoice_number_sk, invoice_pk, DOC_SK, HEADER_SK,
};
use crate::sdk_err;
use crate::table::{condition_failed, from_item, get, keyed, put_if_absent, s, Item, Q};

fn ser<T: serde::Serialize>(v: &T) -> Result<AttributeValue, PortError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| PortError(format!("encode attribute: {e}")))
}

impl DynamoRepo {
    fn document_item(&self, d: &DocumentRecord) -> Result<Item, PortError> {
        let mut item = keyed(d, &d.company, document_pk(&d.company, &d.content_sha256), DOC_SK, "document")?;
        item.insert("GSI2PK".into(), s(document_status_pk(&d.company, d.status.as_str(), status_month(&d.received_at))));
        item.insert("GSI2SK".into(), s(format!("{}#{}", d.received_at, d.content_sha256)));
        Ok(item)
    }

    /// A company's documents in a status, newest first, over `months` (`YYYY-MM`, newest
    /// first; see `invoice_domain::invoice::records::months_newest_first`).
    pub async fn documents(
        &self,
        company: &str,
        status: DocumentStatus,
        months: &[String],
        limit: usize,
    ) -> Result<Vec<DocumentRecord>, PortError> {
        let mut out = Vec::new();
        for month in months {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let pk = document_status_pk(company, status.as_str(), month);
            out.extend(Q::index("GSI2", &pk).newest_first().limit(left).all(&self.client, &self.table).await?);
        }
        out.into_iter().map(from_item).collect()
    }

    async fn put_pointer(&self, pk: String, sk: String, company: &str, kind: &str, attr: (&str, &str)) -> Result<(), PortError> {
        let mut item = Item::new();
        item.insert("PK".into(), s(pk));
        item.insert("SK".into(), s(sk));
        item.insert("company".into(), s(company));
        item.insert("type".into(), s(kind));
        item.insert(attr.0.into(), s(attr.1));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_err(&format!("dynamodb put {kind}"), e))?;
        Ok(())
    }

    async fn pointers(&self, pk: &str, attr: &str) -> Result<Vec<String>, PortError> {
        let items = Q::partition(pk).all(&self.client, &self.table).await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| match i.remove(attr) {
                Some(AttributeValue::S(v)) => Some(v),
                _ => None,
            })
            .collect())
    }
}

impl DocumentRepository for DynamoRepo {
    async fn put_document(&self, doc: &DocumentRecord) -> Result<Option<DocumentRecord>, PortError> {
        put_if_absent(&self.client, &self.table, self.document_item(doc)?, "put document").await?.map(from_item).transpose()
    }

    async fn get_document(&self, company: &str, sha: &str) -> Result<Option<DocumentRecord>, PortError> {
        get(&self.client, &self.table, &document_pk(company, sha), DOC_SK, "document").await?.map(from_item).transpose()
    }

    async fn put_awaiting(&self, company: &str, number: &str, sha: &str) -> Result<(), PortError> {
        self.put_pointer(awaiting_pk(company, number), awaiting_sk(sha), company, "awaiting", ("content_sha256", sha)).await
    }

    async fn awaiting(&self, company: &str, number: &str) -> Result<Vec<String>, PortError> {
        self.pointers(&awaiting_pk(company, number), "content_sha256").await
    }

    async fn put_invoice_number(&self, company: &str, number: &str, invoice_key: &str) -> Result<(), PortError> {
        self.put_pointer(
            invoice_number_pk(company, number),
            invoice_number_sk(invoice_key),
            company,
            "invoice-number",
            ("invoice_key", invoice_key),
        )
        .await
    }

    async fn invoices_by_number(&self, company: &str, number: &str) -> Result<Vec<String>, PortError> {
        self.pointers(&invoice_number_pk(company, number), "invoice_key").await
    }

    async fn link(&self, doc: &DocumentRecord, invoice_key: &str) -> Result<bool, PortError> {
        let company = doc.company.as_str();
        let linked = DocumentStatus::Linked;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(document_pk(company, &doc.content_sha256)))
            .key("SK", s(DOC_SK))
            .update_expression("SET #st = :linked, invoice_key = :inv, GSI2PK = :g2pk, reason = :null, reason_detail = :null")
            .condition_expression("attribute_exists(PK) AND (#st = :awaiting OR invoice_key = :inv)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":linked", ser(&linked)?)
            .expression_attribute_values(":awaiting", ser(&DocumentStatus::AwaitingData)?)
            .expression_attribute_values(":inv", s(invoice_key))
            .expression_attribute_values(":g2pk", s(document_status_pk(company, linked.as_str(), status_month(&doc.received_at))))
            .expression_attribute_values(":null", AttributeValue::Null(true))
            .send()
            .await;
        match res {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => return Ok(false),
            Err(e) => return Err(sdk_err("dynamodb link document", e)),
        }
        // The invoice lists the document once (a redelivery finds it there).
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(company, invoice_key)))
            .key("SK", s(HEADER_SK))
            .update_expression("SET documents = list_append(if_not_exists(documents, :empty), :one)")
            .condition_expression("attribute_exists(PK) AND NOT contains(documents, :dk)")
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":one", AttributeValue::L(vec![s(&doc.document_key)]))
            .expression_attribute_values(":dk", s(&doc.document_key))
            .send()
            .await;
        match res {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(sdk_err("dynamodb add document to invoice", e)),
        }
        if let Some(n) = doc.invoice_number.as_deref() {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("PK", s(awaiting_pk(company, &number_key(n))))
                .key("SK", s(awaiting_sk(&doc.content_sha256)))
                .send()
                .await
                .map_err(|e| sdk_err("dynamodb delete awaiting", e))?;
        }
        Ok(true)
    }

    async fn mark_invoice_cancelled(&self, doc: &DocumentRecord) -> Result<(), PortError> {
        let Some(invoice_key) = doc.invoice_key.as_deref() else { return Ok(()) };
        let flagged = DocumentStatus::InvoiceCancelled;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(document_pk(&doc.company, &doc.content_sha256)))
            .key("SK", s(DOC_SK))
            .update_expression("SET #st = :flagged, GSI2PK = :g2pk")
            .condition_expression("invoice_key = :inv AND (#st = :linked OR #st = :flagged)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":flagged", ser(&flagged)?)
            .expression_attribute_values(":linked", ser(&DocumentStatus::Linked)?)
            .expression_attribute_values(":inv", s(invoice_key))
            .expression_attribute_values(":g2pk", s(document_status_pk(&doc.company, flagged.as_str(), status_month(&doc.received_at))))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb flag document of a cancelled invoice", e)),
        }
    }

    async fn set_awaiting_reason(&self, company: &str, sha: &str, reason: AwaitingReason, detail: &str) -> Result<(), PortError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(document_pk(company, sha)))
            .key("SK", s(DOC_SK))
            .update_expression("SET reason = :r, reason_detail = :d")
            .condition_expression("#st = :awaiting")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":r", ser(&reason)?)
            .expression_attribute_values(":d", s(detail))
            .expression_attribute_values(":awaiting", ser(&DocumentStatus::AwaitingData)?)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("dynamodb set document reason", e)),
        }
    }
}
