//! Emulator state: faults, recordings, transactions, tokens, buckets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bucket::Bucket;
use crate::business::Business;
use crate::ordering::{OrderingSettings, Plan, StoredOrder};
use crate::{model, Config, HDR_ACCESS_TOKEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Submit,
    GetTransaction,
    Token,
    /// Amazon Business Ordering API placeOrder.
    PlaceOrder,
    /// Amazon Business Ordering API orderDetails.
    OrderDetails,
    /// Amazon Business Reconciliation API getTransactions.
    GetTransactions,
    /// Reconciliation API getInvoiceDetailsByOrderLineItems.
    GetInvoiceDetails,
    /// Reconciliation API getBatchInvoicePaymentDetails.
    GetPaymentDetails,
    /// Amazon Business Document (Reports) API createReport.
    CreateReport,
    /// Document API getReport.
    GetReport,
    /// Document API cancelReport.
    CancelReport,
    /// Document API getReportDocument.
    GetReportDocument,
    /// A `GET` on a report document's presigned-like URL (no token, no rate limit).
    DocumentDownload,
}

impl Operation {
    pub(crate) fn method(self) -> &'static str {
        match self {
            Operation::GetTransaction
            | Operation::OrderDetails
            | Operation::GetTransactions
            | Operation::GetReport
            | Operation::GetReportDocument
            | Operation::DocumentDownload => "GET",
            Operation::Submit
            | Operation::Token
            | Operation::PlaceOrder
            | Operation::GetInvoiceDetails
            | Operation::GetPaymentDetails
            | Operation::CreateReport => "POST",
            Operation::CancelReport => "DELETE",
        }
    }

    /// Its group in the stats (`token_status` for LWA, whose request count is `token`).
    pub(crate) fn stats_group(self) -> &'static str {
        match self {
            Operation::Submit => "submit",
            Operation::GetTransaction => "get_transaction",
            Operation::Token => "token_status",
            Operation::PlaceOrder => "place_order",
            Operation::OrderDetails => "order_details",
            Operation::GetTransactions => "get_transactions",
            Operation::GetInvoiceDetails => "get_invoice_details",
            Operation::GetPaymentDetails => "get_payment_details",
            Operation::CreateReport => "create_report",
            Operation::GetReport => "get_report",
            Operation::CancelReport => "cancel_report",
            Operation::GetReportDocument => "get_report_document",
            Operation::DocumentDownload => "document_download",
        }
    }
}

/// An SP-API `Error` (also the shape of configured transaction errors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// Faults currently armed (the `/_emulator/faults` document).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Faults {
    pub(crate) fail_next: u32,
    pub(crate) fail_status: u16,
    pub(crate) throttle_next: u32,
    pub(crate) drop_next: u32,
    /// Process the request normally (the transaction exists), then close the connection
    /// without sending the answer: the client cannot know the outcome.
    pub(crate) lose_response_next: u32,
    pub(crate) delay_ms: u64,
    pub(crate) stall_next: u32,
    pub(crate) processing_polls: u32,
    pub(crate) reject_invoice_ids: BTreeMap<String, Vec<ApiError>>,
    /// Invoice ids whose submission is refused synchronously with HTTP 400 and these errors
    /// (Amazon's business-rule rejections, which a schema-valid body can still get).
    pub(crate) invalid_invoice_ids: BTreeMap<String, Vec<ApiError>>,
    pub(crate) lwa_fail_next: u32,
    /// When set, fail/throttle/drop/stall only hit this operation.
    pub(crate) operation: Option<Operation>,
    /// getReport answers IN_QUEUE, then IN_PROGRESS, this many times before the final status
    /// (each report takes the value current at its createReport).
    pub(crate) report_polls: u32,
    /// The next reports created end FATAL.
    pub(crate) report_fatal_next: u32,
    /// The next reports created end CANCELLED.
    pub(crate) report_cancelled_next: u32,
    /// The next getReportDocument answers carry a URL that has already expired.
    pub(crate) expired_url_next: u32,
}

