//! Channels that bring documents in besides a drop into `incoming/`: the pure rules of each
//! (the adapters and functions only read, write and wire).
//!
//! - [`mail`]: e-mail received by SES — the message read with `mail-parser`, SES's verdicts,
//!   the company's sender rule, attachments classified by their bytes, invoice numbers found.

pub mod mail;
