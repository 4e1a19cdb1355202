//! The vendor loop driven only by invoicectl, against the local stack (DynamoDB Local, moto
//! SQS, the SP-API emulator of infra/stack.sh): seed → enqueue → work (the real handler) →
//! poll → status.

use std::process::Command;

use integration_tests::{repo_root, unique, Env};

fn ctl(env: &Env, queue: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_invoicectl"));
    c.env("TABLE_NAME", &env.table)
        .env("BUCKET", &env.bucket)
        .env("VENDOR_QUEUE_URL", queue)
        .env("RECONCILE_AFTER_MINUTES", "15")
        .env("COMPANY_SECRETS_PREFIX", &env.secrets.company_prefix)
        .env("INVOICE_BRIDGE_COMPANY", "acme");
    c
}

fn connect(env: &Env, queue: &str, company: &str, token: &str) {
    use std::io::Write;
    let mut child = ctl(env, queue)
        .args(["company", "connect-vendor", company, "--refresh-token-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{token}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(token), "the token is never echoed: {err}");
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{:?}: {}", c, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_enqueue_work_poll_status() {
    let env = Env::new().await;
    let init = ok(ctl(&env, "").args(["local", "init", "--vendor-queue", &unique("vq")]));
    let queue = init.trim().strip_prefix("VENDOR_QUEUE_URL=").expect("queue url printed").to_string();
    let order = unique("ORD").replace('-', "");
    connect(&env, &queue, "acme", "Atzr|local-refresh-token");
    // The token is in Secrets Manager, never in the company record.
    let shown = ok(ctl(&env, &queue).args(["company", "show", "acme", "--json"]));
    assert!(!shown.contains("Atzr|"), "{shown}");
    assert!(shown.contains("\"status\":\"Connected\""), "{shown}");
    let bundle = repo_root().join("tests/fixtures/vendor/v01-shipped-order.json");
    ok(ctl(&env, &queue).args(["vendor", "seed"]).arg(&bundle).args(["--account-id", "ACC-CLI", "--order-id", &order]));
    ok(ctl(&env, &queue).args(["vendor", "enqueue", &order, "--reason", "test"]));
    ok(ctl(&env, &queue).args(["vendor", "work", "--until-empty", "--max-seconds", "60"]));

    let status: serde_json::Value = serde_json::from_str(ok(ctl(&env, &queue).args(["vendor", "status", &order])).trim()).unwrap();
    assert_eq!(status["invoice"]["status"], "Pending");
    assert_eq!(status["feed"]["status"], "Processing");
    // Without an order id: every order whose feed is still Processing.
    assert!(ok(ctl(&env, &queue).args(["vendor", "status"])).contains(&order));

    // The stack's emulator reports Processing once, then Success.
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        last = serde_json::from_str(ok(ctl(&env, &queue).args(["vendor", "poll", "--max-seconds", "60"])).trim()).unwrap();
        if last["total"]["succeeded"] == 1 {
            break;
        }
    }
    assert_eq!(last["total"]["succeeded"], 1, "{last}");
    assert_eq!(last["companies"][0]["company"], "acme");
    let status: serde_json::Value = serde_json::from_str(ok(ctl(&env, &queue).args(["vendor", "status", &order])).trim()).unwrap();
    assert_eq!(status["invoice"]["status"], "Sent");
    assert_eq!(status["invoice"]["sent_by_integration"], "Uploaded");
    assert_eq!(status["feed"]["status"], "Success");
}
