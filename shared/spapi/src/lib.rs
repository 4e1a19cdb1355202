//! SP-API client: Login-with-Amazon access tokens per selling partner (cached until shortly
//! before expiry), `x-amz-access-token`, regional endpoints, pacing through a shared GCRA slot
//! store per selling partner and operation (so all instances working for one partner together
//! stay within that partner's usage plan, and one partner's backlog never slows another's), and
//! retry rules that never resend a submission whose outcome is unknown.
//!
//! A [`Client`] works for one selling partner: the LWA client id/secret are the application's
//! (deployment-wide), the refresh token is the partner's, and the partner key names its rate
//! state: slot keys are `spapi:<partner>:<operation>` (`spapi:acme:submitInvoices`,
//! `spapi:acme:getTransaction`). Clients of different partners may share one [`SlotStore`]
//! (an `Arc` of it is one too).
//!
//! Every outcome comes to exactly one [`Class`] ([`SpApiError::class`], [`classify_status`],
//! module `classify`); the retry loop and the domain ports decide from it:
//!
//! | what happened | class | submitInvoices | getTransaction |
//! |---|---|---|---|
//! | 2xx with the model's answer | Accepted | `Accepted { transactionId }` | the status |
//! | 400, 404, 409, 413, 415, other 4xx | Rejected | `Rejected` with Amazon's errors, no retry (an Order Error) | `Unavailable` |
//! | 429 | RetryLater | bounded retries, jittered exponential backoff, never sooner than 1/`x-amzn-RateLimit-Limit` s; then `Transient` | same; then `Unavailable` |
//! | 408, 425, 500, 503, other 5xx, 1xx/3xx (redirects are not followed) | RetryLater | bounded retries with jittered exponential backoff; then `Transient` | same |
//! | 502, 504 (a gateway answered; the service may have processed it) | Unknown | `Unknown`: never resent blindly (the poller reconciles it) | retried (a GET is safe) |
//! | connection not established, request not built | RetryLater | bounded retries (nothing was sent) | same |
//! | timeout after sending, connection lost after sending | Unknown | `Unknown`, never resent | retried |
//! | status received, body cut off | by the status; 2xx → Unknown | as that class | as that class |
//! | 2xx whose body is not the model's | Unknown | `Unknown` | retried |
//! | request body not serialisable | RetryLater | `Transient` (nothing was sent) | — |
//! | 401 / 403 from SP-API | NotAuthorized | the token is refreshed once and the call repeated; refused again → `NotAuthorized` and the cool-down below | same; `Unavailable` |
//! | LWA 4xx (`invalid_grant`: consent revoked; `invalid_client`: wrong id/secret; …) except 408/425/429 | NotAuthorized | `NotAuthorized`, and the cool-down | `Unavailable` |
//! | LWA 408/425/429, 5xx, unreachable, answer not understood | RetryLater | bounded retries; then `Transient` | same |
//! | during a cool-down | NotAuthorized | `NotAuthorized` at once: neither LWA nor SP-API is called | `Unavailable` |
//! | the shared rate state failed (pacer) | RetryLater | bounded retries; then `Transient` | same |
//!
//! **Amazon Business import** (Reconciliation 2021-01-08 and Reports 2021-09-30, slot keys
//! `ab:<partner>:<operation>`): getTransactions, getInvoiceDetailsByOrderLineItems and
//! getBatchInvoicePaymentDetails (2/s burst 10 each), getReport (2/s burst 15) and
//! getReportDocument (0.0167/s burst 15) are reads, retried like getTransaction; createReport
//! (0.0167/s burst 15) is not: like a submission, a lost answer is never resent. With
//! [`Config::report_max_wait`] the Reports operations look at the shared limiter first and
//! answer [`SpApiError::Paced`] instead of waiting longer. The import's ports
//! ([`ReconciliationApi`], [`ReportsApi`]) get [`classify::answer`] of the outcome; report
//! documents are fetched at their presigned URL without any of our credentials
//! ([`Client::download_document`], [`classify::download_result`]).
//!
//! **Authentication failure policy.** A refused authorisation is never an Order Error (the
//! order is fine, the connection is not) and never a hot retry loop: once LWA refuses the
//! partner's refresh token (or SP-API refuses an access token LWA has just issued), the client
//! remembers it and, for [`Config::lwa_cooldown`] (default 5 minutes), answers
//! [`Class::NotAuthorized`] immediately without calling LWA again, however many submissions
//! come. Concurrent calls wait for the one LWA exchange in flight and share its outcome. After
//! the cool-down the next call asks LWA once more.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use invoice_domain::core::PortError;
use invoice_domain::import::batch::{InvoiceDetailsRequest, PaymentDetailsRequest};
use invoice_domain::import::pdf::{CreateReportSpecification, ReportDocument};
use invoice_domain::import::ports::{Answer, Download, ReconciliationApi, ReportsApi};
use invoice_domain::vendor::body::SubmitInvoicesRequest;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

pub mod backoff;
pub mod classify;
pub mod rate;

pub use classify::{classify, classify_status, Class, SpApiError};
use rate::{reserve, Plan, Reservation};

/// The partner key of a single-tenant deployment (one refresh token for everything).
pub const DEFAULT_PARTNER: &str = "default";

/// [`Config::max_download_bytes`] by default: 32 MiB.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Amazon Business Reconciliation API paths (version 2021-01-08).
pub const TRANSACTIONS_PATH: &str = "/reconciliation/2021-01-08/transactions";
pub const INVOICES_PATH: &str = "/reconciliation/2021-01-08/invoices";
pub const PAYMENT_DETAILS_PATH: &str = "/reconciliation/2021-01-08/invoices/batch/paymentDetails";
/// Amazon Business Reports (Document) API paths (version 2021-09-30): createReport (POST),
/// getReport (`/{reportId}`), getReportDocument (`DOCUMENTS_PATH/{reportDocumentId}`).
pub const REPORTS_PATH: &str = "/reports/2021-09-30/reports";
pub const DOCUMENTS_PATH: &str = "/reports/2021-09-30/documents";

/// LWA credentials. Never logged: `Debug` redacts them.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("refresh_token", &"***")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("{0} is not a valid URL: {1}")]
    BadUrl(&'static str, String),
    #[error("unknown SP-API region '{0}' (na, eu, fe)")]
    Region(String),
}

