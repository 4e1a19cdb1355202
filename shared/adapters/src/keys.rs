//! Every key of the single table, in one place. Every item that belongs to a company has a
//! partition key that starts with `C#<company>#`, and so do the index partitions that list a
//! company's items: a query built from a company's id can only ever read that company's items.
//!
//! | item | PK | SK | index |
//! |---|---|---|---|
//! | company | `COMPANY#<id>` | `#COMPANY` | GSI1 `COMPANIES` / `<id>` |
//! | cXML identity → company | `CXMLID#<domain:identity>` | `#CXMLID` | |
//! | invoice e-mail address → company | `MAILADDR#<address>` | `#MAILADDR` | |
//! | PDF document, by SHA-256 | `C#<co>#DOC#<sha256>` | `#DOC` | GSI2 `C#<co>#DOCSTATUS#<linked\|awaiting-data>` / `<received>#<sha>` |
//! | document awaiting its invoice | `C#<co>#DOCNUM#<invoice number>` | `DOC#<sha256>` | |
//! | invoice by number | `C#<co>#INVNUM#<invoice number>` | `INV#<invoice key>` | |
//! | invoice header | `C#<co>#INV#<supplier>#<invoiceID>` | `#HEADER` | GSI2 `C#<co>#STATUS#<status>#<YYYY-MM>` / `<received>#<key>`; GSI3 `C#<co>#SUPPLIER#<supplier>` / `<date>#<id>` |
//! | invoice line | same | `LINE#<0000000001>` | |
//! | journal line | same | `ENTRY#<kind>#<00001>` | GSI2 `C#<co>#JOURNAL#<YYYY-MM>` / `<date>#<invoice key>#<kind>#<00001>` (by accounting date) |
//! | PO / Amazon order reference | same | `PO#<po>` / `SORDER#<id>` | GSI1 `C#<co>#PO#<po>` / `<date>#<key>` |
//! | rejection | `C#<co>#REJ#<sha256>` | `#REJECTED` | GSI2 `C#<co>#STATUS#Rejected#<YYYY-MM>` / `<received>#<sha>` |
//! | order, vendor invoice, order errors | `C#<co>#ORDER#<order id>` | `#ORDER`, `#INVOICE`, `ERROR#…` | GSI2 `C#<co>#INVSTATUS#Unknown` / `<updated>#<id>` (Unknown invoices); vendor invoice GSI3 `C#<co>#VINVOICES#<YYYY-MM>` / `<created>#<id>` (the dashboard) |
//! | amazon account / seller / location / delivery location | `C#<co>#ACCOUNT#<id>` / `C#<co>#SELLER#<vendor id>` / `C#<co>#LOCATION#<id>` / `C#<co>#DELIVERYLOC#<id>` | `#ACCOUNT` … | |
//! | marketplace feed | `C#<co>#FEED#<transactionId>` | `#FEED` | GSI2 `C#<co>#FEEDSTATUS#<type>#<status>` / `<submitted>#<txId>` |
//! | purchase order (Amazon Business) | `C#<co>#PORDER#<po number>` | `#PO` | GSI2 `C#<co>#POSTATE#<state>#<YYYY-MM>` / `<received>#<po>` |
//! | what an invoice billed of a PO | `C#<co>#PORDER#<po number>` | `INVOICED#<invoice key>` | |
//! | invoice header's match (on the header item) | | | GSI1 `C#<co>#MATCH#<Matched\|Exception>#<YYYY-MM>` / `<received>#<key>` |
//! | Amazon order id → PO | `C#<co>#AMZORDER#<amazon order id>` | `#PO` | |
//! | rate state (per selling partner and operation) | `RATE#<key>` | `#GCRA` | |
//! | HTTPS answer of a payloadID (replays get it again) | `C#<co>#PAYLOAD#<payloadID>` | `#ANSWER` | |
//! | import cursor (version) / import status (Amazon Business) | `C#<co>#IMPORT` | `#CURSOR` / `#STATUS` | |
//! | import PDF task, per invoice | `C#<co>#PDFTASK#<invoice key>` | `#PDFTASK` | GSI1 `C#<co>#PDFOPEN` / `<created_at>#<invoice key>` (while not final) |
//! | import issue (flagged, refused, abandoned) | `C#<co>#IMPORTISSUE#<kind>#<id>` | `#ISSUE` | GSI2 `C#<co>#IMPORTISSUES` / `<at>#<kind>#<id>` |

