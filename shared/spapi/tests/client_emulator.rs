//! The SP-API client against the project's emulator (a real HTTP server that validates every
//! body against the official model): tokens, pacing, retries, unknown outcomes, selling
//! partners (own rate limits, revoked authorisations), and every mapping fixture validating
//! against the official schema.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use invoice_domain::vendor::body::SubmitInvoicesRequest;
use invoice_domain::vendor::mapping::map_invoice;
use invoice_domain::vendor::ports::{InvoiceApi, SubmitResult, TransactionApi, TxStatus};
use invoice_domain::vendor::records::Bundle;
use invoice_spapi::{Class, Client, Config, Credentials, LocalSlots, SlotStore, SpApiError, TransactionState, DEFAULT_PARTNER};

struct Emu {
    base: String,
    http: reqwest::Client,
}

async fn emulator(cfg: spapi_emulator::Config) -> Emu {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(spapi_emulator::serve(listener, spapi_emulator::App::new(cfg)));
    Emu { base, http: reqwest::Client::new() }
}

impl Emu {
    fn config(&self) -> Config {
        let mut c = Config::for_region("na").unwrap();
        c.endpoint = self.base.clone();
        c.lwa_endpoint = format!("{}/auth/o2/token", self.base);
        c.backoff_base = Duration::from_millis(20);
        c.request_timeout = Duration::from_secs(2);
        c
    }
    fn client(&self) -> Client<LocalSlots> {
        Client::new(self.config(), creds(), DEFAULT_PARTNER, LocalSlots::default()).unwrap()
    }
    /// A client of another selling partner (its own refresh token and partner key).
    fn partner_client<S: SlotStore>(&self, refresh_token: &str, partner: &str, config: Config, slots: S) -> Client<S> {
        let credentials = Credentials { refresh_token: refresh_token.into(), ..creds() };
        Client::new(config, credentials, partner, slots).unwrap()
    }
    async fn revoke(&self, refresh_token: &str, revoked: bool) {
        let doc = serde_json::json!({"refresh_token": refresh_token, "revoked": revoked});
        let r = self.http.post(format!("{}/_emulator/revoke", self.base)).json(&doc).send().await.unwrap();
        assert!(r.status().is_success());
    }
    async fn faults(&self, v: serde_json::Value) {
        let r = self.http.post(format!("{}/_emulator/faults", self.base)).json(&v).send().await.unwrap();
        assert!(r.status().is_success());
    }
    /// SP-API calls received (LWA token requests left out).
    async fn requests(&self) -> Vec<serde_json::Value> {
        let all: Vec<serde_json::Value> =
            self.http.get(format!("{}/_emulator/requests", self.base)).send().await.unwrap().json().await.unwrap();
        all.into_iter().filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/vendor/"))).collect()
    }
    async fn stats(&self) -> serde_json::Value {
        self.http.get(format!("{}/_emulator/stats", self.base)).send().await.unwrap().json().await.unwrap()
    }
}

