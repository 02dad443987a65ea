//! Where a download's bytes come from: a file read in large chunks (a
//! whole number of blocks each, so every block is a slice of the chunk and
//! is copied once, into the sender's window), the same translated to
//! netascii as it streams, a region of a file (a file inside a catalogued
//! ISO: the same chunked reads from a base offset, never past the region),
//! or bytes already in memory (files rendered for one client).
//!
//! Reads block the calling thread: transfers run on threads of their own,
//! never on the async runtime.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::netascii_stream::NetasciiStream;

/// Blocks at least this large are read from the file straight into their
/// datagram, one `pread` each; smaller ones are copied out of a chunk, so a
/// lock-step transfer of 512-byte blocks does not pay a system call per
/// block.
const DIRECT_READ_MIN: usize = 8 << 10;

/// A download's byte stream, block by block.
pub enum Source {
    /// A file on disk.
    File(FileSource),
    /// A file on disk, translated to netascii.
    Netascii(Box<NetasciiStream>),
    /// Bytes in memory.
    Memory {
        /// The whole content.
        data: Vec<u8>,
        /// Bytes handed out so far.
        pos: usize,
    },
}

impl Source {
    /// A source over an open file of `size` bytes, read about `chunk` bytes
    /// at a time.
    pub fn file(file: File, size: u64, chunk: usize) -> Self {
        Source::File(FileSource::new(file, size, chunk))
    }

    /// A source over `len` bytes of an open file from `offset` (a file
    /// inside an ISO image), read about `chunk` bytes at a time.
    pub fn region(file: File, offset: u64, len: u64, chunk: usize) -> Self {
        let mut source = FileSource::new(file, len, chunk);
        source.base = offset;
        Source::File(source)
    }

    /// A source over bytes in memory.
    pub fn memory(data: Vec<u8>) -> Self {
        Source::Memory { data, pos: 0 }
    }

    /// A file translated to netascii as it streams (its wire size counted
    /// first, for tsize).
    pub fn netascii(file: File, size: u64) -> io::Result<Self> {
        let stream = NetasciiStream::open(file, size, 64 << 10)?;
        Ok(Source::Netascii(Box::new(stream)))
    }

    /// Total bytes this source will produce.
    pub fn len(&self) -> u64 {
        match self {
            Source::File(f) => f.size,
            Source::Netascii(n) => n.len(),
            Source::Memory { data, .. } => data.len() as u64,
        }
    }

    /// True when the source holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the next block into `out` (`blksize` bytes long) and returns
    /// its length: `blksize`, or fewer at the end. Large blocks of a file
    /// are read straight into `out`; the rest is copied from a chunk.
    pub fn read_block(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Source::File(f) = self {
            if out.len() >= DIRECT_READ_MIN {
                return f.read_direct(out);
            }
        }
        let block = self.next_block(out.len())?;
        let n = block.len();
        out[..n].copy_from_slice(block);
        Ok(n)
    }

    /// The next block: `blksize` bytes, or fewer at the end. Call once more
    /// after the last full block to get the empty final block.
    pub fn next_block(&mut self, blksize: usize) -> io::Result<&[u8]> {
        match self {
            Source::File(f) => f.next_block(blksize),
            Source::Netascii(n) => n.next_block(blksize),
            Source::Memory { data, pos } => {
                let start = *pos;
                let end = (start + blksize).min(data.len());
                *pos = end;
                Ok(&data[start..end])
            }
        }
    }
}

/// A file read in chunks of whole blocks.
pub struct FileSource {
    file: File,
    /// Where the bytes start in the file (0 but for a region).
    base: u64,
    size: u64,
    chunk: usize,
    /// Offset of the next chunk to read.
    next_offset: u64,
    /// The current chunk; its buffer is reused for the next one (zeroing a
    /// fresh chunk costs as much as reading it from the page cache).
    buf: Vec<u8>,
    buf_pos: usize,
}

impl FileSource {
    pub(super) fn new(file: File, size: u64, chunk: usize) -> Self {
        Self {
            file,
            base: 0,
            size,
            chunk: chunk.max(1),
            next_offset: 0,
            buf: Vec::new(),
            buf_pos: 0,
        }
    }

    pub(super) fn next_block(&mut self, blksize: usize) -> io::Result<&[u8]> {
        let blksize = blksize.max(1);
        if self.buf_pos == self.buf.len() {
            self.refill(blksize)?;
        }
        let start = self.buf_pos;
        let end = (start + blksize).min(self.buf.len());
        self.buf_pos = end;
        Ok(&self.buf[start..end])
    }