/// `C#<company>#` + the rest: the partition of one company's item.
pub fn co(company: &str, rest: &str) -> String {
    format!("C#{company}#{rest}")
}

pub const COMPANY_SK: &str = "#COMPANY";
pub const COMPANIES_GSI1PK: &str = "COMPANIES";
pub const IDENTITY_SK: &str = "#CXMLID";

pub fn company_pk(id: &str) -> String {
    format!("COMPANY#{id}")
}

pub fn identity_pk(identity: &str) -> String {
    format!("CXMLID#{identity}")
}

pub const MAILADDR_SK: &str = "#MAILADDR";

/// An invoice e-mail address → the company that registered it (lowercased address).
pub fn mail_address_pk(address: &str) -> String {
    format!("MAILADDR#{address}")
}

pub const HEADER_SK: &str = "#HEADER";
pub const REJECTED_SK: &str = "#REJECTED";

pub fn invoice_pk(company: &str, invoice_key: &str) -> String {
    co(company, &format!("INV#{invoice_key}"))
}

pub fn rejection_pk(company: &str, sha: &str) -> String {
    co(company, &format!("REJ#{sha}"))
}

/// The status index partition of a company's invoices (or rejections) of one month.
pub fn status_pk(company: &str, status: &str, month: &str) -> String {
    co(company, &format!("STATUS#{status}#{month}"))
}

/// The table sort key of a journal line: `ENTRY#<kind>#<seq>`.
pub fn entry_sk(kind: &str, seq: u32) -> String {
    format!("ENTRY#{kind}#{seq:05}")
}

/// GSI2 partition of a company's journal lines of one month (by accounting date, `YYYY-MM`):
/// the journal export walks a range's months.
pub fn journal_pk(company: &str, month: &str) -> String {
    co(company, &format!("JOURNAL#{month}"))
}

/// GSI2 sort key of a journal line: `<date>#<invoice key>#<kind>#<seq>`, deterministic, so a
/// redelivery rewrites the same; in date order within the month.
pub fn journal_sk(date: &str, invoice_key: &str, kind: &str, seq: u32) -> String {
    format!("{date}#{invoice_key}#{kind}#{seq:05}")
}

pub fn supplier_pk(company: &str, supplier: &str) -> String {
    co(company, &format!("SUPPLIER#{supplier}"))
}

/// `kind` is `PO` or `SORDER`.
pub fn reference_pk(company: &str, kind: &str, reference: &str) -> String {
    co(company, &format!("{kind}#{reference}"))
}

pub const DOC_SK: &str = "#DOC";

pub fn document_pk(company: &str, sha: &str) -> String {
    co(company, &format!("DOC#{sha}"))
}

/// GSI2 partition listing a company's documents in a status (`linked`, `awaiting-data`).
/// A company's documents in a status, per month received (`YYYY-MM`): listings walk months
/// newest first, and no partition grows without bound.
pub fn document_status_pk(company: &str, status: &str, month: &str) -> String {
    co(company, &format!("DOCSTATUS#{status}#{month}"))
}

pub fn awaiting_sk(sha: &str) -> String {
    format!("DOC#{sha}")
}

pub fn invoice_number_sk(invoice_key: &str) -> String {
    format!("INV#{invoice_key}")
}

/// The documents waiting for the invoice with this number.
pub fn awaiting_pk(company: &str, invoice_number: &str) -> String {
    co(company, &format!("DOCNUM#{invoice_number}"))
}

