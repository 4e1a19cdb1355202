//! `gen-invoice LINES OUT.xml`: writes a valid, deterministic cXML invoice with LINES
//! Amazon-Business-shaped lines (benchmark input; 10,000 lines are about 10 MB).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [lines, out] = args.as_slice() else {
        eprintln!("usage: gen-invoice LINES OUT.xml");
        return ExitCode::from(2);
    };
    let Ok(lines) = lines.parse::<usize>() else {
        eprintln!("gen-invoice: LINES must be a whole number, not '{lines}'");
        return ExitCode::from(2);
    };
    let doc = invoice_testgen::large_invoice(lines);
    if let Err(e) = std::fs::write(out, doc.as_bytes()) {
        eprintln!("gen-invoice: cannot write {out}: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
