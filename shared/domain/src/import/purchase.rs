//! What an imported invoice carries beyond what every stored invoice has: how it is filed
//! (category Purchases, status "To process"), what it reverses, its payment status and due
//! date, its warnings; and per line the Amazon ids, the GL code and cost centre, the charges.
//! Kept on the stored records ([`crate::invoice::records::InvoiceRecord::purchase`],
//! [`crate::invoice::records::LineRecord::amazon`]); absent on invoices of other channels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoStaticStr};

use super::answer::PaymentStatus;
use super::codes::ImportProblem;

/// The book an invoice is filed in. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum PurchaseCategory {
    /// "Achats": every Amazon Business invoice.
    #[default]
    Purchases,
}

/// Where an imported invoice is in its review. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ReviewStatus {
    /// "À traiter": booked, waiting for a person to look at it.
    #[default]
    ToProcess,
    /// Looked at.
    Processed,
}

/// An invoice or a credit memo. Spelled in kebab-case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, EnumIter, IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum PurchaseKind {
    #[default]
    Invoice,
    CreditMemo,
}

/// The filing of an imported invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    #[serde(default)]
    pub category: PurchaseCategory,
    #[serde(default)]
    pub review: ReviewStatus,
    #[serde(default)]
    pub kind: PurchaseKind,
    /// The invoice number a credit memo reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<String>,
    /// The consolidated invoice it is part of (`Pending` until Amazon issues it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consolidated_invoice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_id: Option<String>,
    /// The Reconciliation transactions it came with.
    #[serde(default)]
    pub transaction_ids: Vec<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_status: Option<PaymentStatus>,
    /// What a person should look at (the invoice is booked all the same).
    #[serde(default)]
    pub warnings: Vec<ImportProblem>,
}

/// The Amazon side of an imported line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_line_item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gl_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    /// The line's charges as the invoice states them (negative on a credit memo), minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift_wrap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulatory_fee: Option<String>,
    /// What was taken off (positive on an invoice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<String>,
    /// Principal + charges − discount + tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// Every checkout answer of the line (`businessOrderInfo`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub order_info: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn filing_words_are_kebab_case() {
        assert_eq!(serde_json::to_value(ReviewStatus::ToProcess).unwrap(), "to-process");
        assert_eq!(serde_json::to_value(PurchaseCategory::Purchases).unwrap(), "purchases");
        assert_eq!(serde_json::to_value(PurchaseKind::CreditMemo).unwrap(), "credit-memo");
        for s in ReviewStatus::iter() {
            let spelled: &str = s.into();
            assert_eq!(serde_json::to_value(s).unwrap(), spelled);
        }
        let p: Purchase = serde_json::from_str("{}").unwrap();
        assert_eq!((p.category, p.review, p.kind), (PurchaseCategory::Purchases, ReviewStatus::ToProcess, PurchaseKind::Invoice));
    }
}
