//! Every status of the HTTPS channel through [`Receiver::receive`] with in-memory ports.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::secret::new_sender;
use super::*;
use crate::company::Company;
use crate::invoice::ports::StoredObject;

const S01: &str = include_str!("../../../../../tests/fixtures/cxml/samples/s01-amazon-business-two-sellers.xml");
const SECRET: &str = "s3cr3t-do-not-store";

fn doc(payload_id: &str, invoice_id: &str, secret: &str) -> String {
    S01.replace("1731583200123.48213.7711@amazon.com", payload_id)
        .replace("invoiceID=\"1QX7ZK4MPL2T\"", &format!("invoiceID=\"{invoice_id}\""))
        .replace(SECRET, secret)
}

type Objects = BTreeMap<String, (Vec<u8>, BTreeMap<String, String>)>;

#[derive(Default)]
struct Mem {
    objects: Mutex<Objects>,
    answers: Mutex<BTreeMap<(String, String), StoredAnswer>>,
    booked: Mutex<BTreeMap<(String, String), String>>,
    fail: Mutex<bool>,
}

struct Dir(Vec<Company>);

impl CompanyDirectory for Dir {
    async fn company(&self, id: &str) -> Result<Option<Company>, PortError> {
        Ok(self.0.iter().find(|c| c.id == id).cloned())
    }
    async fn company_of_identity(&self, identity: &str) -> Result<Option<String>, PortError> {
        Ok(self.0.iter().find(|c| c.cxml_identities.iter().any(|i| i == identity)).map(|c| c.id.clone()))
    }
}

impl DocumentStore for &Mem {
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        Ok(self.objects.lock().unwrap().get(key).map(|(b, m)| StoredObject { bytes: b.clone(), metadata: m.clone() }))
    }
    async fn put(&self, key: &str, body: Vec<u8>, _ct: &str, metadata: &BTreeMap<String, String>) -> Result<(), PortError> {
        if *self.fail.lock().unwrap() {
            return Err(PortError("s3 down".into()));
        }
        self.objects.lock().unwrap().insert(key.to_string(), (body, metadata.clone()));
        Ok(())
    }
    async fn copy(&self, _from: &str, _to: &str) -> Result<(), PortError> {
        unreachable!()
    }
    async fn delete(&self, _key: &str) -> Result<(), PortError> {
        unreachable!()
    }
}

impl AnswerStore for &Mem {
    async fn booked_sha(&self, company: &str, invoice_key: &str) -> Result<Option<String>, PortError> {
        Ok(self.booked.lock().unwrap().get(&(company.to_string(), invoice_key.to_string())).cloned())
    }
    async fn answer(&self, company: &str, payload_id: &str) -> Result<Option<StoredAnswer>, PortError> {
        Ok(self.answers.lock().unwrap().get(&(company.to_string(), payload_id.to_string())).cloned())
    }
    async fn remember(&self, company: &str, payload_id: &str, answer: &StoredAnswer) -> Result<Option<StoredAnswer>, PortError> {
        let mut m = self.answers.lock().unwrap();
        let k = (company.to_string(), payload_id.to_string());
        if let Some(first) = m.get(&k) {
            return Ok(Some(first.clone()));
        }
        m.insert(k, answer.clone());
        Ok(None)
    }
}

fn acme(accepted: Option<Vec<String>>) -> Company {
    let mut c = Company::new("acme", "Acme", &["NetworkID:AN99887766554".to_string()], "2026-01-01T00:00:00.000Z").unwrap();
    c.cxml_senders = vec![new_sender("networkid:northwind-procure", SECRET, &[9; 16], "2026-01-01T00:00:00.000Z").unwrap()];
    c.accepted_suppliers = accepted;
    c
}

fn receiver(mem: &Mem, company: Company) -> Receiver<Dir, &Mem, &Mem> {
    let config = ReceiveConfig {
        max_body_bytes: 1024 * 1024,
        max_depth: 64,
        incoming_prefix: "incoming/".into(),
        attachments_prefix: "attachments/".into(),
        dummy_hash: dummy_hash(),
    };
    Receiver::new(Dir(vec![company]), mem, mem, config)
}

