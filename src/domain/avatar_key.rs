use std::fmt;

use super::ImageFormat;

/// The name of a stored avatar: `avatars/<32 lowercase hex digits>.<extension>`, random,
/// with the extension of the detected format. Keys are never reused, so the bytes behind one
/// never change. Anything else (`..`, slashes, upper case) is not a key, so no file system
/// or bucket ever sees it. The hex digits are kept as text: a listing reads and writes
/// thousands of keys, and checking 32 bytes is cheaper than converting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AvatarKey {
    id: [u8; ID_DIGITS],
    format: ImageFormat,
}

const ID_DIGITS: usize = 32;

const FORMATS: [ImageFormat; 4] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Gif,
    ImageFormat::WebP,
];

impl AvatarKey {
    pub const PREFIX: &'static str = "avatars/";

    /// A new, unique key for an avatar of `format`.
    pub fn new(format: ImageFormat) -> Self {
        let mut id = [0u8; ID_DIGITS];
        let random = uuid::Uuid::new_v4().simple().to_string();
        id.copy_from_slice(random.as_bytes());
        Self { id, format }
    }

    /// Reads a full key (`avatars/…`).
    pub fn parse(key: &str) -> Option<Self> {
        Self::from_file_name(key.strip_prefix(Self::PREFIX)?)
    }

    /// Reads the file-name part of a key (`<hex>.<ext>`).
    pub fn from_file_name(file_name: &str) -> Option<Self> {
        let bytes = file_name.as_bytes();
        if bytes.len() <= ID_DIGITS || bytes[ID_DIGITS] != b'.' {
            return None;
        }
        let (stem, extension) = (&bytes[..ID_DIGITS], &file_name[ID_DIGITS + 1..]);
        if !stem
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
        {
            return None;
        }
        let format = FORMATS
            .into_iter()
            .find(|format| format.extension() == extension)?;
        let mut id = [0u8; ID_DIGITS];
        id.copy_from_slice(stem);
        Some(Self { id, format })
    }

    /// The key behind an `avatar_url`, whatever base it was made with: a URL always ends
    /// with the key's file name.
    pub fn from_url(url: &str) -> Option<Self> {
        let (_, file_name) = url.rsplit_once('/')?;
        Self::from_file_name(file_name)
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    pub fn file_name(&self) -> String {
        let mut name = String::with_capacity(ID_DIGITS + 5);
        self.push_file_name(&mut name);
        name
    }

    fn push_file_name(&self, out: &mut String) {
        // The digits were checked to be ASCII hex when the key was made.
        out.push_str(std::str::from_utf8(&self.id).unwrap_or_default());
        out.push('.');
        out.push_str(self.format.extension());
    }
}

impl fmt::Display for AvatarKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PREFIX)?;
        f.write_str(&self.file_name())
    }
}

/// How avatar keys become the `avatar_url` clients see: a base (a CDN, the bucket's S3
/// URL, an emulator) and the key. An empty base gives site-relative URLs (`/avatars/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrls {
    base: String,
}

impl AvatarUrls {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn url(&self, key: &AvatarKey) -> String {
        let mut url =
            String::with_capacity(self.base.len() + 1 + AvatarKey::PREFIX.len() + ID_DIGITS + 5);
        url.push_str(&self.base);
        url.push('/');
        url.push_str(AvatarKey::PREFIX);
        key.push_file_name(&mut url);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_live_under_avatars_with_the_format_extension_and_are_unique() {
        let key = AvatarKey::new(ImageFormat::WebP);
        let text = key.to_string();
        assert!(text.starts_with("avatars/"), "{text}");
        assert!(text.ends_with(".webp"), "{text}");
        assert_eq!(AvatarKey::parse(&text), Some(key));
        assert_eq!(AvatarKey::from_file_name(&key.file_name()), Some(key));
        assert_ne!(key, AvatarKey::new(ImageFormat::WebP));
    }

    #[test]
    fn finds_the_key_behind_any_avatar_url() {
        let key = AvatarKey::new(ImageFormat::Png);
        for base in [
            "https://roster-avatars.s3.us-east-1.amazonaws.com",
            "http://127.0.0.1:5000/roster-avatars/",
            "",
        ] {
            let url = AvatarUrls::new(base).url(&key);
            assert_eq!(AvatarKey::from_url(&url), Some(key), "{url}");
        }
        assert_eq!(
            AvatarUrls::new("").url(&key),
            format!("/avatars/{}", key.file_name())
        );
    }

    #[test]
    fn refuses_names_that_roster_never_makes() {
        for name in [
            "../../etc/passwd",
            "0123456789abcdef0123456789abcdef.exe",
            "0123456789ABCDEF0123456789ABCDEF.png",
            "short.png",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef.png.png",
            "+123456789abcdef0123456789abcdef.png",
        ] {
            assert_eq!(AvatarKey::from_file_name(name), None, "{name}");
        }
        assert!(AvatarKey::from_file_name("0123456789abcdef0123456789abcdef.jpg").is_some());
        assert_eq!(
            AvatarKey::parse("other/0123456789abcdef0123456789abcdef.jpg"),
            None
        );
    }

    #[test]
    fn keys_keep_their_leading_zeros() {
        let key = AvatarKey::from_file_name("000000000000000000000000000000ff.gif").unwrap();
        assert_eq!(
            key.to_string(),
            "avatars/000000000000000000000000000000ff.gif"
        );
    }
}