/// The invoices (keys) with this number.
pub fn invoice_number_pk(company: &str, invoice_number: &str) -> String {
    co(company, &format!("INVNUM#{invoice_number}"))
}

// ---- vendor side (one company's orders, accounts, sellers, locations, invoices, feeds) ----

pub const ORDER_SK: &str = "#ORDER";
pub const INVOICE_SK: &str = "#INVOICE";
pub const ERROR_SK_PREFIX: &str = "ERROR#";
pub const ACCOUNT_SK: &str = "#ACCOUNT";
pub const SELLER_SK: &str = "#SELLER";
pub const LOCATION_SK: &str = "#LOCATION";
pub const DELIVERYLOC_SK: &str = "#DELIVERYLOC";
pub const FEED_SK: &str = "#FEED";

pub fn order_pk(company: &str, order_id: &str) -> String {
    co(company, &format!("ORDER#{order_id}"))
}

pub fn account_pk(company: &str, account_id: &str) -> String {
    co(company, &format!("ACCOUNT#{account_id}"))
}

pub fn seller_pk(company: &str, vendor_id: &str) -> String {
    co(company, &format!("SELLER#{vendor_id}"))
}

pub fn location_pk(company: &str, id: &str) -> String {
    co(company, &format!("LOCATION#{id}"))
}

pub fn delivery_location_pk(company: &str, location_id: &str) -> String {
    co(company, &format!("DELIVERYLOC#{location_id}"))
}

pub fn feed_pk(company: &str, transaction_id: &str) -> String {
    co(company, &format!("FEED#{transaction_id}"))
}

/// GSI2 partition of a company's feeds of a type in a status, e.g.
/// `C#acme#FEEDSTATUS#Order Invoice#Processing`.
pub fn feed_status_pk(company: &str, feed_type: &str, status: &str) -> String {
    co(company, &format!("FEEDSTATUS#{feed_type}#{status}"))
}

/// GSI3 partition of a company's vendor invoices created in a month (`YYYY-MM`), sort key
/// `<created_at>#<order id>`: the dashboard lists them newest first, month by month.
pub fn vendor_invoices_pk(company: &str, month: &str) -> String {
    co(company, &format!("VINVOICES#{month}"))
}

/// GSI2 partition of a company's vendor invoices whose submission outcome is unknown.
pub fn unknown_invoices_pk(company: &str) -> String {
    co(company, "INVSTATUS#Unknown")
}

/// The deterministic sort key of an Order Error (`sha16` = first 16 hex chars of the SHA-256
/// of the message): a repeated delivery overwrites the same record instead of adding one.
pub fn order_error_sk(e: &invoice_domain::vendor::records::OrderError) -> String {
    let digest = invoice_domain::core::sha256_hex(e.message.as_bytes());
    format!("{ERROR_SK_PREFIX}{}#{}#{}", e.source, e.code, &digest[..16])
}

pub const PO_SK: &str = "#PO";

/// A company's purchase order placed through the Ordering API.
pub fn purchase_order_pk(company: &str, po_number: &str) -> String {
    co(company, &format!("PORDER#{po_number}"))
}

/// What one invoice billed of a PO (in the PO's partition).
pub fn invoiced_sk(invoice_key: &str) -> String {
    format!("INVOICED#{invoice_key}")
}

/// A company's invoices by match status, per month received.
pub fn match_status_pk(company: &str, status: &str, month: &str) -> String {
    co(company, &format!("MATCH#{status}#{month}"))
}

/// A company's POs in a state, per month received.
pub fn po_state_pk(company: &str, state: &str, month: &str) -> String {
    co(company, &format!("POSTATE#{state}#{month}"))
}

/// An Amazon order id of one of a company's POs (one PO can become several Amazon orders).
pub fn amazon_order_pk(company: &str, amazon_order_id: &str) -> String {
    co(company, &format!("AMZORDER#{amazon_order_id}"))
}

