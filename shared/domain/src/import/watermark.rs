//! Where the import is in a company's feed of transactions, and how it moves. Pure: every
//! time is given.
//!
//! # The watermark
//!
//! `getTransactions` filters on the feed date (when a transaction can be queried), so the
//! import's position is a feed date: the **watermark** is a time before which every
//! transaction is done — stored, already stored, completed or flagged against a stored
//! invoice, refused with its reason, or skipped. A daily run reads the window
//! `[watermark − FEED_OVERLAP, now]` (the first one `[start date, now]`), page by page.
//!
//! The pages are not said to be in feed-date order, so a run can only move the watermark once
//! it has read its last page: to the window's end, or — when a transaction of the run is not
//! done (its invoice is not final yet, or its storing failed) — to the earliest feed date of
//! such a transaction, so the next run reads it again. Until then the watermark stays where it
//! was and the run's progress (its next page token, what it holds back) is kept beside it: a
//! crash mid-page resumes at that page, whose stored invoices are found already stored (their
//! claim is keyed by supplier and number), so a re-run imports nothing twice and loses nothing.
//! An invoice still not final [`PENDING_LIMIT_DAYS`] after its feed date no longer holds the
//! watermark: it is listed as abandoned, for a person.
//!
//! # Backfill
//!
//! Moving the start date back (within [`super::settings::MAX_BACKFILL_DAYS`] of the
//! connection) re-reads the feed from the new start date up to the watermark, with the new
//! start date as the invoice-date filter: invoices issued in between, whatever their feed date,
//! are imported; those already stored are found stored.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::answer::Transaction;
use super::batch::transactions_query;
use super::codes::{ImportCode, ImportProblem};
use super::mapping::Assembly;
use super::settings::check_start_date;

/// How far before the watermark a daily run starts reading (clock skew, late feed dates).
pub const FEED_OVERLAP: Duration = Duration::minutes(10);
/// How long an invoice that is not final holds the watermark.
pub const PENDING_LIMIT_DAYS: i64 = 60;

/// Midnight UTC of a date: where a start date begins in feed time.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// A feed-date window (`feedStartDate`, `feedEndDate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The query of its first page.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        transactions_query(self.start, self.end)
    }
}

/// Which window a run reads. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Daily,
    Backfill,
}

/// A run over one window, page by page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub kind: RunKind,
    pub window: Window,
    /// The token of the next page; none: the window's first page.
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub pages_done: u32,
    /// The earliest feed date of a transaction of the run that is not done.
    #[serde(default)]
    pub hold: Option<DateTime<Utc>>,
    /// Transactions given up (not final for longer than [`PENDING_LIMIT_DAYS`]).
    #[serde(default)]
    pub abandoned: Vec<String>,
}

impl Run {
    fn new(kind: RunKind, window: Window) -> Run {
        Run { kind, window, next_page_token: None, pages_done: 0, hold: None, abandoned: Vec::new() }
    }

    /// The query of its next page: the window for the first, the token alone after.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        match &self.next_page_token {
            Some(t) => super::batch::next_page_query(t),
            None => self.window.query(),
        }
    }

    /// The same window from its first page (when Amazon refuses a resumed token).
    pub fn restart(&self) -> Run {
        Run::new(self.kind, self.window)
    }
}

/// A re-read of `[from, until)` after the start date moved back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A company's position in its feed: stored after every page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCursor {
    /// Every transaction with a feed date before it is done; none before the first run.
    #[serde(default)]
    pub watermark: Option<DateTime<Utc>>,
    #[serde(default)]
    pub backfill: Option<Backfill>,
    /// The run in progress.
    #[serde(default)]
    pub run: Option<Run>,
}

/// What became of a transaction of a page. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "kebab-case")]
pub enum TxOutcome {
    /// Its invoice was stored.
    Stored,
    /// Its invoice was found stored (by this import earlier, or a re-run).
    AlreadyStored,
    /// The stored invoice of the same number was completed.
    Completed,
    /// Kept beside the stored invoice of the same number for a person.
    Flagged,
    /// Never importable as it is; recorded with its reason.
    Refused,
    /// Nothing to import (no line, or an invoice before the start date).
    Skipped,
    /// Its invoice is not final yet: read again later.
    Pending,
    /// Storing it failed (the store, the API): read again later.
    Failed,
}