fn creds() -> Credentials {
    Credentials {
        client_id: spapi_emulator::DEFAULT_CLIENT_ID.into(),
        client_secret: spapi_emulator::DEFAULT_CLIENT_SECRET.into(),
        refresh_token: spapi_emulator::DEFAULT_REFRESH_TOKEN.into(),
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor")
}

fn request(id: &str) -> SubmitInvoicesRequest {
    let mut b: Bundle = serde_json::from_slice(&std::fs::read(fixtures().join("v01-shipped-order.json")).unwrap()).unwrap();
    b.order.id = id.to_string();
    map_invoice(&b).unwrap().request
}

#[test]
fn every_mappable_fixture_validates_against_the_official_model() {
    let validator = spapi_emulator::model::submit_invoices_validator();
    let mut checked = 0;
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let b: Bundle = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
        let mut variants = vec![b.clone()];
        // The rule variants of the mapping tests that still map.
        let mut cases = b.clone();
        cases.order.items[0].unit_of_measure = Some("Cases".into());
        cases.order.items[0].unit_size = Some(6);
        variants.push(cases);
        let mut street2 = b.clone();
        if let Some(s) = street2.sellers.iter_mut().find(|s| s.street1.is_some()) {
            s.street1 = None;
            s.street2 = Some("Suite 1".into());
        }
        variants.push(street2);
        let mut jpy = b.clone();
        jpy.order.currency = "JPY".into();
        variants.push(jpy);
        for v in variants {
            if let Ok(m) = map_invoice(&v) {
                let body = serde_json::to_value(&m.request).unwrap();
                let errs = spapi_emulator::model::violations(&validator, &body);
                assert!(errs.is_empty(), "{}: {errs:?}", v.order.id);
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "{checked}");
}

#[tokio::test]
async fn submit_then_poll_to_success_with_one_cached_token() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let c = emu.client();
    let tx = c.submit_invoices(&request("O-1")).await.unwrap();
    assert!(!tx.is_empty());
    let first = c.get_transaction(&tx).await.unwrap();
    assert_eq!(first.status, TransactionState::Processing);
    let second = c.get_transaction(&tx).await.unwrap();
    assert_eq!(second.status, TransactionState::Success);
    assert_eq!(second.transaction_id, tx);
    assert_eq!(emu.stats().await["token"], 1, "the access token is cached");
    let reqs = emu.requests().await;
    assert_eq!(reqs[0]["invoice_ids"], serde_json::json!(["O-1"]));
    assert!(!serde_json::to_string(&reqs).unwrap().contains("Atza|"), "tokens never recorded");
}

#[tokio::test]
async fn rejected_invoice_reports_amazons_errors() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"reject_invoice_ids": {"O-BAD": [{"code": "INVALID_ORDER_ID", "message": "Invalid order ID."}]}, "processing_polls": 0})).await;
    let c = emu.client();
    let tx = c.submit_invoices(&request("O-BAD")).await.unwrap();
    let t = c.get_transaction(&tx).await.unwrap();
    assert_eq!(t.status, TransactionState::Failure);
    assert_eq!(t.errors[0].code, "INVALID_ORDER_ID");
    assert_eq!(invoice_spapi::ApiError::readable(&t.errors), "INVALID_ORDER_ID: Invalid order ID.");
}

#[tokio::test]
async fn a_400_is_not_retried_and_carries_the_message() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let mut r = request("O-2");
    r.invoices[0].remit_to_party.address.as_mut().unwrap().country_code = "USA".into();
    let e = emu.client().submit_invoices(&r).await.unwrap_err();
    let SpApiError::Http { status, errors, .. } = &e else { panic!("{e:?}") };
    assert_eq!(*status, 400);
    assert!(errors.iter().any(|x| x.message.contains("countryCode")), "{errors:?}");
    assert_eq!(emu.requests().await.len(), 1, "no retry of a 400");
    assert_eq!(e.class(), Class::Rejected);
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_to_success() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"throttle_next": 2, "fail_next": 2, "fail_status": 503})).await;
    let tx = emu.client().submit_invoices(&request("O-3")).await.unwrap();
    assert!(!tx.is_empty());
    let statuses: Vec<u64> = emu.requests().await.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1);
    assert_eq!(statuses.len(), 5, "{statuses:?}");
}

#[tokio::test]
async fn persistent_server_errors_give_up_transiently() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"fail_next": 50})).await;
    let e = emu.client().submit_invoices(&request("O-4")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Http { status: 500, attempts: 4, .. }), "{e:?}");
    assert_eq!(e.class(), Class::RetryLater);
}

#[tokio::test]
async fn a_dropped_connection_after_sending_is_unknown_and_not_resent() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"drop_next": 1})).await;
    let e = emu.client().submit_invoices(&request("O-5")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Lost(_)), "{e:?}");
    assert_eq!(e.class(), Class::Unknown, "an unknown outcome must not be retried blindly");
    assert_eq!(emu.requests().await.len(), 1, "sent once, never again");
}

