//! ingest-cxml against DynamoDB Local and moto S3: the handler (the same code the Lambda
//! binary runs) on real S3 events.

use integration_tests::{all_months, fixture, Env, ACME, GLOBEX};
use invoice_domain::invoice::ports::InvoiceRepository;
use invoice_domain::invoice::records::InvoiceStatus;

const S01_KEY: &str = "NetworkID:AN01011737571#1QX7ZK4MPL2T";

#[tokio::test]
async fn valid_invoice_becomes_header_lines_entries_and_archived_document() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    env.put("incoming/acme/s01.xml", doc.clone()).await;
    let resp = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/acme/s01.xml"])).await.unwrap();
    assert_eq!(resp.records[0].outcome, "stored");

    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().expect("header stored");
    assert_eq!(h.status, InvoiceStatus::Valid);
    assert_eq!((h.currency.as_str(), h.net.as_str(), h.line_count), ("USD", "190.44", 2));
    assert_eq!(h.received_at, "2025-11-20T10:00:00.000Z");
    let lines = env.repo.lines(ACME, S01_KEY).await.unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].reference_line_number.as_deref(), Some("li_1"));
    assert_eq!(lines[1].category, "FURNITURE");
    let entries = env.repo.entries(ACME, S01_KEY).await.unwrap();
    assert_eq!(entries.len(), 5);
    let debit: rust_decimal::Decimal =
        entries.iter().filter(|e| e.line.side == invoice_domain::invoice::accounting::Side::Debit).map(|e| e.line.amount.amount).sum();
    assert_eq!(debit.to_string(), "190.44");

    assert_eq!(env.get(&h.document_key).await.as_deref(), Some(&doc[..]), "raw document archived byte for byte");
    assert!(env.get("incoming/acme/s01.xml").await.is_none(), "incoming object removed after archiving");

    // Access patterns: by status, by PO, by Amazon order id, by supplier.
    let valid = env.repo.invoices_by_status(ACME, "Valid", &all_months(), 10).await.unwrap();
    assert_eq!(valid.len(), 1);
    assert_eq!(env.repo.invoice_keys_by_reference(ACME, "PO", "PO-2025-00931").await.unwrap(), vec![S01_KEY]);
    assert_eq!(env.repo.invoice_keys_by_reference(ACME, "SORDER", "114-5521907-3318242").await.unwrap(), vec![S01_KEY]);
    assert_eq!(env.repo.invoices_by_supplier(ACME, "NetworkID:AN01011737571", 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn duplicate_delivery_gives_one_record() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s04-service-lines-padded-numbers.xml");
    env.put("incoming/a.xml", doc.clone()).await;
    let deps = env.deps(None);
    let first = ingest_cxml::handle(&deps, env.event(&["incoming/a.xml"])).await.unwrap();
    assert_eq!(first.records[0].outcome, "stored");
    let key = first.records[0].invoice_key.clone().unwrap();
    let items_after_first = env.partition_len(ACME, &key).await;
    // The same event again (S3 redelivery), and the same bytes under another name.
    let again = ingest_cxml::handle(&deps, env.event(&["incoming/a.xml"])).await.unwrap();
    assert_eq!(again.records[0].outcome, "gone");
    env.put("incoming/resent.xml", doc).await;
    let resent = ingest_cxml::handle(&deps, env.event(&["incoming/resent.xml"])).await.unwrap();
    assert_eq!(resent.records[0].outcome, "already-stored");
    assert_eq!(env.partition_len(ACME, &key).await, items_after_first);
    assert_eq!(env.repo.invoices_by_status(ACME, "Valid", &all_months(), 10).await.unwrap().len(), 1);
    assert!(env.keys("quarantine/").await.is_empty());
}

#[tokio::test]
async fn concurrent_deliveries_of_one_document_store_it_once() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s07-eur-vat-accounting-distribution.xml");
    let keys: Vec<String> = (0..4).map(|i| format!("incoming/copy-{i}.xml")).collect();
    for k in &keys {
        env.put(k, doc.clone()).await;
    }
    let deps = env.deps(None);
    let runs = keys.iter().map(|k| {
        let deps = deps.clone();
        let ev = env.event(&[k.as_str()]);
        tokio::spawn(async move { ingest_cxml::handle(&deps, ev).await })
    });
    let mut outcomes = Vec::new();
    for r in runs {
        outcomes.push(r.await.unwrap().unwrap().records[0].outcome.clone());
    }
    assert!(outcomes.iter().all(|o| o == "stored" || o == "already-stored"), "{outcomes:?}");
    let valid = env.repo.invoices_by_status(ACME, "Valid", &all_months(), 10).await.unwrap();
    assert_eq!(valid.len(), 1);
    assert_eq!(env.repo.lines(ACME, &valid[0].invoice_key).await.unwrap().len(), 1);
    assert_eq!(env.repo.entries(ACME, &valid[0].invoice_key).await.unwrap().len(), 5);
}

