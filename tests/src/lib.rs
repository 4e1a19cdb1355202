//! Test support for integration tests against the local stack (DynamoDB Local + moto).
//!
//! If `AWS_ENDPOINT_URL_DYNAMODB` is not set, the stack is started with `infra/stack.sh start`
//! (a no-op when it already runs) and its env file is loaded into this process, so plain
//! `cargo test` works. Every test gets its own table and bucket.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use aws_lambda_events::event::s3::S3Event;
use invoice_adapters::companies::{Created, DynamoCompanies};
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::s3::{ensure_bucket, object_created};
use invoice_adapters::secrets::{AppCredentials, Secrets};
use invoice_adapters::table::ensure_table;
use invoice_domain::company::{Company, ConnectionStatus, VendorConnection};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures").join(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

static STACK: Once = Once::new();

/// Makes sure the local stack runs and its endpoints are in this process's environment.
pub fn ensure_stack() {
    STACK.call_once(|| {
        if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok() {
            return;
        }
        let root = repo_root();
        let status = std::process::Command::new("bash")
            .arg(root.join("infra/stack.sh"))
            .arg("start")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run infra/stack.sh start");
        assert!(status.success(), "infra/stack.sh start failed");
        load_env_file(&root.join(".stack/run/env"));
    });
}

fn load_env_file(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for line in text.lines() {
        let line = line.trim().trim_start_matches("export ").trim();
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim_matches('"').trim_matches('\'');
            // Called once (guarded by `Once`) before the SDK reads the environment.
            std::env::set_var(k, v);
        }
    }
}

/// Every month a test's records can fall in (the status index is per company and month),
/// newest first: from now back to January 2024.
pub fn all_months() -> Vec<String> {
    let now = invoice_domain::core::time::iso(chrono::Utc::now());
    invoice_domain::invoice::records::months_newest_first(&now, "2024-01", 240)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique lowercase name for a table or bucket.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000;
    format!("{prefix}-{}-{t}-{n}", std::process::id())
}

/// A fresh table and bucket on the local stack, with clients.
pub struct Env {
    pub table: String,
    pub bucket: String,
    pub s3: aws_sdk_s3::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    pub repo: DynamoRepo,
    pub companies: DynamoCompanies,
    /// Company secrets of this test only (a unique prefix in the shared Secrets Manager).
    pub secrets: Secrets,
}

/// The company every test table has: it registered the `To` identities of all the bundled
/// samples, so a sample dropped straight under `incoming/` is acme's.
pub const ACME: &str = "acme";
pub const ACME_IDENTITIES: [&str; 7] = [
    "NetworkID:AN12345678901",
    "NetworkID:AN99887766554",
    "DUNS:Northwind",
    "NetworkID:AN02004455667",
    "NetworkID:NORTHWIND",
    "BuyerNumber:NW-AP",
    "NetworkID:AN01000000001",
];
/// A second company with no identity (documents reach it by its prefix).
pub const GLOBEX: &str = "globex";

impl Env {
    pub async fn new() -> Env {
        ensure_stack();
        let conf = invoice_adapters::sdk_config().await;
        let s3 = invoice_adapters::s3_client(&conf);
        let ddb = invoice_adapters::dynamodb_client(&conf);
        let table = unique("invoices");
        let bucket = unique("docs");
        ensure_table(&ddb, &table).await.expect("create table");
        ensure_bucket(&s3, &bucket).await.expect("create bucket");
        let repo = DynamoRepo::new(ddb.clone(), table.clone());
        let companies = DynamoCompanies::new(ddb.clone(), table.clone());
        let secrets = Secrets::new(aws_sdk_secretsmanager::Client::new(&conf), format!("{}/", unique("test-companies")));
        let env = Env { table, bucket, s3, ddb, repo, companies, secrets };
        let ids: Vec<String> = ACME_IDENTITIES.iter().map(|s| s.to_string()).collect();
        env.create_company(ACME, "Acme Corp", &ids).await;
        env.create_company(GLOBEX, "Globex Ltd", &[]).await;
        env
    }

