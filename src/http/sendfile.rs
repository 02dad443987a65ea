//! File bodies sent with `sendfile(2)`: the kernel moves the bytes from the
//! page cache to the socket, with no copy through a buffer of ours.
//!
//! hyper writes every body it is given, so a file chunk reaches it as a
//! stand-in: [`SendfileSpans::stand_in`] records the chunk's file span and
//! returns as many bytes of a private static block, which hyper queues like
//! any chunk (it never copies a chunk: the connection's stream declares
//! vectored writes, so hyper keeps its queue of buffers). When hyper writes
//! a buffer that lies inside that block, [`SendfileStream`] sends the
//! recorded span of the file instead, in the order hyper queued them; a
//! buffer that does not match the oldest recorded span ends the connection
//! (never a wrong byte on the wire). Only chunks the page cache holds are
//! sent this way, so a connection's task never waits for a disk; the rest
//! are read as before ([`super::read`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use super::body::SENDFILE_CHUNK;

/// Longest stand-in, so longest chunk sent with `sendfile`.
const STAND_IN_LEN: usize = SENDFILE_CHUNK as usize;

/// The bytes stand-ins are made of; nothing ever reads them.
static STAND_IN: [u8; STAND_IN_LEN] = [0; STAND_IN_LEN];

/// One chunk of a file waiting to be sent.
struct Span {
    file: Arc<File>,
    offset: u64,
    len: usize,
    /// Bytes of it already sent.
    done: usize,
}

/// The file chunks of one connection, in the order hyper will write them.
#[derive(Clone, Default)]
pub struct SendfileSpans(Arc<Mutex<VecDeque<Span>>>);

impl SendfileSpans {
    /// Records `len` bytes of `file` from `offset` to be sent by the
    /// connection and returns the stand-in to hand to hyper for them;
    /// `None` when the chunk is empty or too long for a stand-in.
    pub fn stand_in(&self, file: Arc<File>, offset: u64, len: usize) -> Option<Bytes> {
        if len == 0 || len > STAND_IN_LEN {
            return None;
        }
        let span = Span {
            file,
            offset,
            len,
            done: 0,
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(span);
        Some(Bytes::from_static(&STAND_IN[..len]))
    }
}

/// Where `buf` starts in the stand-in block, when it is (part of) a stand-in.
fn stand_in_offset(buf: &[u8]) -> Option<usize> {
    let start = STAND_IN.as_ptr() as usize;
    let at = (buf.as_ptr() as usize).checked_sub(start)?;
    (at < STAND_IN_LEN && !buf.is_empty()).then_some(at)
}

/// A connection's socket that sends stand-ins' spans with `sendfile`.
pub struct SendfileStream {
    socket: TcpStream,
    spans: SendfileSpans,
}

impl SendfileStream {
    /// `socket`, sending the spans recorded in `spans`.
    pub fn new(socket: TcpStream, spans: SendfileSpans) -> Self {
        Self { socket, spans }
    }

    /// Sends (part of) the oldest recorded span, whose stand-in is `buf`.
    fn poll_sendfile(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut spans = self.spans.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(span) = spans.front_mut() else {
            return Poll::Ready(Err(io::Error::other("a file chunk without its file")));
        };
        if stand_in_offset(buf) != Some(span.done) || buf.len() > span.len - span.done {
            return Poll::Ready(Err(io::Error::other("file chunks out of order")));
        }
        let offset = span.offset + span.done as u64;
        let n = loop {
            ready!(self.socket.poll_write_ready(cx))?;
            let sent = self.socket.try_io(Interest::WRITABLE, || {
                sendfile(&self.socket, &span.file, offset, buf.len())
            });
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
                Ok(0) => return Poll::Ready(Err(shrank())),
                Ok(n) => break n,
            }
        };
        span.done += n;
        if span.done == span.len {
            spans.pop_front();
        }
        Poll::Ready(Ok(n))
    }
}

fn shrank() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being sent")
}

