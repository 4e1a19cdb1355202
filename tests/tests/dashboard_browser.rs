//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver) against the real `dashboard` binary under `cargo lambda watch` (at its
//! function URL), the stand-in issuer (`infra/issuer`), DynamoDB Local and moto. Signs in as a test user, filters,
//! opens an invoice, fetches its PDF and the CSV with the browser's session, approves, fails to
//! open another company's invoice, and saves screenshots under `target/screenshots/`.
//! Skipped with a message when `chromium`/`chromedriver` are not installed (infra/install.sh
//! installs them).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use integration_tests::{fixture, free_port, repo_root, start_watch_at, wait_until_ok, Env, ACME, GLOBEX};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_in_filters_opens_downloads_approves_and_cannot_see_another_company() {
    let (chromium, chromedriver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
    if !std::path::Path::new(chromium).exists() || !std::path::Path::new(chromedriver).exists() {
        eprintln!(
            "SKIPPED: {chromium} / {chromedriver} not installed (apt-get install chromium chromium-driver; infra/install.sh does it)"
        );
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let env = Env::new().await;
    // acme's invoice and globex's: booked by the real ingest handler.
    env.put("incoming/acme/s01.xml", fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).await;
    ingest_cxml::handle(&env.deps(None), env.event(&["incoming/acme/s01.xml"])).await.unwrap();
    // globex's own invoice (its number is globex's only).
    {
        use invoice_domain::invoice::ports::InvoiceRepository;
        let mut h = env.repo.invoice(ACME, "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().expect("acme's invoice booked");
        h.company = GLOBEX.into();
        h.invoice_id = "1CW9RHVRKABC".into();
        h.invoice_key = "NetworkID:AN01011737571#1CW9RHVRKABC".into();
        env.repo.claim(&h).await.unwrap();
        env.repo.mark_valid(&h).await.unwrap();
    }

    let (issuer, _app) = local_issuer::start(|c| c).await;
    // The dashboard's function URL under the watch server (its port chosen first: the
    // function must know its own URL for the sign-in's redirect URI).
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/lambda-url/dashboard");
    let vars = [
        ("TABLE_NAME", env.table.clone()),
        ("BUCKET_NAME", env.bucket.clone()),
        ("AUTH_ISSUER", format!("{issuer}/{}", local_issuer::DEFAULT_POOL_ID)),
        ("AUTH_JWKS_URL", format!("{issuer}/.well-known/jwks.json")),
        ("AUTH_AUTHORIZE_URL", format!("{issuer}/oauth2/authorize")),
        ("AUTH_TOKEN_URL", format!("{issuer}/oauth2/token")),
        ("AUTH_CLIENT_ID", local_issuer::DEFAULT_CLIENT_ID.to_string()),
        ("DASHBOARD_BASE_URL", base.clone()),
        ("DASHBOARD_SECRET", "browser-test-secret-0123456789abcdefgh".to_string()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _watch = start_watch_at(port, &vars, 2);
    wait_until_ok(&format!("{base}/static/app.css")).await;

    let port = free_port();
    let _driver = Driver(
        Command::new(chromedriver).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = std::env::temp_dir().join(integration_tests::unique("chromium-profile"));
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
        }
    }))
    .unwrap();
    let c = ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("webdriver session");
    let shots = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = |name: &'static str| {
        let c = c.clone();
        let path = shots.join(name);
        async move {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(&path, png).unwrap();
        }
    };

    // Signed out: the dashboard sends the browser to the issuer's sign-in page.
    c.goto(&format!("{base}/invoices?from=2025-01-01")).await.unwrap();
    c.wait().for_element(Locator::Css("input[name=username]")).await.unwrap();
    shot("1-sign-in.png").await;
    assert!(c.source().await.unwrap().contains("alice"), "the test users are listed");
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("alice").await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("alice-password").await.unwrap();
    c.find(Locator::Css("form button[type=submit], form input[type=submit]")).await.unwrap().click().await.unwrap();

    // Back on the dashboard, signed in as acme's approver: acme's invoice, not globex's.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !c.current_url().await.unwrap().as_str().starts_with(&base) {
        assert!(Instant::now() < deadline, "not back on the dashboard: {}", c.current_url().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.wait().for_element(Locator::Css("main")).await.unwrap();
    let list = c.source().await.unwrap();
    assert!(list.contains("1QX7ZK4MPL2T"), "acme's invoice listed: {list}");
    assert!(!list.contains("1CW9RHVRKABC"), "globex's invoice not listed");
    shot("2-invoices.png").await;

    // Filter by invoice number through the form: a number that is not there, then acme's.
    c.find(Locator::Css("input[name=invoice]")).await.unwrap().send_keys("NO-SUCH-NUMBER").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#empty-h")).await.unwrap();
    assert!(!c.source().await.unwrap().contains(">1QX7ZK4MPL2T<"), "filtered out");
    assert!(c.current_url().await.unwrap().as_str().contains("invoice=NO-SUCH-NUMBER"));
    let field = c.find(Locator::Css("input[name=invoice]")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("1QX7").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::LinkText("1QX7ZK4MPL2T")).await.unwrap();

    // Open it.
    c.find(Locator::LinkText("1QX7ZK4MPL2T")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("h1")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("190.44") && page.contains("Journal entries"), "the invoice with its totals and entries");
    shot("3-invoice.png").await;
    let invoice_url = c.current_url().await.unwrap().to_string();

    // The PDF and the CSV, fetched with the browser's own session cookie.
    let cookie = c.get_named_cookie("ib_session").await.expect("session cookie");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(5)).build().unwrap();
    let pdf = http.get(format!("{invoice_url}/pdf")).header("cookie", format!("ib_session={}", cookie.value())).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    let pdf = pdf.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let text = lopdf::Document::load_mem(&pdf).unwrap().extract_text(&[1]).unwrap();
    assert!(text.contains("1QX7ZK4MPL2T") && text.contains("190.44"), "the invoice's number and net amount in its PDF: {text}");
    let csv = http
        .get(format!("{base}/invoices.csv?from=2025-01-01"))
        .header("cookie", format!("ib_session={}", cookie.value()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let head = rows.headers().unwrap().clone();
    assert_eq!(&head[0], "invoice_id", "a header row: {csv}");
    let recs: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 1, "acme's one invoice, not globex's: {csv}");
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    assert_eq!(&recs[0][col("invoice_number")], "1QX7ZK4MPL2T");
    assert_eq!(&recs[0][col("net")], "190.44", "a plain decimal");
    assert_eq!(&recs[0][col("currency")], "USD");

    // Approve it (a POST form with its CSRF token).
    c.find(Locator::Css("form[action$='/approve'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("main")).await.unwrap();
    let after = c.source().await.unwrap();
    assert!(after.contains("Approved") || after.contains("approved"), "approved and shown in its history");
    shot("4-approved.png").await;

    // globex's invoice, typed into the address bar: not found, like a missing one.
    let globex_key = "NetworkID:AN01011737571#1CW9RHVRKABC";
    assert!(env.repo.invoice(GLOBEX, globex_key).await.unwrap().is_some(), "globex's invoice is booked");
    assert!(env.repo.invoice(ACME, globex_key).await.unwrap().is_none());
    c.goto(&format!("{base}/invoices/{}", dashboard::pages::seg(globex_key))).await.unwrap();
    let missing = c.source().await.unwrap();
    assert!(missing.contains("<h1>Not found</h1>"), "{missing}");
    assert!(!missing.contains("1CW9RHVRKABC") && !missing.contains("190.44"), "nothing of it shown: {missing}");
    shot("5-other-company.png").await;
    c.close().await.unwrap();
    assert!(env.repo.invoice(ACME, "NetworkID:AN01011737571#1QX7ZK4MPL2T").await.unwrap().is_some());
}
