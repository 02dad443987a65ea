//! Downloads with real clients (tftp-hpa, atftp, curl, busybox) at the
//! sizes that trip TFTP implementations: empty, exactly one block, many
//! blocks; with and without blksize, tsize, timeout and windowsize.

mod support;

use support::clients::{atftp_get, busybox_get, curl_get, tftp_hpa_get};
use support::{assert_file_is, pseudo_random, require_tool, scratch, Server};

/// Sizes every client is tried with: empty, one block exactly (so the
/// transfer ends with an empty block), one byte either side, and 1 MiB.
const SIZES: [usize; 5] = [0, 511, 512, 513, 1 << 20];

/// Serves one file per size, named `f<size>`; returns (name, content).
fn serve_sizes(srv: &Server) -> Vec<(String, Vec<u8>)> {
    SIZES
        .iter()
        .map(|&n| {
            let name = format!("f{n}");
            let body = pseudo_random(n, n as u64);
            srv.put_file(&name, &body, 0o644);
            (name, body)
        })
        .collect()
}

#[test]
fn tftp_hpa_downloads_every_size() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    for (name, body) in serve_sizes(&srv) {
        let out = local.path().join(&name);
        let run = tftp_hpa_get(&srv, &name, &out, "binary");
        assert!(!run.output().contains("Error"), "{name}: {run:?}");
        assert_file_is(&out, &body);
    }
}

#[test]
fn tftp_hpa_download_by_absolute_name_and_from_a_subdirectory() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&[]);
    let body = pseudo_random(3000, 7);
    srv.put_file("pxelinux.cfg/default", &body, 0o644);
    let local = scratch();
    for name in ["pxelinux.cfg/default", "/pxelinux.cfg/default"] {
        let out = local.path().join("got");
        let run = tftp_hpa_get(&srv, name, &out, "binary");
        assert!(!run.output().contains("Error"), "{name}: {run:?}");
        assert_file_is(&out, &body);
    }
}

#[test]
fn atftp_downloads_every_size_with_options() {
    if !require_tool("atftp", "atftp") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    let option_sets: [&[&str]; 3] = [
        &[],
        &["blksize 1024", "tsize 0", "timeout 2"],
        &["blksize 8192", "windowsize 16"],
    ];
    for (name, body) in serve_sizes(&srv) {
        for options in option_sets {
            let out = local.path().join(&name);
            let _ = std::fs::remove_file(&out);
            atftp_get(&srv, &name, &out, options, &[]).assert_success();
            assert_file_is(&out, &body);
        }
    }
}

#[test]
fn atftp_windowsize_16_is_granted_with_the_tsize_answer() {
    if !require_tool("atftp", "atftp") {
        return;
    }
    let srv = Server::start(&[]);
    let body = pseudo_random(100_000, 16);
    srv.put_file("win", &body, 0o644);
    let local = scratch();
    let out = local.path().join("win");
    let options = ["tsize 0", "windowsize 16", "blksize 1024"];
    let run = atftp_get(&srv, "win", &out, &options, &["--trace"]);
    run.assert_success();
    assert_file_is(&out, &body);
    let text = run.output();
    let oack = text
        .lines()
        .find(|l| l.contains("received OACK"))
        .unwrap_or_else(|| panic!("no OACK in atftp's trace:\n{text}"));
    for granted in ["tsize: 100000", "windowsize: 16", "blksize: 1024"] {
        assert!(oack.contains(granted), "{granted} missing from {oack}");
    }
    // One ACK per window of 16 blocks, not one per block.
    assert!(text.contains("sent ACK <block: 16>"), "{text}");
    assert!(!text.contains("sent ACK <block: 1>"), "{text}");
}

#[test]
fn curl_downloads_every_size_at_several_block_sizes() {
    if !require_tool("curl", "curl") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    // curl 7.88 rejects an OACK announcing "tsize 0" ("invalid tsize",
    // exit 71), which is the right answer for an empty file (tftpd-hpa
    // gives the same), so curl is not asked for the empty file.
    for (name, body) in serve_sizes(&srv).into_iter().filter(|(_, b)| !b.is_empty()) {
        for blksize in [None, Some(512), Some(1468), Some(65464)] {
            let out = local.path().join(&name);
            let _ = std::fs::remove_file(&out);
            curl_get(&srv, &name, &out, blksize).assert_success();
            assert_file_is(&out, &body);
        }
    }
}

#[test]
fn busybox_downloads_every_size() {
    if !require_tool("busybox", "busybox") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    for (name, body) in serve_sizes(&srv) {
        for blksize in [None, Some(1024)] {
            let out = local.path().join(&name);
            let _ = std::fs::remove_file(&out);
            busybox_get(&srv, &name, &out, blksize).assert_success();
            assert_file_is(&out, &body);
        }
    }
}

#[test]
fn a_file_that_is_not_world_readable_is_refused_unless_permissive() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let body = pseudo_random(700, 3);
    let local = scratch();
    let out = local.path().join("got");
    let srv = Server::start(&[]);
    srv.put_file("private", &body, 0o600);
    let run = tftp_hpa_get(&srv, "private", &out, "binary");
    assert!(run.output().contains("Error code 2"), "{run:?}");

    let srv = Server::start(&["--permissive"]);
    srv.put_file("private", &body, 0o600);
    let run = tftp_hpa_get(&srv, "private", &out, "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&out, &body);
}
