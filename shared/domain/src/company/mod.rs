//! Companies: the customers (tenants) of Invoice Bridge. One deployment serves many; every
//! record belongs to exactly one company, and every key and index partition carries its id.
//!
//! - A company has a short id (a slug), a name and its settings: the cXML identities it
//!   receives invoices as (an identity belongs to one company at most), its chart of accounts,
//!   and its own Amazon vendor connection (the refresh token lives in Secrets Manager under
//!   the company, never in the record).
//! - [`resolve`] decides whose a document is: the `incoming/<company>/…` key names it; a
//!   document dropped straight under `incoming/` belongs to the company whose registered cXML
//!   identity is its `To` credential; otherwise it is nobody's and is quarantined
//!   (`unknown-company`) under [`UNASSIGNED`].

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::core::PortError;
use crate::invoice::accounting::Chart;

/// The pseudo-company that holds documents whose company could not be resolved (quarantined
/// with `unknown-company`). No real company can take this id: slugs start with a letter.
pub const UNASSIGNED: &str = "_unassigned";

/// Longest company id.
pub const MAX_ID_LEN: usize = 32;

/// Why a company id is not a valid slug, if it is not.
pub fn id_problem(id: &str) -> Option<String> {
    let ok_chars = id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if id.is_empty() {
        Some("a company id must not be empty".into())
    } else if id.len() > MAX_ID_LEN {
        Some(format!("company id '{id}' is longer than {MAX_ID_LEN} characters"))
    } else if !ok_chars {
        Some(format!("company id '{id}' may only have lowercase letters, digits and '-'"))
    } else if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some(format!("company id '{id}' must start with a letter"))
    } else if id.ends_with('-') || id.contains("--") {
        Some(format!("company id '{id}' must not end with '-' or contain '--'"))
    } else {
        None
    }
}

/// A cXML credential as a company registers it: `domain:identity`. The domain is compared
/// without regard to case (`NetworkID` = `networkid`), the identity exactly, both trimmed.
pub fn normalize_identity(domain: &str, identity: &str) -> String {
    format!("{}:{}", domain.trim().to_ascii_lowercase(), identity.trim())
}

/// Parses `DOMAIN:IDENTITY` as typed on the command line (the identity may contain ':').
pub fn parse_identity(text: &str) -> Result<String, String> {
    match text.split_once(':') {
        Some((d, i)) if !d.trim().is_empty() && !i.trim().is_empty() => Ok(normalize_identity(d, i)),
        _ => Err(format!("'{text}' is not DOMAIN:IDENTITY (e.g. NetworkID:AN01000000001)")),
    }
}

/// State of a company's Amazon vendor connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionStatus {
    Connected,
    /// Login-with-Amazon refused the refresh token (consent revoked): submissions for this
    /// company wait (their messages are retried, then land in the DLQ) until it reconnects.
    NotAuthorized,
}

/// A company's SP-API (vendor) connection. The refresh token itself is in Secrets Manager
/// under `secret_id`; this record never holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorConnection {
    pub secret_id: String,
    pub connected_at: String,
    pub status: ConnectionStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub status_at: Option<String>,
}

/// Amazon Business's regions and their API endpoints (the Ordering, Reconciliation and
/// Reports APIs share them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumString, strum::Display, strum::EnumIter)]
#[strum(ascii_case_insensitive)]
pub enum BusinessRegion {
    #[serde(rename = "NA")]
    #[strum(serialize = "NA")]
    Na,
    #[serde(rename = "EU")]
    #[strum(serialize = "EU")]
    Eu,
    #[serde(rename = "JP")]
    #[strum(serialize = "JP")]
    Jp,
}

impl BusinessRegion {
    /// The production endpoint (no trailing slash).
    pub fn endpoint(&self) -> &'static str {
        match self {
            BusinessRegion::Na => "https://na.business-api.amazon.com",
            BusinessRegion::Eu => "https://eu.business-api.amazon.com",
            BusinessRegion::Jp => "https://jp.business-api.amazon.com",
        }
    }
}

/// A company's Amazon Business connection (ordering, and the daily invoice import): its region
/// and where its LWA refresh token is kept in Secrets Manager (`secret_id`; this record never
/// holds the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessConnection {
    pub region: BusinessRegion,
    pub secret_id: String,
    pub connected_at: String,
    pub status: ConnectionStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub status_at: Option<String>,
    /// The daily import's settings (auto import, start date, GL and cost-centre keys).
    #[serde(default)]
    pub import: crate::import::ImportSettings,
}

