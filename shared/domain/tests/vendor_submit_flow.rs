//! The exactly-once submission workflow on in-memory ports.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use invoice_domain::core::PortError;
use invoice_domain::vendor::body::SubmitInvoicesRequest;
use invoice_domain::vendor::codes::{MappingCode, OrderErrorSource};
use invoice_domain::vendor::ports::*;
use invoice_domain::vendor::records::*;
use invoice_domain::vendor::records::{Bundle, Shipping};
use invoice_domain::vendor::submit::*;

#[derive(Default)]
struct Repo {
    ctx: Mutex<BTreeMap<String, OrderContext>>,
    invoices: Mutex<BTreeMap<String, VendorInvoice>>,
    feeds: Mutex<Vec<MarketplaceFeed>>,
    errors: Mutex<Vec<OrderError>>,
    shipping: Mutex<BTreeMap<String, Shipping>>,
}

impl VendorRepository for Repo {
    async fn load(&self, id: &str) -> Result<Option<OrderContext>, PortError> {
        Ok(self.ctx.lock().unwrap().get(id).cloned().map(|mut c| {
            c.existing_invoice = self.invoices.lock().unwrap().get(id).cloned();
            c
        }))
    }
    async fn claim(&self, inv: &VendorInvoice) -> Result<ClaimResult, PortError> {
        let mut m = self.invoices.lock().unwrap();
        if let Some(e) = m.get(&inv.order_id) {
            return Ok(ClaimResult::Exists(Box::new(e.clone())));
        }
        m.insert(inv.order_id.clone(), inv.clone());
        Ok(ClaimResult::Claimed)
    }
    async fn record_submitted(&self, inv: &VendorInvoice, feed: &MarketplaceFeed) -> Result<(), PortError> {
        self.invoices.lock().unwrap().insert(inv.order_id.clone(), inv.clone());
        self.feeds.lock().unwrap().push(feed.clone());
        Ok(())
    }
    async fn record_rejected(&self, inv: &VendorInvoice, e: &OrderError) -> Result<(), PortError> {
        self.invoices.lock().unwrap().insert(inv.order_id.clone(), inv.clone());
        self.errors.lock().unwrap().push(e.clone());
        Ok(())
    }
    async fn record_unknown(&self, inv: &VendorInvoice) -> Result<(), PortError> {
        self.invoices.lock().unwrap().insert(inv.order_id.clone(), inv.clone());
        Ok(())
    }
    async fn release(&self, id: &str, claim: &str) -> Result<(), PortError> {
        let mut m = self.invoices.lock().unwrap();
        if m.get(id).map(|i| i.claim_id == claim && i.status == InvoiceState::Submitting).unwrap_or(false) {
            m.remove(id);
        }
        Ok(())
    }
    async fn put_order_errors(&self, e: &[OrderError]) -> Result<(), PortError> {
        self.errors.lock().unwrap().extend_from_slice(e);
        Ok(())
    }
    async fn store_shipping(&self, id: &str, s: &Shipping) -> Result<(), PortError> {
        self.shipping.lock().unwrap().insert(id.into(), s.clone());
        Ok(())
    }
}

struct Api {
    answers: Mutex<Vec<SubmitResult>>,
    sent: Mutex<Vec<SubmitInvoicesRequest>>,
}

impl Api {
    fn new(answers: Vec<SubmitResult>) -> Api {
        Api { answers: Mutex::new(answers), sent: Mutex::new(vec![]) }
    }
}

impl InvoiceApi for Api {
    async fn submit(&self, req: &SubmitInvoicesRequest) -> SubmitResult {
        self.sent.lock().unwrap().push(req.clone());
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            SubmitResult::Accepted { transaction_id: format!("tx-{}", self.sent.lock().unwrap().len()) }
        } else {
            a.remove(0)
        }
    }
}

fn repo_with(name: &str) -> (Repo, DateTime<Utc>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor").join(name);
    let b: Bundle = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let seller = b.sellers.iter().find(|s| s.vendor_id == b.order.purchase_order_selling_party).cloned();
    let loc = b.account.default_location_id.as_ref().and_then(|id| b.locations.iter().find(|l| &l.id == id).cloned());
    let dl = b.order.shipping_address_id.as_ref().and_then(|id| b.delivery_locations.iter().find(|d| &d.location_id == id).cloned());
    let repo = Repo::default();
    repo.ctx.lock().unwrap().insert(
        b.order.id.clone(),
        OrderContext {
            order: b.order.clone(),
            account: b.account.clone(),
            seller,
            default_location: loc,
            delivery_location: dl,
            existing_invoice: None,
        },
    );
    (repo, b.now)
}

#[tokio::test]
async fn accepted_submission_records_invoice_and_feed() {
    let (repo, now) = repo_with("v01-shipped-order.json");
    let api = Api::new(vec![]);
    let out = submit_order(&repo, &api, "100045", "msg-1", now).await.unwrap();
    assert_eq!(out, SubmitOutcome::Submitted { transaction_id: "tx-1".into() });
    let inv = repo.invoices.lock().unwrap()["100045"].clone();
    assert_eq!(inv.status, InvoiceState::Pending);
    assert_eq!(inv.number, "100045");
    assert_eq!(inv.sent_by_integration, Some(SentByIntegration::Sent));
    assert_eq!(inv.generated_file, "N/A");
    assert_eq!(inv.transaction_id.as_deref(), Some("tx-1"));
    let feed = repo.feeds.lock().unwrap()[0].clone();
    assert_eq!(
        (feed.external_id.as_str(), feed.feed_type.as_str(), feed.status.as_str(), feed.sent_objects_count),
        ("tx-1", "Order Invoice", "Processing", 1)
    );
    assert_eq!(feed.submitted_date, "2025-11-20T09:30:15.250Z");
}

