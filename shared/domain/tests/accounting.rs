//! Accounting entries: debits equal credits for every valid fixture; credit memos and
//! cancellations reverse; distributions split the expense.

use std::path::PathBuf;

use invoice_domain::invoice::accounting::{balance, is_payable_line, journal, reversal, Chart, Side};
use invoice_domain::invoice::cxml::Limits;

fn fixture_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml");
    vec![root.join("samples"), root.join("public")]
}

#[test]
fn debits_equal_credits_for_every_valid_fixture() {
    let mut valid = 0;
    for dir in fixture_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().and_then(|x| x.to_str()) != Some("xml") {
                continue;
            }
            let c = invoice_domain::invoice::check(&std::fs::read(&p).unwrap(), &Limits::default());
            if !c.is_valid() {
                continue;
            }
            let (inv, totals) = (c.invoice.unwrap(), c.totals.unwrap());
            let lines = journal(&inv, &totals, &Chart::default());
            assert!(!lines.is_empty(), "{}", p.display());
            let (d, cr) = balance(&lines, totals.currency);
            assert_eq!(d, cr, "{}: debits {d} != credits {cr}: {lines:#?}", p.display());
            assert!(lines.iter().all(|l| !l.amount.is_negative() && !l.amount.is_zero()));
            let payable = lines.iter().find(|l| l.account == Chart::default().payable).unwrap();
            assert_eq!(payable.amount.amount, totals.net.amount.abs(), "{}", p.display());
            // The payable line (only it) is recognised, booked and reversed (exports name the
            // supplier account on it).
            let supplier = inv.supplier_key().unwrap_or_default();
            let recognised: Vec<u32> = lines.iter().filter(|l| is_payable_line(l, &supplier)).map(|l| l.seq).collect();
            assert_eq!(recognised, vec![payable.seq], "{}", p.display());
            let rev = reversal(&lines, "cancellation of X");
            assert_eq!(rev.iter().filter(|l| is_payable_line(l, &supplier)).map(|l| l.seq).collect::<Vec<_>>(), vec![payable.seq]);
            assert!(!lines.iter().any(|l| is_payable_line(l, "NetworkID:SOMEONE-ELSE")));
            valid += 1;
        }
    }
    assert!(valid >= 7, "only {valid} valid fixtures");
}

fn sample(name: &str) -> (invoice_domain::invoice::cxml::CxmlInvoice, invoice_domain::invoice::Totals) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cxml/samples").join(name);
    let c = invoice_domain::invoice::check(&std::fs::read(p).unwrap(), &Limits::default());
    (c.invoice.unwrap(), c.totals.unwrap())
}

#[test]
fn amazon_business_invoice_books_expense_per_category_tax_freight_payable() {
    let (inv, t) = sample("s01-amazon-business-two-sellers.xml");
    let lines = journal(&inv, &t, &Chart::default());
    let acc: Vec<(&str, Side, String)> = lines.iter().map(|l| (l.account.as_str(), l.side, l.amount.amount.to_string())).collect();
    assert_eq!(
        acc,
        vec![
            ("6000-expense:OFFICE_PRODUCTS", Side::Debit, "37.47".to_string()),
            ("6000-expense:FURNITURE", Side::Debit, "129.00".to_string()),
            ("1410-input-tax", Side::Debit, "14.98".to_string()),
            ("6100-freight-in", Side::Debit, "8.99".to_string()),
            ("2000-accounts-payable", Side::Credit, "190.44".to_string()),
        ]
    );
}

#[test]
fn credit_memo_reverses() {
    let (inv, t) = sample("s06-header-level-credit-memo.xml");
    let lines = journal(&inv, &t, &Chart::default());
    let payable = lines.iter().find(|l| l.account == "2000-accounts-payable").unwrap();
    assert_eq!(payable.side, Side::Debit);
    assert_eq!(payable.amount.amount, "48.60".parse().unwrap());
    assert!(lines.iter().filter(|l| l.account != "2000-accounts-payable").all(|l| l.side == Side::Credit));
}

