//! The HTTPS channel end to end: the real `receive-cxml` binary under `cargo lambda watch`
//! (reached at its function URL), DynamoDB Local and moto S3; then the real ingest handler on
//! what it wrote.

use std::time::{Duration, Instant};

use integration_tests::{fixture, start_watch_with, Env, Watch, ACME};
use invoice_adapters::companies::SenderAdded;
use invoice_domain::channel::https::document_id;
use invoice_domain::channel::https::secret::new_sender;
use invoice_domain::invoice::records::{Channel, DocumentSource, InvoiceStatus};

const SECRET: &str = "s3cr3t-do-not-store";
const SENDER: &str = "networkid:northwind-procure";
const SUPPLIER: &str = "NetworkID:AN01011737571";

/// s01 (addressed to acme, sent by northwind-procure) with its own payloadID and invoiceID.
fn doc(payload_id: &str, invoice_id: &str, secret: &str) -> String {
    String::from_utf8(fixture("cxml/samples/s01-amazon-business-two-sellers.xml"))
        .unwrap()
        .replace("1731583200123.48213.7711@amazon.com", payload_id)
        .replace("invoiceID=\"1QX7ZK4MPL2T\"", &format!("invoiceID=\"{invoice_id}\""))
        .replace(SECRET, secret)
}

fn with_request(doc: &str, request: &str) -> String {
    let start = doc.find("<Request").unwrap();
    let end = doc.find("</Request>").unwrap() + "</Request>".len();
    format!("{}<Request>{request}</Request>{}", &doc[..start], &doc[end..])
}

/// `receive-cxml` under one or more `cargo lambda watch` servers (each with its own function
/// instances); requests are spread over them round robin.
struct Fn {
    _watches: Vec<Watch>,
    urls: Vec<String>,
    url: String,
    http: reqwest::Client,
}

struct Answer {
    http: u16,
    body: String,
}

impl Answer {
    fn code(&self) -> u16 {
        let at = self.body.find("<Status code=\"").unwrap_or_else(|| panic!("no Status: {}", self.body)) + 14;
        self.body[at..at + 3].parse().unwrap()
    }
    /// The answer without its own payloadID and timestamp (the `<cXML …>` line).
    fn without_ids(&self) -> String {
        self.body.lines().filter(|l| !l.trim_start().starts_with("<cXML ")).collect::<Vec<_>>().join("\n")
    }
}

impl Fn {
    async fn start(env: &Env, concurrency: u32) -> Fn {
        Fn::start_servers(env, 1, concurrency).await
    }

