//! The Amazon Business Reconciliation and Reports operations of the SP-API client, through the
//! import's ports, against the emulator (a real HTTP server per test, seeded with
//! `/_emulator/business/seed`) and the local stack (the company's refresh token in moto's
//! Secrets Manager, the shared rate state in DynamoDB Local): pages walked with the token
//! alone, invoice and payment details read by the domain's parsers, PDF reports created,
//! polled and downloaded (GZIP or not), an expired document URL, a revoked authorisation, the
//! emulator's usage plan answering 429, a lost createReport never resent, a Reports slot too far
//! away left for later.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use integration_tests::{emulator_config, emulator_credentials, start_emulator, Env, ACME};
use invoice_adapters::slots::DynamoSlots;
use invoice_domain::import::batch::{invoice_details_requests, next_page_query, payment_details_requests, transactions_query};
use invoice_domain::import::pdf::{parse_create_report, parse_report, parse_report_document, CreateReportSpecification, ProcessingStatus};
use invoice_domain::import::ports::{Answer, Download, ReconciliationApi, ReportsApi};
use invoice_domain::import::{parse_invoice_details, parse_payment_details, parse_transactions_page};
use invoice_spapi::rate::Plan;
use invoice_spapi::{Client, Credentials, SlotStore};
use invoice_wiring::SpApiClient;
use serde_json::{json, Value};

const TOKEN: &str = "Atzr|acme-business-import";

struct Rig {
    env: Env,
    emu: String,
    http: reqwest::Client,
    client: Arc<SpApiClient>,
}

/// A fresh table, an emulator with `cfg`, acme connected to Amazon Business with [`TOKEN`],
/// and acme's client as the wiring makes it (DynamoDB rate state, the token from Secrets
/// Manager).
async fn rig(cfg: spapi_emulator::Config) -> Rig {
    let env = Env::new().await;
    let emu = start_emulator(cfg).await;
    env.connect_business(ACME, TOKEN).await;
    let (_, client) = env.buyers(&emu).business(ACME).await.expect("acme's business client");
    Rig { env, emu, http: reqwest::Client::new(), client }
}

impl Rig {
    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self.http.post(format!("{}{path}", self.emu)).json(&body).send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn seed(&self, doc: Value) -> Value {
        let mut doc = doc;
        doc["refresh_token"] = json!(TOKEN);
        self.control("/_emulator/business/seed", doc).await
    }

    /// The Amazon Business calls the emulator received (LWA left out): (operation, path, status).
    async fn calls(&self) -> Vec<(String, String, Option<u64>)> {
        let all: Vec<Value> = self.http.get(format!("{}/_emulator/requests", self.emu)).send().await.unwrap().json().await.unwrap();
        all.iter()
            .filter(|r| r["operation"] != "token")
            .map(|r| {
                (r["operation"].as_str().unwrap_or("").to_string(), r["path"].as_str().unwrap_or("").to_string(), r["status"].as_u64())
            })
            .collect()
    }

    async fn count(&self, operation: &str) -> usize {
        self.calls().await.iter().filter(|(op, _, _)| op == operation).count()
    }

    /// A client of acme's with `config` (the emulator's endpoints) on this test's rate state.
    fn client_with(&self, config: impl FnOnce(&mut invoice_spapi::Config)) -> Client<DynamoSlots> {
        let mut c = emulator_config(&self.emu);
        c.backoff_base = Duration::from_millis(5);
        config(&mut c);
        let credentials = Credentials { refresh_token: TOKEN.into(), ..emulator_credentials() };
        Client::new(c, credentials, ACME, DynamoSlots::new(self.env.ddb.clone(), self.env.table.clone())).unwrap()
    }
}

