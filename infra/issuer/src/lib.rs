//! A local stand-in for the dashboard's Cognito user pool and its hosted sign-in, so that the
//! dashboard's real sign-in code path (authorization code + PKCE, RS256 ID tokens verified
//! against a JWKS) runs locally, in tests and in a browser.
//!
//! What it serves, as Cognito does (one server plays both the pool's issuer
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>` and the hosted UI domain
//! `https://<prefix>.auth.<region>.amazoncognito.com`):
//!
//! - `GET /.well-known/jwks.json` and `GET /<pool id>/.well-known/jwks.json`: the RS256 public key
//!   with its `kid`; `GET /<pool id>/.well-known/openid-configuration`: the discovery document.
//! - `GET /oauth2/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&
//!   code_challenge_method=S256&scope=openid[&nonce]`: an HTML sign-in page (no script) listing
//!   the test users of each company; `POST /oauth2/authorize` (the form) checks the password and
//!   redirects (302) to `redirect_uri?code=…&state=…`.
//! - `POST /oauth2/token` (form: `grant_type=authorization_code`, `code`, `redirect_uri`,
//!   `client_id`, `code_verifier`): PKCE S256, single-use code, expiry, client and redirect URI
//!   checked; answers `{"id_token", "access_token", "token_type": "Bearer", "expires_in"}` or an
//!   OAuth error (`invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`).
//! - `GET /logout?client_id&logout_uri` (302 to `logout_uri`), or `…&redirect_uri&response_type=code`
//!   (302 to the sign-in page again).
//!
//! Differences from Cognito, on purpose: PKCE is required (a dashboard that forgot it fails
//! here), there is no sign-in session (every authorize shows the form), no refresh token.

mod pages;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// The client id of the local dashboard app client.
pub const DEFAULT_CLIENT_ID: &str = "local-dashboard";
/// The local pool id (Cognito's form: `<region>_<id>`); the issuer is `<base>/<pool id>`.
pub const DEFAULT_POOL_ID: &str = "us-east-1_LocalPool";
/// The committed test users (`infra/issuer/users.json`).
pub const DEFAULT_USERS_JSON: &str = include_str!("../users.json");

/// A user's role in their company's dashboard (`custom:role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Approver,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Approver => "approver",
        }
    }
}

/// One test user of the users file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    pub password: String,
    pub email: String,
    /// The company id (`custom:company`), e.g. `acme`.
    pub company: String,
    pub role: Role,
    /// The user's `sub`; default: a stable UUID-shaped id derived from the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl User {
    fn sub(&self) -> String {
        if let Some(s) = &self.sub {
            return s.clone();
        }
        let h = hex::encode(Sha256::digest(format!("local-issuer:{}", self.username)));
        format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }
}

/// Parses and checks a users file: a JSON array of users, usernames unique (case-insensitive,
/// as Cognito's), every field non-empty.
pub fn parse_users(json: &str) -> Result<Vec<User>, String> {
    let users: Vec<User> = serde_json::from_str(json).map_err(|e| format!("users file: {e}"))?;
    if users.is_empty() {
        return Err("users file: no users".into());
    }
    let mut seen = std::collections::HashSet::new();
    for u in &users {
        for (field, v) in [("username", &u.username), ("password", &u.password), ("email", &u.email), ("company", &u.company)] {
            if v.trim().is_empty() {
                return Err(format!("users file: user {:?} has an empty {field}", u.username));
            }
        }
        if !seen.insert(u.username.to_lowercase()) {
            return Err(format!("users file: username {:?} appears twice", u.username));
        }
    }
    Ok(users)
}

