//! dashboard: each company's invoice dashboard behind an API Gateway HTTP API — server-rendered
//! HTML (plain links and forms, no script) and a JSON API with the same data. Every request's
//! ID token is verified here ([`jwks`]); the company and the role come only from its claims
//! ([`auth`]). Reads are Queries of the company's own partitions
//! (`invoice_adapters::dashboard`); the two writes (approve, mark exported) are conditional
//! updates recorded in the invoice's history.
//!
//! Environment: `TABLE_NAME`, `BUCKET_NAME`, `AUTH_ISSUER`, `AUTH_JWKS_URL`,
//! `AUTH_AUTHORIZE_URL`, `AUTH_TOKEN_URL`, `AUTH_CLIENT_ID`, `DASHBOARD_BASE_URL` (the public
//! URL, for the sign-in's redirect URI `<base>/auth/callback`; its path is where every link
//! starts), `DASHBOARD_SECRET_ID` (the Secrets Manager secret holding the HMAC key of CSRF tokens
//! and cursors, ≥ 32 bytes, read once at cold start; `DASHBOARD_SECRET` gives the key itself
//! instead, for tests), `PRESIGN_SECONDS` (≤ 300, default 300).

pub mod auth;
pub mod format;
pub mod jwks;
pub mod pages;
pub mod pdf;
pub mod query;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::dashboard::{DashboardRepo, StreamPos};
use invoice_adapters::dynamo::DynamoRepo;
use invoice_domain::company::Company;
use invoice_domain::invoice::records::{InvoiceRecord, LineRecord};
use invoice_domain::invoice::review::{review_of, Action, HistoryEntry};
use invoice_wiring::env::Env;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Keys, Principal, PKCE_COOKIE, SESSION_COOKIE};
use crate::jwks::{Rejected, Verifier};
use crate::pages::{seg, Ctx};
use crate::query::{Cursor, Filters, Sort};

#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub bucket: String,
    pub issuer: String,
    pub jwks_url: String,
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    pub base_url: String,
    /// The path part of `base_url` (no trailing slash): every link, redirect and cookie path
    /// starts with it. `""` behind API Gateway; `/lambda-url/dashboard` under `cargo lambda watch`,
    /// which strips that prefix before the function sees the request.
    pub root: String,
    pub secret: String,
    pub presign_seconds: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config").field("table", &self.table).field("issuer", &self.issuer).field("secret", &"<redacted>").finish()
    }
}

impl Config {
    pub fn from_env_map(env: &HashMap<String, String>) -> Result<Config, String> {
        let e = Env(env);
        let base_url = e.required("DASHBOARD_BASE_URL").map_err(|e| e.to_string())?.trim_end_matches('/').to_string();
        let root = match reqwest::Url::parse(&base_url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.query().is_none() && u.fragment().is_none() => {
                u.path().trim_end_matches('/').to_string()
            }
            _ => return Err(format!("DASHBOARD_BASE_URL must be an http(s) URL without query or fragment, not '{base_url}'")),
        };
        let c = Config {
            table: e.required("TABLE_NAME").map_err(|e| e.to_string())?,
            bucket: e.required("BUCKET_NAME").map_err(|e| e.to_string())?,
            issuer: e.required("AUTH_ISSUER").map_err(|e| e.to_string())?,
            jwks_url: e.required("AUTH_JWKS_URL").map_err(|e| e.to_string())?,
            authorize_url: e.required("AUTH_AUTHORIZE_URL").map_err(|e| e.to_string())?,
            token_url: e.required("AUTH_TOKEN_URL").map_err(|e| e.to_string())?,
            client_id: e.required("AUTH_CLIENT_ID").map_err(|e| e.to_string())?,
            base_url,
            root,
            secret: env
                .get("DASHBOARD_SECRET")
                .filter(|s| !s.is_empty())
                .cloned()
                .ok_or("DASHBOARD_SECRET_ID (the Secrets Manager secret of the HMAC key) or DASHBOARD_SECRET is required")?,
            presign_seconds: e.positive("PRESIGN_SECONDS", 300).map_err(|e| e.to_string())? as u64,
        };
        if c.secret.len() < 32 {
            return Err("DASHBOARD_SECRET must be at least 32 bytes".into());
        }
        if c.presign_seconds > 300 {
            return Err("PRESIGN_SECONDS must be at most 300".into());
        }
        Ok(c)
    }

    /// The configuration of a Lambda: the HMAC key read from Secrets Manager when
    /// `DASHBOARD_SECRET_ID` names it (and `DASHBOARD_SECRET` is not set).
    pub async fn load(env: &HashMap<String, String>, sdk: &aws_config::SdkConfig) -> Result<Config, String> {
        let mut env = env.clone();
        let given = env.get("DASHBOARD_SECRET").is_some_and(|s| !s.is_empty());
        if let (false, Some(id)) = (given, env.get("DASHBOARD_SECRET_ID").filter(|s| !s.is_empty()).cloned()) {
            let key =
                invoice_adapters::secrets::Secrets::from_conf(sdk).value(&id).await.map_err(|e| format!("DASHBOARD_SECRET_ID: {e}"))?;
            env.insert("DASHBOARD_SECRET".into(), key);
        }
        Config::from_env_map(&env)
    }
}

struct Inner {
    config: Config,
    verifier: Verifier,
    keys: Keys,
    repo: DashboardRepo,
    invoices: DynamoRepo,
    companies: DynamoCompanies,
    s3: aws_sdk_s3::Client,
    http: reqwest::Client,
}

/// The router's state (cheap to clone).
#[derive(Clone)]
pub struct App(Arc<Inner>);

