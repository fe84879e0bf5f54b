//! Users in a DynamoDB table, avatars in an S3 bucket. Works against AWS and against any
//! compatible endpoint given through the SDK's `AWS_ENDPOINT_URL*` variables (moto,
//! LocalStack, MinIO, DynamoDB Local…): with a custom endpoint, S3 uses path-style
//! addressing and only computes checksums where the API requires them.

mod avatars;
mod scan_items;
mod users;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

pub use avatars::S3Avatars;
pub use users::DynamoUsers;

use super::StoreError;
use crate::domain::AvatarUrls;

/// How the AWS backend finds its table and bucket and names avatar URLs.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub table: String,
    pub bucket: String,
    /// Base of `avatar_url`; `None` gives the bucket's virtual-hosted S3 URL.
    pub avatar_base_url: Option<String>,
    /// `Cache-Control` of every avatar object written.
    pub avatar_cache_control: String,
}

/// Failures while building the clients, reported before the port opens.
#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    #[error(
        "no AWS region is configured: set AWS_REGION (or a profile region) for the aws backend"
    )]
    MissingRegion,
}

/// Both halves of the AWS backend, and the URLs its avatars are served at.
pub struct AwsBackend {
    pub users: DynamoUsers,
    pub avatars: S3Avatars,
    pub urls: AvatarUrls,
}

/// The SDK configuration from the default chain (environment, profile, web identity for
/// IRSA, container and instance metadata), with timeouts and retries.
pub async fn default_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::v2026_01_12())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .read_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        // The attempt and operation timeouts above already end every stalled call; the
        // SDK's own stall detection would only add a throughput timer to every body.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .load()
        .await
}

/// Builds both clients once, from the default chain.
pub async fn connect(settings: AwsSettings) -> Result<AwsBackend, AwsSetupError> {
    connect_with(&default_config().await, settings)
}

/// Builds both clients once from `sdk`.
pub fn connect_with(
    sdk: &aws_config::SdkConfig,
    settings: AwsSettings,
) -> Result<AwsBackend, AwsSetupError> {
    let region = sdk
        .region()
        .ok_or(AwsSetupError::MissingRegion)?
        .to_string();

    let custom_s3_endpoint =
        sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let mut s3_config = aws_sdk_s3::config::Builder::from(sdk);
    if custom_s3_endpoint {
        s3_config = s3_config
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    let base = settings
        .avatar_base_url
        .unwrap_or_else(|| format!("https://{}.s3.{region}.amazonaws.com", settings.bucket));
    let urls = AvatarUrls::new(&base);
    Ok(AwsBackend {
        users: DynamoUsers::new(
            aws_sdk_dynamodb::Client::new(sdk),
            settings.table,
            urls.clone(),
        ),
        avatars: S3Avatars::new(
            aws_sdk_s3::Client::from_conf(s3_config.build()),
            settings.bucket,
            settings.avatar_cache_control,
        ),
        urls,
    })
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

/// Error codes that mean "try again later": throttling, a service hiccup, or a table or
/// bucket that is missing for a moment (an emulator restarting).
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

/// Sorts SDK failures into what a client can act on: transient ones (unreachable, timed
/// out, throttled, 5xx, table or bucket missing) are `Unavailable` and become 503s; the
/// rest are internal errors. The SDK error, with its whole context, is kept as the cause.
fn classify<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
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
    // A 4xx answer means the service received the call and refused it: nothing was done.
    let refused = matches!(&error, SdkError::ServiceError(context) if context.raw().status().is_client_error());
    let failure = if transient {
        StoreError::unavailable(operation, error)
    } else {
        StoreError::internal(operation, error)
    };
    if refused { failure.refused() } else { failure }
}
