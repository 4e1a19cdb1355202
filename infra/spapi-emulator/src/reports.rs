//! Amazon Business Document (Reports) API: createReport (`GET_AB_INVOICE_PDF`), getReport,
//! cancelReport, getReportDocument, and the presigned-like document URL that serves the PDF.

use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Value};

use crate::api::{drop_connection, with_body_limit};
use crate::business::{Doc, Outcome};
use crate::serve::{is_json, json_response, ConnKill, RequestId};
use crate::state::{App, Fault, Operation, RecordedIds};
use crate::{api, model, DOCUMENTS_PREFIX, DOCUMENT_URL_PREFIX, REPORTS_PATH};

/// The report type the emulator produces (invoice and credit memo PDFs).
pub(crate) const INVOICE_PDF_REPORT: &str = "GET_AB_INVOICE_PDF";

/// A createReport request and how far it got.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) id: String,
    pub(crate) partner: String,
    report_type: String,
    marketplace_ids: Vec<String>,
    data_start: DateTime<Utc>,
    data_end: DateTime<Utc>,
    created: DateTime<Utc>,
    /// getReport calls answered so far.
    polls: u32,
    /// Answers before the final status (the first is IN_QUEUE, the others IN_PROGRESS).
    processing_polls: u32,
    /// The final status; `Done` makes a document of `doc_number`.
    outcome: Outcome,
    doc_number: Option<String>,
    document_id: Option<String>,
    cancelled: bool,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
}

impl Report {
    /// The status after `polls` answers (0: none yet).
    fn status_at(&self, polls: u32) -> &'static str {
        if self.cancelled {
            "CANCELLED"
        } else if polls <= self.processing_polls {
            if polls <= 1 {
                "IN_QUEUE"
            } else {
                "IN_PROGRESS"
            }
        } else {
            match self.outcome {
                Outcome::Done => "DONE",
                Outcome::Fatal => "FATAL",
                Outcome::Cancelled => "CANCELLED",
            }
        }
    }

    fn render(&self) -> Value {
        let t = |d: DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut r = json!({
            "reportId": self.id,
            "reportType": self.report_type,
            "marketplaceIds": self.marketplace_ids,
            "dataStartTime": t(self.data_start),
            "dataEndTime": t(self.data_end),
            "createdTime": t(self.created),
            "processingStatus": self.status_at(self.polls),
        });
        if let Some(s) = self.started {
            r["processingStartTime"] = json!(t(s));
        }
        if let Some(e) = self.ended {
            r["processingEndTime"] = json!(t(e));
        }
        if let Some(d) = &self.document_id {
            r["reportDocumentId"] = json!(d);
        }
        r
    }
}

/// A report document: whose, which invoice or credit memo, gzipped or not.
#[derive(Debug, Clone)]
pub(crate) struct StoredDocument {
    pub(crate) partner: String,
    doc_number: String,
    gzip: bool,
}

/// The Reports API's 400: `{"code": "400", "message": "Invalid input", "details": …}` (the sandbox's).
fn invalid_input(details: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({"errors": [{"code": "400", "message": "Invalid input", "details": details.into()}]}))
}

fn not_found(what: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"errors": [{"code": "404", "message": "Not found", "details": format!("{what} was not found.")}]}),
    )
}

fn report_id() -> String {
    let r = uuid::Uuid::new_v4().as_u128();
    format!("{}", 50_000_000_000u128 + r % 49_999_999_999)
}

fn document_id(region: &str) -> String {
    format!("amzn1.tortuga.4.{region}.{}", uuid::Uuid::new_v4())
}

