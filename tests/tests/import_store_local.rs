//! The Amazon Business import's state (`ImportStore` on the single table) against DynamoDB
//! Local: the versioned cursor (two saves from one version: one wins), the PDF tasks (created
//! once, replaced only from the job read, listed while open, never another company's), the
//! issues (once per company, kind and id), the filing of a stored invoice, a refused
//! connection recorded on the company, and what `import status` reads.

use chrono::{DateTime, NaiveDate, Utc};
use integration_tests::{repo_root, Env, ACME, GLOBEX};
use invoice_domain::company::ConnectionStatus;
use invoice_domain::import::answer::PaymentStatus;
use invoice_domain::import::codes::{ImportCode, ImportProblem};
use invoice_domain::import::mapping::{assemble, map_invoice, ImportContext, PdfTarget};
use invoice_domain::import::pdf::{PdfJob, PdfSelector};
use invoice_domain::import::ports::{ImportIssue, ImportStatus, ImportStore, IssueKind, PdfTask};
use invoice_domain::import::purchase::PurchaseKind;
use invoice_domain::import::watermark::{Backfill, ImportCursor};
use invoice_domain::import::{parse_invoice_details, parse_transactions_page, ImportSettings};
use invoice_domain::invoice::ports::{Claim, InvoiceRepository};
use invoice_domain::invoice::records::{entry_records, InvoiceRecord, BOOKING};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn task(company: &str, invoice_key: &str, created_at: &str) -> PdfTask {
    PdfTask {
        company: company.into(),
        invoice_key: invoice_key.into(),
        target: PdfTarget {
            invoice_number: invoice_key.rsplit('#').next().unwrap().into(),
            kind: PurchaseKind::Invoice,
            marketplace_id: Some("A13V1IB3VIYZZH".into()),
            order_line: None,
        },
        selector: PdfSelector::ByInvoice,
        job: PdfJob::default(),
        created_at: created_at.into(),
        updated_at: created_at.into(),
        not_before: None,
    }
}

