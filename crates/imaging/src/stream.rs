//! Fixed-buffer input and optional output used by every format walker.

use std::io::{self, Read, Write};

use crate::{ImageError, ImageFormat, crc};

/// Size of the input buffer (and of the output `BufWriter`).
pub(crate) const BUF_SIZE: usize = 16 * 1024;

/// Buffered input with truncation turned into [`ImageError::Malformed`].
pub(crate) struct Src<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    format: ImageFormat,
}

impl<R: Read> Src<R> {
    pub fn new(inner: R) -> Self {
        Src {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            // Replaced by `set_format` as soon as the signature is known.
            format: ImageFormat::Png,
        }
    }

    pub fn set_format(&mut self, format: ImageFormat) {
        self.format = format;
    }

    pub fn bad(&self, reason: impl Into<String>) -> ImageError {
        ImageError::malformed(self.format, reason)
    }

    fn truncated(&self) -> ImageError {
        self.bad("truncated")
    }

    /// Reads more into the buffer; false at end of input.
    fn fill(&mut self) -> Result<bool, ImageError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos == self.end {
            self.base += self.pos as u64;
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.shift();
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ImageError::Io(e)),
            }
        }
    }

    /// Moves the unread bytes to the start of the buffer.
    fn shift(&mut self) {
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.base += self.pos as u64;
        self.pos = 0;
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Up to `n` (≤ BUF_SIZE) bytes ahead without consuming them; fewer only at end of input.
    pub fn peek(&mut self, n: usize) -> Result<&[u8], ImageError> {
        debug_assert!(n <= self.buf.len());
        while self.end - self.pos < n {
            if self.buf.len() - self.pos < n {
                self.shift();
            }
            if !self.fill()? {
                break;
            }
        }
        let avail = (self.end - self.pos).min(n);
        Ok(&self.buf[self.pos..self.pos + avail])
    }

    /// True when no byte is left.
    pub fn at_eof(&mut self) -> Result<bool, ImageError> {
        Ok(self.pos == self.end && !self.fill()?)
    }

    pub fn byte(&mut self) -> Result<u8, ImageError> {
        if self.pos == self.end && !self.fill()? {
            return Err(self.truncated());
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub fn exact(&mut self, dst: &mut [u8]) -> Result<(), ImageError> {
        let mut done = 0;
        while done < dst.len() {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated());
            }
            let n = (self.end - self.pos).min(dst.len() - done);
            dst[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ImageError> {
        let mut a = [0; N];
        self.exact(&mut a)?;
        Ok(a)
    }

    /// Passes the next `n` bytes to `f` piece by piece.
    fn pump(
        &mut self,
        mut n: u64,
        mut f: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), ImageError> {
        while n > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated());
            }
            let k = usize::try_from(n)
                .unwrap_or(usize::MAX)
                .min(self.end - self.pos);
            f(&self.buf[self.pos..self.pos + k])?;
            self.pos += k;
            n -= k as u64;
        }
        Ok(())
    }

    /// Copies the next `n` bytes to `out`, feeding `crc` if given.
    pub fn copy<W: Write>(
        &mut self,
        n: u64,
        out: &mut Out<W>,
        mut crc: Option<&mut u32>,
    ) -> Result<(), ImageError> {
        self.pump(n, |chunk| {
            if let Some(c) = crc.as_deref_mut() {
                *c = crc::update(*c, chunk);
            }
            out.write(chunk)
        })
    }

    /// Skips the next `n` bytes, feeding `crc` if given.
    pub fn skip(&mut self, n: u64, mut crc: Option<&mut u32>) -> Result<(), ImageError> {
        self.pump(n, |chunk| {
            if let Some(c) = crc.as_deref_mut() {
                *c = crc::update(*c, chunk);
            }
            Ok(())
        })
    }

    /// JPEG entropy-coded data: copies bytes to `out` up to the first marker
    /// that is neither byte stuffing (FF00) nor a restart marker (FFD0-FFD7),
    /// and returns that marker with the number of fill bytes (extra FFs)
    /// that preceded it. Neither the marker nor its fill bytes are written.
    // Kept out of the JPEG walker: inlined there, its hot loop compiles to
    // code a quarter slower (measured with benches/strip.rs).
    #[inline(never)]
    pub fn entropy<W: Write>(&mut self, out: &mut Out<W>) -> Result<(u8, u64), ImageError> {
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(self.truncated());
            }
            let avail = &self.buf[self.pos..self.end];
            match avail.iter().position(|&b| b == 0xFF) {
                None => {
                    out.write(avail)?;
                    self.pos = self.end;
                }
                Some(i) => {
                    out.write(&avail[..i])?;
                    self.pos += i + 1;
                    let mut ffs: u64 = 1;
                    let next = loop {
                        match self.byte()? {
                            0xFF => ffs += 1,
                            b => break b,
                        }
                    };
                    if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                        out.write_repeated(0xFF, ffs)?;
                        out.write(&[next])?;
                    } else {
                        return Ok((next, ffs - 1));
                    }
                }
            }
        }
    }
}

/// Where a walker writes its output: nowhere while inspecting.
pub(crate) struct Out<W> {
    w: Option<W>,
    /// Bytes written (or that would have been written).
    pub written: u64,
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Self {
        Out {
            w: Some(w),
            written: 0,
        }
    }

    pub fn none() -> Self {
        Out {
            w: None,
            written: 0,
        }
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.written += data.len() as u64;
        match &mut self.w {
            Some(w) => w.write_all(data),
            None => Ok(()),
        }
    }

    pub fn write_repeated(&mut self, byte: u8, mut n: u64) -> io::Result<()> {
        let block = [byte; 64];
        while n > 0 {
            let k = n.min(block.len() as u64) as usize;
            self.write(&block[..k])?;
            n -= k as u64;
        }
        Ok(())
    }
}
