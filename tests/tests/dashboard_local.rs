//! The dashboard's router against DynamoDB Local + moto S3 with a test issuer in process: RSA
//! keys from `tests/fixtures/dashboard`, its JWKS and a token endpoint (PKCE checked) served by
//! axum on a loopback port, ID tokens signed with jsonwebtoken. Auth (missing, forged, expired,
//! wrong audience/issuer, no role), the sign-in (authorize redirect, callback, session cookie),
//! isolation on every route, filters, cursors over several pages, totals, CSV, PDF, CSRF,
//! roles and two approvals at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use integration_tests::{fixture, Env, ACME, GLOBEX};
use invoice_domain::invoice::ports::InvoiceRepository;
use invoice_domain::invoice::records::{Channel, DocumentSource, InvoiceRecord, InvoiceStatus, LineRecord, RejectionRecord};
use invoice_domain::invoice::{Code, Issue};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use tower::ServiceExt;

const ISS: &str = "http://issuer.test/pool";
const CLIENT: &str = "dashboard-client";
const SECRET: &str = "test-dashboard-secret-0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// The test issuer.

type Codes = Arc<Mutex<HashMap<String, (String, String)>>>;

struct Issuer {
    base: String,
    key: EncodingKey,
    other: EncodingKey,
    /// code → (PKCE challenge, ID token) for the token endpoint.
    codes: Codes,
}

