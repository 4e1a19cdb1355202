//! Invoice Bridge domain: pure logic, no AWS SDK, no network, no implicit clock.
//!
//! - [`money`]: exact amounts with ISO 4217 currencies.
//! - [`cxml`]: the cXML invoice model and its tolerant streaming parser.
//! - [`validate`]: cross-field rules and effective totals.
//! - [`issue`]: stable error codes.

pub mod accounting;
pub mod cxml;
pub mod ingest;
pub mod issue;
pub mod money;
pub mod rate;
pub mod report;
pub mod testgen;
pub mod validate;
pub mod vendor;
pub mod vendor_poll;
pub mod vendor_submit;

pub use issue::{Code, Issue};
pub use money::{Currency, Money};
pub use validate::{check, Checked, Totals};
