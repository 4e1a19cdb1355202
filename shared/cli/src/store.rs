//! invoicectl commands that read the configured DynamoDB table / S3 bucket.

use invoice_adapters::dynamo::{ensure_table, DynamoRepo};
use invoice_adapters::s3::ensure_bucket;

pub enum Op {
    QuarantineList { json: bool, limit: i32 },
    InvoicesList { status: String, json: bool, limit: i32 },
    ByPo { po: String, json: bool },
    Show { invoice_key: String },
    LocalInit { table: String, bucket: String, vendor_queue: Option<String> },
    LocalDrop { bucket: String, prefix: String, files: Vec<std::path::PathBuf> },
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

async fn exec(op: Op) -> Result<(), String> {
    let conf = invoice_adapters::sdk_config().await;
    let repo = || -> Result<DynamoRepo, String> { Ok(DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), table()?)) };
    match op {
        Op::LocalInit { table, bucket, vendor_queue } => {
            ensure_table(&invoice_adapters::dynamodb_client(&conf), &table).await.map_err(|e| e.to_string())?;
            ensure_bucket(&invoice_adapters::s3_client(&conf), &bucket).await.map_err(|e| e.to_string())?;
            eprintln!("table {table} and bucket {bucket} ready");
            if let Some(q) = vendor_queue {
                let url = ensure_queue_with_dlq(&aws_sdk_sqs::Client::new(&conf), &q).await?;
                println!("VENDOR_QUEUE_URL={url}");
            }
        }
        Op::LocalDrop { bucket, prefix, files } => {
            let s3 = invoice_adapters::s3_client(&conf);
            let mut records = Vec::new();
            for (i, f) in files.iter().enumerate() {
                let name = f.file_name().and_then(|n| n.to_str()).ok_or_else(|| format!("bad file name {}", f.display()))?;
                let body = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
                let key = format!("{prefix}{name}");
                let size = body.len();
                s3.put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(body.into())
                    .send()
                    .await
                    .map_err(|e| format!("put {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
                records.push(serde_json::json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": now_rfc3339(),
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "local"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": format!("local-{i}"), "x-amz-id-2": "local"},
                    "s3": {
                        "s3SchemaVersion": "1.0", "configurationId": "incoming",
                        "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": format!("arn:aws:s3:::{bucket}")},
                        "object": {"key": url_encode_key(&key), "size": size, "eTag": "local", "sequencer": format!("{i:016X}")}
                    }
                }));
            }
            println!("{}", serde_json::json!({ "Records": records }));
        }
        Op::QuarantineList { json, limit } => {
            let recs = repo()?.rejections(limit).await.map_err(|e| e.to_string())?;
            if recs.is_empty() && !json {
                println!("quarantine is empty");
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
        Op::InvoicesList { status, json, limit } => {
            let recs = repo()?.invoices_by_status(&status, limit).await.map_err(|e| e.to_string())?;
            if recs.is_empty() && !json {
                println!("no {status} invoices");
            }
            for r in recs {
                if json {
                    print_json(&r);
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
        Op::ByPo { po, json } => {
            let repo = repo()?;
            let keys = repo.invoice_keys_by_reference(&format!("PO#{po}")).await.map_err(|e| e.to_string())?;
            for k in keys {
                if let Some(r) = repo.invoice(&k).await.map_err(|e| e.to_string())? {
                    if json {
                        print_json(&r);
                    } else {
                        println!("{}  {}  {} {}  {}", r.invoice_date, r.invoice_key, r.currency, r.net, r.status.as_str());
                    }
                }
            }
        }
        Op::Show { invoice_key } => {
            let repo = repo()?;
            let Some(h) = repo.invoice(&invoice_key).await.map_err(|e| e.to_string())? else {
                return Err(format!("no invoice {invoice_key}"));
            };
            let lines = repo.lines(&invoice_key).await.map_err(|e| e.to_string())?;
            let entries = repo.entries(&invoice_key).await.map_err(|e| e.to_string())?;
            print_json(&serde_json::json!({"invoice": h, "lines": lines, "entries": entries}));
        }
    }
    Ok(())
}

/// S3 event keys are URL-encoded with '+' for spaces.
fn url_encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The current time for a locally simulated event (the CLI is an edge, so it may read the clock).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
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
