//! The daily Amazon Business import against the real components: DynamoDB Local (invoices,
//! cursor, PDF tasks), moto S3 (archived data, PDFs) and SQS (the fan-out), and the project's
//! emulator (Reconciliation and Reports APIs, validated against Amazon's models, with pages of
//! five, usage plans and faults), each test with its own table, bucket and emulator.

use std::time::Duration;

use integration_tests::{start_emulator, unique, Env, ACME};
use invoice_adapters::dynamo::DynamoRepo;
use invoice_domain::core::PortError;
use invoice_domain::import::mapping::imported_invoice_key;
use invoice_domain::import::pdf::PdfJob;
use invoice_domain::import::ports::{ImportIssue, ImportStatus, ImportStore, PdfTask};
use invoice_domain::import::purchase::{Purchase, PurchaseCategory, PurchaseKind, ReviewStatus};
use invoice_domain::import::watermark::ImportCursor;
use invoice_domain::import::workflow::{ImportConfig, PassEnd, PassReport};
use invoice_domain::invoice::ports::InvoiceRepository;
use invoice_domain::invoice::records::InvoiceStatus;
use invoice_wiring::import::{DeadlineClock, ImportRunner};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// One test's world: its table and bucket, its emulator, its tenancy.
struct World {
    env: Env,
    base: String,
    tenancy: invoice_wiring::Tenancy,
}

fn fast_emulator() -> spapi_emulator::Config {
    spapi_emulator::Config { report_processing_polls: 1, ..Default::default() }
}

fn import_config() -> ImportConfig {
    ImportConfig { poll_base_seconds: 1, page_margin: Duration::from_secs(2), ..ImportConfig::default() }
}

impl World {
    async fn new(emu: spapi_emulator::Config) -> World {
        let env = Env::new().await;
        let base = start_emulator(emu).await;
        let tenancy = env.buyers(&base);
        World { env, base, tenancy }
    }

    /// Connects `company` with its own refresh token (its own data and rate plans in the
    /// emulator), auto import on from 2025-01-01.
    async fn connect(&self, company: &str) -> String {
        let token = format!("Atzr|{}", unique(company));
        self.env.connect_business(company, &token).await;
        token
    }

    async fn seed(&self, token: &str, doc: Value) -> Value {
        let mut doc = doc;
        doc["refresh_token"] = json!(token);
        let resp = reqwest::Client::new().post(format!("{}/_emulator/business/seed", self.base)).json(&doc).send().await.unwrap();
        assert!(resp.status().is_success(), "seed: {}", resp.text().await.unwrap());
        resp.json().await.unwrap()
    }

    async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_emulator/stats", self.base)).await.unwrap().json().await.unwrap()
    }

    async fn pass_with<I: ImportStore + Sync>(&self, state: &I, company: &str) -> PassReport {
        let runner = ImportRunner { tenancy: &self.tenancy, state, config: import_config() };
        let clock = DeadlineClock::budget(Duration::from_secs(120));
        runner.pass(company, None, &clock).await.expect("pass runs")
    }

    async fn pass(&self, company: &str) -> PassReport {
        self.pass_with(&self.env.repo, company).await
    }

    async fn pdfs(&self, company: &str, budget: Duration) -> PassReport {
        let runner = ImportRunner { tenancy: &self.tenancy, state: &self.env.repo, config: import_config() };
        let clock = DeadlineClock::budget(budget);
        let mut report = PassReport { company: company.into(), ..Default::default() };
        runner.pdfs(company, 100, &clock, &mut report).await.expect("pdf steps run");
        report
    }

    /// The keys of the company's invoices that are Amazon Business imports.
    async fn imported(&self, company: &str, numbers: &[String]) -> Vec<invoice_domain::invoice::records::InvoiceRecord> {
        let mut out = Vec::new();
        for n in numbers {
            if let Some(r) = self.env.repo.get_invoice(company, &imported_invoice_key(n)).await.unwrap() {
                out.push(r);
            }
        }
        out
    }
}

fn numbers(prefix: &str, count: usize) -> Vec<String> {
    // The emulator's generated numbers: <prefix><n, 7 digits>, from 1.
    (1..=count).map(|i| format!("{prefix}{i:07}")).collect()
}

fn sum_sides(entries: &[invoice_domain::invoice::records::EntryRecord]) -> (Decimal, Decimal) {
    use invoice_domain::invoice::accounting::Side;
    let mut d = Decimal::ZERO;
    let mut c = Decimal::ZERO;
    for e in entries {
        let a: Decimal = e.line.amount.amount;
        match e.line.side {
            Side::Debit => d += a,
            Side::Credit => c += a,
        }
    }
    (d, c)
}

