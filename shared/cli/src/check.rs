//! `invoicectl check`: validates documents offline.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::report::CheckReport;

/// `check` on the process's stdout and stderr, as the last thing the process does. A terminal
/// gets each file's verdict as soon as it is checked; a file or a pipe gets them in blocks (a
/// corpus of small invoices is otherwise one write system call per file).
pub fn run_on_stdio(files: &[PathBuf], json: bool, limits: &Limits) -> i32 {
    let stdout = std::io::stdout();
    let mut err = std::io::stderr().lock();
    if stdout.is_terminal() {
        return run(files, json, limits, &mut stdout.lock(), &mut err, true);
    }
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let status = run(files, json, limits, &mut out, &mut err, true);
    let _ = out.flush();
    status
}

/// Exit status of `check`: 0 all valid, 1 some invalid, 2 some path unreadable. When
/// `process_ends` (the process exits once this returns), the last file's model is left to the
/// operating system, which takes the whole heap back at once: freeing the 40,000 allocations
/// of a large invoice one by one was a fortieth of the process.
fn run(files: &[PathBuf], json: bool, limits: &Limits, out: &mut impl Write, err: &mut impl Write, process_ends: bool) -> i32 {
    let mut status = 0;
    for (i, path) in files.iter().enumerate() {
        let name = path.display().to_string();
        let bytes = match read_capped(path, limits.max_bytes) {
            Ok(b) => b,
            Err(e) => {
                // What was reported so far comes first when both streams go to one place.
                let _ = out.flush();
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
        if process_ends && i + 1 == files.len() {
            std::mem::forget(checked);
        }
    }
    status
}

/// Reads a file, but never more than one byte past the limit (the parser then says too-large).
fn read_capped(path: &PathBuf, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let cap = max.saturating_add(1);
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(usize::MAX).min(cap));
    advise_huge_pages(&mut buf);
    f.take(u64::try_from(cap).unwrap_or(u64::MAX)).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Asks Linux to back a large read buffer with transparent huge pages (2 MiB): a 10 MB
/// document is then a few page faults instead of 2,500, which took a tenth of the whole
/// `check` process on such a file. Only advice: the buffer and its contents are the same, the
/// kernel may decline, errors are ignored.
#[cfg(target_os = "linux")]
fn advise_huge_pages(buf: &mut Vec<u8>) {
    const HUGE_PAGE: usize = 2 << 20;
    if buf.capacity() < 2 * HUGE_PAGE {
        return;
    }
    let start = buf.as_mut_ptr() as usize;
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + buf.capacity()) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: [first, end) lies inside the buffer's own allocation, not read or written
        // yet; MADV_HUGEPAGE only changes how the kernel backs those pages.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &mut Vec<u8>) {}

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
