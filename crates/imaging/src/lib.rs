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
//! | JPEG | APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), COM, every other APPn (MPF, FPXR, JFXX thumbnails, ...), a JFIF thumbnail, stray bytes between segments, data after EOI | JFIF APP0 (without thumbnail), APP2 `ICC_PROFILE`, APP14 `Adobe`, all coding segments and entropy-coded data |
//! | PNG | `tEXt`, `zTXt`, `iTXt`, `eXIf`, `tIME`, every other ancillary chunk not in the kept list, data after IEND | `IHDR PLTE IDAT IEND tRNS cHRM gAMA iCCP sBIT sRGB cICP mDCv cLLi bKGD hIST pHYs sPLT acTL fcTL fdAT` |
//! | WebP | `EXIF`, `XMP `, unknown chunks (inside `ANMF` frames too), data after the RIFF end; VP8X flags, frame sizes and RIFF size rewritten to match | `VP8X ICCP ANIM ANMF ALPH VP8 VP8L` |
//! | GIF | comment, plain text and unknown extensions, application extensions other than `NETSCAPE2.0`, `ANIMEXTS1.0` and `ICCRGBG1012` (the ICC profile), stray bytes between blocks, data after the trailer | header, colour tables, graphic control, image data |
//!
//! Defects that browsers and Pillow read past are accepted and left out of
//! the output: stray bytes between JPEG segments (skipped to the next marker
//! as libjpeg does) or GIF blocks, a GIF ending without its trailer or
//! inside an extension after complete frames, a PNG cut inside its final
//! IEND checksum. Truncated image data and CRC errors are refused.
//!
//! # Orientation
//!
//! A photo's orientation is kept as the only EXIF field, a *minimal EXIF*: a
//! 26-byte big-endian TIFF structure holding one IFD0 entry, Orientation
//! (0x0112). It is read from EXIF (SHORT, LONG or SLONG), else XMP
//! (`tiff:Orientation`), else ImageMagick's PNG text chunk
//! (`exif:Orientation`), and written where the first such block was (PNG:
//! before the image data). [`inspect`] does not count exactly that structure
//! as metadata, so a stripped file inspects with `has_metadata == false`.
//! Rotating the image data itself losslessly would mean rewriting the
//! entropy-coded data (and is impossible for JPEG sizes that are not
//! multiples of the MCU), so the orientation tag is the lossless answer.
//!
//! # Limits and errors
//!
//! [`Limits`] bound what an image costs the people who view it: pixels per
//! frame, frames, pixels over all frames of an animation, JPEG scans.
//! [`ImageError::Unsupported`] when the signature is none of the four
//! (answer 415), [`ImageError::Malformed`] when it is one of them but its
//! structure cannot be walked, `TooMany*` when it exceeds a limit (answer
//! 422 to all of these), [`ImageError::Io`] when reading or writing failed
//! (answer 500).

#![forbid(unsafe_code)]

mod crc;
mod exif;
mod gif;
mod inflate;
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
    /// Frames a viewer decodes: 1 for a still image, the number of frames of
    /// an animation (GIF images, APNG `fcTL` frames plus a default image
    /// that is not one of them, WebP `ANMF` frames).
    pub frames: u32,
    /// Whether [`strip`] would remove or rewrite anything, i.e. whether its
    /// output would differ from the input. A minimal orientation-only EXIF
    /// (as `strip` writes it, where it writes it) is not metadata.
    pub has_metadata: bool,
}

impl Inspection {
    /// `width * height`: what one frame costs a viewer.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// `frames * width * height`: what the whole image costs a viewer, every
    /// frame composited on the full canvas as browsers do.
    pub fn total_pixels(&self) -> u64 {
        u64::from(self.frames) * self.pixels()
    }
}

/// Default for [`Limits::max_pixels`]: 25 megapixels (a 6,000 × 4,000 phone
/// photo is 24), 100 MB decoded at 4 bytes a pixel.
pub const DEFAULT_MAX_PIXELS: u64 = 25_000_000;
/// Default for [`Limits::max_frames`]: 1,000 frames, 40 s at 25 frames a
/// second; a 10 s sticker at the fastest common rate (50 a second) has 500.
pub const DEFAULT_MAX_FRAMES: u32 = 1_000;
/// Default for [`Limits::max_total_pixels`]: 100 megapixels across all frames
/// (400 MB decoded), e.g. 380 frames of 512 × 512, 770 of 480 × 270 or the
/// frame cap at 320 × 320.
pub const DEFAULT_MAX_TOTAL_PIXELS: u64 = 100_000_000;
/// Default for [`Limits::max_scans`]: 100 scans; libjpeg's progressive
/// script writes 10 (6 for greyscale), mozjpeg's optimised ones fewer than 20.
pub const DEFAULT_MAX_SCANS: u32 = 100;

