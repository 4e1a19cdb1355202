//! The SP-API client against the project's emulator (a real HTTP server that validates every
//! body against the official model): tokens, pacing, retries, unknown outcomes, and every
//! mapping fixture validating against the official schema.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use invoice_domain::vendor::body::SubmitInvoicesRequest;
use invoice_domain::vendor::mapping::map_invoice;
use invoice_domain::vendor::records::Bundle;
use invoice_spapi::{Client, Config, Credentials, LocalSlots, SpApiError, TransactionState};

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
    fn client(&self) -> Client<LocalSlots> {
        let mut c = Config::for_region("na").unwrap();
        c.endpoint = self.base.clone();
        c.lwa_endpoint = format!("{}/auth/o2/token", self.base);
        c.backoff_base = Duration::from_millis(20);
        c.request_timeout = Duration::from_secs(2);
        Client::new(c, creds(), "default", LocalSlots::default()).unwrap()
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
    let SpApiError::Rejected { status, errors, .. } = &e else { panic!("{e:?}") };
    assert_eq!(*status, 400);
    assert!(errors.iter().any(|x| x.message.contains("countryCode")), "{errors:?}");
    assert_eq!(emu.requests().await.len(), 1, "no retry of a 400");
    assert!(!e.is_transient());
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
    assert!(matches!(e, SpApiError::Server { status: 500, attempts: 4 }), "{e:?}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_dropped_connection_after_sending_is_unknown_and_not_resent() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"drop_next": 1})).await;
    let e = emu.client().submit_invoices(&request("O-5")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Unknown(_)), "{e:?}");
    assert!(!e.is_transient(), "an unknown outcome must not be retried blindly");
    assert_eq!(emu.requests().await.len(), 1, "sent once, never again");
}

#[tokio::test]
async fn a_stalled_submission_times_out_as_unknown() {
    let emu = emulator(spapi_emulator::Config::default()).await;
    emu.faults(serde_json::json!({"stall_next": 1})).await;
    let started = Instant::now();
    let e = emu.client().submit_invoices(&request("O-6")).await.unwrap_err();
    assert!(matches!(e, SpApiError::Unknown(_)), "{e:?}");
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
    let c = Client::new(cfg, bad, "default", LocalSlots::default()).unwrap();
    let e = c.submit_invoices(&request("O-8")).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, SpApiError::Auth(_)) && text.contains("invalid_client"), "{text}");
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
    let SpApiError::Rejected { status: 400, errors, .. } = &e else { panic!("{e:?}") };
    assert_eq!(errors[0].message, "The purchase order 3DY3TK6T is closed.");
    assert!(emu.client().submit_invoices(&request("O-10")).await.is_ok(), "other invoices unaffected");
}
