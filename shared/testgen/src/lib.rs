//! Deterministic test and benchmark documents.
//!
//! [`large_invoice`] writes a valid cXML `InvoiceDetailRequest` with any number of lines shaped
//! like Amazon Business lines; [`small_corpus`] returns the bundled valid sample documents.
//! Pure and deterministic: no clock, no randomness (prices, quantities and descriptions are
//! arithmetic on the line index), so a benchmark measures the same bytes every run.

use std::fmt::Write as _;

use rust_decimal::{Decimal, RoundingStrategy};

const ADJECTIVES: [&str; 12] = [
    "Heavy Duty",
    "Ergonomic",
    "Premium",
    "Recycled",
    "Compact",
    "Wireless",
    "Stainless Steel",
    "Adjustable",
    "Multi-Purpose",
    "Professional",
    "Eco-Friendly",
    "High Capacity",
];

const NOUNS: [&str; 16] = [
    "Stapler",
    "Office Chair",
    "Copy Paper",
    "Ballpoint Pens",
    "Desk Lamp",
    "File Folders",
    "Whiteboard Markers",
    "Label Maker",
    "Monitor Stand",
    "Paper Shredder",
    "Sticky Notes",
    "Binder Clips",
    "Keyboard",
    "Laser Toner Cartridge",
    "Storage Boxes",
    "Packing Tape",
];

const DETAILS: [&str; 10] = [
    "Black",
    "Gray, Mesh Back",
    "Letter, 500 Sheets",
    "Blue Ink, 12 Pack",
    "LED, Dimmable",
    "Letter Size, Assorted",
    "Chisel Tip &amp; Low Odor",
    "",
    "Pack of 12",
    "High Yield",
];

/// (subCategory, category) of the line's `Extrinsic`s, as Amazon Business sends them.
const CATEGORIES: [(&str, &str); 6] = [
    ("GENERAL_OFFICE_SUPPLIES", "OFFICE_PRODUCTS"),
    ("OFFICE_FURNITURE", "FURNITURE"),
    ("PAPER", "OFFICE_PRODUCTS"),
    ("LIGHTING", "HOME_IMPROVEMENT"),
    ("COMPUTER_ACCESSORIES", "PC"),
    ("SHIPPING_SUPPLIES", "INDUSTRIAL"),
];

const SELLERS: [&str; 5] = ["Amazon.com", "Seattle Seating Co.", "Paper &amp; Ink Depot", "BrightDesk LLC", "Northwest Office Wholesale"];

const UNSPSC: [&str; 8] = ["44121615", "56112102", "14111507", "39111503", "44121708", "43211706", "44103103", "31201503"];

const UOM: [&str; 4] = ["EA", "EA", "BX", "PK"];

/// Tax rates of the two `TaxDetail`s (sales, other), in percent.
const RATES: [(&str, &str); 4] = [("6.5", "2.5"), ("6.0", "1.0"), ("7.25", "2.0"), ("4.0", "0.5")];

/// Rounded half away from zero to cents and written with two decimals (`6.50`).
fn cents(d: Decimal) -> Decimal {
    let mut d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(2);
    d
}

fn money(out: &mut String, indent: &str, wrapper: &str, amount: Decimal) {
    let _ = writeln!(out, "{indent}<{wrapper}><Money currency=\"USD\">{amount}</Money></{wrapper}>");
}

