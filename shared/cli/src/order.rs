//! `invoicectl order build PO.json`: offline, the PO checked and its exact `placeOrder` body.

use std::io::Write;
use std::path::Path;

use invoice_domain::ordering::po::PoInput;
use invoice_domain::ordering::{build, PlaceOrderRequest, Problem};
use serde::Serialize;

/// What `order build` prints: `{"ok", "errors": [{"code", "message"}], "body"}`.
#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    errors: &'a [Problem],
    /// Serialized by serde_json directly: amounts keep their digits.
    body: Option<&'a PlaceOrderRequest>,
}

/// Exit 0 built, 1 refused (the problems printed), 2 unreadable / not a PO.
pub fn build_po(path: &Path) -> i32 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("invoicectl: cannot read {}: {e}", path.display());
            return 2;
        }
    };
    // From the bytes, not through a serde_json::Value: amounts are kept as written.
    let input: PoInput = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("invoicectl: {} is not a PO (JSON): {e}", path.display());
            return 2;
        }
    };
    let (report, code) = match build(&input) {
        Ok((_, body)) => (serde_json::to_string_pretty(&Report { ok: true, errors: &[], body: Some(&body) }), 0),
        Err(problems) => (serde_json::to_string_pretty(&Report { ok: false, errors: &problems, body: None }), 1),
    };
    match report {
        Ok(text) => {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            code
        }
        Err(e) => {
            eprintln!("invoicectl: {e}");
            2
        }
    }
}
