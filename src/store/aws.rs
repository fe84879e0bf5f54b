//! Users in a DynamoDB table, avatars in an S3 bucket. Works against AWS and against any
//! compatible endpoint given through the SDK's `AWS_ENDPOINT_URL*` variables (moto,
//! LocalStack, MinIO, DynamoDB Local…): with a custom endpoint, S3 uses path-style
//! addressing and only computes checksums where the API requires them.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use tracing::Instrument;

use super::{
    AvatarFile, ListPosition, Page, StoreError, UserStore, avatar_key_of_url, new_avatar_key,
};
use crate::domain::{Avatar, NewUser, User, UserEmail};

/// How the AWS backend finds its table and bucket and names avatar URLs.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub table: String,
    pub bucket: String,
    /// Base of `avatar_url`; `None` gives the bucket's virtual-hosted S3 URL.
    pub avatar_base_url: Option<String>,
}

#[derive(Clone)]
pub struct AwsStore {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    table: String,
    bucket: String,
    avatar_base_url: String,
}

/// Failures while building the clients, reported before the port opens.
#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    #[error(
        "no AWS region is configured: set AWS_REGION (or a profile region) for the aws backend"
    )]
    MissingRegion,
}

impl AwsStore {
    /// Builds both clients once from the SDK's default chain (environment, profile, web
    /// identity for IRSA, container and instance metadata), with timeouts and retries.
    pub async fn connect(settings: AwsSettings) -> Result<Self, AwsSetupError> {
        let sdk = aws_config::defaults(BehaviorVersion::v2026_01_12())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .read_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(10))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .load()
            .await;
        let region = sdk
            .region()
            .ok_or(AwsSetupError::MissingRegion)?
            .to_string();

        let custom_s3_endpoint =
            sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let mut s3_config = aws_sdk_s3::config::Builder::from(&sdk);
        if custom_s3_endpoint {
            s3_config = s3_config
                .force_path_style(true)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }

        let avatar_base_url = settings
            .avatar_base_url
            .map(|base| base.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("https://{}.s3.{region}.amazonaws.com", settings.bucket));
        Ok(Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(s3_config.build()),
            table: settings.table,
            bucket: settings.bucket,
            avatar_base_url,
        })
    }

    async fn put_avatar(&self, key: &str, avatar: &Avatar) -> Result<(), StoreError> {
        let body = ByteStream::from_path(avatar.path())
            .await
            .map_err(|error| StoreError::Internal(format!("cannot read avatar: {error}")))?;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body)
            .content_type(avatar.format().content_type())
            .content_length(avatar.size() as i64)
            .send()
            .instrument(aws_span("S3", "PutObject"))
            .await
            .map_err(|error| classify("S3.PutObject", error))?;
        Ok(())
    }

    /// Removes an avatar that no stored user points at. Failing here leaves an orphan
    /// object, which is logged with its key (see the README on finding orphans).
    async fn remove_avatar(&self, key: &str) {
        let result = self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .instrument(aws_span("S3", "DeleteObject"))
            .await;
        if let Err(error) = result {
            tracing::error!(
                bucket = %self.bucket,
                key,
                error = %DisplayErrorContext(&error),
                "could not remove avatar object; it is now an orphan"
            );
        }
    }

    async fn scan(
        &self,
        start: Option<String>,
        limit: usize,
    ) -> Result<(Vec<User>, Option<String>), StoreError> {
        let output = self
            .dynamodb
            .scan()
            .table_name(&self.table)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start.map(email_key))
            .send()
            .instrument(aws_span("DynamoDB", "Scan"))
            .await
            .map_err(|error| classify("DynamoDB.Scan", error))?;
        let users = output
            .items()
            .iter()
            .map(user_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let last_key = output
            .last_evaluated_key()
            .and_then(|key| key.get("email"))
            .and_then(|email| email.as_s().ok())
            .cloned();
        Ok((users, last_key))
    }
}