    /// Reads the next block straight into `out` (one `pread` per block: for
    /// large blocks that costs less than copying them out of a chunk).
    fn read_direct(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.size.saturating_sub(self.next_offset);
        let len = left.min(out.len() as u64) as usize;
        self.file
            .read_exact_at(&mut out[..len], self.base + self.next_offset)
            .map_err(shrank)?;
        self.next_offset += len as u64;
        Ok(len)
    }

    /// Reads the next chunk: a whole number of blocks, or the rest of the
    /// file. At the end of the file it leaves the buffer empty.
    fn refill(&mut self, blksize: usize) -> io::Result<()> {
        let whole_blocks = (self.chunk / blksize).max(1) * blksize;
        let left = self.size.saturating_sub(self.next_offset);
        let len = left.min(whole_blocks as u64) as usize;
        self.buf.resize(len, 0);
        self.buf_pos = 0;
        if len == 0 {
            return Ok(());
        }
        self.file
            .read_exact_at(&mut self.buf, self.base + self.next_offset)
            .map_err(shrank)?;
        self.next_offset += len as u64;
        Ok(())
    }
}

/// A read that found the file shorter than when it was opened.
fn shrank(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::other("file shrank while being sent")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_source_yields_blocks_and_final_short_block() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        io::Write::write_all(&mut tmp, &data).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut src = Source::file(file, data.len() as u64, 3000);
        let mut got = Vec::new();
        loop {
            let block = src.next_block(512).unwrap();
            got.extend_from_slice(block);
            if block.len() < 512 {
                break;
            }
        }
        assert_eq!(got, data);
    }

    #[test]
    fn memory_source_of_exact_multiple_ends_with_empty_block() {
        let mut src = Source::memory(vec![1; 1024]);
        for want in [512, 512, 0] {
            assert_eq!(src.next_block(512).unwrap().len(), want);
        }
    }

    #[test]
    fn file_of_whole_chunks_ends_with_empty_block() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut tmp, &[7u8; 4096]).unwrap();
        let file = File::open(tmp.path()).unwrap();
        // Chunks of two 1000-byte blocks: 2000, 2000, then 96 bytes.
        let mut src = Source::file(file, 4096, 2500);
        let lens: Vec<usize> = (0..6)
            .map(|_| src.next_block(1000).unwrap().len())
            .collect();
        assert_eq!(lens, [1000, 1000, 1000, 1000, 96, 0]);
    }

    #[test]
    fn read_block_reads_large_blocks_directly_and_small_ones_from_chunks() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7) as u8).collect();
        for blksize in [512, 1468, 16384, 65464] {
            let mut tmp = tempfile::NamedTempFile::new().unwrap();
            io::Write::write_all(&mut tmp, &data).unwrap();
            let file = File::open(tmp.path()).unwrap();
            let mut src = Source::file(file, data.len() as u64, 4096);
            let (mut got, mut out) = (Vec::new(), vec![0u8; blksize]);
            loop {
                let n = src.read_block(&mut out).unwrap();
                got.extend_from_slice(&out[..n]);
                if n < blksize {
                    break;
                }
            }
            assert_eq!(got, data, "blksize {blksize}");
        }
    }

    #[test]
    fn a_region_yields_its_bytes_only() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 13) as u8).collect();
        io::Write::write_all(&mut tmp, &data).unwrap();
        for (blksize, chunk) in [(512, 4096), (1468, 3000), (16384, 4096)] {
            let file = File::open(tmp.path()).unwrap();
            let mut src = Source::region(file, 1234, 20_000, chunk);
            assert_eq!(src.len(), 20_000);
            let (mut got, mut out) = (Vec::new(), vec![0u8; blksize]);
            loop {
                let n = src.read_block(&mut out).unwrap();
                got.extend_from_slice(&out[..n]);
                if n < blksize {
                    break;
                }
            }
            assert!(got == data[1234..21_234], "blksize {blksize}");
        }
    }

    #[test]
    fn a_region_past_the_end_of_its_file_is_an_error() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut tmp, &[7u8; 1000]).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut src = Source::region(file, 900, 512, 4096);
        let err = src.next_block(512).unwrap_err();
        assert!(err.to_string().contains("shrank"), "{err}");
    }

    #[test]
    fn a_file_that_shrank_is_an_error() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut tmp, &[7u8; 100]).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut src = Source::file(file, 1000, 4096);
        let err = src.next_block(512).unwrap_err();
        assert!(err.to_string().contains("shrank"), "{err}");
    }
}
