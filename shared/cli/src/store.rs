//! invoicectl commands that read the configured DynamoDB table / S3 bucket.

use invoice_adapters::dynamo::{ensure_table, DynamoRepo};
use invoice_adapters::s3::ensure_bucket;

pub enum Op {
    QuarantineList { json: bool, limit: i32 },
    InvoicesList { status: String, json: bool, limit: i32 },
    ByPo { po: String, json: bool },
    Show { invoice_key: String },
    LocalInit { table: String, bucket: String },
}

pub fn run(op: Op) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("invoicectl: cannot start runtime: {e}");
            return 2;
        }
    };
    match rt.block_on(exec(op)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("invoicectl: {e}");
            1
        }
    }
}

fn table() -> Result<String, String> {
    std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set (the invoice table's name)".to_string())
}

fn print_json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

async fn exec(op: Op) -> Result<(), String> {
    let conf = invoice_adapters::sdk_config().await;
    let repo = || -> Result<DynamoRepo, String> { Ok(DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), table()?)) };
    match op {
        Op::LocalInit { table, bucket } => {
            ensure_table(&invoice_adapters::dynamodb_client(&conf), &table).await.map_err(|e| e.to_string())?;
            ensure_bucket(&invoice_adapters::s3_client(&conf), &bucket).await.map_err(|e| e.to_string())?;
            println!("table {table} and bucket {bucket} ready");
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