impl Faults {
    pub(crate) fn new(config: &Config) -> Faults {
        Faults {
            fail_next: 0,
            fail_status: 500,
            throttle_next: 0,
            drop_next: 0,
            lose_response_next: 0,
            delay_ms: 0,
            stall_next: 0,
            processing_polls: config.processing_polls,
            reject_invoice_ids: BTreeMap::new(),
            invalid_invoice_ids: BTreeMap::new(),
            lwa_fail_next: 0,
            operation: None,
            report_polls: config.report_processing_polls,
            report_fatal_next: 0,
            report_cancelled_next: 0,
            expired_url_next: 0,
        }
    }
}

/// Body of `POST /_emulator/faults`; every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultsPatch {
    pub(crate) fail_next: Option<u32>,
    pub(crate) fail_status: Option<u16>,
    pub(crate) throttle_next: Option<u32>,
    pub(crate) drop_next: Option<u32>,
    pub(crate) lose_response_next: Option<u32>,
    pub(crate) delay_ms: Option<u64>,
    pub(crate) stall_next: Option<u32>,
    pub(crate) processing_polls: Option<u32>,
    /// Merged into the current map; an empty error list removes the id.
    pub(crate) reject_invoice_ids: Option<BTreeMap<String, Vec<ApiError>>>,
    /// Merged like `reject_invoice_ids`; these ids get a synchronous 400.
    pub(crate) invalid_invoice_ids: Option<BTreeMap<String, Vec<ApiError>>>,
    pub(crate) lwa_fail_next: Option<u32>,
    /// An operation name (`"submit"`, `"get_transactions"`, `"document_download"`, …), or null for all.
    #[serde(default, deserialize_with = "some")]
    pub(crate) operation: Option<Option<Operation>>,
    pub(crate) report_polls: Option<u32>,
    pub(crate) report_fatal_next: Option<u32>,
    pub(crate) report_cancelled_next: Option<u32>,
    pub(crate) expired_url_next: Option<u32>,
}

pub(crate) fn some<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

