//! E-mail received by Amazon SES, as the raw message SES stored in S3 (`mail/<company>/…`).
//!
//! Everything here is pure: [`read`] parses the message with `mail-parser` (its panics
//! contained), bounded by [`MailLimits`]; [`Verdicts`] are taken only from the header block
//! SES prepended (above `X-SES-RECEIPT`); [`sender_allowed`] is the company's allow-list;
//! attachments are classified by their bytes ([`kind_of`]), never by name or declared type;
//! [`invoice_number_in`] finds an invoice number in a file name, a subject or a PDF's text.
//! [`decide`] turns all of it into the reasons a message is quarantined (none: accepted).

use std::panic::{catch_unwind, AssertUnwindSafe};

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

use std::future::Future;

use crate::company::{prefix_company, Company, CompanyDirectory, MailSettings};
use crate::core::{sha256_hex, PortError};

/// SES refuses messages larger than 40 MB (headers included).
pub const SES_MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

/// Bounds on what one message may make us do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    pub max_message_bytes: usize,
    /// MIME parts in the whole message.
    pub max_parts: usize,
    /// Multipart nesting depth (the root is depth 0).
    pub max_depth: usize,
    /// Largest single attachment (decoded).
    pub max_attachment_bytes: usize,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits { max_message_bytes: SES_MAX_MESSAGE_BYTES, max_parts: 200, max_depth: 12, max_attachment_bytes: 25 * 1024 * 1024 }
    }
}

/// Stable reasons a message is quarantined. The kebab-case spelling is the contract (stored,
/// written in reason.json, printed by `invoicectl mail inspect --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::EnumIter, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum MailCode {
    /// Larger than SES's 40 MB (or the configured limit): not parsed.
    TooLarge,
    /// Not a readable MIME message (no headers, a multipart without parts, an undecodable
    /// part, or the MIME parser failed).
    MalformedMime,
    /// Multipart nesting deeper than the limit.
    TooDeep,
    /// More MIME parts than the limit.
    TooManyParts,
    /// One attachment larger than the limit.
    AttachmentTooLarge,
    /// A zip or gzip attachment: kept with the message, never expanded.
    CompressedAttachment,
    /// No `X-SES-RECEIPT`: not stored by SES, so no verdict can be believed.
    NoSesReceipt,
    /// SES's spam verdict is FAIL.
    Spam,
    /// SES's virus verdict is FAIL.
    Virus,
    SpfFail,
    DkimFail,
    DmarcFail,
    /// A verdict is GRAY / PROCESSING_FAILED / absent, and the company does not let GRAY pass.
    VerdictGray,
    /// No usable From address.
    NoSender,
    /// The From address is not on the company's allow-list.
    SenderNotAllowed,
    /// No company prefix, and no recipient is a registered invoice address.
    UnknownCompany,
    /// Neither a cXML invoice nor a PDF attached.
    NoInvoiceAttachment,
}

impl MailCode {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// A code with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailReason {
    pub code: MailCode,
    pub message: String,
}

impl MailReason {
    pub fn new(code: MailCode, message: impl Into<String>) -> Self {
        MailReason { code, message: message.into() }
    }
}

/// One SES verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    Fail,
    Gray,
    ProcessingFailed,
    /// SES wrote no such verdict.
    #[default]
    Missing,
}

impl Verdict {
    fn rank(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Missing => 1,
            Verdict::Gray => 2,
            Verdict::ProcessingFailed => 3,
            Verdict::Fail => 4,
        }
    }

    /// The worse of two verdicts (a FAIL anywhere is a FAIL).
    fn worst(self, other: Verdict) -> Verdict {
        if self == Verdict::Missing || other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// `PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED` (X-SES-*-Verdict) or an RFC 8601 result.
    pub fn parse(word: &str) -> Verdict {
        match word.trim().to_ascii_lowercase().as_str() {
            "pass" => Verdict::Pass,
            "fail" | "hardfail" => Verdict::Fail,
            "processing_failed" | "temperror" | "permerror" => Verdict::ProcessingFailed,
            _ => Verdict::Gray,
        }
    }
}

