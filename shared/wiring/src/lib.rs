//! What every Lambda binary (and `invoicectl`) wires the same way: structured JSON logs, the
//! application's LWA credentials, and one SP-API client per company — each with the
//! company's own refresh token (from Secrets Manager) and its own rate-limit keys, so one
//! company's backlog never slows another's.

pub mod env;
pub mod import;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use invoice_adapters::companies::DynamoCompanies;
use invoice_adapters::ordering::DynamoPoRepo;
use invoice_adapters::secrets::{AppCredentials, Secrets};
use invoice_adapters::slots::DynamoSlots;
use invoice_adapters::vendor::DynamoVendorRepo;
use invoice_domain::company::{Company, ConnectionStatus};
use invoice_domain::core::time::iso;
use invoice_domain::core::PortError;
use invoice_domain::matching::workflow::Rematched;
use invoice_domain::vendor::ports::{InvoiceApi, TransactionApi};

/// Structured JSON logs for a Lambda binary (level from `RUST_LOG`, default info), with the
/// invocation span's fields (request id) on every line.
pub fn init_lambda_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_current_span(true)
        .with_target(false)
        .without_time()
        .init();
}

/// The error of an S3-event function when some records failed: the invocation fails (after
/// the others are done) so Lambda retries it and finally sends the event to the DLQ.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} records failed (they are retried; successful ones are idempotent): {first}")]
pub struct HandlerError {
    pub failed: usize,
    pub total: usize,
    pub first: String,
}

/// `TABLE_NAME`, required by every function.
pub fn table_from_env() -> Result<String, String> {
    std::env::var("TABLE_NAME").ok().filter(|t| !t.is_empty()).ok_or_else(|| "environment variable TABLE_NAME is required".to_string())
}

/// The application's LWA client: from the Secrets Manager secret `LWA_SECRET_ID` when set,
/// else from `LWA_CLIENT_ID` / `LWA_CLIENT_SECRET` (local runs).
pub async fn app_credentials(secrets: &Secrets) -> Result<AppCredentials, String> {
    match std::env::var("LWA_SECRET_ID") {
        Ok(id) if !id.is_empty() => secrets.app_credentials(&id).await.map_err(|e| e.to_string()),
        _ => {
            let get =
                |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("{k} (or LWA_SECRET_ID) is required"));
            Ok(AppCredentials { client_id: get("LWA_CLIENT_ID")?, client_secret: get("LWA_CLIENT_SECRET")? })
        }
    }
}

/// Why a company's vendor work cannot run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantError {
    /// No such company, or it has no vendor connection: a person must set it up.
    NotConnected(String),
    /// Reading the company or its secret failed (retry later).
    Unavailable(String),
}

impl std::fmt::Display for TenantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TenantError::NotConnected(m) => write!(f, "not connected: {m}"),
            TenantError::Unavailable(m) => write!(f, "unavailable: {m}"),
        }
    }
}

/// The vendor side of one company: its repository and its SP-API client.
pub trait Tenants: Sync {
    type Api: InvoiceApi + TransactionApi + Send + Sync;
    fn vendor(&self, company: &str) -> impl Future<Output = Result<(DynamoVendorRepo, Arc<Self::Api>), TenantError>> + Send;
    /// Companies with a vendor connection, by id.
    fn vendor_companies(&self) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// Records that LWA refused the company's token (its connection shows it to a person).
    fn not_authorized(&self, company: &str, reason: &str) -> impl Future<Output = ()> + Send;
}

pub type SpApiClient = invoice_spapi::Client<DynamoSlots>;

/// One CloudWatch Embedded Metric Format line (namespace `InvoiceBridge`, no dimensions): the
/// metrics' values, and `fields` beside them (ids for the logs). CloudWatch turns it into the
/// metrics the template alarms on.
pub fn emf_line(now: chrono::DateTime<chrono::Utc>, metrics: &[(&str, u64)], fields: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "InvoiceBridge",
                "Dimensions": [[]],
                "Metrics": metrics.iter().map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>()
            }]
        }
    });
    if let (Some(o), serde_json::Value::Object(extra)) = (v.as_object_mut(), fields) {
        o.extend(extra);
        for (name, value) in metrics {
            o.insert((*name).to_string(), serde_json::json!(value));
        }
    }
    v
}

/// The answer of an SQS-triggered function: the messages to retry (`ReportBatchItemFailures`;
/// the others are deleted).
pub fn sqs_failures(message_ids: Vec<String>) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
    // The event types are non-exhaustive: build them from their defaults.
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = message_ids
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// The companies' Amazon Business side, as the PO placing function needs it.
pub trait Buyers: Sync {
    type Api: invoice_domain::ordering::ports::OrderingApi + Send + Sync;
    fn buyer(&self, company: &str) -> impl Future<Output = Result<(DynamoPoRepo, Arc<Self::Api>), TenantError>> + Send;
    /// LWA refused the company's Amazon Business token: record it on its connection.
    fn buyer_not_authorized(&self, company: &str, reason: &str) -> impl Future<Output = ()> + Send;
    /// The PO was recorded: match every booked invoice naming it again.
    fn rematch(&self, company: &str, po_number: &str) -> impl Future<Output = Result<Rematched, String>> + Send;
}

