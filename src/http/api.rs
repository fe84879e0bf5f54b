//! The operations of the API. Handlers stay thin: read the request into domain types, call
//! the service, and answer; every status an operation can answer comes from its failure
//! type (see `problem.rs` and `errors.rs`), so the OpenAPI document tells the truth.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::avatar_image::AvatarImage;
use super::listing::UserList;
use super::page::UsersPage;
use super::problem::{Answer, FromRequestError, RequestError, UnexpectedRequestError};
use super::representation::UserObject;
use super::state::AppState;
use super::upload::{UploadError, UserUpload};
use crate::domain::{EmailError, NameError, NewUser, UserEmail, UserName};
use crate::operation_failure;
use crate::service::{CreateError, DeleteError, NotReady, ReadinessScope};
use crate::store::{ListPosition, StoreError};

#[derive(Tags)]
enum Tag {
    /// Create, read, list and delete users.
    Users,
    /// Liveness, readiness and metrics, for the platform.
    Operations,
}

/// The API, holding everything its handlers need.
pub struct RosterApi {
    state: Arc<AppState>,
}

impl RosterApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

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

/// No user has that email (or the path cannot name one).
#[derive(Debug, thiserror::Error)]
#[error("no user has that email")]
pub struct UserNotFound;

impl FromRequestError for UserNotFound {
    /// A path that cannot even be decoded names no user.
    fn from_request_error(_: poem::Error) -> Self {
        Self
    }
}

/// No avatar has that key (or the backend serves none).
#[derive(Debug, thiserror::Error)]
#[error("no avatar with that key")]
pub struct AvatarNotFound;

impl FromRequestError for AvatarNotFound {
    fn from_request_error(_: poem::Error) -> Self {
        Self
    }
}

/// A `cursor` this service never issued.
#[derive(Debug, thiserror::Error)]
#[error("`cursor` is not a cursor this service issued")]
pub struct CursorError;

operation_failure!(
    /// How `GET /users` fails.
    pub enum ListFailure {
        Request(RequestError),
        Cursor(CursorError),
        Store(StoreError),
    }
    request: Request
);

operation_failure!(
    /// How `POST /user` fails.
    pub enum CreateFailure {
        Request(RequestError),
        Upload(UploadError),
        Name(NameError),
        Email(EmailError),
        Create(CreateError),
    }
    request: Request
);

operation_failure!(
    /// How `GET /user/{email}` fails.
    pub enum GetFailure {
        NotFound(UserNotFound),
        Store(StoreError),
    }
    request: NotFound
);

operation_failure!(
    /// How `DELETE /user/{email}` fails.
    pub enum DeleteFailure {
        NotFound(UserNotFound),
        Delete(DeleteError),
    }
    request: NotFound
);

operation_failure!(
    /// How `GET /avatars/{key}` fails.
    pub enum AvatarFailure {
        NotFound(AvatarNotFound),
        Store(StoreError),
        Read(std::io::Error),
    }
    request: NotFound
);

operation_failure!(
    /// How `GET /readyz` fails.
    pub enum ReadinessFailure {
        NotReady(NotReady),
        Unexpected(UnexpectedRequestError),
    }
    request: Unexpected
);

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
        /// Page size, 1 to 1000. Without it (and without `cursor`) every user is returned.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
        /// Opaque position from a previous page's `Link` header.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
    ) -> Answer<ListResponse, ListFailure> {
        Answer::from(self.list(limit.0, cursor.0).await)
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
    async fn create_user(&self, upload: UserUpload) -> Answer<CreateResponse, CreateFailure> {
        Answer::from(self.create(upload).await)
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
        /// The user's email, percent-encoded; compared case-insensitively.
        email: Path<String>,
    ) -> Answer<GetResponse, GetFailure> {
        Answer::from(self.get(&email.0).await)
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
        /// The user's email, percent-encoded; compared case-insensitively.
        email: Path<String>,
    ) -> Answer<DeleteResponse, DeleteFailure> {
        Answer::from(self.delete(&email.0).await)
    }

    /// An avatar image, served by the embedded backend; not part of the API document.
    ///
    /// `avatar_url` is a link clients follow as it is: on the aws backend it points at S3
    /// or a CDN, outside this API, and on the embedded backend at this static route. The
    /// document leaves both out alike, which also keeps its one binary response from being
    /// an operation client generators cannot type (an image of four media types).
    #[oai(path = "/avatars/:key", method = "get", hidden)]
    async fn get_avatar(
        &self,
        /// The avatar's file name, as it ends `avatar_url`.
        key: Path<String>,
    ) -> Answer<AvatarImage, AvatarFailure> {
        Answer::from(self.avatar(&key.0).await)
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
    /// 200 while the users table and the avatar store answer; 503 when one does not,
    /// and from the moment shutdown starts. Checks are cached briefly so probes cannot
    /// overload the backend.
    #[oai(
        path = "/readyz",
        method = "get",
        operation_id = "readyz",
        tag = "Tag::Operations"
    )]
    async fn readyz(&self) -> Answer<HealthResponse, ReadinessFailure> {
        Answer::from(self.ready(ReadinessScope::Everything).await)
    }

    /// Readiness to serve reads
    ///
    /// 200 while the users table answers, whatever the avatar store does; 503 when it
    /// does not, and from the moment shutdown starts. With only the avatar store down,
    /// reads are still served and creates answer 503 themselves, so this is the check a
    /// traffic probe (a kubelet, a load balancer) should use.
    #[oai(
        path = "/readyz/users",
        method = "get",
        operation_id = "readyzUsers",
        tag = "Tag::Operations"
    )]
    async fn readyz_users(&self) -> Answer<HealthResponse, ReadinessFailure> {
        Answer::from(self.ready(ReadinessScope::Users).await)
    }

    /// Metrics
    #[oai(
        path = "/metrics",
        method = "get",
        operation_id = "metrics",
        tag = "Tag::Operations"
    )]
    async fn metrics(&self) -> MetricsResponse {
        MetricsResponse::Ok(PlainText(self.state.render_metrics()))
    }
}

