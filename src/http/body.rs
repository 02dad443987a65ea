//! A response body made of [`Piece`]s, streamed: literal bytes as they are,
//! spans of a file read in large chunks on the blocking pool (positioned
//! reads, so many responses share one open file), spans of a rendered file
//! sliced from memory. The [`Delivery`] it carries logs one line when the
//! body is done or dropped: bytes sent of bytes planned, and how long.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::plan::Piece;

/// Bytes read from a file at once (two are in memory per response: the one
/// being written and the next, read meanwhile).
const CHUNK: u64 = 256 << 10;

/// The body type every response has.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// What a response's spans are taken from.
#[derive(Clone)]
pub enum Content {
    /// A file of the root, opened and checked.
    File(Arc<File>),
    /// A file rendered for this client.
    Memory(Bytes),
    /// A region of a file of the root starting at this offset (a file
    /// inside an ISO image).
    Region(Arc<File>, u64),
}

impl Content {
    /// The file to read and where the resource starts in it.
    fn file(&self) -> Option<(&Arc<File>, u64)> {
        match self {
            Content::File(file) => Some((file, 0)),
            Content::Region(file, offset) => Some((file, *offset)),
            Content::Memory(_) => None,
        }
    }
}

/// Logs the end of one response (when its body is finished or dropped).
pub struct Delivery {
    /// The request's span.
    pub span: tracing::Span,
    /// Status code sent.
    pub status: u16,
    /// Body bytes planned.
    pub planned: u64,
    /// Body bytes handed to the connection so far.
    pub sent: u64,
    /// When the request arrived.
    pub started: Instant,
    /// Ranges served, as text, for the log (`-` for the whole resource).
    pub ranges: String,
    /// A progress line is due after this (long downloads).
    pub next_progress: Duration,
}

/// Long downloads log progress this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

impl Delivery {
    fn sent(&mut self, n: u64) {
        self.sent += n;
        let elapsed = self.started.elapsed();
        if elapsed >= self.next_progress && self.planned > 0 {
            self.next_progress = elapsed + PROGRESS_EVERY;
            let percent = self.sent.saturating_mul(100) / self.planned;
            tracing::info!(parent: &self.span, sent = self.sent, of = self.planned, "{percent}% sent");
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let ms = self.started.elapsed().as_millis();
        let (status, sent, of, ranges) = (self.status, self.sent, self.planned, &self.ranges);
        if sent >= of {
            tracing::info!(parent: &self.span, status, bytes = sent, range = %ranges, ms, "sent");
        } else {
            tracing::warn!(parent: &self.span, status, bytes = sent, of, range = %ranges, ms, "client went away");
        }
    }
}

/// A chunk being read ahead: where, and the read.
type Ahead = ((u64, u64), tokio::task::JoinHandle<std::io::Result<Bytes>>);

struct State {
    content: Content,
    pieces: VecDeque<Piece>,
    delivery: Delivery,
    /// The next chunk of the file, read while the connection writes this one.
    ahead: Option<Ahead>,
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some((_, read)) = self.ahead.take() {
            read.abort();
        }
    }
}

/// A body that sends `pieces` of `content`, logging through `delivery`.
pub fn stream(content: Content, pieces: Vec<Piece>, delivery: Delivery) -> Body {
    let state = State {
        content,
        pieces: pieces.into(),
        delivery,
        ahead: None,
    };
    let frames = stream::unfold(state, |mut state| async move {
        let next = next_chunk(&mut state).await?;
        if let Ok(bytes) = &next {
            state.delivery.sent(bytes.len() as u64);
        }
        Some((next.map(Frame::data), state))
    });
    BodyExt::boxed_unsync(StreamBody::new(StreamExt::boxed(frames)))
}

/// The next chunk of the body, `None` at its end.
async fn next_chunk(state: &mut State) -> Option<std::io::Result<Bytes>> {
    let piece = state.pieces.pop_front()?;
    let (start, len) = match piece {
        Piece::Bytes(bytes) => return Some(Ok(bytes)),
        Piece::Span { start, len } => (start, len),
    };
    let take = len.min(CHUNK);
    if take < len {
        state.pieces.push_front(Piece::Span {
            start: start + take,
            len: len - take,
        });
    }
    let chunk = match state.ahead.take() {
        Some((at, read)) if at == (start, take) => {
            read.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
        }
        stale => {
            if let Some((_, read)) = stale {
                read.abort();
            }
            read(&state.content, start, take).await
        }
    };
    read_ahead(state);
    Some(chunk)
}

/// Starts reading the next chunk of the file, if the next piece is one.
fn read_ahead(state: &mut State) {
    let (Some((file, base)), Some(Piece::Span { start, len })) =
        (state.content.file(), state.pieces.front())
    else {
        return;
    };
    let (start, take) = (*start, (*len).min(CHUNK));
    let file = Arc::clone(file);
    let read = tokio::task::spawn_blocking(move || read_at(&file, base + start, take));
    state.ahead = Some(((start, take), read));
}

async fn read(content: &Content, start: u64, len: u64) -> std::io::Result<Bytes> {
    let Some((file, base)) = content.file() else {
        return Ok(memory_slice(content, start, len));
    };
    let file = Arc::clone(file);
    tokio::task::spawn_blocking(move || read_at(&file, base + start, len))
        .await
        .map_err(std::io::Error::other)?
}

fn memory_slice(content: &Content, start: u64, len: u64) -> Bytes {
    let Content::Memory(bytes) = content else {
        return Bytes::new();
    };
    let from = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let to = from
        .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
        .min(bytes.len());
    bytes.slice(from..to)
}

/// Exactly `len` bytes from `start`; a file that shrank meanwhile is an error.
fn read_at(file: &File, start: u64, len: u64) -> std::io::Result<Bytes> {
    let size = usize::try_from(len).map_err(std::io::Error::other)?;
    let mut buf = BytesMut::zeroed(size);
    let mut filled = 0;
    while filled < size {
        match file.read_at(&mut buf[filled..], start + filled as u64)? {
            0 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "file shrank while being sent",
                ))
            }
            n => filled += n,
        }
    }
    Ok(buf.freeze())
}
