//! The control API for tests (`/_emulator/…`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::serve::json_response;
use crate::state::{App, Faults, FaultsPatch};

pub(crate) async fn get_faults(State(app): State<App>) -> Response {
    let faults = app.lock().faults.clone();
    json_response(StatusCode::OK, json!(faults))
}

pub(crate) async fn set_faults(State(app): State<App>, body: Bytes) -> Response {
    let patch: FaultsPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": format!("bad faults document: {e}")})),
    };
    if let Some(s) = patch.fail_status {
        if !(500..=599).contains(&s) {
            return json_response(StatusCode::BAD_REQUEST, json!({"error": "fail_status must be a 5xx code"}));
        }
    }
    let mut inner = app.lock();
    let f = &mut inner.faults;
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = patch.$field { f.$field = v; } )* };
    }
    set!(
        fail_next,
        fail_status,
        throttle_next,
        drop_next,
        lose_response_next,
        delay_ms,
        stall_next,
        processing_polls,
        lwa_fail_next,
        operation
    );
    for (id, errors) in patch.reject_invoice_ids.unwrap_or_default() {
        if errors.is_empty() {
            f.reject_invoice_ids.remove(&id);
        } else {
            f.reject_invoice_ids.insert(id, errors);
        }
    }
    for (id, errors) in patch.invalid_invoice_ids.unwrap_or_default() {
        if errors.is_empty() {
            f.invalid_invoice_ids.remove(&id);
        } else {
            f.invalid_invoice_ids.insert(id, errors);
        }
    }
    json_response(StatusCode::OK, json!(f.clone()))
}

pub(crate) async fn reset(State(app): State<App>) -> Response {
    let mut inner = app.lock();
    inner.faults = Faults::new(&app.config);
    inner.requests.clear();
    inner.stats.clear();
    inner.token_requests = 0;
    inner.transactions.clear();
    inner.accepted_invoices.clear();
    inner.submit_bucket.refill();
    inner.get_bucket.refill();
    // Issued access tokens stay valid.
    json_response(StatusCode::OK, json!({"reset": true}))
}

pub(crate) async fn recorded_requests(State(app): State<App>) -> Response {
    let requests = app.lock().requests.clone();
    json_response(StatusCode::OK, json!(requests))
}

pub(crate) async fn stats(State(app): State<App>) -> Response {
    let inner = app.lock();
    let group = |name: &str| json!(inner.stats.get(name).cloned().unwrap_or_default());
    json_response(
        StatusCode::OK,
        json!({
            "submit": group("submit"),
            "get_transaction": group("get_transaction"),
            "token": inner.token_requests,
            "token_status": group("token_status"),
        }),
    )
}
