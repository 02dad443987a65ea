//! A response body made of [`Piece`]s, streamed: literal bytes as they are,
//! spans of a file sent with `sendfile` where the page cache holds them
//! ([`super::sendfile`]) and otherwise read chunk by chunk by
//! [`ChunkReader`] (positioned reads, so many responses share one open
//! file), spans of a rendered file sliced from memory. The [`Delivery`] it carries logs one line when the
//! body is done or dropped: bytes sent of bytes planned, and how long.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::plan::Piece;
use super::read::ChunkReader;
use super::sendfile::{cached, SendfileSpans};
use crate::events::event::Outcome;
use crate::events::Tracker;

/// Most bytes read from a file at once. A response holds one chunk: hyper
/// asks for the next once it has written this one (its write queue is
/// capped at [`super::server::WRITE_QUEUE`]), and the buffer is reused.
/// Chunks start at [`FIRST_CHUNK`] and double up to this, so small answers
/// cost little and a long download is written in large pieces (one client
/// on its own is held back by the round trips between chunks, not by the
/// memory they take).
pub const CHUNK: u64 = 256 << 10;

/// Most bytes of a file sent with one `sendfile` stand-in: they cost no
/// memory, so a cached file goes out in large pieces from the start.
pub const SENDFILE_CHUNK: u64 = 1 << 20;

/// The first chunk of a response: small answers (iPXE's `sanboot` reads,
/// scripts, configs) cost little more than their size.
const FIRST_CHUNK: u64 = 16 << 10;

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
    /// Reports the transfer to the event stream (bodies of GETs).
    pub tracker: Option<Tracker>,
}

/// Long downloads log progress this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

impl Delivery {
    fn sent(&mut self, n: u64) {
        self.sent += n;
        if let Some(tracker) = &mut self.tracker {
            tracker.progress(self.sent);
        }
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
        let outcome = if sent >= of {
            tracing::info!(parent: &self.span, status, bytes = sent, range = %ranges, ms, "sent");
            Outcome::Done
        } else {
            tracing::warn!(parent: &self.span, status, bytes = sent, of, range = %ranges, ms, "client went away");
            Outcome::Gone {
                why: "client went away".into(),
            }
        };
        if let Some(tracker) = self.tracker.take() {
            tracker.end(outcome, sent, 0);
        }
    }
}

struct State {
    content: Content,
    pieces: VecDeque<Piece>,
    delivery: Delivery,
    /// Reads the file's chunks (one buffer, reused), when it is a file.
    reader: Option<ChunkReader>,
    /// The next chunk's size: small first, so a small answer costs little,
    /// doubling up to [`CHUNK`].
    next_len: u64,
    /// The connection's `sendfile` spans, when it sends file chunks so.
    sendfile: Option<SendfileSpans>,
}

/// A body that sends `pieces` of `content`, logging through `delivery`;
/// file chunks the page cache holds go out with `sendfile` when the
/// connection gives its `sendfile` spans.
pub fn stream(
    content: Content,
    pieces: Vec<Piece>,
    delivery: Delivery,
    sendfile: Option<SendfileSpans>,
) -> Body {
    let reader = match &content {
        Content::File(file) => Some(ChunkReader::new(Arc::clone(file))),
        Content::Region(file, base) => Some(ChunkReader::at(Arc::clone(file), *base)),
        Content::Memory(_) => None,
    };
    let state = State {
        content,
        pieces: pieces.into(),
        delivery,
        reader,
        next_len: FIRST_CHUNK,
        sendfile,
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
    if let Some(stand_in) = sendfile_chunk(state, start, len) {
        return Some(Ok(stand_in));
    }
    let take = len.min(state.next_len);
    state.next_len = (state.next_len * 2).min(CHUNK);
    rest_of_span(state, start, len, take);
    Some(match (&state.content, &mut state.reader) {
        (Content::File(_) | Content::Region(..), Some(reader)) => match usize::try_from(take) {
            Ok(take) => reader.read(start, take).await,
            Err(e) => Err(std::io::Error::other(e)),
        },
        (content, _) => read_memory(content, start, take),
    })
}

/// Puts back what is left of a span of `len` bytes from `start` once
/// `take` of them are sent.
fn rest_of_span(state: &mut State, start: u64, len: u64, take: u64) {
    if take < len {
        state.pieces.push_front(Piece::Span {
            start: start + take,
            len: len - take,
        });
    }
}

/// The stand-in for the next [`SENDFILE_CHUNK`] or fewer bytes of a span of
/// `len` bytes of the file from `start`, when they go out with `sendfile`
/// (the connection can, and the page cache holds them).
fn sendfile_chunk(state: &mut State, start: u64, len: u64) -> Option<Bytes> {
    let spans = state.sendfile.as_ref()?;
    let take = len.min(SENDFILE_CHUNK);
    let (file, base) = match &state.content {
        Content::File(file) => (file, 0),
        Content::Region(file, base) => (file, *base),
        Content::Memory(_) => return None,
    };
    let offset = base + start;
    if !cached(file, offset, take) {
        return None;
    }
    let stand_in = spans.stand_in(Arc::clone(file), offset, usize::try_from(take).ok()?)?;
    rest_of_span(state, start, len, take);
    Some(stand_in)
}

fn read_memory(content: &Content, start: u64, len: u64) -> std::io::Result<Bytes> {
    let Content::Memory(bytes) = content else {
        return Err(std::io::Error::other("a file is read by its ChunkReader"));
    };
    let from = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let to = from
        .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
        .min(bytes.len());
    Ok(bytes.slice(from..to))
}
