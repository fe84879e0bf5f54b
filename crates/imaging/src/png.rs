//! PNG: a walk over the chunks, every CRC verified, data streamed through.

use std::io::{Read, Write};

use crate::stream::{Out, Src};
use crate::{Budget, ImageError, Plan, Walk, crc, exif, inflate};

/// Chunks that stay: critical, colour, transparency, physical size and APNG.
const KEPT: [&[u8; 4]; 20] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"cICP", b"mDCv", b"cLLi", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
];

const MAX_LEN: u32 = 0x7FFF_FFFF;

fn check_crc<R: Read>(src: &mut Src<R>, crc: u32, ty: &[u8; 4]) -> Result<[u8; 4], ImageError> {
    let stored: [u8; 4] = src.array()?;
    if u32::from_be_bytes(stored) != crc::finish(crc) {
        let name = String::from_utf8_lossy(ty);
        return Err(src.bad(format!("CRC mismatch in {name} chunk")));
    }
    Ok(stored)
}

/// Reads a chunk's data of `len` bytes, keeping at most the first
/// `exif::PARSE_LIMIT` in `buf`, and checks its CRC.
fn read_chunk<R: Read>(
    src: &mut Src<R>,
    ty: &[u8; 4],
    len: u32,
    buf: &mut Vec<u8>,
) -> Result<[u8; 4], ImageError> {
    let keep = (len as usize).min(exif::PARSE_LIMIT);
    buf.clear();
    buf.resize(keep, 0);
    src.exact(buf)?;
    let mut c = crc::update(crc::update(crc::INIT, ty), buf);
    src.skip(u64::from(len) - keep as u64, Some(&mut c))?;
    check_crc(src, c, ty)
}

/// Keywords of the text chunks that may hold an orientation.
const ORIENTATION_KEYWORDS: [&[u8]; 3] = [
    b"exif:Orientation",
    b"XML:com.adobe.xmp",
    b"Raw profile type exif",
];

/// The keyword and (decompressed, at most `exif::PARSE_LIMIT` bytes) text of
/// a `tEXt`, `zTXt` or `iTXt` chunk whose keyword is one of
/// `ORIENTATION_KEYWORDS` (no other text is inflated), or `None`.
fn text_chunk<'a>(ty: &[u8; 4], data: &'a [u8]) -> Option<(&'a [u8], Vec<u8>)> {
    let nul = data.iter().position(|&b| b == 0)?;
    let (keyword, rest) = (&data[..nul], &data[nul + 1..]);
    if !ORIENTATION_KEYWORDS.contains(&keyword) {
        return None;
    }
    let text = match ty {
        b"tEXt" => rest.to_vec(),
        b"zTXt" => match rest.split_first()? {
            (0, z) => inflate::zlib(z, exif::PARSE_LIMIT),
            _ => return None,
        },
        _ => {
            let (&compressed, rest) = rest.split_first()?;
            let (&method, rest) = rest.split_first()?;
            let lang_end = rest.iter().position(|&b| b == 0)?;
            let rest = &rest[lang_end + 1..];
            let tkey_end = rest.iter().position(|&b| b == 0)?;
            let text = &rest[tkey_end + 1..];
            match (compressed, method) {
                (0, _) => text.to_vec(),
                (1, 0) => inflate::zlib(text, exif::PARSE_LIMIT),
                _ => return None,
            }
        }
    };
    Some((keyword, text))
}

