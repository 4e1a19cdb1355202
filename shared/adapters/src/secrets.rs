//! Secrets Manager: the application's LWA client credentials (deployment-wide) and each
//! company's refresh token (one per selling partner). Tokens live only here — never in
//! DynamoDB, never in a log line, never in an error message.
//!
//! | secret | name | value |
//! |---|---|---|
//! | application LWA credentials | `LWA_SECRET_ID` (a template parameter) | `{"client_id", "client_secret"}` (a `refresh_token` key is ignored) |
//! | a company's SP-API refresh token | `<COMPANY_SECRETS_PREFIX><company>/spapi` (default prefix `invoice-bridge/companies/`) | `{"refresh_token"}` |
//! | a company's Amazon Business refresh token | `<COMPANY_SECRETS_PREFIX><company>/business` | `{"refresh_token"}` |
//! | the dashboard's HMAC key (CSRF tokens, cursors) | `DASHBOARD_SECRET_ID` (the template's `DashboardSecret`) | the key itself (≥ 32 bytes) |

use aws_sdk_secretsmanager::Client;
use invoice_domain::core::PortError;
use serde::{Deserialize, Serialize};

use crate::sdk_err;

/// The default prefix of company secrets (`COMPANY_SECRETS_PREFIX` overrides it).
pub const DEFAULT_COMPANY_PREFIX: &str = "invoice-bridge/companies/";

#[derive(Clone)]
pub struct Secrets {
    pub client: Client,
    pub company_prefix: String,
}

/// The application's LWA client. `Debug` never shows the secret.
#[derive(Clone, Deserialize)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials").field("client_id", &self.client_id).field("client_secret", &"***").finish()
    }
}

#[derive(Serialize, Deserialize)]
struct TokenSecret {
    refresh_token: String,
}

impl Secrets {
    pub fn new(client: Client, company_prefix: impl Into<String>) -> Self {
        Secrets { client, company_prefix: company_prefix.into() }
    }

    /// From the SDK configuration; the prefix from `COMPANY_SECRETS_PREFIX`.
    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        let prefix =
            std::env::var("COMPANY_SECRETS_PREFIX").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| DEFAULT_COMPANY_PREFIX.into());
        Secrets::new(Client::new(conf), prefix)
    }

    /// The secret name of a company's SP-API refresh token.
    pub fn vendor_secret_id(&self, company: &str) -> String {
        format!("{}{company}/spapi", self.company_prefix)
    }

    /// The secret name of a company's Amazon Business refresh token.
    pub fn business_secret_id(&self, company: &str) -> String {
        format!("{}{company}/business", self.company_prefix)
    }

    /// A secret's string value as stored (e.g. the dashboard's HMAC key).
    pub async fn value(&self, id: &str) -> Result<String, PortError> {
        let out = self.client.get_secret_value().secret_id(id).send().await.map_err(|e| sdk_err(&format!("read secret {id}"), e))?;
        out.secret_string().map(str::to_string).ok_or_else(|| PortError(format!("secret {id} has no string value")))
    }

    /// The application's LWA client id and secret.
    pub async fn app_credentials(&self, id: &str) -> Result<AppCredentials, PortError> {
        let text = self.value(id).await?;
        serde_json::from_str(&text).map_err(|_| PortError(format!("secret {id} is not JSON with client_id and client_secret")))
    }

    /// A refresh token stored by [`Secrets::put_refresh_token`].
    pub async fn refresh_token(&self, id: &str) -> Result<String, PortError> {
        let text = self.value(id).await?;
        let t: TokenSecret = serde_json::from_str(&text).map_err(|_| PortError(format!("secret {id} is not JSON with refresh_token")))?;
        Ok(t.refresh_token)
    }

    /// Stores (creates, or replaces the value of) a company's SP-API refresh token; returns
    /// the secret's name.
    pub async fn put_refresh_token(&self, company: &str, token: &str) -> Result<String, PortError> {
        self.put_token(self.vendor_secret_id(company), &format!("SP-API refresh token of company {company}"), token).await
    }

    /// Stores a company's Amazon Business refresh token; returns the secret's name.
    pub async fn put_business_token(&self, company: &str, token: &str) -> Result<String, PortError> {
        self.put_token(self.business_secret_id(company), &format!("Amazon Business refresh token of company {company}"), token).await
    }

    async fn put_token(&self, id: String, what: &str, token: &str) -> Result<String, PortError> {
        let value = serde_json::to_string(&TokenSecret { refresh_token: token.to_string() }).map_err(|e| PortError(e.to_string()))?;
        if !self.create_if_missing(&id, what, &value).await? {
            self.client
                .put_secret_value()
                .secret_id(&id)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| sdk_err(&format!("update secret {id}"), e))?;
        }
        Ok(id)
    }

    /// Creates a secret with this value unless one of that name exists (whose value is then
    /// kept); true when it was created.
    pub async fn create_if_missing(&self, id: &str, what: &str, value: &str) -> Result<bool, PortError> {
        let created = self.client.create_secret().name(id).description(format!("Invoice Bridge: {what}")).secret_string(value).send().await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => Ok(false),
            Err(e) => Err(sdk_err(&format!("create secret {id}"), e)),
        }
    }
}
