//! The sender against a simulated client whose receive buffer holds a few
//! datagrams, on a virtual clock: it acknowledges as atftp does (after
//! `windowsize` blocks in order, at once on a block out of order), and it
//! takes a while to wake up and to take each datagram in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::tests::{feed, sender_cfg};
use super::*;
use crate::tftp::packet::Packet;

const TICK: Duration = Duration::from_micros(2);
const LINK: Duration = Duration::from_micros(10);
/// The client's wake-up when a datagram finds it asleep.
const WAKE: Duration = Duration::from_micros(40);
/// The client's time to take in one datagram (read it, write it out).
const TAKE: Duration = Duration::from_micros(30);

struct Client {
    windowsize: u16,
    /// Datagrams the receive buffer holds.
    capacity: usize,
    queue: VecDeque<(u16, usize)>,
    /// Busy with a datagram until then.
    busy_until: Option<Instant>,
    last: u16,
    in_window: u16,
    /// An extra ACK was sent for a wrong block and no block came in order since.
    complained: bool,
    bytes: Vec<u8>,
    done: bool,
}

impl Client {
    fn new(windowsize: u16, capacity: usize) -> Self {
        Self {
            windowsize,
            capacity,
            queue: VecDeque::new(),
            busy_until: None,
            last: 0,
            in_window: 0,
            complained: false,
            bytes: Vec::new(),
            done: false,
        }
    }

    fn arrive(&mut self, block: u16, len: usize) {
        if self.queue.len() < self.capacity {
            self.queue.push_back((block, len));
        }
    }

    /// Takes in one datagram when it can; returns an ACK to send once it
    /// is through with it.
    fn step(&mut self, now: Instant, blksize: usize) -> Option<(Instant, u16)> {
        let done = self.busy_until;
        self.take(now, blksize)
            .map(|ack| (self.busy_until.or(done).unwrap_or(now), ack))
    }

    fn take(&mut self, now: Instant, blksize: usize) -> Option<u16> {
        match self.busy_until {
            Some(until) if now < until => return None,
            _ => {}
        }
        let Some((block, len)) = self.queue.pop_front() else {
            self.busy_until = None;
            return None;
        };
        let asleep = self.busy_until.is_none();
        let done = now + TAKE + if asleep { WAKE } else { Duration::ZERO };
        self.busy_until = Some(done);
        if block != self.last.wrapping_add(1) {
            let first = !self.complained;
            self.complained = true;
            self.in_window = 0;
            return first.then_some(self.last);
        }
        self.complained = false;
        self.last = block;
        self.bytes.extend(std::iter::repeat_n(block as u8, len));
        self.in_window += 1;
        if len < blksize {
            self.done = true;
            return Some(block);
        }
        if self.in_window == self.windowsize {
            self.in_window = 0;
            return Some(block);
        }
        None
    }
}

struct Run {
    elapsed: Duration,
    stats: TransferStats,
}

/// Sends `blocks` full blocks and a short one to a client whose buffer
/// holds `capacity(blocks received)` datagrams.
fn run(windowsize: u16, blocks: usize, capacity: impl Fn(u16) -> usize) -> Run {
    let blksize = 1024u16;
    let file: Vec<u8> = (0..=blocks)
        .flat_map(|i| std::iter::repeat_n((i + 1) as u8, usize::from(blksize)))
        .take(blocks * usize::from(blksize) + 100)
        .collect();
    let t0 = Instant::now();
    let mut now = t0;
    let mut s = Sender::new(sender_cfg(blksize, windowsize, true));
    let mut c = Client::new(windowsize, capacity(0));
    let mut to_client: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut to_server: VecDeque<(Instant, u16)> = VecDeque::new();
    let mut batch = Batch::new(64, 1 << 20);
    let mut off = 0;
    while !s.is_finished() && now - t0 < Duration::from_secs(30) {
        feed(&mut s, &file, &mut off);
        while s.poll_transmit(now, &mut batch) {
            for d in s.datagrams(&batch) {
                to_client.push_back((now + LINK, d.to_vec()));
            }
        }
        while to_client.front().is_some_and(|(at, _)| *at <= now) {
            let Some((_, d)) = to_client.pop_front() else {
                break;
            };
            match Packet::parse(&d).unwrap() {
                Packet::Oack { .. } => to_server.push_back((now + LINK, 0)),
                Packet::Data { block, data } => c.arrive(block, data.len()),
                _ => {}
            }
        }
        c.capacity = capacity(c.last);
        if let Some((at, ack)) = c.step(now, usize::from(blksize)) {
            to_server.push_back((at + LINK, ack));
        }
        while to_server.front().is_some_and(|(at, _)| *at <= now) {
            let Some((_, ack)) = to_server.pop_front() else {
                break;
            };
            s.handle_ack(now, ack);
        }
        if s.poll_timeout().is_some_and(|at| at <= now) {
            s.handle_timeout(now);
        }
        now += TICK;
    }
    assert_eq!(s.outcome(), Some(&Outcome::Complete));
    assert!(c.done);
    let want: Vec<u8> = (1..=blocks + 1)
        .flat_map(|b| std::iter::repeat_n(b as u8, usize::from(blksize)))
        .take(file.len())
        .collect();
    assert!(c.bytes == want, "the client got every block once, in order");
    Run {
        elapsed: now - t0,
        stats: s.stats().clone(),
    }
}

#[test]
fn a_client_that_keeps_whole_windows_sees_no_change() {
    let r = run(16, 600, |_| 64);
    assert_eq!((r.stats.window_min, r.stats.window_final), (16, 16));
    assert_eq!(r.stats.retransmitted, 0);
}

#[test]
fn small_buffers_cost_two_timeouts_and_keep_up_with_lock_step() {
    let lock_step = run(1, 600, |_| 3).elapsed;
    for (windowsize, capacity) in [(4, 3), (16, 3), (16, 1)] {
        let r = run(windowsize, 600, |_| capacity);
        assert!(
            r.stats.timeouts <= 2,
            "w{windowsize} c{capacity}: {} timeouts",
            r.stats.timeouts
        );
        assert!(
            usize::try_from(r.stats.window_min).unwrap() <= capacity,
            "w{windowsize} c{capacity}: {:?}",
            r.stats
        );
        assert!(
            // at least lock-step's pace, plus the two timeouts (10 ms each)
            r.elapsed < lock_step + Duration::from_millis(25),
            "w{windowsize} c{capacity}: {:?} against lock-step {lock_step:?}",
            r.elapsed
        );
    }
}

#[test]
fn a_buffer_that_frees_up_midway_gets_the_window_back() {
    let r = run(16, 20_000, |received| if received < 2000 { 3 } else { 64 });
    assert_eq!(r.stats.window_min, 3);
    assert_eq!(r.stats.window_final, 16, "{:?}", r.stats);
}
