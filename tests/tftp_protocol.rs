//! Packet-level checks with the tests' own raw client: transfer IDs, the
//! tsize answer, refused options, the UEFI firmware's size probe, map-file
//! rewriting and case-insensitive names.

mod support;

use std::time::Duration;

use support::clients::tftp_hpa_get;
use support::raw::{
    ack, error, rrq, Packet, RawClient, ERR_NOT_FOUND, ERR_OPTION, ERR_UNKNOWN_TID,
};
use support::{assert_file_is, assert_same_bytes, pseudo_random, require_tool, scratch, Server};

#[test]
fn an_ack_from_a_stranger_gets_error_5_and_the_transfer_goes_on() {
    let srv = Server::start(&[]);
    let body = pseudo_random(2000, 21);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f", "octet", &[]));
    let first = client.recv();
    assert!(
        matches!(&first, Packet::Data(1, p) if p.len() == 512),
        "{first:?}"
    );
    let transfer_port = client.peer.unwrap();
    assert_ne!(transfer_port, srv.addr, "transfers use a port of their own");

    let mut stranger = RawClient::new(srv.addr);
    stranger.peer = Some(transfer_port);
    stranger.send(&ack(1));
    match stranger.recv() {
        Packet::Error(code, _) => assert_eq!(code, ERR_UNKNOWN_TID),
        other => panic!("expected ERROR 5, got {other:?}"),
    }
    let got = client.read_rest(Some(first), 512, 1);
    assert_same_bytes(&got, &body, "transfer after the stranger");
}

#[test]
fn tsize_is_answered_with_the_file_size() {
    let srv = Server::start(&[]);
    for size in [0usize, 1, 512, 1 << 20] {
        let body = pseudo_random(size, size as u64);
        srv.put_file("f", &body, 0o644);
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq("f", "octet", &[("tsize", "0"), ("blksize", "8192")]));
        let oack = client.recv();
        let want = size.to_string();
        assert_eq!(oack.option("tsize"), Some(want.as_str()), "{oack:?}");
        assert_eq!(oack.option("blksize"), Some("8192"), "{oack:?}");
        client.send(&ack(0));
        let got = client.read_rest(None, 8192, 1);
        assert_same_bytes(&got, &body, "after OACK");
    }
}

#[test]
fn refused_tsize_is_left_out_of_the_oack() {
    let srv = Server::start(&["--refuse", "tsize"]);
    let body = pseudo_random(3000, 8);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f", "octet", &[("tsize", "0"), ("blksize", "1024")]));
    let oack = client.recv();
    assert!(matches!(oack, Packet::Oack(_)), "{oack:?}");
    assert_eq!(oack.option("tsize"), None, "{oack:?}");
    assert_eq!(oack.option("blksize"), Some("1024"));
    client.send(&ack(0));
    assert_same_bytes(&client.read_rest(None, 1024, 1), &body, "blksize 1024");

    // Only tsize asked and refused: no OACK, DATA 1 at 512 bytes.
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f", "octet", &[("tsize", "0")]));
    let first = client.recv();
    assert!(
        matches!(&first, Packet::Data(1, p) if p.len() == 512),
        "{first:?}"
    );
    assert_same_bytes(&client.read_rest(Some(first), 512, 1), &body, "plain");
}

#[test]
fn the_uefi_size_probe_then_a_windowed_download() {
    let srv = Server::start(&[]);
    let body = pseudo_random(100_000, 7440);
    srv.put_file("bootx64.efi", &body, 0o644);
    let mut probe = RawClient::new(srv.addr);
    probe.request(&rrq(
        "bootx64.efi",
        "octet",
        &[("tsize", "0"), ("blksize", "1468"), ("windowsize", "4")],
    ));
    let oack = probe.recv();
    assert_eq!(oack.option("tsize"), Some("100000"), "{oack:?}");
    assert_eq!(oack.option("blksize"), Some("1468"), "{oack:?}");
    assert_eq!(oack.option("windowsize"), Some("4"), "{oack:?}");
    probe.send(&error(ERR_OPTION, "User aborted the transfer"));

    // The real download, from a new port, without tsize. The client ACKs
    // only every 4th block: a server not sending windows would stall.
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq(
        "bootx64.efi",
        "octet",
        &[("blksize", "1468"), ("windowsize", "4")],
    ));
    let oack = client.recv();
    assert_eq!(oack.option("tsize"), None, "{oack:?}");
    assert_eq!(oack.option("windowsize"), Some("4"), "{oack:?}");
    client.send(&ack(0));
    let got = client.read_rest(None, 1468, 4);
    assert_same_bytes(&got, &body, "windowed download");
    // The probe socket got nothing more after its ERROR.
    probe
        .sock
        .set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 2048];
    assert!(
        probe.sock.recv_from(&mut buf).is_err(),
        "data after ERROR 8"
    );
}