/// SES's verdicts on a message, read only from the headers SES prepended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verdicts {
    /// The message carries `X-SES-RECEIPT` (so the block above it is SES's).
    pub ses_receipt: bool,
    pub spam: Verdict,
    pub virus: Verdict,
    pub spf: Verdict,
    pub dkim: Verdict,
    pub dmarc: Verdict,
}

impl Verdicts {
    /// From the message's headers in order (name, raw value). Only the headers up to and
    /// including `X-SES-RECEIPT` count; the same names further down are the sender's and are
    /// ignored. Without `X-SES-RECEIPT` nothing is believed.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Verdicts {
        let mut block = Vec::new();
        let mut v = Verdicts::default();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("X-SES-RECEIPT") {
                v.ses_receipt = true;
                break;
            }
            block.push((name, value));
        }
        if !v.ses_receipt {
            return Verdicts::default();
        }
        for (name, value) in block {
            let n = name.to_ascii_lowercase();
            match n.as_str() {
                "x-ses-spam-verdict" => v.spam = v.spam.worst(Verdict::parse(value)),
                "x-ses-virus-verdict" => v.virus = v.virus.worst(Verdict::parse(value)),
                "received-spf" => {
                    let first = value.split_whitespace().next().unwrap_or("");
                    v.spf = v.spf.worst(Verdict::parse(first));
                }
                "authentication-results" => {
                    for clause in value.split(';').skip(1) {
                        let Some((method, rest)) = clause.trim().split_once('=') else { continue };
                        let result = rest.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
                        let r = Verdict::parse(result);
                        match method.trim().to_ascii_lowercase().as_str() {
                            "spf" => v.spf = v.spf.worst(r),
                            "dkim" => v.dkim = v.dkim.worst(r),
                            "dmarc" => v.dmarc = v.dmarc.worst(r),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        v
    }

    /// Why these verdicts quarantine the message (empty: they let it through).
    pub fn reasons(&self, gray_passes: bool) -> Vec<MailReason> {
        if !self.ses_receipt {
            return vec![MailReason::new(
                MailCode::NoSesReceipt,
                "the message has no X-SES-RECEIPT header: it was not stored by SES, so its spam, virus and SPF/DKIM/DMARC verdicts are unknown",
            )];
        }
        let mut out = Vec::new();
        let checks = [
            ("spam", self.spam, MailCode::Spam),
            ("virus", self.virus, MailCode::Virus),
            ("SPF", self.spf, MailCode::SpfFail),
            ("DKIM", self.dkim, MailCode::DkimFail),
            ("DMARC", self.dmarc, MailCode::DmarcFail),
        ];
        let mut gray = Vec::new();
        for (what, verdict, code) in checks {
            match verdict {
                Verdict::Fail => out.push(MailReason::new(code, format!("SES's {what} verdict is FAIL"))),
                Verdict::Pass => {}
                other => gray.push(format!(
                    "{what} {}",
                    serde_json::to_value(other).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
                )),
            }
        }
        if !gray.is_empty() && !gray_passes {
            out.push(MailReason::new(
                MailCode::VerdictGray,
                format!("SES could not decide ({}) and this company does not let GRAY verdicts pass (`invoicectl company set-mail … --gray-passes`)", gray.join(", ")),
            ));
        }
        out
    }
}

/// The address (lowercased, trimmed) is on the allow-list: an entry with `@` is one address,
/// one without is a domain (and its subdomains).
pub fn sender_allowed(address: &str, allow: &[String]) -> bool {
    let address = address.trim().to_ascii_lowercase();
    let Some((_, domain)) = address.rsplit_once('@') else { return false };
    allow.iter().any(|entry| {
        let e = entry.trim().trim_start_matches('@').to_ascii_lowercase();
        if e.is_empty() {
            false
        } else if e.contains('@') {
            e == address
        } else {
            domain == e || domain.ends_with(&format!(".{e}"))
        }
    })
}

/// What an attachment is, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cxml,
    Pdf,
    Other,
}

/// A compressed container, by its magic bytes.
pub fn compression_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") || bytes.starts_with(b"PK\x07\x08") {
        Some("zip")
    } else if bytes.starts_with(b"\x1f\x8b") {
        Some("gzip")
    } else {
        None
    }
}

