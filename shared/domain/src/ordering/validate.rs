//! A PO as received ([`PoInput`]) checked against everything a `placeOrder` body and the
//! e-invoice it leads to need, every problem at once ([`validate`]).
//!
//! The limits are the Ordering API model's (`Ordering_API.json`): at most [`MAX_LINES`] line
//! items, 1 to [`MAX_SEGMENTS`] segments per accounting distribution, the `maxLength` of each
//! text, the `Region` enum, `PhysicalAddress`'s required fields. The e-invoicing guide adds
//! that a line's `externalId` (the PO line number) must be digits only.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::codes::{OrderCode, Problem};
use super::line_key;
use super::po::{Address, AddressInput, Distribution, Expected, LineInput, PoInput, PoLine, PurchaseOrder, Segment};
use crate::core::money::{parse_amount, Currency, Money};

/// `PlaceOrderRequest.lineItems.maxItems`.
pub const MAX_LINES: usize = 50;
/// `Accounting.segments.maxItems` (`minItems` is 1).
pub const MAX_SEGMENTS: usize = 15;
/// The model's `Region.region` enum: the Amazon Business stores.
pub const REGIONS: [&str; 11] = ["DE", "FR", "UK", "IT", "ES", "IN", "US", "CA", "MX", "JP", "AU"];

/// `maxLength`s of the model.
const MAX_ORDER_EXTERNAL_ID: usize = 255;
const MAX_LINE_EXTERNAL_ID: usize = 127;
const MAX_PO_NUMBER: usize = 255;
const MAX_ADDRESS_ID: usize = 255;
const MAX_ADDRESS_LINE2: usize = 60;
const MAX_ACCOUNTING_TEXT: usize = 255;
const MAX_AUXILIARY_VALUE: usize = 100;
/// RFC 5321: a path is at most 256 octets including the angle brackets; a local part 64.
const MAX_EMAIL: usize = 254;
const MAX_EMAIL_LOCAL: usize = 64;

