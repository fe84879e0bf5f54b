//! A scripted store for unit tests of the layers above the backends.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{AvatarFile, ListPosition, Page, StoreError, UserStore};
use crate::domain::{Avatar, NewUser, User, UserEmail};

/// Lists `users` users in pages, failing with `Unavailable` on page number
/// `failing_page` (0-based) if set; counts readiness checks.
pub struct ScriptedStore {
    pub users: usize,
    pub failing_page: Option<usize>,
    pub ready: bool,
    pages_served: AtomicUsize,
    readiness_checks: AtomicUsize,
}

impl ScriptedStore {
    pub fn new(users: usize, failing_page: Option<usize>) -> Self {
        Self {
            users,
            failing_page,
            ready: true,
            pages_served: AtomicUsize::new(0),
            readiness_checks: AtomicUsize::new(0),
        }
    }

    pub fn readiness_checks(&self) -> usize {
        self.readiness_checks.load(Ordering::SeqCst)
    }

    fn user(index: usize) -> User {
        User {
            name: format!("User {index}"),
            email: format!("user{index:06}@example.com"),
            avatar_url: format!("/avatars/{index:032x}.png"),
        }
    }
}

#[async_trait]
impl UserStore for ScriptedStore {
    async fn create(&self, _user: &NewUser, _avatar: &Avatar) -> Result<User, StoreError> {
        Err(StoreError::Internal(
            "the scripted store is read-only".into(),
        ))
    }

    async fn get(&self, _email: &UserEmail) -> Result<Option<User>, StoreError> {
        Ok(None)
    }

    async fn delete(&self, _email: &UserEmail) -> Result<(), StoreError> {
        Err(StoreError::NotFound)
    }

    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let page_number = self.pages_served.fetch_add(1, Ordering::SeqCst);
        if self.failing_page == Some(page_number) {
            return Err(StoreError::Unavailable("scripted outage".into()));
        }
        let start = match after {
            None => 0,
            Some(position) => (0..self.users)
                .position(|index| Self::user(index).email == position.0)
                .map_or(self.users, |index| index + 1),
        };
        let end = (start + limit).min(self.users);
        let users: Vec<User> = (start..end).map(Self::user).collect();
        let next = (end < self.users)
            .then(|| users.last().map(|user| ListPosition(user.email.clone())))
            .flatten();
        Ok(Page { users, next })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.readiness_checks.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if self.ready {
            Ok(())
        } else {
            Err(StoreError::Unavailable("scripted outage".into()))
        }
    }

    async fn avatar_file(&self, _file_name: &str) -> Result<Option<AvatarFile>, StoreError> {
        Ok(None)
    }
}