pub(crate) enum Fault {
    Drop,
    Stall,
    Throttle,
    Fail(StatusCode),
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Recorded {
    pub(crate) seq: u64,
    pub(crate) request_id: String,
    pub(crate) operation: Operation,
    /// The selling partner of the access token (API calls) or refresh token (LWA); null
    /// when the token is unknown.
    pub(crate) partner: Option<String>,
    pub(crate) method: String,
    pub(crate) path: String,
    /// Null while in flight, or when the connection was dropped/stalled on purpose.
    pub(crate) status: Option<u16>,
    /// `"drop"`, `"stall"`, `"throttle"` or `"fail"` when a fault answered.
    pub(crate) fault: Option<&'static str>,
    pub(crate) at: String,
    pub(crate) invoice_ids: Vec<String>,
    /// The order's `externalId` (placeOrder body, orderDetails path); null for the others.
    pub(crate) external_id: Option<String>,
    pub(crate) body: Value,
}

/// The ids a recorded request is about.
#[derive(Debug, Default)]
pub(crate) struct RecordedIds {
    pub(crate) invoice_ids: Vec<String>,
    pub(crate) external_id: Option<String>,
}

impl RecordedIds {
    pub(crate) fn invoices(invoice_ids: Vec<String>) -> RecordedIds {
        RecordedIds { invoice_ids, external_id: None }
    }
    pub(crate) fn order(external_id: Option<String>) -> RecordedIds {
        RecordedIds { invoice_ids: Vec::new(), external_id }
    }
}

pub(crate) struct Transaction {
    pub(crate) polls: u32,
    pub(crate) processing_polls: u32,
    pub(crate) failure: Option<Vec<ApiError>>,
}

/// An access token LWA issued.
pub(crate) struct Issued {
    pub(crate) partner: String,
    pub(crate) expires: Instant,
    /// Its partner's refresh token was revoked after it was issued: dead for good.
    pub(crate) revoked: bool,
}

/// What the `x-amz-access-token` header of a request comes to.
pub(crate) enum Access {
    Granted {
        partner: String,
    },
    /// Missing, unknown, expired or revoked; the partner when the token is known.
    Denied {
        partner: Option<String>,
    },
}

/// Counts per group (`submit`, `get_transaction`, `token_status`) and status.
pub(crate) type Counts = BTreeMap<&'static str, BTreeMap<String, u64>>;

pub(crate) struct Inner {
    /// Invoice id → the transaction that first carried it (duplicate detection).
    /// (selling partner, invoice number) → the transaction that first accepted it.
    pub(crate) accepted_invoices: HashMap<(String, String), String>,
    pub(crate) faults: Faults,
    pub(crate) requests: Vec<Recorded>,
    pub(crate) next_seq: u64,
    pub(crate) stats: Counts,
    /// The same counts per selling partner.
    pub(crate) partner_stats: BTreeMap<String, Counts>,
    pub(crate) token_requests: u64,
    pub(crate) transactions: HashMap<String, Transaction>,
    /// Access token → what LWA issued it for.
    pub(crate) tokens: HashMap<String, Issued>,
    /// Partners whose refresh token is revoked (LWA answers `invalid_grant`).
    pub(crate) revoked: BTreeSet<String>,
    /// Token buckets per (selling partner, operation), created full on first use.
    pub(crate) buckets: HashMap<(String, Operation), Bucket>,
    /// Placed orders per (selling partner, order `externalId`).
    pub(crate) orders: BTreeMap<(String, String), StoredOrder>,
    /// How orders are answered (`/_emulator/ordering`).
    pub(crate) ordering: OrderingSettings,
    /// Amazon Business Reconciliation + Document data (`/_emulator/business/seed`), page
    /// tokens, reports.
    pub(crate) business: Business,
}

impl Inner {
    pub(crate) fn take_fault(&mut self, op: Operation) -> Option<Fault> {
        if self.faults.operation.is_some_and(|only| only != op) {
            return None;
        }
        let f = &mut self.faults;
        if f.drop_next > 0 {
            f.drop_next -= 1;
            Some(Fault::Drop)
        } else if f.stall_next > 0 {
            f.stall_next -= 1;
            Some(Fault::Stall)
        } else if f.throttle_next > 0 {
            f.throttle_next -= 1;
            Some(Fault::Throttle)
        } else if f.fail_next > 0 {
            f.fail_next -= 1;
            Some(Fault::Fail(StatusCode::from_u16(f.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)))
        } else {
            None
        }
    }

    /// The bucket of one partner's operation.
    pub(crate) fn bucket(&mut self, config: &Config, partner: &str, op: Operation) -> &mut Bucket {
        let (rate, burst) = config.plan(op);
        self.buckets.entry((partner.to_owned(), op)).or_insert_with(|| Bucket::new(rate, burst))
    }

    pub(crate) fn access(&self, headers: &HeaderMap) -> Access {
        let issued = headers.get(HDR_ACCESS_TOKEN).and_then(|v| v.to_str().ok()).and_then(|t| self.tokens.get(t.trim()));
        match issued {
            Some(i) if !i.revoked && Instant::now() < i.expires => Access::Granted { partner: i.partner.clone() },
            Some(i) => Access::Denied { partner: Some(i.partner.clone()) },
            None => Access::Denied { partner: None },
        }
    }

