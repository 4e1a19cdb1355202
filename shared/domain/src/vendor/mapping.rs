//! Vendor invoice submission (the vendor invoice submission spec shipped beside the project):
//! which orders are eligible, and the exact SP-API `submitInvoices` body for one order. Pure:
//! the clock is an argument, lookups (sellers, locations, delivery locations) are passed in.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::body::*;
use super::codes::{EligibilityCode, MappingCode};
use super::records::*;
use crate::core::money::Currency;

/// Why an order is not submitted (skipped, not an error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: EligibilityCode,
    pub message: String,
}

/// A mapping error: the order is eligible but its data cannot make a valid invoice; it becomes
/// an Order Error and nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapError {
    pub code: MappingCode,
    pub message: String,
}

fn err(code: MappingCode, message: impl Into<String>) -> MapError {
    MapError { code, message: message.into() }
}

/// The trigger of the spec: Shipped, account opted in, Vendor account, no invoice yet.
pub fn eligibility(order: &Order, account: &AmazonAccount, existing_invoice: bool) -> Vec<Reason> {
    let mut r = Vec::new();
    if !order.status.trim().eq_ignore_ascii_case("shipped") {
        r.push(Reason {
            code: EligibilityCode::OrderNotShipped,
            message: format!("order {} has status '{}'; invoices are submitted for Shipped orders", order.id, order.status),
        });
    }
    if !account.upload_vendor_invoices {
        r.push(Reason {
            code: EligibilityCode::UploadDisabled,
            message: "the Amazon account's \"Upload Vendor Invoices?\" is not yes".into(),
        });
    }
    if !account.account_type.trim().eq_ignore_ascii_case("vendor") {
        r.push(Reason {
            code: EligibilityCode::NotAVendorAccount,
            message: format!("the Amazon account type is '{}', not Vendor", account.account_type),
        });
    }
    if existing_invoice {
        r.push(Reason { code: EligibilityCode::InvoiceExists, message: format!("an invoice already exists for order {}", order.id) });
    }
    r
}

/// The result of mapping one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub request: SubmitInvoicesRequest,
    /// The shipping address resolved from Amazon Delivery Locations, to store back on the order.
    pub resolved_shipping: Option<Shipping>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn country_code(raw: &Option<String>, whose: &str, errors: &mut Vec<MapError>) -> String {
    match nonempty(raw) {
        Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
        Some(c) => {
            errors.push(err(
                MappingCode::InvalidCountryCode,
                format!("{whose} country code is '{c}'; SP-API needs the 2-letter ISO 3166 code (e.g. US, not USA)"),
            ));
            String::new()
        }
        None => {
            errors.push(err(MappingCode::MissingCountryCode, format!("{whose} has no country code (2-letter ISO 3166)")));
            String::new()
        }
    }
}

/// The SP-API date: ISO 8601 UTC with milliseconds (`2019-07-24T21:17:59.821Z`).
/// It is the project's one timestamp format ([`crate::core::time::iso`]).
pub fn sp_date(now: DateTime<Utc>) -> String {
    crate::core::time::iso(now)
}

fn remit_to(order: &Order, sellers: &[Seller], errors: &mut Vec<MapError>) -> Option<Party> {
    let Some(party) = nonempty(&order.purchase_order_selling_party) else {
        errors.push(err(
            MappingCode::MissingSellingParty,
            format!("order {} has no Purchase Order Selling Party (the vendor code Amazon ordered from)", order.id),
        ));
        return None;
    };
    let Some(seller) = sellers.iter().find(|s| nonempty(&s.vendor_id).as_deref() == Some(party.as_str())) else {
        errors.push(err(MappingCode::NoSellerForVendorId, format!("no Seller has Vendor ID '{party}' (the order's Purchase Order Selling Party); set it on the Seller so the remit-to address can be sent")));
        return None;
    };
    let whose = format!("Seller with Vendor ID '{party}'");
    let (line1, line2) = match (nonempty(&seller.street1), nonempty(&seller.street2)) {
        (Some(a), b) => (Some(a), b),
        (None, Some(b)) => (Some(b), None),
        (None, None) => (None, None),
    };
    if line1.is_none() {
        errors.push(err(MappingCode::SellerAddressMissing, format!("{whose} has neither Street1 nor Street2")));
    }
    let name = nonempty(&seller.name);
    if name.is_none() {
        errors.push(err(MappingCode::SellerNameMissing, format!("{whose} has no name")));
    }
    let cc = country_code(&seller.country_code, &whose, errors);
    Some(Party {
        party_id: party,
        address: Some(Address {
            name: name.unwrap_or_default(),
            address_line1: line1.unwrap_or_default(),
            address_line2: line2,
            city: nonempty(&seller.city),
            // The spec maps Seller > Country (as written) to stateOrRegion.
            state_or_region: nonempty(&seller.country),
            postal_or_zip_code: nonempty(&seller.postal_code),
            country_code: cc,
            phone: nonempty(&seller.phone),
        }),
    })
}

