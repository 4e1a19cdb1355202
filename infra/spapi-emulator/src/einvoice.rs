//! The cXML e-invoice Amazon Business sends for an API order (the spec's Appendix 2), made on
//! request by `POST /_emulator/ordering/orders/{externalId}/einvoice` and, with an S3 bucket
//! configured, put at `incoming/<company>/amazon-business/<invoice id>.xml`.
//!
//! Mapping (the spec's Appendix 1): `OrderReference@orderID` = the `PurchaseOrderNumber`
//! attribute (else the order's `externalId`), `DocumentReference@payloadID` = the order's
//! `externalId`, `SupplierOrderInfo@orderID` = the Amazon order id,
//! `InvoiceDetailItemReference@lineNumber` = the line's `externalId`, item `Extrinsic`s =
//! the `Auxiliary` values (`category`, `subCategory`, …), `Distribution`/`Accounting` = the
//! line's `Distribution` attributes, `To` credential = the `BuyingGroupReference`, ship-to and
//! bill-to = the `ShippingAddress` / `BillingAddress` attributes. Amounts are consistent: line
//! subtotal = unit price × quantity, line tax = its sales tax + its shipping tax, the summary
//! sums the lines, Net = Subtotal + Tax + Shipping, Due = Net.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use crate::ordering::{round_money, PostalAddress, StoredOrder};
use crate::serve::json_response;
use crate::state::App;
use crate::EINVOICE_KEY_PREFIX;

/// Amazon Business's cXML network id (the `From` credential of its e-invoices).
pub const AMAZON_NETWORK_ID: &str = "AN01011737571";
/// The `To` identity when the order has no `BuyingGroupReference` (the spec's Appendix 2).
pub const DEFAULT_TO_IDENTITY: &str = "AN12345678901";
/// The `Sender` shared secret written into every e-invoice: a fixed placeholder, no secret.
const SENDER_SHARED_SECRET: &str = "emulator-not-a-secret";

/// How the e-invoice disagrees with the order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Variant {
    /// Exactly what was accepted.
    #[default]
    Exact,
    /// The first item's unit price 10 % higher (at least one minor unit).
    HigherPrice,
    /// The first item's quantity one more.
    ExtraQuantity,
    /// One more item, on a PO line number the order does not have.
    UnknownLine,
}

/// Body of `POST /_emulator/ordering/orders/{externalId}/einvoice`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EinvoiceRequest {
    /// The company segment of the S3 key (`incoming/<company>/amazon-business/…`).
    company: String,
    /// `DOMAIN:IDENTITY` or `IDENTITY` (domain `NetworkID`) of the `To` credential.
    #[serde(default)]
    to_identity: Option<String>,
    #[serde(default)]
    variant: Variant,
    #[serde(default)]
    invoice_id: Option<String>,
    /// The selling partner whose order it is; needed only when several placed this externalId.
    #[serde(default)]
    partner: Option<String>,
    /// Which Amazon order to invoice; needed only when the order was split.
    #[serde(default)]
    amazon_order_id: Option<String>,
}

/// One invoice line.
struct Line {
    po_line: String,
    asin: String,
    quantity: u64,
    unit_price: Decimal,
    subtotal: Decimal,
    tax: Decimal,
    shipping: Decimal,
    shipping_tax: Decimal,
    po: Option<usize>,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// A small indenting XML writer (values escaped).
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn attrs(attrs: &[(&str, &str)]) -> String {
        attrs.iter().map(|(k, v)| format!(" {k}=\"{}\"", esc(v))).collect()
    }
    fn indent(&mut self) {
        self.out.push_str(&"    ".repeat(self.depth));
    }
    fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}{}>", Self::attrs(attrs));
        self.depth += 1;
    }
    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{tag}>");
    }
    fn empty(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}{}/>", Self::attrs(attrs));
    }
    fn text(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}{}>{}</{tag}>", Self::attrs(attrs), esc(text));
    }
    fn money(&mut self, wrapper: &str, currency: &str, amount: Decimal) {
        self.open(wrapper, &[]);
        self.text("Money", &[("currency", currency)], &amount.to_string());
        self.close(wrapper);
    }
    fn credential(&mut self, domain: &str, identity: &str, secret: Option<&str>) {
        self.open("Credential", &[("domain", domain)]);
        self.text("Identity", &[], identity);
        if let Some(s) = secret {
            self.text("SharedSecret", &[], s);
        }
        self.close("Credential");
    }
    fn contact(&mut self, role: &str, a: &PostalAddress, fallback_name: &str) {
        let name = a.company_name.as_deref().or(a.full_name.as_deref()).filter(|n| !n.is_empty()).unwrap_or(fallback_name);
        let mut attrs = vec![("role", role)];
        if let Some(id) = &a.address_id {
            attrs.push(("addressID", id.as_str()));
        }
        self.open("Contact", &attrs);
        self.text("Name", &[("xml:lang", "en-US")], a.full_name.as_deref().filter(|n| !n.is_empty()).unwrap_or(name));
        self.open("PostalAddress", &[("name", name)]);
        for s in &a.streets {
            self.text("Street", &[], s);
        }
        self.text("City", &[], a.city.as_deref().unwrap_or_default());
        if let Some(s) = &a.state {
            self.text("State", &[], s);
        }
        self.text("PostalCode", &[], a.postal_code.as_deref().unwrap_or_default());
        let country = a.country_code.as_deref().unwrap_or("US");
        self.text("Country", &[("isoCountryCode", country)], country);
        self.close("PostalAddress");
        self.close("Contact");
    }
}

