//! Streaming, tolerant reader of cXML `InvoiceDetailRequest` documents (quick-xml, borrowing
//! from the input).
//!
//! Security: any DTD internal subset or entity declaration is refused (`forbidden-entity`),
//! never expanded; an external `<!DOCTYPE cXML SYSTEM "...">` is accepted and never fetched.
//! Only the five predefined entities and character references are resolved. Size and nesting
//! depth are capped (`too-large`).
//!
//! Tolerance (see the cXML notes, NOTES.md, in the reference material shipped beside the
//! project): element order inside a block does not
//! matter, text is trimmed, unknown or misspelt attributes and unknown elements are ignored,
//! comments/CDATA/`xml:lang` may appear anywhere, an empty `<Money>` means "absent".

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use rust_decimal::Decimal;

use super::model::*;
use crate::core::money::{parse_amount, Currency, Money, MoneyError};
use crate::invoice::issue::{Code, Issue};

/// Resource limits of one parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 50 * 1024 * 1024, max_depth: 64 }
    }
}

/// What the parser read: the invoice when the document could be read, and every problem seen.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub invoice: Option<CxmlInvoice>,
    pub issues: Vec<Issue>,
}

/// A fatal finding as the internal helpers return it (boxed: `Parsed` is large).
fn fail(code: Code, message: impl Into<String>) -> Box<Parsed> {
    Box::new(Parsed::fatal(code, message))
}

impl Parsed {
    fn fatal(code: Code, message: impl Into<String>) -> Parsed {
        Parsed { invoice: None, issues: vec![Issue::new(code, message)] }
    }
}

/// Parses raw bytes (any encoding the XML declaration or a BOM names).
pub fn parse(bytes: &[u8], limits: &Limits) -> Parsed {
    if bytes.len() > limits.max_bytes {
        return Parsed::fatal(Code::TooLarge, format!("document is {} bytes; the limit is {} bytes", bytes.len(), limits.max_bytes));
    }
    let text = match decode(bytes) {
        Ok(t) => t,
        Err(p) => return *p,
    };
    parse_str(&text, limits)
}

/// Turns the bytes into UTF-8 text following the BOM or the XML declaration's encoding.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, Box<Parsed>> {
    // UTF-16 documents announce themselves with a BOM.
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        if enc != encoding_rs::UTF_8 {
            return enc
                .decode_without_bom_handling_and_without_replacement(&bytes[bom_len..])
                .map(|c| Cow::Owned(c.into_owned()))
                .ok_or_else(|| fail(Code::InvalidEncoding, format!("the document is not valid {}", enc.name())));
        }
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(fail(Code::NotXml, "the document is empty")),
        Some(i) if body[i] != b'<' => {
            return Err(fail(Code::NotXml, "the document does not start with '<': it is not XML (a PDF, a text or a binary file?)"))
        }
        _ => {}
    }
    if let Some(label) = declared_encoding(body) {
        let lower = label.to_ascii_lowercase();
        if !matches!(lower.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
            let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes()) else {
                return Err(fail(
                    Code::InvalidEncoding,
                    format!("the XML declaration names encoding '{label}', which is not a known character encoding"),
                ));
            };
            if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                return Err(fail(
                    Code::InvalidEncoding,
                    format!("the XML declaration says '{label}' but the document has no byte order mark and reads as 8-bit text"),
                ));
            }
            if enc != encoding_rs::UTF_8 {
                return enc
                    .decode_without_bom_handling_and_without_replacement(body)
                    .map(|c| Cow::Owned(c.into_owned()))
                    .ok_or_else(|| fail(Code::InvalidEncoding, format!("the document is not valid {label}")));
            }
        }
    }
    std::str::from_utf8(body).map(Cow::Borrowed).map_err(|e| {
        let pos = e.valid_up_to();
        fail(
            Code::InvalidEncoding,
            format!(
                "byte {} (source line {}) is not valid UTF-8; the document must be UTF-8 or declare its encoding",
                pos,
                line_of(body, pos)
            ),
        )
    })
}

/// The `encoding="..."` of a leading XML declaration, if any.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &body[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = rest.iter().take(512).position(|&b| b == b'>')?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let i = decl.find("encoding")?;
    let after = decl[i + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let val = &after[1..];
    let close = val.find(quote)?;
    Some(val[..close].trim().to_string())
}

fn line_of(text: &[u8], pos: usize) -> usize {
    let end = pos.min(text.len());
    memchr_count(b'\n', &text[..end]) + 1
}

fn memchr_count(needle: u8, hay: &[u8]) -> usize {
    // Blocks of 128 bytes counted in a u8 (at most 128 hits) vectorize to byte compares; a
    // plain `filter().count()` widens every byte to 64 bits and was 5-7% of a parse.
    let mut chunks = hay.chunks_exact(128);
    let mut n = 0usize;
    for block in &mut chunks {
        n += block.iter().fold(0u8, |acc, &b| acc + u8::from(b == needle)) as usize;
    }
    n + chunks.remainder().iter().filter(|&&b| b == needle).count()
}

/// Element names the reader acts on. Everything else is `Other` and ignored (its children
/// are still visited, so an unknown wrapper never hides a known element that we look up by
/// parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    CXml,
    Header,
    From,
    To,
    Sender,
    Credential,
    Identity,
    UserAgent,
    Request,
    InvoiceDetailRequest,
    RequestHeader,
    HeaderIndicator,
    LineIndicator,
    InvoicePartner,
    InvoiceDetailShipping,
    Contact,
    Name,
    PostalAddress,
    Street,
    City,
    State,
    PostalCode,
    Country,
    Email,
    IdReference,
    PaymentTerm,
    Comments,
    Extrinsic,
    InvoiceDetailOrder,
    InvoiceDetailHeaderOrder,
    OrderInfo,
    OrderReference,
    OrderIdInfo,
    DocumentReference,
    MasterAgreementReference,
    MasterAgreementIdInfo,
    SupplierOrderInfo,
    Item,
    ServiceItem,
    ItemReference,
    ServiceItemReference,
    SupplierPartId,
    SupplierPartAuxId,
    Description,
    Classification,
    UnitOfMeasure,
    UnitPrice,
    PriceBasisQuantity,
    Money,
    SubtotalAmount,
    Tax,
    TaxDetail,
    TaxableAmount,
    TaxAmount,
    TaxLocation,
    ShippingAmount,
    SpecialHandlingAmount,
    LineShipping,
    LineSpecialHandling,
    GrossAmount,
    NetAmount,
    DueAmount,
    DepositAmount,
    Discount,
    Distribution,
    Accounting,
    AccountingSegment,
    Charge,
    OrderSummary,
    Summary,
    Other,
}

