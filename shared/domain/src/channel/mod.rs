//! Channels that bring documents in besides a drop into `incoming/`: the pure rules of each
//! (the adapters and functions only read, write and wire). A channel only writes the document
//! under `incoming/<company>/` with its [`DocumentSource`] as S3 metadata; the usual ingestion
//! takes it from there.
//!
//! - [`mail`]: e-mail received by SES — the message read with `mail-parser`, SES's verdicts,
//!   the company's sender rule, attachments classified by their bytes, invoice numbers found.
//! - [`https`]: cXML documents POSTed by suppliers, answered synchronously with a cXML
//!   `Response` (authentication of the `Sender`, status codes, replays of a payloadID).
//!
//! [`DocumentSource`]: crate::invoice::records::DocumentSource

pub mod https;
pub mod mail;
