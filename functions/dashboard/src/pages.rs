//! The HTML pages (maud: compiled templates, every value escaped). Plain links and forms, no
//! script; one stylesheet (`/static/app.css`); headings, labels, a skip link, tables with
//! captions and scoped headers; readable at phone width.

use invoice_domain::company::{Company, Locale};
use invoice_domain::invoice::records::{EntryRecord, InvoiceRecord, InvoiceStatus, LineRecord, RejectionRecord};
use invoice_domain::invoice::review::{review_of, timeline, ListStatus, ReviewState};
use invoice_domain::matching::MatchStatus;
use invoice_domain::vendor::records::{Order, OrderError, VendorInvoice};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::auth::Principal;
use crate::format::{date, money, timestamp};
use crate::query::{Filters, Sort, CHANNELS};
use invoice_adapters::dashboard::Totals;

pub const CSS: &str = include_str!("app.css");

/// An invoice key as one URL path segment.
pub fn seg(key: &str) -> String {
    utf8_percent_encode(key, NON_ALPHANUMERIC).to_string()
}

pub struct Ctx<'a> {
    /// The path the dashboard is served under (`""` behind API Gateway's `$default` stage;
    /// `/lambda-url/dashboard` under `cargo lambda watch`): every link starts with it.
    pub root: &'a str,
    pub who: &'a Principal,
    pub company: &'a Company,
}

impl Ctx<'_> {
    fn locale(&self) -> Locale {
        self.company.locale
    }
}

pub fn layout(r: &str, ctx: Option<&Ctx>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Invoice Bridge" }
                link rel="stylesheet" href={(r) "/static/app.css"};
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    p.brand { "Invoice Bridge" @if let Some(c) = ctx { " · " (c.company.name) } }
                    @if let Some(c) = ctx {
                        nav aria-label="Main" {
                            ul {
                                li { a href={(r) "/invoices"} { "Invoices" } }
                                li { a href={(r) "/vendor-invoices"} { "Vendor invoices" } }
                                li { a href={(r) "/refused"} { "Refused documents" } }
                                li { a href={(r) "/journal"} { "Journal export" } }
                            }
                        }
                        p.who { "Signed in as " (c.who.name()) " (" (c.who.role.as_str()) ") · " a href={(r) "/auth/logout"} { "Sign out" } }
                    }
                }
                main id="main" { h1 { (title) } (body) }
            }
        }
    }
}

pub fn message(r: &str, ctx: Option<&Ctx>, title: &str, text: &str, back: Option<(&str, &str)>) -> Markup {
    layout(
        r,
        ctx,
        title,
        html! {
            p.notice { (text) }
            @if let Some((href, label)) = back { p { a href={(r) (href)} { (label) } } }
        },
    )
}

fn status_badge(h: &InvoiceRecord) -> Markup {
    let review = review_of(h);
    html! {
        @if h.status == InvoiceStatus::Cancelled { span.badge.cancelled { "Cancelled" } }
        @else { span class={"badge " (review.as_str())} { (review.label()) } }
        @if h.matching.as_ref().is_some_and(|m| m.status == MatchStatus::Exception) { " " span.badge.exception { "Exception" } }
    }
}

pub struct ListView<'a> {
    pub filters: &'a Filters,
    pub invoices: &'a [InvoiceRecord],
    pub next: Option<String>,
    pub first_page: bool,
    pub totals: &'a Totals,
    /// The totals are of the whole set (else possibly partial: a link to the full ones).
    pub full: bool,
    /// For the "mark selected exported" form (approvers, Approved filter).
    pub csrf: &'a str,
}

