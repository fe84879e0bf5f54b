//! The HTTP layer: the server, the routes, the OpenAPI document, the Swagger UI, and the
//! middleware that gives every request an id, a span, metrics and a problem+json error
//! body. It reads requests into domain types and hands them to the service; it knows
//! nothing of the stores.

mod api;
mod avatar_image;
mod errors;
mod listing;
mod middleware;
mod page;
pub mod problem;
mod representation;
mod routes;
pub mod server;
mod state;
pub mod upload;

use std::collections::HashMap;
use std::sync::Arc;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use poem::http::{Method, StatusCode};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::registry::{MetaApi, Registry};
use poem_openapi::{OpenApi, OpenApiService};

pub use api::RosterApi;
pub use state::AppState;

use problem::ApiError;
use routes::{DOCUMENT_ROUTES, RouteTable};

/// The API's description without an API behind it: what `roster openapi` prints and what
/// the Swagger UI shows, available without a store.
pub struct ApiDocument;

impl OpenApi for ApiDocument {
    fn meta() -> Vec<MetaApi> {
        RosterApi::meta()
    }

    fn register(registry: &mut Registry) {
        RosterApi::register(registry);
    }

    fn add_routes(
        self,
        _: &mut HashMap<String, HashMap<Method, poem::endpoint::BoxEndpoint<'static>>>,
    ) {
    }
}

fn described<T: OpenApi>(api: T) -> OpenApiService<T, ()> {
    OpenApiService::new(api, "roster", env!("CARGO_PKG_VERSION"))
        .description(
            "User management with avatar images. Errors are RFC 9457 problem details \
             (application/problem+json).",
        )
        .server("/")
}

/// The OpenAPI document, shared by `/openapi.json`, the Swagger UI and `roster openapi`.
pub fn openapi_document() -> OpenApiService<ApiDocument, ()> {
    described(ApiDocument)
}

/// Every route of the service, wrapped in the request middleware.
pub fn routes(state: Arc<AppState>) -> impl Endpoint<Output = poem::Response> {
    let document = openapi_document();
    let table = Arc::new(RouteTable::new());
    let mut route = Route::new().nest("/", described(RosterApi::new(state)));
    for path in DOCUMENT_ROUTES {
        let endpoint = match path {
            "/openapi.json" => document.spec_endpoint().map_to_response().boxed(),
            "/openapi.yaml" => document.spec_endpoint_yaml().map_to_response().boxed(),
            _ => poem::get(swagger_ui).map_to_response().boxed(),
        };
        route = route.at(path, endpoint);
    }
    route
        .with(CatchPanic::new().with_handler(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "an unexpected error occurred",
            )
            .into_response()
        }))
        .with(middleware::Observe::new(table))
        .map_to_response()
}

/// The Swagger UI, its script and style inlined (served from the binary, no CDN) with the
/// document. It weighs about 3 MB, so it is built on the first visit rather than at
/// start-up, and then served from that one copy.
#[poem::handler]
fn swagger_ui() -> poem::web::Html<&'static str> {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    poem::web::Html(PAGE.get_or_init(|| openapi_document().swagger_ui_html()))
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::service::{SpoolBudget, test_service};
    use crate::store::test_double::ScriptedUsers;
    use upload::{UploadReader, UploadSettings};

    /// What a client receives when the store fails after the listing's body has started,
    /// read off the wire: the status was 200, the JSON array never closes, and the server
    /// closes the connection without the chunked body's final empty chunk, so both the
    /// JSON and the HTTP framing tell the client the listing is incomplete.
    #[tokio::test]
    async fn a_listing_cut_off_by_the_store_never_parses_and_the_connection_closes() {
        let service = test_service(ScriptedUsers::new(5_000, Some(3)));
        let uploads = UploadReader::new(
            UploadSettings {
                max_avatar_bytes: 1024,
                stall_timeout: Duration::from_secs(5),
                deadline: Duration::from_secs(5),
            },
            SpoolBudget::new(1 << 20, Duration::from_secs(1)),
        );
        let state = Arc::new(AppState::new(
            service,
            uploads,
            100,
            "public, max-age=300".to_owned(),
            crate::telemetry::metrics::prometheus(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let limits = server::ConnectionLimits {
            max_connections: 8,
            header_read_timeout: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(5),
            send_timeout: Duration::from_secs(5),
        };
        tokio::spawn(server::serve(
            listener,
            routes(state),
            limits,
            std::future::pending(),
            Duration::from_secs(1),
        ));

        let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
        connection
            .write_all(b"GET /users HTTP/1.1\r\nhost: roster\r\n\r\n")
            .await
            .unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            connection.read_to_end(&mut received),
        )
        .await
        .expect("the server closes the connection")
        .unwrap();

        let text = String::from_utf8(received).unwrap();
        let (head, chunked) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        let mut body = String::new();
        let mut rest = chunked;
        let mut terminated = false;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size, 16).unwrap();
            if size == 0 {
                terminated = true;
                break;
            }
            body.push_str(&after[..size]);
            rest = &after[size + 2..];
        }
        assert!(body.starts_with('['));
        assert!(!body.ends_with(']'));
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
        assert!(
            body.matches("\"email\"").count() >= 300,
            "three pages were sent"
        );
        assert!(!terminated, "a cut-off listing must not look complete");
    }
}
