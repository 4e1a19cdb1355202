//! What a POST carries: `text/xml` / `application/xml` (the cXML itself), or
//! `multipart/related` (RFC 2387) whose root part — `start`, else the first — is the cXML
//! and whose other parts are attachments the invoice names with `cid:` URLs.

/// How the body is to be read, from its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    Xml,
    Related {
        boundary: String,
        start: Option<String>,
    },
    /// Anything else (answered 415), with the media type as received.
    Unsupported(String),
}

/// Parses a `Content-Type` header value.
pub fn media_of(content_type: Option<&str>) -> Media {
    let Some(ct) = content_type else { return Media::Unsupported(String::new()) };
    let mut parts = ct.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params: Vec<(String, String)> = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
        .collect();
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    match essence.as_str() {
        "text/xml" | "application/xml" => Media::Xml,
        "multipart/related" => match param("boundary").filter(|b| !b.is_empty() && b.len() <= 70) {
            Some(boundary) => Media::Related { boundary, start: param("start") },
            None => Media::Unsupported("multipart/related without a boundary".into()),
        },
        _ => Media::Unsupported(essence),
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    pub content_type: Option<String>,
    /// Without the angle brackets: what a `cid:` URL names.
    pub content_id: Option<String>,
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

/// The `cid:` attachments an invoice names that are not among the POST's parts (RFC 2392:
/// `cid:` + the percent-encoded Content-ID; compared without case in the scheme, exactly in
/// the id). Other URLs (`https:` …) are references, not parts, and are not checked.
pub fn missing_attachments(urls: &[impl AsRef<str>], parts: &[BodyPart]) -> Vec<crate::invoice::issue::Issue> {
    use crate::invoice::issue::{Code, Issue};
    urls.iter()
        .filter_map(|u| {
            let u = u.as_ref().trim();
            let rest = u.get(..4).filter(|scheme| scheme.eq_ignore_ascii_case("cid:")).map(|_| &u[4..])?;
            let id = percent_encoding::percent_decode_str(rest).decode_utf8_lossy();
            let id = strip_id(&id);
            let found = parts.iter().any(|p| p.content_id.as_deref() == Some(id.as_str()));
            (!found).then(|| {
                let have: Vec<&str> = parts.iter().filter_map(|p| p.content_id.as_deref()).collect();
                let have = if have.is_empty() { "no attachment parts".to_string() } else { format!("parts {}", have.join(", ")) };
                Issue::new(
                    Code::MissingAttachment,
                    format!("the invoice names the attachment {u}, but the POST carries no part with Content-ID <{id}> ({have})"),
                )
            })
        })
        .collect()
}

/// The parts of a multipart/related body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub root: BodyPart,
    pub attachments: Vec<BodyPart>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn strip_id(s: &str) -> String {
    s.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

/// Splits a multipart/related body; `Err` says what is wrong with it.
pub fn split_related(body: &[u8], boundary: &str, start: Option<&str>) -> Result<Related, String> {
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let mut pos = find(body, d, 0).ok_or_else(|| format!("the multipart body has no boundary line '{delim}'"))?;
    let mut parts: Vec<BodyPart> = Vec::new();
    loop {
        let after = pos + d.len();
        if body[after..].starts_with(b"--") {
            break;
        }
        // Skip transport padding and the line break after the boundary.
        let line_end = find(body, b"\n", after).ok_or("a boundary line is not followed by a part")?;
        let head_start = line_end + 1;
        let (head_end, body_start) = match (find(body, b"\r\n\r\n", head_start), find(body, b"\n\n", head_start)) {
            (Some(a), Some(b)) if b < a => (b, b + 2),
            (Some(a), _) => (a, a + 4),
            (None, Some(b)) => (b, b + 2),
            (None, None) => return Err("a part has no blank line after its headers".into()),
        };
        let next = find(body, format!("\n{delim}").as_bytes(), body_start).ok_or("the multipart body ends without its closing boundary")?;
        let mut end = next;
        if end > body_start && body[end - 1] == b'\r' {
            end -= 1;
        }
        let head = String::from_utf8_lossy(&body[head_start..head_end]);
        let mut part =
            BodyPart { content_type: None, content_id: None, filename: None, body: body[body_start..end.max(body_start)].to_vec() };
        for line in head.lines() {
            if let Some((k, v)) = line.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-type" => part.content_type = Some(v.trim().to_string()),
                    "content-id" => part.content_id = Some(strip_id(v)),
                    "content-disposition" => {
                        part.filename = v
                            .split(';')
                            .filter_map(|p| p.split_once('='))
                            .find(|(k, _)| k.trim().eq_ignore_ascii_case("filename"))
                            .map(|(_, f)| f.trim().trim_matches('"').to_string())
                    }
                    "content-transfer-encoding" => {
                        let enc = v.trim().to_ascii_lowercase();
                        if !matches!(enc.as_str(), "binary" | "8bit" | "7bit") {
                            return Err(format!("content-transfer-encoding '{enc}' is not supported (send binary parts)"));
                        }
                    }
                    _ => {}
                }
            }
        }
        parts.push(part);
        pos = next + 1;
    }
    if parts.is_empty() {
        return Err("the multipart body has no parts".into());
    }
    let root_index = match start.map(strip_id) {
        Some(id) => parts
            .iter()
            .position(|p| p.content_id.as_deref() == Some(id.as_str()))
            .ok_or_else(|| format!("no part has the start Content-ID <{id}>"))?,
        None => 0,
    };
    let root = parts.remove(root_index);
    Ok(Related { root, attachments: parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_references_must_name_a_part() {
        let part = |id: &str| BodyPart { content_type: None, content_id: Some(id.into()), filename: None, body: vec![] };
        let parts = [part("scan-1@sup"), part("a b@sup")];
        let ok = ["cid:scan-1@sup", "CID:a%20b@sup", "cid:<scan-1@sup>", "https://sup.example/x.pdf"];
        assert!(missing_attachments(&ok, &parts).is_empty());
        let missing = missing_attachments(&["cid:scan-2@sup", "cid:scan-1@sup"], &parts);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].code, crate::invoice::issue::Code::MissingAttachment);
        assert!(
            missing[0].message.contains("cid:scan-2@sup") && missing[0].message.contains("scan-1@sup, a b@sup"),
            "{}",
            missing[0].message
        );
        assert!(missing_attachments(&["cid:x"], &[])[0].message.contains("no attachment parts"));
    }

    #[test]
    fn content_types() {
        assert_eq!(media_of(Some("text/xml; charset=UTF-8")), Media::Xml);
        assert_eq!(media_of(Some("Application/XML")), Media::Xml);
        assert_eq!(
            media_of(Some(r#"multipart/related; type="text/xml"; start="<root@x>"; boundary="b-1""#)),
            Media::Related { boundary: "b-1".into(), start: Some("<root@x>".into()) }
        );
        assert!(matches!(media_of(Some("text/plain")), Media::Unsupported(t) if t == "text/plain"));
        assert!(matches!(media_of(Some("multipart/related")), Media::Unsupported(_)));
        assert!(matches!(media_of(None), Media::Unsupported(_)));
    }

    #[test]
    fn splits_root_and_attachments() {
        let body = b"preamble\r\n--b-1\r\nContent-Type: application/pdf\r\nContent-ID: <att1@x>\r\nContent-Disposition: attachment; filename=\"inv.pdf\"\r\n\r\n%PDF-1.4 bytes\r\n--b-1\r\nContent-Type: text/xml\r\nContent-ID: <root@x>\r\n\r\n<cXML/>\r\n--b-1--\r\n";
        let r = split_related(body, "b-1", Some("<root@x>")).unwrap();
        assert_eq!(r.root.body, b"<cXML/>");
        assert_eq!(r.attachments.len(), 1);
        let a = &r.attachments[0];
        assert_eq!(
            (a.content_id.as_deref(), a.filename.as_deref(), a.body.as_slice()),
            (Some("att1@x"), Some("inv.pdf"), &b"%PDF-1.4 bytes"[..])
        );
        // Without start the first part is the root.
        assert_eq!(split_related(body, "b-1", None).unwrap().root.body, b"%PDF-1.4 bytes");
        assert!(split_related(body, "b-1", Some("<nope>")).is_err());
        assert!(split_related(b"no boundary here", "b-1", None).is_err());
        assert!(split_related(b"--b-1\r\nContent-Type: text/xml\r\n\r\n<cXML/>", "b-1", None).is_err(), "unterminated");
    }
}
