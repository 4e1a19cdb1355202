//! Journal export: a company's journal entries over a date range as CSV, JSON Lines or the
//! French FEC (Fichier des Écritures Comptables, article A47 A-1 of the Livre des procédures
//! fiscales). Pure: the caller reads the entries and their invoices' headers
//! ([`journal_lines`]) and writes the bytes.
//!
//! ## Which entries, on which date
//!
//! An entry (French: *écriture*) is one invoice's booking, or the reversal of a cancelled
//! invoice; all its lines share one **accounting date** ([`EntryRecord::accounting_date`]): the
//! invoice date for a booking, the day (UTC) the cancellation was received for a reversal — a
//! cancellation is booked when it happens, not back-dated into a period that may be closed. A
//! range `--from`/`--to` (inclusive) selects by that date. Lines the journal does not hold
//! yet or any more are left out: the booking of an invoice still being ingested, and the
//! reversal lines of an invoice whose cancellation did not complete (its header is not
//! `Cancelled`).
//!
//! Order: accounting date, then the day the entry was recorded, then invoice key, booking
//! before reversal, line number.
//!
//! ## CSV and JSON Lines
//!
//! One row (one JSON object per line) per entry line, with the fields of [`CSV_COLUMNS`] in
//! that order. Amounts are plain decimal strings with at least the currency's minor units
//! (`1234.50`: never a float, never a thousands separator); `debit` and `credit` both appear,
//! the other side zero (`0.00`). CSV is RFC 4180 (the `csv` crate: CRLF, a field quoted when it
//! holds a comma, quote or line break, quotes doubled); `segments` is joined by `;` in CSV and
//! an array in JSON; `supplier_name` and `invoice_line` are empty in CSV, `null` in JSON, when
//! absent. Both are UTF-8.
//!
//! ## FEC
//!
//! The 18 columns of [`FEC_COLUMNS`] in the order of the norm, a header line with their names,
//! **tab** as the one field separator, CRLF after each record, ISO 8859-15 (one of the
//! character sets the norm allows; a character it lacks becomes `?`, control characters —
//! tabs, line breaks — in labels become spaces). Dates `YYYYMMDD`; amounts with a comma
//! decimal separator and two decimals (`1234,50`), no thousands separator, never negative.
//!
//! | column | value |
//! |---|---|
//! | JournalCode / JournalLib | `AC` / `Achats` (the purchases journal: every entry here is a supplier invoice) |
//! | EcritureNum | 1, 2, 3 … continuous over the export, in the order above; every line of an entry shares its number |
//! | EcritureDate | the accounting date |
//! | CompteNum / CompteLib | the chart account split at its first `-` (`401000-Fournisseurs` → `401000` / `Fournisseurs`); an account without one is both |
//! | CompAuxNum / CompAuxLib | on the supplier payable line only: the supplier (`domain:identity`) and its name (else the supplier again) |
//! | PieceRef / PieceDate | the invoice number and the invoice date (a reversal: the cancelled invoice's) |
//! | EcritureLib | the line's memo |
//! | Debit / Credit | in euros (see below); the other side `0,00` |
//! | EcritureLet / DateLet | empty (no lettering: payments are not in this journal) |
//! | ValidDate | the day the entry was recorded: the invoice's received day for a booking, the cancellation's for a reversal |
//! | Montantdevise / Idevise | for an invoice not in euros: the line's amount in its currency and the ISO 4217 code; empty for euros |
//!
//! The FEC is kept in euros. A line in another currency is converted with a rate given per
//! currency ([`FecOptions::rates`], euros for one unit, e.g. `USD=0.92`; one rate per currency
//! for the export, so export a period per rate); an export with such a line and no rate for its
//! currency is refused ([`ExportError::MissingRates`]). Each line is rounded to the cent (half
//! away from zero); what rounding leaves between an entry's debits and credits is put on its
//! payable line (else its largest line), so every entry balances, as the norm requires.
//!
//! A FEC for the tax administration covers a whole fiscal year (`SirenFECYYYYMMDD.txt`, the
//! date being the year's closing date): numbering restarts at 1 for each export.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::core::money::{Currency, Money};
use crate::invoice::accounting::{is_payable_line, EntryLine, Side};
use crate::invoice::records::{day_of, months_newest_first, EntryRecord, InvoiceRecord, InvoiceStatus, BOOKING, REVERSAL};

/// The fields of a CSV row and of a JSON line, in order.
pub const CSV_COLUMNS: [&str; 15] = [
    "entry_date",
    "kind",
    "invoice_key",
    "supplier",
    "supplier_name",
    "invoice_id",
    "invoice_date",
    "seq",
    "account",
    "debit",
    "credit",
    "currency",
    "memo",
    "invoice_line",
    "segments",
];

/// The 18 columns of the FEC (article A47 A-1), in the order of the norm.
pub const FEC_COLUMNS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// The purchases journal every supplier invoice is booked in.
pub const FEC_JOURNAL_CODE: &str = "AC";
pub const FEC_JOURNAL_LIB: &str = "Achats";
/// The currency the FEC is kept in.
pub const FEC_CURRENCY: &str = "EUR";
/// The longest range one export walks (one index partition per month).
pub const MAX_MONTHS: usize = 120;

