//! PDF documents against DynamoDB Local + moto S3, through the real handlers: a PDF under
//! `incoming/<company>/` is kept once by SHA-256 under `documents/<company>/` and linked to
//! the company's invoice with its number, whichever arrives first.

use integration_tests::{fixture, Env, ACME, GLOBEX};
use invoice_domain::invoice::document::{AwaitingReason, DocumentRecord, DocumentStatus, NumberFrom};
use invoice_domain::invoice::ports::DocumentRepository;
use invoice_domain::invoice::records::Channel;

const S01_KEY: &str = "NetworkID:AN01011737571#1QX7ZK4MPL2T";
const S01: &str = "cxml/samples/s01-amazon-business-two-sellers.xml";

async fn ingest(env: &Env, key: &str, body: Vec<u8>) -> ingest_cxml::RecordResult {
    env.put(key, body).await;
    ingest_cxml::handle(&env.deps(None), env.event(&[key])).await.expect("handler").records.remove(0)
}

async fn docs(env: &Env, company: &str, status: DocumentStatus) -> Vec<DocumentRecord> {
    env.repo.documents(company, status, &integration_tests::all_months(), 100).await.unwrap()
}

#[tokio::test]
async fn pdf_dropped_first_awaits_data_then_its_cxml_links_it() {
    let env = Env::new().await;
    // The number is in the PDF's text (tests/fixtures/mail/make.py), not in the name.
    let r = ingest(&env, "incoming/acme/scan-0001.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!(
        (r.outcome.as_str(), r.document_status.as_deref(), r.invoice_key.as_deref()),
        ("document", Some("awaiting-data"), None),
        "{r:?}"
    );
    let dk = r.document_key.clone().unwrap();
    assert!(dk.starts_with("documents/acme/") && dk.ends_with(".pdf"), "{dk}");
    assert_eq!(env.get(&dk).await.unwrap(), fixture("mail/invoice.pdf"), "kept byte for byte");
    assert!(env.keys("incoming/").await.is_empty());
    assert!(env.keys("quarantine/").await.is_empty(), "no longer quarantined as not-xml");
    let awaiting = docs(&env, ACME, DocumentStatus::AwaitingData).await;
    assert_eq!(awaiting.len(), 1);
    let d = &awaiting[0];
    assert_eq!(
        (d.invoice_number.as_deref(), d.number_from, d.reason),
        (Some("1QX7ZK4MPL2T"), Some(NumberFrom::Text), Some(AwaitingReason::NoInvoiceYet))
    );
    assert_eq!(d.size, fixture("mail/invoice.pdf").len() as u64);

    let r = ingest(&env, "incoming/acme/s01.xml", fixture(S01)).await;
    assert_eq!(r.outcome, "stored", "{r:?}");
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.documents, vec![dk.clone()]);
    assert!(docs(&env, ACME, DocumentStatus::AwaitingData).await.is_empty());
    let linked = docs(&env, ACME, DocumentStatus::Linked).await;
    assert_eq!((linked.len(), linked[0].invoice_key.as_deref(), linked[0].reason), (1, Some(S01_KEY), None));
    assert!(env.repo.awaiting(ACME, "1QX7ZK4MPL2T").await.unwrap().is_empty(), "awaiting item removed");
}

#[tokio::test]
async fn invoice_first_then_its_pdf_is_linked_at_once_and_twice_is_one_document() {
    let env = Env::new().await;
    assert_eq!(ingest(&env, "incoming/acme/s01.xml", fixture(S01)).await.outcome, "stored");
    let r = ingest(&env, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!((r.document_status.as_deref(), r.invoice_key.as_deref()), (Some("linked"), Some(S01_KEY)), "{r:?}");
    // The same PDF again (another name) and a redelivered event.
    let again = ingest(&env, "incoming/acme/copy.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!((again.document_status.as_deref(), again.document_key.clone()), (Some("linked"), r.document_key.clone()), "{again:?}");
    let gone = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/acme/Invoice_1QX7ZK4MPL2T.pdf"])).await.unwrap();
    assert_eq!(gone.records[0].outcome, "gone");
    assert_eq!(docs(&env, ACME, DocumentStatus::Linked).await.len(), 1);
    assert_eq!(env.keys("documents/acme/").await.len(), 1);
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.documents, vec![r.document_key.unwrap()], "listed once");
    let d = &docs(&env, ACME, DocumentStatus::Linked).await[0];
    assert_eq!(d.number_from, Some(NumberFrom::Name));
}

#[tokio::test]
async fn emailed_pdf_before_its_cxml_is_linked_when_the_cxml_arrives() {
    let env = Env::new().await;
    env.acme_mail(false).await;
    env.put("mail/acme/m02", fixture("mail/m02-amazon-pdf-invoice.eml")).await;
    let m = ingest_mail::handle(&env.mail_deps(&[]), env.event(&["mail/acme/m02"])).await.unwrap().records.remove(0);
    assert_eq!(m.outcome, "accepted", "{m:?}");
    let keys: Vec<&str> = m.documents.iter().map(String::as_str).collect();
    let r = ingest_cxml::handle(&env.deps(None), env.event(&keys)).await.unwrap().records.remove(0);
    assert_eq!(r.document_status.as_deref(), Some("awaiting-data"), "{r:?}");
    let d = &docs(&env, ACME, DocumentStatus::AwaitingData).await[0];
    assert_eq!(d.source.channel, Channel::Email);
    assert_eq!(d.source.message_id.as_deref(), Some("pdf-1@amazon.com"));
    assert_eq!(d.source.attachment.as_deref(), Some("Invoice.pdf"));
    assert_eq!(d.invoice_number.as_deref(), Some("1QX7ZK4MPL2T"));

    assert_eq!(ingest(&env, "incoming/acme/s01.xml", fixture(S01)).await.outcome, "stored");
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.documents, vec![d.document_key.clone()]);
    assert_eq!(docs(&env, ACME, DocumentStatus::Linked).await[0].invoice_key.as_deref(), Some(S01_KEY));
}