impl Credentials {
    /// From `LWA_CLIENT_ID`, `LWA_CLIENT_SECRET`, `LWA_REFRESH_TOKEN` (local runs; on AWS the
    /// function reads the same keys from a Secrets Manager secret).
    pub fn from_env() -> Result<Credentials, ConfigError> {
        let get = |k: &'static str| std::env::var(k).ok().filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(k));
        Ok(Credentials {
            client_id: get("LWA_CLIENT_ID")?,
            client_secret: get("LWA_CLIENT_SECRET")?,
            refresh_token: get("LWA_REFRESH_TOKEN")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// e.g. `https://sellingpartnerapi-na.amazon.com` (no trailing slash).
    pub endpoint: String,
    /// e.g. `https://api.amazon.com/auth/o2/token`.
    pub lwa_endpoint: String,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Attempts for 429 answers before giving up (the message is then retried later).
    pub max_throttled_attempts: u32,
    /// Attempts for 5xx answers and connection failures.
    pub max_server_attempts: u32,
    /// Base of the exponential backoff.
    pub backoff_base: Duration,
    /// How early an access token is renewed before it expires.
    pub token_refresh_margin: Duration,
    pub submit_plan: Plan,
    pub transaction_plan: Plan,
    /// Amazon Business placeOrder / orderDetails (a client built with
    /// [`Config::for_business`]).
    pub place_order_plan: Plan,
    pub order_details_plan: Plan,
    /// Amazon Business Reconciliation API: getTransactions, getInvoiceDetailsByOrderLineItems,
    /// getBatchInvoicePaymentDetails (each its own usage plan, [`Plan::RECONCILIATION`]).
    pub get_transactions_plan: Plan,
    pub invoice_details_plan: Plan,
    pub payment_details_plan: Plan,
    /// Amazon Business Reports (Document) API: createReport, getReport, getReportDocument.
    pub create_report_plan: Plan,
    pub get_report_plan: Plan,
    pub report_document_plan: Plan,
    /// The Reports operations are slow (createReport and getReportDocument about one a
    /// minute): `None` (the default) waits for their slot as for any other; `Some(max)` looks
    /// at the shared limiter first and, when the next slot is further away than `max`, does
    /// not reserve one and answers [`SpApiError::Paced`] (the work is left for a later pass).
    /// A 429 of a Reports operation whose retry would wait longer than `max` is given up too.
    pub report_max_wait: Option<Duration>,
    /// Largest report document downloaded (and largest once gunzipped).
    pub max_download_bytes: usize,
    /// Timeout of one report document download (connection to last byte).
    pub download_timeout: Duration,
    /// After LWA refuses the refresh token (or SP-API a freshly issued access token), answer
    /// `NotAuthorized` at once, without calling LWA, for this long.
    pub lwa_cooldown: Duration,
}

impl Config {
    /// The regional production endpoints.
    pub fn for_region(region: &str) -> Result<Config, ConfigError> {
        let host = match region.to_ascii_lowercase().as_str() {
            "na" | "us-east-1" => "https://sellingpartnerapi-na.amazon.com",
            "eu" | "eu-west-1" => "https://sellingpartnerapi-eu.amazon.com",
            "fe" | "us-west-2" => "https://sellingpartnerapi-fe.amazon.com",
            other => return Err(ConfigError::Region(other.to_string())),
        };
        Ok(Config {
            endpoint: host.to_string(),
            lwa_endpoint: "https://api.amazon.com/auth/o2/token".to_string(),
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_throttled_attempts: 8,
            max_server_attempts: 4,
            backoff_base: Duration::from_millis(200),
            token_refresh_margin: Duration::from_secs(60),
            submit_plan: Plan::SUBMIT_INVOICES.with_margin(0.03),
            transaction_plan: Plan::GET_TRANSACTION.with_margin(0.03),
            place_order_plan: Plan::PLACE_ORDER.with_margin(0.03),
            order_details_plan: Plan::PLACE_ORDER.with_margin(0.03),
            get_transactions_plan: Plan::RECONCILIATION.with_margin(0.03),
            invoice_details_plan: Plan::RECONCILIATION.with_margin(0.03),
            payment_details_plan: Plan::RECONCILIATION.with_margin(0.03),
            create_report_plan: Plan::CREATE_REPORT.with_margin(0.03),
            get_report_plan: Plan::GET_REPORT.with_margin(0.03),
            report_document_plan: Plan::GET_REPORT_DOCUMENT.with_margin(0.03),
            report_max_wait: None,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            download_timeout: Duration::from_secs(60),
            lwa_cooldown: Duration::from_secs(300),
        })
    }

    /// Amazon Business's API in `region` (same LWA flow and retry rules; the endpoint is the
    /// region's business-api host), overridden by `AB_ENDPOINT` / `LWA_ENDPOINT` (local stack).
    pub fn for_business(region: invoice_domain::company::BusinessRegion) -> Result<Config, ConfigError> {
        let mut c = Config::for_region("na")?;
        c.endpoint = region.endpoint().to_string();
        if let Ok(e) = std::env::var("AB_ENDPOINT") {
            url::Url::parse(&e).map_err(|x| ConfigError::BadUrl("AB_ENDPOINT", x.to_string()))?;
            c.endpoint = e.trim_end_matches('/').to_string();
        }
        if let Ok(e) = std::env::var("LWA_ENDPOINT") {
            url::Url::parse(&e).map_err(|x| ConfigError::BadUrl("LWA_ENDPOINT", x.to_string()))?;
            c.lwa_endpoint = e;
        }
        Ok(c)
    }

    /// `SPAPI_REGION` (default na), overridden by `SPAPI_ENDPOINT` / `LWA_ENDPOINT` (local stack).
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut c = Config::for_region(&std::env::var("SPAPI_REGION").unwrap_or_else(|_| "na".into()))?;
        if let Ok(e) = std::env::var("SPAPI_ENDPOINT") {
            url::Url::parse(&e).map_err(|x| ConfigError::BadUrl("SPAPI_ENDPOINT", x.to_string()))?;
            c.endpoint = e.trim_end_matches('/').to_string();
        }
        if let Ok(e) = std::env::var("LWA_ENDPOINT") {
            url::Url::parse(&e).map_err(|x| ConfigError::BadUrl("LWA_ENDPOINT", x.to_string()))?;
            c.lwa_endpoint = e;
        }
        Ok(c)
    }
}

/// One error of an SP-API error list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl ApiError {
    /// `CODE: message (details)` for an Order Error a person reads.
    pub fn readable(errors: &[ApiError]) -> String {
        errors
            .iter()
            .map(|e| match e.details.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => format!("{}: {} ({d})", e.code, e.message),
                None => format!("{}: {}", e.code, e.message),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Transaction status as getTransaction reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionState {
    Processing,
    Success,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub transaction_id: String,
    pub status: TransactionState,
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// Where the shared rate-limit state lives. The DynamoDB implementation (adapters) makes it
/// global across Lambda instances and worker processes; [`LocalSlots`] is per process.
pub trait SlotStore: Send + Sync {
    fn reserve(&self, key: &str, plan: &Plan, now_us: i64) -> impl Future<Output = Result<Reservation, PortError>> + Send;

    /// The stored TAT of `key` as it is now (`None`: never used), read without reserving.
    fn stored_tat(&self, key: &str) -> impl Future<Output = Result<Option<i64>, PortError>> + Send;

    /// When a request reserved now would be sent (µs since the epoch, ≥ `now_us`), without
    /// reserving anything: [`rate::next_slot`] of the stored TAT. A look, not a promise: another
    /// caller may take that slot first.
    fn next_slot(&self, key: &str, plan: &Plan, now_us: i64) -> impl Future<Output = Result<i64, PortError>> + Send {
        async move { Ok(rate::next_slot(plan, self.stored_tat(key).await?, now_us)) }
    }
}

/// One store shared by several clients (e.g. one per selling partner).
impl<T: SlotStore + ?Sized> SlotStore for Arc<T> {
    fn reserve(&self, key: &str, plan: &Plan, now_us: i64) -> impl Future<Output = Result<Reservation, PortError>> + Send {
        (**self).reserve(key, plan, now_us)
    }
    fn stored_tat(&self, key: &str) -> impl Future<Output = Result<Option<i64>, PortError>> + Send {
        (**self).stored_tat(key)
    }
    fn next_slot(&self, key: &str, plan: &Plan, now_us: i64) -> impl Future<Output = Result<i64, PortError>> + Send {
        (**self).next_slot(key, plan, now_us)
    }
}

/// In-process GCRA state (one process; tests and single-worker runs).
#[derive(Default)]
pub struct LocalSlots(Mutex<std::collections::HashMap<String, i64>>);

impl SlotStore for LocalSlots {
    async fn reserve(&self, key: &str, plan: &Plan, now_us: i64) -> Result<Reservation, PortError> {
        let mut m = self.0.lock().map_err(|_| PortError("rate state poisoned".into()))?;
        let r = reserve(plan, m.get(key).copied(), now_us);
        m.insert(key.to_string(), r.new_tat_us);
        Ok(r)
    }

    async fn stored_tat(&self, key: &str) -> Result<Option<i64>, PortError> {
        Ok(self.0.lock().map_err(|_| PortError("rate state poisoned".into()))?.get(key).copied())
    }
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// What the client knows about its access token.
#[derive(Default)]
enum TokenState {
    #[default]
    None,
    Valid {
        value: String,
        valid_until: Instant,
    },
    /// Refused; answer NotAuthorized without asking LWA until `until`.
    Refused {
        until: Instant,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Submit,
    GetTransaction,
    PlaceOrder,
    OrderDetails,
    GetTransactions,
    InvoiceDetails,
    PaymentDetails,
    CreateReport,
    GetReport,
    GetReportDocument,
}

impl Op {
    /// The operation's name in slot keys and logs.
    fn name(&self) -> &'static str {
        match self {
            Op::Submit => "submitInvoices",
            Op::GetTransaction => "getTransaction",
            Op::PlaceOrder => "placeOrder",
            Op::OrderDetails => "orderDetails",
            Op::GetTransactions => "getTransactions",
            Op::InvoiceDetails => "getInvoiceDetailsByOrderLineItems",
            Op::PaymentDetails => "getBatchInvoicePaymentDetails",
            Op::CreateReport => "createReport",
            Op::GetReport => "getReport",
            Op::GetReportDocument => "getReportDocument",
        }
    }

    /// The API family in slot keys: `spapi` (vendor) or `ab` (Amazon Business).
    fn family(&self) -> &'static str {
        match self {
            Op::Submit | Op::GetTransaction => "spapi",
            _ => "ab",
        }
    }

    /// Safe to repeat when its outcome is unknown: the reads (the two Reconciliation POSTs
    /// only read). createReport is not: a lost answer may have made a report.
    fn idempotent(&self) -> bool {
        matches!(
            self,
            Op::GetTransaction
                | Op::OrderDetails
                | Op::GetTransactions
                | Op::InvoiceDetails
                | Op::PaymentDetails
                | Op::GetReport
                | Op::GetReportDocument
        )
    }

    /// The slow Reports operations [`Config::report_max_wait`] applies to.
    fn is_report(&self) -> bool {
        matches!(self, Op::CreateReport | Op::GetReport | Op::GetReportDocument)
    }

    fn plan(&self, c: &Config) -> Plan {
        match self {
            Op::Submit => c.submit_plan,
            Op::GetTransaction => c.transaction_plan,
            Op::PlaceOrder => c.place_order_plan,
            Op::OrderDetails => c.order_details_plan,
            Op::GetTransactions => c.get_transactions_plan,
            Op::InvoiceDetails => c.invoice_details_plan,
            Op::PaymentDetails => c.payment_details_plan,
            Op::CreateReport => c.create_report_plan,
            Op::GetReport => c.get_report_plan,
            Op::GetReportDocument => c.report_document_plan,
        }
    }
}

/// The SP-API client of one selling partner.
pub struct Client<S: SlotStore> {
    http: reqwest::Client,
    config: Config,
    credentials: Credentials,
    partner: String,
    slots: S,
    token: tokio::sync::Mutex<TokenState>,
}

#[derive(Deserialize)]
struct LwaOk {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct LwaErr {
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct ErrorsBody {
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Deserialize)]
struct SubmitBody {
    payload: Option<SubmitPayload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitPayload {
    transaction_id: Option<String>,
}

#[derive(Deserialize)]
struct TxBody {
    payload: Option<TxPayload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TxPayload {
    transaction_status: Option<Transaction>,
}

/// A complete 2xx answer.
struct Reply {
    status: u16,
    body: String,
}

impl<S: SlotStore> Client<S> {
    /// A client for the selling partner `partner` (its key in the shared rate state: the same
    /// key on every instance that works for that partner), authenticating with `credentials`
    /// (the application's client id/secret and the partner's refresh token).
    pub fn new(config: Config, credentials: Credentials, partner: impl Into<String>, slots: S) -> Result<Self, SpApiError> {
        let partner = partner.into();
        if partner.is_empty() || partner.len() > 200 || partner.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(SpApiError::Config(format!("partner key {partner:?}: 1–200 characters, no spaces or control characters")));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            // SP-API does not redirect; following one would send the access token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("InvoiceBridge/", env!("CARGO_PKG_VERSION"), " (Language=Rust)"))
            .build()
            .map_err(|e| SpApiError::Config(e.to_string()))?;
        Ok(Client { http, config, credentials, partner, slots, token: tokio::sync::Mutex::new(TokenState::None) })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The selling partner this client works for.
    pub fn partner(&self) -> &str {
        &self.partner
    }

    /// The rate-state key of one operation: `spapi:<partner>:<operation>` (vendor) or
    /// `ab:<partner>:<operation>` (Amazon Business).
    fn slot_key(&self, op: Op) -> String {
        format!("{}:{}:{}", op.family(), self.partner, op.name())
    }

    /// An access token: the cached one unless it expires within the refresh margin or is
    /// `refused` (SP-API just refused it); during a cool-down, `CoolingDown` without asking LWA.
    /// One LWA exchange at a time: concurrent callers wait and share its outcome.
    async fn access_token(&self, refused: Option<&str>) -> Result<String, SpApiError> {
        let mut state = self.token.lock().await;
        let now = Instant::now();
        match &*state {
            TokenState::Refused { until, reason } if now < *until => {
                return Err(SpApiError::CoolingDown { remaining: *until - now, reason: reason.clone() });
            }
            TokenState::Valid { value, valid_until }
                if refused != Some(value.as_str()) && now + self.config.token_refresh_margin < *valid_until =>
            {
                return Ok(value.clone());
            }
            _ => {}
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.credentials.refresh_token.as_str()),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.as_str()),
        ];
        let sent_at = Instant::now();
        let result = match self.http.post(&self.config.lwa_endpoint).form(&form).send().await {
            Err(e) => Err(SpApiError::Lwa { status: None, error: "unreachable".into(), description: e.to_string() }),
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.text().await {
                    Err(e) => Err(SpApiError::Lwa { status: Some(status), error: "answer cut off".into(), description: e.to_string() }),
                    Ok(body) if status == 200 => serde_json::from_str::<LwaOk>(&body).map_err(|e| SpApiError::Lwa {
                        status: Some(200),
                        error: "answer not understood".into(),
                        description: e.to_string(),
                    }),
                    Ok(body) => {
                        let e: LwaErr = serde_json::from_str(&body).unwrap_or(LwaErr { error: None, error_description: None });
                        Err(SpApiError::Lwa {
                            status: Some(status),
                            error: e.error.unwrap_or_else(|| "error".into()),
                            description: e.error_description.unwrap_or_default(),
                        })
                    }
                }
            }
        };
        match result {
            Ok(ok) => {
                let ttl = Duration::from_secs(ok.expires_in.unwrap_or(1800));
                *state = TokenState::Valid { value: ok.access_token.clone(), valid_until: sent_at + ttl };
                tracing::debug!(partner = %self.partner, expires_in = ttl.as_secs(), "LWA access token obtained");
                Ok(ok.access_token)
            }
            Err(e) => {
                if e.class() == Class::NotAuthorized {
                    *state = self.refusal(&e);
                }
                Err(e)
            }
        }
    }

    /// The cool-down state after a refusal.
    fn refusal(&self, e: &SpApiError) -> TokenState {
        tracing::warn!(partner = %self.partner, error = %e, cooldown_s = self.config.lwa_cooldown.as_secs(), "selling partner not authorised; cooling down");
        TokenState::Refused { until: Instant::now() + self.config.lwa_cooldown, reason: e.to_string() }
    }

    /// Waits for this instance's slot in the partner's shared rate limit for `op`.
    /// With [`Config::report_max_wait`], a Reports operation first looks at the next slot and
    /// answers [`SpApiError::Paced`] instead of reserving one that far away.
    async fn pace(&self, op: Op) -> Result<(), SpApiError> {
        let plan = op.plan(&self.config);
        let key = self.slot_key(op);
        let now = now_us();
        if let Some(max) = self.config.report_max_wait.filter(|_| op.is_report()) {
            let next = self.slots.next_slot(&key, &plan, now).await.map_err(|e| SpApiError::Pacer(e.0))?;
            let wait = Duration::from_micros((next - now).max(0) as u64);
            if wait > max {
                tracing::info!(partner = %self.partner, operation = op.name(), wait_s = wait.as_secs(), "next slot too far away; left for later");
                return Err(SpApiError::Paced { operation: op.name(), wait });
            }
        }
        let r = self.slots.reserve(&key, &plan, now).await.map_err(|e| SpApiError::Pacer(e.0))?;
        let wait = r.send_at_us - now_us();
        if wait > 0 {
            tokio::time::sleep(Duration::from_micros(wait as u64)).await;
        }
        Ok(())
    }

    /// One HTTP exchange: a complete 2xx answer, or the facts of what went wrong.
    async fn exchange(&self, op: Op, token: &str, body: Option<&[u8]>, path: &str, headers: &[(&str, &str)]) -> Result<Reply, SpApiError> {
        let url = format!("{}{}", self.config.endpoint, path);
        let req = match body {
            Some(b) => self.http.post(&url).header("content-type", "application/json").body(b.to_vec()),
            None => self.http.get(&url),
        };
        let mut req = req.header("x-amz-access-token", token).header("x-amz-date", amz_date());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) if e.is_connect() || e.is_builder() => return Err(SpApiError::NotSent(format!("{}: {e}", op.name()))),
            Err(e) if e.is_timeout() => return Err(SpApiError::Timeout(format!("{}: {e}", op.name()))),
            Err(e) => return Err(SpApiError::Lost(format!("{}: {e}", op.name()))),
        };
        let status = resp.status().as_u16();
        let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let rate_limit = header("x-amzn-ratelimit-limit").and_then(|v| v.trim().parse::<f64>().ok());
        let request_id = header("x-amzn-requestid");
        tracing::info!(partner = %self.partner, operation = op.name(), status, request_id = request_id.as_deref().unwrap_or(""), "SP-API answer");
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return Err(SpApiError::CutOff { status, detail: format!("{}: {e}", op.name()) }),
        };
        if classify_status(status) == Class::Accepted {
            return Ok(Reply { status, body: text });
        }
        let errors = serde_json::from_str::<ErrorsBody>(&text).map(|b| b.errors).unwrap_or_default();
        let errors = if errors.is_empty() {
            vec![ApiError { code: format!("HTTP{status}"), message: text.chars().take(500).collect(), details: None }]
        } else {
            errors
        };
        Err(SpApiError::Http { status, errors, request_id, rate_limit, attempts: 1 })
    }

    /// One API call with token handling, pacing and the retry rules of the crate doc's table,
    /// all decided by the outcome's [`Class`].
    async fn call(&self, op: Op, path: &str, body: Option<&[u8]>) -> Result<Reply, SpApiError> {
        self.call_with(op, path, body, &[]).await
    }

    async fn call_with(&self, op: Op, path: &str, body: Option<&[u8]>, headers: &[(&str, &str)]) -> Result<Reply, SpApiError> {
        let c = &self.config;
        let max = c.backoff_base * 32;
        let mut throttle_delays = backoff::exponential(c.backoff_base, max, c.max_throttled_attempts.saturating_sub(1) as usize);
        let mut retry_delays = backoff::exponential(c.backoff_base, max, c.max_server_attempts.saturating_sub(1) as usize);
        let mut attempts = 0u32;
        let mut refused: Option<String> = None;
        loop {
            attempts += 1;
            let mut used = None;
            let outcome = async {
                let token = self.access_token(refused.as_deref()).await?;
                used = Some(token.clone());
                self.pace(op).await?;
                self.exchange(op, &token, body, path, headers).await
            }
            .await;
            let e = match outcome {
                Ok(answer) => return Ok(answer),
                Err(e) => e.with_attempts(attempts),
            };
            let delay = match e.class() {
                Class::Accepted | Class::Rejected => return Err(e),
                Class::NotAuthorized if e.is_token_refused() => {
                    match (refused.is_some(), used) {
                        // The first refusal: maybe the token was revoked or rotated; a new one, once.
                        (false, Some(token)) => {
                            tracing::info!(partner = %self.partner, operation = op.name(), "access token refused; refreshing once");
                            refused = Some(token);
                            continue;
                        }
                        // Refused again with a token LWA has just issued: not authorised.
                        _ => {
                            *self.token.lock().await = self.refusal(&e);
                            return Err(e);
                        }
                    }
                }
                Class::NotAuthorized => return Err(e),
                Class::Unknown if !op.idempotent() => return Err(e),
                // The limiter's own answer: looking again at once would say the same.
                Class::RetryLater if matches!(e, SpApiError::Paced { .. }) => return Err(e),
                Class::RetryLater if matches!(e, SpApiError::Http { status: 429, .. }) => {
                    let floor = match &e {
                        SpApiError::Http { rate_limit: Some(r), .. } if *r > 0.0 => Duration::from_secs_f64((1.0 / r).min(3600.0)),
                        _ => Duration::ZERO,
                    };
                    let delay = throttle_delays.next().map(|d| d.max(floor));
                    match (delay, self.config.report_max_wait.filter(|_| op.is_report())) {
                        // A slow operation's retry would wait longer than a pass may: later.
                        (Some(d), Some(max)) if d > max => return Err(e),
                        (d, _) => d,
                    }
                }
                Class::RetryLater | Class::Unknown => retry_delays.next(),
            };
            match delay {
                Some(d) => {
                    tracing::debug!(partner = %self.partner, operation = op.name(), error = %e, delay_ms = d.as_millis() as u64, "retrying");
                    tokio::time::sleep(d).await;
                }
                None => return Err(e),
            }
        }
    }

    /// `POST /vendor/payments/v1/invoices` → the transactionId of the accepted submission.
    pub async fn submit_invoices(&self, req: &SubmitInvoicesRequest) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(req).map_err(|e| SpApiError::Serialize(e.to_string()))?;
        let answer = self.call(Op::Submit, "/vendor/payments/v1/invoices", Some(&body)).await?;
        let undecodable = |detail: String| SpApiError::Undecodable { status: answer.status, detail };
        let parsed: SubmitBody = serde_json::from_str(&answer.body).map_err(|e| undecodable(format!("submitInvoices answer: {e}")))?;
        parsed
            .payload
            .and_then(|p| p.transaction_id)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| undecodable("submitInvoices answered without payload.transactionId".into()))
    }

    /// `GET /vendor/transactions/v1/transactions/{id}`.
    pub async fn get_transaction(&self, transaction_id: &str) -> Result<Transaction, SpApiError> {
        let path = format!("/vendor/transactions/v1/transactions/{}", path_segment(transaction_id));
        let mut undecodable_attempts = 0;
        loop {
            let answer = self.call(Op::GetTransaction, &path, None).await?;
            let decoded = serde_json::from_str::<TxBody>(&answer.body).map_err(|e| format!("getTransaction answer: {e}")).and_then(|b| {
                b.payload
                    .and_then(|p| p.transaction_status)
                    .ok_or_else(|| "getTransaction answered without payload.transactionStatus".to_string())
            });
            match decoded {
                Ok(t) => return Ok(t),
                // A GET is safe to repeat; one more try, then report it.
                Err(detail) if undecodable_attempts == 0 => {
                    undecodable_attempts += 1;
                    tracing::warn!(partner = %self.partner, %detail, "getTransaction answer not understood; asking again");
                }
                Err(detail) => return Err(SpApiError::Undecodable { status: answer.status, detail }),
            }
        }
    }
}

impl<S: SlotStore> Client<S> {
    /// Amazon Business `POST /ordering/2022-10-30/orders` → the 200 answer's body (read it
    /// fully: a 200 can reject lines). Never resent when its outcome is unknown.
    pub async fn place_order(&self, body: &impl Serialize) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(body).map_err(|e| SpApiError::Serialize(e.to_string()))?;
        Ok(self.call(Op::PlaceOrder, "/ordering/2022-10-30/orders", Some(&body)).await?.body)
    }

