//! SP-API client: Login-with-Amazon access tokens (cached until shortly before expiry),
//! `x-amz-access-token`, regional endpoints, pacing through a shared GCRA slot store (so all
//! instances together stay within the usage plan), and retry rules that never resend a
//! submission whose outcome is unknown.
//!
//! | answer | submitInvoices | getTransaction |
//! |---|---|---|
//! | 429 | back off with jitter (≥ 1/`x-amzn-RateLimit-Limit` s), bounded | same |
//! | 5xx | bounded retries with exponential backoff + jitter | same |
//! | connection refused / not established | bounded retries (nothing was sent) | same |
//! | timeout or connection lost after sending | `Unknown`: never resent blindly | retried (a GET is safe) |
//! | 403 | token refreshed once, then `Auth` | same |
//! | other 4xx | `Rejected` with Amazon's errors, no retry | same |

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use invoice_domain::core::PortError;
pub mod rate;

use invoice_domain::vendor::body::SubmitInvoicesRequest;
use rate::{reserve, Plan, Reservation};
use serde::{Deserialize, Serialize};

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
        })
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

#[derive(Debug, thiserror::Error)]
pub enum SpApiError {
    /// Amazon refused the request (400 and other 4xx): do not retry; show the errors.
    #[error("rejected with HTTP {status}: {}", ApiError::readable(errors))]
    Rejected { status: u16, errors: Vec<ApiError>, request_id: Option<String> },
    /// Still throttled after the bounded retries: try again later.
    #[error("throttled (HTTP 429) {attempts} times")]
    Throttled { attempts: u32 },
    /// Server errors after the bounded retries: try again later.
    #[error("server error HTTP {status} after {attempts} attempts")]
    Server { status: u16, attempts: u32 },
    /// The request could not be sent at all: nothing reached Amazon; safe to try later.
    #[error("could not reach SP-API: {0}")]
    NotSent(String),
    /// The request was sent but no answer came back (timeout, connection lost): Amazon may or
    /// may not have accepted it. Never resend a submission blindly.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("unexpected answer: {0}")]
    Decode(String),
    #[error("rate limiter: {0}")]
    Pacer(String),
}

