//! Scripted packet traces of the sender, and the helpers the other test
//! modules share (configurations, feeding blocks, draining datagrams).

use std::time::{Duration, Instant};

use super::*;
use crate::tftp::blocknum::Rollover;
use crate::tftp::packet::{ErrorCode, Packet};
use crate::tftp::rto::RtoBounds;

pub(super) fn sender_cfg(blksize: u16, windowsize: u16, oack: bool) -> SenderConfig {
    SenderConfig {
        blksize,
        windowsize,
        rollover: Rollover::ToZero,
        rto: RtoBounds::default(),
        give_up_after: Duration::from_secs(5),
        oack: oack.then(|| vec![("blksize".to_string(), blksize.to_string())]),
        request_len: 20,
    }
}

pub(super) fn receiver_cfg(blksize: u16, windowsize: u16) -> ReceiverConfig {
    ReceiverConfig {
        blksize,
        windowsize,
        rollover: Rollover::ToZero,
        rto: RtoBounds::default(),
        give_up_after: Duration::from_secs(5),
        oack: None,
        dally: Duration::from_secs(2),
        request_len: 20,
    }
}

/// Feeds the sender blocks of `file` until it wants no more.
pub(super) fn feed(sender: &mut Sender, file: &[u8], offset: &mut usize) {
    while sender.wants_block() {
        let end = (*offset + sender.blksize()).min(file.len());
        sender.push_block(&file[*offset..end]);
        *offset = end;
    }
}

/// Sends everything pending and returns the parsed (opcode, block, len).
pub(super) fn drain(sender: &mut Sender, now: Instant) -> Vec<(u16, u16, usize)> {
    let mut batch = Batch::new(64, 1 << 20);
    let mut out = Vec::new();
    while sender.poll_transmit(now, &mut batch) {
        for d in sender.datagrams(&batch) {
            match Packet::parse(d).unwrap() {
                Packet::Data { block, data } => out.push((3, block, data.len())),
                Packet::Oack { .. } => out.push((6, 0, 0)),
                Packet::Error { code, .. } => out.push((5, code.code(), 0)),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    out
}

#[test]
fn lock_step_sends_a_block_per_ack_and_ends_on_short_block() {
    let t0 = Instant::now();
    let file = vec![7u8; 1000];
    let mut s = Sender::new(sender_cfg(512, 1, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
    s.handle_ack(t0, 1);
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 2, 488)]);
    s.handle_ack(t0, 2);
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(s.stats().bytes, 1000);
}

#[test]
fn blocks_written_in_place_reuse_their_datagrams_and_a_failed_fill_pushes_nothing() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(4, 1, false));
    let failed: Result<(), &str> = s.push_block_with(|_| Err("disk gone"));
    assert_eq!(failed, Err("disk gone"));
    assert!(s.wants_block(), "nothing was pushed");
    for (i, byte) in [b'a', b'b'].into_iter().enumerate() {
        s.push_block_with(|payload| {
            assert_eq!(payload.len(), 4, "the payload area is blksize long");
            payload.fill(byte);
            Ok::<_, ()>(4)
        })
        .unwrap();
        let sent: Vec<Vec<u8>> = {
            let mut batch = Batch::new(8, 1 << 16);
            assert!(s.poll_transmit(t0, &mut batch));
            s.datagrams(&batch).map(<[u8]>::to_vec).collect()
        };
        let block = i as u8 + 1;
        assert_eq!(sent, [vec![0, 3, 0, block, byte, byte, byte, byte]]);
        s.handle_ack(t0, u16::from(block));
    }
    s.push_block_with(|payload| {
        payload[0] = b'z';
        Ok::<_, ()>(1)
    })
    .unwrap();
    assert!(!s.wants_block(), "a short block is the last");
    assert_eq!(drain(&mut s, t0), vec![(3, 3, 1)]);
    s.handle_ack(t0, 3);
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(s.stats().bytes, 9);
}

