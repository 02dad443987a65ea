use std::time::Duration;

use super::*;

fn res(len: u64) -> Resource {
    let modified = Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    Resource {
        len,
        modified,
        etag: etag_for(len, modified),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

fn header_of(a: &Answer, name: HeaderName) -> Option<&str> {
    a.headers
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.to_str().ok())
}

#[test]
fn whole_file_with_validators_and_head_without_body() {
    let r = res(1000);
    let a = answer(&r, &HeaderMap::new(), false);
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        vec![Piece::Span {
            start: 0,
            len: 1000
        }]
    );
    assert_eq!(header_of(&a, header::CONTENT_LENGTH), Some("1000"));
    assert_eq!(header_of(&a, header::ETAG), Some(r.etag.as_str()));
    assert_eq!(
        header_of(&a, header::LAST_MODIFIED),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    let h = answer(&r, &HeaderMap::new(), true);
    assert!(h.body.is_empty());
    assert_eq!(
        header_of(&h, header::CONTENT_LENGTH),
        Some("1000"),
        "HEAD says the GET length"
    );
}

#[test]
fn one_range_several_ranges_and_past_the_end() {
    let r = res(1000);
    let a = answer(&r, &headers(&[("range", "bytes=100-199")]), false);
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        a.body,
        vec![Piece::Span {
            start: 100,
            len: 100
        }]
    );
    assert_eq!(
        header_of(&a, header::CONTENT_RANGE),
        Some("bytes 100-199/1000")
    );
    let tail = answer(&r, &headers(&[("range", "bytes=-10")]), false);
    assert_eq!(
        tail.body,
        vec![Piece::Span {
            start: 990,
            len: 10
        }]
    );

    let m = answer(&r, &headers(&[("range", "bytes=0-9, 500-509")]), false);
    assert_eq!(m.status, StatusCode::PARTIAL_CONTENT);
    let kind = header_of(&m, header::CONTENT_TYPE).unwrap();
    assert!(
        kind.starts_with("multipart/byteranges; boundary=netboot-"),
        "{kind}"
    );
    assert_eq!(
        header_of(&m, header::CONTENT_LENGTH),
        Some(m.body_len().to_string().as_str())
    );
    assert_eq!(
        m.body
            .iter()
            .filter(|p| matches!(p, Piece::Span { .. }))
            .count(),
        2
    );

    let past = answer(&r, &headers(&[("range", "bytes=5000-")]), false);
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        header_of(&past, header::CONTENT_RANGE),
        Some("bytes */1000")
    );
    assert!(past.body.is_empty());
}

#[test]
fn malformed_or_too_many_ranges_get_the_whole_file() {
    let r = res(1000);
    for bad in [
        "bytes=abc",
        "items=0-1",
        "bytes=9-1",
        "bytes=0-4294967295-1",
        "bytes=",
    ] {
        let a = answer(&r, &headers(&[("range", bad)]), false);
        assert_eq!(a.status, StatusCode::OK, "{bad}");
        assert_eq!(a.body_len(), 1000, "{bad}");
    }
    let many: Vec<String> = (0..20)
        .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
        .collect();
    let a = answer(
        &r,
        &headers(&[("range", &format!("bytes={}", many.join(",")))]),
        false,
    );
    assert_eq!(a.status, StatusCode::OK);
}

#[test]
fn huge_files_and_ranges_beyond_4_gib() {
    let r = res(5 << 30);
    let a = answer(&r, &headers(&[("range", "bytes=-1048576")]), false);
    assert_eq!(
        a.body,
        vec![Piece::Span {
            start: (5 << 30) - (1 << 20),
            len: 1 << 20
        }]
    );
    assert_eq!(
        header_of(&whole(&r), header::CONTENT_LENGTH),
        Some("5368709120")
    );
}

#[test]
fn conditional_requests() {
    let r = res(10);
    let same = answer(&r, &headers(&[("if-none-match", &r.etag)]), false);
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert!(same.body.is_empty());
    let other = answer(&r, &headers(&[("if-none-match", "\"nope\"")]), false);
    assert_eq!(other.status, StatusCode::OK);
    let later = answer(
        &r,
        &headers(&[("if-modified-since", "Wed, 15 Nov 2023 00:00:00 GMT")]),
        false,
    );
    assert_eq!(later.status, StatusCode::NOT_MODIFIED);
    let earlier = answer(
        &r,
        &headers(&[("if-modified-since", "Mon, 13 Nov 2023 00:00:00 GMT")]),
        false,
    );
    assert_eq!(earlier.status, StatusCode::OK);
    let stale = answer(
        &r,
        &headers(&[("range", "bytes=0-1"), ("if-range", "\"old\"")]),
        false,
    );
    assert_eq!(
        stale.status,
        StatusCode::OK,
        "If-Range with another ETag: whole file"
    );
    let fresh = answer(
        &r,
        &headers(&[("range", "bytes=0-1"), ("if-range", &r.etag)]),
        false,
    );
    assert_eq!(fresh.status, StatusCode::PARTIAL_CONTENT);
}
