//! Block-number rollover on both sides (transfers of more than 65535
//! blocks), over a virtual clock, and a first OACK lost on the way.

use std::time::{Duration, Instant};

use super::tests::{drain, feed, receiver_cfg, recv_drain, sender_cfg};
use super::*;
use crate::tftp::blocknum::Rollover;

/// Uploads `blocks` full blocks of 8 bytes and a short last one, window
/// `window`, with wire numbers wrapping as `rollover` says; returns the
/// ACK numbers sent and the bytes written.
fn upload(blocks: u64, window: u16, rollover: Rollover) -> (Vec<u16>, Vec<u8>) {
    let mut now = Instant::now();
    let mut r = Receiver::new(ReceiverConfig {
        rollover,
        ..receiver_cfg(8, window)
    });
    assert_eq!(recv_drain(&mut r, now), vec![(4, 0)]);
    let mut acks = Vec::new();
    let mut written = Vec::new();
    for index in 1..=blocks + 1 {
        now += Duration::from_micros(50);
        let payload: &[u8] = if index <= blocks {
            &[(index % 251) as u8; 8]
        } else {
            b"end"
        };
        r.handle_data(now, rollover.wire(index), payload);
        written.extend(std::iter::from_fn(|| r.poll_write()).flatten());
        if r.needs_commit() {
            r.commit_done(now, Ok(()));
        }
        acks.extend(recv_drain(&mut r, now).into_iter().map(|(op, block)| {
            assert_eq!(op, 4, "only ACKs");
            block
        }));
    }
    assert!(r.is_committed(), "the upload completed");
    (acks, written)
}

#[test]
fn an_upload_of_more_than_65535_blocks_wraps_to_zero() {
    let blocks = 70_000u64;
    let (acks, written) = upload(blocks, 8, Rollover::ToZero);
    assert_eq!(written.len() as u64, blocks * 8 + 3);
    for (i, chunk) in written.chunks(8).take(blocks as usize).enumerate() {
        assert_eq!(chunk, &[((i as u64 + 1) % 251) as u8; 8], "block {}", i + 1);
    }
    // One ACK per window of 8, then the final one: 65528 and 65536 (wire 0)
    // are window ends.
    assert_eq!(acks.len() as u64, blocks / 8 + 1);
    let at = acks.iter().position(|&a| a == 65528).unwrap();
    assert_eq!(&acks[at..at + 3], &[65528, 0, 8]);
    assert_eq!(acks.last(), Some(&((blocks + 1) as u16)));
}

#[test]
fn an_upload_wraps_to_one_when_asked() {
    let (acks, written) = upload(65_540, 1, Rollover::ToOne);
    assert_eq!(written.len(), 65_540 * 8 + 3);
    let at = acks.iter().position(|&a| a == 65535).unwrap();
    assert_eq!(&acks[at - 1..at + 3], &[65534, 65535, 1, 2]);
}

/// The first OACK never reaches the client, nor do its two resends on the
/// timer (after 1 and 2 s); the client sends its RRQ again, which brings
/// the OACK back once more.
#[test]
fn a_lost_first_oack_is_recovered_by_the_repeated_request() {
    let t0 = Instant::now();
    let file: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let mut s = Sender::new(sender_cfg(512, 4, true));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0), vec![(6, 0, 0)], "lost on the way");
    // The client waits its own timeout (2 s); the server resends the OACK
    // on its timer meanwhile, and those are lost too.
    let mut resent = Vec::new();
    while let Some(deadline) = s.poll_timeout() {
        if deadline > t0 + Duration::from_secs(2) {
            break;
        }
        s.handle_timeout(deadline);
        resent.extend(drain(&mut s, deadline));
    }
    assert_eq!(resent, vec![(6, 0, 0); 2], "after 1 and 2 s");
    let now = t0 + Duration::from_secs(2);
    s.handle_repeated_request(now);
    assert_eq!(drain(&mut s, now), vec![(6, 0, 0)]);
    s.handle_ack(now, 0);
    let mut got = 0;
    while !s.is_finished() {
        feed(&mut s, &file, &mut off);
        let sent = drain(&mut s, now);
        got += sent.iter().map(|p| p.2).sum::<usize>();
        s.handle_ack(now, sent.last().unwrap().1);
    }
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(got, file.len());
}

/// Downloads `file` with `cfg`, each window ACKed at once by its last
/// block; the sender at the end and the wire block numbers it sent.
fn download(file: &[u8], cfg: SenderConfig) -> (Sender, Vec<u16>) {
    let t0 = Instant::now();
    let mut s = Sender::new(cfg);
    let mut off = 0;
    drain(&mut s, t0);
    s.handle_ack(t0, 0);
    let mut seen = Vec::new();
    while !s.is_finished() {
        feed(&mut s, file, &mut off);
        let sent = drain(&mut s, t0);
        seen.extend(sent.iter().map(|p| p.1));
        s.handle_ack(t0, sent.last().unwrap().1);
    }
    (s, seen)
}

#[test]
fn block_numbers_roll_over_to_zero() {
    let blocks = 70_000usize;
    let file = vec![5u8; 8 * blocks + 1];
    let (s, seen) = download(&file, sender_cfg(8, 8, true));
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert_eq!(seen.len(), blocks + 1);
    assert_eq!(seen[65534], 65535);
    assert_eq!(seen[65535], 0);
    assert_eq!(seen[65536], 1);
    assert_eq!(s.stats().bytes, file.len() as u64);
}

#[test]
fn block_numbers_roll_over_to_one_when_asked() {
    let file = vec![5u8; 8 * 65_540];
    let mut cfg = sender_cfg(8, 16, true);
    cfg.rollover = Rollover::ToOne;
    let (_, seen) = download(&file, cfg);
    assert_eq!(&seen[65533..65537], &[65534, 65535, 1, 2]);
}
