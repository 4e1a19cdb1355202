//! Placing POs exactly once, with an in-memory PO store and a scripted Ordering API.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use invoice_domain::core::PortError;
use invoice_domain::ordering::place::{place_po, read_message, PlaceError, PlaceOutcome};
use invoice_domain::ordering::ports::{DetailsResult, OrderingApi, PlaceResult, PoRepository};
use invoice_domain::ordering::records::{ClaimOutcome, PoRecord, PoState};
use invoice_domain::ordering::PlaceOrderRequest;

const PO: &str = include_str!("../../../tests/fixtures/po/po-4711.json");
const REFUSED: &str = include_str!("../../../tests/fixtures/po/po-refused.json");

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc)
}

/// An answer for PO-4711 accepting `q10` of line 10 (of 2) and all of line 0020.
fn answer(q10: u32) -> String {
    let rejected = if q10 < 2 {
        format!(
            r#"{{"quantity": {}, "artifacts": [{{"rejectionArtifactType": "RejectionCode", "code": "QUANTITY_UNAVAILABLE"}}]}}"#,
            2 - q10
        )
    } else {
        String::new()
    };
    let accepted10 = if q10 > 0 {
        format!(
            r#"{{"acceptedItemType": "SingleAcceptedItem", "quantity": {q10}, "artifacts": [
                {{"acceptanceArtifactType": "UnitPrice", "amount": {{"currencyCode": "USD", "amount": 60.00}}}},
                {{"acceptanceArtifactType": "OrderIdentifier", "identifier": "113-0000001-0000001"}}]}}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"lineItems": [
          {{"externalId": "10", "acceptedItems": [{accepted10}], "rejectedItems": [{rejected}]}},
          {{"externalId": "0020", "acceptedItems": [{{"acceptedItemType": "SingleAcceptedItem", "quantity": 1, "artifacts": [
                {{"acceptanceArtifactType": "UnitPrice", "amount": {{"currencyCode": "USD", "amount": 89.99}}}},
                {{"acceptanceArtifactType": "OrderIdentifier", "identifier": "113-0000001-0000002"}}]}}], "rejectedItems": []}}],
          "acceptanceArtifacts": [], "rejectionArtifacts": []}}"#
    )
}

#[derive(Default)]
struct Mem {
    pos: Mutex<BTreeMap<String, PoRecord>>,
    pointers: Mutex<BTreeMap<String, String>>,
}

