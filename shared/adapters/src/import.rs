//! The Amazon Business import's own state on the single table ([`ImportStore`]), every key
//! built from the company (layouts in [`crate::keys`]). No Scan.
//!
//! - The cursor: one item per company (`C#<co>#IMPORT` / `#CURSOR`), the cursor as its JSON
//!   text (round-trips exactly) and a numeric `version`; a save is conditional on the version
//!   read (`attribute_not_exists` for version 0) and sets `version + 1`.
//! - The status of the last pass: `C#<co>#IMPORT` / `#STATUS`, its JSON text.
//! - PDF tasks: one item per invoice (`C#<co>#PDFTASK#<invoice key>` / `#PDFTASK`), the task
//!   as its JSON text and its job's JSON text in `job` (the fingerprint a replacement is
//!   conditional on). While the job is not final the item is in GSI1
//!   `C#<co>#PDFOPEN` / `<created_at>#<invoice key>` (the company's open work, oldest first);
//!   the replacement that makes it final is written without those attributes.
//! - Issues: one item per company, kind and id (`C#<co>#IMPORTISSUE#<kind>#<id>` / `#ISSUE`,
//!   a conditional create), listed newest first in GSI2 `C#<co>#IMPORTISSUES` / `<at>#<kind>#<id>`.
//! - `set_purchase` updates only the `purchase` attribute of the invoice header (the map the
//!   header item holds it as), conditional on the header.
//! - `connection_refused` records NotAuthorized on the company's Amazon Business connection.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use invoice_domain::company::ConnectionStatus;
use invoice_domain::core::PortError;
use invoice_domain::import::pdf::PdfJob;
use invoice_domain::import::ports::{ImportIssue, ImportStatus, ImportStore, PdfTask};
use invoice_domain::import::purchase::Purchase;
use invoice_domain::import::{ImportCursor, ImportSettings};
use serde::Serialize;

use crate::companies::DynamoCompanies;
use crate::dynamo::DynamoRepo;
use crate::keys::{
    import_pk, invoice_pk, issue_pk, issues_pk, pdf_open_pk, pdf_open_sk, pdf_task_pk, CURSOR_SK, HEADER_SK, IMPORT_STATUS_SK, ISSUE_SK,
    PDF_TASK_SK,
};
use crate::sdk_err;
use crate::table::{condition_failed, from_item, get, keyed, s, Item, Q};

/// A company's import as `invoicectl import status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOverview {
    pub company: String,
    pub cursor: ImportCursor,
    /// 0: never saved (no pass has stored a page yet).
    pub cursor_version: u64,
    pub status: ImportStatus,
    /// PDF tasks not final yet (requested, being prepared, to fetch).
    pub pdf_tasks_open: usize,
    /// The oldest of them (when one is).
    pub oldest_open_pdf: Option<PdfTask>,
    /// Every issue of the company, and the newest of them (at most the limit asked).
    pub issues_total: usize,
    pub issues: Vec<ImportIssue>,
}

fn json<T: Serialize>(v: &T, what: &str) -> Result<String, PortError> {
    serde_json::to_string(v).map_err(|e| PortError(format!("encode {what}: {e}")))
}

fn text(item: &Item, attr: &str, what: &str) -> Result<String, PortError> {
    match item.get(attr) {
        Some(AttributeValue::S(t)) => Ok(t.clone()),
        _ => Err(PortError(format!("{what}: the item has no '{attr}' text"))),
    }
}

fn parse<T: serde::de::DeserializeOwned>(item: &Item, attr: &str, what: &str) -> Result<T, PortError> {
    serde_json::from_str(&text(item, attr, what)?).map_err(|e| PortError(format!("decode {what}: {e}")))
}

fn number(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The task's item: its JSON text, its job's (the fingerprint), a few attributes to read it
/// by, and the open-work index while the job is not final.
fn task_item(t: &PdfTask) -> Result<Item, PortError> {
    let mut item = Item::new();
    item.insert("PK".into(), s(pdf_task_pk(&t.company, &t.invoice_key)));
    item.insert("SK".into(), s(PDF_TASK_SK));
    item.insert("type".into(), s("pdf_task"));
    item.insert("company".into(), s(&t.company));
    item.insert("invoice_key".into(), s(&t.invoice_key));
    item.insert("invoice_number".into(), s(&t.target.invoice_number));
    item.insert("state".into(), s(job_state(&t.job)));
    item.insert("created_at".into(), s(&t.created_at));
    item.insert("updated_at".into(), s(&t.updated_at));
    item.insert("job".into(), s(json(&t.job, "pdf job")?));
    item.insert("task".into(), s(json(t, "pdf task")?));
    if !t.job.is_final() {
        item.insert("GSI1PK".into(), s(pdf_open_pk(&t.company)));
        item.insert("GSI1SK".into(), s(pdf_open_sk(&t.created_at, &t.invoice_key)));
    }
    Ok(item)
}

/// The state name of a job, as its JSON spells it (`to-request`, `stored`…).
fn job_state(job: &PdfJob) -> String {
    serde_json::to_value(job).ok().and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_string)).unwrap_or_default()
}