fn el_of(name: &[u8]) -> El {
    match name {
        b"cXML" => El::CXml,
        b"Header" => El::Header,
        b"From" => El::From,
        b"To" => El::To,
        b"Sender" => El::Sender,
        b"Credential" => El::Credential,
        b"Identity" => El::Identity,
        b"UserAgent" => El::UserAgent,
        b"Request" => El::Request,
        b"InvoiceDetailRequest" => El::InvoiceDetailRequest,
        b"InvoiceDetailRequestHeader" => El::RequestHeader,
        b"InvoiceDetailHeaderIndicator" => El::HeaderIndicator,
        b"InvoiceDetailLineIndicator" => El::LineIndicator,
        b"InvoicePartner" => El::InvoicePartner,
        b"InvoiceDetailShipping" => El::InvoiceDetailShipping,
        b"Contact" => El::Contact,
        b"Name" => El::Name,
        b"PostalAddress" => El::PostalAddress,
        b"Street" => El::Street,
        b"City" => El::City,
        b"State" => El::State,
        b"PostalCode" => El::PostalCode,
        b"Country" => El::Country,
        b"Email" => El::Email,
        b"IdReference" => El::IdReference,
        b"PaymentTerm" | b"InvoiceDetailPaymentTerm" => El::PaymentTerm,
        b"Comments" => El::Comments,
        b"Extrinsic" => El::Extrinsic,
        b"InvoiceDetailOrder" => El::InvoiceDetailOrder,
        b"InvoiceDetailHeaderOrder" => El::InvoiceDetailHeaderOrder,
        b"InvoiceDetailOrderInfo" => El::OrderInfo,
        b"OrderReference" => El::OrderReference,
        b"OrderIDInfo" => El::OrderIdInfo,
        b"DocumentReference" => El::DocumentReference,
        b"MasterAgreementReference" => El::MasterAgreementReference,
        b"MasterAgreementIDInfo" => El::MasterAgreementIdInfo,
        b"SupplierOrderInfo" => El::SupplierOrderInfo,
        b"InvoiceDetailItem" => El::Item,
        b"InvoiceDetailServiceItem" => El::ServiceItem,
        b"InvoiceDetailItemReference" => El::ItemReference,
        b"InvoiceDetailServiceItemReference" => El::ServiceItemReference,
        b"SupplierPartID" => El::SupplierPartId,
        b"SupplierPartAuxiliaryID" => El::SupplierPartAuxId,
        b"Description" => El::Description,
        b"Classification" => El::Classification,
        b"UnitOfMeasure" => El::UnitOfMeasure,
        b"UnitPrice" => El::UnitPrice,
        b"PriceBasisQuantity" => El::PriceBasisQuantity,
        b"Money" => El::Money,
        b"SubtotalAmount" => El::SubtotalAmount,
        b"Tax" => El::Tax,
        b"TaxDetail" => El::TaxDetail,
        b"TaxableAmount" => El::TaxableAmount,
        b"TaxAmount" => El::TaxAmount,
        b"TaxLocation" => El::TaxLocation,
        b"ShippingAmount" => El::ShippingAmount,
        b"SpecialHandlingAmount" => El::SpecialHandlingAmount,
        b"InvoiceDetailLineShipping" => El::LineShipping,
        b"InvoiceDetailLineSpecialHandling" => El::LineSpecialHandling,
        b"GrossAmount" => El::GrossAmount,
        b"NetAmount" => El::NetAmount,
        b"DueAmount" => El::DueAmount,
        b"DepositAmount" => El::DepositAmount,
        b"InvoiceDetailDiscount" => El::Discount,
        b"Distribution" => El::Distribution,
        b"Accounting" => El::Accounting,
        b"AccountingSegment" => El::AccountingSegment,
        b"Charge" => El::Charge,
        b"InvoiceDetailOrderSummary" => El::OrderSummary,
        b"InvoiceDetailSummary" => El::Summary,
        _ => El::Other,
    }
}

/// Which amount of a block a `<Money>` fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    UnitPrice,
    Subtotal,
    Tax,
    SpecialHandling,
    Shipping,
    Gross,
    Discount,
    Net,
    Deposit,
    Due,
    Taxable,
    TaxDetailAmount,
    Charge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Item,
    HeaderOrder,
    Summary,
    TaxDetail,
    Distribution,
}

struct MoneySlot<'a> {
    scope: Scope,
    field: Field,
    /// The `currency` attribute, borrowed from the source unless it had to be unescaped.
    currency: Option<Cow<'a, str>>,
    /// Byte position of the `<Money>` tag; its source line is only counted for a message.
    pos: usize,
}

