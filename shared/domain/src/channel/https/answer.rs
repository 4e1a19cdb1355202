//! The cXML `Response` a receiver answers with: the status codes of the protocol, the document
//! model and its rendering (quick-xml writer, everything escaped; element order of the DTD:
//! `cXML@payloadID@timestamp` → `Response` → `Status` then `ProfileResponse`).

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::{Deserialize, Serialize};

/// The DTD a Response names (never fetched by anyone reading it correctly).
pub const DTD: &str = "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd";

/// The status codes this receiver answers with (cXML codes, plus 413/415 for what is refused
/// before any cXML is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
pub enum StatusCode {
    Ok,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotAcceptable,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotImplemented,
    InternalServerError,
}

impl StatusCode {
    /// The cXML `Status@code`.
    pub fn code(&self) -> u16 {
        match self {
            StatusCode::Ok => 200,
            StatusCode::BadRequest => 400,
            StatusCode::Unauthorized => 401,
            StatusCode::Forbidden => 403,
            StatusCode::NotAcceptable => 406,
            StatusCode::Conflict => 409,
            StatusCode::PayloadTooLarge => 413,
            StatusCode::UnsupportedMediaType => 415,
            StatusCode::NotImplemented => 450,
            StatusCode::InternalServerError => 500,
        }
    }

    /// The code's generic phrase (`Status@text`).
    pub fn text(&self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::BadRequest => "Bad Request",
            StatusCode::Unauthorized => "Unauthorized",
            StatusCode::Forbidden => "Forbidden",
            StatusCode::NotAcceptable => "Not Acceptable",
            StatusCode::Conflict => "Conflict",
            StatusCode::PayloadTooLarge => "Payload Too Large",
            StatusCode::UnsupportedMediaType => "Unsupported Media Type",
            StatusCode::NotImplemented => "Not Implemented",
            StatusCode::InternalServerError => "Internal Server Error",
        }
    }

    /// The HTTP status: the cXML code where that number is a standard HTTP status; 200 (with
    /// the code in the body, as Ariba answers) where it is cXML's own (450).
    pub fn http_status(&self) -> u16 {
        match self {
            StatusCode::NotImplemented => 200,
            other => other.code(),
        }
    }

    pub fn from_code(code: u16) -> Option<StatusCode> {
        use strum::IntoEnumIterator;
        StatusCode::iter().find(|s| s.code() == code)
    }
}

/// `ProfileResponse`: what this endpoint supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub effective_date: String,
    pub url: String,
    pub transactions: Vec<String>,
}

/// One answer: a status with its specific explanation, and for a ProfileRequest the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    /// For a person: what exactly is wrong (or what happened).
    pub message: String,
    pub profile: Option<Profile>,
}

impl Answer {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Answer {
        Answer { status, message: message.into(), profile: None }
    }
}

/// A Response payloadID in the recommended form `<epoch ms>.<process>.<random>@<host>`; the
/// caller passes the clock reading, the process id and the random part.
pub fn response_payload_id(epoch_ms: i64, process: u32, random: &str, host: &str) -> String {
    format!("{epoch_ms}.{process}.{random}@{host}")
}

