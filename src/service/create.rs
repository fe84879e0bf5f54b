//! The create workflow: judge the avatar, store it, insert the user if the email is free,
//! and undo the avatar when the user is not stored.
//!
//! It runs under one deadline (`create_timeout`). The second write can fail in a way that
//! leaves its outcome unknown (a timeout, a lost answer); the workflow then reads the user
//! back before deciding, so it never removes the avatar of a user that was stored, and
//! never reports a failure for a create that succeeded. When even that read fails, the
//! avatar is left for the orphan sweep, whose grace period is several times this deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::observe::{StoreFailure, measured};
use super::spool::SpoolLease;
use super::{CLEAN_UP_TIMEOUT, Inner, UserService, WorkflowAborted};
use crate::domain::{
    Avatar, AvatarError, AvatarKey, NewUser, Spooled, User, UserEmail, UserRecord,
};
use crate::store::{Insertion, StoreError, StoreErrorKind};

/// An upload as the HTTP layer received it: the spooled avatar bytes and the spool space
/// they (and their stripped copy) hold until the create is over.
pub struct Upload {
    pub bytes: Spooled,
    pub lease: SpoolLease,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Avatar(#[from] AvatarError),
    #[error("a user with that email exists already")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the create did not finish within {0:?}; nothing was stored")]
    TimedOut(Duration),
    #[error(transparent)]
    Aborted(#[from] WorkflowAborted),
}

impl StoreFailure for CreateError {
    fn store_error_kind(&self) -> Option<StoreErrorKind> {
        match self {
            Self::Store(error) => Some(error.kind()),
            Self::TimedOut(_) => Some(StoreErrorKind::Unavailable),
            _ => None,
        }
    }
}

impl UserService {
    /// Creates the user with the uploaded avatar. The work runs as a tracked task, so it
    /// finishes (or undoes itself) even if the caller stops waiting.
    pub async fn create(&self, user: NewUser, upload: Upload) -> Result<User, CreateError> {
        let inner = std::sync::Arc::clone(&self.inner);
        let workflow = async move { inner.create(user, upload).await };
        let task = self.inner.workflows.spawn(tracing::Instrument::instrument(
            workflow,
            tracing::Span::current(),
        ));
        measured("create", async { task.await.map_err(WorkflowAborted)? }).await
    }
}

impl Inner {
    async fn create(&self, user: NewUser, upload: Upload) -> Result<User, CreateError> {
        let timeout = self.settings.create_timeout;
        let deadline = Deadline(Instant::now() + timeout, timeout);
        let Upload { bytes, lease } = upload;
        let limits = self.settings.avatar_limits;
        let avatar = match bytes {
            // At most 64 KiB in memory: judged in well under a millisecond, cheaper than
            // the hop to the blocking pool and back.
            bytes @ Spooled::Memory(_) => Avatar::parse(bytes, limits)?,
            bytes @ Spooled::File(_) => {
                let judged = tokio::task::spawn_blocking(move || Avatar::parse(bytes, limits));
                deadline.run(judged).await?.map_err(WorkflowAborted)??
            }
        };

        // No read for a duplicate first: the conditional insert decides anyway, and on the
        // AWS path a read is a round trip and a third of a create's CPU, spent on every
        // create to spare the rare duplicate a write and its undo.
        let key = AvatarKey::new(avatar.format());
        let stored = deadline.run(self.avatars.put(&key, &avatar)).await;
        if !matches!(stored, Ok(Ok(()))) {
            // A failed or abandoned put may still have stored the object.
            self.undo(&key).await;
            stored??;
        }
        let size = avatar.size();
        // The spooled copies are no longer needed: give their space back now.
        drop(avatar);
        drop(lease);

        let record = UserRecord {
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            avatar: key,
        };
        let outcome = match deadline.run(self.users.insert_if_absent(&record)).await {
            Ok(Ok(insertion)) => Ok(insertion),
            Ok(Err(error)) => Err(CreateError::Store(error)),
            Err(timed_out) => Err(timed_out),
        };
        match outcome {
            Ok(Insertion::Inserted) => {}
            Ok(Insertion::AlreadyExists) => {
                self.undo(&key).await;
                return Err(CreateError::Conflict);
            }
            Err(CreateError::Store(error)) if error.changed_nothing() => {
                self.undo(&key).await;
                return Err(CreateError::Store(error));
            }
            Err(error) => self.settle(&user.email, &record, error).await?,
        }
        metrics::counter!("roster_avatar_bytes_stored_total").increment(size);
        Ok(self.user(record))
    }

    /// The insert's outcome is unknown: look. Stored with our avatar: the create succeeded.
    /// Stored with another: a concurrent create won. Absent: undo. Unknown: leave the avatar
    /// for the orphan sweep.
    async fn settle(
        &self,
        email: &UserEmail,
        record: &UserRecord,
        failure: CreateError,
    ) -> Result<(), CreateError> {
        match tokio::time::timeout(CLEAN_UP_TIMEOUT, self.users.get(email)).await {
            Ok(Ok(Some(found))) if found.avatar == record.avatar => Ok(()),
            Ok(Ok(Some(_))) => {
                self.undo(&record.avatar).await;
                Err(CreateError::Conflict)
            }
            Ok(Ok(None)) => {
                self.undo(&record.avatar).await;
                Err(failure)
            }
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(
                    key = %record.avatar,
                    "the outcome of a user insert is unknown; its avatar is left for the orphan sweep"
                );
                Err(failure)
            }
        }
    }

    async fn undo(&self, key: &AvatarKey) {
        if self.remove_avatar(key).await {
            metrics::counter!("roster_creates_undone_total").increment(1);
        }
    }
}

/// The moment a create must be done by, and the timeout it came from.
#[derive(Clone, Copy)]
struct Deadline(Instant, Duration);

impl Deadline {
    async fn run<F: Future>(self, work: F) -> Result<F::Output, CreateError> {
        tokio::time::timeout_at(self.0, work)
            .await
            .map_err(|_| CreateError::TimedOut(self.1))
    }
}
