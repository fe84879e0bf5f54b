//! The operations of the API. Handlers stay thin: parse into domain types, call the
//! store, map the outcome. Every status an operation can answer is declared here, so the
//! OpenAPI document tells the truth.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::avatar_image::AvatarImage;
use super::listing::UserList;
use super::page::UsersPage;
use super::problem::{ApiError, ErrorStatuses, Problem};
use super::representation::UserObject;
use super::state::AppState;
use super::upload::UserUpload;
use crate::domain::{Avatar, NewUser, UserEmail, UserName};
use crate::store::ListPosition;

#[derive(Tags)]
enum Tag {
    /// Create, read, list and delete users.
    Users,
    /// Liveness, readiness and metrics, for the platform.
    Operations,
}

pub struct RosterApi;

#[derive(ApiResponse)]
enum ListResponse {
    /// Users as a JSON array. Without `limit` and `cursor` it holds every user and is
    /// streamed; if the store fails after the body has started, the array is left
    /// unclosed and the connection is dropped, so a truncated listing never parses.
    #[oai(status = 200)]
    Users(
        UserList,
        /// `</users?limit=L&cursor=NEXT>; rel="next"` while more users remain.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// The user was created.
    #[oai(status = 201)]
    Created(
        Json<UserObject>,
        /// Where the new user can be read: `/user/{email}`.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
enum GetResponse {
    /// The user.
    #[oai(status = 200)]
    Found(Json<UserObject>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The user and their avatar were removed.
    #[oai(status = 204)]
    Deleted,
}

/// The body of `/healthz` and of a ready `/readyz`.
#[derive(Object)]
struct HealthStatus {
    /// Always `ok`.
    status: String,
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The process serves requests.
    #[oai(status = 200)]
    Ok(Json<HealthStatus>),
}

impl HealthResponse {
    fn ok() -> Self {
        Self::Ok(Json(HealthStatus {
            status: "ok".to_owned(),
        }))
    }
}

#[derive(ApiResponse)]
enum MetricsResponse {
    /// Prometheus text exposition format.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Ok(PlainText<String>),
}

struct ListErrors;
impl ErrorStatuses for ListErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            400,
            "`limit` is outside 1..=1000, or `cursor` is not one this service issued.",
        ),
        (
            503,
            "The store is unreachable, throttled or timing out; retry after `Retry-After` seconds.",
        ),
    ];
}

struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            400,
            "The body is not multipart/form-data, or a field is missing, unknown or given twice.",
        ),
        (
            409,
            "A user with that email (compared case-insensitively) exists already.",
        ),
        (413, "The avatar is larger than the byte limit."),
        (
            415,
            "The avatar is not a PNG, JPEG, GIF or WebP image, judged by its bytes.",
        ),
        (
            422,
            "The name or email is invalid, the avatar is empty, declares too many pixels, or cannot be read.",
        ),
        (
            503,
            "The store is unreachable, throttled or timing out; nothing was stored. Retry after `Retry-After` seconds.",
        ),
    ];
}

struct LookupErrors;
impl ErrorStatuses for LookupErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (404, "No user has that email."),
        (
            503,
            "The store is unreachable, throttled or timing out; retry after `Retry-After` seconds.",
        ),
    ];
}

struct ReadinessErrors;
impl ErrorStatuses for ReadinessErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[(
        503,
        "The store does not answer, or the service is shutting down.",
    )];
}

struct AvatarErrors;
impl ErrorStatuses for AvatarErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            404,
            "No such avatar, or the backend serves avatars from elsewhere (aws).",
        ),
        (
            503,
            "The store is unavailable; retry after `Retry-After` seconds.",
        ),
    ];
}

