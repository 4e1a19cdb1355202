//! `invoicectl export entries` against DynamoDB Local + moto: two companies' invoices ingested
//! by the real handler, a cancellation each, and one company's journal exported as CSV, JSON
//! Lines and FEC — only its own entries, dated by accounting date, the FEC numbered and
//! balanced.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use aws_lambda_events::event::s3::S3Event;
use integration_tests::{all_months, fixture, Env, ACME};
use invoice_adapters::s3::object_created;
use invoice_domain::invoice::ports::InvoiceRepository;
use rust_decimal::Decimal;

const INITECH: &str = "initech";
const INITECH_IDENTITY: &str = "AN31415926535";

fn bin(env: &Env) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_invoicectl"));
    c.env("TABLE_NAME", &env.table).env("BUCKET", &env.bucket).env_remove("INVOICE_BRIDGE_COMPANY");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn ok(c: &mut Command) -> Vec<u8> {
    let out = run(c);
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn export(env: &Env, company: &str, from: &str, to: &str, format: &str) -> Command {
    let mut c = bin(env);
    c.args(["export", "entries", "--company", company, "--from", from, "--to", to, "--format", format]);
    c
}

/// Ingests `docs` (key, bytes) with the real handler, as one S3 event at `at`.
async fn ingest(env: &Env, at: &str, docs: &[(&str, Vec<u8>)]) {
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
    let mut event = S3Event::default();
    for (i, (key, body)) in docs.iter().enumerate() {
        env.put(key, body.clone()).await;
        event.records.push(object_created(&env.bucket, key, body.len() as i64, i, at));
    }
    let r = ingest_cxml::handle(&env.deps(None), event).await.unwrap();
    for rec in &r.records {
        assert!(matches!(rec.outcome.as_str(), "stored" | "cancelled"), "{rec:?}");
    }
}

fn sample(name: &str) -> String {
    String::from_utf8(fixture(&format!("cxml/samples/{name}"))).unwrap()
}

fn delete_of(doc: &str) -> Vec<u8> {
    doc.replace("operation=\"new\"", "operation=\"delete\"").into_bytes()
}

/// acme: s01 (USD, 2025-11-14), s04 (USD, 2025-10-27), s06 (USD credit memo, 2025-12-01), s07
/// (EUR, 2025-11-20), s04 cancelled on 2025-12-03. initech: the same s01 (same invoice key!)
/// and s03 (2025-09-16), its s01 cancelled on 2025-12-03.
async fn two_companies() -> Env {
    let env = Env::new().await;
    env.create_company(INITECH, "Initech SARL", &[format!("NetworkID:{INITECH_IDENTITY}")]).await;
    let acme_docs: Vec<(&str, Vec<u8>)> = [
        ("incoming/acme/s01.xml", "s01-amazon-business-two-sellers.xml"),
        ("incoming/acme/s04.xml", "s04-service-lines-padded-numbers.xml"),
        ("incoming/acme/s06.xml", "s06-header-level-credit-memo.xml"),
        ("incoming/acme/s07.xml", "s07-eur-vat-accounting-distribution.xml"),
    ]
    .into_iter()
    .map(|(k, f)| (k, sample(f).into_bytes()))
    .collect();
    ingest(&env, "2025-11-20T10:00:00.000Z", &acme_docs).await;
    let to_initech = |f: &str| sample(f).replace("AN99887766554", INITECH_IDENTITY).replace("AN02004455667", INITECH_IDENTITY);
    let initech_docs = vec![
        ("incoming/initech/s01.xml", to_initech("s01-amazon-business-two-sellers.xml").into_bytes()),
        ("incoming/initech/s03.xml", to_initech("s03-tabbed-address-misspelt-terms.xml").into_bytes()),
    ];
    ingest(&env, "2025-11-21T10:00:00.000Z", &initech_docs).await;
    let cancels = vec![
        ("incoming/acme/s04-cancel.xml", delete_of(&sample("s04-service-lines-padded-numbers.xml"))),
        ("incoming/initech/s01-cancel.xml", delete_of(&to_initech("s01-amazon-business-two-sellers.xml"))),
    ];
    ingest(&env, "2025-12-03T09:30:00.000Z", &cancels).await;
    env
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect();
    (header, rows)
}

fn amount(fec: &str) -> Decimal {
    assert!(!fec.contains('.'), "a FEC amount has a comma decimal: {fec}");
    fec.replace(',', ".").parse().unwrap_or_else(|e| panic!("{fec}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn export_entries_of_one_company_as_csv_json_and_fec() {
    let env = two_companies().await;
    // What acme's journal holds, read back per invoice.
    let mut headers = env.repo.invoices_by_status(ACME, "Valid", &all_months(), 100).await.unwrap();
    headers.extend(env.repo.invoices_by_status(ACME, "Cancelled", &all_months(), 100).await.unwrap());
    assert_eq!(headers.len(), 4);
    let supplier_of: BTreeMap<String, String> = headers.iter().map(|h| (h.invoice_id.clone(), h.supplier.clone())).collect();
    let mut stored = 0;
    let mut s04_lines = 0;
    for h in &headers {
        let entries = env.repo.entries(ACME, &h.invoice_key).await.unwrap();
        assert!(!entries.is_empty(), "{}: no entries", h.invoice_key);
        if h.invoice_id == "5120" {
            s04_lines = entries.iter().filter(|e| e.kind == "booking").count();
        }
        stored += entries.len();
    }
    assert!(s04_lines > 0);

    // CSV: every acme line once (s01's key is initech's too), no initech invoice, no initech reversal.
    let csv = ok(&mut export(&env, ACME, "2025-01-01", "2025-12-31", "csv"));
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header, invoice_domain::invoice::export::CSV_COLUMNS.to_vec());
    assert_eq!(rows.len(), stored);
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["invoice_id"].as_str()).collect();
    assert_eq!(ids, ["1QX7ZK4MPL2T", "5120", "PR-CM-0007", "RE-2025-118734"].into_iter().collect());
    let reversals: Vec<&BTreeMap<String, String>> = rows.iter().filter(|r| r["kind"] == "reversal").collect();
    assert_eq!(reversals.len(), s04_lines);
    assert!(reversals.iter().all(|r| r["invoice_id"] == "5120" && r["entry_date"] == "2025-12-03" && r["invoice_date"] == "2025-10-27"));
    assert!(rows.iter().all(|r| !r["debit"].contains(',') && r["debit"].contains('.') && r["credit"].contains('.')), "plain decimals");
    let dates: Vec<&str> = rows.iter().map(|r| r["entry_date"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");

    // Lines written again (a redelivery after a crash): the same items, the same journal.
    for h in &headers {
        let entries = env.repo.entries(ACME, &h.invoice_key).await.unwrap();
        env.repo.put_details(h, &[], &entries).await.unwrap();
    }
    assert_eq!(ok(&mut export(&env, ACME, "2025-01-01", "2025-12-31", "csv")), csv);

    // JSON Lines: the same lines, the same fields.
    let json = String::from_utf8(ok(&mut export(&env, ACME, "2025-01-01", "2025-12-31", "json"))).unwrap();
    let objs: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objs.len(), stored);
    for (o, r) in objs.iter().zip(&rows) {
        assert_eq!(o["invoice_key"], r["invoice_key"].as_str());
        assert_eq!((o["seq"].to_string(), o["debit"].as_str().unwrap()), (r["seq"].clone(), r["debit"].as_str()));
    }

    // FEC: the USD invoices need a rate.
    let out = run(&mut export(&env, ACME, "2025-01-01", "2025-12-31", "fec"));
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rate USD="), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("123456789FEC20251231.txt");
    let out = run(export(&env, ACME, "2025-01-01", "2025-12-31", "fec").args(["--rate", "USD=0.9137", "--output"]).arg(&file));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "with --output nothing goes to stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("5 entries"), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&file).unwrap();
    let (text, _, errors) = encoding_rs::ISO_8859_15.decode(&bytes);
    assert!(!errors);
    let records: Vec<&str> = text.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert_eq!(records[0].split('\t').collect::<Vec<_>>(), invoice_domain::invoice::export::FEC_COLUMNS.to_vec());
    let fec: Vec<Vec<&str>> = records[1..].iter().map(|r| r.split('\t').collect()).collect();
    assert_eq!(fec.len(), stored);
    assert!(fec.iter().all(|f| f.len() == 18), "18 fields on every line");
    // Numbered 1..=5 without a gap, in date order; every line of an entry shares its number.
    let nums: Vec<u32> = fec.iter().map(|f| f[2].parse().unwrap()).collect();
    assert!(nums.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1), "{nums:?}");
    assert_eq!((nums[0], *nums.last().unwrap()), (1, 5));
    let dates: Vec<&str> = fec.iter().map(|f| f[3]).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    for n in 1..=5u32 {
        let entry: Vec<&Vec<&str>> = fec.iter().filter(|f| f[2] == n.to_string()).collect();
        let debit: Decimal = entry.iter().map(|f| amount(f[11])).sum();
        let credit: Decimal = entry.iter().map(|f| amount(f[12])).sum();
        assert_eq!(debit, credit, "entry {n} balances");
        assert!(entry.iter().all(|f| f[0] == "AC" && f[1] == "Achats" && f[3] == entry[0][3] && f[8] == entry[0][8]));
        // The supplier account on exactly one line: the payable.
        let aux: Vec<&&Vec<&str>> = entry.iter().filter(|f| !f[6].is_empty()).collect();
        assert_eq!(aux.len(), 1, "entry {n}");
        assert_eq!((aux[0][4], aux[0][6]), ("2000", supplier_of[aux[0][8]].as_str()), "{:?}", aux[0]);
        // Dollars: converted, with the dollar amounts beside; euros: nothing beside.
        let usd = entry[0][8] != "RE-2025-118734";
        assert!(entry.iter().all(|f| if usd { f[17] == "USD" && !f[16].is_empty() } else { f[16].is_empty() && f[17].is_empty() }));
    }
    // The reversal: last, on the cancellation day, its piece the cancelled invoice of its date.
    let last = fec.last().unwrap();
    assert_eq!((last[2], last[3], last[8], last[9], last[15]), ("5", "20251203", "5120", "20251027", "20251203"));

    // The date filter: November holds s01 and s07's bookings only; 3 December the reversal only.
    let (_, nov) = csv_rows(&ok(&mut export(&env, ACME, "2025-11-01", "2025-11-30", "csv")));
    assert_eq!(nov.iter().map(|r| r["invoice_id"].as_str()).collect::<BTreeSet<_>>(), ["1QX7ZK4MPL2T", "RE-2025-118734"].into());
    assert!(nov.iter().all(|r| r["kind"] == "booking" && r["entry_date"].starts_with("2025-11-")));
    let (_, day) = csv_rows(&ok(&mut export(&env, ACME, "2025-12-03", "2025-12-03", "csv")));
    assert_eq!(day.len(), s04_lines);
    assert!(day.iter().all(|r| r["kind"] == "reversal"));
    let (_, before) = csv_rows(&ok(&mut export(&env, ACME, "2025-12-02", "2025-12-02", "csv")));
    assert!(before.is_empty());
    // The FEC of one day in euros only needs no rate; numbering starts at 1 again.
    let eur = ok(&mut export(&env, ACME, "2025-11-20", "2025-11-20", "fec"));
    assert!(std::str::from_utf8(&eur).is_err(), "ISO 8859-15, not UTF-8 (the sample has umlauts)");
    let eur = encoding_rs::ISO_8859_15.decode(&eur).0.into_owned();
    assert!(eur.contains("\tVATID:DE811223344\tBürobedarf Müller GmbH\t"), "{eur}");
    let eur: Vec<&str> = eur.split("\r\n").filter(|r| !r.is_empty()).collect();
    assert!(eur.len() > 1 && eur[1..].iter().all(|r| r.split('\t').nth(2) == Some("1") && r.split('\t').nth(8) == Some("RE-2025-118734")));

    // initech sees its own: s03 and s01 booked, s01 reversed; none of acme's.
    let (_, ini) = csv_rows(&ok(&mut export(&env, INITECH, "2025-01-01", "2025-12-31", "csv")));
    let ids: BTreeSet<&str> = ini.iter().map(|r| r["invoice_id"].as_str()).collect();
    assert_eq!(ids, ["1QX7ZK4MPL2T", "OW-0917-0042"].into_iter().collect());
    assert!(ini.iter().filter(|r| r["kind"] == "reversal").all(|r| r["invoice_id"] == "1QX7ZK4MPL2T"));
    // globex has no entries: the header alone.
    let (_, none) = csv_rows(&ok(&mut export(&env, "globex", "2025-01-01", "2025-12-31", "csv")));
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn export_entries_usage_errors_exit_2() {
    let env = Env::new().await;
    let code = |c: &mut Command| {
        let out = run(c);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (c, e) = code(&mut export(&env, ACME, "2025-12-01", "2025-11-30", "csv"));
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("after"), "{e}");
    let (c, e) = code(&mut export(&env, ACME, "2025-02-30", "2025-03-31", "json"));
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("not a date"), "{e}");
    let (c, e) = code(&mut export(&env, "nosuch", "2025-01-01", "2025-12-31", "csv"));
    assert_eq!(c, Some(2), "{e}");
    assert!(e.contains("no company has the id 'nosuch'"), "{e}");
    let (c, e) = code(export(&env, ACME, "2025-01-01", "2025-12-31", "fec").args(["--rate", "USD"]));
    assert_eq!(c, Some(2), "{e}");
    assert_eq!(code(&mut export(&env, ACME, "2025-01-01", "2025-12-31", "xlsx")).0, Some(2));
    assert_eq!(code(bin(&env).args(["export", "entries", "--from", "2025-01-01", "--to", "2025-12-31", "--format", "csv"])).0, Some(2));
    // The company may come from INVOICE_BRIDGE_COMPANY; an empty journal is no error.
    let out = run(bin(&env).env("INVOICE_BRIDGE_COMPANY", ACME).args([
        "export",
        "entries",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "fec",
    ]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{}\r\n", invoice_domain::invoice::export::FEC_COLUMNS.join("\t")));
}
