//! The emulator over real HTTP: each test starts its own instance in-process on a random
//! loopback port and talks to it with reqwest.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use spapi_emulator::{serve, App, Config};
use tokio::net::TcpListener;

struct Emu {
    base: String,
    http: reqwest::Client,
}

async fn start(config: Config) -> Emu {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, App::new(config)));
    Emu { base: format!("http://{addr}"), http: reqwest::Client::new() }
}

async fn start_default() -> Emu {
    start(Config::default()).await
}

fn lwa_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", "Atzr|local-refresh-token"),
        ("client_id", "local-client-id"),
        ("client_secret", "local-client-secret"),
    ]
}

impl Emu {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token(&self) -> String {
        self.token_for("Atzr|local-refresh-token").await
    }

    /// LWA's answer for a refresh token: (status, body).
    async fn lwa(&self, refresh_token: &str) -> (StatusCode, Value) {
        let form: Vec<(&str, &str)> =
            lwa_form().into_iter().map(|(k, v)| if k == "refresh_token" { (k, refresh_token) } else { (k, v) }).collect();
        let resp = self.http.post(self.url("/auth/o2/token")).form(&form).send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// An access token of the selling partner behind `refresh_token`.
    async fn token_for(&self, refresh_token: &str) -> String {
        let (status, body) = self.lwa(refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["refresh_token"], refresh_token);
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn revoke(&self, refresh_token: &str, revoked: bool) -> reqwest::Response {
        let doc = json!({"refresh_token": refresh_token, "revoked": revoked});
        self.http.post(self.url("/_emulator/revoke")).json(&doc).send().await.unwrap()
    }

    async fn submit(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.url("/vendor/payments/v1/invoices")).header("x-amz-access-token", token).json(body).send().await.unwrap()
    }

    async fn get_transaction(&self, token: &str, id: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/vendor/transactions/v1/transactions/{id}")))
            .header("x-amz-access-token", token)
            .send()
            .await
            .unwrap()
    }

    async fn faults(&self, faults: Value) -> Value {
        let resp = self.http.post(self.url("/_emulator/faults")).json(&faults).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "faults {faults}");
        resp.json().await.unwrap()
    }

    async fn requests(&self) -> Vec<Value> {
        self.http.get(self.url("/_emulator/requests")).send().await.unwrap().json().await.unwrap()
    }

    async fn stats(&self) -> Value {
        self.http.get(self.url("/_emulator/stats")).send().await.unwrap().json().await.unwrap()
    }
}

fn party(id: &str, name: &str, tax: Option<&str>) -> Value {
    let mut p = json!({
        "partyId": id,
        "address": {
            "name": name,
            "addressLine1": "123 Any Street",
            "addressLine2": "Suite 4",
            "city": "Seattle",
            "stateOrRegion": "WA",
            "postalOrZipCode": "98109",
            "countryCode": "US",
            "phone": "+1 206 555 0100"
        }
    });
    if let Some(vat) = tax {
        p["taxRegistrationDetails"] = json!([{"taxRegistrationType": "VAT", "taxRegistrationNumber": vat}]);
    }
    p
}

fn usd(amount: &str) -> Value {
    json!({"currencyCode": "USD", "amount": amount})
}

/// An invoice that uses every party, terms, header-level details and one item, as the official
/// model describes it (amounts as Decimal strings, countryCode alpha-2).
fn valid_invoice(id: &str) -> Value {
    json!({
        "invoiceType": "Invoice",
        "id": id,
        "referenceNumber": "REF-1",
        "date": "2024-03-01T10:15:30.000Z",
        "remitToParty": party("VENDOR1", "Acme Supplies", Some("US123456789")),
        "shipToParty": party("SEA8", "Amazon SEA8", None),
        "shipFromParty": party("WH-1", "Acme Warehouse", None),
        "billToParty": party("AMZN", "Amazon.com Services LLC", Some("US987654321")),
        "paymentTerms": {"type": "Basic", "discountPercent": "2", "discountDueDays": 10, "netDueDays": 30},
        "invoiceTotal": usd("118.50"),
        "taxDetails": [{"taxType": "ST", "taxRate": "8.5", "taxAmount": usd("8.50"), "taxableAmount": usd("100.00")}],
        "chargeDetails": [{"type": "Freight", "description": "Ground", "chargeAmount": usd("15.00")}],
        "allowanceDetails": [{"type": "Discount", "description": "Promo", "allowanceAmount": usd("5.00")}],
        "additionalDetails": [{"type": "CartonCount", "detail": "2", "languageCode": "en"}],
        "items": [{
            "itemSequenceNumber": 1,
            "amazonProductIdentifier": "B000123456",
            "vendorProductIdentifier": "SKU-1",
            "invoicedQuantity": {"amount": 10, "unitOfMeasure": "Eaches"},
            "netCost": usd("10.00"),
            "purchaseOrderNumber": "2JK3S9VC",
            "taxDetails": [{"taxType": "ST", "taxRate": "8.5", "taxAmount": usd("8.50")}]
        }]
    })
}