fn invoice_table(r: &str, v: &ListView, loc: Locale, selectable: bool) -> Markup {
    html! {
        div.scroll {
            table {
                caption { "Received invoices (" (v.filters.sort.label().to_lowercase()) ")" }
                thead { tr {
                    @if selectable { th scope="col" { "Select" } }
                    th scope="col" { "Received" } th scope="col" { "Invoice" } th scope="col" { "Supplier" }
                    th scope="col" { "Invoice date" } th scope="col" { "PO" } th scope="col" { "Channel" }
                    th scope="col" { "Status" } th scope="col" class="num" { "Net amount" }
                } }
                tbody {
                    @for h in v.invoices {
                        tr {
                            @if selectable {
                                td { input type="checkbox" name="id" value=(h.invoice_key) id={"sel-" (seg(&h.invoice_key))} aria-label={"Select invoice " (h.invoice_id)}; }
                            }
                            td { (date(&h.received_at, loc)) }
                            td { a href={(r) "/invoices/" (seg(&h.invoice_key))} { (h.invoice_id) } }
                            td { (h.supplier_name.as_deref().unwrap_or(&h.supplier)) }
                            td { (date(&h.invoice_date, loc)) }
                            td { (h.order_ids.join(", ")) }
                            td { (h.source.channel.as_str()) }
                            td { (status_badge(h)) }
                            td.num { (money(&h.net, &h.currency, loc)) }
                        }
                    }
                }
            }
        }
    }
}

/// What "mark selected exported" did.
pub fn export_result(ctx: &Ctx, done: &[String], refused: &[String]) -> Markup {
    let r = ctx.root;
    let body = html! {
        p.notice role="status" { (done.len()) " invoice" @if done.len() != 1 { "s" } " marked exported." }
        @if !done.is_empty() { ul { @for d in done { li { (d) } } } }
        @if !refused.is_empty() {
            h2 { "Not changed" }
            ul { @for why in refused { li { (why) } } }
        }
        p { a href={(r) "/invoices?status=approved"} { "Back to the approved invoices" } " · " a href={(r) "/invoices?status=exported"} { "The exported invoices" } }
    };
    layout(r, Some(ctx), "Mark exported", body)
}

pub fn invoices(ctx: &Ctx, v: &ListView) -> Markup {
    let r = ctx.root;
    let f = v.filters;
    let loc = ctx.locale();
    let canonical = f.canonical();
    let sel = |a: bool| if a { Some("selected") } else { None };
    let selectable = ctx.who.can_act() && f.status == Some(ListStatus::Approved);
    let body = html! {
        form.filters method="get" action={(r) "/invoices"} aria-label="Filter invoices" {
            div { label for="from" { "Received from" } input id="from" name="from" type="date" value=(f.from); }
            div { label for="to" { "Received to" } input id="to" name="to" type="date" value=(f.to); }
            div { label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" selected=[sel(f.status.is_none())] { "Any" }
                    @for s in [ListStatus::ToProcess, ListStatus::Approved, ListStatus::Exported, ListStatus::Cancelled, ListStatus::Exception] {
                        option value=(s.as_str()) selected=[sel(f.status == Some(s))] { (s.label()) }
                    }
                }
            }
            div { label for="supplier" { "Supplier" } input id="supplier" name="supplier" type="text" maxlength="100" value=(f.supplier.as_deref().unwrap_or("")); }
            div { label for="invoice" { "Invoice number (or its start)" } input id="invoice" name="invoice" type="text" maxlength="100" value=(f.invoice.as_deref().unwrap_or("")); }
            div { label for="po" { "PO number" } input id="po" name="po" type="text" maxlength="100" value=(f.po.as_deref().unwrap_or("")); }
            div { label for="channel" { "Channel" }
                select id="channel" name="channel" {
                    option value="" selected=[sel(f.channel.is_none())] { "Any" }
                    @for c in CHANNELS { option value=(c) selected=[sel(f.channel.as_deref() == Some(c))] { (c) } }
                }
            }
            div { label for="sort" { "Sort" }
                select id="sort" name="sort" {
                    @for s in Sort::ALL { option value=(s.as_str()) selected=[sel(f.sort == s)] { (s.label()) } }
                }
            }
            div.actions { button type="submit" { "Apply filters" } " " a href={(r) "/invoices"} { "Reset" } }
        }
        section aria-labelledby="totals-h" {
            h2 id="totals-h" { "Totals of the filtered invoices" }
            (totals_list(v.totals, loc))
            @if v.totals.capped && !v.full {
                p.hint { "These totals cover the first " (v.totals.count) " invoices read. "
                    a href={(r) "/invoices/totals?" (canonical)} { "Compute the totals of every filtered invoice" } }
            }
            p.downloads {
                a href={(r) "/invoices.csv?" (canonical)} download { "Download CSV (one row per invoice)" } " · "
                a href={(r) "/invoices.csv?" (canonical) "&lines=1"} download { "Download CSV (one row per line)" }
            }
        }
        @if v.invoices.is_empty() {
            section.empty aria-labelledby="empty-h" {
                h2 id="empty-h" { "No invoices here" }
                @if v.first_page {
                    p { "No received invoice matches these filters between " (date(&f.from.to_string(), loc)) " and " (date(&f.to.to_string(), loc)) "." }
                    ul {
                        li { "Widen the date range or " a href={(r) "/invoices"} { "reset the filters" } "." }
                        li { "Invoices appear here once they are booked: suppliers send cXML to your HTTPS endpoint or e-mail address, or you drop documents in the bucket." }
                        li { "Documents that could not be booked are under " a href={(r) "/refused"} { "Refused documents" } "." }
                    }
                } @else { p { "No more invoices. " a href={(r) "/invoices?" (canonical)} { "Back to the first page" } } }
            }
        } @else if selectable {
            form method="post" action={(r) "/invoices/export"} {
                input type="hidden" name="csrf" value=(v.csrf);
                (invoice_table(r, v, loc, true))
                p { button type="submit" { "Mark selected invoices exported" } }
            }
        } @else {
            (invoice_table(r, v, loc, false))
        }
        nav.pager aria-label="Pages" {
            @if !v.first_page { a href={(r) "/invoices?" (canonical)} { "First page" } " " }
            @if let Some(n) = &v.next { a rel="next" href={(r) "/invoices?" (canonical) "&cursor=" (n)} { "Next page" } }
        }
    };
    layout(r, Some(ctx), "Invoices", body)
}

