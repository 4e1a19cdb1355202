//! Token-bucket rate limiting.

use std::time::Instant;

use axum::http::HeaderValue;

/// Token bucket refilled continuously (`rate` tokens per second, at most `burst`), starting full.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) rate: f64,
    pub(crate) burst: f64,
    pub(crate) tokens: f64,
    pub(crate) last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: f64, burst: f64) -> Bucket {
        Bucket { rate, burst, tokens: burst, last: Instant::now() }
    }

    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        // The epsilon absorbs float rounding for a client pacing at exactly `rate`.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }
}

/// `x-amzn-RateLimit-Limit` value for a plan's rate, e.g. `10.0`.
pub(crate) fn limit_header(rate: f64) -> HeaderValue {
    HeaderValue::from_str(&format!("{rate:?}")).expect("a float is a valid header value")
}