fn task_of(item: &Item) -> Result<PdfTask, PortError> {
    parse(item, "task", "pdf task")
}

/// An item, the condition of its put and the condition's values.
type ConditionalPut = (Item, &'static str, Vec<(&'static str, AttributeValue)>);

/// The attribute names of the conditions (in case a name is a reserved word).
const NAMES: &[(&str, &str)] = &[("#v", "version"), ("#job", "job")];

/// The status JSON text's attribute (`status` is a reserved word: named `import_status`).
const STATUS_ATTR: &str = "import_status";

impl DynamoRepo {
    /// Puts the item when `condition` holds (names `#v`, `#job` are `version`, `job`); false
    /// when it does not.
    async fn conditional_put(
        &self,
        item: Item,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        what: &str,
    ) -> Result<bool, PortError> {
        let mut req = self.client.put_item().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        for (k, v) in NAMES {
            if condition.contains(k) {
                req = req.expression_attribute_names(*k, *v);
            }
        }
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err(&format!("dynamodb {what}"), e)),
        }
    }

    /// The cursor item for `version + 1` and the condition that the stored one is `version`.
    fn cursor_put(&self, company: &str, cursor: &ImportCursor, version: u64) -> Result<ConditionalPut, PortError> {
        let mut item = Item::new();
        item.insert("PK".into(), s(import_pk(company)));
        item.insert("SK".into(), s(CURSOR_SK));
        item.insert("type".into(), s("import_cursor"));
        item.insert("company".into(), s(company));
        item.insert("cursor".into(), s(json(cursor, "import cursor")?));
        item.insert("version".into(), number(version + 1));
        if let Some(w) = cursor.watermark {
            item.insert("watermark".into(), s(invoice_domain::core::time::iso(w)));
        }
        Ok(if version == 0 { (item, "attribute_not_exists(PK)", vec![]) } else { (item, "#v = :v", vec![(":v", number(version))]) })
    }

    /// Sets the company's import settings and, in the same transaction, its cursor (moved with
    /// the start date) if its version is still `version`. `Ok(false)`: the cursor moved
    /// meanwhile (an import pass ran): nothing is written. `Err` when the company is unknown
    /// or has no Amazon Business connection.
    pub async fn set_import_with_cursor(
        &self,
        company: &str,
        settings: &ImportSettings,
        cursor: &ImportCursor,
        version: u64,
    ) -> Result<bool, PortError> {
        let companies = DynamoCompanies::new(self.client.clone(), self.table.clone());
        let (item, cond, values) = self.cursor_put(company, cursor, version)?;
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(cond);
        if cond.contains("#v") {
            put = put.expression_attribute_names("#v", "version");
        }
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        let put = put.build().map_err(|e| PortError(format!("build put: {e}")))?;
        let res = self
            .client
            .transact_write_items()
            .transact_items(companies.business_import_tx(company, settings)?)
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await;
        let Err(e) = res else { return Ok(true) };
        let reasons: Vec<String> = match e.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(x)) => {
                x.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect()
            }
            _ => return Err(sdk_err("dynamodb set import settings and cursor", e)),
        };
        let failed = |i: usize| reasons.get(i).map(String::as_str) == Some("ConditionalCheckFailed");
        if failed(0) {
            return Err(PortError(format!("company '{company}' is unknown or has no Amazon Business connection")));
        }
        if failed(1) {
            return Ok(false);
        }
        Err(PortError(format!("set import settings of {company}: transaction cancelled [{}]", reasons.join(", "))))
    }

    /// What `invoicectl import status` shows: the cursor, the last pass, the open PDF work and
    /// the newest `issue_limit` issues (index queries and one count each; no Scan).
    pub async fn import_overview(&self, company: &str, issue_limit: usize) -> Result<ImportOverview, PortError> {
        let (cursor, cursor_version) = self.cursor(company).await?;
        let status = self.status(company).await?;
        let open_pk = pdf_open_pk(company);
        let pdf_tasks_open = Q::index("GSI1", &open_pk).count(&self.client, &self.table).await?;
        let oldest_open_pdf = self.open_pdf_tasks(company, 1).await?.into_iter().next();
        let list_pk = issues_pk(company);
        let issues_total = Q::index("GSI2", &list_pk).count(&self.client, &self.table).await?;
        let issues = if issue_limit == 0 { Vec::new() } else { self.issues(company, issue_limit).await? };
        Ok(ImportOverview {
            company: company.to_string(),
            cursor,
            cursor_version,
            status,
            pdf_tasks_open,
            oldest_open_pdf,
            issues_total,
            issues,
        })
    }
}

