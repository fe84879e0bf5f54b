//! Header inspection and lossless metadata stripping for avatar images.
//!
//! `roster` accepts PNG, JPEG, GIF and WebP avatars. This crate answers two
//! questions about an upload without ever decoding a pixel:
//!
//! * [`inspect`]: which of the four formats is it, how large does it declare
//!   itself to be, is its structure sound, and does it carry metadata?
//! * [`strip`]: copy it with the metadata removed, every byte of image data
//!   passed through untouched.
//!
//! Both walk the file as a stream through a fixed buffer (16 KiB in, 16 KiB
//! out, plus at most one 64 KiB segment buffer for JPEG headers and EXIF),
//! so memory never grows with the image.
//!
//! # What goes and what stays
//!
//! | format | removed | kept |
//! | --- | --- | --- |
//! | JPEG | APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), COM, every other APPn (MPF, FPXR, JFXX thumbnails, ...), a JFIF thumbnail, data after EOI | JFIF APP0 (without thumbnail), APP2 `ICC_PROFILE`, APP14 `Adobe`, all coding segments and entropy-coded data |
//! | PNG | `tEXt`, `zTXt`, `iTXt`, `eXIf`, `tIME`, every other ancillary chunk not in the kept list, data after IEND | `IHDR PLTE IDAT IEND tRNS cHRM gAMA iCCP sBIT sRGB cICP mDCv cLLi bKGD hIST pHYs sPLT acTL fcTL fdAT` |
//! | WebP | `EXIF`, `XMP `, unknown chunks, data after the RIFF end; VP8X flags and RIFF size rewritten to match | `VP8X ICCP ANIM ANMF ALPH VP8 VP8L` |
//! | GIF | comment extensions, application extensions other than `NETSCAPE2.0`, `ANIMEXTS1.0` and `ICCRGBG1012` (the ICC profile), unknown extensions, data after the trailer | header, colour tables, graphic control, plain text, image data |
//!
//! # Orientation
//!
//! A photo's EXIF orientation is kept as the only EXIF field: where the input
//! had an EXIF orientation other than 1 (JPEG APP1, PNG `eXIf`, WebP `EXIF`),
//! the EXIF block is replaced in place by a *minimal EXIF*: a 26-byte
//! big-endian TIFF structure holding one IFD0 entry, Orientation (0x0112).
//! [`inspect`] does not count exactly that structure as metadata, so a
//! stripped file inspects with `has_metadata == false`. Rotating the image
//! data itself losslessly would mean rewriting the entropy-coded data (and is
//! impossible for JPEG sizes that are not multiples of the MCU), so the
//! orientation tag is the lossless answer.
//!
//! # Errors
//!
//! [`ImageError::Unsupported`] when the signature is none of the four
//! (answer 415), [`ImageError::Malformed`] when it is one of them but its
//! structure cannot be walked (answer 422), [`ImageError::TooManyPixels`] from
//! [`Inspection::check_pixels`] (answer 422), [`ImageError::Io`] when reading
//! or writing failed (answer 500).

#![forbid(unsafe_code)]

mod crc;
mod exif;
mod gif;
mod jpeg;
mod png;
mod stream;
mod webp;

use std::fmt;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use stream::{Out, Src};

/// One of the four accepted image formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl ImageFormat {
    /// The media type to serve the image with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::WebP => "image/webp",
        }
    }

    /// The file extension to store the image under, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Gif => "gif",
            ImageFormat::WebP => "webp",
        }
    }

    /// Recognises a format from the first bytes of a file (12 are enough).
    ///
    /// `None` when the bytes are no prefix of an accepted signature.
    pub fn sniff(prefix: &[u8]) -> Option<Sniffed> {
        const SIGS: [(ImageFormat, &[u8]); 5] = [
            (ImageFormat::Png, b"\x89PNG\r\n\x1a\n"),
            (ImageFormat::Jpeg, b"\xFF\xD8\xFF"),
            (ImageFormat::Gif, b"GIF87a"),
            (ImageFormat::Gif, b"GIF89a"),
            // RIFF, any size, WEBP: '?' bytes are wildcards.
            (ImageFormat::WebP, b"RIFF????WEBP"),
        ];
        if prefix.is_empty() {
            return None;
        }
        for (format, sig) in SIGS {
            let n = sig.len().min(prefix.len());
            let matches = sig[..n]
                .iter()
                .zip(&prefix[..n])
                .enumerate()
                .all(|(i, (s, p))| (format == ImageFormat::WebP && (4..8).contains(&i)) || s == p);
            if matches {
                return Some(if prefix.len() >= sig.len() {
                    Sniffed::Complete(format)
                } else {
                    Sniffed::Truncated(format)
                });
            }
        }
        None
    }
}

/// The result of [`ImageFormat::sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// The whole signature is there.
    Complete(ImageFormat),
    /// The bytes end inside the signature of this format.
    Truncated(ImageFormat),
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Gif => "GIF",
            ImageFormat::WebP => "WebP",
        })
    }
}

