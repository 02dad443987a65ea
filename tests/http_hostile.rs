//! Hostile requests against `netboot http`: encoded `..`, double encoding,
//! NUL, backslashes, overlong UTF-8, symlinks out of the root, a FIFO; a
//! 1 MiB header, 10,000 header fields, a request line with no end and a
//! client sending one byte a second. None escapes the root, none stalls
//! another client, and the server keeps serving.

mod http_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http_support::{curl, have, HttpServer};

const SECRET: &[u8] = b"outside the root\n";

fn server() -> HttpServer {
    let srv = HttpServer::start(&["--header-timeout", "2"]);
    std::fs::write(srv.scratch().join("secret.txt"), SECRET).unwrap();
    std::fs::write(srv.root().join("ok.txt"), b"fine\n").unwrap();
    std::fs::create_dir(srv.root().join("sub")).unwrap();
    std::os::unix::fs::symlink(
        srv.scratch().join("secret.txt"),
        srv.root().join("sub/link"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", srv.root().join("passwd")).unwrap();
    let fifo = srv.root().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    srv
}

/// Sends `request` raw and reads the answer until the server closes or
/// 5 s pass.
fn raw(srv: &HttpServer, request: &[u8]) -> String {
    let mut s = TcpStream::connect(srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn no_path_escapes_the_root() {
    if !have("curl") {
        return;
    }
    let srv = server();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/ok.txt%00.png",
        "/sub\\..\\..\\secret.txt",
        "/sub%5c..%5c..%5csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/sub/link",
        "/passwd",
        "/fifo",
        "/%",
        "//../../etc/passwd",
    ] {
        let (body, code) = curl(&["--path-as-is", &format!("http://{}{path}", srv.addr)]);
        assert!((400..500).contains(&code), "{path}: {code}");
        assert!(
            !body.windows(SECRET.len()).any(|w| w == SECRET),
            "{path} leaked"
        );
        assert!(
            !String::from_utf8_lossy(&body).contains("root:"),
            "{path} leaked passwd"
        );
    }
    let (body, code) = curl(&[&srv.url("ok.txt")]);
    assert_eq!(
        (code, body.as_slice()),
        (200, &b"fine\n"[..]),
        "still serving"
    );
}

#[test]
fn oversized_headers_are_refused_and_the_server_goes_on() {
    if !have("curl") {
        return;
    }
    let srv = server();
    let mut big = b"GET /ok.txt HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    big.extend(b"\r\n\r\n");
    let answer = raw(&srv, &big);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:.200}"
    );

    let mut many = b"GET /ok.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..10_000 {
        many.extend(format!("X-{i}: y\r\n").as_bytes());
    }
    many.extend(b"\r\n");
    let answer = raw(&srv, &many);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:.200}"
    );
    let (body, code) = curl(&[&srv.url("ok.txt")]);
    assert_eq!((code, body.as_slice()), (200, &b"fine\n"[..]));
}

#[test]
fn slow_and_endless_requests_are_cut_without_delaying_anyone() {
    if !have("curl") {
        return;
    }
    let srv = server();
    // a request line with no end, and a client sending a byte a second
    let mut endless = TcpStream::connect(srv.addr).unwrap();
    endless.write_all(b"GET /ok.txt").unwrap();
    let mut slow = TcpStream::connect(srv.addr).unwrap();
    let dripping = std::thread::spawn(move || {
        let started = Instant::now();
        for b in b"GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n" {
            if slow.write_all(&[*b]).is_err() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        started.elapsed()
    });
    // meanwhile everyone else is served at once
    let started = Instant::now();
    for _ in 0..5 {
        let (body, code) = curl(&["-m", "2", &srv.url("ok.txt")]);
        assert_eq!((code, body.as_slice()), (200, &b"fine\n"[..]));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "others were delayed"
    );
    // the server hangs up on both once the header deadline (2 s) passes
    endless
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 256];
    let n = endless.read(&mut buf).unwrap_or(0);
    assert!(
        n == 0 || buf.starts_with(b"HTTP/1.1 408"),
        "endless request still open"
    );
    let cut_after = dripping.join().unwrap();
    assert!(
        cut_after < Duration::from_secs(20),
        "slow client kept for {cut_after:?}"
    );
}