/// Renders the Response document (UTF-8, with the XML declaration and the DOCTYPE).
pub fn render(answer: &Answer, payload_id: &str, timestamp: &str) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail.
    let _ = write(&mut w, answer, payload_id, timestamp);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn write(w: &mut Writer<Vec<u8>>, a: &Answer, payload_id: &str, timestamp: &str) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::DocType(BytesText::from_escaped(format!("cXML SYSTEM \"{DTD}\""))))?;
    let mut root = BytesStart::new("cXML");
    root.push_attribute(("payloadID", payload_id));
    root.push_attribute(("timestamp", timestamp));
    root.push_attribute(("xml:lang", "en-US"));
    w.write_event(Event::Start(root))?;
    w.write_event(Event::Start(BytesStart::new("Response")))?;
    let code = a.status.code().to_string();
    let mut status = BytesStart::new("Status");
    status.push_attribute(("code", code.as_str()));
    status.push_attribute(("text", a.status.text()));
    if a.message.is_empty() {
        w.write_event(Event::Empty(status))?;
    } else {
        w.write_event(Event::Start(status))?;
        w.write_event(Event::Text(BytesText::new(&a.message)))?;
        w.write_event(Event::End(BytesEnd::new("Status")))?;
    }
    if let Some(p) = &a.profile {
        let mut pr = BytesStart::new("ProfileResponse");
        pr.push_attribute(("effectiveDate", p.effective_date.as_str()));
        w.write_event(Event::Start(pr))?;
        for t in &p.transactions {
            let mut tr = BytesStart::new("Transaction");
            tr.push_attribute(("requestName", t.as_str()));
            w.write_event(Event::Start(tr))?;
            w.write_event(Event::Start(BytesStart::new("URL")))?;
            w.write_event(Event::Text(BytesText::new(&p.url)))?;
            w.write_event(Event::End(BytesEnd::new("URL")))?;
            w.write_event(Event::End(BytesEnd::new("Transaction")))?;
        }
        w.write_event(Event::End(BytesEnd::new("ProfileResponse")))?;
    }
    w.write_event(Event::End(BytesEnd::new("Response")))?;
    w.write_event(Event::End(BytesEnd::new("cXML")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn http_status_mirrors_standard_codes_only() {
        for s in StatusCode::iter() {
            let expected = if s == StatusCode::NotImplemented { 200 } else { s.code() };
            assert_eq!(s.http_status(), expected, "{s:?}");
            assert_eq!(StatusCode::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn renders_in_dtd_order_and_escapes() {
        let a = Answer::new(StatusCode::BadRequest, "net-mismatch: <NetAmount> 0 & \"x\"");
        let xml = render(&a, "1.2.r@host", "2026-01-01T00:00:00.000Z");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
        assert!(xml.contains(&format!("<!DOCTYPE cXML SYSTEM \"{DTD}\">")));
        assert!(xml.contains(r#"<cXML payloadID="1.2.r@host" timestamp="2026-01-01T00:00:00.000Z" xml:lang="en-US">"#), "{xml}");
        assert!(
            xml.contains(r#"<Status code="400" text="Bad Request">net-mismatch: &lt;NetAmount&gt; 0 &amp; &quot;x&quot;</Status>"#),
            "{xml}"
        );
        let (r, s) = (xml.find("<Response>").unwrap(), xml.find("<Status").unwrap());
        assert!(r < s);
        // It reads back as a cXML document.
        let env = crate::channel::https::envelope::read_envelope(xml.as_bytes(), &Default::default()).unwrap();
        assert_eq!(env.payload_id.as_deref(), Some("1.2.r@host"));
    }

    #[test]
    fn profile_response_follows_status() {
        let mut a = Answer::new(StatusCode::Ok, "");
        a.profile = Some(Profile {
            effective_date: "2026-01-01T00:00:00.000Z".into(),
            url: "https://h/cxml?a=1&b=2".into(),
            transactions: vec!["InvoiceDetailRequest".into(), "ProfileRequest".into()],
        });
        let xml = render(&a, "p", "t");
        let status = xml.find(r#"<Status code="200" text="OK"/>"#).expect(&xml);
        let profile = xml.find(r#"<ProfileResponse effectiveDate="2026-01-01T00:00:00.000Z">"#).expect(&xml);
        assert!(status < profile);
        assert!(xml.contains(r#"<Transaction requestName="InvoiceDetailRequest">"#));
        assert!(xml.contains("<URL>https://h/cxml?a=1&amp;b=2</URL>"));
        assert_eq!(response_payload_id(1700000000000, 42, "ab12", "h"), "1700000000000.42.ab12@h");
    }
}