impl RosterApi {
    async fn list(
        &self,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<ListResponse, ListFailure> {
        let service = self.state.service();
        let pages = self.state.pages();
        if limit.is_none() && cursor.is_none() {
            let listing =
                UserList::stream_all(service.clone(), pages, self.state.list_page_size()).await?;
            return Ok(ListResponse::Users(listing, None));
        }
        let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        let after = cursor.as_deref().map(decode_cursor).transpose()?;
        let page = pages.page(service, after.as_ref(), limit as usize).await?;
        let link = page.next.as_ref().map(|position| {
            format!(
                "</users?limit={limit}&cursor={}>; rel=\"next\"",
                encode_cursor(position)
            )
        });
        Ok(ListResponse::Users(UserList::page(page), link))
    }

    async fn create(&self, upload: UserUpload) -> Result<CreateResponse, CreateFailure> {
        let form = self.state.uploads().read(upload).await?;
        let name = UserName::parse(&form.name)?;
        let email = UserEmail::parse(&form.email)?;
        let user = self
            .state
            .service()
            .create(NewUser { name, email }, form.avatar)
            .await?;
        let location = format!("/user/{}", super::encode_path_segment(&user.email));
        Ok(CreateResponse::Created(Json(user.into()), location))
    }

    async fn get(&self, raw_email: &str) -> Result<GetResponse, GetFailure> {
        let email = lookup_email(raw_email)?;
        match self.state.service().get(&email).await? {
            Some(user) => Ok(GetResponse::Found(Json(user.into()))),
            None => Err(UserNotFound.into()),
        }
    }

    async fn delete(&self, raw_email: &str) -> Result<DeleteResponse, DeleteFailure> {
        let email = lookup_email(raw_email)?;
        if self.state.service().delete(&email).await? {
            Ok(DeleteResponse::Deleted)
        } else {
            Err(UserNotFound.into())
        }
    }

    async fn avatar(&self, file_name: &str) -> Result<AvatarImage, AvatarFailure> {
        let file = self
            .state
            .service()
            .avatar_file(file_name)
            .await?
            .ok_or(AvatarNotFound)?;
        Ok(AvatarImage::open(file, self.state.avatar_cache_control()).await?)
    }

    async fn ready(&self, scope: ReadinessScope) -> Result<HealthResponse, ReadinessFailure> {
        self.state.service().readiness(scope).await?;
        Ok(HealthResponse::ok())
    }
}

/// Page size when a `cursor` comes without a `limit`.
const DEFAULT_PAGE_LIMIT: u32 = 100;

fn encode_cursor(position: &ListPosition) -> String {
    URL_SAFE_NO_PAD.encode(position.0.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<ListPosition, CursorError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(ListPosition)
        .ok_or(CursorError)
}

/// A path email that cannot be parsed cannot belong to any stored user.
fn lookup_email(raw: &str) -> Result<UserEmail, UserNotFound> {
    UserEmail::parse(raw).map_err(|_| UserNotFound)
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
    fn a_foreign_cursor_is_refused() {
        for cursor in ["%%%", "////", "_w"] {
            assert!(decode_cursor(cursor).is_err(), "{cursor}");
        }
    }
}
