//! Users in a redb table keyed by email. Reads run on the caller's thread (a read
//! transaction over a key or a bounded range is served from redb's cache in microseconds,
//! less than handing it to another thread would cost). Writes go to one writer thread that
//! group-commits: it takes every write waiting when it starts a transaction, applies them in
//! order in that one transaction, commits once (one sync to disk), and only then answers
//! each. So the create rate grows with concurrency instead of being one sync per user, each
//! write is still acknowledged only once durable, and uniqueness stays exact: a later insert
//! in the same batch sees an earlier one.

use std::error::Error;
use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use tokio::sync::oneshot;

use crate::domain::{AvatarKey, UserEmail, UserRecord};
use crate::store::{Insertion, ListPosition, Page, StoreError, UserTable};

const USERS: TableDefinition<&str, &str> = TableDefinition::new("users");

/// The most writes one transaction takes; the rest wait for the next.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct EmbeddedUsers {
    database: Arc<Database>,
    writes: mpsc::Sender<Write>,
    /// Bumped by the writer after every commit that changed the table, before it answers.
    version: Arc<AtomicU64>,
}

enum Write {
    Insert {
        user: UserRecord,
        answer: oneshot::Sender<Result<Insertion, StoreError>>,
    },
    Remove {
        email: String,
        answer: oneshot::Sender<Result<Option<UserRecord>, StoreError>>,
    },
}

impl EmbeddedUsers {
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(|error| {
            StoreError::internal("users.open", described(error, &path.display()))
        })?;
        let transaction = database
            .begin_write()
            .map_err(|error| StoreError::internal("users.open", error))?;
        transaction
            .open_table(USERS)
            .map_err(|error| StoreError::internal("users.open", error))?;
        transaction
            .commit()
            .map_err(|error| StoreError::internal("users.open", error))?;
        let database = Arc::new(database);
        let version = Arc::new(AtomicU64::new(0));
        let (writes, queue) = mpsc::channel();
        let writer = Arc::clone(&database);
        let written = Arc::clone(&version);
        std::thread::Builder::new()
            .name("roster-db-writer".into())
            .spawn(move || write_batches(&writer, &queue, &written))
            .map_err(|error| StoreError::internal("users.open", error))?;
        Ok(Self {
            database,
            writes,
            version,
        })
    }

    async fn write<T>(
        &self,
        operation: &'static str,
        write: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Write,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.writes
            .send(write(answer))
            .map_err(|_| StoreError::internal(operation, WriterGone))?;
        answered
            .await
            .map_err(|_| StoreError::internal(operation, WriterGone))?
    }

    fn read<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&redb::ReadOnlyTable<&'static str, &'static str>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = self
            .database
            .begin_read()
            .map_err(|error| StoreError::internal(operation, error))?;
        let users = transaction
            .open_table(USERS)
            .map_err(|error| StoreError::internal(operation, error))?;
        work(&users)
    }
}

#[async_trait]
impl UserTable for EmbeddedUsers {
    #[tracing::instrument(name = "embedded.insert_user", skip_all, fields(email = %user.email))]
    async fn insert_if_absent(&self, user: &UserRecord) -> Result<Insertion, StoreError> {
        let user = user.clone();
        self.write("users.insert", |answer| Write::Insert { user, answer })
            .await
    }

    #[tracing::instrument(name = "embedded.get_user", skip_all, fields(email = %email))]
    async fn get(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        self.read("users.get", |users| {
            let value = users
                .get(email.as_str())
                .map_err(|error| StoreError::internal("users.get", error))?;
            value
                .map(|value| decode(email.as_str(), value.value()))
                .transpose()
                .map_err(|error| StoreError::internal("users.get", error))
        })
    }

    #[tracing::instrument(name = "embedded.remove_user", skip_all, fields(email = %email))]
    async fn remove(&self, email: &UserEmail) -> Result<Option<UserRecord>, StoreError> {
        let email = email.as_str().to_owned();
        self.write("users.remove", |answer| Write::Remove { email, answer })
            .await
    }

    #[tracing::instrument(name = "embedded.list_users", skip_all, fields(limit = limit))]
    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let failed = |error| StoreError::internal("users.list_page", error);
        self.read("users.list_page", |users| {
            let lower = match after {
                Some(position) => Bound::Excluded(position.0.as_str()),
                None => Bound::Unbounded,
            };
            let mut range = users
                .range::<&str>((lower, Bound::Unbounded))
                .map_err(|error| failed(error.into()))?;
            let mut page = Vec::with_capacity(limit.min(1024));
            for entry in range.by_ref().take(limit) {
                let (key, value) = entry.map_err(|error| failed(error.into()))?;
                page.push(decode(key.value(), value.value()).map_err(failed)?);
            }
            let more = range.next().is_some();
            let next = more
                .then(|| page.last().map(|user| ListPosition(user.email.clone())))
                .flatten();
            Ok(Page { users: page, next })
        })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.read("users.check_ready", |_| Ok(()))
    }

    /// The database file is locked by this process, so every write passes through here.
    fn version(&self) -> Option<u64> {
        Some(self.version.load(Ordering::Acquire))
    }
}

