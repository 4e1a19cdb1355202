//! ingest-mail against DynamoDB Local and moto S3: raw messages put under `mail/` as SES
//! would, the handler (the code the Lambda runs), then ingest-cxml on what it wrote.

use integration_tests::{fixture, Env, ACME};
use invoice_domain::invoice::records::Channel;

const S01_KEY: &str = "NetworkID:AN01011737571#1QX7ZK4MPL2T";

async fn deliver(env: &Env, key: &str, fixture_name: &str) -> ingest_mail::RecordResult {
    env.put(key, fixture(&format!("mail/{fixture_name}"))).await;
    let resp = ingest_mail::handle(&env.mail_deps(&[]), env.event(&[key])).await.expect("handler");
    resp.records.into_iter().next().unwrap()
}

#[tokio::test]
async fn cxml_attachment_becomes_an_invoice_with_the_message_as_source() {
    let env = Env::new().await;
    env.acme_mail(false).await;
    let r = deliver(&env, "mail/acme/m01", "m01-cxml-attachment.eml").await;
    assert_eq!(r.outcome, "accepted", "{r:?}");
    assert_eq!(r.documents.len(), 1);
    assert!(r.documents[0].starts_with("incoming/acme/mail/") && r.documents[0].ends_with("-invoice-1QX7ZK4MPL2T.xml"), "{r:?}");
    assert_eq!(env.get(&r.documents[0]).await.unwrap(), fixture("cxml/samples/s01-amazon-business-two-sellers.xml"));
    assert!(env.get("mail/acme/m01").await.is_some(), "the raw message stays where SES wrote it");
    let docs: Vec<&str> = r.documents.iter().map(String::as_str).collect();
    let ing = ingest_cxml::handle(&env.deps(None), env.event(&docs)).await.unwrap();
    assert_eq!(ing.records[0].outcome, "stored", "{ing:?}");
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().expect("booked");
    assert_eq!(h.source.channel, Channel::Email);
    assert_eq!(h.source.message_id.as_deref(), Some("cxml-1@northwind.example"));
    assert_eq!(h.source.sender.as_deref(), Some("ap@northwind.example"));
    assert_eq!(h.source.subject.as_deref(), Some("Invoice 1QX7ZK4MPL2T"));
    assert_eq!(h.source.attachment.as_deref(), Some("invoice-1QX7ZK4MPL2T.xml"));
    // SES redelivers the event: the same documents, the same invoice (already stored).
    let again = ingest_mail::handle(&env.mail_deps(&[]), env.event(&["mail/acme/m01"])).await.unwrap();
    assert_eq!(again.records[0].documents, r.documents);
    let ing = ingest_cxml::handle(&env.deps(None), env.event(&docs)).await.unwrap();
    assert_eq!(ing.records[0].outcome, "already-stored");
}

#[tokio::test]
async fn message_without_company_prefix_is_routed_by_its_recipient_or_kept_unassigned() {
    let env = Env::new().await;
    env.acme_mail(false).await;
    let r = deliver(&env, "mail/m01-straight", "m01-cxml-attachment.eml").await;
    assert_eq!((r.outcome.as_str(), r.company.as_deref()), ("accepted", Some(ACME)), "{r:?}");
    let r = deliver(&env, "mail/nobody", "h11-no-company-recipient.eml").await;
    assert_eq!((r.outcome.as_str(), r.company.as_deref()), ("quarantined", Some("_unassigned")), "{r:?}");
    assert_eq!(r.codes, vec!["unknown-company"]);
    let q = r.quarantine_key.unwrap();
    assert!(q.starts_with("quarantine/_unassigned/mail/"), "{q}");
    assert_eq!(env.get(&q).await.unwrap(), fixture("mail/h11-no-company-recipient.eml"));
    let reason: serde_json::Value = serde_json::from_slice(&env.get(&q.replace("message.eml", "reason.json")).await.unwrap()).unwrap();
    assert!(reason["reasons"][0]["message"].as_str().unwrap().contains("nobody@unknown.example"), "{reason}");
    let rej = env.repo.rejections("_unassigned", &integration_tests::all_months(), 10).await.unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].source.channel, Channel::Email);
    // An address belongs to one company.
    let taken = env
        .companies
        .set_mail(
            "globex",
            &invoice_domain::company::MailSettings { addresses: vec!["Invoices@Acme.example".into()], ..Default::default() },
        )
        .await
        .unwrap();
    assert!(taken.unwrap_err().contains("'acme'"));
}