/// The e-mail channel of a company: the addresses SES receives its invoices at, who may send
/// them, and whether a GRAY (undecided) spam/virus/authentication verdict passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Sender addresses (`ap@supplier.example`) and domains (`supplier.example`).
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub gray_passes: bool,
}

/// A cXML sender allowed to POST documents for the company: its `Sender` identity and its
/// SharedSecret as a salted slow hash (PHC string; the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CxmlSender {
    pub identity: String,
    pub secret_hash: String,
    pub added_at: String,
}

/// A company and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// Normalised `domain:identity` credentials it receives invoices as (its `To`).
    #[serde(default)]
    pub cxml_identities: Vec<String>,
    #[serde(default)]
    pub chart: Chart,
    #[serde(default)]
    pub vendor: Option<VendorConnection>,
    #[serde(default)]
    pub mail: MailSettings,
    #[serde(default)]
    pub cxml_senders: Vec<CxmlSender>,
    /// `From` identities accepted over HTTPS; `None`: any supplier.
    #[serde(default)]
    pub accepted_suppliers: Option<Vec<String>>,
    /// Its Amazon Business account, when connected.
    #[serde(default)]
    pub business: Option<BusinessConnection>,
    /// How far an invoice may differ from its PO and still match (defaults: see
    /// [`crate::matching::tolerance`]). Stored as its JSON text: tolerances are read by their
    /// digits from JSON text, whatever store holds the company.
    #[serde(default, with = "tolerances_text")]
    pub tolerances: crate::matching::Tolerances,
    /// How its people read dates and amounts (the dashboard); `en-US` unless set.
    #[serde(default)]
    pub locale: Locale,
}

/// The locales dates and amounts are shown in. Spelled as BCP 47 tags (`en-US`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
pub enum Locale {
    #[default]
    #[serde(rename = "en-US")]
    EnUs,
    #[serde(rename = "en-GB")]
    EnGb,
    #[serde(rename = "fr-FR")]
    FrFr,
}

impl Locale {
    pub fn as_str(&self) -> &'static str {
        match self {
            Locale::EnUs => "en-US",
            Locale::EnGb => "en-GB",
            Locale::FrFr => "fr-FR",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en-US" => Some(Locale::EnUs),
            "en-GB" => Some(Locale::EnGb),
            "fr-FR" => Some(Locale::FrFr),
            _ => None,
        }
    }
}

impl Company {
    /// A new company with the default chart; every problem of the input is reported.
    pub fn new(id: &str, name: &str, identities: &[String], created_at: &str) -> Result<Company, Vec<String>> {
        let mut problems: Vec<String> = id_problem(id).into_iter().collect();
        if name.trim().is_empty() {
            problems.push("a company needs a name".into());
        }
        let mut ids = Vec::new();
        for i in identities {
            match parse_identity(i) {
                Ok(n) if !ids.contains(&n) => ids.push(n),
                Ok(_) => {}
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Company {
            id: id.to_string(),
            name: name.trim().to_string(),
            created_at: created_at.to_string(),
            cxml_identities: ids,
            chart: Chart::default(),
            vendor: None,
            mail: MailSettings::default(),
            cxml_senders: Vec::new(),
            accepted_suppliers: None,
            business: None,
            tolerances: Default::default(),
            locale: Locale::default(),
        })
    }
}

/// [`Company::tolerances`] as JSON text inside the company record.
mod tolerances_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::matching::Tolerances;