fn ok(a: Answer) -> String {
    match a {
        Answer::Ok(body) => body,
        other => panic!("expected Ok, got {other:?}"),
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The PDF report of one invoice (`GET_AB_INVOICE_PDF` by invoice id).
fn pdf_spec(invoice: &str, marketplace: &str) -> CreateReportSpecification {
    let mut options = BTreeMap::new();
    options.insert("invoiceId".to_string(), invoice.to_string());
    options.insert("documentType".to_string(), "Invoice".to_string());
    CreateReportSpecification {
        report_type: invoice_domain::import::pdf::REPORT_TYPE.into(),
        marketplace_ids: vec![marketplace.into()],
        report_options: options,
    }
}

/// createReport → getReport until final → its reportDocumentId.
async fn report_document_id(api: &impl ReportsApi, spec: &CreateReportSpecification) -> String {
    let report_id = parse_create_report(&ok(api.create_report(spec).await)).unwrap();
    for _ in 0..10 {
        let state = parse_report(&ok(api.get_report(&report_id).await)).unwrap();
        match state.status {
            Some(ProcessingStatus::Done) => return state.report_document_id.expect("DONE has a document"),
            Some(ProcessingStatus::InQueue | ProcessingStatus::InProgress) => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("report {report_id}: {other:?}"),
        }
    }
    panic!("report {report_id} never DONE")
}

fn invoice(number: &str, date: &str, gzip: bool) -> Value {
    json!({"invoice_number": number, "invoice_date": date, "currency": "USD", "gzip": gzip,
           "lines": [{"unit_price": "12.50", "quantity": 2, "asin": "B000000001"}]})
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_are_walked_with_the_token_alone_and_details_read_by_the_domain() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"generate": {"count": 12, "from": "2026-11-01", "days": 2, "lines": 2, "prefix": "ACME-"}})).await;

    // Pages of 5 (the emulator's), walked with nextPageToken alone.
    let mut query = transactions_query(at("2026-11-01T00:00:00Z"), at("2026-11-30T00:00:00Z"));
    let mut transactions = Vec::new();
    let mut pages = 0;
    loop {
        let page = parse_transactions_page(&ok(r.client.transactions(&query).await)).unwrap();
        pages += 1;
        transactions.extend(page.transactions);
        match page.next_page_token {
            Some(token) => query = next_page_query(&token),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!((pages, transactions.len()), (3, 12));
    let mut numbers: Vec<String> = transactions.iter().filter_map(|t| t.invoice_number.clone()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "{numbers:?}");
    let paths: Vec<String> = r.calls().await.into_iter().filter(|(op, _, _)| op == "get_transactions").map(|(_, p, _)| p).collect();
    assert_eq!(paths.len(), 3);
    assert!(paths[0].contains("feedStartDate=2026-11-01T00%3A00%3A00.000Z&feedEndDate="), "{}", paths[0]);
    for p in &paths[1..] {
        let q = p.split_once('?').map(|(_, q)| q).unwrap_or("");
        assert!(q.starts_with("nextPageToken=") && !q.contains('&'), "the token alone: {p}");
    }

    // Their invoices, by order line (≤ 25 per call), read by the domain's parser.
    let lines: Vec<_> = transactions.iter().flat_map(|t| t.lines.iter().filter_map(|l| l.order_line_item())).collect();
    assert_eq!(lines.len(), 24);
    let mut detailed = Vec::new();
    for req in invoice_details_requests(&lines) {
        detailed.extend(parse_invoice_details(&ok(r.client.invoice_details(&req).await)).unwrap());
    }
    assert_eq!(detailed.len(), 24);
    let mut invoiced: Vec<String> = detailed.iter().flat_map(|l| l.invoices.iter().filter_map(|i| i.invoice_number.clone())).collect();
    invoiced.sort();
    invoiced.dedup();
    assert_eq!(invoiced, numbers);

    // Their payment details.
    let (bodies, refused) = payment_details_requests(&numbers);
    assert!(refused.is_empty());
    let mut results = Vec::new();
    for req in bodies {
        results.extend(parse_payment_details(&ok(r.client.payment_details(&req).await)).unwrap());
    }
    assert_eq!(results.len(), 12);
    assert!(
        results
            .iter()
            .all(|p| matches!(&p.outcome, invoice_domain::import::answer::PaymentOutcome::Success(Some(d)) if d.due_date.is_some())),
        "{results:?}"
    );

    // A request the API refuses: Refused with Amazon's error list in words.
    let bad = [("feedStartDate", "yesterday".to_string()), ("feedEndDate", "2026-11-30T00:00:00Z".to_string())];
    let Answer::Refused { status: 400, message } = r.client.transactions(&bad).await else { panic!() };
    assert!(message.starts_with("INVALID_REQUEST_PARAMETER: Input date [yesterday] is not in the expected ISO8601 format."), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pdf_report_is_created_polled_and_downloaded_gzipped_or_not() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"invoices": [invoice("US-PLAIN-1", "2026-11-02T10:00:00Z", false), invoice("US-GZIP-2", "2026-11-03T10:00:00Z", true)]}))
        .await;
    let marketplace = "ATVPDKIKX0DER";
    for (number, gzip) in [("US-PLAIN-1", false), ("US-GZIP-2", true)] {
        let doc_id = report_document_id(&*r.client, &pdf_spec(number, marketplace)).await;
        let doc = parse_report_document(&ok(ReportsApi::get_report_document(&*r.client, &doc_id).await)).unwrap();
        assert_eq!(doc.gzip, gzip, "{number}");
        let Download::Bytes(pdf) = r.client.download(&doc).await else { panic!("{number}") };
        assert!(pdf.starts_with(b"%PDF-"), "{number}: a PDF, gunzipped when GZIP");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains(&format!("Invoice {number}")), "{number}");
        // What travelled was gzip indeed.
        let raw = r.http.get(&doc.url).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip, "{number}");
    }
    // A report of another's id: Refused (404).
    let Answer::Refused { status: 404, message } = ReportsApi::get_report(&*r.client, "50000000001").await else { panic!() };
    assert!(message.contains("not found"), "{message}");
    let Answer::Refused { status: 0, .. } = ReportsApi::get_report_document(&*r.client, "  ").await else {
        panic!("refused before sending")
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_document_url_is_expired_and_a_fresh_one_downloads() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"invoices": [invoice("US-EXP-1", "2026-11-02T10:00:00Z", true)]})).await;
    let doc_id = report_document_id(&*r.client, &pdf_spec("US-EXP-1", "ATVPDKIKX0DER")).await;
    r.control("/_emulator/faults", json!({"expired_url_next": 1})).await;
    let doc = parse_report_document(&ok(ReportsApi::get_report_document(&*r.client, &doc_id).await)).unwrap();
    assert_eq!(r.client.download(&doc).await, Download::Expired);
    assert_eq!(r.count("document_download").await, 1, "an expired URL is not retried");
    let doc = parse_report_document(&ok(ReportsApi::get_report_document(&*r.client, &doc_id).await)).unwrap();
    let Download::Bytes(pdf) = r.client.download(&doc).await else { panic!() };
    assert!(pdf.starts_with(b"%PDF-"));

    // 5xx: retried, then Failed with S3's reason; a tampered URL: Failed, not Expired.
    r.control("/_emulator/faults", json!({"fail_next": 1, "operation": "document_download"})).await;
    assert!(matches!(r.client.download(&doc).await, Download::Bytes(_)), "one 500, then the document");
    r.control("/_emulator/faults", json!({"fail_next": 10, "fail_status": 503, "operation": "document_download"})).await;
    let Download::Failed(why) = r.client.download(&doc).await else { panic!() };
    assert!(why.contains("HTTP 503 InternalError"), "{why}");
    assert!(!why.contains("X-Amz-Signature"), "the URL is never in a reason: {why}");
    r.control("/_emulator/faults", json!({"fail_next": 0})).await;
    let mut tampered = doc.clone();
    tampered.url = doc.url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    let Download::Failed(why) = r.client.download(&tampered).await else { panic!() };
    assert!(why.contains("403 SignatureDoesNotMatch"), "{why}");
    // Said GZIP and not GZIP: Failed.
    let plain_doc = {
        r.seed(json!({"invoices": [invoice("US-EXP-2", "2026-11-02T10:00:00Z", false)]})).await;
        let id = report_document_id(&*r.client, &pdf_spec("US-EXP-2", "ATVPDKIKX0DER")).await;
        parse_report_document(&ok(ReportsApi::get_report_document(&*r.client, &id).await)).unwrap()
    };
    let said_gzip = invoice_domain::import::pdf::ReportDocument { gzip: true, ..plain_doc };
    let Download::Failed(why) = r.client.download(&said_gzip).await else { panic!() };
    assert!(why.contains("not valid GZIP"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_authorisation_is_not_authorized() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"invoices": [invoice("US-REV-1", "2026-11-02T10:00:00Z", false)]})).await;
    let query = transactions_query(at("2026-11-01T00:00:00Z"), at("2026-11-30T00:00:00Z"));
    ok(r.client.transactions(&query).await);
    r.control("/_emulator/revoke", json!({"refresh_token": TOKEN})).await;
    // The access token is refused (403), a new one asked once (invalid_grant): NotAuthorized.
    let Answer::NotAuthorized(why) = r.client.transactions(&query).await else { panic!() };
    assert!(why.contains("invalid_grant"), "{why}");
    assert!(!why.contains(TOKEN), "never the token");
    // During the cool-down nothing is asked of anyone: later.
    let Answer::Retry(why) = ReportsApi::create_report(&*r.client, &pdf_spec("US-REV-1", "ATVPDKIKX0DER")).await else { panic!() };
    assert!(why.contains("cool-down"), "{why}");
    assert_eq!(r.count("create_report").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_usage_plans_429_is_retried_and_at_last_a_retry_with_the_rate() {
    // The emulator's getInvoiceDetailsByOrderLineItems plan at 2/s burst 2; the client paced far
    // faster, so that the emulator throttles it.
    let cfg = spapi_emulator::Config { invoice_details_burst: 2.0, ..Default::default() };
    let r = rig(cfg).await;
    r.seed(json!({"invoices": [invoice("US-429-1", "2026-11-02T10:00:00Z", false)]})).await;
    let page = parse_transactions_page(&ok(r
        .client
        .transactions(&transactions_query(at("2026-11-01T00:00:00Z"), at("2026-11-30T00:00:00Z")))
        .await))
    .unwrap();
    let lines: Vec<_> = page.transactions[0].lines.iter().filter_map(|l| l.order_line_item()).collect();
    let req = invoice_details_requests(&lines).remove(0);
    let fast = Arc::new(r.client_with(|c| c.invoice_details_plan = Plan { rate: 100.0, burst: 10 }));
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (c, req) = (fast.clone(), req.clone());
        tasks.push(tokio::spawn(async move { c.invoice_details(&req).await }));
    }
    for t in tasks {
        let details = parse_invoice_details(&ok(t.await.unwrap())).unwrap();
        assert_eq!(details[0].invoices[0].invoice_number.as_deref(), Some("US-429-1"));
    }
    let statuses: Vec<Option<u64>> =
        r.calls().await.into_iter().filter(|(op, _, _)| op == "get_invoice_details").map(|(_, _, s)| s).collect();
    assert!(statuses.contains(&Some(429)), "the emulator throttled: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == Some(200)).count(), 5, "every call answered at last");

    // With one attempt only: Retry, saying the rate Amazon applied.
    let impatient = r.client_with(|c| {
        c.invoice_details_plan = Plan { rate: 100.0, burst: 10 };
        c.max_throttled_attempts = 1;
    });
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(impatient.invoice_details(&req).await);
    }
    let why = answers.iter().find_map(|a| if let Answer::Retry(w) = a { Some(w.clone()) } else { None }).expect("a 429 given up");
    assert!(why.contains("HTTP 429") && why.contains("x-amzn-RateLimit-Limit: 2 requests/s"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_create_report_is_retry_and_never_resent() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"invoices": [invoice("US-LOST-1", "2026-11-02T10:00:00Z", false)]})).await;
    r.control("/_emulator/faults", json!({"lose_response_next": 1, "operation": "create_report"})).await;
    let Answer::Retry(why) = ReportsApi::create_report(&*r.client, &pdf_spec("US-LOST-1", "ATVPDKIKX0DER")).await else { panic!() };
    assert!(why.contains("connection lost"), "{why}");
    assert_eq!(r.count("create_report").await, 1, "sent once, not resent");
    // Reads are resent: a dropped getTransactions is asked again.
    r.control("/_emulator/faults", json!({"drop_next": 1, "operation": "get_transactions"})).await;
    ok(r.client.transactions(&transactions_query(at("2026-11-01T00:00:00Z"), at("2026-11-30T00:00:00Z"))).await);
    assert_eq!(r.count("get_transactions").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reports_slot_too_far_away_is_left_for_later_without_reserving_it() {
    let r = rig(spapi_emulator::Config::default()).await;
    r.seed(json!({"invoices": [invoice("US-PACE-1", "2026-11-02T10:00:00Z", false)]})).await;
    let client = r.client_with(|c| {
        c.create_report_plan = Plan { rate: 0.0167, burst: 1 };
        c.report_max_wait = Some(Duration::from_secs(5));
    });
    let spec = pdf_spec("US-PACE-1", "ATVPDKIKX0DER");
    ok(ReportsApi::create_report(&client, &spec).await);

    // The look is one consistent read of the shared state in DynamoDB: it moves nothing.
    let slots = DynamoSlots::new(r.env.ddb.clone(), r.env.table.clone());
    let key = format!("ab:{ACME}:createReport");
    let tat = slots.stored_tat(&key).await.unwrap().expect("the first createReport reserved its slot");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64;
    let plan = client.config().create_report_plan;
    let next = slots.next_slot(&key, &plan, now).await.unwrap();
    assert_eq!(next, invoice_spapi::rate::next_slot(&plan, Some(tat), now));
    assert!(next - now > 50_000_000, "about a minute away: {}", next - now);

    for _ in 0..2 {
        let Answer::Retry(why) = ReportsApi::create_report(&client, &spec).await else { panic!() };
        assert!(why.starts_with("paced: next createReport slot in "), "{why}");
    }
    assert_eq!(slots.stored_tat(&key).await.unwrap(), Some(tat), "nothing reserved");
    assert_eq!(r.count("create_report").await, 1, "nothing sent");
    // Another operation is not held back by it.
    ok(client.transactions(&transactions_query(at("2026-11-01T00:00:00Z"), at("2026-11-30T00:00:00Z"))).await);
    // A never-used key: now.
    assert_eq!(slots.next_slot("ab:nobody:createReport", &plan, now).await.unwrap(), now);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reports_429_whose_retry_waits_longer_than_a_pass_is_retry_at_once() {
    // Amazon's createReport plan with a burst of 1; the client's own pacing lets it through.
    let r = rig(spapi_emulator::Config { create_report_burst: 1.0, ..Default::default() }).await;
    r.seed(json!({"invoices": [invoice("US-PACE-2", "2026-11-02T10:00:00Z", false)]})).await;
    let client = r.client_with(|c| {
        c.create_report_plan = Plan { rate: 100.0, burst: 10 };
        c.report_max_wait = Some(Duration::from_secs(5));
    });
    let spec = pdf_spec("US-PACE-2", "ATVPDKIKX0DER");
    ok(ReportsApi::create_report(&client, &spec).await);
    let started = std::time::Instant::now();
    let Answer::Retry(why) = ReportsApi::create_report(&client, &spec).await else { panic!() };
    assert!(started.elapsed() < Duration::from_secs(5), "no minute-long sleep: {:?}", started.elapsed());
    assert!(why.contains("HTTP 429") && why.contains("x-amzn-RateLimit-Limit: 0.0167 requests/s"), "{why}");
    assert_eq!(r.count("create_report").await, 2, "the 429 was not retried");
}