#[tokio::test]
async fn the_first_run_imports_everything_from_the_start_date_and_a_second_run_nothing() {
    let w = World::new(fast_emulator()).await;
    let token = w.connect(ACME).await;
    let other = w.connect(integration_tests::GLOBEX).await;
    w.seed(&token, json!({"generate": {"count": 12, "from": "2025-02-01", "days": 3, "lines": 2, "prefix": "ABI-"}})).await;

    let first = w.pass(ACME).await;
    assert_eq!(first.end, Some(PassEnd::Finished), "{first:?}");
    assert_eq!(first.invoices_new, 12, "{first:?}");
    assert!(first.pages >= 3, "pages of five: {first:?}");
    assert_eq!(first.window.as_ref().unwrap().from, "2025-01-01T00:00:00.000Z", "from the start date");
    assert!(first.watermark.is_some());
    assert_eq!(first.pdfs_pending, 12, "one PDF task per invoice");

    let stored = w.imported(ACME, &numbers("ABI-", 12)).await;
    assert_eq!(stored.len(), 12);
    for r in &stored {
        assert_eq!(r.status, InvoiceStatus::Valid);
        assert_eq!(r.supplier_name.as_deref(), Some("Amazon Business"));
        let p = r.purchase.as_ref().expect("filed as a purchase");
        assert_eq!((p.category, p.review, p.kind), (PurchaseCategory::Purchases, ReviewStatus::ToProcess, PurchaseKind::Invoice));
        let lines = w.env.repo.get_lines(ACME, &r.invoice_key).await.unwrap();
        assert_eq!(lines.len(), 2, "{}", r.invoice_key);
        let entries = w.env.repo.get_entries(ACME, &r.invoice_key).await.unwrap();
        let (d, c) = sum_sides(&entries);
        assert_eq!(d, c, "balanced journal of {}", r.invoice_key);
        assert!(d > Decimal::ZERO);
        // The archived data is there, as the record says.
        assert!(w.env.get(&r.document_key).await.is_some(), "{}", r.document_key);
    }
    // Another company sees none of them.
    assert!(w.imported(integration_tests::GLOBEX, &numbers("ABI-", 12)).await.is_empty());

    let second = w.pass(ACME).await;
    assert_eq!(second.end, Some(PassEnd::Finished));
    assert_eq!((second.invoices_new, second.invoices_completed, second.flagged), (0, 0, 0), "{second:?}");
    assert_eq!(w.imported(ACME, &numbers("ABI-", 12)).await.len(), 12);
    // The other company's own (empty) feed.
    let g = w.pass(integration_tests::GLOBEX).await;
    assert_eq!((g.end, g.transactions, g.invoices_new), (Some(PassEnd::Finished), 0, 0));
    let _ = other;
}

/// The real store, but the `fail_at`-th cursor save fails as a crash would (everything the
/// page stored is stored, its cursor is not).
struct CrashingStore<'a> {
    inner: &'a DynamoRepo,
    saves: std::sync::atomic::AtomicU32,
    fail_at: u32,
}

impl ImportStore for CrashingStore<'_> {
    async fn cursor(&self, company: &str) -> Result<(ImportCursor, u64), PortError> {
        self.inner.cursor(company).await
    }
    async fn save_cursor(&self, company: &str, cursor: &ImportCursor, version: u64) -> Result<bool, PortError> {
        let n = self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n == self.fail_at {
            return Err(PortError("crash before the cursor was saved".into()));
        }
        self.inner.save_cursor(company, cursor, version).await
    }
    async fn add_pdf_task(&self, task: &PdfTask) -> Result<bool, PortError> {
        self.inner.add_pdf_task(task).await
    }
    async fn pdf_task(&self, company: &str, invoice_key: &str) -> Result<Option<PdfTask>, PortError> {
        self.inner.pdf_task(company, invoice_key).await
    }
    async fn update_pdf_task(&self, task: &PdfTask, previous: &PdfJob) -> Result<bool, PortError> {
        self.inner.update_pdf_task(task, previous).await
    }
    async fn open_pdf_tasks(&self, company: &str, limit: usize) -> Result<Vec<PdfTask>, PortError> {
        self.inner.open_pdf_tasks(company, limit).await
    }
    async fn put_issue(&self, issue: &ImportIssue) -> Result<bool, PortError> {
        self.inner.put_issue(issue).await
    }
    async fn issues(&self, company: &str, limit: usize) -> Result<Vec<ImportIssue>, PortError> {
        self.inner.issues(company, limit).await
    }
    async fn set_purchase(&self, company: &str, invoice_key: &str, purchase: &Purchase) -> Result<(), PortError> {
        self.inner.set_purchase(company, invoice_key, purchase).await
    }
    async fn status(&self, company: &str) -> Result<ImportStatus, PortError> {
        self.inner.status(company).await
    }
    async fn put_status(&self, company: &str, status: &ImportStatus) -> Result<(), PortError> {
        self.inner.put_status(company, status).await
    }
    async fn connection_refused(&self, company: &str, reason: &str, at: &str) -> Result<(), PortError> {
        self.inner.connection_refused(company, reason, at).await
    }
}

