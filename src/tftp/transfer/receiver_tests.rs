//! Scripted traces of the receiver (write requests): windows of ACKs, gaps,
//! the final ACK only after the commit, dallying, and giving up.

use std::time::{Duration, Instant};

use super::tests::{receiver_cfg, recv_drain};
use super::*;
use crate::tftp::packet::ErrorCode;

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
