//! The Amazon Business Ordering API of the emulator over real HTTP (placeOrder, orderDetails,
//! `/_emulator/ordering`, e-invoices): each test starts its own instance in-process on a
//! random loopback port.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use spapi_emulator::{serve, App, Config};
use tokio::net::TcpListener;

const ORDERS: &str = "/ordering/2022-10-30/orders";
const TOKEN_A: &str = "Atzr|company-a-refresh-token";
const TOKEN_B: &str = "Atzr|company-b-refresh-token";

struct Emu {
    base: String,
    http: reqwest::Client,
}

/// Ordering's usage plan (0.5/s, burst 10) is too slow for most tests: raised unless a test
/// is about it.
fn fast() -> Config {
    Config { place_order_rate: 100.0, place_order_burst: 100.0, order_details_rate: 100.0, order_details_burst: 100.0, ..Config::default() }
}

async fn start(config: Config) -> Emu {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, App::new(config)));
    Emu { base: format!("http://{addr}"), http: reqwest::Client::new() }
}

impl Emu {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn token_for(&self, refresh_token: &str) -> String {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "local-client-id"),
            ("client_secret", "local-client-secret"),
        ];
        let body: Value = self.http.post(self.url("/auth/o2/token")).form(&form).send().await.unwrap().json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn token(&self) -> String {
        self.token_for("Atzr|local-refresh-token").await
    }

    async fn place_raw(&self, token: &str, body: String) -> reqwest::Response {
        self.http
            .post(self.url(ORDERS))
            .header("x-amz-access-token", token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn place(&self, token: &str, body: &Value) -> reqwest::Response {
        self.place_raw(token, body.to_string()).await
    }

    /// placeOrder that must answer 200: (raw answer text, parsed).
    async fn placed(&self, token: &str, body: &Value) -> (String, Value) {
        let resp = self.place(token, body).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let text = resp.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        (text, v)
    }

    async fn details(&self, token: &str, external_id: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("{ORDERS}/{external_id}")))
            .header("x-amz-access-token", token)
            .header("x-amz-user-email", "buyer@acme.example")
            .send()
            .await
            .unwrap()
    }

    async fn control(&self, path: &str, doc: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&doc).send().await.unwrap()
    }

    async fn ordering(&self, doc: Value) -> Value {
        let resp = self.control("/_emulator/ordering", doc.clone()).await;
        assert_eq!(resp.status(), StatusCode::OK, "ordering {doc}");
        resp.json().await.unwrap()
    }

    async fn einvoice(&self, external_id: &str, doc: Value) -> reqwest::Response {
        self.control(&format!("/_emulator/ordering/orders/{external_id}/einvoice"), doc).await
    }

    async fn get(&self, path: &str) -> Value {
        self.http.get(self.url(path)).send().await.unwrap().json().await.unwrap()
    }
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn errors_of(resp: reqwest::Response) -> Vec<Value> {
    let body: Value = resp.json().await.unwrap();
    body["errors"].as_array().cloned().unwrap_or_else(|| panic!("no errors array in {body}"))
}

fn address() -> Value {
    json!({
        "addressType": "ExternalAddress",
        "addressId": "SHIP-1",
        "address": {
            "addressType": "PhysicalAddress",
            "fullName": "Dock 4",
            "companyName": "Acme Corp",
            "addressLine1": "123 Any Street",
            "city": "Any Town",
            "stateOrRegion": "WA",
            "postalCode": "98109",
            "countryCode": "US",
            "phoneNumber": "+1 206 555 0100"
        }
    })
}

/// A line as the client sends it: product, category, one distribution, expected unit price
/// and subtotal.
fn line(id: &str, asin: &str, quantity: u64, price: f64) -> Value {
    json!({
        "externalId": id,
        "quantity": quantity,
        "attributes": [
            {"attributeType": "SelectedProductReference", "productReference": {"productReferenceType": "ProductIdentifier", "id": asin}},
            {"attributeType": "Auxiliary", "values": {"category": {"value": "OFFICE_PRODUCTS"}, "subCategory": {"value": "PAPER"}}},
            {
                "attributeType": "Distribution",
                "accounting": {"name": "Acme Corp", "segments": [
                    {"id": "6100", "type": "GL", "description": "Supplies"},
                    {"id": "CC-42", "type": "CostCenter", "description": "Finance"}
                ]},
                "charge": {"amount": {"currencyCode": "USD", "amount": price * quantity as f64}}
            }
        ],
        "expectations": [
            {"expectationType": "ExpectedUnitPrice", "amount": {"currencyCode": "USD", "amount": price}},
            {"expectationType": "ExpectedCharge", "source": "SUBTOTAL", "amount": {"currencyCode": "USD", "amount": price * quantity as f64}}
        ]
    })
}

fn order(external_id: &str, lines: Vec<Value>) -> Value {
    json!({
        "externalId": external_id,
        "lineItems": lines,
        "attributes": [
            {"attributeType": "PurchaseOrderNumber", "purchaseOrderNumber": "PO-4711"},
            {"attributeType": "BuyingGroupReference", "groupReference": {"groupReferenceType": "GroupIdentity", "identifier": "OrderingAPI1234567891"}},
            {"attributeType": "BuyerReference", "userReference": {"userReferenceType": "UserEmail", "emailAddress": "buyer@acme.example"}},
            {"attributeType": "Region", "region": "US"},
            {"attributeType": "ShippingAddress", "address": address()},
            {"attributeType": "BillingAddress", "address": address()},
            {"attributeType": "SelectedPaymentMethodReference", "paymentMethodReference": {"paymentMethodReferenceType": "StoredPaymentMethod"}}
        ],
        "expectations": [
            {"expectationType": "ExpectedDeliveryDate", "requestedDeliveryDate": "2026-12-10T00:00:00Z"}
        ]
    })
}

fn two_lines(external_id: &str) -> Value {
    order(external_id, vec![line("10", "B000000001", 2, 54.99), line("20", "B000000002", 1, 19.99)])
}

/// The artifacts of a kind in a list, by the discriminator.
fn artifacts<'a>(list: &'a Value, discriminator: &str, kind: &str) -> Vec<&'a Value> {
    list.as_array().unwrap().iter().filter(|a| a[discriminator] == kind).collect()
}

