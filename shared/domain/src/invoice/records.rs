//! Supplier invoices as stored: header, lines, journal entries, rejections, and the keys that
//! name them. Every record belongs to one company.

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use crate::invoice::accounting::EntryLine;
use crate::invoice::cxml::model::{CxmlInvoice, ItemKind};
use crate::invoice::issue::Issue;
use crate::invoice::validate::{line_subtotal, parse_cxml_date, Totals};

/// Status of a stored invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    /// Claimed; lines and entries being written. Never visible in the status index.
    Ingesting,
    /// Booked.
    Valid,
    /// Cancelled by an `operation="delete"` document; its entries are reversed.
    Cancelled,
}

impl InvoiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Ingesting => "Ingesting",
            InvoiceStatus::Valid => "Valid",
            InvoiceStatus::Cancelled => "Cancelled",
        }
    }
}

/// The invoice header as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// The company (tenant) the invoice was received by.
    pub company: String,
    /// `<supplier>#<invoiceID>` ([`invoice_key`]): unique per supplier within a company.
    pub invoice_key: String,
    pub supplier: String,
    pub supplier_name: Option<String>,
    pub invoice_id: String,
    pub payload_id: Option<String>,
    pub purpose: String,
    pub invoice_date: String,
    pub currency: String,
    pub subtotal: String,
    pub tax: String,
    pub shipping: String,
    pub special_handling: String,
    pub discount: String,
    pub net: String,
    pub due: String,
    pub line_count: u32,
    pub order_ids: Vec<String>,
    pub supplier_order_ids: Vec<String>,
    pub payment_terms_days: Option<u32>,
    pub content_sha256: String,
    pub document_key: String,
    pub source_key: String,
    pub received_at: String,
    pub status: InvoiceStatus,
    /// The channel and message the document came with.
    #[serde(default)]
    pub source: DocumentSource,
    pub cancelled_by_sha256: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancel_document_key: Option<String>,
    /// The company's PDF documents linked to this invoice (`documents/<company>/<sha256>.pdf`).
    #[serde(default)]
    pub documents: Vec<String>,
    /// How it matched its PO (set once it is booked; again when its PO arrives later).
    #[serde(default)]
    pub matching: Option<crate::matching::MatchOutcome>,
    /// How an imported invoice (Amazon Business) is filed: category, review status, payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<crate::import::purchase::Purchase>,
    /// Its review (To process / Approved / Exported) once a person acted on it; absent:
    /// see [`crate::invoice::review::review_of`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_status: Option<crate::invoice::review::ReviewState>,
    /// What people did to it (approved, exported), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<crate::invoice::review::HistoryEntry>,
}

/// One invoice line as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    pub invoice_key: String,
    pub line_number: u32,
    pub kind: String,
    pub po_number: Option<String>,
    pub supplier_order_id: Option<String>,
    pub reference_line_number: Option<String>,
    pub quantity: Option<String>,
    pub unit_of_measure: Option<String>,
    pub unit_price: Option<String>,
    pub subtotal: Option<String>,
    pub tax: Option<String>,
    pub currency: String,
    pub description: Option<String>,
    pub supplier_part_id: Option<String>,
    pub category: String,
    pub classification: Option<String>,
    pub sold_by: Option<String>,
    /// The Amazon side of an imported line (order line, GL code, cost centre, charges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon: Option<crate::import::purchase::AmazonLine>,
}

/// A journal line as stored (`kind` booking or reversal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub invoice_key: String,
    pub kind: String,
    /// The invoice's date (`YYYY-MM-DD`), for a reversal too: the date of the invoice it undoes.
    pub invoice_date: String,
    /// The accounting date (`YYYY-MM-DD`) the line is booked on: the invoice date for a
    /// booking, the day the cancellation was received (UTC) for a reversal. Empty on lines
    /// stored before it existed; [`EntryRecord::accounting_date`] falls back then.
    #[serde(default)]
    pub entry_date: String,
    #[serde(flatten)]
    pub line: EntryLine,
}

impl EntryRecord {
    /// The date the line is booked on: `entry_date`, else (older lines) the invoice date.
    pub fn accounting_date(&self) -> &str {
        if self.entry_date.is_empty() {
            &self.invoice_date
        } else {
            &self.entry_date
        }
    }
}

/// The kinds of journal entry: an invoice's booking, and the reversal of a cancelled one.
pub const BOOKING: &str = "booking";
pub const REVERSAL: &str = "reversal";