fn totals_list(t: &Totals, loc: Locale) -> Markup {
    html! {
        @if t.count == 0 { p { "No invoice matches." } }
        @else {
            ul.totals {
                @for (cur, (n, sum)) in &t.per_currency {
                    li { strong { (money(&sum.to_string(), cur, loc)) } " (" (n) " invoice" @if *n != 1 { "s" } ")" }
                }
            }
        }
    }
}

/// The full totals of a filtered set.
pub fn totals(ctx: &Ctx, f: &Filters, t: &Totals) -> Markup {
    let r = ctx.root;
    let loc = ctx.locale();
    let body = html! {
        p { "Net amounts of the invoices received from " (date(&f.from.to_string(), loc)) " to " (date(&f.to.to_string(), loc)) " that match the filters, per currency." }
        (totals_list(t, loc))
        @if t.capped { p.hint { "Stopped after " (t.count) " invoices: narrow the date range for exact totals." } }
        p { a href={(r) "/invoices?" (f.canonical())} { "Back to these invoices" } }
    };
    layout(r, Some(ctx), "Totals", body)
}

pub struct DetailView<'a> {
    pub h: &'a InvoiceRecord,
    pub lines: &'a [LineRecord],
    pub entries: &'a [EntryRecord],
    pub csrf: &'a str,
    pub notice: Option<&'a str>,
}