fn charge<'a>(list: &'a Value, category: &str, kind: &str) -> &'a Value {
    let found: Vec<&Value> = artifacts(list, "acceptanceArtifactType", "Charge")
        .into_iter()
        .filter(|c| c["category"] == category && c["type"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {category}/{kind} charge in {list}");
    &found[0]["amount"]
}

fn is_amazon_order_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 19 && b[3] == b'-' && b[11] == b'-' && id.bytes().filter(u8::is_ascii_digit).count() == 17
}

#[tokio::test]
async fn a_valid_order_is_accepted_with_the_artifacts_of_the_sample() {
    let emu = start(Config::default()).await;
    let token = emu.token().await;
    let resp = emu.place(&token, &two_lines("acme-PO-4711")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("0.5"), "the usage plan's rate");
    assert!(header(&resp, "x-amzn-requestid").is_some());
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    let text = resp.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();

    // The answer is what the model describes (polymorphic types closed, DeliveryTimeRange as
    // the spec's sample writes it).
    let validator = spapi_emulator::model::order_result_validator();
    assert!(
        spapi_emulator::model::violations(&validator, &answer).is_empty(),
        "{:?}",
        spapi_emulator::model::violations(&validator, &answer)
    );
    assert_eq!(answer.as_object().unwrap().keys().collect::<Vec<_>>(), ["acceptanceArtifacts", "lineItems", "rejectionArtifacts"]);

    let lines = answer["lineItems"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0]["externalId"].as_str(), lines[1]["externalId"].as_str()), (Some("10"), Some("20")));
    let first = &lines[0]["acceptedItems"][0];
    assert_eq!(first["acceptedItemType"], "SingleAcceptedItem");
    assert_eq!(first["quantity"], 2);
    assert_eq!(lines[0]["rejectedItems"], json!([]));
    let a = &first["artifacts"];
    let kinds: Vec<&str> = a.as_array().unwrap().iter().map(|x| x["acceptanceArtifactType"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["DeliveryTimeRange", "UnitPrice", "Charge", "Charge", "Charge", "Charge", "OrderIdentifier"]);
    assert_eq!(a[1]["amount"], json!({"currencyCode": "USD", "amount": 54.99}), "the expected unit price");
    assert_eq!(charge(a, "SUBTOTAL", "PRINCIPAL"), &json!({"currencyCode": "USD", "amount": 109.98}));
    assert_eq!(charge(a, "SUBTOTAL", "TAX"), &json!({"currencyCode": "USD", "amount": 8.80}), "8 % of 109.98 = 8.7984");
    assert_eq!(charge(a, "SHIPPING", "PRINCIPAL"), &json!({"currencyCode": "USD", "amount": 0.0}));
    let range = &a[0];
    let (lower, upper) = (range["lowerBoundary"].as_str().unwrap(), range["upperBoundary"].as_str().unwrap());
    assert!(lower.ends_with("T07:00:00Z") && upper.ends_with("T06:59:59Z") && lower < upper, "{range}");
    let order_id = a[6]["identifier"].as_str().unwrap();
    assert!(is_amazon_order_id(order_id), "{order_id}");
    let second = &lines[1]["acceptedItems"][0]["artifacts"];
    assert_eq!(artifacts(second, "acceptanceArtifactType", "OrderIdentifier")[0]["identifier"], order_id, "one Amazon order");

    // Order level: Signed and the charges summed.
    let top = &answer["acceptanceArtifacts"];
    assert_eq!(top[0], json!({"acceptanceArtifactType": "Signed"}));
    assert_eq!(charge(top, "SUBTOTAL", "PRINCIPAL")["amount"], json!(129.97));
    assert_eq!(charge(top, "SUBTOTAL", "TAX")["amount"], json!(10.40), "8.80 + 1.60");
    assert_eq!(answer["rejectionArtifacts"], json!([]));

    // Exact digits, never a float's: 8.80 stays 8.80, 0.00 stays 0.00.
    assert!(text.contains(r#"{"currencyCode":"USD","amount":8.80}"#), "{text}");
    assert!(text.contains(r#"{"currencyCode":"USD","amount":0.00}"#), "{text}");
    assert!(text.contains(r#""amount":129.97"#), "{text}");
}

#[tokio::test]
async fn amounts_are_read_by_their_digits() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    // 0.1 + 0.2 style digits and a price with more digits than an f64 holds.
    let body =
        two_lines("digits").to_string().replace("54.99", "1234567890123.45").replace("109.98", "2469135780246.90").replace("19.99", "0.30");
    let resp = emu.place_raw(&token, body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#""amount":1234567890123.45}"#), "{text}");
    assert!(text.contains(r#""amount":2469135780246.90}"#), "2 × 1234567890123.45: {text}");
    assert!(text.contains(r#""amount":0.30}"#), "{text}");
    assert!(text.contains(r#""amount":2469135780246.90}"#) && !text.contains("rejectionArtifactType"), "{text}");

    // Amounts a decimal cannot hold (or multiply) are refused, not a crash.
    for (price, what) in
        [("1e40", "not an amount"), ("100000000000000000000000000000", "not an amount"), ("7000000000000000000000000000", "too large")]
    {
        let body = order("huge", vec![line("1", "B1", 100, 1.0)]).to_string().replace(r#""amount":1.0,"#, &format!(r#""amount":{price},"#));
        let resp = emu.place_raw(&token, body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{price}");
        let errors = errors_of(resp).await;
        assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains(what)), "{price}: {errors:?}");
    }
    assert_eq!(emu.get("/_emulator/stats").await["place_order"], json!({"200": 1, "400": 3}));
}

#[tokio::test]
async fn invalid_bodies_are_refused_naming_the_problem() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut b = two_lines("bad");
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "no lineItems",
            mutate(&|b| {
                b.as_object_mut().unwrap().remove("lineItems");
            }),
            &["(root)", "lineItems"],
        ),
        ("quantity 0", mutate(&|b| b["lineItems"][0]["quantity"] = json!(0)), &["/lineItems/0/quantity", "minimum"]),
        ("quantity 1.5", mutate(&|b| b["lineItems"][1]["quantity"] = json!(1.5)), &["/lineItems/1/quantity", "integer"]),
        (
            "lower-case currency",
            mutate(&|b| b["lineItems"][0]["expectations"][0]["amount"]["currencyCode"] = json!("usd")),
            &["/lineItems/0/expectations/0/amount/currencyCode", "does not match"],
        ),
        (
            "amount as a string",
            mutate(&|b| b["lineItems"][0]["expectations"][0]["amount"]["amount"] = json!("54.99")),
            &["/lineItems/0/expectations/0/amount/amount", "number"],
        ),
        (
            "unknown attributeType",
            mutate(&|b| b["attributes"].as_array_mut().unwrap().push(json!({"attributeType": "GiftWrap"}))),
            &["/attributes/7/attributeType", "GiftWrap"],
        ),
        ("region not a store", mutate(&|b| b["attributes"][3]["region"] = json!("NL")), &["/attributes/3/region", "NL"]),
        ("empty externalId", mutate(&|b| b["externalId"] = json!("")), &["/externalId"]),
        (
            "ExpectedCharge without source",
            mutate(&|b| {
                b["lineItems"][0]["expectations"][1].as_object_mut().unwrap().remove("source");
            }),
            &["/lineItems/0/expectations/1", "source"],
        ),
        (
            "country code of three letters",
            mutate(&|b| b["attributes"][4]["address"]["address"]["countryCode"] = json!("USA")),
            &["/attributes/4/address/address/countryCode"],
        ),
    ];
    for (name, body, expect) in cases {
        let resp = emu.place(&token, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("100.0"), "{name}");
        let errors = errors_of(resp).await;
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert_eq!(errors[0]["code"], "InvalidInput", "{name}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.starts_with(expect[0]), "{name}: {message}");
        for part in expect {
            assert!(message.contains(part), "{name}: {message:?} should mention {part:?}");
        }
    }

    let garbage = emu.place_raw(&token, "{not json".into()).await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let text = emu
        .http
        .post(emu.url(ORDERS))
        .header("x-amz-access-token", &token)
        .header("content-type", "text/plain")
        .body(two_lines("txt").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Nothing was placed.
    assert_eq!(emu.get("/_emulator/ordering/orders").await, json!([]));
}

#[tokio::test]
async fn misspelt_fields_of_a_subtype_are_refused() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut b = two_lines("typo");
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "prductReference",
            mutate(&|b| {
                let a = b["lineItems"][0]["attributes"][0].as_object_mut().unwrap();
                let v = a.remove("productReference").unwrap();
                a.insert("prductReference".into(), v);
            }),
            "/lineItems/0/attributes/0",
            "prductReference",
        ),
        (
            "purchaseOrderNumbr",
            mutate(&|b| b["attributes"][0] = json!({"attributeType": "PurchaseOrderNumber", "purchaseOrderNumbr": "PO-1"})),
            "/attributes/0",
            "purchaseOrderNumbr",
        ),
        (
            "ammount on an expectation",
            mutate(&|b| {
                b["lineItems"][1]["expectations"][0] =
                    json!({"expectationType": "ExpectedUnitPrice", "ammount": {"currencyCode": "USD", "amount": 1}})
            }),
            "/lineItems/1/expectations/0",
            "ammount",
        ),
        (
            "a field of another subtype",
            mutate(&|b| b["attributes"][3]["purchaseOrderNumber"] = json!("PO-1")),
            "/attributes/3",
            "purchaseOrderNumber",
        ),
        (
            "nested: a product id misspelt",
            mutate(&|b| {
                b["lineItems"][0]["attributes"][0]["productReference"] = json!({"productReferenceType": "ProductIdentifier", "asin": "B1"})
            }),
            "/lineItems/0/attributes/0/productReference",
            "asin",
        ),
        (
            "nested: address field misspelt",
            mutate(&|b| b["attributes"][4]["address"]["address"]["adressLine1"] = json!("x")),
            "/attributes/4/address/address",
            "adressLine1",
        ),
        (
            "distribution segment misspelt",
            mutate(&|b| b["lineItems"][0]["attributes"][2]["accounting"]["segments"][0]["desc"] = json!("x")),
            "/lineItems/0/attributes/2/accounting/segments/0",
            "desc",
        ),
    ];
    for (name, body, pointer, field) in cases {
        let resp = emu.place(&token, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name}");
        let errors = errors_of(resp).await;
        let messages: Vec<&str> = errors.iter().map(|e| e["message"].as_str().unwrap()).collect();
        assert!(messages.iter().any(|m| m.starts_with(pointer) && m.contains(field)), "{name}: {messages:?}");
    }
    // The sample request's shapes are all fine (subtypes named only in the spec included).
    assert_eq!(emu.place(&token, &two_lines("fine")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn line_external_ids_must_be_numeric_and_distinct() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    for id in ["li_1", " 10", "10 ", "1.0", "-1", "一"] {
        let body = order(&format!("alpha-{}", id.len()), vec![line(id, "B000000001", 1, 5.0)]);
        let resp = emu.place(&token, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{id:?}");
        let errors = errors_of(resp).await;
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.starts_with("/lineItems/0/externalId") && message.contains("numeric"), "{id:?}: {message}");
    }
    let dup = order("dup", vec![line("10", "B000000001", 1, 5.0), line("10", "B000000002", 1, 5.0)]);
    let errors = errors_of(emu.place(&token, &dup).await).await;
    assert!(errors[0]["message"].as_str().unwrap().starts_with("/lineItems/1/externalId"), "{errors:?}");
    // Order-level-only attributes on a line are refused too.
    let mut misplaced = two_lines("misplaced");
    misplaced["lineItems"][0]["attributes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"attributeType": "PurchaseOrderNumber", "purchaseOrderNumber": "X"}));
    let errors = errors_of(emu.place(&token, &misplaced).await).await;
    assert!(errors[0]["message"].as_str().unwrap().contains("only be passed at order level"), "{errors:?}");
    // Leading zeros are digits: accepted as written.
    let (_, answer) = emu.placed(&token, &order("zeros", vec![line("0010", "B000000001", 1, 5.0)])).await;
    assert_eq!(answer["lineItems"][0]["externalId"], "0010");
    assert_eq!(emu.details(&token, "dup").await.status(), StatusCode::NOT_FOUND, "a refused order is not placed");
}

#[tokio::test]
async fn the_same_external_id_places_one_order() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let body = two_lines("acme-PO-1");
    let (first, _) = emu.placed(&token, &body).await;
    let (again, _) = emu.placed(&token, &body).await;
    assert_eq!(first, again, "the stored answer, byte for byte");
    let orders = emu.get("/_emulator/ordering/orders").await;
    assert_eq!(orders.as_array().unwrap().len(), 1, "{orders}");
    assert_eq!(orders[0]["external_id"], "acme-PO-1");
    assert_eq!(orders[0]["partner"], "default");

    // Another request under the same externalId is refused, not placed.
    let mut other = body.clone();
    other["lineItems"][0]["quantity"] = json!(3);
    let resp = emu.place(&token, &other).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let errors = errors_of(resp).await;
    assert!(
        errors[0]["message"].as_str().unwrap().starts_with("/externalId") && errors[0]["message"].as_str().unwrap().contains("already")
    );
    // Another selling partner has its own externalIds.
    let token_a = emu.token_for(TOKEN_A).await;
    let (theirs, _) = emu.placed(&token_a, &body).await;
    assert_ne!(theirs, first);
    assert_eq!(emu.get("/_emulator/ordering/orders").await.as_array().unwrap().len(), 2);
    assert_eq!(emu.get("/_emulator/stats").await["place_order"], json!({"200": 3, "400": 1}));
}

#[tokio::test]
async fn order_details_answers_the_stored_result_per_partner() {
    let emu = start(Config::default()).await;
    let token = emu.token().await;
    let token_b = emu.token_for(TOKEN_B).await;
    let (placed, _) = emu.placed(&token, &two_lines("acme-PO-2")).await;
    let resp = emu.details(&token, "acme-PO-2").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-amzn-ratelimit-limit"), Some("0.5"));
    assert_eq!(resp.text().await.unwrap(), placed);

    let unknown = emu.details(&token, "never-placed").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(header(&unknown, "x-amzn-requestid").is_some());
    assert_eq!(errors_of(unknown).await[0]["code"], "NotFound");
    assert_eq!(emu.details(&token_b, "acme-PO-2").await.status(), StatusCode::NOT_FOUND, "another partner's order");

    // The model requires x-amz-user-email.
    let no_email = emu.http.get(emu.url(&format!("{ORDERS}/acme-PO-2"))).header("x-amz-access-token", &token).send().await.unwrap();
    assert_eq!(no_email.status(), StatusCode::BAD_REQUEST);
    assert!(errors_of(no_email).await[0]["message"].as_str().unwrap().contains("x-amz-user-email"));
    let no_token = emu.http.get(emu.url(&format!("{ORDERS}/acme-PO-2"))).header("x-amz-user-email", "a@b.c").send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let stats = emu.get("/_emulator/stats").await;
    assert_eq!(stats["order_details"], json!({"200": 1, "400": 1, "403": 1, "404": 2}));
}

#[tokio::test]
async fn tokens_are_checked_like_the_vendor_side() {
    let emu = start(fast()).await;
    let unauth = json!({"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]});
    let none = emu.http.post(emu.url(ORDERS)).json(&two_lines("x")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    assert_eq!(none.json::<Value>().await.unwrap(), unauth);
    assert_eq!(emu.place("Atza|not-issued-here", &two_lines("x")).await.json::<Value>().await.unwrap(), unauth);
    let token_a = emu.token_for(TOKEN_A).await;
    emu.control("/_emulator/revoke", json!({"refresh_token": TOKEN_A})).await;
    assert_eq!(emu.place(&token_a, &two_lines("x")).await.status(), StatusCode::FORBIDDEN);
    let expiring = start(Config { token_expires_in: 1, ..fast() }).await;
    let token = expiring.token().await;
    assert_eq!(expiring.place(&token, &two_lines("e-1")).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(expiring.place(&token, &two_lines("e-2")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(expiring.details(&token, "e-1").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn lines_are_rejected_whole_or_in_part_when_told() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let settings = emu
        .ordering(json!({
            "reject_asins": {"B000000002": {"code": "ITEM_NOT_AVAILABLE", "message": "No longer sold."}},
            "partial": {"B000000001": 1}
        }))
        .await;
    assert_eq!(settings["partial"], json!({"B000000001": 1}));
    let (_, answer) = emu.placed(&token, &two_lines("partial")).await;
    let first = &answer["lineItems"][0];
    assert_eq!(first["acceptedItems"][0]["quantity"], 1);
    assert_eq!(charge(&first["acceptedItems"][0]["artifacts"], "SUBTOTAL", "PRINCIPAL")["amount"], json!(54.99), "charged for 1");
    assert_eq!(first["rejectedItems"].as_array().unwrap().len(), 1);
    let rejected = &first["rejectedItems"][0];
    assert_eq!(rejected["quantity"], 1);
    assert_eq!(artifacts(&rejected["artifacts"], "rejectionArtifactType", "UnavailableQuantity")[0]["quantity"], 1);
    assert_eq!(artifacts(&rejected["artifacts"], "rejectionArtifactType", "RejectionCode").len(), 1);

    let second = &answer["lineItems"][1];
    assert_eq!(second["acceptedItems"], json!([]));
    assert_eq!(
        second["rejectedItems"],
        json!([{"quantity": 1, "artifacts": [
            {"rejectionArtifactType": "RejectionCode", "code": "ITEM_NOT_AVAILABLE"},
            {"rejectionArtifactType": "RejectionMessage", "message": "No longer sold."}
        ]}])
    );
    assert_eq!(charge(&answer["acceptanceArtifacts"], "SUBTOTAL", "PRINCIPAL")["amount"], json!(54.99), "only what was accepted");
    let validator = spapi_emulator::model::order_result_validator();
    assert!(spapi_emulator::model::violations(&validator, &answer).is_empty());

    // The whole order, when told.
    emu.ordering(json!({"reject_order": {"code": "PAYMENT_DECLINED", "message": "The payment method was declined."}})).await;
    let (_, refused) = emu.placed(&token, &two_lines("refused")).await;
    assert_eq!(refused["acceptanceArtifacts"], json!([]), "not Signed");
    assert_eq!(refused["rejectionArtifacts"][0], json!({"rejectionArtifactType": "RejectionCode", "code": "PAYMENT_DECLINED"}));
    assert!(refused["lineItems"].as_array().unwrap().iter().all(|l| l["acceptedItems"] == json!([])));
    emu.ordering(json!({"reject_order": null, "reject_asins": {}, "partial": {}})).await;
    let (_, fine) = emu.placed(&token, &two_lines("fine-again")).await;
    assert_eq!(fine["acceptanceArtifacts"][0]["acceptanceArtifactType"], "Signed");

    // The control API refuses what it does not know.
    assert_eq!(emu.control("/_emulator/ordering", json!({"reject_asin": {}})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.control("/_emulator/ordering", json!({"prices": {"B1": "twelve"}})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.control("/_emulator/ordering", json!({"tax_rate": -1})).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_price_above_the_expected_unit_price_breaks_the_expectation() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.ordering(json!({"prices": {"B000000001": "55.00", "B000000002": 19.99}})).await;
    let (text, answer) = emu.placed(&token, &two_lines("pricey")).await;
    let first = &answer["lineItems"][0];
    assert_eq!(first["acceptedItems"], json!([]));
    assert_eq!(
        first["rejectedItems"],
        json!([{"quantity": 2, "artifacts": [{
            "rejectionArtifactType": "BrokenUnitPriceExpectation",
            "boundary": {"currencyCode": "USD", "amount": 54.99},
            "actualAmount": {"currencyCode": "USD", "amount": 55.00}
        }]}])
    );
    assert!(text.contains(r#""actualAmount":{"currencyCode":"USD","amount":55.00}"#), "{text}");
    // The catalogue price equal to the expectation is fine.
    assert_eq!(answer["lineItems"][1]["acceptedItems"][0]["quantity"], 1);
    assert_eq!(answer["lineItems"][1]["acceptedItems"][0]["artifacts"][1]["amount"]["amount"], json!(19.99));

    // Below the expectation: accepted at the catalogue price.
    emu.ordering(json!({"prices": {"B000000001": "50.00"}})).await;
    let (_, cheaper) = emu.placed(&token, &two_lines("cheaper")).await;
    assert_eq!(cheaper["lineItems"][0]["acceptedItems"][0]["artifacts"][1]["amount"]["amount"], json!(50.0));

    // A charge above its ExpectedCharge: BrokenChargeExpectation (tax expected 0).
    emu.ordering(json!({"prices": {}})).await;
    let mut no_tax = two_lines("no-tax");
    no_tax["expectations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"expectationType": "ExpectedCharge", "source": "TAX", "amount": {"currencyCode": "USD", "amount": 0}}));
    let (_, broken) = emu.placed(&token, &no_tax).await;
    let artifact = &broken["lineItems"][0]["rejectedItems"][0]["artifacts"][0];
    assert_eq!(artifact["rejectionArtifactType"], "BrokenChargeExpectation");
    assert_eq!(artifact["sources"], json!(["TAX"]));
    assert_eq!(artifact["actualAmount"]["amount"], json!(8.80));
    emu.ordering(json!({"tax_rate": "0"})).await;
    let (_, untaxed) = emu
        .placed(&token, &{
            let mut b = no_tax.clone();
            b["externalId"] = json!("no-tax-2");
            b
        })
        .await;
    assert_eq!(untaxed["lineItems"][0]["acceptedItems"][0]["quantity"], 2);
}

#[tokio::test]
async fn lines_can_be_split_over_two_amazon_orders() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.ordering(json!({"split_orders": true})).await;
    let ids = |answer: &Value| -> Vec<Vec<String>> {
        answer["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l["acceptedItems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| {
                        artifacts(&i["artifacts"], "acceptanceArtifactType", "OrderIdentifier")[0]["identifier"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    })
                    .collect()
            })
            .collect()
    };
    let (_, two) = emu.placed(&token, &two_lines("split-2")).await;
    let by_line = ids(&two);
    assert_eq!((by_line[0].len(), by_line[1].len()), (1, 1));
    assert_ne!(by_line[0][0], by_line[1][0], "each line its own Amazon order");

    let (_, one) = emu.placed(&token, &order("split-1", vec![line("1", "B000000003", 3, 4.0)])).await;
    let items = one["lineItems"][0]["acceptedItems"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["quantity"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 1]);
    let by_line = ids(&one);
    assert_ne!(by_line[0][0], by_line[0][1]);
    assert_eq!(charge(&items[1]["artifacts"], "SUBTOTAL", "PRINCIPAL")["amount"], json!(4.0));
    assert_eq!(charge(&one["acceptanceArtifacts"], "SUBTOTAL", "PRINCIPAL")["amount"], json!(12.0));
}

#[tokio::test]
async fn place_order_bursts_ten_then_429_with_the_headers() {
    let emu = start(Config::default()).await;
    let token = emu.token().await;
    let bodies: Vec<Value> = (0..11).map(|i| two_lines(&format!("burst-{i}"))).collect();
    let mut statuses = Vec::new();
    let mut throttled = None;
    for b in &bodies {
        let resp = emu.place(&token, b).await;
        statuses.push(resp.status().as_u16());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(resp);
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429]);
    let throttled = throttled.unwrap();
    assert_eq!(header(&throttled, "x-amzn-ratelimit-limit"), Some("0.5"));
    assert!(header(&throttled, "x-amzn-requestid").is_some());
    assert_eq!(
        throttled.json::<Value>().await.unwrap(),
        json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]})
    );
    // orderDetails has its own bucket; another partner its own.
    assert_eq!(emu.details(&token, "burst-0").await.status(), StatusCode::OK);
    let token_a = emu.token_for(TOKEN_A).await;
    assert_eq!(emu.place(&token_a, &two_lines("other-partner")).await.status(), StatusCode::OK);
    // 0.5/s: one more after two seconds.
    tokio::time::sleep(Duration::from_millis(2050)).await;
    assert_eq!(emu.place(&token, &bodies[10]).await.status(), StatusCode::OK);
    assert_eq!(emu.place(&token, &two_lines("burst-12")).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(emu.get("/_emulator/stats").await["place_order"], json!({"200": 12, "429": 2}));
}

#[tokio::test]
async fn a_lost_answer_is_found_by_order_details() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.control("/_emulator/faults", json!({"lose_response_next": 1, "operation": "place_order"})).await;
    let body = two_lines("acme-PO-lost");
    let err = emu.http.post(emu.url(ORDERS)).header("x-amz-access-token", &token).json(&body).send().await.expect_err("answer lost");
    assert!(err.status().is_none(), "{err:?}");
    // The order was placed: orderDetails finds it, and placing it again places nothing new.
    let found = emu.details(&token, "acme-PO-lost").await;
    assert_eq!(found.status(), StatusCode::OK);
    let found = found.text().await.unwrap();
    let (again, _) = emu.placed(&token, &body).await;
    assert_eq!(again, found);
    assert_eq!(emu.get("/_emulator/ordering/orders").await.as_array().unwrap().len(), 1);
    let recorded = emu.get("/_emulator/requests").await;
    let lost = recorded.as_array().unwrap().iter().find(|r| r["fault"] == "lose_response").unwrap();
    assert_eq!((lost["operation"].as_str(), lost["external_id"].as_str()), (Some("place_order"), Some("acme-PO-lost")));

    // Other faults scoped to the ordering operations.
    emu.control("/_emulator/faults", json!({"fail_next": 1, "operation": "order_details"})).await;
    let failed = emu.details(&token, "acme-PO-lost").await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&failed, "x-amzn-ratelimit-limit"), Some("100.0"));
    emu.control("/_emulator/faults", json!({"throttle_next": 1, "operation": "place_order"})).await;
    assert_eq!(emu.place(&token, &body).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(emu.details(&token, "acme-PO-lost").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn trial_orders_are_answered_but_not_placed() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut trial = two_lines("trial");
    trial["attributes"].as_array_mut().unwrap().push(json!({"attributeType": "TrialMode"}));
    let (_, answer) = emu.placed(&token, &trial).await;
    assert_eq!(charge(&answer["acceptanceArtifacts"], "SUBTOTAL", "PRINCIPAL")["amount"], json!(129.97));
    assert!(artifacts(&answer["acceptanceArtifacts"], "acceptanceArtifactType", "Signed").is_empty());
    assert!(artifacts(&answer["lineItems"][0]["acceptedItems"][0]["artifacts"], "acceptanceArtifactType", "OrderIdentifier").is_empty());
    assert_eq!(emu.details(&token, "trial").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn recordings_stats_and_reset_cover_the_ordering_operations() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.placed(&token, &two_lines("rec-1")).await;
    emu.details(&token, "rec-1").await;
    emu.ordering(json!({"split_orders": true, "prices": {"B1": "1.00"}})).await;
    let recorded = emu.get("/_emulator/requests").await;
    let api: Vec<(Value, Value, Value, Value, Value)> = recorded
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] != "token")
        .map(|r| (r["operation"].clone(), r["method"].clone(), r["path"].clone(), r["partner"].clone(), r["external_id"].clone()))
        .collect();
    assert_eq!(
        api,
        [
            (json!("place_order"), json!("POST"), json!(ORDERS), json!("default"), json!("rec-1")),
            (json!("order_details"), json!("GET"), json!(format!("{ORDERS}/rec-1")), json!("default"), json!("rec-1")),
        ]
    );
    assert_eq!(recorded[1]["body"]["externalId"], "rec-1");
    assert!(!recorded.to_string().contains(&token), "no token recorded");
    let stats = emu.get("/_emulator/stats").await;
    assert_eq!((stats["place_order"].clone(), stats["order_details"].clone()), (json!({"200": 1}), json!({"200": 1})));
    assert_eq!(stats["partners"]["default"]["place_order"], json!({"200": 1}));

    emu.control("/_emulator/reset", json!({})).await;
    assert_eq!(emu.details(&token, "rec-1").await.status(), StatusCode::NOT_FOUND, "orders cleared");
    assert_eq!(emu.get("/_emulator/ordering").await["split_orders"], false);
    assert_eq!(emu.get("/_emulator/ordering").await["prices"], json!({}));
    assert_eq!(emu.get("/_emulator/ordering/orders").await, json!([]));
}

/// The spec's sample request, with what it gets wrong against the model put right: an empty
/// order `externalId` (minLength 1), a line id `"12345,` (not JSON), an empty postalCode and
/// phoneNumber (minLength 1).
fn spec_sample_request() -> Value {
    let mut physical = json!({
        "stateOrRegion": "WA", "city": "Any Town", "addressType": "PhysicalAddress", "countryCode": "US",
        "companyName": "AnyCompany", "postalCode": "98101", "fullName": "AnyCompany", "addressLine1": "123 Any Street"
    });
    let external = |p: &Value| json!({"address": p, "addressType": "ExternalAddress", "addressId": "EXTERNAL_ADDRESS_ID"});
    let ship = external(&physical);
    physical["postalCode"] = json!("98102");
    let bill = external(&physical);
    json!({
        "lineItems": [{
            "quantity": 1,
            "externalId": "12345",
            "attributes": [
                {"attributeType": "SelectedProductReference", "productReference": {"id": "B01GGKYS6E", "productReferenceType": "ProductIdentifier"}},
                {"attributeType": "Auxiliary", "values": {"subCategory": {"value": "GENERAL_OFFICE_SUPPLIES"}, "category": {"value": "OFFICE_PRODUCTS"}}},
                {
                    "charge": {"amount": {"amount": 109.99, "currencyCode": "USD"}},
                    "attributeType": "Distribution",
                    "accounting": {"name": "XYZ Corporation", "segments": [
                        {"description": "DeptId", "id": "001", "type": "DeptId"},
                        {"description": "OpUnit", "id": "002", "type": "OpUnit"}
                    ]}
                }
            ],
            "expectations": [
                {"amount": {"amount": 101, "currencyCode": "USD"}, "expectationType": "ExpectedUnitPrice"},
                {"amount": {"amount": 102, "currencyCode": "USD"}, "expectationType": "ExpectedCharge", "source": "SUBTOTAL"},
                {"requestedDeliveryDate": "2026-01-30T21:32:44.511301Z", "expectationType": "ExpectedDeliveryDate"}
            ]
        }],
        "externalId": "US Order 1",
        "attributes": [
            {"attributeType": "PurchaseOrderNumber", "purchaseOrderNumber": "US Order"},
            {"attributeType": "BuyingGroupReference", "groupReference": {"identifier": "OrderingAPI1234567891", "groupReferenceType": "GroupIdentity"}},
            {"attributeType": "BuyerReference", "userReference": {"emailAddress": "test@amazon.com", "userReferenceType": "UserEmail"}},
            {"attributeType": "Region", "region": "US"},
            {"address": ship, "attributeType": "ShippingAddress"},
            {"address": bill, "attributeType": "BillingAddress"},
            {"paymentMethodReference": {"paymentMethodReferenceType": "StoredPaymentMethod"}, "attributeType": "SelectedPaymentMethodReference"}
        ],
        "expectations": [
            {"amount": {"amount": 103, "currencyCode": "USD"}, "expectationType": "ExpectedCharge", "source": "TAX"},
            {"amount": {"amount": 104, "currencyCode": "USD"}, "expectationType": "ExpectedCharge", "source": "SHIPPING"},
            {"amount": {"amount": 105, "currencyCode": "USD"}, "expectationType": "ExpectedCharge", "source": "SUBTOTAL"},
            {"requestedDeliveryDate": "2026-01-30T21:32:44.502457Z", "expectationType": "ExpectedDeliveryDate"}
        ]
    })
}

#[tokio::test]
async fn the_spec_sample_is_answered_like_the_spec_sample() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.ordering(json!({"prices": {"B01GGKYS6E": "7.99"}, "shipping": "6.99", "tax_rate": "6.01"})).await;
    let (_, answer) = emu.placed(&token, &spec_sample_request()).await;
    let a = &answer["lineItems"][0]["acceptedItems"][0]["artifacts"];
    assert_eq!(a[1], json!({"acceptanceArtifactType": "UnitPrice", "amount": {"currencyCode": "USD", "amount": 7.99}}));
    assert_eq!(charge(a, "SUBTOTAL", "PRINCIPAL")["amount"], json!(7.99));
    assert_eq!(charge(a, "SHIPPING", "PRINCIPAL")["amount"], json!(6.99));
    assert_eq!(charge(a, "SHIPPING", "TAX")["amount"], json!(0.42), "the sample's 0.42");
    assert_eq!(charge(a, "SUBTOTAL", "TAX")["amount"], json!(0.48), "the sample's 0.48");
    let top = &answer["acceptanceArtifacts"];
    assert_eq!(top.as_array().unwrap().len(), 5, "Signed and four charges, as in the sample");
}

#[tokio::test]
async fn the_spec_sample_response_fits_the_result_schema() {
    let sample = json!({
        "lineItems": [{"externalId": "12345", "acceptedItems": [{"acceptedItemType": "SingleAcceptedItem", "quantity": 1, "artifacts": [
            {"acceptanceArtifactType": "DeliveryTimeRange", "lowerBoundary": "2025-03-10T07:00:00Z", "upperBoundary": "2025-03-11T06:59:59Z"},
            {"acceptanceArtifactType": "UnitPrice", "amount": {"currencyCode": "USD", "amount": 7.99}},
            {"acceptanceArtifactType": "Charge", "amount": {"currencyCode": "USD", "amount": 7.99}, "category": "SUBTOTAL", "type": "PRINCIPAL"},
            {"acceptanceArtifactType": "OrderIdentifier", "identifier": "113-1746647-0749053"}
        ]}], "rejectedItems": []}],
        "acceptanceArtifacts": [{"acceptanceArtifactType": "Signed"}],
        "rejectionArtifacts": []
    });
    let v = spapi_emulator::model::order_result_validator();
    assert!(spapi_emulator::model::violations(&v, &sample).is_empty(), "{:?}", spapi_emulator::model::violations(&v, &sample));
    let mut without_type = sample.clone();
    without_type["lineItems"][0]["acceptedItems"][0].as_object_mut().unwrap().remove("acceptedItemType");
    assert!(!spapi_emulator::model::violations(&v, &without_type).is_empty(), "the model requires acceptedItemType");
}

// ---------------------------------------------------------------------------------------------
// E-invoices

async fn einvoice_of(emu: &Emu, external_id: &str, doc: Value) -> Value {
    let resp = emu.einvoice(external_id, doc.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK, "einvoice {doc}");
    resp.json().await.unwrap()
}

fn checked(xml: &str) -> invoice_domain::invoice::Checked {
    invoice_domain::invoice::check(xml.as_bytes(), &invoice_domain::invoice::cxml::Limits::default())
}

#[tokio::test]
async fn e_invoices_parse_and_disagree_with_the_order_as_asked() {
    let emu = start(Config { order_shipping: "4.99".into(), ..fast() }).await;
    let token = emu.token().await;
    let (_, placed) = emu.placed(&token, &two_lines("acme-PO-4711")).await;
    let amazon_order = placed["lineItems"][0]["acceptedItems"][0]["artifacts"][6]["identifier"].as_str().unwrap().to_owned();

    let exact = einvoice_of(&emu, "acme-PO-4711", json!({"company": "acme", "invoice_id": "INV-EXACT-1"})).await;
    assert_eq!(exact["key"], "incoming/acme/amazon-business/INV-EXACT-1.xml");
    assert_eq!((exact["stored"].clone(), exact["bucket"].clone()), (json!(false), Value::Null), "no S3 configured");
    assert_eq!(exact["amazon_order_id"], amazon_order.as_str());
    assert_eq!(exact["to"], "NetworkID:OrderingAPI1234567891", "the buying group");
    let c = checked(exact["xml"].as_str().unwrap());
    assert!(c.is_valid(), "{:?}\n{}", c.issues, exact["xml"].as_str().unwrap());
    let inv = c.invoice.as_ref().unwrap();
    let totals = c.totals.as_ref().unwrap();
    assert_eq!(inv.header.invoice_id.as_deref(), Some("INV-EXACT-1"));
    assert_eq!(inv.from[0].identity, "AN01011737571");
    assert_eq!(inv.order_ids(), ["PO-4711"]);
    assert_eq!(inv.supplier_order_ids(), [amazon_order.as_str()]);
    assert_eq!(inv.orders[0].info.order_payload_id.as_deref(), Some("acme-PO-4711"));
    let items: Vec<_> = inv.items().collect();
    assert_eq!(items.iter().map(|i| i.reference_line_number.as_deref().unwrap()).collect::<Vec<_>>(), ["10", "20"]);
    assert_eq!(items.iter().map(|i| i.supplier_part_id.as_deref().unwrap()).collect::<Vec<_>>(), ["B000000001", "B000000002"]);
    assert_eq!(items[0].quantity.unwrap().to_string(), "2");
    assert_eq!(items[0].unit_price.unwrap().amount.to_string(), "54.99");
    assert_eq!(items[0].extrinsic("category"), Some("OFFICE_PRODUCTS"));
    assert_eq!(items[0].extrinsic("subCategory"), Some("PAPER"));
    let d = &items[0].distributions;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].accounting_name.as_deref(), Some("Acme Corp"));
    assert_eq!(d[0].segments.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["6100", "CC-42"]);
    assert_eq!(d[0].segments[1].name.as_deref(), Some("CostCenter"));
    assert_eq!(d[0].segments[1].description.as_deref(), Some("Finance"));
    assert_eq!(d[0].charge.unwrap().amount.to_string(), "109.98");
    // The totals are the order's: subtotal, tax (8 % of goods and shipping), shipping.
    let sum = |category: &str, kind: &str| charge(&placed["acceptanceArtifacts"], category, kind)["amount"].to_string();
    assert_eq!(totals.subtotal.amount.to_string(), sum("SUBTOTAL", "PRINCIPAL"));
    assert_eq!(totals.shipping.amount.to_string(), "9.98", "4.99 per accepted item");
    assert_eq!(sum("SHIPPING", "PRINCIPAL"), "9.98");
    let tax = totals.tax.amount;
    assert_eq!(tax.to_string(), "11.20", "8.80 + 1.60 + 0.40 + 0.40");
    assert_eq!(totals.net.amount.to_string(), "151.15");
    assert_eq!(totals.due, totals.net);
    let ship_to = inv.header.shipping.iter().find(|c| c.role == "shipTo").unwrap();
    assert_eq!(ship_to.address_id.as_deref(), Some("SHIP-1"));
    assert_eq!(inv.partner("billTo").unwrap().city.as_deref(), Some("Any Town"));

    let higher = einvoice_of(&emu, "acme-PO-4711", json!({"company": "acme", "variant": "higher-price"})).await;
    let c = checked(higher["xml"].as_str().unwrap());
    assert!(c.is_valid(), "{:?}", c.issues);
    let first = c.invoice.as_ref().unwrap().items().next().unwrap().clone();
    assert_eq!(first.unit_price.unwrap().amount.to_string(), "60.49", "54.99 + 10 %");
    assert_eq!(first.amounts.subtotal.unwrap().amount.to_string(), "120.98");
    assert_ne!(higher["invoice_id"], exact["invoice_id"]);
    let id = higher["invoice_id"].as_str().unwrap();
    assert!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{id}");

    let extra = einvoice_of(
        &emu,
        "acme-PO-4711",
        json!({"company": "acme", "variant": "extra-quantity", "to_identity": "NetworkID:AN12345678901"}),
    )
    .await;
    let c = checked(extra["xml"].as_str().unwrap());
    assert!(c.is_valid(), "{:?}", c.issues);
    let inv = c.invoice.as_ref().unwrap();
    assert_eq!(inv.to[0].identity, "AN12345678901");
    assert_eq!(inv.items().next().unwrap().quantity.unwrap().to_string(), "3");

    let unknown = einvoice_of(&emu, "acme-PO-4711", json!({"company": "acme", "variant": "unknown-line"})).await;
    let c = checked(unknown["xml"].as_str().unwrap());
    assert!(c.is_valid(), "{:?}", c.issues);
    let refs: Vec<String> = c.invoice.as_ref().unwrap().items().map(|i| i.reference_line_number.as_deref().unwrap().to_owned()).collect();
    assert_eq!(refs, ["10", "20", "21"], "a line number the PO does not have");

    // What the control API refuses.
    let refused = |doc: Value, external_id: &'static str, status: StatusCode| {
        let emu = &emu;
        async move {
            let resp = emu.einvoice(external_id, doc.clone()).await;
            assert_eq!(resp.status(), status, "{doc}");
        }
    };
    refused(json!({"company": "acme"}), "never-placed", StatusCode::NOT_FOUND).await;
    refused(json!({"company": "acme", "variant": "cheaper"}), "acme-PO-4711", StatusCode::BAD_REQUEST).await;
    refused(json!({"company": "ac/me"}), "acme-PO-4711", StatusCode::BAD_REQUEST).await;
    refused(json!({"company": "acme", "invoice_id": "../x"}), "acme-PO-4711", StatusCode::BAD_REQUEST).await;
    refused(json!({"company": "acme", "amazon_order_id": "113-0000000-0000000"}), "acme-PO-4711", StatusCode::BAD_REQUEST).await;
    refused(json!({"compnay": "acme"}), "acme-PO-4711", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_split_order_is_invoiced_per_amazon_order() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.ordering(json!({"split_orders": true})).await;
    emu.placed(&token, &two_lines("split")).await;
    let resp = emu.einvoice("split", json!({"company": "acme"})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "which Amazon order?");
    let orders = emu.get("/_emulator/ordering/orders").await;
    let ids = orders[0]["amazon_order_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    for (n, id) in ids.iter().enumerate() {
        let e = einvoice_of(&emu, "split", json!({"company": "acme", "amazon_order_id": id})).await;
        let c = checked(e["xml"].as_str().unwrap());
        assert!(c.is_valid(), "{:?}", c.issues);
        let inv = c.invoice.unwrap();
        assert_eq!(inv.supplier_order_ids(), [id.as_str().unwrap().to_owned()]);
        let refs: Vec<_> = inv.items().map(|i| i.reference_line_number.clone().unwrap().to_string()).collect();
        assert_eq!(refs, [["10"], ["20"]][n]);
    }
}