impl App {
    pub fn new(config: Config, s3: aws_sdk_s3::Client, ddb: aws_sdk_dynamodb::Client) -> App {
        let verifier = Verifier::new(&config.jwks_url, &config.issuer, &config.client_id);
        let keys = Keys::new(config.secret.as_bytes());
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("http client");
        App(Arc::new(Inner {
            repo: DashboardRepo::new(ddb.clone(), config.table.clone()),
            invoices: DynamoRepo::new(ddb.clone(), config.table.clone()),
            companies: DynamoCompanies::new(ddb, config.table.clone()),
            verifier,
            keys,
            s3,
            http,
            config,
        }))
    }

    pub fn from_sdk(config: Config, conf: &aws_config::SdkConfig) -> App {
        App::new(config, invoice_adapters::s3_client(conf), invoice_adapters::dynamodb_client(conf))
    }
}

/// Every route; security headers on every response.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(|State(app): State<App>| async move { Redirect::to(&format!("{}/invoices", app.0.config.root)) }))
        .route("/static/app.css", get(css))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", get(logout))
        .route("/invoices", get(list_page))
        .route("/invoices.csv", get(list_csv))
        .route("/invoices/totals", get(totals_page))
        .route("/invoices/export", post(export_selected))
        .route("/api/invoices/totals", get(api_totals))
        .route("/invoices/{key}", get(invoice_page))
        .route("/invoices/{key}/original", get(invoice_original))
        .route("/invoices/{key}/pdf", get(invoice_pdf))
        .route("/invoices/{key}/approve", post(approve))
        .route("/invoices/{key}/export", post(mark_exported))
        .route("/journal", get(journal_page))
        .route("/journal/export", get(journal_export))
        .route("/vendor-invoices", get(vendor_list))
        .route("/vendor-invoices/{order}", get(vendor_page))
        .route("/refused", get(refused_page))
        .route("/refused/{sha}/original", get(refused_original))
        .route("/api/invoices", get(api_list))
        .route("/api/invoices/{key}", get(api_invoice))
        .fallback(|State(app): State<App>| async move { Failure::html(Kind::NotFound).render(&app.0.config.root) })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// CSP without inline script or style, frame denial, no referrer, nothing cached.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "strict-transport-security", "max-age=31536000");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    r
}

fn page(m: maud::Markup) -> Response {
    Html(m.into_string()).into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], pages::CSS).into_response()
}

// ------------------------------------------------------------------------------------------
// Failures: one rendering per kind; a missing invoice and another company's look the same.

#[derive(Debug)]
pub enum Kind {
    /// No valid session: the browser is sent to sign in (`next`: where it wanted to go).
    SignIn(String),
    Unauthorized,
    Forbidden(String),
    NotFound,
    BadRequest(String),
    Conflict(String),
    Internal(String),
}

#[derive(Debug)]
pub struct Failure {
    api: bool,
    kind: Kind,
}

impl Failure {
    fn html(kind: Kind) -> Failure {
        Failure { api: false, kind }
    }
    fn api(kind: Kind) -> Failure {
        Failure { api: true, kind }
    }
}

fn internal(e: impl std::fmt::Display) -> Kind {
    Kind::Internal(e.to_string())
}

const NOT_FOUND: &str = "There is no such page, invoice or document here. Check the address, or go back to the list.";

impl Failure {
    /// The failure as a response: JSON for the API, else a page whose links start at `root`.
    fn render(self, root: &str) -> Response {
        let (status, text) = match &self.kind {
            Kind::SignIn(_) | Kind::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "Sign-in required: the token is missing, invalid or expired.".to_string())
            }
            Kind::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Kind::NotFound => (StatusCode::NOT_FOUND, NOT_FOUND.to_string()),
            Kind::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Kind::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
            Kind::Internal(m) => {
                tracing::error!(error = %m, "internal failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side; please try again.".to_string())
            }
        };
        if self.api {
            let code = match status.as_u16() {
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not-found",
                400 => "bad-request",
                409 => "conflict",
                _ => "internal",
            };
            let mut r = (status, Json(json!({"error": code, "message": text}))).into_response();
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            }
            return r;
        }
        let title = match status.as_u16() {
            400 => "That request is not valid",
            403 => "Not allowed",
            404 => "Not found",
            409 => "Not done",
            _ => "Error",
        };
        (status, Html(pages::message(root, None, title, &text, Some(("/invoices", "Back to the invoices"))).into_string())).into_response()
    }
}

// ------------------------------------------------------------------------------------------
// Sessions.

struct Session {
    who: Principal,
    token: String,
    company: Company,
}

impl App {
    /// What a page of the signed-in person is rendered with.
    fn ctx<'a>(&'a self, s: &'a Session) -> Ctx<'a> {
        Ctx { root: &self.0.config.root, who: &s.who, company: &s.company }
    }