#[test]
fn distributions_split_the_expense_with_their_segments() {
    let (inv, t) = sample("s07-eur-vat-accounting-distribution.xml");
    let lines = journal(&inv, &t, &Chart::default());
    let exp: Vec<_> = lines.iter().filter(|l| l.account.starts_with("6000-expense")).collect();
    assert_eq!(exp.len(), 2);
    assert_eq!(exp[0].amount.amount, "60.00".parse().unwrap());
    assert_eq!(exp[0].segments, vec!["Kostenstelle=4711"]);
    assert_eq!(exp[1].segments, vec!["Kostenstelle=4720"]);
    assert_eq!(exp[0].amount.currency.code(), "EUR");
}

#[test]
fn reversal_swaps_every_side_and_balances_to_zero() {
    let (inv, t) = sample("s01-amazon-business-two-sellers.xml");
    let lines = journal(&inv, &t, &Chart::default());
    let rev = reversal(&lines, "cancelled");
    assert_eq!(rev.len(), lines.len());
    for (a, b) in lines.iter().zip(&rev) {
        assert_eq!(a.side.flip(), b.side);
        assert_eq!(a.amount, b.amount);
    }
    let mut all = lines.clone();
    all.extend(rev);
    let per_account_net = |acct: &str| -> rust_decimal::Decimal {
        all.iter().filter(|l| l.account == acct).map(|l| if l.side == Side::Debit { l.amount.amount } else { -l.amount.amount }).sum()
    };
    assert!(per_account_net("2000-accounts-payable").is_zero());
    assert!(per_account_net("1410-input-tax").is_zero());
}

/// Distribution charges too large to add up never panic: the line is booked whole.
#[test]
fn huge_distribution_charges_do_not_panic() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/cxml/samples/s07-eur-vat-accounting-distribution.xml");
    let doc = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    // Two charges near Decimal::MAX: their sum overflows.
    let huge = "79228162514264337593543950000";
    let doc = doc
        .replace(
            "<Charge><Money currency=\"EUR\">60.00</Money></Charge>",
            &format!("<Charge><Money currency=\"EUR\">{huge}</Money></Charge>"),
        )
        .replace(
            "<Charge><Money currency=\"EUR\">40.00</Money></Charge>",
            &format!("<Charge><Money currency=\"EUR\">{huge}</Money></Charge>"),
        );
    assert_eq!(doc.matches(huge).count(), 2, "both charges replaced");
    let checked = invoice_domain::invoice::check(doc.as_bytes(), &invoice_domain::invoice::cxml::Limits::default());
    let (inv, totals) = (checked.invoice.as_ref().expect("readable"), checked.totals.as_ref().expect("totals"));
    let lines = invoice_domain::invoice::accounting::journal(inv, totals, &invoice_domain::invoice::accounting::Chart::default());
    // The line is booked once, whole (no split by the impossible charges).
    assert!(lines.iter().all(|l| l.segments.is_empty()), "{lines:?}");
    let (d, c) = invoice_domain::invoice::accounting::balance(&lines, totals.currency);
    assert_eq!(d, c);
}

#[test]
fn journal_of_expenses_books_the_totals_as_journal_does() {
    use invoice_domain::invoice::accounting::{journal_of_expenses, Expense};
    for name in ["s01-amazon-business-two-sellers.xml", "s06-header-level-credit-memo.xml"] {
        let (inv, t) = sample(name);
        let chart = Chart::default();
        let booked = journal(&inv, &t, &chart);
        let expense_lines = booked.iter().filter(|l| l.account.starts_with("6000-expense")).count();
        let expenses: Vec<Expense> = booked[..expense_lines]
            .iter()
            .map(|l| Expense {
                account: l.account.clone(),
                amount: if l.side == Side::Debit { l.amount } else { l.amount.neg() },
                memo: l.memo.clone(),
                invoice_line: l.invoice_line,
                segments: l.segments.clone(),
            })
            .collect();
        let supplier = inv.supplier_key().unwrap_or_default();
        let again = journal_of_expenses(inv.header.invoice_id.as_deref().unwrap_or(""), &supplier, &expenses, &t, &chart);
        assert_eq!(again, booked, "{name}");
    }
}