/// The issuer's RSA signing key, its public JWK and `kid`.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    kid: String,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new 2048-bit RSA key (aws-lc-rs; a few milliseconds).
    pub fn generate() -> Result<Self, String> {
        use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(|e| format!("RSA key generation: {e}"))?;
        let der: Pkcs8V1Der = pair.as_der().map_err(|e| format!("RSA key encoding: {e}"))?;
        let b64 = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Self::from_pem(pem.as_bytes())
    }

    /// An RSA private key in PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let encoding = EncodingKey::from_rsa_pem(pem).map_err(|e| format!("RSA private key: {e}"))?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| format!("RSA public key: {e}"))?;
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            return Err("not an RSA key".into());
        };
        // RFC 7638 thumbprint: stable for a key, different for another.
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        Ok(Self { n: rsa.n.clone(), e: rsa.e.clone(), kid, encoding })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as Cognito publishes it.
    pub fn jwk(&self) -> Value {
        json!({ "alg": "RS256", "e": self.e, "kid": self.kid, "kty": "RSA", "n": self.n, "use": "sig" })
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid` (no `typ`, as Cognito's tokens).
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = None;
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing with a valid key")
    }
}

/// The issuer's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `iss` of its tokens, Cognito-like `<base URL>/<pool id>`; its path (if any) also serves
    /// the JWKS and the discovery document.
    pub issuer: String,
    /// The base URL of the hosted sign-in (`/oauth2/authorize`, `/oauth2/token`, `/logout`),
    /// used in the discovery document.
    pub base_url: String,
    /// The one app client (public: no secret).
    pub client_id: String,
    pub users: Vec<User>,
    /// Allowed callback URLs (exact match); empty: any `http` URL on a loopback host
    /// (127.0.0.1, localhost, [::1]) — `cargo lambda watch` picks its port.
    pub redirect_uris: Vec<String>,
    /// Allowed sign-out URLs (exact match); empty: any `http` URL on a loopback host.
    pub logout_uris: Vec<String>,
    /// Lifetime of ID and access tokens (`expires_in`; Cognito's default: 1 hour).
    pub token_ttl: Duration,
    /// Lifetime of an authorization code (Cognito: 5 minutes).
    pub code_ttl: Duration,
    pub key: SigningKey,
    /// Show each test user's password on the sign-in page (the committed users are public anyway).
    pub show_passwords: bool,
}

impl Config {
    /// Defaults for an issuer reached at `base_url` (e.g. `http://127.0.0.1:4455`): the default
    /// pool id, client id and users, a freshly generated key.
    pub fn new(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        Config {
            issuer: format!("{base}/{DEFAULT_POOL_ID}"),
            base_url: base,
            client_id: DEFAULT_CLIENT_ID.into(),
            users: parse_users(DEFAULT_USERS_JSON).expect("the committed users file is valid"),
            redirect_uris: Vec::new(),
            logout_uris: Vec::new(),
            token_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(300),
            key: SigningKey::generate().expect("RSA key generation"),
            show_passwords: true,
        }
    }
}

/// An issued, not yet redeemed authorization code.
#[derive(Debug, Clone)]
struct Grant {
    user: usize,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    scope: String,
    nonce: Option<String>,
    auth_time: u64,
    expires_at: SystemTime,
}

struct Inner {
    cfg: Config,
    codes: Mutex<HashMap<String, Grant>>,
}

/// The issuer: its settings and the codes it issued. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<Inner>);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness");
    URL_SAFE_NO_PAD.encode(buf)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636's S256.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn is_loopback_http(u: &str) -> bool {
    let Ok(url) = url::Url::parse(u) else { return false };
    url.scheme() == "http"
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

const SCOPES: &[&str] = &["openid", "email", "profile", "phone", "aws.cognito.signin.user.admin"];

/// The OAuth parameters of an authorization request (query of the GET, hidden fields of the POST).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuthParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(flatten)]
    params: AuthParams,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
struct Authorize {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: String,
    scope: String,
    nonce: Option<String>,
}

enum AuthError {
    /// No trustworthy redirect URI: an error page.
    Page(StatusCode, String),
    /// Back to the client with `error`, `error_description` and `state`.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: String },
}

impl App {
    pub fn new(cfg: Config) -> Self {
        App(Arc::new(Inner { cfg, codes: Mutex::new(HashMap::new()) }))
    }

    pub fn config(&self) -> &Config {
        &self.0.cfg
    }

    pub fn issuer(&self) -> &str {
        &self.0.cfg.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.0.cfg.client_id
    }