#[test]
fn a_map_file_turns_backslashes_into_slashes() {
    let maps = scratch();
    let map = maps.path().join("tftpd.map");
    std::fs::write(&map, "# Windows clients\nrg \\\\ /\nr ^/tftpboot/ /\n").unwrap();
    let srv = Server::start(&["--map-file", map.to_str().unwrap()]);
    let body = pseudo_random(4000, 99);
    srv.put_file("dir/file", &body, 0o644);
    for name in ["\\dir\\file", "dir\\file", "/tftpboot/dir/file"] {
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq(name, "octet", &[]));
        assert_same_bytes(&client.read_rest(None, 512, 1), &body, name);
    }
    if require_tool("tftp", "tftp-hpa") {
        let local = scratch();
        let out = local.path().join("got");
        let run = tftp_hpa_get(&srv, "\\dir\\file", &out, "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&out, &body);
    }
}

#[test]
fn case_insensitive_finds_names_in_any_case() {
    let body = pseudo_random(1000, 5);
    for (flags, found) in [(&[][..], false), (&["--case-insensitive"][..], true)] {
        let srv = Server::start(flags);
        srv.put_file("Boot/BCD", &body, 0o644);
        for name in ["boot/bcd", "BOOT/bcd", "/Boot/bcd"] {
            let mut client = RawClient::new(srv.addr);
            client.request(&rrq(name, "octet", &[]));
            if found {
                assert_same_bytes(&client.read_rest(None, 512, 1), &body, name);
            } else {
                // The message fits the request's length, in whole words.
                match client.recv() {
                    Packet::Error(ERR_NOT_FOUND, msg) => {
                        let whole = ["File not found", "Not found", "No file", "Absent", ""];
                        assert!(whole.contains(&msg.as_str()), "{msg}")
                    }
                    other => panic!("expected ERROR 1, got {other:?}"),
                }
            }
        }
    }
}

#[test]
fn beyond_max_per_client_an_address_waits_only_for_the_slots_kept_for_others() {
    // 4 slots, 1 per address: 127.0.0.1 runs its one, then more while one
    // slot stays free for another address; past that it waits, unanswered.
    let srv = Server::start(&["--max-transfers", "4", "--max-per-client", "1"]);
    let body = pseudo_random(5000, 2);
    srv.put_file("f", &body, 0o644);
    let open = |local: &str| {
        let mut c = RawClient::bound(local, srv.addr);
        c.request(&rrq("f", "octet", &[]));
        c
    };
    // Three held open (DATA 1 received, not acknowledged yet).
    let mut running: Vec<(RawClient, Packet)> = (0..3)
        .map(|_| {
            let mut c = open("127.0.0.1:0");
            let first = c.recv();
            assert!(matches!(first, Packet::Data(1, _)), "{first:?}");
            (c, first)
        })
        .collect();
    let mut waiting = open("127.0.0.1:0");
    assert_eq!(waiting.recv_within(Duration::from_millis(800)), None);
    // Another address starts at once in the slot kept free.
    let mut other = open("127.0.0.2:0");
    let first = other.recv();
    assert_same_bytes(&other.read_rest(Some(first), 512, 1), &body, "other");
    // When one of the three ends, the waiting request starts on its own:
    // no second request, no ERROR.
    let (mut client, first) = running.remove(0);
    assert_same_bytes(&client.read_rest(Some(first), 512, 1), &body, "first");
    let first = waiting.recv();
    assert!(matches!(first, Packet::Data(1, _)), "{first:?}");
    assert_same_bytes(&waiting.read_rest(Some(first), 512, 1), &body, "held");
    for (mut client, first) in running {
        assert_same_bytes(&client.read_rest(Some(first), 512, 1), &body, "rest");
    }
}

#[test]
fn the_download_right_after_a_size_probe_is_admitted() {
    // One transfer at once: the download sent the instant after the probe's
    // ERROR 8 may reach the listener before the probe's thread has ended;
    // it is held until the slot frees, never refused (a real firmware gives
    // up on an ERROR).
    let srv = Server::start(&["--max-transfers", "1"]);
    let body = pseudo_random(10_000, 1);
    srv.put_file("f", &body, 0o644);
    for _ in 0..10 {
        let mut probe = RawClient::new(srv.addr);
        probe.request(&rrq("f", "octet", &[("tsize", "0"), ("blksize", "1468")]));
        assert_eq!(probe.recv().option("tsize"), Some("10000"));
        probe.send(&error(ERR_OPTION, "User aborted the transfer"));
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq("f", "octet", &[("blksize", "1468")]));
        let oack = client.recv();
        assert_eq!(oack.option("blksize"), Some("1468"), "{oack:?}");
        client.send(&ack(0));
        let got = client.read_rest(None, 1468, 1);
        assert_same_bytes(&got, &body, "after probe");
    }
}
