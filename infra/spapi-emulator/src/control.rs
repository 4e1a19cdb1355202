//! The control API for tests (`/_emulator/…`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::serve::json_response;
use crate::state::{App, Counts, Faults, FaultsPatch};

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
        operation,
        report_polls,
        report_fatal_next,
        report_cancelled_next,
        expired_url_next
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
    inner.partner_stats.clear();
    inner.token_requests = 0;
    inner.transactions.clear();
    inner.accepted_invoices.clear();
    inner.orders.clear();
    inner.ordering = crate::ordering::OrderingSettings::default();
    inner.business = crate::business::Business::default();
    // Every partner's buckets start full again.
    inner.buckets.clear();
    // LWA accepts revoked refresh tokens again; issued access tokens stay valid (revoked ones
    // stay dead).
    inner.revoked.clear();
    json_response(StatusCode::OK, json!({"reset": true}))
}

pub(crate) async fn recorded_requests(State(app): State<App>) -> Response {
    let requests = app.lock().requests.clone();
    json_response(StatusCode::OK, json!(requests))
}

/// Body of `POST /_emulator/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    refresh_token: String,
    /// false reinstates the token (LWA issues access tokens for it again).
    #[serde(default = "yes")]
    revoked: bool,
}

fn yes() -> bool {
    true
}

pub(crate) async fn revoke(State(app): State<App>, body: Bytes) -> Response {
    let req: RevokeRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": format!("bad revoke document: {e}")})),
    };
    let Some(partner) = app.config.partner_of(&req.refresh_token) else {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": "not a refresh token this emulator accepts (Atzr|…)"}));
    };
    app.lock().set_revoked(&partner, req.revoked);
    json_response(StatusCode::OK, json!({"partner": partner, "revoked": req.revoked}))
}

fn groups(counts: Option<&Counts>, names: &[&'static str]) -> serde_json::Map<String, Value> {
    names.iter().map(|n| (n.to_string(), json!(counts.and_then(|c| c.get(n)).cloned().unwrap_or_default()))).collect()
}

pub(crate) async fn stats(State(app): State<App>) -> Response {
    let inner = app.lock();
    let names = [
        "submit",
        "get_transaction",
        "place_order",
        "order_details",
        "get_transactions",
        "get_invoice_details",
        "get_payment_details",
        "create_report",
        "get_report",
        "cancel_report",
        "get_report_document",
        "document_download",
        "token_status",
    ];
    let mut body = groups(Some(&inner.stats), &names);
    body.insert("token".into(), json!(inner.token_requests));
    let partners: serde_json::Map<String, Value> =
        inner.partner_stats.iter().map(|(p, c)| (p.clone(), Value::Object(groups(Some(c), &names)))).collect();
    body.insert("partners".into(), Value::Object(partners));
    json_response(StatusCode::OK, Value::Object(body))
}
