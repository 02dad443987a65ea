//! The receiving side of a write request (WRQ), as a sans-IO state machine.
//!
//! The shell feeds it the client's DATA ([`Receiver::handle_data`]), timer
//! expiries, and the result of committing the file
//! ([`Receiver::commit_done`]); it drains payload to write
//! ([`Receiver::poll_write`]) and datagrams to send
//! ([`Receiver::poll_transmit`]).
//!
//! Rules it keeps:
//! - the transfer opens with an OACK (options agreed) or ACK 0;
//! - until the client's first DATA arrives (its address may be spoofed) it
//!   gets one datagram per request datagram received: the opening once, and
//!   again only for a repeated request ([`Receiver::handle_repeated_request`]),
//!   never on a timer; an ERROR to it is cut to the request's length;
//! - blocks are accepted strictly in order; an ACK goes out after every
//!   `windowsize` blocks, once at the first gap, and again for a repeated
//!   last-acknowledged block (its ACK was lost);
//! - the final ACK is sent only after the shell has committed the file
//!   (written, synced, renamed into place), so an ACKed upload is on disk;
//! - after the final ACK it dallies, answering a repeated final block
//!   with the final ACK again, then ends.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::guard::PeerGuard;
use super::{Outcome, TransferStats};
use crate::tftp::blocknum::Rollover;
use crate::tftp::packet::{self, ErrorCode, Packet};
use crate::tftp::rto::{Rto, RtoBounds};

/// How a write transfer is to run, once options are agreed.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Data bytes per block.
    pub blksize: u16,
    /// Blocks per ACK.
    pub windowsize: u16,
    /// Block numbering after 65535.
    pub rollover: Rollover,
    /// Timeout bounds for re-acknowledging when the client goes quiet.
    pub rto: RtoBounds,
    /// Silence from the client after which the transfer is abandoned.
    pub give_up_after: Duration,
    /// Options to acknowledge, if any were agreed.
    pub oack: Option<Vec<(String, String)>>,
    /// How long to linger after the final ACK.
    pub dally: Duration,
    /// Length of the request datagram: the largest ERROR sent before the
    /// client has proven its address.
    pub request_len: usize,
}

#[derive(Debug)]
enum State {
    /// Waiting for blocks.
    Receiving,
    /// The last block arrived; waiting for the shell to commit the file.
    Committing { last: u64 },
    /// Final ACK sent; lingering until `until`.
    Dallying { last: u64, until: Instant },
    /// Over.
    Finished(Outcome),
}

/// The write-transfer state machine.
#[derive(Debug)]
pub struct Receiver {
    cfg: ReceiverConfig,
    state: State,
    /// Index of the next block expected.
    expected: u64,
    /// In-order blocks since the last ACK.
    since_ack: u16,
    /// An ACK has gone out for the current gap already.
    gap_acked: bool,
    /// The last OACK/ACK sent, resent on timeout.
    last_control: Vec<u8>,
    /// When the opening OACK/ACK went out, for the first RTT sample.
    opened_at: Option<Instant>,
    outgoing: VecDeque<Vec<u8>>,
    writes: VecDeque<Vec<u8>>,
    rto: Rto,
    deadline: Option<Instant>,
    /// When the client last sent a new block (or we opened).
    last_progress: Option<Instant>,
    /// Whether a DATA has arrived (the client's address is real), and what
    /// it may be sent until then.
    guard: PeerGuard,
    stats: TransferStats,
}

impl Receiver {
    /// A receiver at the start of a transfer; its OACK or ACK 0 is queued.
    pub fn new(cfg: ReceiverConfig) -> Self {
        let opening = match &cfg.oack {
            Some(options) => {
                let options: Vec<(&str, &str)> = options
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                Packet::Oack { options }.to_bytes()
            }
            None => Packet::Ack { block: 0 }.to_bytes(),
        };
        Self {
            rto: Rto::new(cfg.rto),
            guard: PeerGuard::new(cfg.request_len),
            cfg,
            state: State::Receiving,
            expected: 1,
            since_ack: 0,
            gap_acked: false,
            last_control: opening.clone(),
            opened_at: None,
            outgoing: VecDeque::from([opening]),
            writes: VecDeque::new(),
            deadline: None,
            last_progress: None,
            stats: TransferStats::default(),
        }
    }