fn amazon_address(name: &str, street: &str, postal_code: &str) -> PostalAddress {
    PostalAddress {
        address_id: Some("Default".into()),
        company_name: Some(name.into()),
        full_name: Some(name.into()),
        streets: vec![street.into()],
        city: Some("Seattle".into()),
        state: Some("WA".into()),
        postal_code: Some(postal_code.into()),
        country_code: Some("US".into()),
        phone: None,
    }
}

/// 12 characters of `[0-9A-Z]`, like Amazon's invoice ids (`1CW9RHVRKABC`).
fn invoice_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut r = uuid::Uuid::new_v4().as_u128();
    (0..12)
        .map(|_| {
            let c = ALPHABET[(r % 36) as usize] as char;
            r /= 36;
            c
        })
        .collect()
}

/// The line number after every numeric line number of the order.
fn unknown_line_number(o: &StoredOrder) -> String {
    let max = o.po.lines.iter().filter_map(|l| l.external_id.parse::<u128>().ok()).max().unwrap_or(0);
    max.checked_add(1).map_or_else(|| "9".repeat(40), |n| n.to_string())
}

/// The `InvoiceDetailRequest` for the portions of `o` in Amazon order `amazon_order`; `None`
/// when the variant's amounts are too large for a decimal.
pub(crate) fn cxml(o: &StoredOrder, amazon_order: &str, variant: Variant, invoice: &str, to: (&str, &str)) -> Option<String> {
    let portions: Vec<_> = o.portions.iter().filter(|p| p.order_id == amazon_order).collect();
    let currency = portions.first().map_or("USD", |p| p.currency.as_str()).to_owned();
    let rate = o.tax_rate;
    let tax_of = |amount: Decimal| Some(round_money(amount.checked_mul(rate)?.checked_div(Decimal::ONE_HUNDRED)?, &currency));
    let mut lines: Vec<Line> = portions
        .iter()
        .map(|p| Line {
            po_line: p.line.clone(),
            asin: p.asin.clone(),
            quantity: p.quantity,
            unit_price: p.unit_price,
            subtotal: p.subtotal,
            tax: p.tax,
            shipping: p.shipping,
            shipping_tax: p.shipping_tax,
            po: o.po.lines.iter().position(|l| l.external_id == p.line),
        })
        .collect();
    let reprice = |l: &mut Line| -> Option<()> {
        l.subtotal = round_money(l.unit_price.checked_mul(Decimal::from(l.quantity))?, &currency);
        l.tax = tax_of(l.subtotal)?;
        Some(())
    };
    match variant {
        Variant::Exact => {}
        Variant::HigherPrice => {
            if let Some(l) = lines.first_mut() {
                let minor = round_money(Decimal::ZERO, &currency);
                let one_unit = Decimal::new(1, minor.scale());
                let raised = round_money(l.unit_price.checked_mul(Decimal::new(11, 1))?, &currency);
                l.unit_price = raised.max(l.unit_price.checked_add(one_unit)?);
                reprice(l)?;
            }
        }
        Variant::ExtraQuantity => {
            if let Some(l) = lines.first_mut() {
                l.quantity = l.quantity.checked_add(1)?;
                reprice(l)?;
            }
        }
        Variant::UnknownLine => {
            let price = lines.first().map_or(Decimal::TEN, |l| l.unit_price);
            let mut extra = Line {
                po_line: unknown_line_number(o),
                asin: "B0EMUXTRA1".into(),
                quantity: 1,
                unit_price: price,
                subtotal: Decimal::ZERO,
                tax: Decimal::ZERO,
                shipping: Decimal::ZERO,
                shipping_tax: Decimal::ZERO,
                po: None,
            };
            reprice(&mut extra)?;
            lines.push(extra);
        }
    }
    let zero = round_money(Decimal::ZERO, &currency);
    let sum = |f: fn(&Line) -> Decimal| lines.iter().map(f).try_fold(zero, |a, b| a.checked_add(b));
    let (subtotal, sales_tax, shipping, shipping_tax) =
        (sum(|l| l.subtotal)?, sum(|l| l.tax)?, sum(|l| l.shipping)?, sum(|l| l.shipping_tax)?);
    let tax = sales_tax.checked_add(shipping_tax)?;
    let net = subtotal.checked_add(tax)?.checked_add(shipping)?;
    let summary_taxable = subtotal.checked_add(shipping)?;
    let rate_text = rate.normalize().to_string();
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let order_date = o.placed.format("%Y-%m-%d").to_string();
    let payload = format!("{}.{}@amazon.com", Utc::now().timestamp_millis(), invoice);
    let tracking = format!("TBA{:012}", uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000);
    let cur = currency.as_str();

    let mut x = Xml { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 };
    x.open("cXML", &[("payloadID", &payload), ("timestamp", &today), ("xml:lang", "en-US")]);
    x.open("Header", &[]);
    x.open("From", &[]);
    x.credential("NetworkID", AMAZON_NETWORK_ID, None);
    x.close("From");
    x.open("To", &[]);
    x.credential(to.0, to.1, None);
    x.close("To");
    x.open("Sender", &[]);
    x.credential("NetworkID", AMAZON_NETWORK_ID, Some(SENDER_SHARED_SECRET));
    x.text("UserAgent", &[], "Amazon eProcurement Application");
    x.close("Sender");
    x.close("Header");
    x.open("Request", &[("deploymentMode", "production")]);
    x.open("InvoiceDetailRequest", &[]);
    x.open("InvoiceDetailRequestHeader", &[("invoiceID", invoice), ("purpose", "standard"), ("operation", "new"), ("invoiceDate", &today)]);
    x.empty("InvoiceDetailHeaderIndicator", &[]);
    x.empty("InvoiceDetailLineIndicator", &[("isAccountingInLine", "yes"), ("isTaxInLine", "yes")]);
    let remit = amazon_address("Amazon Capital Services", "PO Box 035184", "98124-5184");
    let amazon = amazon_address("Amazon Services LLC", "410 Terry Avenue North", "98109");
    let bill_to = o.po.bill_to.clone().or_else(|| o.po.ship_to.clone()).unwrap_or_default();
    let mut sold_to = bill_to.clone();
    sold_to.address_id = o.po.buying_group.clone();
    for (role, address) in [("remitTo", &remit), ("billTo", &bill_to), ("soldTo", &sold_to), ("invoiceFrom", &amazon)] {
        x.open("InvoicePartner", &[]);
        x.contact(role, address, "Amazon Business Customer");
        x.close("InvoicePartner");
    }
    x.open("InvoiceDetailShipping", &[]);
    x.contact("shipFrom", &amazon, "Amazon Services LLC");
    x.contact("shipTo", o.po.ship_to.as_ref().unwrap_or(&bill_to), "Amazon Business Customer");
    x.close("InvoiceDetailShipping");
    x.empty("PaymentTerm", &[("payInNumberOfDays", "net30")]);
    x.text("Extrinsic", &[("name", "carrierName")], "Amazon Logistics");
    x.text("Extrinsic", &[("name", "carrierTrackingNumber")], &tracking);
    x.close("InvoiceDetailRequestHeader");

    x.open("InvoiceDetailOrder", &[]);
    x.open("InvoiceDetailOrderInfo", &[]);
    let po_number = o.po.po_number.as_deref().unwrap_or(&o.po.external_id);
    x.open("OrderReference", &[("orderID", po_number), ("orderDate", &order_date)]);
    x.empty("DocumentReference", &[("payloadID", &o.po.external_id)]);
    x.close("OrderReference");
    x.empty("SupplierOrderInfo", &[("orderID", amazon_order)]);
    x.close("InvoiceDetailOrderInfo");
    for (n, l) in lines.iter().enumerate() {
        let po_line = l.po.map(|i| &o.po.lines[i]);
        x.open("InvoiceDetailItem", &[("invoiceLineNumber", &(n + 1).to_string()), ("quantity", &l.quantity.to_string())]);
        x.text("UnitOfMeasure", &[], "EA");
        x.money("UnitPrice", cur, l.unit_price);
        x.open("InvoiceDetailItemReference", &[("lineNumber", &l.po_line)]);
        x.open("ItemID", &[]);
        x.text("SupplierPartID", &[], &l.asin);
        x.close("ItemID");
        x.text("Description", &[("xml:lang", "en-US")], &format!("Amazon Business item {}", l.asin));
        x.close("InvoiceDetailItemReference");
        x.money("SubtotalAmount", cur, l.subtotal);
        x.open("Tax", &[]);
        x.text("Money", &[("currency", cur)], &(l.tax + l.shipping_tax).to_string());
        x.text("Description", &[("xml:lang", "en-US")], "Cost of tax, including shipping tax");
        let detail = |x: &mut Xml, category: &str, taxable: Decimal, amount: Decimal| {
            x.open("TaxDetail", &[("purpose", "tax"), ("category", category), ("percentageRate", &rate_text)]);
            x.money("TaxableAmount", cur, taxable);
            x.money("TaxAmount", cur, amount);
            x.close("TaxDetail");
        };
        detail(&mut x, "sales", l.subtotal, l.tax);
        if !l.shipping.is_zero() || !l.shipping_tax.is_zero() {
            detail(&mut x, "other", l.shipping, l.shipping_tax);
        }
        x.close("Tax");
        for d in po_line.map(|p| p.distributions.as_slice()).unwrap_or_default() {
            x.open("Distribution", &[]);
            x.open("Accounting", &[("name", &d.name)]);
            for (id, kind, description) in &d.segments {
                x.open("AccountingSegment", &[("id", id)]);
                x.text("Name", &[("xml:lang", "en-US")], kind);
                x.text("Description", &[("xml:lang", "en-US")], description);
                x.close("AccountingSegment");
            }
            x.close("Accounting");
            x.money("Charge", &d.charge.currency, d.charge.value);
            x.close("Distribution");
        }
        x.empty("Comments", &[]);
        x.text("Extrinsic", &[("name", "soldBy")], "Amazon.com");
        for (name, value) in po_line.map(|p| p.auxiliary.as_slice()).unwrap_or_default() {
            x.text("Extrinsic", &[("name", name)], value);
        }
        x.close("InvoiceDetailItem");
    }
    x.close("InvoiceDetailOrder");

    x.open("InvoiceDetailSummary", &[]);
    x.money("SubtotalAmount", cur, subtotal);
    x.open("Tax", &[]);
    x.text("Money", &[("currency", cur)], &tax.to_string());
    x.text("Description", &[("xml:lang", "en-US")], "Cost of tax, including shipping tax");
    x.open("TaxDetail", &[("purpose", "tax"), ("category", "sales"), ("percentageRate", &rate_text)]);
    x.money("TaxableAmount", cur, summary_taxable);
    x.money("TaxAmount", cur, tax);
    x.close("TaxDetail");
    x.close("Tax");
    x.open("SpecialHandlingAmount", &[]);
    x.text("Money", &[("currency", cur)], &zero.to_string());
    x.text("Description", &[("xml:lang", "en-US")], "Other Charges");
    x.close("SpecialHandlingAmount");
    x.money("ShippingAmount", cur, shipping);
    x.money("NetAmount", cur, net);
    x.money("DueAmount", cur, net);
    x.close("InvoiceDetailSummary");
    x.close("InvoiceDetailRequest");
    x.close("Request");
    x.close("cXML");
    Some(x.out)
}

