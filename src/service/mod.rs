//! The application service: every workflow of roster, written once for every backend.
//! It takes domain types from the HTTP layer, combines the plain operations of the two
//! stores (a table of users, a store of avatar objects), and keeps the SPEC's consistency
//! promises: a stored user always points at an avatar that exists, and a refused or failed
//! create leaves nothing behind but, at worst, an object no user points at, which the
//! orphan sweep removes.
//!
//! Creates and deletes run as tracked tasks, not inside the request: a client that
//! disconnects, or a request future dropped at shutdown, cannot stop one between its two
//! writes. The server waits for them before it exits.

mod create;
mod observe;
mod readiness;
pub mod spool;
mod sweep;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

pub use create::{CreateError, Upload};
pub use readiness::{NotReady, ReadinessScope};
pub use spool::{IN_MEMORY_UPLOAD_BYTES, SpoolBudget, SpoolExhausted, SpoolLease};
pub use sweep::{SweepOptions, SweepReport};

use crate::domain::{AvatarKey, AvatarLimits, AvatarUrls, User, UserEmail, UserRecord};
use crate::store::{AvatarFile, AvatarFiles, AvatarStore, ListPosition, StoreError, UserTable};
use observe::{StoreFailure, measured};
use readiness::Readiness;

/// How long one readiness answer is reused.
const READINESS_CACHE_TTL: Duration = Duration::from_secs(1);

/// The two stores of a backend, and how its avatars are addressed.
pub struct Stores {
    pub users: Arc<dyn UserTable>,
    pub avatars: Arc<dyn AvatarStore>,
    /// Present for a backend that serves avatar files itself.
    pub files: Option<Arc<dyn AvatarFiles>>,
    pub urls: AvatarUrls,
}

/// What the workflows are allowed.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSettings {
    pub avatar_limits: AvatarLimits,
    /// A create's work after its upload arrived: stripping, store writes, undo.
    pub create_timeout: Duration,
}

#[derive(Clone)]
pub struct UserService {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<dyn UserTable>,
    avatars: Arc<dyn AvatarStore>,
    files: Option<Arc<dyn AvatarFiles>>,
    urls: AvatarUrls,
    settings: ServiceSettings,
    workflows: TaskTracker,
    readiness: Readiness,
    stopping: CancellationToken,
}

/// One page of users as clients see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next: Option<ListPosition>,
}

/// A workflow task that ended without an answer (it panicked).
#[derive(Debug, thiserror::Error)]
#[error("a workflow task ended without an answer")]
pub struct WorkflowAborted(#[source] tokio::task::JoinError);

/// Why a delete failed.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Aborted(#[from] WorkflowAborted),
}

impl StoreFailure for DeleteError {
    fn store_error_kind(&self) -> Option<crate::store::StoreErrorKind> {
        match self {
            Self::Store(error) => Some(error.kind()),
            Self::Aborted(_) => None,
        }
    }
}

impl UserService {
    pub fn new(stores: Stores, settings: ServiceSettings) -> Self {
        let readiness = Readiness::new(
            Arc::clone(&stores.users),
            Arc::clone(&stores.avatars),
            READINESS_CACHE_TTL,
        );
        Self {
            inner: Arc::new(Inner {
                users: stores.users,
                avatars: stores.avatars,
                files: stores.files,
                urls: stores.urls,
                settings,
                workflows: TaskTracker::new(),
                readiness,
                stopping: CancellationToken::new(),
            }),
        }
    }

    pub fn avatar_limits(&self) -> AvatarLimits {
        self.inner.settings.avatar_limits
    }

    pub async fn get(&self, email: &UserEmail) -> Result<Option<User>, StoreError> {
        let record = measured("get", self.inner.users.get(email)).await?;
        Ok(record.map(|record| self.inner.user(record)))
    }

    /// The users table's version, when only this process writes it (see
    /// [`UserTable::version`]): a page read at it stays right until it changes.
    pub fn users_version(&self) -> Option<u64> {
        self.inner.users.version()
    }

    pub async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<UserPage, StoreError> {
        let page = measured("list_page", self.inner.users.list_page(after, limit)).await?;
        Ok(UserPage {
            users: page
                .users
                .into_iter()
                .map(|record| self.inner.user(record))
                .collect(),
            next: page.next,
        })
    }