    /// A DATA packet arrived.
    pub fn handle_data(&mut self, now: Instant, block: u16, data: &[u8]) {
        match self.state {
            State::Receiving => self.receive(now, block, data),
            State::Dallying { last, .. } => {
                if self.cfg.rollover.unwrap(block, last) == Some(last) {
                    self.send_ack(last);
                }
            }
            State::Committing { .. } | State::Finished(_) => {}
        }
    }

    fn receive(&mut self, now: Instant, block: u16, data: &[u8]) {
        self.guard.verify();
        if data.len() > usize::from(self.cfg.blksize) {
            self.abort(ErrorCode::IllegalOperation, "block larger than blksize");
            return;
        }
        let Some(index) = self.cfg.rollover.unwrap(block, self.expected) else {
            return;
        };
        if index < self.expected {
            // A resend: our ACK for it was lost, say it again once.
            if index + 1 == self.expected {
                self.send_ack(index);
            }
            return;
        }
        if index > self.expected {
            if !self.gap_acked {
                self.gap_acked = true;
                self.since_ack = 0;
                self.send_ack(self.expected - 1);
            }
            return;
        }
        if index == 1 {
            // DATA 1 after our timeout would have fired most likely comes
            // on the client's own timer, after a lost opening or a lost
            // first DATA (nothing is resent to it before it answers): no
            // sample, as Karn would have it had we resent (sender.rs).
            if let Some(at) = self.opened_at {
                let rtt = now.saturating_duration_since(at);
                if rtt < self.rto.current() {
                    self.rto.sample(rtt);
                }
            }
        }
        self.writes.push_back(data.to_vec());
        self.stats.bytes += data.len() as u64;
        self.expected += 1;
        self.gap_acked = false;
        self.last_progress = Some(now);
        self.rto.reset_backoff();
        if data.len() < usize::from(self.cfg.blksize) {
            self.deadline = None;
            self.state = State::Committing { last: index };
            return;
        }
        self.since_ack += 1;
        if self.since_ack >= self.cfg.windowsize.max(1) {
            self.since_ack = 0;
            self.send_ack(index);
        }
        self.deadline = Some(now + self.timeout());
    }

    fn send_ack(&mut self, index: u64) {
        let ack = Packet::Ack {
            block: self.cfg.rollover.wire(index),
        }
        .to_bytes();
        self.last_control = ack.clone();
        self.outgoing.push_back(ack);
    }

    /// The client sent its WRQ again from the same port: before its first
    /// DATA that means our OACK or ACK 0 was lost, and it goes out once more.
    /// Later it is a stale copy and changes nothing.
    pub fn handle_repeated_request(&mut self, now: Instant) {
        if !matches!(self.state, State::Receiving) || !self.guard.repeat() {
            return;
        }
        self.last_progress = Some(now);
        self.deadline = Some(now + self.cfg.give_up_after);
        self.outgoing.push_back(self.last_control.clone());
    }

    /// True once the client has sent a DATA (its address is real).
    pub fn is_verified(&self) -> bool {
        self.guard.is_verified()
    }

    /// When to act next while receiving: the retransmission timeout once
    /// verified, else only the end of the wait for an unverified client.
    fn receiving_deadline(&self, now: Instant) -> Instant {
        if self.guard.is_verified() {
            now + self.timeout()
        } else {
            self.last_progress.unwrap_or(now) + self.cfg.give_up_after
        }
    }

    /// The receiver's patience: the adaptive timeout, never under 100 ms so
    /// a slow but healthy client is not flooded with repeated ACKs.
    fn timeout(&self) -> Duration {
        self.rto.current().max(Duration::from_millis(100))
    }