    /// Amazon Business `GET /ordering/2022-10-30/orders/{externalId}` (header
    /// `x-amz-user-email`) → the answer's body, `None` for 404 (no such order).
    pub async fn order_details(&self, external_id: &str, user_email: &str) -> Result<Option<String>, SpApiError> {
        let path = format!("/ordering/2022-10-30/orders/{}", path_segment(external_id));
        match self.call_with(Op::OrderDetails, &path, None, &[("x-amz-user-email", user_email)]).await {
            Ok(a) => Ok(Some(a.body)),
            Err(SpApiError::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Amazon Business Reconciliation API (2021-01-08). All three only read: safe to repeat.
impl<S: SlotStore> Client<S> {
    /// `GET /reconciliation/2021-01-08/transactions` with `query` (`feedStartDate` +
    /// `feedEndDate`, or `nextPageToken`), percent-encoded (RFC 3986) → the 200 answer's body.
    /// A `nextPageToken` is sent alone, as the model requires.
    pub async fn get_transactions(&self, query: &[(&str, String)]) -> Result<String, SpApiError> {
        let path = match transactions_query(query) {
            q if q.is_empty() => TRANSACTIONS_PATH.to_string(),
            q => format!("{TRANSACTIONS_PATH}?{q}"),
        };
        Ok(self.call(Op::GetTransactions, &path, None).await?.body)
    }

    /// `POST /reconciliation/2021-01-08/invoices` (`{"orderLineItems": […]}`) → the body.
    pub async fn get_invoice_details(&self, req: &InvoiceDetailsRequest) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(req).map_err(|e| SpApiError::Serialize(e.to_string()))?;
        Ok(self.call(Op::InvoiceDetails, INVOICES_PATH, Some(&body)).await?.body)
    }

    /// `POST /reconciliation/2021-01-08/invoices/batch/paymentDetails` (`{"invoiceIds": […]}`)
    /// → the body.
    pub async fn get_payment_details(&self, req: &PaymentDetailsRequest) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(req).map_err(|e| SpApiError::Serialize(e.to_string()))?;
        Ok(self.call(Op::PaymentDetails, PAYMENT_DETAILS_PATH, Some(&body)).await?.body)
    }
}

/// Amazon Business Reports (Document) API (2021-09-30).
impl<S: SlotStore> Client<S> {
    /// `POST /reports/2021-09-30/reports` → the 202 answer's body (`{"reportId"}`). Never
    /// resent when its outcome is unknown (a lost answer may have made a report: asking for a
    /// new one later is harmless, looping is not).
    pub async fn create_report(&self, spec: &CreateReportSpecification) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(spec).map_err(|e| SpApiError::Serialize(e.to_string()))?;
        Ok(self.call(Op::CreateReport, REPORTS_PATH, Some(&body)).await?.body)
    }

    /// `GET /reports/2021-09-30/reports/{reportId}` → the body (`Report`).
    pub async fn get_report(&self, report_id: &str) -> Result<String, SpApiError> {
        let path = format!("{REPORTS_PATH}/{}", id_segment("reportId", report_id)?);
        Ok(self.call(Op::GetReport, &path, None).await?.body)
    }

    /// `GET /reports/2021-09-30/documents/{reportDocumentId}` → the body (`ReportDocument`:
    /// a presigned URL valid 5 minutes, maybe GZIP).
    pub async fn get_report_document(&self, report_document_id: &str) -> Result<String, SpApiError> {
        let path = format!("{DOCUMENTS_PATH}/{}", id_segment("reportDocumentId", report_document_id)?);
        Ok(self.call(Op::GetReportDocument, &path, None).await?.body)
    }

    /// The document at its presigned URL: a plain GET (no token, no SP-API headers, not
    /// paced), at most [`Config::max_download_bytes`] read (and as much once gunzipped, when
    /// `doc.gzip`). 5xx, timeouts and lost connections are retried a few times
    /// ([`Config::max_server_attempts`], the usual backoff); the URL is never logged (its
    /// query is a credential).
    pub async fn download_document(&self, doc: &ReportDocument) -> Result<Vec<u8>, DownloadError> {
        let url = url::Url::parse(&doc.url).map_err(|e| DownloadError::BadUrl(e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(DownloadError::BadUrl(format!("{}: not an http(s) URL with a host", url.scheme())));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let c = &self.config;
        let mut delays = backoff::exponential(c.backoff_base, c.backoff_base * 32, c.max_server_attempts.saturating_sub(1) as usize);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let e = match self.fetch_document(url.clone()).await {
                Ok(bytes) => {
                    tracing::info!(partner = %self.partner, host = %host, bytes = bytes.len(), gzip = doc.gzip, "report document downloaded");
                    return if doc.gzip { gunzip(&bytes, c.max_download_bytes) } else { Ok(bytes) };
                }
                Err(e) => e,
            };
            match delays.next().filter(|_| e.is_retried()) {
                Some(d) => {
                    tracing::debug!(partner = %self.partner, host = %host, error = %e, delay_ms = d.as_millis() as u64, "retrying the download");
                    tokio::time::sleep(d).await;
                }
                None => {
                    tracing::warn!(partner = %self.partner, host = %host, error = %e, attempts, "report document not downloaded");
                    return Err(e);
                }
            }
        }
    }

    /// One GET of the document, its body read up to the limit.
    async fn fetch_document(&self, url: url::Url) -> Result<Vec<u8>, DownloadError> {
        let limit = self.config.max_download_bytes;
        // The presigned URL carries its own authorisation: nothing of ours goes with it.
        let resp = match self.http.get(url).timeout(self.config.download_timeout).send().await {
            Ok(r) => r,
            Err(e) => return Err(DownloadError::Transport(transport_reason(&e))),
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(DownloadError::TooLarge { limit });
            }
            return read_limited(resp, limit).await;
        }
        // An error page: a little of it is enough to say why.
        let text = read_limited(resp, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let code = xml_element(&text, "Code").unwrap_or_default();
        let message = xml_element(&text, "Message").unwrap_or_else(|| text.chars().take(200).collect());
        if status == 403 && (code == "ExpiredToken" || (code == "AccessDenied" && message.to_ascii_lowercase().contains("expired"))) {
            return Err(DownloadError::Expired);
        }
        Err(DownloadError::Status { status, code, message })
    }
}

/// Why a report document could not be downloaded ([`classify::download_result`] makes the
/// port's [`Download`] of it). Never shows the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// 403 `AccessDenied` / `Request has expired` (or `ExpiredToken`): the URL's time is over.
    #[error("the document URL has expired")]
    Expired,
    /// Not a URL this client fetches.
    #[error("the document URL is not usable: {0}")]
    BadUrl(String),
    /// Any other answer than 2xx (S3's `<Code>` and `<Message>` when it sent them).
    #[error("document download: HTTP {status} {code}: {message}")]
    Status { status: u16, code: String, message: String },
    /// Not connected, timed out, connection lost, body cut off.
    #[error("document download: {0}")]
    Transport(String),
    /// Bigger than the limit (downloaded or gunzipped).
    #[error("the document is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Said to be GZIP, and not a GZIP stream that ends well.
    #[error("the document is not valid GZIP: {0}")]
    Gzip(String),
}

impl DownloadError {
    /// Worth asking again at once: 5xx and transport failures (a GET is safe).
    fn is_retried(&self) -> bool {
        match self {
            DownloadError::Status { status, .. } => *status >= 500 || matches!(*status, 408 | 429),
            DownloadError::Transport(_) => true,
            _ => false,
        }
    }
}

/// A transport failure in words, without the URL reqwest would put in them.
fn transport_reason(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "not connected"
    } else if e.is_body() || e.is_decode() {
        "the body was cut off"
    } else if e.is_request() {
        "the request failed"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({cause})")
    }
}

