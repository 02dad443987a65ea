//! The sending side of a read request (RRQ), as a sans-IO state machine.
//!
//! The shell feeds it file blocks in order ([`Sender::push_block`]: those
//! it can send now, then one read ahead), the
//! client's packets ([`Sender::handle_ack`], [`Sender::handle_error`]) and
//! timer expiries ([`Sender::handle_timeout`]); it drains datagrams with
//! [`Sender::poll_transmit`] and arms a timer at [`Sender::poll_timeout`].
//!
//! Rules it keeps:
//! - an OACK, when options were agreed, is sent first and must be ACKed
//!   with block 0 (an ERROR instead ends the transfer: that is how UEFI
//!   firmware ends its size probe);
//! - until the client has ACKed once (its address may be spoofed), it gets
//!   at most one datagram per request datagram received: the OACK or DATA 1
//!   once, and once more for each repeated request
//!   ([`Sender::handle_repeated_request`]), never a window; the only resend
//!   on a timer is the OACK's, at most twice and only when it is no longer
//!   than the request (`guard`), since firmware waits seconds before it
//!   sends a lost ACK 0 again (UEFI's PXE: 4 s); an ERROR to it is cut to
//!   the request's length;
//! - a window of `windowsize` blocks is sent, then the sender waits; an ACK
//!   for the window's last block moves on, an ACK inside the window restarts
//!   from the block after it (RFC 7440), a duplicate ACK changes nothing (no
//!   Sorcerer's Apprentice), and a timeout resends the window;
//! - the retransmission timeout adapts to the measured round trip; an answer
//!   to the first reply that comes after the timeout would have fired gives
//!   no sample (Karn: the client most likely sent it again on its own timer);
//! - the transfer ends when the block shorter than `blksize` is ACKed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod timer;
mod window;

use super::guard::PeerGuard;
use super::{Batch, Outcome, TransferStats};
use crate::tftp::blocknum::Rollover;
use crate::tftp::packet::{ErrorCode, Packet};
use crate::tftp::rto::{Rto, RtoBounds};

/// Blocks the sender holds beyond the window, read ahead of the ACK that
/// lets them go ([`Sender::wants_read_ahead`]).
const READ_AHEAD_BLOCKS: usize = 1;

/// How a read transfer is to run, once options are agreed.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Data bytes per block.
    pub blksize: u16,
    /// Blocks per window (1 = lock-step).
    pub windowsize: u16,
    /// Block numbering after 65535.
    pub rollover: Rollover,
    /// Retransmission timeout bounds.
    pub rto: RtoBounds,
    /// Silence from the client after which the transfer is abandoned.
    pub give_up_after: Duration,
    /// Options to acknowledge first, if any were agreed.
    pub oack: Option<Vec<(String, String)>>,
    /// Length of the request datagram: the largest ERROR sent before the
    /// client has proven its address.
    pub request_len: usize,
}

/// A block handed to the sender and not yet acknowledged.
#[derive(Debug)]
struct InFlight {
    index: u64,
    /// The whole DATA datagram: header and payload.
    datagram: Vec<u8>,
    sent_at: Option<Instant>,
    resent: bool,
}

#[derive(Debug)]
enum State {
    /// OACK pending or sent, waiting for ACK 0.
    Oack {
        sent_at: Option<Instant>,
        resent: bool,
    },
    /// Sending data blocks.
    Data,
    /// Over; the outcome stays readable.
    Finished(Outcome),
}

/// The read-transfer state machine.
#[derive(Debug)]
pub struct Sender {
    cfg: SenderConfig,
    state: State,
    window: VecDeque<InFlight>,
    /// Position in `window` of the next datagram to (re)transmit.
    next_tx: usize,
    /// Index the next pushed block gets.
    next_index: u64,
    /// The short final block has been pushed.
    eof: bool,
    /// Whether the client has ACKed (proven its address), and what it may
    /// be sent until then.
    guard: PeerGuard,
    rto: Rto,
    deadline: Option<Instant>,
    /// When the client last made progress (or we first sent).
    last_progress: Option<Instant>,
    /// A control datagram (OACK or ERROR) waiting to be sent.
    control: Option<Vec<u8>>,
    /// Length of the OACK datagram (0 without one).
    oack_len: usize,
    spare: Vec<Vec<u8>>,
    stats: TransferStats,
}