pub fn invoice(ctx: &Ctx, v: &DetailView) -> Markup {
    let r = ctx.root;
    let h = v.h;
    let loc = ctx.locale();
    let m = |x: &str| money(x, &h.currency, loc);
    let key = seg(&h.invoice_key);
    let review = review_of(h);
    let body = html! {
        @if let Some(n) = v.notice { p.notice role="status" { (n) } }
        p { (status_badge(h)) }
        section aria-labelledby="hdr" {
            h2 id="hdr" { "Header" }
            dl {
                dt { "Supplier" } dd { (h.supplier_name.as_deref().unwrap_or("")) " (" (h.supplier) ")" }
                dt { "Invoice number" } dd { (h.invoice_id) }
                dt { "Invoice date" } dd { (date(&h.invoice_date, loc)) }
                dt { "Received" } dd { (timestamp(&h.received_at, loc)) }
                dt { "Purpose" } dd { (h.purpose) }
                dt { "Payment terms" } dd { @if let Some(d) = h.payment_terms_days { (d) " days" } @else { "not stated" } }
                @if let Some(d) = h.purchase.as_ref().and_then(|p| p.due_date.as_deref()) { dt { "Due date" } dd { (date(d, loc)) } }
                dt { "PO number(s)" } dd { @if h.order_ids.is_empty() { "none" } @else { (h.order_ids.join(", ")) } }
                @if !h.supplier_order_ids.is_empty() { dt { "Supplier order(s)" } dd { (h.supplier_order_ids.join(", ")) } }
                dt { "Channel" } dd { (h.source.channel.as_str())
                    @if let Some(s) = &h.source.sender { " from " (s) }
                    @if let Some(s) = &h.source.subject { " — “" (s) "”" } }
                dt { "Source" } dd { code { (h.source_key) } }
            }
        }
        section aria-labelledby="dl" {
            h2 id="dl" { "Downloads" }
            ul {
                @if !h.document_key.is_empty() { li { a href={(r) "/invoices/" (key) "/original"} { "Original document (cXML)" } } }
                li { a href={(r) "/invoices/" (key) "/pdf"} { "Invoice as PDF" @if h.documents.is_empty() { " (rendered from its data)" } @else { " (the supplier's PDF)" } } }
            }
        }
        @if ctx.who.can_act() && h.status == InvoiceStatus::Valid && review != ReviewState::Exported {
            section aria-labelledby="act" {
                h2 id="act" { "Actions" }
                @if review == ReviewState::ToProcess {
                    form method="post" action={(r) "/invoices/" (key) "/approve"} {
                        input type="hidden" name="csrf" value=(v.csrf);
                        button type="submit" { "Approve" }
                    }
                }
                @if review == ReviewState::Approved {
                    form method="post" action={(r) "/invoices/" (key) "/export"} {
                        input type="hidden" name="csrf" value=(v.csrf);
                        button type="submit" { "Mark exported" }
                    }
                }
            }
        }
        section aria-labelledby="lines" {
            h2 id="lines" { "Lines" }
            div.scroll { table {
                caption { (v.lines.len()) " line" @if v.lines.len() != 1 { "s" } }
                thead { tr {
                    th scope="col" { "#" } th scope="col" { "Description" } th scope="col" { "Part" } th scope="col" class="num" { "Quantity" }
                    th scope="col" class="num" { "Unit price" } th scope="col" class="num" { "Amount" } th scope="col" class="num" { "Tax" }
                    th scope="col" { "GL coding" } th scope="col" { "PO" }
                } }
                tbody { @for l in v.lines { tr {
                    td { (l.line_number) }
                    td { (l.description.as_deref().unwrap_or("")) }
                    td { (l.supplier_part_id.as_deref().unwrap_or("")) }
                    td.num { (l.quantity.as_deref().unwrap_or("")) " " (l.unit_of_measure.as_deref().unwrap_or("")) }
                    td.num { @if let Some(p) = &l.unit_price { (m(p)) } }
                    td.num { @if let Some(p) = &l.subtotal { (m(p)) } }
                    td.num { @if let Some(p) = &l.tax { (m(p)) } }
                    td { (l.category)
                        @if let Some(a) = &l.amazon {
                            @if let Some(g) = &a.gl_code { br; "GL " (g) }
                            @if let Some(c) = &a.cost_center { br; "Cost centre " (c) }
                        } }
                    td { (l.po_number.as_deref().unwrap_or("")) }
                } } }
            } }
        }
        section aria-labelledby="tot" {
            h2 id="tot" { "Totals" }
            dl.totals {
                dt { "Subtotal" } dd { (m(&h.subtotal)) }
                dt { "Tax" } dd { (m(&h.tax)) }
                dt { "Shipping" } dd { (m(&h.shipping)) }
                dt { "Special handling" } dd { (m(&h.special_handling)) }
                dt { "Discount" } dd { (m(&h.discount)) }
                dt { "Net amount" } dd { strong { (m(&h.net)) } }
                dt { "Amount due" } dd { strong { (m(&h.due)) } }
            }
        }
        section aria-labelledby="match" {
            h2 id="match" { "Match" }
            @match &h.matching {
                None => p { "Not matched: no purchase order of yours has been matched to this invoice." },
                Some(mo) => {
                    p { @match mo.status { MatchStatus::Matched => "Matched", MatchStatus::Exception => "Exception" }
                        @if let Some(po) = &mo.po_number { " against " (po) } }
                    @if !mo.exceptions.is_empty() {
                        ul { @for e in &mo.exceptions { li { strong { (e.code.to_string()) } ": " (e.message) } } }
                    }
                }
            }
        }
        section aria-labelledby="journal" {
            h2 id="journal" { "Journal entries" }
            div.scroll { table {
                caption { "Booked and reversed lines" }
                thead { tr { th scope="col" { "Kind" } th scope="col" { "Date" } th scope="col" { "Account" } th scope="col" class="num" { "Debit" } th scope="col" class="num" { "Credit" } th scope="col" { "Memo" } } }
                tbody { @for e in v.entries { tr {
                    td { (e.kind) } td { (date(e.accounting_date(), loc)) } td { (e.line.account) }
                    @let amt = m(&e.line.amount.amount.to_string());
                    @if matches!(e.line.side, invoice_domain::invoice::accounting::Side::Debit) { td.num { (amt) } td {} } @else { td {} td.num { (amt) } }
                    td { (e.line.memo) }
                } } }
            } }
        }
        section aria-labelledby="hist" {
            h2 id="hist" { "History" }
            ol { @for ev in timeline(h) { li {
                (ev.what)
                @if let Some(at) = &ev.at { " — " (timestamp(at, loc)) }
                @if let Some(by) = &ev.by { " — " (by) }
            } } }
        }
        p { a href={(r) "/invoices"} { "Back to the invoices" } }
    };
    layout(r, Some(ctx), &format!("Invoice {}", h.invoice_id), body)
}

