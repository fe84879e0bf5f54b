//! PNG: a walk over the chunks, every CRC verified, data streamed through.

use std::io::{Read, Write};

use crate::stream::{Out, Src};
use crate::{ImageError, ImageFormat, Inspection, Plan, Walk, crc, exif};

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

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
) -> Result<Walk, ImageError> {
    let sig: [u8; 8] = src.array()?;
    out.write(&sig)?;

    let mut meta = false;
    let mut ihdr: Option<(u32, u32, u8)> = None;
    let (mut max_w, mut max_h) = (0u32, 0u32);
    let mut plte = false;
    let mut idat = false;
    let mut exif_seen = false;
    let mut small = [0u8; 26];

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
                (max_w, max_h) = (w, h);
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
                let crc_bytes = check_crc(src, c, &ty)?;
                out.write(&head)?;
                out.write(&crc_bytes)?;
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
                max_w = max_w.max(right);
                max_h = max_h.max(bottom);
                out.write(&head)?;
                out.write(&small)?;
                out.write(&crc_bytes)?;
            }
            b"eXIf" if !exif_seen => {
                exif_seen = true;
                let keep_len = (len as usize).min(exif::PARSE_LIMIT);
                let mut data = vec![0u8; keep_len];
                src.exact(&mut data)?;
                c = crc::update(c, &data);
                src.skip(u64::from(len) - keep_len as u64, Some(&mut c))?;
                let crc_bytes = check_crc(src, c, &ty)?;
                if exif::is_minimal(&data) {
                    out.write(&head)?;
                    out.write(&data)?;
                    out.write(&crc_bytes)?;
                } else {
                    meta = true;
                    if let Some(o @ 2..=8) = exif::orientation(&data) {
                        let tiff = exif::minimal(o);
                        let crc = crc::finish(crc::update(crc::update(crc::INIT, b"eXIf"), &tiff));
                        out.write(&(tiff.len() as u32).to_be_bytes())?;
                        out.write(b"eXIf")?;
                        out.write(&tiff)?;
                        out.write(&crc.to_be_bytes())?;
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
    Ok(Walk {
        inspection: Inspection {
            format: ImageFormat::Png,
            width: max_w,
            height: max_h,
            has_metadata: meta,
        },
        plan: Plan::default(),
    })
}
