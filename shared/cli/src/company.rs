//! invoicectl company …: create, show and list companies; connect a company's Amazon vendor
//! account (its refresh token goes to Secrets Manager, never to the table or the terminal).

use std::io::Read;

use chrono::NaiveDate;
use invoice_adapters::companies::{Created, DynamoCompanies, SenderAdded};
use invoice_adapters::dynamo::DynamoRepo;
use invoice_adapters::secrets::Secrets;
use invoice_domain::company::{BusinessConnection, BusinessRegion, Company, ConnectionStatus, VendorConnection};
use invoice_domain::core::time::iso;
use invoice_domain::import::ports::ImportStore;
use invoice_domain::import::settings::{check_start_date, connection_date};
use invoice_domain::import::watermark::{move_start_date, Backfill};
use invoice_domain::import::ImportSettings;

pub enum Op {
    Create {
        id: String,
        name: String,
        identities: Vec<String>,
    },
    Show {
        id: String,
        json: bool,
    },
    List {
        json: bool,
    },
    ConnectVendor {
        id: String,
    },
    ConnectBusiness {
        id: String,
        region: String,
        /// `YYYY-MM-DD`, as given.
        start_date: Option<String>,
        /// `on` / `off`, as given (default on).
        auto_import: Option<String>,
    },
    SetImport {
        id: String,
        args: ImportArgs,
    },
    SetTolerances {
        id: String,
        file: std::path::PathBuf,
    },
    AddSender {
        id: String,
        identity: String,
    },
    SetLocale {
        id: String,
        locale: String,
    },
    /// `None`: any supplier.
    SetSuppliers {
        id: String,
        accept: Option<Vec<String>>,
    },
}

pub fn run(op: Op) -> i32 {
    crate::block_on(exec(op))
}

pub(crate) fn companies(conf: &aws_config::SdkConfig) -> Result<DynamoCompanies, String> {
    Ok(DynamoCompanies::new(invoice_adapters::dynamodb_client(conf), crate::store::table()?))
}

/// The company, or a clear error naming the id.
pub(crate) async fn require(conf: &aws_config::SdkConfig, id: &str) -> Result<Company, String> {
    if id == invoice_domain::company::UNASSIGNED {
        return Ok(Company {
            id: id.to_string(),
            name: "(documents of no company)".into(),
            created_at: String::new(),
            cxml_identities: vec![],
            chart: Default::default(),
            vendor: None,
            mail: Default::default(),
            cxml_senders: vec![],
            accepted_suppliers: None,
            business: None,
            tolerances: Default::default(),
            locale: Default::default(),
        });
    }
    companies(conf)?
        .get(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no company has the id '{id}' (invoicectl company list)"))
}

/// A refresh token from stdin: one line, no spaces (never from the command line).
fn read_token(usage: &str) -> Result<String, String> {
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token).map_err(|e| format!("reading the refresh token from stdin: {e}"))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!("no refresh token on stdin (echo \"$TOKEN\" | invoicectl company {usage} --refresh-token-stdin)"));
    }
    if token.chars().any(char::is_whitespace) {
        return Err("the refresh token must be one line without spaces".into());
    }
    Ok(token.to_string())
}

fn summary(c: &Company) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "name": c.name,
        "created_at": c.created_at,
        "cxml_identities": c.cxml_identities,
        "chart": c.chart,
        "vendor": c.vendor.as_ref().map(|v| serde_json::json!({
            "status": v.status, "connected_at": v.connected_at, "status_reason": v.status_reason, "status_at": v.status_at,
        })),
        // Identities only: a secret hash is never printed.
        "cxml_senders": c.cxml_senders.iter().map(|s| serde_json::json!({"identity": s.identity, "added_at": s.added_at})).collect::<Vec<_>>(),
        "accepted_suppliers": c.accepted_suppliers,
        "tolerances": c.tolerances,
        "business": c.business.as_ref().map(|b| serde_json::json!({
            "region": b.region, "status": b.status, "connected_at": b.connected_at, "status_reason": b.status_reason, "status_at": b.status_at,
            "import": import_json(b),
        })),
    })
}

