//! PDF documents of a company: an invoice's picture (e-mailed or dropped under
//! `incoming/<company>/`), kept once by SHA-256 under `documents/<company>/<sha256>.pdf` and
//! linked to the company's invoice with the same number — now, or when the invoice's data
//! arrives later by any channel.
//!
//! Pure: the one rule that finds an invoice number ([`invoice_number_in`], used by the e-mail
//! channel too), where it is looked for ([`find_invoice_number`]), the record and its key.

use serde::{Deserialize, Serialize};

use crate::invoice::records::{key_segment, DocumentSource};

/// Words that introduce an invoice number, and the filler that may follow them.
const INVOICE_WORDS: [&str; 9] =
    ["invoice", "inv", "invoiceno", "invoicenumber", "rechnung", "rechnungsnummer", "facture", "factura", "fattura"];
const FILLER: [&str; 9] = ["no", "nr", "number", "num", "id", "n", "nummer", "numero", "ref"];

/// The invoice number in a text (a file name, a subject, a PDF's text): the first token after
/// a word such as "Invoice" (and fillers such as "no", "number", "#", ":") that has a digit,
/// 3 to 40 characters of letters, digits, `-`, `/`.
pub fn invoice_number_in(text: &str) -> Option<String> {
    let tokens: Vec<&str> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/')).filter(|t| !t.is_empty()).take(20_000).collect();
    for (i, t) in tokens.iter().enumerate() {
        if !INVOICE_WORDS.contains(&t.to_lowercase().as_str()) {
            continue;
        }
        let mut j = i + 1;
        while j < tokens.len() && FILLER.contains(&tokens[j].to_lowercase().as_str()) {
            j += 1;
        }
        if let Some(candidate) = tokens.get(j) {
            let c = candidate.trim_matches(|c| c == '-' || c == '/');
            let ok = (3..=40).contains(&c.len())
                && c.chars().any(|ch| ch.is_ascii_digit())
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '/');
            if ok {
                return Some(c.to_string());
            }
        }
    }
    None
}

/// Where an invoice number was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum NumberFrom {
    /// The attachment's (or the dropped object's) file name.
    Name,
    Subject,
    /// The PDF's text.
    Text,
}

impl NumberFrom {
    pub fn as_str(&self) -> &'static str {
        match self {
            NumberFrom::Name => "name",
            NumberFrom::Subject => "subject",
            NumberFrom::Text => "text",
        }
    }
}

/// The invoice number of a document: in its file name, else the e-mail's subject, else the
/// PDF's text (`text` is only asked for when the first two have none, since reading it costs).
pub fn find_invoice_number(
    name: Option<&str>,
    subject: Option<&str>,
    text: impl FnOnce() -> Option<String>,
) -> Option<(String, NumberFrom)> {
    if let Some(n) = name.and_then(invoice_number_in) {
        return Some((n, NumberFrom::Name));
    }
    if let Some(n) = subject.and_then(invoice_number_in) {
        return Some((n, NumberFrom::Subject));
    }
    text().as_deref().and_then(invoice_number_in).map(|n| (n, NumberFrom::Text))
}

/// The form an invoice number is matched in (per company): trimmed, uppercase.
pub fn number_key(number: &str) -> String {
    number.trim().to_uppercase()
}

/// Is this a PDF? By its bytes, never its name.
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// A document's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentStatus {
    /// Linked to one of the company's invoices (`invoice_key`).
    Linked,
    /// Document only: the invoice's data has not arrived (or the number is missing or
    /// ambiguous — see `reason`).
    AwaitingData,
    /// Linked to an invoice that was cancelled (`operation="delete"`): kept with it, never
    /// linked anew, not to be paid.
    InvoiceCancelled,
}

impl DocumentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentStatus::Linked => "linked",
            DocumentStatus::AwaitingData => "awaiting-data",
            DocumentStatus::InvoiceCancelled => "invoice-cancelled",
        }
    }

    /// What a clerk reads.
    pub fn label(&self) -> &'static str {
        match self {
            DocumentStatus::Linked => "linked",
            DocumentStatus::AwaitingData => "document only, awaiting data",
            DocumentStatus::InvoiceCancelled => "invoice cancelled: do not pay",
        }
    }
}