#[tokio::test]
async fn a_crash_mid_run_then_a_rerun_imports_nothing_twice_and_loses_nothing() {
    let w = World::new(fast_emulator()).await;
    let token = w.connect(ACME).await;
    w.seed(&token, json!({"generate": {"count": 13, "from": "2025-03-01", "days": 2, "lines": 1, "prefix": "CR-"}})).await;

    // The second page is stored, then the process dies before its cursor is saved.
    let crashing = CrashingStore { inner: &w.env.repo, saves: Default::default(), fail_at: 2 };
    let runner = ImportRunner { tenancy: &w.tenancy, state: &crashing, config: import_config() };
    let err = runner.pass(ACME, None, &DeadlineClock::budget(Duration::from_secs(60))).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let (cursor, version) = w.env.repo.cursor(ACME).await.unwrap();
    assert_eq!(version, 1, "only the first page's cursor was saved");
    assert!(cursor.run.as_ref().is_some_and(|r| r.pages_done == 1), "{cursor:?}");
    let partial = w.imported(ACME, &numbers("CR-", 13)).await.len();
    assert!(partial >= 10, "two pages were stored: {partial}");

    // The re-run reads the second page again: found stored, then the rest.
    let rerun = w.pass(ACME).await;
    assert_eq!(rerun.end, Some(PassEnd::Finished), "{rerun:?}");
    assert_eq!(rerun.invoices_new as usize, 13 - partial, "{rerun:?}");
    assert!(rerun.already_stored >= 5, "the second page found stored: {rerun:?}");
    let all = w.imported(ACME, &numbers("CR-", 13)).await;
    assert_eq!(all.len(), 13, "no gap");
    for r in &all {
        // One header, its one line, its entries: nothing written twice under other keys.
        let entries = w.env.repo.get_entries(ACME, &r.invoice_key).await.unwrap();
        let (d, c) = sum_sides(&entries);
        assert_eq!(d, c);
        assert_eq!(w.env.repo.get_lines(ACME, &r.invoice_key).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_invoice_already_received_by_cxml_is_completed_not_booked_again() {
    let w = World::new(fast_emulator()).await;
    let token = w.connect(ACME).await;
    // The e-invoice first (cXML from Amazon Business: invoice 1QX7ZK4MPL2T, 190.44 USD).
    let xml = integration_tests::fixture("cxml/samples/s01-amazon-business-two-sellers.xml");
    let key = format!("incoming/{ACME}/{}.xml", unique("ab"));
    w.env.put(&key, xml).await;
    let deps = w.env.deps(None);
    ingest_cxml::handle(&deps, w.env.event(&[&key])).await.expect("ingested");
    let invoice_key = imported_invoice_key("1QX7ZK4MPL2T");
    let before = w.env.repo.get_invoice(ACME, &invoice_key).await.unwrap().expect("booked by cXML");
    assert_eq!(before.net, "190.44");
    let entries_before = w.env.repo.get_entries(ACME, &invoice_key).await.unwrap();

    // The same invoice in the Reconciliation feed: its two products and its shipping.
    let seed = json!({"invoices": [{
        "invoice_number": "1QX7ZK4MPL2T", "invoice_date": "2025-11-14T10:00:00Z", "feed_date": "2025-11-15T04:00:00Z",
        "order_id": "114-5521907-3318242", "currency": "USD",
        "payment": {"status": "Issued", "due_date": "2025-12-14T00:00:00Z"},
        "lines": [
            {"asin": "B07QXV6N1B", "title": "Paper", "quantity": 3, "unit_price": "12.49", "tax_rate": "9"},
            {"asin": "B09HMV9KQ2", "title": "Monitor arm", "quantity": 1, "unit_price": "129.00", "tax_rate": "9"},
            {"asin": "SHIPPING", "title": "Shipping", "quantity": 1, "unit_price": "0", "tax_rate": "0", "shipping": "8.99"}
        ]
    }]});
    w.seed(&token, seed).await;
    let r = w.pass(ACME).await;
    assert_eq!((r.invoices_new, r.invoices_completed, r.flagged), (0, 1, 0), "{r:?}");

    let after = w.env.repo.get_invoice(ACME, &invoice_key).await.unwrap().unwrap();
    assert_eq!(after.content_sha256, before.content_sha256, "still the cXML invoice");
    let p = after.purchase.expect("completed with the filing and the payment status");
    assert_eq!(
        (p.payment_status, p.due_date.as_deref()),
        (Some(invoice_domain::import::answer::PaymentStatus::Issued), Some("2025-12-14"))
    );
    let lines = w.env.repo.get_lines(ACME, &invoice_key).await.unwrap();
    assert_eq!(lines.len(), 3, "the shipping line it lacked was added, the two it had were not repeated");
    let entries_after = w.env.repo.get_entries(ACME, &invoice_key).await.unwrap();
    assert_eq!(entries_after.len(), entries_before.len(), "booked once");
    assert_eq!(
        w.env.repo.pdf_task(ACME, &invoice_key).await.unwrap().map(|t| t.invoice_key),
        Some(invoice_key.clone()),
        "its PDF is requested"
    );

    // Different amounts: flagged, both versions kept, nothing booked.
    let w2 = World::new(fast_emulator()).await;
    let token2 = w2.connect(ACME).await;
    let key2 = format!("incoming/{ACME}/{}.xml", unique("ab"));
    w2.env.put(&key2, integration_tests::fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    ingest_cxml::handle(&w2.env.deps(None), w2.env.event(&[&key2])).await.expect("ingested");
    w2.seed(
        &token2,
        json!({"invoices": [{"invoice_number": "1QX7ZK4MPL2T", "invoice_date": "2025-11-14T10:00:00Z", "currency": "USD",
        "lines": [{"asin": "B07QXV6N1B", "quantity": 3, "unit_price": "13.49", "tax_rate": "9"}]}]}),
    )
    .await;
    let r2 = w2.pass(ACME).await;
    assert_eq!((r2.invoices_new, r2.invoices_completed, r2.flagged), (0, 0, 1), "{r2:?}");
    let issues = w2.env.repo.issues(ACME, 10).await.unwrap();
    let flag = issues.iter().find(|i| i.problem.code.as_str() == "totals-differ").expect("flagged for a person");
    assert_eq!(flag.stored_total.as_deref(), Some("190.44 USD"));
    assert!(flag.archived_key.as_ref().is_some_and(|k| !k.is_empty()));
    assert!(w2.env.get(flag.archived_key.as_ref().unwrap()).await.is_some(), "the import's version is kept");
}

#[tokio::test]
async fn a_credit_memo_reverses_its_invoice() {
    let w = World::new(fast_emulator()).await;
    let token = w.connect(ACME).await;
    w.seed(
        &token,
        json!({"invoices": [{
            "invoice_number": "INV-CM-1", "invoice_date": "2025-04-02T10:00:00Z", "feed_date": "2025-04-03T04:00:00Z", "currency": "EUR",
            "lines": [{"order_line_item_id": "OLI-1", "asin": "B000000001", "quantity": 2, "unit_price": "50.00", "tax_rate": "20"}],
            "credit_memos": [{"invoice_number": "CM-0001", "invoice_date": "2025-04-10T10:00:00Z", "feed_date": "2025-04-11T04:00:00Z"}]
        }]}),
    )
    .await;
    let r = w.pass(ACME).await;
    assert_eq!((r.invoices_new, r.credit_memos), (2, 1), "{r:?}");
    let inv = w.env.repo.get_invoice(ACME, &imported_invoice_key("INV-CM-1")).await.unwrap().unwrap();
    let memo = w.env.repo.get_invoice(ACME, &imported_invoice_key("CM-0001")).await.unwrap().unwrap();
    assert_eq!(inv.net, "120.00");
    assert_eq!(memo.net, "-120.00", "a credit memo's amounts are negative");
    let p = memo.purchase.unwrap();
    assert_eq!((p.kind, p.reverses.as_deref()), (PurchaseKind::CreditMemo, Some("INV-CM-1")));
    // Its journal is the invoice's, sides swapped.
    let side_of = |entries: &[invoice_domain::invoice::records::EntryRecord]| {
        let mut v: Vec<(String, String, String)> =
            entries.iter().map(|e| (e.line.account.clone(), format!("{:?}", e.line.side), e.line.amount.amount_string())).collect();
        v.sort();
        v
    };
    let swap = |s: &str| if s == "Debit" { "Credit".to_string() } else { "Debit".to_string() };
    let inv_entries = side_of(&w.env.repo.get_entries(ACME, &inv.invoice_key).await.unwrap());
    let memo_entries = side_of(&w.env.repo.get_entries(ACME, &memo.invoice_key).await.unwrap());
    let mut swapped: Vec<(String, String, String)> = inv_entries.into_iter().map(|(a, s, m)| (a, swap(&s), m)).collect();
    swapped.sort();
    assert_eq!(memo_entries, swapped);
}

#[tokio::test]
async fn pdfs_arrive_over_two_runs_under_the_document_rate() {
    // The document operations at one every 4 s, burst 5 (Amazon's: one a minute, burst 15).
    let emu = spapi_emulator::Config {
        create_report_rate: 0.25,
        create_report_burst: 5.0,
        get_report_document_rate: 0.25,
        get_report_document_burst: 5.0,
        ..fast_emulator()
    };
    let mut w = World::new(emu).await;
    w.tenancy.business_report_plans(invoice_spapi::rate::Plan { rate: 0.25, burst: 5 }, Duration::from_millis(500));
    let token = w.connect(ACME).await;
    w.seed(&token, json!({"generate": {"count": 6, "from": "2025-05-01", "days": 1, "lines": 1, "prefix": "PDF-"}})).await;
    let r = w.pass(ACME).await;
    assert_eq!((r.invoices_new, r.pdfs_pending), (6, 6));
    // Usable before the PDFs: "PDF pending".
    let key = imported_invoice_key("PDF-0000001");
    assert!(w.env.repo.get_invoice(ACME, &key).await.unwrap().unwrap().documents.is_empty());

    let first = w.pdfs(ACME, Duration::from_secs(10)).await;
    assert!(first.pdfs_stored >= 1 && first.pdfs_stored < 6, "the burst, not all: {first:?}");
    assert_eq!(first.pdfs_pending as usize, 6 - first.pdfs_stored as usize);

    tokio::time::sleep(Duration::from_secs(4)).await;
    let second = w.pdfs(ACME, Duration::from_secs(60)).await;
    assert_eq!(first.pdfs_stored + second.pdfs_stored, 6, "{first:?} {second:?}");
    assert_eq!(second.pdfs_pending, 0);
    let stats = w.stats().await;
    assert_eq!(stats["create_report"]["429"].as_u64().unwrap_or(0), 0, "never over the plan: {stats}");
    assert_eq!(stats["get_report_document"]["429"].as_u64().unwrap_or(0), 0, "never over the plan: {stats}");
    for n in numbers("PDF-", 6) {
        let inv = w.env.repo.get_invoice(ACME, &imported_invoice_key(&n)).await.unwrap().unwrap();
        assert_eq!(inv.documents.len(), 1, "{n}");
        let pdf = w.env.get(&inv.documents[0]).await.expect("stored");
        assert!(pdf.starts_with(b"%PDF"), "{n}");
    }
}

#[tokio::test]
async fn revoked_consent_stops_only_that_company() {
    let w = World::new(fast_emulator()).await;
    let revoked = w.connect(ACME).await;
    let fine = w.connect(integration_tests::GLOBEX).await;
    w.seed(&revoked, json!({"generate": {"count": 3, "from": "2025-06-01", "days": 1, "lines": 1, "prefix": "RV-"}})).await;
    w.seed(&fine, json!({"generate": {"count": 3, "from": "2025-06-01", "days": 1, "lines": 1, "prefix": "OK-"}})).await;
    let resp =
        reqwest::Client::new().post(format!("{}/_emulator/revoke", w.base)).json(&json!({"refresh_token": revoked})).send().await.unwrap();
    assert!(resp.status().is_success());

    let a = w.pass(ACME).await;
    assert!(matches!(a.end, Some(PassEnd::NotAuthorized(_))), "{a:?}");
    assert_eq!(a.invoices_new, 0);
    let c = w.env.companies.get(ACME).await.unwrap().unwrap();
    let conn = c.business.unwrap();
    assert_eq!(conn.status, invoice_domain::company::ConnectionStatus::NotAuthorized);
    assert!(conn.status_reason.is_some_and(|r| !r.is_empty()));
    let (cursor, _) = w.env.repo.cursor(ACME).await.unwrap();
    assert_eq!(cursor.watermark, None, "the watermark did not move");

    let g = w.pass(integration_tests::GLOBEX).await;
    assert_eq!((g.end, g.invoices_new), (Some(PassEnd::Finished), 3));

    // The next daily run leaves it out; a pass asked for anyway does not call Amazon.
    let all = w.env.companies.list().await.unwrap();
    let due: Vec<String> = invoice_domain::import::schedule::daily_messages(&all, "today").into_iter().map(|m| m.company).collect();
    assert!(!due.contains(&ACME.to_string()) && due.contains(&integration_tests::GLOBEX.to_string()), "{due:?}");
    let before = w.stats().await;
    let again = w.pass(ACME).await;
    assert!(matches!(again.end, Some(PassEnd::NotAuthorized(_))));
    assert_eq!(w.stats().await["get_transactions"], before["get_transactions"], "no call for a stopped connection");
}

/// Peak resident memory of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// `bash bench/import-load.sh [N] [PAGE]`: a company with N invoices (default 5,000) in its
/// window, imported in one pass against the emulator enforcing the Reconciliation plans
/// (2 rps, burst 10 per operation). Prints the wall time, the requests per operation, the 429s
/// and the peak memory.
#[tokio::test]
#[ignore = "load figure: bench/import-load.sh"]
async fn import_load() {
    let n: u32 = std::env::var("IMPORT_LOAD_N").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let page: usize = std::env::var("IMPORT_LOAD_PAGE").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let w = World::new(spapi_emulator::Config { transactions_page_size: page, ..fast_emulator() }).await;
    let token = w.connect(ACME).await;
    w.seed(
        &token,
        json!({"generate": {"count": n, "from": "2025-02-01", "days": 60, "lines": 1, "prefix": "LD-", "credit_memo_every": 50}}),
    )
    .await;
    let rss_before = peak_rss_kib();
    let started = std::time::Instant::now();
    let runner = ImportRunner { tenancy: &w.tenancy, state: &w.env.repo, config: import_config() };
    let r = runner.pass(ACME, None, &DeadlineClock::budget(Duration::from_secs(3_600))).await.expect("pass");
    let wall = started.elapsed();
    assert_eq!(r.end, Some(PassEnd::Finished), "{r:?}");
    let expected = n + n / 50;
    assert_eq!(r.invoices_new, expected, "every invoice and credit memo once: {r:?}");
    let stats = w.stats().await;
    let count = |op: &str, status: &str| stats[op][status].as_u64().unwrap_or(0);
    let throttled: u64 = ["get_transactions", "get_invoice_details", "get_payment_details"].iter().map(|op| count(op, "429")).sum();
    println!(
        "IMPORT load: {expected} invoices ({n} + {} credit memos), pages of {page}: {:.1} s wall, {:.1} invoices/s; requests {:?}; 429s {throttled}; peak RSS {} MiB (before the pass {} MiB)",
        n / 50,
        wall.as_secs_f64(),
        f64::from(expected) / wall.as_secs_f64(),
        r.requests,
        peak_rss_kib() / 1024,
        rss_before / 1024
    );
    assert_eq!(throttled, 0, "within the plans: {stats}");
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue().queue_name(unique(name)).send().await.expect("create queue").queue_url().unwrap().to_string()
}

async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let out = sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await.expect("receive");
    out.messages().to_vec()
}

#[tokio::test]
async fn the_daily_schedule_queues_one_pass_per_company_and_the_worker_imports_it_with_its_pdfs() {
    use invoice_adapters::sqs::SqsQueue;
    let w = World::new(fast_emulator()).await;
    let acme = w.connect(ACME).await;
    let globex = w.connect(integration_tests::GLOBEX).await;
    w.seed(&acme, json!({"generate": {"count": 4, "from": "2025-07-01", "days": 1, "lines": 2, "prefix": "SQ-"}})).await;
    w.seed(&globex, json!({"generate": {"count": 2, "from": "2025-07-01", "days": 1, "lines": 1, "prefix": "GX-"}})).await;
    // Globex turned automatic import off.
    let off = invoice_domain::import::ImportSettings { auto_import: false, ..Default::default() };
    w.env.companies.set_business_import(integration_tests::GLOBEX, &off).await.unwrap();

    let conf = invoice_adapters::sdk_config().await;
    let sqs = invoice_adapters::sqs::sqs_client(&conf);
    let (import_url, pdf_url) = (queue(&sqs, "import").await, queue(&sqs, "pdfs").await);
    let queues = import_company::Queues { import: SqsQueue::new(sqs.clone(), &import_url), pdfs: SqsQueue::new(sqs.clone(), &pdf_url) };
    let run = import_schedule::run(&w.env.companies, &queues.import, "2026-12-02").await.expect("schedule");
    assert_eq!(run.queued, vec![ACME.to_string()]);
    assert!(run.skipped.iter().any(|(c, why)| c == integration_tests::GLOBEX && why.contains("off")), "{:?}", run.skipped);

    let msgs = receive(&sqs, &import_url).await;
    assert_eq!(msgs.len(), 1);
    let runner = ImportRunner { tenancy: &w.tenancy, state: &w.env.repo, config: import_config() };
    let clock = DeadlineClock::budget(Duration::from_secs(60));
    let out = import_company::handle(&runner, &queues, integration_tests::sqs_event_of(&msgs), &clock).await;
    assert!(out.batch_item_failures.is_empty(), "{:?}", out.batch_item_failures);
    assert_eq!(w.imported(ACME, &numbers("SQ-", 4)).await.len(), 4);
    assert!(w.imported(integration_tests::GLOBEX, &numbers("GX-", 2)).await.is_empty(), "auto import off");

    // Its PDFs were queued on the paced queue; the worker fetches them.
    let pdf_msgs = receive(&sqs, &pdf_url).await;
    assert_eq!(pdf_msgs.len(), 1);
    assert!(pdf_msgs[0].body().unwrap().contains("\"pdfs\""));
    let out = import_company::handle(&runner, &queues, integration_tests::sqs_event_of(&pdf_msgs), &clock).await;
    assert!(out.batch_item_failures.is_empty());
    for n in numbers("SQ-", 4) {
        let inv = w.env.repo.get_invoice(ACME, &imported_invoice_key(&n)).await.unwrap().unwrap();
        assert_eq!(inv.documents.len(), 1, "{n}: its PDF linked");
    }
    assert!(receive(&sqs, &pdf_url).await.is_empty(), "nothing left to fetch: no new PDF message");
}

/// The PO fixture under another number, placed through place-order's handler (one SQS
/// record, as the event source mapping hands it) at the emulator and recorded with its Amazon
/// order id, which it returns.
async fn place_po(w: &World, number: &str) -> String {
    use invoice_domain::ordering::ports::PoRepository;
    let text = String::from_utf8(integration_tests::fixture("po/po-4711.json")).unwrap().replace("PO-4711", number);
    let po: Value = serde_json::from_str(&text).unwrap();
    let mut ev = aws_lambda_events::event::sqs::SqsEvent::default();
    let mut msg = aws_lambda_events::event::sqs::SqsMessage::default();
    msg.message_id = Some(unique("msg"));
    msg.body = Some(json!({"company": ACME, "po": po}).to_string());
    ev.records.push(msg);
    let resp = place_order::handle(&w.tenancy, ev, chrono::Utc::now()).await;
    assert!(resp.batch_item_failures.is_empty(), "{number} placed");
    let pos = invoice_adapters::ordering::DynamoPoRepo::new(w.env.ddb.clone(), w.env.table.clone(), ACME);
    let rec = pos.get(number).await.unwrap().expect("recorded");
    assert_eq!(rec.state, invoice_domain::ordering::records::PoState::Placed, "{rec:?}");
    assert_eq!(rec.amazon_order_ids.len(), 1, "{rec:?}");
    rec.amazon_order_ids[0].clone()
}

/// An Amazon Business invoice of the Amazon order, billing PO `po`'s two lines (PO-4711's:
/// 2 × B000000001 at `price`, 1 × B0000000T2 at 89.99), 8 % tax as Amazon accepted it. The
/// order line ids fix the lines' numbers (the import numbers them by order line).
fn po_invoice(number: &str, amazon_order: &str, po: &str, price: &str) -> Value {
    json!({
        "invoice_number": number, "invoice_date": "2025-11-14T10:00:00Z", "feed_date": "2025-11-15T04:00:00Z",
        "order_id": amazon_order, "currency": "USD",
        "lines": [
            {"order_line_item_id": "OLI-1", "asin": "B000000001", "title": "Copy paper", "quantity": 2, "unit_price": price, "tax_rate": "8",
             "purchase_order_number": po, "purchase_order_line_item_id": "10", "business_order_info": {"GL code": "6064"}},
            {"order_line_item_id": "OLI-2", "asin": "B0000000T2", "title": "Toner", "quantity": 1, "unit_price": "89.99", "tax_rate": "8",
             "purchase_order_number": po, "purchase_order_line_item_id": "20", "business_order_info": {"GL code": "6064"}}
        ]
    })
}

#[tokio::test]
async fn imported_invoices_are_matched_against_their_pos() {
    use invoice_domain::matching::{MatchCode, MatchStatus};
    let w = World::new(fast_emulator()).await;
    let token = w.connect(ACME).await;
    let mut company = w.env.companies.get(ACME).await.unwrap().unwrap();
    let mut conn = company.business.take().unwrap();
    conn.import.gl_key = Some("GL code".into());
    w.env.companies.set_business_connection(ACME, &conn).await.unwrap();
    let exact_order = place_po(&w, "PO-M1").await;
    let dearer_order = place_po(&w, "PO-M2").await;
    // PO-M3's order reaches Amazon after its invoice is imported.
    w.seed(
        &token,
        json!({"invoices": [
            po_invoice("ABM-0001", &exact_order, "PO-M1", "60.00"),
            po_invoice("ABM-0002", &dearer_order, "PO-M2", "66.00"),
            po_invoice("ABM-0003", "113-0000000-0000003", "PO-M3", "60.00"),
        ]}),
    )
    .await;
    let r = w.pass(ACME).await;
    assert_eq!((r.end.clone(), r.invoices_new), (Some(PassEnd::Finished), 3), "{r:?}");

    // At its PO's prices and quantities: Matched, line by line.
    let exact = w.env.repo.invoice(ACME, &imported_invoice_key("ABM-0001")).await.unwrap().unwrap();
    let m = exact.matching.clone().expect("matched at import");
    assert_eq!((m.status, m.po_number.as_deref()), (MatchStatus::Matched, Some("PO-M1")), "{m:?}");
    assert_eq!(m.lines.iter().map(|l| l.po_line.as_deref()).collect::<Vec<_>>(), vec![Some("10"), Some("0020")]);
    // It keeps its own GL coding (businessOrderInfo), not the PO's distributions.
    let accounts: Vec<String> =
        w.env.repo.get_entries(ACME, &exact.invoice_key).await.unwrap().iter().map(|e| e.line.account.clone()).collect();
    assert!(accounts.iter().any(|a| a.contains("6064")) && !accounts.iter().any(|a| a.contains("6100")), "{accounts:?}");

    // A higher price: an exception naming the line, both prices and the difference.
    let dearer = w.env.repo.invoice(ACME, &imported_invoice_key("ABM-0002")).await.unwrap().unwrap().matching.unwrap();
    assert_eq!((dearer.status, dearer.po_number.as_deref()), (MatchStatus::Exception, Some("PO-M2")), "{dearer:?}");
    let e = dearer.exceptions.iter().find(|e| e.code == MatchCode::PriceVariance).unwrap_or_else(|| panic!("{dearer:?}"));
    assert_eq!((e.line.as_deref(), e.expected.as_deref(), e.found.as_deref()), (Some("1"), Some("60.00 USD"), Some("66.00 USD")), "{e:?}");
    assert!(e.message.contains("unit price 66.00 USD, but Amazon accepted 60.00 USD (difference +6.00 USD"), "{}", e.message);

    // Its PO not recorded yet: no-po, waiting for it.
    let early = w.env.repo.invoice(ACME, &imported_invoice_key("ABM-0003")).await.unwrap().unwrap().matching.unwrap();
    assert_eq!(early.codes(), vec![MatchCode::NoPo], "{early:?}");

    let months = integration_tests::all_months();
    let keys = |v: Vec<invoice_domain::invoice::records::InvoiceRecord>| {
        let mut k: Vec<String> = v.into_iter().map(|i| i.invoice_key).collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(w.env.repo.invoices_by_match(ACME, MatchStatus::Matched, &months, 10).await.unwrap()),
        vec![imported_invoice_key("ABM-0001")]
    );
    assert_eq!(
        keys(w.env.repo.invoices_by_match(ACME, MatchStatus::Exception, &months, 10).await.unwrap()),
        vec![imported_invoice_key("ABM-0002"), imported_invoice_key("ABM-0003")]
    );

    // A second run imports nothing and matches nothing twice: the same outcomes.
    let again = w.pass(ACME).await;
    assert_eq!((again.invoices_new, again.already_stored), (0, 0), "{again:?}");
    assert_eq!(w.env.repo.invoice(ACME, &imported_invoice_key("ABM-0001")).await.unwrap().unwrap().matching, Some(m));

    // PO-M3 is recorded (placed under the number the invoice names): the imported invoice is
    // matched again from its stored lines, by its PO number; its journal is left as imported.
    let entries_before = w.env.repo.get_entries(ACME, &imported_invoice_key("ABM-0003")).await.unwrap();
    place_po(&w, "PO-M3").await;
    let late = w.env.repo.invoice(ACME, &imported_invoice_key("ABM-0003")).await.unwrap().unwrap().matching.unwrap();
    assert_eq!((late.status, late.po_number.as_deref()), (MatchStatus::Matched, Some("PO-M3")), "{late:?}");
    assert_eq!(w.env.repo.get_entries(ACME, &imported_invoice_key("ABM-0003")).await.unwrap(), entries_before, "not re-booked");
    assert_eq!(
        keys(w.env.repo.invoices_by_match(ACME, MatchStatus::Exception, &months, 10).await.unwrap()),
        vec![imported_invoice_key("ABM-0002")]
    );
}
