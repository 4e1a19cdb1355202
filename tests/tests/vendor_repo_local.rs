//! The vendor submission repository and the shared GCRA slot store against DynamoDB Local.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use integration_tests::Env;
use invoice_adapters::slots::DynamoSlots;
use invoice_adapters::vendor::DynamoVendorRepo;
use invoice_domain::core::time::iso;
use invoice_domain::vendor::body::SubmitInvoicesRequest;
use invoice_domain::vendor::codes::OrderErrorSource;
use invoice_domain::vendor::ports::{ClaimResult, InvoiceApi, SubmitResult, VendorRepository};
use invoice_domain::vendor::records::{Bundle, Shipping};
use invoice_domain::vendor::records::{InvoiceState, MarketplaceFeed, OrderError, SentByIntegration, VendorInvoice};
use invoice_domain::vendor::submit::{submit_order, SubmitOutcome};
use invoice_spapi::rate::Plan;
use invoice_spapi::SlotStore;

const ACCOUNT: &str = "ACC-1";

fn bundle(name: &str) -> Bundle {
    integration_tests::vendor_bundle(name)
}

async fn seeded(name: &str) -> (Env, DynamoVendorRepo, Bundle) {
    let env = Env::new().await;
    let repo = env.vendor_repo(integration_tests::ACME);
    let b = bundle(name);
    integration_tests::seed_bundle(&repo, &b, &b.order.id, ACCOUNT).await;
    (env, repo, b)
}

fn claim_of(b: &Bundle, claim_id: &str) -> VendorInvoice {
    let at = iso(b.now);
    VendorInvoice {
        order_id: b.order.id.clone(),
        number: b.order.id.clone(),
        status: InvoiceState::Submitting,
        sent_by_integration: None,
        generated_file: "N/A".into(),
        integration_error: None,
        transaction_id: None,
        claim_id: claim_id.into(),
        created_at: at.clone(),
        updated_at: at,
        request_body: Some("{\"invoices\":[]}".into()),
    }
}

fn pending(inv: &VendorInvoice, tx: &str) -> VendorInvoice {
    VendorInvoice {
        status: InvoiceState::Pending,
        sent_by_integration: Some(SentByIntegration::Sent),
        transaction_id: Some(tx.into()),
        ..inv.clone()
    }
}

fn feed_of(inv: &VendorInvoice, tx: &str, submitted: &str) -> MarketplaceFeed {
    MarketplaceFeed {
        external_id: tx.into(),
        feed_type: "Order Invoice".into(),
        status: "Processing".into(),
        submitted_date: submitted.into(),
        sent_objects_count: 1,
        order_id: inv.order_id.clone(),
        reconciliation: false,
    }
}

#[tokio::test]
async fn load_reads_the_context_by_key() {
    let (_env, repo, b) = seeded("v01-shipped-order.json").await;
    let ctx = repo.load(&b.order.id).await.unwrap().expect("order exists");
    assert_eq!(ctx.order, b.order);
    assert_eq!(ctx.account, b.account);
    let seller = ctx.seller.expect("seller by vendor id");
    assert_eq!(seller.vendor_id.as_deref(), Some("NWTRD"));
    assert_eq!(seller, b.sellers[1]);
    assert_eq!(ctx.default_location.as_ref(), Some(&b.locations[0]));
    assert_eq!(ctx.delivery_location, None, "shipping present: no delivery location lookup");
    assert_eq!(ctx.existing_invoice, None);
    assert!(repo.load("no-such-order").await.unwrap().is_none());

    // Written shipping is stored on the order, nothing else changes.
    let sh = Shipping { buyer_name: Some("X".into()), street1: Some("1 Road".into()), ..Default::default() };
    repo.store_shipping(&b.order.id, &sh).await.unwrap();
    let o = repo.order(&b.order.id).await.unwrap().unwrap();
    assert_eq!(o.shipping.as_ref(), Some(&sh));
    assert_eq!(o.items, b.order.items);
    assert!(repo.store_shipping("no-such-order", &sh).await.is_err(), "no phantom order is created");
}

#[tokio::test]
async fn load_reads_the_delivery_location_when_the_order_has_no_address() {
    let (_env, repo, b) = seeded("v02-address-from-delivery-locations.json").await;
    let ctx = repo.load(&b.order.id).await.unwrap().unwrap();
    let dl = ctx.delivery_location.expect("delivery location by shipping_address_id");
    assert_eq!(dl.location_id, "AMZ-SBD1");
    assert_eq!(dl, b.delivery_locations[1]);
    assert_eq!(ctx.default_location, None, "the account has no default location");
    assert_eq!(ctx.seller.and_then(|s| s.vendor_id).as_deref(), Some("NWTRD"));
}

