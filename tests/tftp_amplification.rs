//! A request's source address can be spoofed, so until the client answers
//! on the transfer's own port it gets at most one OACK or DATA per request
//! datagram, plus at most two resends on a timer of an OACK no longer than
//! the request; and any ERROR answering a request is no longer than the
//! request. A client whose first reply is lost recovers by asking again, or
//! from the OACK's resend: checked with the raw client and, through a relay
//! that loses the first reply, with every real client.

mod support;

use std::time::Duration;

use support::clients::{atftp_get, busybox_get, curl_get, tftp_hpa_get, tftp_hpa_put};
use support::lossy::LossyRelay;
use support::raw::{ack, rrq, wrq, Packet, RawClient, ERR_ACCESS, ERR_ILLEGAL, ERR_NOT_FOUND};
use support::{assert_file_is, assert_same_bytes, pseudo_random, require_tool, scratch, Server};

/// How long the tests listen for resends that must not come. The server's
/// first retransmission timeout is 1 s.
const QUIET: Duration = Duration::from_secs(3);

/// Sends `request`, leaves it unanswered, and checks exactly one datagram
/// comes back per copy of it, from one transfer port; returns the last one.
fn one_reply_per_copy(client: &mut RawClient, request: &[u8], copies: usize) -> Packet {
    client.request(request);
    let mut last = None;
    for copy in 1..=copies {
        if copy > 1 {
            client.repeat_request(request);
        }
        let got = client.collect_for(QUIET);
        assert_eq!(got.len(), 1, "copy {copy}: {got:?}");
        last = Some(Packet::parse(&got[0]));
    }
    last.unwrap()
}

#[test]
fn an_unanswered_rrq_gets_one_data_per_copy() {
    let srv = Server::start(&[]);
    let body = pseudo_random(3000, 1);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    let first = one_reply_per_copy(&mut client, &rrq("f", "octet", &[]), 2);
    assert!(
        matches!(&first, Packet::Data(1, p) if p.len() == 512),
        "{first:?}"
    );
    let got = client.read_rest(Some(first), 512, 1);
    assert_same_bytes(&got, &body, "after the repeated request");
    assert!(
        srv.wait_for_log("transfer complete", Duration::from_secs(5)),
        "{}",
        srv.log()
    );
    assert_eq!(srv.log_lines("transfer complete").len(), 1, "one transfer");
}

#[test]
fn an_unanswered_rrq_with_options_gets_its_oack_twice_more_on_a_timer_then_once_per_copy() {
    let srv = Server::start(&[]);
    let body = pseudo_random(50_000, 2);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    let request = rrq("f", "octet", &[("blksize", "1024"), ("windowsize", "8")]);
    client.request(&request);
    // The OACK (28 bytes) is no longer than the request (36): sent, then
    // resent after 1 s and 2 s, and no more.
    let got = client.collect_for(QUIET);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|d| d.len() <= request.len()));
    assert!(got.iter().all(|d| *d == got[0]), "{got:?}");
    let oack = one_more_per_copy(&mut client, &request, 2);
    assert_eq!(oack.option("windowsize"), Some("8"), "{oack:?}");
    client.send(&ack(0));
    let got = client.read_rest(None, 1024, 8);
    assert_same_bytes(&got, &body, "windowed, after the repeats");
}

