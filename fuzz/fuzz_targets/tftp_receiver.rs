//! Fuzz target: the write-transfer state machine (`Receiver`) driven by a
//! sequence of events over a virtual clock: DATA with any block number and
//! length, the shell's commit result, ERRORs, aborts, time passing, timers
//! firing, transmit and write polls, and runs of an honest client (long
//! enough to roll the 16-bit block number over).
//!
//! Invariants, each read off the code's documented rules:
//! - blocks are accepted strictly in order: the writes, concatenated, equal
//!   the payloads of the in-order blocks, and `stats().bytes` counts them;
//! - a block longer than `blksize` ends the transfer with ERROR 4;
//! - the first datagram is the OACK (options agreed) or ACK 0; every
//!   datagram parses as ACK, OACK or ERROR; an ERROR is the last one;
//! - ACK numbers never go backwards and never acknowledge a block not yet
//!   accepted; at most `windowsize - 1` accepted blocks wait for an ACK;
//! - the final block's ACK goes out only after the commit succeeded;
//!   `needs_commit` is true exactly between the final block and the commit;
//! - until the first DATA (the client unverified) at most one datagram goes
//!   out per request (the first and each repeat), and an ERROR is no longer
//!   than the request;
//! - a deadline never lies before the time of the last timeout handled, and
//!   timers stop (transfer over, or waiting for the shell) in bounded steps.

#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netboot::tftp::blocknum::Rollover;
use netboot::tftp::packet::{ErrorCode, Packet};
use netboot::tftp::rto::RtoBounds;
use netboot::tftp::transfer::{Outcome, Receiver, ReceiverConfig};

/// Payload bytes the input may make us generate, to keep runs short.
const BYTE_BUDGET: usize = 5 << 20;
/// `Wrap` runs only with this value, as it costs about a second.
const WRAP_MAGIC: u16 = 0x5AA5;
/// Blocks `Wrap` takes the transfer to: past the 16-bit wrap.
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
    dally_ms: u16,
    request_len: u8,
}

#[derive(Debug, Arbitrary)]
enum Event {
    /// DATA with this wire number; length modulo blksize + 2 (so sometimes
    /// too long).
    Data {
        block: u16,
        len: u16,
        fill: u8,
    },
    /// DATA for the next expected block, full or (Some) short.
    Next {
        short: Option<u16>,
        fill: u8,
    },
    /// DATA for the next expected block shifted by the offset, full length.
    Near {
        offset: i8,
        fill: u8,
    },
    CommitOk,
    CommitErr,
    Error(u16),
    Abort,
    Advance(u16),
    Timeout(u16),
    FireTimer,
    FireAll,
    Poll,
    Drain,
    Write,
    /// Full blocks from an honest client, each followed by a drain.
    Run(u8),
    /// Honest blocks until the block number has wrapped (with the magic
    /// value and blksize <= 64 only).
    Wrap(u16),
    /// The client sends its WRQ again from the same port.
    Repeat,
}

#[derive(Debug, Arbitrary)]
struct Input {
    cfg: Cfg,
    events: Vec<Event>,
}

struct Fuzz {
    receiver: Receiver,
    blksize: usize,
    windowsize: u64,
    rollover: Rollover,
    oack: Option<Vec<(String, String)>>,
    now: Instant,
    expected: u64,
    accepted: Vec<u8>,
    /// Bytes handed out by `poll_write` so far, checked against `accepted`.
    written: usize,
    final_index: Option<u64>,
    committed: bool,
    emitted: u64,
    max_ack: Option<u64>,
    error_sent: bool,
    floor: Option<Instant>,
    /// Requests received: the first and every repeat before verification.
    requests: u64,
    /// Datagrams sent while the client was unverified.
    unverified_sends: u64,
    request_len: usize,
}