#[tokio::test]
async fn a_stalled_submission_times_out_as_unknown() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"stall_next": 1})).await;
    let started = Instant::now();
    let e = emu.client().submit_invoices(&request("O-6")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Timeout(_)), "{e:?}");
    assert_eq!(e.class(), Class::Unknown);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn polling_survives_a_dropped_connection() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let c = emu.client();
    let tx = c.submit_invoices(&request("O-7")).await.unwrap();
    emu.faults(serde_json::json!({"drop_next": 1})).await;
    assert_eq!(c.get_transaction(&tx).await.unwrap().transaction_id, tx, "a GET is safely retried");
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error_without_the_secret() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let mut cfg = Config::for_region("na").unwrap();
    cfg.endpoint = emu.base.clone();
    cfg.lwa_endpoint = format!("{}/auth/o2/token", emu.base);
    let mut bad = creds();
    bad.client_secret = "wrong-secret-value".into();
    let c = Client::new(cfg, bad, DEFAULT_PARTNER, LocalSlots::default()).unwrap();
    let e = c.submit_invoices(&request("O-8")).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, SpApiError::Lwa { status: Some(401), .. }) && text.contains("invalid_client"), "{text}");
    assert_eq!(e.class(), Class::NotAuthorized);
    assert!(emu.requests().await.is_empty(), "nothing sent to SP-API");
    assert!(!text.contains("wrong-secret-value") && !format!("{:?}", creds()).contains("local-client-secret"));
}

#[tokio::test]
async fn thirty_submissions_at_once_are_paced_without_a_single_429() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let c = std::sync::Arc::new(emu.client());
    let started = Instant::now();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.submit_invoices(&request(&format!("P-{i}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    let stats = emu.stats().await;
    assert_eq!(stats["submit"]["202"], 30);
    assert!(stats["submit"].get("429").is_none(), "{stats}");
    // Burst 8 then ~9.7/s: 22 paced requests take ≥ 2.2 s.
    assert!(elapsed >= Duration::from_millis(2100), "{elapsed:?}");
}

#[tokio::test]
async fn a_business_rule_400_carries_amazons_own_errors() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"invalid_invoice_ids": {"O-9": [{"code": "InvalidInput", "message": "The purchase order 3DY3TK6T is closed.", "details": ""}]}})).await;
    let e = emu.client().submit_invoices(&request("O-9")).await.unwrap_err();
    let SpApiError::Http { status: 400, errors, .. } = &e else { panic!("{e:?}") };
    assert_eq!(errors[0].message, "The purchase order 3DY3TK6T is closed.");
    assert!(emu.client().submit_invoices(&request("O-10")).await.is_ok(), "other invoices unaffected");
}

#[tokio::test]
async fn a_gateway_timeout_is_unknown_for_a_submission_and_retried_for_a_poll() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let c = emu.client();
    emu.faults(serde_json::json!({"fail_next": 1, "fail_status": 504})).await;
    let e = c.submit_invoices(&request("O-11")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Http { status: 504, .. }), "{e:?}");
    assert_eq!(e.class(), Class::Unknown);
    assert_eq!(emu.requests().await.len(), 1, "never resent");
    let tx = c.submit_invoices(&request("O-12")).await.unwrap();
    emu.faults(serde_json::json!({"fail_next": 1, "fail_status": 502})).await;
    assert_eq!(c.get_transaction(&tx).await.unwrap().transaction_id, tx);
}

