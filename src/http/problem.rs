//! RFC 9457 problem details: the one shape of every error roster answers with, and the
//! typed error responses that tell the OpenAPI document which statuses each operation uses.

use std::marker::PhantomData;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// An RFC 9457 problem details object. `type` is `about:blank`, so `title` is the
/// status's reason phrase and `detail` says what happened to this request.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Problem")]
pub struct ProblemDetails {
    /// A URI reference naming the problem type; `about:blank` for plain HTTP statuses.
    #[oai(rename = "type")]
    pub problem_type: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    pub detail: String,
}

/// An error answer on its way out: a status and a detail safe to show the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the user store is unavailable; retry later",
        )
    }

    /// The detail never carries the cause: that goes to the log, with the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an unexpected error occurred",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn details(&self) -> ProblemDetails {
        ProblemDetails {
            problem_type: "about:blank".to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.details().to_json())
            .unwrap_or_else(|_| br#"{"type":"about:blank"}"#.to_vec());
        let mut response = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)
            .body(body);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

impl From<ApiError> for poem::Error {
    fn from(error: ApiError) -> Self {
        poem::Error::from_response(error.into_response())
    }
}

/// The error statuses one operation can answer with, each with its description in the
/// document. 500 is implied for every operation.
pub trait ErrorStatuses: Send + Sync + 'static {
    const STATUSES: &'static [(u16, &'static str)];
}

/// The error half of an operation's `Result`: a problem whose possible statuses, listed
/// by `S`, appear in the OpenAPI document with the problem schema.
pub struct Problem<S> {
    error: ApiError,
    statuses: PhantomData<S>,
}

impl<S> From<ApiError> for Problem<S> {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            statuses: PhantomData,
        }
    }
}

impl<S: ErrorStatuses> ApiResponse for Problem<S> {
    fn meta() -> MetaResponses {
        let internal = [(500, "An unexpected error; the detail says no more.")];
        let responses = S::STATUSES
            .iter()
            .chain(internal.iter())
            .map(|&(status, description)| MetaResponse {
                description,
                status: Some(status),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: PROBLEM_CONTENT_TYPE,
                    schema: ProblemDetails::schema_ref(),
                }],
                headers: if status == 503 {
                    vec![MetaHeader {
                        name: "Retry-After".to_owned(),
                        description: Some("Seconds to wait before retrying.".to_owned()),
                        required: true,
                        deprecated: false,
                        schema: u32::schema_ref(),
                    }]
                } else {
                    Vec::new()
                },
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        ProblemDetails::register(registry);
    }
}

impl<S: Send> IntoResponse for Problem<S> {
    fn into_response(self) -> Response {
        self.error.into_response()
    }
}

impl<S> From<Problem<S>> for poem::Error {
    fn from(problem: Problem<S>) -> Self {
        problem.error.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_problem_is_problem_json_with_every_member() {
        let response = ApiError::new(StatusCode::CONFLICT, "taken").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_CONTENT_TYPE
        );
        let body: serde_json::Value =
            serde_json::from_slice(&response.into_body().into_vec().await.unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "about:blank", "title": "Conflict", "status": 409, "detail": "taken"
            })
        );
    }

    #[test]
    fn only_503_carries_retry_after() {
        let unavailable = ApiError::unavailable().into_response();
        assert_eq!(unavailable.headers().get(header::RETRY_AFTER).unwrap(), "5");
        let internal = ApiError::internal().into_response();
        assert!(internal.headers().get(header::RETRY_AFTER).is_none());
    }
}