/// What [`inspect`] learnt about an image from its structure alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inspection {
    pub format: ImageFormat,
    /// Width in pixels: the largest extent declared anywhere in the file
    /// (canvas, frame or sub-image), so that no decoder can be made to
    /// allocate more than `width * height` pixels per frame.
    pub width: u32,
    /// Height in pixels, the same way as `width`.
    pub height: u32,
    /// Whether [`strip`] would remove or rewrite anything, i.e. whether its
    /// output would differ from the input. A minimal orientation-only EXIF
    /// (as `strip` writes it) is not metadata.
    pub has_metadata: bool,
}

impl Inspection {
    /// `width * height`.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Refuses an image declaring more than `max_pixels` pixels.
    pub fn check_pixels(&self, max_pixels: u64) -> Result<(), ImageError> {
        if self.pixels() > max_pixels {
            return Err(ImageError::TooManyPixels {
                format: self.format,
                width: self.width,
                height: self.height,
                limit: max_pixels,
            });
        }
        Ok(())
    }
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Not a PNG, JPEG, GIF or WebP signature (HTTP 415).
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unsupported,
    /// Starts like an accepted format but its structure cannot be walked (HTTP 422).
    #[error("malformed {format} image: {reason}")]
    Malformed { format: ImageFormat, reason: String },
    /// Declares more pixels than allowed (HTTP 422); see [`Inspection::check_pixels`].
    #[error("{format} image of {width}x{height} pixels exceeds the limit of {limit} pixels")]
    TooManyPixels {
        format: ImageFormat,
        width: u32,
        height: u32,
        limit: u64,
    },
    /// Reading the input or writing the output failed (HTTP 500).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl ImageError {
    pub(crate) fn malformed(format: ImageFormat, reason: impl Into<String>) -> Self {
        ImageError::Malformed {
            format,
            reason: reason.into(),
        }
    }
}

/// What a walk over one file found, and what pass 2 of [`strip`] must write
/// up front (WebP's RIFF size and VP8X flags depend on chunks at the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk {
    pub inspection: Inspection,
    pub plan: Plan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    /// WebP: the RIFF size of the output.
    pub riff_size: u32,
    /// WebP: the VP8X flags of the output.
    pub vp8x_flags: u8,
}

fn walk<R: Read, W: Write>(
    input: R,
    out: &mut Out<W>,
    plan: Option<&Plan>,
) -> Result<Walk, ImageError> {
    let mut src = Src::new(input);
    let prefix = src.peek(12)?;
    let format = match ImageFormat::sniff(prefix) {
        None => return Err(ImageError::Unsupported),
        Some(Sniffed::Truncated(format)) => {
            return Err(ImageError::malformed(format, "truncated signature"));
        }
        Some(Sniffed::Complete(format)) => format,
    };
    src.set_format(format);
    match format {
        ImageFormat::Png => png::walk(&mut src, out),
        ImageFormat::Jpeg => jpeg::walk(&mut src, out),
        ImageFormat::Gif => gif::walk(&mut src, out),
        ImageFormat::WebP => webp::walk(&mut src, out, plan),
    }
}

/// Sniffs the format from the signature and walks the whole structure:
/// dimensions, soundness, and whether there is metadata. Reads through a
/// fixed buffer and never decodes pixel data.
///
/// Reads `input` to the end of the image plus at most one buffer beyond it
/// (to learn whether trailing data follows).
pub fn inspect<R: Read>(input: R) -> Result<Inspection, ImageError> {
    let mut out = Out::<io::Sink>::none();
    Ok(walk(input, &mut out, None)?.inspection)
}

/// Copies the image from `input` to `output` with its metadata removed (see
/// the crate documentation), image data streamed through untouched, and
/// returns the [`Inspection`] of the *input* (`has_metadata` tells whether
/// anything was removed).
///
/// The input is read twice, from its current position: once to validate it
/// and plan the output, then again to write it; so nothing is written when
/// the input is refused. When the input has no metadata the output is the
/// input byte for byte. Error: whatever was written to `output` is to be
/// thrown away.
pub fn strip<R: Read + Seek, W: Write>(mut input: R, output: W) -> Result<Inspection, ImageError> {
    let start = input.stream_position()?;
    let first = {
        let mut out = Out::<io::Sink>::none();
        walk(&mut input, &mut out, None)?
    };
    input.seek(SeekFrom::Start(start))?;
    let mut writer = BufWriter::with_capacity(stream::BUF_SIZE, output);
    let second = {
        let mut out = Out::new(&mut writer);
        walk(&mut input, &mut out, Some(&first.plan))?
    };
    if second != first {
        return Err(ImageError::Io(io::Error::other(
            "the input changed while it was being stripped",
        )));
    }
    writer.flush()?;
    Ok(first.inspection)
}
