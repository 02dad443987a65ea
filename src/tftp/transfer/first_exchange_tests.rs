//! The first exchange of a download (OACK, ACK 0) when a datagram is lost:
//! the OACK's resends on a timer, bounded by the anti-amplification rule,
//! and no round-trip sample from an answer that came on the client's timer
//! (nor, in an upload, from a DATA 1 that did).

use std::time::{Duration, Instant};

use super::tests::{drain, feed, receiver_cfg, recv_drain, sender_cfg};
use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs the sender's timer until `until` and returns when it sent what.
fn run_timer(s: &mut Sender, until: Instant) -> Vec<(Instant, (u16, u16, usize))> {
    let mut sent = Vec::new();
    while let Some(deadline) = s.poll_timeout().filter(|d| *d <= until) {
        s.handle_timeout(deadline);
        sent.extend(drain(s, deadline).into_iter().map(|d| (deadline, d)));
    }
    sent
}

#[test]
fn an_unanswered_oack_is_resent_twice_on_the_timer_then_left() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(512, 4, true));
    assert_eq!(drain(&mut s, t0), vec![(6, 0, 0)]);
    let resends = run_timer(&mut s, t0 + Duration::from_secs(10));
    let at: Vec<Duration> = resends.iter().map(|(t, _)| *t - t0).collect();
    // The initial timeout is also the maximum (1 s): doubling keeps it.
    assert_eq!(at, [ms(1000), ms(2000)]);
    assert!(resends.iter().all(|(_, d)| *d == (6, 0, 0)));
    assert_eq!(s.outcome(), Some(&Outcome::TimedOut), "after --timeout");
    assert_eq!(s.stats().timeouts, 2);
}

#[test]
fn a_repeated_request_restarts_the_oack_timer_within_the_same_bound() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(512, 4, true));
    drain(&mut s, t0);
    assert_eq!(run_timer(&mut s, t0 + ms(1000)).len(), 1);
    s.handle_repeated_request(t0 + ms(1500));
    assert_eq!(
        drain(&mut s, t0 + ms(1500)),
        vec![(6, 0, 0)],
        "the copy's reply"
    );
    // The second and last timer resend, a timeout after that reply.
    let resends = run_timer(&mut s, t0 + Duration::from_secs(20));
    let at: Vec<Duration> = resends.iter().map(|(t, _)| *t - t0).collect();
    assert_eq!(at, [ms(2500)]);
    assert_eq!(s.outcome(), Some(&Outcome::TimedOut));
}

#[test]
fn the_client_answering_a_resent_oack_gets_its_data() {
    let t0 = Instant::now();
    let file = vec![4u8; 700];
    let mut s = Sender::new(sender_cfg(512, 4, true));
    let mut off = 0;
    feed(&mut s, &file, &mut off);
    drain(&mut s, t0); // lost
    assert_eq!(run_timer(&mut s, t0 + ms(1000)).len(), 1);
    s.handle_ack(t0 + ms(1001), 0);
    assert!(s.is_verified());
    assert_eq!(s.round_trip(), None, "Karn: no sample from a resent OACK");
    feed(&mut s, &file, &mut off);
    assert_eq!(drain(&mut s, t0 + ms(1001)), vec![(3, 1, 512), (3, 2, 188)]);
}

/// After a lost ACK 0, the client's own resend of it (1 s later) must not
/// be taken for the round trip: the timeout would then stay near its 1 s
/// maximum for dozens of blocks, and every loss among them cost a second.
#[test]
fn a_lost_ack_0_leaves_the_next_loss_costing_milliseconds() {
    // With the OACK's timer (Karn) and without it (an OACK longer than the
    // request: the late answer itself gives no sample).
    for request_len in [20, 13] {
        let t0 = Instant::now();
        let file = vec![1u8; 512 * 10];
        let mut s = Sender::new(SenderConfig {
            request_len,
            ..sender_cfg(512, 1, true)
        });
        let mut off = 0;
        feed(&mut s, &file, &mut off);
        drain(&mut s, t0);
        run_timer(&mut s, t0 + ms(1000));
        // The client's ACK 0 was lost; it sends it again after 1 s.
        let mut now = t0 + ms(1000) + Duration::from_micros(300);
        s.handle_ack(now, 0);
        assert_eq!(s.round_trip(), None, "request_len {request_len}");
        for block in 1..=3 {
            feed(&mut s, &file, &mut off);
            assert_eq!(drain(&mut s, now), vec![(3, block, 512)]);
            now += Duration::from_micros(300);
            s.handle_ack(now, block);
        }
        // DATA 4 is lost: the server resends it after milliseconds.
        feed(&mut s, &file, &mut off);
        assert_eq!(drain(&mut s, now), vec![(3, 4, 512)]);
        let wait = s.poll_timeout().unwrap() - now;
        assert!(wait <= ms(20), "request_len {request_len}: waits {wait:?}");
    }
}

#[test]
fn a_prompt_first_answer_is_a_round_trip_sample() {
    let t0 = Instant::now();
    let mut s = Sender::new(sender_cfg(512, 1, true));
    drain(&mut s, t0);
    s.handle_ack(t0 + ms(40), 0);
    assert_eq!(s.round_trip(), Some(ms(40)));

    // Without options DATA 1 is the first reply: the same rule.
    let file = vec![2u8; 2000];
    for (answer, sample) in [(ms(40), Some(ms(40))), (ms(1200), None)] {
        let mut s = Sender::new(sender_cfg(512, 1, false));
        let mut off = 0;
        feed(&mut s, &file, &mut off);
        assert_eq!(drain(&mut s, t0), vec![(3, 1, 512)]);
        assert_eq!(run_timer(&mut s, t0 + answer), vec![], "DATA is not resent");
        s.handle_ack(t0 + answer, 1);
        assert_eq!(s.round_trip(), sample, "answered after {answer:?}");
    }
}

#[test]
fn an_upload_takes_no_sample_from_a_first_data_that_came_on_the_clients_timer() {
    for (answer, sample) in [(ms(30), Some(ms(30))), (ms(1200), None)] {
        let t0 = Instant::now();
        let mut r = Receiver::new(receiver_cfg(4, 1));
        assert_eq!(recv_drain(&mut r, t0), vec![(4, 0)]);
        r.handle_data(t0 + answer, 1, b"abcd");
        assert_eq!(r.round_trip(), sample, "DATA 1 after {answer:?}");
    }
}