/// Pushes blocks of `file` while the sender takes one read ahead.
fn feed_ahead(sender: &mut Sender, file: &[u8], offset: &mut usize) {
    while sender.wants_read_ahead() {
        let end = (*offset + sender.blksize()).min(file.len());
        sender.push_block(&file[*offset..end]);
        *offset = end;
    }
}

#[test]
fn a_block_read_ahead_waits_for_the_ack_and_then_goes_without_another_read() {
    let t0 = Instant::now();
    let file: Vec<u8> = (0..1200u32).map(|i| i as u8).collect();
    let mut s = Sender::new(sender_cfg(512, 1, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
    feed_ahead(&mut s, &file, &mut off);
    assert_eq!(off, 1024, "exactly one block read ahead");
    assert!(!s.wants_block() && !s.wants_read_ahead());
    assert_eq!(drain(&mut s, t0), vec![], "the read-ahead block waits");
    // the ACK lets it go with nothing more pushed
    s.handle_ack(t0, 1);
    assert!(!s.wants_block(), "block 2 is already there");
    assert_eq!(drain(&mut s, t0), vec![(3, 2, 512)]);
    feed_ahead(&mut s, &file, &mut off);
    assert_eq!(off, 1200, "the short last block read ahead");
    assert!(!s.wants_read_ahead(), "nothing after the last block");
    // a timeout resends the window, not the block read ahead
    let resend_at = s.poll_timeout().unwrap();
    s.handle_timeout(resend_at);
    assert_eq!(drain(&mut s, resend_at), vec![(3, 2, 512)]);
    s.handle_ack(resend_at, 2);
    assert_eq!(drain(&mut s, resend_at), vec![(3, 3, 176)]);
    s.handle_ack(resend_at, 3);
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(s.stats().bytes, 1200);
}

#[test]
fn an_ack_inside_a_window_with_a_block_read_ahead_restarts_within_the_window() {
    let t0 = Instant::now();
    let file = vec![3u8; 512 * 8];
    let mut s = Sender::new(sender_cfg(512, 3, false));
    let mut off = 0;
    // the first ACK opens the window
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
    s.handle_ack(t0, 1);
    feed(&mut s, &file, &mut off);
    assert_eq!(
        drain(&mut s, t0),
        vec![(3, 2, 512), (3, 3, 512), (3, 4, 512)]
    );
    feed_ahead(&mut s, &file, &mut off);
    assert_eq!(off, 512 * 5);
    // block 3 lost: the client ACKs 2; 3 and 4 go again, and 5 joins them
    s.handle_ack(t0, 2);
    feed(&mut s, &file, &mut off);
    assert_eq!(
        drain(&mut s, t0),
        vec![(3, 3, 512), (3, 4, 512), (3, 5, 512)]
    );
}

#[test]
fn exact_multiple_of_blksize_ends_with_empty_block() {
    let t0 = Instant::now();
    let file = vec![1u8; 512];
    let mut s = Sender::new(sender_cfg(512, 1, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
    s.handle_ack(t0, 1);
    assert!(s.outcome().is_none());
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 2, 0)]);
    s.handle_ack(t0, 2);
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
}

#[test]
fn empty_file_is_one_empty_block() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(512, 1, false));
    let mut off = 0;
    feed(&mut s, &[], &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 0)]);
    s.handle_ack(t0, 1);
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
}

#[test]
fn oack_must_be_acked_with_block_zero() {
    let t0 = Instant::now();
    let file = vec![0u8; 100];
    let mut s = Sender::new(sender_cfg(512, 1, true));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(6, 0, 0)]);
    s.handle_ack(t0, 5);
    assert_eq!(drain(&mut s, t0), vec![], "a wrong ACK does not start data");
    s.handle_ack(t0, 0);
    assert_eq!(drain(&mut s, t0), vec![(3, 1, 100)]);
}