    /// The signed-in person of a request: `Authorization: Bearer` (the API) or the session
    /// cookie (the pages). Nothing else names the company.
    async fn session(&self, headers: &HeaderMap, api: bool, next: &str) -> Result<Session, Failure> {
        let fail = |k| if api { Failure::api(k) } else { Failure::html(k) };
        let bearer =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(|c| auth::cookie(c, SESSION_COOKIE));
        let token = if api { bearer } else { cookie.or(bearer) };
        let no_session = || fail(if api { Kind::Unauthorized } else { Kind::SignIn(next.to_string()) });
        let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(no_session()) };
        let who = match self.0.verifier.verify(token).await {
            Ok(p) => p,
            Err(Rejected::Invalid(why)) => {
                tracing::info!(%why, "token refused");
                return Err(no_session());
            }
            Err(Rejected::Expired) => return Err(no_session()),
            Err(Rejected::Refused(r)) => return Err(fail(Kind::Forbidden(r.to_string()))),
            Err(Rejected::Unavailable(e)) => return Err(fail(internal(e))),
        };
        let company = self.0.companies.get(&who.company).await.map_err(|e| fail(internal(e)))?;
        let Some(company) = company else {
            return Err(fail(Kind::Forbidden("your account's company is not registered on Invoice Bridge".into())));
        };
        Ok(Session { who, token: token.to_string(), company })
    }

    /// Where the browser signs in: the issuer's authorize URL with a fresh state and PKCE
    /// challenge; the verifier and state wait in a short-lived cookie.
    fn sign_in(&self, next: &str) -> Response {
        let c = &self.0.config;
        let state = auth::random_token(24);
        let verifier = auth::random_token(48);
        let q = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", c.client_id.as_str()),
            ("redirect_uri", &format!("{}/auth/callback", c.base_url)),
            ("scope", "openid email profile"),
            ("state", &state),
            ("code_challenge", &auth::pkce_challenge(&verifier)),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        let sep = if c.authorize_url.contains('?') { '&' } else { '?' };
        let cookie =
            auth::set_cookie(PKCE_COOKIE, &auth::pkce_cookie_value(&state, &verifier, next), &format!("{}/auth/callback", c.root), 600);
        let mut r = Redirect::to(&format!("{}{sep}{q}", c.authorize_url)).into_response();
        r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie header"));
        r
    }
}

/// A failure, with the sign-in redirect for pages.
fn respond(app: &App, r: Result<Response, Failure>) -> Response {
    match r {
        Ok(r) => r,
        Err(Failure { kind: Kind::SignIn(next), api: false }) => app.sign_in(&next),
        Err(f) => f.render(&app.0.config.root),
    }
}

fn here(path: &str, q: &Option<String>) -> String {
    match q {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_string(),
    }
}

fn pairs(q: &Option<String>) -> Result<Vec<(String, String)>, Kind> {
    serde_urlencoded::from_str(q.as_deref().unwrap_or("")).map_err(|_| Kind::BadRequest("the query string is not valid".into()))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let q: CallbackQuery = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
            .map_err(|_| Failure::html(Kind::BadRequest("the sign-in answer is not valid".into())))?;
        if let Some(e) = q.error {
            return Err(Failure::html(Kind::Forbidden(format!("sign-in failed: {}", e.chars().take(100).collect::<String>()))));
        }
        let (Some(code), Some(state)) = (q.code, q.state) else {
            return Err(Failure::html(Kind::BadRequest("the sign-in answer has no code or state".into())));
        };
        let pending = headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| auth::cookie(c, PKCE_COOKIE))
            .and_then(auth::parse_pkce_cookie);
        let Some((want_state, verifier, next)) = pending.filter(|(s, _, _)| auth::same(s, &state)) else {
            return Err(Failure::html(Kind::BadRequest("this sign-in has expired or was started elsewhere: sign in again".into())));
        };
        let c = &app.0.config;
        let _ = want_state;
        let redirect_uri = format!("{}/auth/callback", c.base_url);
        let res = app
            .0
            .http
            .post(&c.token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", c.client_id.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| Failure::html(internal(format!("token endpoint: {e}"))))?;
        if !res.status().is_success() {
            return Err(Failure::html(Kind::Forbidden("the sign-in was refused by the issuer: sign in again".into())));
        }
        let body: serde_json::Value = res.json().await.map_err(|e| Failure::html(internal(format!("token answer: {e}"))))?;
        let token = body.get("id_token").and_then(|t| t.as_str()).unwrap_or_default().to_string();
        let who = match app.0.verifier.verify(&token).await {
            Ok(p) => p,
            Err(Rejected::Refused(r)) => return Err(Failure::html(Kind::Forbidden(r.to_string()))),
            Err(e) => return Err(Failure::html(Kind::Forbidden(format!("the issuer's token was not accepted ({e:?})")))),
        };
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        // `next` is a local path of the router (checked when the cookie was read).
        let mut r = Redirect::to(&format!("{}{next}", c.root)).into_response();
        let h = r.headers_mut();
        let session = auth::set_cookie(SESSION_COOKIE, &token, &format!("{}/", c.root), who.exp.saturating_sub(now).max(1));
        h.append(header::SET_COOKIE, HeaderValue::from_str(&session).map_err(|e| Failure::html(internal(e)))?);
        let pkce = auth::clear_cookie(PKCE_COOKIE, &format!("{}/auth/callback", c.root));
        h.append(header::SET_COOKIE, HeaderValue::from_str(&pkce).map_err(|e| Failure::html(internal(e)))?);
        Ok(r)
    }
    .await;
    respond(&app, r)
}

