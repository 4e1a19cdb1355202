//! Local emulator of the Selling Partner API endpoints the invoice bridge talks to, plus the
//! Login-with-Amazon (LWA) token endpoint:
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /auth/o2/token` | LWA refresh-token grant (form or JSON body) → `Atza|…` access token |
//! | `POST /vendor/payments/v1/invoices` | submitInvoices: token check, rate limit, validation against the official model, 202 + transactionId |
//! | `GET /vendor/transactions/v1/transactions/{id}` | getTransaction: Processing for N polls, then Success or Failure |
//! | `/_emulator/…` | control API for tests: faults, reset, recorded requests, stats (no auth) |
//!
//! The request body of submitInvoices is validated against a JSON Schema built from the official
//! Swagger 2.0 model (`models/vendorInvoices.json`, a byte copy of Amazon's file) with two rules the
//! model states only in prose or not at all, but that a real client must honour:
//! `Decimal` values are strings matching the pattern in the `Decimal` description, and
//! `invoices` is required at the top level (so a `{"payload":{…}}` wrapper is refused).
//!
//! Run it with [`serve`] on a bound [`tokio::net::TcpListener`]; the binary (`src/main.rs`) only
//! parses flags and calls it. `serve` owns the HTTP connections (instead of `axum::serve`) so that
//! the `drop_next` fault can close a connection without sending any response.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// Amazon's vendorInvoices.json (Swagger 2.0), unchanged.
pub const VENDOR_INVOICES_MODEL: &str = include_str!("../models/vendorInvoices.json");
/// Amazon's vendorTransactionStatus.json (Swagger 2.0), unchanged.
pub const VENDOR_TRANSACTION_STATUS_MODEL: &str = include_str!("../models/vendorTransactionStatus.json");

pub const DEFAULT_CLIENT_ID: &str = "local-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "local-client-secret";
pub const DEFAULT_REFRESH_TOKEN: &str = "Atzr|local-refresh-token";

pub const SUBMIT_INVOICES_PATH: &str = "/vendor/payments/v1/invoices";
pub const GET_TRANSACTION_PREFIX: &str = "/vendor/transactions/v1/transactions/";
pub const LWA_TOKEN_PATH: &str = "/auth/o2/token";

const HDR_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const HDR_RATE_LIMIT: HeaderName = HeaderName::from_static("x-amzn-ratelimit-limit");
const HDR_ACCESS_TOKEN: &str = "x-amz-access-token";

/// Settings of one emulator instance. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Lifetime of issued access tokens, seconds (`expires_in`).
    pub token_expires_in: u64,
    /// getTransaction answers `Processing` this many times before the final status.
    pub processing_polls: u32,
    pub submit_rate: f64,
    pub submit_burst: f64,
    pub get_transaction_rate: f64,
    pub get_transaction_burst: f64,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// How long a `stall_next` request hangs before its connection is closed.
    pub stall: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            refresh_token: DEFAULT_REFRESH_TOKEN.into(),
            token_expires_in: 3600,
            processing_polls: 1,
            submit_rate: 10.0,
            submit_burst: 10.0,
            get_transaction_rate: 10.0,
            get_transaction_burst: 20.0,
            max_body_bytes: 16 * 1024 * 1024,
            stall: Duration::from_secs(600),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The official model as a JSON Schema

pub mod model {
    use super::VENDOR_INVOICES_MODEL;
    use serde_json::{json, Value};

    /// The regular expression the model gives for `Decimal`, read from its description
    /// (the model has no `pattern` keyword): `^-?(0|([1-9]\d*))(\.\d+)?([eE][+-]?\d+)?$`.
    pub fn decimal_pattern(model: &Value) -> Option<String> {
        let description = model.pointer("/definitions/Decimal/description")?.as_str()?;
        let (_, rest) = description.split_once("**Pattern** : `")?;
        let (pattern, _) = rest.split_once('`')?;
        Some(pattern.to_owned())
    }

    /// Drops Swagger vendor extensions (`x-…`) and `example` from schema objects. Keys inside
    /// `properties`/`definitions` are names, not keywords, and are kept.
    fn strip_swagger_only(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                map.retain(|k, _| !k.starts_with("x-") && k != "example");
                for (k, v) in map.iter_mut() {
                    if k == "properties" || k == "definitions" {
                        if let Value::Object(named) = v {
                            named.values_mut().for_each(strip_swagger_only);
                        }
                    } else if k != "enum" {
                        strip_swagger_only(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(strip_swagger_only),
            _ => {}
        }
    }

    /// JSON Schema (draft 4, which Swagger 2.0 schema objects are based on) for the
    /// submitInvoices request body, built from the model's `definitions` plus:
    /// - `Decimal.pattern` = the prose pattern, with `\d` spelled `[0-9]` (ASCII digits only);
    /// - `SubmitInvoicesRequest.required = ["invoices"]`.
    pub fn submit_invoices_schema() -> Value {
        let model: Value = serde_json::from_str(VENDOR_INVOICES_MODEL).expect("vendorInvoices.json is JSON");
        let pattern = decimal_pattern(&model).expect("Decimal description states its pattern");
        let mut definitions = model["definitions"].clone();
        strip_swagger_only(&mut definitions);
        definitions["Decimal"]["pattern"] = Value::String(pattern.replace("\\d", "[0-9]"));
        definitions["SubmitInvoicesRequest"]["required"] = json!(["invoices"]);
        json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "$ref": "#/definitions/SubmitInvoicesRequest",
            "definitions": definitions,
        })
    }

    /// Compiled validator for submitInvoices bodies, format validation on (`date-time`).
    pub fn submit_invoices_validator() -> jsonschema::Validator {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&submit_invoices_schema())
            .expect("submitInvoices schema compiles")
    }

    /// One message per violation: `<JSON pointer>: <validator message>` (`(root)` for the
    /// document itself).
    pub fn violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
        validator
            .iter_errors(body)
            .map(|e| {
                let path = e.instance_path().as_str();
                let path = if path.is_empty() { "(root)" } else { path };
                format!("{path}: {e}")
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// ids, rate limiting

/// Unique ids without a random-number crate: a per-process seed plus a counter, mixed with
/// splitmix64 (a bijection, so distinct counters give distinct values).
struct Ids {
    seed: u64,
    counter: AtomicU64,
}

impl Ids {
    fn new() -> Ids {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        let local = 0u8;
        let seed = nanos ^ (u64::from(std::process::id()) << 32) ^ (&local as *const u8 as u64);
        Ids { seed, counter: AtomicU64::new(0) }
    }

    fn next(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut z = self.seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// UUID-shaped (version 4 layout).
    fn uuid(&self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Token bucket refilled continuously (`rate` tokens per second, at most `burst`), starting full.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Bucket {
        Bucket { rate, burst, tokens: burst, last: Instant::now() }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        // The epsilon absorbs float rounding for a client pacing at exactly `rate`.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }

    fn refill(&mut self) {
        self.tokens = self.burst;
        self.last = Instant::now();
    }

    /// `x-amzn-RateLimit-Limit` value, e.g. `10.0`.
    fn limit_header(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("{:?}", self.rate)).expect("a float is a valid header value")
    }
}

// ---------------------------------------------------------------------------------------------
// state

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Submit,
    GetTransaction,
    Token,
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
struct Faults {
    fail_next: u32,
    fail_status: u16,
    throttle_next: u32,
    drop_next: u32,
    /// Process the request normally (the transaction exists), then close the connection
    /// without sending the answer: the client cannot know the outcome.
    lose_response_next: u32,
    delay_ms: u64,
    stall_next: u32,
    processing_polls: u32,
    reject_invoice_ids: BTreeMap<String, Vec<ApiError>>,
    /// Invoice ids whose submission is refused synchronously with HTTP 400 and these errors
    /// (Amazon's business-rule rejections, which a schema-valid body can still get).
    invalid_invoice_ids: BTreeMap<String, Vec<ApiError>>,
    lwa_fail_next: u32,
    /// When set, fail/throttle/drop/stall only hit this operation.
    operation: Option<Operation>,
}

impl Faults {
    fn new(config: &Config) -> Faults {
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
        }
    }
}

/// Body of `POST /_emulator/faults`; every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsPatch {
    fail_next: Option<u32>,
    fail_status: Option<u16>,
    throttle_next: Option<u32>,
    drop_next: Option<u32>,
    lose_response_next: Option<u32>,
    delay_ms: Option<u64>,
    stall_next: Option<u32>,
    processing_polls: Option<u32>,
    /// Merged into the current map; an empty error list removes the id.
    reject_invoice_ids: Option<BTreeMap<String, Vec<ApiError>>>,
    /// Merged like `reject_invoice_ids`; these ids get a synchronous 400.
    invalid_invoice_ids: Option<BTreeMap<String, Vec<ApiError>>>,
    lwa_fail_next: Option<u32>,
    /// `"submit"`, `"get_transaction"`, or null for both.
    #[serde(default, deserialize_with = "some")]
    operation: Option<Option<Operation>>,
}

fn some<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

enum Fault {
    Drop,
    Stall,
    Throttle,
    Fail(StatusCode),
}

#[derive(Debug, Clone, Serialize)]
struct Recorded {
    seq: u64,
    request_id: String,
    operation: Operation,
    method: String,
    path: String,
    /// Null while in flight, or when the connection was dropped/stalled on purpose.
    status: Option<u16>,
    /// `"drop"`, `"stall"`, `"throttle"` or `"fail"` when a fault answered.
    fault: Option<&'static str>,
    at: String,
    invoice_ids: Vec<String>,
    body: Value,
}

struct Transaction {
    polls: u32,
    processing_polls: u32,
    failure: Option<Vec<ApiError>>,
}

struct Inner {
    /// Invoice id → the transaction that first carried it (duplicate detection).
    accepted_invoices: HashMap<String, String>,
    faults: Faults,
    requests: Vec<Recorded>,
    next_seq: u64,
    stats: BTreeMap<&'static str, BTreeMap<String, u64>>,
    token_requests: u64,
    transactions: HashMap<String, Transaction>,
    tokens: HashMap<String, Instant>,
    submit_bucket: Bucket,
    get_bucket: Bucket,
}

impl Inner {
    fn take_fault(&mut self, op: Operation) -> Option<Fault> {
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

    fn bucket(&mut self, op: Operation) -> &mut Bucket {
        match op {
            Operation::GetTransaction => &mut self.get_bucket,
            _ => &mut self.submit_bucket,
        }
    }

    fn token_valid(&self, headers: &HeaderMap) -> bool {
        headers
            .get(HDR_ACCESS_TOKEN)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| self.tokens.get(t.trim()))
            .is_some_and(|expiry| Instant::now() < *expiry)
    }
}

/// One emulator instance (cheap to clone, shared state).
#[derive(Clone)]
pub struct App {
    config: Arc<Config>,
    validator: Arc<jsonschema::Validator>,
    ids: Arc<Ids>,
    inner: Arc<Mutex<Inner>>,
}

impl App {
    pub fn new(config: Config) -> App {
        let inner = Inner {
            accepted_invoices: HashMap::new(),
            faults: Faults::new(&config),
            requests: Vec::new(),
            next_seq: 0,
            stats: BTreeMap::new(),
            token_requests: 0,
            transactions: HashMap::new(),
            tokens: HashMap::new(),
            submit_bucket: Bucket::new(config.submit_rate, config.submit_burst),
            get_bucket: Bucket::new(config.get_transaction_rate, config.get_transaction_burst),
        };
        App {
            config: Arc::new(config),
            validator: Arc::new(model::submit_invoices_validator()),
            ids: Arc::new(Ids::new()),
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The routes, with the request-id middleware. Served by [`serve`].
    fn router(&self) -> Router {
        Router::new()
            .route(LWA_TOKEN_PATH, post(lwa_token))
            .route(SUBMIT_INVOICES_PATH, post(submit_invoices))
            .route("/vendor/transactions/v1/transactions/{transaction_id}", get(get_transaction))
            .route("/_emulator/faults", post(set_faults).get(get_faults))
            .route("/_emulator/reset", post(reset))
            .route("/_emulator/requests", get(recorded_requests))
            .route("/_emulator/stats", get(stats))
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(self.clone(), request_id))
            .with_state(self.clone())
    }

    fn record_start(&self, op: Operation, method: &str, path: &str, request_id: &str, body: Value, invoice_ids: Vec<String>) -> u64 {
        let mut inner = self.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.requests.push(Recorded {
            seq,
            request_id: request_id.to_owned(),
            operation: op,
            method: method.to_owned(),
            path: path.to_owned(),
            status: None,
            fault: None,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            invoice_ids,
            body,
        });
        seq
    }

    /// Sets the final status of a recorded request and counts it.
    fn record_finish(&self, seq: u64, op: Operation, status: Option<StatusCode>, fault: Option<&'static str>) {
        let mut inner = self.lock();
        if let Ok(i) = inner.requests.binary_search_by_key(&seq, |r| r.seq) {
            inner.requests[i].status = status.map(|s| s.as_u16());
            inner.requests[i].fault = fault;
        }
        let key = match (status, fault) {
            (Some(s), _) => s.as_u16().to_string(),
            (None, Some("stall")) => "stalled".to_owned(),
            (None, _) => "dropped".to_owned(),
        };
        let group = match op {
            Operation::Submit => "submit",
            Operation::GetTransaction => "get_transaction",
            Operation::Token => "token_status",
        };
        *inner.stats.entry(group).or_default().entry(key).or_default() += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// serving

/// Handle given to each request: notifying it closes the request's connection without a response.
#[derive(Clone)]
struct ConnKill(Arc<Notify>);

/// Serves `app` on `listener` until the task is dropped. Each connection runs on its own task
/// (HTTP/1.1 with keep-alive).
pub async fn serve(listener: TcpListener, app: App) -> std::io::Result<()> {
    use tower::Service;
    let router = app.router();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // e.g. EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let handle = ConnKill(kill.clone());
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(handle.clone());
                router.clone().call(req.map(Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                res = conn => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = kill.notified() => {
                    tracing::info!(%peer, "connection closed without a response (fault)");
                }
            }
        });
    }
}

async fn request_id(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let id = app.ids.uuid();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(HDR_REQUEST_ID, HeaderValue::from_str(&id).expect("uuid is a header value"));
    tracing::info!(
        request_id = %id,
        %method,
        path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

#[derive(Clone)]
struct RequestId(String);

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// The SP-API error body: `{"errors":[{"code","message","details":""}]}`.
fn sp_errors(status: StatusCode, errors: impl IntoIterator<Item = (&'static str, String)>) -> Response {
    let errors: Vec<Value> = errors.into_iter().map(|(code, message)| json!({"code": code, "message": message, "details": ""})).collect();
    json_response(status, json!({ "errors": errors }))
}

fn sp_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    sp_errors(status, [(code, message.into())])
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")))
}

async fn not_found() -> Response {
    sp_error(StatusCode::NOT_FOUND, "NotFound", "Resource not found.")
}

// ---------------------------------------------------------------------------------------------
// LWA

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: &'a str,
}

fn lwa_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    json_response(status, json!({"error": error, "error_description": description}))
}

/// Form or JSON body → string fields; `None` if the body can't be read as either.
fn lwa_fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    if is_json(headers) {
        let map: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
        Some(map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect())
    } else {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        Some(pairs.into_iter().collect())
    }
}

async fn lwa_token(State(app): State<App>, Extension(RequestId(rid)): Extension<RequestId>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = lwa_fields(&headers, &body);
    // Recorded without the refresh token and the client secret.
    let recorded = fields.as_ref().map_or(Value::Null, |f| json!({"grant_type": f.get("grant_type"), "client_id": f.get("client_id")}));
    let seq = app.record_start(Operation::Token, "POST", LWA_TOKEN_PATH, &rid, recorded, Vec::new());
    let resp = lwa_answer(&app, fields);
    app.lock().token_requests += 1;
    app.record_finish(seq, Operation::Token, Some(resp.status()), None);
    resp
}

fn lwa_answer(app: &App, fields: Option<HashMap<String, String>>) -> Response {
    let cfg = &app.config;
    {
        let mut inner = app.lock();
        if inner.faults.lwa_fail_next > 0 {
            inner.faults.lwa_fail_next -= 1;
            return lwa_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal server error (emulated fault)");
        }
    }
    let Some(fields) = fields else {
        return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", "The request body could not be parsed");
    };
    let field = |name: &str| fields.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type") {
        None => return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", "The request is missing a required parameter : grant_type"),
        Some("refresh_token") => {}
        Some(_) => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request has an invalid parameter : grant_type (only refresh_token is emulated)",
            )
        }
    }
    for name in ["refresh_token", "client_id", "client_secret"] {
        if field(name).is_none() {
            return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("The request is missing a required parameter : {name}"));
        }
    }
    if field("client_id") != Some(cfg.client_id.as_str()) || field("client_secret") != Some(cfg.client_secret.as_str()) {
        return lwa_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    if field("refresh_token") != Some(cfg.refresh_token.as_str()) {
        return lwa_error(StatusCode::BAD_REQUEST, "invalid_grant", "The request has an invalid grant parameter : refresh_token");
    }
    let token = format!("Atza|local-{}", app.ids.uuid().replace('-', ""));
    {
        let mut inner = app.lock();
        let now = Instant::now();
        inner.tokens.retain(|_, expiry| *expiry > now);
        inner.tokens.insert(token.clone(), now + Duration::from_secs(cfg.token_expires_in));
    }
    let body =
        TokenResponse { access_token: token, token_type: "bearer", expires_in: cfg.token_expires_in, refresh_token: &cfg.refresh_token };
    (StatusCode::OK, Json(body)).into_response()
}

