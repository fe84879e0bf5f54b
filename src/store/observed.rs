//! A store wrapper that measures every operation of the store inside it: duration and
//! failures by operation, and the avatar bytes it accepted. Whatever the backend, the
//! series are the same.

use std::future::Future;
use std::time::Instant;

use async_trait::async_trait;

use super::{AvatarFile, ListPosition, Page, StoreError, UserStore};
use crate::domain::{Avatar, NewUser, User, UserEmail};

pub struct ObservedStore<S> {
    inner: S,
}

impl<S: UserStore> ObservedStore<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// Records the duration of `operation` and, when it fails, which kind of failure. A
/// conflict or a missing user is an answer, not a store failure.
async fn measured<T>(
    operation: &'static str,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = work.await;
    metrics::histogram!("roster_store_operation_duration_seconds", "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    let failure = match &result {
        Err(StoreError::Unavailable(_)) => Some("unavailable"),
        Err(StoreError::Internal(_)) => Some("internal"),
        _ => None,
    };
    if let Some(kind) = failure {
        metrics::counter!("roster_store_errors_total", "operation" => operation, "kind" => kind)
            .increment(1);
    }
    result
}

#[async_trait]
impl<S: UserStore> UserStore for ObservedStore<S> {
    async fn create(&self, user: &NewUser, avatar: &Avatar) -> Result<User, StoreError> {
        let created = measured("create", self.inner.create(user, avatar)).await?;
        metrics::counter!("roster_avatar_bytes_stored_total").increment(avatar.size());
        Ok(created)
    }

    async fn get(&self, email: &UserEmail) -> Result<Option<User>, StoreError> {
        measured("get", self.inner.get(email)).await
    }

    async fn delete(&self, email: &UserEmail) -> Result<(), StoreError> {
        measured("delete", self.inner.delete(email)).await
    }

    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        measured("list_page", self.inner.list_page(after, limit)).await
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        measured("check_ready", self.inner.check_ready()).await
    }

    async fn avatar_file(&self, file_name: &str) -> Result<Option<AvatarFile>, StoreError> {
        measured("avatar_file", self.inner.avatar_file(file_name)).await
    }
}