fn valid_body(id: &str) -> Value {
    json!({ "invoices": [valid_invoice(id)] })
}

async fn errors_of(resp: reqwest::Response) -> Vec<Value> {
    let body: Value = resp.json().await.unwrap();
    body["errors"].as_array().cloned().unwrap_or_else(|| panic!("no errors array in {body}"))
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn lwa_issues_tokens_for_form_and_json_bodies() {
    let emu = start_default().await;
    let form = emu.http.post(emu.url("/auth/o2/token")).form(&lwa_form()).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(header(&form, "x-amzn-requestid").is_some());
    let form: Value = form.json().await.unwrap();
    assert!(form["access_token"].as_str().unwrap().starts_with("Atza|"));
    assert_eq!(form["token_type"], "bearer");
    assert_eq!(form["expires_in"], 3600);
    assert_eq!(form["refresh_token"], "Atzr|local-refresh-token");

    let as_json: Value = lwa_form().into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
    let js = emu.http.post(emu.url("/auth/o2/token")).json(&as_json).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    let js: Value = js.json().await.unwrap();
    assert_ne!(js["access_token"], form["access_token"], "tokens are unique");

    assert_eq!(emu.stats().await["token"], 2);
}

#[tokio::test]
async fn lwa_rejects_bad_credentials_like_lwa() {
    let emu = start_default().await;
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let req = emu.http.post(emu.url("/auth/o2/token")).form(&fields);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let with = |key: &'static str, value: &'static str| {
        lwa_form().into_iter().map(|(k, v)| if k == key { (k, value) } else { (k, v) }).collect::<Vec<_>>()
    };

    let (status, body) = post(with("client_secret", "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    let (status, body) = post(with("client_id", "someone-else")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));

    // Any `Atzr|…` is some selling partner's token; anything else is no grant at all.
    let (status, body) = post(with("refresh_token", "not-a-refresh-token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let (status, body) = post(with("grant_type", "authorization_code")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));

    let missing: Vec<_> = lwa_form().into_iter().filter(|(k, _)| *k != "refresh_token").collect();
    let (status, body) = post(missing).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    assert!(body["error_description"].as_str().unwrap().contains("refresh_token"));

    emu.faults(json!({"lwa_fail_next": 1})).await;
    let (status, body) = post(lwa_form()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("server_error")));
    let (status, _) = post(lwa_form()).await;
    assert_eq!(status, StatusCode::OK);

    let stats = emu.stats().await;
    assert_eq!(stats["token"], 7);
    assert_eq!(stats["token_status"], json!({"200": 1, "400": 3, "401": 2, "500": 1}));
    // Secrets never reach the recordings.
    let recorded = serde_json::to_string(&emu.requests().await).unwrap();
    assert!(!recorded.contains("local-client-secret") && !recorded.contains("Atzr|"), "{recorded}");
}

#[tokio::test]
async fn api_needs_a_token_the_emulator_issued() {
    let emu = start_default().await;
    let body = valid_body("INV-AUTH");
    let unauth = json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]});

    let none = emu.http.post(emu.url("/vendor/payments/v1/invoices")).json(&body).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    assert!(header(&none, "x-amzn-requestid").is_some());
    assert_eq!(none.json::<Value>().await.unwrap(), unauth);

    let bogus = emu.submit("Atza|not-issued-here", &body).await;
    assert_eq!(bogus.status(), StatusCode::FORBIDDEN);
    assert_eq!(bogus.json::<Value>().await.unwrap(), unauth);

    let get = emu.get_transaction("Atza|not-issued-here", "whatever").await;
    assert_eq!(get.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let emu = start(Config { token_expires_in: 1, ..Config::default() }).await;
    let token = emu.token().await;
    assert_eq!(emu.submit(&token, &valid_body("INV-EXP")).await.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(emu.submit(&token, &valid_body("INV-EXP")).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn valid_invoice_is_accepted_with_sp_api_headers() {
    let emu = start_default().await;
    let token = emu.token().await;
    let resp = emu.submit(&token, &valid_body("INV-OK-1")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("10.0"));
    let request_id = header(&resp, "x-amzn-requestid").unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let tx = body["payload"]["transactionId"].as_str().unwrap().to_owned();
    assert!(!tx.is_empty());
    assert_eq!(body.as_object().unwrap().len(), 1, "only payload: {body}");

    let again: Value = emu.submit(&token, &valid_body("INV-OK-2")).await.json().await.unwrap();
    assert_ne!(again["payload"]["transactionId"], tx.as_str(), "transaction ids are unique");

    // A credit note with several invoices in one call is fine too.
    let mut credit = valid_invoice("CN-1");
    credit["invoiceType"] = json!("CreditNote");
    credit["items"][0]["creditNoteDetails"] = json!({"referenceInvoiceNumber": "INV-OK-1", "goodsReturnDate": "2024-03-02T00:00:00Z"});
    let resp = emu.submit(&token, &json!({"invoices": [valid_invoice("INV-OK-3"), credit]})).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);

    let recorded = emu.requests().await;
    let first = recorded.iter().find(|r| r["request_id"] == request_id.as_str()).unwrap();
    assert_eq!(first["invoice_ids"], json!(["INV-OK-1"]));
    assert_eq!(first["body"], valid_body("INV-OK-1"));
    assert_eq!(recorded.last().unwrap()["invoice_ids"], json!(["INV-OK-3", "CN-1"]));
}

#[tokio::test]
async fn invalid_payloads_are_refused_naming_the_problem() {
    // More calls than the default burst of 10: raise the limit for this test.
    let emu = start(Config { submit_rate: 100.0, submit_burst: 100.0, ..Config::default() }).await;
    let token = emu.token().await;

    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut body = valid_body("INV-BAD");
        f(&mut body);
        body
    };
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "countryCode USA",
            mutate(&|b| b["invoices"][0]["remitToParty"]["address"]["countryCode"] = json!("USA")),
            &["/invoices/0/remitToParty/address/countryCode", "longer than 2"],
        ),
        (
            "amount as a JSON number",
            mutate(&|b| b["invoices"][0]["invoiceTotal"]["amount"] = json!(118.5)),
            &["/invoices/0/invoiceTotal/amount", "string"],
        ),
        (
            "amount not a decimal",
            mutate(&|b| b["invoices"][0]["items"][0]["netCost"]["amount"] = json!("10,00")),
            &["/invoices/0/items/0/netCost/amount", "does not match"],
        ),
        (
            "amount with a leading zero",
            mutate(&|b| b["invoices"][0]["taxDetails"][0]["taxRate"] = json!("08.5")),
            &["/invoices/0/taxDetails/0/taxRate", "does not match"],
        ),
        (
            "missing remitToParty",
            mutate(&|b| {
                b["invoices"][0].as_object_mut().unwrap().remove("remitToParty");
            }),
            &["/invoices/0", "remitToParty"],
        ),
        ("payload wrapper", json!({"payload": valid_body("INV-BAD")}), &["(root)", "\"invoices\" is a required property"]),
        ("bad invoiceType", mutate(&|b| b["invoices"][0]["invoiceType"] = json!("Bill")), &["/invoices/0/invoiceType", "Bill"]),
        ("date without time", mutate(&|b| b["invoices"][0]["date"] = json!("2024-03-01")), &["/invoices/0/date", "date-time"]),
        (
            "quantity not an integer",
            mutate(&|b| b["invoices"][0]["items"][0]["invoicedQuantity"]["amount"] = json!("10")),
            &["/invoices/0/items/0/invoicedQuantity/amount", "integer"],
        ),
    ];
    for (name, body, expect) in cases {
        let resp = emu.submit(&token, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("100.0"), "{name}");
        assert!(header(&resp, "x-amzn-requestid").is_some(), "{name}");
        let errors = errors_of(resp).await;
        assert_eq!(errors.len(), 1, "{name}: one violation, one error: {errors:?}");
        assert_eq!(errors[0]["code"], "InvalidInput", "{name}");
        assert_eq!(errors[0]["details"], "", "{name}");
        let message = errors[0]["message"].as_str().unwrap();
        for part in expect {
            assert!(message.contains(part), "{name}: {message:?} should mention {part:?}");
        }
        assert!(message.starts_with(expect[0]), "{name}: message starts with the pointer: {message}");
    }

    // Several violations → several errors.
    let many = mutate(&|b| {
        b["invoices"][0]["remitToParty"]["address"]["countryCode"] = json!("USA");
        b["invoices"][0]["invoiceTotal"]["amount"] = json!(1);
        b["invoices"][0]["invoiceType"] = json!("Bill");
    });
    assert_eq!(errors_of(emu.submit(&token, &many).await).await.len(), 3);

    // Not JSON at all / not declared as JSON.
    let garbage = emu
        .http
        .post(emu.url("/vendor/payments/v1/invoices"))
        .header("x-amz-access-token", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let text = emu
        .http
        .post(emu.url("/vendor/payments/v1/invoices"))
        .header("x-amz-access-token", &token)
        .header("content-type", "text/plain")
        .body(valid_body("INV-TXT").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(header(&text, "x-amzn-requestid").is_some());

    let stats = emu.stats().await;
    assert_eq!(stats["submit"], json!({"400": 11, "415": 1}));
}

#[tokio::test]
async fn transaction_processing_then_success_or_failure() {
    let emu = start_default().await;
    let token = emu.token().await;
    let reject = json!([{"code": "INVALID_ORDER_ID", "message": "Invalid order ID."}]);
    let armed = emu.faults(json!({"reject_invoice_ids": {"INV-REJ": reject}})).await;
    assert_eq!(armed["reject_invoice_ids"]["INV-REJ"], reject);

    let tx_of = |v: Value| v["payload"]["transactionId"].as_str().unwrap().to_owned();
    let ok = tx_of(emu.submit(&token, &valid_body("INV-GOOD")).await.json().await.unwrap());
    let bad = tx_of(emu.submit(&token, &valid_body("INV-REJ")).await.json().await.unwrap());

    let status_of = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("10.0"));
        let v: Value = resp.json().await.unwrap();
        v["payload"]["transactionStatus"].clone()
    };
    let first = status_of(emu.get_transaction(&token, &ok).await).await;
    assert_eq!(first, json!({"transactionId": ok, "status": "Processing"}));
    let second = status_of(emu.get_transaction(&token, &ok).await).await;
    assert_eq!(second, json!({"transactionId": ok, "status": "Success"}));

    assert_eq!(status_of(emu.get_transaction(&token, &bad).await).await["status"], "Processing");
    let failed = status_of(emu.get_transaction(&token, &bad).await).await;
    assert_eq!(failed, json!({"transactionId": bad, "status": "Failure", "errors": reject}));

    // processing_polls applies to transactions submitted afterwards.
    emu.faults(json!({"processing_polls": 3})).await;
    let slow = tx_of(emu.submit(&token, &valid_body("INV-SLOW")).await.json().await.unwrap());
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(status_of(emu.get_transaction(&token, &slow).await).await["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["Processing", "Processing", "Processing", "Success"]);

    let unknown = emu.get_transaction(&token, "20240101000000-00000000-0000-4000-8000-000000000000").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(header(&unknown, "x-amzn-requestid").is_some());
    let errors = errors_of(unknown).await;
    assert_eq!(errors[0]["code"], "NotFound");

    let stats = emu.stats().await;
    assert_eq!(stats["get_transaction"], json!({"200": 8, "404": 1}));
    assert_eq!(stats["submit"], json!({"202": 3}));
}

#[tokio::test]
async fn eleven_submits_at_once_one_is_throttled() {
    let emu = start_default().await;
    let token = emu.token().await;
    let body = valid_body("INV-BURST");
    let calls = (0..11).map(|_| emu.submit(&token, &body));
    let responses = futures_join_all(calls).await;
    let mut by_status = std::collections::BTreeMap::new();
    for resp in &responses {
        *by_status.entry(resp.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(by_status, [(202, 10), (429, 1)].into_iter().collect());
    let throttled = responses.into_iter().find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).unwrap();
    assert_eq!(header(&throttled, "x-amzn-ratelimit-limit"), Some("10.0"));
    assert!(header(&throttled, "x-amzn-requestid").is_some());
    assert_eq!(
        throttled.json::<Value>().await.unwrap(),
        json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]})
    );
    assert_eq!(emu.stats().await["submit"], json!({"202": 10, "429": 1}));
}

/// Runs the futures concurrently on this task (no extra crate needed).
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, out) in handles.iter_mut().zip(out.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test]
async fn pacing_at_the_rate_after_a_drained_bucket_is_never_throttled() {
    let emu = start_default().await;
    let token = emu.token().await;
    let body = valid_body("INV-PACE");
    // Empty the bucket first, so only the continuous refill can admit the paced calls.
    for _ in 0..10 {
        assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(150)).await;

    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        tick.tick().await;
        statuses.push(emu.submit(&token, &body).await.status().as_u16());
    }
    assert!(started.elapsed() >= Duration::from_millis(2900));
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
}

