//! Channels: the ways documents reach Invoice Bridge besides a drop into the bucket. A channel
//! only writes the document under `incoming/<company>/` with its [`DocumentSource`] as S3
//! metadata; the usual ingestion takes it from there.
//!
//! - [`https`]: cXML documents POSTed by suppliers, answered synchronously with a cXML
//!   `Response` (authentication of the `Sender`, status codes, replays of a payloadID).
//!
//! [`DocumentSource`]: crate::invoice::records::DocumentSource

pub mod https;
