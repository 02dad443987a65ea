//! The sender's side of the adaptive window ([`crate::tftp::transfer::adaptive`]):
//! a window sent in bursts a pause apart, what an ACK says about how the
//! window ended.

use std::time::Instant;

use super::{Sender, WindowEnd};
use crate::tftp::transfer::Batch;

impl Sender {
    /// How the window ended, read before its acknowledged blocks go. A cut after `kept`
    /// blocks is a tail cut when nothing sent after the missing block can
    /// have shown the client a gap before it answered: our timer resent
    /// the window, or a later burst went out after the one that held the
    /// missing block (which was then lost to its end) and the answer came
    /// more than two round trips after that burst. What counts is how
    /// many blocks of the missing block's burst arrived. A window whole only
    /// after a resend says nothing of the burst size.
    pub(super) fn window_end(
        &self,
        now: Instant,
        restart: bool,
        kept: usize,
        sent: usize,
    ) -> Option<WindowEnd> {
        if !restart {
            return (!self.timer_resent).then_some(WindowEnd::Whole { sent });
        }
        let missing = self.window.get(kept).and_then(|b| b.sent_at)?;
        let latest = self
            .window
            .iter()
            .take(sent)
            .filter_map(|b| b.sent_at)
            .max()?;
        let in_burst = self.window.range(..kept).rev();
        let kept_of_burst = in_burst.take_while(|b| b.sent_at == Some(missing)).count();
        // A gap in the middle of a burst is reported within a round trip
        // of that burst; a cut to its end only once a later one lands.
        let late = self
            .rto
            .srtt()
            .is_none_or(|rtt| now.saturating_duration_since(missing) > rtt * 2);
        if !(self.timer_resent || (missing < latest && late)) {
            return Some(WindowEnd::Gap);
        }
        if self.clean_start {
            return Some(WindowEnd::TailCut {
                kept: kept_of_burst,
            });
        }
        // The window restarted after a loss: the client may still hold
        // copies of blocks from before, which take room in its buffer, so
        // what it kept says less; at most halve the burst on it.
        let kept = kept_of_burst.max(self.adaptive.burst() / 2).max(1);
        (kept < self.adaptive.burst()).then_some(WindowEnd::TailCut { kept })
    }

    /// Tells the effective window how the window ended.
    pub(super) fn adapt(&mut self, now: Instant, end: WindowEnd) {
        self.clean_start = matches!(end, WindowEnd::Whole { .. });
        if let Some(change) = self.adaptive.window_ended(now, end, self.rto.current()) {
            self.window_change = Some(match self.window_change {
                Some((from, _)) => (from, change.1),
                None => change,
            });
        }
        self.stats.window_min = self.adaptive.min_burst() as u64;
        self.stats.window_final = self.adaptive.burst() as u64;
    }

    /// The window goes out again from its first block, in a fresh burst.
    pub(super) fn restart_window(&mut self) {
        self.next_tx = 0;
        self.burst_sent = 0;
        self.pace_at = None;
    }

    /// A change of the effective window since the last call, as
    /// `(from, to)` blocks per burst, for the log.
    pub fn take_window_change(&mut self) -> Option<(usize, usize)> {
        self.window_change.take()
    }

    pub(super) fn transmit_data(&mut self, now: Instant, batch: &mut Batch) -> bool {
        if self.pace_at.is_some_and(|at| now < at) {
            return false;
        }
        let resumed = self.pace_at.take().is_some();
        if resumed {
            self.burst_sent = 0;
        }
        let end = self.window.len().min(self.window_limit());
        let burst = if self.guard.is_verified() {
            self.adaptive.burst()
        } else {
            1
        };
        if self.next_tx < end && !self.guard.allow() {
            return false;
        }
        while self.next_tx < end && !batch.is_full() && self.burst_sent < burst {
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
            self.burst_sent += 1;
        }
        if batch.is_empty() {
            return false;
        }
        if self.burst_sent >= burst && self.next_tx < end {
            // the rest of the window once the client has taken this in
            let next = burst.min(end - self.next_tx);
            self.pace_at = Some(now + self.adaptive.pause(next, self.rto.current()));
        }
        if resumed {
            // the retransmission timer counts from the latest burst
            self.deadline = None;
        }
        self.arm(now);
        true
    }

    /// After an ACK inside the window, a client known to keep only part of
    /// a window is still taking in the rest of the latest burst (it drops
    /// those blocks, but they fill its buffer meanwhile): the window starts
    /// again after a pause.
    pub(super) fn pace_restart(&mut self, now: Instant) {
        if self.adapted() {
            let pause = self
                .adaptive
                .pause(self.adaptive.burst(), self.rto.current());
            self.pace_at = Some(now + pause);
        }
    }

    /// The client showed it keeps less than the negotiated window.
    fn adapted(&self) -> bool {
        self.guard.is_verified() && self.adaptive.burst() < self.adaptive.max()
    }
}
