//! The HTTP layer: routes, the OpenAPI document, the Swagger UI and the middleware that
//! gives every request an id, a span, metrics and a problem+json error body.

mod api;
mod avatar_image;
mod errors;
mod listing;
mod middleware;
mod page;
pub mod problem;
mod representation;
mod state;
mod upload;

use std::sync::Arc;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;

pub use api::RosterApi;
pub use state::AppState;
pub use upload::AvatarByteLimit;

/// The OpenAPI document's service description, shared by `/openapi.json`, the Swagger UI
/// and `roster openapi`.
pub fn openapi_service() -> OpenApiService<RosterApi, ()> {
    OpenApiService::new(RosterApi, "roster", env!("CARGO_PKG_VERSION"))
        .description(
            "User management with avatar images. Errors are RFC 9457 problem details \
             (application/problem+json).",
        )
        .server("/")
}

/// Every route of the service, wrapped in the request middleware.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    let api = openapi_service();
    let docs = api.swagger_ui();
    let spec_json = api.spec_endpoint();
    let spec_yaml = api.spec_endpoint_yaml();
    let avatar_limit = AvatarByteLimit(state.avatar_limits().max_bytes);
    Route::new()
        .nest("/docs", docs)
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/", api)
        .data(state)
        .data(avatar_limit)
        .with(CatchPanic::new())
        .with(middleware::Observe)
}

/// Characters that must be escaped in one path segment (RFC 3986 `pchar` allows the rest,
/// `@` included, so a plain address stays readable in a `Location` header).
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

pub fn encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}
