//! The ingestion workflow against in-memory ports (the real S3/DynamoDB adapters are proven
//! by the integration tests under tests/).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use invoice_domain::company::{Company, CompanyDirectory};
use invoice_domain::core::PortError;
use invoice_domain::invoice::ingest::*;
use invoice_domain::invoice::ports::*;
use invoice_domain::invoice::records::*;

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
    ing.store.put("incoming/acme/scan.pdf", b"%PDF-1.4 \x00\x01".to_vec(), "", &BTreeMap::new()).await.unwrap();
    let Outcome::Quarantined { codes, quarantine_key, .. } = ing.ingest("incoming/acme/scan.pdf", T).await.unwrap() else { panic!() };
    assert_eq!(codes, vec!["not-xml"]);
    assert_eq!(ing.store.0.lock().unwrap().get(&quarantine_key).unwrap(), b"%PDF-1.4 \x00\x01");
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
    assert_eq!(
        ing.ingest("incoming/acme/del.xml", T).await.unwrap(),
        Outcome::Cancelled { company: "acme".into(), invoice_key: key.clone() }
    );
    let h = ing.repo.get_invoice("acme", &key).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Cancelled);
    let entries = ing.repo.get_entries("acme", &key).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.kind == "reversal").count(), 5);
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
