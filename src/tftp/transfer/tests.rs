//! Scripted packet traces and a lossy-link simulation over a virtual clock.

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
        for d in batch.datagrams() {
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
fn client_keeping_part_of_each_window_costs_the_short_timeout() {
    let t0 = Instant::now();
    let file = vec![0u8; 512 * 16 * 30];
    let mut s = Sender::new(sender_cfg(512, 16, true));
    let mut off = 0;
    drain(&mut s, t0);
    let mut now = t0 + Duration::from_millis(1);
    s.handle_ack(now, 0);
    let mut waits = Vec::new();
    for _ in 0..20 {
        feed(&mut s, &file, &mut off);
        let window = drain(&mut s, now);
        let held = window[2].1;
        let deadline = s.poll_timeout().unwrap();
        waits.push(deadline - now);
        now = deadline;
        s.handle_timeout(now);
        drain(&mut s, now);
        now += Duration::from_micros(200);
        s.handle_ack(now, held);
    }
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(20)),
        "every truncated window waits the short timeout: {waits:?}"
    );
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
    let mut s = Sender::new(sender_cfg(512, 4, true));
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

#[test]
fn receiver_acks_in_windows_and_only_after_commit() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 2));
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 0)]);
    r.handle_data(t0, 1, b"abcd");
    assert_eq!(recv_drain(&mut r, t0), vec![]);
    r.handle_data(t0, 2, b"efgh");
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 2)]);
    r.handle_data(t0, 3, b"ij");
    assert!(r.needs_commit());
    assert_eq!(recv_drain(&mut r, t0), vec![], "no final ACK before commit");
    let written: Vec<u8> = std::iter::from_fn(|| r.poll_write()).flatten().collect();
    assert_eq!(written, b"abcdefghij");
    r.commit_done(t0, Ok(()));
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 3)]);
    assert!(r.is_committed());
    r.handle_data(t0, 3, b"ij");
    assert_eq!(
        recv_drain(&mut r, t0),
        vec![(4, 3)],
        "dally re-ACKs the end"
    );
    let until = r.poll_timeout().unwrap();
    r.handle_timeout(until);
    assert_eq!(r.outcome(), Some(&Outcome::Complete));
}

#[test]
fn receiver_acks_a_gap_once_and_a_lost_ack_again() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 4));
    recv_drain(&mut r, t0);
    r.handle_data(t0, 1, b"aaaa");
    r.handle_data(t0, 3, b"cccc");
    r.handle_data(t0, 4, b"dddd");
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 1)], "one ACK per gap");
    r.handle_data(t0, 2, b"bbbb");
    r.handle_data(t0, 3, b"cccc");
    r.handle_data(t0, 4, b"dddd");
    r.handle_data(t0, 5, b"eeee");
    assert_eq!(recv_drain(&mut r, t0), vec![(4, 5)]);
    r.handle_data(t0, 5, b"eeee");
    assert_eq!(
        recv_drain(&mut r, t0),
        vec![(4, 5)],
        "lost ACK: say it again"
    );
    r.handle_data(t0, 4, b"dddd");
    assert_eq!(
        recv_drain(&mut r, t0),
        vec![],
        "older resends change nothing"
    );
}

#[test]
fn receiver_refuses_oversized_blocks_and_reports_commit_failure() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 1));
    recv_drain(&mut r, t0);
    r.handle_data(t0, 1, b"toolong");
    assert_eq!(recv_drain(&mut r, t0), vec![(5, 4)]);

    let mut r = Receiver::new(receiver_cfg(4, 1));
    recv_drain(&mut r, t0);
    r.handle_data(t0, 1, b"x");
    r.commit_done(t0, Err((ErrorCode::DiskFull, "disk full".into())));
    assert_eq!(recv_drain(&mut r, t0), vec![(5, 3)]);
    assert!(!r.is_committed());
}

#[test]
fn receiver_reacks_on_silence_then_gives_up() {
    let t0 = Instant::now();
    let mut r = Receiver::new(receiver_cfg(4, 1));
    let mut now = t0;
    recv_drain(&mut r, now);
    // A slow first round trip keeps the timeout at its 1 s ceiling.
    now += Duration::from_secs(1);
    r.handle_data(now, 1, b"abcd");
    assert_eq!(recv_drain(&mut r, now), vec![(4, 1)]);
    let silent_from = now;
    let mut sent = Vec::new();
    while let Some(deadline) = r.poll_timeout() {
        now = deadline;
        r.handle_timeout(now);
        sent.extend(recv_drain(&mut r, now));
    }
    assert_eq!(r.outcome(), Some(&Outcome::TimedOut));
    assert!(
        now - silent_from >= Duration::from_secs(5),
        "gave up only after the silence limit"
    );
    assert_eq!(
        sent,
        vec![(4, 1), (4, 1), (4, 1), (4, 1), (5, 0)],
        "four re-ACKs a second apart, then an ERROR"
    );
}