#[tokio::test]
async fn forced_failures_throttles_and_latency() {
    let emu = start_default().await;
    let token = emu.token().await;
    let body = valid_body("INV-FAULT");

    emu.faults(json!({"fail_next": 1})).await;
    let failed = emu.submit(&token, &body).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(header(&failed, "x-amzn-requestid").is_some());
    assert_eq!(errors_of(failed).await[0]["code"], "InternalFailure");
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::ACCEPTED);

    emu.faults(json!({"fail_next": 1, "fail_status": 503})).await;
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::SERVICE_UNAVAILABLE);

    emu.faults(json!({"throttle_next": 2})).await;
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(emu.get_transaction(&token, "x").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(emu.get_transaction(&token, "x").await.status(), StatusCode::NOT_FOUND);

    // Scoped to one operation: getTransaction is left alone.
    emu.faults(json!({"fail_next": 1, "operation": "submit"})).await;
    assert_eq!(emu.get_transaction(&token, "x").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    emu.faults(json!({"operation": null})).await;

    emu.faults(json!({"delay_ms": 300})).await;
    let t0 = Instant::now();
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::ACCEPTED);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    emu.faults(json!({"delay_ms": 0})).await;
    let t0 = Instant::now();
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::ACCEPTED);
    assert!(t0.elapsed() < Duration::from_millis(300));

    // Typos in the control API are refused rather than ignored.
    let typo = emu.http.post(emu.url("/_emulator/faults")).json(&json!({"fail_nxt": 1})).send().await.unwrap();
    assert_eq!(typo.status(), StatusCode::BAD_REQUEST);

    let recorded = emu.requests().await;
    let faults: Vec<Value> = recorded.iter().filter(|r| r["operation"] != "token").map(|r| r["fault"].clone()).collect();
    assert_eq!(
        faults,
        [
            json!("fail"),
            Value::Null,
            json!("fail"),
            json!("throttle"),
            json!("throttle"),
            Value::Null,
            Value::Null,
            json!("fail"),
            Value::Null,
            Value::Null
        ]
    );
}