#[async_trait]
impl UserStore for AwsStore {
    #[tracing::instrument(name = "aws.create", skip_all, fields(email = %user.email))]
    async fn create(&self, user: &NewUser, avatar: &Avatar) -> Result<User, StoreError> {
        // Refusing a known duplicate before the upload saves an S3 write and delete; the
        // conditional write below still decides races.
        if self.get(&user.email).await?.is_some() {
            return Err(StoreError::Conflict);
        }
        let key = new_avatar_key(avatar.format());
        self.put_avatar(&key, avatar).await?;
        let stored = User {
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            avatar_url: format!("{}/{key}", self.avatar_base_url),
        };
        let result = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_from_user(&stored)))
            .condition_expression("attribute_not_exists(email)")
            .send()
            .instrument(aws_span("DynamoDB", "PutItem"))
            .await;
        match result {
            Ok(_) => Ok(stored),
            Err(error) => {
                self.remove_avatar(&key).await;
                let conditional_check_failed = error
                    .as_service_error()
                    .is_some_and(|service| service.is_conditional_check_failed_exception());
                if conditional_check_failed {
                    Err(StoreError::Conflict)
                } else {
                    Err(classify("DynamoDB.PutItem", error))
                }
            }
        }
    }

    #[tracing::instrument(name = "aws.get", skip_all, fields(email = %email))]
    async fn get(&self, email: &UserEmail) -> Result<Option<User>, StoreError> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email.as_str().to_owned())))
            .consistent_read(true)
            .send()
            .instrument(aws_span("DynamoDB", "GetItem"))
            .await
            .map_err(|error| classify("DynamoDB.GetItem", error))?;
        output.item().map(user_from_item).transpose()
    }

    #[tracing::instrument(name = "aws.delete", skip_all, fields(email = %email))]
    async fn delete(&self, email: &UserEmail) -> Result<(), StoreError> {
        let output = self
            .dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email.as_str().to_owned())))
            .return_values(ReturnValue::AllOld)
            .send()
            .instrument(aws_span("DynamoDB", "DeleteItem"))
            .await
            .map_err(|error| classify("DynamoDB.DeleteItem", error))?;
        let Some(old_item) = output.attributes() else {
            return Err(StoreError::NotFound);
        };
        let removed = user_from_item(old_item)?;
        match avatar_key_of_url(&removed.avatar_url) {
            Some(key) => self.remove_avatar(&key).await,
            None => tracing::error!(
                avatar_url = %removed.avatar_url,
                "deleted user's avatar_url names no avatar key; object left in place"
            ),
        }
        Ok(())
    }

    #[tracing::instrument(name = "aws.list_page", skip_all, fields(limit))]
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
        let table = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .instrument(aws_span("DynamoDB", "DescribeTable"));
        let bucket = self
            .s3
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .instrument(aws_span("S3", "HeadBucket"));
        let (table, bucket) = tokio::join!(table, bucket);
        table.map_err(|error| classify("DynamoDB.DescribeTable", error))?;
        bucket.map_err(|error| classify("S3.HeadBucket", error))?;
        Ok(())
    }

    async fn avatar_file(&self, _file_name: &str) -> Result<Option<AvatarFile>, StoreError> {
        Ok(None)
    }
}

fn aws_span(service: &'static str, operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        "aws.call",
        otel.name = format!("{service}.{operation}"),
        otel.kind = "client",
        rpc.system = "aws-api",
        rpc.service = service,
        rpc.method = operation,
    )
}

fn email_key(email: String) -> HashMap<String, AttributeValue> {
    HashMap::from([("email".to_owned(), AttributeValue::S(email))])
}

fn item_from_user(user: &User) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("name".to_owned(), AttributeValue::S(user.name.clone())),
        ("email".to_owned(), AttributeValue::S(user.email.clone())),
        (
            "avatar_url".to_owned(),
            AttributeValue::S(user.avatar_url.clone()),
        ),
    ])
}

fn user_from_item(item: &HashMap<String, AttributeValue>) -> Result<User, StoreError> {
    let text = |attribute: &str| {
        item.get(attribute)
            .and_then(|value| value.as_s().ok())
            .cloned()
            .ok_or_else(|| {
                StoreError::Internal(format!("item lacks the string attribute {attribute:?}"))
            })
    };
    Ok(User {
        name: text("name")?,
        email: text("email")?,
        avatar_url: text("avatar_url")?,
    })
}

/// Sorts SDK failures into what a client can act on: transient ones (unreachable, timed
/// out, throttled, 5xx, table or bucket missing while an emulator restarts) are
/// `Unavailable` and become 503s; the rest are internal errors.
fn classify<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    const TRANSIENT_CODES: &[&str] = &[
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "ResourceNotFoundException",
        "NoSuchBucket",
        "ServiceUnavailable",
        "InternalServerError",
    ];
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            status >= 500
                || status == 429
                || status == 404 && operation == "S3.HeadBucket"
                || context
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    };
    let message = format!("{operation}: {}", DisplayErrorContext(&error));
    if transient {
        tracing::warn!(operation, error = %DisplayErrorContext(&error), "store call failed");
        StoreError::Unavailable(message)
    } else {
        tracing::error!(operation, error = %DisplayErrorContext(&error), "store call failed");
        StoreError::Internal(message)
    }
}
