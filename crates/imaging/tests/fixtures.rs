//! Real files from Pillow, exiftool and cwebp, stripped, then read back by
//! Pillow and exiftool (tests/fixtures/verify.py).

mod common;

use std::io::Cursor;
use std::time::Instant;

use common::{
    Fixture, Kind, check_invariants, fixtures, gif_blocks, run_script, scratch, strip_vec,
};
use roster_imaging::{ImageError, ImageFormat, Limits, inspect, strip};

fn of(format: ImageFormat, kinds: &[Kind]) -> Vec<&'static Fixture> {
    let list: Vec<_> = fixtures()
        .iter()
        .filter(|f| f.format == format && kinds.contains(&f.kind))
        .collect();
    assert!(!list.is_empty(), "no {format} fixtures");
    list
}

fn is_malformed(r: &Result<roster_imaging::Inspection, ImageError>) -> bool {
    matches!(r, Err(ImageError::Malformed { .. }))
}

/// Strips every fixture of `format`, checks the outputs here, then has
/// Pillow and exiftool check them.
fn verify_format(format: ImageFormat) {
    let dir = scratch(&format!("verify-{format}"));
    let mut pairs = String::new();
    for f in of(format, &[Kind::Clean, Kind::Meta]) {
        let inspection = inspect(f.bytes.as_slice(), Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(
            (inspection.format, inspection.width, inspection.height),
            (f.format, f.width, f.height),
            "{}",
            f.name
        );
        assert_eq!(
            inspection.has_metadata,
            f.kind == Kind::Meta,
            "{}: has_metadata",
            f.name
        );
        let (stripped, out) = strip_vec(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(stripped, inspection, "{}", f.name);
        if f.kind == Kind::Clean {
            assert!(
                out == f.bytes,
                "{}: a file without metadata came back changed",
                f.name
            );
        } else {
            assert!(out.len() < f.bytes.len(), "{}: nothing removed", f.name);
        }
        check_invariants(&f.bytes);
        let path = dir.join(&f.name);
        std::fs::write(&path, &out).unwrap();
        pairs.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            f.path.display(),
            path.display(),
            f.orientation,
            u8::from(f.icc),
            f.must
        ));
    }
    let list = dir.join("pairs.tsv");
    std::fs::write(&list, pairs).unwrap();
    let report = run_script("verify.py", &[&list]);
    println!("{report}");
}

#[test]
fn jpeg_stripped_and_read_back_by_pillow_and_exiftool() {
    verify_format(ImageFormat::Jpeg);
}

#[test]
fn png_stripped_and_read_back_by_pillow_and_exiftool() {
    verify_format(ImageFormat::Png);
}

#[test]
fn gif_stripped_and_read_back_by_pillow_and_exiftool() {
    verify_format(ImageFormat::Gif);
}

#[test]
fn webp_stripped_and_read_back_by_pillow_and_exiftool() {
    verify_format(ImageFormat::WebP);
}

#[test]
fn orientation_6_jpeg_keeps_a_minimal_exif() {
    let f = fixtures()
        .iter()
        .find(|f| f.name == "jpeg_orient6.jpg")
        .unwrap();
    let (_, out) = strip_vec(&f.bytes).unwrap();
    let minimal: &[u8] = b"\xFF\xE1\x00\x22Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    assert!(
        out.windows(minimal.len()).any(|w| w == minimal),
        "no minimal EXIF"
    );
    assert_eq!(out.windows(4).filter(|w| *w == b"Exif").count(), 1);
    // Readers see exactly one EXIF field.
    let r = inspect(out.as_slice(), Limits::DEFAULT).unwrap();
    assert!(!r.has_metadata);
}

#[test]
fn a_clean_upload_is_stored_byte_for_byte() {
    let clean: Vec<_> = fixtures()
        .iter()
        .filter(|f| f.kind == Kind::Clean)
        .collect();
    assert!(clean.len() >= 4);
    for f in clean {
        let r = inspect(f.bytes.as_slice(), Limits::DEFAULT).unwrap();
        assert!(!r.has_metadata, "{}", f.name);
        let (_, out) = strip_vec(&f.bytes).unwrap();
        assert!(out == f.bytes, "{}", f.name);
    }
}