    /// The JWKS document (`{"keys": [...]}`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.0.cfg.key.jwk()] })
    }

    /// Signs arbitrary claims with the issuer's key (tests: expired, wrong audience, …).
    pub fn sign(&self, claims: &Value) -> String {
        self.0.cfg.key.sign(claims)
    }

    /// The claims of the ID token the issuer would give `username` signing in now, or `None`
    /// for an unknown user.
    pub fn id_token_claims(&self, username: &str) -> Option<Value> {
        let user = self.user_index(username)?;
        let now = now_secs();
        Some(self.claims(user, now, now, None, None).0)
    }

    /// The ID token `username` would get signing in now (tests that skip the browser flow).
    pub fn id_token(&self, username: &str) -> Option<String> {
        self.id_token_claims(username).map(|c| self.sign(&c))
    }

    fn user_index(&self, username: &str) -> Option<usize> {
        self.0.cfg.users.iter().position(|u| u.username.eq_ignore_ascii_case(username))
    }

    fn redirect_allowed(&self, uri: &str) -> bool {
        let list = &self.0.cfg.redirect_uris;
        if list.is_empty() {
            is_loopback_http(uri)
        } else {
            list.iter().any(|u| u == uri)
        }
    }

    fn logout_allowed(&self, uri: &str) -> bool {
        let list = &self.0.cfg.logout_uris;
        if list.is_empty() {
            is_loopback_http(uri)
        } else {
            list.iter().any(|u| u == uri)
        }
    }

    /// (ID token claims, access token claims) for a sign-in at `auth_time`, issued at `iat`.
    fn claims(&self, user: usize, auth_time: u64, iat: u64, nonce: Option<&str>, scope: Option<&str>) -> (Value, Value) {
        let cfg = &self.0.cfg;
        let u = &cfg.users[user];
        let exp = iat + cfg.token_ttl.as_secs();
        let origin_jti = random_token(16);
        let event_id = random_token(16);
        let access = json!({
            "sub": u.sub(),
            "iss": cfg.issuer,
            "client_id": cfg.client_id,
            "origin_jti": origin_jti,
            "event_id": event_id,
            "token_use": "access",
            "scope": scope.unwrap_or("openid"),
            "auth_time": auth_time,
            "exp": exp,
            "iat": iat,
            "jti": random_token(16),
            "username": u.username,
        });
        let mut id = json!({
            "sub": u.sub(),
            "email_verified": true,
            "iss": cfg.issuer,
            "cognito:username": u.username,
            "origin_jti": origin_jti,
            "aud": cfg.client_id,
            "event_id": event_id,
            "token_use": "id",
            "auth_time": auth_time,
            "exp": exp,
            "iat": iat,
            "jti": random_token(16),
            "email": u.email,
            "custom:company": u.company,
            "custom:role": u.role.as_str(),
        });
        if let Some(n) = nonce {
            id["nonce"] = Value::String(n.to_string());
        }
        (id, access)
    }

    fn check_authorize(&self, p: &AuthParams) -> Result<Authorize, AuthError> {
        let cfg = &self.0.cfg;
        let client_id = p.client_id.as_deref().unwrap_or("");
        if client_id != cfg.client_id {
            return Err(AuthError::Page(StatusCode::BAD_REQUEST, "Unknown client_id: this is not an app client of the pool.".into()));
        }
        let redirect_uri = p.redirect_uri.as_deref().unwrap_or("");
        if !self.redirect_allowed(redirect_uri) {
            return Err(AuthError::Page(
                StatusCode::BAD_REQUEST,
                "redirect_uri is missing or not a callback URL of this app client.".into(),
            ));
        }
        let state = p.state.clone();
        let back = |error: &'static str, description: &str| AuthError::Redirect {
            redirect_uri: redirect_uri.to_string(),
            state: state.clone(),
            error,
            description: description.to_string(),
        };
        if p.response_type.as_deref() != Some("code") {
            return Err(back("unsupported_response_type", "response_type must be code"));
        }
        let scope = p.scope.as_deref().unwrap_or("").split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>();
        if !scope.contains(&"openid") {
            return Err(back("invalid_scope", "scope must include openid (the ID token)"));
        }
        if let Some(bad) = scope.iter().find(|s| !SCOPES.contains(s)) {
            return Err(back("invalid_scope", &format!("unknown scope {bad}")));
        }
        let Some(challenge) = p.code_challenge.as_deref().filter(|c| !c.is_empty()) else {
            return Err(back("invalid_request", "code_challenge is required (PKCE)"));
        };
        if p.code_challenge_method.as_deref() != Some("S256") {
            return Err(back("invalid_request", "code_challenge_method must be S256"));
        }
        if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(challenge).map(|d| d.len()) != Ok(32) {
            return Err(back("invalid_request", "code_challenge must be BASE64URL(SHA256(code_verifier)), 43 characters"));
        }
        if state.as_ref().is_some_and(|s| s.len() > 2048) || p.nonce.as_ref().is_some_and(|n| n.len() > 2048) {
            return Err(back("invalid_request", "state or nonce too long"));
        }
        Ok(Authorize {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            state,
            code_challenge: challenge.to_string(),
            scope: scope.join(" "),
            nonce: p.nonce.clone(),
        })
    }

    /// Serves the issuer.
    pub fn router(&self) -> Router {
        let mut r = Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route("/oauth2/authorize", get(authorize_page).post(authorize_submit))
            .route("/oauth2/token", axum::routing::post(token))
            .route("/logout", get(logout))
            .route("/assets/issuer.css", get(stylesheet));
        if let Ok(url) = url::Url::parse(&self.0.cfg.issuer) {
            let path = url.path().trim_end_matches('/');
            if !path.is_empty() {
                r = r
                    .route(&format!("{path}/.well-known/jwks.json"), get(jwks))
                    .route(&format!("{path}/.well-known/openid-configuration"), get(discovery));
            }
        }
        r.with_state(self.clone())
    }
}

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, app: App) -> std::io::Result<()> {
    axum::serve(listener, app.router()).await
}

