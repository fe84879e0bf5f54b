use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};

use bytes::Bytes;
use roster_imaging::ImageError;
pub use roster_imaging::ImageFormat;
use tempfile::NamedTempFile;

use super::spooled::{Spooled, SpooledReader};

/// What an avatar may weigh: bytes on the wire, pixels declared by its header, and what an
/// animation may cost every viewer who decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvatarLimits {
    pub max_bytes: u64,
    pub max_pixels: u64,
    pub max_frames: u32,
    pub max_total_pixels: u64,
}

impl AvatarLimits {
    /// The image limits, with the crate's scan cap for JPEG.
    fn image(&self) -> roster_imaging::Limits {
        roster_imaging::Limits {
            max_pixels: self.max_pixels,
            max_frames: self.max_frames,
            max_total_pixels: self.max_total_pixels,
            ..roster_imaging::Limits::DEFAULT
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("avatar must not be empty")]
    Empty,
    #[error("avatar is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("avatar must be a PNG, JPEG, GIF or WebP image")]
    UnsupportedFormat,
    #[error("avatar declares {width}x{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("avatar is a {format} image whose structure cannot be read: {reason}")]
    Malformed { format: ImageFormat, reason: String },
    /// Too many frames, too many pixels over all frames, or too many JPEG scans: cheap for
    /// the uploader, expensive for every viewer.
    #[error("avatar: {0}")]
    TooCostly(String),
    #[error("avatar could not be read or written in temporary storage")]
    Io(#[from] std::io::Error),
}

impl From<ImageError> for AvatarError {
    fn from(error: ImageError) -> Self {
        match error {
            ImageError::Unsupported => Self::UnsupportedFormat,
            ImageError::Malformed { format, reason } => Self::Malformed { format, reason },
            ImageError::TooManyPixels {
                width,
                height,
                limit,
                ..
            } => Self::TooManyPixels {
                width,
                height,
                limit,
            },
            error @ (ImageError::TooManyFrames { .. }
            | ImageError::TooManyTotalPixels { .. }
            | ImageError::TooManyScans { .. }) => Self::TooCostly(error.to_string()),
            ImageError::Io(error) => Self::Io(error),
        }
    }
}

/// An uploaded image that is non-empty, within the byte and pixel limits, of one of the
/// accepted formats, and free of metadata (EXIF, XMP, IPTC, comments, text chunks), with
/// its pixels, colour profile and orientation untouched. Its bytes are spooled (in memory
/// or a temporary file) and disappear with the value, so an upload refused anywhere later
/// leaves nothing.
#[derive(Debug)]
pub struct Avatar {
    bytes: Spooled,
    format: ImageFormat,
    size: u64,
}

impl Avatar {
    /// Judges a spooled upload by its bytes alone; the client's file name and content type
    /// play no part. The header gives the dimensions without decoding a pixel; metadata is
    /// removed by copying the image's structure through without it (never re-encoding),
    /// and an upload without metadata is kept byte for byte. The stripped copy is spooled
    /// where the upload was.
    pub fn parse(upload: Spooled, limits: AvatarLimits) -> Result<Self, AvatarError> {
        let size = upload.size()?;
        if size == 0 {
            return Err(AvatarError::Empty);
        }
        if size > limits.max_bytes {
            return Err(AvatarError::TooLarge {
                limit: limits.max_bytes,
            });
        }
        let mut input = upload.reader()?;
        let image_limits = limits.image();
        let inspection = roster_imaging::inspect(BufReader::new(&mut input), image_limits)?;
        if !inspection.has_metadata {
            return Ok(Self {
                bytes: upload,
                format: inspection.format,
                size,
            });
        }
        input.seek(SeekFrom::Start(0))?;
        let stripped = match &upload {
            Spooled::Memory(original) => {
                let mut output = Vec::with_capacity(original.len());
                roster_imaging::strip(&mut input, &mut output, image_limits)?;
                Spooled::Memory(Bytes::from(output))
            }
            Spooled::File(original) => {
                let stripped = match original.path().parent() {
                    Some(directory) => NamedTempFile::new_in(directory)?,
                    None => NamedTempFile::new()?,
                };
                let mut output = BufWriter::new(stripped.reopen()?);
                roster_imaging::strip(&mut input, &mut output, image_limits)?;
                output.flush()?;
                Spooled::File(stripped)
            }
        };
        let size = stripped.size()?;
        Ok(Self {
            bytes: stripped,
            format: inspection.format,
            size,
        })
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// Bytes of the avatar as it will be stored.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the avatar's bytes are.
    pub fn spooled(&self) -> &Spooled {
        &self.bytes
    }

    /// A fresh reader over the avatar's bytes, from the start.
    pub fn open(&self) -> std::io::Result<SpooledReader> {
        self.bytes.reader()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const LIMITS: AvatarLimits = AvatarLimits {
        max_bytes: 4096,
        max_pixels: 100,
        max_frames: 10,
        max_total_pixels: 1000,
    };

    fn spooled(bytes: &[u8]) -> Spooled {
        Spooled::Memory(Bytes::copy_from_slice(bytes))
    }

    fn spooled_in_a_file(bytes: &[u8]) -> Spooled {
        let mut file = NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        Spooled::File(file)
    }

    fn stored(avatar: &Avatar) -> Vec<u8> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut avatar.open().unwrap(), &mut bytes).unwrap();
        bytes
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (!(crc & 1)).wrapping_add(1));
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&crc32(&body).to_be_bytes());
        bytes
    }

