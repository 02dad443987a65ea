//! Where a download's bytes come from: a file read in large chunks on the
//! blocking pool with one chunk of read-ahead (so a slow disk never stalls
//! the runtime and a fast one keeps the window full), the same translated
//! to netascii as it streams, or bytes already in memory (files rendered
//! for one client).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::netascii_stream::NetasciiStream;

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
    /// A source over an open file of `size` bytes.
    pub fn file(file: File, size: u64, chunk: usize) -> Self {
        Source::File(FileSource::new(file, size, chunk))
    }

    /// A source over bytes in memory.
    pub fn memory(data: Vec<u8>) -> Self {
        Source::Memory { data, pos: 0 }
    }

    /// A file translated to netascii as it streams (its wire size counted
    /// first, for tsize).
    pub async fn netascii(file: File, size: u64) -> io::Result<Self> {
        let stream = NetasciiStream::open(file, size, 64 << 10).await?;
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

    /// The next block: `blksize` bytes, or fewer at the end. Call once more
    /// after the last full block to get the empty final block.
    pub async fn next_block(&mut self, blksize: usize, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        match self {
            Source::File(f) => f.next_block(blksize, out).await,
            Source::Netascii(n) => n.next_block(blksize, out).await,
            Source::Memory { data, pos } => {
                let end = (*pos + blksize).min(data.len());
                out.extend_from_slice(&data[*pos..end]);
                *pos = end;
                Ok(())
            }
        }
    }
}

/// A file read in chunks with read-ahead.
pub struct FileSource {
    file: Arc<File>,
    size: u64,
    chunk: usize,
    /// Offset of the next chunk to request.
    next_offset: u64,
    buf: Vec<u8>,
    buf_pos: usize,
    ahead: Option<JoinHandle<io::Result<Vec<u8>>>>,
    /// The last chunk's buffer, reused for the next read (zeroing a fresh
    /// chunk costs as much as reading it from the page cache).
    spare: Option<Vec<u8>>,
}

impl FileSource {
    pub(super) fn new(file: File, size: u64, chunk: usize) -> Self {
        Self {
            file: Arc::new(file),
            size,
            chunk: chunk.max(1),
            next_offset: 0,
            buf: Vec::new(),
            buf_pos: 0,
            ahead: None,
            spare: None,
        }
    }

    fn request_next(&mut self) {
        if self.ahead.is_some() || self.next_offset >= self.size {
            return;
        }
        let offset = self.next_offset;
        let len = (self.size - offset).min(self.chunk as u64) as usize;
        self.next_offset += len as u64;
        let file = Arc::clone(&self.file);
        let mut buf = self.spare.take().unwrap_or_default();
        self.ahead = Some(tokio::task::spawn_blocking(move || {
            buf.resize(len, 0);
            file.read_exact_at(&mut buf, offset).map(|()| buf)
        }));
    }

    /// Appends bytes to `out` until it holds `blksize` (fewer at the end).
    pub(super) async fn next_block(&mut self, blksize: usize, out: &mut Vec<u8>) -> io::Result<()> {
        while out.len() < blksize {
            if self.buf_pos == self.buf.len() {
                self.request_next();
                let Some(pending) = self.ahead.take() else {
                    return Ok(()); // end of file
                };
                let next = pending.await.map_err(io::Error::other)?.map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        io::Error::other("file shrank while being sent")
                    } else {
                        e
                    }
                })?;
                self.spare = Some(std::mem::replace(&mut self.buf, next));
                self.buf_pos = 0;
                self.request_next();
            }
            let take = (blksize - out.len()).min(self.buf.len() - self.buf_pos);
            out.extend_from_slice(&self.buf[self.buf_pos..self.buf_pos + take]);
            self.buf_pos += take;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_source_yields_blocks_and_final_short_block() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        io::Write::write_all(&mut tmp, &data).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut src = Source::file(file, data.len() as u64, 3000);
        let mut got = Vec::new();
        let mut block = Vec::new();
        loop {
            src.next_block(512, &mut block).await.unwrap();
            got.extend_from_slice(&block);
            if block.len() < 512 {
                break;
            }
        }
        assert_eq!(got, data);
    }

    #[tokio::test]
    async fn memory_source_of_exact_multiple_ends_with_empty_block() {
        let mut src = Source::memory(vec![1; 1024]);
        let mut block = Vec::new();
        for want in [512, 512, 0] {
            src.next_block(512, &mut block).await.unwrap();
            assert_eq!(block.len(), want);
        }
    }
}