    /// The shell committed the file (`Ok`) or could not (`Err`): send the
    /// final ACK and dally, or the ERROR.
    pub fn commit_done(&mut self, now: Instant, result: Result<(), (ErrorCode, String)>) {
        let State::Committing { last } = self.state else {
            return;
        };
        match result {
            Ok(()) => {
                self.send_ack(last);
                self.state = State::Dallying {
                    last,
                    until: now + self.cfg.dally,
                };
            }
            Err((code, message)) => self.abort(code, &message),
        }
    }

    /// True when the last block arrived and the shell must commit the file
    /// (after draining [`Receiver::poll_write`]).
    pub fn needs_commit(&self) -> bool {
        matches!(self.state, State::Committing { .. })
    }

    /// The client sent an ERROR.
    pub fn handle_error(&mut self, code: ErrorCode, message: &str) {
        match self.state {
            State::Finished(_) => return,
            // The file is stored and acknowledged; nothing can undo that.
            State::Dallying { .. } => return self.finish(Outcome::Complete),
            _ => {}
        }
        self.finish(Outcome::PeerError {
            code,
            message: message.to_string(),
            during_oack: false,
        });
    }

    /// Ends the transfer with an ERROR to the client (disk full, bad packet).
    /// While dallying the upload has already succeeded: it just ends.
    pub fn abort(&mut self, code: ErrorCode, message: &str) {
        match self.state {
            State::Finished(_) => return,
            State::Dallying { .. } => return self.finish(Outcome::Complete),
            _ => {}
        }
        self.outgoing.extend(self.guard.error(code, message));
        self.finish(Outcome::LocalError {
            code,
            message: message.to_string(),
        });
    }

    /// The timer fired.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        self.deadline = None;
        match self.state {
            State::Dallying { .. } => {
                self.finish(Outcome::Complete);
            }
            State::Receiving => {
                let since = self.last_progress.unwrap_or(now);
                let given_up = now.saturating_duration_since(since) >= self.cfg.give_up_after;
                if !self.guard.is_verified() {
                    // Nothing is resent to an unproven address: a real
                    // client repeats its WRQ, and that is answered.
                    if given_up {
                        self.finish(Outcome::TimedOut);
                    } else {
                        self.deadline = Some(self.receiving_deadline(now));
                    }
                    return;
                }
                if given_up {
                    self.outgoing.push_back(packet::error_packet(
                        ErrorCode::NotDefined,
                        "timed out waiting for DATA",
                    ));
                    self.finish(Outcome::TimedOut);
                    return;
                }
                self.rto.back_off();
                self.stats.timeouts += 1;
                self.outgoing.push_back(self.last_control.clone());
                self.deadline = Some(now + self.timeout());
            }
            State::Committing { .. } | State::Finished(_) => {}
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        let datagram = loop {
            let datagram = self.outgoing.pop_front()?;
            // Without a credit left, the datagram is dropped unsent.
            if self.guard.allow() {
                break datagram;
            }
        };
        if self.opened_at.is_none() {
            self.opened_at = Some(now);
            self.last_progress = Some(now);
        }
        match self.state {
            State::Receiving if self.deadline.is_none() => {
                self.deadline = Some(self.receiving_deadline(now));
            }
            State::Dallying { until, .. } => self.deadline = Some(until),
            _ => {}
        }
        Some(datagram)
    }

    /// The next payload to append to the file, in order.
    pub fn poll_write(&mut self) -> Option<Vec<u8>> {
        self.writes.pop_front()
    }

    /// The smoothed round trip to the client, once one was measured.
    pub fn round_trip(&self) -> Option<Duration> {
        self.rto.srtt()
    }

    /// When [`Receiver::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The outcome, once over.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// True once over and nothing is left to send.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished(_)) && self.outgoing.is_empty()
    }

    /// True once the file is committed and acknowledged (dallying or done):
    /// the upload has succeeded whatever happens next.
    pub fn is_committed(&self) -> bool {
        matches!(
            self.state,
            State::Dallying { .. } | State::Finished(Outcome::Complete)
        )
    }

    /// Counters for the transfer log line.
    pub fn stats(&self) -> &TransferStats {
        &self.stats
    }

    fn finish(&mut self, outcome: Outcome) {
        self.deadline = None;
        self.state = State::Finished(outcome);
    }
}
