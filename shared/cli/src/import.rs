//! invoicectl import: one pass of a company's Amazon Business import against the configured
//! endpoint (the emulator locally: `AB_ENDPOINT`), and where a company's import stands.

use std::time::Duration;

use chrono::NaiveDate;
use invoice_adapters::dynamo::DynamoRepo;
use invoice_domain::import::workflow::{until_of, PassEnd, PassReport};
use invoice_wiring::import::{config_from_env, DeadlineClock, ImportRunner};
use invoice_wiring::Tenancy;

pub enum Op {
    /// A pass up to the end of `until` (default now), then the PDF steps the document rate
    /// allows within `max_seconds`.
    Run {
        company: String,
        until: Option<String>,
        max_seconds: u64,
        pdfs: bool,
    },
    Status {
        company: String,
    },
}

pub fn run(op: Op) -> i32 {
    match crate::block_on_value(exec(op)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("invoicectl: {e}");
            1
        }
    }
}

async fn exec(op: Op) -> Result<i32, String> {
    let conf = invoice_adapters::sdk_config().await;
    match op {
        Op::Run { company, until, max_seconds, pdfs } => {
            let until = match until {
                None => None,
                Some(d) => Some(until_of(
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| format!("--until {d}: expected a date as YYYY-MM-DD"))?,
                )),
            };
            let mut tenancy = Tenancy::from_env(&conf).await?;
            if tenancy.documents.is_none() {
                // The CLI's own name of the bucket (BUCKET), as `local init` and `local drop` use it.
                tenancy.documents = std::env::var("BUCKET")
                    .ok()
                    .filter(|b| !b.is_empty())
                    .map(|b| invoice_adapters::s3::S3Store::new(invoice_adapters::s3_client(&conf), b, 50 * 1024 * 1024));
            }
            // A slot of the slow document operations further away than this is left for the
            // next pass rather than waited for (AB_REPORT_MAX_WAIT_SECONDS overrides it).
            tenancy.report_max_wait = tenancy.report_max_wait.or(Some(Duration::from_secs(5)));
            let state = DynamoRepo::new(tenancy.ddb.clone(), tenancy.table.clone());
            let runner = ImportRunner { tenancy: &tenancy, state: &state, config: config_from_env().map_err(|e| e.to_string())? };
            let clock = DeadlineClock::budget(Duration::from_secs(max_seconds));
            let mut report: PassReport = runner.pass(&company, until, &clock).await.map_err(|e| e.to_string())?;
            if pdfs && !matches!(report.end, Some(PassEnd::NotAuthorized(_))) {
                runner.pdfs(&company, 1000, &clock, &mut report).await.map_err(|e| e.to_string())?;
            }
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            Ok(match report.end {
                Some(PassEnd::Finished | PassEnd::OutOfTime | PassEnd::Off(_)) => 0,
                Some(PassEnd::NotAuthorized(_)) => 3,
                _ => 1,
            })
        }
        Op::Status { company } => {
            crate::company::require(&conf, &company).await?;
            let repo = DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
            let overview = repo.import_overview(&company, 20).await.map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&overview).map_err(|e| e.to_string())?);
            Ok(0)
        }
    }
}
