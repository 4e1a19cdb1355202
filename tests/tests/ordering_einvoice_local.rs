//! The e-invoice of an order placed with the emulator's Ordering API: put by the emulator into
//! moto S3 at `incoming/<company>/amazon-business/<invoice id>.xml`, then ingested by
//! ingest-cxml like any other document.

use integration_tests::{start_emulator, unique, Env, ACME};
use invoice_domain::invoice::records::InvoiceStatus;
use serde_json::{json, Value};

fn order(external_id: &str) -> Value {
    let product = |asin: &str| json!({"attributeType": "SelectedProductReference", "productReference": {"productReferenceType": "ProductIdentifier", "id": asin}});
    let usd = |amount: f64| json!({"currencyCode": "USD", "amount": amount});
    json!({
        "externalId": external_id,
        "lineItems": [
            {
                "externalId": "10",
                "quantity": 4,
                "attributes": [
                    product("B000000011"),
                    {"attributeType": "Auxiliary", "values": {"category": {"value": "OFFICE_PRODUCTS"}, "subCategory": {"value": "PAPER"}}},
                    {"attributeType": "Distribution", "accounting": {"name": "Acme Corp", "segments": [{"id": "6100", "type": "GL", "description": "Supplies"}]}, "charge": {"amount": usd(50.0)}}
                ],
                "expectations": [{"expectationType": "ExpectedUnitPrice", "amount": usd(12.5)}]
            },
            {"externalId": "20", "quantity": 1, "attributes": [product("B000000012")], "expectations": [{"expectationType": "ExpectedUnitPrice", "amount": usd(99.99)}]}
        ],
        "attributes": [
            {"attributeType": "PurchaseOrderNumber", "purchaseOrderNumber": "PO-S3-1"},
            {"attributeType": "BuyingGroupReference", "groupReference": {"groupReferenceType": "GroupIdentity", "identifier": "OrderingAPI-acme"}},
            {"attributeType": "Region", "region": "US"},
            {"attributeType": "ShippingAddress", "address": {"addressType": "ExternalAddress", "addressId": "DOCK-4", "address": {
                "addressType": "PhysicalAddress", "fullName": "Dock 4", "addressLine1": "1 Harbor Way", "city": "Tacoma", "postalCode": "98402", "countryCode": "US"
            }}}
        ],
        "expectations": []
    })
}

#[tokio::test]
async fn an_e_invoice_of_a_placed_order_lands_in_s3_and_is_ingested() {
    let env = Env::new().await;
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3").expect("the stack's S3 endpoint");
    let config = spapi_emulator::Config { s3_bucket: Some(env.bucket.clone()), s3_endpoint: Some(endpoint), ..Default::default() };
    let base = start_emulator(config).await;
    let http = reqwest::Client::new();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", spapi_emulator::DEFAULT_REFRESH_TOKEN),
        ("client_id", spapi_emulator::DEFAULT_CLIENT_ID),
        ("client_secret", spapi_emulator::DEFAULT_CLIENT_SECRET),
    ];
    let token: Value = http.post(format!("{base}/auth/o2/token")).form(&form).send().await.unwrap().json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();
    let placed = http
        .post(format!("{base}{}", spapi_emulator::ORDERS_PATH))
        .header("x-amz-access-token", token)
        .json(&order("acme-PO-S3-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 200);

    let invoice_id = unique("AB").to_uppercase();
    let resp = http
        .post(format!("{base}/_emulator/ordering/orders/acme-PO-S3-1/einvoice"))
        .json(&json!({"company": ACME, "invoice_id": invoice_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    let key = format!("incoming/acme/amazon-business/{invoice_id}.xml");
    assert_eq!((answer["key"].as_str(), answer["stored"].as_bool()), (Some(key.as_str()), Some(true)), "{answer}");
    assert_eq!(answer["bucket"], env.bucket.as_str());
    let stored = env.get(&key).await.expect("the e-invoice is in the bucket");
    assert_eq!(stored, answer["xml"].as_str().unwrap().as_bytes(), "the same document, byte for byte");

    // The pipeline takes it from there: a valid invoice of acme, lines by PO line number.
    let out = ingest_cxml::handle(&env.deps(None), env.event(&[key.as_str()])).await.unwrap();
    assert_eq!(out.records[0].outcome, "stored", "{:?}", out.records[0]);
    let invoice_key = format!("NetworkID:AN01011737571#{invoice_id}");
    let h = env.repo.invoice(ACME, &invoice_key).await.unwrap().expect("header stored");
    assert_eq!(h.status, InvoiceStatus::Valid);
    // 4 × 12.50 + 99.99 = 149.99, 8 % tax 4.00 + 8.00 = 12.00, no shipping.
    assert_eq!((h.currency.as_str(), h.net.as_str(), h.line_count), ("USD", "161.99", 2));
    let lines = env.repo.lines(ACME, &invoice_key).await.unwrap();
    let refs: Vec<Option<&str>> = lines.iter().map(|l| l.reference_line_number.as_deref()).collect();
    assert_eq!(refs, [Some("10"), Some("20")]);
    assert_eq!(lines[0].category, "OFFICE_PRODUCTS");
    assert_eq!(env.repo.invoice_keys_by_reference(ACME, "PO", "PO-S3-1").await.unwrap(), vec![invoice_key.clone()]);
    let amazon_order = answer["amazon_order_id"].as_str().unwrap();
    assert_eq!(env.repo.invoice_keys_by_reference(ACME, "SORDER", amazon_order).await.unwrap(), vec![invoice_key]);

    // A variant lands the same way (it disagrees with the order, not with itself).
    let resp = http
        .post(format!("{base}/_emulator/ordering/orders/acme-PO-S3-1/einvoice"))
        .json(&json!({"company": ACME, "variant": "unknown-line"}))
        .send()
        .await
        .unwrap();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["stored"], true);
    assert!(env.get(answer["key"].as_str().unwrap()).await.is_some());
}
