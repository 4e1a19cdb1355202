//! The SP-API operations: submitInvoices and getTransaction.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use crate::bucket::limit_header;
use crate::serve::{is_json, json_response, sp_error, sp_errors, ConnKill, RequestId};
use crate::state::{Access, ApiError, App, Fault, Operation, RecordedIds, Transaction};
use crate::{model, GET_TRANSACTION_PREFIX, HDR_RATE_LIMIT, SUBMIT_INVOICES_PATH};

pub(crate) fn invoice_ids(body: &Value) -> Vec<String> {
    let list = body.get("invoices").or_else(|| body.pointer("/payload/invoices"));
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Shared part of both operations: faults, token check, rate limit, latency, recording and
/// rate-limit headers. `work` produces the operation's own answer.
pub(crate) async fn api_call<W>(
    app: &App,
    op: Operation,
    seq: u64,
    headers: &HeaderMap,
    kill: Option<Extension<ConnKill>>,
    work: W,
) -> Response
where
    W: FnOnce(&App) -> Response,
{
    let (fault, delay_ms) = {
        let mut inner = app.lock();
        (inner.take_fault(op), inner.faults.delay_ms)
    };
    match fault {
        Some(Fault::Drop) => {
            app.record_finish(seq, op, None, Some("drop"));
            return drop_connection(kill).await;
        }
        Some(Fault::Stall) => {
            app.record_finish(seq, op, None, Some("stall"));
            tokio::time::sleep(app.config.stall).await;
            return drop_connection(kill).await;
        }
        _ => {}
    }
    let (mut resp, fault_name) = match fault {
        Some(Fault::Throttle) => (quota_exceeded(), Some("throttle")),
        Some(Fault::Fail(status)) => {
            let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
                ("ServiceUnavailable", "Service temporarily unavailable (emulated fault).")
            } else {
                ("InternalFailure", "We encountered an internal error. Please try again. (emulated fault)")
            };
            (sp_error(status, code, message), Some("fail"))
        }
        _ => {
            let admitted = {
                let mut inner = app.lock();
                match inner.access(headers) {
                    Access::Denied { .. } => None,
                    Access::Granted { partner } => Some(inner.bucket(&app.config, &partner, op).try_take(Instant::now())),
                }
            };
            match admitted {
                None => (sp_error(StatusCode::FORBIDDEN, "Unauthorized", "Access to requested resource is denied."), None),
                Some(false) => (quota_exceeded(), None),
                Some(true) => (work(app), None),
            }
        }
    };
    // lose_response_next: the request was processed (a transaction exists) but the answer
    // never reaches the client.
    let lose = resp.status().is_success() && {
        let mut inner = app.lock();
        let applies = inner.faults.operation.is_none_or(|only| only == op);
        if applies && inner.faults.lose_response_next > 0 {
            inner.faults.lose_response_next -= 1;
            true
        } else {
            false
        }
    };
    if lose {
        app.record_finish(seq, op, Some(resp.status()), Some("lose_response"));
        return drop_connection(kill).await;
    }
    let status = resp.status();
    // The model's responses that carry x-amzn-RateLimit-Limit.
    let with_limit = match op {
        Operation::Submit => matches!(status.as_u16(), 202 | 400 | 404 | 429),
        Operation::PlaceOrder | Operation::OrderDetails => matches!(status.as_u16(), 200 | 400 | 404 | 429 | 500),
        // The Reconciliation model puts it on every response of these two …
        Operation::GetTransactions | Operation::GetInvoiceDetails => true,
        // … and only on these of getBatchInvoicePaymentDetails.
        Operation::GetPaymentDetails => matches!(status.as_u16(), 200 | 400 | 404),
        // The Document model: on every response but 403.
        Operation::CreateReport | Operation::GetReport | Operation::CancelReport | Operation::GetReportDocument => status.as_u16() != 403,
        _ => matches!(status.as_u16(), 200 | 400 | 404 | 429),
    };
    if with_limit {
        resp.headers_mut().insert(HDR_RATE_LIMIT, limit_header(app.config.plan(op).0));
    }
    app.record_finish(seq, op, Some(status), fault_name);
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    resp
}

pub(crate) fn quota_exceeded() -> Response {
    sp_error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded", "You exceeded your quota for the requested resource.")
}

/// Closes the connection this request came on without answering, then never completes (the
/// connection task drops this future along with the connection).
pub(crate) async fn drop_connection(kill: Option<Extension<ConnKill>>) -> Response {
    match kill {
        Some(Extension(ConnKill(notify))) => {
            notify.notify_one();
            std::future::pending::<Response>().await
        }
        None => sp_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "drop_next needs spapi_emulator::serve"),
    }
}