    /// `servers` watch servers, each with up to `concurrency` function instances.
    async fn start_servers(env: &Env, servers: usize, concurrency: u32) -> Fn {
        let vars = [("TABLE_NAME", env.table.as_str()), ("BUCKET_NAME", env.bucket.as_str())];
        let watches: Vec<Watch> = (0..servers).map(|_| start_watch_with(&vars, concurrency)).collect();
        let urls: Vec<String> = watches.iter().map(|w| format!("http://127.0.0.1:{}/lambda-url/receive-cxml/cxml", w.port)).collect();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).pool_max_idle_per_host(512).build().unwrap();
        let f = Fn { _watches: watches, url: urls[0].clone(), urls, http };
        // The first request to each server starts (and if needed builds) the function.
        let deadline = Instant::now() + Duration::from_secs(300);
        for url in &f.urls {
            loop {
                match f.http.post(url).header("content-type", "text/plain").body("ping").send().await {
                    Ok(r) if r.status().as_u16() == 415 => break,
                    other => {
                        assert!(Instant::now() < deadline, "receive-cxml did not answer: {other:?}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }
        f
    }

    async fn post(&self, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        self.post_to(&self.url, content_type, body).await
    }

    /// POST to the `i`-th request's server (round robin).
    async fn post_nth(&self, i: usize, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        self.post_to(&self.urls[i % self.urls.len()], content_type, body).await
    }

    async fn post_to(&self, url: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        let r = self.http.post(url).header("content-type", content_type).body(body.into()).send().await.expect("POST");
        let http = r.status().as_u16();
        Answer { http, body: r.text().await.unwrap() }
    }
}

async fn acme_with_sender(env: &Env) {
    let sender = new_sender(SENDER, SECRET, &[5; 16], "2026-12-01T00:00:00.000Z").unwrap();
    assert_eq!(env.companies.add_cxml_sender(ACME, &sender).await.unwrap(), SenderAdded::Added);
    let stored = env.companies.get(ACME).await.unwrap().unwrap();
    assert!(stored.cxml_senders[0].secret_hash.starts_with("$argon2id$"));
    // The secret itself is nowhere in the company item.
    let raw = env
        .ddb
        .get_item()
        .table_name(&env.table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::company_pk(ACME)))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::COMPANY_SK.into()))
        .send()
        .await
        .unwrap();
    assert!(!format!("{:?}", raw.item).contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn cxml_posts_through_the_function() {
    let env = Env::new().await;
    acme_with_sender(&env).await;
    let f = Fn::start(&env, 1).await;

    // Valid: 200, the document under incoming/acme/ with its https source.
    let first = f.post("text/xml; charset=UTF-8", doc("p-ok@sup", "HTTPS-1", SECRET)).await;
    assert_eq!((first.http, first.code()), (200, 200), "{}", first.body);
    let key = format!("incoming/acme/https/{}.xml", document_id("p-ok@sup"));
    assert_eq!(env.keys("incoming/").await, vec![key.clone()]);
    let head = env.s3.head_object().bucket(&env.bucket).key(&key).send().await.unwrap();
    let meta = head.metadata().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let source = DocumentSource::from_metadata(&meta);
    assert_eq!((source.channel, source.payload_id.as_deref(), source.sender.as_deref()), (Channel::Https, Some("p-ok@sup"), Some(SENDER)));
    assert_eq!(env.get(&key).await.unwrap(), doc("p-ok@sup", "HTTPS-1", SECRET).into_bytes());

    // The ingestion books it once, with its source.
    let out = ingest_cxml::handle(&env.deps(None), env.event(&[&key])).await.unwrap();
    assert_eq!(out.records[0].outcome, "stored");
    let h = env.repo.invoice(ACME, &format!("{SUPPLIER}#HTTPS-1")).await.unwrap().unwrap();
    assert_eq!((h.status, h.source.channel, h.source.payload_id.as_deref()), (InvoiceStatus::Valid, Channel::Https, Some("p-ok@sup")));

    // The answer is kept for replays, 30 days (DynamoDB TTL on expires_at).
    let answer = env
        .ddb
        .get_item()
        .table_name(&env.table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::payload_pk(ACME, "p-ok@sup")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::ANSWER_SK.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("answer stored");
    let answered = chrono::DateTime::parse_from_rfc3339(answer["answered_at"].as_s().unwrap()).unwrap().timestamp();
    assert_eq!(answer["expires_at"].as_n().unwrap().parse::<i64>().unwrap(), answered + 30 * 86_400);
    let ttl = env.ddb.describe_time_to_live().table_name(&env.table).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|t| t.attribute_name()), Some("expires_at"));

    // The same payloadID again: the first answer, byte for byte; nothing written again.
    let again = f.post("application/xml", doc("p-ok@sup", "HTTPS-1", SECRET)).await;
    assert_eq!((again.http, &again.body), (200, &first.body));
    assert!(env.keys("incoming/").await.is_empty(), "not stored (so not ingested) twice");

    // Same invoice number, other content: 409.
    let dup = f.post("text/xml", doc("p-dup@sup", "HTTPS-1", SECRET).replace("Amazon Capital Services", "Other Name")).await;
    assert_eq!((dup.http, dup.code()), (409, 409), "{}", dup.body);
    assert!(dup.body.contains("duplicate-invoice"));

    // Wrong secret and unknown sender: one and the same 401.
    let wrong = f.post("text/xml", doc("p-401@sup", "HTTPS-2", "guess")).await;
    let unknown = f.post("text/xml", doc("p-401@sup", "HTTPS-2", SECRET).replace("northwind-procure", "mallory")).await;
    assert_eq!((wrong.http, wrong.code(), unknown.http, unknown.code()), (401, 401, 401, 401));
    assert_eq!(wrong.without_ids(), unknown.without_ids());
    assert!(!wrong.body.contains("guess") && !wrong.body.contains(SECRET));

    // Invalid invoice: 400 naming every problem.
    let invalid = doc("p-400@sup", "HTTPS-3", SECRET).replace(r#"invoiceDate="2025-11-14""#, r#"invoiceDate="14.11.2025""#).replacen(
        "<Money currency=\"USD\">190.44</Money>",
        "<Money currency=\"USD\">1,90</Money>",
        1,
    );
    let bad = f.post("text/xml", invalid).await;
    assert_eq!((bad.http, bad.code()), (400, 400), "{}", bad.body);
    assert!(bad.body.contains("invalid-date: ") && bad.body.contains("invalid-amount: "), "{}", bad.body);

    // Not XML: 406. text/plain: 415.
    let pdf = f.post("text/xml", &b"%PDF-1.4 not xml"[..]).await;
    assert_eq!((pdf.http, pdf.code()), (406, 406), "{}", pdf.body);
    let plain = f.post("text/plain", doc("p-415@sup", "HTTPS-4", SECRET)).await;
    assert_eq!((plain.http, plain.code()), (415, 415));

    // ProfileRequest → ProfileResponse; another request → 450 in an HTTP 200.
    let profile = f.post("text/xml", with_request(&doc("p-prof@sup", "X", SECRET), "<ProfileRequest/>")).await;
    assert_eq!((profile.http, profile.code()), (200, 200));
    assert!(
        profile.body.contains("<ProfileResponse effectiveDate=")
            && profile.body.contains(r#"<Transaction requestName="InvoiceDetailRequest">"#),
        "{}",
        profile.body
    );
    let order = f.post("text/xml", with_request(&doc("p-450@sup", "X", SECRET), "<OrderRequest/>")).await;
    assert_eq!((order.http, order.code()), (200, 450), "{}", order.body);

    // multipart/related with a cid: attachment: both stored.
    let xml = doc("p-mp@sup", "HTTPS-5", SECRET);
    let body = format!(
        "--B0UND\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <root@sup>\r\n\r\n{xml}\r\n--B0UND\r\nContent-Type: application/pdf\r\nContent-ID: <scan-1@sup>\r\n\r\n%PDF-1.4 scan\r\n--B0UND--\r\n"
    );
    let mp = f.post(r#"multipart/related; type="text/xml"; start="<root@sup>"; boundary=B0UND"#, body).await;
    assert_eq!((mp.http, mp.code()), (200, 200), "{}", mp.body);
    let id = document_id("p-mp@sup");
    assert_eq!(env.get(&format!("attachments/acme/https/{id}/1-scan-1_sup")).await.unwrap(), b"%PDF-1.4 scan");
    assert_eq!(env.get(&format!("incoming/acme/https/{id}.xml")).await.unwrap(), xml.into_bytes());
}

/// `n` POSTs of distinct valid invoices, all launched at once and spread round robin over
/// `servers` watch servers with `concurrency` function instances each, at most `in_flight`
/// open in all (one `cargo lambda watch` stops dispatching when ~100 or more requests arrive
/// at once: 60 fine, 120 hang; several servers hold 200 in flight, as Lambda's many sandboxes
/// do): n × 200, n objects, n invoices booked once each. Returns the latencies (ms, request
/// sent → Response read), sorted.
async fn load(n: usize, servers: usize, concurrency: u32, in_flight: usize) -> Vec<f64> {
    let env = Env::new().await;
    acme_with_sender(&env).await;
    let f = std::sync::Arc::new(Fn::start_servers(&env, servers, concurrency).await);
    let started = Instant::now();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let f = f.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                let t = Instant::now();
                let a = f.post_nth(i, "text/xml", doc(&format!("load-{i}@sup"), &format!("LOAD-{i:05}"), SECRET)).await;
                (a.http, a.code(), t.elapsed().as_secs_f64() * 1000.0)
            })
        })
        .collect();
    let mut ms = Vec::with_capacity(n);
    for t in tasks {
        let (http, code, elapsed) = t.await.unwrap();
        assert_eq!((http, code), (200, 200));
        ms.push(elapsed);
    }
    let wall = started.elapsed().as_secs_f64();
    let keys = env.keys("incoming/acme/https/").await;
    assert_eq!(keys.len(), n, "one object per POST");
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let out = ingest_cxml::handle(&env.deps(None), env.event(&refs)).await.unwrap();
    assert!(out.records.iter().all(|r| r.outcome == "stored"), "{:?}", out.records.iter().find(|r| r.outcome != "stored"));
    let booked = env.repo.invoices_by_supplier(ACME, SUPPLIER, n + 10).await.unwrap();
    assert_eq!(booked.len(), n, "n invoices, no duplicates");
    ms.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
    println!(
        "HTTPS load: {n} POSTs launched at once ({in_flight} in flight), {servers} watch servers x {concurrency} function instances: {n} x 200, {} objects, {} invoices; wall {wall:.2} s; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        keys.len(),
        booked.len(),
        pct(0.50),
        pct(0.99),
        ms[ms.len() - 1]
    );
    ms
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_posts_are_each_accepted_once() {
    load(20, 1, 2, 20).await;
}

/// The bench (bench/https-load.sh): `HTTPS_LOAD_N` (default 200) POSTs, all in flight at once
/// over `HTTPS_LOAD_SERVERS` (default 4) watch servers × `HTTPS_LOAD_CONCURRENCY` (default 4)
/// instances.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn https_load() {
    let var = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let n = var("HTTPS_LOAD_N", 200);
    let servers = var("HTTPS_LOAD_SERVERS", 4);
    load(n, servers, var("HTTPS_LOAD_CONCURRENCY", 4) as u32, var("HTTPS_LOAD_IN_FLIGHT", n)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registering_a_sender_again_replaces_its_secret_hash() {
    let env = Env::new().await;
    acme_with_sender(&env).await;
    let other = new_sender("networkid:other-sender", "x", &[6; 16], "2026-12-01T00:00:00.000Z").unwrap();
    assert_eq!(env.companies.add_cxml_sender(ACME, &other).await.unwrap(), SenderAdded::Added);
    let rotated = new_sender(SENDER, "new-secret", &[7; 16], "2026-12-02T00:00:00.000Z").unwrap();
    assert_eq!(env.companies.add_cxml_sender(ACME, &rotated).await.unwrap(), SenderAdded::Replaced);
    let c = env.companies.get(ACME).await.unwrap().unwrap();
    assert_eq!(c.cxml_senders.len(), 2);
    let s = c.cxml_senders.iter().find(|s| s.identity == SENDER).unwrap();
    assert!(invoice_domain::channel::https::verify_secret("new-secret", &s.secret_hash));
    assert!(!invoice_domain::channel::https::verify_secret(SECRET, &s.secret_hash));
    assert!(env.companies.add_cxml_sender("nobody", &rotated).await.is_err());
}