    pub async fn create_company(&self, id: &str, name: &str, identities: &[String]) -> Company {
        let c = Company::new(id, name, identities, "2025-01-01T00:00:00.000Z").expect("valid company");
        let r = self.companies.create(&c).await.expect("create company");
        assert!(matches!(r, Created::Created | Created::AlreadyExists), "{r:?}");
        c
    }

    /// Connects a company's vendor account: its refresh token in (this test's) Secrets Manager.
    pub async fn connect_vendor(&self, company: &str, refresh_token: &str) {
        let secret_id = self.secrets.put_refresh_token(company, refresh_token).await.expect("store refresh token");
        let conn = VendorConnection {
            secret_id,
            connected_at: "2025-01-01T00:00:00.000Z".into(),
            status: ConnectionStatus::Connected,
            status_reason: None,
            status_at: None,
        };
        self.companies.set_vendor_connection(company, &conn).await.expect("set vendor connection");
    }

    /// Connects a company's Amazon Business account (NA): its refresh token in this test's
    /// Secrets Manager.
    pub async fn connect_business(&self, company: &str, refresh_token: &str) {
        let secret_id = self.secrets.put_business_token(company, refresh_token).await.expect("store refresh token");
        let conn = invoice_domain::company::BusinessConnection {
            region: invoice_domain::company::BusinessRegion::Na,
            secret_id,
            connected_at: "2025-01-01T00:00:00.000Z".into(),
            status: ConnectionStatus::Connected,
            status_reason: None,
            status_at: None,
            import: invoice_domain::import::ImportSettings { auto_import: true, ..Default::default() },
        };
        self.companies.set_business_connection(company, &conn).await.expect("set business connection");
    }

    /// The real tenancy for Amazon Business: clients reach the emulator at `base`, invoices
    /// are read back from this test's bucket.
    pub fn buyers(&self, base: &str) -> invoice_wiring::Tenancy {
        let mut cfg = emulator_config(base);
        cfg.backoff_base = std::time::Duration::from_millis(5);
        let mut t = self.tenancy(cfg);
        t.business_endpoint = Some(base.to_string());
        t.documents = Some(invoice_adapters::s3::S3Store::new(self.s3.clone(), self.bucket.clone(), 50 * 1024 * 1024));
        t
    }

    /// The real tenancy (companies in DynamoDB Local, tokens in moto's Secrets Manager) with
    /// SP-API clients configured by `spapi` and the emulator's application credentials.
    pub fn tenancy(&self, spapi: invoice_spapi::Config) -> invoice_wiring::Tenancy {
        let app = AppCredentials {
            client_id: spapi_emulator::DEFAULT_CLIENT_ID.into(),
            client_secret: spapi_emulator::DEFAULT_CLIENT_SECRET.into(),
        };
        invoice_wiring::Tenancy::new(self.ddb.clone(), self.table.clone(), self.secrets.clone(), app, spapi)
    }