/// The body, at most `limit` bytes (more: [`DownloadError::TooLarge`]).
async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, DownloadError> {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > limit {
                    return Err(DownloadError::TooLarge { limit });
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(DownloadError::Transport(transport_reason(&e))),
        }
    }
}

/// `bytes` gunzipped (every member), at most `limit` bytes of output.
fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, DownloadError> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut reader = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| DownloadError::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(DownloadError::TooLarge { limit });
    }
    Ok(out)
}

/// The text of the first `<name>…</name>` of an S3-style XML error (entities left as they are).
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// The query of getTransactions: the pairs in order, keys and values percent-encoded as RFC
/// 3986 unreserved; with a `nextPageToken` only that (the model: the token alone).
fn transactions_query(query: &[(&str, String)]) -> String {
    let pairs: Vec<&(&str, String)> = match query.iter().find(|(k, _)| *k == "nextPageToken") {
        Some(token) => vec![token],
        None => query.iter().collect(),
    };
    pairs.iter().map(|(k, v)| format!("{}={}", path_segment(k), path_segment(v))).collect::<Vec<_>>().join("&")
}

/// A report or document id as a path segment; an empty one is refused before anything is sent.
fn id_segment(what: &'static str, id: &str) -> Result<String, SpApiError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 1024 {
        return Err(SpApiError::Invalid(format!("{what} must be 1 to 1024 characters")));
    }
    Ok(path_segment(id))
}