async fn post(r: &Receiver<Dir, &Mem, &Mem>, ct: &str, body: &[u8]) -> Reply {
    r.receive(Post {
        content_type: Some(ct),
        body,
        now: "2026-12-01T10:00:00.000Z",
        response_id: "1.1.r@ib",
        endpoint_url: "https://x/cxml",
    })
    .await
}

fn status_line(r: &Reply) -> &str {
    let s = r.body.find("<Status").unwrap();
    &r.body[s..]
}

#[tokio::test]
async fn a_valid_invoice_is_stored_with_its_source_and_answered_200() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let reply = post(&r, "text/xml; charset=UTF-8", doc("p-1@sup", "INV-1", SECRET).as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::Ok, 200), "{}", reply.body);
    assert!(status_line(&reply).starts_with(r#"<Status code="200" text="OK">Invoice INV-1 accepted."#), "{}", reply.body);
    let key = reply.document_key.clone().unwrap();
    assert_eq!(key, format!("incoming/acme/https/{}.xml", document_id("p-1@sup")));
    let objects = mem.objects.lock().unwrap();
    let (bytes, meta) = objects.get(&key).unwrap();
    assert_eq!(bytes, doc("p-1@sup", "INV-1", SECRET).as_bytes());
    let source = DocumentSource::from_metadata(meta);
    assert_eq!(source.channel, Channel::Https);
    assert_eq!(source.payload_id.as_deref(), Some("p-1@sup"));
    assert_eq!(source.sender.as_deref(), Some("networkid:northwind-procure"));
    assert_eq!(reply.company.as_deref(), Some("acme"));
    assert!(!reply.body.contains(SECRET));
}

#[tokio::test]
async fn the_same_payload_id_gets_the_first_answer_and_is_not_stored_again() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let first = post(&r, "text/xml", doc("p-2@sup", "INV-2", SECRET).as_bytes()).await;
    mem.objects.lock().unwrap().clear();
    let again = post(&r, "application/xml", doc("p-2@sup", "INV-2", SECRET).as_bytes()).await;
    assert!(again.replayed);
    assert_eq!((again.status, &again.body), (first.status, &first.body), "byte for byte the first answer");
    assert!(mem.objects.lock().unwrap().is_empty(), "nothing stored again");
    // 400s are remembered too: the fixed document needs a new payloadID.
    let broken = doc("p-2b@sup", "INV-2B", SECRET).replace("invoiceDate=\"2025-11-14\"", "invoiceDate=\"someday\"");
    let bad = post(&r, "text/xml", broken.as_bytes()).await;
    assert_eq!(bad.status, StatusCode::BadRequest, "{}", bad.body);
    let fixed = post(&r, "text/xml", doc("p-2b@sup", "INV-2B", SECRET).as_bytes()).await;
    assert!(fixed.replayed && fixed.body == bad.body);
}

#[tokio::test]
async fn wrong_secret_unknown_sender_and_unknown_buyer_get_one_401() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let wrong = post(&r, "text/xml", doc("p-3@sup", "INV-3", "guess").as_bytes()).await;
    let unknown = post(&r, "text/xml", doc("p-3@sup", "INV-3", SECRET).replace("northwind-procure", "mallory").as_bytes()).await;
    let no_buyer = post(&r, "text/xml", doc("p-3@sup", "INV-3", SECRET).replace("AN99887766554", "AN00000000000").as_bytes()).await;
    let no_secret =
        post(&r, "text/xml", doc("p-3@sup", "INV-3", SECRET).replace(&format!("<SharedSecret>{SECRET}</SharedSecret>"), "").as_bytes())
            .await;
    for reply in [&wrong, &unknown, &no_buyer, &no_secret] {
        assert_eq!((reply.status, reply.http_status()), (StatusCode::Unauthorized, 401));
        assert_eq!(reply.body, wrong.body, "one and the same answer");
        assert!(reply.document_key.is_none() && reply.company.is_none());
    }
    assert!(mem.objects.lock().unwrap().is_empty() && mem.answers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_supplier_the_company_does_not_accept_gets_403() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(Some(vec!["NetworkID:SOMEONE-ELSE".into()])));
    let reply = post(&r, "text/xml", doc("p-4@sup", "INV-4", SECRET).as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::Forbidden, 403));
    assert!(reply.body.contains("networkid:AN01011737571"), "{}", reply.body);
    let ok = receiver(&mem, acme(Some(vec!["networkid:AN01011737571".into()])));
    assert_eq!(post(&ok, "text/xml", doc("p-4@sup", "INV-4", SECRET).as_bytes()).await.status, StatusCode::Ok);
}

