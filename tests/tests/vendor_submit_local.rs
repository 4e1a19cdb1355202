//! submit-vendor-invoice's handler against DynamoDB Local, moto SQS and the SP-API emulator
//! (a real HTTP server, one per test so fault injection stays per test): messages go through
//! a real SQS queue; redeliveries are real receives of messages that were not deleted.

use std::time::Duration;

use integration_tests::{emulator_config, seed_bundle, start_emulator, unique, vendor_bundle, Env, ACME};
use invoice_adapters::vendor::DynamoVendorRepo;
use invoice_domain::vendor::records::Bundle;
use invoice_domain::vendor::records::{InvoiceState, SentByIntegration};
use invoice_wiring::Tenancy;

struct Rig {
    _env: Env,
    repo: DynamoVendorRepo,
    tenancy: Tenancy,
    emu: String,
    http: reqwest::Client,
    sqs: aws_sdk_sqs::Client,
    queue: String,
}

async fn rig() -> Rig {
    let env = Env::new().await;
    let emu = start_emulator(spapi_emulator::Config::default()).await;
    let mut cfg = emulator_config(&emu);
    cfg.backoff_base = Duration::from_millis(20);
    cfg.request_timeout = Duration::from_secs(3);
    // The real tenancy: acme's refresh token in Secrets Manager, its own SP-API client.
    env.connect_vendor(ACME, spapi_emulator::DEFAULT_REFRESH_TOKEN).await;
    let tenancy = env.tenancy(cfg);
    let repo = env.vendor_repo(ACME);
    let conf = invoice_adapters::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let queue = sqs.create_queue().queue_name(unique("vendor")).send().await.unwrap().queue_url.unwrap();
    Rig { _env: env, repo, tenancy, emu, http: reqwest::Client::new(), sqs, queue }
}

fn bundle(name: &str) -> Bundle {
    vendor_bundle(name)
}

impl Rig {
    async fn seed(&self, b: &Bundle, order_id: &str) {
        seed_bundle(&self.repo, b, order_id, &format!("ACC-{order_id}")).await;
    }

    async fn enqueue(&self, order_id: &str) {
        let body = serde_json::json!({"company": ACME, "order_id": order_id}).to_string();
        self.sqs.send_message().queue_url(&self.queue).message_body(body).send().await.unwrap();
    }