// ---------------------------------------------------------------------------------------------
// SP-API operations

fn invoice_ids(body: &Value) -> Vec<String> {
    let list = body.get("invoices").or_else(|| body.pointer("/payload/invoices"));
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Shared part of both operations: faults, token check, rate limit, latency, recording and
/// rate-limit headers. `work` produces the operation's own answer.
async fn api_call<W>(app: &App, op: Operation, seq: u64, headers: &HeaderMap, kill: Option<Extension<ConnKill>>, work: W) -> Response
where
    W: FnOnce(&App) -> Response,
{
    let (fault, delay_ms) = {
        let mut inner = app.lock();
        (inner.take_fault(op), inner.faults.delay_ms)
    };
    match fault {
        Some(Fault::Drop) => {
            app.record_finish(seq, op, None, Some("drop"));
            return drop_connection(kill).await;
        }
        Some(Fault::Stall) => {
            app.record_finish(seq, op, None, Some("stall"));
            tokio::time::sleep(app.config.stall).await;
            return drop_connection(kill).await;
        }
        _ => {}
    }
    let (mut resp, fault_name) = match fault {
        Some(Fault::Throttle) => (quota_exceeded(), Some("throttle")),
        Some(Fault::Fail(status)) => {
            let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
                ("ServiceUnavailable", "Service temporarily unavailable (emulated fault).")
            } else {
                ("InternalFailure", "We encountered an internal error. Please try again. (emulated fault)")
            };
            (sp_error(status, code, message), Some("fail"))
        }
        _ => {
            let admitted = {
                let mut inner = app.lock();
                if !inner.token_valid(headers) {
                    None
                } else {
                    Some(inner.bucket(op).try_take(Instant::now()))
                }
            };
            match admitted {
                None => (sp_error(StatusCode::FORBIDDEN, "Unauthorized", "Access to requested resource is denied."), None),
                Some(false) => (quota_exceeded(), None),
                Some(true) => (work(app), None),
            }
        }
    };
    // lose_response_next: the request was processed (a transaction exists) but the answer
    // never reaches the client.
    let lose = resp.status().is_success() && {
        let mut inner = app.lock();
        let applies = inner.faults.operation.is_none_or(|only| only == op);
        if applies && inner.faults.lose_response_next > 0 {
            inner.faults.lose_response_next -= 1;
            true
        } else {
            false
        }
    };
    if lose {
        app.record_finish(seq, op, Some(resp.status()), Some("lose_response"));
        return drop_connection(kill).await;
    }
    let status = resp.status();
    let with_limit = match op {
        Operation::Submit => matches!(status.as_u16(), 202 | 400 | 404 | 429),
        _ => matches!(status.as_u16(), 200 | 400 | 404 | 429),
    };
    if with_limit {
        let limit = app.lock().bucket(op).limit_header();
        resp.headers_mut().insert(HDR_RATE_LIMIT, limit);
    }
    app.record_finish(seq, op, Some(status), fault_name);
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    resp
}

