//! invoicectl commands that read the configured DynamoDB table / S3 bucket.

use aws_lambda_events::event::s3::S3Event;
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::s3::{ensure_bucket, object_created};
use invoice_adapters::table::ensure_table;
use invoice_domain::core::time::iso;
use invoice_domain::invoice::document::DocumentStatus;
use invoice_domain::invoice::ports::DocumentRepository;
use invoice_domain::invoice::records::{months_newest_first, InvoiceRecord};

pub enum Op {
    QuarantineList { company: String, json: bool, limit: usize },
    InvoicesList { company: String, status: String, json: bool, limit: usize },
    Exceptions { company: String, json: bool, limit: usize },
    ByPo { company: String, po: String, json: bool },
    Show { company: String, invoice_key: String },
    DocumentsList { company: String, awaiting: bool, json: bool, limit: usize },
    LocalInit { table: String, bucket: String, vendor_queue: Option<String>, dashboard_secret: Option<String> },
    LocalDrop { bucket: String, prefix: String, company: Option<String>, ingest: bool, files: Vec<std::path::PathBuf> },
}

pub fn run(op: Op) -> i32 {
    crate::block_on(exec(op))
}

pub(crate) fn table() -> Result<String, String> {
    std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set (the invoice table's name)".to_string())
}

fn print_json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

/// The months a listing of a company walks, newest first: from now back to the month the
/// company was created (36 months for the documents of no company).
fn months(company: &invoice_domain::company::Company) -> Vec<String> {
    let now = iso(chrono::Utc::now());
    let floor =
        if company.created_at.is_empty() { iso(chrono::Utc::now() - chrono::Duration::days(36 * 31)) } else { company.created_at.clone() };
    months_newest_first(&now, &floor, 240)
}

/// One invoice as `invoices list --json` prints it.
fn invoice_line(r: &InvoiceRecord) -> serde_json::Value {
    serde_json::json!({
        "company": r.company,
        "supplier": r.supplier,
        "supplier_name": r.supplier_name,
        "invoice_id": r.invoice_id,
        "invoice_key": r.invoice_key,
        "invoice_date": r.invoice_date,
        "status": r.status.as_str(),
        "currency": r.currency,
        "net": r.net,
        "due": r.due,
        "lines": r.line_count,
        "order_ids": r.order_ids,
        "received_at": r.received_at,
    })
}

async fn exec(op: Op) -> Result<(), String> {
    let conf = invoice_adapters::sdk_config().await;
    let repo = || -> Result<DynamoRepo, String> { Ok(DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), table()?)) };
    match op {
        Op::LocalInit { table, bucket, vendor_queue, dashboard_secret } => {
            ensure_table(&invoice_adapters::dynamodb_client(&conf), &table).await.map_err(|e| e.to_string())?;
            ensure_bucket(&invoice_adapters::s3_client(&conf), &bucket).await.map_err(|e| e.to_string())?;
            eprintln!("table {table} and bucket {bucket} ready");
            if let Some(q) = vendor_queue {
                let url = ensure_queue_with_dlq(&aws_sdk_sqs::Client::new(&conf), &q).await?;
                println!("VENDOR_QUEUE_URL={url}");
            }
            if let Some(id) = dashboard_secret {
                // 64 hex digits of two random UUIDs' 244 random bits.
                let key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                let secrets = invoice_adapters::secrets::Secrets::from_conf(&conf);
                secrets.create_if_missing(&id, "the dashboard's HMAC key (CSRF tokens, cursors)", &key).await.map_err(|e| e.to_string())?;
                println!("DASHBOARD_SECRET_ID={id}");
            }
        }
        Op::LocalDrop { bucket, prefix, company, ingest, files } => {
            if let Some(c) = &company {
                if let Some(p) = invoice_domain::company::id_problem(c) {
                    return Err(p);
                }
            }
            let prefix = match &company {
                Some(c) => format!("{prefix}{c}/"),
                None => prefix,
            };
            let s3 = invoice_adapters::s3_client(&conf);
            let mut event = S3Event::default();
            for (i, f) in files.iter().enumerate() {
                let name = f.file_name().and_then(|n| n.to_str()).ok_or_else(|| format!("bad file name {}", f.display()))?;
                let body = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
                let key = format!("{prefix}{name}");
                let size = body.len() as i64;
                s3.put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(body.into())
                    .send()
                    .await
                    .map_err(|e| format!("put {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
                event.records.push(object_created(&bucket, &key, size, i, chrono::Utc::now()));
            }
            if !ingest {
                print_json(&event);
                return Ok(());
            }
            // The real ingestion handler, in process, on the event S3 would send.
            let config = ingest_cxml::Config::from_env().map_err(|e| e.to_string())?;
            let deps = ingest_cxml::Deps::from_env(config).await;
            match ingest_cxml::handle(&deps, event).await {
                Ok(resp) => {
                    for r in resp.records {
                        print_json(&r);
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Op::QuarantineList { company, json, limit } => {
            let c = crate::company::require(&conf, &company).await?;
            let recs = repo()?.rejections(&c.id, &months(&c), limit).await.map_err(|e| e.to_string())?;
            if recs.is_empty() && !json {
                println!("quarantine of {company} is empty");
            }
            for r in recs {
                if json {
                    print_json(&r);
                    continue;
                }
                println!(
                    "{}  {}  invoice {}  from {}  -> {}",
                    r.received_at,
                    r.source_key,
                    r.invoice_id.as_deref().unwrap_or("?"),
                    r.supplier.as_deref().unwrap_or("?"),
                    r.quarantine_key
                );
                for e in &r.errors {
                    println!("    {}: {}", e.code, e.message);
                }
            }
        }
        Op::Exceptions { company, json, limit } => {
            let c = crate::company::require(&conf, &company).await?;
            let recs = repo()?
                .invoices_by_match(&c.id, invoice_domain::matching::MatchStatus::Exception, &months(&c), limit)
                .await
                .map_err(|e| e.to_string())?;
            if recs.is_empty() && !json {
                println!("no open match exceptions for {company}");
            }
            for r in recs {
                let Some(m) = &r.matching else { continue };
                if json {
                    print_json(&serde_json::json!({
                        "company": r.company, "invoice_key": r.invoice_key, "supplier": r.supplier, "invoice_id": r.invoice_id,
                        "invoice_date": r.invoice_date, "currency": r.currency, "net": r.net, "po_number": m.po_number,
                        "exceptions": m.exceptions,
                    }));
                } else {
                    println!(
                        "{}  {:<28} {:<16} {} {:>12}  PO {}",
                        r.invoice_date,
                        r.supplier,
                        r.invoice_id,
                        r.currency,
                        r.net,
                        m.po_number.as_deref().unwrap_or("-")
                    );
                    for e in &m.exceptions {
                        println!("    {}: {}", e.code, e.message);
                    }
                }
            }
        }
        Op::InvoicesList { company, status, json, limit } => {
            let c = crate::company::require(&conf, &company).await?;
            let recs = repo()?.invoices_by_status(&c.id, &status, &months(&c), limit).await.map_err(|e| e.to_string())?;
            if recs.is_empty() && !json {
                println!("no {status} invoices for {company}");
            }
            for r in recs {
                if json {
                    print_json(&invoice_line(&r));
                } else {
                    println!(
                        "{}  {:<28} {:<16} {} {:>12} {:>3} line(s)  PO {}  {}",
                        r.invoice_date,
                        r.supplier,
                        r.invoice_id,
                        r.currency,
                        r.net,
                        r.line_count,
                        if r.order_ids.is_empty() { "-".into() } else { r.order_ids.join(",") },
                        r.status.as_str()
                    );
                }
            }
        }
        Op::ByPo { company, po, json } => {
            let c = crate::company::require(&conf, &company).await?;
            let repo = repo()?;
            let keys = repo.invoice_keys_by_reference(&c.id, "PO", &po).await.map_err(|e| e.to_string())?;
            for k in keys {
                if let Some(r) = repo.invoice(&c.id, &k).await.map_err(|e| e.to_string())? {
                    if json {
                        print_json(&invoice_line(&r));
                    } else {
                        println!("{}  {}  {} {}  {}", r.invoice_date, r.invoice_key, r.currency, r.net, r.status.as_str());
                    }
                }
            }
        }
        Op::Show { company, invoice_key } => {
            let c = crate::company::require(&conf, &company).await?;
            let repo = repo()?;
            let Some(h) = repo.invoice(&c.id, &invoice_key).await.map_err(|e| e.to_string())? else {
                return Err(format!("company {company} has no invoice {invoice_key}"));
            };
            let lines = repo.lines(&c.id, &invoice_key).await.map_err(|e| e.to_string())?;
            let entries = repo.entries(&c.id, &invoice_key).await.map_err(|e| e.to_string())?;
            let mut documents = Vec::new();
            for key in &h.documents {
                let sha = key.rsplit('/').next().unwrap_or_default().trim_end_matches(".pdf");
                if let Some(d) = repo.get_document(&c.id, sha).await.map_err(|e| e.to_string())? {
                    documents.push(d);
                }
            }
            print_json(&serde_json::json!({"invoice": h, "documents": documents, "lines": lines, "entries": entries}));
        }
        Op::DocumentsList { company, awaiting, json, limit } => {
            let c = crate::company::require(&conf, &company).await?;
            let repo = repo()?;
            let statuses: &[DocumentStatus] = if awaiting {
                &[DocumentStatus::AwaitingData]
            } else {
                &[DocumentStatus::AwaitingData, DocumentStatus::Linked, DocumentStatus::InvoiceCancelled]
            };
            let months = months(&c);
            let mut recs = Vec::new();
            for st in statuses {
                recs.extend(repo.documents(&c.id, *st, &months, limit).await.map_err(|e| e.to_string())?);
            }
            recs.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(a.content_sha256.cmp(&b.content_sha256)));
            recs.truncate(limit);
            if recs.is_empty() && !json {
                println!("no {}documents for {company}", if awaiting { "awaiting " } else { "" });
            }
            for d in recs {
                if json {
                    print_json(&serde_json::json!({
                        "company": d.company, "content_sha256": d.content_sha256, "document_key": d.document_key,
                        "status": d.status.as_str(), "label": d.status.label(), "invoice_number": d.invoice_number,
                        "number_from": d.number_from.map(|f| f.as_str()), "invoice_key": d.invoice_key,
                        "reason": d.reason.map(|r| r.as_str()), "reason_detail": d.reason_detail,
                        "channel": d.source.channel.as_str(), "received_at": d.received_at, "size": d.size,
                    }));
                } else {
                    let what = match (&d.invoice_key, &d.reason_detail, d.reason) {
                        (Some(k), _, _) => k.clone(),
                        (None, Some(detail), _) => detail.clone(),
                        (None, None, Some(r)) => r.as_str().to_string(),
                        _ => String::new(),
                    };
                    println!(
                        "{}  {:<30} invoice {:<16} {}  {}",
                        d.received_at,
                        d.status.label(),
                        d.invoice_number.as_deref().unwrap_or("-"),
                        what,
                        d.document_key
                    );
                }
            }
        }
    }
    Ok(())
}

/// Creates `<name>-dlq` and `<name>` with a redrive policy (maxReceiveCount 5); returns the
/// queue URL. Idempotent.
async fn ensure_queue_with_dlq(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.map_err(sqs_err)?;
    let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
    let attrs =
        sqs.get_queue_attributes().queue_url(&dlq_url).attribute_names(QueueAttributeName::QueueArn).send().await.map_err(sqs_err)?;
    let dlq_arn = attrs.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).cloned().unwrap_or_default();
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}).to_string();
    let q = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .map_err(sqs_err)?;
    Ok(q.queue_url().unwrap_or_default().to_string())
}

fn sqs_err<E: std::error::Error>(e: E) -> String {
    format!("sqs: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))
}