    /// acme's vendor repository.
    pub fn vendor_repo(&self, company: &str) -> invoice_adapters::vendor::DynamoVendorRepo {
        invoice_adapters::vendor::DynamoVendorRepo::new(self.ddb.clone(), self.table.clone(), company)
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) {
        self.s3.put_object().bucket(&self.bucket).key(key).body(body.into()).send().await.expect("put object");
    }

    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => Some(o.body.collect().await.unwrap().into_bytes().to_vec()),
            Err(_) => None,
        }
    }

    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let out = self.s3.list_objects_v2().bucket(&self.bucket).prefix(prefix).send().await.unwrap();
        out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
    }

    /// Every item of one of a company's invoice partitions (header, lines, entries, references).
    pub async fn partition_len(&self, company: &str, invoice_key: &str) -> usize {
        let out = self
            .ddb
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(invoice_adapters::keys::invoice_pk(company, invoice_key)),
            )
            .send()
            .await
            .unwrap();
        out.count() as usize
    }

    pub fn deps(&self, max_bytes: Option<usize>) -> ingest_cxml::Deps {
        let mut env = std::collections::HashMap::new();
        env.insert("TABLE_NAME".to_string(), self.table.clone());
        if let Some(m) = max_bytes {
            env.insert("MAX_DOCUMENT_BYTES".to_string(), m.to_string());
        }
        ingest_cxml::Deps {
            s3: self.s3.clone(),
            repo: self.repo.clone(),
            companies: self.companies.clone(),
            config: ingest_cxml::Config::from_env_map(&env).unwrap(),
        }
    }

    /// The mail handler's dependencies on this test's table (limits from `extra` env entries).
    pub fn mail_deps(&self, extra: &[(&str, &str)]) -> ingest_mail::Deps {
        let mut env = std::collections::HashMap::new();
        env.insert("TABLE_NAME".to_string(), self.table.clone());
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        ingest_mail::Deps {
            s3: self.s3.clone(),
            repo: self.repo.clone(),
            companies: self.companies.clone(),
            config: ingest_mail::Config::from_env_map(&env).unwrap(),
        }
    }

    /// acme's e-mail channel as the mail tests use it: `invoices@acme.example`, senders from
    /// northwind.example and amazon.com.
    pub async fn acme_mail(&self, gray_passes: bool) {
        let settings = invoice_domain::company::MailSettings {
            addresses: vec!["invoices@acme.example".into()],
            allow: vec!["northwind.example".into(), "amazon.com".into()],
            gray_passes,
        };
        self.companies.set_mail(ACME, &settings).await.expect("set mail").expect("address free");
    }

    /// An S3 ObjectCreated event as S3 sends it (keys URL-encoded, '+' for spaces).
    pub fn event(&self, keys: &[&str]) -> S3Event {
        s3_event(&self.bucket, keys)
    }
}

/// An S3 ObjectCreated event as S3 sends it (keys URL-encoded, '+' for spaces), built from the
/// aws_lambda_events types (non-exhaustive: from their defaults).
pub fn s3_event(bucket: &str, keys: &[&str]) -> S3Event {
    let mut ev = S3Event::default();
    for (i, k) in keys.iter().enumerate() {
        let at = chrono::DateTime::parse_from_rfc3339(&format!("2025-11-20T10:00:{:02}.000Z", i % 60)).unwrap().to_utc();
        ev.records.push(object_created(bucket, k, 1, i, at));
    }
    ev
}

// ---------------------------------------------------------------------------------------------
// Vendor side: the SP-API emulator in process and order bundles in the table.

/// Starts an SP-API emulator (the real HTTP server) on a free loopback port; its base URL.
pub async fn start_emulator(cfg: spapi_emulator::Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind emulator");
    let base = format!("http://{}", listener.local_addr().expect("emulator address"));
    tokio::spawn(spapi_emulator::serve(listener, spapi_emulator::App::new(cfg)));
    base
}

/// SP-API client settings pointing at an emulator (callers tune backoff and attempts).
pub fn emulator_config(base: &str) -> invoice_spapi::Config {
    let mut c = invoice_spapi::Config::for_region("na").expect("na region");
    c.endpoint = base.to_string();
    c.lwa_endpoint = format!("{base}/auth/o2/token");
    c
}

/// The LWA credentials every emulator accepts by default.
pub fn emulator_credentials() -> invoice_spapi::Credentials {
    invoice_spapi::Credentials {
        client_id: spapi_emulator::DEFAULT_CLIENT_ID.into(),
        client_secret: spapi_emulator::DEFAULT_CLIENT_SECRET.into(),
        refresh_token: spapi_emulator::DEFAULT_REFRESH_TOKEN.into(),
    }
}

/// An order bundle of `tests/fixtures/vendor`.
pub fn vendor_bundle(name: &str) -> invoice_domain::vendor::records::Bundle {
    serde_json::from_slice(&fixture(&format!("vendor/{name}"))).expect("valid bundle")
}

