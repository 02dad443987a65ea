//! Scripted packet traces of the sender with a window: the window opens
//! after the first ACK, restarts after an ACK inside it, is resent on a
//! timeout with backoff, and shrinks to what a small client buffer keeps.

use std::time::{Duration, Instant};

use super::tests::{drain, feed, sender_cfg};
use super::*;

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
