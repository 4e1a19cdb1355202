//! Every rule of the vendor invoice mapping spec, on bundle fixtures (tests/fixtures/vendor).

use std::path::PathBuf;

use invoice_domain::vendor::mapping::*;
use invoice_domain::vendor::records::*;

fn bundle(name: &str) -> Bundle {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor").join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn codes(e: &[MapError]) -> Vec<&str> {
    e.iter().map(|e| e.code.as_str()).collect()
}

#[test]
fn complete_order_maps_exactly() {
    let m = map_invoice(&bundle("v01-shipped-order.json")).unwrap();
    assert_eq!(m.request.invoices.len(), 1, "one invoice per request");
    let inv = &m.request.invoices[0];
    assert_eq!(inv.invoice_type, "Invoice");
    assert_eq!(inv.id, "100045");
    assert_eq!(inv.date, "2025-11-20T09:30:15.250Z");
    // remitToParty from the Seller whose Vendor ID = Purchase Order Selling Party.
    let remit = &inv.remit_to_party;
    assert_eq!(remit.party_id, "NWTRD");
    let a = remit.address.as_ref().unwrap();
    assert_eq!(
        (a.name.as_str(), a.address_line1.as_str(), a.address_line2.as_deref()),
        ("Northwind Traders Inc.", "500 Harbor Way", Some("Suite 12"))
    );
    assert_eq!(a.state_or_region.as_deref(), Some("United States"), "Seller > Country as written");
    assert_eq!(a.country_code, "US");
    assert_eq!(a.postal_or_zip_code.as_deref(), Some("98402"));
    // shipToParty from the order's shipping fields.
    let st = inv.ship_to_party.as_ref().unwrap();
    assert_eq!(st.party_id, "AMZ-PHX6");
    assert_eq!(st.address.as_ref().unwrap().state_or_region.as_deref(), Some("AZ"));
    assert!(m.resolved_shipping.is_none());
    // shipFromParty from the default Location.
    let sf = inv.ship_from_party.as_ref().unwrap();
    assert_eq!(sf.party_id, "NWTRD-TAC");
    assert_eq!(sf.address.as_ref().unwrap().postal_or_zip_code.as_deref(), Some("98421"));
    // Accepted lines only, numbered 1..n.
    assert_eq!(inv.items.len(), 2);
    assert_eq!(inv.items[0].item_sequence_number, 1);
    assert_eq!(inv.items[1].item_sequence_number, 2);
    assert_eq!(inv.items[1].amazon_product_identifier.as_deref(), Some("B01GGKYS6E"));
    assert_eq!(inv.items[1].vendor_product_identifier.as_deref(), Some("795000-0002"));
    assert_eq!(inv.items[0].invoiced_quantity.amount, 12);
    assert_eq!(inv.items[0].invoiced_quantity.unit_of_measure, "Eaches");
    assert_eq!(inv.items[0].net_cost.amount, "21.35");
    assert_eq!(inv.items[0].net_cost.currency_code, "USD");
    assert_eq!(inv.items[0].purchase_order_number.as_deref(), Some("3DY3TK6T"));
    // 12 × 21.35 + 40 × 0.35 = 256.20 + 14.00 = 270.20, exact.
    assert_eq!(inv.invoice_total.amount, "270.20");
    assert_eq!(inv.invoice_total.currency_code, "USD");
}

#[test]
fn body_shape_has_no_payload_wrapper_and_no_na_fields() {
    let m = map_invoice(&bundle("v01-shipped-order.json")).unwrap();
    let v = serde_json::to_value(&m.request).unwrap();
    assert!(v.get("payload").is_none());
    let inv = &v["invoices"][0];
    for absent in ["referenceNumber", "billToParty", "paymentTerms", "taxDetails", "chargeDetails", "allowanceDetails", "additionalDetails"]
    {
        assert!(inv.get(absent).is_none(), "{absent} is N/A in the spec and must be left out");
    }
    assert!(inv["remitToParty"].get("taxRegistrationDetails").is_none());
    assert!(inv["items"][0].get("hsnCode").is_none());
    assert!(inv["invoiceTotal"]["amount"].is_string(), "Decimal amounts are strings");
    assert!(inv["items"][0]["invoicedQuantity"]["amount"].is_i64());
    assert!(inv["shipToParty"]["address"].get("addressLine2").is_none(), "empty optional fields left out");
}

#[test]
fn ship_to_from_amazon_delivery_locations_is_stored_back() {
    let m = map_invoice(&bundle("v02-address-from-delivery-locations.json")).unwrap();
    let st = m.request.invoices[0].ship_to_party.as_ref().unwrap();
    assert_eq!(st.party_id, "AMZ-SBD1");
    let a = st.address.as_ref().unwrap();
    assert_eq!(a.name, "Amazon SBD1");
    assert_eq!(a.state_or_region.as_deref(), Some("San Bernardino"), "County becomes stateOrRegion");
    assert_eq!(a.address_line2.as_deref(), Some("Dock 4"));
    let back = m.resolved_shipping.expect("address to store on the order");
    assert_eq!(back.street1.as_deref(), Some("1910 E Central Ave"));
    assert_eq!(back.state_province.as_deref(), Some("San Bernardino"));
    assert!(m.request.invoices[0].ship_from_party.is_none(), "no default location → no shipFromParty");
}

#[test]
fn no_seller_match_is_an_order_error_and_nothing_is_mapped() {
    let e = map_invoice(&bundle("v03-no-seller-for-vendor-id.json")).unwrap_err();
    assert_eq!(codes(&e), vec!["no-seller-for-vendor-id"]);
    assert!(e[0].message.contains("UNKNOWN1"));
}