impl Sender {
    /// A sender at the start of a transfer.
    pub fn new(cfg: SenderConfig) -> Self {
        let state = match &cfg.oack {
            Some(_) => State::Oack {
                sent_at: None,
                resent: false,
            },
            None => State::Data,
        };
        let oack_len = cfg.oack.as_ref().map_or(0, |options| {
            let options: Vec<(&str, &str)> = options
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            Packet::Oack { options }.to_bytes().len()
        });
        Self {
            rto: Rto::new(cfg.rto),
            oack_len,
            guard: PeerGuard::new(cfg.request_len),
            cfg,
            state,
            window: VecDeque::new(),
            next_tx: 0,
            next_index: 1,
            eof: false,
            deadline: None,
            last_progress: None,
            control: None,
            spare: Vec::new(),
            stats: TransferStats::default(),
        }
    }

    /// The client acknowledged wire block `block`.
    pub fn handle_ack(&mut self, now: Instant, block: u16) {
        match self.state {
            State::Oack { sent_at, resent } => {
                if self.cfg.rollover.unwrap(block, 0) == Some(0) {
                    if let (Some(at), false) = (sent_at, resent) {
                        self.sample(now.saturating_duration_since(at));
                    }
                    self.progress(now);
                    self.state = State::Data;
                }
            }
            State::Data => self.handle_data_ack(now, block),
            State::Finished(_) => {}
        }
    }

    fn handle_data_ack(&mut self, now: Instant, block: u16) {
        let Some(first) = self.window.front() else {
            return;
        };
        let base = first.index;
        let sent = self
            .window
            .iter()
            .take_while(|b| b.sent_at.is_some())
            .count();
        let Some(acked) = self.cfg.rollover.unwrap(block, base) else {
            return;
        };
        if acked < base || acked >= base + sent as u64 {
            // A duplicate or stale ACK, or one for a block never sent:
            // resending on it would start the Sorcerer's Apprentice.
            self.stats.duplicate_acks += 1;
            return;
        }
        let count = (acked - base + 1) as usize;
        let restart = count < sent;
        let mut round_trip = None;
        for done in self.window.drain(..count) {
            if done.index == acked {
                match (done.resent, done.sent_at) {
                    (false, Some(at)) => round_trip = Some(now.saturating_duration_since(at)),
                    // Karn: no sample from a resent block. But an ACK inside
                    // a resent window is the client's prompt report of what
                    // it holds, not a late answer to the first copy: undo
                    // one doubling, or a client that keeps only part of each
                    // window (a small socket buffer) never gives a clean
                    // sample and every window waits the longest timeout.
                    _ if restart => self.rto.ease_backoff(),
                    _ => {}
                }
            }
            self.stats.bytes += (done.datagram.len() - 4) as u64;
            self.spare.push(done.datagram);
        }
        if let Some(rtt) = round_trip {
            self.sample(rtt);
        }
        // An ACK inside the window says the rest was lost: resend from
        // there (RFC 7440). After a full window nothing is outstanding.
        if restart {
            self.stats.window_restarts += 1;
        }
        self.next_tx = 0;
        self.progress(now);
        if self.eof && self.window.is_empty() {
            self.finish(Outcome::Complete);
        }
    }

    fn progress(&mut self, now: Instant) {
        self.last_progress = Some(now);
        self.guard.verify();
        self.deadline = None;
    }

