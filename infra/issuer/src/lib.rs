//! A local stand-in for the Cognito user pool the dashboard signs in with, so the same code
//! path runs on the local stack: `/oauth2/authorize` shows the test users of each company
//! (from a JSON file) with a sign-in button, `/oauth2/token` exchanges the code (PKCE S256
//! checked, single use, 5 minutes), `/.well-known/jwks.json` publishes the public key. ID
//! tokens carry the dashboard's claims contract: `iss`, `aud` = the client id, `token_use` =
//! `id`, `exp` (1 h), `sub`, `email`, `custom:company`, `custom:role`.
//!
//! Test keys only (`tests/fixtures/dashboard`); never deploy this.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use maud::{html, DOCTYPE};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub sub: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub company: String,
    pub role: String,
}

pub struct Config {
    pub issuer: String,
    pub client_id: String,
    pub kid: String,
    pub key: EncodingKey,
    pub jwks: Value,
    pub users: Vec<User>,
}

struct Pending {
    challenge: String,
    redirect_uri: String,
    user: User,
    until: Instant,
}

struct Inner {
    config: Config,
    codes: Mutex<HashMap<String, Pending>>,
}

#[derive(Clone)]
pub struct Issuer(Arc<Inner>);

pub fn router(config: Config) -> Router {
    let state = Issuer(Arc::new(Inner { config, codes: Mutex::new(HashMap::new()) }));
    Router::new()
        .route("/oauth2/authorize", get(authorize_page).post(authorize))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/.well-known/jwks.json", get(|State(s): State<Issuer>| async move { Json(s.0.config.jwks.clone()) }))
        .route("/.well-known/openid-configuration", get(discovery))
        .with_state(state)
}

fn random() -> String {
    let mut b = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).expect("randomness");
    URL_SAFE_NO_PAD.encode(b)
}

/// Only loopback redirect URIs (this issuer is for the local stack).
fn loopback(uri: &str) -> bool {
    ["http://127.0.0.1:", "http://localhost:", "http://127.0.0.1/", "http://localhost/"].iter().any(|p| uri.starts_with(p))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn bad(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(html! { (DOCTYPE) html lang="en" { body { h1 { "Sign-in request refused" } p { (msg) } } } }.into_string()),
    )
        .into_response()
}

fn check(s: &Issuer, q: &AuthorizeQuery) -> Result<(), &'static str> {
    if q.response_type.as_deref() != Some("code") {
        return Err("response_type must be code");
    }
    if q.client_id.as_deref() != Some(s.0.config.client_id.as_str()) {
        return Err("unknown client_id");
    }
    if !q.redirect_uri.as_deref().is_some_and(loopback) {
        return Err("redirect_uri must be a loopback URL");
    }
    if q.code_challenge_method.as_deref() != Some("S256") || q.code_challenge.as_deref().is_none_or(|c| c.len() != 43) {
        return Err("PKCE with code_challenge_method=S256 is required");
    }
    if q.state.as_deref().is_none_or(str::is_empty) {
        return Err("state is required");
    }
    Ok(())
}

async fn authorize_page(State(s): State<Issuer>, Query(q): Query<AuthorizeQuery>) -> Response {
    if let Err(e) = check(&s, &q) {
        return bad(e);
    }
    let mut by_company: Vec<(&str, Vec<&User>)> = Vec::new();
    for u in &s.0.config.users {
        match by_company.iter_mut().find(|(c, _)| *c == u.company) {
            Some((_, v)) => v.push(u),
            None => by_company.push((&u.company, vec![u])),
        }
    }
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1"; title { "Sign in · local issuer" } }
            body {
                main {
                    h1 { "Sign in (local test issuer)" }
                    p { "Choose a test user. This page stands in for the Cognito hosted sign-in on the local stack." }
                    @for (company, users) in &by_company {
                        section {
                            h2 { "Company " (company) }
                            @for u in users {
                                form method="post" action="/oauth2/authorize" {
                                    @for (k, v) in [("client_id", &q.client_id), ("redirect_uri", &q.redirect_uri), ("state", &q.state), ("code_challenge", &q.code_challenge)] {
                                        input type="hidden" name=(k) value=(v.as_deref().unwrap_or(""));
                                    }
                                    input type="hidden" name="sub" value=(u.sub);
                                    button type="submit" id={"signin-" (u.sub)} { "Sign in as " (u.name.as_deref().unwrap_or(&u.email)) " (" (u.email) ", " (u.role) ")" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Html(page.into_string()).into_response()
}

#[derive(Deserialize)]
struct SignIn {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    sub: String,
}

async fn authorize(State(s): State<Issuer>, Form(f): Form<SignIn>) -> Response {
    let q = AuthorizeQuery {
        response_type: Some("code".into()),
        client_id: Some(f.client_id),
        redirect_uri: Some(f.redirect_uri.clone()),
        state: Some(f.state.clone()),
        code_challenge: Some(f.code_challenge.clone()),
        code_challenge_method: Some("S256".into()),
    };
    if let Err(e) = check(&s, &q) {
        return bad(e);
    }
    let Some(user) = s.0.config.users.iter().find(|u| u.sub == f.sub).cloned() else { return bad("unknown user") };
    let code = random();
    let mut codes = s.0.codes.lock().expect("codes");
    codes.retain(|_, p| p.until > Instant::now());
    codes.insert(
        code.clone(),
        Pending {
            challenge: f.code_challenge,
            redirect_uri: f.redirect_uri.clone(),
            user,
            until: Instant::now() + Duration::from_secs(300),
        },
    );
    let sep = if f.redirect_uri.contains('?') { '&' } else { '?' };
    let q = [("code", code.as_str()), ("state", f.state.as_str())];
    let qs: String = q.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&");
    Redirect::to(&format!("{}{sep}{qs}", f.redirect_uri)).into_response()
}

fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The signed ID token of a user.
pub fn id_token(c: &Config, u: &User, now: i64) -> String {
    let claims = json!({
        "iss": c.issuer, "aud": c.client_id, "token_use": "id", "sub": u.sub, "email": u.email,
        "custom:company": u.company, "custom:role": u.role, "iat": now, "auth_time": now, "exp": now + 3600,
    });
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some(c.kid.clone());
    encode(&h, &claims, &c.key).expect("sign the ID token")
}

async fn token(State(s): State<Issuer>, Form(f): Form<HashMap<String, String>>) -> Response {
    let err = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response();
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return err("unsupported_grant_type");
    }
    if f.get("client_id") != Some(&s.0.config.client_id) {
        return err("invalid_client");
    }
    let Some(p) = f.get("code").and_then(|c| s.0.codes.lock().expect("codes").remove(c)) else { return err("invalid_grant") };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let ok = p.until > Instant::now()
        && f.get("redirect_uri") == Some(&p.redirect_uri)
        && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == p.challenge;
    if !ok {
        return err("invalid_grant");
    }
    let t = id_token(&s.0.config, &p.user, chrono::Utc::now().timestamp());
    Json(json!({"id_token": t, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

async fn discovery(State(s): State<Issuer>) -> Json<Value> {
    let i = &s.0.config.issuer;
    Json(json!({
        "issuer": i, "authorization_endpoint": format!("{i}/oauth2/authorize"), "token_endpoint": format!("{i}/oauth2/token"),
        "jwks_uri": format!("{i}/.well-known/jwks.json"), "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"],
    }))
}
