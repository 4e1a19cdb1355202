//! `invoicectl company connect-amazon-business --start-date/--auto-import` and `company
//! set-import` against DynamoDB Local (and moto's Secrets Manager): the start date is checked
//! against the connection date and today (`start-date-too-early`, `start-date-in-future`, a
//! non-zero exit, nothing changed); moving it back moves the import's cursor (a backfill).

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use integration_tests::{Env, ACME, GLOBEX};
use invoice_domain::import::ports::ImportStore;
use invoice_domain::import::watermark::ImportCursor;

fn ctl(env: &Env, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invoicectl"))
        .env("TABLE_NAME", &env.table)
        .env("COMPANY_SECRETS_PREFIX", &env.secrets.company_prefix)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread")]
async fn set_import_refuses_a_start_date_31_days_before_the_connection() {
    let env = Env::new().await;
    env.connect_business(ACME, "Atzr|acme").await; // connected 2025-01-01
    let before = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap().import;
    let (ok, out, err) = ctl(&env, &["company", "set-import", ACME, "--start-date", "2024-12-01"], None);
    assert!(!ok, "{out}{err}");
    assert!(err.contains("start-date-too-early") && err.contains("2024-12-02"), "the code and the earliest date: {err}");
    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!(b.import, before, "nothing changed");

    let tomorrow = (Utc::now() + Duration::days(1)).date_naive().to_string();
    let (ok, _, err) = ctl(&env, &["company", "set-import", ACME, "--start-date", &tomorrow], None);
    assert!(!ok && err.contains("start-date-in-future"), "{err}");
    let (ok, _, err) = ctl(&env, &["company", "set-import", ACME, "--start-date", "01/12/2024"], None);
    assert!(!ok && err.contains("YYYY-MM-DD"), "{err}");
    let (ok, _, _) = ctl(&env, &["company", "set-import", ACME], None);
    assert!(!ok, "something to set is required");
    let (ok, _, err) = ctl(&env, &["company", "set-import", GLOBEX, "--auto-import", "on"], None);
    assert!(!ok && err.contains("has not connected an Amazon Business account"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_import_moves_the_cursor_back_with_the_start_date_and_show_prints_it() {
    let env = Env::new().await;
    env.connect_business(ACME, "Atzr|acme").await; // connected 2025-01-01
    let cursor = ImportCursor { watermark: Some(t("2025-01-20T06:00:00Z")), ..Default::default() };
    assert!(env.repo.save_cursor(ACME, &cursor, 0).await.unwrap());

    let args = ["company", "set-import", ACME, "--start-date", "2024-12-02", "--auto-import", "on", "--gl-key", "GL code"];
    let (ok, out, err) = ctl(&env, &args, None);
    assert!(ok, "{err}");
    let printed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(printed["import"]["start_date"], "2024-12-02");
    assert_eq!(printed["import"]["auto_import"], true);
    assert_eq!(printed["backfill"]["from"], "2024-12-02T00:00:00.000Z");
    assert_eq!(printed["backfill"]["until"], "2025-01-20T06:00:00.000Z");
    assert!(err.contains("auto import on") && err.contains("backfill"), "{err}");

    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!(b.import.start_date, NaiveDate::from_ymd_opt(2024, 12, 2));
    assert_eq!((b.import.auto_import, b.import.gl_key.as_deref(), b.import.cost_center_key.as_deref()), (true, Some("GL code"), None));
    let (moved, version) = env.repo.cursor(ACME).await.unwrap();
    assert_eq!(version, 2, "saved conditionally, once");
    assert_eq!(moved.watermark, cursor.watermark, "the daily position kept");
    assert_eq!(moved.backfill.map(|b| (b.from, b.until)), Some((t("2024-12-02T00:00:00Z"), t("2025-01-20T06:00:00Z"))));

    // Only the keys: the start date and the cursor are kept.
    let (ok, _, err) = ctl(&env, &["company", "set-import", ACME, "--cost-center-key", "Cost center", "--gl-key", ""], None);
    assert!(ok, "{err}");
    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!((b.import.gl_key, b.import.cost_center_key.as_deref()), (None, Some("Cost center")));
    assert_eq!(b.import.start_date, NaiveDate::from_ymd_opt(2024, 12, 2));
    assert_eq!(env.repo.cursor(ACME).await.unwrap().1, 2);

    let (ok, out, _) = ctl(&env, &["company", "show", ACME, "--json"], None);
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(shown["business"]["import"]["start_date"], "2024-12-02");
    assert_eq!(shown["business"]["import"]["cost_center_key"], "Cost center");
    let (ok, out, _) = ctl(&env, &["company", "show", ACME], None);
    assert!(ok && out.contains("auto import on, from 2024-12-02"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_checks_the_start_date_before_anything_is_stored() {
    let env = Env::new().await;
    let today = Utc::now().date_naive();
    let early = (today - Duration::days(31)).to_string();
    let args = ["company", "connect-amazon-business", ACME, "--region", "NA", "--refresh-token-stdin", "--start-date", &early];
    let (ok, _, err) = ctl(&env, &args, Some("Atzr|acme-business\n"));
    assert!(!ok && err.contains("start-date-too-early"), "{err}");
    assert!(env.companies.get(ACME).await.unwrap().unwrap().business.is_none(), "no connection written");

    let start = (today - Duration::days(30)).to_string();
    let args = [
        "company",
        "connect-amazon-business",
        ACME,
        "--region",
        "NA",
        "--refresh-token-stdin",
        "--start-date",
        &start,
        "--auto-import",
        "off",
    ];
    let (ok, out, err) = ctl(&env, &args, Some("Atzr|acme-business\n"));
    assert!(ok, "{err}");
    assert!(!err.contains("Atzr|acme-business") && !out.contains("Atzr|acme-business"), "the token is never echoed");
    let b = env.companies.get(ACME).await.unwrap().unwrap().business.unwrap();
    assert_eq!((b.import.auto_import, b.import.start_date), (false, Some(today - Duration::days(30))));
    assert_eq!(env.repo.cursor(ACME).await.unwrap().1, 0, "no cursor before the first pass");

    // Connected without the flags: auto import on, from the connection date.
    let (ok, _, err) =
        ctl(&env, &["company", "connect-amazon-business", GLOBEX, "--region", "EU", "--refresh-token-stdin"], Some("Atzr|g\n"));
    assert!(ok, "{err}");
    let g = env.companies.get(GLOBEX).await.unwrap().unwrap().business.unwrap();
    assert!(g.import.auto_import);
    assert_eq!(g.import.start_date, None);
}
