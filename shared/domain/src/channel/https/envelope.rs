//! The cXML envelope of a POSTed document: payloadID, the `From` / `To` / `Sender`
//! credentials, the Sender's SharedSecret and which request it is. The invoice parser never
//! reads a SharedSecret; this reader does, for authentication only, and keeps it in a
//! [`Secret`] whose `Debug` is redacted.
//!
//! Same security as the invoice parser: a DTD internal subset or a non-predefined entity is
//! refused (never expanded), an external DOCTYPE is never fetched, size and depth are capped.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::company::normalize_identity;
use crate::invoice::cxml::parser::{decode, Limits};
use crate::invoice::issue::{Code, Issue};

/// A SharedSecret as received. Never printed: `Debug` shows `Secret(***)`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for the slow-hash verification only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which cXML request a document carries (the first element inside `Request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    InvoiceDetail,
    Profile,
    /// Another request (`OrderRequest`, `StatusUpdateRequest`, …) or a `Response` / `Message`.
    Other(String),
    /// A `<cXML>` with no `Request`, `Response` or `Message`.
    Missing,
}

/// What a receiver needs before looking at the invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub payload_id: Option<String>,
    pub timestamp: Option<String>,
    /// Normalised `domain:identity` ([`normalize_identity`]) of every credential.
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub sender: Option<String>,
    pub shared_secret: Option<Secret>,
    pub request: Option<RequestKind>,
}