/// `%PDF-` → PDF; a `<cXML` root after an optional BOM, whitespace, XML declaration,
/// comments and DOCTYPE → cXML; anything else → other.
pub fn kind_of(bytes: &[u8]) -> Kind {
    if bytes.starts_with(b"%PDF-") {
        return Kind::Pdf;
    }
    let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Bounded: only the first few KB are looked at.
    rest = &rest[..rest.len().min(8192)];
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        rest = &rest[start..];
        let skip_to = |r: &[u8], end: &[u8]| r.windows(end.len()).position(|w| w == end).map(|i| i + end.len());
        if rest.starts_with(b"<?") {
            match skip_to(rest, b"?>") {
                Some(i) => rest = &rest[i..],
                None => return Kind::Other,
            }
        } else if rest.starts_with(b"<!--") {
            match skip_to(rest, b"-->") {
                Some(i) => rest = &rest[i..],
                None => return Kind::Other,
            }
        } else if rest.starts_with(b"<!DOCTYPE") {
            match skip_to(rest, b">") {
                Some(i) => rest = &rest[i..],
                None => return Kind::Other,
            }
        } else {
            let is_root = rest.starts_with(b"<cXML") && rest.get(5).is_some_and(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/');
            return if is_root { Kind::Cxml } else { Kind::Other };
        }
    }
}

/// The one rule (shared with the PDF documents of [`crate::invoice::document`]).
pub use crate::invoice::document::invoice_number_in;

/// An attachment (or a body part whose bytes are a cXML invoice or a PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// 1-based, in message order.
    pub n: usize,
    /// The file name as the sender gave it (decoded; control characters removed; at most 200
    /// characters), or `attachment-<n>`.
    pub name: String,
    /// The declared content type (informative only).
    pub content_type: String,
    pub kind: Kind,
    /// Decoded size.
    pub size: usize,
    pub sha256: String,
    /// The decoded bytes; empty when the attachment is over the size limit (not copied).
    pub bytes: Vec<u8>,
    pub compression: Option<&'static str>,
}

impl Attachment {
    /// The object name under `incoming/<company>/mail/<message sha>/`: `<n>-<safe name>`,
    /// with `.xml` / `.pdf` by what the bytes are.
    pub fn safe_name(&self) -> String {
        let stem = self.name.rsplit_once('.').map(|(s, _)| s).filter(|s| !s.is_empty()).unwrap_or(&self.name);
        let ext = match self.kind {
            Kind::Cxml => "xml",
            Kind::Pdf => "pdf",
            Kind::Other => "bin",
        };
        let stem: String = crate::invoice::records::key_segment(stem).chars().take(80).collect();
        format!("{}-{stem}.{ext}", self.n)
    }
}

/// A message as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    pub size: usize,
    pub sha256: String,
    /// The first From address, lowercased.
    pub from: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// To, Cc and Delivered-To addresses, lowercased, each once.
    pub recipients: Vec<String>,
    pub verdicts: Verdicts,
    pub attachments: Vec<Attachment>,
    /// What makes the message unreadable or hostile (too large, malformed, too deep, …).
    pub problems: Vec<MailReason>,
}

fn clean_text(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_string()
}