fn ship_to(order: &Order, delivery: &[DeliveryLocation], errors: &mut Vec<MapError>) -> (Option<Party>, Option<Shipping>) {
    let Some(party_id) = nonempty(&order.shipping_address_id) else {
        errors
            .push(err(MappingCode::MissingShippingAddressId, format!("order {} has no Shipping Address ID (ship-to party id)", order.id)));
        return (None, None);
    };
    let has_shipping = order.shipping.as_ref().is_some_and(Shipping::is_usable);
    let (shipping, resolved) = if has_shipping {
        (order.shipping.clone().unwrap_or_default(), None)
    } else if let Some(dl) = delivery.iter().find(|d| d.location_id.trim() == party_id) {
        let s = Shipping {
            buyer_name: dl.name.clone(),
            street1: dl.street1.clone(),
            street2: dl.street2.clone(),
            city: dl.city.clone(),
            // Amazon Delivery Locations > County is the stateOrRegion.
            state_province: dl.county.clone(),
            postal_code: dl.postal_code.clone(),
            country_code: dl.country_code.clone(),
            phone: dl.phone.clone(),
        };
        (s.clone(), Some(s))
    } else {
        errors.push(err(
            MappingCode::ShipToAddressNotFound,
            format!("order {} has no shipping address and no Amazon Delivery Location has Location Id '{party_id}'", order.id),
        ));
        return (None, None);
    };
    let whose = format!("ship-to address of order {}", order.id);
    let name = nonempty(&shipping.buyer_name);
    let line1 = nonempty(&shipping.street1);
    if name.is_none() {
        errors.push(err(MappingCode::ShipToAddressIncomplete, format!("{whose} has no name")));
    }
    if line1.is_none() {
        errors.push(err(MappingCode::ShipToAddressIncomplete, format!("{whose} has no street (Street 1)")));
    }
    let cc = country_code(&shipping.country_code, &whose, errors);
    let party = Party {
        party_id,
        address: Some(Address {
            name: name.unwrap_or_default(),
            address_line1: line1.unwrap_or_default(),
            address_line2: nonempty(&shipping.street2),
            city: nonempty(&shipping.city),
            state_or_region: nonempty(&shipping.state_province),
            postal_or_zip_code: nonempty(&shipping.postal_code),
            country_code: cc,
            phone: nonempty(&shipping.phone),
        }),
    };
    (Some(party), resolved)
}

fn ship_from(account: &AmazonAccount, locations: &[Location], errors: &mut Vec<MapError>) -> Option<Party> {
    let id = nonempty(&account.default_location_id)?;
    let Some(loc) = locations.iter().find(|l| l.id.trim() == id) else {
        errors.push(err(MappingCode::DefaultLocationNotFound, format!("the account's default Location '{id}' does not exist")));
        return None;
    };
    let whose = format!("Location '{id}'");
    let Some(party_id) = nonempty(&loc.vendor_id) else {
        errors.push(err(MappingCode::LocationVendorIdMissing, format!("{whose} has no Vendor ID (the ship-from party id)")));
        return None;
    };
    let name = nonempty(&loc.name);
    let line1 = nonempty(&loc.street1);
    if name.is_none() {
        errors.push(err(MappingCode::LocationAddressIncomplete, format!("{whose} has no name")));
    }
    if line1.is_none() {
        errors.push(err(MappingCode::LocationAddressIncomplete, format!("{whose} has no Street1")));
    }
    let cc = country_code(&loc.country_code, &whose, errors);
    Some(Party {
        party_id,
        address: Some(Address {
            name: name.unwrap_or_default(),
            address_line1: line1.unwrap_or_default(),
            address_line2: nonempty(&loc.street2),
            city: nonempty(&loc.city),
            state_or_region: nonempty(&loc.state_province),
            postal_or_zip_code: nonempty(&loc.post_code),
            country_code: cc,
            phone: nonempty(&loc.phone),
        }),
    })
}