/// The day (`YYYY-MM-DD`) of an RFC 3339 timestamp as stored (UTC): a reversal's accounting
/// date is the day its cancellation was received. Empty when `timestamp` has no date.
pub fn day_of(timestamp: &str) -> &str {
    timestamp.get(..10).filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()).unwrap_or("")
}

/// A rejected document, kept under the quarantine prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionRecord {
    /// The company the document was dropped for; [`crate::company::UNASSIGNED`] when none
    /// could be resolved.
    pub company: String,
    pub content_sha256: String,
    pub source_key: String,
    pub quarantine_key: String,
    pub reason_key: String,
    pub received_at: String,
    pub codes: Vec<String>,
    pub errors: Vec<Issue>,
    pub invoice_id: Option<String>,
    pub supplier: Option<String>,
    #[serde(default)]
    pub source: DocumentSource,
}

/// The JSON written beside a quarantined document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineReason {
    pub company: String,
    pub source_key: String,
    pub content_sha256: String,
    pub received_at: String,
    pub errors: Vec<Issue>,
    pub invoice: Option<serde_json::Value>,
    pub what_to_do: String,
}

/// Keeps S3 key segments readable and safe: letters, digits, `.`, `-`, `_`; the rest `_`.
pub fn key_segment(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(120).collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        out = "_".into();
    }
    out
}

/// How a document reached Invoice Bridge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Dropped into the bucket's `incoming/` prefix (the default).
    #[default]
    S3,
    /// An attachment of an e-mail received by SES.
    Email,
    /// POSTed as cXML over HTTPS.
    Https,
    /// Imported from Amazon Business.
    Import,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::S3 => "s3",
            Channel::Email => "email",
            Channel::Https => "https",
            Channel::Import => "import",
        }
    }
}

/// Where a document came from, carried as the S3 object's user metadata from the channel
/// that wrote it under `incoming/<company>/` to the invoice (or rejection) record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSource {
    #[serde(default)]
    pub channel: Channel,
    /// The e-mail's Message-ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The e-mail's sender, or the cXML Sender identity of a POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The attachment's file name in the e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// The payloadID of a POSTed document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_id: Option<String>,
}

const SOURCE_FIELDS: [&str; 5] = ["message-id", "sender", "subject", "attachment", "payload-id"];

impl DocumentSource {
    fn field(&self, name: &str) -> Option<&String> {
        match name {
            "message-id" => self.message_id.as_ref(),
            "sender" => self.sender.as_ref(),
            "subject" => self.subject.as_ref(),
            "attachment" => self.attachment.as_ref(),
            _ => self.payload_id.as_ref(),
        }
    }

    /// As S3 user metadata (`ib-channel`, `ib-message-id`, …): values percent-encoded, so any
    /// text (a UTF-8 subject, a header with control characters) travels as ASCII, capped at
    /// 512 characters each.
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("ib-channel".to_string(), self.channel.as_str().to_string());
        for name in SOURCE_FIELDS {
            if let Some(v) = self.field(name) {
                let capped: String = v.chars().take(512).collect();
                m.insert(format!("ib-{name}"), utf8_percent_encode(&capped, NON_ALPHANUMERIC).to_string());
            }
        }
        m
    }

    /// From S3 user metadata; an object without it came by S3 drop.
    pub fn from_metadata(m: &BTreeMap<String, String>) -> DocumentSource {
        let get = |name: &str| m.get(&format!("ib-{name}")).map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned());
        let channel = match m.get("ib-channel").map(String::as_str) {
            Some("email") => Channel::Email,
            Some("https") => Channel::Https,
            Some("import") => Channel::Import,
            _ => Channel::S3,
        };
        DocumentSource {
            channel,
            message_id: get("message-id"),
            sender: get("sender"),
            subject: get("subject"),
            attachment: get("attachment"),
            payload_id: get("payload-id"),
        }
    }
}

/// An invoice's key within its company: `<supplier>#<invoiceID>`. Two companies may each
/// book the same supplier + invoiceID; one company never twice.
pub fn invoice_key(supplier: &str, invoice_id: &str) -> String {
    format!("{supplier}#{invoice_id}")
}

/// The supplier key (`From` credential `domain:identity`) and the invoiceID of a document.
pub fn identity_of(inv: &CxmlInvoice) -> (String, String) {
    (inv.supplier_key().unwrap_or_default(), inv.header.invoice_id.as_deref().unwrap_or_default().to_string())
}

