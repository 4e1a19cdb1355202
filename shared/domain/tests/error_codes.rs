//! One test (at least) per error code, each on a minimal invoice changed in one place, plus
//! robustness: every prefix of a real document and mangled bytes never panic.

use invoice_domain::invoice::cxml::Limits;
use invoice_domain::invoice::{check, Code};

const VALID: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/InvoiceDetail.dtd">
<cXML payloadID="p-1@test" timestamp="2025-11-01T10:00:00-07:00">
  <Header>
    <From><Credential domain="NetworkID"><Identity>SUP-1</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>BUYER</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>SUP-1</Identity><SharedSecret>x</SharedSecret></Credential></Sender>
  </Header>
  <Request>
    <InvoiceDetailRequest>
      <InvoiceDetailRequestHeader invoiceID="INV-1" purpose="standard" operation="new" invoiceDate="2025-11-01">
        <InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isTaxInLine="yes"/>
      </InvoiceDetailRequestHeader>
      <InvoiceDetailOrder>
        <InvoiceDetailOrderInfo><OrderReference orderID="PO-1"/></InvoiceDetailOrderInfo>
        <InvoiceDetailItem invoiceLineNumber="1" quantity="3">
          <UnitOfMeasure>EA</UnitOfMeasure>
          <UnitPrice><Money currency="USD">12.49</Money></UnitPrice>
          <InvoiceDetailItemReference lineNumber="1"/>
          <SubtotalAmount><Money currency="USD">37.47</Money></SubtotalAmount>
          <Tax><Money currency="USD">3.00</Money></Tax>
        </InvoiceDetailItem>
        <InvoiceDetailItem invoiceLineNumber="2" quantity="2">
          <UnitOfMeasure>EA</UnitOfMeasure>
          <UnitPrice><Money currency="USD">10</Money></UnitPrice>
          <InvoiceDetailItemReference lineNumber="2"/>
          <SubtotalAmount><Money currency="USD">20.00</Money></SubtotalAmount>
          <Tax><Money currency="USD">1.00</Money></Tax>
        </InvoiceDetailItem>
      </InvoiceDetailOrder>
      <InvoiceDetailSummary>
        <SubtotalAmount><Money currency="USD">57.47</Money></SubtotalAmount>
        <Tax><Money currency="USD">4.00</Money></Tax>
        <ShippingAmount><Money currency="USD">5.00</Money></ShippingAmount>
        <NetAmount><Money currency="USD">66.47</Money></NetAmount>
        <DueAmount><Money currency="USD">66.47</Money></DueAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>
  </Request>
</cXML>"#;

fn codes_of(doc: &[u8]) -> Vec<Code> {
    let mut c: Vec<Code> = check(doc, &Limits::default()).issues.iter().map(|i| i.code).collect();
    c.sort();
    c.dedup();
    c
}

fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "fixture does not contain {from:?}");
    VALID.replacen(from, to, 1)
}

fn only(doc: &str, code: Code) {
    let checked = check(doc.as_bytes(), &Limits::default());
    let codes: Vec<Code> = checked.issues.iter().map(|i| i.code).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| *c == code), "expected only {code}, got {:?}", checked.issues);
    for i in &checked.issues {
        assert!(i.message.len() > 20, "message too thin: {i:?}");
    }
}