/// Reads a raw message. Never panics: a panic of the MIME parser is contained and reported
/// as `malformed-mime`; a message over the size limit is not parsed.
pub fn read(raw: &[u8], limits: &MailLimits) -> Mail {
    let mut mail = Mail { size: raw.len(), sha256: sha256_hex(raw), ..Mail::default() };
    if raw.len() > limits.max_message_bytes {
        mail.problems.push(MailReason::new(
            MailCode::TooLarge,
            format!("the message is larger than {} bytes (SES accepts at most 40 MB); it was not read", limits.max_message_bytes),
        ));
        return mail;
    }
    let base = mail.clone();
    match catch_unwind(AssertUnwindSafe(|| read_parsed(raw, limits, mail))) {
        Ok(m) => m,
        Err(_) => {
            let mut m = base;
            m.problems.push(MailReason::new(MailCode::MalformedMime, "the MIME parser failed on this message; it is kept as received"));
            m
        }
    }
}

fn read_parsed(raw: &[u8], limits: &MailLimits, mut mail: Mail) -> Mail {
    let Some(msg) = MessageParser::default().parse(raw) else {
        mail.problems.push(MailReason::new(MailCode::MalformedMime, "not a MIME message: no header could be read"));
        return mail;
    };
    let root_headers = msg.parts.first().map(|p| p.headers.as_slice()).unwrap_or_default();
    if root_headers.is_empty() {
        mail.problems.push(MailReason::new(MailCode::MalformedMime, "not a MIME message: no header could be read"));
        return mail;
    }
    let raw_value = |h: &mail_parser::Header<'_>| {
        msg.raw_message.get(h.offset_start as usize..h.offset_end as usize).map(String::from_utf8_lossy).unwrap_or_default()
    };
    let named: Vec<(String, String)> = root_headers.iter().map(|h| (h.name.as_str().to_string(), raw_value(h).into_owned())).collect();
    mail.verdicts = Verdicts::from_headers(named.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    mail.from = msg.from().and_then(|a| a.first()).and_then(|a| a.address()).map(|a| clean_text(a, 320).to_ascii_lowercase());
    mail.subject = msg.subject().map(|s| clean_text(s, 500));
    mail.message_id = msg.message_id().map(|s| clean_text(s, 500));
    let mut recipients: Vec<String> = Vec::new();
    let mut add = |a: &str| {
        let a = clean_text(a, 320).to_ascii_lowercase();
        if !a.is_empty() && !recipients.contains(&a) {
            recipients.push(a);
        }
    };
    for addr in msg.all_to().chain(msg.all_cc()) {
        for one in addr.iter() {
            if let Some(a) = one.address() {
                add(a);
            }
        }
    }
    for (n, v) in &named {
        if n.eq_ignore_ascii_case("Delivered-To") {
            add(v.trim().trim_matches(|c| c == '<' || c == '>'));
        }
    }
    mail.recipients = recipients;

    if msg.parts.len() > limits.max_parts {
        mail.problems.push(MailReason::new(
            MailCode::TooManyParts,
            format!("the message has {} MIME parts (at most {} are read)", msg.parts.len(), limits.max_parts),
        ));
        return mail;
    }
    let root = &msg.parts[0];
    if root.content_type().is_some_and(|ct| ct.c_type.eq_ignore_ascii_case("multipart"))
        && !matches!(root.body, PartType::Multipart(ref ids) if !ids.is_empty())
    {
        mail.problems.push(MailReason::new(
            MailCode::MalformedMime,
            "the message declares multipart content but no part could be found (missing or wrong boundary)",
        ));
        return mail;
    }
    // Walk the part tree from the root; nested messages are attachments, never expanded.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    let mut seen = vec![false; msg.parts.len()];
    let mut leaves: Vec<usize> = Vec::new();
    let mut too_deep = false;
    while let Some((id, depth)) = stack.pop() {
        if id >= msg.parts.len() || seen[id] {
            continue;
        }
        seen[id] = true;
        if depth > limits.max_depth {
            too_deep = true;
            continue;
        }
        match &msg.parts[id].body {
            PartType::Multipart(children) => {
                for c in children.iter().rev() {
                    stack.push((*c as usize, depth + 1));
                }
            }
            _ => leaves.push(id),
        }
    }
    if too_deep {
        mail.problems.push(MailReason::new(MailCode::TooDeep, format!("MIME parts are nested deeper than {} levels", limits.max_depth)));
        return mail;
    }
    for id in leaves {
        let part = &msg.parts[id];
        let is_attachment = msg.attachments.contains(&(id as u32))
            || matches!(part.body, PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Message(_));
        let contents: &[u8] = match &part.body {
            PartType::Message(m) => m.raw_message.as_ref(),
            _ => part.contents(),
        };
        let kind = if matches!(part.body, PartType::Message(_)) { Kind::Other } else { kind_of(contents) };
        if kind == Kind::Other && !is_attachment {
            continue; // the message's own text
        }
        let n = mail.attachments.len() + 1;
        let name =
            part.attachment_name().map(|s| clean_text(s, 200)).filter(|s| !s.is_empty()).unwrap_or_else(|| format!("attachment-{n}"));
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .map(|s| clean_text(&s, 100).to_ascii_lowercase())
            .unwrap_or_else(|| "text/plain".into());
        if part.is_encoding_problem {
            mail.problems
                .push(MailReason::new(MailCode::MalformedMime, format!("attachment {n} ('{name}') could not be decoded ({content_type})")));
        }
        let compression = compression_of(contents);
        if let Some(c) = compression {
            mail.problems.push(MailReason::new(
                MailCode::CompressedAttachment,
                format!("attachment {n} ('{name}') is a {c} archive; it is kept with the message and never expanded: ask the sender to attach the invoice itself (cXML or PDF)"),
            ));
        }
        let too_large = contents.len() > limits.max_attachment_bytes;
        if too_large {
            mail.problems.push(MailReason::new(
                MailCode::AttachmentTooLarge,
                format!("attachment {n} ('{name}') has {} bytes (at most {} are accepted)", contents.len(), limits.max_attachment_bytes),
            ));
        }
        mail.attachments.push(Attachment {
            n,
            name,
            content_type,
            kind,
            size: contents.len(),
            sha256: sha256_hex(contents),
            bytes: if too_large { Vec::new() } else { contents.to_vec() },
            compression,
        });
    }
    mail
}