#[tokio::test]
async fn redelivery_and_duplicates_never_post_twice() {
    let (repo, now) = repo_with("v01-shipped-order.json");
    let api = Api::new(vec![]);
    submit_order(&repo, &api, "100045", "msg-1", now).await.unwrap();
    let again = submit_order(&repo, &api, "100045", "msg-1", now).await.unwrap();
    let dup = submit_order(&repo, &api, "100045", "msg-2", now).await.unwrap();
    assert_eq!(again, SubmitOutcome::AlreadyClaimed { status: InvoiceState::Pending });
    assert_eq!(dup, SubmitOutcome::AlreadyClaimed { status: InvoiceState::Pending });
    assert_eq!(api.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn rejection_becomes_invoice_error_and_order_error() {
    let (repo, now) = repo_with("v01-shipped-order.json");
    let api = Api::new(vec![SubmitResult::Rejected { status: 400, code: "InvalidInput".into(), message: "Invalid countryCode".into() }]);
    let out = submit_order(&repo, &api, "100045", "m", now).await.unwrap();
    assert!(matches!(out, SubmitOutcome::Rejected { .. }));
    let inv = repo.invoices.lock().unwrap()["100045"].clone();
    assert_eq!(inv.status, InvoiceState::Error);
    assert_eq!(inv.sent_by_integration, Some(SentByIntegration::Error));
    assert_eq!(inv.integration_error.as_deref(), Some("HTTP 400 InvalidInput: Invalid countryCode"));
    let e = repo.errors.lock().unwrap()[0].clone();
    assert_eq!((e.source.as_str(), e.code.as_str(), e.message.as_str()), ("submitInvoices", "InvalidInput", "Invalid countryCode"));
    // Not retried: a redelivery finds the Error invoice.
    assert!(matches!(submit_order(&repo, &api, "100045", "m", now).await.unwrap(), SubmitOutcome::AlreadyClaimed { .. }));
    assert_eq!(api.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn transient_failure_releases_the_claim_for_the_retry() {
    let (repo, now) = repo_with("v01-shipped-order.json");
    let api = Api::new(vec![SubmitResult::Transient("HTTP 503".into())]);
    let e = submit_order(&repo, &api, "100045", "m", now).await.unwrap_err();
    assert!(matches!(e, SubmitError::Transient(_)));
    assert!(repo.invoices.lock().unwrap().is_empty(), "claim released");
    let out = submit_order(&repo, &api, "100045", "m", now).await.unwrap();
    assert!(matches!(out, SubmitOutcome::Submitted { .. }));
    assert_eq!(api.sent.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_outcome_is_kept_and_never_resent() {
    let (repo, now) = repo_with("v01-shipped-order.json");
    let api = Api::new(vec![SubmitResult::Unknown("timeout after sending".into())]);
    assert_eq!(submit_order(&repo, &api, "100045", "m", now).await.unwrap(), SubmitOutcome::Unknown);
    let inv = repo.invoices.lock().unwrap()["100045"].clone();
    assert_eq!(inv.status, InvoiceState::Unknown);
    assert!(inv.request_body.unwrap().contains("\"invoices\""), "the body is kept for reconciliation");
    assert!(matches!(
        submit_order(&repo, &api, "100045", "m2", now).await.unwrap(),
        SubmitOutcome::AlreadyClaimed { status: InvoiceState::Unknown }
    ));
    assert_eq!(api.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn mapping_errors_become_order_errors_and_nothing_is_sent() {
    let (repo, now) = repo_with("v03-no-seller-for-vendor-id.json");
    let api = Api::new(vec![]);
    let out = submit_order(&repo, &api, "100045", "m", now).await.unwrap();
    assert_eq!(out, SubmitOutcome::MappingFailed { codes: vec!["no-seller-for-vendor-id".into()] });
    assert!(api.sent.lock().unwrap().is_empty());
    assert!(repo.invoices.lock().unwrap().is_empty());
    let e = repo.errors.lock().unwrap()[0].clone();
    assert_eq!((e.source, e.source.as_str()), (OrderErrorSource::Mapping, "mapping"));
    assert_eq!(e.code, MappingCode::NoSellerForVendorId.as_str(), "the Order Error's code is the mapping code's spelling");
    assert_eq!(e.code, "no-seller-for-vendor-id");
}

#[tokio::test]
async fn ineligible_order_is_skipped_with_reasons_and_unknown_orders_reported() {
    let (repo, now) = repo_with("v04-not-eligible.json");
    let api = Api::new(vec![]);
    let SubmitOutcome::Skipped { reasons } = submit_order(&repo, &api, "100045", "m", now).await.unwrap() else { panic!() };
    assert_eq!(reasons.len(), 2);
    assert_eq!(submit_order(&repo, &api, "nope", "m", now).await.unwrap(), SubmitOutcome::OrderNotFound);
    assert!(api.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn delivery_location_address_is_stored_back_on_the_order() {
    let (repo, now) = repo_with("v02-address-from-delivery-locations.json");
    let api = Api::new(vec![]);
    submit_order(&repo, &api, "100045", "m", now).await.unwrap();
    assert_eq!(repo.shipping.lock().unwrap()["100045"].city.as_deref(), Some("San Bernardino"));
}
