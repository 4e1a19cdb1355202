//! Serving: connections, routes, request ids, response helpers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::state::App;
use crate::{
    api, business, control, einvoice, lwa, ordering, reports, HDR_REQUEST_ID, INVOICES_PATH, LWA_TOKEN_PATH, ORDERS_PATH,
    PAYMENT_DETAILS_PATH, REPORTS_PATH, SUBMIT_INVOICES_PATH, TRANSACTIONS_PATH,
};

/// Handle given to each request: notifying it closes the request's connection without a response.
#[derive(Clone)]
pub(crate) struct ConnKill(pub(crate) Arc<Notify>);

/// Serves `app` on `listener` until the task is dropped. Each connection runs on its own task
/// (HTTP/1.1 with keep-alive).
pub async fn serve(listener: TcpListener, app: App) -> std::io::Result<()> {
    use tower::Service;
    let router = app.router();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // e.g. EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let handle = ConnKill(kill.clone());
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(handle.clone());
                router.clone().call(req.map(Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                res = conn => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = kill.notified() => {
                    tracing::info!(%peer, "connection closed without a response (fault)");
                }
            }
        });
    }
}

pub(crate) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = crate::ids::uuid();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(HDR_REQUEST_ID, HeaderValue::from_str(&id).expect("uuid is a header value"));
    tracing::info!(
        request_id = %id,
        %method,
        path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// The SP-API error body: `{"errors":[{"code","message","details":""}]}`.
pub(crate) fn sp_errors(status: StatusCode, errors: impl IntoIterator<Item = (&'static str, String)>) -> Response {
    let errors: Vec<Value> = errors.into_iter().map(|(code, message)| json!({"code": code, "message": message, "details": ""})).collect();
    json_response(status, json!({ "errors": errors }))
}

pub(crate) fn sp_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    sp_errors(status, [(code, message.into())])
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")))
}

pub(crate) async fn not_found() -> Response {
    sp_error(StatusCode::NOT_FOUND, "NotFound", "Resource not found.")
}

impl App {
    /// The routes, with the request-id middleware. Served by [`serve`].
    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route(LWA_TOKEN_PATH, post(lwa::lwa_token))
            .route(SUBMIT_INVOICES_PATH, post(api::submit_invoices))
            .route("/vendor/transactions/v1/transactions/{transaction_id}", get(api::get_transaction))
            .route(ORDERS_PATH, post(ordering::place_order))
            .route("/ordering/2022-10-30/orders/{external_id}", get(ordering::order_details))
            .route(TRANSACTIONS_PATH, get(business::get_transactions))
            .route(INVOICES_PATH, post(business::get_invoice_details))
            .route(PAYMENT_DETAILS_PATH, post(business::get_payment_details))
            .route(REPORTS_PATH, post(reports::create_report))
            .route("/reports/2021-09-30/reports/{report_id}", get(reports::get_report).delete(reports::cancel_report))
            .route("/reports/2021-09-30/documents/{document_id}", get(reports::get_report_document))
            .route("/report-documents/{document_id}", get(reports::download))
            .route("/_emulator/business/seed", post(business::seed).get(business::seed_counts))
            .route("/_emulator/faults", post(control::set_faults).get(control::get_faults))
            .route("/_emulator/ordering", post(ordering::set_ordering).get(ordering::get_ordering))
            .route("/_emulator/ordering/orders", get(ordering::list_orders))
            .route("/_emulator/ordering/orders/{external_id}/einvoice", post(einvoice::einvoice))
            .route("/_emulator/reset", post(control::reset))
            .route("/_emulator/revoke", post(control::revoke))
            .route("/_emulator/requests", get(control::recorded_requests))
            .route("/_emulator/stats", get(control::stats))
            .fallback(not_found)
            .layer(middleware::from_fn(request_id))
            .with_state(self.clone())
    }
}
