//! GL coding from the PO: an invoice line takes the accounting distributions of the PO line
//! it bills, its amount split over them in proportion to their charges.
//!
//! The split is of the invoice line's amount (its subtotal, else unit price × quantity
//! rounded: the amount the journal books as expense). Every part but the last is rounded
//! half away from zero to the currency's minor units; the last takes the remainder, so the
//! parts always add up to the line exactly. Distributions whose charges add up to zero (or to
//! more than a decimal holds) split equally. The charges only weigh the parts: an invoice
//! that bills half the PO line is split in the same proportions.
//!
//! The GL account of a part is the id of its distribution's GL segment — the first segment
//! whose type is `GL`, `GLAccount`, `GLCode`, `Account`, `AccountNumber`, `GeneralLedger` or
//! `GeneralLedgerAccount` (case, spaces, `-` and `_` ignored) — else none, and the journal
//! books the part to the category's expense account with the segments beside it.

use serde::{Deserialize, Serialize};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::core::money::Money;
use crate::invoice::cxml::model::CxmlInvoice;
use crate::invoice::validate::line_subtotal;
use crate::ordering::po::{Distribution, Segment};

use super::index::PoIndex;
use super::resolve::{invoice_line_name, resolve};

/// One part of an invoice line's amount, coded as one PO distribution says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodingSplit {
    pub accounting_name: String,
    /// The id of the distribution's GL segment, if it has one.
    pub account: Option<String>,
    pub amount: Money,
    pub segments: Vec<Segment>,
}

/// The coding of one invoice line: its amount and the parts it is split into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCoding {
    pub invoice_line: String,
    pub po_line: String,
    pub amount: Money,
    pub splits: Vec<CodingSplit>,
}

/// The coding of an invoice: one entry per item line, in the order of
/// [`CxmlInvoice::items`]; `None` for a line without a PO line, without distributions on it,
/// or without an amount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceCoding {
    pub lines: Vec<Option<LineCoding>>,
}

impl InvoiceCoding {
    /// The coding of the `position`-th item line of the invoice.
    pub fn line(&self, position: usize) -> Option<&LineCoding> {
        self.lines.get(position).and_then(Option::as_ref)
    }
}

/// Whether a segment type names the GL account.
fn is_gl_type(kind: &str) -> bool {
    let norm: String = kind.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    matches!(norm.as_str(), "gl" | "glaccount" | "glcode" | "account" | "accountnumber" | "generalledger" | "generalledgeraccount")
}

/// The GL account of a distribution: its GL segment's id.
pub fn gl_account(segments: &[Segment]) -> Option<String> {
    segments.iter().find(|s| is_gl_type(&s.kind)).map(|s| s.id.trim().to_string()).filter(|s| !s.is_empty())
}

/// Splits `amount` over `distributions` in proportion to their charges (equally when they add
/// up to zero, or to more than a decimal holds); the parts add up to `amount` exactly. Empty
/// without distributions.
pub fn split_by_distributions(amount: Money, distributions: &[Distribution]) -> Vec<CodingSplit> {
    let n = distributions.len();
    if n == 0 {
        return Vec::new();
    }
    let weights: Vec<Decimal> = distributions.iter().map(|d| d.charge.amount).collect();
    let total = weights.iter().try_fold(Decimal::ZERO, |acc, w| acc.checked_add(*w)).filter(|t| !t.is_zero());
    let (weights, total) = match total {
        Some(t) => (weights, t),
        None => (vec![Decimal::ONE; n], Decimal::from(n)),
    };
    let mut rest = amount;
    let mut out = Vec::with_capacity(n);
    for (i, (d, w)) in distributions.iter().zip(&weights).enumerate() {
        let part = if i + 1 == n {
            rest
        } else {
            let exact = amount.amount.checked_mul(*w).and_then(|x| x.checked_div(total)).or_else(|| {
                // Too large to multiply first: the ratio first (at most 28 digits of it).
                w.checked_div(total).and_then(|r| amount.amount.checked_mul(r))
            });
            let part = Money::new(exact.unwrap_or(Decimal::ZERO), amount.currency).round(RoundingStrategy::MidpointAwayFromZero);
            rest = rest.checked_sub(&part).unwrap_or(rest);
            part
        };
        out.push(CodingSplit {
            accounting_name: d.accounting_name.clone(),
            account: gl_account(&d.segments),
            amount: part,
            segments: d.segments.clone(),
        });
    }
    out
}