async fn logout(State(app): State<App>) -> Response {
    let root = &app.0.config.root;
    let mut r = page(pages::signed_out(root));
    let clear = auth::clear_cookie(SESSION_COOKIE, &format!("{root}/"));
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

// ------------------------------------------------------------------------------------------
// The invoice list (pages, API, CSV).

/// A listing's page: invoices, the next cursor (sealed), in the filters' order.
async fn fetch(app: &App, company: &str, f: &Filters) -> Result<(Vec<InvoiceRecord>, Option<String>), Kind> {
    let listing = f.listing(company);
    let bound = f.canonical();
    let keys = &app.0.keys;
    let cursor: Option<Cursor> =
        f.cursor.as_deref().map(|t| query::open(keys, company, &bound, t)).transpose().map_err(Kind::BadRequest)?;
    match f.sort {
        Sort::DateDesc | Sort::DateAsc => {
            let pos = match cursor {
                None => DashboardRepo::start(&listing),
                Some(Cursor::Date(p)) => p,
                Some(Cursor::Amount { .. }) => return Err(Kind::BadRequest("cursor: not a cursor of this list".into())),
            };
            let page = app.0.repo.page(&listing, &pos, f.size).await.map_err(internal)?;
            Ok((page.invoices, page.next.map(|p| query::seal(keys, company, &bound, &Cursor::Date(p)))))
        }
        Sort::AmountDesc | Sort::AmountAsc => {
            const CAP: usize = 2000;
            let (mut all, capped) = app.0.repo.all(&listing, CAP).await.map_err(internal)?;
            if capped {
                return Err(Kind::BadRequest(format!(
                    "more than {CAP} invoices match: narrow the date range or the filters to sort by amount (or sort by date)"
                )));
            }
            let amount = |h: &InvoiceRecord| h.net.parse::<Decimal>().unwrap_or_default();
            all.sort_by(|a, b| amount(a).cmp(&amount(b)).then_with(|| a.invoice_key.cmp(&b.invoice_key)));
            if f.sort == Sort::AmountDesc {
                all.reverse();
            }
            let start = match cursor {
                None => 0,
                Some(Cursor::Amount { net, key }) => {
                    let net = net.parse::<Decimal>().unwrap_or_default();
                    let after = |h: &InvoiceRecord| {
                        let o = amount(h).cmp(&net).then_with(|| h.invoice_key.as_str().cmp(key.as_str()));
                        if f.sort == Sort::AmountDesc {
                            o == std::cmp::Ordering::Less
                        } else {
                            o == std::cmp::Ordering::Greater
                        }
                    };
                    all.iter().position(after).unwrap_or(all.len())
                }
                Some(Cursor::Date(_)) => return Err(Kind::BadRequest("cursor: not a cursor of this list".into())),
            };
            let page: Vec<InvoiceRecord> = all.iter().skip(start).take(f.size).cloned().collect();
            let next = (start + page.len() < all.len())
                .then(|| page.last())
                .flatten()
                .map(|h| query::seal(keys, company, &bound, &Cursor::Amount { net: h.net.clone(), key: h.invoice_key.clone() }));
            Ok((page, next))
        }
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

async fn list_page(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, false, &here("/invoices", &q)).await?;
        let f = Filters::parse(&pairs(&q).map_err(Failure::html)?, today(), &[]).map_err(|e| Failure::html(Kind::BadRequest(e)))?;
        // The page and the totals at the same time; the totals within a small time budget (past
        // it the page links to the full walk).
        let budget = std::time::Instant::now() + TOTALS_BUDGET;
        let listing = f.listing(&s.who.company);
        let (page_res, totals) = tokio::join!(fetch(&app, &s.who.company, &f), app.0.repo.totals(&listing, TOTALS_CAP, Some(budget)));
        let (invoices, next) = page_res.map_err(Failure::html)?;
        let totals = totals.map_err(|e| Failure::html(internal(e)))?;
        let ctx = app.ctx(&s);
        let csrf = app.0.keys.csrf(&s.token);
        let view = pages::ListView {
            filters: &f,
            invoices: &invoices,
            next,
            first_page: f.cursor.is_none(),
            totals: &totals,
            full: false,
            csrf: &csrf,
        };
        Ok(page(pages::invoices(&ctx, &view)))
    }
    .await;
    respond(&app, r)
}

/// How long the list page spends on totals before linking to the full totals.
const TOTALS_BUDGET: Duration = Duration::from_millis(40);
/// The most invoices one totals walk reads (about 20 MB of index items).
const TOTALS_CAP: usize = 100_000;

/// The totals of the filtered set, whole (up to [`TOTALS_CAP`]): the filtered month partitions
/// read with a projection of net and currency.
async fn totals_page(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, false, &here("/invoices/totals", &q)).await?;
        let f = Filters::parse(&pairs(&q).map_err(Failure::html)?, today(), &[]).map_err(|e| Failure::html(Kind::BadRequest(e)))?;
        let totals = app.0.repo.totals(&f.listing(&s.who.company), TOTALS_CAP, None).await.map_err(|e| Failure::html(internal(e)))?;
        let ctx = app.ctx(&s);
        Ok(page(pages::totals(&ctx, &f, &totals)))
    }
    .await;
    respond(&app, r)
}

async fn api_totals(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, true, "").await?;
        let f = Filters::parse(&pairs(&q).map_err(Failure::api)?, today(), &[]).map_err(|e| Failure::api(Kind::BadRequest(e)))?;
        let t = app.0.repo.totals(&f.listing(&s.who.company), TOTALS_CAP, None).await.map_err(|e| Failure::api(internal(e)))?;
        let per: serde_json::Map<String, serde_json::Value> =
            t.per_currency.iter().map(|(c, (n, sum))| (c.clone(), json!({"count": n, "net": sum.to_string()}))).collect();
        Ok(Json(json!({"count": t.count, "capped": t.capped, "per_currency": per, "filters": f.canonical()})).into_response())
    }
    .await;
    respond(&app, r)
}

fn summary(root: &str, h: &InvoiceRecord) -> serde_json::Value {
    json!({
        "id": h.invoice_key,
        "invoice_number": h.invoice_id,
        "supplier": h.supplier,
        "supplier_name": h.supplier_name,
        "invoice_date": h.invoice_date,
        "received_at": h.received_at,
        "status": h.status.as_str(),
        "review_status": review_of(h).as_str(),
        "match_status": h.matching.as_ref().map(|m| format!("{:?}", m.status)),
        "channel": h.source.channel.as_str(),
        "po_numbers": h.order_ids,
        "currency": h.currency,
        "net": h.net,
        "due": h.due,
        "links": {"self": format!("{root}/api/invoices/{}", seg(&h.invoice_key))},
    })
}

