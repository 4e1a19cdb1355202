//! The rules of the vendor records' states, in one place: the stored names of the Invoice
//! states, when an order's own shipping address is usable, and what a resolved transaction
//! does to its Marketplace Feed and Invoice. Adapters only persist what these say.

use super::ports::Resolution;
use super::records::{InvoiceState, OrderError, SentByIntegration, Shipping};

impl InvoiceState {
    /// The stored name (`Submitting`, `Unknown`, `Pending`, `Sent`, `Error`).
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceState::Submitting => "Submitting",
            InvoiceState::Unknown => "Unknown",
            InvoiceState::Pending => "Pending",
            InvoiceState::Sent => "Sent",
            InvoiceState::Error => "Error",
        }
    }
}

impl SentByIntegration {
    pub fn as_str(&self) -> &'static str {
        match self {
            SentByIntegration::Sent => "Sent",
            SentByIntegration::Uploaded => "Uploaded",
            SentByIntegration::Error => "Error",
        }
    }
}

impl Shipping {
    /// The order's own ship-to address can be used (it has a street or a name); otherwise the
    /// address comes from the Amazon Delivery Location named by the order's Shipping Address ID.
    pub fn is_usable(&self) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|x| !x.trim().is_empty());
        set(&self.street1) || set(&self.buyer_name)
    }
}

/// The Marketplace Feed of an Order Invoice.
pub const FEED_TYPE: &str = "Order Invoice";

/// Marketplace Feed statuses.
pub mod feed_status {
    pub const PROCESSING: &str = "Processing";
    pub const SUCCESS: &str = "Success";
    pub const FAILURE: &str = "Failure";
}

/// What a resolved transaction changes: the feed leaves Processing, the invoice gets its
/// final state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition<'a> {
    pub feed_status: &'static str,
    pub invoice_status: InvoiceState,
    pub sent_by_integration: SentByIntegration,
    pub integration_error: Option<&'a str>,
    pub order_errors: &'a [OrderError],
}

impl Resolution {
    /// Success → feed Success, invoice Sent / Uploaded; Failure → feed Failure, invoice Error /
    /// Error with the Integration Error and its Order Errors.
    pub fn transition(&self) -> Transition<'_> {
        match self {
            Resolution::Success => Transition {
                feed_status: feed_status::SUCCESS,
                invoice_status: InvoiceState::Sent,
                sent_by_integration: SentByIntegration::Uploaded,
                integration_error: None,
                order_errors: &[],
            },
            Resolution::Failure { integration_error, order_errors } => Transition {
                feed_status: feed_status::FAILURE,
                invoice_status: InvoiceState::Error,
                sent_by_integration: SentByIntegration::Error,
                integration_error: Some(integration_error),
                order_errors,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_serde_names() {
        for st in [InvoiceState::Submitting, InvoiceState::Unknown, InvoiceState::Pending, InvoiceState::Sent, InvoiceState::Error] {
            assert_eq!(serde_json::to_value(st).unwrap(), serde_json::json!(st.as_str()));
        }
        for s in [SentByIntegration::Sent, SentByIntegration::Uploaded, SentByIntegration::Error] {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
    }

    #[test]
    fn usable_shipping_needs_a_street_or_a_name() {
        assert!(!Shipping::default().is_usable());
        assert!(!Shipping { street1: Some("  ".into()), ..Default::default() }.is_usable());
        assert!(Shipping { street1: Some("1 Main St".into()), ..Default::default() }.is_usable());
        assert!(Shipping { buyer_name: Some("Amazon".into()), ..Default::default() }.is_usable());
    }

    #[test]
    fn resolutions_move_feed_and_invoice() {
        let ok = Resolution::Success.transition();
        assert_eq!(
            (ok.feed_status, ok.invoice_status, ok.sent_by_integration),
            ("Success", InvoiceState::Sent, SentByIntegration::Uploaded)
        );
        let f = Resolution::Failure { integration_error: "X: y".into(), order_errors: vec![] };
        let t = f.transition();
        assert_eq!((t.feed_status, t.invoice_status, t.integration_error), ("Failure", InvoiceState::Error, Some("X: y")));
    }
}
