//! Fuzz target: the read-transfer state machine (`Sender`) driven by a
//! sequence of events over a virtual clock: file blocks pushed (only while
//! it wants them, as the shell does, and one read ahead of the window), ACKs, ERRORs, local aborts, time
//! passing, timers firing, transmit polls, and runs of an honest client
//! (long enough to roll the 16-bit block number over).
//!
//! Invariants, each read off the code's documented rules:
//! - every datagram parses: DATA, the configured OACK (before any DATA), or
//!   an ERROR that comes alone and only once the transfer is over;
//! - a DATA carries exactly the bytes pushed for its block, at most
//!   `blksize` of them, from the unacknowledged window;
//! - before the client's first ACK only block 1 (or the OACK) goes out;
//!   until the sender counts the client as verified it sends at most one
//!   datagram per request (the first and each repeat), plus at most two
//!   resends on its timer of an OACK no longer than the request, and an ERROR no
//!   longer than the request; afterwards never past `windowsize` blocks
//!   beyond the first unacknowledged one;
//! - between ACKs that make progress and timeouts no datagram is sent twice
//!   (a duplicate ACK never triggers a resend);
//! - batches keep the GSO shape (equal lengths, a shorter last one allowed);
//! - a deadline is armed while data is in flight, and never lies before the
//!   time of the last timeout handled;
//! - `Complete` only once every pushed byte was acknowledged;
//! - `Rollover::unwrap` returns an index whose wire number is the one given.

#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netboot::tftp::blocknum::Rollover;
use netboot::tftp::packet::{ErrorCode, Packet};
use netboot::tftp::rto::RtoBounds;
use netboot::tftp::transfer::{Batch, Outcome, Sender, SenderConfig};

/// Payload bytes the input may make us generate, to keep runs short.
const BYTE_BUDGET: u64 = 5 << 20;
/// `Wrap` runs only with this value, as it costs about a second.
const WRAP_MAGIC: u16 = 0x5AA5;
/// Blocks `Wrap` pushes in all: past the 16-bit wrap whatever the rollover.
const WRAP_BLOCKS: u64 = 65_600;
/// Timer expiries one `FireAll` may handle before we call it a livelock.
const FIRE_LIMIT: usize = 10_000;

#[derive(Debug, Arbitrary)]
struct Cfg {
    blksize: u16,
    windowsize: u8,
    rollover_one: bool,
    oack: bool,
    rto_initial_ms: u16,
    rto_min_ms: u8,
    rto_max_ms: u16,
    give_up_ms: u16,
    batch_count: u8,
    batch_kib: u8,
    request_len: u8,
}

#[derive(Debug, Arbitrary)]
enum Event {
    /// A full block, if the sender wants one.
    PushFull,
    /// The last, short block (length modulo blksize), if wanted.
    PushShort(u16),
    /// A full block read ahead of the window, if the sender takes one.
    PushAhead,
    /// An ACK with this wire number.
    Ack(u16),
    /// An ACK for the highest block sent, shifted by the offset.
    AckNear(i8),
    Error(u16),
    Illegal,
    Abort,
    Advance(u16),
    /// Time passes, then the timer is reported (early or late).
    Timeout(u16),
    /// The clock jumps to the armed deadline, which fires.
    FireTimer,
    /// Timers fire until none is armed or the transfer ends.
    FireAll,
    Poll,
    Drain,
    /// Rounds of an honest client: push, drain, ACK the highest sent.
    Run(u8),
    /// Honest rounds until the block number has wrapped (with the magic
    /// value and blksize <= 64 only).
    Wrap(u16),
    /// The client sends its request again from the same port.
    Repeat,
}

#[derive(Debug, Arbitrary)]
struct Input {
    cfg: Cfg,
    events: Vec<Event>,
}

struct Fuzz {
    sender: Sender,
    batch: Batch,
    max_count: usize,
    max_bytes: usize,
    sends: u64,
    oack: Option<Vec<(String, String)>>,
    blksize: usize,
    windowsize: u64,
    rollover: Rollover,
    start: Instant,
    now: Instant,
    pushed: u64,
    pushed_bytes: u64,
    final_len: Option<usize>,
    any_ack: bool,
    first_sends: u32,
    /// Datagrams sent while the sender counted the client as unverified.
    unverified_sends: u32,
    /// Requests received: the first and every repeat.
    requests: u32,
    /// Timeouts handled while the client was unverified.
    unverified_timeouts: u32,
    request_len: usize,
    data_seen: bool,
    oack_this_epoch: bool,
    sent_this_epoch: HashSet<u64>,
    highest_sent: Option<u64>,
    floor: Option<Instant>,
}

