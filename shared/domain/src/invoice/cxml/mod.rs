//! cXML `InvoiceDetailRequest`: typed model and streaming parser.
mod lex;
pub mod model;
pub mod parser;

pub use model::*;
pub use parser::{parse, parse_str, Limits, Parsed};
