//! The `GET /users` body: a JSON array written page by page as the store yields them, so a
//! listing holds one page in memory whatever the size of the table, and the next page is
//! read only when the connection has taken the previous one.

use std::collections::HashMap;
use std::io;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use tracing::Instrument;

use super::representation::UserObject;
use crate::domain::User;
use crate::service::UserService;
use crate::store::{ListPosition, StoreError};

const JSON: &str = "application/json; charset=utf-8";

/// A JSON array of users, either one page already read or the whole table streamed.
pub struct UserList {
    body: Body,
}

/// One page of the listing, rendered as the JSON array it is sent as.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    pub body: Bytes,
    pub next: Option<ListPosition>,
}

/// Pages of the listing already rendered, reused for as long as the users table keeps the
/// version they were read at: a table only this process writes (the embedded one) says
/// when it changed, so a directory read far more often than written is served like a
/// static file. Tables others write too (DynamoDB) have no version and are read each time.
#[derive(Default)]
pub struct PageCache {
    pages: std::sync::Mutex<CachedPages>,
}

/// Pages by where they start (`after`) and their size, with the version they were read at.
type CachedPages = HashMap<(Option<String>, usize), (u64, RenderedPage)>;

/// Pages kept at most; past it the cache starts over, so cursors cannot grow it.
const CACHED_PAGES: usize = 64;

