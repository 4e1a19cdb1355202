//! `invoicectl check`: validates documents offline.

use std::io::Write;
use std::path::PathBuf;

use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::report::CheckReport;

/// Exit status of `check`: 0 all valid, 1 some invalid, 2 some path unreadable.
pub fn run(files: &[PathBuf], json: bool, limits: &Limits, out: &mut impl Write, err: &mut impl Write) -> i32 {
    let mut status = 0;
    for path in files {
        let name = path.display().to_string();
        let bytes = match read_capped(path, limits.max_bytes) {
            Ok(b) => b,
            Err(e) => {
                let _ = writeln!(err, "invoicectl: cannot read {name}: {e}");
                status = 2;
                continue;
            }
        };
        let checked = invoice_domain::invoice::check(&bytes, limits);
        drop(bytes);
        let report = CheckReport::new(name, &checked);
        if !report.ok && status == 0 {
            status = 1;
        }
        let _ = if json {
            serde_json::to_writer(&mut *out, &report).map_err(std::io::Error::other).and_then(|_| writeln!(out))
        } else {
            write_text(&report, out)
        };
    }
    status
}

/// Reads a file, but never more than one byte past the limit (the parser then says too-large).
fn read_capped(path: &PathBuf, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut buf = Vec::with_capacity(f.metadata().map(|m| (m.len() as usize).min(max + 1)).unwrap_or(0));
    f.take(max as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

fn write_text(r: &CheckReport, out: &mut impl Write) -> std::io::Result<()> {
    let verdict = if r.ok { "OK" } else { "INVALID" };
    match &r.invoice {
        Some(i) => writeln!(
            out,
            "{}: {verdict}  invoice {} ({}/{})  {} net {} due {}  {} line(s)  PO {}",
            r.file,
            i.invoice_id.as_deref().unwrap_or("?"),
            i.purpose,
            i.operation,
            i.currency.as_deref().unwrap_or("?"),
            i.net.as_deref().unwrap_or("?"),
            i.due.as_deref().unwrap_or("?"),
            i.lines,
            if i.order_ids.is_empty() { "-".to_string() } else { i.order_ids.join(", ") }
        )?,
        None => writeln!(out, "{}: {verdict}", r.file)?,
    }
    for e in &r.errors {
        writeln!(out, "  - {}: {}", e.code, e.message)?;
    }
    Ok(())
}
