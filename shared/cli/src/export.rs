//! invoicectl export entries: a company's journal over a date range (by accounting date) as
//! CSV, JSON Lines or the French FEC; the formats are `invoice_domain::invoice::export`'s.
//!
//! Exit 0 exported (an empty range too), 1 the table could not be read or written to the output,
//! or an entry could not be exported, 2 usage: a bad date or rate, `--from` after `--to`, an
//! unknown company, a FEC with a currency other than the euro and no `--rate` for it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use invoice_adapters::dynamo::DynamoRepo;
use invoice_domain::invoice::export::{self, DateRange, ExportError, FecOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV, a header row, one row per entry line (UTF-8).
    Csv,
    /// JSON Lines: one object per entry line, the CSV's fields.
    Json,
    /// Fichier des Écritures Comptables (LPF art. A47 A-1): tab-separated, ISO 8859-15, in euros.
    Fec,
}

pub struct Args {
    pub company: String,
    pub from: String,
    pub to: String,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub rates: Vec<String>,
}

enum Fail {
    Usage(String),
    Failed(String),
}

fn failed(e: impl ToString) -> Fail {
    Fail::Failed(e.to_string())
}

pub fn run(a: Args) -> i32 {
    let res = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fail::Failed(format!("cannot start runtime: {e}")))
        .and_then(|rt| rt.block_on(exec(a)));
    match res {
        Ok(()) => 0,
        Err(Fail::Usage(e)) => {
            eprintln!("invoicectl: {e}");
            2
        }
        Err(Fail::Failed(e)) => {
            eprintln!("invoicectl: {e}");
            1
        }
    }
}

async fn exec(a: Args) -> Result<(), Fail> {
    // Everything that can be checked offline first.
    let range = DateRange::parse(&a.from, &a.to).map_err(Fail::Usage)?;
    let mut opts = FecOptions::default();
    for r in &a.rates {
        let (code, rate) = export::parse_rate(r).map_err(Fail::Usage)?;
        opts.rates.insert(code, rate);
    }
    if let Some(p) = invoice_domain::company::id_problem(&a.company) {
        return Err(Fail::Usage(p));
    }
    let conf = invoice_adapters::sdk_config().await;
    let company = crate::company::companies(&conf)
        .map_err(failed)?
        .get(&a.company)
        .await
        .map_err(failed)?
        .ok_or_else(|| Fail::Usage(format!("no company has the id '{}' (invoicectl company list)", a.company)))?;
    let repo = DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table().map_err(failed)?);
    let entries = repo.journal_entries(&company.id, &range).await.map_err(failed)?;
    let keys: Vec<String> = entries.iter().map(|e| e.invoice_key.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let headers: BTreeMap<String, _> =
        repo.invoices(&company.id, &keys).await.map_err(failed)?.into_iter().map(|h| (h.invoice_key.clone(), h)).collect();
    let lines = export::journal_lines(entries, &headers, &range);
    let bytes = match a.format {
        Format::Csv => export::to_csv(&lines).map_err(failed)?,
        Format::Json => export::to_json_lines(&lines).into_bytes(),
        Format::Fec => export::to_fec(&lines, &opts).map_err(|e| match e {
            ExportError::MissingRates(_) => Fail::Usage(e.to_string()),
            e => failed(e),
        })?,
    };
    let count = lines.iter().map(|l| (&l.invoice_key, &l.kind)).collect::<BTreeSet<_>>().len();
    let whither = match &a.output {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| Fail::Failed(format!("cannot write {}: {e}", path.display())))?;
            path.display().to_string()
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| Fail::Failed(format!("stdout: {e}")))?;
            "standard output".to_string()
        }
    };
    eprintln!(
        "{} entries ({} lines) of {} from {} to {} written to {whither}",
        count,
        lines.len(),
        company.id,
        range.from_str(),
        range.to_str()
    );
    Ok(())
}