struct State<'a> {
    src: &'a str,
    /// (byte position, line at that position) of the last line lookup: positions only grow
    /// while reading, so counting newlines from there keeps line numbers O(n) overall.
    line_cursor: std::cell::Cell<(usize, usize)>,
    issues: Vec<Issue>,
    inv: CxmlInvoice,
    stack: Vec<El>,
    text: Cow<'a, str>,
    seen_root: bool,
    root_name: Option<String>,
    seen_cxml: bool,
    root_closed: bool,
    seen_request: bool,
    credential: Option<(El, Credential)>,
    contact: Option<(El, Contact)>,
    order_info: Option<OrderInfo>,
    order: Option<InvoiceOrder>,
    header_order: Option<HeaderOrder>,
    item: Option<Item>,
    tax: Option<Tax>,
    tax_detail: Option<TaxDetail>,
    distribution: Option<Distribution>,
    segment: Option<AccountingSegment>,
    extrinsic_name: Option<Text>,
    classification_domain: Option<Text>,
    money: Option<MoneySlot<'a>>,
}

/// Parses UTF-8 text.
pub fn parse_str(src: &str, limits: &Limits) -> Parsed {
    if src.len() > limits.max_bytes {
        return Parsed::fatal(Code::TooLarge, format!("document is {} bytes; the limit is {} bytes", src.len(), limits.max_bytes));
    }
    let mut reader = Reader::from_str(src);
    {
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        cfg.trim_text(false);
    }
    let mut st = State {
        src,
        line_cursor: std::cell::Cell::new((0, 1)),
        issues: Vec::new(),
        inv: CxmlInvoice::default(),
        stack: Vec::with_capacity(32),
        text: Cow::Borrowed(""),
        seen_root: false,
        root_name: None,
        seen_cxml: false,
        root_closed: false,
        seen_request: false,
        credential: None,
        contact: None,
        order_info: None,
        order: None,
        header_order: None,
        item: None,
        tax: None,
        tax_detail: None,
        distribution: None,
        segment: None,
        extrinsic_name: None,
        classification_domain: None,
        money: None,
    };
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = reader.error_position() as usize;
                return Parsed::fatal(
                    Code::MalformedXml,
                    format!("the XML is not well-formed at source line {}: {}", line_of(src.as_bytes(), at), e),
                );
            }
        };
        match ev {
            Event::Start(e) => {
                if st.stack.len() >= limits.max_depth {
                    return Parsed::fatal(
                        Code::TooLarge,
                        format!("elements are nested more than {} deep (source line {})", limits.max_depth, line_of(src.as_bytes(), pos)),
                    );
                }
                let el = el_of(e.local_name().as_ref());
                if st.root_closed {
                    return Parsed::fatal(
                        Code::MalformedXml,
                        format!("a second root element starts at source line {}; a document has exactly one", line_of(src.as_bytes(), pos)),
                    );
                }
                if !st.seen_root {
                    st.seen_root = true;
                    if el != El::CXml {
                        // Not fatal yet: integration envelopes (Ariba's <Combined><Payload>)
                        // carry the cXML document inside; the first <cXML> is the document.
                        st.root_name = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    }
                }
                if let Err(p) = st.start(el, &e, pos) {
                    return *p;
                }
                st.stack.push(el);
                st.text = Cow::Borrowed("");
            }
            Event::End(_) => {
                let el = st.stack.pop().unwrap_or(El::Other);
                let text = std::mem::replace(&mut st.text, Cow::Borrowed(""));
                st.end(el, text.trim());
                if st.stack.is_empty() {
                    st.root_closed = true;
                }
            }
            Event::Text(t) => {
                if !st.stack.is_empty() {
                    // Text events borrow from `src`, which is valid UTF-8 already: slicing it
                    // avoids validating every text node a second time.
                    let s = match in_src(src, &t) {
                        Some(s) => Cow::Borrowed(s),
                        None => match t.decode() {
                            Ok(s) => s,
                            Err(e) => return Parsed::fatal(Code::InvalidEncoding, format!("text could not be decoded: {e}")),
                        },
                    };
                    append(&mut st.text, s);
                } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
                    return Parsed::fatal(
                        Code::MalformedXml,
                        format!("text outside the root element at source line {}", line_of(src.as_bytes(), pos)),
                    );
                }
            }
            Event::CData(t) => {
                let s = match std::str::from_utf8(t.into_inner().as_ref()) {
                    Ok(s) => s.to_string(),
                    Err(_) => return Parsed::fatal(Code::InvalidEncoding, "CDATA section is not valid UTF-8"),
                };
                append(&mut st.text, Cow::Owned(s));
            }
            Event::GeneralRef(r) => {
                let resolved: Option<String> = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => {
                        let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => Some(s.to_string()),
                            None => {
                                return Parsed::fatal(
                                    Code::ForbiddenEntity,
                                    format!(
                                        "entity reference &{name}; at source line {}: only the five predefined XML entities and character references are allowed",
                                        line_of(src.as_bytes(), pos)
                                    ),
                                )
                            }
                        }
                    }
                    Err(e) => {
                        return Parsed::fatal(
                            Code::MalformedXml,
                            format!("bad character reference at source line {}: {e}", line_of(src.as_bytes(), pos)),
                        )
                    }
                };
                if let Some(s) = resolved {
                    append(&mut st.text, Cow::Owned(s));
                }
            }
            Event::DocType(d) => {
                let body = String::from_utf8_lossy(d.as_ref());
                if body.contains('[') || body.contains("<!ENTITY") || body.contains("ENTITY") {
                    return Parsed::fatal(
                        Code::ForbiddenEntity,
                        "the DOCTYPE declares an internal subset (entity or element declarations); cXML documents may only name the external DTD, and entities are never expanded",
                    );
                }
            }
            Event::Eof => break,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !st.seen_root {
        return Parsed::fatal(Code::NotXml, "the document has no root element");
    }
    if !st.stack.is_empty() {
        return Parsed::fatal(Code::MalformedXml, "the document ends before its elements are closed (truncated?)");
    }
    if !st.seen_cxml {
        return Parsed::fatal(
            Code::NotAnInvoice,
            format!(
                "the root element is <{}> and there is no <cXML> element; a cXML invoice starts with <cXML>",
                st.root_name.as_deref().unwrap_or("?")
            ),
        );
    }
    if !st.seen_request {
        return Parsed::fatal(
            Code::NotAnInvoice,
            "this cXML document has no Request/InvoiceDetailRequest: it is not an invoice (an order, a ship notice or a response?)",
        );
    }
    Parsed { invoice: Some(st.inv), issues: st.issues }
}