impl TxOutcome {
    /// The outcome of an invoice the mapping refused: not final yet is pending (read again),
    /// before the start date is skipped, any other refusal is recorded (refused).
    pub fn of_problem(problem: &ImportProblem) -> TxOutcome {
        match problem.code {
            ImportCode::NotFinalised => TxOutcome::Pending,
            ImportCode::BeforeStartDate => TxOutcome::Skipped,
            _ => TxOutcome::Refused,
        }
    }

    /// Done: it does not hold the watermark.
    pub fn is_done(&self) -> bool {
        !matches!(self, TxOutcome::Pending | TxOutcome::Failed)
    }

    /// The worse of two outcomes of one transaction (a failure, then a pending one, first).
    fn rank(&self) -> u8 {
        match self {
            TxOutcome::Failed => 0,
            TxOutcome::Pending => 1,
            TxOutcome::Flagged => 2,
            TxOutcome::Refused => 3,
            _ => 4,
        }
    }
}

/// One transaction of a page and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResult {
    pub transaction_id: Option<String>,
    pub feed_date: Option<DateTime<Utc>>,
    pub outcome: TxOutcome,
}

impl TxResult {
    pub fn new(t: &Transaction, outcome: TxOutcome) -> TxResult {
        TxResult { transaction_id: t.transaction_id.clone(), feed_date: t.feed_date, outcome }
    }
}

/// The result of each transaction of a page, from the outcome of each invoice
/// (`invoice_outcome(number)`) and the lines [`super::mapping::assemble`] held back or
/// refused: the worst of its parts (failed, then pending, first); a transaction with no part
/// (no line) is skipped.
pub fn transaction_results(
    transactions: &[Transaction],
    assembly: &Assembly,
    invoice_outcome: impl Fn(&str) -> TxOutcome,
) -> Vec<TxResult> {
    transactions
        .iter()
        .map(|t| {
            let id = &t.transaction_id;
            let parts = assembly
                .invoices
                .iter()
                .filter(|i| i.transactions.iter().any(|x| x.transaction_id == *id))
                .map(|i| invoice_outcome(&i.number))
                .chain(assembly.pending.iter().filter(|h| h.transaction_id == *id).map(|_| TxOutcome::Pending))
                .chain(assembly.refused.iter().filter(|h| h.transaction_id == *id).map(|_| TxOutcome::Refused));
            let worst = parts.min_by_key(TxOutcome::rank).unwrap_or(TxOutcome::Skipped);
            TxResult::new(t, worst)
        })
        .collect()
}

impl ImportCursor {
    /// The run to do now: the one in progress (from its next page), else the backfill, else
    /// the daily window `[watermark − FEED_OVERLAP, now]` (`[start date, now]` at first, never
    /// before the start date). `None`: nothing to read.
    ///
    /// A daily invocation loops `next_run` → read a page → [`advance`] until a daily run is
    /// finished ([`ImportCursor::run`] is none again after its last page).
    pub fn next_run(&self, start_date: NaiveDate, now: DateTime<Utc>) -> Option<Run> {
        if let Some(run) = &self.run {
            return Some(run.clone());
        }
        if let Some(b) = self.backfill.filter(|b| b.from < b.until) {
            return Some(Run::new(RunKind::Backfill, Window { start: b.from, end: b.until }));
        }
        let floor = midnight(start_date);
        let start = self.watermark.map_or(floor, |w| (w - FEED_OVERLAP).max(floor));
        (start < now).then(|| Run::new(RunKind::Daily, Window { start, end: now }))
    }
}