#[tokio::test]
async fn claim_submit_release_reject() {
    let (_env, repo, b) = seeded("v01-shipped-order.json").await;
    let id = b.order.id.clone();
    let mine = claim_of(&b, "msg-1");
    assert_eq!(repo.claim(&mine).await.unwrap(), ClaimResult::Claimed);
    let other = claim_of(&b, "msg-2");
    assert_eq!(repo.claim(&other).await.unwrap(), ClaimResult::Exists(Box::new(mine.clone())));
    assert_eq!(repo.load(&id).await.unwrap().unwrap().existing_invoice, Some(mine.clone()));

    // Release by somebody else keeps the claim; record_submitted by somebody else fails.
    repo.release(&id, "msg-2").await.unwrap();
    assert_eq!(repo.invoice(&id).await.unwrap(), Some(mine.clone()));
    let wrong = pending(&other, "tx-wrong");
    assert!(repo.record_submitted(&wrong, &feed_of(&wrong, "tx-wrong", "2025-11-20T09:30:15.250Z")).await.is_err());
    assert_eq!(repo.feed("tx-wrong").await.unwrap(), None, "no feed without the claim");
    assert_eq!(repo.invoice(&id).await.unwrap(), Some(mine.clone()));
    assert!(repo.record_unknown(&VendorInvoice { status: InvoiceState::Unknown, ..other.clone() }).await.is_err());

    // Our submission: invoice Pending + feed Processing, listed by the poller's query.
    let done = pending(&mine, "tx-1");
    let feed = feed_of(&done, "tx-1", "2025-11-20T09:30:15.250Z");
    repo.record_submitted(&done, &feed).await.unwrap();
    assert_eq!(repo.invoice(&id).await.unwrap(), Some(done.clone()));
    // Repeating exactly the same write (a retried request) is not an error.
    repo.record_submitted(&done, &feed).await.unwrap();
    assert_eq!(repo.feed("tx-1").await.unwrap(), Some(feed.clone()));
    // An older feed of another order is listed first.
    let old_claim = VendorInvoice { order_id: "200001".into(), number: "200001".into(), ..claim_of(&b, "msg-9") };
    assert_eq!(repo.claim(&old_claim).await.unwrap(), ClaimResult::Claimed);
    let old_done = pending(&old_claim, "tx-0");
    let old_feed = feed_of(&old_done, "tx-0", "2025-11-19T08:00:00.000Z");
    repo.record_submitted(&old_done, &old_feed).await.unwrap();
    assert_eq!(repo.processing_feeds(10).await.unwrap(), vec![old_feed.clone(), feed.clone()]);
    assert_eq!(repo.processing_feeds(1).await.unwrap(), vec![old_feed]);
    // The claim is gone once Pending: releasing does nothing.
    repo.release(&id, "msg-1").await.unwrap();
    assert_eq!(repo.invoice(&id).await.unwrap(), Some(done));

    // Release by the holder removes the claim; the order can be claimed again.
    let second = VendorInvoice { order_id: "300001".into(), number: "300001".into(), ..claim_of(&b, "msg-3") };
    assert_eq!(repo.claim(&second).await.unwrap(), ClaimResult::Claimed);
    repo.release("300001", "msg-3").await.unwrap();
    assert_eq!(repo.invoice("300001").await.unwrap(), None);

    // Rejection: invoice Error + Order Error in one transaction.
    assert_eq!(repo.claim(&second).await.unwrap(), ClaimResult::Claimed);
    let rejected = VendorInvoice {
        status: InvoiceState::Error,
        sent_by_integration: Some(SentByIntegration::Error),
        integration_error: Some("HTTP 400 InvalidInput: bad".into()),
        ..second.clone()
    };
    let err = OrderError {
        order_id: "300001".into(),
        at: "2025-11-20T09:30:16.000Z".into(),
        source: OrderErrorSource::SubmitInvoices,
        code: "InvalidInput".into(),
        message: "bad".into(),
    };
    repo.record_rejected(&rejected, &err).await.unwrap();
    assert_eq!(repo.invoice("300001").await.unwrap(), Some(rejected));
    assert_eq!(repo.order_errors("300001").await.unwrap(), vec![err]);

    // Unknown outcome, while the claim holds.
    let third = VendorInvoice { order_id: "400001".into(), number: "400001".into(), ..claim_of(&b, "msg-4") };
    assert_eq!(repo.claim(&third).await.unwrap(), ClaimResult::Claimed);
    let unknown = VendorInvoice { status: InvoiceState::Unknown, integration_error: Some("timeout".into()), ..third };
    repo.record_unknown(&unknown).await.unwrap();
    repo.record_unknown(&unknown).await.unwrap();
    assert_eq!(repo.invoice("400001").await.unwrap(), Some(unknown));
}

#[tokio::test]
async fn order_errors_are_not_duplicated_by_redelivery() {
    let (_env, repo, b) = seeded("v01-shipped-order.json").await;
    let e = |code: &str, msg: &str, at: &str| OrderError {
        order_id: b.order.id.clone(),
        at: at.into(),
        source: OrderErrorSource::Mapping,
        code: code.into(),
        message: msg.into(),
    };
    // 30 errors: more than one BatchWriteItem call; one exact duplicate inside the list.
    let mut first: Vec<OrderError> = (0..30).map(|i| e("ship-to-address-incomplete", &format!("problem {i}"), "t1")).collect();
    first.push(e("ship-to-address-incomplete", "problem 3", "t1"));
    repo.put_order_errors(&first).await.unwrap();
    let again: Vec<OrderError> = (0..30).map(|i| e("ship-to-address-incomplete", &format!("problem {i}"), "t2")).collect();
    repo.put_order_errors(&again).await.unwrap();
    let stored = repo.order_errors(&b.order.id).await.unwrap();
    assert_eq!(stored.len(), 30, "one record per (source, code, message)");
    assert!(stored.iter().all(|x| x.at == "t2"), "the redelivery overwrote");
    // The order and the invoice slot of the partition are untouched.
    assert_eq!(repo.order(&b.order.id).await.unwrap().as_ref(), Some(&b.order));
}

