//! Supplier invoices in: the cXML model and parser, validation, accounting, the stored
//! records and their keys, and the ingestion workflow behind its ports.

pub mod accounting;
pub mod cxml;
pub mod document;
pub mod export;
pub mod ingest;
pub mod issue;
pub mod ports;
pub mod records;
pub mod report;
pub mod review;
pub mod validate;

pub use issue::{Code, Issue};
pub use validate::{check, Checked, Totals};