    /// Removes the user, then their avatar. `false` when there was no such user. The
    /// avatar's removal is not the client's concern: if it fails, the object is left for
    /// the orphan sweep and the user is still gone.
    pub async fn delete(&self, email: &UserEmail) -> Result<bool, DeleteError> {
        let inner = Arc::clone(&self.inner);
        let email = email.clone();
        let workflow = async move {
            let Some(removed) = inner.users.remove(&email).await? else {
                return Ok(false);
            };
            inner.remove_avatar(&removed.avatar).await;
            Ok::<_, StoreError>(true)
        };
        let task = self
            .inner
            .workflows
            .spawn(workflow.instrument(tracing::Span::current()));
        measured("delete", async {
            task.await
                .map_err(WorkflowAborted)?
                .map_err(DeleteError::from)
        })
        .await
    }

    /// The file behind an avatar's file name, for a backend that serves avatars itself.
    pub async fn avatar_file(&self, file_name: &str) -> Result<Option<AvatarFile>, StoreError> {
        let (Some(files), Some(key)) = (&self.inner.files, AvatarKey::from_file_name(file_name))
        else {
            return Ok(None);
        };
        measured("avatar_file", files.file(&key)).await
    }

    pub async fn readiness(&self, scope: ReadinessScope) -> Result<(), NotReady> {
        self.inner.readiness.check(scope).await
    }

    /// Checks both stores now and every `interval` until shutdown, so `roster_store_ready`
    /// tells the truth even when no probe asks (and probes find a warm answer).
    pub fn spawn_readiness_watch(&self, interval: Duration) {
        let service = self.clone();
        let stopping = self.inner.stopping.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stopping.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                if let Err(error) = service.readiness(ReadinessScope::Everything).await {
                    tracing::debug!(%error, "a store is not ready");
                }
            }
        });
    }

    /// Readiness turns false at once and background work stops; the workflows in progress
    /// go on (see [`UserService::finish_workflows`]).
    pub fn begin_shutdown(&self) {
        self.inner.readiness.begin_shutdown();
        self.inner.stopping.cancel();
    }

    /// The longest a create or delete can run: its deadline and the clean-up after it.
    pub fn longest_workflow(&self) -> Duration {
        self.inner.settings.create_timeout + CLEAN_UP_TIMEOUT * 2
    }

    /// Waits up to `limit` for every create and delete in progress to finish; returns how
    /// many were still running then.
    pub async fn finish_workflows(&self, limit: Duration) -> usize {
        let workflows = &self.inner.workflows;
        workflows.close();
        if tokio::time::timeout(limit, workflows.wait()).await.is_err() {
            return workflows.len();
        }
        0
    }
}

impl Inner {
    fn user(&self, record: UserRecord) -> User {
        User {
            avatar_url: self.urls.url(&record.avatar),
            name: record.name,
            email: record.email,
        }
    }

    /// Removes an avatar no user points at (any more). A failure leaves an orphan, which
    /// the sweep removes once it is older than the grace period.
    async fn remove_avatar(&self, key: &AvatarKey) -> bool {
        let removal = tokio::time::timeout(CLEAN_UP_TIMEOUT, self.avatars.delete(key)).await;
        match removal {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(%key, error = %crate::telemetry::ErrorChain(&error), "could not remove an avatar; the orphan sweep will");
                false
            }
            Err(_) => {
                tracing::warn!(%key, "removing an avatar timed out; the orphan sweep will");
                false
            }
        }
    }
}

/// How long one clean-up step (an undo, an avatar removal, a read-back) may take, beyond
/// the create's own deadline.
const CLEAN_UP_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(test)]
pub fn test_service(users: crate::store::test_double::ScriptedUsers) -> UserService {
    test_service_on(Arc::new(users))
}

#[cfg(test)]
pub fn test_service_on(users: Arc<crate::store::test_double::ScriptedUsers>) -> UserService {
    UserService::new(
        Stores {
            users,
            avatars: Arc::new(crate::store::test_double::ScriptedAvatars::default()),
            files: None,
            urls: AvatarUrls::new(""),
        },
        ServiceSettings {
            avatar_limits: AvatarLimits {
                max_bytes: 1024,
                max_pixels: 1024,
                max_frames: 10,
                max_total_pixels: 1024,
            },
            create_timeout: Duration::from_secs(5),
        },
    )
}