    /// The client sent an ERROR: the transfer is over.
    pub fn handle_error(&mut self, code: ErrorCode, message: &str) {
        if self.is_finished() {
            return;
        }
        let during_oack = matches!(self.state, State::Oack { .. });
        self.finish(Outcome::PeerError {
            code,
            message: message.to_string(),
            during_oack,
        });
    }

    /// A packet that makes no sense here (a DATA or a request on a read
    /// transfer): answered with ERROR 4, which ends the transfer.
    pub fn handle_illegal(&mut self, what: &str) {
        if self.is_finished() {
            return;
        }
        self.control = self.guard.error(ErrorCode::IllegalOperation, what);
        self.finish(Outcome::LocalError {
            code: ErrorCode::IllegalOperation,
            message: what.to_string(),
        });
    }

    /// The shell could not read the file: tell the client and stop.
    pub fn abort(&mut self, code: ErrorCode, message: &str) {
        if self.is_finished() {
            return;
        }
        self.control = self.guard.error(code, message);
        self.finish(Outcome::LocalError {
            code,
            message: message.to_string(),
        });
    }

    /// True once the client has ACKed something (its address is real).
    pub fn is_verified(&self) -> bool {
        self.guard.is_verified()
    }

    /// Fills `batch` with datagrams to send now; returns false when there is
    /// nothing to send. Data datagrams of one batch all have the same length
    /// except possibly the last, so the shell can send them with UDP GSO.
    pub fn poll_transmit(&mut self, now: Instant, batch: &mut Batch) -> bool {
        batch.clear();
        if let Some(control) = self.control.take() {
            if !self.guard.allow() {
                return false;
            }
            batch.set_control(control);
            return true;
        }
        match &mut self.state {
            State::Finished(_) => false,
            State::Oack { sent_at, .. } => {
                if sent_at.is_some() {
                    return false;
                }
                if !self.guard.allow() {
                    return false;
                }
                *sent_at = Some(now);
                // Each copy of the OACK restarts its timer.
                self.deadline = None;
                let options = self.cfg.oack.clone().unwrap_or_default();
                let options: Vec<(&str, &str)> = options
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                batch.set_control(Packet::Oack { options }.to_bytes());
                self.arm(now);
                true
            }
            State::Data => self.transmit_data(now, batch),
        }
    }

    fn transmit_data(&mut self, now: Instant, batch: &mut Batch) -> bool {
        let limit = self.window_limit();
        if self.next_tx < self.window.len().min(limit) && !self.guard.allow() {
            return false;
        }
        while self.next_tx < self.window.len().min(limit) && !batch.is_full() {
            let block = &mut self.window[self.next_tx];
            if !batch.fits(block.datagram.len()) {
                break;
            }
            batch.push_data(self.next_tx, block.datagram.len());
            if block.sent_at.is_some() {
                block.resent = true;
                self.stats.retransmitted += 1;
            }
            block.sent_at = Some(now);
            self.stats.blocks_sent += 1;
            self.next_tx += 1;
        }
        if batch.is_empty() {
            return false;
        }
        self.arm(now);
        true
    }

    /// The datagrams `batch` (filled by [`Sender::poll_transmit`]) stands
    /// for, in order. Valid until the sender is next changed.
    pub fn datagrams<'a>(&'a self, batch: &'a Batch) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = match batch.control() {
            Some(_) => self.window.range(0..0),
            None => {
                let end = (batch.first + batch.len()).min(self.window.len());
                self.window.range(batch.first.min(end)..end)
            }
        };
        batch
            .control()
            .into_iter()
            .chain(data.map(|block| block.datagram.as_slice()))
    }

    /// The outcome, once the transfer is over.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// True once the transfer is over (a final ERROR may still be queued:
    /// drain [`Sender::poll_transmit`] first).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished(_))
    }

    /// Counters for the transfer log line.
    pub fn stats(&self) -> &TransferStats {
        &self.stats
    }

    fn finish(&mut self, outcome: Outcome) {
        self.deadline = None;
        self.state = State::Finished(outcome);
        self.window.clear();
    }
}