/// The document a GET_AB_INVOICE_PDF `reportOptions` names: `invoiceId` (+ `documentType`
/// `Invoice` / `Credits`), or `orderId` + `orderLineItemId` + `shipmentId` (the line's
/// invoice). `Err`: a 400; `Ok(None)`: nothing matches (the report is cancelled, no data).
fn target(inner: &crate::state::Inner, partner: &str, options: &serde_json::Map<String, Value>) -> Result<Option<String>, String> {
    let opt = |k: &str| options.get(k).and_then(Value::as_str);
    for k in options.keys() {
        if !["invoiceId", "documentType", "orderId", "orderLineItemId", "shipmentId"].contains(&k.as_str()) {
            return Err(format!(
                "reportOptions: unknown option {k}; {INVOICE_PDF_REPORT} takes invoiceId (+ documentType) or orderId, orderLineItemId and shipmentId"
            ));
        }
    }
    let book = inner.business.books.get(partner);
    let doc_type = opt("documentType");
    if let Some(t) = doc_type.filter(|t| !["Invoice", "Credits"].contains(t)) {
        return Err(format!("reportOptions.documentType: {t:?} is neither \"Invoice\" nor \"Credits\""));
    }
    if let Some(id) = opt("invoiceId") {
        if opt("orderId").is_some() || opt("orderLineItemId").is_some() || opt("shipmentId").is_some() {
            return Err("reportOptions: give invoiceId, or orderId + orderLineItemId + shipmentId, not both".into());
        }
        let found = book.and_then(|b| b.docs.get(id)).filter(|d: &&Doc| match doc_type {
            Some("Credits") => d.is_credit_memo(),
            Some(_) => !d.is_credit_memo(),
            None => true,
        });
        return Ok(found.map(|d| d.number.clone()));
    }
    match (opt("orderId"), opt("orderLineItemId"), opt("shipmentId")) {
        (Some(o), Some(l), Some(s)) => {
            let key = (o.to_owned(), l.to_owned(), s.to_owned());
            let numbers = book.and_then(|b| b.by_line.get(&key));
            let want_memo = doc_type == Some("Credits");
            let found = numbers
                .into_iter()
                .flatten()
                .filter_map(|n| book.and_then(|b| b.docs.get(n)))
                .find(|d| d.is_credit_memo() == want_memo)
                .map(|d| d.number.clone());
            Ok(found)
        }
        (None, None, None) => Err("reportOptions: invoiceId, or orderId + orderLineItemId + shipmentId, is required".into()),
        _ => Err("reportOptions: orderId, orderLineItemId and shipmentId go together".into()),
    }
}

/// Reads the body of a Reports call (415 unless JSON).
async fn body_of(app: &App, req: Request) -> (HeaderMap, Result<Value, Response>) {
    let (parts, body) = req.into_parts();
    let parsed = match with_body_limit(app, body).await {
        Err(_) => Err(json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"errors": [{"code": "413", "message": "The request size exceeded the limit."}]}),
        )),
        Ok(_) if !is_json(&parts.headers) => Err(json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"errors": [{"code": "415", "message": "The request's Content-Type header is invalid.", "details": "send application/json"}]}),
        )),
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| invalid_input(format!("the body is not valid JSON: {e}"))),
    };
    (parts.headers, parsed)
}

