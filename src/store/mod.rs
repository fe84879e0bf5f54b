//! Where users and their avatars live: one trait, one module per backend. Backends know
//! nothing about HTTP; they speak in domain types and [`StoreError`].

pub mod aws;
pub mod embedded;
mod observed;
#[cfg(test)]
pub mod test_double;

use std::path::PathBuf;

use async_trait::async_trait;

use crate::domain::{Avatar, ImageFormat, NewUser, User, UserEmail};

pub use observed::ObservedStore;

/// One slice of the user listing, in the backend's own order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub users: Vec<User>,
    /// The key to continue after, present while more users remain.
    pub next: Option<ListPosition>,
}

/// Where a listing stands: the email of the last user handed out. Both backends can
/// resume from any key (a key range, or DynamoDB's `ExclusiveStartKey`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition(pub String);

/// An avatar file kept by a backend that serves avatars itself.
#[derive(Debug)]
pub struct AvatarFile {
    pub path: PathBuf,
    pub format: ImageFormat,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a user with that email exists already")]
    Conflict,
    #[error("no user with that email")]
    NotFound,
    /// The backend could not be reached, throttled past retries, or timed out. Retrying
    /// later is expected to work.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store failed: {0}")]
    Internal(String),
}

/// The operations the HTTP layer needs. Every implementation keeps the SPEC's consistency
/// rules: a stored user always points at an avatar that exists, a refused create leaves no
/// avatar behind, and concurrent creates of one email have exactly one winner.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    async fn create(&self, user: &NewUser, avatar: &Avatar) -> Result<User, StoreError>;

    async fn get(&self, email: &UserEmail) -> Result<Option<User>, StoreError>;

    /// Removes the user and then their avatar; [`StoreError::NotFound`] when absent.
    async fn delete(&self, email: &UserEmail) -> Result<(), StoreError>;

    /// At most `limit` users after `after` (from the start when `None`).
    async fn list_page(
        &self,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Page, StoreError>;

    /// Whether the backing database and object store answer.
    async fn check_ready(&self) -> Result<(), StoreError>;

    /// The file behind an avatar key, for backends that serve avatars themselves;
    /// `None` when this backend does not, or when no such avatar exists.
    async fn avatar_file(&self, file_name: &str) -> Result<Option<AvatarFile>, StoreError>;
}

/// The object key of a new avatar: `avatars/<unique id>.<ext>`.
pub fn new_avatar_key(format: ImageFormat) -> String {
    format!(
        "{AVATAR_PREFIX}{}.{}",
        uuid::Uuid::new_v4().simple(),
        format.extension()
    )
}

pub const AVATAR_PREFIX: &str = "avatars/";

/// The object key behind an `avatar_url`, whatever base URL it was made with: the key is
/// always `avatars/` and the URL's last path segment.
pub fn avatar_key_of_url(avatar_url: &str) -> Option<String> {
    let (_, file_name) = avatar_url.rsplit_once('/')?;
    is_avatar_file_name(file_name).then(|| format!("{AVATAR_PREFIX}{file_name}"))
}

/// Whether `file_name` has the shape of a name roster gave an avatar: 32 lowercase hex
/// digits and a known extension. Anything else (`..`, slashes) is refused before any
/// file system or bucket sees it.
pub fn is_avatar_file_name(file_name: &str) -> bool {
    let Some((stem, extension)) = file_name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        && format_of_extension(extension).is_some()
}

/// The format a stored avatar's extension stands for.
pub fn format_of_extension(extension: &str) -> Option<ImageFormat> {
    [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ]
    .into_iter()
    .find(|format| format.extension() == extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_live_under_avatars_with_the_format_extension() {
        let key = new_avatar_key(ImageFormat::WebP);
        let file_name = key.strip_prefix(AVATAR_PREFIX).unwrap();
        assert!(file_name.ends_with(".webp"));
        assert!(is_avatar_file_name(file_name), "{key}");
        assert_ne!(key, new_avatar_key(ImageFormat::WebP));
    }

    #[test]
    fn finds_the_key_behind_any_avatar_url() {
        let key = new_avatar_key(ImageFormat::Png);
        for base in [
            "https://roster-avatars.s3.us-east-1.amazonaws.com",
            "http://127.0.0.1:5000/roster-avatars",
            "",
        ] {
            assert_eq!(
                avatar_key_of_url(&format!("{base}/{key}")),
                Some(key.clone())
            );
        }
    }

    #[test]
    fn refuses_file_names_that_roster_never_makes() {
        for name in [
            "../../etc/passwd",
            "0123456789abcdef0123456789abcdef.exe",
            "0123456789ABCDEF0123456789ABCDEF.png",
            "short.png",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef.png.png",
        ] {
            assert!(!is_avatar_file_name(name), "{name}");
        }
        assert!(is_avatar_file_name("0123456789abcdef0123456789abcdef.jpg"));
    }

    #[test]
    fn maps_extensions_back_to_formats() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            assert_eq!(format_of_extension(format.extension()), Some(format));
        }
        assert_eq!(format_of_extension("bmp"), None);
    }
}
