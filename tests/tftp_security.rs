//! Requests that must not reach outside the served directory, or files the
//! rules forbid: `..` in every position, symlinks leading out under
//! `--secure`, missing files, directories. Checked with tftp-hpa (the
//! "Error code N" it prints) and with the raw client (the ERROR packet).

mod support;

use std::os::unix::fs::symlink;

use support::clients::{busybox_get, curl_get, tftp_hpa_get, tftp_hpa_put};
use support::raw::{rrq, wrq, Packet, RawClient, ERR_ACCESS, ERR_NOT_FOUND};
use support::{assert_file_is, pseudo_random, require_tool, scratch, Server};

const TRAVERSALS: [&str; 6] = ["../x", "a/../../x", "/../x", "..", "a/../x", "./../x"];

/// Puts a readable `x` outside the root, and `a/` inside it.
fn with_bait(srv: &Server) {
    std::fs::write(srv.outside().join("x"), b"secret").unwrap();
    srv.put_file("a/inside", b"inside", 0o644);
}

#[test]
fn traversal_is_an_access_violation_for_tftp_hpa() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create", "--permissive"]);
    with_bait(&srv);
    let local = scratch();
    let out = local.path().join("got");
    for name in TRAVERSALS {
        let run = tftp_hpa_get(&srv, name, &out, "binary");
        assert!(run.output().contains("Error code 2"), "get {name}: {run:?}");
        let run = tftp_hpa_put(&srv, &srv.outside().join("x"), name, "binary");
        assert!(run.output().contains("Error code 2"), "put {name}: {run:?}");
    }
    assert_eq!(std::fs::read(srv.outside().join("x")).unwrap(), b"secret");
}

#[test]
fn traversal_is_an_access_violation_on_the_wire() {
    let srv = Server::start(&["--create", "--permissive"]);
    with_bait(&srv);
    for name in TRAVERSALS {
        for request in [rrq(name, "octet", &[]), wrq(name, "octet", &[])] {
            let mut client = RawClient::new(srv.addr);
            client.request(&request);
            match client.recv() {
                Packet::Error(code, _) => assert_eq!(code, ERR_ACCESS, "{name}"),
                other => panic!("{name}: expected ERROR 2, got {other:?}"),
            }
        }
    }
    assert_eq!(std::fs::read(srv.outside().join("x")).unwrap(), b"secret");
}

#[test]
fn a_symlink_leading_outside_is_refused_with_secure() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let local = scratch();
    let out = local.path().join("got");
    let inside = pseudo_random(900, 4);

    let srv = Server::start(&["--secure"]);
    with_bait(&srv);
    symlink(srv.outside().join("x"), srv.root().join("escape")).unwrap();
    symlink(srv.outside(), srv.root().join("updir")).unwrap();
    srv.put_file("real", &inside, 0o644);
    symlink("real", srv.root().join("alias")).unwrap();
    for name in ["escape", "updir/x", "/escape"] {
        let run = tftp_hpa_get(&srv, name, &out, "binary");
        assert!(run.output().contains("Error code 2"), "{name}: {run:?}");
    }
    // A symlink that stays inside is fine.
    let run = tftp_hpa_get(&srv, "alias", &out, "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&out, &inside);

    // Without --secure the link is followed, as tftpd-hpa does.
    let srv = Server::start(&[]);
    with_bait(&srv);
    std::fs::set_permissions(
        srv.outside().join("x"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    symlink(srv.outside().join("x"), srv.root().join("escape")).unwrap();
    let run = tftp_hpa_get(&srv, "escape", &out, "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&out, b"secret");
}

#[test]
fn a_missing_file_is_error_1_for_every_client() {
    let srv = Server::start(&[]);
    let local = scratch();
    let out = local.path().join("got");
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("missing", "octet", &[("tsize", "0")]));
    match client.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_NOT_FOUND),
        other => panic!("expected ERROR 1, got {other:?}"),
    }
    if require_tool("tftp", "tftp-hpa") {
        let run = tftp_hpa_get(&srv, "missing", &out, "binary");
        assert!(run.output().contains("Error code 1"), "{run:?}");
        let run = tftp_hpa_get(&srv, "nodir/missing", &out, "binary");
        assert!(run.output().contains("Error code 1"), "{run:?}");
    }
    if require_tool("curl", "curl") {
        // curl's exit code 68: "file not found on TFTP server".
        let run = curl_get(&srv, "missing", &out, None);
        assert_eq!(run.status.code(), Some(68), "{run:?}");
    }
    if require_tool("busybox", "busybox") {
        let run = busybox_get(&srv, "missing", &out, None);
        assert!(!run.status.success(), "{run:?}");
        assert!(run.output().contains("File not found"), "{run:?}");
    }
}

#[test]
fn a_directory_or_an_empty_name_is_refused() {
    let srv = Server::start(&[]);
    srv.put_file("dir/file", b"x", 0o644);
    for name in ["dir", "/", ""] {
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq(name, "octet", &[]));
        match client.recv() {
            Packet::Error(code, _) => {
                assert!([0, ERR_ACCESS, 4].contains(&code), "{name:?}: {code}")
            }
            other => panic!("{name:?}: expected an ERROR, got {other:?}"),
        }
    }
}