/// One `sendfile(2)` of up to `len` bytes of `file` from `offset`.
fn sendfile(socket: &TcpStream, file: &File, offset: u64, len: usize) -> io::Result<usize> {
    let mut offset = libc::off_t::try_from(offset).map_err(io::Error::other)?;
    // SAFETY: both descriptors are open for the whole call (borrowed from
    // live owners) and `offset` is a valid off_t the call may update.
    let n = unsafe { libc::sendfile(socket.as_raw_fd(), file.as_raw_fd(), &mut offset, len) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

impl AsyncRead for SendfileStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// The buffers before the first stand-in in one `writev`, or that
    /// stand-in's span with `sendfile`.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match bufs.iter().position(|b| stand_in_offset(b).is_some()) {
            None => Pin::new(&mut this.socket).poll_write_vectored(cx, bufs),
            Some(0) => this.poll_sendfile(cx, &bufs[0]),
            Some(first) => Pin::new(&mut this.socket).poll_write_vectored(cx, &bufs[..first]),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().socket).poll_shutdown(cx)
    }
}

/// Whether the page cache holds every page of `len` bytes of `file` from
/// `offset` (`cachestat(2)`, Linux 6.5; before it, the first and the last
/// byte are probed), so that `sendfile` will not wait for the disk.
pub fn cached(file: &File, offset: u64, len: u64) -> bool {
    match cachestat_pages(file, offset, len) {
        Ok((cached, pages)) => cached >= pages,
        Err(_) => {
            let mut byte = [0u8; 1];
            let last = offset + len.saturating_sub(1);
            [offset, last]
                .iter()
                .all(|&at| super::read::read_cached(file, &mut byte, at).is_ok_and(|n| n == 1))
        }
    }
}

/// `cachestat(2)`'s system call number (the same on every architecture).
const SYS_CACHESTAT: libc::c_long = 451;

#[repr(C)]
struct CachestatRange {
    off: u64,
    len: u64,
}

#[repr(C)]
#[derive(Default)]
struct Cachestat {
    nr_cache: u64,
    nr_dirty: u64,
    nr_writeback: u64,
    nr_evicted: u64,
    nr_recently_evicted: u64,
}

/// Pages of the range in the page cache, and pages in the range.
fn cachestat_pages(file: &File, offset: u64, len: u64) -> io::Result<(u64, u64)> {
    let page =
        u64::try_from(nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)?.unwrap_or(4096))
            .map_err(io::Error::other)?;
    let range = CachestatRange { off: offset, len };
    let mut stat = Cachestat::default();
    // SAFETY: `range` and `stat` are valid for the call's reads and writes;
    // the descriptor is open as long as `file` is.
    let r = unsafe { libc::syscall(SYS_CACHESTAT, file.as_raw_fd(), &range, &mut stat, 0u32) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let pages = (offset + len).div_ceil(page) - offset / page;
    Ok((stat.nr_cache, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_recognised_and_nothing_else() {
        let spans = SendfileSpans::default();
        let file = Arc::new(tempfile::tempfile().unwrap());
        let stand_in = spans.stand_in(Arc::clone(&file), 0, 1000).unwrap();
        assert_eq!(stand_in_offset(&stand_in), Some(0));
        assert_eq!(stand_in_offset(&stand_in[10..]), Some(10));
        assert_eq!(stand_in_offset(&[0u8; 1000]), None);
        assert_eq!(stand_in_offset(b""), None);
        assert!(spans.stand_in(Arc::clone(&file), 0, 0).is_none());
        assert!(spans.stand_in(file, 0, STAND_IN_LEN + 1).is_none());
    }

    #[test]
    fn a_file_just_written_is_cached_and_past_its_end_is_not() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![7u8; 64 << 10]).unwrap();
        assert!(cached(&file, 0, 64 << 10));
        assert!(cached(&file, 4096, 100));
        assert!(!cached(&file, 1 << 20, 4096));
    }
}