/// createReport: `POST /reports/2021-09-30/reports` → 202 `{"reportId"}`.
pub(crate) async fn create_report(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (headers, parsed) = body_of(&app, req).await;
    let recorded = parsed.as_ref().map_or(Value::Null, Value::clone);
    let ids: Vec<String> = recorded.pointer("/reportOptions/invoiceId").and_then(Value::as_str).map(str::to_owned).into_iter().collect();
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::CreateReport, partner, REPORTS_PATH, &rid, recorded, RecordedIds::invoices(ids));
    api::api_call(&app, Operation::CreateReport, seq, &headers, kill, move |app| {
        let body = match parsed {
            Ok(b) => b,
            Err(r) => return r,
        };
        let violations = model::violations(&app.create_report_validator, &body);
        if !violations.is_empty() {
            return invalid_input(violations.join("; "));
        }
        let report_type = body["reportType"].as_str().unwrap_or_default().to_owned();
        if report_type != INVOICE_PDF_REPORT {
            return invalid_input(format!("reportType {report_type:?} is not supported; the emulator makes {INVOICE_PDF_REPORT}"));
        }
        let Some(options) = body.get("reportOptions").and_then(Value::as_object) else {
            return invalid_input(format!("reportOptions is required for {INVOICE_PDF_REPORT}"));
        };
        let now = Utc::now();
        let time = |k: &str| body.get(k).and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.to_utc());
        let (data_start, data_end) = (time("dataStartTime").unwrap_or(now), time("dataEndTime").unwrap_or(now));
        if data_start > now || data_end > now {
            return invalid_input("dataStartTime and dataEndTime must not be in the future");
        }
        let mut inner = app.lock();
        let doc_number = match target(&inner, &owner, options) {
            Ok(t) => t,
            Err(e) => return invalid_input(e),
        };
        let seeded = doc_number.as_ref().and_then(|n| inner.business.books.get(&owner)?.docs.get(n)?.report_outcome);
        let f = &mut inner.faults;
        let outcome = if f.report_fatal_next > 0 {
            f.report_fatal_next -= 1;
            Outcome::Fatal
        } else if f.report_cancelled_next > 0 {
            f.report_cancelled_next -= 1;
            Outcome::Cancelled
        } else if doc_number.is_none() {
            // Nothing to report: Amazon cancels such reports.
            Outcome::Cancelled
        } else {
            seeded.unwrap_or(Outcome::Done)
        };
        let processing_polls = f.report_polls;
        let id = report_id();
        let report = Report {
            id: id.clone(),
            partner: owner,
            report_type,
            marketplace_ids: body["marketplaceIds"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect(),
            data_start,
            data_end,
            created: now,
            polls: 0,
            processing_polls,
            outcome,
            doc_number,
            document_id: None,
            cancelled: false,
            started: None,
            ended: None,
        };
        inner.business.reports.insert(id.clone(), report);
        json_response(StatusCode::ACCEPTED, json!({ "reportId": id }))
    })
    .await
}

/// getReport: `GET /reports/2021-09-30/reports/{reportId}`; each call is one poll.
pub(crate) async fn get_report(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(report_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{REPORTS_PATH}/{report_id}");
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::GetReport, partner, &path, &rid, Value::Null, RecordedIds::default());
    api::api_call(&app, Operation::GetReport, seq, &headers, kill, move |app| {
        let mut inner = app.lock();
        let gzip_default = app.config.document_gzip;
        let inner = &mut *inner;
        let Some(r) = inner.business.reports.get_mut(&report_id).filter(|r| r.partner == owner) else {
            return not_found(&format!("Report {report_id}"));
        };
        r.polls = r.polls.saturating_add(1);
        let now = Utc::now();
        let status = r.status_at(r.polls);
        if status != "IN_QUEUE" && r.started.is_none() {
            r.started = Some(now);
        }
        if matches!(status, "DONE" | "FATAL" | "CANCELLED") && r.ended.is_none() {
            r.ended = Some(now);
            if status == "DONE" {
                if let Some(number) = &r.doc_number {
                    let doc = inner.business.books.get(&owner).and_then(|b| b.docs.get(number));
                    let region = if doc.is_some_and(|d| d.currency == "USD" || d.currency == "CAD") { "na" } else { "eu" };
                    let gzip = doc.and_then(|d| d.gzip).unwrap_or(gzip_default);
                    let id = document_id(region);
                    inner
                        .business
                        .documents
                        .insert(id.clone(), StoredDocument { partner: owner.clone(), doc_number: number.clone(), gzip });
                    r.document_id = Some(id);
                }
            }
        }
        json_response(StatusCode::OK, r.render())
    })
    .await
}