async fn token_endpoint(
    axum::extract::State(codes): axum::extract::State<Codes>,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let code = f.get("code").cloned().unwrap_or_default();
    let Some((challenge, token)) = codes.lock().unwrap().remove(&code) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if dashboard::auth::pkce_challenge(&verifier) != challenge || f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response();
    }
    axum::Json(json!({"id_token": token, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

impl Issuer {
    async fn start() -> Issuer {
        let jwks: Value = serde_json::from_slice(&fixture("dashboard/issuer-jwks.json")).unwrap();
        let codes: Codes = Arc::default();
        let app = Router::new()
            .route("/.well-known/jwks.json", axum::routing::get(move || async move { axum::Json(jwks.clone()) }))
            .route("/oauth2/token", axum::routing::post(token_endpoint))
            .with_state(codes.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Issuer {
            base,
            key: EncodingKey::from_rsa_pem(&fixture("dashboard/issuer-key.pem")).unwrap(),
            other: EncodingKey::from_rsa_pem(&fixture("dashboard/other-key.pem")).unwrap(),
            codes,
        }
    }

    fn claims(company: &str, role: &str, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"sub": sub, "email": format!("{sub}@{company}.example"), "token_use": "id", "custom:company": company,
               "custom:role": role, "iss": ISS, "aud": CLIENT, "exp": now + 3600, "iat": now})
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with(claims, &self.key)
    }

    fn sign_with(&self, claims: &Value, key: &EncodingKey) -> String {
        let mut h = Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some("test-key-1".into());
        encode(&h, claims, key).unwrap()
    }

    fn token(&self, company: &str, role: &str) -> String {
        self.sign(&Self::claims(company, role, &format!("{role}-1")))
    }
}

// ---------------------------------------------------------------------------------------------
// The router on this test's table and bucket.

struct Dash {
    router: Router,
    issuer: Issuer,
    env: Env,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    fn location(&self) -> String {
        self.headers.get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }
}

enum Auth<'a> {
    None,
    Cookie(&'a str),
    Bearer(&'a str),
}

impl Dash {
    async fn new() -> Dash {
        let env = Env::new().await;
        let issuer = Issuer::start().await;
        let mut vars = HashMap::new();
        for (k, v) in [
            ("TABLE_NAME", env.table.clone()),
            ("BUCKET_NAME", env.bucket.clone()),
            ("AUTH_ISSUER", ISS.to_string()),
            ("AUTH_JWKS_URL", format!("{}/.well-known/jwks.json", issuer.base)),
            ("AUTH_AUTHORIZE_URL", format!("{}/oauth2/authorize", issuer.base)),
            ("AUTH_TOKEN_URL", format!("{}/oauth2/token", issuer.base)),
            ("AUTH_CLIENT_ID", CLIENT.to_string()),
            ("DASHBOARD_BASE_URL", "http://127.0.0.1:9".to_string()),
            ("DASHBOARD_SECRET", SECRET.to_string()),
        ] {
            vars.insert(k.to_string(), v);
        }
        let config = dashboard::Config::from_env_map(&vars).unwrap();
        let router = dashboard::router(dashboard::App::new(config, env.s3.clone(), env.ddb.clone()));
        Dash { router, issuer, env }
    }

    async fn call(&self, method: &str, uri: &str, auth: Auth<'_>, form: Option<&str>, extra_cookie: Option<&str>) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        let mut cookies: Vec<String> = extra_cookie.map(|c| vec![c.to_string()]).unwrap_or_default();
        match auth {
            Auth::None => {}
            Auth::Cookie(t) => cookies.push(format!("ib_session={t}")),
            Auth::Bearer(t) => b = b.header("authorization", format!("Bearer {t}")),
        }
        if !cookies.is_empty() {
            b = b.header("cookie", cookies.join("; "));
        }
        let body = match form {
            Some(f) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                Body::from(f.to_string())
            }
            None => Body::empty(),
        };
        let res = self.router.clone().oneshot(b.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024).await.unwrap().to_vec();
        Reply { status, headers, body }
    }

    async fn get(&self, uri: &str, token: &str) -> Reply {
        self.call("GET", uri, Auth::Cookie(token), None, None).await
    }

    async fn api(&self, uri: &str, token: &str) -> Reply {
        self.call("GET", uri, Auth::Bearer(token), None, None).await
    }

    fn csrf(&self, token: &str) -> String {
        dashboard::auth::Keys::new(SECRET.as_bytes()).csrf(token)
    }
}

fn seg(k: &str) -> String {
    dashboard::pages::seg(k)
}

/// `n` booked invoices of a company, received 12 hours apart back from now (newest: i = 0),
/// 5 suppliers, every 5th in EUR, even ones by e-mail, PO-<i mod 3>, net 100 + i.
async fn seed(env: &Env, company: &str, n: usize) -> Vec<InvoiceRecord> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for i in 0..n {
        let sup = i % 5;
        let received = invoice_domain::core::time::iso(now - chrono::Duration::hours(12 * i as i64));
        let net = format!("{}.00", 100 + i);
        let h = InvoiceRecord {
            company: company.into(),
            invoice_key: format!("NetworkID:{company}-SUP{sup}#INV-{i:04}"),
            supplier: format!("NetworkID:{company}-SUP{sup}"),
            supplier_name: Some(format!("Supplier {sup} Ltd")),
            invoice_id: format!("INV-{i:04}"),
            payload_id: None,
            purpose: "standard".into(),
            invoice_date: received[..10].to_string(),
            currency: if i % 5 == 0 { "EUR" } else { "USD" }.into(),
            subtotal: net.clone(),
            tax: "0.00".into(),
            shipping: "0.00".into(),
            special_handling: "0.00".into(),
            discount: "0.00".into(),
            net: net.clone(),
            due: net.clone(),
            line_count: 1,
            order_ids: vec![format!("PO-{}", i % 3)],
            supplier_order_ids: vec![],
            payment_terms_days: Some(30),
            content_sha256: format!("{i:064}"),
            document_key: format!("archive/{company}/SUP{sup}/INV-{i:04}/{i:064}.xml"),
            source_key: format!("incoming/{company}/inv-{i}.xml"),
            received_at: received,
            status: InvoiceStatus::Ingesting,
            source: DocumentSource { channel: if i % 2 == 0 { Channel::Email } else { Channel::S3 }, ..Default::default() },
            cancelled_by_sha256: None,
            cancelled_at: None,
            cancel_document_key: None,
            documents: vec![],
            matching: None,
            purchase: None,
            review_status: None,
            history: vec![],
        };
        let line = LineRecord {
            invoice_key: h.invoice_key.clone(),
            line_number: 1,
            kind: "goods".into(),
            po_number: Some(format!("PO-{}", i % 3)),
            supplier_order_id: None,
            reference_line_number: Some("1".into()),
            quantity: Some("2".into()),
            unit_of_measure: Some("EA".into()),
            unit_price: Some(format!("{}.50", 50 + i / 2)),
            subtotal: Some(net.clone()),
            tax: Some("0.00".into()),
            currency: h.currency.clone(),
            description: Some(format!("Widget {i}")),
            supplier_part_id: Some(format!("W-{i}")),
            category: "office".into(),
            classification: None,
            sold_by: None,
            amazon: None,
        };
        assert!(matches!(env.repo.claim(&h).await.unwrap(), invoice_domain::invoice::ports::Claim::Claimed));
        env.repo.put_details(&h, &[line], &[]).await.unwrap();
        env.repo.mark_valid(&h).await.unwrap();
        out.push(InvoiceRecord { status: InvoiceStatus::Valid, ..h });
    }
    out
}

fn assert_security_headers(r: &Reply) {
    let h = |k: &str| r.headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let csp = h("content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("referrer-policy"), "no-referrer");
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_tokens_and_the_sign_in() {
    let d = Dash::new().await;
    seed(&d.env, ACME, 2).await;
    let good = d.issuer.token(ACME, "viewer");
    let ok = d.get("/invoices", &good).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_security_headers(&ok);
    assert!(ok.text().contains("INV-0000"));
    assert_eq!(d.api("/api/invoices", &good).await.status, 200);

    // No session → the browser goes to sign in; the API says 401.
    let r = d.call("GET", "/invoices?status=approved", Auth::None, None, None).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_security_headers(&r);
    let loc = r.location();
    assert!(loc.starts_with(&format!("{}/oauth2/authorize?", d.issuer.base)), "{loc}");
    let q: HashMap<String, String> = serde_urlencoded::from_str(loc.split_once('?').unwrap().1).unwrap();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:9/auth/callback");
    let set = r.headers.get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set.starts_with("ib_pkce=") && set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let r = d.call("GET", "/api/invoices", Auth::None, None, None).await;
    assert_eq!(r.status, 401);
    assert!(r.headers.get("www-authenticate").is_some());

    // Every bad token: the same as none.
    let mut bad = Vec::new();
    let mut c = Issuer::claims(ACME, "viewer", "u");
    c["exp"] = json!(chrono::Utc::now().timestamp() - 120);
    bad.push(("expired", d.issuer.sign(&c)));
    let mut c = Issuer::claims(ACME, "viewer", "u");
    c["aud"] = json!("another-client");
    bad.push(("wrong audience", d.issuer.sign(&c)));
    let mut c = Issuer::claims(ACME, "viewer", "u");
    c["iss"] = json!("http://evil.test");
    bad.push(("wrong issuer", d.issuer.sign(&c)));
    bad.push(("forged signature", d.issuer.sign_with(&Issuer::claims(ACME, "approver", "u"), &d.issuer.other)));
    bad.push(("garbage", "not.a.jwt".to_string()));
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = base64_url(&serde_json::to_vec(&Issuer::claims(GLOBEX, "approver", "u")).unwrap());
    bad.push(("altered payload", parts.join(".")));
    for (what, t) in &bad {
        let r = d.get("/invoices", t).await;
        assert_eq!(r.status, 303, "{what}: {}", r.text());
        assert!(r.location().contains("/oauth2/authorize"), "{what}");
        assert_eq!(d.api("/api/invoices", t).await.status, 401, "{what}");
    }
    // Verified, but no access: 403 with the reason.
    for (what, f) in [
        ("no role", Box::new(|c: &mut Value| c["custom:role"] = json!(null)) as Box<dyn Fn(&mut Value)>),
        ("unknown role", Box::new(|c: &mut Value| c["custom:role"] = json!("admin"))),
        ("no company", Box::new(|c: &mut Value| c["custom:company"] = json!(null))),
        ("access token", Box::new(|c: &mut Value| c["token_use"] = json!("access"))),
        ("unregistered company", Box::new(|c: &mut Value| c["custom:company"] = json!("initech"))),
    ] {
        let mut c = Issuer::claims(ACME, "viewer", "u");
        f(&mut c);
        let t = d.issuer.sign(&c);
        assert_eq!(d.get("/invoices", &t).await.status, 403, "{what}");
        assert_eq!(d.api("/api/invoices", &t).await.status, 403, "{what}");
    }

    // The sign-in: the issuer hands out a code for the challenge; the callback exchanges it
    // (with the verifier from the cookie) and sets the session cookie.
    let pkce = set.split(';').next().unwrap().to_string();
    d.issuer.codes.lock().unwrap().insert("code-1".into(), (q["code_challenge"].clone(), good.clone()));
    let cb = d.call("GET", &format!("/auth/callback?code=code-1&state={}", q["state"]), Auth::None, None, Some(&pkce)).await;
    assert_eq!(cb.status, 303, "{}", cb.text());
    assert_eq!(cb.location(), "/invoices?status=approved");
    let cookies: Vec<String> = cb.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = cookies.iter().find(|c| c.starts_with("ib_session=")).expect("session cookie");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let token = session.trim_start_matches("ib_session=").split(';').next().unwrap();
    assert_eq!(d.get("/invoices", token).await.status, 200);
    // A wrong state, no cookie, or a replayed code: refused.
    d.issuer.codes.lock().unwrap().insert("code-2".into(), (q["code_challenge"].clone(), good.clone()));
    assert_eq!(d.call("GET", "/auth/callback?code=code-2&state=wrong", Auth::None, None, Some(&pkce)).await.status, 400);
    assert_eq!(d.call("GET", &format!("/auth/callback?code=code-2&state={}", q["state"]), Auth::None, None, None).await.status, 400);
    assert_eq!(d.call("GET", &format!("/auth/callback?code=code-1&state={}", q["state"]), Auth::None, None, Some(&pkce)).await.status, 403);
    // Unknown routes are 404 with the headers too.
    let r = d.get("/nope", &good).await;
    assert_eq!(r.status, 404);
    assert_security_headers(&r);
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[tokio::test]
async fn another_companys_ids_are_missing_on_every_route() {
    let d = Dash::new().await;
    let acme = seed(&d.env, ACME, 3).await;
    let globex = seed(&d.env, GLOBEX, 3).await;
    // A globex rejection and vendor invoice too.
    let rej = RejectionRecord {
        company: GLOBEX.into(),
        content_sha256: "ab".repeat(32),
        source_key: "incoming/globex/bad.xml".into(),
        quarantine_key: format!("quarantine/globex/{}/bad.xml", "ab".repeat(32)),
        reason_key: format!("quarantine/globex/{}/reason.json", "ab".repeat(32)),
        received_at: invoice_domain::core::time::iso(chrono::Utc::now()),
        codes: vec!["malformed-xml".into()],
        errors: vec![Issue::new(Code::MalformedXml, "unclosed tag <Invoice>")],
        invoice_id: None,
        supplier: None,
        source: Default::default(),
    };
    assert!(d.env.repo.put_rejection(&rej).await.unwrap());
    let vinv = invoice_domain::vendor::records::VendorInvoice {
        order_id: "100045".into(),
        number: "100045".into(),
        status: invoice_domain::vendor::records::InvoiceState::Submitting,
        sent_by_integration: None,
        generated_file: "N/A".into(),
        integration_error: None,
        transaction_id: None,
        claim_id: "m1".into(),
        created_at: invoice_domain::core::time::iso(chrono::Utc::now()),
        updated_at: invoice_domain::core::time::iso(chrono::Utc::now()),
        request_body: None,
    };
    use invoice_domain::vendor::ports::VendorRepository;
    d.env.vendor_repo(GLOBEX).claim(&vinv).await.unwrap();

    let t = d.issuer.token(ACME, "approver");
    let csrf = d.csrf(&t);
    let gk = seg(&globex[0].invoice_key);
    let missing = seg("NetworkID:NOBODY#INV-9999");
    // Globex sees its own.
    let gt = d.issuer.token(GLOBEX, "viewer");
    assert_eq!(d.get(&format!("/invoices/{gk}"), &gt).await.status, 200);
    assert_eq!(d.get("/vendor-invoices/100045", &gt).await.status, 200);
    assert!(d.get("/vendor-invoices", &gt).await.text().contains("100045"), "listed by month on GSI3");
    let refused = d.get("/refused", &gt).await;
    assert!(refused.text().contains("unclosed tag"), "{}", refused.text());
    assert_eq!(d.get(&format!("/refused/{}/original", "ab".repeat(32)), &gt).await.status, 303);

    let form = format!("csrf={csrf}");
    let routes: Vec<(&str, String, Option<&str>)> = vec![
        ("GET", "/invoices/{}".into(), None),
        ("GET", "/invoices/{}/original".into(), None),
        ("GET", "/invoices/{}/pdf".into(), None),
        ("POST", "/invoices/{}/approve".into(), Some(form.as_str())),
        ("POST", "/invoices/{}/export".into(), Some(form.as_str())),
    ];
    for (method, pattern, body) in &routes {
        let theirs = d.call(method, &pattern.replace("{}", &gk), Auth::Cookie(&t), *body, None).await;
        let none = d.call(method, &pattern.replace("{}", &missing), Auth::Cookie(&t), *body, None).await;
        assert_eq!(theirs.status, 404, "{method} {pattern}: {}", theirs.text());
        assert_eq!((theirs.status, theirs.text()), (none.status, none.text()), "{method} {pattern}");
    }
    let theirs = d.api(&format!("/api/invoices/{gk}"), &t).await;
    let none = d.api(&format!("/api/invoices/{missing}"), &t).await;
    assert_eq!(theirs.status, 404);
    assert_eq!(theirs.body, none.body);
    for (theirs, none) in [
        ("/vendor-invoices/100045".to_string(), "/vendor-invoices/999999".to_string()),
        (format!("/refused/{}/original", "ab".repeat(32)), format!("/refused/{}/original", "cd".repeat(32))),
    ] {
        let a = d.get(&theirs, &t).await;
        let b = d.get(&none, &t).await;
        assert_eq!(a.status, 404, "{theirs}");
        assert_eq!(a.text(), b.text(), "{theirs}");
    }
    // Nothing of globex was changed, and acme's lists show only acme's.
    assert_eq!(d.env.repo.invoice(GLOBEX, &globex[0].invoice_key).await.unwrap().unwrap().review_status, None);
    let list = d.api("/api/invoices", &t).await.json();
    let ids: Vec<&str> = list["invoices"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), acme.len());
    assert!(d.get("/refused", &t).await.text().contains("Nothing refused"));
    assert!(!d.get("/vendor-invoices", &t).await.text().contains("100045"));
    // A company in the query is refused (400), never obeyed.
    assert_eq!(d.api("/api/invoices?company=globex", &t).await.status, 400);
}

#[tokio::test]
async fn filters_cursors_totals_and_csv() {
    let d = Dash::new().await;
    let all = seed(&d.env, ACME, 60).await;
    let t = d.issuer.token(ACME, "viewer");

    // Three pages of 25 / 25 / 10, newest first, each invoice once.
    let mut seen = Vec::new();
    let mut uri = "/api/invoices?size=25".to_string();
    let mut pages = 0;
    loop {
        let r = d.api(&uri, &t).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        seen.extend(j["invoices"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        pages += 1;
        match j["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/invoices?size=25&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all.iter().map(|h| h.invoice_key.clone()).collect::<Vec<_>>());
    // Oldest first is the reverse.
    let asc = d.api("/api/invoices?size=100&sort=date-asc", &t).await.json();
    assert_eq!(asc["invoices"][0]["id"], all[59].invoice_key.as_str());
    // By amount, largest first, over pages.
    let j = d.api("/api/invoices?size=7&sort=amount-desc", &t).await.json();
    assert_eq!(j["invoices"][0]["net"], "159.00");
    let c = j["next_cursor"].as_str().unwrap();
    let j2 = d.api(&format!("/api/invoices?size=7&sort=amount-desc&cursor={c}"), &t).await.json();
    assert_eq!(j2["invoices"][0]["net"], "152.00");

    // A cursor is bound to its filters and cannot be altered.
    let first = d.api("/api/invoices?size=5", &t).await.json();
    let c = first["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(d.api(&format!("/api/invoices?size=5&status=approved&cursor={c}"), &t).await.status, 400);
    let mut forged = c.clone();
    forged.insert(3, 'x');
    assert_eq!(d.api(&format!("/api/invoices?size=5&cursor={forged}"), &t).await.status, 400);
    // Another company's token cannot use it either.
    let gt = d.issuer.token(GLOBEX, "viewer");
    assert_eq!(d.api(&format!("/api/invoices?size=5&cursor={c}"), &gt).await.status, 400);

    // Filters.
    let count = |j: Value| j["invoices"].as_array().unwrap().len();
    assert_eq!(count(d.api("/api/invoices?size=100&supplier=SUP3", &t).await.json()), 12);
    assert_eq!(count(d.api("/api/invoices?size=100&supplier=Supplier%203", &t).await.json()), 12);
    assert_eq!(count(d.api("/api/invoices?size=100&invoice=INV-0042", &t).await.json()), 1);
    // A number's beginning finds every invoice it starts: INV-0040 … INV-0049.
    assert_eq!(count(d.api("/api/invoices?size=100&invoice=INV-004", &t).await.json()), 10);
    assert_eq!(count(d.api("/api/invoices?size=100&invoice=NV-0042", &t).await.json()), 0);
    assert_eq!(count(d.api("/api/invoices?size=100&po=PO-1", &t).await.json()), 20);
    assert_eq!(count(d.api("/api/invoices?size=100&channel=email", &t).await.json()), 30);
    assert_eq!(count(d.api("/api/invoices?size=100&status=to-process", &t).await.json()), 60);
    assert_eq!(count(d.api("/api/invoices?size=100&status=approved", &t).await.json()), 0);
    assert_eq!(count(d.api("/api/invoices?size=100&status=cancelled", &t).await.json()), 0);
    // A filtered listing over pages (filter expression + cursor).
    let p1 = d.api("/api/invoices?size=4&channel=email&supplier=SUP0", &t).await.json();
    assert_eq!(count(p1.clone()), 4);
    let c = p1["next_cursor"].as_str().unwrap();
    let p2 = d.api(&format!("/api/invoices?size=4&channel=email&supplier=SUP0&cursor={c}"), &t).await.json();
    assert_eq!(count(p2.clone()), 2, "{p2}");
    assert!(p2["next_cursor"].is_null());
    let from = &all[10].received_at[..10];
    let to = &all[3].received_at[..10];
    let ranged = d.api(&format!("/api/invoices?size=100&from={from}&to={to}"), &t).await.json();
    let n = count(ranged.clone());
    assert!((7..=10).contains(&n), "{n}");
    // Validation: a clear 400.
    for q in ["status=paid", "size=0", "from=2026-02-30", "sort=name", "channel=fax", "from=2020-01-01&to=2026-01-01", "bogus=1"] {
        let r = d.api(&format!("/api/invoices?{q}"), &t).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(r.json()["message"].as_str().unwrap().len() > 5);
        assert_eq!(d.get(&format!("/invoices?{q}"), &t).await.status, 400, "{q}");
    }

    // The page: totals per currency of the whole filtered set, a next link.
    let page = d.get("/invoices", &t).await;
    assert!(page.text().contains("Totals of the filtered invoices"));
    let html = d.get("/invoices/totals", &t).await.text();
    let eur: u32 = (0..60).filter(|i| i % 5 == 0).map(|i| 100 + i).sum();
    let usd: u32 = (0..60).filter(|i| i % 5 != 0).map(|i| 100 + i).sum();
    assert!(html.contains(&format!("{},{:03}.00\u{a0}EUR", eur / 1000, eur % 1000)), "EUR {eur}");
    assert!(html.contains(&format!("{},{:03}.00\u{a0}USD", usd / 1000, usd % 1000)), "USD {usd}");
    assert!(page.text().contains("rel=\"next\""));
    assert!(page.body.len() < 100 * 1024, "{} bytes", page.body.len());
    let full = d.api("/api/invoices/totals?channel=email", &t).await.json();
    assert_eq!(full["count"], 30);
    assert_eq!(full["capped"], false);
    assert!(d.get("/invoices/totals", &t).await.text().contains("EUR"));
    let empty = d.get("/invoices?invoice=NOPE", &t).await.text();
    assert!(empty.contains("No invoices here") && empty.contains("Widen the date range"), "{empty}");

    // CSV: one row per invoice (+ header), and per line.
    let csv = d.get("/invoices.csv?channel=email", &t).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 31);
    assert!(rows[0].starts_with("invoice_id,invoice_number,supplier"));
    assert!(rows[1].contains(",100.00,100.00"), "{}", rows[1]);
    let lines = d.get("/invoices.csv?lines=1&supplier=SUP1", &t).await.text();
    assert_eq!(lines.lines().count(), 13);
    assert!(lines.contains("Widget 1,W-1,2,EA,50.50,101.00"), "{lines}");
}

#[tokio::test]
async fn approvals_csrf_roles_and_races() {
    let d = Dash::new().await;
    let inv = seed(&d.env, ACME, 3).await;
    let key = seg(&inv[0].invoice_key);
    let approver = d.issuer.sign(&Issuer::claims(ACME, "approver", "alice"));
    let other = d.issuer.sign(&Issuer::claims(ACME, "approver", "bob"));
    let viewer = d.issuer.token(ACME, "viewer");
    let post = |t: &str, path: String, form: String| {
        let t = t.to_string();
        let d = &d;
        async move { d.call("POST", &path, Auth::Cookie(&t), Some(&form), None).await }
    };
    // CSRF missing / wrong / another session's → 403.
    assert_eq!(post(&approver, format!("/invoices/{key}/approve"), String::new()).await.status, 403);
    assert_eq!(post(&approver, format!("/invoices/{key}/approve"), "csrf=abc".into()).await.status, 403);
    assert_eq!(post(&approver, format!("/invoices/{key}/approve"), format!("csrf={}", d.csrf(&other))).await.status, 403);
    // A viewer cannot approve, even with a valid token.
    let r = post(&viewer, format!("/invoices/{key}/approve"), format!("csrf={}", d.csrf(&viewer))).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("viewer"));
    // A viewer sees no action buttons; an approver does.
    assert!(!d.get(&format!("/invoices/{key}"), &viewer).await.text().contains("/approve"));
    let page = d.get(&format!("/invoices/{key}"), &approver).await.text();
    assert!(page.contains(&format!("value=\"{}\"", d.csrf(&approver))), "csrf in the form");
    // Exporting before approving is refused and told.
    assert_eq!(post(&approver, format!("/invoices/{key}/export"), format!("csrf={}", d.csrf(&approver))).await.status, 409);

    // Two approvers at once: one approval, the other is told.
    let (a, b) = tokio::join!(
        post(&approver, format!("/invoices/{key}/approve"), format!("csrf={}", d.csrf(&approver))),
        post(&other, format!("/invoices/{key}/approve"), format!("csrf={}", d.csrf(&other)))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "{} / {}", a.text(), b.text());
    let loser = if a.status == 409 { &a } else { &b };
    assert!(loser.text().contains("already approved"), "{}", loser.text());
    let h = d.env.repo.invoice(ACME, &inv[0].invoice_key).await.unwrap().unwrap();
    assert_eq!(h.history.len(), 1);
    assert_eq!(h.review_status, Some(invoice_domain::invoice::review::ReviewState::Approved));
    // Then exported, recorded with the user and time, shown in the history and the filters.
    let r = post(&approver, format!("/invoices/{key}/export"), format!("csrf={}", d.csrf(&approver))).await;
    assert_eq!(r.status, 303);
    let h = d.env.repo.invoice(ACME, &inv[0].invoice_key).await.unwrap().unwrap();
    assert_eq!(h.history.iter().map(|e| e.by_email.clone().unwrap()).collect::<Vec<_>>().len(), 2);
    let page = d.get(&format!("/invoices/{key}?done=exported"), &viewer).await.text();
    assert!(page.contains("Marked exported.") && page.contains("Exported —") && page.contains("alice@acme.example"), "{page}");
    assert_eq!(post(&approver, format!("/invoices/{key}/export"), format!("csrf={}", d.csrf(&approver))).await.status, 409);
    let j = d.api("/api/invoices?status=exported", &viewer).await.json();
    assert_eq!(j["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(d.api("/api/invoices?status=to-process", &viewer).await.json()["invoices"].as_array().unwrap().len(), 2);
    let detail = d.api(&format!("/api/invoices/{key}"), &viewer).await.json();
    assert_eq!(detail["review_status"], "exported");
    assert_eq!(detail["lines"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn downloads_pdf_and_presigned_originals() {
    let d = Dash::new().await;
    let inv = seed(&d.env, ACME, 2).await;
    let t = d.issuer.token(ACME, "viewer");
    // The original: a presigned GET (≤ 5 minutes), never proxied.
    let r = d.get(&format!("/invoices/{}/original", seg(&inv[0].invoice_key)), &t).await;
    assert_eq!(r.status, 303);
    let loc = r.location();
    assert!(loc.contains(&d.env.bucket) && loc.contains("X-Amz-Expires=300") && loc.contains("X-Amz-Signature"), "{loc}");
    // No supplier PDF: rendered from the data, with its line and totals.
    let r = d.get(&format!("/invoices/{}/pdf", seg(&inv[1].invoice_key)), &t).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert!(r.body.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&r.body).unwrap();
    let text = doc.extract_text(&[1]).unwrap();
    assert!(text.contains("INV-0001") && text.contains("Widget 1") && text.contains("101.00"), "{text}");
    // With the supplier's PDF linked: that one, presigned.
    d.env
        .ddb
        .update_item()
        .table_name(&d.env.table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::invoice_pk(ACME, &inv[1].invoice_key)))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("#HEADER".into()))
        .update_expression("SET documents = :d")
        .expression_attribute_values(
            ":d",
            aws_sdk_dynamodb::types::AttributeValue::L(vec![aws_sdk_dynamodb::types::AttributeValue::S("documents/acme/abc.pdf".into())]),
        )
        .send()
        .await
        .unwrap();
    let r = d.get(&format!("/invoices/{}/pdf", seg(&inv[1].invoice_key)), &t).await;
    assert_eq!(r.status, 303);
    assert!(r.location().contains("documents/acme/abc.pdf"), "{}", r.location());
    // A 200-line invoice renders every line (several pages) quickly.
    let mut h = inv[0].clone();
    h.invoice_id = "BIG".into();
    let lines: Vec<LineRecord> = (1..=200)
        .map(|n| LineRecord {
            invoice_key: h.invoice_key.clone(),
            line_number: n,
            kind: "goods".into(),
            po_number: None,
            supplier_order_id: None,
            reference_line_number: None,
            quantity: Some("1".into()),
            unit_of_measure: Some("EA".into()),
            unit_price: Some("1.00".into()),
            subtotal: Some("1.00".into()),
            tax: None,
            currency: "USD".into(),
            description: Some(format!("Line item {n}")),
            supplier_part_id: None,
            category: "office".into(),
            classification: None,
            sold_by: None,
            amazon: None,
        })
        .collect();
    let started = std::time::Instant::now();
    let pdf = dashboard::pdf::render(&h, &lines, "Acme Corp", invoice_domain::company::Locale::FrFr).unwrap();
    let took = started.elapsed();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let all_text = doc.extract_text(&pages).unwrap();
    assert!(all_text.contains("Line item 1") && all_text.contains("Line item 200"), "every line");
    eprintln!("200-line PDF: {} pages, {} bytes, rendered in {took:?} (debug build)", pages.len(), pdf.len());
    // The journal export (CSV) for a range.
    let r = d.get("/journal/export?from=2026-01-01&to=2026-12-31&format=csv", &t).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(d.get("/journal/export?from=2026-13-01&to=2026-12-31", &t).await.status, 400);
}

#[tokio::test]
async fn cancelled_and_exception_statuses() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use invoice_domain::matching::{MatchCode, MatchException, MatchOutcome, MatchStatus};
    let d = Dash::new().await;
    let inv = seed(&d.env, ACME, 4).await;
    let t = d.issuer.token(ACME, "approver");
    // inv[1] cancelled by the supplier; inv[2] a match exception (as the matching records it).
    let at = invoice_domain::core::time::iso(chrono::Utc::now());
    d.env.repo.cancel(&inv[1], &"f".repeat(64), &at, "archive/acme/cancel.xml", &[]).await.unwrap();
    let outcome = MatchOutcome {
        status: MatchStatus::Exception,
        po_number: Some("PO-2".into()),
        exceptions: vec![MatchException {
            code: MatchCode::PriceVariance,
            line: Some("1".into()),
            expected: Some("50.00 USD".into()),
            found: Some("51.00 USD".into()),
            message: "invoice line 1: unit price 51.00 USD, the PO says 50.00 USD".into(),
        }],
        lines: vec![],
    };
    d.env
        .ddb
        .update_item()
        .table_name(&d.env.table)
        .key("PK", AttributeValue::S(invoice_adapters::keys::invoice_pk(ACME, &inv[2].invoice_key)))
        .key("SK", AttributeValue::S("#HEADER".into()))
        .update_expression("SET matching = :m, GSI1PK = :pk, GSI1SK = :sk")
        .expression_attribute_values(":m", AttributeValue::M(invoice_adapters::table::to_item(&outcome).unwrap()))
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(invoice_adapters::keys::match_status_pk(ACME, "Exception", &inv[2].received_at[..7])),
        )
        .expression_attribute_values(":sk", AttributeValue::S(format!("{}#{}", inv[2].received_at, inv[2].invoice_key)))
        .send()
        .await
        .unwrap();
    let ids = |j: Value| j["invoices"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(d.api("/api/invoices?status=cancelled", &t).await.json()), vec![inv[1].invoice_key.clone()]);
    assert_eq!(ids(d.api("/api/invoices?status=exception", &t).await.json()), vec![inv[2].invoice_key.clone()]);
    // Any status: all four (Valid and Cancelled partitions merged); To process: not the cancelled one.
    assert_eq!(ids(d.api("/api/invoices", &t).await.json()).len(), 4);
    assert_eq!(ids(d.api("/api/invoices?status=to-process", &t).await.json()).len(), 3);
    // The page shows the exception in words; a cancelled invoice cannot be approved.
    let page = d.get(&format!("/invoices/{}", seg(&inv[2].invoice_key)), &t).await.text();
    assert!(page.contains("price-variance") && page.contains("the PO says 50.00 USD"), "{page}");
    let r = d
        .call(
            "POST",
            &format!("/invoices/{}/approve", seg(&inv[1].invoice_key)),
            Auth::Cookie(&t),
            Some(&format!("csrf={}", d.csrf(&t))),
            None,
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.text().contains("cancelled"), "{}", r.text());
    let page = d.get(&format!("/invoices/{}", seg(&inv[1].invoice_key)), &t).await.text();
    assert!(page.contains("Cancelled by the supplier") && !page.contains("/approve"), "{page}");
}

/// The local stand-in issuer (`infra/issuer`, as the local stack runs it) in front of the
/// dashboard: its sign-in page lists each company's test users, the code comes back to the
/// callback with the PKCE verifier, the session works, and the user sees their company only.
#[tokio::test]
async fn sign_in_through_the_local_issuer() {
    let env = Env::new().await;
    seed(&env, GLOBEX, 1).await;
    let (base, _issuer) = local_issuer::start(|c| c).await;
    let mut vars = HashMap::new();
    for (k, v) in [
        ("TABLE_NAME", env.table.clone()),
        ("BUCKET_NAME", env.bucket.clone()),
        ("AUTH_ISSUER", format!("{base}/{}", local_issuer::DEFAULT_POOL_ID)),
        ("AUTH_JWKS_URL", format!("{base}/.well-known/jwks.json")),
        ("AUTH_AUTHORIZE_URL", format!("{base}/oauth2/authorize")),
        ("AUTH_TOKEN_URL", format!("{base}/oauth2/token")),
        ("AUTH_CLIENT_ID", local_issuer::DEFAULT_CLIENT_ID.to_string()),
        ("DASHBOARD_BASE_URL", "http://127.0.0.1:9".to_string()),
        ("DASHBOARD_SECRET", SECRET.to_string()),
    ] {
        vars.insert(k.to_string(), v);
    }
    let config = dashboard::Config::from_env_map(&vars).unwrap();
    let router = dashboard::router(dashboard::App::new(config, env.s3.clone(), env.ddb.clone()));
    let call = |req: Request<Body>| {
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await.unwrap();
            let status = res.status();
            let headers = res.headers().clone();
            let body = axum::body::to_bytes(res.into_body(), 4 << 20).await.unwrap();
            (status, headers, String::from_utf8_lossy(&body).into_owned())
        }
    };
    // Not signed in: to the issuer's sign-in, with PKCE.
    let (status, headers, _) = call(Request::get("/invoices").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 303);
    let authorize = headers["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&format!("{base}/oauth2/authorize?")) && authorize.contains("code_challenge_method=S256"), "{authorize}");
    let pkce = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&authorize).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("gina") && page.contains("alice"), "the test users of each company: {page}");
    // Gina of globex signs in; the issuer sends the code back to the callback.
    let query = authorize.split_once('?').unwrap().1;
    let form = format!("{query}&username=gina&password=gina-password");
    let res = http
        .post(format!("{base}/oauth2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let back = res.headers()["location"].to_str().unwrap().to_string();
    let callback = &back[back.find("/auth/callback").expect("to the dashboard's callback")..];
    let (status, headers, body) = call(Request::get(callback).header("cookie", &pkce).body(Body::empty()).unwrap()).await;
    assert_eq!(status, 303, "{body}");
    let session = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("ib_session="))
        .expect("a session cookie");
    let (status, _, page) = call(Request::get("/invoices").header("cookie", &session).body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("globex") || page.contains("Globex"), "{page}");
    // A wrong password gets no code.
    let res = http
        .post(format!("{base}/oauth2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{query}&username=gina&password=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Incorrect username or password"));
}

/// Server time of the router for a company with 10,000 invoices over ~3 months (DynamoDB Local):
/// p50/p95 of 200 requests each for the first page, a filtered page and an invoice page.
/// `cargo test -p integration-tests --test dashboard_local perf -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn perf_10k_invoices() {
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
    let d = Dash::new().await;
    let template = seed(&d.env, ACME, 1).await.remove(0);
    let now = chrono::Utc::now();
    let started = std::time::Instant::now();
    let mut batch = Vec::new();
    for i in 1..10_000usize {
        let mut h = template.clone();
        h.invoice_id = format!("P-{i:05}");
        h.invoice_key = format!("{}#P-{i:05}", h.supplier);
        h.received_at = invoice_domain::core::time::iso(now - chrono::Duration::minutes(13 * i as i64));
        h.net = format!("{}.{:02}", 10 + i % 900, i % 100);
        h.source.channel = if i % 3 == 0 { Channel::Email } else { Channel::Https };
        let mut item = invoice_adapters::table::to_item(&h).unwrap();
        let s = |v: String| AttributeValue::S(v);
        item.insert("PK".into(), s(invoice_adapters::keys::invoice_pk(ACME, &h.invoice_key)));
        item.insert("SK".into(), s("#HEADER".into()));
        item.insert("company".into(), s(ACME.into()));
        item.insert("type".into(), s("invoice".into()));
        item.insert("GSI2PK".into(), s(invoice_adapters::keys::status_pk(ACME, "Valid", &h.received_at[..7])));
        item.insert("GSI2SK".into(), s(format!("{}#{}", h.received_at, h.invoice_key)));
        batch.push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build());
        if batch.len() == 25 || i == 9_999 {
            let mut pending = std::mem::take(&mut batch);
            while !pending.is_empty() {
                let out = d.env.ddb.batch_write_item().request_items(&d.env.table, pending).send().await.unwrap();
                pending = out.unprocessed_items.and_then(|mut m| m.remove(&d.env.table)).unwrap_or_default();
            }
        }
    }
    eprintln!("seeded 10,000 invoices in {:?}", started.elapsed());
    let t = d.issuer.token(ACME, "viewer");
    let key = seg(&template.invoice_key);
    for (what, uri) in [
        ("first page", "/invoices".to_string()),
        ("filtered page", "/invoices?channel=email&status=to-process".to_string()),
        ("first page, API", "/api/invoices".to_string()),
        ("filtered page, API", "/api/invoices?channel=email&status=to-process&sort=date-asc".to_string()),
        ("invoice page", format!("/invoices/{key}")),
        ("full totals, API", "/api/invoices/totals".to_string()),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        let n = if uri.contains("totals") { 20 } else { 200 };
        for _ in 0..n {
            let s = std::time::Instant::now();
            let r = if uri.starts_with("/api/") { d.api(&uri, &t).await } else { d.get(&uri, &t).await };
            times.push(s.elapsed());
            assert_eq!(r.status, 200, "{uri}: {}", r.text());
            bytes = r.body.len();
        }
        times.sort();
        eprintln!("{what:<20} n={n} p50 {:>7.1?} p95 {:>7.1?} ({bytes} bytes)", times[n / 2], times[n * 95 / 100]);
    }
}

/// A bundled sample booked by the real ingest handler: its page in the company's locale (fr-FR
/// after `set_locale`), its journal entries, the journal export of its date, its original.
#[tokio::test]
async fn a_booked_sample_in_the_company_locale() {
    let d = Dash::new().await;
    d.env.put("incoming/acme/s01.xml", fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    ingest_cxml::handle(&d.env.deps(None), d.env.event(&["incoming/acme/s01.xml"])).await.unwrap();
    let t = d.issuer.token(ACME, "viewer");
    let list = d.api("/api/invoices?from=2000-01-01&to=2001-12-31", &t).await;
    assert_eq!(list.status, 200);
    // Received as the event says (2025-11-20): found with a range that covers it.
    let j = d.api("/api/invoices?from=2025-01-01", &t).await.json();
    let inv = &j["invoices"][0];
    let key = inv["id"].as_str().unwrap().to_string();
    let h = d.env.repo.invoice(ACME, &key).await.unwrap().unwrap();
    let en = d.get(&format!("/invoices/{}", seg(&key)), &t).await.text();
    assert!(en.contains(&dashboard::format::money(&h.net, &h.currency, invoice_domain::company::Locale::EnUs)), "{en}");
    assert!(en.contains("Journal entries") && en.contains("booking"), "entries shown");
    d.env.companies.set_locale(ACME, invoice_domain::company::Locale::FrFr).await.unwrap();
    let fr = d.get(&format!("/invoices/{}", seg(&key)), &t).await.text();
    let net_fr = dashboard::format::money(&h.net, &h.currency, invoice_domain::company::Locale::FrFr);
    assert!(fr.contains(&net_fr), "{net_fr} in {fr}");
    assert!(fr.contains(&dashboard::format::date(&h.invoice_date, invoice_domain::company::Locale::FrFr)));
    // The journal export of the invoice's date has its lines.
    let r = d.get(&format!("/journal/export?from={0}&to={0}&format=csv", h.invoice_date), &t).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().lines().count() > 2 && r.text().contains(&h.invoice_id), "{}", r.text());
    // The original is the archived cXML, presigned.
    let r = d.get(&format!("/invoices/{}/original", seg(&key)), &t).await;
    assert_eq!(r.status, 303);
    assert!(r.location().contains(&h.document_key.replace(':', "%3A")) || r.location().contains("archive/acme/"), "{}", r.location());
}

/// Approved invoices marked exported together from the list (approvers, CSRF, isolation).
#[tokio::test]
async fn mark_selected_exported() {
    let d = Dash::new().await;
    let inv = seed(&d.env, ACME, 4).await;
    let g = seed(&d.env, GLOBEX, 1).await;
    let t = d.issuer.token(ACME, "approver");
    let csrf = d.csrf(&t);
    for h in &inv[..2] {
        let r = d
            .call("POST", &format!("/invoices/{}/approve", seg(&h.invoice_key)), Auth::Cookie(&t), Some(&format!("csrf={csrf}")), None)
            .await;
        assert_eq!(r.status, 303);
    }
    let page = d.get("/invoices?status=approved", &t).await.text();
    assert!(page.contains("action=\"/invoices/export\"") && page.contains("type=\"checkbox\""), "{page}");
    let form = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("id", inv[0].invoice_key.as_str()),
        ("id", inv[1].invoice_key.as_str()),
        ("id", inv[2].invoice_key.as_str()),
        ("id", g[0].invoice_key.as_str()),
    ])
    .unwrap();
    let viewer = d.issuer.token(ACME, "viewer");
    let r = d.call("POST", "/invoices/export", Auth::Cookie(&viewer), Some(&form.replace(&csrf, &d.csrf(&viewer))), None).await;
    assert_eq!(r.status, 403);
    assert_eq!(d.call("POST", "/invoices/export", Auth::Cookie(&t), Some(&form.replace(&csrf, "x")), None).await.status, 403);
    let r = d.call("POST", "/invoices/export", Auth::Cookie(&t), Some(&form), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(text.contains("2 invoices marked exported"), "{text}");
    assert!(text.contains("INV-0002: the invoice is not approved yet"), "{text}");
    assert!(text.contains("no such invoice"), "globex's is missing: {text}");
    let j = d.api("/api/invoices?status=exported", &t).await.json();
    assert_eq!(j["invoices"].as_array().unwrap().len(), 2);
    assert_eq!(d.env.repo.invoice(GLOBEX, &g[0].invoice_key).await.unwrap().unwrap().review_status, None);
}
