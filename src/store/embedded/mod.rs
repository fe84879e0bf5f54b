//! The default backend: users in a redb database file, avatars as files, both under the
//! data directory. redb commits are durable and atomic; avatar files are written under a
//! temporary name, synced and renamed into place, so a crash never leaves a half-written
//! avatar. Writes to the database are group-committed: concurrent inserts and removals
//! share one write transaction and one sync.

mod avatars;
mod users;

use std::fs;
use std::io;
use std::path::Path;

pub use avatars::EmbeddedAvatars;
pub use users::EmbeddedUsers;

use super::StoreError;

const DATABASE_FILE: &str = "roster.redb";
const AVATAR_DIR: &str = "avatars";

/// Opens (or creates) both halves of the embedded store under `data_dir`.
pub fn open(data_dir: &Path) -> Result<(EmbeddedUsers, EmbeddedAvatars), StoreError> {
    let avatar_dir = data_dir.join(AVATAR_DIR);
    fs::create_dir_all(&avatar_dir)
        .map_err(|error| StoreError::internal("embedded.open", with_path(error, &avatar_dir)))?;
    let avatars = EmbeddedAvatars::open(avatar_dir);
    let users = EmbeddedUsers::open(&data_dir.join(DATABASE_FILE))?;
    Ok((users, avatars))
}

/// An I/O error that names the path it happened on.
fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
