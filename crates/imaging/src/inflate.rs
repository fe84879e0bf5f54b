//! A bounded zlib/deflate decoder (RFC 1950/1951) for the compressed PNG
//! text chunks that may hold an orientation (`zTXt`, compressed `iTXt`).
//!
//! It only ever needs the start of a text: it stops after `limit` output
//! bytes, and a damaged or cut stream gives back what it decoded so far.
//! Pixel data is never inflated.

/// Inflates the zlib stream `data`, returning at most `limit` bytes: the
/// whole text, or its first `limit` bytes, or what decoded before an error.
pub(crate) fn zlib(data: &[u8], limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let header_ok = data.len() >= 2
        && data[0] & 0x0F == 8
        && data[0] >> 4 <= 7
        && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0
        && data[1] & 0x20 == 0;
    if header_ok {
        let mut d = Inflater {
            bits: Bits {
                data: &data[2..],
                pos: 0,
                acc: 0,
                n: 0,
            },
            out: &mut out,
            limit,
        };
        // Either way `out` holds what was decoded.
        let _ = d.run();
    }
    out
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u32,
    n: u32,
}

impl Bits<'_> {
    fn take(&mut self, count: u32) -> Option<u32> {
        debug_assert!(count <= 16);
        while self.n < count {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            self.acc |= u32::from(b) << self.n;
            self.n += 8;
        }
        let v = self.acc & ((1u32 << count) - 1);
        self.acc >>= count;
        self.n -= count;
        Some(v)
    }

    fn align(&mut self) {
        self.acc = 0;
        self.n = 0;
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols
/// in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: [u16; 288],
}

