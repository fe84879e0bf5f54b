//! The `GET /users` body: a JSON array written page by page as the store yields them, so a
//! listing holds one page in memory whatever the size of the table, and the next page is
//! read only when the connection has taken the previous one.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use poem::{Body, IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use tracing::Instrument;

use super::representation::UserObject;
use crate::domain::User;
use crate::store::{ListPosition, Page, StoreError, UserStore};

const JSON: &str = "application/json; charset=utf-8";

/// A JSON array of users, either one page already read or the whole table streamed.
pub struct UserList {
    body: Body,
}

impl UserList {
    /// One page, serialized at once.
    pub fn page(users: Vec<User>) -> Self {
        let objects: Vec<UserObject> = users.into_iter().map(UserObject::from).collect();
        let body = serde_json::to_vec(&objects).unwrap_or_else(|_| b"[]".to_vec());
        Self {
            body: Body::from_vec(body),
        }
    }

    /// Every user. The first page is read before this returns, so a store that is down
    /// still gets a proper error status; later pages are read as the client consumes the
    /// body. A failure after the first byte ends the body without the closing `]` and
    /// with an error that makes the server drop the connection: the client never sees a
    /// complete array.
    pub async fn stream_all(
        store: Arc<dyn UserStore>,
        page_size: usize,
    ) -> Result<Self, StoreError> {
        let first = store.list_page(None, page_size).await?;
        let span = tracing::Span::current();
        let chunks = listing_chunks(store, page_size, first, span);
        Ok(Self {
            body: Body::from_bytes_stream(chunks),
        })
    }
}

/// Where a streamed listing stands between chunks.
struct Progress {
    first: Option<Page>,
    after: Option<ListPosition>,
    any_element: bool,
    finished: bool,
}

fn listing_chunks(
    store: Arc<dyn UserStore>,
    page_size: usize,
    first: Page,
    span: tracing::Span,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let start = Progress {
        first: Some(first),
        after: None,
        any_element: false,
        finished: false,
    };
    stream::unfold(start, move |mut progress| {
        let store = Arc::clone(&store);
        async move {
            if progress.finished {
                return None;
            }
            let mut chunk = Vec::new();
            let page = match progress.first.take() {
                Some(first) => {
                    chunk.push(b'[');
                    first
                }
                None => match store.list_page(progress.after.as_ref(), page_size).await {
                    Ok(page) => page,
                    Err(error) => {
                        metrics::counter!("roster_listing_aborted_total").increment(1);
                        tracing::error!(%error, "listing failed after its body started; dropping the connection");
                        progress.finished = true;
                        let abort = io::Error::other("listing aborted: the store failed");
                        return Some((Err(abort), progress));
                    }
                },
            };
            chunk.reserve(page.users.len() * 160 + 1);
            for user in page.users.iter().cloned() {
                if progress.any_element {
                    chunk.push(b',');
                }
                progress.any_element = true;
                // A struct of three strings always serializes.
                let _ = serde_json::to_writer(&mut chunk, &UserObject::from(user));
            }
            match page.next {
                Some(position) if !page.users.is_empty() => progress.after = Some(position),
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

impl Payload for UserList {
    const CONTENT_TYPE: &'static str = "application/json";

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

    use super::*;
    use crate::store::test_double::ScriptedStore;

    async fn collect(store: ScriptedStore, page_size: usize) -> (Vec<u8>, Option<io::Error>) {
        let store: Arc<dyn UserStore> = Arc::new(store);
        let first = store.list_page(None, page_size).await.unwrap();
        let mut chunks = Box::pin(listing_chunks(
            store,
            page_size,
            first,
            tracing::Span::none(),
        ));
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
    async fn a_listing_over_many_pages_is_one_array_with_every_user_once() {
        let (body, error) = collect(ScriptedStore::new(23, None), 5).await;
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

    #[tokio::test]
    async fn an_empty_store_is_an_empty_array() {
        let (body, error) = collect(ScriptedStore::new(0, None), 5).await;
        assert!(error.is_none());
        assert_eq!(body, b"[]");
    }

    #[tokio::test]
    async fn an_exact_multiple_of_the_page_size_closes_the_array() {
        let (body, error) = collect(ScriptedStore::new(10, None), 5).await;
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
        let (body, error) = collect(ScriptedStore::new(23, Some(2)), 5).await;
        assert!(error.is_some(), "the stream must end in an error");
        assert!(!body.is_empty());
        assert!(serde_json::from_slice::<Vec<serde_json::Value>>(&body).is_err());
        assert!(!body.ends_with(b"]"));
    }

    #[tokio::test]
    async fn a_store_failure_before_the_first_page_is_an_error_before_any_body() {
        let store: Arc<dyn UserStore> = Arc::new(ScriptedStore::new(23, Some(0)));
        let result = UserList::stream_all(store, 5).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
    }
}
