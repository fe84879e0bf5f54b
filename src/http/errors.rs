//! Every domain, store and upload failure mapped to its HTTP status, in one place.

use poem::http::StatusCode;

use super::problem::ApiError;
use crate::domain::{AvatarError, EmailError, NameError};
use crate::store::StoreError;

impl From<NameError> for ApiError {
    fn from(error: NameError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
    }
}

impl From<EmailError> for ApiError {
    fn from(error: EmailError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
    }
}

impl From<AvatarError> for ApiError {
    fn from(error: AvatarError) -> Self {
        let status = match &error {
            AvatarError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AvatarError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AvatarError::Empty
            | AvatarError::TooManyPixels { .. }
            | AvatarError::Malformed { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AvatarError::Io(io_error) => {
                tracing::error!(error = %io_error, "could not read the spooled avatar");
                return ApiError::internal();
            }
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "a user with that email exists already",
            ),
            StoreError::NotFound => ApiError::not_found("no user has that email"),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "store unavailable");
                ApiError::unavailable()
            }
            StoreError::Internal(cause) => {
                tracing::error!(%cause, "store failed");
                ApiError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ImageFormat;

    #[test]
    fn maps_each_failure_to_the_spec_status() {
        let cases: Vec<(ApiError, StatusCode)> = vec![
            (NameError::Empty.into(), StatusCode::UNPROCESSABLE_ENTITY),
            (
                EmailError::TooLong(255).into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (AvatarError::Empty.into(), StatusCode::UNPROCESSABLE_ENTITY),
            (
                AvatarError::TooLarge { limit: 1 }.into(),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            (
                AvatarError::UnsupportedFormat.into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                AvatarError::TooManyPixels {
                    width: 2,
                    height: 2,
                    limit: 3,
                }
                .into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                AvatarError::Malformed {
                    format: ImageFormat::Gif,
                    reason: "no trailer".into(),
                }
                .into(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (StoreError::Conflict.into(), StatusCode::CONFLICT),
            (StoreError::NotFound.into(), StatusCode::NOT_FOUND),
            (
                StoreError::Unavailable("down".into()).into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                StoreError::Internal("bug".into()).into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error:?}");
        }
    }

    #[test]
    fn internal_causes_never_reach_the_client() {
        let error: ApiError = StoreError::Internal("table arn:aws:dynamodb:secret".into()).into();
        assert!(!error.details().detail.contains("arn:aws"));
        let error: ApiError = StoreError::Unavailable("dispatch failure: 10.0.0.1".into()).into();
        assert!(!error.details().detail.contains("10.0.0.1"));
    }
}
