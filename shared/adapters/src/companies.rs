//! Companies (tenants) on the single table: the company record, and one item per registered
//! cXML identity naming the company that holds it (so an identity belongs to one company at
//! most, enforced by a conditional write, and ingestion resolves a `To` credential with one
//! GetItem). Listing companies uses GSI1 `COMPANIES` — no Scan.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use invoice_domain::channel::mail::{normalize_address, MailDirectory};
use invoice_domain::company::{
    BusinessConnection, Company, CompanyDirectory, ConnectionStatus, CxmlSender, MailSettings, VendorConnection,
};
use invoice_domain::core::PortError;

use crate::keys::{company_pk, identity_pk, mail_address_pk, COMPANIES_GSI1PK, COMPANY_SK, IDENTITY_SK, MAILADDR_SK};
use crate::sdk_err;
use crate::table::{condition_failed, from_item, get, keyed, s, to_item, Item, Q};

/// The import settings of the Amazon Business connection, and the condition that it exists (a
/// company without one holds `business` as NULL: a map is required, else the document path
/// of the update is invalid).
const SET_IMPORT: &str = "SET business.#imp = :i";
const HAS_BUSINESS: &str = "attribute_type(business, :map)";

#[derive(Clone)]
pub struct DynamoCompanies {
    pub client: Client,
    pub table: String,
}

/// What registering a cXML sender came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderAdded {
    Added,
    /// The identity was registered already: its secret hash is replaced (a rotation).
    Replaced,
}

/// What creating a company came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The very same company exists already (a repeated command): nothing changed.
    AlreadyExists,
    /// Another company (or another version of this one) has the id.
    IdTaken(Box<Company>),
    /// The identity is registered to another company.
    IdentityTaken {
        identity: String,
        holder: String,
    },
}