#[tokio::test]
async fn validation_errors_are_400_with_every_error() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let broken = doc("p-5@sup", "INV-5", SECRET).replace(r#"invoiceDate="2025-11-14""#, r#"invoiceDate="14.11.2025""#).replacen(
        "<Money currency=\"USD\">190.44</Money>",
        "<Money currency=\"USD\">1,90</Money>",
        1,
    );
    let reply = post(&r, "text/xml", broken.as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::BadRequest, 400), "{}", reply.body);
    assert!(reply.body.contains("invalid-date: "), "{}", reply.body);
    assert!(reply.body.contains("invalid-amount: "), "{}", reply.body);
    assert!(reply.document_key.is_none() && mem.objects.lock().unwrap().is_empty());
    assert_eq!(mem.answers.lock().unwrap().len(), 1, "remembered for its payloadID");
}

#[tokio::test]
async fn unreadable_documents_are_406() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    for body in [
        &b"%PDF-1.4 binary"[..],
        b"<cXML><Header>",
        b"<html/>",
        b"<!DOCTYPE cXML [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><cXML>&x;</cXML>",
    ] {
        let reply = post(&r, "text/xml", body).await;
        assert_eq!((reply.status, reply.http_status()), (StatusCode::NotAcceptable, 406), "{}", reply.body);
    }
}

#[tokio::test]
async fn profile_request_is_answered_with_a_profile() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let body = doc("p-6@sup", "X", SECRET);
    let start = body.find("<Request").unwrap();
    let end = body.find("</Request>").unwrap() + "</Request>".len();
    let profile = format!("{}<Request><ProfileRequest/></Request>{}", &body[..start], &body[end..]);
    let reply = post(&r, "text/xml", profile.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::Ok);
    assert!(reply.body.contains(r#"<ProfileResponse effectiveDate="2026-12-01T10:00:00.000Z">"#), "{}", reply.body);
    for t in TRANSACTIONS {
        assert!(reply.body.contains(&format!(r#"<Transaction requestName="{t}">"#)));
    }
    assert!(mem.objects.lock().unwrap().is_empty());

    let order = format!("{}<Request><OrderRequest/></Request>{}", &body[..start], &body[end..]);
    let reply = post(&r, "text/xml", order.as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::NotImplemented, 200));
    assert!(status_line(&reply).starts_with(r#"<Status code="450" text="Not Implemented">OrderRequest"#), "{}", reply.body);
}

#[tokio::test]
async fn a_booked_invoice_number_with_other_content_is_409() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let first = doc("p-7@sup", "INV-7", SECRET);
    mem.booked.lock().unwrap().insert(("acme".into(), "NetworkID:AN01011737571#INV-7".into()), sha256_hex(first.as_bytes()));
    // Same invoice number, another document (new payloadID, other bytes).
    let reply = post(&r, "text/xml", doc("p-8@sup", "INV-7", SECRET).as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::Conflict, 409), "{}", reply.body);
    assert!(reply.body.contains("duplicate-invoice"));
    assert!(mem.objects.lock().unwrap().is_empty());
    // The very document that was booked: 200, nothing stored.
    let same = post(&r, "text/xml", first.as_bytes()).await;
    assert_eq!(same.status, StatusCode::Ok);
    assert!(same.document_key.is_none());
}

#[tokio::test]
async fn content_type_and_size() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let reply = post(&r, "text/plain", doc("p-9@sup", "INV-9", SECRET).as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::UnsupportedMediaType, 415));
    let big = vec![b' '; 1024 * 1024 + 1];
    let reply = post(&r, "text/xml", &big).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::PayloadTooLarge, 413));
    assert!(reply.body.contains("at most 1048576 bytes"));
}