impl PoRepository for Mem {
    async fn get(&self, po: &str) -> Result<Option<PoRecord>, PortError> {
        Ok(self.pos.lock().unwrap().get(po).cloned())
    }
    async fn claim(&self, r: &PoRecord) -> Result<ClaimOutcome, PortError> {
        let mut m = self.pos.lock().unwrap();
        match m.get(&r.po_number) {
            Some(e) if e.state != PoState::Refused => Ok(ClaimOutcome::Exists(Box::new(e.clone()))),
            _ => {
                m.insert(r.po_number.clone(), r.clone());
                Ok(ClaimOutcome::Claimed)
            }
        }
    }
    async fn take_over(&self, r: &PoRecord, previous: &str) -> Result<bool, PortError> {
        let mut m = self.pos.lock().unwrap();
        match m.get_mut(&r.po_number) {
            Some(e) if e.state == PoState::Placing && e.claim_id == previous => {
                e.claim_id = r.claim_id.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn record(&self, r: &PoRecord) -> Result<bool, PortError> {
        let mut m = self.pos.lock().unwrap();
        match m.get(&r.po_number) {
            Some(e) if e.state == PoState::Placing && e.claim_id == r.claim_id => {
                for id in &r.amazon_order_ids {
                    self.pointers.lock().unwrap().insert(id.clone(), r.po_number.clone());
                }
                m.insert(r.po_number.clone(), r.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn put_refused(&self, r: &PoRecord) -> Result<(), PortError> {
        let mut m = self.pos.lock().unwrap();
        if m.get(&r.po_number).is_none_or(|e| e.state == PoState::Refused) {
            m.insert(r.po_number.clone(), r.clone());
        }
        Ok(())
    }
    async fn release(&self, po: &str, claim: &str) -> Result<(), PortError> {
        let mut m = self.pos.lock().unwrap();
        if m.get(po).is_some_and(|e| e.state == PoState::Placing && e.claim_id == claim) {
            m.remove(po);
        }
        Ok(())
    }
    async fn po_of_amazon_order(&self, id: &str) -> Result<Option<String>, PortError> {
        Ok(self.pointers.lock().unwrap().get(id).cloned())
    }
}

/// Answers in the order given; records what was sent.
#[derive(Default)]
struct Api {
    place: Mutex<VecDeque<PlaceResult>>,
    details: Mutex<VecDeque<DetailsResult>>,
    sent: Mutex<Vec<String>>,
    asked: Mutex<Vec<(String, String)>>,
}

impl OrderingApi for Api {
    async fn place(&self, body: &PlaceOrderRequest) -> PlaceResult {
        self.sent.lock().unwrap().push(body.to_json());
        self.place.lock().unwrap().pop_front().expect("an unexpected placeOrder")
    }
    async fn details(&self, external_id: &str, email: &str) -> DetailsResult {
        self.asked.lock().unwrap().push((external_id.into(), email.into()));
        self.details.lock().unwrap().pop_front().expect("an unexpected orderDetails")
    }
}

async fn run(repo: &Mem, api: &Api, text: &str, claim: &str) -> Result<PlaceOutcome, PlaceError> {
    let msg = read_message(&format!(r#"{{"company": "acme", "po": {text}}}"#)).unwrap();
    place_po(repo, api, &msg.company, &msg.po, text, claim, now()).await
}

#[tokio::test]
async fn a_po_is_placed_once_and_a_redelivery_sends_nothing() {
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Answered(answer(2)));
    let out = run(&repo, &api, PO, "d1").await.unwrap();
    assert_eq!(
        out,
        PlaceOutcome::Recorded {
            state: PoState::Placed,
            amazon_order_ids: vec!["113-0000001-0000001".into(), "113-0000001-0000002".into()],
            resolved: false
        }
    );
    let r = repo.get("PO-4711").await.unwrap().unwrap();
    assert_eq!((r.state, r.external_id.as_str(), r.message.as_deref()), (PoState::Placed, "acme-PO-4711", None));
    assert_eq!(r.placed.as_ref().unwrap().line("20").unwrap().accepted_quantity(), 1);
    assert_eq!(repo.po_of_amazon_order("113-0000001-0000002").await.unwrap().as_deref(), Some("PO-4711"));
    let sent = api.sent.lock().unwrap()[0].clone();
    assert!(sent.contains(r#""externalId":"acme-PO-4711""#) && sent.contains(r#""externalId":"0020""#), "{sent}");

    assert_eq!(run(&repo, &api, PO, "d2").await.unwrap(), PlaceOutcome::AlreadyDone { state: PoState::Placed });
    assert_eq!(api.sent.lock().unwrap().len(), 1, "never placed twice");
}

#[tokio::test]
async fn a_partial_rejection_is_recorded_in_words() {
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Answered(answer(1)));
    let out = run(&repo, &api, PO, "d1").await.unwrap();
    assert!(matches!(out, PlaceOutcome::Recorded { state: PoState::PartiallyRejected, .. }), "{out:?}");
    let r = repo.get("PO-4711").await.unwrap().unwrap();
    let words = r.message.unwrap();
    assert!(words.contains("line 10: 1 rejected") && words.contains("QUANTITY_UNAVAILABLE"), "{words}");

    // Nothing accepted: Rejected, with each line's reason.
    let (repo, api) = (Mem::default(), Api::default());
    let none = r#"{"lineItems": [
        {"externalId": "10", "acceptedItems": [], "rejectedItems": [{"quantity": 2, "artifacts": [
            {"rejectionArtifactType": "BrokenUnitPriceExpectation",
             "boundary": {"currencyCode": "USD", "amount": 60.00}, "actualAmount": {"currencyCode": "USD", "amount": 64.50}}]}]},
        {"externalId": "0020", "acceptedItems": [], "rejectedItems": [{"quantity": 1, "artifacts": [
            {"rejectionArtifactType": "RejectionCode", "code": "ITEM_UNAVAILABLE"}]}]}],
        "acceptanceArtifacts": [], "rejectionArtifacts": []}"#;
    api.place.lock().unwrap().push_back(PlaceResult::Answered(none.into()));
    let out = run(&repo, &api, PO, "d1").await.unwrap();
    assert_eq!(out, PlaceOutcome::Recorded { state: PoState::Rejected, amazon_order_ids: vec![], resolved: false });
    let words = repo.get("PO-4711").await.unwrap().unwrap().message.unwrap();
    assert!(words.contains("line 10: 2 rejected") && words.contains("64.50") && words.contains("ITEM_UNAVAILABLE"), "{words}");
}

#[tokio::test]
async fn a_lost_answer_is_resolved_with_order_details_before_anything_is_resent() {
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Unknown("timeout after sending".into()));
    assert!(matches!(run(&repo, &api, PO, "d1").await, Err(PlaceError::Unresolved(_))));
    assert_eq!(repo.get("PO-4711").await.unwrap().unwrap().state, PoState::Placing, "the claim stays");

    // The redelivery asks first, finds the order, records it, sends nothing.
    api.details.lock().unwrap().push_back(DetailsResult::Found(answer(2)));
    let out = run(&repo, &api, PO, "d2").await.unwrap();
    assert!(matches!(out, PlaceOutcome::Recorded { state: PoState::Placed, resolved: true, .. }), "{out:?}");
    assert_eq!(api.sent.lock().unwrap().len(), 1);
    assert_eq!(api.asked.lock().unwrap()[0], ("acme-PO-4711".to_string(), "buyer@acme.example".to_string()));
    assert_eq!(repo.get("PO-4711").await.unwrap().unwrap().claim_id, "d2");
}

#[tokio::test]
async fn an_order_amazon_never_got_is_placed_by_the_next_delivery() {
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Unknown("connection reset".into()));
    assert!(run(&repo, &api, PO, "d1").await.is_err());
    api.details.lock().unwrap().push_back(DetailsResult::NotFound);
    api.place.lock().unwrap().push_back(PlaceResult::Answered(answer(2)));
    assert!(matches!(run(&repo, &api, PO, "d2").await.unwrap(), PlaceOutcome::Recorded { resolved: false, .. }));
    let sent = api.sent.lock().unwrap().clone();
    assert_eq!((sent.len(), &sent[0]), (2, &sent[1]), "the same body, the same externalId");
    // Unanswerable now: retried later, nothing sent.
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Unknown("x".into()));
    let _ = run(&repo, &api, PO, "d1").await;
    api.details.lock().unwrap().push_back(DetailsResult::Unavailable("503".into()));
    assert!(matches!(run(&repo, &api, PO, "d2").await, Err(PlaceError::Transient(_))));
    assert_eq!(api.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn transient_failures_release_the_claim_and_rejections_are_final() {
    let (repo, api) = (Mem::default(), Api::default());
    api.place.lock().unwrap().push_back(PlaceResult::Transient("429 after retries".into()));
    assert!(matches!(run(&repo, &api, PO, "d1").await, Err(PlaceError::Transient(_))));
    assert!(repo.get("PO-4711").await.unwrap().is_none(), "released");
    api.place.lock().unwrap().push_back(PlaceResult::NotAuthorized("invalid_grant".into()));
    assert!(matches!(run(&repo, &api, PO, "d2").await, Err(PlaceError::NotAuthorized(_))));
    assert!(repo.get("PO-4711").await.unwrap().is_none());
    api.place.lock().unwrap().push_back(PlaceResult::Rejected { status: 400, code: "InvalidInput".into(), message: "bad group".into() });
    assert_eq!(run(&repo, &api, PO, "d3").await.unwrap(), PlaceOutcome::Error { message: "HTTP 400 InvalidInput: bad group".into() });
    let r = repo.get("PO-4711").await.unwrap().unwrap();
    assert_eq!((r.state, r.message.as_deref()), (PoState::Error, Some("HTTP 400 InvalidInput: bad group")));
    assert_eq!(run(&repo, &api, PO, "d4").await.unwrap(), PlaceOutcome::AlreadyDone { state: PoState::Error });
}

#[tokio::test]
async fn an_invalid_po_is_refused_with_every_problem_and_never_sent_and_a_corrected_one_is_placed() {
    let (repo, api) = (Mem::default(), Api::default());
    let PlaceOutcome::Refused { codes } = run(&repo, &api, REFUSED, "d1").await.unwrap() else { panic!() };
    assert!(codes.len() >= 2, "{codes:?}");
    assert!(api.sent.lock().unwrap().is_empty());
    let number = read_message(&format!(r#"{{"company": "acme", "po": {REFUSED}}}"#)).unwrap().po.po_number;
    let r = repo.get(&number).await.unwrap().unwrap();
    assert_eq!(r.state, PoState::Refused);
    assert_eq!(r.input.as_deref(), Some(REFUSED), "the PO as received is kept");
    assert!(r.problems.iter().all(|p| !p.message.is_empty()));

    // The same number, corrected: placed.
    let fixed = PO.replace("PO-4711", &number);
    api.place.lock().unwrap().push_back(PlaceResult::Answered(answer(2)));
    assert!(matches!(run(&repo, &api, &fixed, "d2").await.unwrap(), PlaceOutcome::Recorded { .. }));
}

#[test]
fn messages_are_read_with_their_amounts_digits() {
    let m = read_message(&format!(r#"{{"company": "acme", "po": {PO}}}"#)).unwrap();
    assert_eq!(m.po.lines[1].expected_unit_price.as_deref(), Some("89.99"));
    assert!(read_message(r#"{"po": {}}"#).unwrap_err().contains("not a PO message"));
}
