//! The invoice as a PDF, rendered from its stored data (for invoices without the supplier's
//! own PDF) with `lopdf`: A4 pages, Helvetica (a standard font, WinAnsi), the header, every
//! line with its GL coding, the totals; as many pages as the lines need.

use invoice_domain::company::Locale;
use invoice_domain::invoice::records::{InvoiceRecord, LineRecord};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream};

use crate::format::{date, money};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 40.0;
const LEADING: f32 = 13.0;

/// Latin-1 bytes of the text (WinAnsi ≈ Latin-1 for letters); other characters become `?`.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            0x202f => b' ',
            _ => b'?',
        })
        .collect()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n.saturating_sub(3)).collect::<String>())
    }
}

struct Writer {
    pages: Vec<Vec<Operation>>,
    y: f32,
}

impl Writer {
    fn new() -> Writer {
        Writer { pages: vec![Vec::new()], y: HEIGHT - MARGIN }
    }

    fn text_at(&mut self, x: f32, size: f32, bold: bool, s: &str) {
        let ops = self.pages.last_mut().expect("a page");
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec![if bold { "F2" } else { "F1" }.into(), size.into()]));
        ops.push(Operation::new("Td", vec![x.into(), self.y.into()]));
        ops.push(Operation::new("Tj", vec![Object::string_literal(latin1(s))]));
        ops.push(Operation::new("ET", vec![]));
    }

    fn newline(&mut self, by: f32) {
        self.y -= by;
        if self.y < MARGIN {
            self.pages.push(Vec::new());
            self.y = HEIGHT - MARGIN;
        }
    }

    fn line(&mut self, size: f32, bold: bool, s: &str) {
        self.text_at(MARGIN, size, bold, s);
        self.newline(LEADING);
    }

    /// A row of columns at fixed x positions.
    fn row(&mut self, cols: &[(f32, String)], bold: bool) {
        for (x, s) in cols {
            self.text_at(*x, 8.5, bold, s);
        }
        self.newline(LEADING - 1.0);
    }
}

/// The PDF bytes of an invoice and its lines (sorted by line number by the caller).
pub fn render(h: &InvoiceRecord, lines: &[LineRecord], company_name: &str, locale: Locale) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    let m = |v: &str| money(v, &h.currency, locale);
    w.line(16.0, true, &format!("Invoice {}", h.invoice_id));
    w.line(10.0, false, &format!("From: {} ({})", h.supplier_name.as_deref().unwrap_or(&h.supplier), h.supplier));
    w.line(10.0, false, &format!("To: {company_name}"));
    w.line(10.0, false, &format!("Invoice date: {}    Received: {}", date(&h.invoice_date, locale), date(&h.received_at, locale)));
    if let Some(d) = h.payment_terms_days {
        w.line(10.0, false, &format!("Payment terms: {d} days"));
    }
    if !h.order_ids.is_empty() {
        w.line(10.0, false, &format!("Purchase order(s): {}", h.order_ids.join(", ")));
    }
    w.line(10.0, false, &format!("Status: {}    Purpose: {}    Channel: {}", h.status.as_str(), h.purpose, h.source.channel.as_str()));
    w.newline(LEADING);
    let cols = [MARGIN, 70.0, 270.0, 320.0, 390.0, 460.0, 520.0];
    w.row(
        &[
            (cols[0], "#".into()),
            (cols[1], "Description".into()),
            (cols[2], "Qty".into()),
            (cols[3], "Unit price".into()),
            (cols[4], "Amount".into()),
            (cols[5], "Tax".into()),
            (cols[6], "GL".into()),
        ],
        true,
    );
    for l in lines {
        let gl = l.amazon.as_ref().and_then(|a| a.gl_code.clone()).unwrap_or_else(|| l.category.clone());
        w.row(
            &[
                (cols[0], l.line_number.to_string()),
                (cols[1], clip(l.description.as_deref().or(l.supplier_part_id.as_deref()).unwrap_or(""), 38)),
                (cols[2], format!("{} {}", l.quantity.as_deref().unwrap_or(""), l.unit_of_measure.as_deref().unwrap_or(""))),
                (cols[3], l.unit_price.as_deref().map(|v| crate::format::amount(v, locale)).unwrap_or_default()),
                (cols[4], l.subtotal.as_deref().map(|v| crate::format::amount(v, locale)).unwrap_or_default()),
                (cols[5], l.tax.as_deref().map(|v| crate::format::amount(v, locale)).unwrap_or_default()),
                (cols[6], clip(&gl, 14)),
            ],
            false,
        );
    }
    w.newline(LEADING);
    for (label, v) in [
        ("Subtotal", &h.subtotal),
        ("Tax", &h.tax),
        ("Shipping", &h.shipping),
        ("Special handling", &h.special_handling),
        ("Discount", &h.discount),
        ("Net amount", &h.net),
        ("Amount due", &h.due),
    ] {
        w.text_at(330.0, 10.0, label == "Amount due", label);
        w.text_at(450.0, 10.0, label == "Amount due", &m(v));
        w.newline(LEADING);
    }
    w.line(7.0, false, &format!("Rendered by Invoice Bridge from the stored invoice data ({} lines).", lines.len()));

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let f1 =
        doc.add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding"});
    let f2 = doc
        .add_object(dictionary! {"Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding"});
    let resources = doc.add_object(dictionary! {"Font" => dictionary! {"F1" => f1, "F2" => f2}});
    let mut kids = Vec::new();
    let n = w.pages.len();
    for (i, mut ops) in w.pages.into_iter().enumerate() {
        // Page number at the foot.
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec!["F1".into(), 7.0.into()]));
        ops.push(Operation::new("Td", vec![(WIDTH - 90.0).into(), 20.0.into()]));
        ops.push(Operation::new("Tj", vec![Object::string_literal(format!("Page {} of {n}", i + 1))]));
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }.encode().map_err(|e| format!("pdf content: {e}"))?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), WIDTH.into(), HEIGHT.into()],
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! {"Type" => "Pages", "Kids" => kids, "Count" => count}));
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| format!("pdf: {e}"))?;
    Ok(out)
}