/// The cursor after one page of `run` (`page`: each of its transactions' result;
/// `next_page_token`: the page's). Not the last page: the watermark stays, the run goes on from
/// the token. The last page: the run ends and the watermark (or the backfill) moves past what
/// is done — up to the earliest feed date of a transaction that is not.
pub fn advance(cursor: &ImportCursor, run: &Run, page: &[TxResult], next_page_token: Option<&str>, now: DateTime<Utc>) -> ImportCursor {
    let mut run = run.clone();
    let give_up_before = now - Duration::days(PENDING_LIMIT_DAYS);
    for r in page.iter().filter(|r| !r.outcome.is_done()) {
        let feed = r.feed_date.unwrap_or(run.window.start);
        if r.outcome == TxOutcome::Pending && r.feed_date.is_some_and(|f| f < give_up_before) {
            run.abandoned.push(r.transaction_id.clone().unwrap_or_else(|| "(no transactionId)".into()));
            continue;
        }
        run.hold = Some(run.hold.map_or(feed, |h| h.min(feed)));
    }
    run.pages_done += 1;
    let mut next = cursor.clone();
    if let Some(token) = next_page_token.map(str::trim).filter(|t| !t.is_empty()) {
        run.next_page_token = Some(token.to_string());
        next.run = Some(run);
        return next;
    }
    next.run = None;
    let done_until = run.hold.map_or(run.window.end, |h| h.min(run.window.end));
    match run.kind {
        RunKind::Daily => next.watermark = Some(done_until),
        RunKind::Backfill => {
            // What is left of the backfill once [window.start, done_until) is done.
            next.backfill = cursor.backfill.and_then(|b| {
                let left = b.from < run.window.start;
                let right = done_until < b.until;
                match (left, right) {
                    (false, false) => None,
                    (true, false) => Some(Backfill { from: b.from, until: run.window.start }),
                    (false, true) => Some(Backfill { from: done_until.max(b.from), until: b.until }),
                    (true, true) => Some(b),
                }
            });
        }
    }
    next
}

