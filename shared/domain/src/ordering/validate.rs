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
                let message = if parts.len() == 1 {
                    format!("{label}: the distribution charge {} is not expected_subtotal {}", show(total), show(sub))
                } else {
                    format!(
                        "{label}: distribution charges {} = {} do not add up to expected_subtotal {}",
                        parts.join(" + "),
                        show(total),
                        show(sub)
                    )
                };
                self.push(OrderCode::DistributionMismatch, message);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};
    use strum::IntoEnumIterator;

    use super::*;

    pub(crate) const PO_4711: &str = include_str!("../../../../tests/fixtures/po/po-4711.json");
    const PO_REFUSED: &str = include_str!("../../../../tests/fixtures/po/po-refused.json");

    fn input(text: &str) -> PoInput {
        serde_json::from_str(text).unwrap()
    }

    /// The fixture with one change applied (amount digits survive as numbers through `Value`
    /// only approximately, which these tests do not look at).
    fn changed(change: impl FnOnce(&mut Value)) -> PoInput {
        let mut v: Value = serde_json::from_str(PO_4711).unwrap();
        change(&mut v);
        serde_json::from_str(&v.to_string()).unwrap()
    }

    fn codes(r: &Result<PurchaseOrder, Vec<Problem>>) -> Vec<OrderCode> {
        match r {
            Ok(_) => vec![],
            Err(p) => p.iter().map(|p| p.code).collect(),
        }
    }

    fn problems(input: &PoInput) -> Vec<Problem> {
        validate(input).expect_err("refused")
    }

    fn usd(a: &str) -> Money {
        Money::parse(a, "USD").unwrap()
    }

    #[test]
    fn the_sample_po_validates_into_the_typed_po() {
        let po = validate(&input(PO_4711)).unwrap();
        assert_eq!((po.po_number.as_str(), po.external_id.as_str(), po.currency.code()), ("PO-4711", "acme-PO-4711", "USD"));
        assert_eq!(
            (po.buying_group_id.as_str(), po.buyer_email.as_str(), po.region.as_str()),
            ("OrderingAPI1234567891", "buyer@acme.example", "US")
        );
        assert_eq!(po.requested_delivery_date, NaiveDate::from_ymd_opt(2026, 12, 10));
        assert_eq!(po.expected, Expected { subtotal: Some(usd("209.99")), tax: Some(usd("16.80")), shipping: Some(usd("0")) });
        assert_eq!(po.ship_to.address_id, "SHIP-DOCK-4");
        assert_eq!(po.ship_to.phone.as_deref(), Some("+1 206 555 0100"));
        assert_eq!(po.bill_to.postal_code.as_deref(), Some("98101"), "a postal code written as a number");
        let numbers: Vec<(&str, &str)> = po.lines.iter().map(|l| (l.line_number.as_str(), l.key.as_str())).collect();
        assert_eq!(numbers, [("10", "10"), ("0020", "20")], "kept as written, keyed by value");
        let l = &po.lines[0];
        assert_eq!(
            (l.asin.as_str(), l.quantity, l.expected_unit_price, l.expected_subtotal),
            ("B000000001", 2, usd("60.00"), usd("120.00"))
        );
        assert_eq!(l.expected_subtotal.amount.to_string(), "120.00", "the digits as written");
        assert_eq!((l.category.as_deref(), l.sub_category.as_deref()), (Some("OFFICE_PRODUCTS"), Some("GENERAL_OFFICE_SUPPLIES")));
        assert_eq!(l.distributions.len(), 2);
        assert_eq!(l.distributions[1].charge, usd("40.00"));
        assert_eq!(
            l.distributions[1].segments[1],
            Segment { id: "CC-300".into(), kind: "CostCenter".into(), description: Some("Sales".into()) }
        );
        assert_eq!(po.lines[1].distributions[0].segments[0].description, None);
        assert_eq!(po.line("20").map(|l| l.asin.as_str()), Some("B0000000T2"));
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let p = problems(&input(PO_REFUSED));
        let got: Vec<(OrderCode, &str)> = p.iter().map(|p| (p.code, p.message.as_str())).collect();
        assert_eq!(
            got,
            [
                (OrderCode::InvalidEmail, r#"buyer_email "buyer@ acme.example" is not an e-mail address"#),
                (OrderCode::DuplicateLineNumber, "line 20 is the same line as line 0020 (both are line 20)"),
                (OrderCode::NonNumericLineId, r#"line 10a: line_number "10a" is not all digits; e-invoicing needs a numeric line number"#),
                (OrderCode::QuantityBelowOne, "line 0020: quantity 0 is below 1"),
                (OrderCode::CurrencyMismatch, "line 20: currency EUR differs from the order's currency USD"),
                (OrderCode::DistributionMismatch, "line 20: the distribution charge 6.00 USD is not expected_subtotal 10.00 USD"),
            ]
        );
    }

    /// One change per code: each refuses the PO with (at least) that code, and together they
    /// produce every code there is.
    #[test]
    fn every_code_has_a_rule_that_produces_it() {
        type Change = Box<dyn Fn(&mut Value)>;
        let line = |i: usize, field: &'static str, value: Value| -> Change { Box::new(move |v| v["lines"][i][field] = value.clone()) };
        let top = |field: &'static str, value: Value| -> Change { Box::new(move |v| v[field] = value.clone()) };
        let cases: Vec<(OrderCode, Change)> = vec![
            (OrderCode::MissingExternalId, top("external_id", Value::Null)),
            (OrderCode::MissingCurrency, top("currency", json!(" "))),
            (OrderCode::InvalidCurrency, top("currency", json!("US$"))),
            (OrderCode::InvalidCurrency, line(1, "currency", json!("usd"))),
            (OrderCode::CurrencyMismatch, line(1, "currency", json!("EUR"))),
            (OrderCode::MissingBuyingGroup, top("buying_group_id", Value::Null)),
            (OrderCode::MissingBuyerEmail, top("buyer_email", json!(""))),
            (OrderCode::InvalidEmail, top("buyer_email", json!("test@ amazon.com"))),
            (OrderCode::MissingRegion, top("region", Value::Null)),
            (OrderCode::UnknownRegion, top("region", json!("GB"))),
            (OrderCode::MissingAddress, top("bill_to", Value::Null)),
            (OrderCode::MissingAddressId, Box::new(|v| v["ship_to"]["address_id"] = Value::Null)),
            (OrderCode::IncompleteAddress, Box::new(|v| v["ship_to"]["postal_code"] = json!(""))),
            (OrderCode::IncompleteAddress, Box::new(|v| v["bill_to"]["state_or_region"] = Value::Null)),
            (OrderCode::InvalidCountryCode, Box::new(|v| v["ship_to"]["country_code"] = json!("USA"))),
            (OrderCode::InvalidDate, top("requested_delivery_date", json!("10/12/2026"))),
            (OrderCode::NoLines, top("lines", json!([]))),
            (OrderCode::TooManyLines, Box::new(|v| v["lines"] = json!(vec![v["lines"][0].clone(); 51]))),
            (OrderCode::NonNumericLineId, line(0, "line_number", json!("10a"))),
            (OrderCode::NonNumericLineId, line(0, "line_number", json!("1 0"))),
            (OrderCode::NonNumericLineId, line(0, "line_number", json!(""))),
            (OrderCode::NonNumericLineId, line(0, "line_number", Value::Null)),
            (OrderCode::DuplicateLineNumber, line(1, "line_number", json!("010"))),
            (OrderCode::MissingAsin, line(0, "asin", Value::Null)),
            (OrderCode::InvalidAsin, line(0, "asin", json!("b000000001"))),
            (OrderCode::InvalidQuantity, line(0, "quantity", json!("two"))),
            (OrderCode::InvalidQuantity, line(0, "quantity", json!(2.5))),
            (OrderCode::InvalidQuantity, line(0, "quantity", Value::Null)),
            (OrderCode::QuantityBelowOne, line(0, "quantity", json!(0))),
            (OrderCode::MissingAmount, line(0, "expected_unit_price", Value::Null)),
            (OrderCode::MissingAmount, Box::new(|v| v["lines"][0]["distributions"][0]["charge"] = Value::Null)),
            (OrderCode::InvalidAmount, line(0, "expected_unit_price", json!("60,00"))),
            (OrderCode::InvalidAmount, Box::new(|v| v["expected"]["tax"] = json!("1.2.3"))),
            (OrderCode::NegativeAmount, Box::new(|v| v["expected"]["shipping"] = json!(-1))),
            (OrderCode::LineSubtotalMismatch, line(0, "quantity", json!(3))),
            (OrderCode::OrderSubtotalMismatch, Box::new(|v| v["expected"]["subtotal"] = json!("200.00"))),
            (OrderCode::DistributionMismatch, Box::new(|v| v["lines"][0]["distributions"][1]["charge"] = json!("30.00"))),
            (OrderCode::MissingAccountingName, Box::new(|v| v["lines"][0]["distributions"][0]["accounting_name"] = json!(" "))),
            (OrderCode::MissingSegments, Box::new(|v| v["lines"][0]["distributions"][0]["segments"] = json!([]))),
            (
                OrderCode::TooManySegments,
                Box::new(|v| v["lines"][0]["distributions"][0]["segments"] = json!(vec![json!({"id": 1, "type": "GL"}); 16])),
            ),
            (OrderCode::InvalidSegment, Box::new(|v| v["lines"][0]["distributions"][0]["segments"][0]["type"] = json!(""))),
            (OrderCode::TooLong, Box::new(|v| v["ship_to"]["address_line2"] = json!("x".repeat(61)))),
            (OrderCode::TooLong, top("external_id", json!("x".repeat(256)))),
            (OrderCode::TooLong, line(0, "category", json!("c".repeat(101)))),
        ];
        let mut produced = BTreeSet::new();
        for (i, (code, change)) in cases.iter().enumerate() {
            let r = validate(&changed(change));
            assert!(codes(&r).contains(code), "case {i} ({code}): {:?}", r.err());
            produced.insert(*code);
        }
        // Reading JSON refuses an empty po_number already (`de_id`); a PoInput made in code can have one.
        let mut po = input(PO_4711);
        po.po_number = "  ".into();
        assert_eq!(codes(&validate(&po)), [OrderCode::MissingPoNumber]);
        produced.insert(OrderCode::MissingPoNumber);
        let all: BTreeSet<OrderCode> = OrderCode::iter().collect();
        assert_eq!(produced, all, "a rule for every code");
    }

    #[test]
    fn line_numbers_are_digits_exactly_as_written() {
        for bad in [" 10", "10 ", "1 0", "10a", "A10", "1.0", "-10", "١٠", "１０", "10\t"] {
            let mut po = input(PO_4711);
            po.lines[0].line_number = Some(bad.into());
            let p = problems(&po);
            assert_eq!(p.iter().map(|p| p.code).collect::<Vec<_>>(), [OrderCode::NonNumericLineId], "{bad:?}");
            assert!(p[0].message.contains(&format!("{bad:?}")), "{}", p[0].message);
        }
        let p = problems(&changed(|v| v["lines"][0]["line_number"] = Value::Null));
        assert_eq!(p[0].message, "the 1st line: line_number is missing; e-invoicing needs a numeric line number");
        for good in ["0", "0010", "12345"] {
            let mut po = input(PO_4711);
            po.lines[0].line_number = Some(good.into());
            assert_eq!(validate(&po).unwrap().lines[0].line_number, good);
        }
        let mut po = input(PO_4711);
        po.lines[0].line_number = Some("9".repeat(128));
        assert_eq!(codes(&validate(&po)), [OrderCode::TooLong]);
    }

    #[test]
    fn duplicates_compare_by_value() {
        let p = problems(&changed(|v| v["lines"][1]["line_number"] = json!(10)));
        assert_eq!(p, [Problem::new(OrderCode::DuplicateLineNumber, "line 10 is the same line as line 10 (both are line 10)")]);
        let p = problems(&changed(|v| v["lines"][0]["line_number"] = json!("20")));
        assert_eq!(p[0].message, "line 0020 is the same line as line 20 (both are line 20)");
        // A line with another problem still counts for duplicates.
        let p = problems(&changed(|v| {
            v["lines"][1]["line_number"] = json!("010");
            v["lines"][1]["asin"] = Value::Null;
        }));
        assert_eq!(p.iter().map(|p| p.code).collect::<Vec<_>>(), [OrderCode::DuplicateLineNumber, OrderCode::MissingAsin]);
    }

    #[test]
    fn fifty_lines_is_the_limit() {
        let many = |n: usize| {
            changed(|v| {
                let template = v["lines"][1].clone();
                let lines: Vec<Value> = (1..=n)
                    .map(|i| {
                        let mut line = template.clone();
                        line["line_number"] = json!(i);
                        line
                    })
                    .collect();
                v["lines"] = Value::Array(lines);
                v["expected"]["subtotal"] = Value::Null;
            })
        };
        assert_eq!(validate(&many(50)).unwrap().lines.len(), 50);
        let p = problems(&many(51));
        assert_eq!(p, [Problem::new(OrderCode::TooManyLines, "the PO has 51 lines; one placeOrder request carries at most 50")]);
        assert_eq!(codes(&validate(&many(0))), [OrderCode::NoLines]);
    }

    #[test]
    fn quantities_are_whole_numbers_of_at_least_one() {
        for (q, code) in [
            (json!(0), Some(OrderCode::QuantityBelowOne)),
            (json!(-2), Some(OrderCode::QuantityBelowOne)),
            (json!("0.5"), Some(OrderCode::QuantityBelowOne)),
            (json!(2.5), Some(OrderCode::InvalidQuantity)),
            (json!("two"), Some(OrderCode::InvalidQuantity)),
            (json!("1e2"), Some(OrderCode::InvalidQuantity)),
            (json!(99_999_999_999u64), Some(OrderCode::InvalidQuantity)),
            (json!(2), None),
            (json!("2"), None),
            (json!("2.0"), None),
        ] {
            let r = validate(&changed(|v| v["lines"][0]["quantity"] = q.clone()));
            let got: Vec<OrderCode> = codes(&r).into_iter().filter(|c| *c != OrderCode::LineSubtotalMismatch).collect();
            assert_eq!(got, code.into_iter().collect::<Vec<_>>(), "{q}");
            if code.is_none() {
                assert_eq!(r.unwrap().lines[0].quantity, 2);
            }
        }
        let p = problems(&changed(|v| v["lines"][0]["quantity"] = json!(2.5)));
        assert_eq!(p[0].message, "line 10: quantity 2.5 is not a whole number");
    }

    #[test]
    fn currencies_are_the_orders() {
        let p = problems(&changed(|v| v["lines"][1]["currency"] = json!("EUR")));
        assert_eq!(p, [Problem::new(OrderCode::CurrencyMismatch, "line 0020: currency EUR differs from the order's currency USD")]);
        let p = problems(&changed(|v| v["currency"] = json!("XXX")));
        assert_eq!(p, [Problem::new(OrderCode::InvalidCurrency, r#"currency "XXX" is not an ISO 4217 code"#)]);
        // Without an order currency a line's currency is compared with nothing; amounts are still read.
        let p = problems(&changed(|v| {
            v["currency"] = Value::Null;
            v["lines"][0]["expected_unit_price"] = json!("6O.00");
        }));
        assert_eq!(p.iter().map(|p| p.code).collect::<Vec<_>>(), [OrderCode::MissingCurrency, OrderCode::InvalidAmount]);
    }

    #[test]
    fn emails_are_checked() {
        for good in ["buyer@acme.example", "first.last+po@sub.acme.co.uk", "a@b.de", "o'brien@acme.example"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "test@ amazon.com",
            "buyer",
            "@acme.example",
            "buyer@",
            "buyer@acme",
            "a@@b.de",
            "a@b@c.de",
            "a..b@c.de",
            ".a@c.de",
            "a@-c.de",
            "a@c..de",
            "a@c.de.",
            "a b@c.de",
            "<a@c.de>",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(!is_email(&format!("{}@acme.example", "a".repeat(65))));
    }

    #[test]
    fn distributions_add_up_to_the_line_subtotal() {
        let p = problems(&changed(|v| v["lines"][0]["distributions"][1]["charge"] = json!("30.00")));
        assert_eq!(
            p,
            [Problem::new(
                OrderCode::DistributionMismatch,
                "line 10: distribution charges 80.00 USD + 30.00 USD = 110.00 USD do not add up to expected_subtotal 120.00 USD"
            )]
        );
        // `120` and `120.00` are the same amount.
        assert!(validate(&changed(|v| v["lines"][0]["distributions"][0]["charge"] = json!(80))).is_ok());
        // No distribution at all is allowed (the attribute is optional).
        let po = validate(&changed(|v| v["lines"][0]["distributions"] = json!([]))).unwrap();
        assert!(po.lines[0].distributions.is_empty());
        // A missing charge is reported as such, without a sum that would not mean anything.
        let p = problems(&changed(|v| v["lines"][0]["distributions"][1]["charge"] = Value::Null));
        assert_eq!(p, [Problem::new(OrderCode::MissingAmount, "line 10, distribution 2: charge is missing")]);
        let p = problems(&changed(|v| v["lines"][0]["distributions"][0]["segments"][0]["description"] = json!("d".repeat(256))));
        assert_eq!(
            p[0].message,
            "line 10, distribution 1, segment 1: description is 256 characters long; the Ordering API accepts at most 255"
        );
    }

    #[test]
    fn amounts_are_exact_and_subtotals_consistent() {
        let p = problems(&changed(|v| v["lines"][0]["expected_unit_price"] = json!("60,00")));
        assert_eq!(p, [Problem::new(OrderCode::InvalidAmount, r#"line 10: expected_unit_price "60,00" is not a plain decimal amount"#)]);
        let p = problems(&changed(|v| v["lines"][0]["expected_subtotal"] = Value::Null));
        assert_eq!(p, [Problem::new(OrderCode::MissingAmount, "line 10: expected_subtotal is missing")]);
        let p = problems(&changed(|v| v["lines"][0]["quantity"] = json!(3)));
        assert_eq!(
            p,
            [Problem::new(
                OrderCode::LineSubtotalMismatch,
                "line 10: expected_subtotal 120.00 USD is not quantity 3 × expected_unit_price 60.00 USD = 180.00 USD"
            )]
        );
        let p = problems(&changed(|v| v["expected"]["subtotal"] = json!("200")));
        assert_eq!(
            p,
            [Problem::new(
                OrderCode::OrderSubtotalMismatch,
                "expected.subtotal 200.00 USD is not the sum of the lines' expected subtotals 209.99 USD"
            )]
        );
        // A unit price with more digits than the currency: the subtotal is its rounded product.
        let po = validate(&changed(|v| {
            v["lines"][1]["quantity"] = json!(3);
            v["lines"][1]["expected_unit_price"] = json!("0.333");
            v["lines"][1]["expected_subtotal"] = json!("1.00");
            v["lines"][1]["distributions"][0]["charge"] = json!("1.00");
            v["expected"]["subtotal"] = json!("121.00");
        }))
        .unwrap();
        assert_eq!(po.lines[1].expected_unit_price.amount.to_string(), "0.333");
        // The order's expectations are all optional.
        let po = validate(&changed(|v| v["expected"] = json!({}))).unwrap();
        assert_eq!(po.expected, Expected { subtotal: None, tax: None, shipping: None });
    }

    #[test]
    fn addresses_have_what_amazon_requires() {
        let p = problems(&changed(|v| {
            v["ship_to"]["full_name"] = Value::Null;
            v["ship_to"]["postal_code"] = json!("");
            v["ship_to"]["state_or_region"] = Value::Null;
        }));
        assert_eq!(
            p,
            [Problem::new(OrderCode::IncompleteAddress, "ship_to has no full_name, postal_code, state_or_region (required in the US)")]
        );
        // Outside the US no state is needed.
        let po = validate(&changed(|v| {
            v["bill_to"]["country_code"] = json!("DE");
            v["bill_to"]["state_or_region"] = Value::Null;
        }))
        .unwrap();
        assert_eq!(po.bill_to.state_or_region, None);
        let p = problems(&changed(|v| v["ship_to"]["country_code"] = json!("us")));
        assert_eq!(
            p,
            [Problem::new(OrderCode::InvalidCountryCode, r#"ship_to.country_code "us" is not an ISO 3166 alpha-2 code (US, DE)"#)]
        );
        let p = problems(&changed(|v| v["bill_to"]["address_id"] = json!("")));
        assert_eq!(p[0].code, OrderCode::MissingAddressId);
        let p = problems(&changed(|v| v["ship_to"] = Value::Null));
        assert_eq!(p, [Problem::new(OrderCode::MissingAddress, "ship_to is missing")]);
    }

    #[test]
    fn order_fields_and_dates() {
        for bad in ["2026-1-5", "2026-02-30", "10/12/2026", "2026-12-10T10:00:00Z", "+2026-12-10"] {
            let p = problems(&changed(|v| v["requested_delivery_date"] = json!(bad)));
            assert_eq!(p, [Problem::new(OrderCode::InvalidDate, format!("requested_delivery_date {bad:?} is not a date YYYY-MM-DD"))]);
        }
        let po = validate(&changed(|v| v["requested_delivery_date"] = json!(""))).unwrap();
        assert_eq!(po.requested_delivery_date, None);
        let p = problems(&changed(|v| v["region"] = json!("GB")));
        assert_eq!(
            p,
            [Problem::new(OrderCode::UnknownRegion, r#"region "GB" is not an Amazon Business store (DE FR UK IT ES IN US CA MX JP AU)"#)]
        );
        let p = problems(&changed(|v| {
            v["external_id"] = Value::Null;
            v["buying_group_id"] = Value::Null;
            v["buyer_email"] = Value::Null;
        }));
        assert_eq!(
            p.iter().map(|p| p.code).collect::<Vec<_>>(),
            [OrderCode::MissingExternalId, OrderCode::MissingBuyingGroup, OrderCode::MissingBuyerEmail]
        );
        let po = validate(&changed(|v| v["buying_group_id"] = json!(1234567891))).unwrap();
        assert_eq!(po.buying_group_id, "1234567891");
    }
}