/// Checks the PO and returns it typed, or every problem found (never just the first).
///
/// Text fields are trimmed and an empty text counts as absent. Amounts are the exact decimals
/// of their text ([`parse_amount`]); every amount is in the order's currency. A line number is
/// kept exactly as written and must be ASCII digits only.
pub fn validate(input: &PoInput) -> Result<PurchaseOrder, Vec<Problem>> {
    let mut v = Check { problems: Vec::new() };

    let po_number = input.po_number.trim();
    if po_number.is_empty() {
        v.push(OrderCode::MissingPoNumber, "po_number is missing");
    } else {
        v.max_len("po_number", po_number, MAX_PO_NUMBER);
    }
    let external_id = match present(&input.external_id) {
        Some(id) => {
            v.max_len("external_id", id, MAX_ORDER_EXTERNAL_ID);
            Some(id)
        }
        None => v.none(OrderCode::MissingExternalId, "external_id is missing (the order's externalId, the same on every retry)"),
    };
    let currency = match present(&input.currency) {
        Some(code) => match Currency::parse(code) {
            Ok(c) => Some(c),
            Err(_) => v.none(OrderCode::InvalidCurrency, format!("currency {code:?} is not an ISO 4217 code")),
        },
        None => v.none(OrderCode::MissingCurrency, "currency is missing"),
    };
    let buying_group_id = present(&input.buying_group_id)
        .or_else(|| v.none(OrderCode::MissingBuyingGroup, "buying_group_id is missing (the Amazon Business group to order in)"));
    let buyer_email = match present(&input.buyer_email) {
        Some(e) if is_email(e) => Some(e),
        Some(e) => v.none(OrderCode::InvalidEmail, format!("buyer_email {e:?} is not an e-mail address")),
        None => v.none(OrderCode::MissingBuyerEmail, "buyer_email is missing (the Amazon Business user ordering)"),
    };
    let region = match present(&input.region) {
        Some(r) if REGIONS.contains(&r) => Some(r),
        Some(r) => v.none(OrderCode::UnknownRegion, format!("region {r:?} is not an Amazon Business store ({})", REGIONS.join(" "))),
        None => v.none(OrderCode::MissingRegion, format!("region is missing ({})", REGIONS.join(" "))),
    };
    let ship_to = v.address("ship_to", input.ship_to.as_ref());
    let bill_to = v.address("bill_to", input.bill_to.as_ref());
    let requested_delivery_date = match present(&input.requested_delivery_date) {
        Some(text) => match calendar_date(text) {
            Some(d) => Some(Some(d)),
            None => v.none(OrderCode::InvalidDate, format!("requested_delivery_date {text:?} is not a date YYYY-MM-DD")),
        },
        None => Some(None),
    };

    if input.lines.is_empty() {
        v.push(OrderCode::NoLines, "the PO has no lines");
    } else if input.lines.len() > MAX_LINES {
        v.push(
            OrderCode::TooManyLines,
            format!("the PO has {} lines; one placeOrder request carries at most {MAX_LINES}", input.lines.len()),
        );
    }
    // Duplicates by value (`0020` is line `20`), whatever else is wrong with the lines.
    let mut seen: HashMap<String, &str> = HashMap::new();
    for line in &input.lines {
        let Some(number) = line.line_number.as_deref() else { continue };
        let Some(key) = line_key(number).filter(|_| number.bytes().all(|b| b.is_ascii_digit())) else { continue };
        match seen.get(key.as_str()) {
            Some(first) => {
                v.push(OrderCode::DuplicateLineNumber, format!("line {number} is the same line as line {first} (both are line {key})"))
            }
            None => {
                seen.insert(key, number);
            }
        }
    }
    let lines: Vec<Option<CheckedLine>> = input.lines.iter().enumerate().map(|(i, line)| v.line(i, line, currency)).collect();

    let expected = v.order_expected(input, currency, &lines);

    match (external_id, currency, buying_group_id, buyer_email, region, ship_to, bill_to, requested_delivery_date, expected) {
        (
            Some(external_id),
            Some(currency),
            Some(buying_group_id),
            Some(buyer_email),
            Some(region),
            Some(ship_to),
            Some(bill_to),
            Some(requested_delivery_date),
            Some(expected),
        ) if v.problems.is_empty() => Ok(PurchaseOrder {
            po_number: po_number.to_string(),
            external_id: external_id.to_string(),
            currency,
            buying_group_id: buying_group_id.to_string(),
            buyer_email: buyer_email.to_string(),
            region: region.to_string(),
            ship_to,
            bill_to,
            expected,
            requested_delivery_date,
            lines: lines.into_iter().flatten().map(|l| l.into_line(currency)).collect(),
        }),
        _ => {
            debug_assert!(!v.problems.is_empty(), "every missing part of the PO is a problem");
            Err(v.problems)
        }
    }
}

/// A line whose every field passed, amounts not yet tied to the (possibly invalid) currency.
struct CheckedLine {
    line_number: String,
    key: String,
    asin: String,
    quantity: u32,
    unit_price: Decimal,
    subtotal: Decimal,
    category: Option<String>,
    sub_category: Option<String>,
    distributions: Vec<(String, Decimal, Vec<Segment>)>,
}

impl CheckedLine {
    fn into_line(self, currency: Currency) -> PoLine {
        PoLine {
            line_number: self.line_number,
            key: self.key,
            asin: self.asin,
            quantity: self.quantity,
            expected_unit_price: Money::new(self.unit_price, currency),
            expected_subtotal: Money::new(self.subtotal, currency),
            category: self.category,
            sub_category: self.sub_category,
            distributions: self
                .distributions
                .into_iter()
                .map(|(accounting_name, charge, segments)| Distribution { accounting_name, charge: Money::new(charge, currency), segments })
                .collect(),
        }
    }
}

struct Check {
    problems: Vec<Problem>,
}

impl Check {
    fn push(&mut self, code: OrderCode, message: impl Into<String>) {
        self.problems.push(Problem::new(code, message));
    }

    /// Records the problem; `None` for the caller's missing value.
    fn none<T>(&mut self, code: OrderCode, message: impl Into<String>) -> Option<T> {
        self.push(code, message);
        None
    }