/// Byte `j` of block `index`: a pattern unique to the index.
fn pattern_byte(index: u64, j: usize) -> u8 {
    let seed = index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (seed >> ((j % 8) * 8)) as u8 ^ (j / 8) as u8
}

fn pattern(index: u64, len: usize) -> Vec<u8> {
    (0..len).map(|j| pattern_byte(index, j)).collect()
}

fn check_unwrap(r: Rollover, wire: u16, near: u64) {
    let Some(index) = r.unwrap(wire, near) else {
        return;
    };
    assert_eq!(r.wire(index), wire, "unwrap({wire}, {near}) = {index}");
    assert!(index.abs_diff(near) <= 32768, "unwrap went far");
}

impl Fuzz {
    fn new(c: &Cfg) -> Self {
        let blksize = 8 + c.blksize % 1493;
        let rollover = if c.rollover_one {
            Rollover::ToOne
        } else {
            Rollover::ToZero
        };
        let oack = c.oack.then(|| {
            vec![
                ("blksize".to_string(), blksize.to_string()),
                ("tsize".to_string(), "12345".to_string()),
            ]
        });
        let min = Duration::from_millis(1 + u64::from(c.rto_min_ms));
        let sender = Sender::new(SenderConfig {
            blksize,
            windowsize: u16::from(c.windowsize % 129),
            rollover,
            rto: RtoBounds {
                initial: Duration::from_millis(u64::from(c.rto_initial_ms)),
                min,
                max: Duration::from_millis(u64::from(c.rto_max_ms)),
            },
            give_up_after: Duration::from_millis(u64::from(c.give_up_ms % 5_000)),
            oack: oack.clone(),
            request_len: usize::from(c.request_len),
        });
        let start = Instant::now();
        let (max_count, max_bytes) = (
            usize::from(c.batch_count % 65),
            usize::from(c.batch_kib) << 10,
        );
        Self {
            sender,
            batch: Batch::new(max_count, max_bytes),
            max_count,
            max_bytes,
            sends: 0,
            oack,
            blksize: usize::from(blksize),
            windowsize: u64::from((c.windowsize % 129).max(1)),
            rollover,
            start,
            now: start,
            pushed: 0,
            pushed_bytes: 0,
            final_len: None,
            any_ack: false,
            first_sends: 0,
            unverified_sends: 0,
            requests: 1,
            unverified_timeouts: 0,
            request_len: usize::from(c.request_len),
            data_seen: false,
            oack_this_epoch: false,
            sent_this_epoch: HashSet::new(),
            highest_sent: None,
            floor: None,
        }
    }

    fn push(&mut self, len: usize) -> bool {
        self.push_if(len, self.sender.wants_block())
    }

    fn push_if(&mut self, len: usize, wanted: bool) -> bool {
        if !wanted || self.pushed_bytes > BYTE_BUDGET {
            return false;
        }
        let index = self.pushed + 1;
        self.sender.push_block(&pattern(index, len));
        self.pushed = index;
        self.pushed_bytes += len as u64;
        if len < self.blksize {
            self.final_len = Some(len);
        }
        true
    }

    /// Index of the first unacknowledged block: every acknowledged block
    /// but the last is full, and acknowledging the last ends the transfer.
    fn base(&self) -> u64 {
        self.sender.stats().bytes / self.blksize as u64 + 1
    }

    fn check_data(&mut self, block: u16, payload: &[u8]) {
        assert!(payload.len() <= self.blksize, "DATA larger than blksize");
        let base = self.base();
        let index = (base..=self.pushed)
            .find(|&i| self.rollover.wire(i) == block)
            .unwrap_or_else(|| panic!("DATA {block} outside window {base}..={}", self.pushed));
        let len = match self.final_len {
            Some(len) if index == self.pushed => len,
            _ => self.blksize,
        };
        let same = payload.len() == len
            && payload
                .iter()
                .enumerate()
                .all(|(j, &b)| b == pattern_byte(index, j));
        assert!(same, "DATA {index} carries wrong bytes");
        if self.any_ack {
            assert!(
                index < base + self.windowsize,
                "DATA {index} past window at {base}"
            );
        } else {
            assert_eq!(index, 1, "window opened before the first ACK");
            self.first_sends += 1;
        }
        assert!(
            self.sent_this_epoch.insert(index),
            "DATA {index} resent without cause"
        );
        self.data_seen = true;
        self.highest_sent = Some(self.highest_sent.map_or(index, |h| h.max(index)));
    }

