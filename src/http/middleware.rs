//! Wraps every request: an `x-request-id` (echoed or made), a `request` span carrying it,
//! Prometheus series by route template, and a problem+json body for every error, whether
//! it came from a handler, an extractor (a missing field, a wrong content type, a 413) or
//! the router (404, 405).

use std::sync::OnceLock;
use std::time::Instant;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, PathPattern, Request, Response};
use poem_openapi::error::ContentTypeError;
use poem_openapi::{OpenApi, OperationId};
use tracing::{Instrument, field};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::RosterApi;
use super::problem::{ApiError, PROBLEM_CONTENT_TYPE};

const REQUEST_ID: &str = "x-request-id";

pub struct Observe;

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObservedEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObservedEndpoint { inner }
    }
}

pub struct ObservedEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for ObservedEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .filter(|value| is_acceptable_request_id(value))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
            || request
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_some_and(|length| length != "0");
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
        let in_flight = metrics::gauge!("http_requests_in_flight");
        in_flight.increment(1.0);
        let result = self.inner.call(request).instrument(span.clone()).await;
        in_flight.decrement(1.0);

        let refused_before_handler = result.is_err();
        let (route, response) = match result {
            Ok(output) => {
                let response = output.into_response();
                let route = route_of(
                    response.data::<OperationId>(),
                    response.data::<PathPattern>(),
                );
                (route, response)
            }
            Err(error) => {
                let route = route_of(error.data::<OperationId>(), error.data::<PathPattern>());
                (route, problem_of(error))
            }
        };
        let mut response = ensure_problem_body(response);
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allowed) = allowed_methods(&path)
            && let Ok(value) = HeaderValue::from_str(&allowed)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        if refused_before_handler && has_body {
            // The request was refused while its body was still (partly) unread (a 413 at
            // the limit, a repeated field, a wrong content type), so the connection cannot
            // carry another request; saying so keeps clients from reusing it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        let status = response.status().as_u16();
        // The route is known only now; the span started before routing, so rename it.
        span.context()
            .span()
            .update_name(format!("{method} {route}"));
        span.record("http.route", route.as_str());
        span.record("http.response.status_code", status);
        let elapsed = started.elapsed();
        let labels = [
            ("method", method.clone()),
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

/// Every route the service answers, read once from the API description: its template as
/// the OpenAPI document spells it (`/user/{email}`), its methods and operation ids, plus
/// GET for the page, the Swagger UI and the document itself.
struct Route {
    template: String,
    methods: Vec<(String, Option<&'static str>)>,
}

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut routes: Vec<Route> = RosterApi::meta()
            .into_iter()
            .flat_map(|api| api.paths)
            .map(|path| Route {
                template: path.path,
                methods: path
                    .operations
                    .iter()
                    .map(|operation| (operation.method.to_string(), operation.operation_id))
                    .collect(),
            })
            .collect();
        for page in ["/", "/docs", "/openapi.json", "/openapi.yaml"] {
            if !routes.iter().any(|route| route.template == page) {
                routes.push(Route {
                    template: page.to_owned(),
                    methods: vec![("GET".to_owned(), None)],
                });
            }
        }
        routes
    })
}

/// The template of the matched route, never the raw path, so metrics and spans don't grow
/// a series per user. Routes outside the document use the router's pattern.
fn route_of(operation: Option<&OperationId>, pattern: Option<&PathPattern>) -> String {
    let documented = operation.and_then(|operation| {
        routes()
            .iter()
            .find(|route| route.methods.iter().any(|(_, id)| *id == Some(operation.0)))
    });
    if let Some(route) = documented {
        return route.template.clone();
    }
    match pattern {
        Some(pattern) if !pattern.0.is_empty() && !pattern.0.contains('*') => pattern.0.to_string(),
        _ => "unmatched".to_owned(),
    }
}

/// The methods a path answers, for the `Allow` header of a 405 (RFC 9110 requires it).
fn allowed_methods(path: &str) -> Option<String> {
    let mut methods: Vec<&str> = routes()
        .iter()
        .filter(|route| template_matches(&route.template, path))
        .flat_map(|route| route.methods.iter().map(|(method, _)| method.as_str()))
        .collect();
    if methods.is_empty() {
        return None;
    }
    methods.sort_unstable();
    methods.dedup();
    Some(methods.join(", "))
}

/// Whether `path` fits a template such as `/user/{email}` (a parameter is one segment).
fn template_matches(template: &str, path: &str) -> bool {
    let mut path_segments = path.split('/');
    let mut template_segments = template.split('/');
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return true,
            (Some(expected), Some(actual)) => {
                let parameter = expected.starts_with('{') && expected.ends_with('}');
                if !(parameter && !actual.is_empty() || expected == actual) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn problem_of(error: poem::Error) -> Response {
    // The SPEC treats a body that is not multipart as a bad request.
    if error.is::<ContentTypeError>() {
        return ApiError::bad_request(error.to_string()).into_response();
    }
    let status = error.status();
    let message = error.to_string();
    let response = error.into_response();
    if is_problem(&response) {
        return response;
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return ApiError::new(status, message).into_response();
    }
    if status.is_server_error() {
        tracing::error!(%status, cause = %message, "request failed");
        return ApiError::internal().into_response();
    }
    ApiError::new(status, message).into_response()
}

/// Any error answer that is not yet problem+json (a 405 from the router, say) becomes one.
fn ensure_problem_body(response: Response) -> Response {
    if response.status().as_u16() < 400 || is_problem(&response) {
        return response;
    }
    let status = response.status();
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        return ApiError::internal().into_response();
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
    fn routes_are_labelled_with_the_documented_template() {
        let get_user = OperationId("getUser");
        let raw = PathPattern("/user/:param0".into());
        assert_eq!(route_of(Some(&get_user), Some(&raw)), "/user/{email}");
        let spec = PathPattern("/openapi.json".into());
        assert_eq!(route_of(None, Some(&spec)), "/openapi.json");
        assert_eq!(route_of(None, Some(&PathPattern("".into()))), "unmatched");
        assert_eq!(route_of(None, None), "unmatched");
    }

    #[test]
    fn a_405_names_the_methods_the_path_answers() {
        assert_eq!(
            allowed_methods("/user/a@example.com").as_deref(),
            Some("DELETE, GET")
        );
        assert_eq!(allowed_methods("/user").as_deref(), Some("POST"));
        assert_eq!(allowed_methods("/healthz").as_deref(), Some("GET"));
        assert_eq!(allowed_methods("/openapi.json").as_deref(), Some("GET"));
        assert_eq!(allowed_methods("/nowhere"), None);
        assert_eq!(allowed_methods("/user/"), None);
    }

    #[test]
    fn request_ids_must_be_short_printable_ascii() {
        assert!(is_acceptable_request_id("abc-123"));
        assert!(!is_acceptable_request_id(""));
        assert!(!is_acceptable_request_id("has space"));
        assert!(!is_acceptable_request_id(&"x".repeat(129)));
    }
}
