//! Login with Amazon: the refresh-token grant.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::{json, Value};

use crate::serve::{is_json, json_response, RequestId};
use crate::state::{App, Issued, Operation, RecordedIds};
use crate::LWA_TOKEN_PATH;

#[derive(Serialize)]
pub(crate) struct TokenResponse<'a> {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: &'a str,
}

pub(crate) fn lwa_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    json_response(status, json!({"error": error, "error_description": description}))
}

/// Form or JSON body → string fields; `None` if the body can't be read as either.
pub(crate) fn lwa_fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    if is_json(headers) {
        let map: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
        Some(map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect())
    } else {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        Some(pairs.into_iter().collect())
    }
}

pub(crate) async fn lwa_token(
    State(app): State<App>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = lwa_fields(&headers, &body);
    // Recorded without the refresh token and the client secret (the partner id is a hash).
    let recorded = fields.as_ref().map_or(Value::Null, |f| json!({"grant_type": f.get("grant_type"), "client_id": f.get("client_id")}));
    let partner = fields.as_ref().and_then(|f| f.get("refresh_token")).and_then(|t| app.config.partner_of(t));
    let seq = app.record_start(Operation::Token, partner, LWA_TOKEN_PATH, &rid, recorded, RecordedIds::default());
    let resp = lwa_answer(&app, fields);
    app.lock().token_requests += 1;
    app.record_finish(seq, Operation::Token, Some(resp.status()), None);
    resp
}

pub(crate) fn lwa_answer(app: &App, fields: Option<HashMap<String, String>>) -> Response {
    let cfg = &app.config;
    {
        let mut inner = app.lock();
        if inner.faults.lwa_fail_next > 0 {
            inner.faults.lwa_fail_next -= 1;
            return lwa_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal server error (emulated fault)");
        }
    }
    let Some(fields) = fields else {
        return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", "The request body could not be parsed");
    };
    let field = |name: &str| fields.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type") {
        None => return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", "The request is missing a required parameter : grant_type"),
        Some("refresh_token") => {}
        Some(_) => {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request has an invalid parameter : grant_type (only refresh_token is emulated)",
            )
        }
    }
    for name in ["refresh_token", "client_id", "client_secret"] {
        if field(name).is_none() {
            return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("The request is missing a required parameter : {name}"));
        }
    }
    if field("client_id") != Some(cfg.client_id.as_str()) || field("client_secret") != Some(cfg.client_secret.as_str()) {
        return lwa_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let refresh_token = field("refresh_token").unwrap_or_default();
    let invalid_grant =
        || lwa_error(StatusCode::BAD_REQUEST, "invalid_grant", "The request has an invalid grant parameter : refresh_token");
    let Some(partner) = cfg.partner_of(refresh_token) else {
        return invalid_grant();
    };
    let token = format!("Atza|local-{}", crate::ids::uuid().replace('-', ""));
    {
        let mut inner = app.lock();
        if inner.revoked.contains(&partner) {
            return invalid_grant();
        }
        let now = Instant::now();
        inner.tokens.retain(|_, t| t.expires > now);
        inner.tokens.insert(token.clone(), Issued { partner, expires: now + Duration::from_secs(cfg.token_expires_in), revoked: false });
    }
    let body = TokenResponse { access_token: token, token_type: "bearer", expires_in: cfg.token_expires_in, refresh_token };
    (StatusCode::OK, Json(body)).into_response()
}