#[tokio::test]
async fn multipart_related_stores_the_attachments() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let xml = doc("p-10@sup", "INV-10", SECRET);
    let body = format!(
        "--XYZ\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <root@sup>\r\n\r\n{xml}\r\n--XYZ\r\nContent-Type: application/pdf\r\nContent-ID: <scan-1@sup>\r\n\r\n%PDF-1.4 scan\r\n--XYZ--\r\n"
    );
    let reply = post(&r, r#"multipart/related; type="text/xml"; start="<root@sup>"; boundary=XYZ"#, body.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::Ok, "{}", reply.body);
    let id = document_id("p-10@sup");
    assert_eq!(reply.attachment_keys, vec![format!("attachments/acme/https/{id}/1-scan-1_sup")]);
    let objects = mem.objects.lock().unwrap();
    assert_eq!(objects.get(&reply.attachment_keys[0]).unwrap().0, b"%PDF-1.4 scan");
    assert_eq!(objects.get(reply.document_key.as_ref().unwrap()).unwrap().0, xml.as_bytes());
}

#[tokio::test]
async fn a_named_attachment_must_come_with_the_post() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    let with_ref = |pid: &str, cid: &str| {
        doc(pid, pid, SECRET).replacen(
            "</InvoiceDetailRequestHeader>",
            &format!("<Comments>Scan attached<Attachment><URL>cid:{cid}</URL></Attachment></Comments></InvoiceDetailRequestHeader>"),
            1,
        )
    };
    let related = |xml: &str| {
        format!(
            "--XYZ\r\nContent-Type: text/xml\r\nContent-ID: <root@sup>\r\n\r\n{xml}\r\n--XYZ\r\nContent-Type: application/pdf\r\nContent-ID: <scan-1@sup>\r\n\r\n%PDF-1.4 scan\r\n--XYZ--\r\n"
        )
    };
    let ct = r#"multipart/related; type="text/xml"; start="<root@sup>"; boundary=XYZ"#;
    let ok = post(&r, ct, related(&with_ref("p-20@sup", "scan-1@sup")).as_bytes()).await;
    assert_eq!(ok.status, StatusCode::Ok, "{}", ok.body);

    let before = mem.objects.lock().unwrap().len();
    let bad = post(&r, ct, related(&with_ref("p-21@sup", "scan-9@sup")).as_bytes()).await;
    assert_eq!((bad.status, bad.http_status()), (StatusCode::BadRequest, 400), "{}", bad.body);
    assert!(bad.body.contains("missing-attachment: the invoice names the attachment cid:scan-9@sup"), "{}", bad.body);
    // Plain text/xml naming a cid: part it cannot carry: the same.
    let plain = post(&r, "text/xml", with_ref("p-22@sup", "scan-1@sup").as_bytes()).await;
    assert_eq!(plain.status, StatusCode::BadRequest, "{}", plain.body);
    assert!(plain.body.contains("no attachment parts"), "{}", plain.body);
    assert_eq!(mem.objects.lock().unwrap().len(), before, "nothing stored for a refused post");
}

#[tokio::test]
async fn a_storage_failure_is_500_and_not_remembered() {
    let mem = Mem::default();
    let r = receiver(&mem, acme(None));
    *mem.fail.lock().unwrap() = true;
    let reply = post(&r, "text/xml", doc("p-11@sup", "INV-11", SECRET).as_bytes()).await;
    assert_eq!((reply.status, reply.http_status()), (StatusCode::InternalServerError, 500));
    assert_eq!(reply.internal.as_deref(), Some("s3 down"));
    assert!(!reply.body.contains("s3 down"), "internal causes stay internal");
    *mem.fail.lock().unwrap() = false;
    assert_eq!(post(&r, "text/xml", doc("p-11@sup", "INV-11", SECRET).as_bytes()).await.status, StatusCode::Ok, "the retry is processed");
}

#[test]
fn remembered_answers() {
    use strum::IntoEnumIterator;
    let remembered: Vec<u16> = StatusCode::iter().filter(|s| is_remembered(*s)).map(|s| s.code()).collect();
    assert_eq!(remembered, vec![200, 400, 406, 409]);
}

#[test]
fn answers_expire_thirty_days_after_they_were_given() {
    use super::answer_expiry;
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-31T00:00:00Z").unwrap().timestamp();
    assert_eq!(answer_expiry("2026-12-01T00:00:00.000Z"), Some(at));
    assert_eq!(answer_expiry("not a time"), None);
}
