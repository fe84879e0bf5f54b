//! Reading the orientation out of an EXIF (TIFF) block, and the minimal
//! orientation-only EXIF that replaces it.

/// Length of the minimal EXIF TIFF structure.
pub(crate) const MINIMAL_LEN: usize = 26;

/// At most this much of an EXIF block is read to find the orientation.
pub(crate) const PARSE_LIMIT: usize = 64 * 1024;

/// Big-endian TIFF header, IFD0 at offset 8 with one entry, Orientation
/// (0x0112, SHORT, count 1), and no next IFD.
pub(crate) fn minimal(orientation: u16) -> [u8; MINIMAL_LEN] {
    let o = orientation.to_be_bytes();
    [
        b'M', b'M', 0, 42, 0, 0, 0, 8, // header
        0, 1, // one entry
        0x01, 0x12, 0, 3, 0, 0, 0, 1, o[0], o[1], 0, 0, // Orientation
        0, 0, 0, 0, // no next IFD
    ]
}

/// Whether `tiff` is exactly a minimal EXIF with an orientation other than 1,
/// as written by `strip`: not metadata.
pub(crate) fn is_minimal(tiff: &[u8]) -> bool {
    tiff.len() == MINIMAL_LEN && (2..=8).any(|o| tiff == minimal(o))
}

/// The IFD0 Orientation of a TIFF structure (a `Exif\0\0` prefix is
/// skipped), when it is present, well-formed and in 1..=8.
pub(crate) fn orientation(mut tiff: &[u8]) -> Option<u16> {
    if let Some(rest) = tiff.strip_prefix(b"Exif\0\0") {
        tiff = rest;
    }
    let big = match tiff.get(..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    for i in 0..count {
        let entry = ifd + 2 + 12 * i;
        let tag = u16_at(entry)?;
        if tag == 0x0112 {
            let ty = u16_at(entry + 2)?;
            let n = u32_at(entry + 4)?;
            if ty != 3 || n != 1 {
                return None;
            }
            let value = u16_at(entry + 8)?;
            return (1..=8).contains(&value).then_some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_round_trips() {
        for o in 1..=8 {
            assert_eq!(orientation(&minimal(o)), Some(o));
        }
        assert!(is_minimal(&minimal(6)));
        assert!(!is_minimal(&minimal(1)));
        assert!(!is_minimal(&minimal(9)));
    }

    #[test]
    fn little_endian_and_prefix() {
        let mut t = b"Exif\0\0II\x2a\0\x08\0\0\0\x02\0".to_vec();
        t.extend_from_slice(&[0x0f, 0x01, 2, 0, 4, 0, 0, 0, 26, 0, 0, 0]); // Make
        t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation
        t.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(orientation(&t), Some(6));
        assert_eq!(orientation(&t[..t.len() - 10]), None);
        assert_eq!(orientation(b"MM\0\x2a\xff\xff\xff\xff"), None);
    }
}