impl Envelope {
    pub fn request(&self) -> RequestKind {
        self.request.clone().unwrap_or(RequestKind::Missing)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    From,
    To,
    Sender,
}

/// Reads the envelope; `Err` with a fatal issue (`not-xml`, `malformed-xml`, `not-an-invoice`
/// for a document that is not cXML, `forbidden-entity`, `too-large`, `invalid-encoding`).
pub fn read_envelope(bytes: &[u8], limits: &Limits) -> Result<Envelope, Issue> {
    if bytes.len() > limits.max_bytes {
        return Err(Issue::new(Code::TooLarge, format!("document is {} bytes; the limit is {} bytes", bytes.len(), limits.max_bytes)));
    }
    let text = decode(bytes).map_err(|p| p.issues.into_iter().next().unwrap_or_else(|| Issue::new(Code::NotXml, "unreadable")))?;
    read_str(&text, limits)
}

fn read_str(src: &str, limits: &Limits) -> Result<Envelope, Issue> {
    let mut reader = Reader::from_str(src);
    {
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
    }
    let malformed = |m: String| Issue::new(Code::MalformedXml, m);
    let mut env = Envelope::default();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut cxml_depth: Option<usize> = None;
    let mut roots = 0;
    let mut seen_cxml = false;
    let mut part: Option<Part> = None;
    let mut domain = String::new();
    let mut text = String::new();
    loop {
        let ev = reader.read_event().map_err(|e| malformed(format!("the XML is not well-formed: {e}")))?;
        match ev {
            Event::Start(e) => {
                if stack.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        return Err(malformed("a second root element: a document has exactly one".into()));
                    }
                }
                if stack.len() >= limits.max_depth {
                    return Err(Issue::new(Code::TooLarge, format!("elements are nested more than {} deep", limits.max_depth)));
                }
                let name = e.local_name().as_ref().to_vec();
                let attr = |n: &[u8]| -> Option<String> {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == n)
                        .and_then(|a| a.unescape_value().ok().map(|v| v.trim().to_string()))
                };
                let rel = cxml_depth.map(|d| stack.len() - d);
                match (name.as_slice(), rel) {
                    (b"cXML", None) => {
                        seen_cxml = true;
                        cxml_depth = Some(stack.len() + 1);
                        env.payload_id = attr(b"payloadID").filter(|s| !s.is_empty());
                        env.timestamp = attr(b"timestamp").filter(|s| !s.is_empty());
                    }
                    (b"From", Some(1)) if stack.last().map(Vec::as_slice) == Some(b"Header") => part = Some(Part::From),
                    (b"To", Some(1)) if stack.last().map(Vec::as_slice) == Some(b"Header") => part = Some(Part::To),
                    (b"Sender", Some(1)) if stack.last().map(Vec::as_slice) == Some(b"Header") => part = Some(Part::Sender),
                    (b"Credential", Some(2)) if part.is_some() => domain = attr(b"domain").unwrap_or_default(),
                    (b"Request" | b"Response" | b"Message", Some(0)) if env.request.is_none() && name != b"Request" => {
                        env.request = Some(RequestKind::Other(String::from_utf8_lossy(&name).into_owned()));
                    }
                    (_, Some(1)) if stack.last().map(Vec::as_slice) == Some(b"Request") && env.request.is_none() => {
                        env.request = Some(match name.as_slice() {
                            b"InvoiceDetailRequest" => RequestKind::InvoiceDetail,
                            b"ProfileRequest" => RequestKind::Profile,
                            other => RequestKind::Other(String::from_utf8_lossy(other).into_owned()),
                        });
                    }
                    _ => {}
                }
                stack.push(name);
                text.clear();
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let rel = cxml_depth.map(|d| stack.len() as isize - d as isize);
                match (name.as_slice(), part, rel) {
                    (b"Identity", Some(p), Some(3)) => {
                        let id = normalize_identity(&domain, &text);
                        match p {
                            Part::From => env.from.push(id),
                            Part::To => env.to.push(id),
                            Part::Sender if env.sender.is_none() => env.sender = Some(id),
                            Part::Sender => {}
                        }
                    }
                    (b"SharedSecret", Some(Part::Sender), Some(3)) if env.shared_secret.is_none() => {
                        env.shared_secret = Some(Secret::new(text.trim()));
                    }
                    (b"From" | b"To" | b"Sender", _, Some(1)) => part = None,
                    (b"cXML", _, Some(-1)) => cxml_depth = None,
                    _ => {}
                }
                text.clear();
            }
            Event::Text(t) => {
                if stack.is_empty() {
                    if !t.iter().all(|b| b.is_ascii_whitespace()) {
                        return Err(malformed("text outside the root element".into()));
                    }
                } else {
                    text.push_str(&t.decode().map_err(|e| Issue::new(Code::InvalidEncoding, format!("text could not be decoded: {e}")))?);
                }
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::GeneralRef(r) => {
                let s: Cow<'_, str> = match r.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => {
                        let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => Cow::Borrowed(s),
                            None => {
                                return Err(Issue::new(
                                    Code::ForbiddenEntity,
                                    format!(
                                    "entity reference &{name};: only the five predefined XML entities and character references are allowed"
                                ),
                                ))
                            }
                        }
                    }
                    Err(e) => return Err(malformed(format!("bad character reference: {e}"))),
                };
                text.push_str(&s);
            }
            Event::DocType(d) => {
                let body = String::from_utf8_lossy(d.as_ref());
                if body.contains('[') || body.contains("ENTITY") {
                    return Err(Issue::new(
                        Code::ForbiddenEntity,
                        "the DOCTYPE declares an internal subset; cXML documents may only name the external DTD",
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if roots == 0 {
        return Err(Issue::new(Code::NotXml, "the document has no root element"));
    }
    if !stack.is_empty() {
        return Err(malformed("the document ends before its elements are closed (truncated?)".into()));
    }
    if !seen_cxml {
        return Err(Issue::new(Code::NotAnInvoice, "there is no <cXML> element: this is XML, but not a cXML document"));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/InvoiceDetail.dtd">
<cXML payloadID="p-1@sup" timestamp="2026-01-01T00:00:00Z">
 <Header>
  <From><Credential domain="DUNS"><Identity>123</Identity></Credential></From>
  <To><Credential domain="NetworkID"><Identity> AN01 </Identity></Credential></To>
  <Sender><Credential domain="NetworkID"><Identity>AN-SUP</Identity><SharedSecret>s&amp;cret</SharedSecret></Credential>
   <UserAgent>x</UserAgent></Sender>
 </Header>
 <Request deploymentMode="test"><InvoiceDetailRequest><Identity>not-a-credential</Identity></InvoiceDetailRequest></Request>
</cXML>"#;

    #[test]
    fn reads_credentials_secret_and_request() {
        let e = read_envelope(DOC.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(e.payload_id.as_deref(), Some("p-1@sup"));
        assert_eq!(e.from, vec!["duns:123"]);
        assert_eq!(e.to, vec!["networkid:AN01"]);
        assert_eq!(e.sender.as_deref(), Some("networkid:AN-SUP"));
        assert_eq!(e.shared_secret.as_ref().map(Secret::expose), Some("s&cret"));
        assert_eq!(e.request(), RequestKind::InvoiceDetail);
        assert!(!format!("{e:?}").contains("s&cret"), "the secret never shows in Debug");
    }

    #[test]
    fn request_kinds() {
        let k = |body: &str| read_envelope(format!("<cXML payloadID='x'>{body}</cXML>").as_bytes(), &Limits::default()).unwrap().request();
        assert_eq!(k("<Request><ProfileRequest/></Request>"), RequestKind::Profile);
        assert_eq!(k("<Request><OrderRequest/></Request>"), RequestKind::Other("OrderRequest".into()));
        assert_eq!(k("<Response><Status code='200'/></Response>"), RequestKind::Other("Response".into()));
        assert_eq!(k("<Header/>"), RequestKind::Missing);
    }

    #[test]
    fn unreadable_documents_are_fatal() {
        let code = |b: &[u8]| read_envelope(b, &Limits::default()).unwrap_err().code;
        assert_eq!(code(b"%PDF-1.4"), Code::NotXml);
        assert_eq!(code(b"<cXML><Header></cXML>"), Code::MalformedXml);
        assert_eq!(code(b"<html><body/></html>"), Code::NotAnInvoice);
        assert_eq!(code(b"<!DOCTYPE x [<!ENTITY a 'b'>]><cXML/>"), Code::ForbiddenEntity);
        assert_eq!(code(b"<cXML>&xxe;</cXML>"), Code::ForbiddenEntity);
        assert_eq!(read_envelope(b"<cXML/>", &Limits { max_bytes: 3, max_depth: 8 }).unwrap_err().code, Code::TooLarge);
    }
}
