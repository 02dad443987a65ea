//! What to answer for one GET or HEAD of a known resource, decided without
//! I/O: the status, the headers and the body as pieces (literal bytes and
//! spans of the resource). Validators (`ETag`, `Last-Modified`) and
//! conditional requests (`If-None-Match`, `If-Modified-Since`, `If-Range`),
//! `Range` with one span (206 and `Content-Range`) or several
//! (`multipart/byteranges`), 416 for a range past the end. A `Range` header
//! that does not parse is ignored (RFC 9110 allows it), so a client that
//! sends a malformed one (32-bit iPXE builds do) gets the whole file, never
//! a hang.

use std::ops::RangeInclusive;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::StatusCode;

/// Most ranges honoured in one request; more, and the whole file is sent.
pub const MAX_RANGES: usize = 16;

/// The resource a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Size in bytes.
    pub len: u64,
    /// Last modification, when it has one (rendered files do not).
    pub modified: Option<SystemTime>,
    /// Strong validator, quoted (`"1a2b-3c4d"`).
    pub etag: String,
}

/// One piece of a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes (multipart headers).
    Bytes(Bytes),
    /// `len` bytes of the resource from `start`.
    Span {
        /// First byte.
        start: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// The answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// Headers (Content-Length included).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body pieces, empty for HEAD and for bodiless statuses.
    pub body: Vec<Piece>,
    /// The ranges served, for the log (`None`: the whole resource).
    pub ranges: Option<Vec<RangeInclusive<u64>>>,
}

impl Answer {
    /// Bytes the body carries.
    pub fn body_len(&self) -> u64 {
        self.body.iter().map(piece_len).sum()
    }
}

fn piece_len(piece: &Piece) -> u64 {
    match piece {
        Piece::Bytes(b) => b.len() as u64,
        Piece::Span { len, .. } => *len,
    }
}

/// A strong validator from size and modification time.
pub fn etag_for(len: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{len:x}-{nanos:x}\"")
}

/// The answer to a GET (`head` false) or HEAD of `res` with `headers`.
pub fn answer(res: &Resource, headers: &HeaderMap, head: bool) -> Answer {
    let mut answer = if not_modified(res, headers) {
        bare(StatusCode::NOT_MODIFIED)
    } else {
        match ranges(res, headers) {
            Ranges::Whole => whole(res),
            Ranges::Unsatisfiable => unsatisfiable(res),
            Ranges::Some(list) => partial(res, list),
        }
    };
    validators(res, &mut answer.headers);
    answer
        .headers
        .push((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")));
    if head {
        answer.body.clear();
    }
    answer
}

fn bare(status: StatusCode) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: Vec::new(),
        ranges: None,
    }
}

fn length(len: u64) -> (HeaderName, HeaderValue) {
    (header::CONTENT_LENGTH, HeaderValue::from(len))
}

fn octets() -> (HeaderName, HeaderValue) {
    (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    )
}

fn whole(res: &Resource) -> Answer {
    let mut a = bare(StatusCode::OK);
    a.headers.extend([octets(), length(res.len)]);
    if res.len > 0 {
        a.body.push(Piece::Span {
            start: 0,
            len: res.len,
        });
    }
    a
}

fn unsatisfiable(res: &Resource) -> Answer {
    let mut a = bare(StatusCode::RANGE_NOT_SATISFIABLE);
    let range = format!("bytes */{}", res.len);
    if let Ok(v) = HeaderValue::from_str(&range) {
        a.headers.push((header::CONTENT_RANGE, v));
    }
    a.headers.push(length(0));
    a
}

fn content_range(r: &RangeInclusive<u64>, total: u64) -> String {
    format!("bytes {}-{}/{total}", r.start(), r.end())
}

fn partial(res: &Resource, list: Vec<RangeInclusive<u64>>) -> Answer {
    let mut a = bare(StatusCode::PARTIAL_CONTENT);
    if let [one] = list.as_slice() {
        let span = Piece::Span {
            start: *one.start(),
            len: one.end() - one.start() + 1,
        };
        if let Ok(v) = HeaderValue::from_str(&content_range(one, res.len)) {
            a.headers.push((header::CONTENT_RANGE, v));
        }
        a.headers.extend([octets(), length(piece_len(&span))]);
        a.body.push(span);
    } else {
        let boundary = format!("netboot-{}", res.etag.trim_matches('"'));
        for r in &list {
            let head = format!(
                "\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: {}\r\n\r\n",
                content_range(r, res.len)
            );
            a.body.push(Piece::Bytes(Bytes::from(head)));
            a.body.push(Piece::Span {
                start: *r.start(),
                len: r.end() - r.start() + 1,
            });
        }
        a.body
            .push(Piece::Bytes(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
        let kind = format!("multipart/byteranges; boundary={boundary}");
        if let Ok(v) = HeaderValue::from_str(&kind) {
            a.headers.push((header::CONTENT_TYPE, v));
        }
        a.headers.push(length(a.body_len()));
    }
    a.ranges = Some(list);
    a
}

fn validators(res: &Resource, headers: &mut Vec<(HeaderName, HeaderValue)>) {
    if let Ok(v) = HeaderValue::from_str(&res.etag) {
        headers.push((header::ETAG, v));
    }
    if let Some(m) = res.modified {
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(m)) {
            headers.push((header::LAST_MODIFIED, v));
        }
    }
}

fn text(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whole seconds, as HTTP dates carry them.
fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// `If-None-Match` (wins when present), else `If-Modified-Since`.
fn not_modified(res: &Resource, headers: &HeaderMap) -> bool {
    if let Some(list) = text(headers, header::IF_NONE_MATCH) {
        return etag_listed(list, &res.etag);
    }
    let since =
        text(headers, header::IF_MODIFIED_SINCE).and_then(|t| httpdate::parse_http_date(t).ok());
    matches!((since, res.modified), (Some(since), Some(m)) if seconds(m) <= seconds(since))
}

enum Ranges {
    Whole,
    Unsatisfiable,
    Some(Vec<RangeInclusive<u64>>),
}

fn ranges(res: &Resource, headers: &HeaderMap) -> Ranges {
    let Some(value) = text(headers, header::RANGE) else {
        return Ranges::Whole;
    };
    if !if_range_holds(res, headers) {
        return Ranges::Whole;
    }
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return Ranges::Whole;
    };
    if parsed.len() > MAX_RANGES {
        return Ranges::Whole;
    }
    match parsed.validate(res.len) {
        Ok(list) if list.is_empty() => Ranges::Whole,
        Ok(list) => Ranges::Some(list),
        Err(http_range_header::RangeUnsatisfiableError::Unsatisfiable) => Ranges::Unsatisfiable,
        Err(_) => Ranges::Whole,
    }
}

/// `If-Range`: the range applies only if the resource is still the one
/// named (by its ETag, or by a date no older than its modification).
fn if_range_holds(res: &Resource, headers: &HeaderMap) -> bool {
    let Some(value) = text(headers, header::IF_RANGE) else {
        return true;
    };
    if value.starts_with('"') {
        return value == res.etag;
    }
    match (httpdate::parse_http_date(value), res.modified) {
        (Ok(date), Some(m)) => seconds(m) == seconds(date),
        _ => false,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