impl Huffman {
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut h = Huffman {
            counts: [0; 16],
            symbols: [0; 288],
        };
        for &l in lengths {
            h.counts[usize::from(l)] += 1;
        }
        h.counts[0] = 0;
        let mut left: i32 = 1;
        for len in 1..16 {
            left = left * 2 - i32::from(h.counts[len]);
            if left < 0 {
                return None;
            }
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + h.counts[len];
        }
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                h.symbols[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        Some(h)
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1)? as i32;
            let count = i32::from(self.counts[len]);
            if code - first < count {
                return self.symbols.get((index + code - first) as usize).copied();
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

struct Inflater<'a, 'b> {
    bits: Bits<'a>,
    out: &'b mut Vec<u8>,
    limit: usize,
}

/// `None` ends decoding: the stream is damaged or cut, or `limit` is reached.
impl Inflater<'_, '_> {
    fn run(&mut self) -> Option<()> {
        loop {
            let last = self.bits.take(1)?;
            match self.bits.take(2)? {
                0 => self.stored()?,
                1 => {
                    let mut lengths = [0u8; 288 + 30];
                    lengths[..144].fill(8);
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    lengths[280..288].fill(8);
                    lengths[288..].fill(5);
                    self.codes(&lengths[..288], &lengths[288..])?;
                }
                2 => self.dynamic()?,
                _ => return None,
            }
            if last == 1 {
                return Some(());
            }
        }
    }

    fn push(&mut self, b: u8) -> Option<()> {
        if self.out.len() >= self.limit {
            return None;
        }
        self.out.push(b);
        Some(())
    }

    fn stored(&mut self) -> Option<()> {
        self.bits.align();
        let b = &self.bits;
        let head = b.data.get(b.pos..b.pos.checked_add(4)?)?;
        let len = u16::from_le_bytes([head[0], head[1]]);
        if len != !u16::from_le_bytes([head[2], head[3]]) {
            return None;
        }
        self.bits.pos += 4;
        for _ in 0..len {
            let byte = *self.bits.data.get(self.bits.pos)?;
            self.bits.pos += 1;
            self.push(byte)?;
        }
        Some(())
    }

    fn dynamic(&mut self) -> Option<()> {
        const ORDER: [usize; 19] = [
            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
        ];
        let nlen = self.bits.take(5)? as usize + 257;
        let ndist = self.bits.take(5)? as usize + 1;
        let ncode = self.bits.take(4)? as usize + 4;
        if nlen > 286 || ndist > 30 {
            return None;
        }
        let mut code_lengths = [0u8; 19];
        for &i in &ORDER[..ncode] {
            code_lengths[i] = self.bits.take(3)? as u8;
        }
        let code = Huffman::new(&code_lengths)?;
        let mut lengths = [0u8; 286 + 30];
        let mut i = 0;
        while i < nlen + ndist {
            let sym = code.decode(&mut self.bits)?;
            let (value, repeat) = match sym {
                0..=15 => (sym as u8, 1),
                16 => (*lengths.get(i.checked_sub(1)?)?, 3 + self.bits.take(2)?),
                17 => (0, 3 + self.bits.take(3)?),
                18 => (0, 11 + self.bits.take(7)?),
                _ => return None,
            };
            for _ in 0..repeat {
                *lengths.get_mut(i).filter(|_| i < nlen + ndist)? = value;
                i += 1;
            }
        }
        if lengths[256] == 0 {
            return None;
        }
        self.codes(&lengths[..nlen], &lengths[nlen..nlen + ndist])
    }

    fn codes(&mut self, lit_lengths: &[u8], dist_lengths: &[u8]) -> Option<()> {
        let lit = Huffman::new(lit_lengths)?;
        let dist = Huffman::new(dist_lengths)?;
        loop {
            let sym = usize::from(lit.decode(&mut self.bits)?);
            match sym {
                0..=255 => self.push(sym as u8)?,
                256 => return Some(()),
                _ => {
                    let i = sym - 257;
                    let len = usize::from(*LEN_BASE.get(i)?)
                        + self.bits.take(u32::from(LEN_EXTRA[i]))? as usize;
                    let d = usize::from(dist.decode(&mut self.bits)?);
                    let back = usize::from(*DIST_BASE.get(d)?)
                        + self.bits.take(u32::from(DIST_EXTRA[d]))? as usize;
                    let start = self.out.len().checked_sub(back)?;
                    for k in 0..len {
                        let b = self.out[start + k];
                        self.push(b)?;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::zlib;

    const TEXT: &[u8] = b"exif:Orientation exif:Orientation exif:Orientation 6 6 6 6 6 6 6 6 6 6";

    #[test]
    fn stored_fixed_and_dynamic_blocks() {
        let stored: Vec<u8> = {
            let mut v = vec![0x78, 0x01, 0x01];
            v.extend((TEXT.len() as u16).to_le_bytes());
            v.extend((!(TEXT.len() as u16)).to_le_bytes());
            v.extend(TEXT);
            v
        };
        assert_eq!(zlib(&stored, 1 << 16), TEXT);
        assert_eq!(zlib(&stored, 10), &TEXT[..10]);
        assert_eq!(zlib(&stored[..20], 1 << 16), &TEXT[..13]);
        // A header that is not zlib's.
        assert!(zlib(&stored[1..], 1 << 16).is_empty());
    }

    #[test]
    fn fixed_huffman_with_back_references() {
        // zlib.compress(b"abcabcabcabcabcabc", 9)
        let data = [120, 218, 75, 76, 74, 78, 68, 69, 0, 65, 124, 6, 229];
        assert_eq!(zlib(&data, 1 << 16), b"abcabcabcabcabcabc");
    }

    #[test]
    fn dynamic_huffman() {
        // zlib.compress(XMP * 3, 9): a dynamic block.
        let hex = "78daedce410ac2301005d0ab0c7300ab1b17212d88d5ad205e604ca674b04d4232857a7b5b04f1002edd7d3efccfb3b399c734b25263b3efccb53dbf43cbc565492a31804ad7994b160e4a6b51e31e6199996366d2986f310e359ebc2c19769b2d8277464507aef1007d1cc4d31392389d3283d28303acb73dc39dc9f5400a650a8515abc6561f47f585fb3b7fea7c01a171af3c";
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let xmp: &[u8] = br#"<x:xmpmeta><rdf:RDF><rdf:Description tiff:Orientation="6" xmp:CreatorTool="Editor 1.0" dc:title="A holiday picture taken on the beach at sunset"/></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(zlib(&data, 1 << 16), xmp.repeat(3));
        assert_eq!(zlib(&data, 100), &xmp[..100]);
        // Cut short: what decoded before the cut.
        let cut = zlib(&data[..60], 1 << 16);
        assert!(!cut.is_empty() && xmp.repeat(3).starts_with(&cut));
    }
}
