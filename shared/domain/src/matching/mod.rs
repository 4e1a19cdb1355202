//! Matching: every ingested invoice against the PO it bills and what Amazon accepted of it.
//!
//! [`match_invoice`] is a pure function of its inputs — the parsed invoice, the company's POs
//! with their `placeOrder` answers ([`PoIndex`]), what the company's other invoices billed
//! ([`Invoiced`]) and the company's [`Tolerances`] — with no clock, no store and no state of
//! its own. An invoice that arrives before its PO gets `no-po`; the caller keeps it (and the
//! outcome) and simply calls [`match_invoice`] again when the PO — or its `placeOrder` answer,
//! or another invoice of the same PO — arrives. Running it again on the same inputs gives the
//! same outcome, also after this invoice's own [`Invoiced`] summary was stored (a match skips
//! the summary with its own invoice key).
//!
//! # Finding the PO and the PO line
//!
//! - Each order block of the invoice (`InvoiceDetailOrder`, `InvoiceDetailHeaderOrder`) finds
//!   its PO by `OrderReference@orderID` (= the PO number), else by its
//!   `DocumentReference@payloadID` (Coupa writes the PO number there), else by the Amazon
//!   order id of `SupplierOrderInfo@orderID` among the order ids the PO was placed as
//!   ([`PoIndex::find`]). The first block that finds one names the invoice's PO; no block
//!   finding one is `no-po`. A block naming no known PO while another does is a `no-po` of its
//!   own; the lines of a block of another known PO are `unknown-line` (one PO per invoice, as
//!   Amazon invoices).
//! - Each invoice line finds its PO line by `InvoiceDetailItemReference@lineNumber` compared
//!   by [`crate::ordering::line_key`] (`0020` is line `20`). A numeric line number the PO does
//!   not have is `unknown-line`. A line number that is absent or not numeric (Amazon writes
//!   `li_1` where the order carried no numeric line id) falls back to the PO line whose ASIN
//!   is the item's `SupplierPartID`, when exactly one line has it; else `unknown-line`.
//!
//! # The rules, per invoice line
//!
//! Values are compared as exact decimals; `expected` is what Amazon accepted (the PO's
//! `placeOrder` answer, [`crate::ordering::placed::PlacedOrder`]) when it is in the index,
//! else what the PO states.
//!
//! - `po-rejected-line`: with a `placeOrder` answer, a PO line of which nothing was accepted
//!   (rejected entirely, or absent from the answer). No other rule is applied to the line.
//! - `over-invoiced`: the quantity of the PO line invoiced by all invoices together — the
//!   prior ones plus every line of this invoice billing it — may exceed the accepted quantity
//!   (else the PO's quantity) only within the quantity tolerance. Upward only: billing less
//!   than was accepted is no exception (more invoices may follow, or nothing more is due).
//!   Reported once per PO line, on the first invoice line billing it; every invoice line
//!   billing it is then an exception.
//! - `currency-mismatch`: the invoice (or one line) is in another currency than the PO; its
//!   prices and amounts are then not compared.
//! - `price-variance`: the unit price (per one unit when a `PriceBasisQuantity` is given)
//!   against the accepted unit price (of the accepted portion of the invoice's Amazon order
//!   when the answer has several portions), else the PO's expected unit price. Both ways: a
//!   price below the accepted one is as much an exception as one above it (a wrong item, a
//!   missing surcharge, a wrong price list); lower the tolerance's percent, not its
//!   direction, to be lenient.
//! - `amount-variance`: the line amount (subtotal, else unit price × quantity) against
//!   quantity × the expected unit price, rounded; both ways; only when the unit price itself is
//!   within its tolerance (one cause, one exception). It catches the small price differences
//!   that add up over many units: a price difference the price tolerance lets through still
//!   counts toward the line amount, so a company that tolerates 1 % on prices sets a percent
//!   on amounts too.
//! - `tax-variance` (per line): when Amazon accepted tax per line (`Charge` artifacts of type
//!   `TAX`, any category — the line's tax includes its shipping tax, as Amazon's invoice
//!   does), a line's tax is compared both ways with its share of it: accepted tax × invoiced
//!   quantity ÷ accepted quantity, rounded. An invoice stating tax only in its summary is
//!   compared the same way as a whole.
//!
//! # The rules, per invoice
//!
//! - `tax-variance` (ceiling): when only an order-level tax is known (Amazon's order-level
//!   `TAX` charges, else the PO's `expected.tax`, which Amazon treats as an upper bound), the
//!   tax of all invoices of the PO together may not exceed it beyond the amount tolerance.
//! - `shipping-variance`: the shipping of all invoices of the PO together (this one's: its
//!   summary `ShippingAmount`, else its lines') may not exceed the shipping Amazon accepted
//!   (`SHIPPING` principal charges less `SHIPPING` discounts, of the lines, else of the
//!   order; else the PO's `expected.shipping`) beyond the amount tolerance. Upward only and
//!   cumulative: Amazon bills shipping per shipment, not per unit.
//! - `amount-variance` (header-level invoice, no item lines): the subtotal of all invoices of
//!   the PO together may not exceed the accepted goods (accepted quantity × accepted unit
//!   price per line, else the PO's) beyond the amount tolerance.
//!
//! # Credit memos and cancellations
//!
//! A credit memo (`purpose="creditMemo"` or `"lineLevelCreditMemo"`, negative amounts)
//! counts its quantities and amounts negative whatever sign they are written with: it
//! REDUCES the quantity invoiced, so later invoices may bill it again. It is never
//! `over-invoiced`, and its prices, amounts and charges are not compared (a price-adjustment
//! credit bills a price difference, not the price); it is still checked for `no-po`,
//! `unknown-line`, `po-rejected-line` and `currency-mismatch`. A debit memo counts as an
//! invoice. A cancellation (`operation="delete"`) needs its PO only; its [`Invoiced`] summary
//! is empty, so storing it under the cancelled invoice's key (same supplier and invoiceID)
//! takes the cancelled invoice's quantities back.
//!
//! # Tolerances and their defaults
//!
//! Per company ([`Tolerances`], JSON `{"unit_price": {"absolute": "0.01", "percent": "0",
//! "rule": "either"}, "quantity": {...}, "amount": {...}}`), each an absolute and a percent
//! tolerance combined by `either` (within the absolute OR the percent one) or `both`. The
//! percent applies to the expected value. Defaults, for a company that set none:
//!
//! | tolerance    | absolute | percent | rule   | meaning                                           |
//! |--------------|----------|---------|--------|---------------------------------------------------|
//! | `unit_price` | 0.01     | 0       | either | within one cent of the accepted price             |
//! | `quantity`   | 1        | 5       | either | Ariba's: within 1 unit or 105 % of the accepted   |
//! | `amount`     | 0.05     | 0       | either | line amount, tax, shipping: five cents of rounding |
//!
//! The absolute price and amount tolerances are in the PO's currency (for a currency without
//! minor units, such as JPY, 0.01 and 0.05 mean an exact match).
//!
//! # GL coding and what was invoiced
//!
//! - [`code_invoice`]: each invoice line's GL coding from the distributions of its PO line,
//!   its amount split over them in proportion to their charges ([`coding`]), for
//!   [`crate::invoice::accounting::journal_coded`].
//! - [`invoiced()`]: what the invoice bills per PO line ([`Invoiced`]), for the adapter to
//!   persist and hand to the next match.
//!
//! # Layout
//!
//! - [`code`] — [`MatchCode`], the stable kebab-case codes.
//! - [`tolerance`] — [`Tolerances`], [`Tolerance`], [`Rule`].
//! - [`index`] — [`PoIndex`], the company's POs by number and Amazon order id.
//! - [`engine`] — [`match_invoice`].
//! - [`outcome`] — [`MatchOutcome`], [`MatchException`], [`LineMatch`], [`MatchStatus`].
//! - [`invoiced`](mod@invoiced) — [`Invoiced`], [`InvoicedLine`], [`invoiced()`].
//! - [`coding`] — [`InvoiceCoding`], [`LineCoding`], [`CodingSplit`], [`code_invoice`].

pub mod code;
pub mod coding;
pub mod engine;
pub mod index;
pub mod invoiced;
pub mod outcome;
mod resolve;
pub mod tolerance;
pub mod workflow;

#[cfg(test)]
mod tests;

pub use code::MatchCode;
pub use coding::{code_invoice, split_by_distributions, CodingSplit, InvoiceCoding, LineCoding};
pub use engine::match_invoice;
pub use index::{FoundBy, PoEntry, PoIndex};
pub use invoiced::{invoice_key_of, invoiced, Invoiced, InvoicedLine};
pub use outcome::{LineMatch, MatchException, MatchOutcome, MatchStatus};
pub use tolerance::{Rule, Tolerance, Tolerances};
pub use workflow::{coding_for, index_of, match_and_record, MatchStore};
