//! `invoicectl company add-sender` against DynamoDB Local: the SharedSecret goes in on stdin
//! and is stored only as an argon2id hash; `company show --json` never prints hashes.

use std::io::Write;
use std::process::{Command, Stdio};

use integration_tests::Env;

const SECRET: &str = "cli-shared-secret-42";

fn add_sender(env: &Env, company: &str, identity: &str, secret: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_invoicectl"))
        .env("TABLE_NAME", &env.table)
        .args(["company", "add-sender", company, "--identity", identity, "--secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread")]
async fn add_sender_stores_only_the_hash_and_show_never_prints_it() {
    let env = Env::new().await;
    let (ok, out) = add_sender(&env, "acme", "NetworkID:AN-CLI", SECRET);
    assert!(ok, "{out}");
    assert!(out.contains("registered") && !out.contains(SECRET), "{out}");
    let (ok, out) = add_sender(&env, "acme", "NetworkID:AN-CLI", "rotated");
    assert!(ok && out.contains("secret replaced"), "{out}");
    let (ok, out) = add_sender(&env, "acme", "no-colon", SECRET);
    assert!(!ok && out.contains("DOMAIN:IDENTITY"), "{out}");
    let (ok, out) = add_sender(&env, "acme", "NetworkID:AN-CLI", "");
    assert!(!ok && out.contains("no shared secret"), "{out}");

    let c = env.companies.get("acme").await.unwrap().unwrap();
    assert_eq!(c.cxml_senders.len(), 1);
    assert_eq!(c.cxml_senders[0].identity, "networkid:AN-CLI");
    assert!(invoice_domain::channel::https::verify_secret("rotated", &c.cxml_senders[0].secret_hash));

    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl"))
        .env("TABLE_NAME", &env.table)
        .args(["company", "show", "acme", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(json["cxml_senders"][0]["identity"], "networkid:AN-CLI");
    assert!(!text.contains("argon2") && !text.contains(&c.cxml_senders[0].secret_hash), "{text}");
}

fn ctl(env: &Env, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_invoicectl")).env("TABLE_NAME", &env.table).args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread")]
async fn set_suppliers_restricts_and_reopens_the_accepted_from_identities() {
    let env = Env::new().await;
    let (ok, out) = ctl(&env, &["company", "set-suppliers", "acme", "--accept", "NetworkID:AN-SUP-1", "--accept", "DUNS:123456789"]);
    assert!(ok, "{out}");
    let c = env.companies.get("acme").await.unwrap().unwrap();
    assert_eq!(c.accepted_suppliers, Some(vec!["networkid:AN-SUP-1".to_string(), "duns:123456789".to_string()]));
    let (ok, out) = ctl(&env, &["company", "show", "acme", "--json"]);
    assert!(ok && out.contains("networkid:AN-SUP-1"), "{out}");

    let (ok, out) = ctl(&env, &["company", "set-suppliers", "acme", "--accept", "no-colon"]);
    assert!(!ok && out.contains("DOMAIN:IDENTITY"), "{out}");
    let (ok, _) = ctl(&env, &["company", "set-suppliers", "acme"]);
    assert!(!ok, "--any or --accept is required");
    let (ok, out) = ctl(&env, &["company", "set-suppliers", "nobody", "--any"]);
    assert!(!ok && out.contains("nobody"), "{out}");
    assert_eq!(env.companies.get("acme").await.unwrap().unwrap().accepted_suppliers.as_ref().map(Vec::len), Some(2), "unchanged");

    let (ok, out) = ctl(&env, &["company", "set-suppliers", "acme", "--any"]);
    assert!(ok, "{out}");
    assert_eq!(env.companies.get("acme").await.unwrap().unwrap().accepted_suppliers, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tolerances_stores_them_by_their_digits() {
    let env = Env::new().await;
    let dir = std::env::temp_dir().join(integration_tests::unique("tol"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.json");
    std::fs::write(&file, r#"{"unit_price": {"absolute": 0.10, "percent": "2", "rule": "both"}}"#).unwrap();
    let (ok, out) = ctl(&env, &["company", "set-tolerances", "acme", file.to_str().unwrap()]);
    assert!(ok && out.contains("unit price within 0.1 and 2 %"), "{out}");
    let t = env.companies.get("acme").await.unwrap().unwrap().tolerances;
    assert_eq!((t.unit_price.absolute.to_string().as_str(), t.quantity), ("0.10", invoice_domain::matching::Tolerance::default_quantity()));
    std::fs::write(&file, r#"{"unit_price": {"absolute": -1}}"#).unwrap();
    let (ok, out) = ctl(&env, &["company", "set-tolerances", "acme", file.to_str().unwrap()]);
    assert!(!ok && out.contains("negative"), "{out}");
}