/// Starts an issuer on a free loopback port (tests): its base URL and the app (for its
/// issuer, client id, JWKS, or tokens without the browser flow). `configure` adjusts the
/// defaults of [`Config::new`] for that base URL.
pub async fn start(configure: impl FnOnce(Config) -> Config) -> (String, App) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind issuer");
    let base = format!("http://{}", listener.local_addr().expect("issuer address"));
    let app = App::new(configure(Config::new(&base)));
    tokio::spawn(serve(listener, app.clone()));
    (base, app)
}

// ---------------------------------------------------------------------------------------------
// handlers

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

async fn jwks(State(app): State<App>) -> Response {
    let mut resp = Json(app.jwks()).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    resp
}

async fn discovery(State(app): State<App>) -> Json<Value> {
    let cfg = app.config();
    Json(json!({
        "issuer": cfg.issuer,
        "authorization_endpoint": format!("{}/oauth2/authorize", cfg.base_url),
        "token_endpoint": format!("{}/oauth2/token", cfg.base_url),
        "end_session_endpoint": format!("{}/logout", cfg.base_url),
        "jwks_uri": format!("{}/.well-known/jwks.json", cfg.issuer),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": SCOPES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
    }))
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], pages::CSS).into_response()
}

fn auth_error(e: AuthError) -> Response {
    match e {
        AuthError::Page(status, message) => pages::html(status, pages::error_page(&message), None),
        AuthError::Redirect { redirect_uri, state, error, description } => {
            let mut url = url::Url::parse(&redirect_uri).expect("checked redirect_uri");
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("error", error).append_pair("error_description", &description);
                if let Some(s) = &state {
                    q.append_pair("state", s);
                }
            }
            redirect(url.as_str())
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    no_store(resp.headers_mut());
    resp
}

fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri).ok().map(|u| u.origin().ascii_serialization())
}

