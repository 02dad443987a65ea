//! Packet-level checks with the tests' own raw client: transfer IDs, the
//! tsize answer, refused options, the UEFI firmware's size probe, map-file
//! rewriting and case-insensitive names.

mod support;

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
fn transfers_beyond_max_per_client_are_refused_with_a_reason() {
    let srv = Server::start(&["--max-per-client", "2"]);
    let body = pseudo_random(5000, 2);
    srv.put_file("f", &body, 0o644);
    // Two transfers held open (DATA 1 received, not acknowledged yet).
    let mut held: Vec<(RawClient, Packet)> = (0..2)
        .map(|_| {
            let mut c = RawClient::new(srv.addr);
            c.request(&rrq("f", "octet", &[]));
            let first = c.recv();
            (c, first)
        })
        .collect();
    // The reason is cut to the request's length: a long request (an
    // unknown option pads it) gets it whole.
    let mut third = RawClient::new(srv.addr);
    let padding = "x".repeat(40);
    third.request(&rrq("f", "octet", &[("x-padding", &padding)]));
    match third.recv() {
        Packet::Error(0, msg) => assert_eq!(msg, "too many transfers from your address"),
        other => panic!("expected an ERROR, got {other:?}"),
    }
    // The held transfers complete, and then there is room again.
    for (client, first) in held.iter_mut() {
        let got = client.read_rest(Some(first.clone()), 512, 1);
        assert_same_bytes(&got, &body, "held transfer");
    }
    let mut again = RawClient::new(srv.addr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        again.request(&rrq("f", "octet", &[]));
        match again.recv() {
            first @ Packet::Data(1, _) => {
                assert_same_bytes(&again.read_rest(Some(first), 512, 1), &body, "after");
                break;
            }
            // The slots are freed just after the last ACK: try again.
            other if std::time::Instant::now() < deadline => {
                assert!(matches!(other, Packet::Error(..)), "{other:?}");
                again = RawClient::new(srv.addr);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => panic!("no room after the transfers ended: {other:?}"),
        }
    }
}

#[test]
fn the_download_right_after_a_size_probe_is_admitted() {
    // One transfer per client address: the download sent the instant after
    // the probe's ERROR 8 may reach the listener before the probe's task has
    // ended; the server waits a moment for the slot instead of refusing (a
    // real firmware would give up on "too many transfers").
    let srv = Server::start(&["--max-per-client", "1"]);
    let body = pseudo_random(10_000, 1);
    srv.put_file("f", &body, 0o644);
    let mut refused_first = 0;
    for _ in 0..10 {
        let mut probe = RawClient::new(srv.addr);
        probe.request(&rrq("f", "octet", &[("tsize", "0"), ("blksize", "1468")]));
        assert_eq!(probe.recv().option("tsize"), Some("10000"));
        probe.send(&error(ERR_OPTION, "User aborted the transfer"));
        let started = std::time::Instant::now();
        let mut tries = 0;
        let oack = loop {
            tries += 1;
            let mut client = RawClient::new(srv.addr);
            client.request(&rrq("f", "octet", &[("blksize", "1468")]));
            match client.recv() {
                oack @ Packet::Oack(_) => break (client, oack),
                Packet::Error(_, msg) if msg.contains("too many") => {
                    assert!(
                        started.elapsed() < std::time::Duration::from_secs(1),
                        "probe still holding its slot after {:?}",
                        started.elapsed()
                    );
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => panic!("expected OACK, got {other:?}"),
            }
        };
        if tries > 1 {
            refused_first += 1;
        }
        let (mut client, oack) = oack;
        assert_eq!(oack.option("blksize"), Some("1468"), "{oack:?}");
        client.send(&ack(0));
        let got = client.read_rest(None, 1468, 1);
        assert_same_bytes(&got, &body, "after probe");
        // Wait for this transfer's slot too before the next probe.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        refused_first, 0,
        "a request right after ERROR 8 was refused"
    );
}
