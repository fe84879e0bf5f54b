//! WebP: a walk over the RIFF chunks (and the chunks inside ANMF frames).

use std::io::{Read, Write};

use crate::stream::{Out, Src};
use crate::{Budget, ImageError, Plan, Walk, exif};

const FLAG_ANIMATION: u8 = 0x02;
const FLAG_XMP: u8 = 0x04;
const FLAG_EXIF: u8 = 0x08;

struct Chunk {
    fourcc: [u8; 4],
    size: u32,
}

impl Chunk {
    /// Payload plus the pad byte of an odd-sized chunk.
    fn padded(&self) -> u64 {
        u64::from(self.size) + u64::from(self.size & 1)
    }

    fn total(&self) -> u64 {
        8 + self.padded()
    }

    fn header(&self) -> [u8; 8] {
        let s = self.size.to_le_bytes();
        let f = self.fourcc;
        [f[0], f[1], f[2], f[3], s[0], s[1], s[2], s[3]]
    }
}

/// Reads a chunk header and checks that the chunk fits in `remaining`.
fn chunk<R: Read>(src: &mut Src<R>, remaining: u64) -> Result<Chunk, ImageError> {
    if remaining < 8 {
        return Err(src.bad("chunk header crosses the end of its container"));
    }
    let h: [u8; 8] = src.array()?;
    let c = Chunk {
        fourcc: [h[0], h[1], h[2], h[3]],
        size: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
    };
    if c.total() > remaining {
        let name = String::from_utf8_lossy(&c.fourcc);
        return Err(src.bad(format!("chunk {name} runs past the end of its container")));
    }
    Ok(c)
}

fn u24(b: &[u8]) -> u32 {
    u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16
}

/// Copies a VP8 or VP8L chunk (header already read) and returns the
/// dimensions from its bitstream header.
fn frame<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    c: &Chunk,
) -> Result<(u32, u32), ImageError> {
    let mut p = [0u8; 10];
    let dims = if &c.fourcc == b"VP8 " {
        if c.size < 10 {
            return Err(src.bad("VP8 chunk too short"));
        }
        src.exact(&mut p)?;
        let tag = u24(&p[..3]);
        if tag & 1 != 0 {
            return Err(src.bad("VP8 data is not a key frame"));
        }
        if (tag >> 1) & 7 > 3 || (tag >> 4) & 1 == 0 || (tag >> 5) >= c.size {
            return Err(src.bad("bad VP8 frame tag"));
        }
        if p[3..6] != [0x9D, 0x01, 0x2A] {
            return Err(src.bad("missing VP8 start code"));
        }
        let w = u32::from(u16::from_le_bytes([p[6], p[7]]) & 0x3FFF);
        let h = u32::from(u16::from_le_bytes([p[8], p[9]]) & 0x3FFF);
        if w == 0 || h == 0 {
            return Err(src.bad("zero width or height"));
        }
        (w, h)
    } else {
        if c.size < 5 {
            return Err(src.bad("VP8L chunk too short"));
        }
        src.exact(&mut p[..5])?;
        let bits = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
        if p[0] != 0x2F || bits >> 29 != 0 {
            return Err(src.bad("bad VP8L header"));
        }
        ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    };
    let head = if &c.fourcc == b"VP8 " { 10 } else { 5 };
    out.write(&c.header())?;
    out.write(&p[..head])?;
    src.copy(c.padded() - head as u64, out, None)?;
    Ok(dims)
}

