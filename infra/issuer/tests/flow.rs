//! The issuer over HTTP, started in process on a loopback port: the browser's sign-in (GET and
//! POST of /oauth2/authorize), the dashboard's code exchange (POST /oauth2/token) and the ID
//! token verified with the JWKS as the dashboard does (jsonwebtoken: signature, iss, aud, exp).

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use local_issuer::{s256_challenge, start, Config};
use serde_json::Value;

const CALLBACK: &str = "http://127.0.0.1:9000/auth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-1B0gR5BVxCYfBjYAaDkAp8fWQpoqZ8-and-some-more-entropy";

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn authorize_params(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", CALLBACK.into()),
        ("state", "st-123".into()),
        ("code_challenge", s256_challenge(VERIFIER)),
        ("code_challenge_method", "S256".into()),
        ("scope", "openid email".into()),
        ("nonce", "n-456".into()),
    ]
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

/// Signs in through the form; the redirect's query (code and state, or error).
async fn sign_in(base: &str, client_id: &str, username: &str, password: &str) -> reqwest::Response {
    let mut form = authorize_params(client_id);
    form.push(("username", username.into()));
    form.push(("password", password.into()));
    client().post(format!("{base}/oauth2/authorize")).form(&form).send().await.unwrap()
}

async fn code_for(base: &str, client_id: &str, username: &str, password: &str) -> String {
    let resp = sign_in(base, client_id, username, password).await;
    assert_eq!(resp.status(), 302, "sign-in redirects");
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(CALLBACK), "{location}");
    let q = query_of(&location);
    assert_eq!(q["state"], "st-123");
    q["code"].clone()
}

async fn exchange(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client().post(format!("{base}/oauth2/token")).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

fn token_form<'a>(code: &'a str, client_id: &'a str, verifier: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ]
}

/// Verifies an ID token as the dashboard does: the key by `kid` from the JWKS fetched over HTTP.
async fn verify(jwks_url: &str, token: &str, issuer: &str, audience: &str) -> jsonwebtoken::errors::Result<Value> {
    let jwks: JwkSet = client().get(jwks_url).send().await.unwrap().json().await.unwrap();
    let kid = decode_header(token)?.kid.expect("kid in the header");
    let jwk = jwks.find(&kid).expect("the token's kid is in the JWKS");
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &v).map(|d| d.claims)
}