fn quota_exceeded() -> Response {
    sp_error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded", "You exceeded your quota for the requested resource.")
}

/// Closes the connection this request came on without answering, then never completes (the
/// connection task drops this future along with the connection).
async fn drop_connection(kill: Option<Extension<ConnKill>>) -> Response {
    match kill {
        Some(Extension(ConnKill(notify))) => {
            notify.notify_one();
            std::future::pending::<Response>().await
        }
        None => sp_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "drop_next needs spapi_emulator::serve"),
    }
}

fn with_body_limit(app: &App, body: Body) -> impl Future<Output = Result<Bytes, axum::Error>> {
    axum::body::to_bytes(body, app.config.max_body_bytes)
}

async fn submit_invoices(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match with_body_limit(&app, body).await {
        Ok(b) => b,
        Err(_) => return sp_error(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "The request size exceeded the limit."),
    };
    let parsed: Result<Value, serde_json::Error> = serde_json::from_slice(&bytes);
    let (recorded, ids) = match &parsed {
        Ok(v) => (v.clone(), invoice_ids(v)),
        Err(_) => (Value::Null, Vec::new()),
    };
    let seq = app.record_start(Operation::Submit, "POST", SUBMIT_INVOICES_PATH, &rid, recorded, ids.clone());
    let json_body = is_json(&parts.headers);
    api_call(&app, Operation::Submit, seq, &parts.headers, kill, move |app| {
        if !json_body {
            return sp_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "The request payload is in an unsupported format; send application/json.",
            );
        }
        let body = match parsed {
            Ok(v) => v,
            Err(e) => return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", format!("(root): body is not valid JSON: {e}")),
        };
        let violations = model::violations(&app.validator, &body);
        if !violations.is_empty() {
            return sp_errors(StatusCode::BAD_REQUEST, violations.into_iter().map(|m| ("InvalidInput", m)));
        }
        let refused: Vec<ApiError> = {
            let inner = app.lock();
            ids.iter().filter_map(|id| inner.faults.invalid_invoice_ids.get(id)).flatten().cloned().collect()
        };
        if !refused.is_empty() {
            return json_response(StatusCode::BAD_REQUEST, json!({ "errors": refused }));
        }
        let transaction_id = format!("{}-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"), app.ids.uuid());
        {
            let mut inner = app.lock();
            let mut failure: Vec<ApiError> =
                ids.iter().filter_map(|id| inner.faults.reject_invoice_ids.get(id)).flatten().cloned().collect();
            // Amazon refuses an invoice number it already has: the later transaction fails.
            for id in &ids {
                match inner.accepted_invoices.get(id) {
                    Some(first) => failure.push(ApiError {
                        code: "DUPLICATE_INVOICE".into(),
                        message: format!("Invoice {id} was already submitted in transaction {first}."),
                        details: None,
                    }),
                    None => {
                        inner.accepted_invoices.insert(id.clone(), transaction_id.clone());
                    }
                }
            }
            let processing_polls = inner.faults.processing_polls;
            inner.transactions.insert(
                transaction_id.clone(),
                Transaction { polls: 0, processing_polls, failure: (!failure.is_empty()).then_some(failure) },
            );
        }
        json_response(StatusCode::ACCEPTED, json!({"payload": {"transactionId": transaction_id}}))
    })
    .await
}