async fn api_list(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, true, "").await?;
        let f = Filters::parse(&pairs(&q).map_err(Failure::api)?, today(), &[]).map_err(|e| Failure::api(Kind::BadRequest(e)))?;
        let (invoices, next) = fetch(&app, &s.who.company, &f).await.map_err(Failure::api)?;
        let body = json!({
            "invoices": invoices.iter().map(|h| summary(&app.0.config.root, h)).collect::<Vec<_>>(),
            "next_cursor": next,
            "filters": f.canonical(),
        });
        Ok(Json(body).into_response())
    }
    .await;
    respond(&app, r)
}

/// The CSV export: one row per invoice (or per line with `lines=1`), header row, amounts as
/// plain decimals. Bounded to stay under Lambda's 6 MB response: past 5 MB the rows stop and
/// a `Link: <…>; rel="next"` header (and `X-Next-Cursor`) names the rest.
async fn list_csv(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    const LIMIT: usize = 5 * 1024 * 1024;
    let r = async {
        let s = app.session(&headers, false, &here("/invoices.csv", &q)).await?;
        let mut f =
            Filters::parse(&pairs(&q).map_err(Failure::html)?, today(), &["lines"]).map_err(|e| Failure::html(Kind::BadRequest(e)))?;
        let company = s.who.company.clone();
        let mut w = csv::Writer::from_writer(Vec::new());
        let e = |e: csv::Error| Failure::html(internal(e));
        if f.lines {
            w.write_record([
                "invoice_id",
                "invoice_number",
                "supplier",
                "invoice_date",
                "currency",
                "line_number",
                "description",
                "part_id",
                "quantity",
                "unit_of_measure",
                "unit_price",
                "amount",
                "tax",
                "category",
                "gl_code",
                "cost_center",
                "po_number",
            ])
            .map_err(e)?;
        } else {
            w.write_record([
                "invoice_id",
                "invoice_number",
                "supplier",
                "supplier_name",
                "invoice_date",
                "received_at",
                "status",
                "review_status",
                "match_status",
                "channel",
                "po_numbers",
                "currency",
                "subtotal",
                "tax",
                "shipping",
                "special_handling",
                "discount",
                "net",
                "due",
            ])
            .map_err(e)?;
        }
        f.size = 100;
        let mut next_link = None;
        loop {
            let (page, next) = fetch(&app, &company, &f).await.map_err(Failure::html)?;
            for h in &page {
                if f.lines {
                    let mut lines = app.0.invoices.lines(&company, &h.invoice_key).await.map_err(|x| Failure::html(internal(x)))?;
                    lines.sort_by_key(|l| l.line_number);
                    for l in lines {
                        let o = |v: &Option<String>| v.clone().unwrap_or_default();
                        let (gl, cc) = l.amazon.as_ref().map(|a| (o(&a.gl_code), o(&a.cost_center))).unwrap_or_default();
                        w.write_record([
                            h.invoice_key.clone(),
                            h.invoice_id.clone(),
                            h.supplier.clone(),
                            h.invoice_date.clone(),
                            h.currency.clone(),
                            l.line_number.to_string(),
                            o(&l.description),
                            o(&l.supplier_part_id),
                            o(&l.quantity),
                            o(&l.unit_of_measure),
                            o(&l.unit_price),
                            o(&l.subtotal),
                            o(&l.tax),
                            l.category.clone(),
                            gl,
                            cc,
                            o(&l.po_number),
                        ])
                        .map_err(e)?;
                    }
                } else {
                    w.write_record([
                        h.invoice_key.clone(),
                        h.invoice_id.clone(),
                        h.supplier.clone(),
                        h.supplier_name.clone().unwrap_or_default(),
                        h.invoice_date.clone(),
                        h.received_at.clone(),
                        h.status.as_str().to_string(),
                        review_of(h).as_str().to_string(),
                        h.matching.as_ref().map(|m| format!("{:?}", m.status)).unwrap_or_default(),
                        h.source.channel.as_str().to_string(),
                        h.order_ids.join(" "),
                        h.currency.clone(),
                        h.subtotal.clone(),
                        h.tax.clone(),
                        h.shipping.clone(),
                        h.special_handling.clone(),
                        h.discount.clone(),
                        h.net.clone(),
                        h.due.clone(),
                    ])
                    .map_err(e)?;
                }
            }
            w.flush().map_err(|x| Failure::html(internal(x)))?;
            match next {
                None => break,
                Some(n) if w.get_ref().len() >= LIMIT => {
                    next_link = Some(n);
                    break;
                }
                Some(n) => f.cursor = Some(n),
            }
        }
        let body = w.into_inner().map_err(|x| Failure::html(internal(x)))?;
        let name = if f.lines { "invoice-lines.csv" } else { "invoices.csv" };
        let mut r = (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            body,
        )
            .into_response();
        if let Some(n) = next_link {
            f.cursor = None;
            let link = format!(
                "<{}/invoices.csv?{}{}&cursor={n}>; rel=\"next\"",
                app.0.config.root,
                f.canonical(),
                if f.lines { "&lines=1" } else { "" }
            );
            r.headers_mut().insert("link", HeaderValue::from_str(&link).map_err(|x| Failure::html(internal(x)))?);
            r.headers_mut().insert("x-next-cursor", HeaderValue::from_str(&n).map_err(|x| Failure::html(internal(x)))?);
        }
        Ok(r)
    }
    .await;
    respond(&app, r)
}

// ------------------------------------------------------------------------------------------
// One invoice.

