//! Scripted stores for unit tests of the layers above the backends.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::{AvatarStore, Insertion, ListPosition, ObjectPage, Page, StoreError, UserTable};
use crate::domain::{Avatar, AvatarKey, ImageFormat, UserEmail, UserRecord};

#[derive(Debug, thiserror::Error)]
#[error("scripted outage")]
struct ScriptedOutage;

/// A read-only table of `users` users, listed in pages, failing with `Unavailable` on page
/// number `failing_page` (0-based) if set; counts readiness checks.
pub struct ScriptedUsers {
    users: usize,
    failing_page: Option<usize>,
    ready: bool,
    pages_served: AtomicUsize,
    readiness_checks: AtomicUsize,
    /// Present for a table that says when it changed.
    pub version: Option<AtomicU64>,
}

impl ScriptedUsers {
    pub fn new(users: usize, failing_page: Option<usize>) -> Self {
        Self {
            users,
            failing_page,
            ready: true,
            pages_served: AtomicUsize::new(0),
            readiness_checks: AtomicUsize::new(0),
            version: None,
        }
    }

    /// The same table, saying when it changed, at version 0.
    pub fn versioned(self) -> Self {
        Self {
            version: Some(AtomicU64::new(0)),
            ..self
        }
    }

    pub fn pages_served(&self) -> usize {
        self.pages_served.load(Ordering::SeqCst)
    }

    /// The same table, answering readiness checks with an outage.
    pub fn unready(self) -> Self {
        Self {
            ready: false,
            ..self
        }
    }

    pub fn readiness_checks(&self) -> usize {
        self.readiness_checks.load(Ordering::SeqCst)
    }

    fn user(index: usize) -> UserRecord {
        let key = format!("{index:032x}.png");
        UserRecord {
            name: format!("User {index}"),
            email: format!("user{index:06}@example.com"),
            avatar: AvatarKey::from_file_name(&key)
                .unwrap_or_else(|| AvatarKey::new(ImageFormat::Png)),
        }
    }
}

#[async_trait]
impl UserTable for ScriptedUsers {
    async fn insert_if_absent(&self, _user: &UserRecord) -> Result<Insertion, StoreError> {
        Err(StoreError::internal("scripted.insert", ScriptedOutage))
    }

    async fn get(&self, _email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        Ok(None)
    }

    async fn remove(&self, _email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        Ok(None)
    }

    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let page_number = self.pages_served.fetch_add(1, Ordering::SeqCst);
        if self.failing_page == Some(page_number) {
            // A store fails after a while (a timeout, a reset), not at once.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Err(StoreError::unavailable(
                "scripted.list_page",
                ScriptedOutage,
            ));
        }
        let start = match after {
            None => 0,
            Some(position) => (0..self.users)
                .position(|index| Self::user(index).email == position.0)
                .map_or(self.users, |index| index + 1),
        };
        let end = (start + limit).min(self.users);
        let users: Vec<UserRecord> = (start..end).map(Self::user).collect();
        let next = (end < self.users)
            .then(|| users.last().map(|user| ListPosition(user.email.clone())))
            .flatten();
        Ok(Page { users, next })
    }

    fn version(&self) -> Option<u64> {
        self.version
            .as_ref()
            .map(|version| version.load(Ordering::SeqCst))
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.readiness_checks.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        if self.ready {
            Ok(())
        } else {
            Err(StoreError::unavailable(
                "scripted.check_ready",
                ScriptedOutage,
            ))
        }
    }
}

/// An avatar store holding nothing, answering readiness as scripted.
pub struct ScriptedAvatars {
    ready: bool,
    readiness_checks: AtomicUsize,
}

impl Default for ScriptedAvatars {
    fn default() -> Self {
        Self {
            ready: true,
            readiness_checks: AtomicUsize::new(0),
        }
    }
}

impl ScriptedAvatars {
    pub fn unready(self) -> Self {
        Self {
            ready: false,
            ..self
        }
    }

    pub fn readiness_checks(&self) -> usize {
        self.readiness_checks.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl AvatarStore for ScriptedAvatars {
    async fn put(&self, _key: &AvatarKey, _avatar: &Avatar) -> Result<(), StoreError> {
        Err(StoreError::internal("scripted.put", ScriptedOutage))
    }

    async fn delete(&self, _key: &AvatarKey) -> Result<(), StoreError> {
        Ok(())
    }

    async fn list(&self, _continuation: Option<String>) -> Result<ObjectPage, StoreError> {
        Ok(ObjectPage {
            objects: Vec::new(),
            next: None,
        })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.readiness_checks.fetch_add(1, Ordering::SeqCst);
        if self.ready {
            Ok(())
        } else {
            Err(StoreError::unavailable(
                "scripted.check_ready",
                ScriptedOutage,
            ))
        }
    }
}