    fn max_len(&mut self, what: &str, text: &str, max: usize) -> bool {
        let n = text.chars().count();
        if n > max {
            self.push(OrderCode::TooLong, format!("{what} is {n} characters long; the Ordering API accepts at most {max}"));
            false
        } else {
            true
        }
    }

    /// An amount's exact decimal: `None` (with the problem) when it is required and missing,
    /// not a plain decimal, or negative. `Some(None)` when optional and absent.
    fn amount(&mut self, what: &str, text: Option<&String>, required: bool) -> Option<Option<Decimal>> {
        let Some(text) = text else {
            return if required { self.none(OrderCode::MissingAmount, format!("{what} is missing")) } else { Some(None) };
        };
        match parse_amount(text) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.none(OrderCode::NegativeAmount, format!("{what} {} is negative", text.trim()))
            }
            Ok(d) => Some(Some(d)),
            Err(_) => self.none(OrderCode::InvalidAmount, format!("{what} {:?} is not a plain decimal amount", text.trim())),
        }
    }

    fn required_amount(&mut self, what: &str, text: Option<&String>) -> Option<Decimal> {
        self.amount(what, text, true).flatten()
    }

    fn address(&mut self, what: &str, input: Option<&AddressInput>) -> Option<Address> {
        let Some(a) = input else {
            return self.none(OrderCode::MissingAddress, format!("{what} is missing"));
        };
        let address_id = match present(&a.address_id) {
            Some(id) => {
                self.max_len(&format!("{what}.address_id"), id, MAX_ADDRESS_ID);
                Some(id.to_string())
            }
            None => self.none(OrderCode::MissingAddressId, format!("{what}.address_id is missing (your system's id of the address)")),
        };
        let country_code = present(&a.country_code);
        let mut missing: Vec<&str> = [
            ("full_name", &a.full_name),
            ("address_line1", &a.address_line1),
            ("city", &a.city),
            ("postal_code", &a.postal_code),
            ("country_code", &a.country_code),
        ]
        .into_iter()
        .filter(|(_, v)| present(v).is_none())
        .map(|(name, _)| name)
        .collect();
        if country_code == Some("US") && present(&a.state_or_region).is_none() {
            missing.push("state_or_region (required in the US)");
        }
        let mut ok = address_id.is_some();
        if !missing.is_empty() {
            self.push(OrderCode::IncompleteAddress, format!("{what} has no {}", missing.join(", ")));
            ok = false;
        }
        if let Some(cc) = country_code {
            if !(cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_uppercase())) {
                self.push(OrderCode::InvalidCountryCode, format!("{what}.country_code {cc:?} is not an ISO 3166 alpha-2 code (US, DE)"));
                ok = false;
            }
        }
        if let Some(line2) = present(&a.address_line2) {
            ok &= self.max_len(&format!("{what}.address_line2"), line2, MAX_ADDRESS_LINE2);
        }
        let text = |v: &Option<String>| present(v).map(str::to_string);
        ok.then(|| Address {
            address_id: address_id.unwrap_or_default(),
            full_name: text(&a.full_name),
            company_name: text(&a.company_name),
            address_line1: text(&a.address_line1),
            address_line2: text(&a.address_line2),
            city: text(&a.city),
            state_or_region: text(&a.state_or_region),
            postal_code: text(&a.postal_code),
            country_code: text(&a.country_code),
            phone: text(&a.phone),
        })
    }

    fn line(&mut self, index: usize, line: &LineInput, currency: Option<Currency>) -> Option<CheckedLine> {
        let before = self.problems.len();
        let label = match line.line_number.as_deref() {
            Some(n) => format!("line {n}"),
            None => format!("the {} line", ordinal(index + 1)),
        };
        // Exactly as written: digits only (no letters, no spaces, not empty).
        let number = match line.line_number.as_deref() {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                self.max_len(&format!("{label}: line_number"), n, MAX_LINE_EXTERNAL_ID);
                Some(n)
            }
            Some(n) => self.none(
                OrderCode::NonNumericLineId,
                format!("{label}: line_number {n:?} is not all digits; e-invoicing needs a numeric line number"),
            ),
            None => {
                self.none(OrderCode::NonNumericLineId, format!("{label}: line_number is missing; e-invoicing needs a numeric line number"))
            }
        };
        let asin = match present(&line.asin) {
            Some(a) if a.len() == 10 && a.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) => Some(a),
            Some(a) => self.none(OrderCode::InvalidAsin, format!("{label}: asin {a:?} is not 10 upper-case letters or digits")),
            None => self.none(OrderCode::MissingAsin, format!("{label}: asin is missing")),
        };
        let quantity = self.quantity(&label, line.quantity.as_deref());
        if let Some(code) = present(&line.currency) {
            match (Currency::parse(code), currency) {
                (Err(_), _) => self.push(OrderCode::InvalidCurrency, format!("{label}: currency {code:?} is not an ISO 4217 code")),
                (Ok(c), Some(order)) if c != order => {
                    self.push(OrderCode::CurrencyMismatch, format!("{label}: currency {c} differs from the order's currency {order}"))
                }
                _ => {}
            }
        }
        let unit_price = self.required_amount(&format!("{label}: expected_unit_price"), line.expected_unit_price.as_ref());
        let subtotal = self.required_amount(&format!("{label}: expected_subtotal"), line.expected_subtotal.as_ref());
        if let (Some(price), Some(qty), Some(sub), Some(cur)) = (unit_price, quantity, subtotal, currency) {
            let extended = Money::new(price * Decimal::from(qty), cur);
            let sub = Money::new(sub, cur);
            if !extended.rounds_to(&sub) {
                self.push(
                    OrderCode::LineSubtotalMismatch,
                    format!(
                        "{label}: expected_subtotal {sub} is not quantity {qty} × expected_unit_price {} = {extended}",
                        Money::new(price, cur)
                    ),
                );
            }
        }
        let category = self.auxiliary(&label, "category", &line.category);
        let sub_category = self.auxiliary(&label, "sub_category", &line.sub_category);

        let mut distributions = Vec::with_capacity(line.distributions.len());
        let mut charges_ok = true;
        for (j, d) in line.distributions.iter().enumerate() {
            let dl = format!("{label}, distribution {}", j + 1);
            let name = match present(&d.accounting_name) {
                Some(n) => {
                    self.max_len(&format!("{dl}: accounting_name"), n, MAX_ACCOUNTING_TEXT);
                    Some(n.to_string())
                }
                None => self.none(OrderCode::MissingAccountingName, format!("{dl}: accounting_name is missing")),
            };
            let charge = self.required_amount(&format!("{dl}: charge"), d.charge.as_ref());
            charges_ok &= charge.is_some();
            if d.segments.is_empty() {
                self.push(OrderCode::MissingSegments, format!("{dl}: no accounting segments (at least 1)"));
            } else if d.segments.len() > MAX_SEGMENTS {
                self.push(OrderCode::TooManySegments, format!("{dl}: {} accounting segments; at most {MAX_SEGMENTS}", d.segments.len()));
            }
            let mut segments = Vec::with_capacity(d.segments.len());
            for (k, s) in d.segments.iter().enumerate() {
                let sl = format!("{dl}, segment {}", k + 1);
                let id = s.id.trim();
                let kind = s.kind.trim();
                let description = present(&s.description);
                for (field, value) in [("id", Some(id)), ("type", Some(kind)), ("description", description)] {
                    match value {
                        Some("") => self.push(OrderCode::InvalidSegment, format!("{sl}: {field} is empty")),
                        Some(text) => {
                            self.max_len(&format!("{sl}: {field}"), text, MAX_ACCOUNTING_TEXT);
                        }
                        None => {}
                    }
                }
                segments.push(Segment { id: id.to_string(), kind: kind.to_string(), description: description.map(str::to_string) });
            }
            if let (Some(name), Some(charge)) = (name, charge) {
                distributions.push((name, charge, segments));
            }
        }
        if let (true, false, Some(sub)) = (charges_ok, distributions.is_empty(), subtotal) {
            let total: Decimal = distributions.iter().map(|(_, c, _)| *c).sum();
            if total != sub {
                let show = |d: Decimal| currency.map_or_else(|| d.to_string(), |c| Money::new(d, c).to_string());
                let parts: Vec<String> = distributions.iter().map(|(_, c, _)| show(*c)).collect();
                self.push(
                    OrderCode::DistributionMismatch,
                    format!(
                        "{label}: distribution charges {} = {} do not add up to expected_subtotal {}",
                        parts.join(" + "),
                        show(total),
                        show(sub)
                    ),
                );
            }
        }

        if self.problems.len() != before {
            return None;
        }
        let (Some(number), Some(asin), Some(quantity), Some(unit_price), Some(subtotal)) = (number, asin, quantity, unit_price, subtotal)
        else {
            return None;
        };
        Some(CheckedLine {
            line_number: number.to_string(),
            key: line_key(number)?,
            asin: asin.to_string(),
            quantity,
            unit_price,
            subtotal,
            category,
            sub_category,
            distributions,
        })
    }

    /// A whole number ≥ 1 (`2`, `"2"`, `2.0`), as a `u32`.
    fn quantity(&mut self, label: &str, text: Option<&str>) -> Option<u32> {
        let Some(text) = text else {
            return self.none(OrderCode::InvalidQuantity, format!("{label}: quantity is missing"));
        };
        let t = text.trim();
        match parse_amount(t) {
            Err(_) => self.none(OrderCode::InvalidQuantity, format!("{label}: quantity {t:?} is not a number")),
            Ok(q) if q < Decimal::ONE => self.none(OrderCode::QuantityBelowOne, format!("{label}: quantity {t} is below 1")),
            Ok(q) if !q.fract().is_zero() => self.none(OrderCode::InvalidQuantity, format!("{label}: quantity {t} is not a whole number")),
            Ok(q) => q.to_u32().or_else(|| self.none(OrderCode::InvalidQuantity, format!("{label}: quantity {t} is too large"))),
        }
    }

    fn auxiliary(&mut self, label: &str, what: &str, value: &Option<String>) -> Option<String> {
        let v = present(value)?;
        self.max_len(&format!("{label}: {what}"), v, MAX_AUXILIARY_VALUE);
        Some(v.to_string())
    }

    fn order_expected(&mut self, input: &PoInput, currency: Option<Currency>, lines: &[Option<CheckedLine>]) -> Option<Expected> {
        let e = &input.expected;
        let subtotal = self.amount("expected.subtotal", e.subtotal.as_ref(), false);
        let tax = self.amount("expected.tax", e.tax.as_ref(), false);
        let shipping = self.amount("expected.shipping", e.shipping.as_ref(), false);
        if let (Some(Some(sub)), Some(cur)) = (subtotal, currency) {
            let line_subtotals: Option<Vec<Decimal>> = lines.iter().map(|l| l.as_ref().map(|l| l.subtotal)).collect();
            if let Some(subs) = line_subtotals.filter(|s| !s.is_empty()) {
                let total: Decimal = subs.iter().sum();
                if total != sub {
                    self.push(
                        OrderCode::OrderSubtotalMismatch,
                        format!(
                            "expected.subtotal {} is not the sum of the lines' expected subtotals {}",
                            Money::new(sub, cur),
                            Money::new(total, cur)
                        ),
                    );
                }
            }
        }
        let cur = currency?;
        let money = |d: Option<Decimal>| d.map(|d| Money::new(d, cur));
        Some(Expected { subtotal: money(subtotal?), tax: money(tax?), shipping: money(shipping?) })
    }
}

/// The trimmed text, `None` when absent or blank.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD` exactly (chrono alone would take `2026-1-5`).
fn calendar_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// An address as people type it in a procurement system: one `@`, a local part and a domain
/// with a dot, no white space or control characters, no empty labels.
pub fn is_email(s: &str) -> bool {
    if s.len() > MAX_EMAIL || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else { return false };
    if local.is_empty() || local.len() > MAX_EMAIL_LOCAL || domain.contains('@') {
        return false;
    }
    if local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || local.contains(['"', '(', ')', ',', ':', ';', '<', '>', '[', '\\', ']'])
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