fn write_minimal_exif<W: Write>(out: &mut Out<W>, orientation: u16) -> std::io::Result<()> {
    let tiff = exif::minimal(orientation);
    let crc = crc::finish(crc::update(crc::update(crc::INIT, b"eXIf"), &tiff));
    out.write(&(tiff.len() as u32).to_be_bytes())?;
    out.write(b"eXIf")?;
    out.write(&tiff)?;
    out.write(&crc.to_be_bytes())
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    budget: &mut Budget,
    plan: Option<&Plan>,
) -> Result<Walk, ImageError> {
    let sig: [u8; 8] = src.array()?;
    out.write(&sig)?;

    let mut meta = false;
    let mut ihdr: Option<(u32, u32, u8)> = None;
    let mut plte = false;
    let mut idat = false;
    // Whether an fcTL or IDAT has been seen: the minimal EXIF goes before it.
    let mut image_data = false;
    // Whether the minimal EXIF's place has been passed.
    let mut slot_taken = false;
    let mut exif_seen = false;
    let mut orientation = exif::Sources::default();
    let mut raw_exif: Option<u16> = None;
    let mut small = [0u8; 26];
    let mut data = Vec::new();

    loop {
        let head: [u8; 8] = src.array()?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let ty: [u8; 4] = [head[4], head[5], head[6], head[7]];
        if len > MAX_LEN {
            return Err(src.bad("chunk length over 2^31-1"));
        }
        if !ty.iter().all(u8::is_ascii_alphabetic) {
            return Err(src.bad("invalid chunk type"));
        }
        if ihdr.is_none() && &ty != b"IHDR" {
            return Err(src.bad("first chunk is not IHDR"));
        }
        if matches!(&ty, b"fcTL" | b"IDAT") && !image_data {
            image_data = true;
            if !slot_taken {
                slot_taken = true;
                if let Some(o) = plan.and_then(|p| p.orientation) {
                    write_minimal_exif(out, o)?;
                }
            }
        }
        let mut c = crc::update(crc::INIT, &ty);
        match &ty {
            b"IHDR" => {
                if ihdr.is_some() {
                    return Err(src.bad("second IHDR"));
                }
                if len != 13 {
                    return Err(src.bad("IHDR length is not 13"));
                }
                let d = &mut small[..13];
                src.exact(d)?;
                c = crc::update(c, d);
                let crc_bytes = check_crc(src, c, &ty)?;
                let d = &small[..13];
                let w = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                let h = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
                let (depth, colour) = (d[8], d[9]);
                let depth_ok = match colour {
                    0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
                    3 => matches!(depth, 1 | 2 | 4 | 8),
                    2 | 4 | 6 => matches!(depth, 8 | 16),
                    _ => false,
                };
                if w == 0 || h == 0 || w > MAX_LEN || h > MAX_LEN {
                    return Err(src.bad("bad width or height"));
                }
                if !depth_ok || d[10] != 0 || d[11] != 0 || d[12] > 1 {
                    return Err(src.bad("bad IHDR fields"));
                }
                ihdr = Some((w, h, colour));
                budget.extent(w, h)?;
                out.write(&head)?;
                out.write(d)?;
                out.write(&crc_bytes)?;
            }
            b"IEND" => {
                if len != 0 {
                    return Err(src.bad("IEND with data"));
                }
                if !idat {
                    return Err(src.bad("no IDAT"));
                }
                let want = crc::finish(c).to_be_bytes();
                let got = src.peek(4)?;
                let n = got.len();
                if got != &want[..n] {
                    return Err(src.bad("CRC mismatch in IEND chunk"));
                }
                // A file cut inside the last checksum has all its image: the
                // checksum is written whole.
                meta |= n < 4;
                src.skip(n as u64, None)?;
                out.write(&head)?;
                out.write(&want)?;
                break;
            }
            b"fcTL" => {
                if len != 26 {
                    return Err(src.bad("fcTL length is not 26"));
                }
                src.exact(&mut small)?;
                c = crc::update(c, &small);
                let crc_bytes = check_crc(src, c, &ty)?;
                let at = |i: usize| {
                    u32::from_be_bytes([small[i], small[i + 1], small[i + 2], small[i + 3]])
                };
                let (w, h, x, y) = (at(4), at(8), at(12), at(16));
                let right = x.checked_add(w).filter(|&r| w > 0 && r <= MAX_LEN);
                let bottom = y.checked_add(h).filter(|&b| h > 0 && b <= MAX_LEN);
                let (Some(right), Some(bottom)) = (right, bottom) else {
                    return Err(src.bad("bad fcTL frame size"));
                };
                budget.frame(right, bottom)?;
                out.write(&head)?;
                out.write(&small)?;
                out.write(&crc_bytes)?;
            }
            b"eXIf" => {
                read_chunk(src, &ty, len, &mut data)?;
                let first = !exif_seen;
                exif_seen = true;
                if first {
                    orientation.exif(exif::orientation(&data));
                }
                if first && !slot_taken {
                    slot_taken = true;
                    meta |= !exif::is_minimal(&data);
                    if let Some(o) = plan.and_then(|p| p.orientation) {
                        write_minimal_exif(out, o)?;
                    }
                } else {
                    meta = true;
                }
            }
            b"tEXt" | b"zTXt" | b"iTXt" => {
                meta = true;
                read_chunk(src, &ty, len, &mut data)?;
                if let Some((keyword, text)) = text_chunk(&ty, &data) {
                    match keyword {
                        b"exif:Orientation" => orientation.text(exif::text_orientation(&text)),
                        b"XML:com.adobe.xmp" => orientation.xmp(exif::xmp_orientation(&text)),
                        b"Raw profile type exif" => {
                            raw_exif = raw_exif.or_else(|| {
                                exif::raw_profile(&text).and_then(|t| exif::orientation(&t))
                            });
                        }
                        _ => {}
                    }
                }
            }
            t if KEPT.contains(&t) => {
                match t {
                    b"PLTE" => {
                        if idat {
                            return Err(src.bad("PLTE after IDAT"));
                        }
                        if len == 0 || len > 768 || !len.is_multiple_of(3) {
                            return Err(src.bad("bad PLTE length"));
                        }
                        plte = true;
                    }
                    b"IDAT" => {
                        if ihdr.is_some_and(|(_, _, colour)| colour == 3) && !plte {
                            return Err(src.bad("palette image without PLTE"));
                        }
                        if !idat && budget.frames() == 0 {
                            // A default image that is no APNG frame, or a still.
                            let (w, h, _) = ihdr.unwrap_or_default();
                            budget.frame(w, h)?;
                        }
                        idat = true;
                    }
                    _ => {}
                }
                out.write(&head)?;
                src.copy(u64::from(len), out, Some(&mut c))?;
                let crc_bytes = check_crc(src, c, &ty)?;
                out.write(&crc_bytes)?;
            }
            t => {
                if t[0].is_ascii_uppercase() {
                    let name = String::from_utf8_lossy(t);
                    return Err(src.bad(format!("unknown critical chunk {name}")));
                }
                meta = true;
                src.skip(u64::from(len), Some(&mut c))?;
                check_crc(src, c, &ty)?;
            }
        }
    }

    if !src.at_eof()? {
        meta = true;
    }
    orientation.exif(raw_exif);
    Ok(Walk {
        inspection: budget.inspection(meta),
        plan: Plan {
            orientation: orientation.resolved(),
            ..Plan::default()
        },
    })
}
