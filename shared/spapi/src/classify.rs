//! The one classification of SP-API outcomes. Every result of a call — an HTTP answer of any
//! status, a transport failure, an undecodable answer, a request that could not be serialised,
//! a Login-with-Amazon failure, a pacer failure — comes to exactly one [`Class`]. The client's
//! retry loop, the [`InvoiceApi`](invoice_domain::vendor::ports::InvoiceApi) and
//! [`TransactionApi`](invoice_domain::vendor::ports::TransactionApi) impls all decide from it;
//! nothing else looks at status codes.

use std::time::Duration;

use invoice_domain::import::ports::{Answer, Download};
use invoice_domain::ordering::ports::{DetailsResult, PlaceResult};
use invoice_domain::vendor::ports::{SubmitResult, TxStatus};

use crate::{ApiError, DownloadError, Transaction, TransactionState};

/// What an SP-API call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Amazon took it (2xx with the answer the model describes).
    Accepted,
    /// Amazon refused it, with its errors: do not retry; show the errors.
    Rejected,
    /// Nothing was sent, or Amazon asked us to come back (429, 5xx): safe to try again later.
    RetryLater,
    /// Sent, and Amazon may have it (no answer, a gateway error, an answer we cannot read):
    /// never resend a submission blindly.
    Unknown,
    /// The selling partner's authorisation is missing or revoked, or the application's
    /// credentials are wrong: not the order's fault; nothing more is sent for a cool-down.
    NotAuthorized,
}

/// The facts of a failed call (what happened, not what to do about it: that is [`SpApiError::class`]).
#[derive(Debug, thiserror::Error)]
pub enum SpApiError {
    /// Amazon answered with this (non-2xx) status.
    #[error("HTTP {status} after {attempts} attempt(s): {}", ApiError::readable(errors))]
    Http {
        status: u16,
        /// Amazon's error list (a synthetic `HTTP<status>` entry when the body had none).
        errors: Vec<ApiError>,
        request_id: Option<String>,
        /// `x-amzn-RateLimit-Limit`, requests per second.
        rate_limit: Option<f64>,
        /// Attempts made in this call (retries included).
        attempts: u32,
    },
    /// The request never left this machine (connection not established, request not built).
    #[error("not sent: {0}")]
    NotSent(String),
    /// Sent; no answer within the request timeout.
    #[error("timed out after sending: {0}")]
    Timeout(String),
    /// Sent; the connection was lost before an answer arrived.
    #[error("connection lost after sending: {0}")]
    Lost(String),
    /// The answer's status arrived, its body did not.
    #[error("HTTP {status} answer cut off: {detail}")]
    CutOff { status: u16, detail: String },
    /// A 2xx answer whose body is not what the model describes.
    #[error("HTTP {status} answer not understood: {detail}")]
    Undecodable { status: u16, detail: String },
    /// The request body could not be serialised: nothing was sent.
    #[error("request not serialisable (nothing sent): {0}")]
    Serialize(String),
    /// Login with Amazon did not issue an access token. `status` is None when LWA could not
    /// be reached.
    #[error("LWA {}: {error} {description}", status.map_or("unreachable".to_string(), |s| format!("HTTP {s}")))]
    Lwa { status: Option<u16>, error: String, description: String },
    /// LWA (or SP-API, with a freshly issued token) refused this selling partner recently; it
    /// is not asked again until the cool-down ends.
    #[error("not authorised ({}s of cool-down left): {reason}", remaining.as_secs())]
    CoolingDown { remaining: Duration, reason: String },
    /// The shared rate-limit state could not be reserved: nothing was sent.
    #[error("rate limiter: {0}")]
    Pacer(String),
    /// The client could not be set up.
    #[error("client configuration: {0}")]
    Config(String),
    /// [`Config::report_max_wait`](crate::Config::report_max_wait): the shared limiter's next
    /// slot for this slow operation is further away than a pass waits; nothing was reserved or
    /// sent.
    #[error("paced: next {operation} slot in {} s", wait.as_secs_f64().ceil() as u64)]
    Paced { operation: &'static str, wait: Duration },
    /// The request cannot be valid (an empty report id…): refused before anything was sent.
    #[error("invalid request (nothing sent): {0}")]
    Invalid(String),
}

/// The class of a complete HTTP answer from SP-API.
pub fn classify_status(status: u16) -> Class {
    match status {
        200..=299 => Class::Accepted,
        // Access Denied / Unauthorized / Expired Token (the token is refreshed once first).
        401 | 403 => Class::NotAuthorized,
        // Request Timeout (the server gave up reading it), Too Early, Too Many Requests.
        408 | 425 | 429 => Class::RetryLater,
        // 400 invalid input, 404, 409, 413 too large, 415 unsupported, …
        400..=499 => Class::Rejected,
        // Bad Gateway / Gateway Timeout come from an intermediary: the service behind it may
        // have processed the request.
        502 | 504 => Class::Unknown,
        // 500 InternalFailure ("prevented the server from fulfilling the request"),
        // 503 ServiceUnavailable, …
        500..=599 => Class::RetryLater,
        // 1xx / 3xx (redirects are not followed) and nonsense: Amazon did not take it here.
        _ => Class::RetryLater,
    }
}

/// Whether an LWA answer with this status refuses the credentials (as opposed to "not now").
fn lwa_refuses(status: u16) -> bool {
    (400..=499).contains(&status) && !matches!(status, 408 | 425 | 429)
}

impl SpApiError {
    /// The one classification of a failure (never [`Class::Accepted`]: an error has no
    /// transactionId, so a 2xx without a usable answer is [`Class::Unknown`]).
    pub fn class(&self) -> Class {
        match self {
            SpApiError::Http { status, .. } | SpApiError::CutOff { status, .. } => match classify_status(*status) {
                Class::Accepted => Class::Unknown,
                c => c,
            },
            SpApiError::NotSent(_) | SpApiError::Serialize(_) | SpApiError::Pacer(_) | SpApiError::Config(_) | SpApiError::Paced { .. } => {
                Class::RetryLater
            }
            SpApiError::Invalid(_) => Class::Rejected,
            SpApiError::Timeout(_) | SpApiError::Lost(_) | SpApiError::Undecodable { .. } => Class::Unknown,
            SpApiError::Lwa { status: Some(s), .. } if lwa_refuses(*s) => Class::NotAuthorized,
            SpApiError::Lwa { .. } => Class::RetryLater,
            SpApiError::CoolingDown { .. } => Class::NotAuthorized,
        }
    }

