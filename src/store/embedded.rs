//! The default backend: users in a redb database file, avatars as files, both under the data
//! directory. redb commits are durable and atomic, and avatar files are written under a
//! temporary name, synced and renamed into place, so a crash never leaves a half-written
//! avatar or a user whose avatar is missing.

use std::fs::{self, File};
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{
    AVATAR_PREFIX, AvatarFile, ListPosition, Page, StoreError, UserStore, format_of_extension,
    is_avatar_file_name, new_avatar_key,
};
use crate::domain::{Avatar, NewUser, User, UserEmail};

const USERS: TableDefinition<&str, &str> = TableDefinition::new("users");
const DATABASE_FILE: &str = "roster.redb";
const AVATAR_DIR: &str = "avatars";
const INCOMING_PREFIX: &str = ".incoming-";

/// What the database keeps for a user; the email is the key, and the avatar URL is made
/// from the key and the configured base URL when read, so the base URL can change.
struct StoredUser<'a> {
    name: &'a str,
    avatar_key: &'a str,
}

impl<'a> StoredUser<'a> {
    /// `<avatar key>\n<name>`: keys are hex digits and an extension and names hold no
    /// control characters, so the newline is unambiguous and a read needs no parser.
    fn encode(&self) -> String {
        format!("{}\n{}", self.avatar_key, self.name)
    }

    fn decode(value: &'a str) -> Result<Self, StoreError> {
        let (avatar_key, name) = value
            .split_once('\n')
            .ok_or_else(|| StoreError::Internal("a stored user has no avatar key".into()))?;
        Ok(Self { name, avatar_key })
    }
}

#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    database: Database,
    avatar_dir: PathBuf,
    avatar_base_url: String,
}

impl EmbeddedStore {
    /// Opens (or creates) the store under `data_dir`. `avatar_base_url` is prepended to the
    /// object key to make `avatar_url`; empty gives site-relative URLs (`/avatars/…`).
    pub fn open(data_dir: &Path, avatar_base_url: &str) -> Result<Self, StoreError> {
        let avatar_dir = data_dir.join(AVATAR_DIR);
        fs::create_dir_all(&avatar_dir).map_err(|error| {
            StoreError::Internal(format!("cannot create {}: {error}", avatar_dir.display()))
        })?;
        remove_incoming_leftovers(&avatar_dir);
        let database_path = data_dir.join(DATABASE_FILE);
        let database = Database::create(&database_path).map_err(|error| {
            StoreError::Internal(format!("cannot open {}: {error}", database_path.display()))
        })?;
        let transaction = database.begin_write().map_err(internal)?;
        transaction.open_table(USERS).map_err(internal)?;
        transaction.commit().map_err(internal)?;
        Ok(Self {
            inner: Arc::new(Inner {
                database,
                avatar_dir,
                avatar_base_url: avatar_base_url.trim_end_matches('/').to_owned(),
            }),
        })
    }

    /// Runs a read on the calling thread: a redb read transaction over a key or a bounded
    /// key range is served from redb's cache in microseconds, less than handing it to the
    /// blocking pool and back would cost (measured: two futex calls a request).
    fn read<T>(&self, work: impl FnOnce(&Inner) -> Result<T, StoreError>) -> Result<T, StoreError> {
        work(&self.inner)
    }

    /// Runs a write, which syncs files and the database, on the blocking pool.
    async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|error| StoreError::Internal(format!("store task failed: {error}")))?
    }
}

impl Inner {
    fn user(&self, email: &str, stored: &StoredUser<'_>) -> User {
        let mut avatar_url =
            String::with_capacity(self.avatar_base_url.len() + 1 + stored.avatar_key.len());
        avatar_url.push_str(&self.avatar_base_url);
        avatar_url.push('/');
        avatar_url.push_str(stored.avatar_key);
        User {
            name: stored.name.to_owned(),
            email: email.to_owned(),
            avatar_url,
        }
    }

    fn avatar_path(&self, key: &str) -> PathBuf {
        let file_name = key.strip_prefix(AVATAR_PREFIX).unwrap_or(key);
        self.avatar_dir.join(file_name)
    }

    /// Copies the avatar to its final name through a synced temporary file, so the final
    /// name only ever holds a complete file.
    fn write_avatar(&self, mut source: File, key: &str) -> io::Result<()> {
        let incoming = self.avatar_dir.join(format!(
            "{INCOMING_PREFIX}{}",
            uuid::Uuid::new_v4().simple()
        ));
        let result = (|| {
            let mut target = File::create_new(&incoming)?;
            io::copy(&mut source, &mut target)?;
            target.sync_all()?;
            fs::rename(&incoming, self.avatar_path(key))?;
            File::open(&self.avatar_dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&incoming);
        }
        result
    }

    fn remove_avatar(&self, key: &str) {
        let path = self.avatar_path(key);
        if let Err(error) = fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), %error, "could not remove avatar file");
        }
    }

    fn insert_if_absent(&self, email: &str, stored: &StoredUser<'_>) -> Result<(), StoreError> {
        let value = stored.encode();
        let transaction = self.database.begin_write().map_err(internal)?;
        {
            let mut users = transaction.open_table(USERS).map_err(internal)?;
            if users.get(email).map_err(internal)?.is_some() {
                return Err(StoreError::Conflict);
            }
            users.insert(email, value.as_str()).map_err(internal)?;
        }
        transaction.commit().map_err(internal)
    }
}