#[test]
fn street2_is_used_when_street1_is_missing_else_error() {
    let mut b = bundle("v01-shipped-order.json");
    b.sellers[1].street1 = None;
    let inv = map_invoice(&b).unwrap().request.invoices.remove(0);
    let a = inv.remit_to_party.address.unwrap();
    assert_eq!(a.address_line1, "Suite 12");
    assert_eq!(a.address_line2, None);
    b.sellers[1].street2 = Some("  ".into());
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["seller-address-missing"]);
}

#[test]
fn country_codes_must_be_two_letters() {
    let mut b = bundle("v01-shipped-order.json");
    b.sellers[1].country_code = Some("USA".into());
    let e = map_invoice(&b).unwrap_err();
    assert_eq!(codes(&e), vec!["invalid-country-code"]);
    assert!(e[0].message.contains("USA"));
    b.sellers[1].country_code = Some("us".into());
    assert_eq!(map_invoice(&b).unwrap().request.invoices[0].remit_to_party.address.as_ref().unwrap().country_code, "US");
    b.order.shipping.as_mut().unwrap().country_code = None;
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["missing-country-code"]);
}

#[test]
fn ship_to_errors() {
    let mut b = bundle("v02-address-from-delivery-locations.json");
    b.order.shipping_address_id = Some("NOWHERE".into());
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["ship-to-address-not-found"]);
    b.order.shipping_address_id = None;
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["missing-shipping-address-id"]);
}

#[test]
fn ship_from_only_with_a_default_location_and_its_errors() {
    let mut b = bundle("v01-shipped-order.json");
    b.account.default_location_id = Some("LOC-GONE".into());
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["default-location-not-found"]);
    b.account.default_location_id = Some("LOC-TACOMA".into());
    b.locations[0].vendor_id = None;
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["location-vendor-id-missing"]);
    b.account.default_location_id = None;
    assert!(map_invoice(&b).unwrap().request.invoices[0].ship_from_party.is_none());
}

#[test]
fn item_rules() {
    let mut b = bundle("v01-shipped-order.json");
    for i in &mut b.order.items {
        i.accepted = false;
    }
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["no-accepted-items"]);
    let mut b = bundle("v01-shipped-order.json");
    b.order.items[0].quantity = 0;
    b.order.items[2].item_price = "-1".parse().unwrap();
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["invalid-quantity", "invalid-item-price"]);
    let mut b = bundle("v01-shipped-order.json");
    b.order.items[0].unit_of_measure = Some("Cases".into());
    b.order.items[0].unit_size = Some(6);
    let inv = map_invoice(&b).unwrap().request.invoices.remove(0);
    assert_eq!(inv.items[0].invoiced_quantity.unit_of_measure, "Cases");
    assert_eq!(inv.items[0].invoiced_quantity.unit_size, Some(6));
    b.order.items[0].unit_of_measure = Some("Pallets".into());
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["invalid-unit-of-measure"]);
}

#[test]
fn order_level_errors_are_all_reported() {
    let mut b = bundle("v01-shipped-order.json");
    b.order.currency = "DOLLARS".into();
    b.order.marketplace_order_id = None;
    b.order.purchase_order_selling_party = None;
    assert_eq!(codes(&map_invoice(&b).unwrap_err()), vec!["invalid-currency", "missing-marketplace-order-id", "missing-selling-party"]);
}

#[test]
fn totals_are_exact_decimals_in_other_currencies() {
    let mut b = bundle("v01-shipped-order.json");
    b.order.currency = "JPY".into();
    b.order.items[0].item_price = "1980".parse().unwrap();
    b.order.items[2].item_price = "0.333".parse().unwrap();
    let inv = map_invoice(&b).unwrap().request.invoices.remove(0);
    assert_eq!(inv.invoice_total.amount, "23773.320", "12 × 1980 + 40 × 0.333, no rounding, no float");
    assert_eq!(inv.invoice_total.currency_code, "JPY");
}

#[test]
fn prices_written_as_json_numbers_keep_their_digits() {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vendor/v01-shipped-order.json"))
            .unwrap()
            .replace("\"item_price\": \"21.35\"", "\"item_price\": 21.35")
            .replace("\"item_price\": \"0.35\"", "\"item_price\": 0.1");
    let b: Bundle = serde_json::from_str(&text).unwrap();
    assert_eq!(b.order.items[0].item_price.to_string(), "21.35");
    assert_eq!(b.order.items[2].item_price.to_string(), "0.1");
}

#[test]
fn eligibility_rules() {
    let b = bundle("v04-not-eligible.json");
    let r: Vec<&str> = eligibility(&b.order, &b.account, false).iter().map(|r| r.code.as_str()).collect();
    assert_eq!(r, vec!["order-not-shipped", "upload-disabled"]);
    let b = bundle("v01-shipped-order.json");
    assert!(eligibility(&b.order, &b.account, false).is_empty());
    let r: Vec<&str> = eligibility(&b.order, &b.account, true).iter().map(|r| r.code.as_str()).collect();
    assert_eq!(r, vec!["invoice-exists"]);
    let mut acct = b.account.clone();
    acct.account_type = "Seller".into();
    assert_eq!(eligibility(&b.order, &acct, false)[0].code.as_str(), "not-a-vendor-account");
}

#[test]
fn preview_combines_eligibility_and_mapping() {
    let p = preview(&bundle("v04-not-eligible.json"));
    assert!(!p.eligible && p.payload.is_none() && p.reasons.len() == 2);
    let p = preview(&bundle("v03-no-seller-for-vendor-id.json"));
    assert!(p.eligible && p.payload.is_none() && p.errors.len() == 1);
    let p = preview(&bundle("v01-shipped-order.json"));
    assert!(p.eligible && p.payload.is_some() && p.errors.is_empty());
}
