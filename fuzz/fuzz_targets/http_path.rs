//! Fuzz target: an HTTP request target through `http::path::request_path`
//! and, for the ones it accepts, the answer `http::plan` gives with a
//! `Range` and `If-Range` taken from the input. A name that is accepted
//! must stay inside the root: relative, no `..`, no `.`, no empty part, no
//! NUL or backslash; an answer's body must lie within the resource and its
//! Content-Length must equal the body's length.
//!
//! Input layout: the target, then optionally `\n` and a Range value, then
//! optionally `\n` and an If-Range value; the first 8 bytes (when there are
//! 8) also give the resource's size.

#![no_main]

use std::path::Component;

use hyper::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, IF_RANGE, RANGE};
use libfuzzer_sys::fuzz_target;
use netboot::http::path::request_path;
use netboot::http::plan::{answer, etag_for, Piece, Resource};

fn check_name(target: &str) {
    let Ok(p) = request_path(target) else { return };
    assert!(!p.name.contains(['\0', '\\']), "{target:?} -> {:?}", p.name);
    assert!(p.relative.is_relative() && !p.relative.has_root());
    for c in p.relative.components() {
        assert!(matches!(c, Component::Normal(_)), "{target:?} -> {c:?}");
    }
}

fn check_answer(len: u64, range: &[u8], if_range: Option<&[u8]>) {
    let res = Resource {
        len,
        modified: None,
        etag: etag_for(len, None),
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(range) {
        headers.insert(RANGE, v);
    }
    if let Some(Ok(v)) = if_range.map(HeaderValue::from_bytes) {
        headers.insert(IF_RANGE, v);
    }
    let a = answer(&res, &headers, false);
    for piece in &a.body {
        if let Piece::Span { start, len: n } = piece {
            assert!(
                *n > 0 && start.checked_add(*n).is_some_and(|end| end <= len),
                "{start}+{n} of {len}"
            );
        }
    }
    let declared = a
        .headers
        .iter()
        .find(|(k, _)| *k == CONTENT_LENGTH)
        .map(|(_, v)| v.to_str().unwrap_or("").to_string());
    assert_eq!(declared, Some(a.body_len().to_string()));
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let target = parts.next().unwrap_or_default();
    check_name(&String::from_utf8_lossy(target));
    let len = data.get(..8).map_or(1000, |b| {
        u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) >> 16
    });
    if let Some(range) = parts.next() {
        check_answer(len, range, parts.next());
    }
});
