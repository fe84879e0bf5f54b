//! The edges of real files: defects browsers read past (each fixture has
//! exactly one), orientation from every place it is written, metadata
//! inside animation frames, and the limits on what an image costs viewers.
//! The fixtures are also stripped and read back by Pillow and exiftool in
//! tests/fixtures.rs; here the bytes of the output are checked.

mod common;

use std::io::Cursor;

use common::{check_invariants, fixtures, gif_blocks, strip_vec};
use roster_imaging::{ImageError, ImageFormat, Inspection, Limits, inspect, strip};

fn fixture(name: &str) -> Vec<u8> {
    fixtures()
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .bytes
        .clone()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn stripped(name: &str) -> (Inspection, Vec<u8>) {
    let input = fixture(name);
    check_invariants(&input);
    strip_vec(&input).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const MINIMAL_JPEG_EXIF: &[u8] =
    b"\xFF\xE1\x00\x22Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0";

fn minimal_tiff(o: u8) -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".to_vec();
    t.extend([o, 0, 0, 0, 0, 0, 0]);
    t
}

/// The orientation of the output's minimal EXIF, checking it is the only EXIF.
fn kept_orientation(format: ImageFormat, out: &[u8]) -> Option<u8> {
    let found: Vec<u8> = (2..=8)
        .filter(|&o| contains(out, &minimal_tiff(o)))
        .collect();
    assert!(found.len() <= 1, "several minimal EXIFs");
    let exif_blocks = match format {
        ImageFormat::Jpeg => out.windows(6).filter(|w| w == b"Exif\0\0").count(),
        ImageFormat::Png => out.windows(4).filter(|w| w == b"eXIf").count(),
        ImageFormat::WebP => out.windows(4).filter(|w| w == b"EXIF").count(),
        ImageFormat::Gif => 0,
    };
    assert_eq!(exif_blocks, found.len(), "EXIF other than the minimal one");
    found.first().copied()
}

// ------------------------------------------------------------------ JPEG

#[test]
fn jpeg_stray_bytes_are_skipped_as_libjpeg_does() {
    for (name, junk) in [
        ("jpeg_stray_app13.jpg", &b"\x20\x0d\x0a"[..]),
        ("jpeg_stray_app14.jpg", b"\x12\x34\x56"),
        ("jpeg_com_junk.jpg", b"junk text after a comment\n"),
        ("jpeg_ff00_dqt.jpg", b"\xff\x00\xff\xdb"),
    ] {
        let input = fixture(name);
        assert!(contains(&input, junk), "{name}: the defect is missing");
        let (i, out) = stripped(name);
        assert!(i.has_metadata, "{name}");
        assert!(!contains(&out, junk), "{name}: the stray bytes were kept");
    }
    // The kept APP14 and the orientation survive around the defect.
    let (_, out) = stripped("jpeg_stray_app14.jpg");
    assert!(contains(&out, b"\xFF\xEE\x00\x0EAdobe"));
    let (_, out) = stripped("jpeg_ff00_dqt.jpg");
    assert!(contains(&out, MINIMAL_JPEG_EXIF));
    // Parameterless markers outside a scan are ignored by libjpeg too.
    let mut rst = fixture("jpeg_plain.jpg");
    rst.splice(2..2, *b"\xFF\xD3\xFF\x01");
    let (i, out) = strip_vec(&rst).unwrap();
    assert!(i.has_metadata);
    assert_eq!(out, fixture("jpeg_plain.jpg"));
}

#[test]
fn jpeg_resynchronising_never_accepts_a_lost_table() {
    // An APP0 length 3 too long swallows the start of the quantisation table
    // that follows: libjpeg cannot decode that, so neither is it accepted.
    let mut jpeg = fixture("jpeg_plain.jpg");
    assert_eq!(&jpeg[2..4], b"\xFF\xE0");
    jpeg[5] += 3;
    let r = inspect(jpeg.as_slice(), Limits::DEFAULT);
    assert!(
        matches!(&r, Err(ImageError::Malformed { reason, .. }) if reason.contains("quantisation")),
        "{r:?}"
    );
    // Unknown markers stay errors (libjpeg: "Unsupported marker type").
    let mut jpeg = fixture("jpeg_plain.jpg");
    jpeg.splice(2..2, *b"\xFF\x50\x00\x02");
    assert!(matches!(
        inspect(jpeg.as_slice(), Limits::DEFAULT),
        Err(ImageError::Malformed { .. })
    ));
}

// ------------------------------------------------------------------ GIF

#[test]
fn gif_stray_bytes_between_blocks_are_skipped() {
    let (i, out) = stripped("gif_stray_00.gif");
    assert_eq!(i.frames, 3);
    let (_, clean) = stripped("gif_anim.gif");
    assert_eq!(out, clean, "the stray byte is the only difference left");
}

#[test]
fn gif_data_after_the_trailer_is_dropped() {
    let (_, clean) = stripped("gif_anim.gif");
    for name in [
        "gif_appended.gif",
        "gif_no_trailer.gif",
        "gif_cut_in_extension.gif",
    ] {
        let (i, out) = stripped(name);
        assert!(i.has_metadata && i.frames == 3, "{name}: {i:?}");
        assert_eq!(out, clean, "{name}");
    }
    // A second stream appended to a first that lacks its trailer: its
    // header is stray bytes and its frames are frames, as Pillow reads it.
    let (i, out) = stripped("gif_second_stream_no_trailer.gif");
    assert_eq!(i.frames, 4);
    assert_eq!(&out[..clean.len() - 1], &clean[..clean.len() - 1]);
    assert!(!contains(&out[clean.len() - 1..], b"GIF89a"));
}

#[test]
fn gif_cut_inside_image_data_is_refused() {
    let anim = fixture("gif_anim.gif");
    let images: Vec<_> = gif_blocks(&anim).into_iter().filter(|b| b.0).collect();
    let last = images.last().unwrap().1.clone();
    for cut in [last.start + 1, last.start + 12, last.end - 1] {
        let r = inspect(&anim[..cut], Limits::DEFAULT);
        assert!(
            matches!(r, Err(ImageError::Malformed { .. })),
            "{cut}: {r:?}"
        );
    }
}

#[test]
fn gif_plain_text_inside_an_animation_is_removed() {
    let input = fixture("gif_plain_text.gif");
    assert!(contains(&input, b"Secret Photographer"));
    let (i, out) = stripped("gif_plain_text.gif");
    assert_eq!(i.frames, 3);
    assert!(!contains(&out, b"Secret"));
    assert!(!contains(&out, b"\x21\x01"));
}

// ------------------------------------------------------------------ PNG

#[test]
fn png_cut_inside_the_iend_checksum_is_completed() {
    let full = fixture("png_meta.png");
    let (_, want) = strip_vec(&full).unwrap();
    for cut in 1..=4 {
        let input = &full[..full.len() - cut];
        check_invariants(input);
        let (i, out) = strip_vec(input).unwrap();
        assert!(i.has_metadata);
        assert_eq!(out, want, "cut by {cut}");
    }
    // Cut into the chunk type: not an IEND any more.
    let r = inspect(&full[..full.len() - 5], Limits::DEFAULT);
    assert!(matches!(r, Err(ImageError::Malformed { .. })));
    // A partial checksum that does not match is a CRC error.
    let mut bad = full[..full.len() - 1].to_vec();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let r = inspect(bad.as_slice(), Limits::DEFAULT);
    assert!(
        matches!(&r, Err(ImageError::Malformed { reason, .. }) if reason.contains("CRC")),
        "{r:?}"
    );
}

// ------------------------------------------------------------------ orientation

#[test]
fn orientation_is_kept_from_every_place_it_is_written() {
    for (name, format, want) in [
        ("jpeg_exif_slong.jpg", ImageFormat::Jpeg, Some(6)),
        ("jpeg_exif_long_le.jpg", ImageFormat::Jpeg, Some(8)),
        ("jpeg_xmp_attr.jpg", ImageFormat::Jpeg, Some(6)),
        ("jpeg_xmp_elem.jpg", ImageFormat::Jpeg, Some(5)),
        ("jpeg_exif8_xmp6.jpg", ImageFormat::Jpeg, Some(8)),
        ("jpeg_exif1_xmp6.jpg", ImageFormat::Jpeg, None),
        ("png_text_orient.png", ImageFormat::Png, Some(6)),
        ("png_ztxt_orient.png", ImageFormat::Png, Some(3)),
        ("png_itxt_orient.png", ImageFormat::Png, Some(7)),
        ("png_xmp_orient.png", ImageFormat::Png, Some(8)),
        ("png_xmp_text.png", ImageFormat::Png, Some(6)),
        ("png_raw_profile.png", ImageFormat::Png, Some(5)),
        ("png_exif_after_idat.png", ImageFormat::Png, Some(6)),
        ("webp_xmp_orient.webp", ImageFormat::WebP, Some(6)),
        ("webp_exif_slong.webp", ImageFormat::WebP, Some(7)),
    ] {
        let (i, out) = stripped(name);
        assert!(i.has_metadata, "{name}");
        assert_eq!(kept_orientation(format, &out), want, "{name}");
        assert!(
            !contains(&out, b"Secret") && !contains(&out, b"PhoneMaker"),
            "{name}"
        );
    }
}

#[test]
fn png_minimal_exif_goes_before_the_image_data() {
    let (_, out) = stripped("png_exif_after_idat.png");
    let exif = out.windows(4).position(|w| w == b"eXIf").unwrap();
    let idat = out.windows(4).position(|w| w == b"IDAT").unwrap();
    assert!(exif < idat);
}

#[test]
fn webp_minimal_exif_sets_the_vp8x_flag() {
    let (_, out) = stripped("webp_xmp_orient.webp");
    assert_eq!(&out[12..16], b"VP8X");
    assert_eq!(out[20] & 0x0C, 0x08, "EXIF flag set, XMP flag clear");
    assert_eq!(
        u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
        out.len() - 8
    );
}

// ------------------------------------------------------------------ frames

#[test]
fn webp_chunks_inside_a_frame_are_removed() {
    let input = fixture("webp_anim_frame_junk.webp");
    assert!(contains(&input, b"XYZW"));
    let (i, out) = stripped("webp_anim_frame_junk.webp");
    assert_eq!(i.frames, 3);
    assert!(!contains(&out, b"XYZW") && !contains(&out, b"Secret"));
    let (_, clean) = stripped("webp_anim.webp");
    assert_eq!(out, clean);
}

#[test]
fn png_text_between_apng_frames_is_removed() {
    let input = fixture("apng_frame_text.png");
    assert!(contains(&input, b"Secret Photographer"));
    let (i, out) = stripped("apng_frame_text.png");
    assert_eq!(i.frames, 3);
    assert!(!contains(&out, b"Secret") && !contains(&out, b"tEXt"));
    let (_, clean) = stripped("apng_meta.png");
    assert_eq!(out, clean);
}

// ------------------------------------------------------------------ limits

fn limits(max_frames: u32, max_total_pixels: u64, max_scans: u32) -> Limits {
    Limits {
        max_frames,
        max_total_pixels,
        max_scans,
        ..Limits::DEFAULT
    }
}

fn refused(data: &[u8], limits: Limits) -> ImageError {
    let err = inspect(data, limits).unwrap_err();
    let mut out = Vec::new();
    let again = strip(Cursor::new(data), &mut out, limits).unwrap_err();
    assert_eq!(std::mem::discriminant(&err), std::mem::discriminant(&again));
    assert!(out.is_empty(), "strip wrote before refusing");
    err
}

#[test]
fn animations_are_held_to_the_frame_cap_and_the_pixel_budget() {
    for name in ["gif_anim.gif", "apng_meta.png", "webp_anim.webp"] {
        let data = fixture(name);
        let i = inspect(data.as_slice(), Limits::DEFAULT).unwrap();
        assert_eq!((i.frames, i.total_pixels()), (3, 3 * 96 * 64), "{name}");
        inspect(data.as_slice(), limits(3, i.total_pixels(), 100)).unwrap();
        let err = refused(&data, limits(2, u64::MAX, 100));
        assert!(
            matches!(err, ImageError::TooManyFrames { limit: 2, .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("more than 2 frames"), "{err}");
        let err = refused(&data, limits(3, i.total_pixels() - 1, 100));
        assert!(
            matches!(
                err,
                ImageError::TooManyTotalPixels {
                    frames: 3,
                    width: 96,
                    height: 64,
                    ..
                }
            ),
            "{name}: {err}"
        );
    }
    // A still image is one frame: the animation budget does not apply.
    let still = fixture("png_plain.png");
    let i = inspect(still.as_slice(), limits(1, 1, 100)).unwrap();
    assert_eq!(i.frames, 1);
}

#[test]
fn progressive_jpegs_are_held_to_the_scan_cap() {
    let data = fixture("jpeg_progressive.jpg");
    let scans = data.windows(2).filter(|w| w == b"\xFF\xDA").count() as u32;
    assert!(scans >= 6, "{scans}");
    inspect(data.as_slice(), limits(1, 1, scans)).unwrap();
    let err = refused(&data, limits(1, 1, scans - 1));
    assert!(matches!(err, ImageError::TooManyScans { limit } if limit == scans - 1));
    assert!(err.to_string().contains("scans"), "{err}");
}

/// A GIF of `frames` one-pixel frames on a `width` x `height` canvas: the
/// shape of a cheap file that costs every viewer `frames` full canvases.
fn many_frames(width: u16, height: u16, frames: usize) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend(width.to_le_bytes());
    g.extend(height.to_le_bytes());
    g.extend([0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        g.extend(b"\x21\xF9\x04\x00\x02\x00\x00\x00");
        g.extend(b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\x00");
    }
    g.push(0x3B);
    g
}

#[test]
fn default_limits_take_ordinary_animated_avatars_and_refuse_floods() {
    // 500 frames of 480 x 270 (a 10 s clip at 50 frames a second): accepted.
    let ok = many_frames(480, 270, 500);
    let i = inspect(ok.as_slice(), Limits::DEFAULT).unwrap();
    assert_eq!((i.frames, i.width, i.height), (500, 480, 270));
    check_invariants(&ok);
    // One frame past the cap, however small.
    let err = refused(&many_frames(16, 16, 1_001), Limits::DEFAULT);
    assert!(
        matches!(err, ImageError::TooManyFrames { limit: 1_000, .. }),
        "{err}"
    );
    // 400 full HD canvases: 829 megapixels for each viewer, from 10 KB.
    let flood = many_frames(1920, 1080, 400);
    assert!(flood.len() < 10_000);
    let err = refused(&flood, Limits::DEFAULT);
    assert!(
        matches!(err, ImageError::TooManyTotalPixels { frames: 49, .. }),
        "refused as soon as the budget is spent: {err}"
    );
}