async fn authorize_page(State(app): State<App>, Query(p): Query<AuthParams>) -> Response {
    match app.check_authorize(&p) {
        Ok(a) => pages::html(StatusCode::OK, pages::sign_in(app.config(), &p, "", None), origin_of(&a.redirect_uri)),
        Err(e) => auth_error(e),
    }
}

async fn authorize_submit(State(app): State<App>, Form(f): Form<SignInForm>) -> Response {
    let a = match app.check_authorize(&f.params) {
        Ok(a) => a,
        Err(e) => return auth_error(e),
    };
    let user = app.user_index(f.username.trim()).filter(|&i| ct_eq(app.config().users[i].password.as_bytes(), f.password.as_bytes()));
    let Some(user) = user else {
        tracing::info!(username = %f.username.trim(), "sign-in refused: incorrect username or password");
        let page = pages::sign_in(app.config(), &f.params, f.username.trim(), Some("Incorrect username or password."));
        return pages::html(StatusCode::OK, page, origin_of(&a.redirect_uri));
    };
    let code = random_token(32);
    let grant = Grant {
        user,
        client_id: a.client_id,
        redirect_uri: a.redirect_uri.clone(),
        code_challenge: a.code_challenge,
        scope: a.scope,
        nonce: a.nonce,
        auth_time: now_secs(),
        expires_at: SystemTime::now() + app.config().code_ttl,
    };
    {
        let mut codes = app.0.codes.lock().expect("codes lock");
        let now = SystemTime::now();
        codes.retain(|_, g| g.expires_at > now);
        codes.insert(code.clone(), grant);
    }
    tracing::info!(username = %app.config().users[user].username, company = %app.config().users[user].company, "signed in");
    let mut url = url::Url::parse(&a.redirect_uri).expect("checked redirect_uri");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(s) = &a.state {
            q.append_pair("state", s);
        }
    }
    redirect(url.as_str())
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
}

fn oauth_error(error: &'static str, description: &str) -> Response {
    let mut resp = (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "error_description": description }))).into_response();
    no_store(resp.headers_mut());
    resp
}

async fn token(State(app): State<App>, form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>) -> Response {
    let Ok(Form(f)) = form else {
        return oauth_error("invalid_request", "the body must be application/x-www-form-urlencoded");
    };
    match f.grant_type.as_deref() {
        Some("authorization_code") => {}
        Some(_) => return oauth_error("unsupported_grant_type", "only authorization_code is supported"),
        None => return oauth_error("invalid_request", "grant_type is required"),
    }
    let Some(code) = f.code.as_deref().filter(|c| !c.is_empty()) else {
        return oauth_error("invalid_request", "code is required");
    };
    let Some(client_id) = f.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return oauth_error("invalid_request", "client_id is required");
    };
    if client_id != app.client_id() {
        return oauth_error("invalid_client", "unknown client_id");
    }
    // Single use: the code is gone whatever happens next (RFC 6749 §4.1.2).
    let grant = app.0.codes.lock().expect("codes lock").remove(code);
    let Some(grant) = grant else {
        return oauth_error("invalid_grant", "the code is unknown or was already used");
    };
    if SystemTime::now() >= grant.expires_at {
        return oauth_error("invalid_grant", "the code has expired");
    }
    if grant.client_id != client_id {
        return oauth_error("invalid_grant", "the code was issued to another client");
    }
    if f.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return oauth_error("invalid_grant", "redirect_uri differs from the authorization request's");
    }
    let Some(verifier) = f.code_verifier.as_deref().filter(|v| valid_verifier(v)) else {
        return oauth_error("invalid_grant", "code_verifier is missing or malformed (43-128 characters of A-Z a-z 0-9 - . _ ~)");
    };
    if !ct_eq(s256_challenge(verifier).as_bytes(), grant.code_challenge.as_bytes()) {
        return oauth_error("invalid_grant", "code_verifier does not match the code_challenge (S256)");
    }
    let (mut id, access) = app.claims(grant.user, grant.auth_time, now_secs(), grant.nonce.as_deref(), Some(&grant.scope));
    let access_token = app.sign(&access);
    // OIDC at_hash: the left half of SHA-256 of the access token, base64url.
    id["at_hash"] = Value::String(URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]));
    let id_token = app.sign(&id);
    let mut resp = Json(json!({
        "id_token": id_token,
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": app.config().token_ttl.as_secs(),
    }))
    .into_response();
    no_store(resp.headers_mut());
    resp
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    client_id: Option<String>,
    logout_uri: Option<String>,
    #[serde(flatten)]
    auth: AuthParams,
}

