//! invoicectl's table-backed commands against DynamoDB Local + moto (the stack is started by
//! the integration-tests support crate when needed): companies, drops with in-process
//! ingestion, and every listing of one company showing only that company's records.

use std::process::Command;

use integration_tests::{fixture, unique, Env};

fn bin(env: &Env) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_invoicectl"));
    c.env("TABLE_NAME", &env.table).env("BUCKET", &env.bucket).env_remove("INVOICE_BRIDGE_COMPANY");
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn companies_drops_and_listings_each_company_sees_only_its_own() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("s01.xml");
    let bad = dir.path().join("net zero.xml");
    std::fs::write(&good, fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap();
    std::fs::write(&bad, fixture("cxml/samples/s05-two-orders-net-zero.xml")).unwrap();
    let other = dir.path().join("s01-initech.xml");
    let to_initech =
        String::from_utf8(fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap().replace("AN99887766554", "AN31415926535");
    std::fs::write(&other, to_initech).unwrap();

    // A company receiving as its own identity; creating it again as it is changes nothing.
    let created =
        ok(bin(&env).args(["company", "create", "initech", "--name", "Initech LLC", "--cxml-identity", "NetworkID:AN31415926535"]));
    let c: serde_json::Value = serde_json::from_str(created.trim()).unwrap();
    assert_eq!(c["cxml_identities"], serde_json::json!(["networkid:AN31415926535"]));
    ok(bin(&env).args(["company", "create", "initech", "--name", "Initech LLC", "--cxml-identity", "NetworkID:AN31415926535"]));
    // An identity another company holds is refused, and so is a bad id.
    let out =
        bin(&env).args(["company", "create", "hooli", "--name", "Hooli", "--cxml-identity", "networkid:AN31415926535"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("registered to company 'initech'"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(bin(&env).args(["company", "create", "Bad Id", "--name", "x"]).output().unwrap().status.code(), Some(1));
    let listed = json_lines(&ok(bin(&env).args(["company", "list", "--json"])));
    let ids: Vec<&str> = listed.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["acme", "globex", "initech"]);
    let shown: serde_json::Value = serde_json::from_str(ok(bin(&env).args(["company", "show", "initech", "--json"])).trim()).unwrap();
    assert_eq!(shown["name"], "Initech LLC");
    assert_eq!(shown["chart"]["payable"], "2000-accounts-payable");

    // Drops: under acme's prefix (printing the event), then ingested in process; the root drop
    // of a document addressed to initech lands with initech.
    let out = ok(bin(&env).args(["local", "drop", "--company", "acme"]).arg(&good).arg(&bad));
    let event: aws_lambda_events::event::s3::S3Event = serde_json::from_str(&out).unwrap();
    assert_eq!(event.records.len(), 2);
    assert_eq!(event.records[1].s3.object.key.as_deref(), Some("incoming/acme/net+zero.xml"));
    let outcomes = json_lines(&ok(bin(&env).args(["local", "drop", "--company", "acme", "--ingest"]).arg(&good).arg(&bad)));
    assert_eq!(outcomes[0]["outcome"], "stored");
    assert_eq!(outcomes[0]["company"], "acme");
    assert_eq!(outcomes[1]["outcome"], "quarantined");
    assert_eq!(outcomes[1]["codes"], serde_json::json!(["net-mismatch"]));
    let outcomes = json_lines(&ok(bin(&env).args(["local", "drop", "--ingest"]).arg(&other)));
    assert_eq!((outcomes[0]["outcome"].as_str(), outcomes[0]["company"].as_str()), (Some("stored"), Some("initech")));

    // Listings: each company sees its own.
    let acme = json_lines(&ok(bin(&env).args(["invoices", "list", "--company", "acme", "--json"])));
    assert_eq!(acme.len(), 1);
    for k in ["company", "supplier", "invoice_id", "status", "currency", "net", "due", "lines"] {
        assert!(!acme[0][k].is_null(), "{k} missing: {}", acme[0]);
    }
    assert_eq!(
        (acme[0]["company"].as_str(), acme[0]["invoice_id"].as_str(), acme[0]["lines"].as_u64()),
        (Some("acme"), Some("1QX7ZK4MPL2T"), Some(2))
    );
    let initech = json_lines(&ok(bin(&env).args(["invoices", "list", "--company", "initech", "--json"])));
    assert_eq!(initech.len(), 1);
    assert_eq!(initech[0]["company"], "initech");
    assert!(json_lines(&ok(bin(&env).args(["invoices", "list", "--company", "globex", "--json"]))).is_empty());

    let q = ok(bin(&env).args(["quarantine", "list", "--company", "acme"]));
    assert!(q.contains("incoming/acme/net zero.xml") && q.contains("net-mismatch") && q.contains("SUP91-000187"), "{q}");
    assert!(!ok(bin(&env).args(["quarantine", "list", "--company", "initech"])).contains("net-mismatch"));

    let by_po = ok(bin(&env).args(["invoices", "by-po", "--company", "initech", "PO-2025-00931"]));
    assert!(by_po.contains("1QX7ZK4MPL2T"));
    assert!(ok(bin(&env).args(["invoices", "by-po", "--company", "globex", "PO-2025-00931"])).trim().is_empty());

    let shown: serde_json::Value =
        serde_json::from_str(&ok(bin(&env).args(["invoices", "show", "--company", "acme", "NetworkID:AN01011737571#1QX7ZK4MPL2T"])))
            .unwrap();
    assert_eq!(shown["invoice"]["company"], "acme");
    assert_eq!(shown["lines"].as_array().unwrap().len(), 2);
    assert_eq!(shown["entries"].as_array().unwrap().len(), 5);
    // Another company's invoice is as missing as one that does not exist.
    let out = bin(&env).args(["invoices", "show", "--company", "globex", "NetworkID:AN01011737571#1QX7ZK4MPL2T"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin(&env).args(["invoices", "show", "--company", "acme", "nobody#nothing"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Listings need a company.
    assert_eq!(bin(&env).args(["invoices", "list"]).output().unwrap().status.code(), Some(2));
    assert_eq!(bin(&env).args(["invoices", "list", "--company", "nosuch"]).output().unwrap().status.code(), Some(1));
    let _ = unique("x");
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_list_shows_awaiting_then_linked_and_invoices_show_the_pdf() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("Invoice_1QX7ZK4MPL2T.pdf");
    let xml = dir.path().join("s01.xml");
    std::fs::write(&pdf, fixture("mail/invoice.pdf")).unwrap();
    std::fs::write(&xml, fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap();
    let out = json_lines(&ok(bin(&env).args(["local", "drop", "--company", "acme", "--ingest"]).arg(&pdf)));
    assert_eq!((out[0]["outcome"].as_str(), out[0]["document_status"].as_str()), (Some("document"), Some("awaiting-data")), "{out:?}");
    let text = ok(bin(&env).args(["documents", "list", "--company", "acme", "--awaiting"]));
    assert!(text.contains("document only, awaiting data") && text.contains("1QX7ZK4MPL2T"), "{text}");
    assert!(ok(bin(&env).args(["documents", "list", "--company", "globex"])).contains("no documents for globex"));

    ok(bin(&env).args(["local", "drop", "--company", "acme", "--ingest"]).arg(&xml));
    assert!(json_lines(&ok(bin(&env).args(["documents", "list", "--company", "acme", "--awaiting", "--json"]))).is_empty());
    let all = json_lines(&ok(bin(&env).args(["documents", "list", "--company", "acme", "--json"])));
    assert_eq!(all.len(), 1);
    assert_eq!((all[0]["status"].as_str(), all[0]["invoice_key"].as_str()), (Some("linked"), Some("NetworkID:AN01011737571#1QX7ZK4MPL2T")));
    let shown: serde_json::Value =
        serde_json::from_str(ok(bin(&env).args(["invoices", "show", "--company", "acme", "NetworkID:AN01011737571#1QX7ZK4MPL2T"])).trim())
            .unwrap();
    assert_eq!(shown["invoice"]["documents"], serde_json::json!([all[0]["document_key"]]));
    assert_eq!(shown["documents"][0]["status"], "linked");
}

#[tokio::test(flavor = "multi_thread")]
async fn invoices_exceptions_lists_an_invoice_whose_po_is_not_recorded() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("s01.xml");
    std::fs::write(&xml, fixture("cxml/samples/s01-amazon-business-two-sellers.xml")).unwrap();
    ok(bin(&env).args(["local", "drop", "--company", "acme", "--ingest"]).arg(&xml));
    let open = json_lines(&ok(bin(&env).args(["invoices", "exceptions", "--company", "acme", "--json"])));
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["invoice_key"], "NetworkID:AN01011737571#1QX7ZK4MPL2T");
    assert_eq!(open[0]["exceptions"][0]["code"], "no-po", "{open:?}");
    let text = ok(bin(&env).args(["invoices", "exceptions", "--company", "acme"]));
    assert!(text.contains("no-po: "), "{text}");
    assert!(ok(bin(&env).args(["invoices", "exceptions", "--company", "globex"])).contains("no open match exceptions for globex"));
}
