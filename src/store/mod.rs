//! Where users and their avatars live, behind two narrow traits: a table of users and a
//! store of avatar objects, one module per backend. Backends are plain operations; the
//! workflows that combine them (create, delete, sweep) live once in the service. Backends
//! know nothing about HTTP; they speak in domain types and [`StoreError`].

pub mod aws;
pub mod embedded;
#[cfg(test)]
pub mod test_double;

use std::error::Error;
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::domain::{Avatar, AvatarKey, ImageFormat, UserEmail, UserRecord};

type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// A store call that failed, with its cause kept.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    operation: &'static str,
    source: BoxError,
    refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// Unreachable, throttled past retries, or timing out: retrying later is expected to
    /// work.
    Unavailable,
    /// Anything else: a bug, a corrupt item, a misconfiguration.
    Internal,
}

impl StoreError {
    pub fn unavailable(operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self {
            kind: StoreErrorKind::Unavailable,
            operation,
            source: source.into(),
            refused: false,
        }
    }

    pub fn internal(operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self {
            kind: StoreErrorKind::Internal,
            operation,
            source: source.into(),
            refused: false,
        }
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The same failure, known to have changed nothing: the store received the call and
    /// answered that it refused it.
    pub fn refused(self) -> Self {
        Self {
            refused: true,
            ..self
        }
    }

    /// Whether the call is known to have changed nothing. Otherwise (a timeout, a lost
    /// answer, a server error) a write may have happened.
    pub fn changed_nothing(&self) -> bool {
        self.refused
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StoreErrorKind::Unavailable => write!(f, "{} is unavailable", self.operation),
            StoreErrorKind::Internal => write!(f, "{} failed", self.operation),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// The answer to a conditional insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insertion {
    Inserted,
    /// A user with that email exists; nothing was written.
    AlreadyExists,
}

/// One slice of the user table, in the backend's own order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub users: Vec<UserRecord>,
    /// The key to continue after, present while more users remain.
    pub next: Option<ListPosition>,
}

/// Where a listing stands: the email of the last user handed out. Both backends can
/// resume from any key (a key range, or DynamoDB's `ExclusiveStartKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition(pub String);

/// The users, keyed by email.
#[async_trait]
pub trait UserTable: Send + Sync + 'static {
    /// Stores `user` unless a user with its email exists; exactly one of any number of
    /// concurrent inserts of one email wins.
    async fn insert_if_absent(&self, user: &UserRecord) -> Result<Insertion, StoreError>;

    async fn get(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError>;

    /// Removes the user and returns what was stored; `None` when there was none.
    async fn remove(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError>;

    /// At most `limit` users after `after` (from the start when `None`), read
    /// consistently: every user stored before the call began is seen.
    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError>;

    /// Whether the table answers.
    async fn check_ready(&self) -> Result<(), StoreError>;

    /// A number that changes with every write, for a table that only this process writes
    /// (so that what was read at one version can be reused until the next); `None` where
    /// others may write too.
    fn version(&self) -> Option<u64> {
        None
    }
}

/// An avatar object as listed: its key and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredObject {
    pub key: AvatarKey,
    pub modified: SystemTime,
}

/// One slice of the avatar objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPage {
    pub objects: Vec<StoredObject>,
    /// Where to continue, present while more objects remain.
    pub next: Option<String>,
}

/// The avatar objects, keyed by [`AvatarKey`].
#[async_trait]
pub trait AvatarStore: Send + Sync + 'static {
    /// Stores the avatar's bytes under `key`, with its content type.
    async fn put(&self, key: &AvatarKey, avatar: &Avatar) -> Result<(), StoreError>;

    /// Removes the object; removing one that is not there succeeds.
    async fn delete(&self, key: &AvatarKey) -> Result<(), StoreError>;

    /// The objects under the avatar prefix, a page at a time from `continuation`. Objects
    /// whose names are not avatar keys are left out: roster never touches what it did not
    /// name.
    async fn list(&self, continuation: Option<String>) -> Result<ObjectPage, StoreError>;

    /// Whether the object store answers.
    async fn check_ready(&self) -> Result<(), StoreError>;
}

/// An avatar file kept by a backend that serves avatars itself.
#[derive(Debug)]
pub struct AvatarFile {
    pub path: PathBuf,
    pub format: ImageFormat,
}

/// Avatar objects as local files, for the backend that serves them itself.
#[async_trait]
pub trait AvatarFiles: Send + Sync + 'static {
    /// The file of `key`, `None` when there is no such avatar.
    async fn file(&self, key: &AvatarKey) -> Result<Option<AvatarFile>, StoreError>;
}
