//! GIF: a walk over the blocks and their sub-blocks.

use std::io::{Read, Write};

use crate::stream::{Out, Src};
use crate::{ImageError, ImageFormat, Inspection, Plan, Walk};

/// Application extensions that stay: looping, and the ICC profile.
const KEPT_APPS: [&[u8; 11]; 3] = [b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"];

/// Copies (or skips, when `out` is `None`) a chain of data sub-blocks up to
/// and including the zero-length terminator.
fn sub_blocks<R: Read, W: Write>(
    src: &mut Src<R>,
    mut out: Option<&mut Out<W>>,
) -> Result<(), ImageError> {
    loop {
        let n = src.byte()?;
        match out.as_deref_mut() {
            Some(o) => {
                o.write(&[n])?;
                src.copy(u64::from(n), o, None)?;
            }
            None => src.skip(u64::from(n), None)?,
        }
        if n == 0 {
            return Ok(());
        }
    }
}

fn colour_table_len(packed: u8) -> u64 {
    if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    }
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
) -> Result<Walk, ImageError> {
    let head: [u8; 13] = src.array()?;
    out.write(&head)?;
    let mut max_w = u32::from(u16::from_le_bytes([head[6], head[7]]));
    let mut max_h = u32::from(u16::from_le_bytes([head[8], head[9]]));
    src.copy(colour_table_len(head[10]), out, None)?;

    let mut meta = false;
    let mut images = 0u32;
    loop {
        match src.byte()? {
            0x2C => {
                let d: [u8; 9] = src.array()?;
                let at = |i: usize| u32::from(u16::from_le_bytes([d[i], d[i + 1]]));
                let (left, top, w, h) = (at(0), at(2), at(4), at(6));
                max_w = max_w.max(left + w);
                max_h = max_h.max(top + h);
                out.write(&[0x2C])?;
                out.write(&d)?;
                src.copy(colour_table_len(d[8]), out, None)?;
                let lzw = src.byte()?;
                if !(1..=11).contains(&lzw) {
                    return Err(src.bad("bad LZW minimum code size"));
                }
                out.write(&[lzw])?;
                sub_blocks(src, Some(out))?;
                images += 1;
            }
            0x21 => {
                let label = src.byte()?;
                match label {
                    // Graphic control and plain text stay.
                    0xF9 | 0x01 => {
                        out.write(&[0x21, label])?;
                        sub_blocks(src, Some(out))?;
                    }
                    0xFF => {
                        let n = src.byte()?;
                        if n == 11 {
                            let id: [u8; 11] = src.array()?;
                            if KEPT_APPS.contains(&&id) {
                                out.write(&[0x21, 0xFF, 11])?;
                                out.write(&id)?;
                                sub_blocks(src, Some(out))?;
                                continue;
                            }
                        } else if n != 0 {
                            src.skip(u64::from(n), None)?;
                        }
                        meta = true;
                        if n != 0 {
                            sub_blocks::<R, W>(src, None)?;
                        }
                    }
                    // Comments and unknown extensions go.
                    _ => {
                        meta = true;
                        sub_blocks::<R, W>(src, None)?;
                    }
                }
            }
            0x3B => {
                out.write(&[0x3B])?;
                break;
            }
            b => return Err(src.bad(format!("unknown block 0x{b:02X}"))),
        }
    }

    if images == 0 {
        return Err(src.bad("no image"));
    }
    if max_w == 0 || max_h == 0 {
        return Err(src.bad("zero width or height"));
    }
    if !src.at_eof()? {
        meta = true;
    }
    Ok(Walk {
        inspection: Inspection {
            format: ImageFormat::Gif,
            width: max_w,
            height: max_h,
            has_metadata: meta,
        },
        plan: Plan::default(),
    })
}