/// An invoice key from the path: at most 600 characters, no control characters.
fn key_param(k: &str, api: bool) -> Result<&str, Failure> {
    if k.is_empty() || k.len() > 600 || k.chars().any(char::is_control) {
        let e = Kind::BadRequest("the invoice id is not valid".into());
        return Err(if api { Failure::api(e) } else { Failure::html(e) });
    }
    Ok(k)
}

async fn load(
    app: &App,
    s: &Session,
    key: &str,
    api: bool,
) -> Result<(InvoiceRecord, Vec<LineRecord>, Vec<invoice_domain::invoice::records::EntryRecord>), Failure> {
    let fail = |k| if api { Failure::api(k) } else { Failure::html(k) };
    let h = app.0.repo.invoice(&s.who.company, key).await.map_err(|e| fail(internal(e)))?.ok_or_else(|| fail(Kind::NotFound))?;
    let mut lines = app.0.invoices.lines(&s.who.company, key).await.map_err(|e| fail(internal(e)))?;
    lines.sort_by_key(|l| l.line_number);
    let entries = app.0.invoices.entries(&s.who.company, key).await.map_err(|e| fail(internal(e)))?;
    Ok((h, lines, entries))
}

async fn invoice_page(State(app): State<App>, headers: HeaderMap, Path(key): Path<String>, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/invoices/{}", seg(&key))).await?;
        let key = key_param(&key, false)?;
        let notice = match pairs(&q).map_err(Failure::html)?.iter().find(|(k, _)| k == "done").map(|(_, v)| v.as_str()) {
            Some("approved") => Some("Approved."),
            Some("exported") => Some("Marked exported."),
            _ => None,
        };
        let (h, lines, entries) = load(&app, &s, key, false).await?;
        let csrf = app.0.keys.csrf(&s.token);
        let ctx = app.ctx(&s);
        Ok(page(pages::invoice(&ctx, &pages::DetailView { h: &h, lines: &lines, entries: &entries, csrf: &csrf, notice })))
    }
    .await;
    respond(&app, r)
}

async fn api_invoice(State(app): State<App>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let r = async {
        let s = app.session(&headers, true, "").await?;
        let key = key_param(&key, true)?;
        let (h, lines, entries) = load(&app, &s, key, true).await?;
        let mut body = summary(&app.0.config.root, &h);
        body["invoice"] = serde_json::to_value(&h).unwrap_or_default();
        body["lines"] = serde_json::to_value(&lines).unwrap_or_default();
        body["entries"] = serde_json::to_value(&entries).unwrap_or_default();
        body["history"] = serde_json::to_value(invoice_domain::invoice::review::timeline(&h)).unwrap_or_default();
        Ok(Json(body).into_response())
    }
    .await;
    respond(&app, r)
}

/// A presigned GET of one of the bucket's objects (at most 5 minutes), as a 303.
async fn presigned(app: &App, key: &str, filename: &str) -> Result<Response, Failure> {
    let cfg = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(app.0.config.presign_seconds))
        .map_err(|e| Failure::html(internal(e)))?;
    let name: String = filename.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let req = app
        .0
        .s3
        .get_object()
        .bucket(&app.0.config.bucket)
        .key(key)
        .response_content_disposition(format!("attachment; filename=\"{name}\""))
        .presigned(cfg)
        .await
        .map_err(|e| Failure::html(internal(format!("presign: {e}"))))?;
    Ok(Redirect::to(req.uri()).into_response())
}

async fn invoice_original(State(app): State<App>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/invoices/{}/original", seg(&key))).await?;
        let key = key_param(&key, false)?;
        let h =
            app.0.repo.invoice(&s.who.company, key).await.map_err(|e| Failure::html(internal(e)))?.ok_or(Failure::html(Kind::NotFound))?;
        if h.document_key.is_empty() {
            return Err(Failure::html(Kind::NotFound));
        }
        let ext = h.document_key.rsplit('.').next().filter(|e| e.len() <= 5).unwrap_or("xml");
        presigned(&app, &h.document_key, &format!("{}.{ext}", h.invoice_id)).await
    }
    .await;
    respond(&app, r)
}

async fn invoice_pdf(State(app): State<App>, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/invoices/{}/pdf", seg(&key))).await?;
        let key = key_param(&key, false)?;
        let (h, lines, _) = load(&app, &s, key, false).await?;
        if let Some(doc) = h.documents.first() {
            return presigned(&app, doc, &format!("{}.pdf", h.invoice_id)).await;
        }
        let bytes = pdf::render(&h, &lines, &s.company.name, s.company.locale).map_err(|e| Failure::html(internal(e)))?;
        let name: String =
            h.invoice_id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' }).collect();
        Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.pdf\"")),
            ],
            bytes,
        )
            .into_response())
    }
    .await;
    respond(&app, r)
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
}

async fn act(app: App, headers: HeaderMap, key: String, form: Result<Form<ActionForm>, FormRejection>, action: Action) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/invoices/{}", seg(&key))).await?;
        let key = key_param(&key, false)?;
        // Another company's invoice is "missing" before anything else is said about it.
        let h =
            app.0.repo.invoice(&s.who.company, key).await.map_err(|e| Failure::html(internal(e)))?.ok_or(Failure::html(Kind::NotFound))?;
        let csrf = form.map(|f| f.0.csrf).unwrap_or_default();
        if !app.0.keys.csrf_ok(&s.token, &csrf) {
            return Err(Failure::html(Kind::Forbidden(
                "the form has expired or did not come from this site: reload the page and try again".into(),
            )));
        }
        if !s.who.can_act() {
            return Err(Failure::html(Kind::Forbidden("only approvers can approve or export invoices; you are a viewer".into())));
        }
        let by = HistoryEntry {
            action,
            by_sub: s.who.sub.clone(),
            by_email: s.who.email.clone(),
            at: invoice_domain::core::time::iso(chrono::Utc::now()),
        };
        match app.0.repo.act(&s.who.company, &h.invoice_key, action, by).await.map_err(|e| Failure::html(internal(e)))? {
            Ok(_) => {
                let done = if action == Action::Approved { "approved" } else { "exported" };
                tracing::info!(company = %s.who.company, invoice_key = %h.invoice_key, action = done, sub = %s.who.sub, "review action");
                Ok(Redirect::to(&format!("{}/invoices/{}?done={done}", app.0.config.root, seg(&h.invoice_key))).into_response())
            }
            Err(why) => Err(Failure::html(Kind::Conflict(format!("Nothing was changed: {why}.")))),
        }
    }
    .await;
    respond(&app, r)
}