    /// Revokes (or reinstates) a partner's refresh token; revoking kills its access tokens.
    pub(crate) fn set_revoked(&mut self, partner: &str, revoked: bool) {
        if revoked {
            self.revoked.insert(partner.to_owned());
            self.tokens.values_mut().filter(|t| t.partner == partner).for_each(|t| t.revoked = true);
        } else {
            self.revoked.remove(partner);
        }
    }
}

/// One emulator instance (cheap to clone, shared state).
#[derive(Clone)]
pub struct App {
    pub(crate) config: Arc<Config>,
    pub(crate) validator: Arc<jsonschema::Validator>,
    /// placeOrder bodies (the Ordering model, polymorphic types closed).
    pub(crate) order_validator: Arc<jsonschema::Validator>,
    /// The configured prices and rates, read once.
    pub(crate) plan: Arc<Plan>,
    /// getInvoiceDetailsByOrderLineItems bodies (Reconciliation model, closed).
    pub(crate) invoice_details_validator: Arc<jsonschema::Validator>,
    /// getBatchInvoicePaymentDetails bodies (Reconciliation model, closed).
    pub(crate) payment_details_validator: Arc<jsonschema::Validator>,
    /// createReport bodies (Document model, closed).
    pub(crate) create_report_validator: Arc<jsonschema::Validator>,
    /// Signs report document URLs (random per instance).
    pub(crate) url_secret: Arc<str>,
    /// Made on first use (only when an e-invoice is put into S3).
    pub(crate) s3: Arc<tokio::sync::OnceCell<aws_sdk_s3::Client>>,
    pub(crate) inner: Arc<Mutex<Inner>>,
}

impl App {
    /// Panics when a decimal setting of `config` (`order_tax_rate`, `order_shipping`,
    /// `order_default_unit_price`) is not a decimal number ≥ 0.
    pub fn new(config: Config) -> App {
        let inner = Inner {
            accepted_invoices: HashMap::new(),
            faults: Faults::new(&config),
            requests: Vec::new(),
            next_seq: 0,
            stats: BTreeMap::new(),
            partner_stats: BTreeMap::new(),
            token_requests: 0,
            transactions: HashMap::new(),
            tokens: HashMap::new(),
            revoked: BTreeSet::new(),
            buckets: HashMap::new(),
            orders: BTreeMap::new(),
            ordering: OrderingSettings::default(),
            business: Business::default(),
        };
        let plan = Plan::from_config(&config).unwrap_or_else(|e| panic!("spapi-emulator Config: {e}"));
        App {
            config: Arc::new(config),
            validator: Arc::new(model::submit_invoices_validator()),
            order_validator: Arc::new(model::place_order_validator()),
            plan: Arc::new(plan),
            invoice_details_validator: Arc::new(model::reconciliation_validator("InvoiceDetailsByOrderLineItemsRequest", true)),
            payment_details_validator: Arc::new(model::reconciliation_validator("GetBatchInvoicePaymentDetailsRequest", true)),
            create_report_validator: Arc::new(model::document_validator("CreateReportSpecification", true)),
            url_secret: Arc::from(format!("{}{}", crate::ids::uuid(), crate::ids::uuid())),
            s3: Arc::new(tokio::sync::OnceCell::new()),
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The partner of a request's access token (known even when the token is no longer valid).
    pub(crate) fn partner_of_request(&self, headers: &HeaderMap) -> Option<String> {
        match self.lock().access(headers) {
            Access::Granted { partner } => Some(partner),
            Access::Denied { partner } => partner,
        }
    }

    pub(crate) fn record_start(
        &self,
        op: Operation,
        partner: Option<String>,
        path: &str,
        request_id: &str,
        body: Value,
        ids: RecordedIds,
    ) -> u64 {
        let mut inner = self.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.requests.push(Recorded {
            seq,
            request_id: request_id.to_owned(),
            operation: op,
            partner,
            method: op.method().to_owned(),
            path: path.to_owned(),
            status: None,
            fault: None,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            invoice_ids: ids.invoice_ids,
            external_id: ids.external_id,
            body,
        });
        seq
    }

    /// Sets the final status of a recorded request and counts it.
    pub(crate) fn record_finish(&self, seq: u64, op: Operation, status: Option<StatusCode>, fault: Option<&'static str>) {
        let mut inner = self.lock();
        let mut partner = None;
        if let Ok(i) = inner.requests.binary_search_by_key(&seq, |r| r.seq) {
            inner.requests[i].status = status.map(|s| s.as_u16());
            inner.requests[i].fault = fault;
            partner = inner.requests[i].partner.clone();
        }
        let key = match (status, fault) {
            (Some(s), _) => s.as_u16().to_string(),
            (None, Some("stall")) => "stalled".to_owned(),
            (None, _) => "dropped".to_owned(),
        };
        let group = op.stats_group();
        if let Some(p) = partner {
            *inner.partner_stats.entry(p).or_default().entry(group).or_default().entry(key.clone()).or_default() += 1;
        }
        *inner.stats.entry(group).or_default().entry(key).or_default() += 1;
    }
}
