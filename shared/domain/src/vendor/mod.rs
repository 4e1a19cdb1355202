//! The vendor side: a shipped order becomes exactly one SP-API `submitInvoices` call, and its
//! transaction is polled until Amazon says Success or Failure.
//!
//! - [`records`]: orders, accounts, sellers, locations; the Invoice, Marketplace Feed and Order
//!   Error records and their state transitions.
//! - [`codes`]: the stable codes (eligibility, mapping, Order Error sources).
//! - [`body`]: the exact SP-API request body.
//! - [`mapping`]: eligibility and the mapping of an order to that body.
//! - [`ports`]: the repository and the SP-API operations the workflows use.
//! - [`submit`], [`poll`], [`reconcile`]: the workflows.

pub mod body;
pub mod codes;
pub mod mapping;
pub mod poll;
pub mod ports;
pub mod reconcile;
pub mod records;
pub mod submit;
pub mod transitions;