impl PageCache {
    /// The page of at most `limit` users after `after`, from the cache when the table has
    /// not changed since it was rendered.
    pub async fn page(
        &self,
        service: &UserService,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<RenderedPage, StoreError> {
        // Read before the page, so the page is at least as new as the version it is kept at.
        let version = service.users_version();
        let key = (after.map(|position| position.0.clone()), limit);
        if let Some(version) = version
            && let Some((cached_at, page)) = self.lock().get(&key)
            && *cached_at == version
        {
            return Ok(page.clone());
        }
        let page = service.list_page(after, limit).await?;
        let rendered = RenderedPage {
            body: Bytes::from(render(&page.users)),
            next: page.next,
        };
        if let Some(version) = version {
            let mut pages = self.lock();
            if pages.len() >= CACHED_PAGES {
                pages.clear();
            }
            pages.insert(key, (version, rendered.clone()));
        }
        Ok(rendered)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CachedPages> {
        // A panic while holding the lock leaves a map of whole entries: still usable.
        self.pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Users as a JSON array.
fn render(users: &[User]) -> Vec<u8> {
    let mut body = Vec::with_capacity(rendered_len(users) + 2);
    body.push(b'[');
    for (index, user) in users.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        write_user(&mut body, user);
    }
    body.push(b']');
    body
}

impl UserList {
    /// One page, already rendered.
    pub fn page(page: RenderedPage) -> Self {
        Self {
            body: Body::from_bytes(page.body),
        }
    }

    /// Every user. The first page is read before this returns, so a store that is down
    /// still gets a proper error status; later pages are read as the client consumes the
    /// body. A failure after the first byte ends the body without the closing `]` and
    /// with an error that makes the server drop the connection: the client never sees a
    /// complete array.
    pub async fn stream_all(
        service: UserService,
        cache: &PageCache,
        page_size: usize,
    ) -> Result<Self, StoreError> {
        let first = cache.page(&service, None, page_size).await?;
        let Some(after) = first.next else {
            // Everything fits in one page: send it whole, with a Content-Length, in one
            // write, instead of a chunked body that needs another for its end.
            return Ok(Self::page(first));
        };
        // The first page without its closing `]`: the array goes on.
        let opening = first.body.slice(..first.body.len().saturating_sub(1));
        let span = tracing::Span::current();
        let chunks = listing_chunks(service, page_size, opening, after, span);
        Ok(Self {
            body: Body::from_bytes_stream(chunks),
        })
    }
}

/// Where a streamed listing stands between chunks.
struct Progress {
    opening: Option<Bytes>,
    after: Option<ListPosition>,
    any_element: bool,
    finished: bool,
}

/// The chunks of a listing of more than one page: `opening` (the first page, its array not
/// closed), then every page after `after`.
fn listing_chunks(
    service: UserService,
    page_size: usize,
    opening: Bytes,
    after: ListPosition,
    span: tracing::Span,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let start = Progress {
        any_element: opening.len() > 1,
        opening: Some(opening),
        after: Some(after),
        finished: false,
    };
    stream::unfold(start, move |mut progress| {
        let service = service.clone();
        async move {
            if progress.finished {
                return None;
            }
            if let Some(opening) = progress.opening.take() {
                return Some((Ok(opening), progress));
            }
            let mut chunk = Vec::new();
            let page = match service.list_page(progress.after.as_ref(), page_size).await {
                Ok(page) => page,
                Err(error) => {
                    metrics::counter!("roster_listing_aborted_total").increment(1);
                    tracing::error!(
                        error = %crate::telemetry::ErrorChain(&error),
                        "listing failed after its body started; dropping the connection"
                    );
                    progress.finished = true;
                    let abort = io::Error::other("listing aborted: the store failed");
                    return Some((Err(abort), progress));
                }
            };
            chunk.reserve(rendered_len(&page.users) + 1);
            let last_position = page.next;
            let any_user = !page.users.is_empty();
            for user in &page.users {
                if progress.any_element {
                    chunk.push(b',');
                }
                progress.any_element = true;
                write_user(&mut chunk, user);
            }
            match last_position {
                Some(position) if any_user => progress.after = Some(position),
                _ => {
                    chunk.push(b']');
                    progress.finished = true;
                }
            }
            Some((Ok(Bytes::from(chunk)), progress))
        }
        .instrument(span.clone())
    })
}

/// What `write_user` writes for `users`, with their commas, when nothing needs escaping:
/// the buffer is sized once (a page of 100 users on the aws backend, with its long avatar
/// URLs, outgrew the guess of 160 bytes a user).
fn rendered_len(users: &[User]) -> usize {
    const FRAME: usize = r#"{"name":"","email":"","avatar_url":""},"#.len();
    users
        .iter()
        .map(|user| FRAME + user.name.len() + user.email.len() + user.avatar_url.len())
        .sum()
}

/// Writes one user as the same JSON object the API's `UserObject` represents. This is the
/// listing's hot loop: strings that need no escaping (nearly all of them) are copied as
/// they are, the rest go through serde_json.
fn write_user(out: &mut Vec<u8>, user: &User) {
    out.extend_from_slice(br#"{"name":"#);
    write_json_string(out, &user.name);
    out.extend_from_slice(br#","email":"#);
    write_json_string(out, &user.email);
    out.extend_from_slice(br#","avatar_url":"#);
    write_json_string(out, &user.avatar_url);
    out.push(b'}');
}

fn write_json_string(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text.as_bytes()) {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether JSON needs any byte of `bytes` escaped: a control character, `"` or `\\`.
/// Eight bytes at a time (the listing spends its time here): a byte below 0x20, or
/// equal to one of the two, shows as a high bit in the classic has-less/has-zero tests.
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_byte_below =
        |word: u64, bound: u64| word.wrapping_sub(ONES * bound) & !word & HIGHS != 0;
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for chunk in words.by_ref() {
        let mut word_bytes = [0u8; 8];
        word_bytes.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word_bytes);
        if has_byte_below(word, 0x20)
            || has_zero_byte(word ^ (ONES * u64::from(b'"')))
            || has_zero_byte(word ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

impl Payload for UserList {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        <Vec<UserObject> as Type>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <Vec<UserObject> as Type>::register(registry);
    }
}

impl IntoResponse for UserList {
    fn into_response(self) -> Response {
        Response::builder().content_type(JSON).body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use poem_openapi::types::ToJSON;

    use super::*;
    use std::sync::Arc;

    use crate::service::{test_service, test_service_on};
    use crate::store::test_double::ScriptedUsers;

    async fn collect(users: ScriptedUsers, page_size: usize) -> (Vec<u8>, Option<io::Error>) {
        let service = test_service(users);
        let listing = UserList::stream_all(service, &PageCache::default(), page_size)
            .await
            .unwrap();
        let mut chunks = listing.body.into_bytes_stream();
        let mut body = Vec::new();
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => body.extend_from_slice(&bytes),
                Err(error) => return (body, Some(error)),
            }
        }
        (body, None)
    }

    #[tokio::test]
    async fn a_page_is_read_once_per_version_of_a_table_that_has_one() {
        let users = Arc::new(ScriptedUsers::new(10, None).versioned());
        let service = test_service_on(Arc::clone(&users));
        let cache = PageCache::default();
        let first = cache.page(&service, None, 5).await.unwrap();
        let again = cache.page(&service, None, 5).await.unwrap();
        assert_eq!(first.body, again.body);
        assert_eq!(
            users.pages_served(),
            1,
            "the second page came from the cache"
        );
        users
            .version
            .as_ref()
            .unwrap()
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        cache.page(&service, None, 5).await.unwrap();
        assert_eq!(
            users.pages_served(),
            2,
            "a new version reads the table again"
        );
        cache.page(&service, None, 3).await.unwrap();
        assert_eq!(users.pages_served(), 3, "another page size is another page");
    }

    #[tokio::test]
    async fn a_table_without_a_version_is_read_every_time() {
        let users = Arc::new(ScriptedUsers::new(10, None));
        let service = test_service_on(Arc::clone(&users));
        let cache = PageCache::default();
        cache.page(&service, None, 5).await.unwrap();
        cache.page(&service, None, 5).await.unwrap();
        assert_eq!(users.pages_served(), 2);
    }

    #[tokio::test]
    async fn a_listing_over_many_pages_is_one_array_with_every_user_once() {
        let (body, error) = collect(ScriptedUsers::new(23, None), 5).await;
        assert!(error.is_none());
        let users: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
        assert_eq!(users.len(), 23);
        let mut emails: Vec<&str> = users
            .iter()
            .map(|user| user["email"].as_str().unwrap())
            .collect();
        emails.dedup();
        assert_eq!(emails.len(), 23);
    }

    #[test]
    fn users_are_written_as_the_api_represents_them_with_serde_escaping() {
        for name in [
            "Plain Name",
            "Zoë \"Quoted\" \\ Back",
            "Tab\tand\u{1}control",
            "<b>é</b>",
        ] {
            let user = User {
                name: name.to_owned(),
                email: "\"odd\"@example.com".to_owned(),
                avatar_url: "/avatars/0123.png".to_owned(),
            };
            for text in [&user.name, &user.email, &user.avatar_url] {
                let mut fast = Vec::new();
                write_json_string(&mut fast, text);
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    serde_json::to_string(text).unwrap()
                );
            }
            let mut fast = Vec::new();
            write_user(&mut fast, &user);
            let written: serde_json::Value = serde_json::from_slice(&fast).unwrap();
            assert_eq!(Some(written), UserObject::from(user).to_json());
        }
    }

    #[test]
    fn a_page_is_rendered_into_a_buffer_sized_once() {
        let users: Vec<User> = (0..100)
            .map(|index| User {
                name: format!("User {index}"),
                email: format!("user{index}@example.com"),
                avatar_url: format!("http://127.0.0.1:4566/bench-avatars/avatars/{index:032x}.png"),
            })
            .collect();
        let body = render(&users);
        assert_eq!(
            body.len(),
            rendered_len(&users) + 1,
            "brackets, less one comma"
        );
        let sized_once = Vec::<u8>::with_capacity(rendered_len(&users) + 2).capacity();
        assert_eq!(body.capacity(), sized_once, "never grown");
        assert_eq!(render(&[]), b"[]");
    }

    #[test]
    fn finds_every_byte_that_json_escapes_at_every_position() {
        for length in 1..20 {
            for position in 0..length {
                for byte in 0u8..=255 {
                    let mut bytes = vec![b'a'; length];
                    bytes[position] = byte;
                    let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
                    assert_eq!(needs_escaping(&bytes), expected, "{bytes:?}");
                }
            }
        }
        assert!(!needs_escaping("Zoë Ōtsuka ñ 日本".as_bytes()));
    }

    #[tokio::test]
    async fn an_empty_store_is_an_empty_array() {
        let (body, error) = collect(ScriptedUsers::new(0, None), 5).await;
        assert!(error.is_none());
        assert_eq!(body, b"[]");
    }

    #[tokio::test]
    async fn an_exact_multiple_of_the_page_size_closes_the_array() {
        let (body, error) = collect(ScriptedUsers::new(10, None), 5).await;
        assert!(error.is_none());
        assert_eq!(
            serde_json::from_slice::<Vec<serde_json::Value>>(&body)
                .unwrap()
                .len(),
            10
        );
    }

    #[tokio::test]
    async fn a_store_failure_after_the_first_page_never_looks_like_a_complete_array() {
        let (body, error) = collect(ScriptedUsers::new(23, Some(2)), 5).await;
        assert!(error.is_some(), "the stream must end in an error");
        assert!(!body.is_empty());
        assert!(serde_json::from_slice::<Vec<serde_json::Value>>(&body).is_err());
        assert!(!body.ends_with(b"]"));
    }

    #[tokio::test]
    async fn a_store_failure_before_the_first_page_is_an_error_before_any_body() {
        let service = test_service(ScriptedUsers::new(23, Some(0)));
        let result = UserList::stream_all(service, &PageCache::default(), 5).await;
        assert!(
            result.is_err_and(|error| error.kind() == crate::store::StoreErrorKind::Unavailable)
        );
    }
}
