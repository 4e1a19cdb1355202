//! The dashboard's reads and its two writes, on the single table. No Scan: every listing is a
//! Query of one company's index partitions, month by month.
//!
//! **Listing invoices.** A listing is one or two *streams* of partitions, each walked month by
//! month over the received-date range (newest first, or oldest first):
//!
//! | status filter | stream(s) |
//! |---|---|
//! | (any) | GSI2 `STATUS#Valid#<month>` + GSI2 `STATUS#Cancelled#<month>`, merged by sort key |
//! | To process / Approved / Exported | GSI2 `STATUS#Valid#<month>` + a FilterExpression on the review status |
//! | Cancelled | GSI2 `STATUS#Cancelled#<month>` (by the month it was cancelled) |
//! | Exception | GSI1 `MATCH#Exception#<month>` |
//!
//! The date range is a sort-key range (`<received>#<key>`); supplier, invoice number, PO number
//! and channel are FilterExpressions: they shrink what is returned, not what is read (the read
//! cost is the month partitions of the range). A page's position is, per stream, the month and
//! the key of the last item shown ([`Position`]): the next page starts right after it
//! (ExclusiveStartKey), never at an offset.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use invoice_domain::core::PortError;
use invoice_domain::invoice::records::{status_month, InvoiceRecord, InvoiceStatus, RejectionRecord};
use invoice_domain::invoice::review::{review_of, Action, HistoryEntry, ListStatus, ReviewState};
use invoice_domain::vendor::records::{Order, OrderError, VendorInvoice};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::keys::{invoice_pk, match_status_pk, order_pk, status_pk, vendor_invoices_pk, ERROR_SK_PREFIX, HEADER_SK, INVOICE_SK, ORDER_SK};
use crate::sdk_err;
use crate::table::{condition_failed, from_item, get, s, to_item, Item, Q};

/// What to list: one company's invoices received in `months` (`YYYY-MM`, in walking order),
/// with sort keys from `low` to `high`, and the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub company: String,
    pub status: Option<ListStatus>,
    /// Walking order: newest first (true) or oldest first.
    pub newest_first: bool,
    pub months: Vec<String>,
    /// Sort-key bounds (`YYYY-MM-DD` and `YYYY-MM-DD~`).
    pub low: String,
    pub high: String,
    /// Part of the supplier's key or name (case as written).
    pub supplier: Option<String>,
    pub invoice_number: Option<String>,
    pub po_number: Option<String>,
    pub channel: Option<String>,
}

/// Where a stream stopped: the month (index into [`Listing::months`]) and the key of the last
/// item returned from it (`None`: start of that month). `done`: nothing left.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPos {
    #[serde(rename = "m")]
    pub month: u16,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub after: Option<BTreeMap<String, String>>,
    #[serde(rename = "d", default, skip_serializing_if = "std::ops::Not::not")]
    pub done: bool,
}

/// A page's position in a listing (one entry per stream).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position(pub Vec<StreamPos>);

#[derive(Debug, Clone)]
struct Stream {
    index: &'static str,
    kind: &'static str,
    filter: Option<&'static str>,
}

impl Stream {
    fn pk(&self, company: &str, month: &str) -> String {
        match self.kind {
            "Exception" => match_status_pk(company, "Exception", month),
            k => status_pk(company, k, month),
        }
    }
    fn key_attrs(&self) -> [String; 4] {
        ["PK".into(), "SK".into(), format!("{}PK", self.index), format!("{}SK", self.index)]
    }
}

const TO_PROCESS: &str = "(#rs = :tp) OR (attribute_not_exists(#rs) AND (attribute_not_exists(#pu) OR #pu.#rv <> :processed))";
const APPROVED: &str = "(#rs = :ap) OR (attribute_not_exists(#rs) AND #pu.#rv = :processed)";
const EXPORTED: &str = "#rs = :ex";

