//! S3 document store: raw documents under incoming/, archive/ and quarantine/.

use std::collections::BTreeMap;

use aws_lambda_events::event::s3::S3EventRecord;
use aws_sdk_s3::primitives::ByteStream;
use invoice_domain::core::PortError;
use invoice_domain::invoice::ports::{DocumentStore, StoredObject};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::sdk_err;

#[derive(Clone)]
pub struct S3Store {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    /// Objects larger than this are not read into memory; they are reported as too large by
    /// reading only the first `max_bytes + 1` bytes.
    pub max_bytes: usize,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, max_bytes: usize) -> Self {
        S3Store { client, bucket: bucket.into(), max_bytes }
    }

    /// Keys under a prefix (paginated).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut out = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_err("s3 list", e))?;
            out.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        }
        Ok(out)
    }
}

/// Creates the bucket when missing (local stack and tests).
pub async fn ensure_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), PortError> {
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let se = e.as_service_error();
            if se.map(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()).unwrap_or(false) {
                Ok(())
            } else {
                Err(sdk_err("s3 create bucket", e))
            }
        }
    }
}

impl DocumentStore for S3Store {
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        // Read at most max_bytes + 1 so a huge upload cannot exhaust the function's memory;
        // the parser then reports too-large and the object is quarantined by copy.
        let range = format!("bytes=0-{}", self.max_bytes);
        let resp = self.client.get_object().bucket(&self.bucket).key(key).range(range).send().await;
        match resp {
            Ok(o) => {
                let metadata: BTreeMap<String, String> =
                    o.metadata().map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect()).unwrap_or_default();
                let body = o.body.collect().await.map_err(|e| PortError(format!("s3 read {key}: {e}")))?;
                Ok(Some(StoredObject { bytes: body.into_bytes().to_vec(), metadata }))
            }
            Err(e) => {
                let no_such_key = e.as_service_error().map(|s| s.is_no_such_key()).unwrap_or(false);
                if no_such_key || e.raw_response().map(|r| r.status().as_u16() == 404).unwrap_or(false) {
                    Ok(None)
                } else if e.raw_response().map(|r| r.status().as_u16() == 416).unwrap_or(false) {
                    // Range not satisfiable: an empty object.
                    Ok(Some(StoredObject::default()))
                } else {
                    Err(sdk_err(&format!("s3 get {key}"), e))
                }
            }
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str, metadata: &BTreeMap<String, String>) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_metadata((!metadata.is_empty()).then(|| metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_err(&format!("s3 put {key}"), e))?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), PortError> {
        let source = format!("{}/{}", self.bucket, percent_encode_key(from));
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .send()
            .await
            .map_err(|e| sdk_err(&format!("s3 copy {from} -> {to}"), e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| sdk_err(&format!("s3 delete {key}"), e))?;
        Ok(())
    }
}

/// Everything but unreserved characters and '/' is percent-encoded (RFC 3986 unreserved:
/// letters, digits, `-`, `_`, `.`, `~`).
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// CopySource must be URL-encoded; '/' stays as the path separator.
fn percent_encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SET).to_string()
}

/// A key as S3 writes it into event notifications: URL-encoded with '+' for spaces.
pub fn event_key(key: &str) -> String {
    key.split(' ').map(|part| utf8_percent_encode(part, KEY_SET).to_string()).collect::<Vec<_>>().join("+")
}

/// An `ObjectCreated:Put` record as S3 sends it for `key` (built from the aws_lambda_events
/// types; they are non-exhaustive, so from their defaults): what `invoicectl local drop` and
/// the tests hand to the ingestion handler.
pub fn object_created(bucket: &str, key: &str, size: i64, seq: usize, at: chrono::DateTime<chrono::Utc>) -> S3EventRecord {
    let mut r = S3EventRecord::default();
    r.event_version = Some("2.1".into());
    r.event_source = Some("aws:s3".into());
    r.aws_region = Some("us-east-1".into());
    r.event_time = at;
    r.event_name = Some("ObjectCreated:Put".into());
    r.s3.schema_version = Some("1.0".into());
    r.s3.configuration_id = Some("incoming".into());
    r.s3.bucket.name = Some(bucket.to_string());
    r.s3.bucket.arn = Some(format!("arn:aws:s3:::{bucket}"));
    r.s3.object.key = Some(event_key(key));
    r.s3.object.size = Some(size);
    r.s3.object.sequencer = Some(format!("{seq:016X}"));
    r
}

/// The object key of an S3 event notification (URL-encoded with '+' for spaces).
pub fn decode_event_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_round_trip() {
        for k in ["incoming/acme/Invoice 2025/11 \u{fc}.xml", "incoming/a+b.xml", "incoming/x%y.xml", "plain/key.xml"] {
            assert_eq!(decode_event_key(&event_key(k)), k);
        }
        assert_eq!(event_key("incoming/a b+c.xml"), "incoming/a+b%2Bc.xml");
        assert_eq!(decode_event_key("incoming/Invoice+2025%2F11+%C3%BC.xml"), "incoming/Invoice 2025/11 \u{fc}.xml");
        assert_eq!(percent_encode_key("a b/c"), "a%20b/c");
    }
}