#[test]
fn header_declared_dimension_bombs_are_refused_cheaply() {
    let limits = Limits {
        max_pixels: 40_000_000,
        ..Limits::DEFAULT
    };
    let unlimited = Limits {
        max_pixels: u64::MAX,
        max_total_pixels: u64::MAX,
        ..Limits::DEFAULT
    };
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ] {
        for f in of(format, &[Kind::Bomb]) {
            let r = inspect(f.bytes.as_slice(), unlimited)
                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            assert_eq!((r.width, r.height), (f.width, f.height), "{}", f.name);
            let t = Instant::now();
            let err = inspect(f.bytes.as_slice(), limits).unwrap_err();
            let ImageError::TooManyPixels {
                width,
                height,
                limit,
                ..
            } = err
            else {
                panic!("{}: {err}", f.name);
            };
            assert_eq!((width, height, limit), (f.width, f.height, 40_000_000));
            let mut out = Vec::new();
            assert!(matches!(
                strip(Cursor::new(&f.bytes), &mut out, limits),
                Err(ImageError::TooManyPixels { .. })
            ));
            assert!(out.is_empty());
            assert!(
                t.elapsed().as_millis() < 500,
                "{}: took {:?}",
                f.name,
                t.elapsed()
            );
        }
    }
    // Real avatars pass the same limit.
    for f in fixtures().iter().filter(|f| f.kind != Kind::Bomb) {
        inspect(f.bytes.as_slice(), limits).unwrap();
    }
}

/// A file cut short is refused unless all of its image is there: a PNG cut
/// inside its final IEND checksum, a GIF cut after a complete frame (between
/// blocks or inside an extension) are shown by browsers and Pillow.
#[test]
fn every_truncation_is_malformed_unless_the_image_is_complete() {
    for f in fixtures().iter().filter(|f| f.kind != Kind::Bomb) {
        let n = f.bytes.len();
        let gif = (f.format == ImageFormat::Gif).then(|| gif_blocks(&f.bytes));
        let step = (n / 400).max(1);
        let lens = (1..n.min(200))
            .chain((200..n).step_by(step))
            .chain(n.saturating_sub(64)..n);
        for len in lens {
            let r = inspect(&f.bytes[..len], Limits::DEFAULT);
            let complete_frames = match &gif {
                Some(blocks) => {
                    let inside_image = blocks
                        .iter()
                        .any(|(image, r)| *image && r.start < len && len < r.end);
                    let done = blocks
                        .iter()
                        .filter(|(image, r)| *image && r.end <= len)
                        .count();
                    (!inside_image && done > 0).then_some(done as u32)
                }
                None if f.format == ImageFormat::Png && len >= iend_crc(&f.bytes) => {
                    Some(r.as_ref().map_or(0, |i| i.frames))
                }
                None => None,
            };
            match complete_frames {
                Some(frames) => {
                    let i = r.unwrap_or_else(|e| panic!("{} cut at {len}/{n}: {e}", f.name));
                    assert!(i.has_metadata && i.frames == frames, "{}: {i:?}", f.name);
                    check_invariants(&f.bytes[..len]);
                }
                None => assert!(is_malformed(&r), "{} cut at {len}/{n}: {r:?}", f.name),
            }
        }
    }
}

/// Where the checksum of a PNG's final IEND starts.
fn iend_crc(png: &[u8]) -> usize {
    png.windows(4).rposition(|w| w == b"IEND").unwrap() + 4
}