impl DynamoCompanies {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoCompanies { client, table: table.into() }
    }

    fn company_item(c: &Company) -> Result<Item, PortError> {
        let mut item = keyed(c, &c.id, company_pk(&c.id), COMPANY_SK, "company")?;
        item.insert("GSI1PK".into(), s(COMPANIES_GSI1PK));
        item.insert("GSI1SK".into(), s(&c.id));
        Ok(item)
    }

    fn put(&self, item: Item, condition: &str, values: &[(&str, &str)]) -> Result<TransactWriteItem, PortError> {
        let mut p = Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        for (k, v) in values {
            p = p.expression_attribute_values(*k, s(*v));
        }
        Ok(TransactWriteItem::builder().put(p.build().map_err(|e| PortError(format!("build put: {e}")))?).build())
    }

    /// Creates the company and registers its identities, atomically. Refused (nothing written)
    /// when the id is taken by a different company or an identity is held by another company.
    pub async fn create(&self, c: &Company) -> Result<Created, PortError> {
        if c.cxml_identities.len() > 90 {
            return Err(PortError(format!("at most 90 cXML identities at once, got {}", c.cxml_identities.len())));
        }
        let mut tx =
            self.client.transact_write_items().transact_items(self.put(Self::company_item(c)?, "attribute_not_exists(PK)", &[])?);
        for identity in &c.cxml_identities {
            let mut item = Item::new();
            item.insert("PK".into(), s(identity_pk(identity)));
            item.insert("SK".into(), s(IDENTITY_SK));
            item.insert("type".into(), s("cxml_identity"));
            item.insert("company".into(), s(&c.id));
            item.insert("identity".into(), s(identity));
            tx = tx.transact_items(self.put(item, "attribute_not_exists(PK) OR company = :me", &[(":me", &c.id)])?);
        }
        let Err(e) = tx.send().await else { return Ok(Created::Created) };
        let reasons: Vec<String> = match e.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(x)) => {
                x.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect()
            }
            _ => return Err(sdk_err("dynamodb create company", e)),
        };
        let failed = |i: usize| reasons.get(i).map(String::as_str) == Some("ConditionalCheckFailed");
        for (i, identity) in c.cxml_identities.iter().enumerate() {
            if failed(i + 1) {
                let holder = self.company_of_identity(identity).await?.unwrap_or_else(|| "?".into());
                if holder != c.id {
                    return Ok(Created::IdentityTaken { identity: identity.clone(), holder });
                }
            }
        }
        if failed(0) {
            return Ok(match self.get(&c.id).await? {
                Some(existing) if existing.name == c.name && existing.cxml_identities == c.cxml_identities => Created::AlreadyExists,
                Some(existing) => Created::IdTaken(Box::new(existing)),
                None => return Err(PortError(format!("create company {}: refused, but no such company exists; retry", c.id))),
            });
        }
        Err(PortError(format!("create company {}: transaction cancelled [{}]", c.id, reasons.join(", "))))
    }

    pub async fn get(&self, id: &str) -> Result<Option<Company>, PortError> {
        get(&self.client, &self.table, &company_pk(id), COMPANY_SK, "company").await?.map(from_item).transpose()
    }

    /// Every company, by id.
    pub async fn list(&self) -> Result<Vec<Company>, PortError> {
        Q::index("GSI1", COMPANIES_GSI1PK).all(&self.client, &self.table).await?.into_iter().map(from_item).collect()
    }

    /// Companies with a vendor (SP-API) connection.
    pub async fn with_vendor_connection(&self) -> Result<Vec<Company>, PortError> {
        Ok(self.list().await?.into_iter().filter(|c| c.vendor.is_some()).collect())
    }

    /// Sets (replaces) the company's vendor connection; the company must exist.
    pub async fn set_vendor_connection(&self, id: &str, conn: &VendorConnection) -> Result<(), PortError> {
        let value = AttributeValue::M(to_item(conn)?);
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression("SET vendor = :v")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":v", value)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("no company has the id '{id}'"))),
            Err(e) => Err(sdk_err("dynamodb set vendor connection", e)),
        }
    }

    /// Sets the company's e-mail channel: its invoice addresses (each registered to this company
    /// only, with a conditional write: an address another company holds is refused, nothing
    /// written), the allowed senders and whether GRAY verdicts pass. `Err` names the holder.
    pub async fn set_mail(&self, id: &str, settings: &MailSettings) -> Result<Result<MailSettings, String>, PortError> {
        let mut settings = settings.clone();
        settings.addresses = settings.addresses.iter().map(|a| normalize_address(a)).filter(|a| !a.is_empty()).collect();
        settings.addresses.dedup();
        settings.allow = settings.allow.iter().map(|a| normalize_address(a)).filter(|a| !a.is_empty()).collect();
        if settings.addresses.len() > 50 {
            return Ok(Err(format!("at most 50 addresses per company, got {}", settings.addresses.len())));
        }
        for a in &settings.addresses {
            if !a.contains('@') {
                return Ok(Err(format!("'{a}' is not an e-mail address")));
            }
            if let Some(holder) = self.company_of_mail_address(a).await? {
                if holder != id {
                    return Ok(Err(format!("{a} is already the invoice address of company '{holder}'")));
                }
            }
        }
        let value = AttributeValue::M(to_item(&settings)?);
        let mut tx = self.client.transact_write_items();
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression("SET mail = :m")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":m", value)
            .build()
            .map_err(|e| PortError(format!("build update: {e}")))?;
        tx = tx.transact_items(TransactWriteItem::builder().update(update).build());
        for a in &settings.addresses {
            let mut item = Item::new();
            item.insert("PK".into(), s(mail_address_pk(a)));
            item.insert("SK".into(), s(MAILADDR_SK));
            item.insert("type".into(), s("mail_address"));
            item.insert("company".into(), s(id));
            item.insert("address".into(), s(a));
            tx = tx.transact_items(self.put(item, "attribute_not_exists(PK) OR company = :me", &[(":me", id)])?);
        }
        match tx.send().await {
            Ok(_) => Ok(Ok(settings)),
            Err(e) => match self.get(id).await? {
                None => Ok(Err(format!("no company has the id '{id}'"))),
                Some(_) => Err(sdk_err("dynamodb set mail settings", e)),
            },
        }
    }

    /// Registers a cXML sender (its identity and the argon2 hash of its SharedSecret) with the
    /// company, replacing a sender with the same identity. A conditional update on the list as
    /// read, so two concurrent registrations never lose one (the loser retries, up to 5 times).
    pub async fn add_cxml_sender(&self, id: &str, sender: &CxmlSender) -> Result<SenderAdded, PortError> {
        for _ in 0..5 {
            let company = self.get(id).await?.ok_or_else(|| PortError(format!("no company has the id '{id}'")))?;
            let old = company.cxml_senders.clone();
            let mut senders: Vec<CxmlSender> = old.iter().filter(|s| s.identity != sender.identity).cloned().collect();
            let outcome = if senders.len() < old.len() { SenderAdded::Replaced } else { SenderAdded::Added };
            senders.push(sender.clone());
            let list = |v: &[CxmlSender]| -> Result<AttributeValue, PortError> {
                Ok(AttributeValue::L(v.iter().map(|s| to_item(s).map(AttributeValue::M)).collect::<Result<_, _>>()?))
            };
            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(company_pk(id)))
                .key("SK", s(COMPANY_SK))
                .update_expression("SET cxml_senders = :new")
                .expression_attribute_values(":new", list(&senders)?);
            req = if old.is_empty() {
                req.condition_expression("attribute_exists(PK) AND (attribute_not_exists(cxml_senders) OR size(cxml_senders) = :zero)")
                    .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            } else {
                req.condition_expression("attribute_exists(PK) AND cxml_senders = :old").expression_attribute_values(":old", list(&old)?)
            };
            match req.send().await {
                Ok(_) => return Ok(outcome),
                Err(e) if condition_failed(&e) => continue,
                Err(e) => return Err(sdk_err("dynamodb add cxml sender", e)),
            }
        }
        Err(PortError(format!("company {id}: the senders kept changing while registering one; retry")))
    }

    /// Records (or replaces) the company's Amazon Business connection.
    pub async fn set_business_connection(&self, id: &str, conn: &BusinessConnection) -> Result<(), PortError> {
        self.update_company(id, "SET business = :b", vec![(":b", AttributeValue::M(to_item(conn)?))], "set business connection").await
    }

    /// Sets only the import settings of the company's Amazon Business connection (the rest of
    /// the connection is kept). `Err` when the company is unknown or has no connection.
    pub async fn set_business_import(&self, id: &str, settings: &invoice_domain::import::ImportSettings) -> Result<(), PortError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression(SET_IMPORT)
            .condition_expression(HAS_BUSINESS)
            .expression_attribute_values(":map", s("M"))
            .expression_attribute_names("#imp", "import")
            .expression_attribute_values(":i", AttributeValue::M(to_item(settings)?))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("company '{id}' is unknown or has no Amazon Business connection"))),
            Err(e) => Err(sdk_err("dynamodb set import settings", e)),
        }
    }

    /// [`Self::set_business_import`] as one item of a transaction.
    pub(crate) fn business_import_tx(
        &self,
        id: &str,
        settings: &invoice_domain::import::ImportSettings,
    ) -> Result<TransactWriteItem, PortError> {
        let u = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression(SET_IMPORT)
            .condition_expression(HAS_BUSINESS)
            .expression_attribute_values(":map", s("M"))
            .expression_attribute_names("#imp", "import")
            .expression_attribute_values(":i", AttributeValue::M(to_item(settings)?))
            .build()
            .map_err(|e| PortError(format!("build update: {e}")))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// Records the state of the company's Amazon Business connection (e.g. NotAuthorized with
    /// LWA's reason); a no-op when it has none.
    pub async fn set_business_status(&self, id: &str, status: ConnectionStatus, reason: Option<&str>, at: &str) -> Result<(), PortError> {
        self.set_connection_status(id, "business", status, reason, at).await
    }

    /// Sets the company's matching tolerances (stored as their JSON text, as the company record
    /// holds them).
    pub async fn set_tolerances(&self, id: &str, tolerances: &invoice_domain::matching::Tolerances) -> Result<(), PortError> {
        let text = serde_json::to_string(tolerances).map_err(|e| PortError(e.to_string()))?;
        self.update_company(id, "SET tolerances = :t", vec![(":t", s(text))], "set tolerances").await
    }

    /// Sets the locale the dashboard shows the company's dates and amounts in.
    pub async fn set_locale(&self, id: &str, locale: invoice_domain::company::Locale) -> Result<(), PortError> {
        self.update_company(id, "SET locale = :l", vec![(":l", s(locale.as_str()))], "set locale").await
    }

    /// Sets which supplier (`From`) identities the company accepts over HTTPS: `None` any,
    /// `Some(list)` only those (already normalised with `company::parse_identity`).
    pub async fn set_accepted_suppliers(&self, id: &str, accepted: Option<&[String]>) -> Result<(), PortError> {
        match accepted {
            None => self.update_company(id, "REMOVE accepted_suppliers", vec![], "set accepted suppliers").await,
            Some(list) => {
                let l = AttributeValue::L(list.iter().map(|i| s(i.clone())).collect());
                self.update_company(id, "SET accepted_suppliers = :l", vec![(":l", l)], "set accepted suppliers").await
            }
        }
    }

    /// One update of an existing company item; a missing company is a clear error.
    async fn update_company(&self, id: &str, update: &str, values: Vec<(&str, AttributeValue)>, what: &str) -> Result<(), PortError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression(update)
            .condition_expression("attribute_exists(PK)");
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("no company has the id '{id}'"))),
            Err(e) => Err(sdk_err(&format!("dynamodb {what}"), e)),
        }
    }

    /// The status of one of the company's connections (`vendor`, `business`); a no-op when it
    /// has none.
    async fn set_connection_status(
        &self,
        id: &str,
        which: &str,
        status: ConnectionStatus,
        reason: Option<&str>,
        at: &str,
    ) -> Result<(), PortError> {
        let status = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(company_pk(id)))
            .key("SK", s(COMPANY_SK))
            .update_expression(format!("SET {which}.#st = :st, {which}.status_reason = :r, {which}.status_at = :at"))
            // A map: a company without the connection holds it as NULL.
            .condition_expression(format!("attribute_type({which}, :map)"))
            .expression_attribute_values(":map", s("M"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(status))
            .expression_attribute_values(":r", reason.map(s).unwrap_or(AttributeValue::Null(true)))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err(&format!("dynamodb set {which} status"), e)),
        }
    }

    /// Records the state of the company's vendor connection (e.g. NotAuthorized with LWA's
    /// reason); a no-op when the company has no connection.
    pub async fn set_vendor_status(&self, id: &str, status: ConnectionStatus, reason: Option<&str>, at: &str) -> Result<(), PortError> {
        self.set_connection_status(id, "vendor", status, reason, at).await
    }
}

impl CompanyDirectory for DynamoCompanies {
    async fn company(&self, id: &str) -> Result<Option<Company>, PortError> {
        if invoice_domain::company::id_problem(id).is_some() {
            return Ok(None);
        }
        self.get(id).await
    }

    async fn company_of_identity(&self, identity: &str) -> Result<Option<String>, PortError> {
        let item = get(&self.client, &self.table, &identity_pk(identity), IDENTITY_SK, "cxml identity").await?;
        Ok(item.and_then(|mut i| match i.remove("company") {
            Some(AttributeValue::S(c)) => Some(c),
            _ => None,
        }))
    }
}

impl MailDirectory for DynamoCompanies {
    async fn company_of_mail_address(&self, address: &str) -> Result<Option<String>, PortError> {
        let item = get(&self.client, &self.table, &mail_address_pk(address), MAILADDR_SK, "mail address").await?;
        Ok(item.and_then(|mut i| match i.remove("company") {
            Some(AttributeValue::S(c)) => Some(c),
            _ => None,
        }))
    }
}
