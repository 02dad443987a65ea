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
//! - a window goes out in bursts of the effective window
//!   ([`super::adaptive`]), a round trip apart: all at once for a client
//!   that keeps whole windows, fewer at a time for one whose receive buffer
//!   showed it keeps only the first few blocks of each;
//! - the retransmission timeout adapts to the measured round trip; an answer
//!   to the first reply that comes after the timeout would have fired gives
//!   no sample (Karn: the client most likely sent it again on its own timer);
//! - the transfer ends when the block shorter than `blksize` is ACKed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod pacing;
mod timer;
mod window;

use super::adaptive::{AdaptiveWindow, WindowEnd};
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
    /// Blocks per burst, adapted to what the client keeps.
    adaptive: AdaptiveWindow,
    /// A change of the effective window not yet taken by the shell.
    window_change: Option<(usize, usize)>,
    /// Our timer resent the window since the last ACK that moved it.
    timer_resent: bool,
    /// Blocks sent in the current (or latest) burst.
    burst_sent: usize,
    /// The window's next burst waits until then.
    pace_at: Option<Instant>,
    /// The window started after one that arrived whole: what its ACK says
    /// of a cut is not muddled by copies left from a loss.
    clean_start: bool,
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
        let adaptive = AdaptiveWindow::new(cfg.windowsize);
        let stats = TransferStats {
            window_min: adaptive.min_burst() as u64,
            window_final: adaptive.burst() as u64,
            ..TransferStats::default()
        };
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
            stats,
            adaptive,
            window_change: None,
            timer_resent: false,
            burst_sent: 0,
            pace_at: None,
            clean_start: true,
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
        let end = self.window_end(now, restart, count, sent);
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
            // the ACK answers the window's last burst
            self.adaptive.sample(rtt, self.burst_sent);
        }
        // An ACK inside the window says the rest was lost: resend from
        // there (RFC 7440). After a full window nothing is outstanding.
        if restart {
            self.stats.window_restarts += 1;
        }
        match end {
            Some(end) => self.adapt(now, end),
            None => self.clean_start = false,
        }
        self.restart_window();
        if restart {
            self.pace_restart(now);
        }
        self.progress(now);
        if self.eof && self.window.is_empty() {
            self.finish(Outcome::Complete);
        }
    }

    fn progress(&mut self, now: Instant) {
        self.timer_resent = false;
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
        self.pace_at = None;
        self.state = State::Finished(outcome);
        self.window.clear();
    }
}
