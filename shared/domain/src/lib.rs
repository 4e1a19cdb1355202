//! Invoice Bridge domain: pure logic, no AWS SDK, no network, no implicit clock or randomness.
//! Laid out by capability; each owns its models, rules, ports and workflows.
//!
//! - [`core`]: money (ISO 4217, exact decimals), time formatting, ids, the ports' error type.
//! - [`company`]: companies (tenants), their cXML identities, charts of accounts, Amazon
//!   connections, and how a document's company is resolved.
//! - [`invoice`]: supplier invoices in — cXML model + parser, validation, accounting, ingestion.
//! - [`vendor`]: vendor invoices out — records, mapping to the SP-API body, submission,
//!   polling and reconciliation.
//! - [`ordering`]: purchase orders out through the Amazon Business Ordering API.
//! - [`matching`]: invoices matched against their PO and what Amazon accepted (quantities,
//!   prices, amounts, charges, tolerances), and their GL coding from the PO.
//! - [`import`]: the daily Amazon Business import of a connected company's purchase invoices
//!   (Reconciliation API answers, mapping, entries, reconciliation, watermark, PDF reports).

pub mod channel;
pub mod company;
pub mod core;
pub mod import;
pub mod invoice;
pub mod matching;
pub mod ordering;
pub mod vendor;
