//! invoicectl company …: create, show and list companies; connect a company's Amazon vendor
//! account (its refresh token goes to Secrets Manager, never to the table or the terminal).

use std::io::Read;

use invoice_adapters::companies::{Created, DynamoCompanies, SenderAdded};
use invoice_adapters::secrets::Secrets;
use invoice_domain::company::{BusinessConnection, BusinessRegion, Company, ConnectionStatus, VendorConnection};
use invoice_domain::core::time::iso;

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
    },
    SetTolerances {
        id: String,
        file: std::path::PathBuf,
    },
    AddSender {
        id: String,
        identity: String,
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
        Op::ConnectBusiness { id, region } => {
            let region: BusinessRegion = region.parse().map_err(|_| format!("unknown Amazon Business region '{region}' (NA, EU or JP)"))?;
            let c = require(&conf, &id).await?;
            let token = read_token("connect-amazon-business ID --region NA")?;
            let secret_id = Secrets::from_conf(&conf).put_business_token(&c.id, &token).await.map_err(|e| e.to_string())?;
            let conn = BusinessConnection {
                region,
                secret_id,
                connected_at: iso(chrono::Utc::now()),
                status: ConnectionStatus::Connected,
                status_reason: None,
                status_at: None,
                import: Default::default(),
            };
            companies(&conf)?.set_business_connection(&c.id, &conn).await.map_err(|e| e.to_string())?;
            eprintln!(
                "company {id}: Amazon Business account ({region}) connected (refresh token stored in Secrets Manager as {})",
                conn.secret_id
            );
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
