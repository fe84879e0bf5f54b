//! JPEG: a walk over the marker segments, entropy-coded data streamed through.

use std::io::{Read, Write};

use crate::ImageError;
use crate::stream::{Out, Src};
use crate::{ImageFormat, Inspection, Plan, Walk, exif};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;

/// Start-of-frame markers: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
fn is_sof(m: u8) -> bool {
    (0xC0..=0xCF).contains(&m) && !matches!(m, 0xC4 | 0xC8 | 0xCC)
}

/// Writes `fill` padding FFs, then the marker and its length field.
fn write_header<W: Write>(
    out: &mut Out<W>,
    fill: u64,
    marker: u8,
    len: u16,
) -> std::io::Result<()> {
    out.write_repeated(0xFF, fill)?;
    let l = len.to_be_bytes();
    out.write(&[0xFF, marker, l[0], l[1]])
}

/// Reads a marker outside entropy-coded data: FF, any number of FF fill
/// bytes, then the marker code. Returns (marker, fill count).
fn read_marker<R: Read>(src: &mut Src<R>) -> Result<(u8, u64), ImageError> {
    if src.byte()? != 0xFF {
        return Err(src.bad("expected a marker"));
    }
    let mut fill = 0u64;
    loop {
        match src.byte()? {
            0xFF => fill += 1,
            0x00 => return Err(src.bad("expected a marker, found FF00")),
            m => return Ok((m, fill)),
        }
    }
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
) -> Result<Walk, ImageError> {
    let soi: [u8; 2] = src.array()?;
    debug_assert_eq!(soi, [0xFF, SOI]);
    out.write(&soi)?;

    let mut meta = false;
    let mut dims: Option<(u32, u32)> = None;
    let mut scans = 0u32;
    let mut exif_seen = false;
    // One segment at most: 65,533 bytes.
    let mut seg = vec![0u8; 0xFFFF];
    let mut pending: Option<(u8, u64)> = None;

    loop {
        let (marker, fill) = match pending.take() {
            Some(p) => p,
            None => read_marker(src)?,
        };
        match marker {
            SOI => return Err(src.bad("SOI inside the image")),
            EOI => {
                if scans == 0 {
                    return Err(src.bad("EOI before any scan"));
                }
                out.write_repeated(0xFF, fill)?;
                out.write(&[0xFF, EOI])?;
                break;
            }
            0x01 | 0xD0..=0xD7 => return Err(src.bad(format!("unexpected marker FF{marker:02X}"))),
            0x02..=0xBF | 0xC8 | 0xF0..=0xFD => {
                return Err(src.bad(format!("unsupported marker FF{marker:02X}")));
            }
            _ => {}
        }
        let len = u16::from_be_bytes(src.array()?);
        if len < 2 {
            return Err(src.bad(format!("segment FF{marker:02X} with length {len}")));
        }
        let plen = usize::from(len - 2);
        match marker {
            m if is_sof(m) => {
                if dims.is_some() {
                    return Err(src.bad("more than one frame header"));
                }
                let p = &mut seg[..plen];
                src.exact(p)?;
                if plen < 6 {
                    return Err(src.bad("short frame header"));
                }
                let height = u16::from_be_bytes([p[1], p[2]]);
                let width = u16::from_be_bytes([p[3], p[4]]);
                let comps = usize::from(p[5]);
                if !(1..=4).contains(&comps) || plen != 6 + 3 * comps {
                    return Err(src.bad("bad frame header"));
                }
                if width == 0 || height == 0 {
                    return Err(src.bad("zero width or height (DNL is not supported)"));
                }
                dims = Some((u32::from(width), u32::from(height)));
                write_header(out, fill, marker, len)?;
                out.write(p)?;
            }
            SOS => {
                if dims.is_none() {
                    return Err(src.bad("scan before the frame header"));
                }
                let p = &mut seg[..plen];
                src.exact(p)?;
                let comps = p.first().copied().map_or(0, usize::from);
                if !(1..=4).contains(&comps) || plen != 4 + 2 * comps {
                    return Err(src.bad("bad scan header"));
                }
                write_header(out, fill, marker, len)?;
                out.write(p)?;
                scans += 1;
                pending = Some(src.entropy(out)?);
            }
            // DHT, DAC, DQT, DNL, DRI, DHP, EXP: coding segments, kept.
            0xC4 | 0xCC | 0xDB..=0xDF => {
                write_header(out, fill, marker, len)?;
                src.copy(plen as u64, out, None)?;
            }
            APP0 => {
                let p = &mut seg[..plen];
                src.exact(p)?;
                if p.starts_with(b"JFIF\0") && plen >= 14 {
                    if plen == 14 && p[12] == 0 && p[13] == 0 {
                        write_header(out, fill, marker, len)?;
                        out.write(p)?;
                    } else {
                        // Keep JFIF, drop its thumbnail.
                        meta = true;
                        p[12] = 0;
                        p[13] = 0;
                        write_header(out, 0, marker, 16)?;
                        out.write(&p[..14])?;
                    }
                } else {
                    meta = true;
                }
            }
            APP1 => {
                let p = &mut seg[..plen];
                src.exact(p)?;
                match p.strip_prefix(b"Exif\0\0") {
                    Some(tiff) if !exif_seen => {
                        exif_seen = true;
                        if exif::is_minimal(tiff) {
                            write_header(out, fill, marker, len)?;
                            out.write(p)?;
                        } else {
                            meta = true;
                            if let Some(o @ 2..=8) = exif::orientation(tiff) {
                                write_minimal_exif(out, o)?;
                            }
                        }
                    }
                    _ => meta = true,
                }
            }
            APP2 | APP14 => {
                let id: &[u8] = if marker == APP2 {
                    b"ICC_PROFILE\0"
                } else {
                    b"Adobe"
                };
                let head = &mut seg[..plen.min(id.len())];
                src.exact(head)?;
                if head == id {
                    write_header(out, fill, marker, len)?;
                    out.write(head)?;
                    src.copy((plen - id.len()) as u64, out, None)?;
                } else {
                    meta = true;
                    src.skip((plen - head.len()) as u64, None)?;
                }
            }
            0xE3..=0xEF | COM => {
                meta = true;
                src.skip(plen as u64, None)?;
            }
            _ => return Err(src.bad(format!("unexpected marker FF{marker:02X}"))),
        }
    }

    if !src.at_eof()? {
        // Data after EOI (MPF images, maker trailers, polyglots) is dropped.
        meta = true;
    }
    let (width, height) = dims.ok_or_else(|| src.bad("no frame header"))?;
    Ok(Walk {
        inspection: Inspection {
            format: ImageFormat::Jpeg,
            width,
            height,
            has_metadata: meta,
        },
        plan: Plan::default(),
    })
}

fn write_minimal_exif<W: Write>(out: &mut Out<W>, orientation: u16) -> std::io::Result<()> {
    let tiff = exif::minimal(orientation);
    write_header(out, 0, APP1, (2 + 6 + tiff.len()) as u16)?;
    out.write(b"Exif\0\0")?;
    out.write(&tiff)
}
