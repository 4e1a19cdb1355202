//! Two companies on one deployment, through the real submit-vendor-invoice handler with the
//! real tenancy (companies in DynamoDB Local, refresh tokens in moto's Secrets Manager, the
//! shared GCRA state in DynamoDB) against the SP-API emulator's per-selling-partner buckets:
//! each company gets its own 10 rps, and a revoked token stops only its company.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use integration_tests::{emulator_config, seed_bundle, start_emulator, vendor_bundle, Env, ACME, GLOBEX};
use invoice_domain::company::ConnectionStatus;
use invoice_domain::vendor::records::InvoiceState;
use invoice_wiring::Tenancy;

const ACME_TOKEN: &str = "Atzr|acme-tenant-test-token";
const GLOBEX_TOKEN: &str = "Atzr|globex-tenant-test-token";

struct Rig {
    env: Env,
    tenancy: Arc<Tenancy>,
    emu: String,
    http: reqwest::Client,
}

async fn rig() -> Rig {
    let env = Env::new().await;
    let emu = start_emulator(spapi_emulator::Config::default()).await;
    let mut cfg = emulator_config(&emu);
    cfg.backoff_base = Duration::from_millis(20);
    env.connect_vendor(ACME, ACME_TOKEN).await;
    env.connect_vendor(GLOBEX, GLOBEX_TOKEN).await;
    let tenancy = Arc::new(env.tenancy(cfg));
    Rig { env, tenancy, emu, http: reqwest::Client::new() }
}

fn event(company: &str, order_ids: &[String]) -> SqsEvent {
    let mut ev = SqsEvent::default();
    for id in order_ids {
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("{company}-{id}"));
        // The order id as a JSON number, as ERPs send it.
        m.body = Some(serde_json::json!({"company": company, "order_id": id.parse::<u64>().unwrap()}).to_string());
        ev.records.push(m);
    }
    ev
}

impl Rig {
    async fn seed(&self, company: &str, ids: &[String]) {
        let repo = self.env.vendor_repo(company);
        let b = vendor_bundle("v01-shipped-order.json");
        for id in ids {
            seed_bundle(&repo, &b, id, "ACC-1").await;
        }
    }

    async fn recordings(&self) -> Vec<serde_json::Value> {
        self.http.get(format!("{}/_emulator/requests", self.emu)).send().await.unwrap().json().await.unwrap()
    }
}

fn partner(token: &str) -> String {
    spapi_emulator::Config::default().partner_of(token).unwrap()
}