/// Characters kept as they are in a path segment (RFC 3986 unreserved); everything else is
/// percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn path_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// `x-amz-date` as SP-API documents it: `20190430T123600Z`.
fn amz_date() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// The SP-API client as the submission workflow's port ([`classify::submit_result`]).
impl<S: SlotStore> invoice_domain::vendor::ports::InvoiceApi for Client<S> {
    async fn submit(&self, req: &SubmitInvoicesRequest) -> invoice_domain::vendor::ports::SubmitResult {
        classify::submit_result(self.submit_invoices(req).await)
    }
}

/// getTransaction as the status poller's port ([`classify::tx_status`]): anything but a
/// definite answer is `Unavailable` (retried next run), never a false Error.
impl<S: SlotStore> invoice_domain::vendor::ports::TransactionApi for Client<S> {
    async fn transaction(&self, transaction_id: &str) -> invoice_domain::vendor::ports::TxStatus {
        classify::tx_status(self.get_transaction(transaction_id).await)
    }
}

/// The Amazon Business client as the PO placing workflow's port ([`classify::place_result`],
/// [`classify::details_result`]).
impl<S: SlotStore> invoice_domain::ordering::ports::OrderingApi for Client<S> {
    async fn place(&self, body: &invoice_domain::ordering::PlaceOrderRequest) -> invoice_domain::ordering::ports::PlaceResult {
        classify::place_result(self.place_order(body).await)
    }
    async fn details(&self, external_id: &str, user_email: &str) -> invoice_domain::ordering::ports::DetailsResult {
        classify::details_result(self.order_details(external_id, user_email).await)
    }
}

