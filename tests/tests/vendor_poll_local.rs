//! The status poller against DynamoDB Local and the SP-API emulator: submissions are made by
//! the real submission workflow, then resolved by the real polling pass.

use std::time::{Duration, Instant};

use integration_tests::{emulator_config, emulator_credentials, seed_bundle, start_emulator, vendor_bundle, Env};
use invoice_adapters::slots::DynamoSlots;
use invoice_adapters::vendor::DynamoVendorRepo;
use invoice_domain::vendor::poll::PollLimits;
use invoice_domain::vendor::records::{InvoiceState, SentByIntegration};
use invoice_domain::vendor::submit::{submit_order, SubmitOutcome};

struct Rig {
    _env: Env,
    repo: DynamoVendorRepo,
    api: invoice_spapi::Client<DynamoSlots>,
    emu: String,
    http: reqwest::Client,
}

async fn rig(processing_polls: u32) -> Rig {
    let env = Env::new().await;
    let emu = start_emulator(spapi_emulator::Config { processing_polls, ..spapi_emulator::Config::default() }).await;
    let mut c = emulator_config(&emu);
    c.backoff_base = Duration::from_millis(10);
    c.max_throttled_attempts = 2;
    c.max_server_attempts = 2;
    let api = invoice_spapi::Client::new(
        c,
        emulator_credentials(),
        invoice_spapi::DEFAULT_PARTNER,
        DynamoSlots::new(env.ddb.clone(), env.table.clone()),
    )
    .unwrap();
    let repo = DynamoVendorRepo::new(env.ddb.clone(), env.table.clone());
    Rig { _env: env, repo, api, emu, http: reqwest::Client::new() }
}