/// Every reason the message is quarantined for the company's settings, in order: what makes
/// it unreadable, SES's verdicts, the sender, and whether there is anything to ingest.
pub fn decide(mail: &Mail, settings: &MailSettings) -> Vec<MailReason> {
    let mut out = mail.problems.clone();
    if out.iter().any(|r| r.code == MailCode::TooLarge) {
        return out;
    }
    out.extend(mail.verdicts.reasons(settings.gray_passes));
    match &mail.from {
        None => out.push(MailReason::new(MailCode::NoSender, "the message has no From address")),
        Some(from) if !sender_allowed(from, &settings.allow) => out.push(MailReason::new(
            MailCode::SenderNotAllowed,
            if settings.allow.is_empty() {
                format!("{from} is not an allowed sender: this company allows no sender yet (`invoicectl company set-mail ID --address … --allow SENDER_OR_DOMAIN`)")
            } else {
                format!("{from} is not on this company's allowed senders ({})", settings.allow.join(", "))
            },
        )),
        Some(_) => {}
    }
    let structural = mail.problems.iter().any(|r| matches!(r.code, MailCode::MalformedMime | MailCode::TooDeep | MailCode::TooManyParts));
    if !structural && !mail.attachments.iter().any(|a| a.kind != Kind::Other) {
        out.push(MailReason::new(MailCode::NoInvoiceAttachment, "the message has no cXML invoice and no PDF attached"));
    }
    out
}