    fn check_datagram(&mut self, datagram: &[u8], alone: bool) {
        self.sends += 1;
        if !self.sender.is_verified() {
            self.unverified_sends += 1;
            assert!(
                self.unverified_sends <= self.unverified_allowance(),
                "{} datagrams to an unverified client for {} requests",
                self.unverified_sends,
                self.requests
            );
        }
        match Packet::parse(datagram) {
            Ok(Packet::Data { block, data }) => self.check_data(block, data),
            Ok(Packet::Oack { options }) => {
                let want = self.oack.as_ref().expect("OACK without options");
                let got: Vec<(String, String)> = options
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                assert_eq!(&got, want, "OACK differs from the configuration");
                assert!(!self.data_seen, "OACK after DATA");
                assert!(!self.oack_this_epoch, "OACK resent without cause");
                assert!(alone, "OACK shares a batch");
                self.oack_this_epoch = true;
                if !self.any_ack {
                    self.first_sends += 1;
                }
            }
            Ok(Packet::Error { .. }) => {
                assert!(alone, "ERROR shares a batch");
                assert!(self.sender.is_finished(), "ERROR sent mid-transfer");
                if !self.sender.is_verified() {
                    assert!(
                        datagram.len() <= self.request_len,
                        "ERROR to an unverified client longer than its request"
                    );
                }
            }
            other => panic!("sender emitted {other:?}"),
        }
        assert!(
            self.first_sends <= self.unverified_allowance(),
            "the client drew more first sends than it sent requests"
        );
    }

    fn poll(&mut self) -> bool {
        if !self.sender.poll_transmit(self.now, &mut self.batch) {
            assert!(self.batch.is_empty());
            return false;
        }
        let batch = std::mem::take(&mut self.batch);
        let n = batch.len();
        let sent: Vec<Vec<u8>> = self.sender.datagrams(&batch).map(<[u8]>::to_vec).collect();
        assert!(n >= 1 && sent.len() == n);
        assert!(n <= self.max_count.max(1), "batch over its datagram limit");
        let total: usize = sent.iter().map(Vec::len).sum();
        assert_eq!(total, batch.byte_len());
        if n > 1 {
            assert!(total <= self.max_bytes, "batch over its byte limit");
        }
        for (i, d) in sent.iter().enumerate() {
            let last = i + 1 == n;
            assert!(d.len() == batch.segment_size() || (last && d.len() < batch.segment_size()));
            self.check_datagram(d, n == 1);
        }
        self.batch = batch;
        if !self.sender.is_finished() {
            assert!(self.sender.poll_timeout().is_some(), "sent without a timer");
        }
        true
    }

    fn drain(&mut self) {
        while self.poll() {}
    }

    fn ack(&mut self, block: u16) {
        let before = (self.sender.stats().clone(), self.sender.is_finished());
        check_unwrap(self.rollover, block, self.base());
        check_unwrap(self.rollover, block, 0);
        self.sender.handle_ack(self.now, block);
        self.any_ack = true;
        let stats = self.sender.stats();
        let progressed = stats.bytes != before.0.bytes
            || stats.window_restarts != before.0.window_restarts
            || self.sender.is_finished() != before.1
            || block == 0
            || block == 65535;
        if progressed {
            self.new_epoch();
        }
    }

    fn new_epoch(&mut self) {
        self.sent_this_epoch.clear();
        self.oack_this_epoch = false;
    }

    fn timeout(&mut self) {
        if self.sender.poll_timeout().is_some_and(|d| self.now >= d) {
            self.floor = Some(self.now);
        }
        if !self.sender.is_verified() {
            self.unverified_timeouts += 1;
        }
        self.sender.handle_timeout(self.now);
        self.new_epoch();
    }

