//! Where an EPUB's bytes are read from: a file on disk, read in place, or bytes in memory.
//!
//! The zip checks ([`super::archive`]) and the `epub` crate's package reader each need a reader
//! of their own, and both are in use at once. Over a file, each reader keeps its own position
//! and seeks to it before every read, so neither disturbs the other, and the file is opened
//! once: what the checks verified is what the package reader reads.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};

/// Bytes read per system call from a file; the zip reader's own reads are often tiny (the
/// central directory is read field by field).
const FILE_BUFFER: usize = 64 * 1024;

/// An EPUB's bytes, handing out independent readers that start at the beginning.
pub trait Source {
    type Reader<'a>: Read + Seek
    where
        Self: 'a;

    fn reader(&self) -> Self::Reader<'_>;
}

impl Source for [u8] {
    type Reader<'a> = Cursor<&'a [u8]>;

    fn reader(&self) -> Cursor<&[u8]> {
        Cursor::new(self)
    }
}

impl Source for File {
    type Reader<'a> = BufReader<FileAt<'a>>;

    fn reader(&self) -> BufReader<FileAt<'_>> {
        BufReader::with_capacity(FILE_BUFFER, FileAt { file: self, at: 0 })
    }
}

impl<S: Source + ?Sized> Source for &S {
    type Reader<'a>
        = S::Reader<'a>
    where
        Self: 'a;

    fn reader(&self) -> S::Reader<'_> {
        (**self).reader()
    }
}

/// A reader of a shared file with a position of its own.
pub struct FileAt<'a> {
    file: &'a File,
    at: u64,
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut file = self.file;
        file.seek(SeekFrom::Start(self.at))?;
        let read = file.read(buf)?;
        self.at += read as u64;
        Ok(read)
    }
}

impl Seek for FileAt<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.at = match to {
            SeekFrom::Start(at) => at,
            SeekFrom::Current(by) => self.at.checked_add_signed(by).ok_or_else(before_start)?,
            SeekFrom::End(by) => (self.file.metadata()?.len())
                .checked_add_signed(by)
                .ok_or_else(before_start)?,
        };
        Ok(self.at)
    }
}

fn before_start() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "seek to before the start of the file",
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn readers_of_one_file_keep_their_own_positions() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let (mut first, mut second) = (file.reader(), file.reader());
        let mut two = [0; 2];
        first.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"01");
        second.seek(SeekFrom::End(-3)).unwrap();
        second.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"78");
        first.seek(SeekFrom::Current(1)).unwrap();
        first.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"34");
        assert!(second.seek(SeekFrom::Current(-20)).is_err());
    }
}