/// `bytes` as the same bytes of `src` when they are a part of it (the events and attribute
/// values of a `Reader::from_str` reader borrow from its input); `None` otherwise. Safe code: a
/// position and a checked slice, no second UTF-8 validation.
fn in_src<'a>(src: &'a str, bytes: &[u8]) -> Option<&'a str> {
    let start = (bytes.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    src.get(start..start.checked_add(bytes.len())?)
}

fn append<'a>(buf: &mut Cow<'a, str>, s: Cow<'a, str>) {
    if buf.is_empty() {
        *buf = s;
    } else {
        buf.to_mut().push_str(&s);
    }
}

fn trimmed(s: &str) -> Option<Text> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(Text::from(t))
    }
}

impl<'a> State<'a> {
    fn parent(&self) -> El {
        self.stack.last().copied().unwrap_or(El::Other)
    }
    fn grandparent(&self) -> El {
        if self.stack.len() >= 2 {
            self.stack[self.stack.len() - 2]
        } else {
            El::Other
        }
    }
    fn line(&self, pos: usize) -> u32 {
        let bytes = self.src.as_bytes();
        let pos = pos.min(bytes.len());
        let (from, line) = self.line_cursor.get();
        let line = if pos >= from { line + memchr_count(b'\n', &bytes[from..pos]) } else { line_of(bytes, pos) };
        self.line_cursor.set((pos, line));
        line as u32
    }

    /// Reads attribute `name` (exact match), unescaped and trimmed.
    fn attr(&self, e: &BytesStart<'_>, name: &[u8], pos: usize) -> Result<Option<Text>, Box<Parsed>> {
        Ok(self.attr_str(e, name, pos)?.map(|c| Text::from(&*c)))
    }