impl Buyers for Tenancy {
    type Api = SpApiClient;
    async fn buyer(&self, company: &str) -> Result<(DynamoPoRepo, Arc<SpApiClient>), TenantError> {
        let (c, client) = self.business(company).await?;
        Ok((DynamoPoRepo::new(self.ddb.clone(), self.table.clone(), c.id), client))
    }
    async fn buyer_not_authorized(&self, company: &str, reason: &str) {
        self.business_not_authorized(company, reason).await
    }
    async fn rematch(&self, company: &str, po_number: &str) -> Result<Rematched, String> {
        use invoice_domain::ordering::ports::PoRepository;
        let Some(store) = &self.documents else { return Err("BUCKET_NAME is not set: invoices cannot be matched again".into()) };
        let c = self.companies.get(company).await.map_err(|e| e.0)?.ok_or_else(|| format!("no company {company}"))?;
        let pos = DynamoPoRepo::new(self.ddb.clone(), self.table.clone(), c.id.clone());
        let Some(po) = pos.get(po_number).await.map_err(|e| e.0)? else { return Ok(Rematched::default()) };
        let repo = invoice_adapters::dynamo::DynamoRepo::new(self.ddb.clone(), self.table.clone());
        invoice_domain::matching::workflow::rematch_po(store, &repo, &c, &po, &Default::default()).await.map_err(|e| e.0)
    }
}

/// The real tenancy: companies and their vendor records in DynamoDB, refresh tokens in
/// Secrets Manager, one cached SP-API client per company.
pub struct Tenancy {
    pub ddb: aws_sdk_dynamodb::Client,
    pub table: String,
    pub companies: DynamoCompanies,
    pub secrets: Secrets,
    pub app: AppCredentials,
    pub spapi: invoice_spapi::Config,
    /// Where Amazon Business is reached instead of the company's region endpoint
    /// (`AB_ENDPOINT`: the local stack's emulator).
    pub business_endpoint: Option<String>,
    /// The document bucket (`BUCKET_NAME`): where booked invoices are read back to be matched
    /// again when their PO is recorded.
    pub documents: Option<invoice_adapters::s3::S3Store>,
    /// How long an Amazon Business client waits for a slot of the slow Reports operations
    /// before it answers "later" (`AB_REPORT_MAX_WAIT_SECONDS`; none: it waits).
    pub report_max_wait: Option<std::time::Duration>,
    /// The Reports operations' plan when it is not Amazon's (a test emulator's).
    pub report_plan: Option<invoice_spapi::rate::Plan>,
    clients: tokio::sync::Mutex<HashMap<String, Arc<SpApiClient>>>,
    business_clients: tokio::sync::Mutex<HashMap<String, Arc<SpApiClient>>>,
}

