//! Bytes of an upload while a create is judging and storing them: in memory when small,
//! in a temporary file otherwise; gone either way when the value is dropped.
//!
//! Small uploads are the common case (a 10 KB avatar). Measured on the create benchmark, a
//! temporary file per upload (created, written, read back, unlinked) cost a third of the
//! server's CPU per create, most of it the file system looking for a free inode among
//! the ones it had just freed.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use bytes::Bytes;
use tempfile::NamedTempFile;

#[derive(Debug)]
pub enum Spooled {
    Memory(Bytes),
    File(NamedTempFile),
}

impl Spooled {
    /// How many bytes are spooled.
    pub fn size(&self) -> io::Result<u64> {
        match self {
            Self::Memory(bytes) => Ok(bytes.len() as u64),
            Self::File(file) => Ok(file.as_file().metadata()?.len()),
        }
    }

    /// A fresh reader over the bytes, from the start.
    pub fn reader(&self) -> io::Result<SpooledReader> {
        match self {
            Self::Memory(bytes) => Ok(SpooledReader::Memory(Cursor::new(bytes.clone()))),
            Self::File(file) => Ok(SpooledReader::File(file.reopen()?)),
        }
    }
}

/// Reads spooled bytes, wherever they are.
#[derive(Debug)]
pub enum SpooledReader {
    Memory(Cursor<Bytes>),
    File(File),
}

impl Read for SpooledReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Memory(cursor) => cursor.read(buffer),
            Self::File(file) => file.read(buffer),
        }
    }
}

impl Seek for SpooledReader {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        match self {
            Self::Memory(cursor) => cursor.seek(position),
            Self::File(file) => file.seek(position),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn both_kinds_read_the_same_bytes_from_the_start_every_time() {
        let mut file = NamedTempFile::new().unwrap();
        file.write_all(b"avatar bytes").unwrap();
        for spooled in [
            Spooled::Memory(Bytes::from_static(b"avatar bytes")),
            Spooled::File(file),
        ] {
            assert_eq!(spooled.size().unwrap(), 12);
            for _ in 0..2 {
                let mut read = Vec::new();
                spooled.reader().unwrap().read_to_end(&mut read).unwrap();
                assert_eq!(read, b"avatar bytes");
            }
            let mut reader = spooled.reader().unwrap();
            reader.seek(SeekFrom::Start(7)).unwrap();
            let mut rest = String::new();
            reader.read_to_string(&mut rest).unwrap();
            assert_eq!(rest, "bytes");
        }
    }
}
