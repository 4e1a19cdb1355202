//! import-schedule: the daily run of the Amazon Business import. Every company connected with
//! auto import on gets one message on the import queue (so a slow or failing company never
//! holds up the others); the import-company function does each one's pass.

use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::sqs::SqsQueue;
use invoice_domain::import::schedule::{daily_messages, not_due};
use serde::Serialize;

/// What a run did.
#[derive(Debug, Serialize)]
pub struct ScheduleReport {
    pub run: String,
    pub queued: Vec<String>,
    /// `(company, why not)` of the companies left out.
    pub skipped: Vec<(String, String)>,
}

/// Queues today's passes. `run` names the run (the schedule's date, `2026-12-02`).
pub async fn run(companies: &DynamoCompanies, queue: &SqsQueue, run: &str) -> Result<ScheduleReport, String> {
    let all = companies.list().await.map_err(|e| e.0)?;
    let messages = daily_messages(&all, run);
    let bodies: Vec<String> = messages.iter().map(|m| serde_json::to_string(m).unwrap_or_default()).collect();
    queue.send_all(&bodies).await.map_err(|e| e.0)?;
    let skipped: Vec<(String, String)> =
        all.iter().filter(|c| c.business.is_some()).filter_map(|c| not_due(c).map(|why| (c.id.clone(), why))).collect();
    for (company, why) in &skipped {
        tracing::info!(company, reason = %why, run, "not imported today");
    }
    let queued: Vec<String> = messages.into_iter().map(|m| m.company).collect();
    tracing::info!(run, queued = queued.len(), skipped = skipped.len(), "daily import queued");
    Ok(ScheduleReport { run: run.to_string(), queued, skipped })
}