#[test]
fn error_after_oack_is_a_size_probe_abort() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(1468, 4, true));
    drain(&mut s, t0);
    s.handle_error(ErrorCode::OptionRefused, "User aborted the transfer");
    assert!(matches!(
        s.outcome(),
        Some(Outcome::PeerError {
            during_oack: true,
            ..
        })
    ));
}

#[test]
fn duplicate_ack_never_triggers_a_resend() {
    let t0 = Instant::now();
    let file = vec![0u8; 2000];
    let mut s = Sender::new(sender_cfg(512, 1, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    drain(&mut s, t0);
    s.handle_ack(t0, 1);
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(3, 2, 512)]);
    for _ in 0..3 {
        s.handle_ack(t0, 1);
        assert_eq!(drain(&mut s, t0), vec![], "Sorcerer's Apprentice");
    }
    assert_eq!(s.stats().duplicate_acks, 3);
}

#[test]
fn window_opens_only_after_first_ack() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 10 + 3];
    let mut s = Sender::new(sender_cfg(512, 4, false));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(
        drain(&mut s, t0).len(),
        1,
        "one datagram to an unverified peer"
    );
    s.handle_ack(t0, 1);
    feed(&mut s, &file, &mut off);
    let sent = drain(&mut s, t0);
    assert_eq!(
        sent.iter().map(|p| p.1).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
}

#[test]
fn ack_inside_window_restarts_after_it() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 20];
    let mut s = Sender::new(sender_cfg(512, 4, true));
    let mut off = 0;
    drain(&mut s, t0);
    s.handle_ack(t0, 0);
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0).len(), 4); // blocks 1..=4
    s.handle_ack(t0, 2); // 3 and 4 lost
    feed(&mut s, &file, &mut off);
    let blocks: Vec<u16> = drain(&mut s, t0).iter().map(|p| p.1).collect();
    assert_eq!(blocks, vec![3, 4, 5, 6]);
    assert_eq!(s.stats().window_restarts, 1);
    assert_eq!(s.stats().retransmitted, 2);
}

#[test]
fn timeout_resends_window_backs_off_and_gives_up() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 20];
    let mut s = Sender::new(sender_cfg(512, 4, true));
    let mut off = 0;
    drain(&mut s, t0);
    s.handle_ack(t0 + Duration::from_millis(1), 0);
    feed(&mut s, &file, &mut off);
    let mut now = t0 + Duration::from_millis(1);
    drain(&mut s, now);
    let mut gaps = Vec::new();
    while let Some(deadline) = s.poll_timeout() {
        gaps.push(deadline - now);
        now = deadline;
        s.handle_timeout(now);
        let resent = drain(&mut s, now);
        if s.is_finished() {
            assert_eq!(resent, vec![(5, 0, 0)], "an ERROR tells the client");
            break;
        }
        assert_eq!(
            resent.iter().map(|p| p.1).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }
    assert_eq!(s.outcome(), Some(&Outcome::TimedOut));
    assert!(gaps[0] < Duration::from_millis(20), "adaptive: {gaps:?}");
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "backoff: {gaps:?}");
    let waited: Duration = gaps.iter().skip(1).sum();
    assert!(
        waited >= Duration::from_secs(5),
        "gave up after the silence limit"
    );
}

/// A client whose socket holds only the first `keep` blocks of a window:
/// the rest is dropped, it waits for them, the sender times out and resends
/// the window, and the client ACKs the last block it holds.
#[test]
fn client_keeping_part_of_a_window_costs_a_short_timeout_then_gets_bursts() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 16 * 30];
    let mut s = Sender::new(sender_cfg(512, 16, true));
    let mut off = 0;
    drain(&mut s, t0);
    let mut now = t0 + Duration::from_millis(1);
    s.handle_ack(now, 0);
    feed(&mut s, &file, &mut off);
    let window = drain(&mut s, now);
    assert_eq!(window.len(), 16);
    // the client keeps three: only our timer can tell, and it is short
    let deadline = s.poll_timeout().unwrap();
    assert!(deadline - now <= Duration::from_millis(20));
    now = deadline;
    s.handle_timeout(now);
    drain(&mut s, now);
    now += Duration::from_micros(200);
    s.handle_ack(now, window[2].1);
    // one cut halves the burst (a random loss could look the same once)
    assert_eq!(s.take_window_change(), Some((16, 8)));
    // the next window goes out in bursts of eight, a pause apart
    feed(&mut s, &file, &mut off);
    let mut bursts = Vec::new();
    loop {
        let burst = drain(&mut s, now).len();
        if burst > 0 {
            bursts.push(burst);
        }
        if bursts.iter().sum::<usize>() >= 16 {
            break;
        }
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
    }
    assert_eq!(bursts, vec![8, 8]);
    assert_eq!(s.stats().timeouts, 1);
}