/// The invoice addresses of companies, as the mail channel reads them.
pub trait MailDirectory: CompanyDirectory {
    /// The company that registered an invoice address (lowercased).
    fn company_of_mail_address(&self, address: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// Normalises an e-mail address as registered and compared: trimmed, lowercased.
pub fn normalize_address(a: &str) -> String {
    a.trim().trim_matches(|c| c == '<' || c == '>').to_ascii_lowercase()
}

/// Whose a message is: `mail/<company>/…` names it (the SES rule of the company's address
/// writes there); a message straight under `mail/` belongs to the one company that registered
/// one of its recipients (To, Cc, Delivered-To); otherwise nobody's (the reason says why).
pub async fn resolve_company<D: MailDirectory + Sync>(
    dir: &D,
    key: &str,
    mail_prefix: &str,
    recipients: &[String],
) -> Result<Result<Company, String>, PortError> {
    if let Some(segment) = prefix_company(key, mail_prefix) {
        return Ok(match dir.company(segment).await? {
            Some(c) => Ok(c),
            None => Err(format!("the message was stored under {mail_prefix}{segment}/, but no company has the id '{segment}'")),
        });
    }
    let mut holders: Vec<(String, String)> = Vec::new();
    for r in recipients.iter().take(50) {
        if let Some(h) = dir.company_of_mail_address(&normalize_address(r)).await? {
            if !holders.iter().any(|(x, _)| *x == h) {
                holders.push((h, r.clone()));
            }
        }
    }
    Ok(match holders.as_slice() {
        [(holder, addr)] => match dir.company(holder).await? {
            Some(c) => Ok(c),
            None => Err(format!("{addr} is registered to company '{holder}', which no longer exists")),
        },
        [] => Err(format!(
            "no company has registered any of the message's recipients ({}) as its invoice address (`invoicectl company set-mail ID --address …`)",
            if recipients.is_empty() { "none".to_string() } else { recipients.join(", ") }
        )),
        many => Err(format!(
            "the message's recipients belong to several companies ({})",
            many.iter().map(|(h, a)| format!("{a} → {h}")).collect::<Vec<_>>().join(", ")
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_code_has_one_kebab_spelling() {
        let mut seen = std::collections::HashSet::new();
        for c in MailCode::iter() {
            let s = c.as_str();
            assert!(s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'), "{s}");
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(s.into()));
            assert!(seen.insert(s), "{s} twice");
        }
    }

    const SES: &str = "X-SES-RECEIPT";

    #[test]
    fn verdicts_only_from_the_ses_block() {
        let h = [
            ("Return-Path", "<b@s.example>"),
            ("X-SES-Spam-Verdict", "PASS"),
            ("X-SES-Virus-Verdict", "PASS"),
            ("Received-SPF", "pass (spfCheck: ok) client-ip=192.0.2.1;"),
            (
                "Authentication-Results",
                "amazonses.com; spf=pass (x) smtp.mailfrom=s.example; dkim=pass header.i=@s.example; dmarc=pass header.from=s.example;",
            ),
            (SES, "AEFB"),
            ("X-SES-Virus-Verdict", "FAIL"),
            ("Authentication-Results", "amazonses.com; dkim=fail"),
        ];
        let v = Verdicts::from_headers(h.iter().copied());
        assert!(v.ses_receipt);
        assert_eq!((v.spam, v.virus, v.spf, v.dkim, v.dmarc), (Verdict::Pass, Verdict::Pass, Verdict::Pass, Verdict::Pass, Verdict::Pass));
        assert!(v.reasons(false).is_empty());
    }

    #[test]
    fn forged_verdicts_without_receipt_count_for_nothing() {
        let h = [("X-SES-Spam-Verdict", "PASS"), ("From", "a@b.example")];
        let v = Verdicts::from_headers(h.iter().copied());
        assert!(!v.ses_receipt);
        assert_eq!(v.reasons(true)[0].code, MailCode::NoSesReceipt);
    }

    #[test]
    fn fail_quarantines_and_gray_depends_on_the_company() {
        let h = [
            ("X-SES-Spam-Verdict", "GRAY"),
            ("X-SES-Virus-Verdict", "PASS"),
            ("Authentication-Results", "amazonses.com; spf=fail; dkim=none; dmarc=fail"),
            (SES, "x"),
        ];
        let v = Verdicts::from_headers(h.iter().copied());
        let codes: Vec<_> = v.reasons(false).iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![MailCode::SpfFail, MailCode::DmarcFail, MailCode::VerdictGray]);
        let codes: Vec<_> = v.reasons(true).iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![MailCode::SpfFail, MailCode::DmarcFail]);
        let spam = Verdicts::from_headers([("X-SES-Spam-Verdict", "FAIL"), ("X-SES-Virus-Verdict", "FAIL"), (SES, "x")]);
        let codes: Vec<_> = spam.reasons(true).iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![MailCode::Spam, MailCode::Virus]);
        // The worse of Received-SPF and Authentication-Results.
        let v = Verdicts::from_headers([("Received-SPF", "fail (x)"), ("Authentication-Results", "amazonses.com; spf=pass"), (SES, "x")]);
        assert_eq!(v.spf, Verdict::Fail);
    }

    #[test]
    fn sender_rule_addresses_and_domains() {
        let allow = vec!["ap@supplier.example".to_string(), "amazon.com".to_string()];
        assert!(sender_allowed("AP@Supplier.example", &allow));
        assert!(!sender_allowed("sales@supplier.example", &allow));
        assert!(sender_allowed("no-reply@amazon.com", &allow));
        assert!(sender_allowed("x@business.amazon.com", &allow));
        assert!(!sender_allowed("x@notamazon.com", &allow));
        assert!(!sender_allowed("x@amazon.com.evil.example", &allow));
        assert!(!sender_allowed("not-an-address", &allow));
        assert!(!sender_allowed("a@b.example", &[]));
    }

    #[test]
    fn kinds_by_bytes() {
        assert_eq!(kind_of(b"%PDF-1.7\n"), Kind::Pdf);
        assert_eq!(kind_of(b"<cXML payloadID='x'>"), Kind::Cxml);
        assert_eq!(kind_of(b"\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE cXML SYSTEM \"x.dtd\">\n<cXML>"), Kind::Cxml);
        assert_eq!(kind_of(b"<cXMLx>"), Kind::Other);
        assert_eq!(kind_of(b"<html><cXML>"), Kind::Other);
        assert_eq!(kind_of(b"<?xml version=\"1.0\""), Kind::Other);
        assert_eq!(kind_of(b"PK\x03\x04"), Kind::Other);
        assert_eq!(compression_of(b"PK\x03\x04rest"), Some("zip"));
        assert_eq!(compression_of(b"\x1f\x8b\x08"), Some("gzip"));
        assert_eq!(compression_of(b"%PDF-"), None);
    }

    #[test]
    fn invoice_numbers() {
        assert_eq!(invoice_number_in("Invoice_1QX7ZK4MPL2T.pdf").as_deref(), Some("1QX7ZK4MPL2T"));
        assert_eq!(invoice_number_in("Your Amazon Business invoice no. INV-2025-0042").as_deref(), Some("INV-2025-0042"));
        assert_eq!(invoice_number_in("Invoice number: 1QX7ZK4MPL2T\nInvoice date 14 Nov").as_deref(), Some("1QX7ZK4MPL2T"));
        assert_eq!(invoice_number_in("Rechnung Nr 4711-A").as_deref(), Some("4711-A"));
        assert_eq!(invoice_number_in("Invoice date 2025 and nothing"), None);
        assert_eq!(invoice_number_in("Invoice for you"), None);
        assert_eq!(invoice_number_in("hello world 12345"), None);
    }

    #[test]
    fn oversized_message_is_not_parsed() {
        let limits = MailLimits { max_message_bytes: 10, ..MailLimits::default() };
        let m = read(b"From: a@b.example\r\n\r\nhello there", &limits);
        assert_eq!(m.problems[0].code, MailCode::TooLarge);
        assert_eq!(decide(&m, &MailSettings::default()).len(), 1);
    }

    #[test]
    fn safe_names_follow_the_bytes() {
        let a = Attachment {
            n: 2,
            name: "../../etc/passwd invoice.pdf".into(),
            content_type: "application/pdf".into(),
            kind: Kind::Cxml,
            size: 0,
            sha256: String::new(),
            bytes: vec![],
            compression: None,
        };
        assert_eq!(a.safe_name(), "2-.._.._etc_passwd_invoice.xml");
    }
}
