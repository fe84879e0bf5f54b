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
/// skipped), when it is present, well-formed and in 1..=8. Writers store it
/// as SHORT (the standard), LONG or SLONG; all three are read, as Pillow and
/// exiftool read them.
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
        let entry = ifd.checked_add(2 + 12 * i)?;
        let tag = u16_at(entry)?;
        if tag == 0x0112 {
            let ty = u16_at(entry + 2)?;
            if u32_at(entry + 4)? != 1 {
                return None;
            }
            let value = match ty {
                3 => u32::from(u16_at(entry + 8)?),
                // LONG and SLONG: 1..=8 reads the same either way.
                4 | 9 => u32_at(entry + 8)?,
                _ => return None,
            };
            return u16::try_from(value).ok().filter(|v| (1..=8).contains(v));
        }
    }
    None
}

/// The `tiff:Orientation` of an XMP packet, in either of the forms XMP
/// writers use: an attribute (`tiff:Orientation="6"`) or an element
/// (`<tiff:Orientation>6</tiff:Orientation>`). The first occurrence with a
/// value in 1..=8 counts.
pub(crate) fn xmp_orientation(xmp: &[u8]) -> Option<u16> {
    const NAME: &[u8] = b"tiff:Orientation";
    let mut from = 0;
    while let Some(at) = find(&xmp[from..], NAME).map(|i| from + i) {
        from = at + NAME.len();
        let rest = &xmp[from..];
        let element = at > 0 && xmp[at - 1] == b'<';
        let value = match trim_start(rest).split_first() {
            Some((b'=', v)) if !element => match trim_start(v).split_first() {
                Some((&q @ (b'"' | b'\''), v)) => {
                    let end = v.iter().position(|&b| b == q)?;
                    number(&v[..end])
                }
                _ => None,
            },
            // A start tag, perhaps with attributes, then the value as text.
            Some(_) if element => {
                let close = rest.iter().position(|&b| b == b'>')?;
                let text = &rest[close + 1..];
                let end = text.iter().position(|&b| b == b'<')?;
                (close == 0 || rest[close - 1] != b'/')
                    .then(|| number(&text[..end]))
                    .flatten()
            }
            _ => None,
        };
        if value.is_some() {
            return value;
        }
    }
    None
}

/// The orientation in the text of ImageMagick's `exif:Orientation` PNG text
/// chunk: the number alone.
pub(crate) fn text_orientation(text: &[u8]) -> Option<u16> {
    number(text)
}

/// The EXIF of ImageMagick's `Raw profile type exif` PNG text chunk: a line
/// naming the profile, a line with its length, then hex digits over many
/// lines. Decodes at most [`PARSE_LIMIT`] bytes.
pub(crate) fn raw_profile(text: &[u8]) -> Option<Vec<u8>> {
    let mut lines = text
        .split(|&b| b == b'\n')
        .filter(|l| !trim_start(l).is_empty());
    if trim_start(lines.next()?) != b"exif" {
        return None;
    }
    number_u64(lines.next()?)?;
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    for &b in lines.flatten() {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b' ' | b'\t' | b'\r' => continue,
            _ => return None,
        };
        match high.take() {
            None => high = Some(nibble),
            Some(h) => {
                out.push(h << 4 | nibble);
                if out.len() == PARSE_LIMIT {
                    break;
                }
            }
        }
    }
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &b[n..]
}