impl SpApiError {
    /// Worth retrying later (the queue message stays); false for rejections and unknowns.
    pub fn is_transient(&self) -> bool {
        matches!(self, SpApiError::Throttled { .. } | SpApiError::Server { .. } | SpApiError::NotSent(_) | SpApiError::Pacer(_))
            || matches!(self, SpApiError::Auth(m) if m.contains("temporarily") || m.contains("HTTP 5"))
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
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

struct Token {
    value: String,
    valid_until: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Submit,
    GetTransaction,
}

impl Op {
    fn key(&self) -> &'static str {
        match self {
            Op::Submit => "submitInvoices",
            Op::GetTransaction => "getTransaction",
        }
    }
}

pub struct Client<S: SlotStore> {
    http: reqwest::Client,
    config: Config,
    credentials: Credentials,
    partner: String,
    slots: S,
    token: tokio::sync::Mutex<Option<Token>>,
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

/// What one HTTP exchange came to.
enum Exchange {
    Answer {
        status: u16,
        body: String,
        rate_limit: Option<f64>,
        request_id: Option<String>,
    },
    /// Never left this machine (connection not established).
    NotSent(String),
    /// Sent, no complete answer.
    Lost(String),
}

impl<S: SlotStore> Client<S> {
    pub fn new(config: Config, credentials: Credentials, partner: impl Into<String>, slots: S) -> Result<Self, SpApiError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("InvoiceBridge/", env!("CARGO_PKG_VERSION"), " (Language=Rust)"))
            .build()
            .map_err(|e| SpApiError::NotSent(e.to_string()))?;
        Ok(Client { http, config, credentials, partner: partner.into(), slots, token: tokio::sync::Mutex::new(None) })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// An access token, from the cache unless it expires within the refresh margin.
    async fn access_token(&self, force: bool) -> Result<String, SpApiError> {
        let mut guard = self.token.lock().await;
        if !force {
            if let Some(t) = guard.as_ref() {
                if Instant::now() + self.config.token_refresh_margin < t.valid_until {
                    return Ok(t.value.clone());
                }
            }
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.credentials.refresh_token.as_str()),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.as_str()),
        ];
        let mut last = String::new();
        for attempt in 1..=self.config.max_server_attempts {
            let sent_at = Instant::now();
            match self.http.post(&self.config.lwa_endpoint).form(&form).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().await.unwrap_or_default();
                    if status == 200 {
                        let ok: LwaOk =
                            serde_json::from_str(&body).map_err(|e| SpApiError::Auth(format!("LWA answer not understood: {e}")))?;
                        let ttl = Duration::from_secs(ok.expires_in.unwrap_or(1800));
                        *guard = Some(Token { value: ok.access_token.clone(), valid_until: sent_at + ttl });
                        tracing::debug!(expires_in = ttl.as_secs(), "LWA access token obtained");
                        return Ok(ok.access_token);
                    }
                    let e: LwaErr = serde_json::from_str(&body).unwrap_or(LwaErr { error: None, error_description: None });
                    let text = format!(
                        "LWA HTTP {status}: {} {}",
                        e.error.as_deref().unwrap_or("error"),
                        e.error_description.as_deref().unwrap_or("")
                    );
                    if status < 500 {
                        return Err(SpApiError::Auth(text.trim().to_string()));
                    }
                    last = text;
                }
                Err(e) => last = format!("LWA unreachable: {e}"),
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
        Err(SpApiError::Auth(format!("{last} (temporarily unavailable after retries)")))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.backoff_base.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(6));
        Duration::from_millis(exp / 2 + fastrand::u64(0..=exp / 2 + 1))
    }

    /// Waits for this instance's slot in the shared rate limit.
    async fn pace(&self, op: Op) -> Result<(), SpApiError> {
        let plan = match op {
            Op::Submit => self.config.submit_plan,
            Op::GetTransaction => self.config.transaction_plan,
        };
        let now = now_us();
        let r =
            self.slots.reserve(&format!("spapi:{}:{}", self.partner, op.key()), &plan, now).await.map_err(|e| SpApiError::Pacer(e.0))?;
        let wait = r.send_at_us - now_us();
        if wait > 0 {
            tokio::time::sleep(Duration::from_micros(wait as u64)).await;
        }
        Ok(())
    }

    async fn exchange(&self, op: Op, token: &str, body: Option<&[u8]>, path: &str) -> Exchange {
        let url = format!("{}{}", self.config.endpoint, path);
        let req = match body {
            Some(b) => self.http.post(&url).header("content-type", "application/json").body(b.to_vec()),
            None => self.http.get(&url),
        };
        let req = req.header("x-amz-access-token", token).header("x-amz-date", amz_date());
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                let rate_limit = header("x-amzn-ratelimit-limit").and_then(|v| v.trim().parse::<f64>().ok());
                let request_id = header("x-amzn-requestid");
                match resp.text().await {
                    Ok(body) => Exchange::Answer { status, body, rate_limit, request_id },
                    Err(e) => Exchange::Lost(format!("{op:?}: answer cut off: {e}")),
                }
            }
            Err(e) if e.is_connect() => Exchange::NotSent(format!("{op:?}: {e}")),
            Err(e) if e.is_builder() => Exchange::NotSent(format!("{op:?}: {e}")),
            Err(e) => Exchange::Lost(format!("{op:?}: {e}")),
        }
    }

    /// One API call with pacing, token handling and the retry rules of the table above.
    async fn call(&self, op: Op, path: &str, body: Option<&[u8]>) -> Result<(u16, String), SpApiError> {
        let mut throttled = 0u32;
        let mut server = 0u32;
        let mut refreshed = false;
        loop {
            self.pace(op).await?;
            let token = self.access_token(false).await?;
            match self.exchange(op, &token, body, path).await {
                Exchange::Answer { status, body: text, rate_limit, request_id } => {
                    tracing::info!(operation = ?op, status, request_id = request_id.as_deref().unwrap_or(""), "SP-API answer");
                    match status {
                        200..=299 => return Ok((status, text)),
                        429 => {
                            throttled += 1;
                            if throttled >= self.config.max_throttled_attempts {
                                return Err(SpApiError::Throttled { attempts: throttled });
                            }
                            let min = rate_limit.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r)).unwrap_or_default();
                            tokio::time::sleep(self.backoff(throttled).max(min)).await;
                        }
                        403 if !refreshed => {
                            refreshed = true;
                            self.access_token(true).await?;
                        }
                        403 => return Err(SpApiError::Auth(format!("HTTP 403: {}", errors_text(&text)))),
                        500..=599 => {
                            server += 1;
                            if server >= self.config.max_server_attempts {
                                return Err(SpApiError::Server { status, attempts: server });
                            }
                            tokio::time::sleep(self.backoff(server)).await;
                        }
                        _ => {
                            let errors = serde_json::from_str::<ErrorsBody>(&text).map(|b| b.errors).unwrap_or_default();
                            let errors = if errors.is_empty() {
                                vec![ApiError { code: format!("HTTP{status}"), message: text.chars().take(500).collect(), details: None }]
                            } else {
                                errors
                            };
                            return Err(SpApiError::Rejected { status, errors, request_id });
                        }
                    }
                }
                Exchange::NotSent(e) => {
                    server += 1;
                    if server >= self.config.max_server_attempts {
                        return Err(SpApiError::NotSent(e));
                    }
                    tokio::time::sleep(self.backoff(server)).await;
                }
                Exchange::Lost(e) => {
                    if op == Op::Submit {
                        return Err(SpApiError::Unknown(e));
                    }
                    server += 1;
                    if server >= self.config.max_server_attempts {
                        return Err(SpApiError::Server { status: 0, attempts: server });
                    }
                    tokio::time::sleep(self.backoff(server)).await;
                }
            }
        }
    }

    /// `POST /vendor/payments/v1/invoices` → the transactionId of the accepted submission.
    pub async fn submit_invoices(&self, req: &SubmitInvoicesRequest) -> Result<String, SpApiError> {
        let body = serde_json::to_vec(req).map_err(|e| SpApiError::Decode(e.to_string()))?;
        let (_, text) = self.call(Op::Submit, "/vendor/payments/v1/invoices", Some(&body)).await?;
        let parsed: SubmitBody = serde_json::from_str(&text).map_err(|e| SpApiError::Decode(format!("submitInvoices answer: {e}")))?;
        parsed
            .payload
            .and_then(|p| p.transaction_id)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SpApiError::Decode("submitInvoices answered without payload.transactionId".into()))
    }

    /// `GET /vendor/transactions/v1/transactions/{id}`.
    pub async fn get_transaction(&self, transaction_id: &str) -> Result<Transaction, SpApiError> {
        let path = format!("/vendor/transactions/v1/transactions/{}", path_segment(transaction_id));
        let (_, text) = self.call(Op::GetTransaction, &path, None).await?;
        let parsed: TxBody = serde_json::from_str(&text).map_err(|e| SpApiError::Decode(format!("getTransaction answer: {e}")))?;
        parsed
            .payload
            .and_then(|p| p.transaction_status)
            .ok_or_else(|| SpApiError::Decode("getTransaction answered without payload.transactionStatus".into()))
    }
}

