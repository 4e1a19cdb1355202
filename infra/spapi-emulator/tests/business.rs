//! The Amazon Business Reconciliation and Document (Reports) APIs of the emulator over real
//! HTTP (getTransactions, getInvoiceDetailsByOrderLineItems, getBatchInvoicePaymentDetails,
//! createReport / getReport / cancelReport / getReportDocument, the document download,
//! `/_emulator/business/seed`): each test starts its own instance in-process.

use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use spapi_emulator::{model, serve, App, Config};
use tokio::net::TcpListener;

const TRANSACTIONS: &str = "/reconciliation/2021-01-08/transactions";
const INVOICES: &str = "/reconciliation/2021-01-08/invoices";
const PAYMENTS: &str = "/reconciliation/2021-01-08/invoices/batch/paymentDetails";
const REPORTS: &str = "/reports/2021-09-30/reports";
const DOCUMENTS: &str = "/reports/2021-09-30/documents";
const TOKEN_A: &str = "Atzr|company-a-refresh-token";
const TOKEN_B: &str = "Atzr|company-b-refresh-token";

struct Emu {
    base: String,
    http: reqwest::Client,
}

/// The usage plans (2/s burst 10; one a minute for documents) are too slow for most tests:
/// raised unless a test is about them.
fn fast() -> Config {
    Config {
        get_transactions_rate: 1000.0,
        get_transactions_burst: 1000.0,
        invoice_details_rate: 1000.0,
        invoice_details_burst: 1000.0,
        payment_details_rate: 1000.0,
        payment_details_burst: 1000.0,
        create_report_rate: 1000.0,
        create_report_burst: 1000.0,
        get_report_rate: 1000.0,
        get_report_burst: 1000.0,
        cancel_report_rate: 1000.0,
        cancel_report_burst: 1000.0,
        get_report_document_rate: 1000.0,
        get_report_document_burst: 1000.0,
        ..Config::default()
    }
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

    async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).header("x-amz-access-token", token).send().await.unwrap()
    }

    async fn transactions(&self, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.http.get(self.url(TRANSACTIONS)).query(query).header("x-amz-access-token", token).send().await.unwrap()
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.url(path)).header("x-amz-access-token", token).json(body).send().await.unwrap()
    }

    async fn control(&self, path: &str, doc: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&doc).send().await.unwrap()
    }

    async fn seed(&self, doc: Value) -> Value {
        let resp = self.control("/_emulator/business/seed", doc).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "seed: {body}");
        body
    }

    async fn faults(&self, doc: Value) {
        assert_eq!(self.control("/_emulator/faults", doc).await.status(), StatusCode::OK);
    }

    async fn state(&self, path: &str) -> Value {
        self.http.get(self.url(path)).send().await.unwrap().json().await.unwrap()
    }

    /// createReport that must answer 202: the reportId.
    async fn create_report(&self, token: &str, options: Value) -> String {
        let body = json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": ["A13V1IB3VIYZZH"], "reportOptions": options});
        let resp = self.post(token, REPORTS, &body).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let v: Value = resp.json().await.unwrap();
        assert_valid(&model::document_validator("CreateReportResponse", true), &v);
        v["reportId"].as_str().unwrap().to_owned()
    }

    /// getReport until a final status: the statuses seen and the last report.
    async fn poll_report(&self, token: &str, id: &str) -> (Vec<String>, Value) {
        let validator = model::document_validator("Report", true);
        let mut seen = Vec::new();
        for _ in 0..20 {
            let resp = self.get(token, &format!("{REPORTS}/{id}")).await;
            assert_eq!(resp.status(), StatusCode::OK);
            let report: Value = resp.json().await.unwrap();
            assert_valid(&validator, &report);
            let status = report["processingStatus"].as_str().unwrap().to_owned();
            seen.push(status.clone());
            if matches!(status.as_str(), "DONE" | "FATAL" | "CANCELLED") {
                return (seen, report);
            }
        }
        panic!("report {id} never finished: {seen:?}");
    }

    /// getReportDocument that must answer 200.
    async fn report_document(&self, token: &str, document_id: &str) -> Value {
        let resp = self.get(token, &format!("{DOCUMENTS}/{document_id}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let v: Value = resp.json().await.unwrap();
        assert_valid(&model::document_validator("ReportDocument", true), &v);
        v
    }
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn assert_valid(validator: &jsonschema::Validator, v: &Value) {
    let errors = model::violations(validator, v);
    assert!(errors.is_empty(), "{errors:?} in {v}");
}

async fn errors_of(resp: reqwest::Response) -> Vec<Value> {
    let body: Value = resp.json().await.unwrap();
    body["errors"].as_array().cloned().unwrap_or_else(|| panic!("no errors array in {body}"))
}

async fn error_of(resp: reqwest::Response) -> (String, String) {
    let errors = errors_of(resp).await;
    (errors[0]["code"].as_str().unwrap().to_owned(), errors[0]["message"].as_str().unwrap().to_owned())
}

/// Walks getTransactions from a window to the last page: (pages, every transaction).
async fn walk(emu: &Emu, token: &str, start: &str, end: &str) -> (Vec<Value>, Vec<Value>) {
    let validator = model::reconciliation_validator("TransactionsResponse", true);
    let mut pages = Vec::new();
    let mut all = Vec::new();
    let mut resp = emu.transactions(token, &[("feedStartDate", start), ("feedEndDate", end)]).await;
    loop {
        assert_eq!(resp.status(), StatusCode::OK);
        let page: Value = resp.json().await.unwrap();
        assert_valid(&validator, &page);
        all.extend(page["transactions"].as_array().unwrap().iter().cloned());
        let next = page.get("nextPageToken").and_then(Value::as_str).map(str::to_owned);
        pages.push(page);
        let Some(next) = next else { break };
        resp = emu.transactions(token, &[("nextPageToken", &next)]).await;
    }
    (pages, all)
}

fn invoice(number: &str, date: &str, lines: Value) -> Value {
    json!({"invoice_number": number, "invoice_date": date, "lines": lines})
}

/// A two-line invoice with known ids: 2 × 10.00 at 20 % + 4.99 shipping, 1 × 5.50 with a
/// 1.00 discount.
fn two_line_invoice(number: &str) -> Value {
    json!({
        "invoice_number": number,
        "invoice_date": "2026-11-02T10:00:00Z",
        "feed_date": "2026-11-03T04:00:00Z",
        "order_id": "402-1111111-2222222",
        "legal_entity_name": "Acme SAS",
        "lines": [
            {"order_line_item_id": "OLI-1", "shipment_id": "SHIP-1", "asin": "B000000001", "title": "Paper", "quantity": 2,
             "unit_price": "10.00", "tax_rate": "20", "shipping": "4.99", "unspsc": "14111500",
             "merchant_legal_name": "Papeterie SARL", "business_order_info": {"GL code": "6064", "Cost center": "CC-42"}},
            {"order_line_item_id": "OLI-2", "shipment_id": "SHIP-1", "asin": "B000000002", "title": "Pens", "quantity": 1,
             "unit_price": 5.5, "tax_rate": 20, "discount": "1.00"}
        ]
    })
}

#[tokio::test]
async fn get_transactions_walks_every_small_page_of_the_feed_window() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    // 24 invoices dated 2026-11-01 00:00 … 23:00 (one an hour), each in the feed a day after
    // its invoice date.
    let seeded = emu.seed(json!({"generate": {"count": 24, "from": "2026-11-01", "days": 1, "lines": 1}})).await;
    assert_eq!(seeded["added"]["invoices"], 24);
    let (pages, all) = walk(&emu, &token, "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z").await;
    assert_eq!(pages.len(), 5, "pages of 5: 5+5+5+5+4");
    assert!(pages.iter().all(|p| p["transactions"].as_array().unwrap().len() <= 5));
    assert!(pages.last().unwrap().get("nextPageToken").is_none());
    assert!(pages[..4].iter().all(|p| p["nextPageToken"].is_string()));
    let ids: HashSet<&str> = all.iter().map(|t| t["transactionId"].as_str().unwrap()).collect();
    assert_eq!((all.len(), ids.len()), (24, 24), "every transaction once");
    // In feed-date order.
    let feed: Vec<&str> = all.iter().map(|t| t["feedDate"].as_str().unwrap()).collect();
    assert!(feed.windows(2).all(|w| w[0] <= w[1]), "{feed:?}");
    // The window is on feedDate, not transactionDate: the invoices' own day has no feed.
    let (_, none) = walk(&emu, &token, "2026-11-01T00:00:00Z", "2026-11-01T23:00:00Z").await;
    assert!(none.is_empty());
    // A narrower window; both ends inclusive.
    let (_, some) = walk(&emu, &token, "2026-11-02T03:00:00Z", "2026-11-02T05:00:00Z").await;
    assert_eq!(some.len(), 3);
    // A transaction carries what the import needs.
    let t = &all[0];
    assert_eq!(t["transactionType"], "CHARGE");
    assert!(t["invoiceNumber"].as_str().unwrap().starts_with("GEN"));
    let line = &t["transactionLineItems"][0];
    for key in ["orderId", "orderLineItemId", "shipmentId", "merchantLegalName", "unspsc", "asin", "productTitle"] {
        assert!(line[key].is_string(), "{key} in {line}");
    }
    assert_eq!(line["businessOrderInfo"]["GL code"], "6000");
    // A page token answers the same page again (a client retrying after an error).
    let first = emu.transactions(&token, &[("feedStartDate", "2026-11-02T00:00:00Z"), ("feedEndDate", "2026-11-03T00:00:00Z")]).await;
    let first: Value = first.json().await.unwrap();
    let next = first["nextPageToken"].as_str().unwrap();
    let a: Value = emu.transactions(&token, &[("nextPageToken", next)]).await.json().await.unwrap();
    let b: Value = emu.transactions(&token, &[("nextPageToken", next)]).await.json().await.unwrap();
    assert_eq!(a["transactions"], b["transactions"]);
    assert_eq!(a["transactions"][0]["transactionId"], all[5]["transactionId"]);
}

#[tokio::test]
async fn next_page_token_goes_alone_and_parameters_are_checked() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.seed(json!({"generate": {"count": 12, "from": "2026-11-01"}})).await;
    let window = [("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")];
    let page: Value = emu.transactions(&token, &window).await.json().await.unwrap();
    let next = page["nextPageToken"].as_str().unwrap().to_owned();

    // With other parameters: 400.
    let resp = emu.transactions(&token, &[window[0], window[1], ("nextPageToken", &next)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(header(&resp, "x-amzn-RateLimit-Limit").is_some() && header(&resp, "x-amzn-RequestId").is_some());
    let (code, message) = error_of(resp).await;
    assert_eq!(code, "INVALID_REQUEST_PARAMETER");
    assert!(message.contains("only parameter"), "{message}");
    let resp = emu.transactions(&token, &[window[0], ("nextPageToken", &next)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Alone: the next page.
    assert_eq!(emu.transactions(&token, &[("nextPageToken", &next)]).await.status(), StatusCode::OK);
    // Made up, or another partner's: 400.
    let resp = emu.transactions(&token, &[("nextPageToken", "bm90LWEtdG9rZW4")]).await;
    assert_eq!((resp.status(), error_of(resp).await.0.as_str()), (StatusCode::BAD_REQUEST, "INVALID_REQUEST_PARAMETER"));
    let other = emu.token_for(TOKEN_A).await;
    assert_eq!(emu.transactions(&other, &[("nextPageToken", &next)]).await.status(), StatusCode::BAD_REQUEST);

    // Dates: required, ISO 8601 (the sandbox's message), in order.
    let resp = emu.transactions(&token, &[window[0]]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(resp).await.1.contains("feedEndDate"));
    let resp = emu.transactions(&token, &[("feedStartDate", "incorrectFormatDate"), window[1]]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(resp).await.1.starts_with("Input date [incorrectFormatDate] is not in the expected ISO8601 format."));
    let resp = emu.transactions(&token, &[("feedStartDate", "2026-12-01T00:00:00Z"), window[1]]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Unknown or repeated parameters.
    assert_eq!(emu.transactions(&token, &[window[0], window[1], ("pageSize", "100")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.transactions(&token, &[window[0], window[0], window[1]]).await.status(), StatusCode::BAD_REQUEST);
    // An offset other than Z is fine.
    let resp = emu.transactions(&token, &[("feedStartDate", "2026-11-01T01:00:00+01:00"), window[1]]).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn invoice_details_by_order_line_items_with_credit_memos_and_the_25_item_cap() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut inv = two_line_invoice("FR5000000001");
    inv["credit_memos"] = json!([{"invoice_number": "FR5000000001C", "invoice_date": "2026-11-10T09:00:00Z",
                                  "lines": [{"order_line_item_id": "OLI-1", "quantity": 1}], "refund_reason": "Damaged"}]);
    inv["consolidated_invoice_number"] = json!("Pending");
    emu.seed(json!({"invoices": [inv]})).await;
    let validator = model::reconciliation_validator("InvoiceDetailsByOrderLineItemsResponse", true);

    let item = |id: &str| json!({"orderId": "402-1111111-2222222", "orderLineItemId": id, "shipmentId": "SHIP-1"});
    let body = json!({"orderLineItems": [item("OLI-1"), item("OLI-2"), item("UNKNOWN")]});
    let resp = emu.post(&token, INVOICES, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "x-amzn-RateLimit-Limit"), Some("1000.0"));
    let v: Value = resp.json().await.unwrap();
    assert_valid(&validator, &v);
    let list = v["invoiceDetailsByOrderLineItems"].as_array().unwrap();
    assert_eq!(list.len(), 2, "the unknown line item is left out: {v}");
    assert_eq!(list[0]["orderLineItem"], item("OLI-1"));
    let details = list[0]["invoiceDetails"].as_array().unwrap();
    assert_eq!(details.len(), 2, "the invoice and the credit memo of OLI-1");
    let inv = &details[0];
    assert_eq!((inv["invoiceNumber"].as_str(), inv["invoiceType"].as_str()), (Some("FR5000000001"), Some("STANDARD")));
    assert_eq!(inv["invoiceDate"], "2026-11-02T10:00:00.000Z");
    assert_eq!(inv["consolidatedInvoiceDetails"]["invoiceNumber"], "Pending");
    // 2 × 10.00 + 4.99 shipping + 20 % of both = 29.99 ; 5.50 − 1.00 + 20 % = 5.40 ; total 35.39.
    assert_eq!(inv["invoiceTotal"], "35.39");
    assert_eq!(inv["currencyCode"], "EUR");
    let items = inv["transactionDataItems"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["unit"], 2);
    assert_eq!(items[0]["taxRate"], "0.20");
    assert_eq!(items[0]["unitTaxExclusivePrice"], json!({"currencyCode": "EUR", "amount": "10.00"}));
    assert_eq!(items[0]["unitTaxInclusivePrice"]["amount"], "12.00");
    assert_eq!(items[0]["apportionment"][0]["orderLineItemId"], "OLI-1");
    assert_eq!(items[1]["discount"]["amount"], "-1.00");
    assert_eq!(inv["fees"][0]["feeType"], "SHIPPING");
    assert_eq!(inv["fees"][0]["tax"]["exclusiveTotal"]["amount"], "4.99");
    assert_eq!(inv["tax"][0]["amount"]["amount"], "5.90", "20 % of 29.49");
    let memo = &details[1];
    assert_eq!(memo["invoiceType"], "CREDIT_MEMO");
    assert_eq!(memo["associatedInvoiceNumber"], "FR5000000001");
    assert_eq!(memo["invoiceTotal"], "12.00", "one unit back, no shipping");
    assert_eq!(list[1]["invoiceDetails"].as_array().unwrap().len(), 1, "OLI-2 has no credit memo");

    // The credit memo is a REFUND transaction with negative amounts.
    let page: Value = emu
        .transactions(&token, &[("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")])
        .await
        .json()
        .await
        .unwrap();
    let refund = page["transactions"].as_array().unwrap().iter().find(|t| t["transactionType"] == "REFUND").unwrap();
    assert_eq!(refund["invoiceNumber"], "FR5000000001C");
    assert_eq!(refund["amount"]["amount"], "-12.00");
    assert_eq!(refund["transactionLineItems"][0]["refundReason"], "Damaged");

    // 25 order line items are fine; 26 are refused.
    let many = |n: usize| json!({"orderLineItems": (0..n).map(|i| item(&format!("X-{i}"))).collect::<Vec<_>>()});
    assert_eq!(emu.post(&token, INVOICES, &many(25)).await.status(), StatusCode::OK);
    let resp = emu.post(&token, INVOICES, &many(26)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (code, message) = error_of(resp).await;
    assert_eq!(code, "INVALID_REQUEST_PARAMETER");
    assert!(message.contains("25"), "{message}");
    // Validated against the model: all three ids required, no unknown field, a body.
    let resp =
        emu.post(&token, INVOICES, &json!({"orderLineItems": [{"orderId": "402-1111111-2222222", "orderLineItemId": "OLI-1"}]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(resp).await.1.contains("shipmentId"));
    let mut typo = item("OLI-1");
    typo["shipmentID"] = json!("SHIP-1");
    assert_eq!(emu.post(&token, INVOICES, &json!({"orderLineItems": [typo]})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.post(&token, INVOICES, &json!({})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.post(&token, INVOICES, &json!({"orderLineItems": []})).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invoices_not_yet_available_answer_no_invoice_details() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut inv = two_line_invoice("FR5000000009");
    inv["available"] = json!(false);
    emu.seed(json!({"invoices": [inv]})).await;
    let body = json!({"orderLineItems": [{"orderId": "402-1111111-2222222", "orderLineItemId": "OLI-1", "shipmentId": "SHIP-1"}]});
    let v: Value = emu.post(&token, INVOICES, &body).await.json().await.unwrap();
    assert_eq!(v["invoiceDetailsByOrderLineItems"][0]["invoiceDetails"], json!([]));
}

#[tokio::test]
async fn batch_payment_details_give_status_and_due_date() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut issued = invoice("INV-ISSUED", "2026-11-02T10:00:00Z", json!([{"unit_price": "100"}]));
    issued["payment"] = json!({"status": "Past Due", "due_date": "2026-12-02T23:59:59Z"});
    let default = invoice("INV-DEFAULT", "2026-11-05", json!([{"unit_price": "100"}]));
    let mut failing = invoice("INV-ERROR", "2026-11-02", json!([{"unit_price": "1"}]));
    failing["payment"] = json!({"error": {"code": "INTERNAL_ERROR", "message": "Payment data is unavailable."}});
    let mut none = invoice("INV-NONE", "2026-11-02", json!([{"unit_price": "1"}]));
    none["payment"] = Value::Null;
    emu.seed(json!({"invoices": [issued, default, failing, none]})).await;

    let ids = ["INV-ISSUED", "INV-DEFAULT", "INV-ERROR", "INV-NONE", "NOT-SEEDED"];
    let resp = emu.post(&token, PAYMENTS, &json!({"invoiceIds": ids})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "x-amzn-RateLimit-Limit").is_some());
    let v: Value = resp.json().await.unwrap();
    assert_valid(&model::reconciliation_validator("GetBatchInvoicePaymentDetailsResponse", true), &v);
    let r = v["invoicePaymentDetailsResults"].as_array().unwrap();
    assert_eq!(r.len(), 5);
    assert_eq!(
        r[0],
        json!({"invoiceId": "INV-ISSUED", "resultType": "SUCCESS", "paymentDetails": {"status": "Past Due", "dueDate": "2026-12-02T23:59:59Z"}})
    );
    assert_eq!(r[1]["paymentDetails"], json!({"status": "Issued", "dueDate": "2026-12-05T23:59:59Z"}), "30 days on by default");
    assert_eq!(r[2]["resultType"], "ERROR");
    assert_eq!(r[2]["error"]["code"], "INTERNAL_ERROR");
    assert_eq!((r[3]["resultType"].as_str(), r[4]["resultType"].as_str()), (Some("ERROR"), Some("ERROR")));
    assert_eq!(r[4]["invoiceId"], "NOT-SEEDED");

    // 1 to 25 ids of 1 to 255 characters; JSON only.
    let many: Vec<String> = (0..26).map(|i| format!("I-{i}")).collect();
    assert_eq!(emu.post(&token, PAYMENTS, &json!({"invoiceIds": many[..25]})).await.status(), StatusCode::OK);
    let resp = emu.post(&token, PAYMENTS, &json!({"invoiceIds": many})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_of(resp).await.0, "INVALID_REQUEST_PARAMETER");
    assert_eq!(emu.post(&token, PAYMENTS, &json!({"invoiceIds": []})).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.post(&token, PAYMENTS, &json!({"invoiceIds": [""]})).await.status(), StatusCode::BAD_REQUEST);
    let resp = emu.http.post(emu.url(PAYMENTS)).header("x-amz-access-token", &token).body("invoiceIds=1").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gzip");
    out
}

#[tokio::test]
async fn report_flow_reaches_done_and_the_document_downloads_plain_and_gzipped() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let pdf = b"%PDF-1.7\nseeded invoice bytes\n%%EOF\n".to_vec();
    let mut plain = two_line_invoice("FR5000000001");
    plain["pdf_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(&pdf));
    plain["credit_memos"] = json!([{"invoice_number": "FR5000000001C", "invoice_date": "2026-11-10T09:00:00Z"}]);
    let mut zipped = invoice("FR5000000002", "2026-11-03T10:00:00Z", json!([{"unit_price": "42.00"}]));
    zipped["gzip"] = json!(true);
    emu.seed(json!({"invoices": [plain, zipped]})).await;

    // By invoice id: IN_QUEUE, IN_PROGRESS, then DONE with a document.
    let id = emu.create_report(&token, json!({"invoiceId": "FR5000000001", "documentType": "Invoice"})).await;
    let (seen, report) = emu.poll_report(&token, &id).await;
    assert_eq!(seen, ["IN_QUEUE", "IN_PROGRESS", "DONE"]);
    assert_eq!(report["reportType"], "GET_AB_INVOICE_PDF");
    assert!(report["processingStartTime"].is_string() && report["processingEndTime"].is_string());
    let doc_id = report["reportDocumentId"].as_str().unwrap();
    let doc = emu.report_document(&token, doc_id).await;
    assert!(doc.get("compressionAlgorithm").is_none());
    let url = doc["url"].as_str().unwrap();
    assert!(url.starts_with(&emu.base) && url.contains("X-Amz-Expires=300") && url.contains("X-Amz-Signature="), "{url}");
    // No token needed: a presigned URL.
    let resp = emu.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), Some("application/pdf"));
    assert_eq!(resp.bytes().await.unwrap().to_vec(), pdf);

    // GZIP: compressionAlgorithm, gzipped bytes of a generated PDF naming the invoice.
    let id = emu.create_report(&token, json!({"invoiceId": "FR5000000002"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    let doc = emu.report_document(&token, report["reportDocumentId"].as_str().unwrap()).await;
    assert_eq!(doc["compressionAlgorithm"], "GZIP");
    let body = emu.http.get(doc["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
    let unzipped = gunzip(&body);
    assert!(unzipped.starts_with(b"%PDF-1.4") && unzipped.ends_with(b"%%EOF\n"));
    assert!(String::from_utf8_lossy(&unzipped).contains("Invoice FR5000000002"));
    // A real PDF: a parser finds its page and text (xref offsets right).
    let parsed = lopdf::Document::load_mem(&unzipped).expect("a valid PDF");
    let pages: Vec<u32> = parsed.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 1);
    let text = parsed.extract_text(&pages).unwrap();
    assert!(text.contains("Amazon Business - Invoice FR5000000002") && text.contains("Total: 50.40 EUR"), "{text}");

    // By order line (orderId, orderLineItemId, shipmentId), and a credit memo ("Credits").
    let id = emu.create_report(&token, json!({"orderId": "402-1111111-2222222", "orderLineItemId": "OLI-2", "shipmentId": "SHIP-1"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    assert_eq!(report["processingStatus"], "DONE");
    let id = emu.create_report(&token, json!({"invoiceId": "FR5000000001C", "documentType": "Credits"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    let doc = emu.report_document(&token, report["reportDocumentId"].as_str().unwrap()).await;
    let body = emu.http.get(doc["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Credit memo FR5000000001C"));

    // Requests the emulator refuses.
    let bad = |options: Value| json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": ["A13V1IB3VIYZZH"], "reportOptions": options});
    for body in [
        json!({"reportType": "FEE_DISCOUNTS_REPORT", "marketplaceIds": ["A13V1IB3VIYZZH"]}),
        json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": []}),
        json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": ["A13V1IB3VIYZZH"]}),
        bad(json!({"invoiceID": "FR5000000001"})),
        bad(json!({"orderId": "402-1111111-2222222"})),
        bad(json!({"invoiceId": "FR5000000001", "documentType": "Receipt"})),
    ] {
        let resp = emu.post(&token, REPORTS, &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(errors_of(resp).await[0]["code"], "400");
    }
    // Another partner sees none of it.
    let other = emu.token_for(TOKEN_A).await;
    assert_eq!(emu.get(&other, &format!("{REPORTS}/{id}")).await.status(), StatusCode::NOT_FOUND);
    let doc_id = report["reportDocumentId"].as_str().unwrap();
    assert_eq!(emu.get(&other, &format!("{DOCUMENTS}/{doc_id}")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fatal_and_cancelled_reports() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut fatal = invoice("INV-FATAL", "2026-11-02", json!([{"unit_price": "1"}]));
    fatal["report_outcome"] = json!("FATAL");
    emu.seed(json!({"invoices": [fatal, invoice("INV-OK", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;

    // Seeded per invoice.
    let id = emu.create_report(&token, json!({"invoiceId": "INV-FATAL"})).await;
    let (seen, report) = emu.poll_report(&token, &id).await;
    assert_eq!(seen.last().unwrap(), "FATAL");
    assert!(report.get("reportDocumentId").is_none());
    // A fault: the next report is FATAL whatever it is for, then back to normal.
    emu.faults(json!({"report_fatal_next": 1, "report_polls": 0})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK"})).await;
    assert_eq!(emu.poll_report(&token, &id).await.0, ["FATAL"]);
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK"})).await;
    assert_eq!(emu.poll_report(&token, &id).await.0, ["DONE"]);
    emu.faults(json!({"report_cancelled_next": 1})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK"})).await;
    assert_eq!(emu.poll_report(&token, &id).await.0, ["CANCELLED"]);
    // Nothing to report (no such invoice, or not a credit memo): cancelled by Amazon.
    let id = emu.create_report(&token, json!({"invoiceId": "NO-SUCH"})).await;
    assert_eq!(emu.poll_report(&token, &id).await.0, ["CANCELLED"]);
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK", "documentType": "Credits"})).await;
    assert_eq!(emu.poll_report(&token, &id).await.0, ["CANCELLED"]);

    // cancelReport works only while IN_QUEUE.
    emu.faults(json!({"report_polls": 3})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK"})).await;
    let del = emu.http.delete(emu.url(&format!("{REPORTS}/{id}"))).header("x-amz-access-token", &token).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::OK);
    assert_eq!(emu.poll_report(&token, &id).await.0, ["CANCELLED"]);
    let id = emu.create_report(&token, json!({"invoiceId": "INV-OK"})).await;
    emu.get(&token, &format!("{REPORTS}/{id}")).await;
    emu.get(&token, &format!("{REPORTS}/{id}")).await;
    let del = emu.http.delete(emu.url(&format!("{REPORTS}/{id}"))).header("x-amz-access-token", &token).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::BAD_REQUEST);
    assert_eq!(emu.poll_report(&token, &id).await.0, ["IN_PROGRESS", "DONE"]);
    assert_eq!(emu.get(&token, &format!("{REPORTS}/123")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_expired_document_url_answers_like_s3() {
    let emu = start(Config { document_url_ttl: Duration::from_secs(1), ..fast() }).await;
    let token = emu.token().await;
    emu.seed(json!({"invoices": [invoice("INV-1", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    emu.faults(json!({"report_polls": 0})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-1"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    let doc_id = report["reportDocumentId"].as_str().unwrap().to_owned();

    // Armed: the URL is expired when issued.
    emu.faults(json!({"expired_url_next": 1})).await;
    let expired = emu.report_document(&token, &doc_id).await["url"].as_str().unwrap().to_owned();
    let resp = emu.http.get(&expired).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&resp, "content-type"), Some("application/xml"));
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<Code>AccessDenied</Code>") && xml.contains("<Message>Request has expired</Message>"), "{xml}");
    assert!(xml.contains("<X-Amz-Expires>1</X-Amz-Expires>") && xml.contains("<ServerTime>"), "{xml}");
    // A new getReportDocument gives a fresh URL.
    let fresh = emu.report_document(&token, &doc_id).await["url"].as_str().unwrap().to_owned();
    assert_eq!(emu.http.get(&fresh).send().await.unwrap().status(), StatusCode::OK);
    // Tampered: SignatureDoesNotMatch.
    let tampered = fresh.replace("X-Amz-Expires=1", "X-Amz-Expires=3600");
    let resp = emu.http.get(&tampered).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("SignatureDoesNotMatch"));
    // The configured lifetime runs out.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = emu.http.get(&fresh).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("Request has expired"));
    // Unknown document behind a valid-looking URL: S3's 404 needs a signature first.
    let unknown = fresh.replace(&doc_id, "amzn1.tortuga.4.eu.nothing");
    assert_eq!(emu.http.get(&unknown).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rate_limits_at_the_usage_plans_answer_429_with_headers() {
    let emu = start(Config::default()).await;
    let token = emu.token().await;
    let window = [("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-02T00:00:00Z")];
    // The burst of 10, plus what refilled at 2/s meanwhile (none on a quick machine), then 429.
    let t0 = Instant::now();
    let mut oks = 0;
    let resp = loop {
        let resp = emu.transactions(&token, &window).await;
        if resp.status() != StatusCode::OK || oks == 40 {
            break resp;
        }
        oks += 1;
    };
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let allowed = 10 + (t0.elapsed().as_secs_f64() * 2.0).floor() as u32;
    assert!((10..=allowed).contains(&oks), "{oks} answered before the 429 (at most {allowed})");
    assert_eq!(header(&resp, "x-amzn-RateLimit-Limit"), Some("2.0"));
    assert!(header(&resp, "x-amzn-RequestId").is_some_and(|id| id.len() == 36));
    assert_eq!(error_of(resp).await.0, "QuotaExceeded");
    // Per operation and per partner.
    let body = json!({"orderLineItems": [{"orderId": "1", "orderLineItemId": "2", "shipmentId": "3"}]});
    assert_eq!(emu.post(&token, INVOICES, &body).await.status(), StatusCode::OK);
    let other = emu.token_for(TOKEN_A).await;
    assert_eq!(emu.transactions(&other, &window).await.status(), StatusCode::OK);
    // At 2/s a token is back after half a second.
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(emu.transactions(&token, &window).await.status(), StatusCode::OK);

    // getBatchInvoicePaymentDetails' 429 has no x-amzn-RateLimit-Limit in the model.
    let mut oks = 0;
    let resp = loop {
        let resp = emu.post(&token, PAYMENTS, &json!({"invoiceIds": ["X"]})).await;
        if resp.status() != StatusCode::OK || oks == 40 {
            break resp;
        }
        oks += 1;
    };
    assert!(oks >= 10);
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&resp, "x-amzn-RateLimit-Limit"), None);

    // The document operations: one a minute, burst 15.
    let spec = json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": ["A13V1IB3VIYZZH"], "reportOptions": {"invoiceId": "X"}});
    for i in 0..15 {
        assert_eq!(emu.post(&token, REPORTS, &spec).await.status(), StatusCode::ACCEPTED, "burst {i}");
    }
    let resp = emu.post(&token, REPORTS, &spec).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&resp, "x-amzn-RateLimit-Limit"), Some("0.0167"));
    for _ in 0..15 {
        emu.get(&token, &format!("{DOCUMENTS}/none")).await;
    }
    let resp = emu.get(&token, &format!("{DOCUMENTS}/none")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&resp, "x-amzn-RateLimit-Limit"), Some("0.0167"));
}

#[tokio::test]
async fn a_revoked_token_gets_403_on_every_business_operation() {
    let emu = start(fast()).await;
    let token = emu.token_for(TOKEN_B).await;
    emu.seed(json!({"refresh_token": TOKEN_B, "invoices": [invoice("INV-B", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    let window = [("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")];
    let page: Value = emu.transactions(&token, &window).await.json().await.unwrap();
    assert_eq!(page["transactions"][0]["invoiceNumber"], "INV-B", "seeded for its partner");
    assert_eq!(emu.control("/_emulator/revoke", json!({"refresh_token": TOKEN_B})).await.status(), StatusCode::OK);
    let spec = json!({"reportType": "GET_AB_INVOICE_PDF", "marketplaceIds": ["A13V1IB3VIYZZH"], "reportOptions": {"invoiceId": "INV-B"}});
    let responses = [
        emu.transactions(&token, &window).await,
        emu.post(&token, INVOICES, &json!({"orderLineItems": []})).await,
        emu.post(&token, PAYMENTS, &json!({"invoiceIds": ["INV-B"]})).await,
        emu.post(&token, REPORTS, &spec).await,
        emu.get(&token, &format!("{REPORTS}/1")).await,
        emu.get(&token, &format!("{DOCUMENTS}/1")).await,
    ];
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(header(&resp, "x-amzn-RequestId").is_some());
        assert_eq!(error_of(resp).await, ("Unauthorized".to_owned(), "Access to requested resource is denied.".to_owned()));
    }
    // No token, or one the emulator never issued: 403 as well.
    let resp = emu.http.get(emu.url(TRANSACTIONS)).query(&window).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn money_comes_as_strings_in_the_seeded_formats() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let line = json!([{"order_line_item_id": "L", "shipment_id": "S", "unit_price": "1751", "tax_rate": "0", "discount": "2.50"}]);
    let seeds: Vec<Value> = ["0.00", "0.0", "0", "mixed"]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut inv = invoice(&format!("FMT-{i}"), "2026-11-02", line.clone());
            inv["order_id"] = json!(format!("O-{i}"));
            inv["money_format"] = json!(f);
            inv
        })
        .collect();
    let mut quirky = invoice("FMT-Q", "2026-11-02", line.clone());
    quirky["order_id"] = json!("O-Q");
    quirky["sandbox_quirks"] = json!(true);
    let mut seeds = seeds;
    seeds.push(quirky);
    emu.seed(json!({"invoices": seeds})).await;
    let page: Value = emu
        .transactions(&token, &[("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")])
        .await
        .json()
        .await
        .unwrap();
    let by_number = |n: &str| page["transactions"].as_array().unwrap().iter().find(|t| t["invoiceNumber"] == n).unwrap().clone();
    let unit = |t: &Value| t["transactionLineItems"][0]["unitPrice"]["amount"].as_str().unwrap().to_owned();
    assert_eq!(unit(&by_number("FMT-0")), "1751.00");
    assert_eq!(unit(&by_number("FMT-1")), "1751.0");
    assert_eq!(unit(&by_number("FMT-2")), "1751");
    assert_eq!(by_number("FMT-0")["amount"], json!({"currencyCode": "EUR", "amount": "1748.50"}));
    assert_eq!(by_number("FMT-2")["transactionLineItems"][0]["discount"]["amount"], "-2.5", "discounts are negative");
    assert_eq!(by_number("FMT-1")["transactionLineItems"][0]["tax"]["amount"], "0.0");
    // Mixed: the formats turn within one transaction.
    let mixed = by_number("FMT-3").to_string();
    assert!(mixed.contains("\"1748.50\"") && mixed.contains("\"1751.0\"") && mixed.contains("\"1751\""), "{mixed}");
    // Every amount is a string.
    for t in page["transactions"].as_array().unwrap() {
        assert!(t["amount"]["amount"].is_string());
    }
    // The sandbox's quirks: empty currency and "0" for unit prices not filled in, no item
    // discount, no registration numbers, an empty PO number.
    let body = json!({"orderLineItems": [{"orderId": "O-Q", "orderLineItemId": "L", "shipmentId": "S"}]});
    let v: Value = emu.post(&token, INVOICES, &body).await.json().await.unwrap();
    let detail = &v["invoiceDetailsByOrderLineItems"][0]["invoiceDetails"][0];
    assert_eq!(detail["transactionDataItems"][0]["unitTaxInclusivePrice"], json!({"currencyCode": "", "amount": "0"}));
    assert!(detail["transactionDataItems"][0].get("discount").is_none());
    assert!(detail["invoiceIssuer"].get("registrationNumber").is_none());
    assert_eq!(by_number("FMT-Q")["transactionLineItems"][0]["purchaseOrderNumber"], "");
    // invoiceTotal is a plain string without currency.
    let body = json!({"orderLineItems": [{"orderId": "O-1", "orderLineItemId": "L", "shipmentId": "S"}]});
    let v: Value = emu.post(&token, INVOICES, &body).await.json().await.unwrap();
    assert_eq!(v["invoiceDetailsByOrderLineItems"][0]["invoiceDetails"][0]["invoiceTotal"], "1748.5");
}

/// Resident memory of this process, bytes (Linux).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[tokio::test]
async fn five_thousand_generated_invoices_are_answered_page_by_page() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let t0 = Instant::now();
    let seeded = emu.seed(json!({"generate": {"count": 5000, "from": "2026-11-01", "days": 30, "credit_memo_every": 50}})).await;
    assert_eq!((seeded["added"]["invoices"].as_u64(), seeded["added"]["credit_memos"].as_u64()), (Some(5000), Some(100)));
    assert!(t0.elapsed() < Duration::from_secs(20), "seeding took {:?}", t0.elapsed());
    let counts = emu.state("/_emulator/business/seed").await;
    assert_eq!(counts["partners"]["default"]["invoices"], 5000);
    assert_eq!(counts["partners"]["default"]["transactions"], 5100);

    let before = rss();
    let t1 = Instant::now();
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut largest = 0;
    let mut resp = emu.transactions(&token, &[("feedStartDate", "2026-10-01T00:00:00Z"), ("feedEndDate", "2027-01-01T00:00:00Z")]).await;
    loop {
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = resp.bytes().await.unwrap();
        largest = largest.max(bytes.len());
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        let list = page["transactions"].as_array().unwrap();
        assert!(list.len() <= 5);
        for t in list {
            assert!(seen.insert(t["transactionId"].as_str().unwrap().to_owned()), "a transaction twice");
        }
        pages += 1;
        let Some(next) = page.get("nextPageToken").and_then(Value::as_str) else { break };
        resp = emu.transactions(&token, &[("nextPageToken", next)]).await;
    }
    assert_eq!((seen.len(), pages), (5100, 1020));
    assert!(largest < 16 * 1024, "a page is small: {largest} bytes");
    assert!(t1.elapsed() < Duration::from_secs(60), "walking took {:?}", t1.elapsed());
    if let (Some(a), Some(b)) = (before, rss()) {
        assert!(b.saturating_sub(a) < 64 * 1024 * 1024, "memory grew by {} bytes while paging", b.saturating_sub(a));
    }
    // The generated data is consistent between the APIs.
    let body = json!({"invoiceIds": ["GEN0000001", "GEN0000002", "GEN0000003", "GEN0000004", "GENC0000050"]});
    let v: Value = emu.post(&token, PAYMENTS, &body).await.json().await.unwrap();
    let statuses: Vec<&str> =
        v["invoicePaymentDetailsResults"].as_array().unwrap().iter().map(|r| r["paymentDetails"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["Issued", "Payment Processing", "Past Due", "Closed", "Closed"]);
}

#[tokio::test]
async fn faults_scoped_to_the_business_operations() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.seed(json!({"invoices": [invoice("INV-1", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    let window = [("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")];
    emu.faults(json!({"fail_next": 1, "fail_status": 503, "operation": "get_transactions"})).await;
    // Another operation is not hit.
    assert_eq!(emu.post(&token, PAYMENTS, &json!({"invoiceIds": ["INV-1"]})).await.status(), StatusCode::OK);
    let resp = emu.transactions(&token, &window).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(header(&resp, "x-amzn-RateLimit-Limit").is_some());
    assert_eq!(emu.transactions(&token, &window).await.status(), StatusCode::OK);
    emu.faults(json!({"throttle_next": 1, "operation": "get_invoice_details"})).await;
    let body = json!({"orderLineItems": [{"orderId": "1", "orderLineItemId": "2", "shipmentId": "3"}]});
    assert_eq!(emu.post(&token, INVOICES, &body).await.status(), StatusCode::TOO_MANY_REQUESTS);

    // The download: a 5xx in S3's XML, then the document.
    emu.faults(json!({"report_polls": 0, "fail_next": 1, "fail_status": 500, "operation": "document_download"})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-1"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    let url = emu.report_document(&token, report["reportDocumentId"].as_str().unwrap()).await["url"].as_str().unwrap().to_owned();
    let resp = emu.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(resp.text().await.unwrap().contains("<Code>InternalError</Code>"));
    let resp = emu.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.unwrap().starts_with(b"%PDF"));
    // A dropped download.
    emu.faults(json!({"drop_next": 1, "operation": "document_download"})).await;
    assert!(emu.http.get(&url).send().await.is_err());
    let faults = emu.state("/_emulator/faults").await;
    assert_eq!((faults["report_polls"].as_u64(), faults["expired_url_next"].as_u64()), (Some(0), Some(0)));
}

#[tokio::test]
async fn recordings_stats_seed_counts_and_reset_cover_the_business_operations() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    emu.seed(json!({"invoices": [invoice("INV-1", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    emu.seed(json!({"refresh_token": TOKEN_A, "generate": {"count": 3, "from": "2026-11-01", "prefix": "A-"}})).await;
    // The same number again for a partner: refused, nothing added.
    let resp =
        emu.control("/_emulator/business/seed", json!({"invoices": [invoice("INV-1", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = emu
        .control(
            "/_emulator/business/seed",
            json!({"invoices": [{"invoice_number": "X", "invoice_date": "2026-11-02", "lines": [{"unit_price": "1"}], "colour": "red"}]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "unknown fields refused");
    let mut twin = invoice("INV-TWIN", "2026-11-02", json!([{"unit_price": "1"}]));
    twin["transaction_id"] = json!("GEN-T1");
    let mut twin2 = twin.clone();
    twin2["invoice_number"] = json!("INV-TWIN-2");
    let resp = emu.control("/_emulator/business/seed", json!({"invoices": [twin, twin2]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "one transaction id twice");

    let window = [("feedStartDate", "2026-11-01T00:00:00Z"), ("feedEndDate", "2026-11-30T00:00:00Z")];
    emu.transactions(&token, &window).await;
    emu.post(&token, PAYMENTS, &json!({"invoiceIds": ["INV-1"]})).await;
    emu.faults(json!({"report_polls": 0})).await;
    let id = emu.create_report(&token, json!({"invoiceId": "INV-1"})).await;
    let (_, report) = emu.poll_report(&token, &id).await;
    let url = emu.report_document(&token, report["reportDocumentId"].as_str().unwrap()).await["url"].as_str().unwrap().to_owned();
    emu.http.get(&url).send().await.unwrap();

    let recorded: Vec<Value> = emu.state("/_emulator/requests").await.as_array().unwrap().clone();
    let ops: Vec<(&str, &str)> = recorded
        .iter()
        .filter(|r| r["operation"] != "token")
        .map(|r| (r["operation"].as_str().unwrap(), r["method"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [
            ("get_transactions", "GET"),
            ("get_payment_details", "POST"),
            ("create_report", "POST"),
            ("get_report", "GET"),
            ("get_report_document", "GET"),
            ("document_download", "GET")
        ]
    );
    assert!(recorded[1]["path"].as_str().unwrap().contains("feedStartDate=2026-11-01"), "{}", recorded[1]);
    assert_eq!(recorded[2]["invoice_ids"], json!(["INV-1"]));
    assert_eq!(recorded[3]["invoice_ids"], json!(["INV-1"]));
    assert!(recorded.iter().all(|r| r["partner"] == "default"));

    let stats = emu.state("/_emulator/stats").await;
    for group in ["get_transactions", "get_payment_details", "get_report", "get_report_document", "document_download"] {
        assert_eq!(stats[group]["200"], 1, "{group}: {stats}");
    }
    assert_eq!(stats["create_report"]["202"], 1);
    assert_eq!(stats["partners"]["default"]["document_download"]["200"], 1);

    let counts = emu.state("/_emulator/business/seed").await;
    assert_eq!(counts["partners"]["default"]["invoices"], 1);
    assert_eq!(counts["partners"]["default"]["reports"], 1);
    assert_eq!(counts["partners"]["default"]["report_documents"], 1);
    let a = counts["partners"].as_object().unwrap().keys().find(|k| k.starts_with("sp-")).unwrap().clone();
    assert_eq!(counts["partners"][&a]["invoices"], 3);
    assert_eq!(counts["page_tokens"], 0);
    // replace: the partner's data is swapped.
    let replaced = emu.seed(json!({"replace": true, "invoices": [invoice("INV-2", "2026-11-02", json!([{"unit_price": "1"}]))]})).await;
    assert_eq!(replaced["totals"]["invoices"], 1);

    assert_eq!(emu.control("/_emulator/reset", json!({})).await.status(), StatusCode::OK);
    assert_eq!(emu.state("/_emulator/business/seed").await, json!({"partners": {}, "page_tokens": 0}));
    assert_eq!(emu.http.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let page: Value = emu.transactions(&token, &window).await.json().await.unwrap();
    assert_eq!(page, json!({"transactions": []}));
}

#[tokio::test]
async fn a_split_payment_carries_one_invoice_in_several_transactions() {
    let emu = start(fast()).await;
    let token = emu.token().await;
    let mut inv = two_line_invoice("FR5000000003");
    inv["split_payments"] = json!(3);
    inv["transaction_id"] = json!("TX-SPLIT");
    emu.seed(json!({"invoices": [inv]})).await;
    let (_, all) = walk(&emu, &token, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z").await;
    assert_eq!(all.len(), 3);
    let ids: Vec<&str> = all.iter().map(|t| t["transactionId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["TX-SPLIT", "TX-SPLIT-2", "TX-SPLIT-3"]);
    assert!(all.iter().all(|t| t["invoiceNumber"] == "FR5000000003" && t["transactionLineItems"].as_array().unwrap().len() == 2));
    // 35.39 in three equal cent shares, the first taking the remainder.
    let amounts: Vec<&str> = all.iter().map(|t| t["amount"]["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["11.81", "11.79", "11.79"]);
    let others: Vec<&str> =
        all[1]["associatedTransactionDetails"].as_array().unwrap().iter().map(|a| a["associatedTransactionId"].as_str().unwrap()).collect();
    assert_eq!(others, ["TX-SPLIT", "TX-SPLIT-3"]);
    assert_eq!(
        (all[0]["paymentInstrumentType"].as_str(), all[1]["paymentInstrumentType"].as_str()),
        (Some("PayByInvoice"), Some("GiftCard"))
    );
    let counts = emu.state("/_emulator/business/seed").await;
    assert_eq!(
        (counts["partners"]["default"]["invoices"].as_u64(), counts["partners"]["default"]["transactions"].as_u64()),
        (Some(1), Some(3))
    );
}
