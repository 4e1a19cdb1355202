//! The invoice repository (supplier invoices in) on the single table; key layouts in
//! [`crate::keys`], helpers in [`crate::table`].
//!
//! The status index is written only when an invoice becomes Valid (or Cancelled), so a
//! half-ingested invoice never shows up in listings. Its partitions are per company and month
//! (`C#<co>#STATUS#Valid#2026-12`): listings walk months newest first. No Scan anywhere.
//!
//! Journal lines are also on GSI2, per company and month of their accounting date
//! (`C#<co>#JOURNAL#2026-12` / `<date>#<invoice key>#<kind>#<seq>`): the journal export reads a
//! date range month by month ([`DynamoRepo::journal_entries`]). The index attributes are
//! written with the line and derived from it alone, so a redelivery rewrites the same.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::invoice::export::DateRange;
use invoice_domain::invoice::ports::{CancelResult, Claim, InvoiceRepository};
use invoice_domain::invoice::records::{status_month, EntryRecord, InvoiceRecord, InvoiceStatus, LineRecord, RejectionRecord};

use crate::keys::{
    entry_sk, invoice_pk, journal_pk, journal_sk, reference_pk, rejection_pk, status_pk, supplier_pk, HEADER_SK, REJECTED_SK,
};
use crate::sdk_err;
use crate::table::{batch_get, batch_put, condition_failed, from_item, get, keyed, put_if_absent, s, Item, Q};

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
        keyed(h, &h.company, invoice_pk(&h.company, &h.invoice_key), HEADER_SK, "invoice")
    }

    /// A journal line, in its invoice's partition and in the company's journal of its month.
    fn entry_item(company: &str, e: &EntryRecord) -> Result<Item, PortError> {
        let mut item = keyed(e, company, invoice_pk(company, &e.invoice_key), &entry_sk(&e.kind, e.line.seq), "entry")?;
        let date = e.accounting_date();
        item.insert("GSI2PK".into(), s(journal_pk(company, status_month(date))));
        item.insert("GSI2SK".into(), s(journal_sk(date, &e.invoice_key, &e.kind, e.line.seq)));
        Ok(item)
    }

    /// A company's journal lines whose accounting date is in `range`, in index order (date,
    /// invoice key, kind, line). Months walked oldest first over GSI2, each read by a sort-key
    /// range; the exact date is checked again here. Only lines that carry the index (written
    /// since it exists) are found.
    pub async fn journal_entries(&self, company: &str, range: &DateRange) -> Result<Vec<EntryRecord>, PortError> {
        // Every sort key of a day starts `<date>#`; `$` sorts right after `#`.
        let (low, high) = (format!("{}#", range.from_str()), format!("{}$", range.to_str()));
        let mut out = Vec::new();
        for month in range.months() {
            let pk = journal_pk(company, &month);
            for item in Q::index("GSI2", &pk).between(&low, &high).all(&self.client, &self.table).await? {
                let e: EntryRecord = from_item(item)?;
                if range.contains(e.accounting_date()) {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// Some of a company's invoice headers by key (missing ones are left out), BatchGetItem.
    pub async fn invoices(&self, company: &str, invoice_keys: &[String]) -> Result<Vec<InvoiceRecord>, PortError> {
        let keys: Vec<(String, String)> = invoice_keys.iter().map(|k| (invoice_pk(company, k), HEADER_SK.to_string())).collect();
        let items = batch_get(&self.client, &self.table, &keys).await?;
        let recs: Vec<InvoiceRecord> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        // The keys name the company's partitions; checked again all the same.
        Ok(recs.into_iter().filter(|h| h.company == company).collect())
    }

    /// One of `company`'s invoice headers (strongly consistent read).
    pub async fn invoice(&self, company: &str, invoice_key: &str) -> Result<Option<InvoiceRecord>, PortError> {
        get(&self.client, &self.table, &invoice_pk(company, invoice_key), HEADER_SK, "invoice").await?.map(from_item).transpose()
    }

    /// A company's invoices in a status (Valid, Cancelled), newest first, over `months`
    /// (`YYYY-MM`, newest first; see `invoice_domain::invoice::records::months_newest_first`).
    pub async fn invoices_by_status(
        &self,
        company: &str,
        status: &str,
        months: &[String],
        limit: usize,
    ) -> Result<Vec<InvoiceRecord>, PortError> {
        self.by_status(company, status, months, limit).await?.into_iter().map(from_item).collect()
    }

    /// A company's rejected documents, newest first, over `months`.
    pub async fn rejections(&self, company: &str, months: &[String], limit: usize) -> Result<Vec<RejectionRecord>, PortError> {
        self.by_status(company, "Rejected", months, limit).await?.into_iter().map(from_item).collect()
    }

    async fn by_status(&self, company: &str, status: &str, months: &[String], limit: usize) -> Result<Vec<Item>, PortError> {
        let mut out = Vec::new();
        for month in months {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                break;
            }
            let pk = status_pk(company, status, month);
            out.extend(Q::index("GSI2", &pk).newest_first().limit(left).all(&self.client, &self.table).await?);
        }
        Ok(out)
    }

    /// A company's invoices from a supplier, newest invoice date first.
    pub async fn invoices_by_supplier(&self, company: &str, supplier: &str, limit: usize) -> Result<Vec<InvoiceRecord>, PortError> {
        let pk = supplier_pk(company, supplier);
        Q::index("GSI3", &pk).newest_first().limit(limit).all(&self.client, &self.table).await?.into_iter().map(from_item).collect()
    }

    /// Keys of a company's invoices that refer to a PO number (`kind` `PO`) or an Amazon order
    /// id (`SORDER`).
    pub async fn invoice_keys_by_reference(&self, company: &str, kind: &str, reference: &str) -> Result<Vec<String>, PortError> {
        let pk = reference_pk(company, kind, reference);
        let items = Q::index("GSI1", &pk).newest_first().limit(1000).all(&self.client, &self.table).await?;
        Ok(items
            .into_iter()
            .filter_map(|mut i| match i.remove("invoice_key") {
                Some(AttributeValue::S(k)) => Some(k),
                _ => None,
            })
            .collect())
    }

    pub async fn lines(&self, company: &str, invoice_key: &str) -> Result<Vec<LineRecord>, PortError> {
        let pk = invoice_pk(company, invoice_key);
        Q::partition(&pk).prefix("LINE#").all(&self.client, &self.table).await?.into_iter().map(from_item).collect()
    }

    pub async fn entries(&self, company: &str, invoice_key: &str) -> Result<Vec<EntryRecord>, PortError> {
        let pk = invoice_pk(company, invoice_key);
        Q::partition(&pk).prefix("ENTRY#").all(&self.client, &self.table).await?.into_iter().map(from_item).collect()
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
        let company = header.company.as_str();
        let pk = invoice_pk(company, &header.invoice_key);
        let mut items = Vec::with_capacity(lines.len() + entries.len() + header.order_ids.len() + 1);
        for l in lines {
            items.push(keyed(l, company, pk.clone(), &format!("LINE#{:010}", l.line_number), "line")?);
        }
        for e in entries {
            items.push(Self::entry_item(company, e)?);
        }
        let gsi1sk = format!("{}#{}", header.invoice_date, header.invoice_key);
        let refs = header.order_ids.iter().map(|po| ("PO", po)).chain(header.supplier_order_ids.iter().map(|o| ("SORDER", o)));
        for (kind, reference) in refs {
            let mut item = Item::new();
            item.insert("PK".into(), s(&pk));
            item.insert("SK".into(), s(format!("{kind}#{reference}")));
            item.insert("GSI1PK".into(), s(reference_pk(company, kind, reference)));
            item.insert("GSI1SK".into(), s(&gsi1sk));
            item.insert("type".into(), s("reference"));
            item.insert("company".into(), s(company));
            item.insert("invoice_key".into(), s(&header.invoice_key));
            item.insert("invoice_id".into(), s(&header.invoice_id));
            item.insert("supplier".into(), s(&header.supplier));
            item.insert("invoice_date".into(), s(&header.invoice_date));
            item.insert("net".into(), s(&header.net));
            item.insert("currency".into(), s(&header.currency));
            items.push(item);
        }
        batch_put(&self.client, &self.table, items).await
    }

    async fn mark_valid(&self, header: &InvoiceRecord) -> Result<(), PortError> {
        let company = header.company.as_str();
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(company, &header.invoice_key)))
            .key("SK", s(HEADER_SK))
            .update_expression("SET #st = :valid, GSI2PK = :g2pk, GSI2SK = :g2sk, GSI3PK = :g3pk, GSI3SK = :g3sk")
            .condition_expression("content_sha256 = :sha")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":valid", s(InvoiceStatus::Valid.as_str()))
            .expression_attribute_values(":g2pk", s(status_pk(company, "Valid", status_month(&header.received_at))))
            .expression_attribute_values(":g2sk", s(format!("{}#{}", header.received_at, header.invoice_key)))
            .expression_attribute_values(":g3pk", s(supplier_pk(company, &header.supplier)))
            .expression_attribute_values(":g3sk", s(format!("{}#{}", header.invoice_date, header.invoice_id)))
            .expression_attribute_values(":sha", s(&header.content_sha256))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb mark invoice valid", e))?;
        Ok(())
    }

    async fn get_invoice(&self, company: &str, invoice_key: &str) -> Result<Option<InvoiceRecord>, PortError> {
        self.invoice(company, invoice_key).await
    }

    async fn get_lines(&self, company: &str, invoice_key: &str) -> Result<Vec<LineRecord>, PortError> {
        let mut lines = self.lines(company, invoice_key).await?;
        lines.sort_by_key(|l| l.line_number);
        Ok(lines)
    }
    async fn get_entries(&self, company: &str, invoice_key: &str) -> Result<Vec<EntryRecord>, PortError> {
        self.entries(company, invoice_key).await
    }

    async fn cancel(
        &self,
        invoice: &InvoiceRecord,
        by_sha256: &str,
        at: &str,
        cancel_document_key: &str,
        reversal: &[EntryRecord],
    ) -> Result<CancelResult, PortError> {
        let company = invoice.company.as_str();
        // Reversal lines first: deterministic keys and content, so a retry rewrites the same.
        let items = reversal.iter().map(|e| Self::entry_item(company, e)).collect::<Result<Vec<_>, _>>()?;
        batch_put(&self.client, &self.table, items).await?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(company, &invoice.invoice_key)))
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
            .expression_attribute_values(":g2pk", s(status_pk(company, "Cancelled", status_month(at))))
            .expression_attribute_values(":g2sk", s(format!("{at}#{}", invoice.invoice_key)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(CancelResult::Cancelled),
            Err(e) if condition_failed(&e) => Ok(CancelResult::NotValid),
            Err(e) => Err(sdk_err("dynamodb cancel invoice", e)),
        }
    }

    async fn put_rejection(&self, rec: &RejectionRecord) -> Result<bool, PortError> {
        let mut item = keyed(rec, &rec.company, rejection_pk(&rec.company, &rec.content_sha256), REJECTED_SK, "rejection")?;
        item.insert("status".into(), s("Rejected"));
        item.insert("GSI2PK".into(), s(status_pk(&rec.company, "Rejected", status_month(&rec.received_at))));
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
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("dynamodb put rejection", e)),
        }
    }
}