#[tokio::test]
async fn conflicting_duplicate_is_flagged_and_quarantined() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    let altered = String::from_utf8(doc.clone()).unwrap().replace(">8.99<", ">9.99<").replace(">190.44<", ">191.44<");
    env.put("incoming/first.xml", doc).await;
    env.put("incoming/second.xml", altered.into_bytes()).await;
    let deps = env.deps(None);
    ingest_cxml::handle(&deps, env.event(&["incoming/first.xml"])).await.unwrap();
    let r = ingest_cxml::handle(&deps, env.event(&["incoming/second.xml"])).await.unwrap();
    assert_eq!(r.records[0].outcome, "quarantined");
    assert_eq!(r.records[0].codes, vec!["duplicate-invoice"]);
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.net, "190.44", "original not overwritten");
    let rej = env.repo.rejections(ACME, &all_months(), 10).await.unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].codes, vec!["duplicate-invoice"]);
    assert!(env.get(&rej[0].quarantine_key).await.unwrap().windows(6).any(|w| w == b"191.44"));
    assert!(env.get("incoming/second.xml").await.is_none());
}

#[tokio::test]
async fn invalid_documents_are_quarantined_with_a_reason_beside_them() {
    let env = Env::new().await;
    env.put("incoming/net zero.xml", fixture("cxml/samples/s05-two-orders-net-zero.xml")).await;
    // Named .pdf but not a PDF by its bytes (a PDF is a document: see documents_local.rs).
    env.put("incoming/acme/scan.pdf", b"GIF89a\n%\xE2\xE3\xCF\xD3\n".to_vec()).await;
    let r = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/net zero.xml", "incoming/acme/scan.pdf"])).await.unwrap();
    assert_eq!(r.records[0].codes, vec!["net-mismatch"]);
    assert_eq!(r.records[1].codes, vec!["not-xml"]);
    let rej = env.repo.rejections(ACME, &all_months(), 10).await.unwrap();
    assert_eq!(rej.len(), 2);
    for rec in &rej {
        let reason: serde_json::Value = serde_json::from_slice(&env.get(&rec.reason_key).await.expect("reason.json beside")).unwrap();
        assert_eq!(reason["source_key"], rec.source_key.as_str());
        assert!(!reason["errors"].as_array().unwrap().is_empty());
        assert!(reason["what_to_do"].as_str().unwrap().len() > 20);
        assert!(env.get(&rec.quarantine_key).await.is_some(), "document kept");
    }
    let net = rej.iter().find(|r| r.codes == vec!["net-mismatch"]).unwrap();
    assert!(net.errors[0].message.contains("122.50"), "{}", net.errors[0].message);
    assert!(env.keys("incoming/").await.is_empty());
}

#[tokio::test]
async fn oversized_document_is_quarantined_whole() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    env.put("incoming/acme/big.xml", doc.clone()).await;
    let r = ingest_cxml::handle(&env.deps(Some(1024)), env.event(&["incoming/acme/big.xml"])).await.unwrap();
    assert_eq!(r.records[0].codes, vec!["too-large"]);
    let rej = env.repo.rejections(ACME, &all_months(), 1).await.unwrap();
    assert_eq!(env.get(&rej[0].quarantine_key).await.unwrap(), doc, "kept byte for byte, not truncated");
}

