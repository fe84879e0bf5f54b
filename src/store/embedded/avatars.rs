//! Avatar objects as files in one directory, named by their key's file name.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use async_trait::async_trait;

use super::with_path;
use crate::domain::{Avatar, AvatarKey};
use crate::store::{AvatarFile, AvatarFiles, AvatarStore, ObjectPage, StoreError, StoredObject};

/// Files being written carry this prefix until they are complete; they are never keys.
const INCOMING_PREFIX: &str = ".incoming-";

#[derive(Clone)]
pub struct EmbeddedAvatars {
    directory: Arc<PathBuf>,
    names: Arc<DirectorySync>,
}

impl EmbeddedAvatars {
    pub(super) fn open(directory: PathBuf) -> Self {
        remove_incoming_leftovers(&directory);
        Self {
            names: Arc::new(DirectorySync::new(directory.clone())),
            directory: Arc::new(directory),
        }
    }

    fn path(&self, key: &AvatarKey) -> PathBuf {
        self.directory.join(key.file_name())
    }

    /// Runs file work, which syncs, on the blocking pool.
    async fn blocking<T, F>(&self, operation: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    {
        let directory = Arc::clone(&self.directory);
        tokio::task::spawn_blocking(move || work(&directory))
            .await
            .map_err(|error| StoreError::internal(operation, error))?
            .map_err(|error| StoreError::internal(operation, error))
    }
}

#[async_trait]
impl AvatarStore for EmbeddedAvatars {
    #[tracing::instrument(name = "embedded.put_avatar", skip_all, fields(key = %key))]
    async fn put(&self, key: &AvatarKey, avatar: &Avatar) -> Result<(), StoreError> {
        let source = avatar
            .open()
            .map_err(|error| StoreError::internal("avatars.put", error))?;
        let target = self.path(key);
        let names = Arc::clone(&self.names);
        self.blocking("avatars.put", move |directory| {
            write_durably(source, directory, &target, &names)
        })
        .await
    }

    #[tracing::instrument(name = "embedded.delete_avatar", skip_all, fields(key = %key))]
    async fn delete(&self, key: &AvatarKey) -> Result<(), StoreError> {
        let path = self.path(key);
        self.blocking("avatars.delete", move |_| match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(with_path(error, &path)),
            _ => Ok(()),
        })
        .await
    }

    /// One page holding every file: a directory listing has no cursor, and its entries
    /// are small (an avatar key and a time).
    async fn list(&self, _continuation: Option<String>) -> Result<ObjectPage, StoreError> {
        self.blocking("avatars.list", |directory| {
            let mut objects = Vec::new();
            for entry in fs::read_dir(directory)? {
                let entry = entry?;
                let Some(key) = entry
                    .file_name()
                    .to_str()
                    .and_then(AvatarKey::from_file_name)
                else {
                    continue;
                };
                match entry.metadata() {
                    Ok(metadata) => objects.push(StoredObject {
                        key,
                        modified: metadata.modified()?,
                    }),
                    // Removed between the listing and the look: nothing to sweep.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(ObjectPage {
                objects,
                next: None,
            })
        })
        .await
    }

    async fn check_ready(&self) -> Result<(), StoreError> {
        fs::metadata(self.directory.as_path())
            .map(drop)
            .map_err(|error| StoreError::internal("avatars.check_ready", error))
    }
}

#[async_trait]
impl AvatarFiles for EmbeddedAvatars {
    async fn file(&self, key: &AvatarKey) -> Result<Option<AvatarFile>, StoreError> {
        let path = self.path(key);
        match tokio::fs::metadata(&path).await {
            Ok(_) => Ok(Some(AvatarFile {
                path,
                format: key.format(),
            })),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::internal("avatars.file", error)),
        }
    }
}

/// Copies `source` to `target` through a synced temporary file in the same directory, so
/// `target` only ever names a complete file, and syncs the directory so the name survives
/// a crash.
fn write_durably(
    mut source: impl Read,
    directory: &Path,
    target: &Path,
    names: &DirectorySync,
) -> io::Result<()> {
    let incoming = directory.join(format!(
        "{INCOMING_PREFIX}{}",
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut file = File::create_new(&incoming)?;
        io::copy(&mut source, &mut file)?;
        file.sync_all()?;
        fs::rename(&incoming, target)?;
        names.sync()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&incoming);
    }
    result.map_err(|error| with_path(error, target))
}

/// Directory syncs shared by the writes that renamed a file into the directory: each
/// writer returns only after a sync that began after its rename, and writers arriving
/// while a sync runs share the next one. Concurrent creates then cost one directory sync
/// per batch instead of one each (the same group commit as the users table's).
struct DirectorySync {
    directory: PathBuf,
    progress: Mutex<SyncProgress>,
    finished: Condvar,
}

#[derive(Default)]
struct SyncProgress {
    /// Renames registered so far, numbered from 1.
    registered: u64,
    /// Every rename up to this number is durable.
    durable: u64,
    syncing: bool,
}

impl DirectorySync {
    fn new(directory: PathBuf) -> Self {
        Self {
            directory,
            progress: Mutex::new(SyncProgress::default()),
            finished: Condvar::new(),
        }
    }

    /// Makes every rename done so far in the directory durable.
    fn sync(&self) -> io::Result<()> {
        let mut progress = self.lock();
        progress.registered += 1;
        let mine = progress.registered;
        loop {
            if progress.durable >= mine {
                return Ok(());
            }
            if progress.syncing {
                progress = self
                    .finished
                    .wait(progress)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            progress.syncing = true;
            let covered = progress.registered;
            drop(progress);
            let synced = File::open(&self.directory).and_then(|directory| directory.sync_all());
            progress = self.lock();
            progress.syncing = false;
            if synced.is_ok() {
                progress.durable = covered;
            }
            self.finished.notify_all();
            // A failed sync fails its caller; the others waiting try one of their own.
            synced?;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncProgress> {
        // The counters are whole at every unlock: usable after a panic elsewhere.
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn durable(&self) -> u64 {
        self.lock().durable
    }
}

/// Temporary files left by a crash in the middle of an avatar write are never referenced.
fn remove_incoming_leftovers(directory: &Path) {
    let Ok(entries) = fs::read_dir(directory) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_writer_returns_only_once_a_sync_covers_its_rename() {
        let directory = tempfile::tempdir().unwrap();
        let names = Arc::new(DirectorySync::new(directory.path().to_owned()));
        let writers: Vec<_> = (0..32)
            .map(|_| {
                let names = Arc::clone(&names);
                std::thread::spawn(move || names.sync())
            })
            .collect();
        for writer in writers {
            writer.join().unwrap().unwrap();
        }
        assert_eq!(names.durable(), 32, "every rename is covered");
        names.sync().unwrap();
        assert_eq!(names.durable(), 33, "a later rename gets a sync of its own");
    }

    #[test]
    fn a_failed_sync_fails_its_writer_and_covers_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let names = DirectorySync::new(directory.path().join("gone"));
        assert!(names.sync().is_err());
        assert_eq!(names.durable(), 0);
    }
}