/// Where a document of an invoice is archived: `<archive>/<company>/<supplier>/<invoiceID>/<sha256><suffix>`.
pub fn archive_key(archive_prefix: &str, company: &str, supplier: &str, invoice_id: &str, sha: &str, suffix: &str) -> String {
    format!("{archive_prefix}{}/{}/{}/{sha}{suffix}", key_segment(company), key_segment(supplier), key_segment(invoice_id))
}

/// Where a rejected document is kept: `<quarantine>/<company>/<sha256>/` + its name and `reason.json`.
pub fn quarantine_keys(quarantine_prefix: &str, company: &str, sha: &str, source_key: &str) -> (String, String) {
    let base = format!("{quarantine_prefix}{}/{sha}", key_segment(company));
    (format!("{base}/{}", key_segment(basename(source_key))), format!("{base}/reason.json"))
}

/// The month (`YYYY-MM`) of a timestamp: the status index is partitioned per company and
/// month, so no partition grows hot (see the README's data model).
pub fn status_month(timestamp: &str) -> &str {
    timestamp.get(..7).filter(|m| m.as_bytes().get(4) == Some(&b'-')).unwrap_or("0000-00")
}

/// The months (`YYYY-MM`) from `newest` back to `oldest`, newest first, at most `max`: what a
/// listing walks over the per-month status partitions. Unparseable input gives `[newest]`.
pub fn months_newest_first(newest: &str, oldest: &str, max: usize) -> Vec<String> {
    let parse = |m: &str| -> Option<(i32, u32)> {
        let (y, mo) = m.get(..7)?.split_once('-')?;
        let (y, mo) = (y.parse::<i32>().ok()?, mo.parse::<u32>().ok()?);
        (1..=12).contains(&mo).then_some((y, mo))
    };
    let Some((mut y, mut m)) = parse(newest) else { return vec![newest.to_string()] };
    let floor = parse(oldest).unwrap_or((y, m));
    let mut out = Vec::new();
    while out.len() < max.max(1) && (y, m) >= floor {
        out.push(format!("{y:04}-{m:02}"));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out
}

fn basename(key: &str) -> &str {
    key.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("document")
}

/// The header record of a valid invoice (pure; `received_at` is given, not read from a clock).
pub fn invoice_record(
    company: &str,
    inv: &CxmlInvoice,
    totals: &Totals,
    sha: &str,
    document_key: &str,
    source_key: &str,
    received_at: &str,
) -> InvoiceRecord {
    let (supplier, invoice_id) = identity_of(inv);
    let supplier_name = ["from", "invoiceFrom", "remitTo", "supplierCorporate"]
        .iter()
        .find_map(|r| inv.partner(r).and_then(|c| c.name.as_ref().map(|n| n.to_string())));
    let invoice_date =
        inv.header.invoice_date.as_deref().and_then(parse_cxml_date).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    InvoiceRecord {
        company: company.to_string(),
        invoice_key: invoice_key(&supplier, &invoice_id),
        supplier,
        supplier_name,
        invoice_id,
        payload_id: inv.payload_id.as_ref().map(|t| t.to_string()),
        purpose: inv.header.purpose.as_str().to_string(),
        invoice_date,
        currency: totals.currency.code().to_string(),
        subtotal: totals.subtotal.amount.to_string(),
        tax: totals.tax.amount.to_string(),
        shipping: totals.shipping.amount.to_string(),
        special_handling: totals.special_handling.amount.to_string(),
        discount: totals.discount.amount.to_string(),
        net: totals.net.amount.to_string(),
        due: totals.due.amount.to_string(),
        line_count: inv.item_count() as u32,
        order_ids: inv.order_ids(),
        supplier_order_ids: inv.supplier_order_ids(),
        payment_terms_days: inv.header.payment_terms.iter().find_map(|p| p.pay_in_number_of_days),
        content_sha256: sha.to_string(),
        document_key: document_key.to_string(),
        source_key: source_key.to_string(),
        received_at: received_at.to_string(),
        status: InvoiceStatus::Ingesting,
        source: DocumentSource::default(),
        cancelled_by_sha256: None,
        cancelled_at: None,
        cancel_document_key: None,
        documents: Vec::new(),
        matching: None,
        purchase: None,
        review_status: None,
        history: Vec::new(),
    }
}

/// The line records of a valid invoice.
pub fn line_records(inv: &CxmlInvoice, invoice_key: &str, currency: &str) -> Vec<LineRecord> {
    let mut out = Vec::with_capacity(inv.item_count());
    for order in &inv.orders {
        for item in &order.items {
            out.push(LineRecord {
                invoice_key: invoice_key.to_string(),
                line_number: item.invoice_line_number.unwrap_or(0),
                kind: match item.kind {
                    ItemKind::Goods => "goods".into(),
                    ItemKind::Service => "service".into(),
                },
                po_number: order.info.po_number().map(str::to_string),
                supplier_order_id: order.info.supplier_order_id.as_ref().map(|t| t.to_string()),
                reference_line_number: item.reference_line_number.as_ref().map(|t| t.to_string()),
                quantity: item.quantity.map(|q| q.to_string()),
                unit_of_measure: item.unit_of_measure.as_ref().map(|t| t.to_string()),
                unit_price: item.unit_price.map(|m| m.amount.to_string()),
                subtotal: line_subtotal(item).map(|m| m.amount.to_string()),
                tax: item.amounts.tax_amount().map(|m| m.amount.to_string()),
                currency: currency.to_string(),
                description: item.description.as_ref().map(|t| t.to_string()),
                supplier_part_id: item.supplier_part_id.as_ref().map(|t| t.to_string()),
                category: crate::invoice::accounting::category(item),
                classification: item.classifications.first().map(|(d, c)| format!("{d}:{c}")),
                sold_by: item.extrinsic("soldBy").map(str::to_string),
                amazon: None,
            });
        }
    }
    out
}

/// The records of an entry's lines: `kind` [`BOOKING`] or [`REVERSAL`], booked on `entry_date`.
pub fn entry_records(lines: Vec<EntryLine>, invoice_key: &str, kind: &str, invoice_date: &str, entry_date: &str) -> Vec<EntryRecord> {
    lines
        .into_iter()
        .map(|line| EntryRecord {
            invoice_key: invoice_key.to_string(),
            kind: kind.to_string(),
            invoice_date: invoice_date.to_string(),
            entry_date: entry_date.to_string(),
            line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_walk_back_across_years_and_stop() {
        assert_eq!(months_newest_first("2026-02-10T00:00:00Z", "2025-11", 10), vec!["2026-02", "2026-01", "2025-12", "2025-11"]);
        assert_eq!(months_newest_first("2026-02", "2020-01", 3), vec!["2026-02", "2026-01", "2025-12"]);
        assert_eq!(months_newest_first("2026-02", "2027-01", 3), Vec::<String>::new());
        assert_eq!(months_newest_first("2026-02", "junk", 3), vec!["2026-02"]);
        assert_eq!(status_month("2026-12-01T16:25:57Z"), "2026-12");
        assert_eq!(status_month("junk"), "0000-00");
        assert_eq!(day_of("2026-12-01T16:25:57.123Z"), "2026-12-01");
        assert_eq!(day_of("2026-13-01T00:00:00Z"), "");
        assert_eq!(day_of("junk"), "");
    }

    #[test]
    fn document_source_travels_as_ascii_metadata() {
        let s = DocumentSource {
            channel: Channel::Email,
            message_id: Some("<abc@mail.example>".into()),
            sender: Some("ap@supplier.example".into()),
            subject: Some("Facture n\u{b0} 12 \u{2014} \u{e9}t\u{e9}\r\n".into()),
            attachment: Some("inv 12.xml".into()),
            payload_id: None,
        };
        let m = s.to_metadata();
        assert!(m.values().all(|v| v.is_ascii() && !v.contains(['\r', '\n'])), "{m:?}");
        assert_eq!(m["ib-channel"], "email");
        assert_eq!(DocumentSource::from_metadata(&m), s);
        assert_eq!(DocumentSource::from_metadata(&BTreeMap::new()), DocumentSource::default());
        let long = DocumentSource { subject: Some("x".repeat(5000)), ..DocumentSource::default() };
        assert_eq!(DocumentSource::from_metadata(&long.to_metadata()).subject.unwrap().len(), 512);
    }

    #[test]
    fn keys_carry_the_company() {
        assert_eq!(archive_key("archive/", "acme", "NetworkID:AN1", "INV 1", "abc", ".xml"), "archive/acme/NetworkID_AN1/INV_1/abc.xml");
        let (doc, reason) = quarantine_keys("quarantine/", "acme", "abc", "incoming/acme/x y.xml");
        assert_eq!((doc.as_str(), reason.as_str()), ("quarantine/acme/abc/x_y.xml", "quarantine/acme/abc/reason.json"));
        assert_eq!(invoice_key("NetworkID:AN1", "INV-1"), "NetworkID:AN1#INV-1");
    }
}