#[tokio::test]
async fn delete_operation_cancels_the_invoice_and_reverses_its_entries() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    let delete = String::from_utf8(doc.clone()).unwrap().replace("operation=\"new\"", "operation=\"delete\"");
    env.put("incoming/inv.xml", doc).await;
    env.put("incoming/cancel.xml", delete.into_bytes()).await;
    let deps = env.deps(None);
    ingest_cxml::handle(&deps, env.event(&["incoming/inv.xml"])).await.unwrap();
    let r = ingest_cxml::handle(&deps, env.event(&["incoming/cancel.xml"])).await.unwrap();
    assert_eq!(r.records[0].outcome, "cancelled");
    let h = env.repo.get_invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.status, InvoiceStatus::Cancelled);
    assert!(env.get(h.cancel_document_key.as_deref().unwrap()).await.is_some());
    let entries = env.repo.entries(ACME, S01_KEY).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.kind == "reversal").count(), 5);
    assert!(env.repo.invoices_by_status(ACME, "Valid", &all_months(), 10).await.unwrap().is_empty());
    assert_eq!(env.repo.invoices_by_status(ACME, "Cancelled", &all_months(), 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_bundled_sample_in_one_multi_record_event() {
    let env = Env::new().await;
    let dir = integration_tests::repo_root().join("tests/fixtures/cxml/samples");
    let mut keys = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) == Some("xml") {
            let key = format!("incoming/acme/batch 1/{}", p.file_name().unwrap().to_str().unwrap());
            env.put(&key, std::fs::read(&p).unwrap()).await;
            keys.push(key);
        }
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let r = ingest_cxml::handle(&env.deps(None), env.event(&refs)).await.unwrap();
    let stored = r.records.iter().filter(|x| x.outcome == "stored").count();
    let quarantined = r.records.iter().filter(|x| x.outcome == "quarantined").count();
    assert_eq!((stored, quarantined), (7, 1), "{:?}", r.records);
    assert_eq!(env.repo.invoices_by_status(ACME, "Valid", &all_months(), 100).await.unwrap().len(), 7);
    assert!(env.keys("incoming/").await.is_empty());
}

#[tokio::test]
async fn objects_outside_incoming_are_ignored() {
    let env = Env::new().await;
    env.put("archive/x.xml", b"<x/>".to_vec()).await;
    env.put("incoming/2025/", Vec::new()).await; // a console "folder"
    let r = ingest_cxml::handle(&env.deps(None), env.event(&["archive/x.xml", "incoming/2025/"])).await.unwrap();
    assert_eq!(r.records[0].outcome, "ignored");
    assert_eq!(r.records[1].outcome, "ignored");
    assert!(env.get("archive/x.xml").await.is_some());
    assert!(env.get("incoming/2025/").await.is_some());
    assert!(env.repo.rejections(ACME, &all_months(), 10).await.unwrap().is_empty());
}

/// Two companies, the same supplier invoice each: each sees only its own, through every
/// listing and lookup; the documents of no company are quarantined apart.
#[tokio::test]
async fn two_companies_book_the_same_invoice_and_see_only_their_own() {
    let env = Env::new().await;
    let doc = fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    // The same supplier invoice, addressed to globex's own (unregistered) identity.
    let to_globex = String::from_utf8(doc.clone()).unwrap().replace("AN99887766554", "AN77777777777").into_bytes();
    let bad = fixture("cxml/samples/s05-two-orders-net-zero.xml");
    env.put("incoming/acme/s01.xml", doc.clone()).await;
    env.put("incoming/globex/s01.xml", to_globex).await;
    env.put("incoming/globex/s05.xml", bad.clone()).await;
    let r =
        ingest_cxml::handle(&env.deps(None), env.event(&["incoming/acme/s01.xml", "incoming/globex/s01.xml", "incoming/globex/s05.xml"]))
            .await
            .unwrap();
    let got: Vec<(&str, Option<&str>)> = r.records.iter().map(|x| (x.outcome.as_str(), x.company.as_deref())).collect();
    assert_eq!(
        got,
        vec![("stored", Some(ACME)), ("stored", Some(GLOBEX)), ("quarantined", Some(GLOBEX))],
        "not a duplicate across companies"
    );

    let months = all_months();
    for (me, other) in [(ACME, GLOBEX), (GLOBEX, ACME)] {
        let listed = env.repo.invoices_by_status(me, "Valid", &months, 100).await.unwrap();
        assert_eq!(listed.len(), 1, "{me}");
        assert!(listed.iter().all(|h| h.company == me), "{me} listed another company's invoice");
        let h = env.repo.invoice(me, S01_KEY).await.unwrap().expect("own invoice");
        assert_eq!(h.company, me);
        assert!(h.document_key.starts_with(&format!("archive/{me}/")), "{}", h.document_key);
        assert_eq!(env.repo.invoice_keys_by_reference(me, "PO", "PO-2025-00931").await.unwrap(), vec![S01_KEY]);
        assert_eq!(env.repo.invoices_by_supplier(me, "NetworkID:AN01011737571", 10).await.unwrap().len(), 1);
        assert_eq!(env.repo.lines(me, S01_KEY).await.unwrap().len(), 2);
        assert_eq!(env.repo.entries(me, S01_KEY).await.unwrap().len(), 5);
        assert!(!env.keys(&format!("archive/{me}/")).await.is_empty());
        let _ = other;
    }
    let acme_rej = env.repo.rejections(ACME, &months, 100).await.unwrap();
    let globex_rej = env.repo.rejections(GLOBEX, &months, 100).await.unwrap();
    assert!(acme_rej.is_empty(), "acme sees none of globex's quarantine: {acme_rej:?}");
    assert_eq!(globex_rej.len(), 1);
    assert!(globex_rej[0].quarantine_key.starts_with("quarantine/globex/"));
    // Unknown company ids see nothing at all.
    assert!(env.repo.invoices_by_status("initech", "Valid", &months, 100).await.unwrap().is_empty());
    assert!(env.repo.invoice("initech", S01_KEY).await.unwrap().is_none());
}

#[tokio::test]
async fn documents_of_no_company_are_quarantined_unknown_company_never_dropped() {
    let env = Env::new().await;
    // Addressed To an identity nobody registered, dropped at the root; and an unknown prefix.
    let doc =
        String::from_utf8(fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap().replace("AN99887766554", "AN00000000000");
    env.put("incoming/stray.xml", doc.clone().into_bytes()).await;
    env.put("incoming/initech/s04.xml", fixture("cxml/samples/s04-service-lines-padded-numbers.xml")).await;
    let r = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/stray.xml", "incoming/initech/s04.xml"])).await.unwrap();
    for rec in &r.records {
        assert_eq!((rec.outcome.as_str(), rec.company.as_deref()), ("quarantined", Some("_unassigned")), "{rec:?}");
        assert_eq!(rec.codes, vec!["unknown-company"]);
    }
    let rej = env.repo.rejections("_unassigned", &all_months(), 10).await.unwrap();
    assert_eq!(rej.len(), 2);
    let stray = rej.iter().find(|x| x.source_key == "incoming/stray.xml").unwrap();
    assert!(stray.errors[0].message.contains("networkid:AN00000000000"), "{}", stray.errors[0].message);
    assert_eq!(env.get(&stray.quarantine_key).await.unwrap(), doc.into_bytes(), "kept byte for byte");
    assert!(env.keys("incoming/").await.is_empty());
    assert!(env.repo.rejections(ACME, &all_months(), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_root_drop_belongs_to_the_company_of_its_to_identity() {
    let env = Env::new().await;
    let ids = vec!["NetworkID:AN55555555555".to_string()];
    env.create_company("initech", "Initech", &ids).await;
    let doc =
        String::from_utf8(fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap().replace("AN99887766554", "AN55555555555");
    env.put("incoming/s01.xml", doc.into_bytes()).await;
    let r = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/s01.xml"])).await.unwrap();
    assert_eq!((r.records[0].outcome.as_str(), r.records[0].company.as_deref()), ("stored", Some("initech")));
    assert!(env.repo.invoice("initech", S01_KEY).await.unwrap().is_some());
    assert!(env.repo.invoice(ACME, S01_KEY).await.unwrap().is_none());
}

#[tokio::test]
async fn an_identity_belongs_to_one_company() {
    let env = Env::new().await;
    let taken = vec!["networkid:AN99887766554".to_string()];
    let c = invoice_domain::company::Company::new("hooli", "Hooli", &taken, "2025-01-01T00:00:00.000Z").unwrap();
    let r = env.companies.create(&c).await.unwrap();
    assert_eq!(r, invoice_adapters::companies::Created::IdentityTaken { identity: "networkid:AN99887766554".into(), holder: ACME.into() });
    assert!(env.companies.get("hooli").await.unwrap().is_none(), "nothing written");
    // Creating acme again as it is changes nothing.
    let ids: Vec<String> = integration_tests::ACME_IDENTITIES.iter().map(|s| s.to_string()).collect();
    let again = invoice_domain::company::Company::new(ACME, "Acme Corp", &ids, "2026-01-01T00:00:00.000Z").unwrap();
    assert_eq!(env.companies.create(&again).await.unwrap(), invoice_adapters::companies::Created::AlreadyExists);
    let listed: Vec<String> = env.companies.list().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![ACME.to_string(), GLOBEX.to_string()]);
}

#[tokio::test]
async fn a_document_addressed_to_another_company_is_not_booked_under_this_prefix() {
    let env = Env::new().await;
    // s01 is addressed To acme's registered identity, but dropped under globex's prefix.
    env.put("incoming/globex/s01.xml", fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    let r = ingest_cxml::handle(&env.deps(None), env.event(&["incoming/globex/s01.xml"])).await.unwrap();
    assert_eq!((r.records[0].outcome.as_str(), r.records[0].company.as_deref()), ("quarantined", Some(GLOBEX)));
    assert_eq!(r.records[0].codes, vec!["company-mismatch"]);
    assert!(env.repo.invoice(GLOBEX, S01_KEY).await.unwrap().is_none());
    assert!(env.repo.invoice(ACME, S01_KEY).await.unwrap().is_none());
}
