//! Sending to an SQS queue (the import's fan-out and continuations): the queue URL from the
//! configuration, the endpoint from the SDK's (`AWS_ENDPOINT_URL_SQS` for the local stack).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use invoice_domain::core::PortError;

/// One queue.
#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

fn sqs_err<E: std::error::Error>(what: &str, e: E) -> PortError {
    PortError(format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> SqsQueue {
        SqsQueue { client, url: url.into() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one message, delivered after `delay_seconds` (at most 900, SQS's limit).
    pub async fn send(&self, body: &str, delay_seconds: u32) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_seconds.min(900) as i32)
            .send()
            .await
            .map_err(|e| sqs_err("sqs send", e))?;
        Ok(())
    }

    /// Sends every body, ten per request; an entry SQS refuses fails the whole call (the
    /// caller's run is retried: duplicates are harmless, the receivers are idempotent).
    pub async fn send_all(&self, bodies: &[String]) -> Result<usize, PortError> {
        for (n, chunk) in bodies.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(format!("m{n}-{i}")).message_body(b).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError(format!("sqs batch entry: {e}")))?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sqs_err("sqs send batch", e))?;
            if let Some(f) = out.failed().first() {
                return Err(PortError(format!(
                    "sqs send batch: {} of {} refused ({}: {})",
                    out.failed().len(),
                    chunk.len(),
                    f.code(),
                    f.message().unwrap_or("")
                )));
            }
        }
        Ok(bodies.len())
    }
}

pub fn sqs_client(conf: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(conf)
}
