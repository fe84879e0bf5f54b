use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use tempfile::NamedTempFile;

/// The image formats roster stores, judged from the bytes of the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl ImageFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::WebP => "webp",
        }
    }

    /// The format a stored object's file extension stands for.
    pub fn from_extension(extension: &str) -> Option<Self> {
        [Self::Png, Self::Jpeg, Self::Gif, Self::WebP]
            .into_iter()
            .find(|format| format.extension() == extension)
    }

    /// The format whose signature `header` starts with, if it is one roster accepts.
    fn sniff(header: &[u8]) -> Option<Self> {
        if infer::image::is_png(header) {
            Some(Self::Png)
        } else if infer::image::is_jpeg(header) {
            Some(Self::Jpeg)
        } else if infer::image::is_gif(header) {
            Some(Self::Gif)
        } else if infer::image::is_webp(header) {
            Some(Self::WebP)
        } else {
            None
        }
    }
}

/// What an avatar may weigh: bytes on the wire, pixels declared by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvatarLimits {
    pub max_bytes: u64,
    pub max_pixels: u64,
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
    TooManyPixels { width: u64, height: u64, limit: u64 },
    #[error("avatar is a {} image whose structure cannot be read", .0.extension())]
    Malformed(ImageFormat),
    #[error("avatar could not be read back from its temporary file")]
    Io(#[from] std::io::Error),
}

/// An uploaded image that is non-empty, within the byte and pixel limits, and of one of
/// the accepted formats. It lives in a temporary file that disappears with the value, so
/// an upload that is refused anywhere later leaves nothing behind.
#[derive(Debug)]
pub struct Avatar {
    file: NamedTempFile,
    format: ImageFormat,
    size: u64,
    width: u64,
    height: u64,
}

impl Avatar {
    /// Judges a spooled upload by its bytes alone; the client's file name and content type
    /// play no part. Dimensions come from the header, without decoding any pixel.
    pub fn parse(file: NamedTempFile, limits: AvatarLimits) -> Result<Self, AvatarError> {
        let size = file.as_file().metadata()?.len();
        if size == 0 {
            return Err(AvatarError::Empty);
        }
        if size > limits.max_bytes {
            return Err(AvatarError::TooLarge {
                limit: limits.max_bytes,
            });
        }
        let mut reader = BufReader::new(file.reopen()?);
        let format = sniff_format(&mut reader)?;
        reader.seek(SeekFrom::Start(0))?;
        let dimensions =
            imagesize::reader_size(&mut reader).map_err(|_| AvatarError::Malformed(format))?;
        let (width, height) = (dimensions.width as u64, dimensions.height as u64);
        if width == 0 || height == 0 {
            return Err(AvatarError::Malformed(format));
        }
        if width.saturating_mul(height) > limits.max_pixels {
            return Err(AvatarError::TooManyPixels {
                width,
                height,
                limit: limits.max_pixels,
            });
        }
        Ok(Self {
            file,
            format,
            size,
            width,
            height,
        })
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn dimensions(&self) -> (u64, u64) {
        (self.width, self.height)
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// A fresh handle on the avatar's bytes, from the start.
    pub fn open(&self) -> std::io::Result<File> {
        self.file.reopen()
    }
}

fn sniff_format(reader: &mut impl Read) -> Result<ImageFormat, AvatarError> {
    let mut header = [0u8; 16];
    let mut filled = 0;
    while filled < header.len() {
        match reader.read(&mut header[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    ImageFormat::sniff(&header[..filled]).ok_or(AvatarError::UnsupportedFormat)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const LIMITS: AvatarLimits = AvatarLimits {
        max_bytes: 1024,
        max_pixels: 100,
    };

    fn spooled(bytes: &[u8]) -> NamedTempFile {
        let mut file = NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    /// The smallest PNG header: signature plus an IHDR chunk declaring the given size.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    fn gif_header(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = b"GIF89a".to_vec();
        bytes.extend_from_slice(&width.to_le_bytes());
        bytes.extend_from_slice(&height.to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0x3b]);
        bytes
    }

    #[test]
    fn detects_each_accepted_format_from_its_bytes() {
        let png = Avatar::parse(spooled(&png_header(10, 10)), LIMITS).unwrap();
        assert_eq!(png.format(), ImageFormat::Png);
        assert_eq!(png.dimensions(), (10, 10));
        let gif = Avatar::parse(spooled(&gif_header(5, 4)), LIMITS).unwrap();
        assert_eq!(gif.format(), ImageFormat::Gif);
        assert_eq!(gif.format().content_type(), "image/gif");
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
        let mut at_limit = png_header(2, 2);
        at_limit.resize(LIMITS.max_bytes as usize, 0);
        assert!(Avatar::parse(spooled(&at_limit), LIMITS).is_ok());
        at_limit.push(0);
        assert!(matches!(
            Avatar::parse(spooled(&at_limit), LIMITS),
            Err(AvatarError::TooLarge { limit: 1024 })
        ));
    }

    #[test]
    fn accepts_the_pixel_limit_and_rejects_one_more_pixel() {
        assert!(Avatar::parse(spooled(&png_header(10, 10)), LIMITS).is_ok());
        assert!(Avatar::parse(spooled(&png_header(100, 1)), LIMITS).is_ok());
        assert!(matches!(
            Avatar::parse(spooled(&png_header(101, 1)), LIMITS),
            Err(AvatarError::TooManyPixels {
                width: 101,
                height: 1,
                limit: 100
            })
        ));
    }

    #[test]
    fn refuses_a_header_declaring_a_huge_image_without_decoding_it() {
        let bomb = png_header(100_000, 100_000);
        let limits = AvatarLimits {
            max_bytes: 1024,
            max_pixels: 25_000_000,
        };
        assert!(matches!(
            Avatar::parse(spooled(&bomb), limits),
            Err(AvatarError::TooManyPixels { .. })
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
    fn a_truncated_header_of_an_accepted_type_is_malformed() {
        let truncated = &png_header(10, 10)[..18];
        assert!(matches!(
            Avatar::parse(spooled(truncated), LIMITS),
            Err(AvatarError::Malformed(ImageFormat::Png))
        ));
        assert!(matches!(
            Avatar::parse(spooled(b"\xff\xd8\xff\xe0\x00"), LIMITS),
            Err(AvatarError::Malformed(ImageFormat::Jpeg))
        ));
    }

    #[test]
    fn a_zero_sized_image_is_malformed() {
        assert!(matches!(
            Avatar::parse(spooled(&png_header(0, 10)), LIMITS),
            Err(AvatarError::Malformed(ImageFormat::Png))
        ));
    }

    #[test]
    fn maps_extensions_back_to_formats() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            assert_eq!(
                ImageFormat::from_extension(format.extension()),
                Some(format)
            );
        }
        assert_eq!(ImageFormat::from_extension("bmp"), None);
    }
}
