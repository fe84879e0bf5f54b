//! JPEG: a walk over the marker segments, entropy-coded data streamed through.

use std::io::{Read, Write};

use crate::ImageError;
use crate::stream::{Out, Src};
use crate::{Budget, Plan, Walk, exif};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;
const DHT: u8 = 0xC4;
const DAC: u8 = 0xCC;
const DQT: u8 = 0xDB;
const DRI: u8 = 0xDD;

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

/// Signature of an XMP packet in APP1.
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Finds the next marker outside entropy-coded data as libjpeg's
/// `next_marker` does: bytes other than FF are skipped, so is a stuffed
/// `FF 00`, and any run of FF fill bytes before the code. Returns (marker,
/// fill count, whether anything was skipped).
fn next_marker<R: Read>(src: &mut Src<R>) -> Result<(u8, u64, bool), ImageError> {
    let mut skipped = false;
    loop {
        if src.byte()? != 0xFF {
            skipped = true;
            continue;
        }
        let mut fill = 0u64;
        let code = loop {
            match src.byte()? {
                0xFF => fill += 1,
                c => break c,
            }
        };
        if code == 0x00 {
            skipped = true;
            continue;
        }
        return Ok((code, fill, skipped));
    }
}

/// Checks a DQT payload as libjpeg's `get_dqt` does and returns the table
/// numbers it defines, as bits.
fn dqt_tables(p: &[u8]) -> Option<u8> {
    let mut rest = p;
    let mut defined = 0u8;
    while let Some((&pq_tq, tail)) = rest.split_first() {
        let (precision, table) = (pq_tq >> 4, pq_tq & 0x0F);
        if precision > 1 || table > 3 {
            return None;
        }
        let n = 64 * (usize::from(precision) + 1);
        rest = tail.get(n..)?;
        defined |= 1 << table;
    }
    Some(defined)
}

/// Checks a DHT payload as libjpeg's `get_dht` does.
fn dht_ok(p: &[u8]) -> bool {
    let mut rest = p;
    while rest.len() > 16 {
        let index = rest[0];
        if index & 0xEC != 0 {
            // Class above 1 or table number above 3.
            return false;
        }
        let count: usize = rest[1..17].iter().map(|&c| usize::from(c)).sum();
        if count > 256 || count > rest.len() - 17 {
            return false;
        }
        rest = &rest[17 + count..];
    }
    rest.is_empty()
}