fn print_text(c: &Company) {
    let vendor = match &c.vendor {
        None => "not connected".to_string(),
        Some(v) => match v.status {
            ConnectionStatus::Connected => format!("connected {}", v.connected_at),
            ConnectionStatus::NotAuthorized => {
                format!("NOT AUTHORIZED since {}: {}", v.status_at.as_deref().unwrap_or("?"), v.status_reason.as_deref().unwrap_or(""))
            }
        },
    };
    let ids = if c.cxml_identities.is_empty() { "-".to_string() } else { c.cxml_identities.join(", ") };
    println!("{:<16} {:<28} cXML {}  vendor {}", c.id, c.name, ids, vendor);
}

/// A connection's import settings as `company show` and `set-import` print them.
fn import_json(b: &BusinessConnection) -> serde_json::Value {
    let effective = connection_date(&b.connected_at).map(|d| b.import.effective_start(d));
    serde_json::json!({
        "auto_import": b.import.auto_import,
        "start_date": b.import.start_date,
        "effective_start_date": effective,
        "gl_key": b.import.gl_key,
        "cost_center_key": b.import.cost_center_key,
    })
}

/// The import settings in words.
fn import_text(b: &BusinessConnection) -> String {
    let start = match connection_date(&b.connected_at).map(|d| b.import.effective_start(d)) {
        Some(d) if b.import.start_date.is_some() => format!("from {d}"),
        Some(d) => format!("from {d} (the connection date)"),
        None => "from the connection date".into(),
    };
    let key = |k: &Option<String>| k.as_deref().map_or("none".to_string(), |k| format!("'{k}'"));
    format!(
        "auto import {}, {start}, GL key {}, cost-centre key {}",
        if b.import.auto_import { "on" } else { "off" },
        key(&b.import.gl_key),
        key(&b.import.cost_center_key)
    )
}

fn print_business(b: &BusinessConnection) {
    let status = match b.status {
        ConnectionStatus::Connected => format!("connected {}", b.connected_at),
        ConnectionStatus::NotAuthorized => {
            format!("NOT AUTHORIZED since {}: {}", b.status_at.as_deref().unwrap_or("?"), b.status_reason.as_deref().unwrap_or(""))
        }
    };
    println!("amazon business ({}): {status}; {}", b.region, import_text(b));
}

/// What `company set-import` changes (each absent one is kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportArgs {
    /// `on` / `off`.
    pub auto_import: Option<String>,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// Empty: none.
    pub gl_key: Option<String>,
    pub cost_center_key: Option<String>,
}

/// `on` or `off`.
pub(crate) fn parse_on_off(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("--auto-import takes on or off, not '{other}'")),
    }
}

/// A calendar date `YYYY-MM-DD`.
pub(crate) fn parse_start_date(v: &str) -> Result<NaiveDate, String> {
    let v = v.trim();
    let ok = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    ok.then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("--start-date takes a date YYYY-MM-DD, not '{v}'"))
}

