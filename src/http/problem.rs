//! RFC 9457 problem details: the one shape of every error roster answers with, and the
//! machinery that makes each operation's documented statuses come from the very types that
//! produce them.
//!
//! Every error type that can reach a client declares its statuses once, with
//! [`http_statuses!`]: the `match` that picks a request's status and the list the OpenAPI
//! document shows are generated from the same rows, and the `match` is exhaustive, so a new
//! variant cannot go undocumented. An operation's failure type ([`operation_failure!`]) is
//! the union of the error types its handler can meet; its document lists exactly their
//! statuses.

use std::error::Error;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

use crate::telemetry::ErrorChain;

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

    /// The answer to `error`: its declared status, and a detail that never carries an
    /// internal cause. A server-side failure is logged here, once, with its whole chain of
    /// causes, inside the request's span (so with its request and trace ids).
    pub fn of<E: HttpStatuses + Error>(error: &E) -> Self {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %ErrorChain(error), "answering 503");
            Self::new(status, "the service cannot answer right now; retry later")
        } else if status.is_server_error() {
            tracing::error!(error = %ErrorChain(error), "answering 500");
            Self::new(status, "an unexpected error occurred")
        } else {
            Self::new(status, error.to_string())
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

/// The statuses an error type answers with, each with its description in the document.
pub trait HttpStatuses {
    const STATUSES: &'static [(u16, &'static str)];

    fn status(&self) -> u16;
}

/// Declares the status of every variant of an error type, once.
///
/// ```text
/// http_statuses!(NameError {
///     _ => 422 "The name is empty, too long, or holds control characters.",
/// });
/// ```
#[macro_export]
macro_rules! http_statuses {
    ($error:ty { $( $pattern:pat $(if $guard:expr)? => $status:literal $description:expr ),+ $(,)? }) => {
        impl $crate::http::problem::HttpStatuses for $error {
            const STATUSES: &'static [(u16, &'static str)] = &[ $( ($status, $description) ),+ ];

            fn status(&self) -> u16 {
                match self {
                    $( $pattern $(if $guard)? => $status, )+
                }
            }
        }
    };
}

/// How one operation can fail: the error types its handler meets, one of which also
/// stands for a request that could not be parsed into the operation's arguments.
pub trait OperationFailure: Send + 'static {
    /// Every status with its description, merged by status.
    fn statuses() -> &'static [(u16, &'static str)];

    fn problem(&self) -> ApiError;

    fn from_request_error(error: poem::Error) -> Self;
}

/// What a request that poem-openapi could not parse means for one operation: a bad request
/// for most, a missing user for a path that cannot even be decoded.
pub trait FromRequestError {
    fn from_request_error(error: poem::Error) -> Self;
}

/// Declares an operation's failure type as the union of error types; `request:` names the
/// variant a request that cannot be parsed becomes.
#[macro_export]
macro_rules! operation_failure {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $variant:ident($error:ty) ),+ $(,)? } request: $request:ident) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis enum $name {
            $( $variant($error), )+
        }

        $(
            impl From<$error> for $name {
                fn from(error: $error) -> Self {
                    Self::$variant(error)
                }
            }
        )+

        impl $crate::http::problem::OperationFailure for $name {
            fn statuses() -> &'static [(u16, &'static str)] {
                static MERGED: std::sync::OnceLock<Vec<(u16, &'static str)>> =
                    std::sync::OnceLock::new();
                MERGED.get_or_init(|| {
                    $crate::http::problem::merge_statuses(&[
                        $( <$error as $crate::http::problem::HttpStatuses>::STATUSES, )+
                    ])
                })
            }

            fn problem(&self) -> $crate::http::problem::ApiError {
                match self {
                    $( Self::$variant(error) => $crate::http::problem::ApiError::of(error), )+
                }
            }

            fn from_request_error(error: poem::Error) -> Self {
                Self::$request($crate::http::problem::FromRequestError::from_request_error(error))
            }
        }
    };
}

/// The statuses of several error types, one entry a status, descriptions joined, and
/// always a 500. Made once per operation, so the joined texts are leaked once and live as
/// long as the document does.
pub fn merge_statuses(lists: &[&[(u16, &'static str)]]) -> Vec<(u16, &'static str)> {
    let mut merged: Vec<(u16, String)> = Vec::new();
    for &(status, description) in lists.iter().flat_map(|list| list.iter()) {
        match merged.iter_mut().find(|(known, _)| *known == status) {
            Some((_, text)) if !text.contains(description) => {
                text.push(' ');
                text.push_str(description);
            }
            Some(_) => {}
            None => merged.push((status, description.to_owned())),
        }
    }
    if !merged.iter().any(|(status, _)| *status == 500) {
        merged.push((
            500,
            "An unexpected error; the detail says no more.".to_owned(),
        ));
    }
    merged.sort_by_key(|(status, _)| *status);
    merged
        .into_iter()
        .map(|(status, text)| (status, &*Box::leak(text.into_boxed_str())))
        .collect()
}

/// The request could not be parsed into the operation's arguments: a parameter out of
/// range, a body of the wrong content type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(pub poem::Error);

impl FromRequestError for RequestError {
    fn from_request_error(error: poem::Error) -> Self {
        Self(error)
    }
}

/// A parse failure of a request to an operation whose arguments cannot fail to parse.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnexpectedRequestError(pub poem::Error);

impl FromRequestError for UnexpectedRequestError {
    fn from_request_error(error: poem::Error) -> Self {
        Self(error)
    }
}

/// What an operation answers: its success, or one of its documented problems.
pub struct Answer<T, F>(pub Result<T, F>);

impl<T, F, E> From<Result<T, E>> for Answer<T, F>
where
    E: Into<F>,
{
    fn from(result: Result<T, E>) -> Self {
        Self(result.map_err(Into::into))
    }
}

impl<T: ApiResponse, F: OperationFailure> ApiResponse for Answer<T, F> {
    const BAD_REQUEST_HANDLER: bool = true;

    fn meta() -> MetaResponses {
        let mut meta = T::meta();
        meta.responses.extend(
            F::statuses()
                .iter()
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
                }),
        );
        meta
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
        ProblemDetails::register(registry);
    }

    fn from_parse_request_error(error: poem::Error) -> Self {
        Self(Err(F::from_request_error(error)))
    }
}

impl<T: IntoResponse, F: OperationFailure> IntoResponse for Answer<T, F> {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(success) => success.into_response(),
            Err(failure) => failure.problem().into_response(),
        }
    }
}
