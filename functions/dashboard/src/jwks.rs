//! ID token verification against the issuer's JWKS: RS256 signature by the key its `kid`
//! names, `iss`, `aud` (the app client id), `exp` (30 s leeway), then `token_use` = `id` and the
//! company/role claims ([`crate::auth::principal`]). Keys are cached by `kid`; an unknown
//! `kid` refetches the set (at most once every 30 s, so a flood of forged kids cannot make
//! the function hammer the issuer).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use tokio::sync::RwLock;

use crate::auth::{principal, Claims, Principal, Refused};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Not a well-formed RS256 JWT, unknown key, bad signature, wrong issuer or audience.
    Invalid(String),
    Expired,
    /// A valid token that gives no access (no company, no role, not an ID token).
    Refused(Refused),
    /// The JWKS could not be fetched.
    Unavailable(String),
}

pub struct Verifier {
    jwks_url: String,
    issuer: String,
    audience: String,
    http: reqwest::Client,
    keys: RwLock<(HashMap<String, DecodingKey>, Option<Instant>)>,
}

const REFETCH_EVERY: Duration = Duration::from_secs(30);

impl Verifier {
    pub fn new(jwks_url: &str, issuer: &str, audience: &str) -> Verifier {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("http client");
        Verifier {
            jwks_url: jwks_url.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            http,
            keys: RwLock::new((HashMap::new(), None)),
        }
    }

    async fn refresh(&self) -> Result<(), Rejected> {
        let mut guard = self.keys.write().await;
        if guard.1.is_some_and(|t| t.elapsed() < REFETCH_EVERY) {
            return Ok(());
        }
        guard.1 = Some(Instant::now());
        let set: JwkSet = async {
            let r = self.http.get(&self.jwks_url).send().await?.error_for_status()?;
            r.json::<JwkSet>().await
        }
        .await
        .map_err(|e| Rejected::Unavailable(format!("JWKS: {e}")))?;
        let mut keys = HashMap::new();
        for k in &set.keys {
            let (Some(kid), AlgorithmParameters::RSA(_)) = (&k.common.key_id, &k.algorithm) else { continue };
            if let Ok(d) = DecodingKey::from_jwk(k) {
                keys.insert(kid.clone(), d);
            }
        }
        guard.0 = keys;
        Ok(())
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, Rejected> {
        if let Some(k) = self.keys.read().await.0.get(kid) {
            return Ok(k.clone());
        }
        self.refresh().await?;
        self.keys.read().await.0.get(kid).cloned().ok_or_else(|| Rejected::Invalid("unknown signing key".into()))
    }

    /// The principal of a token, or why not.
    pub async fn verify(&self, token: &str) -> Result<Principal, Rejected> {
        if token.is_empty() || token.len() > 16 * 1024 {
            return Err(Rejected::Invalid("no token".into()));
        }
        let header = decode_header(token).map_err(|e| Rejected::Invalid(format!("header: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejected::Invalid("not RS256".into()));
        }
        let kid = header.kid.ok_or_else(|| Rejected::Invalid("no kid".into()))?;
        let key = self.key(&kid).await?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 30;
        let data = decode::<Claims>(token, &key, &v).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Rejected::Expired,
            k => Rejected::Invalid(format!("{k:?}")),
        })?;
        principal(&data.claims).map_err(Rejected::Refused)
    }
}
