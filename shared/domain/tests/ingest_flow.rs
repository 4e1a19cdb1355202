//! The ingestion workflow against in-memory ports (the real S3/DynamoDB adapters are proven
//! by the integration tests under tests/).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use invoice_domain::company::{Company, CompanyDirectory};
use invoice_domain::core::PortError;
use invoice_domain::invoice::document::*;
use invoice_domain::invoice::ingest::*;
use invoice_domain::invoice::ports::*;
use invoice_domain::invoice::records::*;
use invoice_domain::matching::{Invoiced, MatchOutcome, MatchStore};
use invoice_domain::ordering::records::PoRecord;

#[derive(Default)]
struct MemStore(Mutex<BTreeMap<String, Vec<u8>>>, Mutex<BTreeMap<String, BTreeMap<String, String>>>);

impl DocumentStore for MemStore {
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        let m = self.0.lock().unwrap();
        Ok(m.get(key)
            .map(|bytes| StoredObject { bytes: bytes.clone(), metadata: self.1.lock().unwrap().get(key).cloned().unwrap_or_default() }))
    }
    async fn put(&self, key: &str, body: Vec<u8>, _ct: &str, metadata: &BTreeMap<String, String>) -> Result<(), PortError> {
        self.0.lock().unwrap().insert(key.to_string(), body);
        self.1.lock().unwrap().insert(key.to_string(), metadata.clone());
        Ok(())
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), PortError> {
        let mut m = self.0.lock().unwrap();
        let v = m.get(from).cloned().ok_or_else(|| PortError(format!("no {from}")))?;
        m.insert(to.to_string(), v);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

/// Keyed like the real table: every key starts with the company.
#[derive(Default)]
struct MemRepo {
    headers: Mutex<BTreeMap<(String, String), InvoiceRecord>>,
    lines: Mutex<BTreeMap<(String, String, u32), LineRecord>>,
    entries: Mutex<BTreeMap<(String, String, String, u32), EntryRecord>>,
    rejections: Mutex<BTreeMap<(String, String), RejectionRecord>>,
    fail_details_once: Mutex<bool>,
    documents: Mutex<BTreeMap<(String, String), DocumentRecord>>,
    /// (company, number) → SHA-256s / invoice keys.
    awaiting: Mutex<BTreeMap<(String, String), BTreeSet<String>>>,
    numbers: Mutex<BTreeMap<(String, String), BTreeSet<String>>>,
}

impl DocumentRepository for MemRepo {
    async fn put_document(&self, d: &DocumentRecord) -> Result<Option<DocumentRecord>, PortError> {
        let mut m = self.documents.lock().unwrap();
        let k = (d.company.clone(), d.content_sha256.clone());
        if let Some(e) = m.get(&k) {
            return Ok(Some(e.clone()));
        }
        m.insert(k, d.clone());
        Ok(None)
    }
    async fn get_document(&self, c: &str, sha: &str) -> Result<Option<DocumentRecord>, PortError> {
        Ok(self.documents.lock().unwrap().get(&(c.to_string(), sha.to_string())).cloned())
    }
    async fn put_awaiting(&self, c: &str, n: &str, sha: &str) -> Result<(), PortError> {
        self.awaiting.lock().unwrap().entry((c.into(), n.into())).or_default().insert(sha.into());
        Ok(())
    }
    async fn awaiting(&self, c: &str, n: &str) -> Result<Vec<String>, PortError> {
        Ok(self.awaiting.lock().unwrap().get(&(c.into(), n.into())).map(|s| s.iter().cloned().collect()).unwrap_or_default())
    }
    async fn put_invoice_number(&self, c: &str, n: &str, key: &str) -> Result<(), PortError> {
        self.numbers.lock().unwrap().entry((c.into(), n.into())).or_default().insert(key.into());
        Ok(())
    }
    async fn invoices_by_number(&self, c: &str, n: &str) -> Result<Vec<String>, PortError> {
        Ok(self.numbers.lock().unwrap().get(&(c.into(), n.into())).map(|s| s.iter().cloned().collect()).unwrap_or_default())
    }
    async fn link(&self, d: &DocumentRecord, key: &str) -> Result<bool, PortError> {
        {
            let mut m = self.documents.lock().unwrap();
            let e = m.get_mut(&(d.company.clone(), d.content_sha256.clone())).unwrap();
            let ok = e.status == DocumentStatus::AwaitingData || e.invoice_key.as_deref() == Some(key);
            if !ok {
                return Ok(false);
            }
            e.status = DocumentStatus::Linked;
            e.invoice_key = Some(key.into());
            e.reason = None;
            e.reason_detail = None;
        }
        if let Some(h) = self.headers.lock().unwrap().get_mut(&(d.company.clone(), key.to_string())) {
            if !h.documents.contains(&d.document_key) {
                h.documents.push(d.document_key.clone());
            }
        }
        if let Some(n) = d.invoice_number.as_deref() {
            if let Some(s) = self.awaiting.lock().unwrap().get_mut(&(d.company.clone(), number_key(n))) {
                s.remove(&d.content_sha256);
            }
        }
        Ok(true)
    }
    async fn mark_invoice_cancelled(&self, d: &DocumentRecord) -> Result<(), PortError> {
        if let Some(e) = self.documents.lock().unwrap().get_mut(&(d.company.clone(), d.content_sha256.clone())) {
            if e.invoice_key.is_some() && e.invoice_key == d.invoice_key && e.status == DocumentStatus::Linked {
                e.status = DocumentStatus::InvoiceCancelled;
            }
        }
        Ok(())
    }
    async fn set_awaiting_reason(&self, c: &str, sha: &str, r: AwaitingReason, detail: &str) -> Result<(), PortError> {
        if let Some(e) = self.documents.lock().unwrap().get_mut(&(c.to_string(), sha.to_string())) {
            if e.status == DocumentStatus::AwaitingData {
                e.reason = Some(r);
                e.reason_detail = Some(detail.into());
            }
        }
        Ok(())
    }
}

impl MatchStore for MemRepo {
    async fn purchase_orders(&self, _: &str, _: &[String], _: &[String]) -> Result<Vec<PoRecord>, PortError> {
        Ok(vec![])
    }
    async fn invoiced(&self, _: &str, _: &str) -> Result<Vec<Invoiced>, PortError> {
        Ok(vec![])
    }
    async fn record_match(&self, c: &str, h: &InvoiceRecord, o: &MatchOutcome, _: Option<&Invoiced>) -> Result<(), PortError> {
        if let Some(e) = self.headers.lock().unwrap().get_mut(&(c.to_string(), h.invoice_key.clone())) {
            e.matching = Some(o.clone());
        }
        Ok(())
    }
    async fn invoices_naming(&self, _: &str, _: &str, _: &[String]) -> Result<Vec<String>, PortError> {
        Ok(vec![])
    }
}

fn hk(h: &InvoiceRecord) -> (String, String) {
    (h.company.clone(), h.invoice_key.clone())
}

impl InvoiceRepository for MemRepo {
    async fn claim(&self, h: &InvoiceRecord) -> Result<Claim, PortError> {
        let mut m = self.headers.lock().unwrap();
        match m.get(&hk(h)) {
            None => {
                m.insert(hk(h), h.clone());
                Ok(Claim::Claimed)
            }
            Some(e) if e.content_sha256 == h.content_sha256 => Ok(Claim::Same(e.clone())),
            Some(e) => Ok(Claim::Conflict(e.clone())),
        }
    }
    async fn put_details(&self, h: &InvoiceRecord, lines: &[LineRecord], entries: &[EntryRecord]) -> Result<(), PortError> {
        let mut fail = self.fail_details_once.lock().unwrap();
        if *fail {
            *fail = false;
            return Err(PortError("injected failure".into()));
        }
        for l in lines {
            self.lines.lock().unwrap().insert((h.company.clone(), l.invoice_key.clone(), l.line_number), l.clone());
        }
        for e in entries {
            self.entries.lock().unwrap().insert((h.company.clone(), e.invoice_key.clone(), e.kind.clone(), e.line.seq), e.clone());
        }
        Ok(())
    }
    async fn mark_valid(&self, h: &InvoiceRecord) -> Result<(), PortError> {
        let mut m = self.headers.lock().unwrap();
        let e = m.get_mut(&hk(h)).unwrap();
        assert_eq!(e.content_sha256, h.content_sha256);
        e.status = InvoiceStatus::Valid;
        Ok(())
    }
    async fn get_invoice(&self, c: &str, k: &str) -> Result<Option<InvoiceRecord>, PortError> {
        Ok(self.headers.lock().unwrap().get(&(c.to_string(), k.to_string())).cloned())
    }
    async fn get_entries(&self, c: &str, k: &str) -> Result<Vec<EntryRecord>, PortError> {
        Ok(self.entries.lock().unwrap().iter().filter(|(key, _)| key.0 == c && key.1 == k).map(|(_, e)| e.clone()).collect())
    }
    async fn get_lines(&self, c: &str, k: &str) -> Result<Vec<LineRecord>, PortError> {
        Ok(self.lines.lock().unwrap().iter().filter(|(key, _)| key.0 == c && key.1 == k).map(|(_, l)| l.clone()).collect())
    }
    async fn cancel(&self, inv: &InvoiceRecord, sha: &str, at: &str, doc: &str, rev: &[EntryRecord]) -> Result<CancelResult, PortError> {
        let mut m = self.headers.lock().unwrap();
        let e = m.get_mut(&hk(inv)).unwrap();
        if e.status != InvoiceStatus::Valid {
            return Ok(CancelResult::NotValid);
        }
        e.status = InvoiceStatus::Cancelled;
        e.cancelled_by_sha256 = Some(sha.into());
        e.cancelled_at = Some(at.into());
        e.cancel_document_key = Some(doc.into());
        for r in rev {
            self.entries.lock().unwrap().insert((inv.company.clone(), r.invoice_key.clone(), r.kind.clone(), r.line.seq), r.clone());
        }
        Ok(CancelResult::Cancelled)
    }
    async fn put_rejection(&self, r: &RejectionRecord) -> Result<bool, PortError> {
        let mut m = self.rejections.lock().unwrap();
        let k = (r.company.clone(), r.content_sha256.clone());
        if m.contains_key(&k) {
            return Ok(false);
        }
        m.insert(k, r.clone());
        Ok(true)
    }
}

/// acme (receives as NetworkID:AN99887766554, the To of s01/s06/s07) and globex (no identity).
struct MemDir(Vec<Company>);

impl Default for MemDir {
    fn default() -> Self {
        let acme = Company::new("acme", "Acme Corp", &["NetworkID:AN99887766554".into()], "2025-01-01T00:00:00.000Z").unwrap();
        let mut globex = Company::new("globex", "Globex", &[], "2025-01-01T00:00:00.000Z").unwrap();
        globex.chart.default_expense = "6001".into();
        globex.chart.payable = "4010-suppliers".into();
        MemDir(vec![acme, globex])
    }
}

impl CompanyDirectory for MemDir {
    async fn company(&self, id: &str) -> Result<Option<Company>, PortError> {
        Ok(self.0.iter().find(|c| c.id == id).cloned())
    }
    async fn company_of_identity(&self, identity: &str) -> Result<Option<String>, PortError> {
        Ok(self.0.iter().find(|c| c.cxml_identities.iter().any(|i| i == identity)).map(|c| c.id.clone()))
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples").join(name)).unwrap()
}

fn ingestor() -> Ingestor<MemStore, MemRepo, MemDir> {
    Ingestor::new(MemStore::default(), MemRepo::default(), MemDir::default(), IngestConfig::default())
}

const T: &str = "2025-11-20T10:00:00Z";

#[tokio::test]
async fn valid_invoice_is_stored_with_lines_entries_and_archive() {
    let ing = ingestor();
    ing.store.put("incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/acme/a.xml", T).await.unwrap();
    let key = "NetworkID:AN01011737571#1QX7ZK4MPL2T".to_string();
    assert_eq!(out, Outcome::Stored { company: "acme".into(), invoice_key: key.clone(), resumed: false });
    let h = ing.repo.get_invoice("acme", &key).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Valid);
    assert_eq!(h.net, "190.44");
    assert_eq!(h.order_ids, vec!["PO-2025-00931"]);
    assert_eq!(h.invoice_date, "2025-11-14");
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
    assert_eq!(ing.repo.entries.lock().unwrap().len(), 5);
    let store = ing.store.0.lock().unwrap();
    assert!(!store.contains_key("incoming/acme/a.xml"), "incoming removed after archiving");
    assert_eq!(store.get(&h.document_key).unwrap(), &sample("s01-amazon-business-two-sellers.xml"));
    assert!(h.document_key.starts_with("archive/acme/NetworkID_AN01011737571/1QX7ZK4MPL2T/"));
}

#[tokio::test]
async fn same_document_twice_is_one_record() {
    let ing = ingestor();
    for k in ["incoming/acme/a.xml", "incoming/acme/copy-of-a.xml"] {
        ing.store.put(k, sample("s04-service-lines-padded-numbers.xml"), "", &BTreeMap::new()).await.unwrap();
    }
    assert!(matches!(ing.ingest("incoming/acme/a.xml", T).await.unwrap(), Outcome::Stored { .. }));
    assert!(matches!(ing.ingest("incoming/acme/copy-of-a.xml", T).await.unwrap(), Outcome::AlreadyStored { .. }));
    // Redelivery of an event whose object is already processed.
    assert_eq!(ing.ingest("incoming/acme/a.xml", T).await.unwrap(), Outcome::Gone);
    assert_eq!(ing.repo.headers.lock().unwrap().len(), 1);
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_crash_between_claim_and_details_is_resumed_by_the_retry() {
    let ing = ingestor();
    *ing.repo.fail_details_once.lock().unwrap() = true;
    ing.store.put("incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &BTreeMap::new()).await.unwrap();
    assert!(ing.ingest("incoming/acme/a.xml", T).await.is_err());
    assert!(ing.store.0.lock().unwrap().contains_key("incoming/acme/a.xml"), "kept for the retry");
    let out = ing.ingest("incoming/acme/a.xml", T).await.unwrap();
    assert!(matches!(out, Outcome::Stored { resumed: true, .. }), "{out:?}");
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn conflicting_duplicate_is_quarantined_and_original_untouched() {
    let ing = ingestor();
    let original = sample("s01-amazon-business-two-sellers.xml");
    let changed = String::from_utf8(original.clone()).unwrap().replace(">8.99<", ">9.99<").replace(">190.44<", ">191.44<");
    ing.store.put("incoming/acme/1.xml", original, "", &BTreeMap::new()).await.unwrap();
    ing.store.put("incoming/acme/2.xml", changed.into_bytes(), "", &BTreeMap::new()).await.unwrap();
    ing.ingest("incoming/acme/1.xml", T).await.unwrap();
    let out = ing.ingest("incoming/acme/2.xml", T).await.unwrap();
    let Outcome::Quarantined { quarantine_key, codes, .. } = out else { panic!("{out:?}") };
    assert_eq!(codes, vec!["duplicate-invoice"]);
    let h = ing.repo.get_invoice("acme", "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().unwrap();
    assert_eq!(h.net, "190.44");
    let store = ing.store.0.lock().unwrap();
    assert!(store.contains_key(&quarantine_key));
    let reason: serde_json::Value = serde_json::from_slice(store.get(&quarantine_key.replace("2.xml", "reason.json")).unwrap()).unwrap();
    assert_eq!(reason["errors"][0]["code"], "duplicate-invoice");
    assert!(reason["what_to_do"].as_str().unwrap().contains("credit memo"));
}

#[tokio::test]
async fn invalid_document_is_quarantined_with_reason_and_recorded_once() {
    let ing = ingestor();
    ing.store.put("incoming/acme/s05.xml", sample("s05-two-orders-net-zero.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/acme/s05.xml", T).await.unwrap();
    let Outcome::Quarantined { quarantine_key, codes, .. } = out else { panic!() };
    assert_eq!(codes, vec!["net-mismatch"]);
    assert!(quarantine_key.ends_with("/s05.xml"));
    let store = ing.store.0.lock().unwrap();
    assert_eq!(store.get(&quarantine_key).unwrap(), &sample("s05-two-orders-net-zero.xml"));
    assert!(!store.contains_key("incoming/acme/s05.xml"));
    drop(store);
    let recs = ing.repo.rejections.lock().unwrap();
    assert_eq!(recs.len(), 1);
    let r = recs.values().next().unwrap();
    assert_eq!(r.invoice_id.as_deref(), Some("SUP91-000187"));
    assert!(r.errors[0].message.contains("NetAmount"));
}

#[tokio::test]
async fn garbage_is_quarantined_not_dropped() {
    let ing = ingestor();
    // Named .pdf, but not a PDF by its bytes (a real PDF is a document: see below).
    ing.store.put("incoming/acme/scan.pdf", b"GIF89a \x00\x01".to_vec(), "", &BTreeMap::new()).await.unwrap();
    let Outcome::Quarantined { codes, quarantine_key, .. } = ing.ingest("incoming/acme/scan.pdf", T).await.unwrap() else { panic!() };
    assert_eq!(codes, vec!["not-xml"]);
    assert_eq!(ing.store.0.lock().unwrap().get(&quarantine_key).unwrap(), b"GIF89a \x00\x01");
}

#[tokio::test]
async fn delete_operation_cancels_and_reverses() {
    let ing = ingestor();
    let original = sample("s01-amazon-business-two-sellers.xml");
    let delete = String::from_utf8(original.clone()).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    ing.store.put("incoming/acme/1.xml", original, "", &BTreeMap::new()).await.unwrap();
    ing.ingest("incoming/acme/1.xml", T).await.unwrap();
    ing.store.put("incoming/acme/del.xml", delete.clone().into_bytes(), "", &BTreeMap::new()).await.unwrap();
    let key = "NetworkID:AN01011737571#1QX7ZK4MPL2T".to_string();
    const CANCELLED_AT: &str = "2026-01-05T08:30:00.000Z";
    assert_eq!(
        ing.ingest("incoming/acme/del.xml", CANCELLED_AT).await.unwrap(),
        Outcome::Cancelled { company: "acme".into(), invoice_key: key.clone() }
    );
    let h = ing.repo.get_invoice("acme", &key).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Cancelled);
    let entries = ing.repo.get_entries("acme", &key).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.kind == "reversal").count(), 5);
    // Bookings are dated by the invoice, reversals by the day the cancellation arrived; both
    // keep the invoice's date.
    for e in &entries {
        let want = if e.kind == "booking" { "2025-11-14" } else { "2026-01-05" };
        assert_eq!((e.accounting_date(), e.invoice_date.as_str()), (want, "2025-11-14"), "{e:?}");
    }
    // The same cancellation again is a no-op.
    ing.store.put("incoming/acme/del.xml", delete.into_bytes(), "", &BTreeMap::new()).await.unwrap();
    assert_eq!(
        ing.ingest("incoming/acme/del.xml", T).await.unwrap(),
        Outcome::Cancelled { company: "acme".into(), invoice_key: key.clone() }
    );
    assert_eq!(ing.repo.get_entries("acme", &key).await.unwrap().len(), 10);
}

#[tokio::test]
async fn delete_of_unknown_invoice_is_quarantined() {
    let ing = ingestor();
    let delete =
        String::from_utf8(sample("s03-tabbed-address-misspelt-terms.xml")).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    ing.store.put("incoming/acme/del.xml", delete.into_bytes(), "", &BTreeMap::new()).await.unwrap();
    let Outcome::Quarantined { codes, .. } = ing.ingest("incoming/acme/del.xml", T).await.unwrap() else { panic!() };
    assert_eq!(codes, vec!["unknown-invoice"]);
}

#[tokio::test]
async fn company_from_the_to_identity_when_dropped_at_the_root() {
    let ing = ingestor();
    ing.store.put("incoming/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/a.xml", T).await.unwrap();
    assert!(matches!(&out, Outcome::Stored { company, .. } if company == "acme"), "{out:?}");
    assert!(ing.repo.get_invoice("acme", "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().is_some());
    assert!(ing.repo.get_invoice("globex", "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().is_none());
}

#[tokio::test]
async fn no_company_is_quarantined_unknown_company_with_the_to_identity() {
    let ing = ingestor();
    // s03 is addressed To NetworkID:AN02004455667, which nobody registered.
    ing.store.put("incoming/s03.xml", sample("s03-tabbed-address-misspelt-terms.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/s03.xml", T).await.unwrap();
    let Outcome::Quarantined { company, quarantine_key, codes } = out else { panic!("{out:?}") };
    assert_eq!(company, invoice_domain::company::UNASSIGNED);
    assert_eq!(codes, vec!["unknown-company"]);
    assert!(quarantine_key.starts_with("quarantine/_unassigned/"), "{quarantine_key}");
    {
        let store = ing.store.0.lock().unwrap();
        assert_eq!(store.get(&quarantine_key).unwrap(), &sample("s03-tabbed-address-misspelt-terms.xml"), "document kept");
        assert!(!store.contains_key("incoming/s03.xml"));
        let reason: serde_json::Value =
            serde_json::from_slice(store.get(&quarantine_key.replace("s03.xml", "reason.json")).unwrap()).unwrap();
        assert!(reason["errors"][0]["message"].as_str().unwrap().contains("networkid:AN02004455667"), "{reason}");
        assert!(reason["what_to_do"].as_str().unwrap().contains("--cxml-identity"));
    }
    // An unknown prefix is nobody's too; garbage at the root as well.
    ing.store.put("incoming/initech/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/initech/a.xml", T).await.unwrap();
    assert!(
        matches!(&out, Outcome::Quarantined { company, codes, .. } if company == "_unassigned" && codes == &["unknown-company"]),
        "{out:?}"
    );
    ing.store.put("incoming/scan.pdf", b"%PDF-1.4".to_vec(), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/scan.pdf", T).await.unwrap();
    assert!(matches!(&out, Outcome::Quarantined { codes, .. } if codes == &["unknown-company", "not-xml"]), "{out:?}");
}

#[tokio::test]
async fn a_document_under_one_prefix_addressed_to_another_company_is_quarantined() {
    let ing = ingestor();
    ing.store.put("incoming/globex/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &BTreeMap::new()).await.unwrap();
    let out = ing.ingest("incoming/globex/a.xml", T).await.unwrap();
    assert!(
        matches!(&out, Outcome::Quarantined { company, codes, .. } if company == "globex" && codes == &["company-mismatch"]),
        "{out:?}"
    );
    assert!(ing.repo.headers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn two_companies_each_book_the_same_invoice_with_their_own_chart() {
    let ing = ingestor();
    ing.store.put("incoming/acme/a.xml", sample("s04-service-lines-padded-numbers.xml"), "", &BTreeMap::new()).await.unwrap();
    ing.store.put("incoming/globex/a.xml", sample("s04-service-lines-padded-numbers.xml"), "", &BTreeMap::new()).await.unwrap();
    let a = ing.ingest("incoming/acme/a.xml", T).await.unwrap();
    let g = ing.ingest("incoming/globex/a.xml", T).await.unwrap();
    assert!(matches!(&a, Outcome::Stored { company, .. } if company == "acme"), "{a:?}");
    assert!(matches!(&g, Outcome::Stored { company, .. } if company == "globex"), "same invoice, other company: not a duplicate: {g:?}");
    let Outcome::Stored { invoice_key, .. } = g else { unreachable!() };
    let acme = ing.repo.get_entries("acme", &invoice_key).await.unwrap();
    let globex = ing.repo.get_entries("globex", &invoice_key).await.unwrap();
    assert!(acme.iter().any(|e| e.line.account == "2000-accounts-payable"));
    assert!(globex.iter().any(|e| e.line.account == "4010-suppliers"), "globex's chart");
    assert!(globex
        .iter()
        .filter(|e| e.line.side == invoice_domain::invoice::accounting::Side::Debit)
        .all(|e| e.line.account == "6001" || e.line.account.starts_with("14") || e.line.account.starts_with("61")));
    let h = ing.repo.get_invoice("globex", &invoice_key).await.unwrap().unwrap();
    assert!(h.document_key.starts_with("archive/globex/"), "{}", h.document_key);
}

#[tokio::test]
async fn the_channel_and_message_travel_from_the_object_to_the_invoice_and_the_rejection() {
    let ing = ingestor();
    let source = DocumentSource {
        channel: Channel::Email,
        message_id: Some("<m1@supplier.example>".into()),
        sender: Some("billing@supplier.example".into()),
        subject: Some("Invoice 1QX7ZK4MPL2T".into()),
        attachment: Some("invoice.xml".into()),
        payload_id: None,
    };
    let meta = source.to_metadata();
    ing.store.put("incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml"), "", &meta).await.unwrap();
    ing.store.put("incoming/acme/b.xml", sample("s05-two-orders-net-zero.xml"), "", &meta).await.unwrap();
    ing.ingest("incoming/acme/a.xml", T).await.unwrap();
    ing.ingest("incoming/acme/b.xml", T).await.unwrap();
    let h = ing.repo.get_invoice("acme", "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().unwrap();
    assert_eq!(h.source, source);
    let rej = ing.repo.rejections.lock().unwrap();
    assert_eq!(rej.values().next().unwrap().source, source);
}

// ---- PDF documents: kept once by SHA-256, linked to the invoice with their number ----

const S01_KEY: &str = "NetworkID:AN01011737571#1QX7ZK4MPL2T";

fn pdf_bytes(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n{text}\n%%EOF\n").into_bytes()
}

/// The "PDF text" of the in-memory tests: everything after the header line.
fn fake_text(b: &[u8]) -> Option<String> {
    Some(String::from_utf8_lossy(b).into_owned())
}

async fn drop_doc(ing: &Ingestor<MemStore, MemRepo, MemDir>, key: &str, bytes: Vec<u8>) -> Outcome {
    ing.store.put(key, bytes, "", &BTreeMap::new()).await.unwrap();
    ing.ingest(key, T).await.unwrap()
}

fn doc_of(ing: &Ingestor<MemStore, MemRepo, MemDir>, company: &str) -> Vec<DocumentRecord> {
    ing.repo.documents.lock().unwrap().iter().filter(|(k, _)| k.0 == company).map(|(_, d)| d.clone()).collect()
}

#[tokio::test]
async fn pdf_first_then_its_invoice_links_them() {
    let ing = ingestor();
    let out = drop_doc(&ing, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("scan")).await;
    let Outcome::Document { status, invoice_key, already, ref document_key, .. } = out else { panic!("{out:?}") };
    assert_eq!((status, invoice_key, already), (DocumentStatus::AwaitingData, None, false));
    assert!(document_key.starts_with("documents/acme/") && document_key.ends_with(".pdf"));
    assert!(ing.store.0.lock().unwrap().contains_key(document_key), "kept under documents/");
    assert!(ing.repo.rejections.lock().unwrap().is_empty(), "not quarantined");
    let d = &doc_of(&ing, "acme")[0];
    assert_eq!(
        (d.invoice_number.as_deref(), d.number_from, d.reason),
        (Some("1QX7ZK4MPL2T"), Some(NumberFrom::Name), Some(AwaitingReason::NoInvoiceYet))
    );

    assert!(matches!(drop_doc(&ing, "incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml")).await, Outcome::Stored { .. }));
    let d = &doc_of(&ing, "acme")[0];
    assert_eq!((d.status, d.invoice_key.as_deref(), d.reason), (DocumentStatus::Linked, Some(S01_KEY), None));
    let h = ing.repo.get_invoice("acme", S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.documents, vec![document_key.clone()]);
    assert!(ing.repo.awaiting.lock().unwrap().values().all(|s| s.is_empty()), "awaiting item gone");
}

#[tokio::test]
async fn invoice_first_then_its_pdf_found_by_text_links_them() {
    let ing = ingestor().with_pdf_text(fake_text);
    drop_doc(&ing, "incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml")).await;
    let out = drop_doc(&ing, "incoming/acme/scan-0001.pdf", pdf_bytes("Invoice number: 1QX7ZK4MPL2T")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::Linked, invoice_key: Some(ref k), .. } if k == S01_KEY), "{out:?}");
    let d = &doc_of(&ing, "acme")[0];
    assert_eq!(d.number_from, Some(NumberFrom::Text));
    assert_eq!(ing.repo.get_invoice("acme", S01_KEY).await.unwrap().unwrap().documents, vec![d.document_key.clone()]);
}

#[tokio::test]
async fn same_pdf_twice_is_one_document_and_redelivery_is_gone() {
    let ing = ingestor();
    drop_doc(&ing, "incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml")).await;
    let first = drop_doc(&ing, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("x")).await;
    let second = drop_doc(&ing, "incoming/acme/copy/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("x")).await;
    assert!(matches!(first, Outcome::Document { already: false, status: DocumentStatus::Linked, .. }), "{first:?}");
    assert!(matches!(second, Outcome::Document { already: true, status: DocumentStatus::Linked, .. }), "{second:?}");
    assert_eq!(ing.ingest("incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", T).await.unwrap(), Outcome::Gone);
    assert_eq!(doc_of(&ing, "acme").len(), 1);
    assert_eq!(ing.repo.get_invoice("acme", S01_KEY).await.unwrap().unwrap().documents.len(), 1);
}

#[tokio::test]
async fn a_number_two_suppliers_share_is_not_guessed() {
    let ing = ingestor();
    let other = String::from_utf8(sample("s01-amazon-business-two-sellers.xml")).unwrap().replace("AN01011737571", "AN07777777777");
    drop_doc(&ing, "incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml")).await;
    drop_doc(&ing, "incoming/acme/b.xml", other.into_bytes()).await;
    let out = drop_doc(&ing, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("x")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::AwaitingData, invoice_key: None, .. }), "{out:?}");
    let d = &doc_of(&ing, "acme")[0];
    assert_eq!(d.reason, Some(AwaitingReason::AmbiguousNumber));
    assert!(d.reason_detail.as_deref().unwrap().contains("2 invoices"), "{:?}", d.reason_detail);
    for h in ing.repo.headers.lock().unwrap().values() {
        assert!(h.documents.is_empty());
    }
}

#[tokio::test]
async fn another_companys_invoice_with_the_number_is_never_linked() {
    let ing = ingestor();
    let globex_copy = String::from_utf8(sample("s01-amazon-business-two-sellers.xml")).unwrap().replace("AN99887766554", "AN55555555555");
    assert!(matches!(drop_doc(&ing, "incoming/globex/a.xml", globex_copy.into_bytes()).await, Outcome::Stored { .. }));
    let out = drop_doc(&ing, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("x")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::AwaitingData, .. }), "{out:?}");
    assert!(ing.repo.get_invoice("globex", S01_KEY).await.unwrap().unwrap().documents.is_empty());
}

#[tokio::test]
async fn pdf_without_number_awaits_and_pdf_of_no_company_is_quarantined() {
    let ing = ingestor();
    let out = drop_doc(&ing, "incoming/acme/scan.pdf", pdf_bytes("nothing here")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::AwaitingData, .. }), "{out:?}");
    assert_eq!(doc_of(&ing, "acme")[0].reason, Some(AwaitingReason::NoInvoiceNumber));
    let out = drop_doc(&ing, "incoming/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("x")).await;
    assert!(
        matches!(out, Outcome::Quarantined { ref company, ref codes, .. } if company == "_unassigned" && codes[0] == "unknown-company"),
        "{out:?}"
    );
    // A file named .pdf whose bytes are not a PDF is not a document.
    let out = drop_doc(&ing, "incoming/acme/fake.pdf", b"hello".to_vec()).await;
    assert!(matches!(out, Outcome::Quarantined { .. }), "{out:?}");
}

#[tokio::test]
async fn cancelling_an_invoice_flags_its_documents_and_later_ones() {
    let ing = ingestor();
    let s01 = sample("s01-amazon-business-two-sellers.xml");
    let delete = String::from_utf8(s01.clone()).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    drop_doc(&ing, "incoming/acme/a.xml", s01).await;
    drop_doc(&ing, "incoming/acme/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("first scan")).await;
    assert_eq!(doc_of(&ing, "acme")[0].status, DocumentStatus::Linked);

    assert!(matches!(drop_doc(&ing, "incoming/acme/del.xml", delete.into_bytes()).await, Outcome::Cancelled { .. }));
    let d = &doc_of(&ing, "acme")[0];
    assert_eq!((d.status, d.invoice_key.as_deref()), (DocumentStatus::InvoiceCancelled, Some(S01_KEY)));
    assert_eq!(d.status.label(), "invoice cancelled: do not pay");

    // A PDF of the cancelled invoice arriving afterwards is linked to it and flagged too.
    let out = drop_doc(&ing, "incoming/acme/late/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("second scan")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::InvoiceCancelled, .. }), "{out:?}");
    let docs = doc_of(&ing, "acme");
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d.status == DocumentStatus::InvoiceCancelled), "{docs:?}");
    assert_eq!(ing.repo.get_invoice("acme", S01_KEY).await.unwrap().unwrap().documents.len(), 2);

    // Redelivered, a flagged document stays as it is.
    let out = drop_doc(&ing, "incoming/acme/again/Invoice_1QX7ZK4MPL2T.pdf", pdf_bytes("first scan")).await;
    assert!(matches!(out, Outcome::Document { status: DocumentStatus::InvoiceCancelled, already: true, .. }), "{out:?}");
    assert!(ing.repo.awaiting.lock().unwrap().values().all(|s| s.is_empty()));
}

#[tokio::test]
async fn a_booked_invoice_whose_po_is_not_recorded_is_a_no_po_exception_not_silence() {
    let ing = ingestor();
    assert!(matches!(drop_doc(&ing, "incoming/acme/a.xml", sample("s01-amazon-business-two-sellers.xml")).await, Outcome::Stored { .. }));
    let m = ing.repo.get_invoice("acme", S01_KEY).await.unwrap().unwrap().matching.expect("matched at booking");
    assert_eq!(m.status, invoice_domain::matching::MatchStatus::Exception);
    assert_eq!(m.codes(), vec![invoice_domain::matching::MatchCode::NoPo]);
}