/// Copies an ANMF chunk (header already read) with only its image chunks
/// (`ALPH`, `VP8 `, `VP8L`): anything else inside a frame is dropped, so
/// its size may shrink; pass 2 takes the new size from the plan.
fn anmf<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    c: &Chunk,
    budget: &mut Budget,
    plan: Option<&Plan>,
    sizes: &mut Vec<u32>,
) -> Result<bool, ImageError> {
    if c.size < 16 {
        return Err(src.bad("ANMF chunk too short"));
    }
    let h: [u8; 16] = src.array()?;
    let (x, y) = (2 * u24(&h[0..3]), 2 * u24(&h[3..6]));
    let (w, hh) = (u24(&h[6..9]) + 1, u24(&h[9..12]) + 1);
    let index = budget.frames() as usize;
    budget.frame(x + w, y + hh)?;
    let size = plan.map_or(Some(c.size), |p| p.anmf_sizes.get(index).copied());
    let size = size.ok_or_else(|| src.bad("the input changed while it was read"))?;
    out.write(
        &Chunk {
            fourcc: *b"ANMF",
            size,
        }
        .header(),
    )?;
    out.write(&h)?;
    let mut remaining = u64::from(c.size) - 16;
    let mut kept = 16u64;
    let mut image = false;
    let mut alpha = false;
    while remaining > 0 {
        let sub = chunk(src, remaining)?;
        remaining -= sub.total();
        match &sub.fourcc {
            b"VP8 " | b"VP8L" => {
                if image {
                    return Err(src.bad("two images in one ANMF frame"));
                }
                image = true;
                if frame(src, out, &sub)? != (w, hh) {
                    return Err(src.bad("ANMF frame size differs from its image"));
                }
                kept += sub.total();
            }
            b"ALPH" if !image && !alpha => {
                alpha = true;
                out.write(&sub.header())?;
                src.copy(sub.padded(), out, None)?;
                kept += sub.total();
            }
            b"ALPH" => return Err(src.bad("misplaced ALPH chunk in ANMF frame")),
            // Unknown chunks inside a frame: metadata riding along, dropped.
            _ => {
                src.skip(sub.padded(), None)?;
            }
        }
    }
    if !image {
        return Err(src.bad("ANMF frame without image"));
    }
    let kept = u32::try_from(kept).map_err(|_| src.bad("ANMF size overflow"))?;
    sizes.push(kept);
    Ok(kept != c.size)
}