impl Rig {
    async fn submit(&self, order_id: &str) -> String {
        seed_bundle(&self.repo, &vendor_bundle("v01-shipped-order.json"), order_id, "ACC").await;
        match submit_order(&self.repo, &self.api, order_id, "m", chrono::Utc::now()).await.unwrap() {
            SubmitOutcome::Submitted { transaction_id } => transaction_id,
            other => panic!("{other:?}"),
        }
    }
    async fn faults(&self, v: serde_json::Value) {
        assert!(self.http.post(format!("{}/_emulator/faults", self.emu)).json(&v).send().await.unwrap().status().is_success());
    }
    async fn pass(&self) -> invoice_domain::vendor::poll::PollReport {
        poll_transaction_status::run_pass(
            &self.repo,
            &self.api,
            chrono::Utc::now(),
            PollLimits::default(),
            Instant::now() + Duration::from_secs(60),
            Duration::ZERO,
        )
        .await
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn processing_then_success_marks_the_invoice_sent_uploaded() {
    let r = rig(1).await;
    let tx = r.submit("700001").await;
    let first = r.pass().await;
    assert_eq!((first.checked, first.still_processing), (1, 1), "Processing → unchanged, checked again next run");
    assert_eq!(r.repo.invoice("700001").await.unwrap().unwrap().status, InvoiceState::Pending);
    let second = r.pass().await;
    assert_eq!(second.succeeded, 1);
    let inv = r.repo.invoice("700001").await.unwrap().unwrap();
    assert_eq!((inv.status, inv.sent_by_integration), (InvoiceState::Sent, Some(SentByIntegration::Uploaded)));
    assert_eq!(r.repo.feed(&tx).await.unwrap().unwrap().status, "Success");
    assert!(r.repo.processing_feeds(10).await.unwrap().is_empty(), "no longer listed as Processing");
    assert_eq!(r.pass().await.checked, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_with_errors_becomes_invoice_error_and_one_order_error() {
    let r = rig(0).await;
    r.faults(serde_json::json!({"reject_invoice_ids": {"700002": [{"code": "INVALID_ORDER_ID", "message": "Invalid order ID."}]}})).await;
    let tx = r.submit("700002").await;
    let rep = r.pass().await;
    assert_eq!(rep.failed, 1);
    let inv = r.repo.invoice("700002").await.unwrap().unwrap();
    assert_eq!((inv.status, inv.sent_by_integration), (InvoiceState::Error, Some(SentByIntegration::Error)));
    assert_eq!(inv.integration_error.as_deref(), Some("INVALID_ORDER_ID: Invalid order ID."));
    assert_eq!(r.repo.feed(&tx).await.unwrap().unwrap().status, "Failure");
    let errors = r.repo.order_errors("700002").await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].source.as_str(), errors[0].code.as_str(), errors[0].message.as_str()),
        ("getTransaction", "INVALID_ORDER_ID", "Invalid order ID.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_passes_reach_the_same_state_without_duplicate_order_errors() {
    let r = rig(0).await;
    let mut rejects = serde_json::Map::new();
    let id = |i: usize| format!("7100{i:02}");
    for i in 0..6 {
        rejects.insert(id(i), serde_json::json!([{"code": "E", "message": "rejected"}]));
    }
    r.faults(serde_json::json!({ "reject_invoice_ids": rejects })).await;
    for i in 0..12 {
        r.submit(&id(i)).await;
    }
    let (a, b) = tokio::join!(r.pass(), r.pass());
    assert_eq!(a.succeeded + b.succeeded + a.failed + b.failed, 12, "{a:?} {b:?}");
    for i in 0..12 {
        let inv = r.repo.invoice(&id(i)).await.unwrap().unwrap();
        let errors = r.repo.order_errors(&id(i)).await.unwrap();
        if i < 6 {
            assert_eq!(inv.status, InvoiceState::Error, "{}", id(i));
            assert_eq!(errors.len(), 1, "{}: exactly one Order Error", id(i));
        } else {
            assert_eq!(inv.status, InvoiceState::Sent, "{}", id(i));
            assert!(errors.is_empty(), "{}", id(i));
        }
    }
    assert!(r.repo.processing_feeds(100).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_or_failing_sp_api_changes_nothing() {
    let r = rig(0).await;
    let tx = r.submit("720001").await;
    r.faults(serde_json::json!({"throttle_next": 10, "operation": "get_transaction"})).await;
    let rep = r.pass().await;
    assert_eq!((rep.checked, rep.unavailable, rep.failed, rep.succeeded), (1, 1, 0, 0));
    assert_eq!(r.repo.invoice("720001").await.unwrap().unwrap().status, InvoiceState::Pending, "never a false Error");
    assert_eq!(r.repo.feed(&tx).await.unwrap().unwrap().status, "Processing");
    r.faults(serde_json::json!({"throttle_next": 0, "fail_next": 10, "operation": "get_transaction"})).await;
    assert_eq!(r.pass().await.unavailable, 1);
    r.faults(serde_json::json!({"fail_next": 0})).await;
    assert_eq!(r.pass().await.succeeded, 1, "resolved once SP-API answers");
}

async fn unknown_submission(r: &Rig, order_id: &str, fault: serde_json::Value) {
    seed_bundle(&r.repo, &vendor_bundle("v01-shipped-order.json"), order_id, "ACC").await;
    r.faults(fault).await;
    let out = submit_order(&r.repo, &r.api, order_id, "m", chrono::Utc::now()).await.unwrap();
    assert_eq!(out, SubmitOutcome::Unknown);
    assert_eq!(r.repo.invoice(order_id).await.unwrap().unwrap().status, InvoiceState::Unknown);
}

impl Rig {
    async fn reconcile_at(&self, now: chrono::DateTime<chrono::Utc>) -> invoice_domain::vendor::reconcile::ReconcileReport {
        poll_transaction_status::run_reconcile(
            &self.repo,
            &self.api,
            now,
            chrono::Duration::minutes(15),
            Instant::now() + Duration::from_secs(60),
            Duration::ZERO,
        )
        .await
        .unwrap()
    }
    async fn submit_posts(&self, order_id: &str) -> usize {
        let reqs: Vec<serde_json::Value> =
            self.http.get(format!("{}/_emulator/requests", self.emu)).send().await.unwrap().json().await.unwrap();
        reqs.iter()
            .filter(|x| {
                x["path"] == "/vendor/payments/v1/invoices" && x["invoice_ids"].as_array().is_some_and(|a| a.iter().any(|i| i == order_id))
            })
            .count()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_lost_after_amazon_accepted_is_reconciled_as_sent_without_a_second_invoice() {
    let r = rig(0).await;
    unknown_submission(&r, "730001", serde_json::json!({"lose_response_next": 1, "operation": "submit"})).await;
    // Within the grace period nothing is re-sent.
    let early = r.reconcile_at(chrono::Utc::now()).await;
    assert_eq!((early.unknown, early.too_recent, early.resubmitted), (1, 1, 0));
    assert_eq!(r.submit_posts("730001").await, 1);
    // After it: re-sent once with the recorded body, under a fresh claim.
    let later = r.reconcile_at(chrono::Utc::now() + chrono::Duration::hours(1)).await;
    assert_eq!(later.resubmitted, 1);
    assert_eq!(r.submit_posts("730001").await, 2);
    let inv = r.repo.invoice("730001").await.unwrap().unwrap();
    assert_eq!(inv.status, InvoiceState::Pending);
    assert!(r.repo.processing_feeds(10).await.unwrap()[0].reconciliation);
    // Amazon refuses the second as a duplicate: proof the first arrived → Sent / Uploaded.
    let rep = r.pass().await;
    assert_eq!(rep.succeeded, 1, "{rep:?}");
    let inv = r.repo.invoice("730001").await.unwrap().unwrap();
    assert_eq!((inv.status, inv.sent_by_integration), (InvoiceState::Sent, Some(SentByIntegration::Uploaded)));
    assert!(r.repo.order_errors("730001").await.unwrap().is_empty(), "a duplicate during reconciliation is not an error");
    // Nothing left to reconcile; a later run sends nothing.
    let after = r.reconcile_at(chrono::Utc::now() + chrono::Duration::hours(2)).await;
    assert_eq!(after.unknown, 0);
    assert_eq!(r.submit_posts("730001").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submission_lost_before_amazon_saw_it_is_reconciled_by_the_resend() {
    let r = rig(0).await;
    unknown_submission(&r, "730002", serde_json::json!({"drop_next": 1, "operation": "submit"})).await;
    let rep = r.reconcile_at(chrono::Utc::now() + chrono::Duration::hours(1)).await;
    assert_eq!(rep.resubmitted, 1);
    assert_eq!(r.pass().await.succeeded, 1);
    assert_eq!(r.repo.invoice("730002").await.unwrap().unwrap().status, InvoiceState::Sent);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reconcilers_send_only_once() {
    let r = rig(0).await;
    unknown_submission(&r, "730003", serde_json::json!({"drop_next": 1, "operation": "submit"})).await;
    let t = chrono::Utc::now() + chrono::Duration::hours(1);
    let (a, b) = tokio::join!(r.reconcile_at(t), r.reconcile_at(t));
    assert_eq!(a.resubmitted + b.resubmitted, 1, "{a:?} {b:?}");
    assert_eq!(r.submit_posts("730003").await, 2, "the lost one and exactly one re-send");
}
