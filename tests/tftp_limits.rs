//! Rules and limits checked on the wire with the raw client: `mail` mode,
//! malformed requests (ERROR 4), `--max-transfers`, a WRQ's tsize against
//! the free space of a small tmpfs, `--retransmit`, and a stranger's DATA
//! in the middle of an upload.

mod support;

use std::time::{Duration, Instant};

use support::clients::{curl_put, Endpoint};
use support::raw::{
    ack, data, rrq, wrq, Packet, RawClient, ERR_DISK_FULL, ERR_ILLEGAL, ERR_UNKNOWN_TID,
};
use support::{
    assert_file_is, assert_same_bytes, pseudo_random, require_root, require_tool, scratch, Server,
};

/// An unknown option that pads a request, so the ERROR answering it has
/// room for its whole message (ERRORs are cut to the request's length).
fn padding() -> (&'static str, String) {
    ("x-padding", "x".repeat(60))
}

#[test]
fn mail_mode_is_refused_with_error_4() {
    let srv = Server::start(&["--create"]);
    srv.put_file("f", b"text", 0o644);
    let (pad, value) = padding();
    for request in [
        rrq("f", "mail", &[(pad, &value)]),
        wrq("root", "MAIL", &[(pad, &value)]),
    ] {
        let mut client = RawClient::new(srv.addr);
        client.request(&request);
        assert_eq!(
            client.recv(),
            Packet::Error(ERR_ILLEGAL, "mail mode is not supported".into())
        );
    }
    assert!(!srv.root().join("root").exists());
}

#[test]
fn malformed_requests_get_error_4() {
    let srv = Server::start(&[]);
    srv.put_file("f", b"x", 0o644);
    let cases: [(&str, &[u8]); 6] = [
        ("unknown mode", b"\x00\x01f\x00binary\x00"),
        ("empty name", b"\x00\x01\x00octet\x00"),
        ("no NUL after the mode", b"\x00\x01f\x00octet"),
        ("no NUL after the name", b"\x00\x02fname"),
        (
            "option without a value",
            b"\x00\x01f\x00octet\x00blksize\x00",
        ),
        (
            "option not UTF-8",
            b"\x00\x01f\x00octet\x00\xff\xfe\x00512\x00",
        ),
    ];
    for (what, request) in cases {
        let mut client = RawClient::new(srv.addr);
        client.request(request);
        let reply = client
            .recv_datagram(Duration::from_secs(2))
            .unwrap_or_else(|| panic!("{what}: no reply"));
        assert!(reply.len() <= request.len(), "{what}: {reply:?}");
        match Packet::parse(&reply) {
            Packet::Error(code, _) => assert_eq!(code, ERR_ILLEGAL, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // Too short to answer with any ERROR: nothing at all.
    let mut client = RawClient::new(srv.addr);
    client.request(b"\x00\x01f");
    assert_eq!(client.recv_within(Duration::from_millis(500)), None);
}

#[test]
fn transfers_beyond_max_transfers_wait_unanswered_and_start_when_one_ends() {
    let srv = Server::start(&["--max-transfers", "2"]);
    let body = pseudo_random(3000, 9);
    srv.put_file("f", &body, 0o644);
    // Two transfers held open: DATA 1 received, not acknowledged yet. They
    // come from different ports, so only the total limit applies.
    let mut held: Vec<(RawClient, Packet)> = (0..2)
        .map(|_| {
            let mut c = RawClient::new(srv.addr);
            c.request(&rrq("f", "octet", &[]));
            let first = c.recv();
            assert!(matches!(first, Packet::Data(1, _)), "{first:?}");
            (c, first)
        })
        .collect();
    // The third is held: no answer (no ERROR), and asking again from the
    // same port changes nothing.
    let mut third = RawClient::new(srv.addr);
    let request = rrq("f", "octet", &[]);
    third.request(&request);
    assert_eq!(third.recv_within(Duration::from_millis(600)), None);
    third.repeat_request(&request);
    assert_eq!(third.recv_within(Duration::from_millis(600)), None);
    for (client, first) in held.iter_mut() {
        let got = client.read_rest(Some(first.clone()), 512, 1);
        assert_same_bytes(&got, &body, "held transfer");
    }
    // A slot is free again: the third starts on its own, once.
    let started = Instant::now();
    let first = third.recv();
    assert!(matches!(first, Packet::Data(1, _)), "{first:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{started:?}");
    assert_same_bytes(&third.read_rest(Some(first), 512, 1), &body, "after");
}

/// A server whose root is a 1 MiB tmpfs, mounted in a mount namespace of
/// its own (nothing changes on the machine). The tests reach the tmpfs
/// through `/proc/PID/root`.
fn server_on_small_tmpfs(args: &[&str]) -> Server {
    let mount = r#"for a; do root=$a; done
mount -t tmpfs -o size=1m,mode=0755 netboot-test "$root" && exec "$@""#;
    Server::start_wrapped(
        &[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            mount,
            "sh",
        ],
        args,
    )
}

/// `name` in the server's root as the server sees it.
fn in_server_root(srv: &Server, name: &str) -> std::path::PathBuf {
    let root = srv.root().strip_prefix("/").unwrap();
    std::path::Path::new(&format!("/proc/{}/root", srv.pid()))
        .join(root)
        .join(name)
}

#[test]
fn a_wrq_tsize_larger_than_the_free_space_is_disk_full() {
    if !require_root("mounting a tmpfs in a private mount namespace") {
        return;
    }
    let srv = server_on_small_tmpfs(&["--create"]);
    let size = |path: &std::path::Path| {
        let stat = nix::sys::statvfs::statvfs(path).unwrap();
        stat.blocks() * stat.fragment_size()
    };
    assert_eq!(
        size(&in_server_root(&srv, "")),
        1 << 20,
        "the server's tmpfs"
    );
    assert_ne!(size(srv.root()), 1 << 20, "the machine's view is unchanged");
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("big", "octet", &[("tsize", "2000000")]));
    match client.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_DISK_FULL),
        other => panic!("expected ERROR 3, got {other:?}"),
    }
    // What fits is accepted, stored, and readable back.
    let body = pseudo_random(100_000, 10);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("small", "octet", &[("tsize", "100000")]));
    assert_eq!(client.recv().option("tsize"), Some("100000"));
    client.write_all(&body, 512);
    assert_file_is(&in_server_root(&srv, "small"), &body);
    if require_tool("curl", "curl") {
        // curl announces the size of what it uploads: CURLE_REMOTE_DISK_FULL.
        let local = scratch();
        let path = local.path().join("big");
        std::fs::write(&path, pseudo_random(2_000_000, 11)).unwrap();
        let run = curl_put(&srv, &path, "big", Some(1468));
        assert_eq!(run.status.code(), Some(70), "{run:?}");
    }
    let left: Vec<_> = std::fs::read_dir(in_server_root(&srv, ""))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("small")]);
}