/// An `EXIF` or `XMP ` chunk's first `exif::PARSE_LIMIT` bytes; the rest is
/// skipped.
fn metadata_chunk<R: Read>(src: &mut Src<R>, c: &Chunk) -> Result<Vec<u8>, ImageError> {
    let keep = (c.size as usize).min(exif::PARSE_LIMIT);
    let mut data = vec![0u8; keep];
    src.exact(&mut data)?;
    src.skip(c.padded() - keep as u64, None)?;
    Ok(data)
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    budget: &mut Budget,
    plan: Option<&Plan>,
) -> Result<Walk, ImageError> {
    let head: [u8; 12] = src.array()?;
    let riff_size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if !riff_size.is_multiple_of(2) {
        return Err(src.bad("odd RIFF size"));
    }
    if riff_size < 4 + 8 {
        return Err(src.bad("RIFF too small"));
    }
    let out_riff = plan.map_or(riff_size, |p| p.riff_size);
    out.write(b"RIFF")?;
    out.write(&out_riff.to_le_bytes())?;
    out.write(b"WEBP")?;
    let body_start = out.written;

    let mut remaining = u64::from(riff_size) - 4;
    let mut meta = false;
    let mut orientation = exif::Sources::default();
    let mut anmf_sizes = Vec::new();
    // Bytes of minimal EXIF written by pass 2 (pass 1 only plans them).
    let mut slot_bytes = 0u64;
    let first = chunk(src, remaining)?;
    remaining -= first.total();
    let out_flags;
    match &first.fourcc {
        b"VP8 " | b"VP8L" => {
            let (w, h) = frame(src, out, &first)?;
            budget.frame(w, h)?;
            out_flags = 0;
            // The simple format holds one image chunk; anything after it is
            // dropped (decoders ignore it), another image is an error.
            while remaining > 0 {
                let c = chunk(src, remaining)?;
                remaining -= c.total();
                if matches!(
                    &c.fourcc,
                    b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF"
                ) {
                    return Err(src.bad("image chunk after a simple-format image"));
                }
                meta = true;
                src.skip(c.padded(), None)?;
            }
        }
        b"VP8X" => {
            if first.size != 10 {
                return Err(src.bad("VP8X size is not 10"));
            }
            let p: [u8; 10] = src.array()?;
            let flags = p[0];
            let canvas = (u24(&p[4..7]) + 1, u24(&p[7..10]) + 1);
            budget.extent(canvas.0, canvas.1)?;
            let animated = flags & FLAG_ANIMATION != 0;
            // Pass 1 writes nothing: the output flags are worked out below
            // and handed to pass 2 in the plan.
            out.write(&first.header())?;
            out.write(&[plan.map_or(flags, |p| p.vp8x_flags)])?;
            out.write(&p[1..])?;

            let mut anim = false;
            let mut image = false;
            let mut alpha = false;
            let mut slot_taken = false;
            while remaining > 0 {
                let c = chunk(src, remaining)?;
                remaining -= c.total();
                match &c.fourcc {
                    b"ICCP" => {
                        out.write(&c.header())?;
                        src.copy(c.padded(), out, None)?;
                    }
                    b"ANIM" if animated && !anim && c.size >= 6 => {
                        anim = true;
                        out.write(&c.header())?;
                        src.copy(c.padded(), out, None)?;
                    }
                    b"ANMF" if anim => {
                        meta |= anmf(src, out, &c, budget, plan, &mut anmf_sizes)?;
                    }
                    b"ALPH" if !animated && !image && !alpha => {
                        alpha = true;
                        out.write(&c.header())?;
                        src.copy(c.padded(), out, None)?;
                    }
                    b"VP8 " | b"VP8L" if !animated && !image => {
                        let dims = frame(src, out, &c)?;
                        if dims != canvas {
                            return Err(src.bad("image size differs from the VP8X canvas"));
                        }
                        budget.frame(dims.0, dims.1)?;
                        image = true;
                    }
                    b"VP8X" | b"ANIM" | b"ANMF" | b"ALPH" | b"VP8 " | b"VP8L" => {
                        let name = String::from_utf8_lossy(&c.fourcc);
                        return Err(src.bad(format!("unexpected {name} chunk")));
                    }
                    b"EXIF" | b"XMP " => {
                        let data = metadata_chunk(src, &c)?;
                        let is_exif = &c.fourcc == b"EXIF";
                        if is_exif {
                            orientation.exif(exif::orientation(&data));
                        } else {
                            orientation.xmp(exif::xmp_orientation(&data));
                        }
                        if slot_taken {
                            meta = true;
                            continue;
                        }
                        // The first of them is where the minimal EXIF goes.
                        slot_taken = true;
                        meta |= !(is_exif && exif::is_minimal(&data));
                        if let Some(o) = plan.and_then(|p| p.orientation) {
                            let tiff = exif::minimal(o);
                            let c = Chunk {
                                fourcc: *b"EXIF",
                                size: tiff.len() as u32,
                            };
                            out.write(&c.header())?;
                            out.write(&tiff)?;
                            slot_bytes = 8 + tiff.len() as u64;
                        }
                    }
                    // Unknown chunks.
                    _ => {
                        meta = true;
                        src.skip(c.padded(), None)?;
                    }
                }
            }
            if animated {
                if budget.frames() == 0 {
                    return Err(src.bad("animation without frames"));
                }
            } else if !image {
                return Err(src.bad("no image data"));
            }
            let exif_out = orientation.resolved().is_some();
            out_flags = (flags & !(FLAG_EXIF | FLAG_XMP)) | if exif_out { FLAG_EXIF } else { 0 };
            if out_flags != flags {
                meta = true;
            }
        }
        _ => return Err(src.bad("first chunk is not VP8, VP8L or VP8X")),
    }

    if !src.at_eof()? {
        // Bytes after the RIFF end are dropped.
        meta = true;
    }
    let minimal = if orientation.resolved().is_some() {
        8 + exif::MINIMAL_LEN as u64
    } else {
        0
    };
    let body = out.written - body_start - slot_bytes + minimal;
    let new_riff = u32::try_from(4 + body).map_err(|_| src.bad("RIFF size overflow"))?;
    if new_riff != riff_size {
        meta = true;
    }
    Ok(Walk {
        inspection: budget.inspection(meta),
        plan: Plan {
            orientation: orientation.resolved(),
            riff_size: new_riff,
            vp8x_flags: out_flags,
            anmf_sizes,
            cut_at: None,
        },
    })
}