/// A valid cXML invoice with `lines` `InvoiceDetailItem`s (10,000 lines: 10.2 MB, 9.7 MiB).
///
/// Every line: quantity × UnitPrice = SubtotalAmount exactly; a Tax with two TaxDetails whose
/// TaxAmounts add up to the Tax; the summary Subtotal and Tax are the sums of the lines;
/// Net = Due = Subtotal + Tax + Shipping.
pub fn large_invoice(lines: usize) -> String {
    let mut out = String::with_capacity(2_000 + lines * 960);
    out.push_str(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.045/InvoiceDetail.dtd">
<cXML payloadID="1731583200999.10000.4242@amazon.com" timestamp="2025-11-14T10:00:00-08:00" xml:lang="en-US">
 <Header>
  <From>
   <Credential domain="NetworkID">
    <Identity>AN01011737571</Identity>
   </Credential>
  </From>
  <To>
   <Credential domain="NetworkID">
    <Identity>AN99887766554</Identity>
   </Credential>
  </To>
  <Sender>
   <Credential domain="NetworkID">
    <Identity>northwind-procure</Identity>
    <SharedSecret>s3cr3t-do-not-store</SharedSecret>
   </Credential>
   <UserAgent>Amazon eProcurement Application</UserAgent>
  </Sender>
 </Header>
 <Request deploymentMode="production">
  <InvoiceDetailRequest>
   <InvoiceDetailRequestHeader invoiceID="1LARGE10000INV" purpose="standard" operation="new" invoiceDate="2025-11-14">
    <InvoiceDetailHeaderIndicator/>
    <InvoiceDetailLineIndicator isAccountingInLine="yes" isTaxInLine="yes"/>
    <InvoicePartner>
     <Contact role="remitTo" addressID="RT-1">
      <Name xml:lang="en-US">Amazon Capital Services</Name>
      <PostalAddress name="Amazon Capital Services">
       <Street>PO Box 035184</Street>
       <City>Seattle</City>
       <State>WA</State>
       <PostalCode>98124</PostalCode>
       <Country isoCountryCode="US">US</Country>
      </PostalAddress>
     </Contact>
    </InvoicePartner>
    <InvoicePartner>
     <Contact role="billTo" addressID="A3NWBILL00017">
      <Name xml:lang="en-US">Northwind Traders</Name>
      <PostalAddress name="Northwind Traders">
       <Street>500 Harbor Way</Street>
       <City>Tacoma</City>
       <State>WA</State>
       <PostalCode>98402</PostalCode>
       <Country isoCountryCode="US">US</Country>
      </PostalAddress>
     </Contact>
    </InvoicePartner>
    <InvoiceDetailShipping>
     <Contact role="shipFrom" addressID="Default">
      <Name xml:lang="en-US">Amazon.com Services LLC</Name>
     </Contact>
     <Contact role="shipTo" addressID="NW-DOCK-3">
      <Name xml:lang="en-US">Northwind Receiving</Name>
      <PostalAddress name="Northwind Traders">
       <Street>500 Harbor Way</Street>
       <Street>Dock 3</Street>
       <City>Tacoma</City>
       <State>WA</State>
       <PostalCode>98402</PostalCode>
       <Country isoCountryCode="US">US</Country>
      </PostalAddress>
     </Contact>
    </InvoiceDetailShipping>
    <PaymentTerm payInNumberOfDays="net30"/>
    <Extrinsic name="carrierName">Amazon Logistics</Extrinsic>
    <Extrinsic name="carrierTrackingNumber">TBA402211987300</Extrinsic>
   </InvoiceDetailRequestHeader>
   <InvoiceDetailOrder>
    <InvoiceDetailOrderInfo>
     <OrderReference orderID="PO-2025-10000" orderDate="2025-11-10">
      <DocumentReference payloadID="PO-2025-10000@northwind"/>
     </OrderReference>
     <SupplierOrderInfo orderID="114-5521907-3318242"/>
    </InvoiceDetailOrderInfo>
"#,
    );

    let hundred = Decimal::ONE_HUNDRED;
    let mut subtotal_sum = Decimal::ZERO;
    let mut tax_sum = Decimal::ZERO;
    for i in 0..lines {
        let n = i + 1;
        // Varied but deterministic: 1.00 to 499.99 per unit, 1 to 12 units.
        let price_cents = 100 + (i as i64 * 7919 + 13) % 49_900;
        let price = Decimal::new(price_cents, 2);
        let qty = Decimal::from(1 + (i * 31 + 7) % 12);
        let subtotal = price * qty;
        let (r1, r2) = RATES[i % RATES.len()];
        let rate1: Decimal = r1.parse().expect("rate");
        let rate2: Decimal = r2.parse().expect("rate");
        let tax1 = cents(subtotal * rate1 / hundred);
        let tax2 = cents(subtotal * rate2 / hundred);
        let tax = tax1 + tax2;
        subtotal_sum += subtotal;
        tax_sum += tax;

        let adjective = ADJECTIVES[i % ADJECTIVES.len()];
        let noun = NOUNS[(i / 3) % NOUNS.len()];
        let detail = DETAILS[(i * 7) % DETAILS.len()];
        let (sub_category, category) = CATEGORIES[(i / 2) % CATEGORIES.len()];
        let seller = SELLERS[(i * 3) % SELLERS.len()];
        let unspsc = UNSPSC[(i / 5) % UNSPSC.len()];
        let uom = UOM[i % UOM.len()];
        // An ASIN-like part id, unique per line.
        let asin = format!("B0{:08X}", (i as u64).wrapping_mul(2_654_435_761) & 0xFFFF_FFFF);

        // Item lines are written without indentation, a few elements per source line: with
        // Amazon Business' line structure that keeps 10,000 lines within 7.5-10.5 MB.
        let _ = writeln!(out, "<InvoiceDetailItem invoiceLineNumber=\"{n}\" quantity=\"{qty}\">");
        let _ = writeln!(out, "<UnitOfMeasure>{uom}</UnitOfMeasure><UnitPrice><Money currency=\"USD\">{price}</Money></UnitPrice>");
        let _ = writeln!(out, "<InvoiceDetailItemReference lineNumber=\"li_{n}\"><ItemID><SupplierPartID>{asin}</SupplierPartID></ItemID>");
        if detail.is_empty() {
            let _ = writeln!(out, "<Description xml:lang=\"en-US\">{adjective} {noun}</Description>");
        } else {
            let _ = writeln!(out, "<Description xml:lang=\"en-US\">{adjective} {noun}, {detail}</Description>");
        }
        let _ = writeln!(out, "<Classification domain=\"UNSPSC\">{unspsc}</Classification></InvoiceDetailItemReference>");
        let _ = writeln!(out, "<SubtotalAmount><Money currency=\"USD\">{subtotal}</Money></SubtotalAmount>");
        let _ = writeln!(out, "<Tax><Money currency=\"USD\">{tax}</Money>");
        for (category, rate, amount) in [("sales", r1, tax1), ("other", r2, tax2)] {
            let _ = writeln!(
                out,
                "<TaxDetail purpose=\"tax\" category=\"{category}\" percentageRate=\"{rate}\"><TaxAmount><Money currency=\"USD\">{amount}</Money></TaxAmount></TaxDetail>"
            );
        }
        out.push_str("</Tax>\n");
        if i % 10 == 0 {
            let _ = writeln!(out, "<Comments>Line {n}</Comments>");
        } else {
            out.push_str("<Comments/>\n");
        }
        let _ = writeln!(out, "<Extrinsic name=\"soldBy\">{seller}</Extrinsic>");
        let _ = writeln!(out, "<Extrinsic name=\"subCategory\">{sub_category}</Extrinsic>");
        let _ = writeln!(out, "<Extrinsic name=\"category\">{category}</Extrinsic>");
        out.push_str("</InvoiceDetailItem>\n");
    }

    let shipping = Decimal::new(899 + (lines as i64 % 1000), 2);
    let net = subtotal_sum + tax_sum + shipping;
    out.push_str("   </InvoiceDetailOrder>\n   <InvoiceDetailSummary>\n");
    money(&mut out, "    ", "SubtotalAmount", subtotal_sum);
    let _ = writeln!(
        out,
        "    <Tax>\n     <Money currency=\"USD\">{tax_sum}</Money>\n     <Description xml:lang=\"en-US\">Cost of tax, including shipping tax</Description>\n    </Tax>"
    );
    out.push_str(
        "    <SpecialHandlingAmount>\n     <Money currency=\"USD\">0.00</Money>\n     <Description xml:lang=\"en-US\">Other Charges</Description>\n    </SpecialHandlingAmount>\n",
    );
    money(&mut out, "    ", "ShippingAmount", shipping);
    money(&mut out, "    ", "NetAmount", net);
    money(&mut out, "    ", "DueAmount", net);
    out.push_str("   </InvoiceDetailSummary>\n  </InvoiceDetailRequest>\n </Request>\n</cXML>\n");
    out
}

/// The bundled valid sample documents (every sample but the deliberately invalid s05).
pub fn small_corpus() -> Vec<Vec<u8>> {
    [
        &include_bytes!("../../../tests/fixtures/cxml/samples/s00-spec-amazon-business-appendix2.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s01-amazon-business-two-sellers.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s02-integer-amounts-empty-net.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s03-tabbed-address-misspelt-terms.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s04-service-lines-padded-numbers.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s06-header-level-credit-memo.xml")[..],
        &include_bytes!("../../../tests/fixtures/cxml/samples/s07-eur-vat-accounting-distribution.xml")[..],
    ]
    .into_iter()
    .map(<[u8]>::to_vec)
    .collect()
}