/// A key name of `businessOrderInfo`: trimmed; empty is none.
fn key_name(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The import settings of a connection made `today` (the connection date): `(before, after)`,
/// the ones the connection is written with and the ones it ends with once the start date
/// given is applied (the cursor moving with it, as `set-import` does). A reconnection keeps
/// the settings of the connection it replaces, and its start date (else its connection date),
/// so that no day between the two connections is skipped; the toggle is the one given
/// (default on). A start date is checked against today as the connection date.
pub(crate) fn connect_settings(
    existing: Option<&BusinessConnection>,
    start_date: Option<&str>,
    auto_import: Option<&str>,
    today: NaiveDate,
) -> Result<(ImportSettings, ImportSettings), String> {
    let auto_import = auto_import.map(parse_on_off).transpose()?.unwrap_or(true);
    let start = start_date.map(parse_start_date).transpose()?;
    if let Some(d) = start {
        check_start_date(d, today, today).map_err(|p| p.to_string())?;
    }
    let mut before = match existing {
        Some(b) => {
            let mut s = b.import.clone();
            s.start_date = s.start_date.or_else(|| connection_date(&b.connected_at));
            s
        }
        None => ImportSettings::default(),
    };
    before.auto_import = auto_import;
    let mut after = before.clone();
    if start.is_some() {
        after.start_date = start;
    }
    Ok((before, after))
}

/// The settings `company set-import` makes of the connection's: each given value replaces its
/// own; a start date is checked against the connection date and today.
pub(crate) fn set_import_settings(conn: &BusinessConnection, args: &ImportArgs, today: NaiveDate) -> Result<ImportSettings, String> {
    let mut s = conn.import.clone();
    if let Some(v) = &args.auto_import {
        s.auto_import = parse_on_off(v)?;
    }
    if let Some(v) = &args.start_date {
        let d = parse_start_date(v)?;
        let connected = connection_date(&conn.connected_at)
            .ok_or_else(|| format!("the connection date '{}' cannot be read; reconnect the account", conn.connected_at))?;
        check_start_date(d, connected, today).map_err(|p| p.to_string())?;
        s.start_date = Some(d);
    }
    if let Some(v) = &args.gl_key {
        s.gl_key = key_name(v);
    }
    if let Some(v) = &args.cost_center_key {
        s.cost_center_key = key_name(v);
    }
    Ok(s)
}

/// Stores `settings` on the company's connection `conn` (as read). When the start date moves,
/// the import's cursor moves with it ([`move_start_date`]: back, a backfill up to the
/// watermark) in the same transaction, conditionally on its version: a pass that ran meanwhile
/// makes it fail with nothing written. The backfill now pending, if any.
async fn apply_import(
    repo: &DynamoRepo,
    companies: &DynamoCompanies,
    id: &str,
    conn: &BusinessConnection,
    settings: &ImportSettings,
    today: NaiveDate,
) -> Result<Option<Backfill>, String> {
    let connected = connection_date(&conn.connected_at);
    let moved = connected.map(|d| (conn.import.effective_start(d), settings.effective_start(d))).filter(|(old, new)| old != new);
    let (cursor, version) = repo.cursor(id).await.map_err(|e| e.to_string())?;
    if let (Some(connected), Some((old, new))) = (connected, moved) {
        let next = move_start_date(&cursor, old, new, connected, today).map_err(|p| p.to_string())?;
        if next != cursor {
            if !repo.set_import_with_cursor(id, settings, &next, version).await.map_err(|e| e.to_string())? {
                return Err(format!("company {id}: an import pass moved the cursor meanwhile; nothing changed, run the command again"));
            }
            return Ok(next.backfill);
        }
    }
    companies.set_business_import(id, settings).await.map_err(|e| e.to_string())?;
    Ok(cursor.backfill)
}

/// What was set, on stdout (JSON) and in words on stderr.
fn print_import(id: &str, conn: &BusinessConnection, backfill: Option<&Backfill>) {
    let b = backfill.map(|b| serde_json::json!({"from": iso(b.from), "until": iso(b.until)}));
    println!("{}", serde_json::json!({"company": id, "connected_at": conn.connected_at, "import": import_json(conn), "backfill": b}));
    let back = backfill.map_or(String::new(), |b| format!("; backfill from {} to {} pending", iso(b.from), iso(b.until)));
    eprintln!("company {id}: {}{back}", import_text(conn));
}

async fn exec(op: Op) -> Result<(), String> {
    let conf = invoice_adapters::sdk_config().await;
    match op {
        Op::Create { id, name, identities } => {
            let company = Company::new(&id, &name, &identities, &iso(chrono::Utc::now())).map_err(|p| p.join("; "))?;
            match companies(&conf)?.create(&company).await.map_err(|e| e.to_string())? {
                Created::Created => eprintln!("company {id} created"),
                Created::AlreadyExists => eprintln!("company {id} already exists as given; nothing changed"),
                Created::IdTaken(other) => return Err(format!("the id '{id}' is taken by company '{}' ({})", other.id, other.name)),
                Created::IdentityTaken { identity, holder } => {
                    return Err(format!(
                        "the cXML identity {identity} is registered to company '{holder}'; an identity belongs to one company"
                    ))
                }
            }
            let c = require(&conf, &id).await?;
            println!("{}", summary(&c));
        }
        Op::Show { id, json } => {
            let c = require(&conf, &id).await?;
            if json {
                println!("{}", summary(&c));
            } else {
                print_text(&c);
                if let Some(b) = &c.business {
                    print_business(b);
                }
                println!("chart: {}", serde_json::to_string(&c.chart).unwrap_or_default());
            }
        }
        Op::List { json } => {
            let all = companies(&conf)?.list().await.map_err(|e| e.to_string())?;
            if all.is_empty() && !json {
                println!("no companies yet (invoicectl company create ID --name NAME)");
            }
            for c in &all {
                if json {
                    println!("{}", summary(c));
                } else {
                    print_text(c);
                }
            }
        }
        Op::ConnectVendor { id } => {
            let c = require(&conf, &id).await?;
            let token = read_token("connect-vendor ID")?;
            let secret_id = Secrets::from_conf(&conf).put_refresh_token(&c.id, &token).await.map_err(|e| e.to_string())?;
            let conn = VendorConnection {
                secret_id,
                connected_at: iso(chrono::Utc::now()),
                status: ConnectionStatus::Connected,
                status_reason: None,
                status_at: None,
            };
            companies(&conf)?.set_vendor_connection(&c.id, &conn).await.map_err(|e| e.to_string())?;
            eprintln!("company {id}: vendor account connected (refresh token stored in Secrets Manager as {})", conn.secret_id);
        }
        Op::SetTolerances { id, file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let t: invoice_domain::matching::Tolerances =
                serde_json::from_str(&text).map_err(|e| format!("{}: not tolerances JSON: {e}", file.display()))?;
            let c = require(&conf, &id).await?;
            companies(&conf)?.set_tolerances(&c.id, &t).await.map_err(|e| e.to_string())?;
            eprintln!(
                "company {id}: tolerances unit price {}, quantity {}, amounts {}",
                t.unit_price.describe(),
                t.quantity.describe(),
                t.amount.describe()
            );
        }
        Op::ConnectBusiness { id, region, start_date, auto_import } => {
            let region: BusinessRegion = region.parse().map_err(|_| format!("unknown Amazon Business region '{region}' (NA, EU or JP)"))?;
            let now = chrono::Utc::now();
            let today = now.date_naive();
            let c = require(&conf, &id).await?;
            // Checked before anything is stored: a refused start date changes nothing.
            let (before, settings) = connect_settings(c.business.as_ref(), start_date.as_deref(), auto_import.as_deref(), today)?;
            let token = read_token("connect-amazon-business ID --region NA")?;
            let secret_id = Secrets::from_conf(&conf).put_business_token(&c.id, &token).await.map_err(|e| e.to_string())?;
            let mut conn = BusinessConnection {
                region,
                secret_id,
                connected_at: iso(now),
                status: ConnectionStatus::Connected,
                status_reason: None,
                status_at: None,
                import: before,
            };
            let companies = companies(&conf)?;
            companies.set_business_connection(&c.id, &conn).await.map_err(|e| e.to_string())?;
            let repo = DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
            let backfill = apply_import(&repo, &companies, &c.id, &conn, &settings, today).await?;
            conn.import = settings;
            eprintln!(
                "company {id}: Amazon Business account ({region}) connected (refresh token stored in Secrets Manager as {})",
                conn.secret_id
            );
            print_import(&c.id, &conn, backfill.as_ref());
        }
        Op::SetImport { id, args } => {
            let today = chrono::Utc::now().date_naive();
            let c = require(&conf, &id).await?;
            let Some(mut conn) = c.business.clone() else {
                return Err(format!(
                    "company {id} has not connected an Amazon Business account (invoicectl company connect-amazon-business {id} --region NA --refresh-token-stdin)"
                ));
            };
            let settings = set_import_settings(&conn, &args, today)?;
            let companies = companies(&conf)?;
            let repo = DynamoRepo::new(invoice_adapters::dynamodb_client(&conf), crate::store::table()?);
            let backfill = apply_import(&repo, &companies, &c.id, &conn, &settings, today).await?;
            conn.import = settings;
            print_import(&c.id, &conn, backfill.as_ref());
        }
        Op::AddSender { id, identity } => {
            let identity = invoice_domain::company::parse_identity(&identity)?;
            let c = require(&conf, &id).await?;
            let mut secret = String::new();
            std::io::stdin().read_to_string(&mut secret).map_err(|e| format!("reading the shared secret from stdin: {e}"))?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            if secret.is_empty() {
                return Err(
                    "no shared secret on stdin (echo \"$SECRET\" | invoicectl company add-sender ID --identity D:I --secret-stdin)".into(),
                );
            }
            let salt = *uuid::Uuid::new_v4().as_bytes();
            let sender = invoice_domain::channel::https::secret::new_sender(&identity, secret, &salt, &iso(chrono::Utc::now()))
                .map_err(|e| e.to_string())?;
            let added = companies(&conf)?.add_cxml_sender(&c.id, &sender).await.map_err(|e| e.to_string())?;
            let what = if added == SenderAdded::Replaced { "secret replaced" } else { "registered" };
            eprintln!("company {id}: cXML sender {identity} {what} (the secret is stored only as an argon2id hash)");
        }
        Op::SetLocale { id, locale } => {
            let l =
                invoice_domain::company::Locale::parse(&locale).ok_or_else(|| format!("locale '{locale}': one of en-US, en-GB, fr-FR"))?;
            let c = require(&conf, &id).await?;
            companies(&conf)?.set_locale(&c.id, l).await.map_err(|e| e.to_string())?;
            eprintln!("company {id}: dates and amounts shown as {}", l.as_str());
        }
        Op::SetSuppliers { id, accept } => {
            let accept = accept
                .map(|list| list.iter().map(|i| invoice_domain::company::parse_identity(i)).collect::<Result<Vec<_>, _>>())
                .transpose()?;
            let c = require(&conf, &id).await?;
            companies(&conf)?.set_accepted_suppliers(&c.id, accept.as_deref()).await.map_err(|e| e.to_string())?;
            match &accept {
                None => eprintln!("company {id}: any supplier may POST invoices (with a registered sender)"),
                Some(list) => eprintln!("company {id}: accepted suppliers {}", list.join(", ")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn conn(connected_at: &str, import: ImportSettings) -> BusinessConnection {
        BusinessConnection {
            region: BusinessRegion::Na,
            secret_id: "invoice-bridge/companies/acme/business".into(),
            connected_at: connected_at.into(),
            status: ConnectionStatus::Connected,
            status_reason: None,
            status_at: None,
            import,
        }
    }

    fn args(start: Option<&str>) -> ImportArgs {
        ImportArgs { start_date: start.map(str::to_string), ..Default::default() }
    }

    #[test]
    fn on_off_and_dates_are_read_strictly() {
        assert_eq!(parse_on_off("on"), Ok(true));
        assert_eq!(parse_on_off("OFF"), Ok(false));
        assert!(parse_on_off("yes").unwrap_err().contains("on or off"));
        assert_eq!(parse_start_date("2026-02-10"), Ok(d("2026-02-10")));
        for bad in ["2026-2-10", "10/02/2026", "2026-02-30", "20260210", "2026-02-10T00:00:00Z", ""] {
            assert!(parse_start_date(bad).unwrap_err().contains("YYYY-MM-DD"), "{bad}");
        }
    }

    #[test]
    fn connect_checks_the_start_date_against_today_and_turns_auto_import_on() {
        let today = d("2026-03-10");
        let (before, after) = connect_settings(None, None, None, today).unwrap();
        assert!(after.auto_import, "on by default at connect");
        assert_eq!((before.start_date, after.start_date), (None, None), "the connection date");
        let (_, after) = connect_settings(None, Some("2026-02-08"), Some("off"), today).unwrap();
        assert_eq!((after.auto_import, after.start_date), (false, Some(d("2026-02-08"))), "30 days before");
        let e = connect_settings(None, Some("2026-02-07"), None, today).unwrap_err();
        assert!(e.starts_with("start-date-too-early:"), "{e}");
        let e = connect_settings(None, Some("2026-03-11"), None, today).unwrap_err();
        assert!(e.starts_with("start-date-in-future:"), "{e}");
        assert!(connect_settings(None, None, Some("maybe"), today).is_err());
    }

    #[test]
    fn a_reconnection_keeps_the_settings_and_the_start_of_the_one_it_replaces() {
        let keys = ImportSettings { auto_import: false, start_date: None, gl_key: Some("GL code".into()), cost_center_key: None };
        let old = conn("2026-01-05T09:00:00.000Z", keys);
        let (before, after) = connect_settings(Some(&old), None, None, d("2026-03-10")).unwrap();
        assert_eq!(before.start_date, Some(d("2026-01-05")), "no day between the connections skipped");
        assert_eq!(after, before);
        assert!(after.auto_import);
        assert_eq!(after.gl_key.as_deref(), Some("GL code"));
        let (before, after) = connect_settings(Some(&old), Some("2026-03-01"), Some("on"), d("2026-03-10")).unwrap();
        assert_eq!((before.start_date, after.start_date), (Some(d("2026-01-05")), Some(d("2026-03-01"))));
    }

    #[test]
    fn set_import_checks_the_start_date_against_the_connection_and_today() {
        let c = conn("2026-03-01T09:30:00.000Z", ImportSettings { auto_import: true, ..Default::default() });
        let today = d("2026-03-10");
        let s = set_import_settings(&c, &args(Some("2026-01-30")), today).unwrap();
        assert_eq!(s.start_date, Some(d("2026-01-30")), "exactly 30 days before the connection");
        let e = set_import_settings(&c, &args(Some("2026-01-29")), today).unwrap_err();
        assert!(e.starts_with("start-date-too-early:") && e.contains("2026-03-01"), "{e}");
        let e = set_import_settings(&c, &args(Some("2026-03-11")), today).unwrap_err();
        assert!(e.starts_with("start-date-in-future:"), "{e}");
        let e = set_import_settings(&conn("junk", Default::default()), &args(Some("2026-03-01")), today).unwrap_err();
        assert!(e.contains("connection date"), "{e}");

        let keys = ImportArgs {
            auto_import: Some("off".into()),
            gl_key: Some("  GL code ".into()),
            cost_center_key: Some("Cost center".into()),
            ..Default::default()
        };
        let s = set_import_settings(&c, &keys, today).unwrap();
        assert_eq!(
            s,
            ImportSettings {
                auto_import: false,
                start_date: None,
                gl_key: Some("GL code".into()),
                cost_center_key: Some("Cost center".into())
            }
        );
        let c2 = conn(&c.connected_at, s);
        let cleared = set_import_settings(&c2, &ImportArgs { gl_key: Some(String::new()), ..Default::default() }, today).unwrap();
        assert_eq!(
            (cleared.gl_key, cleared.cost_center_key.as_deref(), cleared.auto_import),
            (None, Some("Cost center"), false),
            "others kept"
        );
    }
}