/// The writer thread: one transaction per batch of waiting writes, until every handle to
/// the table is gone.
fn write_batches(database: &Database, queue: &mpsc::Receiver<Write>, version: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        commit_batch(database, batch, version);
    }
}

/// An answer computed inside the transaction, sent only once the transaction is durable.
enum Pending {
    Insert(
        oneshot::Sender<Result<Insertion, StoreError>>,
        Result<Insertion, StoreError>,
    ),
    Remove(
        oneshot::Sender<Result<Option<UserRecord>, StoreError>>,
        Result<Option<UserRecord>, StoreError>,
    ),
}

fn commit_batch(database: &Database, batch: Vec<Write>, version: &AtomicU64) {
    let transaction = match database.begin_write() {
        Ok(transaction) => transaction,
        Err(error) => return fail_all(batch, &Arc::new(error)),
    };
    let mut pending = Vec::with_capacity(batch.len());
    for write in batch {
        pending.push(apply(&transaction, write));
    }
    // A write that failed inside the transaction does not stop the others; only a failed
    // commit fails them all, since none of them is durable then.
    match transaction.commit() {
        Ok(()) => {
            let changed = pending.iter().any(|answer| match answer {
                Pending::Insert(_, result) => matches!(result, Ok(Insertion::Inserted)),
                Pending::Remove(_, result) => matches!(result, Ok(Some(_))),
            });
            // Before any answer: whoever hears of the write reads at the new version.
            if changed {
                version.fetch_add(1, Ordering::Release);
            }
            for answer in pending {
                match answer {
                    Pending::Insert(sender, result) => drop(sender.send(result)),
                    Pending::Remove(sender, result) => drop(sender.send(result)),
                }
            }
        }
        Err(error) => {
            let error = Arc::new(error);
            for answer in pending {
                match answer {
                    Pending::Insert(sender, _) => {
                        drop(sender.send(Err(commit_failed("users.insert", &error))));
                    }
                    Pending::Remove(sender, _) => {
                        drop(sender.send(Err(commit_failed("users.remove", &error))));
                    }
                }
            }
        }
    }
}

fn apply(transaction: &WriteTransaction, write: Write) -> Pending {
    match write {
        Write::Insert { user, answer } => {
            let result = transaction
                .open_table(USERS)
                .map_err(|error| StoreError::internal("users.insert", error))
                .and_then(|mut users| {
                    let taken = users
                        .get(user.email.as_str())
                        .map_err(|error| StoreError::internal("users.insert", error))?
                        .is_some();
                    if taken {
                        return Ok(Insertion::AlreadyExists);
                    }
                    users
                        .insert(user.email.as_str(), encode(&user).as_str())
                        .map_err(|error| StoreError::internal("users.insert", error))?;
                    Ok(Insertion::Inserted)
                });
            Pending::Insert(answer, result)
        }
        Write::Remove { email, answer } => {
            let result = transaction
                .open_table(USERS)
                .map_err(|error| StoreError::internal("users.remove", error))
                .and_then(|mut users| {
                    let removed = users
                        .remove(email.as_str())
                        .map_err(|error| StoreError::internal("users.remove", error))?;
                    removed
                        .map(|value| decode(&email, value.value()))
                        .transpose()
                        .map_err(|error| StoreError::internal("users.remove", error))
                });
            Pending::Remove(answer, result)
        }
    }
}

fn fail_all<E: Error + Send + Sync + 'static>(batch: Vec<Write>, error: &Arc<E>) {
    for write in batch {
        match write {
            Write::Insert { answer, .. } => {
                drop(answer.send(Err(commit_failed("users.insert", error))));
            }
            Write::Remove { answer, .. } => {
                drop(answer.send(Err(commit_failed("users.remove", error))));
            }
        }
    }
}

fn commit_failed<E: Error + Send + Sync + 'static>(
    operation: &'static str,
    error: &Arc<E>,
) -> StoreError {
    StoreError::internal(operation, SharedError(Arc::clone(error)))
}

/// One failure answered to every write of a batch.
#[derive(Debug)]
struct SharedError<E>(Arc<E>);

impl<E: fmt::Display> fmt::Display for SharedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Error + 'static> Error for SharedError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.0.as_ref())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the database writer thread has stopped")]
struct WriterGone;

#[derive(Debug, thiserror::Error)]
#[error("a stored user cannot be read: {0}")]
struct Corrupt(&'static str);

/// `<avatar key>\n<name>`: keys are hex digits and an extension and names hold no control
/// characters, so the newline is unambiguous and a read needs no parser. The email is the
/// table's key.
fn encode(user: &UserRecord) -> String {
    format!("{}\n{}", user.avatar, user.name)
}

fn decode(email: &str, value: &str) -> Result<UserRecord, Box<dyn Error + Send + Sync>> {
    let (key, name) = value
        .split_once('\n')
        .ok_or(Corrupt("it has no avatar key"))?;
    let avatar = AvatarKey::parse(key).ok_or(Corrupt("its avatar key is not one roster makes"))?;
    Ok(UserRecord {
        name: name.to_owned(),
        email: email.to_owned(),
        avatar,
    })
}

fn described(error: impl fmt::Display, path: &impl fmt::Display) -> String {
    format!("{path}: {error}")
}
