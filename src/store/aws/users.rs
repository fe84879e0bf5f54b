//! The users table in DynamoDB: partition key `email` (S); each item holds exactly `name`,
//! `email` and `avatar_url`, all strings.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use tracing::Instrument;

use super::scan_items::DecodeScanItems;
use super::{aws_span, classify};
use crate::domain::{AvatarKey, AvatarUrls, UserEmail, UserRecord};
use crate::store::{Insertion, ListPosition, Page, StoreError, UserTable};
use crate::telemetry::metrics::SCAN_PAGES;

pub struct DynamoUsers {
    client: aws_sdk_dynamodb::Client,
    table: String,
    urls: AvatarUrls,
}

impl DynamoUsers {
    pub(super) fn new(client: aws_sdk_dynamodb::Client, table: String, urls: AvatarUrls) -> Self {
        Self {
            client,
            table,
            urls,
        }
    }

    async fn scan(
        &self,
        start: Option<String>,
        limit: usize,
    ) -> Result<(Vec<UserRecord>, Option<String>), StoreError> {
        let decoder = DecodeScanItems::default();
        let decoded = decoder.slot();
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.map(email_key))
            .customize()
            .interceptor(decoder)
            .send()
            .instrument(aws_span("DynamoDB", "Scan"))
            .await
            .map_err(|error| classify("DynamoDB.Scan", error))?;
        if let Some(page) = decoded.take() {
            metrics::counter!(SCAN_PAGES, "decoder" => "roster").increment(1);
            return Ok((page.users, page.last_key));
        }
        // Our decoding declined the page: the SDK read it, as it reads every other response.
        metrics::counter!(SCAN_PAGES, "decoder" => "sdk").increment(1);
        let users = output
            .items()
            .iter()
            .map(|item| user_from_item("DynamoDB.Scan", item))
            .collect::<Result<Vec<_>, _>>()?;
        let last_key = output
            .last_evaluated_key()
            .and_then(|key| key.get("email"))
            .and_then(|email| email.as_s().ok())
            .cloned();
        Ok((users, last_key))
    }

    fn item(&self, user: &UserRecord) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("name".to_owned(), AttributeValue::S(user.name.clone())),
            ("email".to_owned(), AttributeValue::S(user.email.clone())),
            (
                "avatar_url".to_owned(),
                AttributeValue::S(self.urls.url(&user.avatar)),
            ),
        ])
    }
}

#[async_trait]
impl UserTable for DynamoUsers {
    #[tracing::instrument(name = "aws.insert_user", skip_all, fields(email = %user.email))]
    async fn insert_if_absent(&self, user: &UserRecord) -> Result<Insertion, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(user)))
            .condition_expression("attribute_not_exists(email)")
            .send()
            .instrument(aws_span("DynamoDB", "PutItem"))
            .await;
        match result {
            Ok(_) => Ok(Insertion::Inserted),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_conditional_check_failed_exception()) =>
            {
                Ok(Insertion::AlreadyExists)
            }
            Err(error) => Err(classify("DynamoDB.PutItem", error)),
        }
    }

    #[tracing::instrument(name = "aws.get_user", skip_all, fields(email = %email))]
    async fn get(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email.as_str().to_owned())))
            .consistent_read(true)
            .send()
            .instrument(aws_span("DynamoDB", "GetItem"))
            .await
            .map_err(|error| classify("DynamoDB.GetItem", error))?;
        output
            .item()
            .map(|item| user_from_item("DynamoDB.GetItem", item))
            .transpose()
    }

    #[tracing::instrument(name = "aws.remove_user", skip_all, fields(email = %email))]
    async fn remove(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email.as_str().to_owned())))
            .return_values(ReturnValue::AllOld)
            .send()
            .instrument(aws_span("DynamoDB", "DeleteItem"))
            .await
            .map_err(|error| classify("DynamoDB.DeleteItem", error))?;
        output
            .attributes()
            .map(|item| user_from_item("DynamoDB.DeleteItem", item))
            .transpose()
    }

    #[tracing::instrument(name = "aws.list_users", skip_all, fields(limit = limit))]
    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        // One user more than asked for tells whether more remain; a scan page can hold
        // fewer items than its limit (1 MB cap), so keep scanning until the page is full.
        let wanted = limit.saturating_add(1);
        let mut users = Vec::with_capacity(wanted.min(1024));
        let mut start = after.map(|position| position.0.clone());
        loop {
            let (page, last_key) = self.scan(start, wanted - users.len()).await?;
            users.extend(page);
            match last_key {
                Some(key) if users.len() < wanted => start = Some(key),
                _ => break,
            }
        }
        let more = users.len() > limit;
        users.truncate(limit);
        let next = more
            .then(|| users.last().map(|user| ListPosition(user.email.clone())))
            .flatten();
        Ok(Page { users, next })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .instrument(aws_span("DynamoDB", "DescribeTable"))
            .await
            .map(drop)
            .map_err(|error| classify("DynamoDB.DescribeTable", error))
    }
}

fn email_key(email: String) -> HashMap<String, AttributeValue> {
    HashMap::from([("email".to_owned(), AttributeValue::S(email))])
}

#[derive(Debug, thiserror::Error)]
enum MalformedItem {
    #[error("a stored item lacks the string attribute {0}")]
    Missing(&'static str),
    #[error("a stored item's avatar_url names no avatar key")]
    NoAvatarKey,
}

/// Reads an item back. `avatar_url` was made from the avatar key and the base URL at the
/// time of the write; the key is what roster keeps (a later base URL applies to it too).
fn user_from_item(
    operation: &'static str,
    item: &HashMap<String, AttributeValue>,
) -> Result<UserRecord, StoreError> {
    let text = |attribute: &'static str| {
        item.get(attribute)
            .and_then(|value| value.as_s().ok())
            .ok_or(MalformedItem::Missing(attribute))
    };
    let read = || -> Result<UserRecord, MalformedItem> {
        let avatar = AvatarKey::from_url(text("avatar_url")?).ok_or(MalformedItem::NoAvatarKey)?;
        Ok(UserRecord {
            name: text("name")?.clone(),
            email: text("email")?.clone(),
            avatar,
        })
    };
    read().map_err(|error| StoreError::internal(operation, error))
}
