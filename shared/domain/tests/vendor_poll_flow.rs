//! The status poller's transitions and pass on in-memory ports.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use invoice_domain::core::PortError;
use invoice_domain::vendor::poll::*;
use invoice_domain::vendor::ports::*;
use invoice_domain::vendor::records::{MarketplaceFeed, OrderError};

fn feed(tx: &str, submitted: &str) -> MarketplaceFeed {
    MarketplaceFeed {
        external_id: tx.into(),
        feed_type: "Order Invoice".into(),
        status: "Processing".into(),
        submitted_date: submitted.into(),
        sent_objects_count: 1,
        order_id: format!("O-{tx}"),
        reconciliation: false,
    }
}

#[derive(Default)]
struct Repo {
    feeds: Mutex<BTreeMap<String, MarketplaceFeed>>,
    resolutions: Mutex<Vec<(String, Resolution)>>,
    errors: Mutex<BTreeMap<(String, String), OrderError>>,
}

impl FeedRepository for Repo {
    async fn processing_feeds_page(&self, limit: i32, start: Option<String>) -> Result<FeedPage, PortError> {
        let mut all: Vec<MarketplaceFeed> = self.feeds.lock().unwrap().values().filter(|f| f.status == "Processing").cloned().collect();
        all.sort_by(|a, b| (&a.submitted_date, &a.external_id).cmp(&(&b.submitted_date, &b.external_id)));
        // Position by key, as DynamoDB's ExclusiveStartKey does: the cursor feed itself may
        // have left the Processing list meanwhile (it was just resolved).
        let cursor = start.map(|s| {
            let f = self.feeds.lock().unwrap()[&s].clone();
            (f.submitted_date, f.external_id)
        });
        let rest: Vec<MarketplaceFeed> =
            all.into_iter().filter(|f| cursor.as_ref().is_none_or(|c| (f.submitted_date.clone(), f.external_id.clone()) > *c)).collect();
        let page: Vec<MarketplaceFeed> = rest.iter().take(limit as usize).cloned().collect();
        let next = if page.len() < rest.len() { page.last().map(|f| f.external_id.clone()) } else { None };
        Ok(FeedPage { feeds: page, next })
    }
    async fn resolve(&self, feed: &MarketplaceFeed, r: &Resolution, _at: &str) -> Result<Applied, PortError> {
        let mut feeds = self.feeds.lock().unwrap();
        let f = feeds.get_mut(&feed.external_id).unwrap();
        if f.status != "Processing" {
            return Ok(Applied::AlreadyResolved);
        }
        f.status = match r {
            Resolution::Success => "Success".into(),
            Resolution::Failure { order_errors, .. } => {
                for e in order_errors {
                    self.errors.lock().unwrap().insert((e.order_id.clone(), e.code.clone()), e.clone());
                }
                "Failure".into()
            }
        };
        self.resolutions.lock().unwrap().push((feed.external_id.clone(), r.clone()));
        Ok(Applied::Done)
    }
}

struct Api(BTreeMap<String, TxStatus>);

impl TransactionApi for Api {
    async fn transaction(&self, id: &str) -> TxStatus {
        self.0.get(id).cloned().unwrap_or(TxStatus::Processing)
    }
}

fn now() -> DateTime<Utc> {
    "2025-11-22T12:00:00Z".parse().unwrap()
}

#[test]
fn transitions() {
    let f = feed("t1", "2025-11-20T10:00:00.000Z");
    assert_eq!(resolution_for(&f, &TxStatus::Success, "x"), Some(Resolution::Success));
    assert_eq!(resolution_for(&f, &TxStatus::Processing, "x"), None);
    assert_eq!(resolution_for(&f, &TxStatus::Unavailable("HTTP 429".into()), "x"), None, "never a false Error");
    let Some(Resolution::Failure { integration_error, order_errors }) =
        resolution_for(&f, &TxStatus::Failure(vec![("INVALID_ORDER_ID".into(), "Invalid order ID.".into())]), "2025-11-22T12:00:00.000Z")
    else {
        panic!()
    };
    assert_eq!(integration_error, "INVALID_ORDER_ID: Invalid order ID.");
    assert_eq!(order_errors.len(), 1);
    assert_eq!((order_errors[0].order_id.as_str(), order_errors[0].source.as_str()), ("O-t1", "getTransaction"));
    let Some(Resolution::Failure { integration_error, .. }) = resolution_for(&f, &TxStatus::Failure(vec![]), "x") else { panic!() };
    assert!(integration_error.contains("without details"));
}

