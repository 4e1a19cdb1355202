//! `invoicectl match`: an invoice against its PO offline, as ingestion matches it.

use std::io::Write;
use std::path::Path;

use invoice_domain::invoice::cxml::Limits;
use invoice_domain::matching::{match_invoice, MatchOutcome, MatchStatus, PoIndex, Tolerances};
use invoice_domain::ordering::placed::parse_place_order_result;
use invoice_domain::ordering::po::PoInput;

/// The files of one `match`.
pub struct Args<'a> {
    pub invoice: &'a Path,
    pub po: &'a Path,
    pub placed: Option<&'a Path>,
    pub tolerances: Option<&'a Path>,
    pub json: bool,
}

/// Exit status: 0 matched, 1 an exception, 2 usage or a file unreadable (or not what it
/// should be: no invoice, a PO that does not validate, not a placeOrder answer, bad
/// tolerances).
pub fn run(args: &Args<'_>) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    match outcome(args, &mut err) {
        Ok(o) => {
            let _ = if args.json {
                serde_json::to_writer(&mut out, &o).map_err(std::io::Error::other).and_then(|_| writeln!(out))
            } else {
                write_text(&args.invoice.display().to_string(), &o, &mut out)
            };
            if o.status == MatchStatus::Matched {
                0
            } else {
                1
            }
        }
        Err(message) => {
            let _ = writeln!(err, "invoicectl: {message}");
            2
        }
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

fn outcome(args: &Args<'_>, err: &mut impl Write) -> Result<MatchOutcome, String> {
    let limits = Limits::default();
    let checked = invoice_domain::invoice::check(&read(args.invoice, "invoice")?, &limits);
    let name = args.invoice.display();
    let Some(inv) = checked.invoice else {
        let why: Vec<String> = checked.issues.iter().map(|i| format!("{}: {}", i.code, i.message)).collect();
        return Err(format!("{name} is not a readable cXML invoice: {}", why.join("; ")));
    };
    for i in &checked.issues {
        // Matched all the same: the match says what it can of an invoice `check` refuses.
        let _ = writeln!(err, "invoicectl: warning: {name}: {}: {}", i.code, i.message);
    }
    let po_path = args.po.display();
    let input: PoInput = serde_json::from_slice(&read(args.po, "PO")?).map_err(|e| format!("{po_path} is not a PO (JSON): {e}"))?;
    let po = invoice_domain::ordering::validate(&input).map_err(|problems| {
        let why: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.code, p.message)).collect();
        format!("the PO in {po_path} does not validate: {}", why.join("; "))
    })?;
    let placed = match args.placed {
        Some(p) => {
            let text = String::from_utf8(read(p, "placeOrder answer")?).map_err(|_| format!("{} is not UTF-8 text", p.display()))?;
            Some(parse_place_order_result(&text).map_err(|e| format!("{} is not a placeOrder answer: {e}", p.display()))?)
        }
        None => None,
    };
    let tolerances = match args.tolerances {
        Some(t) => {
            serde_json::from_slice::<Tolerances>(&read(t, "tolerances")?).map_err(|e| format!("{} are not tolerances: {e}", t.display()))?
        }
        None => Tolerances::default(),
    };
    let mut index = PoIndex::new();
    index.insert(&po, placed.as_ref());
    Ok(match_invoice(&inv, &index, &[], &tolerances))
}

fn write_text(name: &str, o: &MatchOutcome, out: &mut impl Write) -> std::io::Result<()> {
    let verdict = match o.status {
        MatchStatus::Matched => "matched",
        MatchStatus::Exception => "EXCEPTION",
    };
    match &o.po_number {
        Some(po) => writeln!(out, "{name}: {verdict} against PO {po} ({} line(s))", o.lines.len())?,
        None => writeln!(out, "{name}: {verdict}, no PO")?,
    }
    for e in &o.exceptions {
        writeln!(out, "  {}: {}", e.code, e.message)?;
    }
    for l in &o.lines {
        let status = match l.status {
            MatchStatus::Matched => "ok",
            MatchStatus::Exception => "exception",
        };
        writeln!(out, "  line {} -> PO line {}: {status}", l.invoice_line, l.po_line.as_deref().unwrap_or("-"))?;
    }
    Ok(())
}