#[tokio::test]
async fn lwa_server_errors_are_retried_and_then_transient_never_not_authorised() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"lwa_fail_next": 2})).await;
    let c = emu.client();
    assert!(c.submit_invoices(&request("O-13")).await.is_ok());
    assert_eq!(emu.stats().await["token_status"], serde_json::json!({"200": 1, "500": 2}));

    emu.faults(serde_json::json!({"lwa_fail_next": 50})).await;
    let fresh = emu.client();
    let r = fresh.submit(&request("O-14")).await;
    assert!(matches!(r, SubmitResult::Transient(ref m) if m.contains("server_error")), "{r:?}");
    assert!(matches!(fresh.transaction("tx").await, TxStatus::Unavailable(_)));
}

const TOKEN_A: &str = "Atzr|company-a";
const TOKEN_B: &str = "Atzr|company-b";

fn emulator_partner(token: &str) -> String {
    spapi_emulator::Config::default().partner_of(token).unwrap()
}

#[tokio::test]
async fn a_refused_access_token_is_refreshed_once() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let c = emu.partner_client(TOKEN_A, "company-a", emu.config(), LocalSlots::default());
    c.submit_invoices(&request("R-1")).await.unwrap();
    // Revoked and reinstated: the cached access token is dead, a new one works.
    emu.revoke(TOKEN_A, true).await;
    emu.revoke(TOKEN_A, false).await;
    c.submit_invoices(&request("R-2")).await.unwrap();
    let stats = emu.stats().await;
    let a = &stats["partners"][emulator_partner(TOKEN_A)];
    assert_eq!(a["submit"], serde_json::json!({"202": 2, "403": 1}));
    assert_eq!(a["token_status"], serde_json::json!({"200": 2}));
}

#[tokio::test]
async fn a_revoked_token_is_not_authorised_and_lwa_is_asked_once_per_cool_down() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let mut cfg = emu.config();
    cfg.lwa_cooldown = Duration::from_millis(1500);
    let c = Arc::new(emu.partner_client(TOKEN_A, "company-a", cfg, LocalSlots::default()));
    assert!(matches!(c.submit(&request("A-0")).await, SubmitResult::Accepted { .. }));
    emu.revoke(TOKEN_A, true).await;

    // 30 submissions, 20 of them at once, and polls: all NotAuthorized, never an Order Error.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.submit(&request(&format!("A-{i}"))).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r, SubmitResult::NotAuthorized(ref m) if m.contains("invalid_grant")), "{r:?}");
    }
    // Those already in flight with the dead token got their 403; the one refresh was refused.
    let partner_a = emulator_partner(TOKEN_A);
    let refused = emu.stats().await["partners"][&partner_a]["submit"]["403"].as_u64().unwrap();
    assert!((1..=20).contains(&refused), "{refused}");
    let started = Instant::now();
    for i in 20..30 {
        assert!(matches!(c.submit(&request(&format!("A-{i}"))).await, SubmitResult::NotAuthorized(_)));
    }
    assert!(started.elapsed() < Duration::from_millis(500), "answered at once: {:?}", started.elapsed());
    assert!(matches!(c.transaction("tx").await, TxStatus::Unavailable(_)), "never a false Error");
    let e = c.submit_invoices(&request("A-31")).await.unwrap_err();
    assert!(matches!(e, SpApiError::CoolingDown { .. }) && e.class() == Class::NotAuthorized, "{e:?}");

    let stats = emu.stats().await;
    let a = &stats["partners"][&partner_a];
    assert_eq!(a["token_status"], serde_json::json!({"200": 1, "400": 1}), "LWA asked once after the refusal: {a}");
    assert_eq!(a["submit"], serde_json::json!({"202": 1, "403": refused}), "nothing sent during the cool-down: {a}");

    // After the cool-down LWA is asked again, once; reinstated, the partner carries on.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(matches!(c.submit(&request("A-32")).await, SubmitResult::NotAuthorized(_)));
    assert!(matches!(c.submit(&request("A-33")).await, SubmitResult::NotAuthorized(_)));
    let stats = emu.stats().await;
    assert_eq!(stats["partners"][&partner_a]["token_status"], serde_json::json!({"200": 1, "400": 2}));
    emu.revoke(TOKEN_A, false).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(matches!(c.submit(&request("A-34")).await, SubmitResult::Accepted { .. }));
}