#[test]
fn the_fixture_is_valid() {
    let c = check(VALID.as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    assert_eq!(c.totals.unwrap().net.amount, "66.47".parse().unwrap());
}

#[test]
fn not_xml() {
    only("%PDF-1.7 binary", Code::NotXml);
    only("", Code::NotXml);
    only("   \n ", Code::NotXml);
    only("invoice INV-1 total 66.47", Code::NotXml);
}

#[test]
fn malformed_xml() {
    only(&with("</InvoiceDetailSummary>", "</InvoiceDetailSumary>"), Code::MalformedXml);
    only(&VALID[..VALID.len() - 20], Code::MalformedXml);
    only(&with("invoiceID=\"INV-1\"", "invoiceID=INV-1"), Code::MalformedXml);
    only(&format!("{VALID}<cXML/>"), Code::MalformedXml);
}

#[test]
fn not_an_invoice() {
    only("<?xml version=\"1.0\"?><Invoice><ID>1</ID></Invoice>", Code::NotAnInvoice);
    only(&with("<InvoiceDetailRequest>", "<OrderRequest>").replace("</InvoiceDetailRequest>", "</OrderRequest>"), Code::NotAnInvoice);
    let msg = check(b"<html><body>hi</body></html>", &Limits::default()).issues[0].message.clone();
    assert!(msg.contains("<html>"), "{msg}");
}

#[test]
fn forbidden_entity() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE cXML [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<cXML payloadID="x">&lol2;</cXML>"#;
    only(laughs, Code::ForbiddenEntity);
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><cXML>&xxe;</cXML>"#;
    only(xxe, Code::ForbiddenEntity);
    only(&with("<Identity>BUYER</Identity>", "<Identity>&undeclared;</Identity>"), Code::ForbiddenEntity);
    only(&with("orderID=\"PO-1\"", "orderID=\"&ext;\""), Code::ForbiddenEntity);
    // Predefined entities and character references are fine, and an external DOCTYPE is never fetched.
    let c = check(with("orderID=\"PO-1\"", "orderID=\"PO&amp;1&#x2D;&#65;\"").as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    assert_eq!(c.invoice.unwrap().order_ids(), vec!["PO&1-A"]);
}

#[test]
fn too_large() {
    let small = Limits { max_bytes: 1000, max_depth: 64 };
    let c = check(VALID.as_bytes(), &small);
    assert_eq!(c.issues.len(), 1);
    assert_eq!(c.issues[0].code, Code::TooLarge);
    assert!(c.issues[0].message.contains("1000"));
    let deep = format!("<cXML>{}{}</cXML>", "<a>".repeat(100), "</a>".repeat(100));
    only(&deep, Code::TooLarge);
    let shallow = Limits { max_bytes: 1 << 20, max_depth: 5 };
    assert_eq!(codes_of_with(VALID.as_bytes(), &shallow), vec![Code::TooLarge]);
}

fn codes_of_with(doc: &[u8], l: &Limits) -> Vec<Code> {
    check(doc, l).issues.iter().map(|i| i.code).collect()
}

#[test]
fn invalid_encoding() {
    let mut bad = VALID.as_bytes().to_vec();
    let at = VALID.find("INV-1").unwrap();
    bad[at] = 0xFF;
    assert_eq!(codes_of(&bad), vec![Code::InvalidEncoding]);
    only(&with("encoding=\"UTF-8\"", "encoding=\"KLINGON-8\""), Code::InvalidEncoding);
    // A declared Latin-1 document is decoded, not rejected.
    let latin = with("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"").replace("BUYER", "K\u{f6}ln");
    let (enc_bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    let c = check(&enc_bytes, &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    assert_eq!(c.invoice.unwrap().to[0].identity, "K\u{f6}ln");
    // UTF-16 with a BOM is decoded.
    let mut u16 = vec![0xFF, 0xFE];
    for unit in VALID.replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"").encode_utf16() {
        u16.extend_from_slice(&unit.to_le_bytes());
    }
    assert!(check(&u16, &Limits::default()).is_valid());
}

#[test]
fn missing_field() {
    only(&with(" invoiceID=\"INV-1\"", ""), Code::MissingField);
    only(&with(" invoiceDate=\"2025-11-01\"", ""), Code::MissingField);
    only(&with(" payloadID=\"p-1@test\"", ""), Code::MissingField);
    only(&with(" quantity=\"2\"", ""), Code::MissingField);
    let m = check(with("<UnitPrice><Money currency=\"USD\">10</Money></UnitPrice>", "").as_bytes(), &Limits::default());
    assert_eq!(m.issues.iter().map(|i| i.code).collect::<Vec<_>>(), vec![Code::MissingField]);
    assert!(m.issues[0].message.contains("invoiceLineNumber=\"2\"") && m.issues[0].message.contains("UnitPrice"), "{:?}", m.issues);
    only(&with("<SubtotalAmount><Money currency=\"USD\">57.47</Money></SubtotalAmount>", ""), Code::MissingField);
}

#[test]
fn invalid_amount() {
    only(&with(">12.49<", ">12,49<"), Code::InvalidAmount);
    let c = check(with(">5.00<", ">5e0<").as_bytes(), &Limits::default());
    assert!(c.issues.iter().any(|i| i.code == Code::InvalidAmount && i.message.contains("ShippingAmount")), "{:?}", c.issues);
    only(&with("quantity=\"3\"", "quantity=\"three\""), Code::InvalidAmount);
}

#[test]
fn invalid_currency() {
    only(&with("<Money currency=\"USD\">5.00</Money>", "<Money currency=\"US$\">5.00</Money>"), Code::InvalidCurrency);
    only(&with("<Money currency=\"USD\">5.00</Money>", "<Money>5.00</Money>"), Code::InvalidCurrency);
}

#[test]
fn currency_mismatch() {
    let c = check(with("<Money currency=\"USD\">5.00</Money>", "<Money currency=\"EUR\">5.00</Money>").as_bytes(), &Limits::default());
    assert!(
        c.issues.iter().any(|i| i.code == Code::CurrencyMismatch && i.message.contains("EUR") && i.message.contains("USD")),
        "{:?}",
        c.issues
    );
}

#[test]
fn invalid_date() {
    only(&with("invoiceDate=\"2025-11-01\"", "invoiceDate=\"01/11/2025\""), Code::InvalidDate);
    only(&with("invoiceDate=\"2025-11-01\"", "invoiceDate=\"2025-02-30\""), Code::InvalidDate);
    only(&with("timestamp=\"2025-11-01T10:00:00-07:00\"", "timestamp=\"yesterday\""), Code::InvalidDate);
    // Every real shape is accepted.
    for d in [
        "2025-11-01",
        "2025-11-01T10:00:00-07:00",
        "2025-11-01T10:00:00",
        "2025-11-01T10:00:00Z",
        "2025-11-01T10:00:00.123+01:00",
        "2025-11-01T10:00:00-00:00",
    ] {
        let c = check(with("invoiceDate=\"2025-11-01\"", &format!("invoiceDate=\"{d}\"")).as_bytes(), &Limits::default());
        assert!(c.is_valid(), "{d}: {:?}", c.issues);
    }
}

#[test]
fn duplicate_line_number() {
    only(&with("invoiceLineNumber=\"2\"", "invoiceLineNumber=\"001\""), Code::DuplicateLineNumber);
}

#[test]
fn negative_quantity_outside_credit_memos() {
    let doc = with("quantity=\"2\"", "quantity=\"-2\"").replace(">10</Money>", ">-10</Money>");
    // -2 x -10 = 20: arithmetic holds, only the sign of the quantity is wrong.
    only(&doc, Code::NegativeQuantity);
    // In a credit memo it is fine (amounts negative, arithmetic exact).
    let credit = VALID
        .replace("purpose=\"standard\"", "purpose=\"lineLevelCreditMemo\"")
        .replace("quantity=\"3\"", "quantity=\"-3\"")
        .replace(">37.47<", ">-37.47<")
        .replace(">3.00<", ">-3.00<")
        .replace("quantity=\"2\"", "quantity=\"-2\"")
        .replace(">20.00<", ">-20.00<")
        .replace(">1.00<", ">-1.00<")
        .replace(">57.47<", ">-57.47<")
        .replace(">4.00<", ">-4.00<")
        .replace(">5.00<", ">-5.00<")
        .replace(">66.47<", ">-66.47<");
    let c = check(credit.as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
}

#[test]
fn line_amount_mismatch() {
    let doc = with(">37.47</Money></SubtotalAmount>", ">37.40</Money></SubtotalAmount>")
        .replace(">57.47<", ">57.40<")
        .replace(">66.47<", ">66.40<");
    only(&doc, Code::LineAmountMismatch);
    let msg = check(doc.as_bytes(), &Limits::default()).issues[0].message.clone();
    assert!(msg.contains("37.47") && msg.contains("37.40") && msg.contains("invoiceLineNumber=\"1\""), "{msg}");
    // Rounding is not a mismatch: 3 x 0.333 = 0.999 stated as 1.00.
    let rounded = with(">12.49</Money></UnitPrice>", ">0.333</Money></UnitPrice>")
        .replace(">37.47<", ">1.00<")
        .replace(">57.47<", ">21.00<")
        .replace(">66.47<", ">30.00<");
    assert!(check(rounded.as_bytes(), &Limits::default()).is_valid());
}

#[test]
fn subtotal_mismatch() {
    let doc = with(">57.47<", ">57.48<").replace(">66.47<", ">66.48<");
    only(&doc, Code::SubtotalMismatch);
}

#[test]
fn tax_mismatch() {
    let doc = with(">4.00<", ">4.50<").replace(">66.47<", ">66.97<");
    only(&doc, Code::TaxMismatch);
    let details = with(
        "<Tax><Money currency=\"USD\">1.00</Money></Tax>",
        "<Tax><Money currency=\"USD\">1.00</Money><TaxDetail purpose=\"tax\" category=\"sales\"><TaxAmount><Money currency=\"USD\">0.90</Money></TaxAmount></TaxDetail></Tax>",
    );
    only(&details, Code::TaxMismatch);
}

#[test]
fn net_mismatch() {
    only(&with(">66.47</Money></NetAmount>", ">60.00</Money></NetAmount>").replace(">66.47<", ">60.00<"), Code::NetMismatch);
}

#[test]
fn due_mismatch() {
    only(&with(">66.47</Money></DueAmount>", ">66.00</Money></DueAmount>"), Code::DueMismatch);
}

#[test]
fn absent_amounts_are_computed() {
    let doc = with("<NetAmount><Money currency=\"USD\">66.47</Money></NetAmount>", "<NetAmount><Money currency=\"USD\"/></NetAmount>")
        .replace("<DueAmount><Money currency=\"USD\">66.47</Money></DueAmount>", "");
    let c = check(doc.as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    let t = c.totals.unwrap();
    assert!(t.net_computed && t.due_computed);
    assert_eq!(t.due.amount, "66.47".parse().unwrap());
}

#[test]
fn all_errors_are_reported_not_only_the_first() {
    let doc = with("invoiceDate=\"2025-11-01\"", "invoiceDate=\"soon\"")
        .replace("invoiceLineNumber=\"2\"", "invoiceLineNumber=\"1\"")
        .replace(">66.47</Money></NetAmount>", ">1.00</Money></NetAmount>")
        .replace(">12.49<", ">12,49<");
    let codes = codes_of(doc.as_bytes());
    for want in [Code::InvalidDate, Code::DuplicateLineNumber, Code::NetMismatch, Code::InvalidAmount, Code::DueMismatch] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
}

#[test]
fn every_prefix_and_mangled_bytes_never_panic() {
    let doc = VALID.as_bytes();
    for end in 0..doc.len() {
        let c = check(&doc[..end], &Limits::default());
        assert!(!c.is_valid(), "prefix {end} accepted");
    }
    // Deterministic byte mangling (xorshift), no randomness from the environment.
    let mut s: u64 = 0x9E3779B97F4A7C15;
    for _ in 0..3000 {
        let mut d = doc.to_vec();
        for _ in 0..4 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let at = (s as usize) % d.len();
            d[at] = (s >> 32) as u8;
        }
        let _ = check(&d, &Limits::default());
    }
}

#[test]
fn service_items_may_be_lump_sums_but_need_an_amount() {
    let lump = VALID
        .replace("<InvoiceDetailItem invoiceLineNumber=\"2\" quantity=\"2\">", "<InvoiceDetailServiceItem invoiceLineNumber=\"2\">")
        .replace("<UnitOfMeasure>EA</UnitOfMeasure>\n          <UnitPrice><Money currency=\"USD\">10</Money></UnitPrice>\n          <InvoiceDetailItemReference lineNumber=\"2\"/>", "<InvoiceDetailServiceItemReference lineNumber=\"2\"/>")
        .replace("<Tax><Money currency=\"USD\">1.00</Money></Tax>\n        </InvoiceDetailItem>", "<Tax><Money currency=\"USD\">1.00</Money></Tax>\n        </InvoiceDetailServiceItem>");
    assert!(lump.contains("</InvoiceDetailServiceItem>") && !lump.contains(">10</Money>"));
    let c = check(lump.as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    only(&lump.replace("<SubtotalAmount><Money currency=\"USD\">20.00</Money></SubtotalAmount>", ""), Code::MissingField);
}

#[test]
fn cxml_inside_an_integration_envelope_is_read() {
    let body = VALID.split_once("?>").unwrap().1.split_once('>').unwrap().1; // drop declaration and DOCTYPE
    let wrapped = format!("<?xml version=\"1.0\"?><Combined><Payload>{body}</Payload><Attachments/></Combined>");
    let c = check(wrapped.as_bytes(), &Limits::default());
    assert!(c.is_valid(), "{:?}", c.issues);
    assert_eq!(c.invoice.unwrap().header.invoice_id.as_deref(), Some("INV-1"));
    only("<Combined><Payload><Other/></Payload></Combined>", Code::NotAnInvoice);
}