/// What an image may cost the people who view it; passed to [`inspect`] and
/// [`strip`], which refuse an image over any of them as soon as the walk
/// shows it (so a bomb is refused without reading the rest of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest `width * height` (the largest extent declared anywhere):
    /// [`ImageError::TooManyPixels`].
    pub max_pixels: u64,
    /// Most frames in an animation: [`ImageError::TooManyFrames`].
    pub max_frames: u32,
    /// Largest `frames * width * height` of an animation (more than one
    /// frame): [`ImageError::TooManyTotalPixels`].
    pub max_total_pixels: u64,
    /// Most scans in a JPEG (a progressive JPEG is drawn again after each
    /// one): [`ImageError::TooManyScans`].
    pub max_scans: u32,
}

impl Limits {
    /// The `DEFAULT_*` constants.
    pub const DEFAULT: Limits = Limits {
        max_pixels: DEFAULT_MAX_PIXELS,
        max_frames: DEFAULT_MAX_FRAMES,
        max_total_pixels: DEFAULT_MAX_TOTAL_PIXELS,
        max_scans: DEFAULT_MAX_SCANS,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why an image was refused. Every variant but `Io` is the client's to fix
/// (HTTP 415 for `Unsupported`, 422 for the others); the `Display` text says
/// what is wrong in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Not a PNG, JPEG, GIF or WebP signature (HTTP 415).
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unsupported,
    /// Starts like an accepted format but its structure cannot be walked (HTTP 422).
    #[error("malformed {format} image: {reason}")]
    Malformed { format: ImageFormat, reason: String },
    /// Declares a canvas or frame of more than [`Limits::max_pixels`] (HTTP 422).
    #[error(
        "{format} image of {width}x{height} pixels is larger than the limit of {limit} pixels; \
         scale it down"
    )]
    TooManyPixels {
        format: ImageFormat,
        width: u32,
        height: u32,
        limit: u64,
    },
    /// An animation of more than [`Limits::max_frames`] frames (HTTP 422).
    #[error(
        "{format} animation has more than {limit} frames, the most accepted; \
         shorten it or drop frames"
    )]
    TooManyFrames { format: ImageFormat, limit: u32 },
    /// An animation whose frames add up to more than
    /// [`Limits::max_total_pixels`] (HTTP 422). `frames` is how many had been
    /// counted when the budget ran out.
    #[error(
        "{format} animation of {frames} or more frames of {width}x{height} pixels exceeds \
         the limit of {limit} pixels for all frames together; use fewer frames or a smaller size"
    )]
    TooManyTotalPixels {
        format: ImageFormat,
        frames: u32,
        width: u32,
        height: u32,
        limit: u64,
    },
    /// A JPEG of more than [`Limits::max_scans`] scans (HTTP 422).
    #[error(
        "JPEG image has more than {limit} scans, the most accepted; \
         save it as a baseline JPEG or with the encoder's standard progressive settings"
    )]
    TooManyScans { limit: u32 },
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

/// Keeps an image within [`Limits`] while it is walked: the largest extent,
/// the frames, and their total.
pub(crate) struct Budget {
    limits: Limits,
    format: ImageFormat,
    width: u32,
    height: u32,
    frames: u32,
}

impl Budget {
    fn new(limits: Limits, format: ImageFormat) -> Self {
        Budget {
            limits,
            format,
            width: 0,
            height: 0,
            frames: 0,
        }
    }

    /// A canvas or frame reaching to `width` x `height`.
    pub fn extent(&mut self, width: u32, height: u32) -> Result<(), ImageError> {
        self.width = self.width.max(width);
        self.height = self.height.max(height);
        let pixels = u64::from(self.width) * u64::from(self.height);
        if pixels > self.limits.max_pixels {
            return Err(ImageError::TooManyPixels {
                format: self.format,
                width: self.width,
                height: self.height,
                limit: self.limits.max_pixels,
            });
        }
        self.check_total()
    }

