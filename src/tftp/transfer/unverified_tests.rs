//! The anti-amplification rule in both machines: before the client has
//! answered on the transfer port it gets one datagram per request datagram
//! (plus at most two timer resends of an OACK no longer than the request),
//! and any ERROR to it is no longer than its request. Tests of the OACK's
//! timer are in `first_exchange_tests`.

use std::time::{Duration, Instant};

use super::tests::{drain, feed, receiver_cfg, recv_drain, sender_cfg};
use super::*;
use crate::tftp::packet::ErrorCode;

#[test]
fn a_repeated_request_resends_the_oack_once_each_time() {
    let t0 = Instant::now();
    let file = vec![3u8; 2000];
    let mut s = Sender::new(sender_cfg(512, 8, true));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(6, 0, 0)]);
    for n in 1..=3u64 {
        let now = t0 + Duration::from_secs(n);
        s.handle_repeated_request(now);
        s.handle_repeated_request(now);
        assert_eq!(drain(&mut s, now), vec![(6, 0, 0)], "repeat {n}");
        assert_eq!(drain(&mut s, now), vec![], "nothing more");
    }
    s.handle_ack(t0 + Duration::from_secs(4), 0);
    assert!(s.is_verified());
    feed(&mut s, &file, &mut off);
    let window = drain(&mut s, t0 + Duration::from_secs(4));
    assert_eq!(window.len(), 4, "the whole file, as one window");
    s.handle_repeated_request(t0 + Duration::from_secs(5));
    assert_eq!(
        drain(&mut s, t0 + Duration::from_secs(5)),
        vec![],
        "a stale request once verified"
    );
}

#[test]
fn a_repeated_request_resends_data_1_without_options() {
    let t0 = Instant::now();
    let file = vec![3u8; 2000];
    let mut s = Sender::new(sender_cfg(512, 4, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
    let later = t0 + Duration::from_secs(2);
    s.handle_timeout(later);
    assert_eq!(drain(&mut s, later), vec![], "no resend on a timer");
    s.handle_repeated_request(later);
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, later), vec![(3, 1, 512)], "block 1 only");
    assert_eq!(s.stats().retransmitted, 1);
}

#[test]
fn an_error_to_an_unverified_client_is_cut_to_its_request() {
    let t0 = Instant::now();
    // No OACK: a read error before block 1 is the first reply.
    let mut s = Sender::new(SenderConfig {
        request_len: 12,
        ..sender_cfg(512, 1, false)
    });
    s.abort(ErrorCode::NotDefined, "read error on the boot image");
    let mut batch = Batch::new(8, 1 << 16);
    assert!(s.poll_transmit(t0, &mut batch));
    let sent: Vec<&[u8]> = s.datagrams(&batch).collect();
    assert_eq!(sent, [b"\x00\x05\x00\x00read\x00"], "whole words");

    // After the OACK, the one reply is used: shutdown sends nothing.
    let mut s = Sender::new(sender_cfg(512, 1, true));
    assert_eq!(drain(&mut s, t0), vec![(6, 0, 0)]);
    s.abort(ErrorCode::NotDefined, "server shutting down");
    assert_eq!(drain(&mut s, t0), vec![]);
    assert!(s.is_finished());
}

#[test]
fn a_repeated_request_extends_the_wait_for_the_client() {
    let t0 = Instant::now();
    // An OACK longer than the request: no timer resends in the way.
    let mut s = Sender::new(SenderConfig {
        request_len: 13,
        ..sender_cfg(512, 1, true)
    });
    drain(&mut s, t0);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    let later = t0 + Duration::from_secs(4);
    s.handle_repeated_request(later);
    drain(&mut s, later);
    assert_eq!(s.poll_timeout(), Some(later + Duration::from_secs(5)));
    s.handle_timeout(t0 + Duration::from_secs(5));
    assert!(!s.is_finished(), "the old deadline does not end it");
}

#[test]
fn receiver_sends_its_opening_once_per_wrq() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 1));
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 0)]);
    let mut now = t0;
    while let Some(deadline) = r.poll_timeout() {
        if deadline > t0 + Duration::from_secs(2) {
            break;
        }
        now = deadline;
        r.handle_timeout(now);
        assert_eq!(recv_drain(&mut r, now), vec![], "no resend on a timer");
    }
    now += Duration::from_millis(500);
    r.handle_repeated_request(now);
    r.handle_repeated_request(now);
    assert_eq!(recv_drain(&mut r, now), vec![(4, 0), (4, 0)]);
    r.handle_data(now, 1, b"abcd");
    assert!(r.is_verified());
    assert_eq!(recv_drain(&mut r, now), vec![(4, 1)]);
    r.handle_repeated_request(now);
    assert_eq!(recv_drain(&mut r, now), vec![], "stale once verified");
}

#[test]
fn receiver_gives_up_on_a_silent_unverified_client_quietly() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 1));
    let mut sent = recv_drain(&mut r, t0).len();
    let mut now = t0;
    while let Some(deadline) = r.poll_timeout() {
        now = deadline;
        r.handle_timeout(now);
        sent += recv_drain(&mut r, now).len();
    }
    assert_eq!(sent, 1, "ACK 0 once, no ERROR");
    assert_eq!(r.outcome(), Some(&Outcome::TimedOut));
    assert_eq!(now - t0, Duration::from_secs(5));
}

#[test]
fn receiver_refusal_of_a_first_block_fits_the_request() {
    let t0 = Instant::now();
    let mut r = Receiver::new(ReceiverConfig {
        request_len: 9,
        ..receiver_cfg(4, 1)
    });
    recv_drain(&mut r, t0);
    // A DATA proves the address: the ERROR is then whole.
    r.handle_data(t0, 1, b"far too long");
    let error = std::iter::from_fn(|| r.poll_transmit(t0)).collect::<Vec<_>>();
    assert_eq!(error.len(), 1);
    assert_eq!(error[0].len(), 4 + "block larger than blksize".len() + 1);

    let mut r = Receiver::new(ReceiverConfig {
        request_len: 9,
        ..receiver_cfg(4, 1)
    });
    r.abort(ErrorCode::DiskFull, "Disk full: 100 bytes announced");
    let first = std::iter::from_fn(|| r.poll_transmit(t0)).collect::<Vec<_>>();
    assert_eq!(
        first.len(),
        1,
        "ACK 0 used the one reply: the ERROR is not sent"
    );
    assert_eq!(first[0], b"\x00\x04\x00\x00");
}

#[test]
fn unverified_peer_gets_one_datagram_per_request() {
    let t0 = Instant::now();
    // An OACK (14 bytes) longer than the request is never resent on a timer.
    let mut s = Sender::new(SenderConfig {
        request_len: 13,
        ..sender_cfg(512, 4, true)
    });
    let mut now = t0;
    let mut sent = drain(&mut s, now).len();
    while let Some(deadline) = s.poll_timeout() {
        now = deadline;
        s.handle_timeout(now);
        sent += drain(&mut s, now).len();
    }
    assert_eq!(sent, 1, "the OACK once: no resend, no ERROR");
    assert_eq!(s.outcome(), Some(&Outcome::TimedOut));
    assert_eq!(now - t0, Duration::from_secs(5), "waited --timeout for it");
}
