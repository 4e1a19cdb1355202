//! invoicectl vendor commands that talk to DynamoDB / SQS / SP-API.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use invoice_adapters::slots::DynamoSlots;
use invoice_adapters::vendor::DynamoVendorRepo;
use invoice_domain::vendor::records::Bundle;

pub enum Op {
    Enqueue { order_ids: Vec<String>, queue_url: String, reason: Option<String> },
    Seed { bundle: std::path::PathBuf, account_id: String, copies: Option<u32>, order_id: Option<String> },
    Status { order_ids: Vec<String> },
    Poll { max_seconds: u64 },
    Work { queue_url: String, until_empty: bool, max_seconds: u64 },
}

pub fn run(op: Op) -> i32 {
    crate::block_on(exec(op))
}

async fn exec(op: Op) -> Result<(), String> {
    let conf = invoice_adapters::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    match op {
        Op::Enqueue { order_ids, queue_url, reason } => {
            for id in order_ids {
                let body = serde_json::to_string(&submit_vendor_invoice::SubmitMessage { order_id: id.clone(), reason: reason.clone() })
                    .map_err(|e| e.to_string())?;
                let out = sqs
                    .send_message()
                    .queue_url(&queue_url)
                    .message_body(body)
                    .send()
                    .await
                    .map_err(|e| format!("enqueue {id}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
                println!("{id}\t{}", out.message_id().unwrap_or(""));
            }
        }
        Op::Seed { bundle, account_id, copies, order_id } => {
            let mut b: Bundle = serde_json::from_slice(&std::fs::read(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?)
                .map_err(|e| format!("{} is not a valid order bundle: {e}", bundle.display()))?;
            if let Some(id) = order_id {
                b.order.id = id;
            }
            let repo = DynamoVendorRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
            let e = |x: invoice_domain::core::PortError| x.to_string();
            repo.put_account(&account_id, &b.account).await.map_err(e)?;
            for s in &b.sellers {
                repo.put_seller(s).await.map_err(e)?;
            }
            for l in &b.locations {
                repo.put_location(l).await.map_err(e)?;
            }
            for d in &b.delivery_locations {
                repo.put_delivery_location(d).await.map_err(e)?;
            }
            match copies {
                None => {
                    repo.put_order(&b.order, &account_id).await.map_err(e)?;
                    println!("{}", b.order.id);
                }
                Some(n) => {
                    for i in 1..=n {
                        let mut o = b.order.clone();
                        o.id = format!("{}-{i:05}", b.order.id);
                        repo.put_order(&o, &account_id).await.map_err(e)?;
                        println!("{}", o.id);
                    }
                }
            }
        }
        Op::Poll { max_seconds } => {
            let table = crate::store::table()?;
            let ddb = invoice_adapters::dynamodb_client(&conf);
            let creds = submit_vendor_invoice::credentials(&conf).await?;
            let cfg = invoice_spapi::Config::from_env().map_err(|e| e.to_string())?;
            let api = invoice_spapi::Client::new(cfg, creds, invoice_spapi::DEFAULT_PARTNER, DynamoSlots::new(ddb.clone(), table.clone()))
                .map_err(|e| e.to_string())?;
            let repo = DynamoVendorRepo::new(ddb, table);
            let deadline = Instant::now() + Duration::from_secs(max_seconds);
            let now = chrono::Utc::now();
            let report =
                poll_transaction_status::run_pass(&repo, &api, now, poll_transaction_status::limits_from_env(), deadline, Duration::ZERO)
                    .await
                    .map_err(|e| e.to_string())?;
            let reconciled = poll_transaction_status::run_reconcile(
                &repo,
                &api,
                now,
                poll_transaction_status::reconcile_grace_from_env(),
                deadline,
                Duration::ZERO,
            )
            .await
            .map_err(|e| e.to_string())?;
            println!("{}", serde_json::json!({"poll": report, "reconciliation": reconciled}));
        }
        Op::Status { order_ids } => {
            let repo = DynamoVendorRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
            let order_ids = if order_ids.is_empty() {
                repo.processing_feeds(1000).await.map_err(|e| e.to_string())?.into_iter().map(|f| f.order_id).collect()
            } else {
                order_ids
            };
            for id in order_ids {
                let e = |x: invoice_domain::core::PortError| x.to_string();
                let mut invoice = repo.invoice(&id).await.map_err(e)?;
                if let Some(i) = invoice.as_mut() {
                    i.request_body = None; // shown by `invoices show`-like tools, not here
                }
                let feed = match invoice.as_ref().and_then(|i| i.transaction_id.clone()) {
                    Some(tx) => repo.feed(&tx).await.map_err(e)?,
                    None => None,
                };
                let errors = repo.order_errors(&id).await.map_err(e)?;
                println!("{}", serde_json::json!({"order_id": id, "invoice": invoice, "feed": feed, "order_errors": errors}));
            }
        }
        Op::Work { queue_url, until_empty, max_seconds } => work(&conf, &sqs, &queue_url, until_empty, max_seconds).await?,
    }
    Ok(())
}

/// A local stand-in for Lambda's SQS event source mapping: long-polls the queue, hands each
/// batch to the real handler, deletes what succeeded and leaves the reported failures to
/// become visible again (and reach the DLQ after the queue's maxReceiveCount).
async fn work(
    conf: &aws_config::SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    until_empty: bool,
    max_seconds: u64,
) -> Result<(), String> {
    let table = crate::store::table()?;
    let ddb = invoice_adapters::dynamodb_client(conf);
    let creds = submit_vendor_invoice::credentials(conf).await?;
    let cfg = invoice_spapi::Config::from_env().map_err(|e| e.to_string())?;
    let api = invoice_spapi::Client::new(cfg, creds, invoice_spapi::DEFAULT_PARTNER, DynamoSlots::new(ddb.clone(), table.clone()))
        .map_err(|e| e.to_string())?;
    let repo = DynamoVendorRepo::new(ddb, table);
    let started = Instant::now();
    let mut empty_polls = 0;
    let (mut handled, mut failed) = (0usize, 0usize);
    while started.elapsed() < Duration::from_secs(max_seconds) {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| format!("receive: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        let msgs = out.messages.unwrap_or_default();
        if msgs.is_empty() {
            empty_polls += 1;
            if until_empty && empty_polls >= 3 {
                break;
            }
            continue;
        }
        empty_polls = 0;
        let mut event = SqsEvent::default();
        let mut handles = std::collections::HashMap::new();
        for m in &msgs {
            let mut e = SqsMessage::default();
            e.message_id = m.message_id.clone();
            e.receipt_handle = m.receipt_handle.clone();
            e.body = m.body.clone();
            if let Some(attrs) = &m.attributes {
                for (k, v) in attrs {
                    e.attributes.insert(k.as_str().to_string(), v.clone());
                }
            }
            handles.insert(m.message_id.clone().unwrap_or_default(), m.receipt_handle.clone().unwrap_or_default());
            event.records.push(e);
        }
        let resp = submit_vendor_invoice::handle(&repo, &api, event, chrono::Utc::now()).await;
        let failed_ids: std::collections::HashSet<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        for (id, handle) in handles {
            if failed_ids.contains(&id) {
                failed += 1;
                continue;
            }
            handled += 1;
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(|e| format!("delete: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        }
    }
    eprintln!("worker: {handled} message(s) done, {failed} returned to the queue, {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