/// Maps an eligible order to the exact request body. Every problem is reported.
pub fn map_invoice(b: &Bundle) -> Result<Mapped, Vec<MapError>> {
    let order = &b.order;
    let mut errors = Vec::new();
    if order.id.trim().is_empty() {
        errors.push(err(MappingCode::MissingOrderId, "the order has no Id"));
    }
    let currency = match Currency::parse(&order.currency) {
        Ok(c) => Some(c),
        Err(_) => {
            errors.push(err(
                MappingCode::InvalidCurrency,
                format!("order {} currency '{}' is not an ISO 4217 code", order.id, order.currency),
            ));
            None
        }
    };
    let po = nonempty(&order.marketplace_order_id);
    if po.is_none() {
        errors.push(err(
            MappingCode::MissingMarketplaceOrderId,
            format!("order {} has no Marketplace Order Id (the Amazon PO number every invoice line must carry)", order.id),
        ));
    }
    let remit = remit_to(order, &b.sellers, &mut errors);
    let (ship_to_party, resolved_shipping) = ship_to(order, &b.delivery_locations, &mut errors);
    let ship_from_party = ship_from(&b.account, &b.locations, &mut errors);

    let code = currency.map(|c| c.code().to_string()).unwrap_or_default();
    let mut items = Vec::new();
    let mut total = Decimal::ZERO;
    for it in order.items.iter().filter(|i| i.accepted) {
        let seq = items.len() as i64 + 1;
        if it.quantity <= 0 {
            errors.push(err(
                MappingCode::InvalidQuantity,
                format!("product {} has quantity {}; an invoiced quantity must be a positive whole number", it.id, it.quantity),
            ));
        }
        if it.item_price <= Decimal::ZERO {
            errors.push(err(
                MappingCode::InvalidItemPrice,
                format!("product {} has item price {}; the net cost must be greater than 0", it.id, it.item_price),
            ));
        }
        let uom = match it.unit_of_measure.as_deref().map(str::trim) {
            None | Some("") | Some("Eaches") | Some("eaches") => "Eaches",
            Some("Cases") | Some("cases") => "Cases",
            Some(other) => {
                errors.push(err(
                    MappingCode::InvalidUnitOfMeasure,
                    format!("product {} unit of measure '{other}'; SP-API accepts Eaches or Cases", it.id),
                ));
                "Eaches"
            }
        };
        match it.item_price.checked_mul(Decimal::from(it.quantity)).and_then(|line| total.checked_add(line)) {
            Some(t) => total = t,
            None => errors.push(err(MappingCode::AmountOverflow, format!("product {} amount overflows", it.id))),
        }
        items.push(InvoiceItem {
            item_sequence_number: seq,
            amazon_product_identifier: nonempty(&it.channel_item_id),
            vendor_product_identifier: nonempty(&it.item_transaction_id),
            invoiced_quantity: ItemQuantity {
                amount: it.quantity,
                unit_of_measure: uom.to_string(),
                unit_size: if uom == "Cases" { it.unit_size } else { None },
            },
            net_cost: SpMoney { currency_code: code.clone(), amount: it.item_price.to_string() },
            purchase_order_number: po.clone(),
        });
    }
    if items.is_empty() {
        errors.push(err(MappingCode::NoAcceptedItems, format!("order {} has no accepted Product In Order lines to invoice", order.id)));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(remit_to_party) = remit else {
        return Err(vec![err(MappingCode::NoSellerForVendorId, "remit-to party unresolved")]);
    };
    Ok(Mapped {
        request: SubmitInvoicesRequest {
            invoices: vec![Invoice {
                invoice_type: "Invoice".into(),
                id: order.id.trim().to_string(),
                date: sp_date(b.now),
                remit_to_party,
                ship_to_party,
                ship_from_party,
                invoice_total: SpMoney { currency_code: code, amount: total.to_string() },
                items,
            }],
        },
        resolved_shipping,
    })
}

/// What `invoicectl vendor preview` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub eligible: bool,
    pub reasons: Vec<String>,
    pub errors: Vec<MapError>,
    pub payload: Option<SubmitInvoicesRequest>,
}

/// Eligibility, then mapping (only for an eligible order).
pub fn preview(b: &Bundle) -> Preview {
    let reasons: Vec<String> =
        eligibility(&b.order, &b.account, b.existing_invoice).into_iter().map(|r| format!("{}: {}", r.code, r.message)).collect();
    if !reasons.is_empty() {
        return Preview { eligible: false, reasons, errors: vec![], payload: None };
    }
    match map_invoice(b) {
        Ok(m) => Preview { eligible: true, reasons, errors: vec![], payload: Some(m.request) },
        Err(errors) => Preview { eligible: true, reasons, errors, payload: None },
    }
}
