//! `netboot http` against curl and wget as a user runs them: whole files
//! byte for byte, HEAD, one range, several ranges, a range past the end,
//! conditional requests, keep-alive, the last MiB of a 5 GiB sparse file,
//! and a log line per request.

mod http_support;

use std::io::Write;

use http_support::{curl, have, pattern, run, HttpServer};
use sha2::{Digest, Sha256};

#[test]
fn curl_and_wget_fetch_whole_files() {
    if !have("curl") || !have("wget") {
        return;
    }
    let srv = HttpServer::start(&[]);
    let data = pattern(3 << 20);
    std::fs::create_dir(srv.root().join("debian")).unwrap();
    std::fs::write(srv.root().join("debian/initrd.gz"), &data).unwrap();
    let (body, code) = curl(&[&srv.url("debian/initrd.gz")]);
    assert_eq!(code, 200);
    assert_eq!(Sha256::digest(&body), Sha256::digest(&data));

    let out = srv.scratch().join("wget.out");
    let got = run(
        "wget",
        &[
            "-q",
            "-O",
            out.to_str().unwrap(),
            &srv.url("debian/initrd.gz"),
        ],
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), data);

    let (head, code) = curl(&["-I", &srv.url("debian/initrd.gz")]);
    // spelled as GRUB 2.06 matches it (case-sensitively)
    assert!(
        String::from_utf8_lossy(&head).contains("\r\nContent-Length: 3145728\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert_eq!(code, 200);
    assert!(head.contains("content-length: 3145728"), "{head}");
    assert!(
        head.contains("accept-ranges: bytes") && head.contains("etag: \""),
        "{head}"
    );
    assert!(
        srv.wait_log("path=/debian/initrd.gz}: sent status=200 bytes=3145728"),
        "{}",
        srv.log()
    );

    let (_, code) = curl(&[&srv.url("nothere.efi")]);
    assert_eq!(code, 404);
}

#[test]
fn ranges_one_several_and_past_the_end() {
    if !have("curl") {
        return;
    }
    let srv = HttpServer::start(&[]);
    let data = pattern(100_000);
    std::fs::write(srv.root().join("disk.img"), &data).unwrap();
    let url = srv.url("disk.img");
    let (body, code) = curl(&["-r", "1000-1999", &url]);
    assert_eq!((code, body.as_slice()), (206, &data[1000..2000]));
    let (body, code) = curl(&["-r", "-100", &url]);
    assert_eq!((code, body.as_slice()), (206, &data[99_900..]));

    let (body, code) = curl(&["-r", "0-9,50000-50009", &url]);
    assert_eq!(code, 206);
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("Content-Range: bytes 0-9/100000"), "{text}");
    assert!(
        text.contains("Content-Range: bytes 50000-50009/100000"),
        "{text}"
    );
    let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(find(&data[..10]) && find(&data[50_000..50_010]));

    let (_, code) = curl(&["-r", "200000-", &url]);
    assert_eq!(code, 416);
    // a malformed Range (as 32-bit iPXE builds send) gets the whole file
    let (body, code) = curl(&["-H", "Range: bytes=-", &url]);
    assert_eq!((code, body.len()), (200, data.len()));
}

#[test]
fn conditional_requests_and_keep_alive() {
    if !have("curl") {
        return;
    }
    let srv = HttpServer::start(&[]);
    std::fs::write(srv.root().join("boot.ipxe"), b"#!ipxe\nboot\n").unwrap();
    let url = srv.url("boot.ipxe");
    let (head, _) = curl(&["-I", &url]);
    let head = String::from_utf8_lossy(&head).to_string();
    let field = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                key.eq_ignore_ascii_case(name.trim_end_matches(':'))
                    .then_some(value)
            })
            .map(|v| v.trim().to_string())
            .unwrap()
    };
    let (etag, modified) = (field("etag:"), field("last-modified:"));
    let (_, code) = curl(&["-H", &format!("If-None-Match: {etag}"), &url]);
    assert_eq!(code, 304);
    let (_, code) = curl(&["-H", &format!("If-Modified-Since: {modified}"), &url]);
    assert_eq!(code, 304);
    let (body, code) = curl(&["-H", "If-None-Match: \"other\"", &url]);
    assert_eq!((code, body.as_slice()), (200, &b"#!ipxe\nboot\n"[..]));

    // two requests on one connection: curl says it reused it
    let out = run(
        "curl",
        &["-sv", "-o", "/dev/null", &url, "-o", "/dev/null", &url],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Re-using existing connection") || said.contains("Reusing existing"),
        "{said}"
    );
}

#[test]
fn the_last_mib_of_a_5_gib_sparse_file_by_range() {
    if !have("curl") {
        return;
    }
    let srv = HttpServer::start(&[]);
    let path = srv.root().join("big.iso");
    let mut file = std::fs::File::create(&path).unwrap();
    let size: u64 = 5 << 30;
    file.set_len(size).unwrap();
    let tail = pattern(1 << 20);
    std::os::unix::fs::FileExt::write_at(&file, &tail, size - (1 << 20)).unwrap();
    file.flush().unwrap();
    drop(file);
    let (body, code) = curl(&["-r", &format!("{}-", size - (1 << 20)), &srv.url("big.iso")]);
    assert_eq!(code, 206);
    assert_eq!(Sha256::digest(&body), Sha256::digest(&tail));
    let (head, _) = curl(&["-I", &srv.url("big.iso")]);
    assert!(String::from_utf8_lossy(&head)
        .to_lowercase()
        .contains("content-length: 5368709120"));
}

/// Pages the page cache holds go out with `sendfile`, the others are read:
/// a file with every other MiB evicted, fetched twice on one keep-alive
/// connection and once in ranges, comes back byte for byte.
#[test]
fn a_file_partly_out_of_the_page_cache_comes_back_exact() {
    if !have("curl") {
        return;
    }
    let srv = HttpServer::start(&[]);
    let data = pattern(24 << 20);
    let path = srv.root().join("rootfs.squashfs");
    std::fs::write(&path, &data).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    file.sync_all().unwrap();
    for mib in (0..24).step_by(2) {
        evict(&file, mib << 20, 1 << 20);
    }
    let url = srv.url("rootfs.squashfs");
    let (one, two) = (srv.scratch().join("one"), srv.scratch().join("two"));
    let (one_s, two_s) = (one.to_str().unwrap(), two.to_str().unwrap());
    let got = run("curl", &["-sf", "-o", one_s, &url, "-o", two_s, &url]);
    assert!(got.status.success(), "{}", srv.log());
    for out in [&one, &two] {
        let body = std::fs::read(out).unwrap();
        assert_eq!(Sha256::digest(&body), Sha256::digest(&data));
    }
    evict(&file, 0, data.len() as i64);
    let (body, code) = curl(&["-r", "1000-3000000,20000000-20999999", &url]);
    assert_eq!(code, 206);
    let mut from = 0;
    for part in [&data[1000..=3_000_000], &data[20_000_000..=20_999_999]] {
        // The part starts after its header's blank line.
        let header_end = body[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap();
        let at = from + header_end + 4;
        assert_eq!(&body[at..at + part.len()], part);
        from = at + part.len();
    }
}

/// Drops `len` bytes of `file` from `offset` out of the page cache.
fn evict(file: &std::fs::File, offset: i64, len: i64) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open; the call only advises the kernel.
    let r =
        unsafe { libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(r, 0);
}