/// Marks the selected approved invoices exported (the list's form: `csrf` and up to 100 `id`),
/// each conditionally as one invoice's action; the page says which were and why not.
async fn export_selected(State(app): State<App>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let r = async {
        let s = app.session(&headers, false, "/invoices?status=approved").await?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| Failure::html(Kind::BadRequest("the form is not valid".into())))?;
        let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if !app.0.keys.csrf_ok(&s.token, csrf) {
            return Err(Failure::html(Kind::Forbidden(
                "the form has expired or did not come from this site: reload the page and try again".into(),
            )));
        }
        if !s.who.can_act() {
            return Err(Failure::html(Kind::Forbidden("only approvers can approve or export invoices; you are a viewer".into())));
        }
        let ids: Vec<&str> = pairs.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.as_str()).collect();
        if ids.is_empty() || ids.len() > 100 {
            return Err(Failure::html(Kind::BadRequest("select from 1 to 100 invoices to mark exported".into())));
        }
        let mut done = Vec::new();
        let mut refused = Vec::new();
        for id in ids {
            let key = key_param(id, false)?;
            let Some(h) = app.0.repo.invoice(&s.who.company, key).await.map_err(|e| Failure::html(internal(e)))? else {
                refused.push(format!("{}: no such invoice", id.chars().take(80).collect::<String>()));
                continue;
            };
            let by = HistoryEntry {
                action: Action::Exported,
                by_sub: s.who.sub.clone(),
                by_email: s.who.email.clone(),
                at: invoice_domain::core::time::iso(chrono::Utc::now()),
            };
            match app.0.repo.act(&s.who.company, key, Action::Exported, by).await.map_err(|e| Failure::html(internal(e)))? {
                Ok(_) => done.push(h.invoice_id.clone()),
                Err(why) => refused.push(format!("{}: {why}", h.invoice_id)),
            }
        }
        let ctx = app.ctx(&s);
        Ok(page(pages::export_result(&ctx, &done, &refused)))
    }
    .await;
    respond(&app, r)
}

async fn approve(
    State(app): State<App>,
    headers: HeaderMap,
    Path(key): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    act(app, headers, key, form, Action::Approved).await
}

async fn mark_exported(
    State(app): State<App>,
    headers: HeaderMap,
    Path(key): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    act(app, headers, key, form, Action::Exported).await
}

// ------------------------------------------------------------------------------------------
// Journal, vendor invoices, refused documents.

async fn journal_page(State(app): State<App>, headers: HeaderMap) -> Response {
    let r = async {
        let s = app.session(&headers, false, "/journal").await?;
        let t = today();
        let start = t.format("%Y-%m-01").to_string();
        Ok(page(pages::journal(&app.ctx(&s), &t.to_string(), &start)))
    }
    .await;
    respond(&app, r)
}

async fn journal_export(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    use invoice_domain::invoice::export;
    let r = async {
        let s = app.session(&headers, false, &here("/journal/export", &q)).await?;
        let p = pairs(&q).map_err(Failure::html)?;
        let bad = |m: String| Failure::html(Kind::BadRequest(m));
        for (k, _) in &p {
            if !["from", "to", "format"].contains(&k.as_str()) {
                return Err(bad(format!("unknown parameter '{}'", k.chars().take(40).collect::<String>())));
            }
        }
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
        let range = export::DateRange::parse(get("from"), get("to")).map_err(|e| bad(e.replace("--", "")))?;
        let format = match get("format") {
            "" | "csv" => "csv",
            "fec" => "fec",
            _ => return Err(bad("format: csv or fec".into())),
        };
        let company = &s.who.company;
        let entries = app.0.invoices.journal_entries(company, &range).await.map_err(|e| Failure::html(internal(e)))?;
        let mut keys: Vec<String> = entries.iter().map(|e| e.invoice_key.clone()).collect();
        keys.sort();
        keys.dedup();
        let headers_by_key: BTreeMap<String, InvoiceRecord> = app
            .0
            .invoices
            .invoices(company, &keys)
            .await
            .map_err(|e| Failure::html(internal(e)))?
            .into_iter()
            .map(|h| (h.invoice_key.clone(), h))
            .collect();
        let lines = export::journal_lines(entries, &headers_by_key, &range);
        let (body, ctype, ext) = match format {
            "csv" => (export::to_csv(&lines).map_err(|e| bad(format!("{e:?}")))?, "text/csv; charset=utf-8", "csv"),
            _ => (
                export::to_fec(&lines, &export::FecOptions::default()).map_err(|e| bad(format!("the FEC cannot be made: {e:?}")))?,
                "text/plain; charset=utf-8",
                "txt",
            ),
        };
        let name = format!("journal-{}-{}-{}.{ext}", company, range.from_str(), range.to_str());
        Ok(([(header::CONTENT_TYPE, ctype.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body)
            .into_response())
    }
    .await;
    respond(&app, r)
}

/// The last 24 months, newest first.
fn recent_months() -> Vec<String> {
    let now = invoice_domain::core::time::iso(chrono::Utc::now());
    invoice_domain::invoice::records::months_newest_first(&now, "2000-01", 24)
}

fn simple_cursor(app: &App, company: &str, what: &str, q: &Option<String>) -> Result<(StreamPos, bool), Failure> {
    let p = pairs(q).map_err(Failure::html)?;
    for (k, _) in &p {
        if k != "cursor" {
            return Err(Failure::html(Kind::BadRequest(format!("unknown parameter '{}'", k.chars().take(40).collect::<String>()))));
        }
    }
    match p.iter().find(|(k, _)| k == "cursor") {
        None => Ok((StreamPos::default(), true)),
        Some((_, t)) => Ok((query::open(&app.0.keys, company, what, t).map_err(|e| Failure::html(Kind::BadRequest(e)))?, false)),
    }
}

async fn vendor_list(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, false, &here("/vendor-invoices", &q)).await?;
        let (pos, first) = simple_cursor(&app, &s.who.company, "vendor", &q)?;
        let (invs, next) =
            app.0.repo.vendor_invoices(&s.who.company, &recent_months(), &pos, 25).await.map_err(|e| Failure::html(internal(e)))?;
        let next = next.map(|p| query::seal(&app.0.keys, &s.who.company, "vendor", &p));
        Ok(page(pages::vendor_invoices(&app.ctx(&s), &invs, next, first)))
    }
    .await;
    respond(&app, r)
}