impl Tenancy {
    pub fn new(
        ddb: aws_sdk_dynamodb::Client,
        table: String,
        secrets: Secrets,
        app: AppCredentials,
        spapi: invoice_spapi::Config,
    ) -> Tenancy {
        let companies = DynamoCompanies::new(ddb.clone(), table.clone());
        Tenancy {
            ddb,
            table,
            companies,
            secrets,
            app,
            spapi,
            business_endpoint: None,
            documents: None,
            report_max_wait: None,
            report_plan: None,
            clients: tokio::sync::Mutex::new(HashMap::new()),
            business_clients: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// From the environment (`TABLE_NAME`, `LWA_SECRET_ID` or `LWA_CLIENT_*`, `SPAPI_*`).
    pub async fn from_env(conf: &aws_config::SdkConfig) -> Result<Tenancy, String> {
        let table = table_from_env()?;
        let secrets = Secrets::from_conf(conf);
        let app = app_credentials(&secrets).await?;
        let spapi = invoice_spapi::Config::from_env().map_err(|e| e.to_string())?;
        let mut t = Tenancy::new(invoice_adapters::dynamodb_client(conf), table, secrets, app, spapi);
        t.documents = std::env::var("BUCKET_NAME")
            .ok()
            .filter(|b| !b.is_empty())
            .map(|b| invoice_adapters::s3::S3Store::new(invoice_adapters::s3_client(conf), b, 50 * 1024 * 1024));
        t.report_max_wait =
            std::env::var("AB_REPORT_MAX_WAIT_SECONDS").ok().and_then(|v| v.trim().parse::<u64>().ok()).map(std::time::Duration::from_secs);
        t.business_endpoint = std::env::var("AB_ENDPOINT").ok().filter(|e| !e.is_empty()).map(|e| e.trim_end_matches('/').to_string());
        Ok(t)
    }

    /// A client for `company` with its refresh token (`secret_id`) and the application's LWA
    /// client, pacing through the shared DynamoDB rate state under the company's key.
    async fn new_client(&self, config: invoice_spapi::Config, secret_id: &str, company: &str) -> Result<Arc<SpApiClient>, TenantError> {
        let refresh_token = self.secrets.refresh_token(secret_id).await.map_err(|e| TenantError::Unavailable(e.0))?;
        let credentials = invoice_spapi::Credentials {
            client_id: self.app.client_id.clone(),
            client_secret: self.app.client_secret.clone(),
            refresh_token,
        };
        let slots = DynamoSlots::new(self.ddb.clone(), self.table.clone());
        let client =
            invoice_spapi::Client::new(config, credentials, company, slots).map_err(|e| TenantError::Unavailable(e.to_string()))?;
        Ok(Arc::new(client))
    }

    async fn client_for(&self, company: &Company) -> Result<Arc<SpApiClient>, TenantError> {
        let mut cache = self.clients.lock().await;
        if let Some(c) = cache.get(&company.id) {
            return Ok(c.clone());
        }
        let Some(conn) = &company.vendor else {
            return Err(TenantError::NotConnected(format!(
                "company {} has no vendor connection (invoicectl company connect-vendor)",
                company.id
            )));
        };
        let client = self.new_client(self.spapi.clone(), &conn.secret_id, &company.id).await?;
        cache.insert(company.id.clone(), client.clone());
        Ok(client)
    }
}

impl Tenancy {
    /// The company and its Amazon Business client (cached; LWA with the company's own refresh
    /// token, the region's endpoint or `AB_ENDPOINT`, rate state `ab:<company>:<operation>`).
    pub async fn business(&self, company: &str) -> Result<(Company, Arc<SpApiClient>), TenantError> {
        let c = self
            .companies
            .get(company)
            .await
            .map_err(|e| TenantError::Unavailable(e.0))?
            .ok_or_else(|| TenantError::NotConnected(format!("no company has the id '{company}'")))?;
        let mut cache = self.business_clients.lock().await;
        if let Some(client) = cache.get(&c.id) {
            return Ok((c, client.clone()));
        }
        let Some(conn) = &c.business else {
            return Err(TenantError::NotConnected(format!(
                "company {} has no Amazon Business connection (invoicectl company connect-amazon-business)",
                c.id
            )));
        };
        let mut config = invoice_spapi::Config::for_business(conn.region).map_err(|e| TenantError::Unavailable(e.to_string()))?;
        // The local stack's overrides (one emulator for every API) and the deployment's timeouts.
        config.lwa_endpoint = self.spapi.lwa_endpoint.clone();
        config.request_timeout = self.spapi.request_timeout;
        config.connect_timeout = self.spapi.connect_timeout;
        config.backoff_base = self.spapi.backoff_base;
        config.max_throttled_attempts = self.spapi.max_throttled_attempts;
        config.max_server_attempts = self.spapi.max_server_attempts;
        if let Some(ep) = &self.business_endpoint {
            config.endpoint = ep.clone();
        }
        config.report_max_wait = self.report_max_wait.or(config.report_max_wait);
        config.max_download_bytes = self.spapi.max_download_bytes;
        config.download_timeout = self.spapi.download_timeout;
        if let Some(plan) = self.report_plan {
            config.create_report_plan = plan.with_margin(0.03);
            config.report_document_plan = plan.with_margin(0.03);
        }
        let client = self.new_client(config, &conn.secret_id, &c.id).await?;
        cache.insert(c.id.clone(), client.clone());
        Ok((c, client))
    }

    /// The Reports operations at `plan` (less the usual margin), a slot further than
    /// `max_wait` answered "later".
    pub fn business_report_plans(&mut self, plan: invoice_spapi::rate::Plan, max_wait: std::time::Duration) {
        self.report_plan = Some(plan);
        self.report_max_wait = Some(max_wait);
    }

    /// Records that LWA refused the company's Amazon Business token.
    pub async fn business_not_authorized(&self, company: &str, reason: &str) {
        let at = iso(chrono::Utc::now());
        if let Err(e) = self.companies.set_business_status(company, ConnectionStatus::NotAuthorized, Some(reason), &at).await {
            tracing::warn!(company, error = %e, "could not record the Amazon Business connection's NotAuthorized status");
        }
    }
}

impl Tenants for Tenancy {
    type Api = SpApiClient;

    async fn vendor(&self, company: &str) -> Result<(DynamoVendorRepo, Arc<SpApiClient>), TenantError> {
        let c = self
            .companies
            .get(company)
            .await
            .map_err(|e| TenantError::Unavailable(e.0))?
            .ok_or_else(|| TenantError::NotConnected(format!("no company has the id '{company}'")))?;
        let client = self.client_for(&c).await?;
        Ok((DynamoVendorRepo::new(self.ddb.clone(), self.table.clone(), c.id), client))
    }

    async fn vendor_companies(&self) -> Result<Vec<String>, PortError> {
        Ok(self.companies.with_vendor_connection().await?.into_iter().map(|c| c.id).collect())
    }

    async fn not_authorized(&self, company: &str, reason: &str) {
        let at = iso(chrono::Utc::now());
        if let Err(e) = self.companies.set_vendor_status(company, ConnectionStatus::NotAuthorized, Some(reason), &at).await {
            tracing::warn!(company, error = %e, "could not record the connection's NotAuthorized status");
        }
    }
}