fn streams(status: Option<ListStatus>) -> Vec<Stream> {
    let valid = |filter| Stream { index: "GSI2", kind: "Valid", filter };
    match status {
        None => vec![valid(None), Stream { index: "GSI2", kind: "Cancelled", filter: None }],
        Some(ListStatus::ToProcess) => vec![valid(Some(TO_PROCESS))],
        Some(ListStatus::Approved) => vec![valid(Some(APPROVED))],
        Some(ListStatus::Exported) => vec![valid(Some(EXPORTED))],
        Some(ListStatus::Cancelled) => vec![Stream { index: "GSI2", kind: "Cancelled", filter: None }],
        Some(ListStatus::Exception) => vec![Stream { index: "GSI1", kind: "Exception", filter: None }],
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page {
    pub invoices: Vec<InvoiceRecord>,
    /// Where the next page starts; `None`: this was the last page.
    pub next: Option<Position>,
}

/// Totals of a listing's whole filtered set, per currency (net amounts), with how many
/// invoices they cover; `capped` when the walk stopped at its bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub per_currency: BTreeMap<String, (usize, Decimal)>,
    pub count: usize,
    pub capped: bool,
}

/// The dashboard's repository of one deployment (company given per call).
#[derive(Clone)]
pub struct DashboardRepo {
    pub client: Client,
    pub table: String,
}

struct Candidate {
    stream: usize,
    month: u16,
    sort_key: String,
    key: BTreeMap<String, String>,
    item: Item,
}

impl DashboardRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DashboardRepo { client, table: table.into() }
    }

    /// The listing's initial position.
    pub fn start(listing: &Listing) -> Position {
        Position(streams(listing.status).iter().map(|_| StreamPos::default()).collect())
    }

    /// One Query of a stream's month partition from `after`: its items and whether more remain.
    async fn query(
        &self,
        l: &Listing,
        st: &Stream,
        month: &str,
        after: Option<&BTreeMap<String, String>>,
        limit: usize,
        projection: bool,
    ) -> Result<(Vec<Item>, Option<Item>), PortError> {
        let pk = st.pk(&l.company, month);
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(st.index)
            .key_condition_expression("#ipk = :pk AND #isk BETWEEN :lo AND :hi")
            .expression_attribute_names("#ipk", format!("{}PK", st.index))
            .expression_attribute_names("#isk", format!("{}SK", st.index))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lo", s(&l.low))
            .expression_attribute_values(":hi", s(&l.high))
            .scan_index_forward(!l.newest_first)
            .limit(limit.clamp(1, 1000) as i32);
        let mut filters: Vec<String> = Vec::new();
        if let Some(f) = st.filter {
            filters.push(format!("({f})"));
            q = q.expression_attribute_names("#rs", "review_status");
            if f != EXPORTED {
                q = q.expression_attribute_names("#pu", "purchase").expression_attribute_names("#rv", "review");
            }
            q = match f {
                TO_PROCESS => q.expression_attribute_values(":tp", s(ReviewState::ToProcess.as_str())),
                APPROVED => q.expression_attribute_values(":ap", s(ReviewState::Approved.as_str())),
                _ => q.expression_attribute_values(":ex", s(ReviewState::Exported.as_str())),
            };
            if f != EXPORTED {
                q = q.expression_attribute_values(":processed", s("processed"));
            }
        }
        if let Some(v) = &l.supplier {
            filters.push("(contains(#sup, :sup) OR contains(#sname, :sup))".into());
            q = q
                .expression_attribute_names("#sup", "supplier")
                .expression_attribute_names("#sname", "supplier_name")
                .expression_attribute_values(":sup", s(v));
        }
        if let Some(v) = &l.invoice_number {
            filters.push("begins_with(#iid, :iid)".into());
            q = q.expression_attribute_names("#iid", "invoice_id").expression_attribute_values(":iid", s(v));
        }
        if let Some(v) = &l.po_number {
            filters.push("contains(#po, :po)".into());
            q = q.expression_attribute_names("#po", "order_ids").expression_attribute_values(":po", s(v));
        }
        if let Some(v) = &l.channel {
            filters.push("#src.#ch = :ch".into());
            q = q
                .expression_attribute_names("#src", "source")
                .expression_attribute_names("#ch", "channel")
                .expression_attribute_values(":ch", s(v));
        }
        if !filters.is_empty() {
            q = q.filter_expression(filters.join(" AND "));
        }
        if projection {
            q = q
                .projection_expression("#pk0, #net, #cur")
                .expression_attribute_names("#pk0", "PK")
                .expression_attribute_names("#net", "net")
                .expression_attribute_names("#cur", "currency");
        }
        if let Some(after) = after {
            for (k, v) in after {
                q = q.exclusive_start_key(k, s(v));
            }
        }
        let out = q.send().await.map_err(|e| sdk_err("dynamodb query (dashboard)", e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key.filter(|k| !k.is_empty())))
    }

    /// Up to `want` items of one stream from its position (across months).
    async fn candidates(
        &self,
        l: &Listing,
        idx: usize,
        st: &Stream,
        pos: &StreamPos,
        want: usize,
    ) -> Result<(Vec<Candidate>, bool), PortError> {
        let mut out = Vec::new();
        if pos.done {
            return Ok((out, true));
        }
        let mut month = pos.month as usize;
        let mut after = pos.after.clone();
        let attrs = st.key_attrs();
        while month < l.months.len() && out.len() < want {
            let limit = if st.filter.is_some()
                || l.supplier.is_some()
                || l.invoice_number.is_some()
                || l.po_number.is_some()
                || l.channel.is_some()
            {
                200
            } else {
                want - out.len()
            };
            let (items, lek) = self.query(l, st, &l.months[month], after.as_ref(), limit, false).await?;
            for item in items {
                let key: BTreeMap<String, String> = attrs
                    .iter()
                    .filter_map(|a| match item.get(a) {
                        Some(AttributeValue::S(v)) => Some((a.clone(), v.clone())),
                        _ => None,
                    })
                    .collect();
                let sort_key = key.get(&attrs[3]).cloned().unwrap_or_default();
                out.push(Candidate { stream: idx, month: month as u16, sort_key, key, item });
                if out.len() >= want {
                    break;
                }
            }
            if out.len() >= want {
                break;
            }
            match lek {
                Some(k) => {
                    after = Some(
                        k.into_iter()
                            .filter_map(|(a, v)| match v {
                                AttributeValue::S(v) => Some((a, v)),
                                _ => None,
                            })
                            .collect(),
                    );
                }
                None => {
                    month += 1;
                    after = None;
                }
            }
        }
        let exhausted = month >= l.months.len();
        Ok((out, exhausted))
    }

    /// One page of `size` invoices from `pos`, in the listing's order.
    pub async fn page(&self, l: &Listing, pos: &Position, size: usize) -> Result<Page, PortError> {
        let sts = streams(l.status);
        if pos.0.len() != sts.len() {
            return Err(PortError("the position does not fit the listing".into()));
        }
        let mut all = Vec::new();
        let mut exhausted = Vec::new();
        // The streams (at most two) are read at the same time.
        let results = match sts.as_slice() {
            [a, b] => {
                let (x, y) = tokio::join!(self.candidates(l, 0, a, &pos.0[0], size + 1), self.candidates(l, 1, b, &pos.0[1], size + 1));
                vec![x?, y?]
            }
            _ => {
                let mut v = Vec::new();
                for (i, st) in sts.iter().enumerate() {
                    v.push(self.candidates(l, i, st, &pos.0[i], size + 1).await?);
                }
                v
            }
        };
        for (c, ex) in results {
            all.extend(c);
            exhausted.push(ex);
        }
        // Merge: sort keys start with the received (or cancelled) time.
        all.sort_by(|a, b| if l.newest_first { b.sort_key.cmp(&a.sort_key) } else { a.sort_key.cmp(&b.sort_key) });
        let more_left = all.len() > size;
        let shown: Vec<Candidate> = all.drain(..all.len().min(size)).collect();
        let left: Vec<usize> = all.iter().map(|c| c.stream).collect();
        let mut next = pos.clone();
        for c in &shown {
            next.0[c.stream] = StreamPos { month: c.month, after: Some(c.key.clone()), done: false };
        }
        for (i, p) in next.0.iter_mut().enumerate() {
            if exhausted[i] && !left.contains(&i) {
                *p = StreamPos { done: true, ..Default::default() };
            }
        }
        let invoices = shown.into_iter().map(|c| from_item(c.item)).collect::<Result<Vec<InvoiceRecord>, _>>()?;
        let has_more = more_left || next.0.iter().any(|p| !p.done);
        Ok(Page { invoices, next: has_more.then_some(next) })
    }

    /// Every invoice of the listing, up to `cap` (for sorting by amount and the CSV export).
    /// `Err` is a storage failure; `Ok((items, true))`: more than `cap` exist.
    pub async fn all(&self, l: &Listing, cap: usize) -> Result<(Vec<InvoiceRecord>, bool), PortError> {
        let mut out = Vec::new();
        let mut pos = Self::start(l);
        loop {
            let page = self.page(l, &pos, 500.min(cap + 1 - out.len().min(cap))).await?;
            out.extend(page.invoices);
            if out.len() > cap {
                out.truncate(cap);
                return Ok((out, true));
            }
            match page.next {
                Some(n) => pos = n,
                None => return Ok((out, false)),
            }
        }
    }

    /// Totals of the whole filtered set: its month partitions read with a projection (net,
    /// currency), at most `cap` invoices and (when given) until `deadline`; `capped` when
    /// either stopped the walk before the end.
    pub async fn totals(&self, l: &Listing, cap: usize, deadline: Option<std::time::Instant>) -> Result<Totals, PortError> {
        let mut t = Totals::default();
        for st in streams(l.status) {
            for month in &l.months {
                let mut after: Option<BTreeMap<String, String>> = None;
                loop {
                    // Under a deadline, small pages: the walk stops soon after it.
                    let limit = if deadline.is_some() { 150 } else { 1000 };
                    let (items, lek) = self.query(l, &st, month, after.as_ref(), limit, true).await?;
                    for item in items {
                        let (Some(AttributeValue::S(net)), Some(AttributeValue::S(cur))) = (item.get("net"), item.get("currency")) else {
                            continue;
                        };
                        let e = t.per_currency.entry(cur.clone()).or_insert((0, Decimal::ZERO));
                        e.0 += 1;
                        e.1 += net.parse::<Decimal>().unwrap_or_default();
                        t.count += 1;
                    }
                    if t.count >= cap || deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        t.capped = true;
                        return Ok(t);
                    }
                    match lek {
                        Some(k) => {
                            after = Some(
                                k.into_iter()
                                    .filter_map(|(a, v)| match v {
                                        AttributeValue::S(v) => Some((a, v)),
                                        _ => None,
                                    })
                                    .collect(),
                            )
                        }
                        None => break,
                    }
                }
            }
        }
        Ok(t)
    }

    /// One of the company's invoice headers (strongly consistent); `None` also for an
    /// `Ingesting` one (not booked yet).
    pub async fn invoice(&self, company: &str, key: &str) -> Result<Option<InvoiceRecord>, PortError> {
        let h: Option<InvoiceRecord> =
            get(&self.client, &self.table, &invoice_pk(company, key), HEADER_SK, "invoice").await?.map(from_item).transpose()?;
        Ok(h.filter(|h| h.company == company && h.status != InvoiceStatus::Ingesting))
    }

    /// Applies an action (approve, mark exported) by `by` at `at`, conditionally: only from the
    /// status it applies to. `Ok(Err(reason))`: refused (another person was first, or the
    /// invoice is not in that status), nothing written; `Ok(Ok(header))`: done.
    pub async fn act(
        &self,
        company: &str,
        key: &str,
        action: Action,
        by: HistoryEntry,
    ) -> Result<Result<InvoiceRecord, String>, PortError> {
        let (to, condition) = match action {
            Action::Approved => (ReviewState::Approved, format!("#st = :valid AND ({TO_PROCESS})")),
            Action::Exported => (ReviewState::Exported, format!("#st = :valid AND ({APPROVED})")),
        };
        let entry = AttributeValue::M(to_item(&by)?);
        let mut u = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(company, key)))
            .key("SK", s(HEADER_SK))
            .update_expression("SET #rs = :to, #hist = list_append(if_not_exists(#hist, :empty), :entry)")
            .condition_expression(condition)
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#rs", "review_status")
            .expression_attribute_names("#pu", "purchase")
            .expression_attribute_names("#rv", "review")
            .expression_attribute_names("#hist", "history")
            .expression_attribute_values(":valid", s(InvoiceStatus::Valid.as_str()))
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":processed", s("processed"))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", AttributeValue::L(vec![entry]))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        u = match action {
            Action::Approved => u.expression_attribute_values(":tp", s(ReviewState::ToProcess.as_str())),
            Action::Exported => u.expression_attribute_values(":ap", s(ReviewState::Approved.as_str())),
        };
        match u.send().await {
            Ok(out) => Ok(Ok(from_item(out.attributes.unwrap_or_default())?)),
            Err(e) if condition_failed(&e) => {
                let now = self.invoice(company, key).await?;
                Ok(Err(match now {
                    Some(h) => invoice_domain::invoice::review::refusal(&h, action)
                        .unwrap_or_else(|| format!("the invoice changed meanwhile (now {}): try again", review_of(&h).label())),
                    None => "no such invoice".into(),
                }))
            }
            Err(e) => Err(sdk_err("dynamodb update review", e)),
        }
    }

    /// A company's rejected documents received in `months` (walking order), `size` from `pos`.
    pub async fn rejections(
        &self,
        company: &str,
        months: &[String],
        pos: &StreamPos,
        size: usize,
    ) -> Result<(Vec<RejectionRecord>, Option<StreamPos>), PortError> {
        let l = Listing {
            company: company.into(),
            newest_first: true,
            months: months.to_vec(),
            low: "0".into(),
            high: "~".into(),
            ..Default::default()
        };
        let st = Stream { index: "GSI2", kind: "Rejected", filter: None };
        let (c, exhausted) = self.candidates(&l, 0, &st, pos, size + 1).await?;
        let more = c.len() > size || !exhausted;
        let shown: Vec<Candidate> = c.into_iter().take(size).collect();
        let next = shown.last().map(|c| StreamPos { month: c.month, after: Some(c.key.clone()), done: false });
        let recs = shown.into_iter().map(|c| from_item(c.item)).collect::<Result<Vec<RejectionRecord>, _>>()?;
        Ok((recs.into_iter().filter(|r| r.company == company).collect(), if more { next.or(Some(pos.clone())) } else { None }))
    }

    /// One of the company's rejections by its document's SHA-256.
    pub async fn rejection(&self, company: &str, sha: &str) -> Result<Option<RejectionRecord>, PortError> {
        let r: Option<RejectionRecord> =
            get(&self.client, &self.table, &crate::keys::rejection_pk(company, sha), crate::keys::REJECTED_SK, "rejection")
                .await?
                .map(from_item)
                .transpose()?;
        Ok(r.filter(|r| r.company == company))
    }

    /// A company's vendor invoices created in `months` (newest first), `size` from `pos`.
    pub async fn vendor_invoices(
        &self,
        company: &str,
        months: &[String],
        pos: &StreamPos,
        size: usize,
    ) -> Result<(Vec<VendorInvoice>, Option<StreamPos>), PortError> {
        let mut out = Vec::new();
        let mut month = pos.month as usize;
        let mut after = pos.after.clone();
        let mut last: Option<StreamPos> = None;
        while month < months.len() && out.len() <= size {
            let pk = vendor_invoices_pk(company, &months[month]);
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("GSI3")
                .key_condition_expression("GSI3PK = :pk")
                .expression_attribute_values(":pk", s(pk))
                .scan_index_forward(false)
                .limit((size + 1 - out.len()) as i32);
            if let Some(a) = &after {
                for (k, v) in a {
                    q = q.exclusive_start_key(k, s(v));
                }
            }
            let res = q.send().await.map_err(|e| sdk_err("dynamodb query vendor invoices", e))?;
            for item in res.items.unwrap_or_default() {
                let key: BTreeMap<String, String> = ["PK", "SK", "GSI3PK", "GSI3SK"]
                    .iter()
                    .filter_map(|a| match item.get(*a) {
                        Some(AttributeValue::S(v)) => Some((a.to_string(), v.clone())),
                        _ => None,
                    })
                    .collect();
                if out.len() == size {
                    return Ok((out, last));
                }
                last = Some(StreamPos { month: month as u16, after: Some(key), done: false });
                out.push(from_item::<VendorInvoice>(item)?);
            }
            match res.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => {
                    after = Some(
                        k.into_iter()
                            .filter_map(|(a, v)| match v {
                                AttributeValue::S(v) => Some((a, v)),
                                _ => None,
                            })
                            .collect(),
                    )
                }
                None => {
                    month += 1;
                    after = None;
                }
            }
        }
        Ok((out, None))
    }

    /// One of the company's vendor invoices with its order and its Order Errors.
    pub async fn vendor_invoice(
        &self,
        company: &str,
        order_id: &str,
    ) -> Result<Option<(VendorInvoice, Option<Order>, Vec<OrderError>)>, PortError> {
        let pk = order_pk(company, order_id);
        let Some(inv) = get(&self.client, &self.table, &pk, INVOICE_SK, "vendor invoice").await? else { return Ok(None) };
        if !matches!(inv.get("company"), Some(AttributeValue::S(c)) if c == company) {
            return Ok(None);
        }
        let inv: VendorInvoice = from_item(inv)?;
        let order: Option<Order> = get(&self.client, &self.table, &pk, ORDER_SK, "order").await?.map(from_item).transpose()?;
        let errors = Q::partition(&pk)
            .prefix(ERROR_SK_PREFIX)
            .all(&self.client, &self.table)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok(Some((inv, order, errors)))
    }
}

/// The month partitions a vendor invoice or rejection of `timestamp` is listed in.
pub fn month_of(timestamp: &str) -> &str {
    status_month(timestamp)
}