#[OpenApi]
impl RosterApi {
    /// List users
    ///
    /// Every user, or with `limit` one page of at most `limit` users and a `Link`
    /// header to the next page while more remain.
    #[oai(
        path = "/users",
        method = "get",
        operation_id = "listUsers",
        tag = "Tag::Users"
    )]
    async fn list_users(
        &self,
        state: Data<&Arc<AppState>>,
        /// Page size, 1 to 1000. Without it (and without `cursor`) every user is returned.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
        /// Opaque position from a previous page's `Link` header.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Result<ListResponse, Problem<ListErrors>> {
        if limit.0.is_none() && cursor.0.is_none() {
            let listing = UserList::stream_all(state.store(), state.list_page_size())
                .await
                .map_err(ApiError::from)?;
            return Ok(ListResponse::Users(listing, None));
        }
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_LIMIT);
        let after = cursor.0.as_deref().map(decode_cursor).transpose()?;
        let page = state
            .store()
            .list_page(after.as_ref(), limit as usize)
            .await
            .map_err(ApiError::from)?;
        let link = page.next.map(|position| {
            format!(
                "</users?limit={limit}&cursor={}>; rel=\"next\"",
                encode_cursor(&position)
            )
        });
        Ok(ListResponse::Users(UserList::page(page.users), link))
    }

    /// Create a user
    ///
    /// A multipart form with `name`, `email` and an `avatar` image. The avatar is
    /// judged by its bytes, never by the file name or part content type, and stored
    /// without its metadata (EXIF, XMP, IPTC, comments, text chunks), losslessly:
    /// pixels, ICC profile and orientation are kept.
    #[oai(
        path = "/user",
        method = "post",
        operation_id = "createUser",
        tag = "Tag::Users"
    )]
    async fn create_user(
        &self,
        state: Data<&Arc<AppState>>,
        upload: UserUpload,
    ) -> Result<CreateResponse, Problem<CreateErrors>> {
        let name = UserName::parse(&upload.name).map_err(ApiError::from)?;
        let email = UserEmail::parse(&upload.email).map_err(ApiError::from)?;
        let limits = state.avatar_limits();
        let avatar = tokio::task::spawn_blocking(move || Avatar::parse(upload.avatar, limits))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(ApiError::from)?;
        let user = state
            .store()
            .create(&NewUser { name, email }, &avatar)
            .await
            .map_err(ApiError::from)?;
        let location = format!("/user/{}", super::encode_path_segment(&user.email));
        Ok(CreateResponse::Created(Json(user.into()), location))
    }

    /// Get a user
    #[oai(
        path = "/user/:email",
        method = "get",
        operation_id = "getUser",
        tag = "Tag::Users"
    )]
    async fn get_user(
        &self,
        state: Data<&Arc<AppState>>,
        /// The user's email, percent-encoded; compared case-insensitively.
        email: Path<String>,
    ) -> Result<GetResponse, Problem<LookupErrors>> {
        let email = lookup_email(&email.0)?;
        match state.store().get(&email).await.map_err(ApiError::from)? {
            Some(user) => Ok(GetResponse::Found(Json(user.into()))),
            None => Err(no_such_user().into()),
        }
    }

    /// Delete a user
    ///
    /// Removes the user and their avatar image.
    #[oai(
        path = "/user/:email",
        method = "delete",
        operation_id = "deleteUser",
        tag = "Tag::Users"
    )]
    async fn delete_user(
        &self,
        state: Data<&Arc<AppState>>,
        /// The user's email, percent-encoded; compared case-insensitively.
        email: Path<String>,
    ) -> Result<DeleteResponse, Problem<LookupErrors>> {
        let email = lookup_email(&email.0)?;
        state.store().delete(&email).await.map_err(ApiError::from)?;
        Ok(DeleteResponse::Deleted)
    }

    /// Get an avatar image
    ///
    /// Served by the embedded backend only; the aws backend's `avatar_url` points at
    /// S3 or a CDN instead.
    #[oai(
        path = "/avatars/:key",
        method = "get",
        operation_id = "getAvatar",
        tag = "Tag::Users"
    )]
    async fn get_avatar(
        &self,
        state: Data<&Arc<AppState>>,
        /// The avatar's file name, as it ends `avatar_url`.
        key: Path<String>,
    ) -> Result<AvatarImage, Problem<AvatarErrors>> {
        match state
            .store()
            .avatar_file(&key.0)
            .await
            .map_err(ApiError::from)?
        {
            Some(file) => Ok(AvatarImage::open(file).await.map_err(|error| {
                tracing::error!(%error, "could not open avatar file");
                ApiError::internal()
            })?),
            None => Err(ApiError::not_found("no avatar with that key").into()),
        }
    }

    /// The users page, for people; not part of the API.
    #[oai(path = "/", method = "get", hidden)]
    async fn users_page(&self) -> UsersPage {
        UsersPage::render()
    }

    /// Liveness
    #[oai(
        path = "/healthz",
        method = "get",
        operation_id = "healthz",
        tag = "Tag::Operations"
    )]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::ok()
    }

    /// Readiness
    ///
    /// 200 while the store answers; 503 when it does not, and from the moment shutdown
    /// starts. Checks are cached briefly so probes cannot overload the backend.
    #[oai(
        path = "/readyz",
        method = "get",
        operation_id = "readyz",
        tag = "Tag::Operations"
    )]
    async fn readyz(
        &self,
        state: Data<&Arc<AppState>>,
    ) -> Result<HealthResponse, Problem<ReadinessErrors>> {
        state.readiness().check().await.map_err(ApiError::from)?;
        Ok(HealthResponse::ok())
    }

    /// Metrics
    #[oai(
        path = "/metrics",
        method = "get",
        operation_id = "metrics",
        tag = "Tag::Operations"
    )]
    async fn metrics(&self, state: Data<&Arc<AppState>>) -> MetricsResponse {
        MetricsResponse::Ok(PlainText(state.render_metrics()))
    }
}

/// Page size when a `cursor` comes without a `limit`.
const DEFAULT_PAGE_LIMIT: u32 = 100;

fn encode_cursor(position: &ListPosition) -> String {
    URL_SAFE_NO_PAD.encode(position.0.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<ListPosition, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(ListPosition)
        .ok_or_else(|| ApiError::bad_request("`cursor` is not a cursor this service issued"))
}

/// A path email that cannot be parsed cannot belong to any stored user.
fn lookup_email(raw: &str) -> Result<UserEmail, ApiError> {
    UserEmail::parse(raw).map_err(|_| no_such_user())
}

fn no_such_user() -> ApiError {
    ApiError::not_found("no user has that email")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_url_safe() {
        let position = ListPosition("a+b/c@example.com".to_owned());
        let cursor = encode_cursor(&position);
        assert!(
            cursor
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_".contains(&byte))
        );
        assert_eq!(decode_cursor(&cursor).unwrap(), position);
    }

    #[test]
    fn a_foreign_cursor_is_a_bad_request() {
        for cursor in ["%%%", "////", "_w"] {
            let error = decode_cursor(cursor).unwrap_err();
            assert_eq!(
                error.status(),
                poem::http::StatusCode::BAD_REQUEST,
                "{cursor}"
            );
        }
    }
}
