//! Reading a chunk of a served file without holding up the connection's
//! task and without keeping memory: a positioned read that only takes what
//! the page cache already has (`preadv2(RWF_NOWAIT)`) runs inline; what is
//! not cached yet is read on the blocking pool. Files on tmpfs, which has
//! no `RWF_NOWAIT` but is memory anyway, are read inline. One buffer per
//! response is reused from chunk to chunk once the connection has written
//! it, so a response holds one chunk at a time.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// How the chunks of one file are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Cached bytes inline, the rest on the blocking pool.
    NoWait,
    /// Everything inline (tmpfs: memory, never a disk wait).
    Inline,
    /// Everything on the blocking pool (no `RWF_NOWAIT` here).
    Pool,
}

/// Reads chunks of one file for one response.
pub struct ChunkReader {
    file: Arc<File>,
    /// Where the resource starts in the file (a file inside an ISO image).
    base: u64,
    mode: Mode,
    /// The last chunk handed out; its buffer is reused once the
    /// connection has dropped its copy.
    last: Option<Bytes>,
}

impl ChunkReader {
    /// A reader of `file`.
    pub fn new(file: Arc<File>) -> Self {
        Self::at(file, 0)
    }

    /// A reader of the resource that starts at `base` in `file`.
    pub fn at(file: Arc<File>, base: u64) -> Self {
        Self {
            file,
            base,
            mode: Mode::NoWait,
            last: None,
        }
    }

    /// Exactly `len` bytes from `start`; a file that shrank meanwhile is an
    /// error.
    pub async fn read(&mut self, start: u64, len: usize) -> io::Result<Bytes> {
        let start = self.base + start;
        let mut buf = self.buffer(len);
        let mut filled = 0;
        if self.mode != Mode::Pool {
            filled = self.read_inline(&mut buf, start)?;
        }
        if filled < len {
            let file = Arc::clone(&self.file);
            buf = tokio::task::spawn_blocking(move || {
                read_exact_at(&file, &mut buf[filled..], start + filled as u64).map(|()| buf)
            })
            .await
            .map_err(io::Error::other)??;
        }
        let bytes = buf.freeze();
        self.last = Some(bytes.clone());
        Ok(bytes)
    }

    /// As much of `buf` as can be read without waiting for the disk.
    fn read_inline(&mut self, buf: &mut [u8], start: u64) -> io::Result<usize> {
        if self.mode == Mode::Inline {
            read_exact_at(&self.file, buf, start)?;
            return Ok(buf.len());
        }
        let mut filled = 0;
        while filled < buf.len() {
            match read_cached(&self.file, &mut buf[filled..], start + filled as u64) {
                Ok(0) => break, // the end of the file: the pool says so
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                    self.mode = if on_tmpfs(&self.file) {
                        Mode::Inline
                    } else {
                        Mode::Pool
                    };
                    return self.read_inline_again(buf, start, filled);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }

    fn read_inline_again(
        &mut self,
        buf: &mut [u8],
        start: u64,
        filled: usize,
    ) -> io::Result<usize> {
        if self.mode != Mode::Inline {
            return Ok(filled);
        }
        read_exact_at(&self.file, &mut buf[filled..], start + filled as u64)?;
        Ok(buf.len())
    }

    /// A buffer of `len` bytes: the last chunk's when the connection is
    /// done with it, else a new one.
    fn buffer(&mut self, len: usize) -> BytesMut {
        match self.last.take().map(Bytes::try_into_mut) {
            Some(Ok(mut buf)) if buf.capacity() >= len => {
                buf.resize(len, 0);
                buf
            }
            _ => BytesMut::zeroed(len),
        }
    }
}

/// Fills `buf` from `start`; the end of the file before that is an error.
fn read_exact_at(file: &File, buf: &mut [u8], start: u64) -> io::Result<()> {
    file.read_exact_at(buf, start).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(e.kind(), "file shrank while being sent")
        } else {
            e
        }
    })
}

/// One positioned read of bytes the page cache holds (`RWF_NOWAIT`):
/// `WouldBlock` when the first byte is not cached.
pub(super) fn read_cached(file: &File, buf: &mut [u8], start: u64) -> io::Result<usize> {
    let offset = libc::off_t::try_from(start).map_err(io::Error::other)?;
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `iov` describes `buf`, valid for writes of its length for the
    // whole call; the descriptor is open as long as `file` is.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Whether `file` is on tmpfs (memory: reading it never waits for a disk).
fn on_tmpfs(file: &File) -> bool {
    nix::sys::statfs::fstatfs(file)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8], dir: &std::path::Path) -> Arc<File> {
        let path = dir.join("f");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        Arc::new(File::open(path).unwrap())
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    async fn chunks_of(dir: &std::path::Path) {
        let data = pattern(300_000);
        let mut reader = ChunkReader::new(file_with(&data, dir));
        let a = reader.read(0, 100_000).await.unwrap();
        assert_eq!(&a[..], &data[..100_000]);
        drop(a); // as the connection does once written: the buffer is reused
        let b = reader.read(100_000, 150_000).await.unwrap();
        assert_eq!(&b[..], &data[100_000..250_000]);
        let c = reader.read(250_000, 50_000).await.unwrap();
        assert_eq!(&c[..], &data[250_000..]);
        assert_eq!(&b[..], &data[100_000..250_000], "held chunk overwritten");
        let past = reader.read(290_000, 20_000).await.unwrap_err();
        assert_eq!(past.kind(), io::ErrorKind::UnexpectedEof);
        assert!(past.to_string().contains("shrank"), "{past}");
    }

    #[tokio::test]
    async fn chunks_on_disk_come_back_exact() {
        let dir = tempfile::tempdir().unwrap();
        chunks_of(dir.path()).await;
    }

    #[tokio::test]
    async fn chunks_on_tmpfs_come_back_exact() {
        let shm = std::path::Path::new("/dev/shm");
        if !shm.is_dir() {
            return; // no tmpfs here: the disk test covers the reads
        }
        let dir = tempfile::tempdir_in(shm).unwrap();
        chunks_of(dir.path()).await;
    }
}