fn payload(len: usize, fill: u8) -> Vec<u8> {
    (0..len).map(|j| fill.wrapping_add(j as u8)).collect()
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
                ("windowsize".to_string(), c.windowsize.to_string()),
            ]
        });
        let receiver = Receiver::new(ReceiverConfig {
            blksize,
            windowsize: u16::from(c.windowsize % 129),
            rollover,
            rto: RtoBounds {
                initial: Duration::from_millis(u64::from(c.rto_initial_ms)),
                min: Duration::from_millis(1 + u64::from(c.rto_min_ms)),
                max: Duration::from_millis(u64::from(c.rto_max_ms)),
            },
            give_up_after: Duration::from_millis(u64::from(c.give_up_ms % 20_000)),
            oack: oack.clone(),
            dally: Duration::from_millis(u64::from(c.dally_ms)),
            request_len: usize::from(c.request_len),
        });
        Self {
            receiver,
            blksize: usize::from(blksize),
            windowsize: u64::from((c.windowsize % 129).max(1)),
            rollover,
            oack,
            now: Instant::now(),
            expected: 1,
            accepted: Vec::new(),
            written: 0,
            final_index: None,
            committed: false,
            emitted: 0,
            max_ack: None,
            error_sent: false,
            floor: None,
            requests: 1,
            unverified_sends: 0,
            request_len: usize::from(c.request_len),
        }
    }

    fn receiving(&self) -> bool {
        let r = &self.receiver;
        !r.needs_commit() && !r.is_committed() && r.outcome().is_none()
    }

    fn data(&mut self, block: u16, data: &[u8]) {
        let receiving = self.receiving();
        let accept = receiving
            && data.len() <= self.blksize
            && self.rollover.unwrap(block, self.expected) == Some(self.expected);
        self.receiver.handle_data(self.now, block, data);
        if accept {
            self.accepted.extend_from_slice(data);
            if data.len() < self.blksize {
                self.final_index = Some(self.expected);
            }
            self.expected += 1;
        }
        if receiving && data.len() > self.blksize {
            assert!(
                matches!(
                    self.receiver.outcome(),
                    Some(Outcome::LocalError {
                        code: ErrorCode::IllegalOperation,
                        ..
                    })
                ),
                "oversized block not refused"
            );
        }
    }

    fn check_ack(&mut self, block: u16) {
        let top = self.expected - 1;
        let lowest = self.max_ack.unwrap_or(0);
        let index = (lowest..=top)
            .rev()
            .find(|&j| self.rollover.wire(j) == block)
            .unwrap_or_else(|| panic!("ACK {block} outside {lowest}..={top}"));
        if Some(index) == self.final_index {
            assert!(self.committed, "final ACK before the commit");
        }
        self.max_ack = Some(index);
    }

    fn poll(&mut self) -> bool {
        let Some(datagram) = self.receiver.poll_transmit(self.now) else {
            return false;
        };
        assert!(!self.error_sent, "datagram after the ERROR");
        self.emitted += 1;
        let unverified = !self.receiver.is_verified();
        if unverified {
            self.unverified_sends += 1;
            assert!(
                self.unverified_sends <= self.requests,
                "{} datagrams to an unverified client for {} requests",
                self.unverified_sends,
                self.requests
            );
            assert!(
                !matches!(Packet::parse(&datagram), Ok(Packet::Error { .. }))
                    || datagram.len() <= self.request_len,
                "ERROR to an unverified client longer than its request"
            );
        }
        let packet = Packet::parse(&datagram);
        if self.emitted == 1 {
            match (&packet, &self.oack) {
                (Ok(Packet::Oack { .. }), Some(_)) | (Ok(Packet::Ack { block: 0 }), None) => {}
                other => panic!("transfer opened with {other:?}"),
            }
        }
        match packet {
            Ok(Packet::Ack { block }) => self.check_ack(block),
            Ok(Packet::Oack { options }) => {
                let want = self.oack.as_ref().expect("OACK without options");
                let got: Vec<(String, String)> = options
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                assert_eq!(&got, want, "OACK differs from the configuration");
                assert_eq!(self.max_ack, None, "OACK after an ACK");
            }
            Ok(Packet::Error { .. }) => {
                assert!(self.receiver.outcome().is_some(), "ERROR mid-transfer");
                self.error_sent = true;
            }
            other => panic!("receiver emitted {other:?}"),
        }
        true
    }

    fn drain(&mut self) {
        while self.poll() {}
        if self.receiving() {
            let waiting = (self.expected - 1).saturating_sub(self.max_ack.unwrap_or(0));
            assert!(waiting < self.windowsize, "{waiting} blocks unacknowledged");
        }
    }

    fn write(&mut self) {
        while let Some(data) = self.receiver.poll_write() {
            let end = self.written + data.len();
            assert!(end <= self.accepted.len(), "wrote more than was accepted");
            assert!(
                data == self.accepted[self.written..end],
                "writes differ from blocks"
            );
            self.written = end;
        }
        assert_eq!(
            self.written,
            self.accepted.len(),
            "accepted data not written"
        );
    }

    fn commit(&mut self, ok: bool) {
        let needed = self.receiver.needs_commit();
        if needed {
            self.write();
        }
        let result = if ok {
            Ok(())
        } else {
            Err((ErrorCode::DiskFull, "fuzz".to_string()))
        };
        self.receiver.commit_done(self.now, result);
        if needed && ok {
            self.committed = true;
            assert!(self.receiver.is_committed());
        }
    }

    fn timeout(&mut self) {
        if self.receiver.poll_timeout().is_some_and(|d| self.now >= d) {
            self.floor = Some(self.now);
        }
        self.receiver.handle_timeout(self.now);
    }

    fn fire_all(&mut self) {
        for _ in 0..FIRE_LIMIT {
            self.drain();
            let Some(deadline) = self.receiver.poll_timeout() else {
                return;
            };
            self.now = self.now.max(deadline);
            self.timeout();
        }
        panic!("timers still firing after {FIRE_LIMIT} expiries");
    }

    fn run(&mut self, blocks: u64) {
        for _ in 0..blocks {
            if !self.receiving() || self.accepted.len() > BYTE_BUDGET {
                return;
            }
            let block = self.rollover.wire(self.expected);
            self.data(block, &payload(self.blksize, block as u8));
            self.drain();
            self.write();
        }
    }

    fn step(&mut self, event: &Event) {
        match *event {
            Event::Data { block, len, fill } => {
                let len = usize::from(len) % (self.blksize + 2);
                self.data(block, &payload(len, fill));
            }
            Event::Next { short, fill } => {
                let len = short.map_or(self.blksize, |n| usize::from(n) % self.blksize);
                self.data(self.rollover.wire(self.expected), &payload(len, fill));
            }
            Event::Near { offset, fill } => {
                let index = self.expected.saturating_add_signed(i64::from(offset));
                self.data(self.rollover.wire(index), &payload(self.blksize, fill));
            }
            Event::CommitOk => self.commit(true),
            Event::CommitErr => self.commit(false),
            Event::Error(code) => self
                .receiver
                .handle_error(ErrorCode::from_code(code), "fuzz"),
            Event::Abort => self.receiver.abort(ErrorCode::NotDefined, "fuzz"),
            Event::Advance(ms) => self.now += Duration::from_millis(u64::from(ms)),
            Event::Timeout(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                self.timeout();
            }
            Event::FireTimer => {
                if let Some(deadline) = self.receiver.poll_timeout() {
                    self.now = self.now.max(deadline);
                }
                self.timeout();
            }
            Event::FireAll => self.fire_all(),
            Event::Poll => {
                self.poll();
            }
            Event::Drain => self.drain(),
            Event::Write => self.write(),
            Event::Run(blocks) => self.run(u64::from(blocks)),
            Event::Wrap(magic) => {
                if magic == WRAP_MAGIC && self.blksize <= 64 {
                    self.run(WRAP_BLOCKS.saturating_sub(self.expected));
                }
            }
            Event::Repeat => {
                if !self.receiver.is_verified() {
                    self.requests += 1;
                }
                self.receiver.handle_repeated_request(self.now);
            }
        }
        self.check_state();
    }

    fn check_state(&self) {
        let r = &self.receiver;
        assert_eq!(
            r.stats().bytes,
            self.accepted.len() as u64,
            "bytes miscounted"
        );
        let finished = r.outcome().is_some();
        assert_eq!(
            r.needs_commit(),
            self.final_index.is_some() && !self.committed && !finished,
            "needs_commit out of step"
        );
        if r.is_committed() {
            assert!(self.committed, "committed without a commit");
        }
        if self.committed && !finished {
            assert!(r.is_committed(), "commit forgotten");
        }
        if r.outcome() == Some(&Outcome::Complete) {
            assert!(self.committed, "complete without a commit");
        }
        if finished {
            assert_eq!(r.poll_timeout(), None, "timer armed after the end");
        }
        if let (Some(deadline), Some(floor)) = (r.poll_timeout(), self.floor) {
            assert!(
                deadline >= floor,
                "deadline went back before a handled timeout"
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let mut fuzz = Fuzz::new(&input.cfg);
    for event in &input.events {
        fuzz.step(event);
    }
    fuzz.fire_all();
    fuzz.write();
});
