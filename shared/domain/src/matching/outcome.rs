//! The result of a match, as stored and as `invoicectl match --json` prints it:
//!
//! ```json
//! {"status": "Exception", "po_number": "PO-4711",
//!  "exceptions": [{"code": "price-variance", "line": "2", "expected": "60.00 USD", "found": "61.50 USD",
//!                  "message": "invoice line 2 (PO line 20): unit price 61.50 USD, ..."}],
//!  "lines": [{"invoice_line": "1", "po_line": "10", "status": "Matched"},
//!            {"invoice_line": "2", "po_line": "20", "status": "Exception"}]}
//! ```

use serde::{Deserialize, Serialize};

use super::code::MatchCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatchStatus {
    Matched,
    Exception,
}

/// One finding. `line` is the invoice line it concerns (`invoiceLineNumber` as written, or
/// `#<n>` for the n-th item when it has none), `None` for the invoice as a whole; `expected`
/// and `found` are the values compared, as text (`12.49 USD`, `10`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchException {
    pub code: MatchCode,
    pub line: Option<String>,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub message: String,
}

/// How one invoice line matched: the PO line it bills (as the PO writes its number), if found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMatch {
    pub invoice_line: String,
    pub po_line: Option<String>,
    pub status: MatchStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchOutcome {
    pub status: MatchStatus,
    /// The PO the invoice was matched against; `None` when none was found (`no-po`).
    pub po_number: Option<String>,
    pub exceptions: Vec<MatchException>,
    /// One per invoice item line, in document order.
    pub lines: Vec<LineMatch>,
}

impl MatchOutcome {
    pub fn is_matched(&self) -> bool {
        self.status == MatchStatus::Matched
    }

    /// The codes of the exceptions, in order, with repeats.
    pub fn codes(&self) -> Vec<MatchCode> {
        self.exceptions.iter().map(|e| e.code).collect()
    }
}