fn number_u64(b: &[u8]) -> Option<u64> {
    let t = b.trim_ascii();
    if t.is_empty() || t.len() > 12 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(t.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

fn number(b: &[u8]) -> Option<u16> {
    let n = number_u64(b)?;
    u16::try_from(n).ok().filter(|v| (1..=8).contains(v))
}

/// Orientations found so far, by kind of source; the precedence is EXIF,
/// then XMP, then the ImageMagick text chunk, each kind taking its first
/// valid value.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sources {
    exif: Option<u16>,
    xmp: Option<u16>,
    text: Option<u16>,
}

impl Sources {
    pub fn exif(&mut self, o: Option<u16>) {
        self.exif = self.exif.or(o);
    }

    pub fn xmp(&mut self, o: Option<u16>) {
        self.xmp = self.xmp.or(o);
    }

    pub fn text(&mut self, o: Option<u16>) {
        self.text = self.text.or(o);
    }

    /// The orientation the output carries: none for 1 (the default).
    pub fn resolved(&self) -> Option<u16> {
        self.exif
            .or(self.xmp)
            .or(self.text)
            .filter(|o| (2..=8).contains(o))
    }
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

    fn one_entry(big: bool, ty: u16, value: u32) -> Vec<u8> {
        let mut t = if big {
            b"MM\0\x2a".to_vec()
        } else {
            b"II\x2a\0".to_vec()
        };
        let w16 = |t: &mut Vec<u8>, v: u16| {
            t.extend(if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        let w32 = |t: &mut Vec<u8>, v: u32| {
            t.extend(if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        w32(&mut t, 8);
        w16(&mut t, 1);
        w16(&mut t, 0x0112);
        w16(&mut t, ty);
        w32(&mut t, 1);
        if ty == 3 {
            w16(&mut t, value as u16);
            w16(&mut t, 0);
        } else {
            w32(&mut t, value);
        }
        w32(&mut t, 0);
        t
    }

    #[test]
    fn short_long_and_slong_forms() {
        for big in [true, false] {
            assert_eq!(orientation(&one_entry(big, 3, 6)), Some(6));
            assert_eq!(orientation(&one_entry(big, 4, 6)), Some(6));
            assert_eq!(orientation(&one_entry(big, 9, 8)), Some(8));
            // Out of range, or a type nobody writes it as.
            assert_eq!(orientation(&one_entry(big, 9, 0x1_0006)), None);
            assert_eq!(orientation(&one_entry(big, 9, u32::MAX)), None);
            assert_eq!(orientation(&one_entry(big, 2, 6)), None);
        }
    }

    #[test]
    fn xmp_attribute_and_element_forms() {
        let attr = br#"<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>"#;
        assert_eq!(xmp_orientation(attr), Some(6));
        assert_eq!(xmp_orientation(b"<x tiff:Orientation = '3' />"), Some(3));
        let elem = b"<rdf:Description><tiff:Orientation> 8 </tiff:Orientation></rdf:Description>";
        assert_eq!(xmp_orientation(elem), Some(8));
        assert_eq!(
            xmp_orientation(b"<tiff:Orientation>9</tiff:Orientation>"),
            None
        );
        assert_eq!(xmp_orientation(b"tiff:OrientationX=\"6\""), None);
        assert_eq!(xmp_orientation(b"tiff:Orientation=\"6"), None);
        let ns =
            b"<tiff:Orientation xmlns:tiff='http://ns.adobe.com/tiff/1.0/'>2</tiff:Orientation>";
        assert_eq!(xmp_orientation(ns), Some(2));
        assert_eq!(xmp_orientation(b"<tiff:Orientation/>6<"), None);
        // A closing tag is no value.
        assert_eq!(xmp_orientation(b"</tiff:Orientation>6<"), None);
    }

    #[test]
    fn raw_profile_hex() {
        let mut tiff = b"Exif\0\0".to_vec();
        tiff.extend(minimal(5));
        let hex: String = tiff.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "\nexif\n      {}\n{}\n{}\n",
            tiff.len(),
            &hex[..20],
            &hex[20..]
        );
        let raw = raw_profile(text.as_bytes()).unwrap();
        assert_eq!(raw, tiff);
        assert_eq!(orientation(&raw), Some(5));
        assert_eq!(raw_profile(b"\nxmp\n 2\nabcd\n"), None);
    }

    #[test]
    fn precedence_is_exif_xmp_text() {
        let mut s = Sources::default();
        s.text(Some(3));
        assert_eq!(s.resolved(), Some(3));
        s.xmp(Some(6));
        assert_eq!(s.resolved(), Some(6));
        s.exif(Some(1));
        assert_eq!(s.resolved(), None, "EXIF's 1 wins over XMP's 6");
        s.exif(Some(8));
        assert_eq!(s.resolved(), None, "the first EXIF value counts");
    }
}
