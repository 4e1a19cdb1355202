//! The HTTPS channel's part of the table: the answer given to each payloadID (a conditional
//! put: the first answer wins and is sent again for every retry), and the booked invoice
//! headers it reads for business duplicates.

use aws_sdk_dynamodb::Client;
use invoice_domain::channel::https::{AnswerStore, StoredAnswer};
use invoice_domain::core::PortError;

use crate::dynamo::DynamoRepo;
use crate::keys::{payload_pk, ANSWER_SK};
use crate::table::{from_item, get, keyed, put_if_absent};

#[derive(Clone)]
pub struct DynamoAnswers {
    pub client: Client,
    pub table: String,
    repo: DynamoRepo,
}

impl DynamoAnswers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        DynamoAnswers { repo: DynamoRepo::new(client.clone(), table.clone()), client, table }
    }
}

impl AnswerStore for DynamoAnswers {
    async fn booked_sha(&self, company: &str, invoice_key: &str) -> Result<Option<String>, PortError> {
        Ok(self.repo.invoice(company, invoice_key).await?.map(|h| h.content_sha256))
    }

    async fn answer(&self, company: &str, payload_id: &str) -> Result<Option<StoredAnswer>, PortError> {
        get(&self.client, &self.table, &payload_pk(company, payload_id), ANSWER_SK, "answer").await?.map(from_item).transpose()
    }

    async fn remember(&self, company: &str, payload_id: &str, answer: &StoredAnswer) -> Result<Option<StoredAnswer>, PortError> {
        let mut item = keyed(answer, company, payload_pk(company, payload_id), ANSWER_SK, "https_answer")?;
        item.insert("payload_id".into(), crate::table::s(payload_id));
        put_if_absent(&self.client, &self.table, item, "remember answer").await?.map(from_item).transpose()
    }
}