fn safe_segment(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) && !s.bytes().all(|b| b == b'.')
}

async fn s3_client(app: &App) -> &aws_sdk_s3::Client {
    app.s3
        .get_or_init(|| async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(endpoint) = &app.config.s3_endpoint {
                loader = loader.endpoint_url(endpoint);
            }
            let conf = loader.load().await;
            let env_path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
            let mut b = aws_sdk_s3::config::Builder::from(&conf).force_path_style(app.config.s3_endpoint.is_some() || env_path_style);
            if conf.region().is_none() {
                b = b.region(aws_sdk_s3::config::Region::new("us-east-1"));
            }
            aws_sdk_s3::Client::from_conf(b.build())
        })
        .await
}

pub(crate) async fn einvoice(State(app): State<App>, Path(external_id): Path<String>, body: Bytes) -> Response {
    let bad = |status: StatusCode, e: String| json_response(status, json!({"error": e}));
    let req: EinvoiceRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(StatusCode::BAD_REQUEST, format!("bad einvoice document: {e}")),
    };
    if !safe_segment(&req.company) {
        return bad(StatusCode::BAD_REQUEST, "company: letters, digits, '-', '_' or '.' only (it is an S3 key segment)".into());
    }
    let invoice = req.invoice_id.clone().unwrap_or_else(invoice_id);
    if !safe_segment(&invoice) {
        return bad(StatusCode::BAD_REQUEST, "invoice_id: letters, digits, '-', '_' or '.' only (it is an S3 key segment)".into());
    }
    let (order, partner) = {
        let inner = app.lock();
        let mut found: Vec<(&String, &StoredOrder)> = inner
            .orders
            .iter()
            .filter(|((p, id), _)| *id == external_id && req.partner.as_ref().is_none_or(|want| want == p))
            .map(|((p, _), o)| (p, o))
            .collect();
        match found.len() {
            0 => return bad(StatusCode::NOT_FOUND, format!("no placed order with externalId {external_id:?}")),
            1 => {
                let (p, o) = found.remove(0);
                (o.clone(), p.clone())
            }
            _ => {
                let partners: Vec<&String> = found.iter().map(|(p, _)| *p).collect();
                return bad(
                    StatusCode::BAD_REQUEST,
                    format!("partners {partners:?} each placed externalId {external_id:?}: name one in \"partner\""),
                );
            }
        }
    };
    let ids = order.amazon_order_ids();
    let amazon_order = match (&req.amazon_order_id, ids.as_slice()) {
        (Some(want), _) if ids.contains(want) => want.clone(),
        (Some(want), _) => return bad(StatusCode::BAD_REQUEST, format!("amazon_order_id {want:?} is not one of the order's {ids:?}")),
        (None, [only]) => only.clone(),
        (None, []) => return bad(StatusCode::BAD_REQUEST, format!("order {external_id:?} has no accepted item: nothing to invoice")),
        (None, _) => {
            return bad(
                StatusCode::BAD_REQUEST,
                format!("order {external_id:?} was split over the Amazon orders {ids:?}: name one in \"amazon_order_id\""),
            )
        }
    };
    let to = match req.to_identity.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => match t.split_once(':') {
            Some((d, i)) if !d.is_empty() && !i.is_empty() => (d.to_owned(), i.to_owned()),
            Some(_) => return bad(StatusCode::BAD_REQUEST, "to_identity: DOMAIN:IDENTITY or IDENTITY".into()),
            None => ("NetworkID".to_owned(), t.to_owned()),
        },
        _ => ("NetworkID".to_owned(), order.po.buying_group.clone().unwrap_or_else(|| DEFAULT_TO_IDENTITY.to_owned())),
    };
    let Some(xml) = cxml(&order, &amazon_order, req.variant, &invoice, (&to.0, &to.1)) else {
        return bad(StatusCode::BAD_REQUEST, format!("the {:?} variant's amounts are too large for a decimal", req.variant));
    };
    let key = format!("{EINVOICE_KEY_PREFIX}{}/amazon-business/{invoice}.xml", req.company);
    let mut answer = json!({
        "invoice_id": invoice,
        "external_id": external_id,
        "partner": partner,
        "amazon_order_id": amazon_order,
        "variant": req.variant,
        "to": format!("{}:{}", to.0, to.1),
        "key": key,
        "bucket": app.config.s3_bucket,
        "stored": false,
        "xml": xml,
    });
    if let Some(bucket) = &app.config.s3_bucket {
        let client = s3_client(&app).await;
        let put = client
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/xml")
            .body(aws_sdk_s3::primitives::ByteStream::from(xml.into_bytes()))
            .send()
            .await;
        if let Err(e) = put {
            answer["error"] = json!(format!("s3 put s3://{bucket}/{key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
            return json_response(StatusCode::BAD_GATEWAY, answer);
        }
        answer["stored"] = json!(true);
    }
    json_response(StatusCode::OK, answer)
}