impl ImportStore for DynamoRepo {
    async fn cursor(&self, company: &str) -> Result<(ImportCursor, u64), PortError> {
        let Some(item) = get(&self.client, &self.table, &import_pk(company), CURSOR_SK, "import cursor").await? else {
            return Ok((ImportCursor::default(), 0));
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => {
                n.parse::<u64>().map_err(|e| PortError(format!("import cursor of {company}: version '{n}': {e}")))?
            }
            _ => return Err(PortError(format!("import cursor of {company}: no version"))),
        };
        Ok((parse(&item, "cursor", "import cursor")?, version))
    }

    async fn save_cursor(&self, company: &str, cursor: &ImportCursor, version: u64) -> Result<bool, PortError> {
        let (item, cond, values) = self.cursor_put(company, cursor, version)?;
        self.conditional_put(item, cond, values, "save import cursor").await
    }

    async fn add_pdf_task(&self, task: &PdfTask) -> Result<bool, PortError> {
        self.conditional_put(task_item(task)?, "attribute_not_exists(PK)", vec![], "add pdf task").await
    }

    async fn pdf_task(&self, company: &str, invoice_key: &str) -> Result<Option<PdfTask>, PortError> {
        let item = get(&self.client, &self.table, &pdf_task_pk(company, invoice_key), PDF_TASK_SK, "pdf task").await?;
        item.as_ref().map(task_of).transpose()
    }

    async fn update_pdf_task(&self, task: &PdfTask, previous: &PdfJob) -> Result<bool, PortError> {
        // The whole item replaced: a final job's is written without the open-work index keys.
        let prev = json(previous, "pdf job")?;
        self.conditional_put(task_item(task)?, "attribute_exists(PK) AND #job = :prev", vec![(":prev", s(prev))], "update pdf task").await
    }

    async fn open_pdf_tasks(&self, company: &str, limit: usize) -> Result<Vec<PdfTask>, PortError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pk = pdf_open_pk(company);
        let items = Q::index("GSI1", &pk).limit(limit).all(&self.client, &self.table).await?;
        let tasks = items.iter().map(task_of).collect::<Result<Vec<_>, _>>()?;
        // The partition is the company's; checked again all the same (and a final job whose
        // index entry is not yet gone is not open work).
        Ok(tasks.into_iter().filter(|t| t.company == company && !t.job.is_final()).collect())
    }

    async fn put_issue(&self, issue: &ImportIssue) -> Result<bool, PortError> {
        let kind: &'static str = issue.kind.into();
        let mut item = keyed(issue, &issue.company, issue_pk(&issue.company, kind, &issue.id), ISSUE_SK, "import_issue")?;
        item.insert("GSI2PK".into(), s(issues_pk(&issue.company)));
        item.insert("GSI2SK".into(), s(format!("{}#{kind}#{}", issue.at, issue.id)));
        self.conditional_put(item, "attribute_not_exists(PK)", vec![], "put import issue").await
    }

    async fn issues(&self, company: &str, limit: usize) -> Result<Vec<ImportIssue>, PortError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pk = issues_pk(company);
        let items = Q::index("GSI2", &pk).newest_first().limit(limit).all(&self.client, &self.table).await?;
        let issues = items.into_iter().map(from_item).collect::<Result<Vec<ImportIssue>, _>>()?;
        Ok(issues.into_iter().filter(|i| i.company == company).collect())
    }

    async fn set_purchase(&self, company: &str, invoice_key: &str, purchase: &Purchase) -> Result<(), PortError> {
        // The same map the header item holds it as (the header is written with serde_dynamo).
        let value = serde_dynamo::to_attribute_value(purchase).map_err(|e| PortError(format!("encode purchase: {e}")))?;
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(invoice_pk(company, invoice_key)))
            .key("SK", s(HEADER_SK))
            .update_expression("SET #p = :p")
            .expression_attribute_names("#p", "purchase")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":p", value)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(PortError(format!("invoice {invoice_key} of {company} is not stored"))),
            Err(e) => Err(sdk_err("dynamodb set purchase", e)),
        }
    }

    async fn status(&self, company: &str) -> Result<ImportStatus, PortError> {
        match get(&self.client, &self.table, &import_pk(company), IMPORT_STATUS_SK, "import status").await? {
            None => Ok(ImportStatus::default()),
            Some(item) => parse(&item, STATUS_ATTR, "import status"),
        }
    }

    async fn put_status(&self, company: &str, status: &ImportStatus) -> Result<(), PortError> {
        let mut item = Item::new();
        item.insert("PK".into(), s(import_pk(company)));
        item.insert("SK".into(), s(IMPORT_STATUS_SK));
        item.insert("type".into(), s("import_status"));
        item.insert("company".into(), s(company));
        item.insert(STATUS_ATTR.into(), s(json(status, "import status")?));
        if let Some(at) = &status.last_run_at {
            item.insert("last_run_at".into(), s(at));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_err("dynamodb put import status", e))?;
        Ok(())
    }

    async fn connection_refused(&self, company: &str, reason: &str, at: &str) -> Result<(), PortError> {
        let companies = DynamoCompanies::new(self.client.clone(), self.table.clone());
        companies.set_business_status(company, ConnectionStatus::NotAuthorized, Some(reason), at).await
    }
}
