//! Scripted packet traces of the sender in lock-step (one block, the OACK,
//! read-ahead), and the helpers the other test modules share (configurations, feeding blocks, draining datagrams).

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