pub(crate) fn with_body_limit(app: &App, body: Body) -> impl Future<Output = Result<Bytes, axum::Error>> {
    axum::body::to_bytes(body, app.config.max_body_bytes)
}

pub(crate) async fn submit_invoices(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match with_body_limit(&app, body).await {
        Ok(b) => b,
        Err(_) => return sp_error(StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "The request size exceeded the limit."),
    };
    let parsed: Result<Value, serde_json::Error> = serde_json::from_slice(&bytes);
    let (recorded, ids) = match &parsed {
        Ok(v) => (v.clone(), invoice_ids(v)),
        Err(_) => (Value::Null, Vec::new()),
    };
    let partner = app.partner_of_request(&parts.headers);
    // Invoice numbers are unique per vendor (selling partner), not across vendors.
    let owner = partner.clone().unwrap_or_default();
    let seq = app.record_start(Operation::Submit, partner, SUBMIT_INVOICES_PATH, &rid, recorded, RecordedIds::invoices(ids.clone()));
    let json_body = is_json(&parts.headers);
    api_call(&app, Operation::Submit, seq, &parts.headers, kill, move |app| {
        if !json_body {
            return sp_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "The request payload is in an unsupported format; send application/json.",
            );
        }
        let body = match parsed {
            Ok(v) => v,
            Err(e) => return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", format!("(root): body is not valid JSON: {e}")),
        };
        let violations = model::violations(&app.validator, &body);
        if !violations.is_empty() {
            return sp_errors(StatusCode::BAD_REQUEST, violations.into_iter().map(|m| ("InvalidInput", m)));
        }
        let refused: Vec<ApiError> = {
            let inner = app.lock();
            ids.iter().filter_map(|id| inner.faults.invalid_invoice_ids.get(id)).flatten().cloned().collect()
        };
        if !refused.is_empty() {
            return json_response(StatusCode::BAD_REQUEST, json!({ "errors": refused }));
        }
        let transaction_id = format!("{}-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"), crate::ids::uuid());
        {
            let mut inner = app.lock();
            let mut failure: Vec<ApiError> =
                ids.iter().filter_map(|id| inner.faults.reject_invoice_ids.get(id)).flatten().cloned().collect();
            // Amazon refuses an invoice number the vendor already used: the later transaction fails.
            for id in &ids {
                let key = (owner.clone(), id.clone());
                match inner.accepted_invoices.get(&key) {
                    Some(first) => failure.push(ApiError {
                        code: "DUPLICATE_INVOICE".into(),
                        message: format!("Invoice {id} was already submitted in transaction {first}."),
                        details: None,
                    }),
                    None => {
                        inner.accepted_invoices.insert(key, transaction_id.clone());
                    }
                }
            }
            let processing_polls = inner.faults.processing_polls;
            inner.transactions.insert(
                transaction_id.clone(),
                Transaction { polls: 0, processing_polls, failure: (!failure.is_empty()).then_some(failure) },
            );
        }
        json_response(StatusCode::ACCEPTED, json!({"payload": {"transactionId": transaction_id}}))
    })
    .await
}

pub(crate) async fn get_transaction(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    kill: Option<Extension<ConnKill>>,
    Path(transaction_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("{GET_TRANSACTION_PREFIX}{transaction_id}");
    let partner = app.partner_of_request(&headers);
    let seq = app.record_start(Operation::GetTransaction, partner, &path, &rid, Value::Null, RecordedIds::default());
    api_call(&app, Operation::GetTransaction, seq, &headers, kill, move |app| {
        let well_formed = !transaction_id.is_empty()
            && transaction_id.len() <= 128
            && transaction_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !well_formed {
            return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "Invalid transmission ID.");
        }
        let mut inner = app.lock();
        let Some(t) = inner.transactions.get_mut(&transaction_id) else {
            return sp_error(StatusCode::NOT_FOUND, "NotFound", "The requested transaction was not found.");
        };
        t.polls = t.polls.saturating_add(1);
        let status = if t.polls <= t.processing_polls {
            json!({"transactionId": transaction_id, "status": "Processing"})
        } else if let Some(errors) = &t.failure {
            json!({"transactionId": transaction_id, "status": "Failure", "errors": errors})
        } else {
            json!({"transactionId": transaction_id, "status": "Success"})
        };
        json_response(StatusCode::OK, json!({"payload": {"transactionStatus": status}}))
    })
    .await
}
