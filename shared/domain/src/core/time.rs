//! The one timestamp format of the project: RFC 3339 UTC with milliseconds and `Z`
//! (`2026-12-01T16:25:57.123Z`), as stored in records and sent to SP-API.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2019-07-24T21:17:59.821Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_and_z() {
        let t = DateTime::parse_from_rfc3339("2019-07-24T21:17:59.821+00:00").unwrap().with_timezone(&Utc);
        assert_eq!(iso(t), "2019-07-24T21:17:59.821Z");
    }
}