/// An inclusive range of accounting dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// Two `YYYY-MM-DD` dates, `from` not after `to`, at most [`MAX_MONTHS`] months apart.
    pub fn parse(from: &str, to: &str) -> Result<DateRange, String> {
        let date = |name: &str, s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .filter(|_| s.trim().len() == 10)
                .ok_or_else(|| format!("--{name} '{s}' is not a date (YYYY-MM-DD)"))
        };
        let r = DateRange { from: date("from", from)?, to: date("to", to)? };
        if r.from > r.to {
            return Err(format!("--from {} is after --to {}", r.from, r.to));
        }
        if r.months().len() > MAX_MONTHS {
            return Err(format!("the range spans more than {MAX_MONTHS} months; export it in parts"));
        }
        Ok(r)
    }

    /// The months (`YYYY-MM`) the range touches, oldest first.
    pub fn months(&self) -> Vec<String> {
        let (from, to) = (self.from.format("%Y-%m").to_string(), self.to.format("%Y-%m").to_string());
        let mut m = months_newest_first(&to, &from, MAX_MONTHS + 1);
        m.reverse();
        m
    }

    pub fn from_str(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }

    pub fn to_str(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }

    /// True for a `YYYY-MM-DD` date within the range.
    pub fn contains(&self, date: &str) -> bool {
        NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok_and(|d| self.from <= d && d <= self.to)
    }
}

/// One line of the exported journal: an entry line with what the export says about its invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    /// The accounting date (`YYYY-MM-DD`).
    pub date: String,
    /// `booking` or `reversal`.
    pub kind: String,
    pub invoice_key: String,
    pub supplier: String,
    pub supplier_name: Option<String>,
    pub invoice_id: String,
    pub invoice_date: String,
    /// The day (`YYYY-MM-DD`) the entry was recorded: the invoice's received day for a
    /// booking, the cancellation's for a reversal.
    pub recorded: String,
    pub line: EntryLine,
}

impl JournalLine {
    /// The exported line of `e`, whose invoice header is `h`; `None` when the journal does not
    /// hold it: a booking of an invoice still being ingested, a reversal of an invoice whose
    /// cancellation did not complete, or a header of another invoice.
    pub fn of(e: EntryRecord, h: &InvoiceRecord) -> Option<JournalLine> {
        if e.invoice_key != h.invoice_key {
            return None;
        }
        let (date, recorded) = match (e.kind.as_str(), h.status) {
            (BOOKING, InvoiceStatus::Valid | InvoiceStatus::Cancelled) => (e.accounting_date().to_string(), day_of(&h.received_at)),
            (REVERSAL, InvoiceStatus::Cancelled) => {
                let cancelled = day_of(h.cancelled_at.as_deref().unwrap_or_default());
                // Lines stored before `entry_date` existed: the cancellation's day.
                let date = if e.entry_date.is_empty() && !cancelled.is_empty() { cancelled } else { e.accounting_date() };
                (date.to_string(), cancelled)
            }
            _ => return None,
        };
        let recorded = if recorded.is_empty() { date.clone() } else { recorded.to_string() };
        Some(JournalLine {
            date,
            kind: e.kind,
            invoice_key: e.invoice_key,
            supplier: h.supplier.clone(),
            supplier_name: h.supplier_name.clone().filter(|n| !n.trim().is_empty()),
            invoice_id: h.invoice_id.clone(),
            invoice_date: e.invoice_date,
            recorded,
            line: e.line,
        })
    }

    /// The key that orders the journal (see the module doc).
    fn order(&self) -> (&str, &str, &str, bool, u32) {
        (&self.date, &self.recorded, &self.invoice_key, self.kind != BOOKING, self.line.seq)
    }

    /// True when `other` is a line of the same entry.
    fn same_entry(&self, other: &JournalLine) -> bool {
        self.invoice_key == other.invoice_key && self.kind == other.kind
    }
}

/// The exported journal of `entries` (read for the range), with their invoices' headers by
/// invoice key: the lines the journal holds on a date within `range`, in journal order.
pub fn journal_lines(entries: Vec<EntryRecord>, headers: &BTreeMap<String, InvoiceRecord>, range: &DateRange) -> Vec<JournalLine> {
    let mut out: Vec<JournalLine> = entries
        .into_iter()
        .filter_map(|e| {
            let h = headers.get(&e.invoice_key)?;
            JournalLine::of(e, h)
        })
        .filter(|l| range.contains(&l.date))
        .collect();
    sort(&mut out);
    out.dedup_by(|a, b| a.order() == b.order());
    out
}

/// Sorts lines in journal order.
pub fn sort(lines: &mut [JournalLine]) {
    lines.sort_by(|a, b| a.order().cmp(&b.order()));
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("the FEC is kept in euros and no exchange rate was given for {}: add --rate {}=<euros for one unit> per currency", .0.join(", "), .0.first().map(String::as_str).unwrap_or("XXX"))]
    MissingRates(Vec<String>),
    #[error("the {kind} of invoice {invoice_key} does not balance (debits {debit}, credits {credit}); it was not exported")]
    Unbalanced { invoice_key: String, kind: String, debit: String, credit: String },
    #[error("the {kind} of invoice {invoice_key} mixes currencies; it was not exported")]
    MixedCurrencies { invoice_key: String, kind: String },
    #[error("an amount of the {kind} of invoice {invoice_key} overflows once converted")]
    Overflow { invoice_key: String, kind: String },
    #[error("csv: {0}")]
    Csv(String),
}