#[tokio::test]
async fn sign_in_page_is_accessible_and_lists_each_companys_users() {
    let (base, app) = start(|c| c).await;
    let resp = client().get(format!("{base}/oauth2/authorize")).query(&authorize_params(app.client_id())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9000"), "{csp}");
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains(" style="), "no inline style");
    assert!(html.contains("<label for=\"username\">") && html.contains("id=\"username\""));
    assert!(html.contains("<label for=\"password\">") && html.contains("id=\"password\""));
    assert!(html.contains("<h3>acme</h3>") && html.contains("<h3>globex</h3>"));
    for user in ["alice", "victor", "gina"] {
        assert!(html.contains(&format!("<th scope=\"row\">{user}</th>")), "{user} listed");
    }
    // The OAuth parameters travel as hidden fields, escaped.
    assert!(html.contains(&format!("name=\"code_challenge\" value=\"{}\"", s256_challenge(VERIFIER))));
    let css = client().get(format!("{base}/assets/issuer.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn code_with_pkce_gives_an_id_token_verifiable_with_the_jwks() {
    let (base, app) = start(|c| c).await;
    let issuer = app.issuer().to_string();
    assert_eq!(issuer, format!("{base}/{}", local_issuer::DEFAULT_POOL_ID));
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let id_token = body["id_token"].as_str().unwrap();
    let header = decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ, None, "Cognito's tokens have no typ");

    // The JWKS at the root and under the pool path (Cognito's <issuer>/.well-known/jwks.json).
    for jwks_url in [format!("{base}/.well-known/jwks.json"), format!("{issuer}/.well-known/jwks.json")] {
        let claims = verify(&jwks_url, id_token, &issuer, app.client_id()).await.unwrap();
        assert_eq!(claims["token_use"], "id");
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["email"], "alice@acme.example");
        assert_eq!(claims["custom:company"], "acme");
        assert_eq!(claims["custom:role"], "approver");
        assert_eq!(claims["nonce"], "n-456");
        assert_eq!(claims["aud"], app.client_id());
        for c in ["sub", "iat", "exp", "auth_time", "at_hash", "jti"] {
            assert!(claims.get(c).is_some(), "claim {c}");
        }
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3600);
    }
    // The access token is a JWT of the same key, Cognito's access claims (no aud, client_id).
    let access = body["access_token"].as_str().unwrap();
    let jwks: JwkSet = client().get(format!("{base}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[&issuer]);
    v.validate_aud = false;
    let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let claims = decode::<Value>(access, &key, &v).unwrap().claims;
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["client_id"], app.client_id());
    assert_eq!(claims["scope"], "openid email");

    // Another audience or issuer is refused by the same verification.
    assert!(verify(&format!("{base}/.well-known/jwks.json"), id_token, &issuer, "another-client").await.is_err());
    assert!(verify(&format!("{base}/.well-known/jwks.json"), id_token, "http://elsewhere/pool", app.client_id()).await.is_err());

    // The discovery document names the same endpoints.
    let d: Value = client().get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(d["issuer"], issuer);
    assert_eq!(d["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(d["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
}

#[tokio::test]
async fn each_user_gets_their_company_and_role() {
    let (base, app) = start(|c| c).await;
    for (user, password, company, role) in [
        ("victor", "victor-password", "acme", "viewer"),
        ("gina", "gina-password", "globex", "approver"),
        ("GUS", "gus-password", "globex", "viewer"),
    ] {
        let code = code_for(&base, app.client_id(), user, password).await;
        let (status, body) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
        assert_eq!(status, 200, "{user}: {body}");
        let claims = verify(&format!("{base}/.well-known/jwks.json"), body["id_token"].as_str().unwrap(), app.issuer(), app.client_id())
            .await
            .unwrap();
        assert_eq!(claims["custom:company"], company, "{user}");
        assert_eq!(claims["custom:role"], role, "{user}");
        assert_eq!(claims["cognito:username"], user.to_lowercase());
    }
}

#[tokio::test]
async fn wrong_pkce_verifier_is_refused_and_burns_the_code() {
    let (base, app) = start(|c| c).await;
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let other = "another-verifier-another-verifier-another-verifier";
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), other)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("code_challenge"));
    // The right verifier afterwards: the code is gone.
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    // Missing or malformed verifier.
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let mut form = token_form(&code, app.client_id(), VERIFIER);
    form.retain(|(k, _)| *k != "code_verifier");
    let (status, body) = exchange(&base, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), "short")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn a_code_is_redeemed_once() {
    let (base, app) = start(|c| c).await;
    let code = code_for(&base, app.client_id(), "gina", "gina-password").await;
    let (status, _) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
    assert_eq!(status, 200);
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("already used"));
    // An invented code likewise.
    let (status, body) = exchange(&base, &token_form("not-a-code", app.client_id(), VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn wrong_password_or_unknown_user_gives_no_code() {
    let (base, app) = start(|c| c).await;
    for (user, password) in [("alice", "victor-password"), ("alice", ""), ("mallory", "alice-password"), ("alice", "alice-password ")] {
        let resp = sign_in(&base, app.client_id(), user, password).await;
        assert_eq!(resp.status(), 200, "{user}/{password:?}: the form again");
        assert!(resp.headers().get("location").is_none());
        let html = resp.text().await.unwrap();
        assert!(html.contains("role=\"alert\"") && html.contains("Incorrect username or password."), "{html}");
        assert!(!html.contains("code="), "no code");
    }
}

#[tokio::test]
async fn token_request_checks_client_redirect_uri_and_grant_type() {
    let (base, app) = start(|c| c).await;
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let (status, body) = exchange(&base, &token_form(&code, "another-client", VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client")));

    let mut form = token_form(&code, app.client_id(), VERIFIER);
    form[2] = ("redirect_uri", "http://127.0.0.1:9000/elsewhere");
    let (status, body) = exchange(&base, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");

    let mut form = token_form("x", app.client_id(), VERIFIER);
    form[0] = ("grant_type", "refresh_token");
    let (status, body) = exchange(&base, &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));

    // JSON instead of a form.
    let resp =
        client().post(format!("{base}/oauth2/token")).json(&serde_json::json!({"grant_type": "authorization_code"})).send().await.unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let (base, app) = start(|c| Config { code_ttl: Duration::ZERO, ..c }).await;
    let code = code_for(&base, app.client_id(), "alice", "alice-password").await;
    let (status, body) = exchange(&base, &token_form(&code, app.client_id(), VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn authorize_requires_pkce_s256_openid_and_a_known_client_and_callback() {
    let (base, app) = start(|c| Config { redirect_uris: vec![CALLBACK.into()], ..c }).await;
    let get = |params: Vec<(&'static str, String)>| {
        let base = base.clone();
        async move { client().get(format!("{base}/oauth2/authorize")).query(&params).send().await.unwrap() }
    };
    // Errors the client can be told about: back to its callback with error and state.
    for (drop, replace, error) in [
        (Some("code_challenge"), None, "invalid_request"),
        (None, Some(("code_challenge_method", "plain")), "invalid_request"),
        (None, Some(("code_challenge", "abc")), "invalid_request"),
        (None, Some(("scope", "email")), "invalid_scope"),
        (None, Some(("response_type", "token")), "unsupported_response_type"),
    ] {
        let mut p = authorize_params(app.client_id());
        if let Some(d) = drop {
            p.retain(|(k, _)| *k != d);
        }
        if let Some((k, v)) = replace {
            p.iter_mut().find(|(n, _)| *n == k).unwrap().1 = v.into();
        }
        let resp = get(p).await;
        assert_eq!(resp.status(), 302, "{error}");
        let q = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(q["error"], error);
        assert_eq!(q["state"], "st-123");
        assert!(!q.contains_key("code"));
    }
    // Unknown client or a callback not registered: an error page, never a redirect.
    let mut p = authorize_params("another-client");
    let resp = get(p.clone()).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    p = authorize_params(app.client_id());
    p[2].1 = "http://127.0.0.1:9001/auth/callback".into();
    let resp = get(p).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // The POST checks the same (a forged form cannot pick another callback).
    let mut form = authorize_params(app.client_id());
    form[2].1 = "http://127.0.0.1:9001/auth/callback".into();
    form.push(("username", "alice".into()));
    form.push(("password", "alice-password".into()));
    let resp = client().post(format!("{base}/oauth2/authorize")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn by_default_only_loopback_callbacks_are_accepted() {
    let (base, app) = start(|c| c).await;
    let mut p = authorize_params(app.client_id());
    p[2].1 = "https://evil.example/auth/callback".into();
    let resp = client().get(format!("{base}/oauth2/authorize")).query(&p).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    p[2].1 = "http://localhost:3000/auth/callback".into();
    let resp = client().get(format!("{base}/oauth2/authorize")).query(&p).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn logout_redirects_to_the_sign_out_url_or_a_new_sign_in() {
    let (base, app) = start(|c| c).await;
    let q = [("client_id", app.client_id()), ("logout_uri", "http://127.0.0.1:9000/signed-out")];
    let resp = client().get(format!("{base}/logout")).query(&q).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:9000/signed-out");

    let resp = client().get(format!("{base}/logout")).query(&authorize_params(app.client_id())).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/oauth2/authorize?"), "{location}");
    let again = client().get(format!("{base}{location}")).send().await.unwrap();
    assert_eq!(again.status(), 200, "the sign-in page");

    for q in [
        vec![("client_id", "another-client"), ("logout_uri", "http://127.0.0.1:9000/signed-out")],
        vec![("client_id", app.client_id()), ("logout_uri", "https://evil.example/")],
        vec![("client_id", app.client_id())],
    ] {
        let resp = client().get(format!("{base}/logout")).query(&q).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{q:?}");
        assert!(resp.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn tokens_minted_in_process_verify_like_the_flows() {
    let (base, app) = start(|c| c).await;
    let token = app.id_token("victor").unwrap();
    let claims = verify(&format!("{base}/.well-known/jwks.json"), &token, app.issuer(), app.client_id()).await.unwrap();
    assert_eq!(claims["custom:company"], "acme");
    assert_eq!(claims["custom:role"], "viewer");
    assert!(app.id_token("nobody").is_none());
    // An expired token signed by the same key fails validation.
    let mut c = app.id_token_claims("victor").unwrap();
    c["exp"] = serde_json::json!(c["iat"].as_u64().unwrap() - 3600);
    let expired = app.sign(&c);
    let err = verify(&format!("{base}/.well-known/jwks.json"), &expired, app.issuer(), app.client_id()).await.unwrap_err();
    assert_eq!(*err.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature);
}