fn issue(company: &str, kind: IssueKind, id: &str, at: &str) -> ImportIssue {
    ImportIssue {
        company: company.into(),
        kind,
        id: id.into(),
        invoice_number: Some(format!("INV-{id}")),
        invoice_key: None,
        transaction_ids: vec![format!("tx-{id}")],
        problem: ImportProblem::new(ImportCode::CurrencyMismatch, format!("invoice INV-{id}: EUR and USD lines")),
        stored_total: None,
        imported_total: None,
        archived_key: None,
        at: at.into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_saves_from_the_same_cursor_version_one_wins() {
    let env = Env::new().await;
    let repo = &env.repo;
    assert_eq!(repo.cursor(ACME).await.unwrap(), (ImportCursor::default(), 0), "never saved");

    let first = ImportCursor { watermark: Some(t("2026-03-02T06:00:00Z")), ..Default::default() };
    let other = ImportCursor { watermark: Some(t("2026-03-02T07:00:00Z")), ..Default::default() };
    let (a, b) = tokio::join!(repo.save_cursor(ACME, &first, 0), repo.save_cursor(ACME, &other, 0));
    assert!(a.unwrap() ^ b.unwrap(), "exactly one of two creations wins");
    let (won, v) = repo.cursor(ACME).await.unwrap();
    assert_eq!(v, 1);
    assert!(won == first || won == other);

    // From version 1: one of two wins again, the loser's cursor is not stored.
    let run = won.next_run(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), t("2026-03-03T06:00:00Z")).unwrap();
    let c2 = ImportCursor {
        watermark: won.watermark,
        backfill: Some(Backfill { from: t("2026-02-10T00:00:00Z"), until: t("2026-03-02T06:00:00Z") }),
        run: Some(run),
    };
    assert!(repo.save_cursor(ACME, &c2, 1).await.unwrap());
    assert!(!repo.save_cursor(ACME, &first, 1).await.unwrap(), "stale version");
    assert!(!repo.save_cursor(ACME, &first, 0).await.unwrap(), "version 0 once saved");
    assert!(!repo.save_cursor(ACME, &first, 7).await.unwrap(), "a version never stored");
    assert_eq!(repo.cursor(ACME).await.unwrap(), (c2.clone(), 2), "round-trips exactly, run and backfill included");

    // Another company's cursor is its own.
    assert_eq!(repo.cursor(GLOBEX).await.unwrap(), (ImportCursor::default(), 0));
    assert!(repo.save_cursor(GLOBEX, &first, 0).await.unwrap());
    assert_eq!(repo.cursor(ACME).await.unwrap().0, c2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pdf_task_is_created_once_replaced_from_its_job_and_listed_while_open() {
    let env = Env::new().await;
    let repo = &env.repo;
    let a1 = task(ACME, "amazon-business#FR5001ABC1", "2026-03-03T07:00:00.000Z");
    let a2 = task(ACME, "amazon-business#FR5002XYZ9", "2026-03-03T07:00:01.000Z");
    let g1 = task(GLOBEX, "amazon-business#FR5001ABC1", "2026-03-03T06:00:00.000Z");
    assert!(repo.add_pdf_task(&a1).await.unwrap());
    assert!(!repo.add_pdf_task(&a1).await.unwrap(), "the invoice has its task");
    let mut again = a1.clone();
    again.created_at = "2026-03-04T00:00:00.000Z".into();
    assert!(!repo.add_pdf_task(&again).await.unwrap(), "whatever the second one says");
    assert!(repo.add_pdf_task(&a2).await.unwrap());
    assert!(repo.add_pdf_task(&g1).await.unwrap(), "the same invoice key of another company");
    assert_eq!(repo.pdf_task(ACME, &a1.invoice_key).await.unwrap(), Some(a1.clone()), "round-trips exactly");
    assert_eq!(repo.pdf_task(ACME, "amazon-business#NONE").await.unwrap(), None);

    let open = repo.open_pdf_tasks(ACME, 10).await.unwrap();
    assert_eq!(open, vec![a1.clone(), a2.clone()], "oldest first, only acme's");
    assert_eq!(repo.open_pdf_tasks(ACME, 1).await.unwrap(), vec![a1.clone()], "at most the limit");
    assert_eq!(repo.open_pdf_tasks(GLOBEX, 10).await.unwrap(), vec![g1.clone()]);

    // Requested: from the job read; a second worker still holding the old job loses.
    let requested = PdfTask {
        job: PdfJob::Requested { report_id: "rep-1".into(), polls: 0, attempts: 0 },
        updated_at: "2026-03-03T07:01:00.000Z".into(),
        not_before: Some("2026-03-03T07:01:15.000Z".into()),
        ..a1.clone()
    };
    assert!(repo.update_pdf_task(&requested, &a1.job).await.unwrap());
    let other_worker = PdfTask { job: PdfJob::Requested { report_id: "rep-2".into(), polls: 0, attempts: 0 }, ..a1.clone() };
    assert!(!repo.update_pdf_task(&other_worker, &a1.job).await.unwrap(), "stale previous job");
    assert_eq!(repo.pdf_task(ACME, &a1.invoice_key).await.unwrap(), Some(requested.clone()));
    let polled = PdfTask { job: PdfJob::Requested { report_id: "rep-1".into(), polls: 1, attempts: 0 }, ..requested.clone() };
    assert!(repo.update_pdf_task(&polled, &requested.job).await.unwrap());
    assert!(!repo.update_pdf_task(&polled, &requested.job).await.unwrap(), "the same step twice: once");
    assert_eq!(repo.open_pdf_tasks(ACME, 10).await.unwrap(), vec![polled.clone(), a2.clone()], "still open, in its place");

    // No task to replace: false, nothing created.
    let ghost = task(ACME, "amazon-business#GHOST", "2026-03-03T07:00:00.000Z");
    assert!(!repo.update_pdf_task(&ghost, &PdfJob::default()).await.unwrap());
    assert_eq!(repo.pdf_task(ACME, "amazon-business#GHOST").await.unwrap(), None);

    // Final jobs leave the open list.
    let stored = PdfTask { job: PdfJob::Stored { document_key: "documents/acme/abc.pdf".into() }, ..polled.clone() };
    assert!(repo.update_pdf_task(&stored, &polled.job).await.unwrap());
    assert_eq!(repo.open_pdf_tasks(ACME, 10).await.unwrap(), vec![a2.clone()]);
    let problem = ImportProblem::new(ImportCode::ReportFatal, "the report of invoice FR5002XYZ9 ended FATAL twice");
    let gone = PdfTask { job: PdfJob::Unavailable { problem }, ..a2.clone() };
    assert!(repo.update_pdf_task(&gone, &a2.job).await.unwrap());
    assert_eq!(repo.open_pdf_tasks(ACME, 10).await.unwrap(), vec![], "nothing open");
    assert_eq!(repo.pdf_task(ACME, &a2.invoice_key).await.unwrap(), Some(gone), "kept, final");
    assert!(!repo.add_pdf_task(&a1).await.unwrap(), "a final task is not created again");
    assert_eq!(repo.open_pdf_tasks(GLOBEX, 10).await.unwrap(), vec![g1], "globex's untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn issues_are_recorded_once_per_company_kind_and_id() {
    let env = Env::new().await;
    let repo = &env.repo;
    let i1 = issue(ACME, IssueKind::Refused, "tx-1", "2026-03-03T07:00:00.000Z");
    let i2 = issue(ACME, IssueKind::Abandoned, "tx-1", "2026-03-03T08:00:00.000Z");
    let i3 = issue(ACME, IssueKind::Flagged, "sha-abc", "2026-03-03T09:00:00.000Z");
    assert!(repo.put_issue(&i1).await.unwrap());
    assert!(!repo.put_issue(&i1).await.unwrap(), "recorded already");
    let later = ImportIssue { at: "2026-03-04T07:00:00.000Z".into(), ..i1.clone() };
    assert!(!repo.put_issue(&later).await.unwrap(), "the same company, kind and id at another time");
    assert!(repo.put_issue(&i2).await.unwrap(), "the same id of another kind");
    assert!(repo.put_issue(&i3).await.unwrap());
    let g = issue(GLOBEX, IssueKind::Refused, "tx-1", "2026-03-03T07:30:00.000Z");
    assert!(repo.put_issue(&g).await.unwrap(), "the same issue of another company");

    assert_eq!(repo.issues(ACME, 10).await.unwrap(), vec![i3.clone(), i2.clone(), i1.clone()], "newest first, acme's only");
    assert_eq!(repo.issues(ACME, 2).await.unwrap(), vec![i3, i2]);
    assert_eq!(repo.issues(GLOBEX, 10).await.unwrap(), vec![g]);
    assert_eq!(repo.issues("initech", 10).await.unwrap(), vec![]);
}

fn domain_fixture(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("shared/domain/tests/fixtures/import").join(name)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn set_purchase_changes_the_filing_get_invoice_reads() {
    let env = Env::new().await;
    let repo = &env.repo;
    let mut txs = parse_transactions_page(&domain_fixture("transactions-page-1.json")).unwrap().transactions;
    txs.extend(parse_transactions_page(&domain_fixture("transactions-page-2.json")).unwrap().transactions);
    let details = parse_invoice_details(&domain_fixture("invoice-details.json")).unwrap();
    let src = assemble(&txs, &details).invoices.into_iter().find(|i| i.number == "FR5001ABC1").unwrap();
    let (chart, settings) = (Default::default(), ImportSettings { auto_import: true, ..Default::default() });
    let ctx = ImportContext {
        company: ACME,
        chart: &chart,
        settings: &settings,
        start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        received_at: "2026-03-03T07:00:00.000Z",
        archive_prefix: "archive/",
    };
    let imp = map_invoice(&src, None, &ctx).unwrap();
    let h = &imp.record;
    assert_eq!(repo.claim(h).await.unwrap(), Claim::Claimed);
    let entries = entry_records(imp.entries.clone(), &h.invoice_key, BOOKING, &h.invoice_date, &h.invoice_date);
    repo.put_details(h, &imp.lines, &entries).await.unwrap();
    repo.mark_valid(h).await.unwrap();
    let before = repo.get_invoice(ACME, &h.invoice_key).await.unwrap().unwrap();
    assert_eq!(before.purchase, h.purchase, "the import's filing as stored");

    let mut p = h.purchase.clone().unwrap();
    p.payment_status = Some(PaymentStatus::PastDue);
    p.due_date = Some("2026-04-02".into());
    p.transaction_ids.push("tx-later".into());
    repo.set_purchase(ACME, &h.invoice_key, &p).await.unwrap();
    let after = repo.get_invoice(ACME, &h.invoice_key).await.unwrap().unwrap();
    assert_eq!(after.purchase, Some(p.clone()), "read back as set");
    assert_eq!(sans_purchase(&after), sans_purchase(&before), "nothing else changed");
    assert_eq!(repo.get_lines(ACME, &h.invoice_key).await.unwrap().len(), imp.lines.len());

    // Only a stored header: another company's key, or an unknown one, is an error, nothing created.
    assert!(repo.set_purchase(GLOBEX, &h.invoice_key, &p).await.is_err());
    assert_eq!(repo.get_invoice(GLOBEX, &h.invoice_key).await.unwrap(), None);
    assert!(repo.set_purchase(ACME, "amazon-business#NONE", &p).await.is_err());
}

fn sans_purchase(r: &InvoiceRecord) -> InvoiceRecord {
    InvoiceRecord { purchase: None, ..r.clone() }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_recorded_on_the_company_and_the_status_kept() {
    let env = Env::new().await;
    let repo = &env.repo;
    env.connect_business(ACME, "Atzr|acme").await;
    env.connect_business(GLOBEX, "Atzr|globex").await;
    repo.connection_refused(ACME, "LWA: invalid_grant (the refresh token was revoked)", "2026-03-03T07:00:00.000Z").await.unwrap();
    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!(b.status, ConnectionStatus::NotAuthorized);
    assert_eq!(b.status_reason.as_deref(), Some("LWA: invalid_grant (the refresh token was revoked)"));
    assert_eq!(b.status_at.as_deref(), Some("2026-03-03T07:00:00.000Z"));
    assert!(!b.secret_id.is_empty(), "the rest of the connection kept");
    let g = env.companies.get(GLOBEX).await.unwrap().unwrap().business.unwrap();
    assert_eq!(g.status, ConnectionStatus::Connected, "only that company");
    // A company with no connection: nothing to record, no error.
    env.create_company("initech", "Initech", &[]).await;
    repo.connection_refused("initech", "revoked", "2026-03-03T07:00:00.000Z").await.unwrap();
    assert!(env.companies.get("initech").await.unwrap().unwrap().business.is_none());

    // The status of the last pass, beside the cursor.
    assert_eq!(repo.status(ACME).await.unwrap(), ImportStatus::default());
    let st = ImportStatus {
        last_run_at: Some("2026-03-03T07:00:00.000Z".into()),
        last_report: Some(serde_json::json!({"company": ACME, "transactions": 12, "requests": {"getTransactions": 3}, "ratio": 0.5})),
        last_problem: Some("stopped: LWA: invalid_grant".into()),
    };
    repo.put_status(ACME, &st).await.unwrap();
    assert_eq!(repo.status(ACME).await.unwrap(), st, "round-trips exactly");
    assert_eq!(repo.status(GLOBEX).await.unwrap(), ImportStatus::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn import_settings_are_set_alone_or_with_the_cursor_in_one_transaction() {
    let env = Env::new().await;
    let repo = &env.repo;
    env.connect_business(ACME, "Atzr|acme").await;
    let settings = ImportSettings {
        auto_import: true,
        start_date: NaiveDate::from_ymd_opt(2024, 12, 15),
        gl_key: Some("GL code".into()),
        cost_center_key: None,
    };
    env.companies.set_business_import(ACME, &settings).await.unwrap();
    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!(b.import, settings);
    assert_eq!(b.connected_at, "2025-01-01T00:00:00.000Z", "the rest of the connection kept");
    assert!(env.companies.set_business_import(GLOBEX, &settings).await.is_err(), "no connection");
    assert!(env.companies.set_business_import("nobody", &settings).await.is_err());

    let c = ImportCursor {
        watermark: Some(t("2025-01-10T06:00:00Z")),
        backfill: Some(Backfill { from: t("2024-12-10T00:00:00Z"), until: t("2025-01-10T06:00:00Z") }),
        run: None,
    };
    let moved = ImportSettings { start_date: NaiveDate::from_ymd_opt(2024, 12, 10), ..settings.clone() };
    assert!(repo.set_import_with_cursor(ACME, &moved, &c, 0).await.unwrap());
    assert_eq!(repo.cursor(ACME).await.unwrap(), (c.clone(), 1));
    assert_eq!(env.companies.get(ACME).await.unwrap().unwrap().business.unwrap().import, moved);
    // The cursor moved meanwhile: nothing written, settings included.
    assert!(!repo.set_import_with_cursor(ACME, &settings, &ImportCursor::default(), 0).await.unwrap());
    assert_eq!(env.companies.get(ACME).await.unwrap().unwrap().business.unwrap().import, moved);
    assert_eq!(repo.cursor(ACME).await.unwrap(), (c.clone(), 1));
    assert!(repo.set_import_with_cursor(GLOBEX, &settings, &c, 0).await.is_err(), "no connection");
    assert_eq!(repo.cursor(GLOBEX).await.unwrap().1, 0, "and no cursor written");

    // What `import status` reads.
    repo.add_pdf_task(&task(ACME, "amazon-business#A", "2026-03-03T07:00:00.000Z")).await.unwrap();
    repo.add_pdf_task(&task(ACME, "amazon-business#B", "2026-03-03T07:00:01.000Z")).await.unwrap();
    repo.add_pdf_task(&task(GLOBEX, "amazon-business#C", "2026-03-03T06:00:00.000Z")).await.unwrap();
    for (i, at) in ["2026-03-03T07:00:00.000Z", "2026-03-03T08:00:00.000Z", "2026-03-03T09:00:00.000Z"].iter().enumerate() {
        repo.put_issue(&issue(ACME, IssueKind::Refused, &format!("tx-{i}"), at)).await.unwrap();
    }
    let o = repo.import_overview(ACME, 2).await.unwrap();
    assert_eq!((o.cursor, o.cursor_version), (c, 1));
    assert_eq!(o.pdf_tasks_open, 2);
    assert_eq!(o.oldest_open_pdf.map(|t| t.invoice_key), Some("amazon-business#A".to_string()));
    assert_eq!(o.issues_total, 3);
    assert_eq!(o.issues.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["tx-2", "tx-1"]);
    let g = repo.import_overview(GLOBEX, 10).await.unwrap();
    assert_eq!((g.pdf_tasks_open, g.issues_total, g.cursor_version), (1, 0, 0));
}