/// The GL coding of every item line of `inv` from the distributions of the PO lines they
/// bill (of the PO `index` finds for the invoice). Linear in the lines.
pub fn code_invoice(inv: &CxmlInvoice, index: &PoIndex<'_>) -> InvoiceCoding {
    let r = resolve(inv, index);
    let Some(entry) = r.entry else {
        return InvoiceCoding { lines: vec![None; r.items.len()] };
    };
    let lines = r
        .items
        .iter()
        .enumerate()
        .map(|(p, ri)| {
            let pl = &entry.po.lines[*ri.line.as_ref().ok()?];
            if pl.distributions.is_empty() {
                return None;
            }
            let amount = line_subtotal(ri.item)?;
            Some(LineCoding {
                invoice_line: invoice_line_name(ri.item, p),
                po_line: pl.line_number.clone(),
                amount,
                splits: split_by_distributions(amount, &pl.distributions),
            })
        })
        .collect();
    InvoiceCoding { lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::money::Currency;

    fn usd(a: &str) -> Money {
        Money::parse(a, "USD").unwrap()
    }

    fn dist(name: &str, charge: &str, gl: Option<&str>) -> Distribution {
        let mut segments = vec![Segment { id: format!("CC-{name}"), kind: "CostCenter".into(), description: None }];
        if let Some(gl) = gl {
            segments.push(Segment { id: gl.into(), kind: "GL Account".into(), description: Some("Supplies".into()) });
        }
        Distribution { accounting_name: name.into(), charge: usd(charge), segments }
    }

    fn amounts(splits: &[CodingSplit]) -> Vec<String> {
        splits.iter().map(|s| s.amount.amount.to_string()).collect()
    }

    #[test]
    fn proportional_split_rounds_and_the_last_takes_the_remainder() {
        let ds = [dist("a", "1", None), dist("b", "1", None), dist("c", "1", None)];
        let s = split_by_distributions(usd("100.00"), &ds);
        assert_eq!(amounts(&s), ["33.33", "33.33", "33.34"]);
        let sum = Money::sum(Currency::parse("USD").unwrap(), s.iter().map(|x| &x.amount)).unwrap();
        assert_eq!(sum, usd("100.00"));
        // By charge: 60 / 40 of a line billed at a different amount than the PO's.
        let ds = [dist("a", "60.00", Some("6100")), dist("b", "40.00", None)];
        let s = split_by_distributions(usd("50.01"), &ds);
        assert_eq!(amounts(&s), ["30.01", "20.00"]);
        assert_eq!(s[0].account.as_deref(), Some("6100"));
        assert_eq!(s[1].account, None);
        assert_eq!(s[0].accounting_name, "a");
        assert_eq!(s[0].segments.len(), 2);
        // Half away from zero: 0.125 → 0.13; a credit (negative) splits the same way.
        let ds = [dist("a", "1", None), dist("b", "7", None)];
        assert_eq!(amounts(&split_by_distributions(usd("1.00"), &ds)), ["0.13", "0.87"]);
        assert_eq!(amounts(&split_by_distributions(usd("-1.00"), &ds)), ["-0.13", "-0.87"]);
    }

    #[test]
    fn zero_charges_split_equally_one_distribution_takes_all_none_gives_nothing() {
        let ds = [dist("a", "0", None), dist("b", "0", None)];
        assert_eq!(amounts(&split_by_distributions(usd("0.03"), &ds)), ["0.02", "0.01"]);
        assert_eq!(amounts(&split_by_distributions(usd("12.34"), &[dist("a", "5", None)])), ["12.34"]);
        assert!(split_by_distributions(usd("12.34"), &[]).is_empty());
        // JPY has no minor units.
        let yen = |a: &str| Money::parse(a, "JPY").unwrap();
        let ds = [
            Distribution { accounting_name: "a".into(), charge: yen("1"), segments: vec![] },
            Distribution { accounting_name: "b".into(), charge: yen("2"), segments: vec![] },
        ];
        assert_eq!(amounts(&split_by_distributions(yen("100"), &ds)), ["33", "67"]);
    }

    #[test]
    fn huge_amounts_do_not_panic_and_still_add_up() {
        let max = "79228162514264337593543950335";
        let ds = [dist("a", max, None), dist("b", "1", None)];
        let s = split_by_distributions(usd("79228162514264337593543950"), &ds);
        assert_eq!(s.len(), 2);
        let sum = s.iter().try_fold(Decimal::ZERO, |acc, x| acc.checked_add(x.amount.amount));
        assert_eq!(sum, Some("79228162514264337593543950".parse().unwrap()));
    }

    #[test]
    fn gl_segment_types() {
        for t in ["GL", "gl", "GLAccount", "GL Account", "gl_code", "Account", "General-Ledger", "GeneralLedgerAccount"] {
            assert!(is_gl_type(t), "{t}");
        }
        for t in ["DeptId", "OpUnit", "CostCenter", "Project", ""] {
            assert!(!is_gl_type(t), "{t}");
        }
    }
}