/// A deterministic pseudo-random generator for the lossy link.
struct XorShift(u64);
impl XorShift {
    fn chance(&mut self, percent: u64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % 100 < percent
    }
}

/// Runs a sender against a receiver over a link that drops `loss` percent
/// of datagrams each way; returns what the receiver wrote and the virtual
/// time it took.
fn simulate(
    file: &[u8],
    blksize: u16,
    windowsize: u16,
    loss: u64,
    seed: u64,
) -> (Vec<u8>, Duration) {
    let t0 = Instant::now();
    let mut now = t0;
    let link_delay = Duration::from_micros(100);
    let mut rng = XorShift(seed);
    let mut s = Sender::new(SenderConfig {
        give_up_after: Duration::from_secs(60),
        ..sender_cfg(blksize, windowsize, true)
    });
    let mut r = Receiver::new(ReceiverConfig {
        give_up_after: Duration::from_secs(60),
        ..receiver_cfg(blksize, windowsize)
    });
    recv_drain(&mut r, now); // the receiver's opening ACK goes nowhere here
                             // Until DATA arrives the client repeats what it sent last on its own
                             // timer: the request, or ACK 0 once it has the OACK.
    let client_timeout = Duration::from_secs(1);
    let mut client_resend_at = now + client_timeout;
    let mut saw_oack = false;
    let mut off = 0;
    let mut written = Vec::new();
    let mut batch = Batch::new(64, 1 << 20);
    for _ in 0..1_000_000 {
        feed(&mut s, file, &mut off);
        let mut progressed = false;
        while s.poll_transmit(now, &mut batch) {
            progressed = true;
            for d in batch.datagrams() {
                if rng.chance(loss) {
                    continue;
                }
                match Packet::parse(d).unwrap() {
                    Packet::Data { block, data } => r.handle_data(now + link_delay, block, data),
                    // The client's answer to an OACK is ACK 0.
                    Packet::Oack { .. } => {
                        saw_oack = true;
                        if !rng.chance(loss) {
                            s.handle_ack(now + 2 * link_delay, 0);
                        }
                    }
                    _ => {}
                }
            }
        }
        written.extend(std::iter::from_fn(|| r.poll_write()).flatten());
        if r.needs_commit() {
            r.commit_done(now, Ok(()));
        }
        while let Some(d) = r.poll_transmit(now) {
            progressed = true;
            if rng.chance(loss) {
                continue;
            }
            if let Ok(Packet::Ack { block }) = Packet::parse(&d) {
                s.handle_ack(now + 2 * link_delay, block);
            }
        }
        if s.is_finished() {
            break;
        }
        if !progressed {
            let client = (!s.is_verified()).then_some(client_resend_at);
            let next = [s.poll_timeout(), r.poll_timeout(), client]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { break };
            now = now.max(next);
            if client == Some(now) {
                client_resend_at = now + client_timeout;
                match (saw_oack, rng.chance(loss)) {
                    (_, true) => {}
                    (true, false) => s.handle_ack(now + link_delay, 0),
                    (false, false) => s.handle_repeated_request(now + link_delay),
                }
            }
            s.handle_timeout(now);
            r.handle_timeout(now);
        } else {
            now += 2 * link_delay;
        }
    }
    assert_eq!(s.outcome(), Some(&Outcome::Complete), "seed {seed}");
    (written, now - t0)
}

#[test]
fn lossy_link_delivers_every_byte_in_order() {
    let file: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    for (windowsize, loss, seed) in [(1, 10, 1), (4, 10, 2), (16, 20, 3), (16, 5, 4)] {
        let (got, _) = simulate(&file, 512, windowsize, loss, seed);
        assert!(got == file, "w={windowsize} loss={loss}: bytes differ");
    }
}

#[test]
fn loss_costs_milliseconds_not_seconds() {
    let file = vec![9u8; 512 * 400];
    let (_, clean) = simulate(&file, 512, 1, 0, 7);
    let (_, lossy) = simulate(&file, 512, 1, 2, 7);
    // About 16 losses; at a fixed 1 s timeout that would be 16 s.
    assert!(
        lossy - clean < Duration::from_secs(2),
        "clean {clean:?}, lossy {lossy:?}"
    );
}

#[test]
fn an_error_or_shutdown_while_dallying_keeps_the_upload_complete() {
    let t0 = Instant::now();
    for shutdown in [false, true] {
        let mut r = Receiver::new(receiver_cfg(4, 1));
        recv_drain(&mut r, t0);
        r.handle_data(t0, 1, b"ok");
        r.commit_done(t0, Ok(()));
        assert_eq!(recv_drain(&mut r, t0), vec![(4, 1)]);
        if shutdown {
            r.abort(ErrorCode::NotDefined, "server shutting down");
        } else {
            r.handle_error(ErrorCode::NotDefined, "client gone");
        }
        assert_eq!(
            recv_drain(&mut r, t0),
            vec![],
            "no ERROR after the final ACK"
        );
        assert!(r.is_committed());
        assert_eq!(r.outcome(), Some(&Outcome::Complete));
    }
}