async fn logout(State(app): State<App>, Query(p): Query<LogoutParams>) -> Response {
    if p.client_id.as_deref() != Some(app.client_id()) {
        return pages::html(StatusCode::BAD_REQUEST, pages::error_page("Unknown client_id: this is not an app client of the pool."), None);
    }
    if let Some(uri) = p.logout_uri.as_deref() {
        if !app.logout_allowed(uri) {
            return pages::html(StatusCode::BAD_REQUEST, pages::error_page("logout_uri is not a sign-out URL of this app client."), None);
        }
        return redirect(uri);
    }
    // Cognito: without logout_uri, redirect_uri + response_type start a new sign-in.
    let mut auth = p.auth;
    auth.client_id = p.client_id;
    if auth.redirect_uri.is_some() {
        if let Err(e) = app.check_authorize(&auth) {
            return auth_error(e);
        }
        let query = serde_urlencoded::to_string(
            [
                ("response_type", &auth.response_type),
                ("client_id", &auth.client_id),
                ("redirect_uri", &auth.redirect_uri),
                ("state", &auth.state),
                ("code_challenge", &auth.code_challenge),
                ("code_challenge_method", &auth.code_challenge_method),
                ("scope", &auth.scope),
                ("nonce", &auth.nonce),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v.as_str())))
            .collect::<Vec<_>>(),
        )
        .expect("urlencoded query");
        return redirect(&format!("/oauth2/authorize?{query}"));
    }
    pages::html(StatusCode::BAD_REQUEST, pages::error_page("logout needs logout_uri (or redirect_uri and response_type)."), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_format() {
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(valid_verifier(&"a-._~Z9".repeat(10)));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn loopback_redirects_only() {
        assert!(is_loopback_http("http://127.0.0.1:9000/auth/callback"));
        assert!(is_loopback_http("http://localhost:9000/auth/callback"));
        assert!(!is_loopback_http("https://evil.example/auth/callback"));
        assert!(!is_loopback_http("http://127.0.0.1.evil.example/cb"));
        assert!(!is_loopback_http("http://user@127.0.0.1/cb"));
        assert!(!is_loopback_http("http://127.0.0.1/cb#frag"));
        assert!(!is_loopback_http("javascript:alert(1)"));
    }

    #[test]
    fn users_file_checks() {
        let users = parse_users(DEFAULT_USERS_JSON).unwrap();
        assert!(users.iter().any(|u| u.company == "acme" && u.role == Role::Approver));
        assert!(users.iter().any(|u| u.company == "acme" && u.role == Role::Viewer));
        assert!(users.iter().any(|u| u.company == "globex" && u.role == Role::Approver));
        assert!(parse_users("[]").is_err());
        let twice = r#"[{"username":"a","password":"p","email":"a@x","company":"c","role":"viewer"},
                        {"username":"A","password":"p","email":"b@x","company":"c","role":"viewer"}]"#;
        assert!(parse_users(twice).unwrap_err().contains("twice"));
        let bad_role = r#"[{"username":"a","password":"p","email":"a@x","company":"c","role":"admin"}]"#;
        assert!(parse_users(bad_role).is_err());
    }

    #[test]
    fn sub_is_stable_and_uuid_shaped() {
        let u = &parse_users(DEFAULT_USERS_JSON).unwrap()[0];
        assert_eq!(u.sub(), u.sub());
        assert_eq!(u.sub().len(), 36);
        assert_eq!(u.sub().matches('-').count(), 4);
    }

    #[test]
    fn generated_keys_differ() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        assert_ne!(a.kid(), b.kid());
        assert_eq!(a.jwk()["e"], "AQAB");
    }
}