/// One row of the CSV / JSON Lines export ([`CSV_COLUMNS`], in order).
#[derive(Serialize)]
struct Row<'a> {
    entry_date: &'a str,
    kind: &'a str,
    invoice_key: &'a str,
    supplier: &'a str,
    supplier_name: Option<&'a str>,
    invoice_id: &'a str,
    invoice_date: &'a str,
    seq: u32,
    account: &'a str,
    debit: String,
    credit: String,
    currency: &'a str,
    memo: &'a str,
    invoice_line: Option<u32>,
    segments: &'a [String],
}

impl<'a> Row<'a> {
    fn of(l: &'a JournalLine) -> Row<'a> {
        let amount = l.line.amount.amount_string();
        let zero = Money::zero(l.line.amount.currency).amount_string();
        let (debit, credit) = match l.line.side {
            Side::Debit => (amount, zero),
            Side::Credit => (zero, amount),
        };
        Row {
            entry_date: &l.date,
            kind: &l.kind,
            invoice_key: &l.invoice_key,
            supplier: &l.supplier,
            supplier_name: l.supplier_name.as_deref(),
            invoice_id: &l.invoice_id,
            invoice_date: &l.invoice_date,
            seq: l.line.seq,
            account: &l.line.account,
            debit,
            credit,
            currency: l.line.amount.currency.code(),
            memo: &l.line.memo,
            invoice_line: l.line.invoice_line,
            segments: &l.line.segments,
        }
    }

    fn csv_fields(&self) -> [String; 15] {
        [
            self.entry_date.to_string(),
            self.kind.to_string(),
            self.invoice_key.to_string(),
            self.supplier.to_string(),
            self.supplier_name.unwrap_or_default().to_string(),
            self.invoice_id.to_string(),
            self.invoice_date.to_string(),
            self.seq.to_string(),
            self.account.to_string(),
            self.debit.clone(),
            self.credit.clone(),
            self.currency.to_string(),
            self.memo.to_string(),
            self.invoice_line.map(|n| n.to_string()).unwrap_or_default(),
            self.segments.join(";"),
        ]
    }
}

/// The lines as CSV (RFC 4180, UTF-8), a header row first.
pub fn to_csv(lines: &[JournalLine]) -> Result<Vec<u8>, ExportError> {
    let err = |e: csv::Error| ExportError::Csv(e.to_string());
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(err)?;
    for l in lines {
        w.write_record(Row::of(l).csv_fields()).map_err(err)?;
    }
    w.into_inner().map_err(|e| ExportError::Csv(e.to_string()))
}

/// The lines as JSON Lines: one object per line, the fields of [`CSV_COLUMNS`].
pub fn to_json_lines(lines: &[JournalLine]) -> String {
    let mut out = String::new();
    for l in lines {
        // A struct of strings, numbers and options: serializing it cannot fail.
        out.push_str(&serde_json::to_string(&Row::of(l)).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// How a FEC is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FecOptions {
    /// Euros for one unit of a currency (ISO 4217 code → rate), for the lines not in euros.
    pub rates: BTreeMap<String, Decimal>,
}

/// Parses `CUR=RATE` (`USD=0.92`: euros for one US dollar; a comma decimal is accepted too).
pub fn parse_rate(s: &str) -> Result<(String, Decimal), String> {
    let bad = || format!("--rate '{s}': expected CUR=RATE, e.g. USD=0.92 (euros for one unit)");
    let (code, rate) = s.split_once('=').ok_or_else(bad)?;
    let currency = Currency::parse(code.trim()).map_err(|e| format!("--rate '{s}': {e}"))?;
    let rate = crate::core::money::parse_amount(&rate.trim().replace(',', ".")).map_err(|_| bad())?;
    if rate <= Decimal::ZERO {
        return Err(format!("--rate '{s}': the rate must be positive"));
    }
    Ok((currency.code().to_string(), rate))
}

/// The currencies of `lines` other than the euro that `opts` has no rate for (sorted).
pub fn missing_rates(lines: &[JournalLine], opts: &FecOptions) -> Vec<String> {
    let mut m: Vec<String> = lines
        .iter()
        .map(|l| l.line.amount.currency.code())
        .filter(|c| *c != FEC_CURRENCY && !opts.rates.contains_key(*c))
        .map(str::to_string)
        .collect();
    m.sort();
    m.dedup();
    m
}

/// The FEC rows of `lines` (sorted into journal order first): 18 fields each, numbered.
pub fn fec_rows(lines: &[JournalLine], opts: &FecOptions) -> Result<Vec<[String; 18]>, ExportError> {
    let missing = missing_rates(lines, opts);
    if !missing.is_empty() {
        return Err(ExportError::MissingRates(missing));
    }
    let mut sorted: Vec<&JournalLine> = lines.iter().collect();
    sorted.sort_by(|a, b| a.order().cmp(&b.order()));
    let mut rows = Vec::with_capacity(sorted.len());
    let mut num = 0u32;
    for entry in sorted.chunk_by(|a, b| a.same_entry(b)) {
        num += 1;
        rows.extend(fec_entry(entry, num, opts)?);
    }
    Ok(rows)
}

/// The rows of one entry (its lines), numbered `num`, in euros and balanced.
fn fec_entry(entry: &[&JournalLine], num: u32, opts: &FecOptions) -> Result<Vec<[String; 18]>, ExportError> {
    let first = entry[0];
    let (invoice_key, kind) = (first.invoice_key.clone(), first.kind.clone());
    let currency = first.line.amount.currency;
    if entry.iter().any(|l| l.line.amount.currency != currency) {
        return Err(ExportError::MixedCurrencies { invoice_key, kind });
    }
    // The entry as stored must balance in its own currency.
    let (mut d, mut c) = (Decimal::ZERO, Decimal::ZERO);
    for l in entry {
        let sum = if l.line.side == Side::Debit { &mut d } else { &mut c };
        *sum = sum
            .checked_add(l.line.amount.amount)
            .ok_or_else(|| ExportError::Overflow { invoice_key: invoice_key.clone(), kind: kind.clone() })?;
    }
    if d != c {
        return Err(ExportError::Unbalanced { invoice_key, kind, debit: d.to_string(), credit: c.to_string() });
    }
    let foreign = currency.code() != FEC_CURRENCY;
    let rate = if foreign { opts.rates.get(currency.code()).copied().unwrap_or(Decimal::ONE) } else { Decimal::ONE };
    let overflow = || ExportError::Overflow { invoice_key: invoice_key.clone(), kind: kind.clone() };
    let mut euros = Vec::with_capacity(entry.len());
    for l in entry {
        let e = l.line.amount.amount.checked_mul(rate).ok_or_else(overflow)?;
        euros.push(e.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
    }
    // What rounding left between the sides goes on the payable line, else the largest line.
    let (mut ed, mut ec) = (Decimal::ZERO, Decimal::ZERO);
    for (l, e) in entry.iter().zip(&euros) {
        let sum = if l.line.side == Side::Debit { &mut ed } else { &mut ec };
        *sum = sum.checked_add(*e).ok_or_else(overflow)?;
    }
    let diff = ed - ec;
    if !diff.is_zero() {
        let target = entry
            .iter()
            .position(|l| is_payable_line(&l.line, &l.supplier))
            .or_else(|| (0..entry.len()).max_by_key(|i| euros[*i]))
            .unwrap_or(0);
        euros[target] = match entry[target].line.side {
            Side::Credit => euros[target] + diff,
            Side::Debit => euros[target] - diff,
        };
    }
    let mut rows = Vec::with_capacity(entry.len());
    for (l, e) in entry.iter().zip(euros) {
        let (compte_num, compte_lib) = account_parts(&l.line.account);
        let (aux_num, aux_lib) = if is_payable_line(&l.line, &l.supplier) {
            (l.supplier.clone(), l.supplier_name.clone().unwrap_or_else(|| l.supplier.clone()))
        } else {
            (String::new(), String::new())
        };
        let amount = fec_amount(e);
        let zero = fec_amount(Decimal::ZERO);
        let (debit, credit) = match l.line.side {
            Side::Debit => (amount, zero),
            Side::Credit => (zero, amount),
        };
        let (devise, idevise) = if foreign {
            (l.line.amount.amount_string().replace('.', ","), currency.code().to_string())
        } else {
            (String::new(), String::new())
        };
        rows.push([
            FEC_JOURNAL_CODE.to_string(),
            FEC_JOURNAL_LIB.to_string(),
            num.to_string(),
            fec_date(&l.date),
            text(compte_num),
            text(compte_lib),
            text(&aux_num),
            text(&aux_lib),
            text(&l.invoice_id),
            fec_date(&l.invoice_date),
            text(&l.line.memo),
            debit,
            credit,
            String::new(),
            String::new(),
            fec_date(&l.recorded),
            devise,
            idevise,
        ]);
    }
    Ok(rows)
}

/// The FEC file of `lines`: header and rows, tab-separated, CRLF, ISO 8859-15.
pub fn to_fec(lines: &[JournalLine], opts: &FecOptions) -> Result<Vec<u8>, ExportError> {
    let rows = fec_rows(lines, opts)?;
    let mut out = Vec::with_capacity(64 + rows.len() * 160);
    let mut record = |fields: &[&str]| {
        out.extend(latin9(&fields.join("\t")));
        out.extend_from_slice(b"\r\n");
    };
    record(&FEC_COLUMNS);
    for r in &rows {
        record(&r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    Ok(out)
}

/// An account as CompteNum / CompteLib: split at its first `-` when both sides have text.
fn account_parts(account: &str) -> (&str, &str) {
    match account.split_once('-') {
        Some((num, lib)) if !num.trim().is_empty() && !lib.trim().is_empty() => (num.trim(), lib.trim()),
        _ => (account.trim(), account.trim()),
    }
}

/// `YYYY-MM-DD` → `YYYYMMDD` (a date that is not one stays empty).
fn fec_date(date: &str) -> String {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map(|d| d.format("%Y%m%d").to_string()).unwrap_or_default()
}

/// Two decimals, comma separator: `1234,50`.
fn fec_amount(d: Decimal) -> String {
    let mut a = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    a.rescale(2);
    a.to_string().replace('.', ",")
}

/// A label as a FEC field: control characters (tab, CR, LF …) become spaces, outer white
/// space goes.
fn text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// ISO 8859-15 bytes of `s`; a character the set lacks becomes `?`.
fn latin9(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '€' => 0xA4,
            'Š' => 0xA6,
            'š' => 0xA8,
            'Ž' => 0xB4,
            'ž' => 0xB8,
            'Œ' => 0xBC,
            'œ' => 0xBD,
            'Ÿ' => 0xBE,
            // The Latin-1 characters ISO 8859-15 replaced.
            '\u{A4}' | '\u{A6}' | '\u{A8}' | '\u{B4}' | '\u{B8}' | '\u{BC}' | '\u{BD}' | '\u{BE}' => b'?',
            c if c.is_ascii() => c as u8,
            c if ('\u{A0}'..='\u{FF}').contains(&c) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::records::DocumentSource;

    fn money(a: &str, cur: &str) -> Money {
        Money::parse(a, cur).unwrap()
    }

    fn line(seq: u32, account: &str, side: Side, amount: &str, cur: &str, memo: &str) -> EntryLine {
        EntryLine {
            seq,
            account: account.into(),
            side,
            amount: money(amount, cur),
            memo: memo.into(),
            invoice_line: if account.starts_with("6000") { Some(seq) } else { None },
            segments: vec![],
        }
    }

    fn header(supplier: &str, id: &str, date: &str, cur: &str) -> InvoiceRecord {
        InvoiceRecord {
            company: "acme".into(),
            invoice_key: format!("{supplier}#{id}"),
            supplier: supplier.into(),
            supplier_name: Some(format!("{supplier} Ltd")),
            invoice_id: id.into(),
            payload_id: None,
            purpose: "standard".into(),
            invoice_date: date.into(),
            currency: cur.into(),
            subtotal: "0".into(),
            tax: "0".into(),
            shipping: "0".into(),
            special_handling: "0".into(),
            discount: "0".into(),
            net: "0".into(),
            due: "0".into(),
            line_count: 1,
            order_ids: vec![],
            supplier_order_ids: vec![],
            payment_terms_days: None,
            content_sha256: "sha".into(),
            document_key: "doc".into(),
            source_key: "src".into(),
            received_at: format!("{date}T09:00:00.000Z"),
            status: InvoiceStatus::Valid,
            source: DocumentSource::default(),
            cancelled_by_sha256: None,
            cancelled_at: None,
            cancel_document_key: None,
            documents: vec![],
            matching: None,
            purchase: None,
            review_status: None,
            history: Vec::new(),
        }
    }

    /// An invoice of `net` = expense + 20 % tax, booked as `journal` would.
    fn booking(h: &InvoiceRecord, expense: &str, tax: &str, net: &str) -> Vec<EntryRecord> {
        let cur = h.currency.as_str();
        let lines = vec![
            line(1, "6000-expense:OFFICE", Side::Debit, expense, cur, &format!("{} line 1 (PO-1): paper", h.invoice_id)),
            line(2, "1410-input-tax", Side::Debit, tax, cur, &format!("{} tax", h.invoice_id)),
            line(3, "2000-accounts-payable", Side::Credit, net, cur, &format!("{} payable to {}", h.invoice_id, h.supplier)),
        ];
        crate::invoice::records::entry_records(lines, &h.invoice_key, BOOKING, &h.invoice_date, &h.invoice_date)
    }

    fn cancel(h: &mut InvoiceRecord, booked: &[EntryRecord], at: &str) -> Vec<EntryRecord> {
        h.status = InvoiceStatus::Cancelled;
        h.cancelled_at = Some(at.into());
        let lines: Vec<EntryLine> = booked.iter().map(|e| e.line.clone()).collect();
        let rev = crate::invoice::accounting::reversal(&lines, &format!("cancellation of {}", h.invoice_id));
        crate::invoice::records::entry_records(rev, &h.invoice_key, REVERSAL, &h.invoice_date, day_of(at))
    }

    /// Three invoices over two months (one in US dollars) and the cancellation of the first.
    fn journal_fixture() -> (Vec<EntryRecord>, BTreeMap<String, InvoiceRecord>) {
        let mut a = header("NetworkID:AN1", "A-1", "2025-11-14", "EUR");
        let b = header("NetworkID:AN2", "B-7", "2025-11-03", "EUR");
        let c = header("NetworkID:AN3", "US-9", "2025-12-01", "USD");
        let mut entries = booking(&a, "100.00", "20.00", "120.00");
        entries.extend(booking(&b, "1234.50", "246.90", "1481.40"));
        entries.extend(booking(&c, "10.00", "2.00", "12.00"));
        let booked: Vec<EntryRecord> = entries[..3].to_vec();
        entries.extend(cancel(&mut a, &booked, "2025-12-03T08:00:00.000Z"));
        let headers = [a, b, c].into_iter().map(|h| (h.invoice_key.clone(), h)).collect();
        (entries, headers)
    }

    fn all() -> DateRange {
        DateRange::parse("2025-01-01", "2025-12-31").unwrap()
    }

    fn rates() -> FecOptions {
        FecOptions { rates: [("USD".to_string(), "0.9137".parse().unwrap())].into_iter().collect() }
    }

    fn dec(fec: &str) -> Decimal {
        fec.replace(',', ".").parse().unwrap()
    }

    #[test]
    fn ranges_parse_strictly() {
        let r = DateRange::parse("2025-11-01", "2026-01-31").unwrap();
        assert_eq!(r.months(), vec!["2025-11", "2025-12", "2026-01"]);
        assert!(r.contains("2025-11-01") && r.contains("2026-01-31") && !r.contains("2026-02-01") && !r.contains("junk"));
        assert_eq!((r.from_str().as_str(), r.to_str().as_str()), ("2025-11-01", "2026-01-31"));
        assert_eq!(DateRange::parse("2025-11-01", "2025-11-01").unwrap().months(), vec!["2025-11"]);
        assert!(DateRange::parse("2025-12-01", "2025-11-30").unwrap_err().contains("after"));
        for bad in ["2025-13-01", "2025-02-30", "20251101", "2025-1-1", "", "yesterday"] {
            assert!(DateRange::parse(bad, "2025-12-31").unwrap_err().contains("not a date"), "{bad}");
        }
        assert!(DateRange::parse("2000-01-01", "2025-12-31").unwrap_err().contains("months"));
        assert_eq!(DateRange::parse("2016-01-01", "2025-12-31").unwrap().months().len(), 120);
    }

    #[test]
    fn a_reversal_is_dated_by_its_cancellation_and_the_range_selects_by_that_date() {
        let (entries, headers) = journal_fixture();
        let lines = journal_lines(entries.clone(), &headers, &all());
        assert_eq!(lines.len(), 12);
        // Order: by accounting date; the reversal of A-1 (cancelled 2025-12-03) comes last.
        let order: Vec<(&str, &str, &str)> =
            lines.iter().filter(|l| l.line.seq == 1).map(|l| (l.date.as_str(), l.invoice_id.as_str(), l.kind.as_str())).collect();
        assert_eq!(
            order,
            vec![
                ("2025-11-03", "B-7", "booking"),
                ("2025-11-14", "A-1", "booking"),
                ("2025-12-01", "US-9", "booking"),
                ("2025-12-03", "A-1", "reversal")
            ]
        );
        let rev = lines.iter().find(|l| l.kind == REVERSAL).unwrap();
        assert_eq!((rev.invoice_date.as_str(), rev.recorded.as_str()), ("2025-11-14", "2025-12-03"));
        // November holds both bookings of November and nothing else.
        let nov = journal_lines(entries.clone(), &headers, &DateRange::parse("2025-11-01", "2025-11-30").unwrap());
        assert_eq!(nov.len(), 6);
        assert!(nov.iter().all(|l| l.kind == BOOKING && l.date.starts_with("2025-11")));
        // Exact dates: 2025-12-02..03 holds the reversal only.
        let dec3 = journal_lines(entries, &headers, &DateRange::parse("2025-12-02", "2025-12-03").unwrap());
        assert_eq!(dec3.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>(), vec!["reversal"; 3]);
    }

    #[test]
    fn lines_the_journal_does_not_hold_are_left_out() {
        let (entries, mut headers) = journal_fixture();
        // A-1's cancellation did not complete: its reversal lines are not in the journal.
        let a = headers.get_mut("NetworkID:AN1#A-1").unwrap();
        a.status = InvoiceStatus::Valid;
        a.cancelled_at = None;
        let lines = journal_lines(entries.clone(), &headers, &all());
        assert_eq!(lines.len(), 9);
        assert!(lines.iter().all(|l| l.kind == BOOKING));
        // An invoice still being ingested, and one with no header: nothing.
        headers.get_mut("NetworkID:AN2#B-7").unwrap().status = InvoiceStatus::Ingesting;
        headers.remove("NetworkID:AN3#US-9");
        let lines = journal_lines(entries, &headers, &all());
        assert_eq!(lines.iter().map(|l| l.invoice_id.as_str()).collect::<Vec<_>>(), vec!["A-1"; 3]);
    }

    #[test]
    fn a_reversal_stored_without_its_date_takes_the_cancellation_day() {
        let (mut entries, headers) = journal_fixture();
        for e in entries.iter_mut().filter(|e| e.kind == REVERSAL) {
            e.entry_date.clear();
        }
        let lines = journal_lines(entries, &headers, &all());
        assert!(lines.iter().filter(|l| l.kind == REVERSAL).all(|l| l.date == "2025-12-03"));
    }

    #[test]
    fn csv_has_a_header_plain_decimals_and_rfc4180_quoting() {
        let (mut entries, mut headers) = journal_fixture();
        entries[0].line.memo = "A-1 line 1: paper, \"A4\" 80g".into();
        entries[0].line.segments = vec!["CostCenter=100".into(), "Project=X".into()];
        headers.get_mut("NetworkID:AN1#A-1").unwrap().supplier_name = Some("Dupont, Fils & Cie".into());
        let lines = journal_lines(entries, &headers, &all());
        let out = String::from_utf8(to_csv(&lines).unwrap()).unwrap();
        let rows: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(rows[0], CSV_COLUMNS.join(","));
        assert_eq!(rows.len(), 1 + 12 + 1, "CRLF after every record: {out}");
        assert_eq!(rows.last(), Some(&""));
        // B-7 first (2025-11-03): thousands without a separator, both sides written.
        assert_eq!(
            rows[1],
            "2025-11-03,booking,NetworkID:AN2#B-7,NetworkID:AN2,NetworkID:AN2 Ltd,B-7,2025-11-03,1,6000-expense:OFFICE,1234.50,0.00,EUR,B-7 line 1 (PO-1): paper,1,"
        );
        assert!(rows[3].contains(",0.00,1481.40,EUR,"), "{}", rows[3]);
        assert_eq!(
            rows[4],
            "2025-11-14,booking,NetworkID:AN1#A-1,NetworkID:AN1,\"Dupont, Fils & Cie\",A-1,2025-11-14,1,6000-expense:OFFICE,100.00,0.00,EUR,\"A-1 line 1: paper, \"\"A4\"\" 80g\",1,CostCenter=100;Project=X"
        );
        // Read back by a CSV reader: 15 fields per record, the label intact.
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 12);
        assert!(recs.iter().all(|r| r.len() == 15));
        assert_eq!(&recs[3][12], "A-1 line 1: paper, \"A4\" 80g");
        assert_eq!(&recs[3][4], "Dupont, Fils & Cie");
        // An empty journal: the header alone.
        assert_eq!(String::from_utf8(to_csv(&[]).unwrap()).unwrap(), format!("{}\r\n", CSV_COLUMNS.join(",")));
    }

    #[test]
    fn json_lines_carry_the_same_fields() {
        let (entries, headers) = journal_fixture();
        let lines = journal_lines(entries, &headers, &all());
        let out = to_json_lines(&lines);
        let objs: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(objs.len(), 12);
        for o in &objs {
            let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
            let mut want = CSV_COLUMNS.to_vec();
            want.sort();
            assert_eq!(keys, want);
        }
        // Field order as in the CSV, amounts as strings.
        let first = out.lines().next().unwrap();
        let pos: Vec<usize> = CSV_COLUMNS.iter().map(|c| first.find(&format!("\"{c}\":")).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{first}");
        assert_eq!(objs[0]["debit"], "1234.50");
        assert_eq!(objs[0]["credit"], "0.00");
        assert_eq!(objs[0]["invoice_line"], 1);
        assert_eq!(objs[1]["invoice_line"], serde_json::Value::Null);
        assert_eq!(objs[0]["segments"], serde_json::json!([]));
        assert_eq!(objs[11]["kind"], "reversal");
        assert_eq!(objs[11]["entry_date"], "2025-12-03");
        assert_eq!(objs[11]["invoice_date"], "2025-11-14");
    }

    fn fec_text(lines: &[JournalLine], opts: &FecOptions) -> String {
        let bytes = to_fec(lines, opts).unwrap();
        let (text, _, errors) = encoding_rs::ISO_8859_15.decode(&bytes);
        assert!(!errors);
        text.into_owned()
    }

    #[test]
    fn fec_has_its_18_columns_in_order_with_a_header() {
        let (entries, headers) = journal_fixture();
        let lines = journal_lines(entries, &headers, &all());
        let text = fec_text(&lines, &rates());
        let records: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            records[0],
            "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
        );
        assert_eq!(records.len(), 1 + 12 + 1);
        assert_eq!(records[13], "");
        for r in &records[1..13] {
            assert_eq!(r.split('\t').count(), 18, "{r}");
        }
        // B-7's expense and payable lines, field by field.
        let f: Vec<&str> = records[1].split('\t').collect();
        assert_eq!(
            f,
            vec![
                "AC",
                "Achats",
                "1",
                "20251103",
                "6000",
                "expense:OFFICE",
                "",
                "",
                "B-7",
                "20251103",
                "B-7 line 1 (PO-1): paper",
                "1234,50",
                "0,00",
                "",
                "",
                "20251103",
                "",
                ""
            ]
        );
        let f: Vec<&str> = records[3].split('\t').collect();
        assert_eq!(
            &f[4..13],
            &[
                "2000",
                "accounts-payable",
                "NetworkID:AN2",
                "NetworkID:AN2 Ltd",
                "B-7",
                "20251103",
                "B-7 payable to NetworkID:AN2",
                "0,00",
                "1481,40"
            ]
        );
        // The reversal: dated and validated on the cancellation day, the piece is the invoice.
        let f: Vec<&str> = records[12].split('\t').collect();
        assert_eq!((f[2], f[3], f[8], f[9], f[15]), ("4", "20251203", "A-1", "20251114", "20251203"));
        assert_eq!((f[6], f[11], f[12]), ("NetworkID:AN1", "120,00", "0,00"));
    }

    #[test]
    fn fec_numbers_entries_continuously_in_date_order_and_each_balances() {
        let (entries, headers) = journal_fixture();
        let lines = journal_lines(entries, &headers, &all());
        let rows = fec_rows(&lines, &rates()).unwrap();
        let nums: Vec<u32> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
        assert_eq!(nums, vec![1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
        let dates: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
        for n in 1..=4u32 {
            let entry: Vec<&[String; 18]> = rows.iter().filter(|r| r[2] == n.to_string()).collect();
            let d: Decimal = entry.iter().map(|r| dec(&r[11])).sum();
            let c: Decimal = entry.iter().map(|r| dec(&r[12])).sum();
            assert_eq!(d, c, "entry {n}");
            assert!(!d.is_zero());
            // One line per entry names the supplier account: the payable.
            assert_eq!(entry.iter().filter(|r| !r[6].is_empty()).count(), 1, "entry {n}");
            // One date, one piece per entry.
            assert!(entry.iter().all(|r| r[3] == entry[0][3] && r[8] == entry[0][8]));
        }
        // The order of the input does not matter.
        let mut reversed = lines.clone();
        reversed.reverse();
        assert_eq!(fec_rows(&reversed, &rates()).unwrap(), rows);
    }

    #[test]
    fn a_non_euro_invoice_is_converted_balanced_with_its_currency_amounts() {
        let (entries, headers) = journal_fixture();
        let lines = journal_lines(entries, &headers, &all());
        let rows = fec_rows(&lines, &rates()).unwrap();
        let usd: Vec<&[String; 18]> = rows.iter().filter(|r| r[8] == "US-9").collect();
        // 10.00 × 0.9137 = 9.137 → 9,14; 2.00 → 1,8274 → 1,83; the payable takes the sum, 10,97
        // (12.00 × 0.9137 = 10.9644 would round to 10,96 and leave the entry a cent apart).
        let got: Vec<(&str, &str, &str, &str)> =
            usd.iter().map(|r| (r[11].as_str(), r[12].as_str(), r[16].as_str(), r[17].as_str())).collect();
        assert_eq!(got, vec![("9,14", "0,00", "10,00", "USD"), ("1,83", "0,00", "2,00", "USD"), ("0,00", "10,97", "12,00", "USD")]);
        // Euro lines carry no currency amount.
        assert!(rows.iter().filter(|r| r[8] != "US-9").all(|r| r[16].is_empty() && r[17].is_empty()));
        // Without a rate for USD: refused, naming the currency.
        let e = fec_rows(&lines, &FecOptions::default()).unwrap_err();
        assert_eq!(e, ExportError::MissingRates(vec!["USD".into()]));
        assert!(e.to_string().contains("--rate USD="), "{e}");
        // Euros only: no rate needed.
        let eur: Vec<JournalLine> = lines.into_iter().filter(|l| l.line.amount.currency.code() == "EUR").collect();
        assert_eq!(fec_rows(&eur, &FecOptions::default()).unwrap().len(), 9);
    }

    #[test]
    fn fec_labels_never_break_the_format() {
        let (mut entries, mut headers) = journal_fixture();
        entries[0].line.memo = "A-1 line 1:\tpaper\r\nA4 — 80 g, œuvre 5 €, 東京".into();
        headers.get_mut("NetworkID:AN1#A-1").unwrap().supplier_name = Some("Société\tGénérale\n".into());
        let lines = journal_lines(entries, &headers, &all());
        let bytes = to_fec(&lines, &rates()).unwrap();
        let text = fec_text(&lines, &rates());
        assert_eq!(text.split("\r\n").count(), 14);
        assert!(text.split("\r\n").all(|r| r.is_empty() || r.split('\t').count() == 18));
        assert!(text.contains("\tA-1 line 1: paper  A4 ? 80 g, œuvre 5 €, ??\t"), "{text}");
        assert!(text.contains("\tSociété Générale\t"), "{text}");
        // ISO 8859-15 bytes: é is 0xE9, € 0xA4, œ 0xBD; no UTF-8 sequence.
        assert!(bytes.contains(&0xE9) && bytes.contains(&0xA4) && bytes.contains(&0xBD));
        assert!(std::str::from_utf8(&bytes).is_err());
        // The encoder agrees with encoding_rs on every printable character of ISO 8859-15, and
        // the 8 Latin-1 characters it replaced become '?'.
        let printable = (0x20u32..0x7F).chain(0xA0..0x100).filter_map(char::from_u32).chain("€ŠšŽžŒœŸ".chars());
        for c in printable {
            let one = c.to_string();
            let (want, _, unmappable) = encoding_rs::ISO_8859_15.encode(&one);
            if unmappable {
                assert_eq!(latin9(&one), b"?", "{c:?}");
            } else {
                assert_eq!(latin9(&one), want.as_ref(), "{c:?}");
            }
        }
    }

    #[test]
    fn fec_amounts_use_a_comma_and_two_decimals() {
        assert_eq!(fec_amount("1234.5".parse().unwrap()), "1234,50");
        assert_eq!(fec_amount("0".parse().unwrap()), "0,00");
        assert_eq!(fec_amount("1000000".parse().unwrap()), "1000000,00");
        assert_eq!(fec_amount("2.345".parse().unwrap()), "2,35");
        assert_eq!(fec_date("2025-11-03"), "20251103");
        assert_eq!(fec_date(""), "");
        assert_eq!(account_parts("401000-Fournisseurs"), ("401000", "Fournisseurs"));
        assert_eq!(account_parts("6000-expense:OFFICE"), ("6000", "expense:OFFICE"));
        assert_eq!(account_parts("607000"), ("607000", "607000"));
        assert_eq!(account_parts("-x"), ("-x", "-x"));
    }

    #[test]
    fn an_unbalanced_entry_is_refused() {
        let (mut entries, headers) = journal_fixture();
        entries.retain(|e| !(e.invoice_key == "NetworkID:AN2#B-7" && e.line.seq == 2));
        let lines = journal_lines(entries, &headers, &all());
        let e = fec_rows(&lines, &rates()).unwrap_err();
        assert!(matches!(&e, ExportError::Unbalanced { invoice_key, .. } if invoice_key == "NetworkID:AN2#B-7"), "{e}");
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("USD=0.92").unwrap(), ("USD".to_string(), "0.92".parse().unwrap()));
        assert_eq!(parse_rate(" GBP = 1,17 ").unwrap(), ("GBP".to_string(), "1.17".parse().unwrap()));
        for bad in ["USD", "usd=1", "USD=", "USD=abc", "USD=0", "USD=-1", "XXQ=1"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