fn errors_text(body: &str) -> String {
    serde_json::from_str::<ErrorsBody>(body).map(|b| ApiError::readable(&b.errors)).unwrap_or_else(|_| body.chars().take(200).collect())
}

fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `x-amz-date` as SP-API documents it: `20190430T123600Z`.
fn amz_date() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// The SP-API client as the submission workflow's port: every error is classified so the
/// workflow knows whether to record, retry later, or keep an unknown outcome.
impl<S: SlotStore> invoice_domain::vendor::ports::InvoiceApi for Client<S> {
    async fn submit(&self, req: &SubmitInvoicesRequest) -> invoice_domain::vendor::ports::SubmitResult {
        use invoice_domain::vendor::ports::SubmitResult;
        match self.submit_invoices(req).await {
            Ok(transaction_id) => SubmitResult::Accepted { transaction_id },
            Err(SpApiError::Rejected { status, errors, .. }) => {
                let code = errors.first().map(|e| e.code.clone()).unwrap_or_else(|| format!("HTTP{status}"));
                // The code travels separately; errors with another code keep theirs in the text.
                let message = errors
                    .iter()
                    .map(|e| {
                        let text = match e.details.as_deref().filter(|d| !d.is_empty()) {
                            Some(d) => format!("{} ({d})", e.message),
                            None => e.message.clone(),
                        };
                        if e.code == code {
                            text
                        } else {
                            format!("{}: {text}", e.code)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                SubmitResult::Rejected { status, code, message }
            }
            // 202 whose body could not be read: Amazon may have the invoice.
            Err(e @ (SpApiError::Unknown(_) | SpApiError::Decode(_))) => SubmitResult::Unknown(e.to_string()),
            // Nothing reached Amazon or it asked us to come back: the message is retried.
            Err(e) => SubmitResult::Transient(e.to_string()),
        }
    }
}

/// getTransaction as the status poller's port: anything but a definite answer is
/// `Unavailable` (retried next run), never a false Error.
impl<S: SlotStore> invoice_domain::vendor::ports::TransactionApi for Client<S> {
    async fn transaction(&self, transaction_id: &str) -> invoice_domain::vendor::ports::TxStatus {
        use invoice_domain::vendor::ports::TxStatus;
        match self.get_transaction(transaction_id).await {
            Ok(t) => match t.status {
                TransactionState::Processing => TxStatus::Processing,
                TransactionState::Success => TxStatus::Success,
                TransactionState::Failure => TxStatus::Failure(t.errors.into_iter().map(|e| (e.code, e.message)).collect()),
            },
            Err(e) => TxStatus::Unavailable(e.to_string()),
        }
    }
}
