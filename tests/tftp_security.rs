//! Requests that must not reach outside the served directory, or files the
//! rules forbid: `..` in every position, symlinks leading out under
//! `--secure`, missing files, directories, FIFOs (never even opened) and
//! device nodes. Checked with tftp-hpa (the
//! "Error code N" it prints) and with the raw client (the ERROR packet).

mod support;

use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use support::clients::{busybox_get, curl_get, tftp_hpa_get, tftp_hpa_put};
use support::raw::{rrq, wrq, Packet, RawClient, ERR_ACCESS, ERR_ILLEGAL, ERR_NOT_FOUND};
use support::{assert_file_is, pseudo_random, require_root, require_tool, scratch, Server};

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
    // A directory and a name that is empty once the leading `/` is gone are
    // access violations; a request with no name at all is malformed.
    for (name, want) in [("dir", ERR_ACCESS), ("/", ERR_ACCESS), ("", ERR_ILLEGAL)] {
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq(name, "octet", &[]));
        match client.recv() {
            Packet::Error(code, _) => assert_eq!(code, want, "{name:?}"),
            other => panic!("{name:?}: expected an ERROR, got {other:?}"),
        }
    }
}

#[test]
fn a_fifo_is_refused_and_never_opened() {
    let srv = Server::start(&["--permissive"]);
    let fifo = srv.root().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
    // A writer's open blocks until a reader opens the FIFO: it tells us
    // whether it was this test (after the requests) that woke it.
    let released = Arc::new(AtomicBool::new(false));
    let (woken, wakeup) = mpsc::channel();
    let writer = {
        let (fifo, released) = (fifo.clone(), Arc::clone(&released));
        std::thread::spawn(move || {
            let opened = std::fs::OpenOptions::new().write(true).open(&fifo);
            let _ = woken.send((opened.is_ok(), released.load(Ordering::SeqCst)));
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    for name in ["fifo", "/fifo"] {
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq(name, "octet", &[("tsize", "0")]));
        match client.recv() {
            Packet::Error(code, _) => assert_eq!(code, ERR_ACCESS, "{name}"),
            other => panic!("{name}: expected ERROR 2, got {other:?}"),
        }
    }
    if require_tool("tftp", "tftp-hpa") {
        let local = scratch();
        let run = tftp_hpa_get(&srv, "fifo", &local.path().join("got"), "binary");
        assert!(run.output().contains("Error code 2"), "{run:?}");
    }
    assert!(
        wakeup.recv_timeout(Duration::from_millis(500)).is_err(),
        "the server opened the FIFO"
    );
    released.store(true, Ordering::SeqCst);
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    assert_eq!(
        wakeup.recv_timeout(Duration::from_secs(5)),
        Ok((true, true)),
        "woken only by the test"
    );
    writer.join().unwrap();
}

#[test]
fn a_device_node_is_refused() {
    if !require_root("mknod of a character device") {
        return;
    }
    let srv = Server::start(&["--permissive"]);
    // A /dev/null lookalike inside the root.
    nix::sys::stat::mknod(
        &srv.root().join("null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("null", "octet", &[]));
    match client.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_ACCESS),
        other => panic!("expected ERROR 2, got {other:?}"),
    }
    // Nor may an upload replace it.
    let srv_upload = Server::start(&["--permissive", "--create"]);
    let node = srv_upload.root().join("null");
    nix::sys::stat::mknod(
        &node,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let mut client = RawClient::new(srv_upload.addr);
    client.request(&wrq("null", "octet", &[]));
    match client.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_ACCESS),
        other => panic!("expected ERROR 2, got {other:?}"),
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&node)
        .unwrap()
        .file_type()
        .is_char_device());
}
