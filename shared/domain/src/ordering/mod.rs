//! Purchase orders out: a company's PO placed with Amazon Business through the Ordering API
//! (`placeOrder`) carrying every e-invoicing field, what Amazon accepted, and — in
//! [`crate::matching`] — every ingested invoice matched against it.
//!
//! - [`po`]: the PO as the procurement system sends it ([`po::PoInput`], lenient: ids and
//!   amounts as numbers or strings) and as it is after validation ([`po::PurchaseOrder`]).
//! - [`validate`]: every reason a PO cannot be sent ([`codes::Problem`], [`codes::OrderCode`]).
//! - [`body`]: the exact `placeOrder` body of a validated PO.
//! - [`placed`]: what a `placeOrder` (or order-details) answer says was accepted and rejected.
//! - [`records`], [`ports`]: the stored PO and its states; the Ordering API and PO store ports.
//!
//! [`build`] is the whole way from the PO as received to the body to send.

mod answer;
pub mod body;
pub mod codes;
pub mod place;
pub mod placed;
pub mod po;
pub mod ports;
pub mod records;
pub mod validate;

pub use body::{place_order_body, PlaceOrderRequest};
pub use codes::{OrderCode, Problem};
pub use validate::validate;

/// Validates the PO and builds its `placeOrder` body; every problem when it cannot be sent.
pub fn build(input: &po::PoInput) -> Result<(po::PurchaseOrder, PlaceOrderRequest), Vec<Problem>> {
    let po = validate(input)?;
    let body = place_order_body(&po);
    Ok((po, body))
}

/// A PO line number as the matching compares it: `0020`, `20` and ` 20 ` are the same line.
/// `None` when it is not all ASCII digits (such a line is refused before it is ever sent).
pub fn line_key(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let stripped = t.trim_start_matches('0');
    Some(if stripped.is_empty() { "0".to_string() } else { stripped.to_string() })
}

#[cfg(test)]
mod tests {
    use super::line_key;

    #[test]
    fn line_numbers_compare_by_value() {
        assert_eq!(line_key("0020"), Some("20".into()));
        assert_eq!(line_key(" 20 "), Some("20".into()));
        assert_eq!(line_key("000"), Some("0".into()));
        assert_eq!(line_key("2a"), None);
        assert_eq!(line_key(""), None);
        assert_eq!(line_key("1 0"), None);
    }
}