fn fixture(name: &str) -> Vec<u8> {
    fixtures()
        .iter()
        .find(|f| f.name == name)
        .unwrap()
        .bytes
        .clone()
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

fn assert_malformed(what: &str, data: &[u8]) {
    let r = inspect(data, Limits::DEFAULT);
    assert!(is_malformed(&r), "{what}: {r:?}");
    let mut out = Vec::new();
    let s = strip(Cursor::new(data), &mut out, Limits::DEFAULT);
    assert!(
        matches!(s, Err(ImageError::Malformed { .. })),
        "{what}: strip {s:?}"
    );
    assert!(out.is_empty(), "{what}: strip wrote before refusing");
}

#[test]
fn broken_structures_are_malformed() {
    // PNG: a flipped bit in the image data breaks its CRC.
    let mut png = fixture("png_plain.png");
    let idat = find(&png, b"IDAT");
    png[idat + 10] ^= 1;
    assert_malformed("PNG with a bad CRC", &png);
    // PNG: IHDR not first.
    let mut png = fixture("png_plain.png");
    png[12..16].copy_from_slice(b"IHDX");
    assert_malformed("PNG without IHDR", &png);
    // PNG: chunk length beyond the file.
    let mut png = fixture("png_plain.png");
    png[idat - 4..idat].copy_from_slice(&0x7FFF_0000u32.to_be_bytes());
    assert_malformed("PNG with a huge chunk length", &png);

    // JPEG: the frame header removed, so the scan comes first.
    let jpeg = fixture("jpeg_plain.jpg");
    let sof = find(&jpeg, &[0xFF, 0xC0]);
    let len = usize::from(u16::from_be_bytes([jpeg[sof + 2], jpeg[sof + 3]]));
    let mut no_sof = jpeg[..sof].to_vec();
    no_sof.extend_from_slice(&jpeg[sof + 2 + len..]);
    assert_malformed("JPEG without SOF", &no_sof);
    // JPEG: a segment length that runs into the next marker.
    let mut bad = jpeg.clone();
    bad[5] = bad[5].wrapping_add(3);
    assert_malformed("JPEG with a bad segment length", &bad);
    // JPEG: no EOI.
    assert_malformed("JPEG without EOI", &jpeg[..jpeg.len() - 2]);

    // GIF: a file that ends before its first frame is complete.
    let gif = fixture("gif_anim.gif");
    let first = gif_blocks(&gif).into_iter().find(|b| b.0).unwrap().1;
    assert_malformed("GIF cut in its first frame", &gif[..first.end - 1]);
    let gif = fixture("gif_plain.gif");
    let image = find(&gif[13..], &[0x2C]) + 13;
    let mut no_image = gif[..image].to_vec();
    no_image.push(0x3B);
    assert_malformed("GIF without an image", &no_image);

    // WebP: RIFF size larger and smaller than the chunks.
    for (name, delta) in [
        ("webp_plain.webp", 2i64),
        ("webp_meta.webp", -2),
        ("webp_anim.webp", 4),
    ] {
        let mut webp = fixture(name);
        let size = u32::from_le_bytes(webp[4..8].try_into().unwrap());
        webp[4..8].copy_from_slice(&((i64::from(size) + delta) as u32).to_le_bytes());
        assert_malformed(&format!("{name} with RIFF size {delta:+}"), &webp);
    }
    // WebP: extended file whose image chunk is gone.
    let webp = fixture("webp_icc_plain.webp");
    let vp8 = find(&webp, b"VP8 ");
    let mut no_image = webp[..vp8].to_vec();
    let size = u32::try_from(no_image.len() - 8).unwrap();
    no_image[4..8].copy_from_slice(&size.to_le_bytes());
    assert_malformed("WebP without image", &no_image);
    // WebP: still image whose size differs from the canvas.
    let mut webp = fixture("webp_icc_plain.webp");
    webp[24] ^= 1;
    assert_malformed("WebP canvas mismatch", &webp);
}

#[test]
fn other_files_are_unsupported() {
    let manifest = std::fs::read(fixtures()[0].path.with_file_name("manifest.tsv")).unwrap();
    let mut wave = fixture("webp_plain.webp");
    wave[8..12].copy_from_slice(b"WAVE");
    for (what, data) in [
        ("text", manifest.as_slice()),
        ("RIFF WAVE", wave.as_slice()),
        ("empty", b"".as_slice()),
        ("BMP", b"BM\x3e\0\0\0\0\0\0\0".as_slice()),
    ] {
        assert!(
            matches!(inspect(data, Limits::DEFAULT), Err(ImageError::Unsupported)),
            "{what}"
        );
        let mut out = Vec::new();
        assert!(
            matches!(
                strip(Cursor::new(data), &mut out, Limits::DEFAULT),
                Err(ImageError::Unsupported)
            ),
            "{what}"
        );
    }
    // The start of a signature is a truncated image, not another type.
    assert!(is_malformed(&inspect(&b"\x89PNG\r\n"[..], Limits::DEFAULT)));
    assert!(is_malformed(&inspect(&b"RIFF\0\0"[..], Limits::DEFAULT)));
}

#[test]
fn formats_name_their_type_and_extension() {
    let want = [
        (ImageFormat::Png, "image/png", "png"),
        (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        (ImageFormat::Gif, "image/gif", "gif"),
        (ImageFormat::WebP, "image/webp", "webp"),
    ];
    for (format, mime, ext) in want {
        assert_eq!((format.content_type(), format.extension()), (mime, ext));
        let f = fixtures().iter().find(|f| f.format == format).unwrap();
        assert_eq!(
            inspect(f.bytes.as_slice(), Limits::DEFAULT).unwrap().format,
            format
        );
    }
}

#[test]
fn strip_reads_from_the_current_position_of_a_file() {
    use std::io::{Seek, SeekFrom, Write};
    let f = fixtures()
        .iter()
        .find(|f| f.name == "webp_meta.webp")
        .unwrap();
    let dir = scratch("file");
    let path = dir.join("spooled");
    let mut file = std::fs::File::create_new(&path).unwrap();
    file.write_all(b"junk").unwrap();
    file.write_all(&f.bytes).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    file.seek(SeekFrom::Start(4)).unwrap();
    let mut out = Vec::new();
    let r = strip(&mut file, &mut out, Limits::DEFAULT).unwrap();
    assert!(r.has_metadata);
    assert_eq!(out, strip_vec(&f.bytes).unwrap().1);
}