/// Arrival times (ms since the epoch) of one partner's accepted submissions at the emulator.
fn arrivals(requests: &[serde_json::Value], partner: &str) -> Vec<i64> {
    let mut at: Vec<i64> = requests
        .iter()
        .filter(|r| r["partner"] == partner && r["status"] == 202)
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["at"].as_str().unwrap()).unwrap().timestamp_millis())
        .collect();
    at.sort();
    at
}

#[tokio::test]
async fn two_partners_at_once_each_get_their_own_ten_requests_per_second() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let slots = Arc::new(LocalSlots::default());
    let a = Arc::new(emu.partner_client(TOKEN_A, "company-a", emu.config(), slots.clone()));
    let b = Arc::new(emu.partner_client(TOKEN_B, "company-b", emu.config(), slots.clone()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..40 {
        for (c, name) in [(a.clone(), "A"), (b.clone(), "B")] {
            tasks.push(tokio::spawn(async move { c.submit(&request(&format!("{name}-{i}"))).await }));
        }
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r, SubmitResult::Accepted { .. }), "{r:?}");
    }
    let elapsed = started.elapsed();
    let stats = emu.stats().await;
    assert_eq!(stats["submit"], serde_json::json!({"202": 80}), "not a single 429: {stats}");
    // One shared bucket would need ≥ 8 s for 80; two partners side by side take ≈ 3.3 s.
    assert!(elapsed < Duration::from_millis(5500), "{elapsed:?}");
    let requests: Vec<serde_json::Value> =
        emu.http.get(format!("{}/_emulator/requests", emu.base)).send().await.unwrap().json().await.unwrap();
    for (name, token) in [("company-a", TOKEN_A), ("company-b", TOKEN_B)] {
        let at = arrivals(&requests, &emulator_partner(token));
        assert_eq!(at.len(), 40);
        // Burst 8, then paced: the sustained rate over the other 32.
        let span_s = (at[39] - at[8]) as f64 / 1000.0;
        let rate = 31.0 / span_s;
        eprintln!("{name}: {rate:.2} req/s sustained after the burst; all 80 in {elapsed:?}");
        assert!((8.0..=10.0).contains(&rate), "{name}: {rate:.2} req/s sustained");
    }
}

#[tokio::test]
async fn a_revoked_partner_stops_alone() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    let slots = Arc::new(LocalSlots::default());
    let a = Arc::new(emu.partner_client(TOKEN_A, "company-a", emu.config(), slots.clone()));
    let b = Arc::new(emu.partner_client(TOKEN_B, "company-b", emu.config(), slots.clone()));
    emu.revoke(TOKEN_A, true).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        for (c, name) in [(a.clone(), "A"), (b.clone(), "B")] {
            tasks.push(tokio::spawn(async move { (name, c.submit(&request(&format!("{name}-{i}"))).await) }));
        }
    }
    for t in tasks {
        match t.await.unwrap() {
            ("A", r) => assert!(matches!(r, SubmitResult::NotAuthorized(_)), "{r:?}"),
            (_, r) => assert!(matches!(r, SubmitResult::Accepted { .. }), "{r:?}"),
        }
    }
    let stats = emu.stats().await;
    assert_eq!(stats["partners"][emulator_partner(TOKEN_B)]["submit"], serde_json::json!({"202": 20}));
    let a_stats = &stats["partners"][emulator_partner(TOKEN_A)];
    assert_eq!(a_stats["token_status"], serde_json::json!({"400": 1}), "{a_stats}");
    assert_eq!(a_stats["submit"], serde_json::json!({}), "nothing sent for A");
    assert_eq!(stats["submit"], serde_json::json!({"202": 20}));
}
