//! The ingestion workflow against in-memory ports (the real S3/DynamoDB adapters are proven
//! by the integration tests under tests/).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use invoice_domain::core::PortError;
use invoice_domain::invoice::ingest::*;

#[derive(Default)]
struct MemStore(Mutex<BTreeMap<String, Vec<u8>>>);

impl DocumentStore for MemStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    async fn put(&self, key: &str, body: Vec<u8>, _ct: &str) -> Result<(), PortError> {
        self.0.lock().unwrap().insert(key.to_string(), body);
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

#[derive(Default)]
struct MemRepo {
    headers: Mutex<BTreeMap<String, InvoiceRecord>>,
    lines: Mutex<BTreeMap<(String, u32), LineRecord>>,
    entries: Mutex<BTreeMap<(String, String, u32), EntryRecord>>,
    rejections: Mutex<BTreeMap<String, RejectionRecord>>,
    fail_details_once: Mutex<bool>,
}

impl InvoiceRepository for MemRepo {
    async fn claim(&self, h: &InvoiceRecord) -> Result<Claim, PortError> {
        let mut m = self.headers.lock().unwrap();
        match m.get(&h.invoice_key) {
            None => {
                m.insert(h.invoice_key.clone(), h.clone());
                Ok(Claim::Claimed)
            }
            Some(e) if e.content_sha256 == h.content_sha256 => Ok(Claim::Same(e.clone())),
            Some(e) => Ok(Claim::Conflict(e.clone())),
        }
    }
    async fn put_details(&self, _h: &InvoiceRecord, lines: &[LineRecord], entries: &[EntryRecord]) -> Result<(), PortError> {
        let mut fail = self.fail_details_once.lock().unwrap();
        if *fail {
            *fail = false;
            return Err(PortError("injected failure".into()));
        }
        for l in lines {
            self.lines.lock().unwrap().insert((l.invoice_key.clone(), l.line_number), l.clone());
        }
        for e in entries {
            self.entries.lock().unwrap().insert((e.invoice_key.clone(), e.kind.clone(), e.line.seq), e.clone());
        }
        Ok(())
    }
    async fn mark_valid(&self, h: &InvoiceRecord) -> Result<(), PortError> {
        let mut m = self.headers.lock().unwrap();
        let e = m.get_mut(&h.invoice_key).unwrap();
        assert_eq!(e.content_sha256, h.content_sha256);
        e.status = InvoiceStatus::Valid;
        Ok(())
    }
    async fn get_invoice(&self, k: &str) -> Result<Option<InvoiceRecord>, PortError> {
        Ok(self.headers.lock().unwrap().get(k).cloned())
    }
    async fn get_entries(&self, k: &str) -> Result<Vec<EntryRecord>, PortError> {
        Ok(self.entries.lock().unwrap().values().filter(|e| e.invoice_key == k).cloned().collect())
    }
    async fn cancel(&self, k: &str, sha: &str, at: &str, doc: &str, rev: &[EntryRecord]) -> Result<CancelResult, PortError> {
        let mut m = self.headers.lock().unwrap();
        let e = m.get_mut(k).unwrap();
        if e.status != InvoiceStatus::Valid {
            return Ok(CancelResult::NotValid);
        }
        e.status = InvoiceStatus::Cancelled;
        e.cancelled_by_sha256 = Some(sha.into());
        e.cancelled_at = Some(at.into());
        e.cancel_document_key = Some(doc.into());
        for r in rev {
            self.entries.lock().unwrap().insert((r.invoice_key.clone(), r.kind.clone(), r.line.seq), r.clone());
        }
        Ok(CancelResult::Cancelled)
    }
    async fn put_rejection(&self, r: &RejectionRecord) -> Result<bool, PortError> {
        let mut m = self.rejections.lock().unwrap();
        if m.contains_key(&r.content_sha256) {
            return Ok(false);
        }
        m.insert(r.content_sha256.clone(), r.clone());
        Ok(true)
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples").join(name)).unwrap()
}

fn ingestor() -> Ingestor<MemStore, MemRepo> {
    Ingestor::new(MemStore::default(), MemRepo::default(), IngestConfig::default())
}

const T: &str = "2025-11-20T10:00:00Z";

#[tokio::test]
async fn valid_invoice_is_stored_with_lines_entries_and_archive() {
    let ing = ingestor();
    ing.store.put("incoming/a.xml", sample("s01-amazon-business-two-sellers.xml"), "").await.unwrap();
    let out = ing.ingest("incoming/a.xml", T).await.unwrap();
    let key = "NetworkID:AN01011737571#1QX7ZK4MPL2T".to_string();
    assert_eq!(out, Outcome::Stored { invoice_key: key.clone(), resumed: false });
    let h = ing.repo.get_invoice(&key).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Valid);
    assert_eq!(h.net, "190.44");
    assert_eq!(h.order_ids, vec!["PO-2025-00931"]);
    assert_eq!(h.invoice_date, "2025-11-14");
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
    assert_eq!(ing.repo.entries.lock().unwrap().len(), 5);
    let store = ing.store.0.lock().unwrap();
    assert!(!store.contains_key("incoming/a.xml"), "incoming removed after archiving");
    assert_eq!(store.get(&h.document_key).unwrap(), &sample("s01-amazon-business-two-sellers.xml"));
    assert!(h.document_key.starts_with("archive/NetworkID_AN01011737571/1QX7ZK4MPL2T/"));
}

#[tokio::test]
async fn same_document_twice_is_one_record() {
    let ing = ingestor();
    for k in ["incoming/a.xml", "incoming/copy-of-a.xml"] {
        ing.store.put(k, sample("s04-service-lines-padded-numbers.xml"), "").await.unwrap();
    }
    assert!(matches!(ing.ingest("incoming/a.xml", T).await.unwrap(), Outcome::Stored { .. }));
    assert!(matches!(ing.ingest("incoming/copy-of-a.xml", T).await.unwrap(), Outcome::AlreadyStored { .. }));
    // Redelivery of an event whose object is already processed.
    assert_eq!(ing.ingest("incoming/a.xml", T).await.unwrap(), Outcome::Gone);
    assert_eq!(ing.repo.headers.lock().unwrap().len(), 1);
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_crash_between_claim_and_details_is_resumed_by_the_retry() {
    let ing = ingestor();
    *ing.repo.fail_details_once.lock().unwrap() = true;
    ing.store.put("incoming/a.xml", sample("s01-amazon-business-two-sellers.xml"), "").await.unwrap();
    assert!(ing.ingest("incoming/a.xml", T).await.is_err());
    assert!(ing.store.0.lock().unwrap().contains_key("incoming/a.xml"), "kept for the retry");
    let out = ing.ingest("incoming/a.xml", T).await.unwrap();
    assert!(matches!(out, Outcome::Stored { resumed: true, .. }), "{out:?}");
    assert_eq!(ing.repo.lines.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn conflicting_duplicate_is_quarantined_and_original_untouched() {
    let ing = ingestor();
    let original = sample("s01-amazon-business-two-sellers.xml");
    let changed = String::from_utf8(original.clone()).unwrap().replace(">8.99<", ">9.99<").replace(">190.44<", ">191.44<");
    ing.store.put("incoming/1.xml", original, "").await.unwrap();
    ing.store.put("incoming/2.xml", changed.into_bytes(), "").await.unwrap();
    ing.ingest("incoming/1.xml", T).await.unwrap();
    let out = ing.ingest("incoming/2.xml", T).await.unwrap();
    let Outcome::Quarantined { quarantine_key, codes } = out else { panic!("{out:?}") };
    assert_eq!(codes, vec!["duplicate-invoice"]);
    let h = ing.repo.get_invoice("NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().unwrap();
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
    ing.store.put("incoming/s05.xml", sample("s05-two-orders-net-zero.xml"), "").await.unwrap();
    let out = ing.ingest("incoming/s05.xml", T).await.unwrap();
    let Outcome::Quarantined { quarantine_key, codes } = out else { panic!() };
    assert_eq!(codes, vec!["net-mismatch"]);
    assert!(quarantine_key.ends_with("/s05.xml"));
    let store = ing.store.0.lock().unwrap();
    assert_eq!(store.get(&quarantine_key).unwrap(), &sample("s05-two-orders-net-zero.xml"));
    assert!(!store.contains_key("incoming/s05.xml"));
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
    ing.store.put("incoming/scan.pdf", b"%PDF-1.4 \x00\x01".to_vec(), "").await.unwrap();
    let Outcome::Quarantined { codes, quarantine_key } = ing.ingest("incoming/scan.pdf", T).await.unwrap() else { panic!() };
    assert_eq!(codes, vec!["not-xml"]);
    assert_eq!(ing.store.0.lock().unwrap().get(&quarantine_key).unwrap(), b"%PDF-1.4 \x00\x01");
}

#[tokio::test]
async fn delete_operation_cancels_and_reverses() {
    let ing = ingestor();
    let original = sample("s01-amazon-business-two-sellers.xml");
    let delete = String::from_utf8(original.clone()).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    ing.store.put("incoming/1.xml", original, "").await.unwrap();
    ing.ingest("incoming/1.xml", T).await.unwrap();
    ing.store.put("incoming/del.xml", delete.clone().into_bytes(), "").await.unwrap();
    let key = "NetworkID:AN01011737571#1QX7ZK4MPL2T".to_string();
    assert_eq!(ing.ingest("incoming/del.xml", T).await.unwrap(), Outcome::Cancelled { invoice_key: key.clone() });
    let h = ing.repo.get_invoice(&key).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Cancelled);
    let entries = ing.repo.get_entries(&key).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.kind == "reversal").count(), 5);
    // The same cancellation again is a no-op.
    ing.store.put("incoming/del.xml", delete.into_bytes(), "").await.unwrap();
    assert_eq!(ing.ingest("incoming/del.xml", T).await.unwrap(), Outcome::Cancelled { invoice_key: key.clone() });
    assert_eq!(ing.repo.get_entries(&key).await.unwrap().len(), 10);
}

#[tokio::test]
async fn delete_of_unknown_invoice_is_quarantined() {
    let ing = ingestor();
    let delete =
        String::from_utf8(sample("s03-tabbed-address-misspelt-terms.xml")).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    ing.store.put("incoming/del.xml", delete.into_bytes(), "").await.unwrap();
    let Outcome::Quarantined { codes, .. } = ing.ingest("incoming/del.xml", T).await.unwrap() else { panic!() };
    assert_eq!(codes, vec!["unknown-invoice"]);
}