    /// Amazon's errors for a rejection (a synthetic `HTTP<status>` entry when it sent none).
    pub fn api_errors(&self) -> Vec<ApiError> {
        match self {
            SpApiError::Http { errors, .. } if !errors.is_empty() => errors.clone(),
            SpApiError::Http { status, .. } | SpApiError::CutOff { status, .. } => {
                vec![ApiError { code: format!("HTTP{status}"), message: self.to_string(), details: None }]
            }
            _ => Vec::new(),
        }
    }

    /// Whether this is SP-API refusing the access token (401/403), as opposed to LWA.
    pub(crate) fn is_token_refused(&self) -> bool {
        matches!(self, SpApiError::Http { status: 401 | 403, .. })
    }

    pub(crate) fn with_attempts(mut self, n: u32) -> SpApiError {
        if let SpApiError::Http { attempts, .. } = &mut self {
            *attempts = n;
        }
        self
    }
}

/// Every result of a call, success included, to its class.
pub fn classify<T>(result: &Result<T, SpApiError>) -> Class {
    match result {
        Ok(_) => Class::Accepted,
        Err(e) => e.class(),
    }
}

/// submitInvoices' result as the submission workflow's port reports it.
pub fn submit_result(result: Result<String, SpApiError>) -> SubmitResult {
    let e = match result {
        Ok(transaction_id) => return SubmitResult::Accepted { transaction_id },
        Err(e) => e,
    };
    match e.class() {
        Class::Rejected => {
            let (status, code, message) = rejection(&e);
            SubmitResult::Rejected { status, code, message }
        }
        Class::RetryLater => SubmitResult::Transient(e.to_string()),
        Class::NotAuthorized => SubmitResult::NotAuthorized(e.to_string()),
        // An error is never Accepted (no transactionId): Amazon may have it.
        Class::Unknown | Class::Accepted => SubmitResult::Unknown(e.to_string()),
    }
}

/// A rejected call's status, first error code and every error in words.
fn rejection(e: &SpApiError) -> (u16, String, String) {
    let status = match e {
        SpApiError::Http { status, .. } | SpApiError::CutOff { status, .. } => *status,
        _ => 0,
    };
    let errors = e.api_errors();
    let code = errors.first().map(|x| x.code.clone()).unwrap_or_else(|| format!("HTTP{status}"));
    // The code travels separately; errors with another code keep theirs in the text.
    let message = errors
        .iter()
        .map(|x| {
            let text = match x.details.as_deref().filter(|d| !d.is_empty()) {
                Some(d) => format!("{} ({d})", x.message),
                None => x.message.clone(),
            };
            if x.code == code {
                text
            } else {
                format!("{}: {text}", x.code)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    (status, code, message)
}

/// placeOrder's result as the placing workflow's port reports it (same classes as
/// submitInvoices: an answer that may exist is Unknown, resolved with orderDetails).
pub fn place_result(result: Result<String, SpApiError>) -> PlaceResult {
    let e = match result {
        Ok(body) => return PlaceResult::Answered(body),
        Err(e) => e,
    };
    match e.class() {
        Class::Rejected => {
            let (status, code, message) = rejection(&e);
            PlaceResult::Rejected { status, code, message }
        }
        Class::RetryLater => PlaceResult::Transient(e.to_string()),
        Class::NotAuthorized => PlaceResult::NotAuthorized(e.to_string()),
        Class::Unknown | Class::Accepted => PlaceResult::Unknown(e.to_string()),
    }
}

/// orderDetails' result: 404 is NotFound; anything but a definite answer is Unavailable.
pub fn details_result(result: Result<Option<String>, SpApiError>) -> DetailsResult {
    match result {
        Ok(Some(body)) => DetailsResult::Found(body),
        Ok(None) => DetailsResult::NotFound,
        Err(e) if e.class() == Class::NotAuthorized => DetailsResult::NotAuthorized(e.to_string()),
        Err(e) => DetailsResult::Unavailable(format!("{:?}: {e}", e.class())),
    }
}

/// An Amazon Business Reconciliation or Reports call as the import's ports report it:
///
/// - 2xx → `Ok(body)`;
/// - "later" → `Retry(reason)`, with the applied `x-amzn-RateLimit-Limit` when Amazon sent it:
///   429 after the retries, 5xx, timeouts, not sent, lost, an unknown outcome, the pacer
///   (failed, or [`SpApiError::Paced`]), and the cool-down after a refusal (it only repeats a
///   refusal already answered `NotAuthorized`, without asking anyone);
/// - LWA's refusal of the refresh token, 401/403 again after a fresh token →
///   `NotAuthorized(reason)`;
/// - any other 4xx → `Refused { status, message }`, the message Amazon's `ErrorList` in words
///   (`code: message (details); …`); status 0 for a request refused before sending.
pub fn answer(result: Result<String, SpApiError>) -> Answer {
    let e = match result {
        Ok(body) => return Answer::Ok(body),
        Err(e) => e,
    };
    match e.class() {
        Class::NotAuthorized if matches!(e, SpApiError::CoolingDown { .. }) => Answer::Retry(e.to_string()),
        Class::NotAuthorized => Answer::NotAuthorized(e.to_string()),
        Class::Rejected => {
            let status = match &e {
                SpApiError::Http { status, .. } | SpApiError::CutOff { status, .. } => *status,
                _ => 0,
            };
            let message = match &e {
                SpApiError::Invalid(why) => why.clone(),
                _ => ApiError::readable(&e.api_errors()),
            };
            Answer::Refused { status, message }
        }
        // An unknown outcome of a read was retried already; of createReport it is never resent
        // here (a new report later is harmless).
        Class::RetryLater | Class::Unknown | Class::Accepted => Answer::Retry(retry_reason(&e)),
    }
}

/// Why to come back later, in words: the error, and the rate Amazon said it applied.
fn retry_reason(e: &SpApiError) -> String {
    match e {
        SpApiError::Http { status: 429, rate_limit: Some(r), .. } => format!("{e} (x-amzn-RateLimit-Limit: {r} requests/s)"),
        SpApiError::Http { rate_limit: Some(r), .. } => format!("{e} (x-amzn-RateLimit-Limit: {r})"),
        _ => e.to_string(),
    }
}

/// A report document download as the import's port reports it: the bytes; `Expired` for an
/// expired URL (get the document again); anything else `Failed` with its reason.
pub fn download_result(result: Result<Vec<u8>, DownloadError>) -> Download {
    match result {
        Ok(bytes) => Download::Bytes(bytes),
        Err(DownloadError::Expired) => Download::Expired,
        Err(e) => Download::Failed(e.to_string()),
    }
}

/// getTransaction's result as the status poller's port reports it: anything but a definite
/// answer is `Unavailable` (checked again next run), never a false Error.
pub fn tx_status(result: Result<Transaction, SpApiError>) -> TxStatus {
    match result {
        Ok(t) => match t.status {
            TransactionState::Processing => TxStatus::Processing,
            TransactionState::Success => TxStatus::Success,
            TransactionState::Failure => TxStatus::Failure(t.errors.into_iter().map(|e| (e.code, e.message)).collect()),
        },
        Err(e) => TxStatus::Unavailable(format!("{:?}: {e}", e.class())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> SpApiError {
        SpApiError::Http { status, errors: Vec::new(), request_id: None, rate_limit: None, attempts: 1 }
    }

    fn lwa(status: Option<u16>, error: &str) -> SpApiError {
        SpApiError::Lwa { status, error: error.into(), description: "d".into() }
    }

    #[test]
    fn every_http_status_class_has_one_class() {
        use Class::*;
        let expected: &[(u16, Class)] = &[
            (100, RetryLater),
            (200, Accepted),
            (202, Accepted),
            (204, Accepted),
            (301, RetryLater),
            (302, RetryLater),
            (304, RetryLater),
            (400, Rejected),
            (401, NotAuthorized),
            (403, NotAuthorized),
            (404, Rejected),
            (405, Rejected),
            (408, RetryLater),
            (409, Rejected),
            (413, Rejected),
            (415, Rejected),
            (422, Rejected),
            (425, RetryLater),
            (429, RetryLater),
            (451, Rejected),
            (500, RetryLater),
            (501, RetryLater),
            (502, Unknown),
            (503, RetryLater),
            (504, Unknown),
            (599, RetryLater),
            (600, RetryLater),
        ];
        for &(status, class) in expected {
            assert_eq!(classify_status(status), class, "HTTP {status}");
            let as_error = if class == Accepted { Unknown } else { class };
            assert_eq!(http(status).class(), as_error, "HTTP {status} as an error");
        }
        // Every status lands somewhere, and an error is never Accepted.
        for status in 0..1000u16 {
            let _ = classify_status(status);
            assert_ne!(http(status).class(), Accepted, "{status}");
        }
    }

    #[test]
    fn every_error_kind_has_one_class() {
        use Class::*;
        let cut = |status| SpApiError::CutOff { status, detail: "eof".into() };
        let cases: Vec<(SpApiError, Class)> = vec![
            (SpApiError::NotSent("connection refused".into()), RetryLater),
            (SpApiError::Timeout("20 s".into()), Unknown),
            (SpApiError::Lost("connection reset".into()), Unknown),
            (cut(202), Unknown),
            (cut(400), Rejected),
            (cut(429), RetryLater),
            (cut(503), RetryLater),
            (SpApiError::Undecodable { status: 202, detail: "no transactionId".into() }, Unknown),
            (SpApiError::Serialize("key must be a string".into()), RetryLater),
            (lwa(Some(400), "invalid_grant"), NotAuthorized),
            (lwa(Some(400), "invalid_request"), NotAuthorized),
            (lwa(Some(401), "invalid_client"), NotAuthorized),
            (lwa(Some(403), "access_denied"), NotAuthorized),
            (lwa(Some(408), "timeout"), RetryLater),
            (lwa(Some(429), "slow_down"), RetryLater),
            (lwa(Some(500), "server_error"), RetryLater),
            (lwa(Some(503), "temporarily_unavailable"), RetryLater),
            (lwa(Some(200), "answer not understood"), RetryLater),
            (lwa(None, "connection refused"), RetryLater),
            (SpApiError::CoolingDown { remaining: Duration::from_secs(299), reason: "invalid_grant".into() }, NotAuthorized),
            (SpApiError::Pacer("DynamoDB throttled".into()), RetryLater),
            (SpApiError::Config("empty partner".into()), RetryLater),
        ];
        for (e, class) in cases {
            assert_eq!(e.class(), class, "{e:?}");
            assert_eq!(classify::<()>(&Err(e)), class);
        }
        assert_eq!(classify(&Ok::<_, SpApiError>("tx")), Accepted);
    }

    #[test]
    fn the_ports_follow_the_classification() {
        assert_eq!(submit_result(Ok("tx-1".into())), SubmitResult::Accepted { transaction_id: "tx-1".into() });
        let rejected = SpApiError::Http {
            status: 400,
            errors: vec![
                ApiError { code: "InvalidInput".into(), message: "bad countryCode".into(), details: Some("".into()) },
                ApiError { code: "InvalidInput".into(), message: "bad date".into(), details: Some("ISO 8601".into()) },
                ApiError { code: "Other".into(), message: "m".into(), details: None },
            ],
            request_id: None,
            rate_limit: Some(10.0),
            attempts: 1,
        };
        assert_eq!(
            submit_result(Err(rejected)),
            SubmitResult::Rejected {
                status: 400,
                code: "InvalidInput".into(),
                message: "bad countryCode; bad date (ISO 8601); Other: m".into()
            }
        );
        let SubmitResult::Rejected { status: 415, code, .. } = submit_result(Err(http(415))) else { panic!() };
        assert_eq!(code, "HTTP415", "a rejection without Amazon's errors still has a code");
        let SubmitResult::Rejected { status: 400, code, .. } = submit_result(Err(SpApiError::CutOff { status: 400, detail: "eof".into() }))
        else {
            panic!()
        };
        assert_eq!(code, "HTTP400");

        let transient = |r: SubmitResult| matches!(r, SubmitResult::Transient(_));
        let unknown = |r: SubmitResult| matches!(r, SubmitResult::Unknown(_));
        let not_authorized = |r: SubmitResult| matches!(r, SubmitResult::NotAuthorized(_));
        assert!(transient(submit_result(Err(http(429)))));
        assert!(transient(submit_result(Err(http(503)))));
        assert!(transient(submit_result(Err(SpApiError::NotSent("refused".into())))));
        assert!(transient(submit_result(Err(SpApiError::Serialize("x".into())))), "nothing was sent: not unknown");
        assert!(transient(submit_result(Err(SpApiError::Pacer("x".into())))));
        assert!(transient(submit_result(Err(lwa(Some(500), "server_error")))));
        assert!(transient(submit_result(Err(lwa(None, "unreachable")))));
        assert!(unknown(submit_result(Err(http(504)))));
        assert!(unknown(submit_result(Err(SpApiError::Timeout("t".into())))));
        assert!(unknown(submit_result(Err(SpApiError::Undecodable { status: 202, detail: "x".into() }))));
        assert!(unknown(submit_result(Err(http(202)))), "a 2xx error has no transactionId");
        assert!(not_authorized(submit_result(Err(http(403)))));
        assert!(not_authorized(submit_result(Err(lwa(Some(400), "invalid_grant")))));
        assert!(not_authorized(submit_result(Err(lwa(Some(401), "invalid_client")))));
        assert!(not_authorized(submit_result(Err(SpApiError::CoolingDown { remaining: Duration::ZERO, reason: "r".into() }))));

        // getTransaction: anything but an answer is Unavailable, auth failures included.
        for e in [http(403), lwa(Some(400), "invalid_grant"), http(404), http(429), SpApiError::Timeout("t".into())] {
            assert!(matches!(tx_status(Err(e)), TxStatus::Unavailable(_)));
        }
        let t = |status| Transaction { transaction_id: "t".into(), status, errors: Vec::new() };
        assert_eq!(tx_status(Ok(t(TransactionState::Processing))), TxStatus::Processing);
        assert_eq!(tx_status(Ok(t(TransactionState::Success))), TxStatus::Success);
        assert_eq!(tx_status(Ok(t(TransactionState::Failure))), TxStatus::Failure(Vec::new()));
    }

    #[test]
    fn lwa_errors_never_show_secrets_and_read_well() {
        let e = lwa(Some(400), "invalid_grant");
        assert_eq!(e.to_string(), "LWA HTTP 400: invalid_grant d");
        assert_eq!(lwa(None, "connection refused").to_string(), "LWA unreachable: connection refused d");
    }
}

#[cfg(test)]
mod ordering_tests {
    use super::*;

    fn http(status: u16, code: &str) -> SpApiError {
        let errors = vec![ApiError { code: code.into(), message: "m".into(), details: None }];
        SpApiError::Http { status, errors, request_id: None, rate_limit: None, attempts: 1 }
    }

    #[test]
    fn place_and_details_outcomes() {
        assert_eq!(place_result(Ok("{}".into())), PlaceResult::Answered("{}".into()));
        assert!(
            matches!(place_result(Err(http(400, "InvalidInput"))), PlaceResult::Rejected { status: 400, ref code, .. } if code == "InvalidInput")
        );
        assert!(matches!(place_result(Err(http(429, "QuotaExceeded"))), PlaceResult::Transient(_)));
        assert!(matches!(place_result(Err(http(504, "x"))), PlaceResult::Unknown(_)), "a gateway answered: it may exist");
        assert!(matches!(place_result(Err(SpApiError::Timeout("t".into()))), PlaceResult::Unknown(_)));
        assert!(matches!(place_result(Err(SpApiError::NotSent("n".into()))), PlaceResult::Transient(_)));
        assert_eq!(details_result(Ok(None)), DetailsResult::NotFound);
        assert!(matches!(details_result(Err(http(503, "x"))), DetailsResult::Unavailable(_)));
        assert!(matches!(details_result(Err(http(403, "Unauthorized"))), DetailsResult::NotAuthorized(_)));
    }
}

#[cfg(test)]
mod import_tests {
    use super::*;

    fn http(status: u16, errors: Vec<ApiError>, rate_limit: Option<f64>) -> SpApiError {
        SpApiError::Http { status, errors, request_id: Some("rid".into()), rate_limit, attempts: 3 }
    }

    fn err(code: &str, message: &str, details: Option<&str>) -> ApiError {
        ApiError { code: code.into(), message: message.into(), details: details.map(str::to_string) }
    }

    #[test]
    fn every_outcome_of_a_business_call_is_one_answer() {
        assert_eq!(answer(Ok("{\"transactions\":[]}".into())), Answer::Ok("{\"transactions\":[]}".into()));

        // 429 after the retries: later, saying the rate Amazon applied.
        let Answer::Retry(why) = answer(Err(http(429, vec![err("QuotaExceeded", "You exceeded your quota", None)], Some(2.0)))) else {
            panic!()
        };
        assert_eq!(why, "HTTP 429 after 3 attempt(s): QuotaExceeded: You exceeded your quota (x-amzn-RateLimit-Limit: 2 requests/s)");
        let Answer::Retry(why) = answer(Err(http(429, Vec::new(), None))) else { panic!() };
        assert!(!why.contains("RateLimit"), "{why}");
        let Answer::Retry(why) = answer(Err(http(500, vec![err("InternalFailure", "try again", None)], Some(0.0167)))) else { panic!() };
        assert!(why.ends_with("(x-amzn-RateLimit-Limit: 0.0167)"), "{why}");

        let later = [
            http(503, Vec::new(), None),
            http(502, Vec::new(), None),
            http(504, Vec::new(), None),
            http(408, Vec::new(), None),
            SpApiError::Timeout("getTransactions: 20 s".into()),
            SpApiError::Lost("createReport: connection reset".into()),
            SpApiError::NotSent("connection refused".into()),
            SpApiError::CutOff { status: 200, detail: "eof".into() },
            SpApiError::CutOff { status: 503, detail: "eof".into() },
            SpApiError::Undecodable { status: 200, detail: "x".into() },
            SpApiError::Serialize("x".into()),
            SpApiError::Pacer("DynamoDB throttled".into()),
            SpApiError::Paced { operation: "getReportDocument", wait: Duration::from_secs(61) },
            SpApiError::Lwa { status: Some(500), error: "server_error".into(), description: String::new() },
            SpApiError::Lwa { status: Some(429), error: "slow_down".into(), description: String::new() },
            SpApiError::Lwa { status: None, error: "unreachable".into(), description: String::new() },
            SpApiError::CoolingDown { remaining: Duration::from_secs(200), reason: "LWA HTTP 400: invalid_grant".into() },
        ];
        for e in later {
            let text = e.to_string();
            assert_eq!(answer(Err(e)), Answer::Retry(text.clone()), "{text}");
        }
        assert_eq!(
            answer(Err(SpApiError::Paced { operation: "createReport", wait: Duration::from_millis(60_200) })),
            Answer::Retry("paced: next createReport slot in 61 s".into())
        );

        let refused = [
            SpApiError::Lwa { status: Some(400), error: "invalid_grant".into(), description: "revoked".into() },
            SpApiError::Lwa { status: Some(401), error: "invalid_client".into(), description: String::new() },
            http(403, vec![err("Unauthorized", "Access to requested resource is denied.", Some(""))], None),
            http(401, Vec::new(), None),
        ];
        for e in refused {
            let text = e.to_string();
            assert_eq!(answer(Err(e)), Answer::NotAuthorized(text.clone()), "{text}");
        }

        let bad_date = http(
            400,
            vec![
                err("INVALID_REQUEST_PARAMETER", "Input date [yesterday] is not in the expected ISO8601 format.", None),
                err("400", "Invalid input", Some("reportOptions: unknown option x")),
            ],
            Some(2.0),
        );
        assert_eq!(
            answer(Err(bad_date)),
            Answer::Refused {
                status: 400,
                message: "INVALID_REQUEST_PARAMETER: Input date [yesterday] is not in the expected ISO8601 format.; 400: Invalid input (reportOptions: unknown option x)".into()
            }
        );
        let Answer::Refused { status: 404, message } =
            answer(Err(http(404, vec![err("404", "Not found", Some("Report 1 was not found."))], None)))
        else {
            panic!()
        };
        assert_eq!(message, "404: Not found (Report 1 was not found.)");
        assert!(matches!(answer(Err(http(413, Vec::new(), None))), Answer::Refused { status: 413, .. }));
        assert!(matches!(answer(Err(http(415, Vec::new(), None))), Answer::Refused { status: 415, .. }));
        assert!(matches!(answer(Err(SpApiError::CutOff { status: 400, detail: "eof".into() })), Answer::Refused { status: 400, .. }));
        assert_eq!(
            answer(Err(SpApiError::Invalid("reportId must be 1 to 1024 characters".into()))),
            Answer::Refused { status: 0, message: "reportId must be 1 to 1024 characters".into() }
        );
    }

    #[test]
    fn downloads_come_to_bytes_expired_or_failed_with_a_reason() {
        assert_eq!(download_result(Ok(b"%PDF".to_vec())), Download::Bytes(b"%PDF".to_vec()));
        assert_eq!(download_result(Err(DownloadError::Expired)), Download::Expired);
        let failed = |e: DownloadError| match download_result(Err(e)) {
            Download::Failed(why) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            failed(DownloadError::Status { status: 503, code: "SlowDown".into(), message: "Please reduce your request rate.".into() }),
            "document download: HTTP 503 SlowDown: Please reduce your request rate."
        );
        assert_eq!(failed(DownloadError::TooLarge { limit: 1024 }), "the document is larger than 1024 bytes");
        assert!(failed(DownloadError::Gzip("invalid gzip header".into())).contains("not valid GZIP"));
        assert!(failed(DownloadError::Transport("timed out".into())).contains("timed out"));
        assert!(failed(DownloadError::BadUrl("ftp: not an http(s) URL with a host".into())).contains("not usable"));
    }

    #[test]
    fn paced_and_invalid_have_their_class() {
        assert_eq!(SpApiError::Paced { operation: "createReport", wait: Duration::ZERO }.class(), Class::RetryLater);
        assert_eq!(SpApiError::Invalid("x".into()).class(), Class::Rejected);
    }
}
