//! The effective window of a read transfer: how many DATA blocks go out
//! back to back, adapted to what the client keeps. Pure: window outcomes,
//! answer times and the time in; the burst size and the pause between
//! bursts out.
//!
//! A client that asked for `windowsize` N acknowledges once it holds N
//! blocks (RFC 7440), so the sender cannot make windows smaller; what it
//! can shorten is the burst. A window is sent in bursts of the effective
//! window, each after a pause of the time the client takes for as many
//! blocks (measured from the ACKs of earlier windows: the time from a
//! window's last burst to its ACK, per block of that burst), so a burst is
//! taken in before the next one lands.
//!
//! Why the window shrinks only on a *tail* cut. A full receive buffer
//! drops every datagram from the one that did not fit to the end of the
//! burst: the client sees nothing after the cut, cannot tell anything is
//! missing, and says how many blocks it kept only when our timer resends
//! the window, a later burst shows it the gap, or its own timer fires. A
//! random drop leaves the later blocks of the burst to arrive; the client
//! sees the gap and answers at once (RFC 7440 receivers acknowledge the
//! last block before a gap; atftp and `tftp_bench_client` do), within a
//! round trip. So (the sender tells which, `sender::pacing`):
//! - a tail cut after `kept` blocks of a burst at most halves the burst
//!   (never below `kept`), since a random loss whose gap report was lost
//!   as well looks the same once; a second cut at the same place (±1) is
//!   a full buffer: the burst becomes `kept`, what the client showed it
//!   holds, and any probe above it is delayed;
//! - a gap reported at once (scattered loss) changes nothing, so a lossy
//!   link keeps its window;
//! - a window that arrives whole lets the burst grow by one block, at
//!   once while no larger burst is known to overrun the client, else
//!   only once the probe delay is over. A tail cut costs a retransmission
//!   timeout, tens of windows on a LAN, so a probe of a size that overran
//!   before waits [`PROBE_AFTER_RTOS`] timeouts, twice that after each
//!   failed probe (up to 2^[`MAX_PROBE_BACKOFF`] times): failed probes cost at
//!   most a few percent of the time, and a client whose buffer frees up is
//!   found again within seconds;
//! - a whole burst lost after an earlier one of the window arrived
//!   (`kept` 0) means the client is slower than the pause: the pause
//!   doubles, up to [`MAX_PAUSE_SCALE`] times, and halves again with each
//!   whole window.
//!
//! This is TCP's congestion window (multiplicative decrease, additive
//! increase) with the decrease taken to what the client reported once the
//! report repeats, because here the report is exact and a loss is
//! expensive; a client that keeps every window never leaves the
//! negotiated size.

use std::time::{Duration, Instant};

/// Retransmission timeouts to wait before bursting above a size that
/// overran the client.
pub const PROBE_AFTER_RTOS: u32 = 32;
/// Doublings of the probe delay after failed probes.
pub const MAX_PROBE_BACKOFF: u32 = 4;
/// Largest pause between bursts, in round trips.
pub const MAX_PAUSE_SCALE: u32 = 8;

/// How a window ended, as the sender saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEnd {
    /// Every one of the `sent` blocks was acknowledged without a resend.
    Whole {
        /// Blocks the window had.
        sent: usize,
    },
    /// The client kept the first `kept` blocks of a burst and lost the
    /// rest: it said so only after our timer resent the window or a later
    /// burst arrived, so nothing after the cut had reached it. `kept` 0: a
    /// whole burst lost after an earlier one of the window arrived.
    TailCut {
        /// Blocks of the burst that arrived.
        kept: usize,
    },
    /// An ACK inside the window before our timer fired: the client saw a
    /// later block, so the loss was scattered, not a full buffer.
    Gap,
}

/// The effective window of one transfer.
#[derive(Debug, Clone)]
pub struct AdaptiveWindow {
    max: usize,
    burst: usize,
    min_burst: usize,
    /// The smallest burst known to overrun the client.
    overran: Option<usize>,
    /// Not before this may a burst of `overran` blocks be tried again.
    probe_at: Option<Instant>,
    probe_backoff: u32,
    /// The current burst is a probe of a size that overran before.
    probing: bool,
    pause_scale: u32,
    /// Blocks kept at the latest tail cut.
    last_cut: Option<usize>,
    /// Time the client takes per block of a burst: falls at once to a
    /// smaller sample, rises by an eighth of a larger one.
    per_block: Option<Duration>,
}

