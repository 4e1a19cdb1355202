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
use quick_xml::events::{BytesCData, BytesRef, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::Reader;
use rust_decimal::Decimal;

use super::lex::{find_attr, trim};
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
    Attachment,
    Url,
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

/// The element of a start tag, by its local name. Known names have no prefix, so the full
/// name is tried first and the prefix is only looked for when it is not a known one.
fn element(e: &BytesStart<'_>) -> El {
    match el_of(e.name().as_ref()) {
        El::Other => el_of(e.local_name().as_ref()),
        el => el,
    }
}

/// Whether the reader uses the text of the element (at its end tag). The text of every other
/// element is not collected: nothing is copied or joined for it.
fn uses_text(el: El) -> bool {
    matches!(
        el,
        El::Identity
            | El::UserAgent
            | El::Name
            | El::Street
            | El::City
            | El::State
            | El::PostalCode
            | El::Country
            | El::Email
            | El::Comments
            | El::Url
            | El::Extrinsic
            | El::SupplierPartId
            | El::SupplierPartAuxId
            | El::Classification
            | El::UnitOfMeasure
            | El::Description
            | El::TaxLocation
            | El::Money
    )
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
        b"Attachment" => El::Attachment,
        b"URL" => El::Url,
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
    /// The open item's extrinsics and classifications and the open Tax's details, collected
    /// here and moved into the model at the element's end with their exact count.
    item_extrinsics: Vec<Extrinsic>,
    item_classifications: Vec<(Text, Text)>,
    tax_details: Vec<TaxDetail>,
    tax: Option<Tax>,
    tax_detail: Option<TaxDetail>,
    distribution: Option<Distribution>,
    segment: Option<AccountingSegment>,
    extrinsic_name: Option<Text>,
    classification_domain: Option<Text>,
    money: Option<MoneySlot<'a>>,
    /// The currency of the last amount: documents state one currency thousands of times.
    last_currency: Option<Currency>,
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
    let mut st = State::new(src);
    loop {
        let pos = reader.buffer_position() as usize;
        // Matched by reference where the reader left it: moving the event out first copies it,
        // and that copy (of an event still being written) was the costliest instruction of
        // the parse.
        let ev = reader.read_event();
        let read = match &ev {
            Ok(Event::Start(e)) => st.on_start(e, pos, limits),
            Ok(Event::End(_)) => {
                st.on_end();
                Ok(())
            }
            Ok(Event::Text(t)) => st.on_text(t, pos),
            Ok(Event::CData(t)) => st.on_cdata(t),
            Ok(Event::GeneralRef(r)) => st.on_reference(r, pos),
            Ok(Event::DocType(d)) => check_doctype(d),
            Ok(Event::Eof) => break,
            Ok(Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_)) => Ok(()),
            Err(e) => {
                let at = reader.error_position() as usize;
                return Parsed::fatal(
                    Code::MalformedXml,
                    format!("the XML is not well-formed at source line {}: {}", line_of(src.as_bytes(), at), e),
                );
            }
        };
        if let Err(p) = read {
            return *p;
        }
    }
    st.finish()
}

/// A DOCTYPE may only name the external DTD: an internal subset (entity or element
/// declarations) is refused, never read.
fn check_doctype(d: &BytesText<'_>) -> Result<(), Box<Parsed>> {
    let body = String::from_utf8_lossy(d.as_ref());
    if body.contains('[') || body.contains("<!ENTITY") || body.contains("ENTITY") {
        return Err(fail(
            Code::ForbiddenEntity,
            "the DOCTYPE declares an internal subset (entity or element declarations); cXML documents may only name the external DTD, and entities are never expanded",
        ));
    }
    Ok(())
}

/// `bytes` as the same bytes of `src` when they are a part of it (the events and attribute
/// values of a `Reader::from_str` reader borrow from its input); `None` otherwise. Safe code: a
/// position and a checked slice, no second UTF-8 validation.
fn in_src<'a>(src: &'a str, bytes: &[u8]) -> Option<&'a str> {
    let start = (bytes.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    src.get(start..start.checked_add(bytes.len())?)
}