#[tokio::test]
async fn another_companys_invoice_is_never_linked_and_shared_numbers_are_not_guessed() {
    let env = Env::new().await;
    // globex books an invoice with the same number (addressed to an identity nobody holds).
    let globex = String::from_utf8(fixture(S01)).unwrap().replace("AN99887766554", "AN55555555555");
    assert_eq!(ingest(&env, "incoming/globex/s01.xml", globex.into_bytes()).await.outcome, "stored");
    let r = ingest(&env, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!(r.document_status.as_deref(), Some("awaiting-data"), "{r:?}");
    assert!(env.repo.invoice(GLOBEX, S01_KEY).await.unwrap().unwrap().documents.is_empty());
    assert!(docs(&env, GLOBEX, DocumentStatus::AwaitingData).await.is_empty());

    // acme books two invoices with that number from two suppliers: the PDF stays awaiting.
    assert_eq!(ingest(&env, "incoming/acme/s01.xml", fixture(S01)).await.outcome, "stored");
    let other = String::from_utf8(fixture(S01)).unwrap().replace("AN01011737571", "AN07777777777");
    assert_eq!(ingest(&env, "incoming/acme/other.xml", other.into_bytes()).await.outcome, "stored");
    let mut pdf2 = fixture("mail/invoice.pdf");
    pdf2.extend_from_slice(b"\n% a second scan\n");
    let r = ingest(&env, "incoming/acme/Invoice_1QX7ZK4MPL2T_scan2.pdf", pdf2).await;
    assert_eq!(r.document_status.as_deref(), Some("awaiting-data"), "{r:?}");
    let waiting = docs(&env, ACME, DocumentStatus::AwaitingData).await;
    let ambiguous: Vec<_> = waiting.iter().filter(|d| d.reason == Some(AwaitingReason::AmbiguousNumber)).collect();
    assert_eq!(ambiguous.len(), 1, "{waiting:?}");
    assert!(ambiguous[0].reason_detail.as_deref().unwrap().contains("2 invoices"));
    assert!(env.repo.invoice(ACME, "NetworkID:AN07777777777#1QX7ZK4MPL2T").await.unwrap().unwrap().documents.is_empty());
}

#[tokio::test]
async fn a_pdf_of_no_company_is_quarantined_unassigned() {
    let env = Env::new().await;
    let r = ingest(&env, "incoming/Invoice_1QX7ZK4MPL2T.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!((r.outcome.as_str(), r.company.as_deref()), ("quarantined", Some("_unassigned")), "{r:?}");
    assert_eq!(r.codes[0], "unknown-company");
    assert!(env.keys("documents/").await.is_empty());
}

#[tokio::test]
async fn cancelling_the_invoice_flags_its_pdf_in_the_listing() {
    let env = Env::new().await;
    assert_eq!(ingest(&env, "incoming/acme/s01.xml", fixture(S01)).await.outcome, "stored");
    let r = ingest(&env, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!(r.document_status.as_deref(), Some("linked"));
    let delete = String::from_utf8(fixture(S01)).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    assert_eq!(ingest(&env, "incoming/acme/s01-delete.xml", delete.into_bytes()).await.outcome, "cancelled");
    assert!(docs(&env, ACME, DocumentStatus::Linked).await.is_empty(), "no longer listed as linked");
    let flagged = docs(&env, ACME, DocumentStatus::InvoiceCancelled).await;
    assert_eq!((flagged.len(), flagged[0].invoice_key.as_deref()), (1, Some(S01_KEY)));
    assert_eq!(Some(flagged[0].document_key.clone()), r.document_key);
    // The same PDF again: one document, still flagged.
    let again = ingest(&env, "incoming/acme/again.pdf", fixture("mail/invoice.pdf")).await;
    assert_eq!(again.document_status.as_deref(), Some("invoice-cancelled"), "{again:?}");
    assert_eq!(docs(&env, ACME, DocumentStatus::InvoiceCancelled).await.len(), 1);
}