/// Stores a bundle's order (under `order_id`), its account, sellers, locations and delivery
/// locations.
pub async fn seed_bundle(
    repo: &invoice_adapters::vendor::DynamoVendorRepo,
    b: &invoice_domain::vendor::records::Bundle,
    order_id: &str,
    account_id: &str,
) {
    let mut order = b.order.clone();
    order.id = order_id.to_string();
    repo.put_account(account_id, &b.account).await.unwrap();
    for s in &b.sellers {
        repo.put_seller(s).await.unwrap();
    }
    for l in &b.locations {
        repo.put_location(l).await.unwrap();
    }
    for d in &b.delivery_locations {
        repo.put_delivery_location(d).await.unwrap();
    }
    repo.put_order(&order, account_id).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// `cargo lambda watch`: the real function binaries behind the Lambda Runtime API emulator.

/// A running `cargo lambda watch` (stopped, with its process group, when dropped).
pub struct Watch {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        use std::process::Command;
        use std::time::{Duration, Instant};
        // The watcher runs `cargo run` which runs the binary: stop the whole process group,
        // politely (SIGINT, as Ctrl-C) and then for sure.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-INT", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub fn path_with_cargo_lambda() -> String {
    let venv = repo_root().join(".stack/venv/bin");
    format!("{}:{}", venv.display(), std::env::var("PATH").unwrap_or_default())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `cargo lambda watch` with `TABLE_NAME` set (every function of the workspace is served).
pub fn start_watch(table: &str) -> Watch {
    start_watch_with(&[("TABLE_NAME", table)], 1)
}

/// `cargo lambda watch` with these environment variables and up to `concurrency` instances
/// per function. Its output goes to `$TMPDIR/watch-<port>.log`.
pub fn start_watch_with(vars: &[(&str, &str)], concurrency: u32) -> Watch {
    start_watch_at(free_port(), vars, concurrency)
}

/// [`start_watch_with`] on a port chosen beforehand (a function that must know its own URL,
/// such as the dashboard's `DASHBOARD_BASE_URL`).
pub fn start_watch_at(port: u16, vars: &[(&str, &str)], concurrency: u32) -> Watch {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let log = std::fs::File::create(std::env::temp_dir().join(format!("watch-{port}.log"))).unwrap();
    let mut cmd = Command::new("cargo");
    // `cargo test` gives this process CARGO_MANIFEST_DIR, CARGO_PKG_NAME, … of the test crate.
    // Build scripts (ring's) declare them with rerun-if-env-changed and cargo compares them
    // in its own environment: inherited, they would make the watcher's `cargo run` rebuild
    // ring and everything above it, and the next `cargo test` rebuild it back.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("CARGO_") && k != "CARGO_HOME") || k == "OUT_DIR" {
            cmd.env_remove(k.as_ref());
        }
    }
    cmd.current_dir(repo_root())
        .env("PATH", path_with_cargo_lambda())
        .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port.to_string()])
        .args(["--concurrency", &concurrency.to_string()]);
    for (k, v) in vars {
        cmd.arg("--env-var").arg(format!("{k}={v}"));
    }
    let child = cmd
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .expect("cargo lambda watch (installed by infra/install.sh into .stack/venv)");
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen on {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
    Watch { child, port }
}

/// The Lambda SQS event of messages received from a (moto) queue: what the event source
/// mapping hands the function.
pub fn sqs_event_of(msgs: &[aws_sdk_sqs::types::Message]) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut ev = aws_lambda_events::event::sqs::SqsEvent::default();
    for m in msgs {
        let mut e = aws_lambda_events::event::sqs::SqsMessage::default();
        e.message_id = m.message_id.clone();
        e.body = m.body.clone();
        ev.records.push(e);
    }
    ev
}

/// Waits until `url` answers 200 (the first request to a function under `cargo lambda watch`
/// starts it, building it if needed): at most 5 minutes.
pub async fn wait_until_ok(url: &str) {
    use std::time::{Duration, Instant};
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match http.get(url).send().await {
            Ok(r) if r.status() == 200 => return,
            other => {
                assert!(Instant::now() < deadline, "{url} did not answer: {other:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