async fn get_transaction(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(transaction_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{GET_TRANSACTION_PREFIX}{transaction_id}");
    let seq = app.record_start(Operation::GetTransaction, "GET", &path, &rid, Value::Null, Vec::new());
    api_call(&app, Operation::GetTransaction, seq, &headers, kill, move |app| {
        let well_formed = !transaction_id.is_empty()
            && transaction_id.len() <= 128
            && transaction_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !well_formed {
            return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "Invalid transmission ID.");
        }
        let mut inner = app.lock();
        let Some(t) = inner.transactions.get_mut(&transaction_id) else {
            return sp_error(StatusCode::NOT_FOUND, "NotFound", "The requested transaction was not found.");
        };
        t.polls = t.polls.saturating_add(1);
        let status = if t.polls <= t.processing_polls {
            json!({"transactionId": transaction_id, "status": "Processing"})
        } else if let Some(errors) = &t.failure {
            json!({"transactionId": transaction_id, "status": "Failure", "errors": errors})
        } else {
            json!({"transactionId": transaction_id, "status": "Success"})
        };
        json_response(StatusCode::OK, json!({"payload": {"transactionStatus": status}}))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// control API

async fn get_faults(State(app): State<App>) -> Response {
    let faults = app.lock().faults.clone();
    json_response(StatusCode::OK, json!(faults))
}

async fn set_faults(State(app): State<App>, body: Bytes) -> Response {
    let patch: FaultsPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": format!("bad faults document: {e}")})),
    };
    if let Some(s) = patch.fail_status {
        if !(500..=599).contains(&s) {
            return json_response(StatusCode::BAD_REQUEST, json!({"error": "fail_status must be a 5xx code"}));
        }
    }
    let mut inner = app.lock();
    let f = &mut inner.faults;
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = patch.$field { f.$field = v; } )* };
    }
    set!(
        fail_next,
        fail_status,
        throttle_next,
        drop_next,
        lose_response_next,
        delay_ms,
        stall_next,
        processing_polls,
        lwa_fail_next,
        operation
    );
    for (id, errors) in patch.reject_invoice_ids.unwrap_or_default() {
        if errors.is_empty() {
            f.reject_invoice_ids.remove(&id);
        } else {
            f.reject_invoice_ids.insert(id, errors);
        }
    }
    for (id, errors) in patch.invalid_invoice_ids.unwrap_or_default() {
        if errors.is_empty() {
            f.invalid_invoice_ids.remove(&id);
        } else {
            f.invalid_invoice_ids.insert(id, errors);
        }
    }
    json_response(StatusCode::OK, json!(f.clone()))
}