    /// One more frame, reaching to `width` x `height`.
    pub fn frame(&mut self, width: u32, height: u32) -> Result<(), ImageError> {
        if self.frames >= self.limits.max_frames {
            return Err(ImageError::TooManyFrames {
                format: self.format,
                limit: self.limits.max_frames,
            });
        }
        self.frames += 1;
        self.extent(width, height)
    }

    fn check_total(&self) -> Result<(), ImageError> {
        let total = u64::from(self.frames) * u64::from(self.width) * u64::from(self.height);
        if self.frames > 1 && total > self.limits.max_total_pixels {
            return Err(ImageError::TooManyTotalPixels {
                format: self.format,
                frames: self.frames,
                width: self.width,
                height: self.height,
                limit: self.limits.max_total_pixels,
            });
        }
        Ok(())
    }

    pub fn max_scans(&self) -> u32 {
        self.limits.max_scans
    }

    pub fn frames(&self) -> u32 {
        self.frames
    }

    pub fn inspection(&self, has_metadata: bool) -> Inspection {
        Inspection {
            format: self.format,
            width: self.width,
            height: self.height,
            frames: self.frames,
            has_metadata,
        }
    }
}

/// What a walk over one file found, and what pass 2 of [`strip`] must know
/// before it reaches the place it applies to (the orientation may come from a
/// block near the end; WebP sizes and flags precede what they describe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Walk {
    pub inspection: Inspection,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    /// The orientation (2..=8) the output's minimal EXIF carries, if any.
    pub orientation: Option<u16>,
    /// WebP: the RIFF size of the output.
    pub riff_size: u32,
    /// WebP: the VP8X flags of the output.
    pub vp8x_flags: u8,
    /// WebP: the size of each ANMF chunk of the output, in order.
    pub anmf_sizes: Vec<u32>,
    /// GIF: the input offset of an extension the file ends inside (after
    /// complete frames), where the output ends.
    pub cut_at: Option<u64>,
}

fn walk<R: Read, W: Write>(
    input: R,
    out: &mut Out<W>,
    limits: Limits,
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
    let mut budget = Budget::new(limits, format);
    let walk = match format {
        ImageFormat::Png => png::walk(&mut src, out, &mut budget, plan),
        ImageFormat::Jpeg => jpeg::walk(&mut src, out, &mut budget, plan),
        ImageFormat::Gif => gif::walk(&mut src, out, &mut budget, plan),
        ImageFormat::WebP => webp::walk(&mut src, out, &mut budget, plan),
    }?;
    debug_assert!(walk.plan.orientation.is_none_or(|o| (2..=8).contains(&o)));
    Ok(walk)
}

/// Sniffs the format from the signature and walks the whole structure:
/// dimensions, frames, soundness, and whether there is metadata; refuses an
/// image over `limits`. Reads through a fixed buffer and never decodes pixel
/// data.
///
/// Reads `input` to the end of the image plus at most one buffer beyond it
/// (to learn whether trailing data follows).
pub fn inspect<R: Read>(input: R, limits: Limits) -> Result<Inspection, ImageError> {
    let mut out = Out::<io::Sink>::none();
    Ok(walk(input, &mut out, limits, None)?.inspection)
}

/// Copies the image from `input` to `output` with its metadata removed (see
/// the crate documentation), image data streamed through untouched, and
/// returns the [`Inspection`] of the *input* (`has_metadata` tells whether
/// anything was removed). Refuses what [`inspect`] refuses.
///
/// The input is read twice, from its current position: once to validate it
/// and plan the output, then again to write it; so nothing is written when
/// the input is refused. When the input has no metadata the output is the
/// input byte for byte. Error: whatever was written to `output` is to be
/// thrown away.
pub fn strip<R: Read + Seek, W: Write>(
    mut input: R,
    output: W,
    limits: Limits,
) -> Result<Inspection, ImageError> {
    let start = input.stream_position()?;
    let first = {
        let mut out = Out::<io::Sink>::none();
        walk(&mut input, &mut out, limits, None)?
    };
    input.seek(SeekFrom::Start(start))?;
    let mut writer = BufWriter::with_capacity(stream::BUF_SIZE, output);
    let second = {
        let mut out = Out::new(&mut writer);
        walk(&mut input, &mut out, limits, Some(&first.plan))?
    };
    if second != first {
        return Err(ImageError::Io(io::Error::other(
            "the input changed while it was being stripped",
        )));
    }
    writer.flush()?;
    Ok(first.inspection)
}
