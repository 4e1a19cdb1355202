//! The real `dashboard` binary under `cargo lambda watch` (reached at its function URL) with
//! DynamoDB Local + moto (its HMAC key read from moto's Secrets Manager at cold start, as
//! deployed) and a test issuer's JWKS on a loopback port.

use std::time::Duration;

use integration_tests::{fixture, free_port, start_watch_at, unique, wait_until_ok, Env, ACME};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

const ISS: &str = "http://issuer.test/pool";
const CLIENT: &str = "dashboard-client";

#[tokio::test]
async fn the_binary_answers_under_cargo_lambda_watch() {
    let env = Env::new().await;
    let jwks: Value = serde_json::from_slice(&fixture("dashboard/issuer-jwks.json")).unwrap();
    let app = axum::Router::new().route("/.well-known/jwks.json", axum::routing::get(move || async move { axum::Json(jwks.clone()) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let jwks_url = format!("{issuer}/.well-known/jwks.json");
    let authorize = format!("{issuer}/oauth2/authorize");
    let token_url = format!("{issuer}/oauth2/token");
    // The key lives in Secrets Manager; the function gets only the secret's name.
    let secret_id = unique("dashboard-key");
    assert!(env.secrets.create_if_missing(&secret_id, "test HMAC key", "test-dashboard-secret-0123456789abcdef").await.unwrap());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/lambda-url/dashboard");
    let vars = [
        ("TABLE_NAME", env.table.as_str()),
        ("BUCKET_NAME", env.bucket.as_str()),
        ("AUTH_ISSUER", ISS),
        ("AUTH_JWKS_URL", jwks_url.as_str()),
        ("AUTH_AUTHORIZE_URL", authorize.as_str()),
        ("AUTH_TOKEN_URL", token_url.as_str()),
        ("AUTH_CLIENT_ID", CLIENT),
        ("DASHBOARD_BASE_URL", base.as_str()),
        ("DASHBOARD_SECRET_ID", secret_id.as_str()),
    ];
    let _watch = start_watch_at(port, &vars, 1);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(120)).build().unwrap();
    wait_until_ok(&format!("{base}/static/app.css")).await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "u1", "email": "ap@acme.example", "token_use": "id", "custom:company": ACME, "custom:role": "viewer",
                        "iss": ISS, "aud": CLIENT, "exp": now + 600, "iat": now});
    let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("test-key-1".into());
    let token = encode(&h, &claims, &EncodingKey::from_rsa_pem(&fixture("dashboard/issuer-key.pem")).unwrap()).unwrap();

    let r = http.get(format!("{base}/api/invoices")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["invoices"], json!([]));
    let r = http.get(format!("{base}/invoices")).header("cookie", format!("ib_session={token}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("No invoices here"));
    // Every link is under the function URL's path (the watch server strips it off the request).
    assert!(html.contains(r#"href="/lambda-url/dashboard/static/app.css""#) && html.contains(r#"action="/lambda-url/dashboard/invoices""#));
    assert!(!html.contains(r#"href="/invoices"#), "a link outside the function URL");
    // A form's CSRF token is an HMAC with the key read from Secrets Manager: a viewer's POST
    // with one made with that key passes the CSRF check and is refused for the role; one made
    // with another key is refused as a forged form.
    let post = |csrf: String| {
        http.post(format!("{base}/invoices/export"))
            .header("cookie", format!("ib_session={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&id=x"))
            .send()
    };
    let with_key = dashboard::auth::Keys::new(b"test-dashboard-secret-0123456789abcdef").csrf(&token);
    let r = post(with_key).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("you are a viewer"), "the CSRF token of the stored key passed");
    let other = dashboard::auth::Keys::new(b"another-key-of-32-bytes-at-least-000000").csrf(&token);
    let r = post(other).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("did not come from this site"));
    assert_eq!(http.get(format!("{base}/api/invoices")).send().await.unwrap().status(), 401);
    let r = http.get(format!("{base}/invoices")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&authorize), "{to}");
    let query: Vec<(String, String)> = serde_urlencoded::from_str(to.split_once('?').unwrap().1).unwrap();
    assert!(query.contains(&("redirect_uri".into(), format!("{base}/auth/callback"))), "{to}");
    let pkce = r.headers()["set-cookie"].to_str().unwrap();
    assert!(pkce.contains("Path=/lambda-url/dashboard/auth/callback;"), "{pkce}");
}