/// The Amazon Business client as the daily import's Reconciliation port ([`classify::answer`]).
impl<S: SlotStore> ReconciliationApi for Client<S> {
    async fn transactions(&self, query: &[(&'static str, String)]) -> Answer {
        classify::answer(self.get_transactions(query).await)
    }
    async fn invoice_details(&self, req: &InvoiceDetailsRequest) -> Answer {
        classify::answer(self.get_invoice_details(req).await)
    }
    async fn payment_details(&self, req: &PaymentDetailsRequest) -> Answer {
        classify::answer(self.get_payment_details(req).await)
    }
}

/// The Amazon Business client as the import's Reports port ([`classify::answer`],
/// [`classify::download_result`]).
impl<S: SlotStore> ReportsApi for Client<S> {
    async fn create_report(&self, spec: &CreateReportSpecification) -> Answer {
        classify::answer(Client::create_report(self, spec).await)
    }
    async fn get_report(&self, report_id: &str) -> Answer {
        classify::answer(Client::get_report(self, report_id).await)
    }
    async fn get_report_document(&self, report_document_id: &str) -> Answer {
        classify::answer(Client::get_report_document(self, report_document_id).await)
    }
    async fn download(&self, doc: &ReportDocument) -> Download {
        classify::download_result(self.download_document(doc).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("20240101-ab_c.d~e"), "20240101-ab_c.d~e");
        assert_eq!(path_segment("a/b c?d#é"), "a%2Fb%20c%3Fd%23%C3%A9");
        assert_eq!(path_segment(".."), "..");
    }

    #[test]
    fn partner_keys_name_the_rate_state() {
        let c = Client::new(Config::for_region("na").unwrap(), creds(), "acme-1", LocalSlots::default()).unwrap();
        assert_eq!(c.partner(), "acme-1");
        assert_eq!(c.slot_key(Op::Submit), "spapi:acme-1:submitInvoices");
        assert_eq!(c.slot_key(Op::GetTransaction), "spapi:acme-1:getTransaction");
        assert_eq!(c.slot_key(Op::PlaceOrder), "ab:acme-1:placeOrder");
        assert_eq!(c.slot_key(Op::OrderDetails), "ab:acme-1:orderDetails");
        assert_eq!(c.slot_key(Op::GetTransactions), "ab:acme-1:getTransactions");
        let ab = Config::for_business(invoice_domain::company::BusinessRegion::Eu).unwrap();
        assert!(ab.endpoint == "https://eu.business-api.amazon.com" || std::env::var("AB_ENDPOINT").is_ok());
        assert_eq!((ab.place_order_plan.burst, ab.place_order_plan.rate < 0.5), (8, true));
        for bad in ["", "a b", "tab\there", &"x".repeat(201)] {
            let e = Client::new(Config::for_region("na").unwrap(), creds(), bad, LocalSlots::default()).err().unwrap();
            assert!(matches!(e, SpApiError::Config(_)), "{bad:?}");
        }
        assert_eq!(Config::for_region("eu").unwrap().lwa_cooldown, Duration::from_secs(300));
    }

    fn creds() -> Credentials {
        Credentials { client_id: "id".into(), client_secret: "secret".into(), refresh_token: "Atzr|x".into() }
    }

    #[test]
    fn the_business_import_operations_have_their_keys_and_plans() {
        let c = Client::new(Config::for_region("na").unwrap(), creds(), "acme", LocalSlots::default()).unwrap();
        let keys: Vec<String> =
            [Op::GetTransactions, Op::InvoiceDetails, Op::PaymentDetails, Op::CreateReport, Op::GetReport, Op::GetReportDocument]
                .iter()
                .map(|op| c.slot_key(*op))
                .collect();
        assert_eq!(
            keys,
            [
                "ab:acme:getTransactions",
                "ab:acme:getInvoiceDetailsByOrderLineItems",
                "ab:acme:getBatchInvoicePaymentDetails",
                "ab:acme:createReport",
                "ab:acme:getReport",
                "ab:acme:getReportDocument"
            ]
        );
        assert!(!Op::CreateReport.idempotent(), "a lost createReport is never resent");
        assert!([Op::GetTransactions, Op::InvoiceDetails, Op::PaymentDetails, Op::GetReport, Op::GetReportDocument]
            .iter()
            .all(Op::idempotent));
        let cfg = Config::for_business(invoice_domain::company::BusinessRegion::Na).unwrap();
        let plans =
            |ops: &[Op]| ops.iter().map(|op| (op.plan(&cfg).burst, (op.plan(&cfg).rate * 10_000.0).round() as i64)).collect::<Vec<_>>();
        assert_eq!(
            plans(&[Op::GetTransactions, Op::InvoiceDetails, Op::PaymentDetails]),
            vec![(8, 19_417); 3],
            "2/s burst 10, with margin"
        );
        assert_eq!(plans(&[Op::CreateReport, Op::GetReportDocument]), vec![(13, 162); 2], "0.0167/s burst 15, with margin");
        assert_eq!(plans(&[Op::GetReport]), vec![(13, 19_417)]);
        assert_eq!((cfg.report_max_wait, cfg.max_download_bytes), (None, 32 * 1024 * 1024));
    }

    #[test]
    fn the_transactions_query_is_percent_encoded_and_a_page_token_goes_alone() {
        let window = [("feedStartDate", "2026-03-01T00:00:00.000Z".to_string()), ("feedEndDate", "2026-03-02T06:00:00+01:00".to_string())];
        assert_eq!(transactions_query(&window), "feedStartDate=2026-03-01T00%3A00%3A00.000Z&feedEndDate=2026-03-02T06%3A00%3A00%2B01%3A00");
        let token = [("nextPageToken", "a+b/c= d&e".to_string())];
        assert_eq!(transactions_query(&token), "nextPageToken=a%2Bb%2Fc%3D%20d%26e");
        let mixed = [window[0].clone(), token[0].clone(), window[1].clone()];
        assert_eq!(transactions_query(&mixed), "nextPageToken=a%2Bb%2Fc%3D%20d%26e", "the model: the token alone");
        assert_eq!(transactions_query(&[]), "");
    }

    #[test]
    fn report_ids_are_path_segments_and_never_empty() {
        assert_eq!(id_segment("reportId", " 50012345678 ").unwrap(), "50012345678");
        assert_eq!(id_segment("reportDocumentId", "amzn1.tortuga.4.na/../x").unwrap(), "amzn1.tortuga.4.na%2F..%2Fx");
        for bad in ["", "   ", &"x".repeat(1025)] {
            let e = id_segment("reportId", bad).unwrap_err();
            assert_eq!(e.class(), Class::Rejected, "{bad:?}");
        }
    }

    #[test]
    fn downloads_are_gunzipped_within_the_limit_and_errors_read() {
        use std::io::Write;
        let gz = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let pdf = b"%PDF-1.4 hello".to_vec();
        assert_eq!(gunzip(&gz(&pdf), 1024).unwrap(), pdf);
        // Two members (concatenated GZIP) are one document.
        let mut two = gz(b"%PDF");
        two.extend(gz(b"-1.4"));
        assert_eq!(gunzip(&two, 1024).unwrap(), b"%PDF-1.4");
        // A bomb stops at the limit.
        assert_eq!(gunzip(&gz(&vec![0u8; 100_000]), 1000), Err(DownloadError::TooLarge { limit: 1000 }));
        assert_eq!(gunzip(&gz(&vec![0u8; 1000]), 1000).unwrap().len(), 1000, "exactly the limit is fine");
        assert!(matches!(gunzip(b"%PDF-1.4 not gzip", 1024), Err(DownloadError::Gzip(_))));
        let cut = gz(&pdf);
        assert!(matches!(gunzip(&cut[..cut.len() - 6], 1024), Err(DownloadError::Gzip(_))), "cut off");
        let xml = "<?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert_eq!(xml_element(xml, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_element(xml, "Message").as_deref(), Some("Request has expired"));
        assert_eq!(xml_element(xml, "HostId"), None);
        assert_eq!(xml_element("<Code>unclosed", "Code"), None);
    }

    #[tokio::test]
    async fn a_look_at_the_limiter_reserves_nothing() {
        let slots = LocalSlots::default();
        let p = Plan { rate: 1.0, burst: 2 };
        assert_eq!(slots.stored_tat("k").await.unwrap(), None);
        assert_eq!(slots.next_slot("k", &p, 5_000_000).await.unwrap(), 5_000_000, "never used: now");
        for _ in 0..2 {
            slots.reserve("k", &p, 5_000_000).await.unwrap();
        }
        let look = slots.next_slot("k", &p, 5_000_000).await.unwrap();
        assert_eq!(look, 6_000_000, "the burst used: one second on");
        assert_eq!(slots.next_slot("k", &p, 5_000_000).await.unwrap(), look, "looking twice changes nothing");
        assert_eq!(slots.reserve("k", &p, 5_000_000).await.unwrap().send_at_us, look, "the reservation goes where the look said");
        let shared = Arc::new(slots);
        assert_eq!(shared.next_slot("k", &p, 5_000_000).await.unwrap(), 7_000_000, "through an Arc too");
    }

    #[tokio::test]
    async fn a_slow_report_slot_is_left_for_later_without_being_reserved() {
        let mut cfg = Config::for_region("na").unwrap();
        cfg.create_report_plan = Plan { rate: 0.01, burst: 1 };
        cfg.get_transactions_plan = Plan { rate: 0.01, burst: 2 };
        cfg.report_max_wait = Some(Duration::from_secs(5));
        let c = Client::new(cfg, creds(), "acme", LocalSlots::default()).unwrap();
        c.pace(Op::CreateReport).await.unwrap();
        let tat = c.slots.stored_tat("ab:acme:createReport").await.unwrap();
        for _ in 0..3 {
            let e = c.pace(Op::CreateReport).await.unwrap_err();
            let SpApiError::Paced { operation: "createReport", wait } = &e else { panic!("{e:?}") };
            assert!(wait.as_secs() > 95 && wait.as_secs() <= 100, "{wait:?}");
            assert_eq!(e.to_string(), "paced: next createReport slot in 100 s");
            assert_eq!(e.class(), Class::RetryLater);
        }
        assert_eq!(c.slots.stored_tat("ab:acme:createReport").await.unwrap(), tat, "nothing reserved");
        // Only the Reports operations: the others reserve as always (within their burst here).
        c.pace(Op::GetTransactions).await.unwrap();
        c.pace(Op::GetTransactions).await.unwrap();
    }
}
