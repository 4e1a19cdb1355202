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
}

/// One store shared by several clients (e.g. one per selling partner).
impl<T: SlotStore + ?Sized> SlotStore for Arc<T> {
    fn reserve(&self, key: &str, plan: &Plan, now_us: i64) -> impl Future<Output = Result<Reservation, PortError>> + Send {
        (**self).reserve(key, plan, now_us)
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
}

impl Op {
    /// The operation's name in slot keys and logs.
    fn name(&self) -> &'static str {
        match self {
            Op::Submit => "submitInvoices",
            Op::GetTransaction => "getTransaction",
            Op::PlaceOrder => "placeOrder",
            Op::OrderDetails => "orderDetails",
        }
    }

    /// The API family in slot keys: `spapi` (vendor) or `ab` (Amazon Business).
    fn family(&self) -> &'static str {
        match self {
            Op::Submit | Op::GetTransaction => "spapi",
            Op::PlaceOrder | Op::OrderDetails => "ab",
        }
    }

    /// Safe to repeat when its outcome is unknown.
    fn idempotent(&self) -> bool {
        matches!(self, Op::GetTransaction | Op::OrderDetails)
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
struct Answer {
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
    async fn pace(&self, op: Op) -> Result<(), SpApiError> {
        let plan = match op {
            Op::Submit => self.config.submit_plan,
            Op::GetTransaction => self.config.transaction_plan,
            Op::PlaceOrder => self.config.place_order_plan,
            Op::OrderDetails => self.config.order_details_plan,
        };
        let now = now_us();
        let r = self.slots.reserve(&self.slot_key(op), &plan, now).await.map_err(|e| SpApiError::Pacer(e.0))?;
        let wait = r.send_at_us - now_us();
        if wait > 0 {
            tokio::time::sleep(Duration::from_micros(wait as u64)).await;
        }
        Ok(())
    }

    /// One HTTP exchange: a complete 2xx answer, or the facts of what went wrong.
    async fn exchange(&self, op: Op, token: &str, body: Option<&[u8]>, path: &str, headers: &[(&str, &str)]) -> Result<Answer, SpApiError> {
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
            return Ok(Answer { status, body: text });
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
    async fn call(&self, op: Op, path: &str, body: Option<&[u8]>) -> Result<Answer, SpApiError> {
        self.call_with(op, path, body, &[]).await
    }

    async fn call_with(&self, op: Op, path: &str, body: Option<&[u8]>, headers: &[(&str, &str)]) -> Result<Answer, SpApiError> {
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
                Class::RetryLater if matches!(e, SpApiError::Http { status: 429, .. }) => {
                    let floor = match &e {
                        SpApiError::Http { rate_limit: Some(r), .. } if *r > 0.0 => Duration::from_secs_f64(1.0 / r),
                        _ => Duration::ZERO,
                    };
                    throttle_delays.next().map(|d| d.max(floor))
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
}