/// A link far slower than the first estimate: the backoff must survive
/// ACKs of resent windows until a window completes without a resend.
#[test]
fn slow_link_stops_spurious_resends() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 4 * 40];
    let mut s = Sender::new(sender_cfg(512, 4, true));
    let mut off = 0;
    drain(&mut s, t0);
    let mut now = t0 + Duration::from_millis(1);
    s.handle_ack(now, 0); // a fast OACK round trip: srtt 1 ms
    let rtt = Duration::from_millis(100);
    let mut resends = Vec::new();
    for _ in 0..30 {
        feed(&mut s, &file, &mut off);
        let last = drain(&mut s, now).last().unwrap().1;
        let ack_at = now + rtt;
        let mut resent = 0;
        while let Some(deadline) = s.poll_timeout().filter(|d| *d < ack_at) {
            now = deadline;
            s.handle_timeout(now);
            resent += drain(&mut s, now).len();
        }
        now = ack_at;
        s.handle_ack(now, last);
        resends.push(resent);
    }
    assert!(
        resends[10..].iter().all(|r| *r == 0),
        "resends per window: {resends:?}"
    );
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

#[test]
fn block_numbers_roll_over_to_zero() {
    let t0 = Instant::now();
    let blocks = 70_000usize;
    let file = vec![5u8; 8 * blocks + 1];
    let mut s = Sender::new(sender_cfg(8, 8, true));
    let mut off = 0;
    drain(&mut s, t0);
    s.handle_ack(t0, 0);
    let mut seen = Vec::new();
    while !s.is_finished() {
        feed(&mut s, &file, &mut off);
        let sent = drain(&mut s, t0);
        let last = sent.last().unwrap().1;
        seen.extend(sent.iter().map(|p| p.1));
        s.handle_ack(t0, last);
    }
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(seen.len(), blocks + 1);
    assert_eq!(seen[65534], 65535);
    assert_eq!(seen[65535], 0);
    assert_eq!(seen[65536], 1);
    assert_eq!(s.stats().bytes, file.len() as u64);
}

#[test]
fn block_numbers_roll_over_to_one_when_asked() {
    let t0 = Instant::now();
    let file = vec![5u8; 8 * 65_540];
    let mut cfg = sender_cfg(8, 16, true);
    cfg.rollover = Rollover::ToOne;
    let mut s = Sender::new(cfg);
    let mut off = 0;
    drain(&mut s, t0);
    s.handle_ack(t0, 0);
    let mut seen = Vec::new();
    while !s.is_finished() {
        feed(&mut s, &file, &mut off);
        let sent = drain(&mut s, t0);
        seen.extend(sent.iter().map(|p| p.1));
        s.handle_ack(t0, sent.last().unwrap().1);
    }
    assert_eq!(&seen[65533..65537], &[65534, 65535, 1, 2]);
}

pub(super) fn recv_drain(r: &mut Receiver, now: Instant) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    while let Some(d) = r.poll_transmit(now) {
        match Packet::parse(&d).unwrap() {
            Packet::Ack { block } => out.push((4, block)),
            Packet::Oack { .. } => out.push((6, 0)),
            Packet::Error { code, .. } => out.push((5, code.code())),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}