#[tokio::test]
async fn hostile_and_refused_mail_is_quarantined_with_its_reason_and_kept() {
    let env = Env::new().await;
    env.acme_mail(false).await;
    let cases: [(&str, &[&str]); 12] = [
        ("h01-spam-fail.eml", &["spam"]),
        ("h02-forged-verdicts.eml", &["dkim-fail"]),
        ("h03-sender-not-allowed.eml", &["sender-not-allowed"]),
        ("h04-gray-verdict.eml", &["verdict-gray"]),
        ("h05-zip-and-gzip.eml", &["compressed-attachment", "no-invoice-attachment"]),
        ("h06-deep-nesting.eml", &["too-deep"]),
        ("h07-many-parts.eml", &["too-many-parts"]),
        ("h08-malformed-mime.eml", &["malformed-mime"]),
        ("h09-corrupt-attached-message.eml", &["malformed-mime"]),
        ("h11-no-company-recipient.eml", &[]),
        ("h12-no-ses-receipt.eml", &["no-ses-receipt"]),
        ("h13-no-attachment.eml", &["no-invoice-attachment"]),
    ];
    for (name, codes) in cases {
        let key = format!("mail/acme/{name}");
        let r = deliver(&env, &key, name).await;
        if codes.is_empty() {
            // Under acme's prefix, the recipient does not matter (the SES rule chose the prefix).
            assert_eq!(r.outcome, "accepted", "{name}: {r:?}");
            continue;
        }
        assert_eq!(r.outcome, "quarantined", "{name}: {r:?}");
        assert_eq!(r.codes, codes.iter().map(|c| c.to_string()).collect::<Vec<_>>(), "{name}");
        let q = r.quarantine_key.unwrap();
        assert!(q.starts_with("quarantine/acme/mail/"), "{q}");
        assert_eq!(env.get(&q).await.unwrap(), fixture(&format!("mail/{name}")), "{name}: kept byte for byte");
        assert!(env.get(&key).await.is_some(), "{name}: original left in place");
    }
    assert!(env.keys("incoming/acme/mail/").await.iter().all(|k| !k.contains("zip")), "no archive expanded");
    assert_eq!(env.repo.rejections(ACME, &integration_tests::all_months(), 50).await.unwrap().len(), 11);
}

#[tokio::test]
async fn gray_passes_when_the_company_says_so_and_odd_names_are_made_safe() {
    let env = Env::new().await;
    env.acme_mail(true).await;
    let r = deliver(&env, "mail/acme/gray", "h04-gray-verdict.eml").await;
    assert_eq!(r.outcome, "accepted", "{r:?}");
    let r = deliver(&env, "mail/acme/long", "h10-encoded-long-name.eml").await;
    assert_eq!(r.outcome, "accepted", "{r:?}");
    let k = &r.documents[0];
    assert!(k.ends_with(".xml") && k.len() < 220, "{k}");
    let ing = ingest_cxml::handle(&env.deps(None), env.event(&[k.as_str()])).await.unwrap();
    assert_eq!(ing.records[0].outcome, "stored");
    let h = env.repo.invoice(ACME, S01_KEY).await.unwrap().unwrap();
    assert_eq!(h.source.subject.as_deref(), Some("Rechnung für Acme"));
    assert!(h.source.attachment.as_deref().unwrap().starts_with("Rechnungü"), "{:?}", h.source.attachment);
}

#[tokio::test]
async fn message_over_the_size_limit_is_not_read_but_kept() {
    let env = Env::new().await;
    env.acme_mail(false).await;
    let mut big = fixture("mail/m01-cxml-attachment.eml");
    big.extend(std::iter::repeat_n(b'x', 200_000));
    env.put("mail/acme/big", big.clone()).await;
    let deps = env.mail_deps(&[("MAX_MESSAGE_BYTES", "100000")]);
    let r = ingest_mail::handle(&deps, env.event(&["mail/acme/big"])).await.unwrap().records.remove(0);
    assert_eq!((r.outcome.as_str(), r.codes.clone()), ("quarantined", vec!["too-large".to_string()]), "{r:?}");
    assert_eq!(env.get(&r.quarantine_key.unwrap()).await.unwrap(), big, "copied whole, server-side");
    let deps = env.mail_deps(&[("MAX_ATTACHMENT_BYTES", "1000")]);
    env.put("mail/acme/att", fixture("mail/m01-cxml-attachment.eml")).await;
    let r = ingest_mail::handle(&deps, env.event(&["mail/acme/att"])).await.unwrap().records.remove(0);
    assert_eq!(r.codes, vec!["attachment-too-large"], "{r:?}");
}