/// cancelReport: `DELETE /reports/2021-09-30/reports/{reportId}`, only while IN_QUEUE.
pub(crate) async fn cancel_report(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(report_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{REPORTS_PATH}/{report_id}");
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::CancelReport, partner, &path, &rid, Value::Null, RecordedIds::default());
    api::api_call(&app, Operation::CancelReport, seq, &headers, kill, move |app| {
        let mut inner = app.lock();
        let Some(r) = inner.business.reports.get_mut(&report_id).filter(|r| r.partner == owner) else {
            return not_found(&format!("Report {report_id}"));
        };
        let status = r.status_at(r.polls);
        if status != "IN_QUEUE" {
            return invalid_input(format!("Only reports with processingStatus IN_QUEUE can be cancelled; report {report_id} is {status}"));
        }
        r.cancelled = true;
        r.ended = Some(Utc::now());
        StatusCode::OK.into_response()
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Report documents and their presigned-like URLs

fn amz_date(d: DateTime<Utc>) -> String {
    d.format("%Y%m%dT%H%M%SZ").to_string()
}

fn signature(app: &App, document_id: &str, date: &str, expires: u64) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(app.url_secret.as_bytes());
    h.update(format!("\n{document_id}\n{date}\n{expires}").as_bytes());
    hex::encode(h.finalize())
}

/// The base of document URLs: [`crate::Config::document_base_url`], else this server as the
/// request reached it.
fn base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(b) = &app.config.document_base_url {
        return b.trim_end_matches('/').to_owned();
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// getReportDocument: `GET /reports/2021-09-30/documents/{reportDocumentId}` → a URL valid for
/// [`crate::Config::document_url_ttl`] (`expired_url_next`: already expired when issued).
pub(crate) async fn get_report_document(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(document_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{DOCUMENTS_PREFIX}{document_id}");
    let partner = app.partner_of_request(&headers);
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::GetReportDocument, partner, &path, &rid, Value::Null, RecordedIds::default());
    let base = base_url(&app, &headers);
    api::api_call(&app, Operation::GetReportDocument, seq, &headers, kill, move |app| {
        let mut inner = app.lock();
        let Some(doc) = inner.business.documents.get(&document_id).filter(|d| d.partner == owner).cloned() else {
            return not_found(&format!("Report document {document_id}"));
        };
        let ttl = app.config.document_url_ttl.as_secs().max(1);
        let mut issued = Utc::now();
        if inner.faults.expired_url_next > 0 {
            inner.faults.expired_url_next -= 1;
            issued -= chrono::Duration::seconds(ttl as i64 + 1);
        }
        drop(inner);
        let date = amz_date(issued);
        let sig = signature(app, &document_id, &date, ttl);
        let url = format!(
            "{base}{DOCUMENT_URL_PREFIX}{document_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires={ttl}&X-Amz-SignedHeaders=host&X-Amz-Signature={sig}"
        );
        let mut body = json!({"reportDocumentId": document_id, "url": url});
        if doc.gzip {
            body["compressionAlgorithm"] = json!("GZIP");
        }
        json_response(StatusCode::OK, body)
    })
    .await
}

/// An S3-style XML error.
fn s3_error(status: StatusCode, code: &str, message: &str, extra: &[(&str, String)], request_id: &str) -> Response {
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>");
    for (k, v) in extra {
        xml.push_str(&format!("<{k}>{v}</{k}>"));
    }
    xml.push_str(&format!("<RequestId>{}</RequestId><HostId>emulator</HostId></Error>", &request_id.replace('-', "")[..16]));
    let mut resp = (status, xml).into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}

/// The download: `GET /report-documents/{reportDocumentId}?X-Amz-…`, no token, like a presigned
/// S3 URL. The PDF (gzipped when the document is GZIP); 403 `AccessDenied` / `Request has
/// expired` after the expiry, 403 `SignatureDoesNotMatch` for a tampered URL.
pub(crate) async fn download(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(document_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let op = Operation::DocumentDownload;
    let path = format!("{DOCUMENT_URL_PREFIX}{document_id}");
    let partner = app.lock().business.documents.get(&document_id).map(|d| d.partner.clone());
    let seq = app.record_start(op, partner, &path, &rid, Value::Null, RecordedIds::default());
    let fault = app.lock().take_fault(op);
    let resp = match fault {
        Some(Fault::Drop) => {
            app.record_finish(seq, op, None, Some("drop"));
            return drop_connection(kill).await;
        }
        Some(Fault::Stall) => {
            app.record_finish(seq, op, None, Some("stall"));
            tokio::time::sleep(app.config.stall).await;
            return drop_connection(kill).await;
        }
        Some(Fault::Throttle) => {
            let r = s3_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate.", &[], &rid);
            app.record_finish(seq, op, Some(r.status()), Some("throttle"));
            return r;
        }
        Some(Fault::Fail(status)) => {
            let r = s3_error(status, "InternalError", "We encountered an internal error. Please try again.", &[], &rid);
            app.record_finish(seq, op, Some(r.status()), Some("fail"));
            return r;
        }
        None => serve_document(&app, &document_id, query.as_deref().unwrap_or(""), &rid),
    };
    app.record_finish(seq, op, Some(resp.status()), None);
    resp
}

fn serve_document(app: &App, document_id: &str, query: &str, rid: &str) -> Response {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let (Some(date), Some(expires), Some(sig)) = (param("X-Amz-Date"), param("X-Amz-Expires"), param("X-Amz-Signature")) else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters",
            &[],
            rid,
        );
    };
    let ttl: u64 = expires.parse().unwrap_or(0);
    if signature(app, document_id, date, ttl) != sig {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            &[],
            rid,
        );
    }
    let Some(issued) = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok().map(|d| d.and_utc()) else {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "X-Amz-Date is not a date", &[], rid);
    };
    let expiry = issued + chrono::Duration::seconds(ttl as i64);
    let now = Utc::now();
    // At X-Amz-Date's resolution (whole seconds): valid through the second of the expiry.
    if now.timestamp() > expiry.timestamp() {
        let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired",
            &[("X-Amz-Expires", ttl.to_string()), ("Expires", fmt(expiry)), ("ServerTime", fmt(now))],
            rid,
        );
    }
    let inner = app.lock();
    let found = inner
        .business
        .documents
        .get(document_id)
        .and_then(|d| Some((d.gzip, inner.business.books.get(&d.partner)?.docs.get(&d.doc_number)?)));
    let Some((gzip, doc)) = found else {
        return s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.", &[("Key", document_id.to_owned())], rid);
    };
    let pdf: Vec<u8> = match &doc.pdf {
        Some(bytes) => bytes.to_vec(),
        None => pdf_for(doc),
    };
    drop(inner);
    let (bytes, content_type) = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&pdf).expect("writing to a Vec");
        (enc.finish().expect("gzip into a Vec"), "application/octet-stream")
    } else {
        (pdf, "application/pdf")
    };
    let mut resp = (StatusCode::OK, Body::from(bytes)).into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A one-page PDF naming the document (for documents seeded without PDF bytes).
pub(crate) fn pdf_for(doc: &Doc) -> Vec<u8> {
    let kind = if doc.is_credit_memo() { "Credit memo" } else { "Invoice" };
    let lines = [
        format!("Amazon Business - {kind} {}", doc.number),
        format!("Date: {}", doc.date.format("%Y-%m-%d")),
        format!("Order: {}", doc.order_id),
        format!("Total: {} {}", doc.total(), doc.currency),
    ];
    minimal_pdf(&lines)
}

/// A valid one-page PDF (Helvetica) with these lines of text (non-ASCII written as `?`).
pub(crate) fn minimal_pdf(lines: &[String]) -> Vec<u8> {
    let escape = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
                _ => "?".to_owned(),
            })
            .collect()
    };
    let mut content = String::from("BT /F1 14 Tf 50 790 Td 18 TL");
    for l in lines {
        content.push_str(&format!(" ({}) '", escape(l)));
    }
    content.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
    out.into_bytes()
}