    /// One poll of the queue, the handler on the batch, deletes of the successes (what the
    /// Lambda event source mapping does). `visibility` 0 makes failures visible again at once.
    async fn poll_once(&self, delete_successes: bool) -> (usize, usize) {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let msgs = out.messages.unwrap_or_default();
        let ev = integration_tests::sqs_event_of(&msgs);
        let resp = submit_vendor_invoice::handle(&self.tenancy, ev, chrono::Utc::now()).await;
        let failed: Vec<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        if delete_successes {
            for m in &msgs {
                if !failed.contains(m.message_id.as_ref().unwrap()) {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue)
                        .receipt_handle(m.receipt_handle.clone().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
        (msgs.len(), failed.len())
    }

    async fn faults(&self, v: serde_json::Value) {
        assert!(self.http.post(format!("{}/_emulator/faults", self.emu)).json(&v).send().await.unwrap().status().is_success());
    }

    async fn stats(&self) -> serde_json::Value {
        self.http.get(format!("{}/_emulator/stats", self.emu)).send().await.unwrap().json().await.unwrap()
    }

    async fn submitted_ids(&self) -> Vec<String> {
        let reqs: Vec<serde_json::Value> =
            self.http.get(format!("{}/_emulator/requests", self.emu)).send().await.unwrap().json().await.unwrap();
        reqs.iter()
            .filter(|r| r["path"] == "/vendor/payments/v1/invoices" && r["status"] == 202)
            .flat_map(|r| r["invoice_ids"].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shipped_order_is_posted_once_and_recorded_as_invoice_and_feed() {
    let r = rig().await;
    r.seed(&bundle("v01-shipped-order.json"), "100045").await;
    r.enqueue("100045").await;
    assert_eq!(r.poll_once(true).await, (1, 0));
    let inv = r.repo.invoice("100045").await.unwrap().expect("invoice recorded");
    assert_eq!(inv.status, InvoiceState::Pending);
    assert_eq!(inv.sent_by_integration, Some(SentByIntegration::Sent));
    assert_eq!((inv.number.as_str(), inv.generated_file.as_str()), ("100045", "N/A"));
    let tx = inv.transaction_id.clone().unwrap();
    let feed = r.repo.feed(&tx).await.unwrap().expect("feed recorded");
    assert_eq!((feed.feed_type.as_str(), feed.status.as_str(), feed.sent_objects_count), ("Order Invoice", "Processing", 1));
    assert_eq!(r.repo.processing_feeds(10).await.unwrap().len(), 1);
    assert_eq!(r.submitted_ids().await, vec!["100045"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_message_never_posts_twice() {
    let r = rig().await;
    r.seed(&bundle("v01-shipped-order.json"), "200001").await;
    r.enqueue("200001").await;
    r.enqueue("200001").await; // a duplicate from the ERP
                               // Not deleting: SQS redelivers every message (visibility 0).
    for _ in 0..3 {
        r.poll_once(false).await;
    }
    assert_eq!(r.submitted_ids().await, vec!["200001"], "exactly one POST");
    assert_eq!(r.repo.invoice("200001").await.unwrap().unwrap().status, InvoiceState::Pending);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_storm_and_server_errors_end_with_every_order_submitted_once() {
    let r = rig().await;
    let b = bundle("v01-shipped-order.json");
    let ids: Vec<String> = (0..20).map(|i| format!("30{i:04}")).collect();
    for id in &ids {
        r.seed(&b, id).await;
        r.enqueue(id).await;
    }
    r.faults(serde_json::json!({"throttle_next": 40, "fail_next": 12, "fail_status": 503, "operation": "submit"})).await;
    for _ in 0..40 {
        r.poll_once(true).await;
        let done = futures_count(&r, &ids).await;
        if done == ids.len() {
            break;
        }
    }
    let mut sent = r.submitted_ids().await;
    sent.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(sent, want, "every order submitted, none twice");
    let stats = r.stats().await;
    assert!(stats["submit"]["429"].as_u64().unwrap() >= 40 && stats["submit"]["503"].as_u64().unwrap() >= 12, "{stats}");
    for id in &ids {
        assert_eq!(r.repo.invoice(id).await.unwrap().unwrap().status, InvoiceState::Pending, "{id}");
    }
}

async fn futures_count(r: &Rig, ids: &[String]) -> usize {
    let mut n = 0;
    for id in ids {
        if r.repo.invoice(id).await.unwrap().map(|i| i.status == InvoiceState::Pending).unwrap_or(false) {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn a_400_becomes_an_order_error_with_amazons_message() {
    let r = rig().await;
    r.seed(&bundle("v01-shipped-order.json"), "400001").await;
    r.faults(serde_json::json!({"invalid_invoice_ids": {"400001": [{"code": "InvalidInput", "message": "Purchase order 3DY3TK6T is closed for invoicing.", "details": ""}]}})).await;
    r.enqueue("400001").await;
    assert_eq!(r.poll_once(true).await, (1, 0), "a 400 is final: the message is not retried");
    let inv = r.repo.invoice("400001").await.unwrap().unwrap();
    assert_eq!(inv.status, InvoiceState::Error);
    assert_eq!(inv.sent_by_integration, Some(SentByIntegration::Error));
    assert!(inv.integration_error.as_deref().unwrap().contains("Purchase order 3DY3TK6T is closed for invoicing."));
    let errors = r.repo.order_errors("400001").await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].code.as_str(), errors[0].message.as_str()), ("InvalidInput", "Purchase order 3DY3TK6T is closed for invoicing."));
    assert_eq!(inv.integration_error.as_deref(), Some("HTTP 400 InvalidInput: Purchase order 3DY3TK6T is closed for invoicing."));
    assert!(r.repo.processing_feeds(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_outcome_is_marked_and_not_resent() {
    let r = rig().await;
    r.seed(&bundle("v01-shipped-order.json"), "500001").await;
    r.faults(serde_json::json!({"drop_next": 1, "operation": "submit"})).await;
    r.enqueue("500001").await;
    r.poll_once(false).await;
    r.poll_once(false).await; // redelivered
    assert_eq!(r.repo.invoice("500001").await.unwrap().unwrap().status, InvoiceState::Unknown);
    let reqs: Vec<serde_json::Value> = r.http.get(format!("{}/_emulator/requests", r.emu)).send().await.unwrap().json().await.unwrap();
    assert_eq!(reqs.iter().filter(|x| x["path"] == "/vendor/payments/v1/invoices").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn mapping_errors_and_ineligible_orders_send_nothing() {
    let r = rig().await;
    r.seed(&bundle("v03-no-seller-for-vendor-id.json"), "600001").await;
    r.seed(&bundle("v04-not-eligible.json"), "600002").await;
    r.enqueue("600001").await;
    r.enqueue("600002").await;
    r.enqueue("no-such-order").await;
    r.sqs.send_message().queue_url(&r.queue).message_body("not json").send().await.unwrap();
    let (n, failed) = r.poll_once(true).await;
    assert_eq!((n, failed), (4, 1), "only the malformed message is left for the DLQ");
    assert!(r.submitted_ids().await.is_empty());
    assert_eq!(r.repo.order_errors("600001").await.unwrap()[0].code, "no-seller-for-vendor-id");
    assert!(r.repo.invoice("600002").await.unwrap().is_none());
}