async fn reset(State(app): State<App>) -> Response {
    let mut inner = app.lock();
    inner.faults = Faults::new(&app.config);
    inner.requests.clear();
    inner.stats.clear();
    inner.token_requests = 0;
    inner.transactions.clear();
    inner.accepted_invoices.clear();
    inner.submit_bucket.refill();
    inner.get_bucket.refill();
    // Issued access tokens stay valid.
    json_response(StatusCode::OK, json!({"reset": true}))
}

async fn recorded_requests(State(app): State<App>) -> Response {
    let requests = app.lock().requests.clone();
    json_response(StatusCode::OK, json!(requests))
}

async fn stats(State(app): State<App>) -> Response {
    let inner = app.lock();
    let group = |name: &str| json!(inner.stats.get(name).cloned().unwrap_or_default());
    json_response(
        StatusCode::OK,
        json!({
            "submit": group("submit"),
            "get_transaction": group("get_transaction"),
            "token": inner.token_requests,
            "token_status": group("token_status"),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_pattern_comes_from_the_model() {
        let m: Value = serde_json::from_str(VENDOR_INVOICES_MODEL).unwrap();
        assert_eq!(model::decimal_pattern(&m).unwrap(), r"^-?(0|([1-9]\d*))(\.\d+)?([eE][+-]?\d+)?$");
        let schema = model::submit_invoices_schema();
        assert_eq!(schema["definitions"]["Decimal"]["pattern"], r"^-?(0|([1-9][0-9]*))(\.[0-9]+)?([eE][+-]?[0-9]+)?$");
        assert!(!schema.to_string().contains("x-docgen"));
        // enum values and property names survive the clean-up
        assert_eq!(schema["definitions"]["TaxDetails"]["properties"]["taxType"]["enum"][5], "MwSt.");
    }

    #[test]
    fn bucket_paced_at_rate_never_runs_dry() {
        let mut b = Bucket::new(10.0, 10.0);
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(b.try_take(t0), "burst {i}");
        }
        assert!(!b.try_take(t0));
        for i in 1..=300u64 {
            assert!(b.try_take(t0 + Duration::from_millis(i * 100)), "paced request {i}");
        }
    }

    #[test]
    fn ids_are_unique() {
        let ids = Ids::new();
        let set: std::collections::HashSet<String> = (0..10_000).map(|_| ids.uuid()).collect();
        assert_eq!(set.len(), 10_000);
    }
}
