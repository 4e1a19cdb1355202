//! The real `dashboard` binary under `cargo lambda watch` (reached at its function URL) with
//! DynamoDB Local + moto and a test issuer's JWKS on a loopback port.

use std::time::{Duration, Instant};

use integration_tests::{fixture, start_watch_with, Env, ACME};
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
    let vars = [
        ("TABLE_NAME", env.table.as_str()),
        ("BUCKET_NAME", env.bucket.as_str()),
        ("AUTH_ISSUER", ISS),
        ("AUTH_JWKS_URL", jwks_url.as_str()),
        ("AUTH_AUTHORIZE_URL", authorize.as_str()),
        ("AUTH_TOKEN_URL", token_url.as_str()),
        ("AUTH_CLIENT_ID", CLIENT),
        ("DASHBOARD_BASE_URL", "http://127.0.0.1:9"),
        ("DASHBOARD_SECRET", "test-dashboard-secret-0123456789abcdef"),
    ];
    let watch = start_watch_with(&vars, 1);
    let base = format!("http://127.0.0.1:{}/lambda-url/dashboard", watch.port);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(120)).build().unwrap();
    // The first request starts (and if needed builds) the function.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match http.get(format!("{base}/static/app.css")).send().await {
            Ok(r) if r.status() == 200 => break,
            other => {
                assert!(Instant::now() < deadline, "dashboard did not answer: {other:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
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
    assert!(r.text().await.unwrap().contains("No invoices here"));
    assert_eq!(http.get(format!("{base}/api/invoices")).send().await.unwrap().status(), 401);
    let r = http.get(format!("{base}/invoices")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with(&authorize));
}
