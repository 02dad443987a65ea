//! The effective window with a real client: atftp's socket buffer (the
//! kernel default, about 208 KiB) holds about three blocks of 65464 bytes,
//! so at windowsize 16 the server must send fewer blocks at a time; at
//! blksize 1468 a whole window fits and nothing changes.

mod support;

use support::clients::atftp_get;
use support::{pseudo_random, require_tool, scratch, sha256_hex, Server};

#[test]
fn atftp_at_blksize_65464_windowsize_16_gets_every_byte_in_smaller_bursts() {
    if !require_tool("atftp", "atftp") {
        return;
    }
    let srv = Server::start(&["-v"]);
    let body = pseudo_random(64 << 20, 17);
    srv.put_file("big.bin", &body, 0o644);
    let dir = scratch();
    let local = dir.path().join("big.bin");
    // the client's own bound (20 s) is generous: this takes about a second
    atftp_get(
        &srv,
        "big.bin",
        &local,
        &["blksize 65464", "windowsize 16"],
        &[],
    )
    .assert_success();
    let got = std::fs::read(&local).unwrap();
    assert_eq!(got.len(), body.len());
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    assert!(
        srv.wait_for_log("transfer complete", std::time::Duration::from_secs(5)),
        "{}",
        srv.log()
    );
    let shrank = srv.log_lines("effective window shrank");
    assert!(
        shrank.iter().any(|l| l.contains("from=16")),
        "the window shrank from 16 (the client keeps a few blocks):\n{}",
        srv.log()
    );
    let end = &srv.log_lines("transfer complete")[0];
    assert!(
        end.contains(" of 16\""),
        "the effective window is reported: {end}"
    );
}

#[test]
fn atftp_at_blksize_1468_windowsize_16_keeps_the_whole_window() {
    if !require_tool("atftp", "atftp") {
        return;
    }
    let srv = Server::start(&["-v"]);
    let body = pseudo_random(4 << 20, 18);
    srv.put_file("f.bin", &body, 0o644);
    let dir = scratch();
    let local = dir.path().join("f.bin");
    atftp_get(
        &srv,
        "f.bin",
        &local,
        &["blksize 1468", "windowsize 16"],
        &[],
    )
    .assert_success();
    assert_eq!(
        sha256_hex(&std::fs::read(&local).unwrap()),
        sha256_hex(&body)
    );
    assert!(
        srv.wait_for_log("transfer complete", std::time::Duration::from_secs(5)),
        "{}",
        srv.log()
    );
    assert!(
        srv.log_lines("effective window").is_empty(),
        "{}",
        srv.log()
    );
    let end = &srv.log_lines("transfer complete")[0];
    assert!(end.contains("window=\"16\""), "{end}");
}
