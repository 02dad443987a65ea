//! A sender and a receiver over a simulated lossy link on a virtual clock:
//! every byte arrives in order, and a loss costs milliseconds.

use std::time::{Duration, Instant};

use super::tests::{feed, receiver_cfg, recv_drain, sender_cfg};
use super::*;
use crate::tftp::packet::Packet;

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
            let sent: Vec<Vec<u8>> = s.datagrams(&batch).map(<[u8]>::to_vec).collect();
            for d in &sent {
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