#[async_trait]
impl UserStore for EmbeddedStore {
    #[tracing::instrument(name = "embedded.create", skip_all, fields(email = %user.email))]
    async fn create(&self, user: &NewUser, avatar: &Avatar) -> Result<User, StoreError> {
        if self.get(&user.email).await?.is_some() {
            return Err(StoreError::Conflict);
        }
        let email = user.email.as_str().to_owned();
        let name = user.name.as_str().to_owned();
        let avatar_key = new_avatar_key(avatar.format());
        let source = avatar.open().map_err(internal)?;
        self.blocking(move |inner| {
            let stored = StoredUser {
                name: &name,
                avatar_key: &avatar_key,
            };
            inner.write_avatar(source, &avatar_key).map_err(internal)?;
            match inner.insert_if_absent(&email, &stored) {
                Ok(()) => Ok(inner.user(&email, &stored)),
                Err(error) => {
                    inner.remove_avatar(&avatar_key);
                    Err(error)
                }
            }
        })
        .await
    }

    #[tracing::instrument(name = "embedded.get", skip_all, fields(email = %email))]
    async fn get(&self, email: &UserEmail) -> Result<Option<User>, StoreError> {
        self.read(|inner| {
            let transaction = inner.database.begin_read().map_err(internal)?;
            let users = transaction.open_table(USERS).map_err(internal)?;
            let Some(value) = users.get(email.as_str()).map_err(internal)? else {
                return Ok(None);
            };
            Ok(Some(
                inner.user(email.as_str(), &StoredUser::decode(value.value())?),
            ))
        })
    }

    #[tracing::instrument(name = "embedded.delete", skip_all, fields(email = %email))]
    async fn delete(&self, email: &UserEmail) -> Result<(), StoreError> {
        let email = email.as_str().to_owned();
        self.blocking(move |inner| {
            let transaction = inner.database.begin_write().map_err(internal)?;
            let avatar_key = {
                let mut users = transaction.open_table(USERS).map_err(internal)?;
                let Some(value) = users.remove(email.as_str()).map_err(internal)? else {
                    return Err(StoreError::NotFound);
                };
                StoredUser::decode(value.value())?.avatar_key.to_owned()
            };
            transaction.commit().map_err(internal)?;
            inner.remove_avatar(&avatar_key);
            Ok(())
        })
        .await
    }

    #[tracing::instrument(name = "embedded.list_page", skip_all, fields(limit))]
    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.read(|inner| {
            let transaction = inner.database.begin_read().map_err(internal)?;
            let users = transaction.open_table(USERS).map_err(internal)?;
            let lower = match after {
                Some(position) => Bound::Excluded(position.0.as_str()),
                None => Bound::Unbounded,
            };
            let mut range = users
                .range::<&str>((lower, Bound::Unbounded))
                .map_err(internal)?;
            let mut page = Vec::with_capacity(limit.min(1024));
            for entry in range.by_ref().take(limit) {
                let (key, value) = entry.map_err(internal)?;
                page.push(inner.user(key.value(), &StoredUser::decode(value.value())?));
            }
            let more = range.next().is_some();
            let next = more
                .then(|| page.last().map(|user| ListPosition(user.email.clone())))
                .flatten();
            Ok(Page { users: page, next })
        })
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        self.read(|inner| {
            let transaction = inner.database.begin_read().map_err(internal)?;
            transaction.open_table(USERS).map_err(internal)?;
            fs::metadata(&inner.avatar_dir).map_err(internal)?;
            Ok(())
        })
    }

    async fn avatar_file(&self, file_name: &str) -> Result<Option<AvatarFile>, StoreError> {
        if !is_avatar_file_name(file_name) {
            return Ok(None);
        }
        let Some(format) = file_name
            .rsplit_once('.')
            .and_then(|(_, extension)| format_of_extension(extension))
        else {
            return Ok(None);
        };
        let path = self.inner.avatar_dir.join(file_name);
        match tokio::fs::metadata(&path).await {
            Ok(_) => Ok(Some(AvatarFile { path, format })),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(internal(error)),
        }
    }
}

/// Temporary files left by a crash in the middle of an avatar write are never referenced.
fn remove_incoming_leftovers(avatar_dir: &Path) {
    let Ok(entries) = fs::read_dir(avatar_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(INCOMING_PREFIX)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn internal(error: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(error.to_string())
}