/// The cursor after the company moves its start date from `old_start` to `new_start`
/// (checked by [`check_start_date`]). Back: the feed from the new start date up to the
/// watermark is read again (a backfill; none before the first run, which starts there
/// anyway). Forward: nothing is undone; a pending backfill keeps only what is after the new
/// start date.
pub fn move_start_date(
    cursor: &ImportCursor,
    old_start: NaiveDate,
    new_start: NaiveDate,
    connected_at: NaiveDate,
    today: NaiveDate,
) -> Result<ImportCursor, ImportProblem> {
    check_start_date(new_start, connected_at, today)?;
    let mut next = cursor.clone();
    let from = midnight(new_start);
    if new_start < old_start {
        if let Some(until) = cursor.watermark {
            next.backfill = Some(match cursor.backfill {
                Some(b) => Backfill { from: b.from.min(from), until: b.until.max(until) },
                None => Backfill { from, until },
            });
        }
    } else if let Some(b) = cursor.backfill {
        let b = Backfill { from: b.from.max(from), until: b.until };
        next.backfill = (b.from < b.until).then_some(b);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn tx(id: &str, feed: &str) -> TxResult {
        TxResult { transaction_id: Some(id.into()), feed_date: Some(t(feed)), outcome: TxOutcome::Stored }
    }
    fn with(mut r: TxResult, o: TxOutcome) -> TxResult {
        r.outcome = o;
        r
    }

    #[test]
    fn the_first_window_starts_at_the_start_date_then_at_the_watermark() {
        let c = ImportCursor::default();
        let run = c.next_run(d("2026-03-01"), t("2026-03-02T06:00:00Z")).unwrap();
        assert_eq!(run.kind, RunKind::Daily);
        assert_eq!(run.window, Window { start: t("2026-03-01T00:00:00Z"), end: t("2026-03-02T06:00:00Z") });
        assert_eq!(run.query()[0], ("feedStartDate", "2026-03-01T00:00:00.000Z".to_string()));
        let c = ImportCursor { watermark: Some(t("2026-03-02T06:00:00Z")), ..Default::default() };
        let run = c.next_run(d("2026-03-01"), t("2026-03-03T06:00:00Z")).unwrap();
        assert_eq!(run.window.start, t("2026-03-02T05:50:00Z"), "the overlap");
        assert!(ImportCursor::default().next_run(d("2026-03-05"), t("2026-03-04T00:00:00Z")).is_none(), "a start date ahead: nothing");
    }

    #[test]
    fn the_watermark_moves_only_once_the_last_page_is_read() {
        let c = ImportCursor::default();
        let run = c.next_run(d("2026-03-01"), t("2026-03-03T06:00:00Z")).unwrap();
        let page1 = [tx("a", "2026-03-02T06:00:00Z"), tx("b", "2026-03-02T07:00:00Z")];
        let c1 = advance(&c, &run, &page1, Some("tok-2"), t("2026-03-03T06:00:00Z"));
        assert_eq!(c1.watermark, None, "not past a page while later pages are unread");
        let run2 = c1.next_run(d("2026-03-01"), t("2026-03-03T06:05:00Z")).unwrap();
        assert_eq!((run2.next_page_token.as_deref(), run2.pages_done), (Some("tok-2"), 1));
        assert_eq!(run2.query(), vec![("nextPageToken", "tok-2".to_string())], "the token alone");
        assert_eq!(run2.window, run.window, "a resumed run keeps its window");
        let page2 = [tx("c", "2026-03-03T05:00:00Z")];
        let c2 = advance(&c1, &run2, &page2, None, t("2026-03-03T06:05:00Z"));
        assert_eq!(c2.watermark, Some(t("2026-03-03T06:00:00Z")), "the window's end");
        assert_eq!(c2.run, None);
    }

    #[test]
    fn what_is_not_done_holds_the_watermark_at_its_feed_date() {
        let c = ImportCursor { watermark: Some(t("2026-03-01T00:10:00Z")), ..Default::default() };
        let now = t("2026-03-03T06:00:00Z");
        let run = c.next_run(d("2026-03-01"), now).unwrap();
        let page = [
            tx("a", "2026-03-01T08:00:00Z"),
            with(tx("b", "2026-03-02T09:00:00Z"), TxOutcome::Pending),
            with(tx("c", "2026-03-02T07:00:00Z"), TxOutcome::Failed),
            with(tx("d", "2026-03-01T09:00:00Z"), TxOutcome::Refused),
        ];
        let c1 = advance(&c, &run, &page, None, now);
        assert_eq!(c1.watermark, Some(t("2026-03-02T07:00:00Z")), "the earliest not done");
        let next = c1.next_run(d("2026-03-01"), t("2026-03-04T06:00:00Z")).unwrap();
        assert!(next.window.start <= t("2026-03-02T07:00:00Z"), "the next run reads it again");
        // A failure without a feed date holds the whole window.
        let c2 = advance(&c, &run, &[TxResult { transaction_id: None, feed_date: None, outcome: TxOutcome::Failed }], None, now);
        assert_eq!(c2.watermark, Some(run.window.start));
    }

    /// A page of the feed: (transaction id, feed date)s and its next page token.
    type Page = (Vec<(&'static str, &'static str)>, Option<&'static str>);

    /// A feed and a store, to run the import loop against and crash it anywhere.
    struct World {
        pages: Vec<Page>,
        stored: BTreeMap<&'static str, u32>,
    }

    impl World {
        fn new() -> World {
            World {
                pages: vec![
                    (vec![("t1", "2026-03-02T06:00:00Z"), ("t2", "2026-03-02T07:00:00Z")], Some("p2")),
                    (vec![("t3", "2026-03-02T05:00:00Z"), ("t4", "2026-03-03T01:00:00Z")], Some("p3")),
                    (vec![("t5", "2026-03-03T02:00:00Z")], None),
                ],
                stored: BTreeMap::new(),
            }
        }

        /// One invocation: pages until the daily run ends, or a crash after `crash_after`
        /// stored transactions (mid-page: nothing of the page is reported).
        fn invoke(&mut self, cursor: &mut ImportCursor, crash_after: Option<usize>) -> bool {
            let now = t("2026-03-03T06:00:00Z");
            let mut stores = 0;
            loop {
                let Some(run) = cursor.next_run(d("2026-03-01"), now) else { return true };
                let page = match run.next_page_token.as_deref() {
                    None => 0,
                    Some("p2") => 1,
                    Some(_) => 2,
                };
                let (txs, token) = self.pages[page].clone();
                let mut results = Vec::new();
                for (id, feed) in txs {
                    if crash_after == Some(stores) {
                        return false;
                    }
                    let n = self.stored.entry(id).or_default();
                    let outcome = if *n == 0 { TxOutcome::Stored } else { TxOutcome::AlreadyStored };
                    *n = 1; // a claim: the second store of the same invoice finds it stored
                    stores += 1;
                    results.push(TxResult { transaction_id: Some(id.into()), feed_date: Some(t(feed)), outcome });
                }
                *cursor = advance(cursor, &run, &results, token, now);
                if cursor.run.is_none() && run.kind == RunKind::Daily {
                    return true;
                }
            }
        }
    }

    #[test]
    fn a_crash_mid_page_then_a_rerun_imports_nothing_twice_and_loses_nothing() {
        for crash_after in 0..5 {
            let mut world = World::new();
            let mut cursor = ImportCursor::default();
            assert!(!world.invoke(&mut cursor, Some(crash_after)), "crashed");
            assert_eq!(cursor.watermark, None, "a crashed run moves no watermark");
            assert!(world.invoke(&mut cursor, None), "the re-run ends");
            assert_eq!(world.stored.keys().copied().collect::<Vec<_>>(), ["t1", "t2", "t3", "t4", "t5"], "crash after {crash_after}");
            assert!(world.stored.values().all(|n| *n == 1), "nothing twice");
            assert_eq!(cursor.watermark, Some(t("2026-03-03T06:00:00Z")));
            assert_eq!(cursor.run, None);
        }
    }

    #[test]
    fn a_refused_token_restarts_the_window() {
        let c = ImportCursor::default();
        let run = c.next_run(d("2026-03-01"), t("2026-03-03T06:00:00Z")).unwrap();
        let c1 = advance(&c, &run, &[with(tx("x", "2026-03-02T06:00:00Z"), TxOutcome::Pending)], Some("tok"), t("2026-03-03T06:00:00Z"));
        let again = c1.run.as_ref().unwrap().restart();
        assert_eq!((again.next_page_token, again.pages_done, again.hold), (None, 0, None));
        assert_eq!(again.window, run.window);
    }

    #[test]
    fn an_invoice_pending_too_long_no_longer_holds_the_watermark() {
        let c = ImportCursor { watermark: Some(t("2026-01-01T00:00:00Z")), ..Default::default() };
        let now = t("2026-03-10T00:00:00Z");
        let run = c.next_run(d("2025-12-15"), now).unwrap();
        let page =
            [with(tx("old", "2026-01-02T00:00:00Z"), TxOutcome::Pending), with(tx("new", "2026-03-01T00:00:00Z"), TxOutcome::Pending)];
        let c1 = advance(&c, &run, &page, None, now);
        assert_eq!(c1.watermark, Some(t("2026-03-01T00:00:00Z")), "only the recent one holds");
        let page = [with(tx("old", "2026-01-02T00:00:00Z"), TxOutcome::Pending)];
        let mid = advance(&c, &run, &page, Some("tok"), now);
        assert_eq!(mid.run.unwrap().abandoned, vec!["old"]);
    }

    #[test]
    fn moving_the_start_date_back_backfills_up_to_the_watermark() {
        let (connected, today) = (d("2026-03-01"), d("2026-03-10"));
        let c = ImportCursor { watermark: Some(t("2026-03-10T06:00:00Z")), ..Default::default() };
        let moved = move_start_date(&c, d("2026-03-01"), d("2026-02-10"), connected, today).unwrap();
        let b = moved.backfill.unwrap();
        assert_eq!((b.from, b.until), (t("2026-02-10T00:00:00Z"), t("2026-03-10T06:00:00Z")));
        assert_eq!(moved.watermark, c.watermark, "the daily position is kept");
        let run = moved.next_run(d("2026-02-10"), t("2026-03-11T06:00:00Z")).unwrap();
        assert_eq!((run.kind, run.window.start, run.window.end), (RunKind::Backfill, b.from, b.until), "the backfill first");
        let done = advance(&moved, &run, &[tx("a", "2026-02-12T00:00:00Z")], None, t("2026-03-11T06:00:00Z"));
        assert_eq!(done.backfill, None);
        assert_eq!(done.watermark, c.watermark, "a backfill does not move the watermark");
        let daily = done.next_run(d("2026-02-10"), t("2026-03-11T06:00:00Z")).unwrap();
        assert_eq!(daily.kind, RunKind::Daily);
        // A backfill with something not done keeps the rest.
        let held = advance(&moved, &run, &[with(tx("p", "2026-02-20T00:00:00Z"), TxOutcome::Failed)], None, t("2026-03-11T06:00:00Z"));
        assert_eq!(held.backfill, Some(Backfill { from: t("2026-02-20T00:00:00Z"), until: b.until }));
        // Beyond the limit: refused, the cursor unchanged.
        let e = move_start_date(&c, d("2026-03-01"), d("2026-01-29"), connected, today).unwrap_err();
        assert_eq!(e.code, ImportCode::StartDateTooEarly);
        // Before the first run there is nothing to re-read: the first window starts there.
        let fresh = move_start_date(&ImportCursor::default(), d("2026-03-01"), d("2026-02-10"), connected, today).unwrap();
        assert_eq!(fresh.backfill, None);
        assert_eq!(fresh.next_run(d("2026-02-10"), t("2026-03-02T00:00:00Z")).unwrap().window.start, t("2026-02-10T00:00:00Z"));
        // Forward again: the pending backfill shrinks to after the new start date.
        let fwd = move_start_date(&moved, d("2026-02-10"), d("2026-02-20"), connected, today).unwrap();
        assert_eq!(fwd.backfill.unwrap().from, t("2026-02-20T00:00:00Z"));
        // Moved back again while one is pending: one backfill covering both.
        let twice = move_start_date(&fwd, d("2026-02-20"), d("2026-02-01"), connected, today).unwrap();
        assert_eq!(twice.backfill.unwrap().from, t("2026-02-01T00:00:00Z"));
    }

    #[test]
    fn transaction_results_take_the_worst_of_their_invoices() {
        use crate::import::answer::{parse_invoice_details, parse_transactions_page};
        use crate::import::fixture;
        use crate::import::mapping::assemble;
        let mut txs = parse_transactions_page(&fixture("transactions-page-1.json")).unwrap().transactions;
        txs.extend(parse_transactions_page(&fixture("transactions-page-2.json")).unwrap().transactions);
        txs.push(Transaction { transaction_id: Some("tx-empty".into()), ..Default::default() });
        let a = assemble(&txs, &parse_invoice_details(&fixture("invoice-details.json")).unwrap());
        let r = transaction_results(&txs, &a, |n| if n == "FR5001CM01" { TxOutcome::Failed } else { TxOutcome::Stored });
        let got: Vec<(&str, TxOutcome)> = r.iter().map(|r| (r.transaction_id.as_deref().unwrap(), r.outcome)).collect();
        assert_eq!(
            got,
            vec![
                ("tx-0001", TxOutcome::Stored),
                ("tx-0002", TxOutcome::Failed),
                ("tx-0003", TxOutcome::Stored),
                ("tx-0004", TxOutcome::Pending),
                ("tx-empty", TxOutcome::Skipped),
            ]
        );
        assert_eq!(r[1].feed_date, Some(t("2026-03-02T07:00:00Z")));
        assert_eq!(serde_json::to_value(TxOutcome::AlreadyStored).unwrap(), "already-stored");
        let p = |c| ImportProblem::new(c, "m");
        assert_eq!(TxOutcome::of_problem(&p(ImportCode::NotFinalised)), TxOutcome::Pending);
        assert_eq!(TxOutcome::of_problem(&p(ImportCode::BeforeStartDate)), TxOutcome::Skipped);
        assert_eq!(TxOutcome::of_problem(&p(ImportCode::CurrencyMismatch)), TxOutcome::Refused);
        assert!(!TxOutcome::of_problem(&p(ImportCode::NotFinalised)).is_done());
    }
}