/// How long the server waits before resending DATA 2, with the first
/// round trip not measured (DATA 1 went out twice, so Karn's rule takes
/// no sample): `--retransmit` alone decides. `None` if nothing came
/// within `within`.
fn first_resend_after(args: &[&str], within: Duration) -> Option<Duration> {
    let srv = Server::start(args);
    srv.put_file("f", &pseudo_random(3000, 12), 0o644);
    let mut client = RawClient::new(srv.addr);
    let request = rrq("f", "octet", &[]);
    client.request(&request);
    assert!(matches!(client.recv(), Packet::Data(1, _)));
    client.repeat_request(&request);
    assert!(matches!(client.recv(), Packet::Data(1, _)));
    client.send(&ack(1));
    assert!(matches!(client.recv(), Packet::Data(2, _)));
    let sent = Instant::now();
    let again = client.recv_within(within)?;
    assert!(matches!(again, Packet::Data(2, _)), "{again:?}");
    Some(sent.elapsed())
}

#[test]
fn retransmit_sets_the_first_retransmission_timeout() {
    // Default 1 s: the resend comes (well) within 2.5 s.
    let default = first_resend_after(&[], Duration::from_millis(2500));
    assert!(default.is_some(), "no resend within 2.5 s by default");
    // -T 3000000 (3 s): nothing for at least 2.5 s, then the resend.
    let slow = first_resend_after(&["--retransmit", "3000000"], Duration::from_secs(6));
    let slow = slow.expect("no resend within 6 s");
    assert!(slow >= Duration::from_millis(2500), "resent after {slow:?}");
}

#[test]
fn a_strangers_data_mid_upload_gets_error_5_and_is_not_stored() {
    let srv = Server::start(&["--create"]);
    let body = pseudo_random(2000, 13);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("up", "octet", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    client.send(&data(1, &body[..512]));
    client.expect_ack(1);
    let mut stranger = RawClient::new(srv.endpoint());
    stranger.peer = client.peer;
    stranger.send(&data(2, &[0xAA; 512]));
    match stranger.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_UNKNOWN_TID),
        other => panic!("expected ERROR 5, got {other:?}"),
    }
    // The upload goes on from block 2, with the client's bytes.
    for (i, chunk) in body[512..].chunks(512).enumerate() {
        let block = i as u16 + 2;
        client.send(&data(block, chunk));
        client.expect_ack(block);
    }
    assert_file_is(&srv.root().join("up"), &body);
}