pub fn refused(ctx: &Ctx, recs: &[RejectionRecord], next: Option<String>, first: bool) -> Markup {
    let r = ctx.root;
    let loc = ctx.locale();
    let body = html! {
        p { "Documents that could not be booked. Each one is kept as received; fix the cause and send it again." }
        @if recs.is_empty() {
            section.empty { h2 { "Nothing refused" } p { "No document was refused in the last 24 months." } }
        }
        @for rec in recs {
            article.refused {
                h2 { @if let Some(i) = &rec.invoice_id { "Invoice " (i) } @else { "Document " (&rec.content_sha256[..12.min(rec.content_sha256.len())]) } }
                p { "Received " (timestamp(&rec.received_at, loc)) " by " (rec.source.channel.as_str())
                    @if let Some(s) = &rec.supplier { " from " (s) } }
                ul { @for e in &rec.errors { li { strong { (e.code.as_str()) } ": " (e.message) } } }
                p { strong { "What to do: " } (invoice_domain::invoice::ingest::advice(&rec.errors.iter().map(|e| e.code).collect::<Vec<_>>())) }
                p { a href={(r) "/refused/" (rec.content_sha256) "/original"} { "Download the original" } }
            }
        }
        nav.pager aria-label="Pages" {
            @if !first { a href={(r) "/refused"} { "First page" } " " }
            @if let Some(n) = next { a rel="next" href={(r) "/refused?cursor=" (n)} { "Next page" } }
        }
    };
    layout(r, Some(ctx), "Refused documents", body)
}