    /// [`Self::attr`] without an allocation when the value has no entity or character
    /// reference: the value is then borrowed from the source.
    fn attr_str(&self, e: &BytesStart<'_>, name: &[u8], pos: usize) -> Result<Option<Cow<'a, str>>, Box<Parsed>> {
        for a in e.attributes().with_checks(false) {
            let a: Attribute<'_> =
                a.map_err(|err| fail(Code::MalformedXml, format!("malformed attribute at source line {}: {err}", self.line(pos))))?;
            if a.key.as_ref() == name {
                if !a.value.contains(&b'&') {
                    if let Some(v) = in_src(self.src, &a.value) {
                        return Ok(Some(Cow::Borrowed(v.trim())));
                    }
                }
                let v = a.unescape_value().map_err(|err| {
                    fail(
                        Code::ForbiddenEntity,
                        format!(
                            "attribute {} at source line {}: {err}; only predefined entities and character references are allowed",
                            String::from_utf8_lossy(name),
                            self.line(pos)
                        ),
                    )
                })?;
                return Ok(Some(Cow::Owned(v.trim().to_string())));
            }
        }
        Ok(None)
    }

    fn start(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        let parent = self.parent();
        match el {
            El::CXml if !self.seen_cxml => {
                self.seen_cxml = true;
                self.inv.payload_id = self.attr(e, b"payloadID", pos)?;
                self.inv.timestamp = self.attr(e, b"timestamp", pos)?;
                self.inv.version = self.attr(e, b"version", pos)?;
            }
            El::Credential if matches!(parent, El::From | El::To | El::Sender) => {
                let domain = self.attr(e, b"domain", pos)?.unwrap_or_default();
                self.credential = Some((parent, Credential { domain, identity: Text::default() }));
            }
            El::Request if parent == El::CXml => {
                self.inv.deployment_mode = self.attr(e, b"deploymentMode", pos)?;
            }
            El::InvoiceDetailRequest if parent == El::Request => self.seen_request = true,
            El::RequestHeader => {
                let h = &mut self.inv.header;
                h.invoice_id = None;
                let id = self.attr(e, b"invoiceID", pos)?;
                let purpose = self.attr(e, b"purpose", pos)?;
                let operation = self.attr(e, b"operation", pos)?;
                let date = self.attr(e, b"invoiceDate", pos)?;
                let h = &mut self.inv.header;
                h.invoice_id = id.filter(|s| !s.is_empty());
                h.purpose_raw = purpose.clone();
                h.purpose = purpose.as_deref().and_then(Purpose::parse).unwrap_or_default();
                if let Some(p) = purpose.as_deref() {
                    if Purpose::parse(p).is_none() {
                        self.issues.push(Issue::new(
                            Code::InvalidPurpose,
                            format!("InvoiceDetailRequestHeader@purpose is '{p}'; expected standard, creditMemo, lineLevelCreditMemo, debitMemo or lineLevelDebitMemo"),
                        ));
                    }
                }
                let h = &mut self.inv.header;
                h.operation_raw = operation.clone();
                h.operation = match operation.as_deref() {
                    Some("delete") => Operation::Delete,
                    _ => Operation::New,
                };
                if let Some(op) = operation.as_deref() {
                    if op != "new" && op != "delete" {
                        self.issues.push(Issue::new(
                            Code::InvalidPurpose,
                            format!("InvoiceDetailRequestHeader@operation is '{op}'; expected new or delete"),
                        ));
                    }
                }
                self.inv.header.invoice_date = date.filter(|s| !s.is_empty());
            }
            El::HeaderIndicator => {
                self.inv.header.is_header_invoice = self.attr(e, b"isHeaderInvoice", pos)?.as_deref() == Some("yes");
            }
            El::LineIndicator => {
                self.inv.header.is_tax_in_line = self.attr(e, b"isTaxInLine", pos)?.as_deref() == Some("yes");
            }
            El::Contact if matches!(parent, El::InvoicePartner | El::InvoiceDetailShipping) => {
                let role = self.attr(e, b"role", pos)?.unwrap_or_default();
                let address_id = self.attr(e, b"addressID", pos)?.filter(|s| !s.is_empty());
                self.contact = Some((parent, Contact { role, address_id, ..Default::default() }));
            }
            El::Country if self.contact.is_some() => {
                let code = self.attr(e, b"isoCountryCode", pos)?;
                if let Some((_, c)) = self.contact.as_mut() {
                    c.country_code = code.filter(|s| !s.is_empty());
                }
            }
            El::IdReference if parent == El::InvoicePartner => {
                let domain = self.attr(e, b"domain", pos)?.unwrap_or_default();
                let identifier = self.attr(e, b"identifier", pos)?.unwrap_or_default();
                self.inv.header.partner_ids.push(IdReference { domain, identifier });
            }
            El::IdReference if parent == El::Extrinsic => {
                // <Extrinsic name="CustomFields"><IdReference identifier="..."/></Extrinsic>
                if let Some(id) = self.attr(e, b"identifier", pos)? {
                    if let Some(name) = self.extrinsic_name.as_ref() {
                        let ext = Extrinsic { name: name.clone(), value: id };
                        self.push_extrinsic(ext);
                        self.extrinsic_name = None;
                    }
                }
            }
            El::PaymentTerm if parent == El::RequestHeader => {
                let raw = self.attr(e, b"payInNumberOfDays", pos)?;
                let rate = self.attr(e, b"percentageRate", pos)?;
                let days = raw.as_deref().and_then(|r| {
                    let digits: String = r.chars().filter(|c| c.is_ascii_digit()).collect();
                    digits.parse::<u32>().ok()
                });
                let percentage_rate = rate.as_deref().and_then(|r| parse_amount(r).ok());
                self.inv.header.payment_terms.push(PaymentTerm {
                    pay_in_number_of_days_raw: raw,
                    pay_in_number_of_days: days,
                    percentage_rate,
                });
            }
            El::Extrinsic => {
                self.extrinsic_name = self.attr(e, b"name", pos)?;
            }
            El::InvoiceDetailOrder => self.order = Some(InvoiceOrder::default()),
            El::InvoiceDetailHeaderOrder => self.header_order = Some(HeaderOrder { source_line: self.line(pos), ..Default::default() }),
            El::OrderInfo => self.order_info = Some(OrderInfo::default()),
            El::OrderReference if parent == El::OrderInfo => {
                let id = self.attr(e, b"orderID", pos)?.filter(|s| !s.is_empty());
                let date = self.attr(e, b"orderDate", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.order_id = oi.order_id.take().or(id);
                    oi.order_date = oi.order_date.take().or(date);
                }
            }
            El::OrderIdInfo if parent == El::OrderInfo => {
                let id = self.attr(e, b"orderID", pos)?.filter(|s| !s.is_empty());
                let date = self.attr(e, b"orderDate", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.order_id = oi.order_id.take().or(id);
                    oi.order_date = oi.order_date.take().or(date);
                }
            }
            El::DocumentReference if parent == El::OrderReference => {
                let p = self.attr(e, b"payloadID", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.order_payload_id = p;
                }
            }
            El::DocumentReference if parent == El::MasterAgreementReference => {
                let p = self.attr(e, b"payloadID", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.master_agreement_id = p;
                }
            }
            El::MasterAgreementIdInfo if parent == El::OrderInfo => {
                let p = self.attr(e, b"agreementID", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.master_agreement_id = p;
                }
            }
            El::SupplierOrderInfo if parent == El::OrderInfo => {
                let p = self.attr(e, b"orderID", pos)?.filter(|s| !s.is_empty());
                if let Some(oi) = self.order_info.as_mut() {
                    oi.supplier_order_id = p;
                }
            }
            El::Item | El::ServiceItem if parent == El::InvoiceDetailOrder => {
                let ln = self.attr(e, b"invoiceLineNumber", pos)?.filter(|s| !s.is_empty());
                let qty = self.attr(e, b"quantity", pos)?.filter(|s| !s.is_empty());
                let line = self.line(pos);
                let mut item = Item {
                    kind: if el == El::Item { ItemKind::Goods } else { ItemKind::Service },
                    invoice_line_number: ln.as_deref().and_then(|s| s.parse::<u32>().ok()),
                    invoice_line_number_raw: ln,
                    source_line: line,
                    ..Default::default()
                };
                if let Some(q) = qty.as_deref() {
                    match parse_amount(q) {
                        Ok(d) => item.quantity = Some(d),
                        Err(_) => {
                            item.amounts.unreadable = true;
                            self.issues.push(Issue::new(
                                Code::InvalidAmount,
                                format!("{}: quantity '{q}' is not a plain decimal number", item.label()),
                            ))
                        }
                    }
                }
                item.quantity_raw = qty;
                self.item = Some(item);
            }
            El::PriceBasisQuantity if self.item.is_some() => {
                let q = self.attr(e, b"quantity", pos)?;
                let c = self.attr(e, b"conversionFactor", pos)?;
                if let Some(item) = self.item.as_mut() {
                    item.price_basis_quantity = q.as_deref().and_then(|s| parse_amount(s).ok());
                    item.price_basis_conversion = c.as_deref().and_then(|s| parse_amount(s).ok());
                }
            }
            El::ItemReference | El::ServiceItemReference if self.item.is_some() => {
                let ln = self.attr(e, b"lineNumber", pos)?.filter(|s| !s.is_empty());
                if let Some(item) = self.item.as_mut() {
                    item.reference_line_number = ln;
                }
            }
            El::Classification => {
                self.classification_domain = self.attr(e, b"domain", pos)?;
            }
            El::OrderSummary if self.header_order.is_some() => {
                let ln = self.attr(e, b"invoiceLineNumber", pos)?;
                if let Some(ho) = self.header_order.as_mut() {
                    ho.invoice_line_number = ln;
                }
            }
            El::Summary if parent == El::InvoiceDetailRequest => self.inv.has_summary = true,
            El::Tax => self.tax = Some(Tax::default()),
            El::TaxDetail if self.tax.is_some() => {
                let purpose = self.attr(e, b"purpose", pos)?;
                let category = self.attr(e, b"category", pos)?;
                let rate = self.attr_str(e, b"percentageRate", pos)?;
                let percentage_rate = match rate.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => match parse_amount(r) {
                        Ok(d) => Some(d),
                        Err(_) => {
                            self.issues.push(Issue::new(
                                Code::InvalidAmount,
                                format!("TaxDetail@percentageRate '{r}' at source line {} is not a number", self.line(pos)),
                            ));
                            None
                        }
                    },
                    None => None,
                };
                self.tax_detail = Some(TaxDetail { purpose, category, percentage_rate, ..Default::default() });
            }
            El::Distribution if self.item.is_some() => self.distribution = Some(Distribution::default()),
            El::Accounting if self.distribution.is_some() => {
                let n = self.attr(e, b"name", pos)?;
                if let Some(d) = self.distribution.as_mut() {
                    d.accounting_name = n;
                }
            }
            El::AccountingSegment if self.distribution.is_some() => {
                let id = self.attr(e, b"id", pos)?.unwrap_or_default();
                self.segment = Some(AccountingSegment { id, ..Default::default() });
            }
            El::Money => {
                self.money = self.money_slot(pos);
                if let Some(slot) = self.money.as_mut() {
                    slot.currency = None;
                }
                if self.money.is_some() {
                    let cur = self.attr_str(e, b"currency", pos)?;
                    if let Some(slot) = self.money.as_mut() {
                        slot.currency = cur;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Decides which amount a `<Money>` fills from its parent and grandparent.
    fn money_slot(&self, pos: usize) -> Option<MoneySlot<'a>> {
        let p = self.parent();
        let g = self.grandparent();
        let (scope, field) = match (p, g) {
            (El::TaxableAmount, El::TaxDetail) => (Scope::TaxDetail, Field::Taxable),
            (El::TaxAmount, El::TaxDetail) => (Scope::TaxDetail, Field::TaxDetailAmount),
            (El::Charge, El::Distribution) => (Scope::Distribution, Field::Charge),
            (_, El::Item | El::ServiceItem) | (_, El::OrderSummary) | (_, El::Summary) => {
                let scope = match g {
                    El::Item | El::ServiceItem => Scope::Item,
                    El::OrderSummary => Scope::HeaderOrder,
                    _ => Scope::Summary,
                };
                let field = match p {
                    El::UnitPrice if scope == Scope::Item => Field::UnitPrice,
                    El::SubtotalAmount => Field::Subtotal,
                    El::Tax => Field::Tax,
                    El::SpecialHandlingAmount | El::LineSpecialHandling => Field::SpecialHandling,
                    El::ShippingAmount | El::LineShipping => Field::Shipping,
                    El::GrossAmount => Field::Gross,
                    El::Discount => Field::Discount,
                    El::NetAmount => Field::Net,
                    El::DepositAmount => Field::Deposit,
                    El::DueAmount => Field::Due,
                    _ => return None,
                };
                (scope, field)
            }
            _ => return None,
        };
        if (scope == Scope::Item && self.item.is_none()) || (scope == Scope::HeaderOrder && self.header_order.is_none()) {
            return None;
        }
        Some(MoneySlot { scope, field, currency: None, pos })
    }

    fn money_label(&self, slot: &MoneySlot<'_>) -> String {
        let field = match slot.field {
            Field::UnitPrice => "UnitPrice",
            Field::Subtotal => "SubtotalAmount",
            Field::Tax => "Tax",
            Field::SpecialHandling => "SpecialHandlingAmount",
            Field::Shipping => "ShippingAmount",
            Field::Gross => "GrossAmount",
            Field::Discount => "InvoiceDetailDiscount",
            Field::Net => "NetAmount",
            Field::Deposit => "DepositAmount",
            Field::Due => "DueAmount",
            Field::Taxable => "TaxDetail/TaxableAmount",
            Field::TaxDetailAmount => "TaxDetail/TaxAmount",
            Field::Charge => "Distribution/Charge",
        };
        let owner = match slot.scope {
            Scope::Summary => "InvoiceDetailSummary".to_string(),
            Scope::HeaderOrder => "InvoiceDetailOrderSummary".to_string(),
            _ => match self.item.as_ref() {
                Some(i) => i.label(),
                None => "InvoiceDetailSummary".to_string(),
            },
        };
        format!("{owner} {field}/Money (source line {})", self.line(slot.pos))
    }

    fn read_money(&mut self, slot: &MoneySlot<'_>, text: &str) -> Option<Money> {
        if text.is_empty() {
            return None; // <Money currency="USD"/>: the amount is absent
        }
        let Some(cur) = slot.currency.as_deref().filter(|c| !c.is_empty()) else {
            let label = self.money_label(slot);
            self.issues.push(Issue::new(Code::InvalidCurrency, format!("{label}: amount '{text}' has no currency attribute")));
            return None;
        };
        let currency = match Currency::parse(cur) {
            Ok(c) => c,
            Err(_) => {
                let label = self.money_label(slot);
                self.issues.push(Issue::new(
                    Code::InvalidCurrency,
                    format!("{label}: currency '{cur}' is not an ISO 4217 code (expected e.g. USD, EUR)"),
                ));
                return None;
            }
        };
        match parse_amount(text) {
            Ok(a) => Some(Money::new(a, currency)),
            Err(MoneyError::InvalidAmount(_)) | Err(_) => {
                let label = self.money_label(slot);
                self.issues.push(Issue::new(
                    Code::InvalidAmount,
                    format!("{label}: '{text}' is not a plain decimal amount (expected digits with an optional sign and '.', e.g. 12.50)"),
                ));
                None
            }
        }
    }

    fn push_extrinsic(&mut self, ext: Extrinsic) {
        if let Some(item) = self.item.as_mut() {
            item.extrinsics.push(ext);
        } else if self.stack.contains(&El::RequestHeader) {
            self.inv.header.extrinsics.push(ext);
        }
    }

    fn end(&mut self, el: El, text: &str) {
        let parent = self.parent();
        match el {
            El::Identity => {
                if let Some((_, c)) = self.credential.as_mut() {
                    c.identity = Text::from(text);
                }
            }
            El::Credential => {
                if let Some((who, c)) = self.credential.take() {
                    match who {
                        El::From => self.inv.from.push(c),
                        El::To => self.inv.to.push(c),
                        _ => self.inv.sender.push(c),
                    }
                }
            }
            El::UserAgent if parent == El::Sender => self.inv.user_agent = trimmed(text),
            El::Name if parent == El::Contact => {
                if let Some((_, c)) = self.contact.as_mut() {
                    c.name = trimmed(text);
                }
            }
            El::Street => {
                if let (Some((_, c)), Some(s)) = (self.contact.as_mut(), trimmed(text)) {
                    c.street.push(s);
                }
            }
            El::City | El::State | El::PostalCode | El::Country | El::Email => {
                if let Some((_, c)) = self.contact.as_mut() {
                    let v = trimmed(text);
                    match el {
                        El::City => c.city = v,
                        El::State => c.state = v,
                        El::PostalCode => c.postal_code = v,
                        El::Country => c.country = v,
                        _ => c.email = v,
                    }
                }
            }
            El::Contact => {
                if let Some((owner, c)) = self.contact.take() {
                    if owner == El::InvoiceDetailShipping {
                        self.inv.header.shipping.push(c);
                    } else {
                        self.inv.header.partners.push(c);
                    }
                }
            }
            El::Comments => {
                let v = trimmed(text);
                if parent == El::RequestHeader {
                    self.inv.header.comments = v;
                } else if let Some(item) = self.item.as_mut() {
                    item.comments = v;
                }
            }
            El::Extrinsic => {
                if let Some(name) = self.extrinsic_name.take() {
                    let ext = Extrinsic { name, value: Text::from(text) };
                    self.push_extrinsic(ext);
                }
            }
            El::SupplierPartId => {
                if let Some(item) = self.item.as_mut() {
                    item.supplier_part_id = trimmed(text);
                }
            }
            El::SupplierPartAuxId => {
                if let Some(item) = self.item.as_mut() {
                    item.supplier_part_aux_id = trimmed(text);
                }
            }
            El::Description => match parent {
                El::ItemReference | El::ServiceItemReference => {
                    if let Some(item) = self.item.as_mut() {
                        item.description = trimmed(text);
                    }
                }
                El::Tax => {
                    if let Some(t) = self.tax.as_mut() {
                        t.description = trimmed(text);
                    }
                }
                El::AccountingSegment => {
                    if let Some(s) = self.segment.as_mut() {
                        s.description = trimmed(text);
                    }
                }
                _ => {}
            },
            El::Name if parent == El::AccountingSegment => {
                if let Some(s) = self.segment.as_mut() {
                    s.name = trimmed(text);
                }
            }
            El::Classification => {
                let domain = self.classification_domain.take().unwrap_or_default();
                if let (Some(item), Some(v)) = (self.item.as_mut(), trimmed(text)) {
                    item.classifications.push((domain, v));
                }
            }
            El::UnitOfMeasure => {
                if let Some(item) = self.item.as_mut() {
                    item.unit_of_measure = trimmed(text);
                }
            }
            El::TaxLocation => {
                if let Some(td) = self.tax_detail.as_mut() {
                    td.location = trimmed(text);
                }
            }
            El::Money => {
                if let Some(slot) = self.money.take() {
                    let before = self.issues.len();
                    let m = self.read_money(&slot, text);
                    if self.issues.len() > before {
                        self.mark_unreadable(&slot);
                    }
                    self.assign(&slot, m);
                }
            }
            El::TaxDetail => {
                if let (Some(td), Some(t)) = (self.tax_detail.take(), self.tax.as_mut()) {
                    t.details.push(td);
                }
            }
            El::Tax => {
                if let Some(mut t) = self.tax.take() {
                    // Vec::push reserves 4 TaxDetails (576 bytes); a line has one or two.
                    t.details.shrink_to_fit();
                    match parent {
                        El::Item | El::ServiceItem => {
                            if let Some(item) = self.item.as_mut() {
                                item.amounts.tax = Some(t);
                            }
                        }
                        El::OrderSummary => {
                            if let Some(ho) = self.header_order.as_mut() {
                                ho.amounts.tax = Some(t);
                            }
                        }
                        El::Summary => self.inv.summary.tax = Some(t),
                        _ => {}
                    }
                }
            }
            El::AccountingSegment => {
                if let (Some(s), Some(d)) = (self.segment.take(), self.distribution.as_mut()) {
                    d.segments.push(s);
                }
            }
            El::Distribution => {
                if let (Some(d), Some(item)) = (self.distribution.take(), self.item.as_mut()) {
                    item.distributions.push(d);
                }
            }
            El::Item | El::ServiceItem => {
                if let (Some(mut item), Some(order)) = (self.item.take(), self.order.as_mut()) {
                    // The model of a large invoice is mostly its items: no spare capacity.
                    item.classifications.shrink_to_fit();
                    item.extrinsics.shrink_to_fit();
                    item.distributions.shrink_to_fit();
                    order.items.push(item);
                }
            }
            El::OrderInfo => {
                let info = self.order_info.take().unwrap_or_default();
                if let Some(o) = self.order.as_mut() {
                    o.info = info;
                } else if let Some(h) = self.header_order.as_mut() {
                    h.info = info;
                }
            }
            El::InvoiceDetailOrder => {
                if let Some(mut o) = self.order.take() {
                    o.items.shrink_to_fit();
                    self.inv.orders.push(o);
                }
            }
            El::InvoiceDetailHeaderOrder => {
                if let Some(h) = self.header_order.take() {
                    self.inv.header_orders.push(h);
                }
            }
            _ => {}
        }
    }

    fn mark_unreadable(&mut self, slot: &MoneySlot<'_>) {
        let in_item = self.item.is_some() && slot.scope != Scope::Summary && slot.scope != Scope::HeaderOrder;
        if in_item {
            if let Some(i) = self.item.as_mut() {
                i.amounts.unreadable = true;
            }
        } else if slot.scope == Scope::HeaderOrder || (slot.scope == Scope::TaxDetail && self.header_order.is_some()) {
            if let Some(h) = self.header_order.as_mut() {
                h.amounts.unreadable = true;
            }
        } else {
            self.inv.summary.unreadable = true;
        }
    }

    fn assign(&mut self, slot: &MoneySlot<'_>, m: Option<Money>) {
        if slot.scope == Scope::TaxDetail {
            if let Some(td) = self.tax_detail.as_mut() {
                match slot.field {
                    Field::Taxable => td.taxable_amount = m,
                    _ => td.tax_amount = m,
                }
            }
            return;
        }
        if slot.scope == Scope::Distribution {
            if let Some(d) = self.distribution.as_mut() {
                d.charge = m;
            }
            return;
        }
        if slot.field == Field::Tax {
            if let Some(t) = self.tax.as_mut() {
                t.amount = m;
            }
            return;
        }
        if slot.field == Field::UnitPrice {
            if let Some(item) = self.item.as_mut() {
                item.unit_price = m;
            }
            return;
        }
        let amounts = match slot.scope {
            Scope::Item => match self.item.as_mut() {
                Some(i) => &mut i.amounts,
                None => return,
            },
            Scope::HeaderOrder => match self.header_order.as_mut() {
                Some(h) => &mut h.amounts,
                None => return,
            },
            _ => &mut self.inv.summary,
        };
        let target = match slot.field {
            Field::Subtotal => &mut amounts.subtotal,
            Field::SpecialHandling => &mut amounts.special_handling,
            Field::Shipping => &mut amounts.shipping,
            Field::Gross => &mut amounts.gross,
            Field::Discount => &mut amounts.discount,
            Field::Net => &mut amounts.net,
            Field::Deposit => &mut amounts.deposit,
            Field::Due => &mut amounts.due,
            _ => return,
        };
        *target = m;
    }
}

/// Parses a decimal attribute the way amounts are parsed.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    parse_amount(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memchr_count_matches_a_plain_count() {
        let text: Vec<u8> = (0..1000u32).map(|i| if i % 7 == 0 || i % 13 == 0 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
        for len in [0, 1, 127, 128, 129, 255, 256, 257, 999, 1000] {
            let hay = &text[..len];
            assert_eq!(memchr_count(b'\n', hay), hay.iter().filter(|&&b| b == b'\n').count(), "length {len}");
        }
        // Whole blocks of hits: the per-block u8 counter must not overflow.
        assert_eq!(memchr_count(b'\n', &[b'\n'; 300]), 300);
    }

    #[test]
    fn in_src_maps_only_slices_of_the_source_on_char_boundaries() {
        let src = "<a>h\u{e9}llo</a>";
        assert_eq!(in_src(src, &src.as_bytes()[3..9]), Some("h\u{e9}llo"));
        assert_eq!(in_src(src, &src.as_bytes()[4..5]), None, "inside a multi-byte character");
        let elsewhere = String::from("h\u{e9}llo");
        assert_eq!(in_src(src, elsewhere.as_bytes()), None);
        assert_eq!(in_src(src, &src.as_bytes()[src.len()..]), Some(""));
    }

    #[test]
    fn borrowed_text_and_attributes_read_like_decoded_ones() {
        let doc = invoice_testgen::large_invoice(3)
            .replacen("<Money currency=\"USD\">", "<Money currency=\" US&#68; \">", 1)
            .replacen("percentageRate=\"6.5\"", "percentageRate=\"6&#46;5\"", 1)
            .replacen("Heavy Duty Stapler", "Heavy Duty St\u{e4}pler &lt;\u{20ac}&gt;", 1);
        let p = parse_str(&doc, &Limits::default());
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let inv = p.invoice.expect("invoice");
        let item = inv.items().next().expect("item");
        assert_eq!(item.unit_price.map(|m| m.currency.code().to_string()).as_deref(), Some("USD"));
        assert_eq!(item.description.as_deref(), Some("Heavy Duty St\u{e4}pler <\u{20ac}>, Black"));
        let rate = item.amounts.tax.as_ref().expect("tax").details[0].percentage_rate;
        assert_eq!(rate, Some(Decimal::new(65, 1)));
        assert_eq!(item.extrinsic("soldBy"), Some("Amazon.com"));
    }

    #[test]
    fn money_messages_still_name_their_source_line() {
        let doc = invoice_testgen::large_invoice(3);
        let tag = "<SubtotalAmount><Money currency=\"USD\">";
        let start = doc.find(tag).expect("a line subtotal") + tag.len();
        let end = start + doc[start..].find('<').expect("</Money>");
        let line = doc[..start].matches('\n').count() + 1;
        let bad = format!("{}12,50{}", &doc[..start], &doc[end..]);
        let p = parse_str(&bad, &Limits::default());
        assert_eq!(p.issues.len(), 1, "{:?}", p.issues);
        assert!(p.issues[0].message.contains(&format!("SubtotalAmount/Money (source line {line})")), "{}", p.issues[0].message);
    }
}