impl AdaptiveWindow {
    /// Starts at the negotiated window: a client that keeps everything
    /// never sees a difference.
    pub fn new(windowsize: u16) -> Self {
        let max = usize::from(windowsize.max(1));
        Self {
            max,
            burst: max,
            min_burst: max,
            overran: None,
            probe_at: None,
            probe_backoff: 0,
            probing: false,
            pause_scale: 1,
            per_block: None,
            last_cut: None,
        }
    }

    /// Blocks sent back to back.
    pub fn burst(&self) -> usize {
        self.burst
    }

    /// The negotiated window.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The smallest burst the transfer used.
    pub fn min_burst(&self) -> usize {
        self.min_burst
    }

    /// A round trip measured over `blocks` blocks: the time from sending a
    /// burst of `blocks` to the client's answer to it (the ACK of a window's
    /// last burst, or the prompt ACK to the first block of a resent window).
    pub fn sample(&mut self, round_trip: Duration, blocks: usize) {
        let blocks = u32::try_from(blocks.max(1)).unwrap_or(u32::MAX);
        let sample = round_trip / blocks;
        self.per_block = Some(match self.per_block {
            Some(current) if sample > current => current + (sample - current) / 8,
            _ => sample,
        });
    }

    /// The pause before a burst of `next` blocks of the window: the time
    /// the client takes to make room for them, and less than half the
    /// retransmission timeout `rto`, so the window is out long before the
    /// timer resends it.
    pub fn pause(&self, next: usize, rto: Duration) -> Duration {
        let per_block = self.per_block.unwrap_or(rto / 32);
        let next = u32::try_from(next).unwrap_or(u32::MAX);
        per_block
            .saturating_mul(next)
            .saturating_mul(self.pause_scale)
            .min(rto / 2)
    }

    /// Takes the outcome of a window; returns `(from, to)` when the burst
    /// size changed. `rto` is the current retransmission timeout (the cost
    /// of a failed probe).
    pub fn window_ended(
        &mut self,
        now: Instant,
        end: WindowEnd,
        rto: Duration,
    ) -> Option<(usize, usize)> {
        let from = self.burst;
        match end {
            WindowEnd::Whole { sent } => self.whole(now, sent),
            WindowEnd::TailCut { kept } => self.tail_cut(now, kept, rto),
            WindowEnd::Gap => {}
        }
        self.min_burst = self.min_burst.min(self.burst);
        (self.burst != from).then_some((from, self.burst))
    }

    fn whole(&mut self, now: Instant, sent: usize) {
        // Only a window that needed more than one burst says the pace
        // fits; a short last window says nothing.
        if self.burst >= self.max || sent <= self.burst {
            return;
        }
        self.pause_scale = (self.pause_scale / 2).max(1);
        if self.probing {
            // the client keeps more than before: its buffer freed up
            self.probing = false;
            self.overran = None;
            self.probe_backoff = 0;
        }
        let next = self.burst + 1;
        match self.overran {
            Some(limit) if next >= limit => {
                if self.probe_at.is_none_or(|at| now >= at) {
                    self.probing = true;
                    self.burst = next;
                }
            }
            _ => self.burst = next,
        }
    }

    fn tail_cut(&mut self, now: Instant, kept: usize, rto: Duration) {
        if kept == 0 {
            // A whole burst was lost after an earlier one arrived: the
            // client takes longer than the pause.
            self.pause_scale = (self.pause_scale * 2).min(MAX_PAUSE_SCALE);
        }
        // A full buffer cuts at the same place every time; scattered loss
        // whose report to us was lost too looks like one cut, somewhere.
        let again = self.last_cut.is_some_and(|last| last.abs_diff(kept) <= 1);
        self.last_cut = Some(kept);
        if !(again || self.probing) {
            if kept > 0 {
                self.burst = kept.max(self.burst / 2).min(self.burst);
            }
            return;
        }
        if kept > 0 {
            self.burst = kept.min(self.burst);
        }
        if self.probing {
            self.probe_backoff = (self.probe_backoff + 1).min(MAX_PROBE_BACKOFF);
        }
        self.probing = false;
        self.overran = Some(self.burst + 1);
        let wait = rto.saturating_mul(PROBE_AFTER_RTOS << self.probe_backoff);
        self.probe_at = Some(now + wait);
    }
}

#[cfg(test)]
#[path = "adaptive_tests.rs"]
mod tests;