    /// A 1-bit greyscale PNG of `width` × `height`, optionally with a tEXt chunk. The image
    /// data is a stored (uncompressed) zlib stream of zero rows.
    fn png(width: u32, height: u32, text: Option<&[u8]>) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[1, 0, 0, 0, 0]);
        let row = 1 + (width as usize).div_ceil(8);
        let raw = vec![0u8; row * height as usize];
        let mut zlib = vec![0x78, 0x01, 1];
        zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
        zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
        zlib.extend_from_slice(&raw);
        let adler = raw.iter().fold((1u32, 0u32), |(a, b), &byte| {
            let a = (a + u32::from(byte)) % 65521;
            (a, (b + a) % 65521)
        });
        zlib.extend_from_slice(&((adler.1 << 16) | adler.0).to_be_bytes());
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(chunk(b"IHDR", &header));
        if let Some(text) = text {
            bytes.extend(chunk(b"tEXt", text));
        }
        bytes.extend(chunk(b"IDAT", &zlib));
        bytes.extend(chunk(b"IEND", b""));
        bytes
    }

    #[test]
    fn an_image_without_metadata_is_kept_byte_for_byte() {
        let original = png(10, 10, None);
        for upload in [spooled(&original), spooled_in_a_file(&original)] {
            let avatar = Avatar::parse(upload, LIMITS).unwrap();
            assert_eq!(avatar.format(), ImageFormat::Png);
            assert_eq!(stored(&avatar), original);
            assert_eq!(avatar.size(), original.len() as u64);
        }
    }

    #[test]
    fn text_metadata_is_removed_and_the_rest_kept_where_the_upload_was_spooled() {
        let with_text = png(10, 10, Some(b"Comment\0taken at home"));
        for upload in [spooled(&with_text), spooled_in_a_file(&with_text)] {
            let in_memory = matches!(upload, Spooled::Memory(_));
            let avatar = Avatar::parse(upload, LIMITS).unwrap();
            assert_eq!(matches!(avatar.spooled(), Spooled::Memory(_)), in_memory);
            assert_eq!(stored(&avatar), png(10, 10, None));
            assert_eq!(avatar.size(), stored(&avatar).len() as u64);
        }
    }

    #[test]
    fn rejects_an_empty_upload() {
        assert!(matches!(
            Avatar::parse(spooled(b""), LIMITS),
            Err(AvatarError::Empty)
        ));
    }

    #[test]
    fn accepts_the_byte_limit_and_rejects_one_more_byte() {
        let image = png(2, 2, None);
        let limits = AvatarLimits {
            max_bytes: image.len() as u64,
            ..LIMITS
        };
        assert!(Avatar::parse(spooled(&image), limits).is_ok());
        let tight = AvatarLimits {
            max_bytes: image.len() as u64 - 1,
            ..LIMITS
        };
        assert!(matches!(
            Avatar::parse(spooled(&image), tight),
            Err(AvatarError::TooLarge { .. })
        ));
    }

    #[test]
    fn accepts_the_pixel_limit_and_rejects_one_more_pixel() {
        assert!(Avatar::parse(spooled(&png(10, 10, None)), LIMITS).is_ok());
        assert!(Avatar::parse(spooled(&png(100, 1, None)), LIMITS).is_ok());
        assert!(matches!(
            Avatar::parse(spooled(&png(101, 1, None)), LIMITS),
            Err(AvatarError::TooManyPixels {
                width: 101,
                height: 1,
                limit: 100
            })
        ));
    }

    #[test]
    fn judges_by_content_not_by_name() {
        for bytes in [
            &b"%PDF-1.7 not an image"[..],
            b"BM\x00\x00 a bitmap",
            b"plain text",
        ] {
            assert!(matches!(
                Avatar::parse(spooled(bytes), LIMITS),
                Err(AvatarError::UnsupportedFormat)
            ));
        }
    }

    #[test]
    fn a_truncated_image_of_an_accepted_type_is_malformed() {
        let truncated = &png(10, 10, None)[..30];
        assert!(matches!(
            Avatar::parse(spooled(truncated), LIMITS),
            Err(AvatarError::Malformed {
                format: ImageFormat::Png,
                ..
            })
        ));
        assert!(matches!(
            Avatar::parse(spooled(b"\xff\xd8\xff\xe0\x00"), LIMITS),
            Err(AvatarError::Malformed {
                format: ImageFormat::Jpeg,
                ..
            })
        ));
    }
}