    /// Datagrams an unverified client may draw: one per request, plus at
    /// most two timer resends of an OACK no longer than its request.
    fn unverified_allowance(&self) -> u32 {
        let oack_len = self.oack.as_ref().map_or(usize::MAX, |o| {
            2 + o.iter().map(|(k, v)| k.len() + v.len() + 2).sum::<usize>()
        });
        let timer = if oack_len <= self.request_len {
            self.unverified_timeouts.min(2)
        } else {
            0
        };
        self.requests + timer
    }

    fn fire_all(&mut self) {
        for _ in 0..FIRE_LIMIT {
            self.drain();
            let Some(deadline) = self.sender.poll_timeout() else {
                return;
            };
            self.now = self.now.max(deadline);
            self.timeout();
        }
        panic!("timers still firing after {FIRE_LIMIT} expiries");
    }

    fn run(&mut self, rounds: u32) {
        for _ in 0..rounds {
            if !self.run_once() {
                return;
            }
        }
    }

    /// One round of an honest client; false when nothing more happens.
    fn run_once(&mut self) -> bool {
        while self.push(self.blksize) {}
        let sends = self.sends;
        self.drain();
        if self.sends == sends || self.sender.is_finished() || self.pushed_bytes > BYTE_BUDGET {
            return false;
        }
        match self.highest_sent {
            Some(h) => self.ack(self.rollover.wire(h)),
            None => self.ack(0),
        }
        true
    }

    fn step(&mut self, event: &Event) {
        match *event {
            Event::PushFull => {
                self.push(self.blksize);
            }
            Event::PushShort(n) => {
                self.push(usize::from(n) % self.blksize);
            }
            Event::PushAhead => {
                self.push_if(self.blksize, self.sender.wants_read_ahead());
            }
            Event::Ack(block) => self.ack(block),
            Event::AckNear(offset) => {
                let h = self.highest_sent.unwrap_or(0);
                let target = h.saturating_add_signed(i64::from(offset));
                self.ack(self.rollover.wire(target));
            }
            Event::Error(code) => self.sender.handle_error(ErrorCode::from_code(code), "fuzz"),
            Event::Illegal => self.sender.handle_illegal("fuzz"),
            Event::Abort => self.sender.abort(ErrorCode::NotDefined, "fuzz"),
            Event::Advance(ms) => self.now += Duration::from_millis(u64::from(ms)),
            Event::Timeout(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.timeout();
            }
            Event::FireTimer => {
                if let Some(deadline) = self.sender.poll_timeout() {
                    self.now = self.now.max(deadline);
                }
                self.timeout();
            }
            Event::FireAll => self.fire_all(),
            Event::Poll => {
                self.poll();
            }
            Event::Drain => self.drain(),
            Event::Run(rounds) => self.run(u32::from(rounds)),
            Event::Wrap(magic) => {
                if magic == WRAP_MAGIC && self.blksize <= 64 {
                    while self.pushed < WRAP_BLOCKS && self.run_once() {}
                }
            }
            Event::Repeat => {
                if !self.sender.is_verified() {
                    self.requests += 1;
                }
                self.sender.handle_repeated_request(self.now);
                self.new_epoch();
            }
        }
        self.check_state();
    }

    fn check_state(&self) {
        let s = &self.sender;
        assert_eq!(s.wants_block(), s.blocks_wanted() > 0);
        assert!(s.blocks_wanted() as u64 <= self.windowsize);
        assert_eq!(s.outcome().is_some(), s.is_finished());
        if s.is_finished() {
            assert_eq!(s.poll_timeout(), None, "timer armed after the end");
        }
        if let (Some(deadline), Some(floor)) = (s.poll_timeout(), self.floor) {
            assert!(
                deadline >= floor,
                "deadline went back before a handled timeout"
            );
        }
        let stats = s.stats();
        assert!(
            stats.bytes <= self.pushed_bytes,
            "acknowledged more than pushed"
        );
        assert!(stats.retransmitted <= stats.blocks_sent);
        if s.outcome() == Some(&Outcome::Complete) {
            assert!(self.final_len.is_some(), "complete before the last block");
            assert_eq!(
                stats.bytes, self.pushed_bytes,
                "complete with bytes unacked"
            );
        }
        assert!(self.now >= self.start);
    }
}

fuzz_target!(|input: Input| {
    let mut fuzz = Fuzz::new(&input.cfg);
    for event in &input.events {
        fuzz.step(event);
    }
    fuzz.drain();
    fuzz.fire_all();
});