#[test]
fn an_oack_longer_than_its_request_is_never_resent_on_a_timer() {
    let srv = Server::start(&[]);
    // 10 digits of tsize make the OACK one byte longer than the request.
    let big = std::fs::File::create(srv.root().join("f")).unwrap();
    big.set_len(1 << 30).unwrap();
    std::fs::set_permissions(
        srv.root().join("f"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let mut client = RawClient::new(srv.addr);
    let request = rrq("f", "octet", &[("tsize", "0")]);
    let oack = one_reply_per_copy(&mut client, &request, 2);
    assert_eq!(oack.option("tsize"), Some("1073741824"), "{oack:?}");
}

/// After the timer's resends are spent: one reply per further copy.
fn one_more_per_copy(client: &mut RawClient, request: &[u8], copies: usize) -> Packet {
    let mut last = None;
    for copy in 1..=copies {
        client.repeat_request(request);
        let got = client.collect_for(QUIET);
        assert_eq!(got.len(), 1, "copy {copy}: {got:?}");
        last = Some(Packet::parse(&got[0]));
    }
    last.unwrap()
}

#[test]
fn an_unanswered_wrq_gets_one_ack_per_copy() {
    let srv = Server::start(&["--create"]);
    let body = pseudo_random(2000, 3);
    let mut client = RawClient::new(srv.addr);
    let opening = one_reply_per_copy(&mut client, &wrq("up", "octet", &[]), 2);
    assert_eq!(opening, Packet::Ack(0));
    client.write_all(&body, 512);
    assert_file_is(&srv.root().join("up"), &body);
}

#[test]
fn a_repeat_after_the_first_ack_changes_nothing() {
    let srv = Server::start(&[]);
    let body = pseudo_random(1500, 4);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    let request = rrq("f", "octet", &[]);
    client.request(&request);
    let mut got = Vec::new();
    let Packet::Data(1, block) = client.recv() else {
        panic!("no DATA 1")
    };
    got.extend(block);
    client.send(&ack(1));
    // The client is proven: a stale copy of its request now neither
    // resends anything nor starts a second transfer (whose DATA 1 would
    // come from another port, which the raw client rejects).
    client.repeat_request(&request);
    let seen = client.collect_for(Duration::from_millis(1500));
    assert!(!seen.is_empty(), "DATA 2 is resent on the timer");
    for datagram in &seen {
        assert!(
            matches!(Packet::parse(datagram), Packet::Data(2, _)),
            "{:?}",
            Packet::parse(datagram)
        );
    }
    let Packet::Data(2, block) = Packet::parse(&seen[0]) else {
        unreachable!()
    };
    got.extend(block);
    client.send(&ack(2));
    loop {
        match client.recv() {
            Packet::Data(2, _) => {}
            Packet::Data(3, block) => {
                got.extend(block);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    client.send(&ack(3));
    assert_same_bytes(&got, &body, "after a stale request");
}

/// Every ERROR answering a request, with the request that caused it.
#[test]
fn errors_answering_a_request_are_no_larger_than_it() {
    let srv = Server::start(&["--max-transfers", "1"]);
    srv.put_file("held", &pseudo_random(5000, 5), 0o644);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (rrq("f", "mail", &[]), ERR_ILLEGAL),
        (wrq("f", "mail", &[]), ERR_ILLEGAL),
        (rrq("missing", "octet", &[]), ERR_NOT_FOUND),
        (rrq("../x", "octet", &[]), ERR_ACCESS),
        // a new file without --create: ERROR 1, as tftpd-hpa
        (wrq("new", "octet", &[]), ERR_NOT_FOUND),
        (rrq("f", "bogus", &[]), ERR_ILLEGAL),
        (b"\x00\x01f\x00octet".to_vec(), ERR_ILLEGAL),
    ];
    for (request, code) in &cases {
        let mut client = RawClient::new(srv.addr);
        client.request(request);
        let replies = client.collect_for(Duration::from_millis(1500));
        assert_eq!(replies.len(), 1, "{request:?}: {replies:?}");
        let reply = &replies[0];
        assert!(
            reply.len() <= request.len(),
            "{request:?}: {} bytes answered with {} ({:?})",
            request.len(),
            reply.len(),
            Packet::parse(reply)
        );
        match Packet::parse(reply) {
            Packet::Error(got, _) => assert_eq!(got, *code, "{request:?}"),
            other => panic!("{request:?}: {other:?}"),
        }
    }
    // Over the limit: no answer at all while the request is held; it starts
    // (one DATA for its one datagram) when the slot frees.
    let mut held = RawClient::new(srv.addr);
    held.request(&rrq("held", "octet", &[]));
    let first = held.recv();
    let mut extra = RawClient::new(srv.addr);
    let request = rrq("held", "octet", &[]);
    extra.request(&request);
    let replies = extra.collect_for(Duration::from_millis(1500));
    assert_eq!(replies, Vec::<Vec<u8>>::new());
    held.read_rest(Some(first), 512, 1);
    let replies = extra.collect_for(Duration::from_millis(1500));
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(matches!(Packet::parse(&replies[0]), Packet::Data(1, _)));
}

/// How the client got the reply that was lost.
#[derive(Debug, PartialEq)]
enum Recovery {
    /// It asked again.
    Repeat,
    /// The server resent its OACK on the timer before the client asked again.
    Timer,
    /// Either, depending on who is first.
    Either,
}

/// Fetches `remote` through a relay that loses the server's first reply.
fn through_lossy_relay(
    srv: &Server,
    fetch: impl FnOnce(&LossyRelay, &std::path::Path) -> support::ClientRun,
    body: &[u8],
    lost: u16,
    recovery: Recovery,
) {
    let relay = LossyRelay::start(srv.addr, 1);
    let local = scratch();
    let out = local.path().join("got");
    let run = fetch(&relay, &out);
    assert!(
        run.status.success() && !run.output().contains("Error"),
        "{run:?}\n{}",
        srv.log()
    );
    assert_file_is(&out, body);
    let relayed = relay.relayed();
    assert_eq!(relayed.dropped, vec![lost], "{relayed:?}");
    match recovery {
        Recovery::Repeat => assert!(relayed.requests >= 2, "asked again: {relayed:?}"),
        Recovery::Timer => assert_eq!(relayed.requests, 1, "{relayed:?}"),
        Recovery::Either => {}
    }
}

fn lossy_server() -> (Server, Vec<u8>) {
    let srv = Server::start(&[]);
    let body = pseudo_random(200_000, 6);
    srv.put_file("f", &body, 0o644);
    (srv, body)
}

#[test]
fn tftp_hpa_recovers_from_a_lost_first_data() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let (srv, body) = lossy_server();
    let get = |r: &LossyRelay, out: &std::path::Path| tftp_hpa_get(r, "f", out, "binary");
    through_lossy_relay(&srv, get, &body, 3, Recovery::Repeat);
}

#[test]
fn tftp_hpa_upload_recovers_from_a_lost_ack_0() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create"]);
    let body = pseudo_random(100_000, 7);
    let local = scratch();
    let path = local.path().join("up");
    std::fs::write(&path, &body).unwrap();
    let relay = LossyRelay::start(srv.addr, 1);
    let run = tftp_hpa_put(&relay, &path, "up", "binary");
    assert!(!run.output().contains("Error"), "{run:?}\n{}", srv.log());
    assert_file_is(&srv.root().join("up"), &body);
    let relayed = relay.relayed();
    assert_eq!(relayed.dropped, vec![4], "{relayed:?}");
    assert!(relayed.requests >= 2, "{relayed:?}");
}

#[test]
fn atftp_recovers_from_a_lost_first_oack() {
    if !require_tool("atftp", "atftp") {
        return;
    }
    let (srv, body) = lossy_server();
    through_lossy_relay(
        &srv,
        |r, out| atftp_get(r, "f", out, &["blksize 1024", "tsize 0"], &[]),
        &body,
        6,
        // atftp asks again after 5 s; the OACK comes back after 1 s.
        Recovery::Timer,
    );
}

#[test]
fn curl_recovers_from_a_lost_first_oack() {
    if !require_tool("curl", "curl") {
        return;
    }
    let (srv, body) = lossy_server();
    let get = |r: &LossyRelay, out: &std::path::Path| curl_get(r, "f", out, Some(1468));
    through_lossy_relay(&srv, get, &body, 6, Recovery::Either);
}

#[test]
fn busybox_recovers_from_a_lost_first_oack() {
    if !require_tool("busybox", "busybox") {
        return;
    }
    let (srv, body) = lossy_server();
    through_lossy_relay(
        &srv,
        |r, out| busybox_get(r, "f", out, Some(1024)),
        &body,
        6,
        // busybox asks again after 100 ms, before the server's timer.
        Recovery::Repeat,
    );
}