/// Why a document is still awaiting data, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum AwaitingReason {
    /// No invoice number in the name, the subject or the text.
    NoInvoiceNumber,
    /// No invoice of the company has the number (yet).
    NoInvoiceYet,
    /// Several of the company's invoices (from different suppliers) have the number.
    AmbiguousNumber,
}

impl AwaitingReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            AwaitingReason::NoInvoiceNumber => "no-invoice-number",
            AwaitingReason::NoInvoiceYet => "no-invoice-yet",
            AwaitingReason::AmbiguousNumber => "ambiguous-number",
        }
    }
}

/// A company's document, one per SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub company: String,
    pub content_sha256: String,
    /// `documents/<company>/<sha256>.pdf`.
    pub document_key: String,
    /// The incoming key it first arrived under.
    pub source_key: String,
    #[serde(default)]
    pub source: DocumentSource,
    pub size: u64,
    pub received_at: String,
    pub invoice_number: Option<String>,
    pub number_from: Option<NumberFrom>,
    pub status: DocumentStatus,
    pub invoice_key: Option<String>,
    pub reason: Option<AwaitingReason>,
    /// Human words for `reason` (e.g. the invoices that share the number).
    pub reason_detail: Option<String>,
}

/// Where a company's document is kept: `<documents>/<company>/<sha256>.pdf`.
pub fn document_key(documents_prefix: &str, company: &str, sha: &str) -> String {
    format!("{documents_prefix}{}/{sha}.pdf", key_segment(company))
}

/// The SHA-256 a [`document_key`] names (`documents/acme/<sha>.pdf` → `<sha>`).
pub fn sha_of_document_key(key: &str) -> Option<&str> {
    let sha = file_name(key).strip_suffix(".pdf")?;
    (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

/// The last segment of a key (the dropped object's file name).
pub fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_numbers() {
        assert_eq!(invoice_number_in("Invoice_1QX7ZK4MPL2T.pdf").as_deref(), Some("1QX7ZK4MPL2T"));
        assert_eq!(invoice_number_in("Your Amazon Business invoice no. INV-2025-0042").as_deref(), Some("INV-2025-0042"));
        assert_eq!(invoice_number_in("Rechnung Nr 4711-A").as_deref(), Some("4711-A"));
        assert_eq!(invoice_number_in("hello world 12345"), None);
    }

    #[test]
    fn name_then_subject_then_text() {
        let text_read = std::cell::Cell::new(false);
        let r = find_invoice_number(Some("invoice_A123.pdf"), Some("Invoice B456"), || {
            text_read.set(true);
            None
        });
        assert_eq!(r, Some(("A123".into(), NumberFrom::Name)));
        assert!(!text_read.get(), "the text is not read when the name has the number");
        assert_eq!(find_invoice_number(Some("scan.pdf"), Some("Invoice B456"), || None), Some(("B456".into(), NumberFrom::Subject)));
        assert_eq!(
            find_invoice_number(Some("scan.pdf"), None, || Some("Invoice no: C789".into())),
            Some(("C789".into(), NumberFrom::Text))
        );
        assert_eq!(find_invoice_number(Some("scan.pdf"), None, || None), None);
    }

    #[test]
    fn codes_are_kebab_and_stable() {
        use strum::IntoEnumIterator;
        for s in DocumentStatus::iter() {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in AwaitingReason::iter() {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for n in NumberFrom::iter() {
            assert_eq!(serde_json::to_value(n).unwrap(), n.as_str());
        }
        assert_eq!(document_key("documents/", "acme", "ab"), "documents/acme/ab.pdf");
        let sha = "a".repeat(64);
        assert_eq!(sha_of_document_key(&document_key("documents/", "acme", &sha)), Some(sha.as_str()));
        assert_eq!(sha_of_document_key("documents/acme/short.pdf"), None);
        assert_eq!(sha_of_document_key("archive/acme/x.xml"), None);
        assert!(is_pdf(b"%PDF-1.7") && !is_pdf(b"<cXML"));
    }
}