pub const ANSWER_SK: &str = "#ANSWER";

/// The answer given to one of a company's POSTed documents, by its cXML payloadID: a
/// transport retry (same payloadID) is answered the same and not ingested again.
pub fn payload_pk(company: &str, payload_id: &str) -> String {
    co(company, &format!("PAYLOAD#{payload_id}"))
}

// ---- the Amazon Business import (cursor, status, PDF tasks, issues) ----

pub const CURSOR_SK: &str = "#CURSOR";
pub const IMPORT_STATUS_SK: &str = "#STATUS";
pub const PDF_TASK_SK: &str = "#PDFTASK";
pub const ISSUE_SK: &str = "#ISSUE";

/// The partition of a company's import state: its cursor and its status.
pub fn import_pk(company: &str) -> String {
    co(company, "IMPORT")
}

/// The PDF task of one of a company's invoices.
pub fn pdf_task_pk(company: &str, invoice_key: &str) -> String {
    co(company, &format!("PDFTASK#{invoice_key}"))
}

/// GSI1 partition of a company's PDF tasks that are not final (the attributes are removed
/// when the task becomes final, so the partition holds only open work).
pub fn pdf_open_pk(company: &str) -> String {
    co(company, "PDFOPEN")
}

/// GSI1 sort key of an open PDF task: oldest first.
pub fn pdf_open_sk(created_at: &str, invoice_key: &str) -> String {
    format!("{created_at}#{invoice_key}")
}

/// One import issue: once per company, kind and id.
pub fn issue_pk(company: &str, kind: &str, id: &str) -> String {
    co(company, &format!("IMPORTISSUE#{kind}#{id}"))
}

/// GSI2 partition listing a company's import issues (newest first by sort key).
pub fn issues_pk(company: &str) -> String {
    co(company, "IMPORTISSUES")
}

/// Rate-limit state of one key (`spapi:<selling partner>:<operation>`).
pub fn rate_pk(key: &str) -> String {
    format!("RATE#{key}")
}
pub const GCRA_SK: &str = "#GCRA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_company_key_starts_with_its_company() {
        let c = "acme";
        for k in [
            invoice_pk(c, "s#1"),
            rejection_pk(c, "abc"),
            status_pk(c, "Valid", "2026-12"),
            supplier_pk(c, "s"),
            reference_pk(c, "PO", "1"),
            order_pk(c, "1"),
            account_pk(c, "1"),
            seller_pk(c, "1"),
            location_pk(c, "1"),
            delivery_location_pk(c, "1"),
            feed_pk(c, "1"),
            feed_status_pk(c, "Order Invoice", "Processing"),
            unknown_invoices_pk(c),
            vendor_invoices_pk(c, "2026-12"),
            document_pk(c, "abc"),
            document_status_pk(c, "awaiting-data", "2026-12"),
            awaiting_pk(c, "INV-1"),
            invoice_number_pk(c, "INV-1"),
            payload_pk(c, "1.2.3@supplier"),
            purchase_order_pk(c, "PO-1"),
            po_state_pk(c, "Placed", "2026-12"),
            amazon_order_pk(c, "113-1-2"),
            match_status_pk(c, "Exception", "2026-12"),
            journal_pk(c, "2026-12"),
            import_pk(c),
            pdf_task_pk(c, "s#1"),
            pdf_open_pk(c),
            issue_pk(c, "flagged", "abc"),
            issues_pk(c),
        ] {
            assert!(k.starts_with("C#acme#"), "{k}");
        }
        assert_eq!(journal_sk("2026-12-01", "s#1", "booking", 3), "2026-12-01#s#1#booking#00003");
        assert_eq!(entry_sk("reversal", 12), "ENTRY#reversal#00012");
        // A company id is a slug (no '#'), so one company's prefix is never another's.
        assert!(!invoice_pk("acme-2", "x").starts_with("C#acme#"));
    }
}