struct FakeApi {
    calls: AtomicU32,
}

impl InvoiceApi for FakeApi {
    async fn submit(&self, req: &SubmitInvoicesRequest) -> SubmitResult {
        assert_eq!(req.invoices.len(), 1);
        self.calls.fetch_add(1, Ordering::SeqCst);
        SubmitResult::Accepted { transaction_id: "tx-e2e-1".into() }
    }
}

#[tokio::test]
async fn submit_order_end_to_end_once() {
    let (env, repo, b) = seeded("v01-shipped-order.json").await;
    let api = FakeApi { calls: AtomicU32::new(0) };
    let out = submit_order(&repo, &api, &b.order.id, "msg-a", b.now).await.unwrap();
    assert_eq!(out, SubmitOutcome::Submitted { transaction_id: "tx-e2e-1".into() });
    let inv = repo.invoice(&b.order.id).await.unwrap().unwrap();
    assert_eq!(inv.status, InvoiceState::Pending);
    assert_eq!(inv.sent_by_integration, Some(SentByIntegration::Sent));
    assert_eq!(inv.transaction_id.as_deref(), Some("tx-e2e-1"));
    assert_eq!(inv.claim_id, "msg-a");
    let body: serde_json::Value = serde_json::from_str(inv.request_body.as_deref().unwrap()).unwrap();
    assert_eq!(body["invoices"][0]["id"], "100045");
    let feeds = repo.processing_feeds(10).await.unwrap();
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].external_id, "tx-e2e-1");
    assert_eq!(feeds[0].order_id, "100045");

    // Redelivery (another message id): nothing is sent again.
    let again = submit_order(&repo, &api, &b.order.id, "msg-b", b.now).await.unwrap();
    assert_eq!(again, SubmitOutcome::AlreadyClaimed { status: InvoiceState::Pending });
    assert_eq!(api.calls.load(Ordering::SeqCst), 1);

    // Invoice statuses are stored as their names.
    let raw = env
        .ddb
        .get_item()
        .table_name(&env.table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S("C#acme#ORDER#100045".into()))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("#INVOICE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw["status"].as_s().unwrap(), "Pending");
    assert_eq!(raw["sent_by_integration"].as_s().unwrap(), "Sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamo_slots_are_shared_by_processes() {
    let env = Env::new().await;
    let plan = Plan { rate: 10.0, burst: 10 };
    let key = "spapi:submitInvoices";
    let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64;
    // Two instances = two processes (each with its own cache of the last seen TAT).
    let a = Arc::new(DynamoSlots::new(env.ddb.clone(), env.table.clone()));
    let b = Arc::new(DynamoSlots::new(env.ddb.clone(), env.table.clone()));
    let mut tasks = Vec::new();
    for i in 0..80 {
        let slots = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { slots.reserve(key, &plan, now_us).await }));
    }
    let mut res = Vec::new();
    for t in tasks {
        res.push(t.await.unwrap().expect("reservation"));
    }
    let interval = plan.interval_us();
    assert_eq!(interval, 100_000);

    // Every reservation got its own slot: the TATs written are now + k·T, k = 1..=80.
    let mut tats: Vec<i64> = res.iter().map(|r| r.new_tat_us).collect();
    tats.sort();
    let expected: Vec<i64> = (1..=80).map(|k| now_us + k * interval).collect();
    assert_eq!(tats, expected, "80 distinct slots, none lost or doubled");

    let mut sends: Vec<i64> = res.iter().map(|r| r.send_at_us).collect();
    sends.sort();
    assert!(sends[..10].iter().all(|&s| s == now_us), "the burst goes at once");
    assert!(sends[10..].iter().all(|&s| s > now_us));
    assert_eq!(sends[79], now_us + 70 * interval);
    // Token bucket: in any 1 s window at most burst + rate·1 s.
    for (i, &start) in sends.iter().enumerate() {
        let n = sends[i..].iter().take_while(|&&x| x < start + 1_000_000).count();
        assert!(n <= 20, "{n} sends in the second from {start}");
    }

    assert_eq!(a.stored_tat(key).await.unwrap(), Some(now_us + 80 * interval), "no reservation lost");
    // An instance with a stale cache still lands on the next slot.
    let r = a.reserve(key, &plan, now_us).await.unwrap();
    assert_eq!(r.new_tat_us, now_us + 81 * interval);
    assert_eq!(r.send_at_us, now_us + 71 * interval);
}
