//! The summary of a checked document as `invoicectl check --json` prints it and as the
//! quarantine reason stores it. Amounts are decimal strings, exactly as stated or computed.

use serde::Serialize;

use crate::invoice::issue::Issue;
use crate::invoice::validate::Checked;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub invoice_id: Option<String>,
    pub purpose: String,
    pub operation: String,
    pub currency: Option<String>,
    pub subtotal: Option<String>,
    pub tax: Option<String>,
    pub shipping: Option<String>,
    pub special_handling: Option<String>,
    pub discount: Option<String>,
    pub net: Option<String>,
    pub due: Option<String>,
    pub lines: usize,
    pub order_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub file: String,
    pub ok: bool,
    pub errors: Vec<Issue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceSummary>,
}

impl InvoiceSummary {
    pub fn of(checked: &Checked) -> Option<InvoiceSummary> {
        let inv = checked.invoice.as_ref()?;
        let t = checked.totals.as_ref();
        let s = |f: fn(&crate::invoice::validate::Totals) -> rust_decimal::Decimal| t.map(|t| f(t).to_string());
        Some(InvoiceSummary {
            invoice_id: inv.header.invoice_id.as_ref().map(|t| t.to_string()),
            purpose: inv.header.purpose_raw.as_deref().unwrap_or(inv.header.purpose.as_str()).to_string(),
            operation: inv.header.operation_raw.as_deref().unwrap_or(inv.header.operation.as_str()).to_string(),
            currency: t.map(|t| t.currency.code().to_string()).or_else(|| inv.summary.subtotal.map(|m| m.currency.code().to_string())),
            subtotal: s(|t| t.subtotal.amount),
            tax: s(|t| t.tax.amount),
            shipping: s(|t| t.shipping.amount),
            special_handling: s(|t| t.special_handling.amount),
            discount: s(|t| t.discount.amount),
            net: s(|t| t.net.amount),
            due: s(|t| t.due.amount),
            lines: inv.item_count(),
            order_ids: inv.order_ids(),
        })
    }
}

impl CheckReport {
    pub fn new(file: impl Into<String>, checked: &Checked) -> CheckReport {
        CheckReport { file: file.into(), ok: checked.is_valid(), errors: checked.issues.clone(), invoice: InvoiceSummary::of(checked) }
    }
}
