//! GIF: a walk over the blocks and their sub-blocks.

use std::io::{Read, Write};

use crate::stream::{Out, Src};
use crate::{Budget, ImageError, Plan, Walk};

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

/// Reads an extension after its introducer (0x21): writes it when it stays.
fn extension<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    meta: &mut bool,
) -> Result<(), ImageError> {
    let label = src.byte()?;
    match label {
        // Graphic control stays: delays, disposal, transparency.
        0xF9 => {
            out.write(&[0x21, label])?;
            sub_blocks(src, Some(out))?;
        }
        0xFF => {
            let n = src.byte()?;
            let mut id = [0u8; 11];
            if n == 11 {
                src.exact(&mut id)?;
            } else {
                src.skip(u64::from(n), None)?;
            }
            if n == 11 && KEPT_APPS.contains(&&id) {
                out.write(&[0x21, 0xFF, 11])?;
                out.write(&id)?;
                sub_blocks(src, Some(out))?;
            } else {
                *meta = true;
                if n != 0 {
                    sub_blocks::<R, W>(src, None)?;
                }
            }
        }
        // Comments, plain text (rendered by no browser, Pillow or libgif
        // viewer: text riding along unseen) and unknown extensions go.
        _ => {
            *meta = true;
            sub_blocks::<R, W>(src, None)?;
        }
    }
    Ok(())
}

pub(crate) fn walk<R: Read, W: Write>(
    src: &mut Src<R>,
    out: &mut Out<W>,
    budget: &mut Budget,
    plan: Option<&Plan>,
) -> Result<Walk, ImageError> {
    let head: [u8; 13] = src.array()?;
    out.write(&head)?;
    let screen_w = u32::from(u16::from_le_bytes([head[6], head[7]]));
    let screen_h = u32::from(u16::from_le_bytes([head[8], head[9]]));
    budget.extent(screen_w, screen_h)?;
    src.copy(colour_table_len(head[10]), out, None)?;

    let mut meta = false;
    let mut cut_at = None;
    loop {
        let at = src.offset();
        let frames = budget.frames() > 0;
        // After complete frames, a file may end without its trailer or
        // inside an extension: browsers and Pillow show the frames, and the
        // output ends there with a trailer. Pass 1 finds where.
        if frames {
            let planned = plan.and_then(|p| p.cut_at).filter(|&c| c == at);
            if planned.is_some() || src.at_eof()? {
                meta = true;
                cut_at = planned;
                out.write(&[0x3B])?;
                break;
            }
        }
        match src.byte()? {
            0x2C => {
                let d: [u8; 9] = src.array()?;
                let at = |i: usize| u32::from(u16::from_le_bytes([d[i], d[i + 1]]));
                let (left, top, w, h) = (at(0), at(2), at(4), at(6));
                budget.frame(left + w, top + h)?;
                out.write(&[0x2C])?;
                out.write(&d)?;
                src.copy(colour_table_len(d[8]), out, None)?;
                let lzw = src.byte()?;
                if !(1..=11).contains(&lzw) {
                    return Err(src.bad("bad LZW minimum code size"));
                }
                out.write(&[lzw])?;
                sub_blocks(src, Some(out))?;
            }
            0x21 => match extension(src, out, &mut meta) {
                Ok(()) => {}
                // Only pass 1 gets here: pass 2 stops before `at`.
                Err(ImageError::Malformed { .. }) if frames && src.at_eof()? => {
                    meta = true;
                    cut_at = Some(at);
                    out.write(&[0x3B])?;
                    break;
                }
                Err(e) => return Err(e),
            },
            0x3B => {
                out.write(&[0x3B])?;
                break;
            }
            // A stray byte between blocks: skipped, as Pillow does (browsers
            // stop at it; the output, without it, shows all frames there too).
            // A second GIF appended to a first without a trailer is read the
            // same way: its header is stray bytes, its frames are frames.
            _ => meta = true,
        }
    }

    if budget.frames() == 0 {
        return Err(src.bad("no image"));
    }
    if !src.at_eof()? {
        meta = true;
    }
    let inspection = budget.inspection(meta);
    if inspection.width == 0 || inspection.height == 0 {
        return Err(src.bad("zero width or height"));
    }
    Ok(Walk {
        inspection,
        plan: Plan {
            cut_at,
            ..Plan::default()
        },
    })
}
