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
use upload::UploadSlots;

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
    let spec_json = api.spec_endpoint();
    let spec_yaml = api.spec_endpoint_yaml();
    let avatar_limit = AvatarByteLimit(state.avatar_limits().max_bytes);
    Route::new()
        .at("/docs", poem::get(swagger_ui))
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/", api)
        .data(state)
        .data(avatar_limit)
        .data(UploadSlots::default())
        .with(CatchPanic::new())
        .with(middleware::Observe)
}

/// The Swagger UI, its script and style inlined (served from the binary, no CDN) with the
/// document. It weighs about 3 MB, so it is built on the first visit rather than at
/// start-up, and then served from that one copy.
#[poem::handler]
fn swagger_ui() -> poem::web::Html<&'static str> {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    poem::web::Html(PAGE.get_or_init(|| openapi_service().swagger_ui_html()))
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

    use poem::Server;
    use poem::listener::{Acceptor, Listener, TcpListener};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::domain::AvatarLimits;
    use crate::store::test_double::ScriptedStore;

    /// What a client receives when the store fails after the listing's body has started,
    /// read off the wire: the status was 200, the JSON array never closes, the server
    /// closes the connection, and poem 3.1 still writes the chunked body's final empty
    /// chunk, so the HTTP framing alone looks complete (the README says so).
    #[tokio::test]
    async fn a_listing_cut_off_by_the_store_never_parses_and_the_connection_closes() {
        let store = Arc::new(ScriptedStore::new(5_000, Some(3)));
        let limits = AvatarLimits {
            max_bytes: 1024,
            max_pixels: 1024,
        };
        let state = Arc::new(AppState::new(
            store,
            limits,
            100,
            crate::telemetry::metrics::prometheus(),
        ));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let address = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(routes(state)));

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
        assert!(
            terminated,
            "poem no longer writes the final chunk: update the README"
        );
    }
}