#[test]
fn staleness() {
    let f = feed("t1", "2025-11-20T10:00:00.000Z");
    assert!(is_stale(&f, now(), Duration::hours(48)));
    assert!(!is_stale(&f, now(), Duration::hours(51)));
}

#[tokio::test]
async fn a_pass_resolves_success_and_failure_leaves_processing_and_flags_stale() {
    let repo = Repo::default();
    for (tx, at) in [
        ("t1", "2025-11-22T10:00:00.000Z"),
        ("t2", "2025-11-22T10:01:00.000Z"),
        ("t3", "2025-11-19T10:00:00.000Z"),
        ("t4", "2025-11-22T10:02:00.000Z"),
    ] {
        repo.feeds.lock().unwrap().insert(tx.into(), feed(tx, at));
    }
    let api = Api(BTreeMap::from([
        ("t1".to_string(), TxStatus::Success),
        ("t2".to_string(), TxStatus::Failure(vec![("E1".into(), "bad".into())])),
        ("t4".to_string(), TxStatus::Unavailable("HTTP 503".into())),
    ]));
    let limits = PollLimits { page_size: 2, ..PollLimits::default() };
    let r = poll_pass(&repo, &api, now(), limits, || true).await.unwrap();
    assert_eq!((r.checked, r.succeeded, r.failed, r.still_processing, r.unavailable), (4, 1, 1, 1, 1));
    assert_eq!(r.stale, vec!["t3"]);
    assert!(!r.stopped_early);
    let feeds = repo.feeds.lock().unwrap();
    assert_eq!(feeds["t1"].status, "Success");
    assert_eq!(feeds["t2"].status, "Failure");
    assert_eq!(feeds["t3"].status, "Processing");
    assert_eq!(feeds["t4"].status, "Processing");
}

#[tokio::test]
async fn the_pass_stops_before_the_deadline_and_the_next_run_carries_on() {
    let repo = Repo::default();
    for i in 0..10 {
        let tx = format!("t{i:02}");
        repo.feeds.lock().unwrap().insert(tx.clone(), feed(&tx, &format!("2025-11-22T10:{i:02}:00.000Z")));
    }
    let api = Api((0..10).map(|i| (format!("t{i:02}"), TxStatus::Success)).collect());
    let mut budget = 4;
    let r = poll_pass(&repo, &api, now(), PollLimits { page_size: 3, ..PollLimits::default() }, move || {
        budget -= 1;
        budget >= 0
    })
    .await
    .unwrap();
    assert_eq!((r.checked, r.succeeded, r.stopped_early), (4, 4, true));
    let oldest_left = repo.processing_feeds_page(1, None).await.unwrap().feeds[0].external_id.clone();
    assert_eq!(oldest_left, "t04", "oldest first, carries on where it stopped");
    let r2 = poll_pass(&repo, &api, now(), PollLimits::default(), || true).await.unwrap();
    assert_eq!(r2.succeeded, 6);
}

#[tokio::test]
async fn a_second_pass_never_applies_an_outcome_twice() {
    let repo = Repo::default();
    repo.feeds.lock().unwrap().insert("t1".into(), feed("t1", "2025-11-22T10:00:00.000Z"));
    let api = Api(BTreeMap::from([("t1".to_string(), TxStatus::Failure(vec![("E".into(), "m".into())]))]));
    poll_pass(&repo, &api, now(), PollLimits::default(), || true).await.unwrap();
    let again = poll_pass(&repo, &api, now(), PollLimits::default(), || true).await.unwrap();
    assert_eq!(again.checked, 0);
    assert_eq!(repo.resolutions.lock().unwrap().len(), 1);
    assert_eq!(repo.errors.lock().unwrap().len(), 1);
}