#[tokio::test]
async fn dropped_connection_is_a_client_error_and_stall_times_out() {
    let emu = start_default().await;
    let token = emu.token().await;
    let body = valid_body("INV-DROP");

    emu.faults(json!({"drop_next": 1})).await;
    let err = emu
        .http
        .post(emu.url("/vendor/payments/v1/invoices"))
        .header("x-amz-access-token", &token)
        .json(&body)
        .send()
        .await
        .expect_err("connection dropped without a response");
    assert!(err.status().is_none() && !err.is_timeout(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(emu.submit(&token, &body).await.status(), StatusCode::ACCEPTED);

    emu.faults(json!({"stall_next": 1})).await;
    let err = emu
        .http
        .get(emu.url("/vendor/transactions/v1/transactions/any"))
        .header("x-amz-access-token", &token)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(emu.get_transaction(&token, "any").await.status(), StatusCode::NOT_FOUND);

    let stats = emu.stats().await;
    assert_eq!(stats["submit"], json!({"202": 1, "dropped": 1}));
    assert_eq!(stats["get_transaction"], json!({"404": 1, "stalled": 1}));
    let recorded = emu.requests().await;
    let api: Vec<(Value, Value)> =
        recorded.iter().filter(|r| r["operation"] != "token").map(|r| (r["status"].clone(), r["fault"].clone())).collect();
    assert_eq!(api, [(Value::Null, json!("drop")), (json!(202), Value::Null), (Value::Null, json!("stall")), (json!(404), Value::Null)]);
}

#[tokio::test]
async fn recordings_and_stats_reflect_traffic_and_reset_clears_them() {
    let emu = start_default().await;
    let token = emu.token().await;
    let tx: Value = emu.submit(&token, &valid_body("INV-REC")).await.json().await.unwrap();
    let tx = tx["payload"]["transactionId"].as_str().unwrap().to_owned();
    let _ = emu.submit("Atza|bogus", &valid_body("INV-REC-2")).await;
    let _ = emu.get_transaction(&token, &tx).await;

    let recorded = emu.requests().await;
    let summary: Vec<(String, String, Value)> =
        recorded.iter().map(|r| (r["method"].as_str().unwrap().into(), r["path"].as_str().unwrap().into(), r["status"].clone())).collect();
    assert_eq!(
        summary,
        [
            ("POST".into(), "/auth/o2/token".into(), json!(200)),
            ("POST".into(), "/vendor/payments/v1/invoices".into(), json!(202)),
            ("POST".into(), "/vendor/payments/v1/invoices".into(), json!(403)),
            ("GET".into(), format!("/vendor/transactions/v1/transactions/{tx}"), json!(200)),
        ]
    );
    assert_eq!(recorded[1]["invoice_ids"], json!(["INV-REC"]));
    assert_eq!(recorded[3]["body"], Value::Null);
    let at = recorded[1]["at"].as_str().unwrap();
    assert!(chrono_like_rfc3339_millis(at), "{at}");
    let text = serde_json::to_string(&recorded).unwrap();
    assert!(!text.contains(&token) && !text.contains("local-client-secret"), "no secrets recorded");

    let stats = emu.stats().await;
    assert_eq!(stats["submit"], json!({"202": 1, "403": 1}));
    assert_eq!(stats["get_transaction"], json!({"200": 1}));
    assert_eq!(stats["token"], 1);

    emu.faults(json!({"fail_next": 5, "reject_invoice_ids": {"X": [{"code": "C", "message": "M"}]}})).await;
    let reset = emu.http.post(emu.url("/_emulator/reset")).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::OK);
    assert!(emu.requests().await.is_empty());
    assert_eq!(
        emu.stats().await,
        json!({
            "submit": {}, "get_transaction": {}, "place_order": {}, "order_details": {},
            "get_transactions": {}, "get_invoice_details": {}, "get_payment_details": {},
            "create_report": {}, "get_report": {}, "cancel_report": {}, "get_report_document": {}, "document_download": {},
            "token": 0, "token_status": {}, "partners": {}
        })
    );
    let faults: Value = emu.http.get(emu.url("/_emulator/faults")).send().await.unwrap().json().await.unwrap();
    assert_eq!(faults["fail_next"], 0);
    assert_eq!(faults["reject_invoice_ids"], json!({}));
    // Transactions are gone, tokens still work.
    assert_eq!(emu.get_transaction(&token, &tx).await.status(), StatusCode::NOT_FOUND);
}

/// `2024-03-01T10:15:30.123Z`
fn chrono_like_rfc3339_millis(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z' && s[20..23].bytes().all(|c| c.is_ascii_digit())
}

const TOKEN_A: &str = "Atzr|company-a-refresh-token";
const TOKEN_B: &str = "Atzr|company-b-refresh-token";

fn partner(token: &str) -> String {
    Config::default().partner_of(token).unwrap()
}

#[tokio::test]
async fn every_atzr_refresh_token_is_its_own_selling_partner() {
    let emu = start_default().await;
    let (a, b) = (partner(TOKEN_A), partner(TOKEN_B));
    assert_ne!(a, b);
    let default_token = emu.token().await;
    let token_a = emu.token_for(TOKEN_A).await;
    let token_b = emu.token_for(TOKEN_B).await;
    assert!(token_a.starts_with("Atza|") && token_a != token_b);
    assert_eq!(emu.submit(&token_a, &valid_body("A-1")).await.status(), StatusCode::ACCEPTED);
    assert_eq!(emu.submit(&token_b, &valid_body("B-1")).await.status(), StatusCode::ACCEPTED);
    assert_eq!(emu.submit(&default_token, &valid_body("D-1")).await.status(), StatusCode::ACCEPTED);
    assert_eq!(emu.submit("Atza|unknown", &valid_body("X-1")).await.status(), StatusCode::FORBIDDEN);

    let recorded = emu.requests().await;
    let partners: Vec<(Value, Value)> = recorded.iter().map(|r| (r["operation"].clone(), r["partner"].clone())).collect();
    assert_eq!(
        partners,
        [
            (json!("token"), json!("default")),
            (json!("token"), json!(a)),
            (json!("token"), json!(b)),
            (json!("submit"), json!(a)),
            (json!("submit"), json!(b)),
            (json!("submit"), json!("default")),
            (json!("submit"), Value::Null),
        ]
    );
    let text = serde_json::to_string(&recorded).unwrap();
    assert!(!text.contains("company-a") && !text.contains("Atzr|"), "no refresh token recorded: {text}");

    let stats = emu.stats().await;
    assert_eq!(stats["submit"], json!({"202": 3, "403": 1}));
    assert_eq!(
        stats["partners"][&a],
        json!({
            "submit": {"202": 1}, "get_transaction": {}, "place_order": {}, "order_details": {},
            "get_transactions": {}, "get_invoice_details": {}, "get_payment_details": {},
            "create_report": {}, "get_report": {}, "cancel_report": {}, "get_report_document": {}, "document_download": {},
            "token_status": {"200": 1}
        })
    );
    assert_eq!(stats["partners"]["default"]["submit"], json!({"202": 1}));
    assert_eq!(stats["partners"].as_object().unwrap().len(), 3, "{stats}");
}

#[tokio::test]
async fn invoice_numbers_are_unique_per_selling_partner() {
    let emu = start_default().await;
    let (token_a, token_b) = (emu.token_for(TOKEN_A).await, emu.token_for(TOKEN_B).await);
    let tx_of = |v: Value| v["payload"]["transactionId"].as_str().unwrap().to_owned();
    let a1 = tx_of(emu.submit(&token_a, &valid_body("100045")).await.json().await.unwrap());
    let b1 = tx_of(emu.submit(&token_b, &valid_body("100045")).await.json().await.unwrap());
    let a2 = tx_of(emu.submit(&token_a, &valid_body("100045")).await.json().await.unwrap());
    let final_status = |token: String, tx: String| {
        let emu = &emu;
        async move {
            let mut last = Value::Null;
            for _ in 0..3 {
                let v: Value = emu.get_transaction(&token, &tx).await.json().await.unwrap();
                last = v["payload"]["transactionStatus"].clone();
                if last["status"] != "Processing" {
                    break;
                }
            }
            last
        }
    };
    assert_eq!(final_status(token_a.clone(), a1).await["status"], "Success");
    assert_eq!(final_status(token_b, b1).await["status"], "Success", "another vendor's invoice 100045 is not a duplicate");
    let dup = final_status(token_a, a2).await;
    assert_eq!(dup["status"], "Failure");
    assert_eq!(dup["errors"][0]["code"], "DUPLICATE_INVOICE");
}

#[tokio::test]
async fn rate_limits_are_per_selling_partner_and_operation() {
    let emu = start_default().await;
    let (a, b) = (partner(TOKEN_A), partner(TOKEN_B));
    let token_a = emu.token_for(TOKEN_A).await;
    let token_b = emu.token_for(TOKEN_B).await;
    let body = valid_body("INV-PART");
    // A bursts 11 at once while B sends 10: only A's eleventh is throttled.
    let calls = (0..21).map(|i| emu.submit(if i % 2 == 0 { &token_a } else { &token_b }, &body));
    let responses = futures_join_all(calls).await;
    let throttled: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(throttled.len(), 1);
    assert_eq!(header(throttled[0], "x-amzn-ratelimit-limit"), Some("10.0"));
    assert!(header(throttled[0], "x-amzn-requestid").is_some());
    let stats = emu.stats().await;
    assert_eq!(stats["partners"][&a]["submit"], json!({"202": 10, "429": 1}));
    assert_eq!(stats["partners"][&b]["submit"], json!({"202": 10}));
    let recorded = emu.requests().await;
    let throttled_partners: Vec<&Value> = recorded.iter().filter(|r| r["status"] == 429).map(|r| &r["partner"]).collect();
    assert_eq!(throttled_partners, [&json!(a)]);

    // A's drained submit bucket leaves its getTransaction bucket (burst 20) alone.
    let gets = futures_join_all((0..20).map(|_| emu.get_transaction(&token_a, "none"))).await;
    assert!(gets.iter().all(|r| r.status() == StatusCode::NOT_FOUND), "{:?}", gets.iter().map(|r| r.status()).collect::<Vec<_>>());
    assert_eq!(emu.get_transaction(&token_a, "none").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(emu.get_transaction(&token_b, "none").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(emu.submit(&token_a, &body).await.status(), StatusCode::TOO_MANY_REQUESTS, "A's submit bucket is still empty");

    // Reset refills every partner's buckets.
    emu.http.post(emu.url("/_emulator/reset")).send().await.unwrap();
    assert_eq!(emu.submit(&token_a, &body).await.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_refused_by_lwa_and_its_access_tokens_by_sp_api() {
    let emu = start_default().await;
    let (a, b) = (partner(TOKEN_A), partner(TOKEN_B));
    let token_a = emu.token_for(TOKEN_A).await;
    let token_b = emu.token_for(TOKEN_B).await;
    let tx: Value = emu.submit(&token_a, &valid_body("A-1")).await.json().await.unwrap();
    let tx = tx["payload"]["transactionId"].as_str().unwrap().to_owned();

    let revoked = emu.revoke(TOKEN_A, true).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(revoked.json::<Value>().await.unwrap(), json!({"partner": a, "revoked": true}));

    let (status, body) = emu.lwa(TOKEN_A).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert!(body["error_description"].is_string());
    let unauth = json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]});
    let refused = emu.submit(&token_a, &valid_body("A-2")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(header(&refused, "x-amzn-requestid").is_some());
    assert_eq!(refused.json::<Value>().await.unwrap(), unauth);
    assert_eq!(emu.get_transaction(&token_a, &tx).await.status(), StatusCode::FORBIDDEN);
    // The other partner carries on.
    assert_eq!(emu.submit(&token_b, &valid_body("B-1")).await.status(), StatusCode::ACCEPTED);
    assert_eq!(emu.get_transaction(&token_b, &tx).await.status(), StatusCode::OK, "transactions are not partitioned");

    let stats = emu.stats().await;
    assert_eq!(stats["partners"][&a]["submit"], json!({"202": 1, "403": 1}));
    assert_eq!(stats["partners"][&a]["get_transaction"], json!({"403": 1}));
    assert_eq!(stats["partners"][&a]["token_status"], json!({"200": 1, "400": 1}));
    assert_eq!(stats["partners"][&b]["submit"], json!({"202": 1}));

    // Reinstated: LWA issues tokens again, the ones from before stay dead.
    assert_eq!(emu.revoke(TOKEN_A, false).await.json::<Value>().await.unwrap(), json!({"partner": a, "revoked": false}));
    let fresh = emu.token_for(TOKEN_A).await;
    assert_eq!(emu.submit(&fresh, &valid_body("A-3")).await.status(), StatusCode::ACCEPTED);
    assert_eq!(emu.submit(&token_a, &valid_body("A-4")).await.status(), StatusCode::FORBIDDEN);

    // The default partner can be revoked too; reset lifts every revocation.
    let doc = json!({"refresh_token": "Atzr|local-refresh-token"});
    let r: Value = emu.http.post(emu.url("/_emulator/revoke")).json(&doc).send().await.unwrap().json().await.unwrap();
    assert_eq!(r, json!({"partner": "default", "revoked": true}));
    assert_eq!(emu.lwa("Atzr|local-refresh-token").await.0, StatusCode::BAD_REQUEST);
    emu.http.post(emu.url("/_emulator/reset")).send().await.unwrap();
    assert_eq!(emu.lwa("Atzr|local-refresh-token").await.0, StatusCode::OK);

    // Not a token the emulator accepts, or a typo: refused.
    assert_eq!(emu.revoke("not-a-refresh-token", true).await.status(), StatusCode::BAD_REQUEST);
    let typo = emu.http.post(emu.url("/_emulator/revoke")).json(&json!({"token": TOKEN_A})).send().await.unwrap();
    assert_eq!(typo.status(), StatusCode::BAD_REQUEST);
}