/// Joins the pieces of an element's text (text, references, CDATA); one piece stays borrowed.
fn append<'a>(buf: &mut Cow<'a, str>, s: Cow<'a, str>) {
    match buf {
        _ if buf.is_empty() => *buf = s,
        Cow::Borrowed(b) => {
            // Room for the pieces that usually follow (`A &amp; B` is three).
            let mut joined = String::with_capacity(b.len() + s.len() + 16);
            joined.push_str(b);
            joined.push_str(&s);
            *buf = Cow::Owned(joined);
        }
        Cow::Owned(o) => o.push_str(&s),
    }
}

fn trimmed(s: &str) -> Option<Text> {
    let t = trim(s);
    if t.is_empty() {
        None
    } else {
        Some(Text::from(t))
    }
}

impl<'a> State<'a> {
    fn new(src: &'a str) -> State<'a> {
        State {
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
            item_extrinsics: Vec::new(),
            item_classifications: Vec::new(),
            tax_details: Vec::new(),
            tax: None,
            tax_detail: None,
            distribution: None,
            segment: None,
            extrinsic_name: None,
            classification_domain: None,
            money: None,
            last_currency: None,
        }
    }

    /// A start tag: depth and single-root checks, then the element's reader.
    fn on_start(&mut self, e: &BytesStart<'_>, pos: usize, limits: &Limits) -> Result<(), Box<Parsed>> {
        if self.stack.len() >= limits.max_depth {
            return Err(fail(
                Code::TooLarge,
                format!("elements are nested more than {} deep (source line {})", limits.max_depth, line_of(self.src.as_bytes(), pos)),
            ));
        }
        let el = element(e);
        if self.root_closed {
            return Err(fail(
                Code::MalformedXml,
                format!("a second root element starts at source line {}; a document has exactly one", line_of(self.src.as_bytes(), pos)),
            ));
        }
        if !self.seen_root {
            self.seen_root = true;
            if el != El::CXml {
                // Not fatal yet: integration envelopes (Ariba's <Combined><Payload>)
                // carry the cXML document inside; the first <cXML> is the document.
                self.root_name = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
        }
        self.start(el, e, pos)?;
        self.stack.push(el);
        self.text = Cow::Borrowed("");
        Ok(())
    }

    /// An end tag (quick-xml has checked that it matches): the element's reader gets its text.
    fn on_end(&mut self) {
        let el = self.stack.pop().unwrap_or(El::Other);
        let text = std::mem::replace(&mut self.text, Cow::Borrowed(""));
        self.end(el, if uses_text(el) { trim(&text) } else { "" });
        if self.stack.is_empty() {
            self.root_closed = true;
        }
    }

    /// Text inside an element is collected for its end tag; outside the root only white space
    /// may appear.
    fn on_text(&mut self, t: &BytesText<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        if !self.stack.is_empty() {
            // Text events borrow from `src`, which is valid UTF-8 already: slicing it avoids
            // validating every text node a second time.
            let s = match in_src(self.src, t) {
                Some(s) => Cow::Borrowed(s),
                None => match t.decode() {
                    Ok(s) => Cow::Owned(s.into_owned()),
                    Err(e) => return Err(fail(Code::InvalidEncoding, format!("text could not be decoded: {e}"))),
                },
            };
            if self.collecting() {
                append(&mut self.text, s);
            }
        } else if !t.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(fail(
                Code::MalformedXml,
                format!("text outside the root element at source line {}", line_of(self.src.as_bytes(), pos)),
            ));
        }
        Ok(())
    }

    fn on_cdata(&mut self, t: &BytesCData<'_>) -> Result<(), Box<Parsed>> {
        let Ok(s) = std::str::from_utf8(t) else {
            return Err(fail(Code::InvalidEncoding, "CDATA section is not valid UTF-8"));
        };
        if self.collecting() {
            let s = match in_src(self.src, s.as_bytes()) {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(s.to_string()),
            };
            append(&mut self.text, s);
        }
        Ok(())
    }

    /// Whether the text being read belongs to an element whose text the reader uses.
    fn collecting(&self) -> bool {
        self.stack.last().is_some_and(|&el| uses_text(el))
    }

    /// `&...;` in text: a character reference or one of the five predefined entities is
    /// resolved into the text; any other entity is refused, never expanded.
    fn on_reference(&mut self, r: &BytesRef<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        let resolved: Cow<'a, str> = match r.resolve_char_ref() {
            Ok(Some(c)) => Cow::Owned(c.to_string()),
            Ok(None) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                match quick_xml::escape::resolve_predefined_entity(&name) {
                    Some(s) => Cow::Borrowed(s),
                    None => {
                        return Err(fail(
                            Code::ForbiddenEntity,
                            format!(
                                "entity reference &{name}; at source line {}: only the five predefined XML entities and character references are allowed",
                                line_of(self.src.as_bytes(), pos)
                            ),
                        ))
                    }
                }
            }
            Err(e) => {
                return Err(fail(
                    Code::MalformedXml,
                    format!("bad character reference at source line {}: {e}", line_of(self.src.as_bytes(), pos)),
                ))
            }
        };
        if self.collecting() {
            append(&mut self.text, resolved);
        }
        Ok(())
    }

    /// After the last event: the document must have had a root, closed it, and been a cXML
    /// invoice request.
    fn finish(self) -> Parsed {
        if !self.seen_root {
            return Parsed::fatal(Code::NotXml, "the document has no root element");
        }
        if !self.stack.is_empty() {
            return Parsed::fatal(Code::MalformedXml, "the document ends before its elements are closed (truncated?)");
        }
        if !self.seen_cxml {
            return Parsed::fatal(
                Code::NotAnInvoice,
                format!(
                    "the root element is <{}> and there is no <cXML> element; a cXML invoice starts with <cXML>",
                    self.root_name.as_deref().unwrap_or("?")
                ),
            );
        }
        if !self.seen_request {
            return Parsed::fatal(
                Code::NotAnInvoice,
                "this cXML document has no Request/InvoiceDetailRequest: it is not an invoice (an order, a ship notice or a response?)",
            );
        }
        Parsed { invoice: Some(self.inv), issues: self.issues }
    }

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
        let tag: &[u8] = e;
        let found = find_attr(tag, e.name().as_ref().len(), name)
            .map_err(|err| fail(Code::MalformedXml, format!("malformed attribute at source line {}: {err}", self.line(pos))))?;
        let Some(value) = found else { return Ok(None) };
        if !value.contains(&b'&') {
            if let Some(v) = in_src(self.src, value) {
                return Ok(Some(Cow::Borrowed(trim(v))));
            }
        }
        let a = Attribute { key: QName(name), value: Cow::Borrowed(value) };
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
        Ok(Some(Cow::Owned(trim(&v).to_string())))
    }

    /// A start tag: hands the element to the reader of its section. Elements outside these
    /// sections (and known elements in unexpected places) are ignored.
    fn start(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        let parent = self.parent();
        match el {
            El::CXml | El::Credential | El::Request | El::InvoiceDetailRequest => self.start_envelope(el, parent, e, pos),
            El::RequestHeader => self.start_request_header(e, pos),
            El::HeaderIndicator | El::LineIndicator | El::PaymentTerm => self.start_header_detail(el, parent, e, pos),
            El::Contact | El::Country => self.start_contact(el, parent, e, pos),
            El::IdReference if parent == El::InvoicePartner => self.start_partner_id(e, pos),
            El::IdReference | El::Extrinsic => self.start_extrinsic(el, parent, e, pos),
            El::InvoiceDetailOrder | El::InvoiceDetailHeaderOrder | El::OrderSummary => self.start_order_block(el, e, pos),
            El::OrderInfo
            | El::OrderReference
            | El::OrderIdInfo
            | El::DocumentReference
            | El::MasterAgreementIdInfo
            | El::SupplierOrderInfo => self.start_order_reference(el, parent, e, pos),
            El::Item | El::ServiceItem if parent == El::InvoiceDetailOrder => self.start_item(el, e, pos),
            El::PriceBasisQuantity | El::ItemReference | El::ServiceItemReference | El::Classification => {
                self.start_item_detail(el, e, pos)
            }
            El::Summary if parent == El::InvoiceDetailRequest => {
                self.inv.has_summary = true;
                Ok(())
            }
            El::Tax | El::TaxDetail => self.start_tax(el, e, pos),
            El::Distribution | El::Accounting | El::AccountingSegment => self.start_distribution(el, e, pos),
            El::Money => self.start_money(e, pos),
            _ => Ok(()),
        }
    }

    /// `<cXML>` (the first one is the document), its `Request`, and the credentials of the
    /// Header's From / To / Sender.
    fn start_envelope(&mut self, el: El, parent: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
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
            _ => {}
        }
        Ok(())
    }

    /// `InvoiceDetailRequestHeader`: invoice id, date, purpose and operation.
    fn start_request_header(&mut self, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        self.inv.header.invoice_id = None;
        let id = self.attr(e, b"invoiceID", pos)?;
        let purpose = self.attr(e, b"purpose", pos)?;
        let operation = self.attr(e, b"operation", pos)?;
        let date = self.attr(e, b"invoiceDate", pos)?;
        self.inv.header.invoice_id = id.filter(|s| !s.is_empty());
        self.read_purpose(purpose);
        self.read_operation(operation);
        self.inv.header.invoice_date = date.filter(|s| !s.is_empty());
        Ok(())
    }

    fn read_purpose(&mut self, purpose: Option<Text>) {
        let parsed = purpose.as_deref().and_then(Purpose::parse);
        if let (Some(p), None) = (purpose.as_deref(), parsed) {
            self.issues.push(Issue::new(
                Code::InvalidPurpose,
                format!("InvoiceDetailRequestHeader@purpose is '{p}'; expected standard, creditMemo, lineLevelCreditMemo, debitMemo or lineLevelDebitMemo"),
            ));
        }
        self.inv.header.purpose = parsed.unwrap_or_default();
        self.inv.header.purpose_raw = purpose;
    }

    fn read_operation(&mut self, operation: Option<Text>) {
        self.inv.header.operation = match operation.as_deref() {
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
        self.inv.header.operation_raw = operation;
    }

    /// The header's indicators and payment terms.
    fn start_header_detail(&mut self, el: El, parent: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
            El::HeaderIndicator => {
                self.inv.header.is_header_invoice = self.attr(e, b"isHeaderInvoice", pos)?.as_deref() == Some("yes");
            }
            El::LineIndicator => {
                self.inv.header.is_tax_in_line = self.attr(e, b"isTaxInLine", pos)?.as_deref() == Some("yes");
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
            _ => {}
        }
        Ok(())
    }

    /// A `Contact` of an `InvoicePartner` or of `InvoiceDetailShipping`, and its country code.
    fn start_contact(&mut self, el: El, parent: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
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
            _ => {}
        }
        Ok(())
    }

    /// `InvoicePartner/IdReference`: a partner's id (tax id, supplier number...).
    fn start_partner_id(&mut self, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        let domain = self.attr(e, b"domain", pos)?.unwrap_or_default();
        let identifier = self.attr(e, b"identifier", pos)?.unwrap_or_default();
        self.inv.header.partner_ids.push(IdReference { domain, identifier });
        Ok(())
    }

    /// `<Extrinsic name="...">`; its value is its text, or an `IdReference@identifier` inside
    /// it (`<Extrinsic name="CustomFields"><IdReference identifier="..."/></Extrinsic>`).
    fn start_extrinsic(&mut self, el: El, parent: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
            El::Extrinsic => self.extrinsic_name = self.attr(e, b"name", pos)?,
            El::IdReference if parent == El::Extrinsic => {
                if let Some(id) = self.attr(e, b"identifier", pos)? {
                    if let Some(name) = self.extrinsic_name.as_ref() {
                        let ext = Extrinsic { name: name.clone(), value: id };
                        self.push_extrinsic(ext);
                        self.extrinsic_name = None;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The blocks of the invoice: a line-level `InvoiceDetailOrder`, a header-level
    /// `InvoiceDetailHeaderOrder` and the latter's `InvoiceDetailOrderSummary`.
    fn start_order_block(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
            El::InvoiceDetailOrder => self.order = Some(InvoiceOrder::default()),
            El::InvoiceDetailHeaderOrder => self.header_order = Some(HeaderOrder { source_line: self.line(pos), ..Default::default() }),
            El::OrderSummary if self.header_order.is_some() => {
                let ln = self.attr(e, b"invoiceLineNumber", pos)?;
                if let Some(ho) = self.header_order.as_mut() {
                    ho.invoice_line_number = ln;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `InvoiceDetailOrderInfo` and the references inside it: PO, master agreement, supplier
    /// (Amazon) order.
    fn start_order_reference(&mut self, el: El, parent: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
            El::OrderInfo => self.order_info = Some(OrderInfo::default()),
            El::OrderReference | El::OrderIdInfo if parent == El::OrderInfo => {
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
            _ => {}
        }
        Ok(())
    }

    /// An `InvoiceDetailItem` or `InvoiceDetailServiceItem` of an `InvoiceDetailOrder`.
    fn start_item(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
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
                    self.issues
                        .push(Issue::new(Code::InvalidAmount, format!("{}: quantity '{q}' is not a plain decimal number", item.label())))
                }
            }
        }
        item.quantity_raw = qty;
        self.item_extrinsics.clear();
        self.item_classifications.clear();
        self.item = Some(item);
        Ok(())
    }

    /// Attributes of the current item's children: price basis, reference line number,
    /// classification domain.
    fn start_item_detail(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
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
            El::Classification => self.classification_domain = self.attr(e, b"domain", pos)?,
            _ => {}
        }
        Ok(())
    }

    /// A `Tax` (of an item, a header order or the summary) and its `TaxDetail`s.
    fn start_tax(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
            El::Tax => {
                self.tax_details.clear();
                self.tax = Some(Tax::default());
            }
            El::TaxDetail if self.tax.is_some() => {
                let purpose = self.attr(e, b"purpose", pos)?;
                let category = self.attr(e, b"category", pos)?;
                let rate = self.attr_str(e, b"percentageRate", pos)?;
                let percentage_rate = match rate.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => self.read_rate(r, pos),
                    None => None,
                };
                self.tax_detail = Some(TaxDetail { purpose, category, percentage_rate, ..Default::default() });
            }
            _ => {}
        }
        Ok(())
    }

    /// `TaxDetail@percentageRate`; a value that is not a number is reported.
    fn read_rate(&mut self, rate: &str, pos: usize) -> Option<Decimal> {
        match parse_amount(rate) {
            Ok(d) => Some(d),
            Err(_) => {
                self.issues.push(Issue::new(
                    Code::InvalidAmount,
                    format!("TaxDetail@percentageRate '{rate}' at source line {} is not a number", self.line(pos)),
                ));
                None
            }
        }
    }

    /// An item's `Distribution` with its `Accounting` segments.
    fn start_distribution(&mut self, el: El, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        match el {
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
            _ => {}
        }
        Ok(())
    }

    /// `<Money>`: which amount it fills (from its parent and grandparent) and its currency;
    /// the amount is read at its end tag.
    fn start_money(&mut self, e: &BytesStart<'_>, pos: usize) -> Result<(), Box<Parsed>> {
        self.money = self.money_slot(pos);
        if self.money.is_some() {
            let cur = self.attr_str(e, b"currency", pos)?;
            if let Some(slot) = self.money.as_mut() {
                slot.currency = cur;
            }
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
        let cached = self.last_currency.filter(|c| c.code() == cur);
        let currency = match cached.map_or_else(|| Currency::parse(cur), Ok) {
            Ok(c) => {
                self.last_currency = Some(c);
                c
            }
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
        if self.item.is_some() {
            self.item_extrinsics.push(ext);
        } else if self.stack.contains(&El::RequestHeader) {
            self.inv.header.extrinsics.push(ext);
        }
    }

    /// An end tag with the element's trimmed text: hands it to the reader of its section.
    fn end(&mut self, el: El, text: &str) {
        let parent = self.parent();
        match el {
            El::Identity | El::Credential | El::UserAgent => self.end_envelope(el, parent, text),
            El::Name if parent == El::Contact => self.end_contact(el, text),
            El::Street | El::City | El::State | El::PostalCode | El::Country | El::Email | El::Contact => self.end_contact(el, text),
            El::Comments => self.end_comments(parent, text),
            El::Url if parent == El::Attachment => self.inv.attachments.extend(trimmed(text)),
            El::Extrinsic => self.end_extrinsic(text),
            El::SupplierPartId | El::SupplierPartAuxId | El::Classification | El::UnitOfMeasure => self.end_item_detail(el, text),
            El::Description => self.end_description(parent, text),
            El::TaxLocation | El::TaxDetail | El::Tax => self.end_tax(el, parent, text),
            El::Name | El::AccountingSegment | El::Distribution => self.end_distribution(el, parent, text),
            El::Money => self.end_money(text),
            El::Item | El::ServiceItem | El::OrderInfo | El::InvoiceDetailOrder | El::InvoiceDetailHeaderOrder => self.end_order_block(el),
            _ => {}
        }
    }

    /// A credential's identity, the credential itself (into From, To or Sender), the Sender's
    /// user agent.
    fn end_envelope(&mut self, el: El, parent: El, text: &str) {
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
            _ => {}
        }
    }

    /// The fields of the open contact, and the contact itself (a partner or a shipping party).
    fn end_contact(&mut self, el: El, text: &str) {
        if el == El::Contact {
            if let Some((owner, c)) = self.contact.take() {
                if owner == El::InvoiceDetailShipping {
                    self.inv.header.shipping.push(c);
                } else {
                    self.inv.header.partners.push(c);
                }
            }
            return;
        }
        let Some((_, c)) = self.contact.as_mut() else { return };
        let v = trimmed(text);
        match el {
            El::Name => c.name = v,
            El::Street => c.street.extend(v),
            El::City => c.city = v,
            El::State => c.state = v,
            El::PostalCode => c.postal_code = v,
            El::Country => c.country = v,
            El::Email => c.email = v,
            _ => {}
        }
    }

    /// `Comments` of the request header or of the current item.
    fn end_comments(&mut self, parent: El, text: &str) {
        let v = trimmed(text);
        if parent == El::RequestHeader {
            self.inv.header.comments = v;
        } else if let Some(item) = self.item.as_mut() {
            item.comments = v;
        }
    }

    fn end_extrinsic(&mut self, text: &str) {
        if let Some(name) = self.extrinsic_name.take() {
            let ext = Extrinsic { name, value: Text::from(text) };
            self.push_extrinsic(ext);
        }
    }

    /// Text fields of the current item: part ids, classification, unit of measure.
    fn end_item_detail(&mut self, el: El, text: &str) {
        if el == El::Classification {
            let domain = self.classification_domain.take().unwrap_or_default();
            if let (true, Some(v)) = (self.item.is_some(), trimmed(text)) {
                self.item_classifications.push((domain, v));
            }
            return;
        }
        let Some(item) = self.item.as_mut() else { return };
        let v = trimmed(text);
        match el {
            El::SupplierPartId => item.supplier_part_id = v,
            El::SupplierPartAuxId => item.supplier_part_aux_id = v,
            El::UnitOfMeasure => item.unit_of_measure = v,
            _ => {}
        }
    }

    /// A `Description` of an item reference, a tax or an accounting segment.
    fn end_description(&mut self, parent: El, text: &str) {
        let target = match parent {
            El::ItemReference | El::ServiceItemReference => self.item.as_mut().map(|i| &mut i.description),
            El::Tax => self.tax.as_mut().map(|t| &mut t.description),
            El::AccountingSegment => self.segment.as_mut().map(|s| &mut s.description),
            _ => None,
        };
        if let Some(d) = target {
            *d = trimmed(text);
        }
    }

    /// A `TaxDetail`'s location, the detail itself, and the `Tax` into its owner (the item, the
    /// header order's summary or the invoice summary).
    fn end_tax(&mut self, el: El, parent: El, text: &str) {
        match el {
            El::TaxLocation => {
                if let Some(td) = self.tax_detail.as_mut() {
                    td.location = trimmed(text);
                }
            }
            El::TaxDetail => {
                if let (Some(td), true) = (self.tax_detail.take(), self.tax.is_some()) {
                    self.tax_details.push(td);
                }
            }
            El::Tax => {
                // Collected aside and copied once at their exact count (a line has one or two;
                // pushing into the Tax would reserve four, 576 bytes).
                let details: Vec<TaxDetail> = self.tax_details.drain(..).collect();
                let Some(mut t) = self.tax.take() else { return };
                t.details = details;
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
            _ => {}
        }
    }

    /// An accounting segment's name, the segment into its distribution, the distribution into
    /// the item.
    fn end_distribution(&mut self, el: El, parent: El, text: &str) {
        match el {
            El::Name if parent == El::AccountingSegment => {
                if let Some(s) = self.segment.as_mut() {
                    s.name = trimmed(text);
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
            _ => {}
        }
    }

    /// `</Money>`: reads the amount into the slot its start tag chose.
    fn end_money(&mut self, text: &str) {
        if let Some(slot) = self.money.take() {
            let before = self.issues.len();
            let m = self.read_money(&slot, text);
            if self.issues.len() > before {
                self.mark_unreadable(&slot);
            }
            self.assign(&slot, m);
        }
    }

    /// The end of an item (into its order), of an order info (into its block), of a block
    /// (into the invoice).
    fn end_order_block(&mut self, el: El) {
        match el {
            El::Item | El::ServiceItem => {
                // The model of a large invoice is mostly its items: vectors of the exact size.
                let classifications = self.item_classifications.drain(..).collect();
                let extrinsics = self.item_extrinsics.drain(..).collect();
                if let (Some(mut item), Some(order)) = (self.item.take(), self.order.as_mut()) {
                    item.classifications = classifications;
                    item.extrinsics = extrinsics;
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
        if slot.scope == Scope::Item {
            if let Some(item) = self.item.as_mut() {
                assign_line(&mut item.amounts, slot.field, m);
            }
            return;
        }
        let amounts = match slot.scope {
            Scope::HeaderOrder => match self.header_order.as_mut() {
                Some(h) => &mut h.amounts,
                None => return,
            },
            _ => &mut self.inv.summary,
        };
        assign_block(amounts, slot.field, m);
    }
}

/// A block's (header order's or summary's) amount of `field`.
fn assign_block(a: &mut Amounts, field: Field, m: Option<Money>) {
    let target = match field {
        Field::Subtotal => &mut a.subtotal,
        Field::SpecialHandling => &mut a.special_handling,
        Field::Shipping => &mut a.shipping,
        Field::Gross => &mut a.gross,
        Field::Discount => &mut a.discount,
        Field::Net => &mut a.net,
        Field::Deposit => &mut a.deposit,
        Field::Due => &mut a.due,
        _ => return,
    };
    *target = m;
}

/// A line's amount of `field` (its rare amounts are only boxed once one is stated).
fn assign_line(a: &mut LineAmounts, field: Field, m: Option<Money>) {
    if field == Field::Subtotal {
        a.subtotal = m;
        return;
    }
    let rare = matches!(
        field,
        Field::SpecialHandling | Field::Shipping | Field::Gross | Field::Discount | Field::Net | Field::Deposit | Field::Due
    );
    if !rare || (m.is_none() && a.other.is_none()) {
        return;
    }
    let o = a.other.get_or_insert_with(Box::default);
    let target = match field {
        Field::SpecialHandling => &mut o.special_handling,
        Field::Shipping => &mut o.shipping,
        Field::Gross => &mut o.gross,
        Field::Discount => &mut o.discount,
        Field::Net => &mut o.net,
        Field::Deposit => &mut o.deposit,
        _ => &mut o.due,
    };
    *target = m;
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
    fn white_space_inside_a_text_is_kept_around_references_comments_and_cdata() {
        let doc = invoice_testgen::large_invoice(1).replacen(
            "<SupplierPartID>",
            "<SupplierPartID>\n   A &amp; B <!-- c --> C <![CDATA[ D ]]> E &#70;\n\t G  ",
            1,
        );
        let p = parse_str(&doc, &Limits::default());
        let item = p.invoice.as_ref().and_then(|i| i.items().next().cloned()).expect("item");
        let id = item.supplier_part_id.expect("part id");
        assert!(id.starts_with("A & B  C  D  E F\n\t G  B0"), "{id:?}");
    }

    #[test]
    fn lines_of_tags_and_references_after_indentation() {
        let doc = "<cXML payloadID=\"p\">\n\n   <Request>\n      <InvoiceDetailRequest>\n\n  \n        <InvoiceDetailRequestHeader invoiceID=\"1\"\n x=\"y\">\n    \n  <Comments>\n\n     &nope;</Comments></InvoiceDetailRequestHeader></InvoiceDetailRequest></Request></cXML>";
        let p = parse_str(doc, &Limits::default());
        assert_eq!(p.issues.len(), 1, "{:?}", p.issues);
        assert!(p.issues[0].message.contains("&nope; at source line 12"), "{}", p.issues[0].message);
        let deep = Limits { max_bytes: 1 << 20, max_depth: 4 };
        let p = parse_str(doc, &deep);
        assert!(p.issues[0].message.contains("nested more than 4 deep (source line 10)"), "{}", p.issues[0].message);
        let items = invoice_testgen::large_invoice(2).replace("<InvoiceDetailItem ", "\n\n  <InvoiceDetailItem ");
        let p = parse_str(&items, &Limits::default());
        let lines: Vec<u32> = p.invoice.expect("invoice").items().map(|i| i.source_line).collect();
        let expected: Vec<u32> =
            items.match_indices("<InvoiceDetailItem ").map(|(at, _)| items[..at].matches('\n').count() as u32 + 1).collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn rare_line_amounts_are_boxed_only_when_stated() {
        let doc = invoice_testgen::large_invoice(2);
        let inv = parse_str(&doc, &Limits::default()).invoice.expect("invoice");
        assert!(inv.items().all(|i| i.amounts.other.is_none()));
        let shipping = "<InvoiceDetailLineShipping><Money currency=\"USD\">2.50</Money></InvoiceDetailLineShipping>";
        let empty = "<GrossAmount><Money currency=\"USD\"/></GrossAmount>";
        let doc = doc.replacen("<SubtotalAmount>", &format!("{shipping}<SubtotalAmount>"), 1);
        let second = doc.rfind("<SubtotalAmount>").expect("second line");
        let doc = format!("{}{empty}{}", &doc[..second], &doc[second..]);
        let p = parse_str(&doc, &Limits::default());
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let items: Vec<&Item> = p.invoice.as_ref().expect("invoice").items().collect();
        let other = items[0].amounts.other.as_deref().expect("line shipping stated");
        assert_eq!(other.shipping, Some(Money::parse("2.50", "USD").unwrap()));
        assert_eq!(items[0].amounts.other().gross, None);
        assert!(items[1].amounts.other.is_none(), "an empty <Money/> states nothing");
        assert_eq!(items[1].amounts.other().shipping, None);
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