pub fn vendor_invoices(ctx: &Ctx, invs: &[VendorInvoice], next: Option<String>, first: bool) -> Markup {
    let r = ctx.root;
    let loc = ctx.locale();
    let body = html! {
        p { "Invoices sent to Amazon for your shipped orders." }
        @if invs.is_empty() { section.empty { h2 { "No vendor invoices" } p { "None was sent in the last 24 months. Shipped orders are queued to the vendor submission queue." } } }
        @else {
            div.scroll { table {
                caption { "Vendor invoices, newest first" }
                thead { tr { th scope="col" { "Order" } th scope="col" { "Status" } th scope="col" { "Transaction" } th scope="col" { "Created" } th scope="col" { "Updated" } } }
                tbody { @for i in invs { tr {
                    td { a href={(r) "/vendor-invoices/" (seg(&i.order_id))} { (i.order_id) } }
                    td { (vendor_status(i)) }
                    td { (i.transaction_id.as_deref().unwrap_or("—")) }
                    td { (timestamp(&i.created_at, loc)) }
                    td { (timestamp(&i.updated_at, loc)) }
                } } }
            } }
        }
        nav.pager aria-label="Pages" {
            @if !first { a href={(r) "/vendor-invoices"} { "First page" } " " }
            @if let Some(n) = next { a rel="next" href={(r) "/vendor-invoices?cursor=" (n)} { "Next page" } }
        }
    };
    layout(r, Some(ctx), "Vendor invoices", body)
}

/// Pending, Sent, Error, Unknown (a submission in flight counts as Pending).
pub fn vendor_status(i: &VendorInvoice) -> &'static str {
    use invoice_domain::vendor::records::InvoiceState::*;
    match i.status {
        Submitting | Pending => "Pending",
        Sent => "Sent",
        Error => "Error",
        Unknown => "Unknown",
    }
}

pub fn vendor_invoice(ctx: &Ctx, i: &VendorInvoice, order: Option<&Order>, errors: &[OrderError]) -> Markup {
    let r = ctx.root;
    let loc = ctx.locale();
    let body = html! {
        dl {
            dt { "Order" } dd { (i.order_id) }
            @if let Some(o) = order {
                dt { "Order status" } dd { (o.status) }
                dt { "Marketplace order" } dd { (o.marketplace_order_id.as_deref().unwrap_or("")) }
            }
            dt { "Invoice status" } dd { (vendor_status(i)) }
            dt { "Transaction" } dd { (i.transaction_id.as_deref().unwrap_or("none yet")) }
            dt { "Created" } dd { (timestamp(&i.created_at, loc)) }
            dt { "Updated" } dd { (timestamp(&i.updated_at, loc)) }
            @if let Some(e) = &i.integration_error { dt { "Integration error" } dd { (e) } }
        }
        h2 { "Order errors" }
        @if errors.is_empty() { p { "None." } }
        @else { ul { @for e in errors { li {
            strong { (e.code) } " (" (format!("{:?}", e.source)) ", " (timestamp(&e.at, loc)) "): " (e.message)
        } } } }
        p { a href={(r) "/vendor-invoices"} { "Back to the vendor invoices" } }
    };
    layout(r, Some(ctx), &format!("Vendor invoice {}", i.order_id), body)
}

pub fn journal(ctx: &Ctx, today: &str, month_start: &str) -> Markup {
    let r = ctx.root;
    let body = html! {
        p { "The journal (booked and reversed entries) by accounting date, as CSV or FEC." }
        form method="get" action={(r) "/journal/export"} {
            div { label for="jfrom" { "From" } input id="jfrom" name="from" type="date" required value=(month_start); }
            div { label for="jto" { "To" } input id="jto" name="to" type="date" required value=(today); }
            div { label for="jformat" { "Format" } select id="jformat" name="format" { option value="csv" { "CSV" } option value="fec" { "FEC (France)" } } }
            div.actions { button type="submit" { "Download" } }
        }
    };
    layout(r, Some(ctx), "Journal export", body)
}

pub fn signed_out(r: &str) -> Markup {
    layout(r, None, "Signed out", html! { p { "You are signed out. " a href={(r) "/invoices"} { "Sign in again" } } })
}