async fn vendor_page(State(app): State<App>, headers: HeaderMap, Path(order): Path<String>) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/vendor-invoices/{}", seg(&order))).await?;
        let order = key_param(&order, false)?;
        let (inv, o, errors) = app
            .0
            .repo
            .vendor_invoice(&s.who.company, order)
            .await
            .map_err(|e| Failure::html(internal(e)))?
            .ok_or(Failure::html(Kind::NotFound))?;
        Ok(page(pages::vendor_invoice(&app.ctx(&s), &inv, o.as_ref(), &errors)))
    }
    .await;
    respond(&app, r)
}

async fn refused_page(State(app): State<App>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let r = async {
        let s = app.session(&headers, false, &here("/refused", &q)).await?;
        let (pos, first) = simple_cursor(&app, &s.who.company, "refused", &q)?;
        let (recs, next) =
            app.0.repo.rejections(&s.who.company, &recent_months(), &pos, 25).await.map_err(|e| Failure::html(internal(e)))?;
        let next = next.map(|p| query::seal(&app.0.keys, &s.who.company, "refused", &p));
        Ok(page(pages::refused(&app.ctx(&s), &recs, next, first)))
    }
    .await;
    respond(&app, r)
}

async fn refused_original(State(app): State<App>, headers: HeaderMap, Path(sha): Path<String>) -> Response {
    let r = async {
        let s = app.session(&headers, false, &format!("/refused/{}/original", seg(&sha))).await?;
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Failure::html(Kind::BadRequest("the document id is not a SHA-256 (64 hex digits)".into())));
        }
        let rec = app
            .0
            .repo
            .rejection(&s.who.company, &sha)
            .await
            .map_err(|e| Failure::html(internal(e)))?
            .ok_or(Failure::html(Kind::NotFound))?;
        let name = rec.quarantine_key.rsplit('/').next().unwrap_or("document").to_string();
        presigned(&app, &rec.quarantine_key, &name).await
    }
    .await;
    respond(&app, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(base: &str, secret: Option<&str>) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = [
            ("TABLE_NAME", "t"),
            ("BUCKET_NAME", "b"),
            ("AUTH_ISSUER", "https://issuer.example/pool"),
            ("AUTH_JWKS_URL", "https://issuer.example/pool/.well-known/jwks.json"),
            ("AUTH_AUTHORIZE_URL", "https://issuer.example/oauth2/authorize"),
            ("AUTH_TOKEN_URL", "https://issuer.example/oauth2/token"),
            ("AUTH_CLIENT_ID", "client"),
            ("DASHBOARD_BASE_URL", base),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(s) = secret {
            m.insert("DASHBOARD_SECRET".into(), s.into());
        }
        m
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_root_is_the_base_urls_path() {
        let root = |base: &str| Config::from_env_map(&env(base, Some(KEY))).map(|c| c.root);
        assert_eq!(root("https://abc.execute-api.eu-west-1.amazonaws.com").unwrap(), "");
        assert_eq!(root("https://abc.execute-api.eu-west-1.amazonaws.com/").unwrap(), "");
        assert_eq!(root("http://127.0.0.1:9000/lambda-url/dashboard/").unwrap(), "/lambda-url/dashboard");
        assert_eq!(root("https://invoices.example.com/ap").unwrap(), "/ap");
        for bad in ["invoices.example.com", "ftp://x.example/", "https://x.example/?a=1", "https://x.example/#top"] {
            assert!(root(bad).unwrap_err().contains("DASHBOARD_BASE_URL"), "{bad}");
        }
    }

    #[test]
    fn the_key_is_required_and_long_enough() {
        let e = Config::from_env_map(&env("https://x.example", None)).unwrap_err();
        assert!(e.contains("DASHBOARD_SECRET_ID"), "{e}");
        let e = Config::from_env_map(&env("https://x.example", Some("short"))).unwrap_err();
        assert!(e.contains("at least 32 bytes"), "{e}");
        let c = Config::from_env_map(&env("https://x.example", Some(KEY))).unwrap();
        assert!(!format!("{c:?}").contains(KEY), "the key is never printed");
    }
}