    pub fn serialize<S: Serializer>(t: &Tolerances, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&serde_json::to_string(t).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tolerances, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Tolerances::default()),
            Some(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// Whose a document is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Named by the key prefix `incoming/<company>/`.
    ByPrefix(Company),
    /// Dropped under `incoming/`; its `To` credential is registered to this company.
    ByIdentity(Company, String),
    /// Nobody's: the reason names what was looked for (`To` identities, or the unknown prefix).
    Unknown(String),
    /// Named by the prefix, but addressed (`To`) to an identity another company holds.
    Mismatch { company: Company, identity: String, holder: String },
}

/// The directory of companies, as ingestion reads it.
pub trait CompanyDirectory {
    fn company(&self, id: &str) -> impl Future<Output = Result<Option<Company>, PortError>> + Send;
    /// The company a normalised `domain:identity` is registered to.
    fn company_of_identity(&self, identity: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// The company segment of an object key under `incoming_prefix`: `incoming/acme/x.xml` →
/// `Some("acme")`; `incoming/x.xml` → `None`.
pub fn prefix_company<'a>(key: &'a str, incoming_prefix: &str) -> Option<&'a str> {
    let rest = key.strip_prefix(incoming_prefix)?;
    let (segment, tail) = rest.split_once('/')?;
    (!segment.is_empty() && !tail.is_empty()).then_some(segment)
}

/// Resolves the company of a document from its key and its `To` credentials (normalised).
pub async fn resolve<D: CompanyDirectory + Sync>(
    dir: &D,
    key: &str,
    incoming_prefix: &str,
    to: &[String],
) -> Result<Resolution, PortError> {
    if let Some(segment) = prefix_company(key, incoming_prefix) {
        let Some(company) = dir.company(segment).await? else {
            return Ok(Resolution::Unknown(format!(
                "the document was dropped under {incoming_prefix}{segment}/, but no company has the id '{segment}'"
            )));
        };
        for identity in to {
            if let Some(holder) = dir.company_of_identity(identity).await? {
                if holder != company.id {
                    return Ok(Resolution::Mismatch { company, identity: identity.clone(), holder });
                }
            }
        }
        return Ok(Resolution::ByPrefix(company));
    }
    let mut holders: Vec<(String, String)> = Vec::new();
    for identity in to {
        if let Some(holder) = dir.company_of_identity(identity).await? {
            if !holders.iter().any(|(h, _)| *h == holder) {
                holders.push((holder, identity.clone()));
            }
        }
    }
    match holders.as_slice() {
        [(holder, identity)] => match dir.company(holder).await? {
            Some(c) => Ok(Resolution::ByIdentity(c, identity.clone())),
            None => Ok(Resolution::Unknown(format!("identity {identity} is registered to company '{holder}', which no longer exists"))),
        },
        [] if to.is_empty() => Ok(Resolution::Unknown(
            "the document has no To credential and was not dropped under a company's prefix (incoming/<company>/)".into(),
        )),
        [] => Ok(Resolution::Unknown(format!(
            "no company has registered the document's To identity {}; register it with `invoicectl company create … --cxml-identity` or drop the document under incoming/<company>/",
            to.join(", ")
        ))),
        many => Ok(Resolution::Unknown(format!(
            "the document's To identities belong to several companies ({}); drop it under incoming/<company>/ to say whose it is",
            many.iter().map(|(h, i)| format!("{i} → {h}")).collect::<Vec<_>>().join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn slugs() {
        assert_eq!(id_problem("acme"), None);
        assert_eq!(id_problem("acme-2"), None);
        for bad in ["", "Acme", "2acme", "-acme", "acme-", "ac--me", "ac_me", "ac me", UNASSIGNED, &"a".repeat(33)] {
            assert!(id_problem(bad).is_some(), "{bad:?} accepted");
        }
    }

    #[test]
    fn identities_normalise_their_domain_only() {
        assert_eq!(parse_identity(" NetworkID : AN01 ").unwrap(), "networkid:AN01");
        assert_eq!(parse_identity("DUNS:12:34").unwrap(), "duns:12:34");
        assert!(parse_identity("AN01").is_err());
        assert!(parse_identity(":AN01").is_err());
        assert!(parse_identity("NetworkID:").is_err());
    }

    #[test]
    fn new_company_reports_every_problem() {
        let e = Company::new("Bad Id", " ", &["x".into()], "t").unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        let c = Company::new("acme", "Acme", &["NetworkID:A".into(), "networkid:A".into()], "t").unwrap();
        assert_eq!(c.cxml_identities, vec!["networkid:A".to_string()]);
    }

    #[test]
    fn prefix_segment() {
        assert_eq!(prefix_company("incoming/acme/x.xml", "incoming/"), Some("acme"));
        assert_eq!(prefix_company("incoming/acme/sub/x.xml", "incoming/"), Some("acme"));
        assert_eq!(prefix_company("incoming/x.xml", "incoming/"), None);
        assert_eq!(prefix_company("incoming//x.xml", "incoming/"), None);
        assert_eq!(prefix_company("other/acme/x.xml", "incoming/"), None);
    }

    struct Dir(HashMap<String, Company>, HashMap<String, String>);

    impl CompanyDirectory for Dir {
        async fn company(&self, id: &str) -> Result<Option<Company>, PortError> {
            Ok(self.0.get(id).cloned())
        }
        async fn company_of_identity(&self, identity: &str) -> Result<Option<String>, PortError> {
            Ok(self.1.get(identity).cloned())
        }
    }

    fn dir() -> Dir {
        let acme = Company::new("acme", "Acme", &["NetworkID:ACME".into()], "t").unwrap();
        let globex = Company::new("globex", "Globex", &["NetworkID:GLOBEX".into()], "t").unwrap();
        let mut ids = HashMap::new();
        ids.insert("networkid:ACME".to_string(), "acme".to_string());
        ids.insert("networkid:GLOBEX".to_string(), "globex".to_string());
        Dir([("acme".to_string(), acme), ("globex".to_string(), globex)].into_iter().collect(), ids)
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn resolution_by_prefix_identity_or_nobody() {
        let d = dir();
        let r = run(resolve(&d, "incoming/acme/x.xml", "incoming/", &[])).unwrap();
        assert!(matches!(r, Resolution::ByPrefix(ref c) if c.id == "acme"), "{r:?}");
        let r = run(resolve(&d, "incoming/x.xml", "incoming/", &["networkid:GLOBEX".into()])).unwrap();
        assert!(matches!(r, Resolution::ByIdentity(ref c, _) if c.id == "globex"), "{r:?}");
        let r = run(resolve(&d, "incoming/x.xml", "incoming/", &["networkid:NOBODY".into()])).unwrap();
        assert!(matches!(r, Resolution::Unknown(ref why) if why.contains("networkid:NOBODY")), "{r:?}");
        let r = run(resolve(&d, "incoming/x.xml", "incoming/", &[])).unwrap();
        assert!(matches!(r, Resolution::Unknown(ref why) if why.contains("no To credential")), "{r:?}");
        let r = run(resolve(&d, "incoming/initech/x.xml", "incoming/", &[])).unwrap();
        assert!(matches!(r, Resolution::Unknown(ref why) if why.contains("'initech'")), "{r:?}");
        let both = ["networkid:ACME".to_string(), "networkid:GLOBEX".to_string()];
        let r = run(resolve(&d, "incoming/x.xml", "incoming/", &both)).unwrap();
        assert!(matches!(r, Resolution::Unknown(ref why) if why.contains("several companies")), "{r:?}");
        let r = run(resolve(&d, "incoming/acme/x.xml", "incoming/", &["networkid:GLOBEX".into()])).unwrap();
        assert!(matches!(r, Resolution::Mismatch { ref holder, .. } if holder == "globex"), "{r:?}");
    }
}

#[cfg(test)]
mod business_tests {
    use super::BusinessRegion;

    #[test]
    fn regions_by_their_one_spelling() {
        assert_eq!("na".parse::<BusinessRegion>().unwrap(), BusinessRegion::Na);
        assert_eq!("EU".parse::<BusinessRegion>().unwrap().endpoint(), "https://eu.business-api.amazon.com");
        assert_eq!(serde_json::to_value(BusinessRegion::Jp).unwrap(), "JP");
        assert_eq!(BusinessRegion::Na.to_string(), "NA");
        assert!("FE".parse::<BusinessRegion>().is_err());
    }
}

#[cfg(test)]
mod tolerance_storage_tests {
    #[test]
    fn tolerances_survive_any_store_by_their_digits() {
        let mut c = super::Company::new("acme", "Acme", &[], "2026-12-01T00:00:00.000Z").unwrap();
        c.tolerances = serde_json::from_str(r#"{"unit_price": {"absolute": 0.05, "percent": "2", "rule": "both"}}"#).unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert!(v["tolerances"].is_string(), "{v}");
        let back: super::Company = serde_json::from_value(v).unwrap();
        assert_eq!(back.tolerances, c.tolerances);
        assert_eq!(back.tolerances.unit_price.absolute.to_string(), "0.05");
        let old: super::Company = serde_json::from_str(r#"{"id":"a","name":"A","created_at":""}"#).unwrap();
        assert_eq!(old.tolerances, Default::default());
    }
}
