//! import-company: the messages of the import queue (one company's pass over its Amazon
//! Business feed) and of the PDF queue (that company's PDF reports, paced at about one
//! document operation a minute).
//!
//! - A pass that runs short of time goes on in a new message (`hop` + 1); one that Amazon
//!   throttles or fails returns to the queue (its visibility timeout is the backoff; after
//!   `maxReceiveCount` it lands in the DLQ, alarmed); one whose credentials Amazon refuses is
//!   done (the connection records it, the `ImportNotAuthorized` metric alarms) — every other
//!   company goes on.
//! - After a pass the company's PDFs are queued; a PDF message steps them as the document
//!   rate allows and queues itself again, delayed, while some are open.
//!
//! Body: `{"company": "acme", "work": "pass" | "pdfs", "run": "2026-12-02", "hop": 0}`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use invoice_adapters::sqs::SqsQueue;
use invoice_domain::import::ports::ImportStore;
use invoice_domain::import::schedule::{read_message, ImportMessage, Work};
use invoice_domain::import::workflow::{Clock, PassEnd, PassReport};
use invoice_wiring::import::{emf, ImportRunner};

/// The queues a message can be continued on.
pub struct Queues {
    pub import: SqsQueue,
    pub pdfs: SqsQueue,
}

/// Continuations of one pass before the rest waits for tomorrow's run.
pub const MAX_HOPS: u32 = 50;
/// PDF tasks stepped per message.
pub const PDF_BATCH: usize = 100;
/// Delay of the next PDF message while tasks are open (the document operations' pace).
pub const PDF_REQUEUE_SECONDS: u32 = 60;

/// Handles one SQS batch (batch size 1 in the template: a pass uses the whole invocation).
pub async fn handle<I: ImportStore + Sync, C: Clock + Sync>(
    runner: &ImportRunner<'_, I>,
    queues: &Queues,
    event: SqsEvent,
    clock: &C,
) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for msg in event.records {
        let message_id = msg.message_id.clone().unwrap_or_default();
        let m = match read_message(msg.body.as_deref().unwrap_or("")) {
            Ok(m) => m,
            Err(why) => {
                tracing::error!(%message_id, error = %why, "malformed message; left for the DLQ");
                failures.push(message_id);
                continue;
            }
        };
        let retry = match m.work {
            Work::Pass => pass(runner, queues, &m, clock).await,
            Work::Pdfs => pdfs(runner, queues, &m, clock).await,
        };
        if retry {
            failures.push(message_id);
        }
    }
    invoice_wiring::sqs_failures(failures)
}

async fn send(queue: &SqsQueue, m: &ImportMessage, delay: u32) -> bool {
    let body = serde_json::to_string(m).unwrap_or_default();
    match queue.send(&body, delay).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(company = %m.company, error = %e, "could not queue the continuation; the message is retried");
            false
        }
    }
}

/// One pass; `true`: the message is to be retried.
async fn pass<I: ImportStore + Sync, C: Clock + Sync>(runner: &ImportRunner<'_, I>, queues: &Queues, m: &ImportMessage, clock: &C) -> bool {
    let co = m.company.as_str();
    let report = match runner.pass(co, None, clock).await {
        Ok(r) => r,
        Err(e) if e.is_retryable() => {
            tracing::warn!(company = co, error = %e, "import pass failed; the message returns to the queue");
            return true;
        }
        Err(e) => {
            tracing::error!(company = co, error = %e, "import pass cannot run; message dropped");
            return false;
        }
    };
    println!("{}", emf(&report, clock.now()));
    match &report.end {
        Some(PassEnd::OutOfTime) if m.hop < MAX_HOPS => {
            tracing::info!(company = co, hop = m.hop + 1, "time ran short; the pass goes on in a new message");
            if !send(&queues.import, &m.next_hop(), 0).await {
                return true;
            }
        }
        Some(PassEnd::OutOfTime) => {
            tracing::warn!(company = co, hops = m.hop, "pass continued {MAX_HOPS} times; the rest waits for the next run")
        }
        Some(PassEnd::Retry(why)) => {
            tracing::warn!(company = co, reason = %why, "Amazon said later; the message returns to the queue");
            queue_pdfs(queues, m, &report).await;
            return true;
        }
        _ => {}
    }
    !queue_pdfs(queues, m, &report).await
}

async fn queue_pdfs(queues: &Queues, m: &ImportMessage, report: &PassReport) -> bool {
    if report.pdfs_pending == 0 && report.invoices_new == 0 && report.invoices_completed == 0 {
        return true;
    }
    send(&queues.pdfs, &m.pdfs(), 0).await
}

/// A round of PDF steps; `true`: the message is to be retried.
async fn pdfs<I: ImportStore + Sync, C: Clock + Sync>(runner: &ImportRunner<'_, I>, queues: &Queues, m: &ImportMessage, clock: &C) -> bool {
    let co = m.company.as_str();
    let mut report = PassReport { company: co.to_string(), ..PassReport::default() };
    match runner.pdfs(co, PDF_BATCH, clock, &mut report).await {
        Ok(()) => {}
        Err(e) if e.is_retryable() => {
            tracing::warn!(company = co, error = %e, "PDF steps failed; the message returns to the queue");
            return true;
        }
        Err(e) => {
            tracing::error!(company = co, error = %e, "PDF steps cannot run; message dropped");
            return false;
        }
    }
    if report.pdfs_pending > 0 {
        // Paced: the rest in a minute (the document operations' rate), until none is open.
        return !send(&queues.pdfs, m, PDF_REQUEUE_SECONDS).await;
    }
    false
}