/// Lossless processes (SOF3, 7, 11, 15) have no quantisation tables.
fn is_lossless(sof: u8) -> bool {
    sof & 0x03 == 0x03
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    budget: &mut Budget,
    plan: Option<&Plan>,
) -> Result<Walk, ImageError> {
    let soi: [u8; 2] = src.array()?;
    debug_assert_eq!(soi, [0xFF, SOI]);
    out.write(&soi)?;

    let mut meta = false;
    let mut frame: Option<Frame> = None;
    let mut scans = 0u32;
    let mut quant_defined = 0u8;
    let mut orientation = exif::Sources::default();
    // The first APP1 holding EXIF or XMP before the first scan is where the
    // minimal EXIF goes.
    let mut slot_taken = false;
    // One segment at most: 65,533 bytes.
    let mut seg = vec![0u8; 0xFFFF];
    let mut pending: Option<(u8, u64)> = None;

    loop {
        let (marker, fill) = match pending.take() {
            Some(p) => p,
            None => {
                let (marker, fill, skipped) = next_marker(src)?;
                // Skipped bytes are not written: libjpeg ignores them.
                meta |= skipped;
                (marker, fill)
            }
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
            // Parameterless markers outside a scan: libjpeg ignores them.
            0x01 | 0xD0..=0xD7 => {
                meta = true;
                continue;
            }
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
                if frame.is_some() {
                    return Err(src.bad("more than one frame header"));
                }
                let p = &mut seg[..plen];
                src.exact(p)?;
                let f = Frame::parse(m, p).ok_or_else(|| src.bad("bad frame header"))?;
                if f.width == 0 || f.height == 0 {
                    return Err(src.bad("zero width or height (DNL is not supported)"));
                }
                budget.frame(u32::from(f.width), u32::from(f.height))?;
                frame = Some(f);
                write_header(out, fill, marker, len)?;
                out.write(p)?;
            }
            SOS => {
                let Some(f) = &frame else {
                    return Err(src.bad("scan before the frame header"));
                };
                let p = &mut seg[..plen];
                src.exact(p)?;
                let comps = p.first().copied().map_or(0, usize::from);
                if !(1..=4).contains(&comps) || plen != 4 + 2 * comps {
                    return Err(src.bad("bad scan header"));
                }
                for c in p[1..1 + 2 * comps].chunks(2) {
                    let Some(tq) = f.quant_table(c[0]) else {
                        return Err(src.bad("scan of a component the frame does not have"));
                    };
                    if !is_lossless(f.marker) && (tq > 3 || quant_defined & (1 << tq) == 0) {
                        return Err(src.bad(format!("quantisation table {tq} is not defined")));
                    }
                }
                scans += 1;
                if scans > budget.max_scans() {
                    return Err(ImageError::TooManyScans {
                        limit: budget.max_scans(),
                    });
                }
                write_header(out, fill, marker, len)?;
                out.write(p)?;
                pending = Some(src.entropy(out)?);
            }
            DQT | DHT | DAC | DRI => {
                let p = &mut seg[..plen];
                src.exact(p)?;
                let ok = match marker {
                    DQT => dqt_tables(p).map(|t| quant_defined |= t).is_some(),
                    DHT => dht_ok(p),
                    DAC => plen.is_multiple_of(2),
                    _ => plen == 2,
                };
                if !ok {
                    return Err(src.bad(format!("bad FF{marker:02X} segment")));
                }
                write_header(out, fill, marker, len)?;
                out.write(p)?;
            }
            // DNL, DHP, EXP: coding segments, kept.
            0xDC..=0xDF => {
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
                let before_scans = scans == 0;
                let exif = p.strip_prefix(b"Exif\0\0");
                let xmp = p.strip_prefix(XMP_ID);
                if before_scans {
                    if let Some(tiff) = exif {
                        orientation.exif(exif::orientation(tiff));
                    } else if let Some(packet) = xmp {
                        orientation.xmp(exif::xmp_orientation(packet));
                    }
                }
                if before_scans && !slot_taken && (exif.is_some() || xmp.is_some()) {
                    slot_taken = true;
                    let minimal = fill == 0 && exif.is_some_and(exif::is_minimal);
                    meta |= !minimal;
                    if let Some(o) = plan.and_then(|p| p.orientation) {
                        write_minimal_exif(out, o)?;
                    }
                } else {
                    meta = true;
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
    if frame.is_none() {
        return Err(src.bad("no frame header"));
    }
    Ok(Walk {
        inspection: budget.inspection(meta),
        plan: Plan {
            orientation: orientation.resolved(),
            ..Plan::default()
        },
    })
}

/// What the frame header (SOF) says that later segments are checked against.
struct Frame {
    marker: u8,
    width: u16,
    height: u16,
    /// (component id, quantisation table) of each component.
    components: [(u8, u8); 4],
    count: usize,
}

impl Frame {
    fn parse(marker: u8, p: &[u8]) -> Option<Frame> {
        if p.len() < 6 {
            return None;
        }
        let count = usize::from(p[5]);
        if !(1..=4).contains(&count) || p.len() != 6 + 3 * count {
            return None;
        }
        let mut components = [(0, 0); 4];
        for (i, c) in p[6..].chunks(3).enumerate() {
            components[i] = (c[0], c[2]);
        }
        Some(Frame {
            marker,
            height: u16::from_be_bytes([p[1], p[2]]),
            width: u16::from_be_bytes([p[3], p[4]]),
            components,
            count,
        })
    }

    fn quant_table(&self, id: u8) -> Option<u8> {
        self.components[..self.count]
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.1)
    }
}

fn write_minimal_exif<W: Write>(out: &mut Out<W>, orientation: u16) -> std::io::Result<()> {
    let tiff = exif::minimal(orientation);
    write_header(out, 0, APP1, (2 + 6 + tiff.len()) as u16)?;
    out.write(b"Exif\0\0")?;
    out.write(&tiff)
}