/// Accepted submissions per second of one partner after its burst (from the emulator's own
/// timestamps), and how many of its requests were throttled.
fn sustained_rate(recorded: &[serde_json::Value], partner: &str, burst: usize) -> (usize, f64, usize) {
    let mine: Vec<&serde_json::Value> = recorded.iter().filter(|r| r["operation"] == "submit" && r["partner"] == partner).collect();
    let throttled = mine.iter().filter(|r| r["status"] == 429).count();
    let mut at: Vec<chrono::DateTime<chrono::Utc>> = mine
        .iter()
        .filter(|r| r["status"] == 202)
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap().to_utc())
        .collect();
    at.sort();
    let n = at.len();
    let span = (at[n - 1] - at[burst - 1]).num_milliseconds() as f64 / 1000.0;
    (n, (n - burst) as f64 / span.max(0.001), throttled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_companies_at_once_each_get_their_own_ten_requests_per_second() {
    let r = rig().await;
    let acme: Vec<String> = (0..40).map(|i| format!("{}", 810_000 + i)).collect();
    let globex: Vec<String> = (0..40).map(|i| format!("{}", 820_000 + i)).collect();
    r.seed(ACME, &acme).await;
    r.seed(GLOBEX, &globex).await;
    // Four concurrent "Lambda instances" per company, ten messages each, all at once.
    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for (company, ids) in [(ACME, &acme), (GLOBEX, &globex)] {
        for chunk in ids.chunks(10) {
            let (t, ev) = (r.tenancy.clone(), event(company, chunk));
            runs.spawn(async move { submit_vendor_invoice::handle(&*t, ev, chrono::Utc::now()).await });
        }
    }
    while let Some(resp) = runs.join_next().await {
        assert!(resp.unwrap().batch_item_failures.is_empty());
    }
    let wall = started.elapsed().as_secs_f64();
    let recorded = r.recordings().await;
    for (company, token) in [(ACME, ACME_TOKEN), (GLOBEX, GLOBEX_TOKEN)] {
        // The client paces at ≈ 9.7 rps with a burst of 8.
        let (accepted, rate, throttled) = sustained_rate(&recorded, &partner(token), 8);
        assert_eq!(accepted, 40, "{company}");
        assert_eq!(throttled, 0, "{company}: zero 429s");
        assert!(rate >= 8.0, "{company}: {rate:.2} rps sustained");
        eprintln!("{company}: {accepted} accepted, {rate:.2} rps sustained after the burst, {throttled} × 429");
    }
    // One shared 10 rps for both would need ≥ 7 s for 80 submissions.
    assert!(wall < 6.5, "both companies done in {wall:.1} s: they did not wait for each other");
    for (company, ids) in [(ACME, &acme), (GLOBEX, &globex)] {
        let repo = r.env.vendor_repo(company);
        for id in ids.iter().take(3) {
            assert_eq!(repo.invoice(id).await.unwrap().unwrap().status, InvoiceState::Pending, "{company} {id}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_stops_only_its_company_and_is_never_an_order_error() {
    let r = rig().await;
    let acme: Vec<String> = (0..5).map(|i| format!("{}", 830_000 + i)).collect();
    let globex: Vec<String> = (0..5).map(|i| format!("{}", 840_000 + i)).collect();
    r.seed(ACME, &acme).await;
    r.seed(GLOBEX, &globex).await;
    let revoked =
        r.http.post(format!("{}/_emulator/revoke", r.emu)).json(&serde_json::json!({"refresh_token": ACME_TOKEN})).send().await.unwrap();
    assert!(revoked.status().is_success());

    // One batch with both companies' orders, twice (a redelivery).
    let mut ev = event(ACME, &acme);
    ev.records.extend(event(GLOBEX, &globex).records);
    let resp = submit_vendor_invoice::handle(&*r.tenancy, ev.clone(), chrono::Utc::now()).await;
    let mut failed: Vec<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    failed.sort();
    let expected: Vec<String> = acme.iter().map(|id| format!("{ACME}-{id}")).collect();
    assert_eq!(failed, expected, "acme's messages return to the queue; globex's went through");
    let again = submit_vendor_invoice::handle(&*r.tenancy, ev, chrono::Utc::now()).await;
    assert_eq!(again.batch_item_failures.len(), 5);

    let acme_repo = r.env.vendor_repo(ACME);
    for id in &acme {
        assert!(acme_repo.invoice(id).await.unwrap().is_none(), "claim released, nothing recorded for {id}");
        assert!(acme_repo.order_errors(id).await.unwrap().is_empty(), "never an Order Error for {id}");
    }
    let globex_repo = r.env.vendor_repo(GLOBEX);
    for id in &globex {
        assert_eq!(globex_repo.invoice(id).await.unwrap().unwrap().status, InvoiceState::Pending, "{id}");
    }
    let conn = r.env.companies.get(ACME).await.unwrap().unwrap().vendor.unwrap();
    assert_eq!(conn.status, ConnectionStatus::NotAuthorized);
    let reason = conn.status_reason.unwrap_or_default();
    assert!(reason.contains("invalid_grant"), "{reason}");
    assert!(!reason.contains(ACME_TOKEN), "the token is never in the record");
    assert_eq!(r.env.companies.get(GLOBEX).await.unwrap().unwrap().vendor.unwrap().status, ConnectionStatus::Connected);

    // No hot loop: ten acme messages over two deliveries asked LWA once (the cool-down).
    let recorded = r.recordings().await;
    let acme_token_requests = recorded.iter().filter(|x| x["operation"] == "token" && x["status"] == 400).count();
    assert_eq!(acme_token_requests, 1, "LWA asked once for the revoked token");
    let acme_submits = recorded.iter().filter(|x| x["operation"] == "submit" && x["partner"] == partner(ACME_TOKEN)).count();
    assert_eq!(acme_submits, 0, "nothing sent for acme");
}
