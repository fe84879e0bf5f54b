//! Wraps every request: an `x-request-id` (echoed or made), a `request` span carrying it,
//! Prometheus series by route template, and a problem+json body for what the router
//! refuses (404, 405 with its `Allow`) and for a panic. Everything else answers problem+json
//! by itself (see `problem.rs`).

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, PathPattern, Request, Response};
use poem_openapi::OperationId;
use tracing::{Instrument, field};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::problem::{ApiError, PROBLEM_CONTENT_TYPE};
use super::routes::RouteTable;

const REQUEST_ID: &str = "x-request-id";

pub struct Observe {
    routes: Arc<RouteTable>,
}

impl Observe {
    pub fn new(routes: Arc<RouteTable>) -> Self {
        Self { routes }
    }
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObservedEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObservedEndpoint {
            inner,
            routes: Arc::clone(&self.routes),
        }
    }
}

pub struct ObservedEndpoint<E> {
    inner: E,
    routes: Arc<RouteTable>,
}

/// Counts a request in flight for as long as it lives, however it ends (a dropped request
/// future included).
struct InFlight(metrics::Gauge);

impl InFlight {
    fn enter() -> Self {
        let gauge = metrics::gauge!("http_requests_in_flight");
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl<E: Endpoint> Endpoint for ObservedEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let _in_flight = InFlight::enter();
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .filter(|value| is_acceptable_request_id(value))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let method = request.method().clone();
        let span = tracing::info_span!(
            "request",
            otel.kind = "server",
            http.request.method = %method,
            http.route = field::Empty,
            http.response.status_code = field::Empty,
            url.path = %request.uri().path(),
            request_id = %request_id,
            trace_id = field::Empty,
        );
        // An incoming W3C `traceparent` makes this request a child of the caller's span.
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
        let trace_id = span.context().span().span_context().trace_id();
        span.record("trace_id", trace_id.to_string());

        let result = self.inner.call(request).instrument(span.clone()).await;
        let (route, mut response) = match result {
            Ok(output) => {
                let response = output.into_response();
                let route = self.routes.label(
                    response.data::<OperationId>(),
                    response.data::<PathPattern>(),
                );
                (route.to_owned(), response)
            }
            Err(error) => {
                let pattern = error.data::<PathPattern>().cloned();
                let route = self
                    .routes
                    .label(error.data::<OperationId>(), pattern.as_ref())
                    .to_owned();
                let mut response = span.in_scope(|| router_problem(error));
                if response.status() == StatusCode::METHOD_NOT_ALLOWED
                    && let Some(allowed) = pattern
                        .as_ref()
                        .and_then(|pattern| self.routes.allowed_methods(pattern))
                    && let Ok(value) = HeaderValue::from_str(&allowed)
                {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                (route, response)
            }
        };
        let status = response.status().as_u16();
        // The route is known only now; the span started before routing, so rename it.
        span.context()
            .span()
            .update_name(format!("{method} {route}"));
        span.record("http.route", route.as_str());
        span.record("http.response.status_code", status);
        let elapsed = started.elapsed();
        let labels = [
            ("method", method.to_string()),
            ("route", route.clone()),
            ("status", status.to_string()),
        ];
        metrics::counter!("http_requests_total", &labels).increment(1);
        metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        span.in_scope(|| {
            tracing::info!(
                status,
                route = %route,
                elapsed_ms = elapsed.as_secs_f64() * 1000.0,
                "request finished"
            );
        });
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(response)
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// A caller's request id is kept if it is short, printable ASCII; otherwise one is made.
fn is_acceptable_request_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 128 && value.bytes().all(|byte| byte.is_ascii_graphic())
}

/// What the router (or the panic guard) refused, as problem+json: a 404 for an unknown
/// path, a 405 for a known path with another method, a 500 for a panic.
fn router_problem(error: poem::Error) -> Response {
    let status = error.status();
    let response = error.into_response();
    if is_problem(&response) {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(%status, "request failed");
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "an unexpected error occurred",
        )
        .into_response();
    }
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    ApiError::new(status, reason).into_response()
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type == PROBLEM_CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_short_printable_ascii() {
        assert!(is_acceptable_request_id("abc-123"));
        assert!(!is_acceptable_request_id(""));
        assert!(!is_acceptable_request_id("has space"));
        assert!(!is_acceptable_request_id(&"x".repeat(129)));
    }
}
