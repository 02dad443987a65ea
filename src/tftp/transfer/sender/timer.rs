//! The sender's clocks: when to act next ([`Sender::poll_timeout`]), what
//! a timer expiry does (resend the window, or before the client answers
//! only an OACK no longer than the request, at most twice; give up), a
//! repeated request, and which answers are round-trip samples.

use std::time::{Duration, Instant};

use super::{Sender, State};
use crate::tftp::packet::{self, ErrorCode};
use crate::tftp::transfer::Outcome;

impl Sender {
    /// A round trip measured on a datagram sent once. Before the client
    /// has answered, a lost first reply (or a lost first answer) is not
    /// resent on our timer but on the client's, seconds later: an answer
    /// that comes after our timeout would have fired is then as ambiguous
    /// as one to a resent datagram, and a sample of the client's timeout
    /// would hold the timeout at its maximum for dozens of blocks.
    pub(super) fn sample(&mut self, rtt: Duration) {
        if self.guard.is_verified() || rtt < self.rto.current() {
            self.rto.sample(rtt);
        }
    }

    /// The timer armed at [`Sender::poll_timeout`] fired.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(at) = self.pace_at {
            // A burst of the window is still to go ([`Sender::poll_transmit`]
            // sends it once due): the timer counts from the window's last
            // burst, and the pause is shorter than the timer.
            self.pace_at = Some(at.max(now));
            return;
        }
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        self.deadline = None;
        let silent_for = now.saturating_duration_since(self.last_progress.unwrap_or(now));
        if !self.guard.is_verified() {
            // Only an OACK no longer than the request is resent to an
            // address that has not proven itself, and only twice (`guard`);
            // a real client asks again, and that is answered.
            if silent_for >= self.cfg.give_up_after {
                self.finish(Outcome::TimedOut);
            } else if self.is_oack() && self.guard.resend_on_timer(self.oack_len) {
                self.rto.back_off();
                self.stats.timeouts += 1;
                self.state = State::Oack {
                    sent_at: None,
                    resent: true,
                };
            } else {
                self.deadline = self.last_progress.map(|at| at + self.cfg.give_up_after);
            }
            return;
        }
        if silent_for >= self.cfg.give_up_after {
            self.control = Some(packet::error_packet(
                ErrorCode::NotDefined,
                "timed out waiting for ACK",
            ));
            self.finish(Outcome::TimedOut);
            return;
        }
        self.rto.back_off();
        self.stats.timeouts += 1;
        match &mut self.state {
            State::Oack { sent_at, resent } => {
                *sent_at = None;
                *resent = true;
            }
            State::Data => {
                self.timer_resent = true;
                self.restart_window();
            }
            State::Finished(_) => {}
        }
    }

    /// The client sent its request again from the same port. While it has
    /// not ACKed anything that means our first datagram (or its ACK) was
    /// lost: that datagram goes out once more. Once verified, a repeated
    /// request is a stale copy and changes nothing.
    pub fn handle_repeated_request(&mut self, now: Instant) {
        if self.is_finished() || !self.guard.repeat() {
            return;
        }
        self.last_progress = Some(now);
        self.deadline = Some(now + self.cfg.give_up_after);
        match &mut self.state {
            State::Oack { sent_at, resent } => {
                *sent_at = None;
                *resent = true;
            }
            State::Data => self.restart_window(),
            State::Finished(_) => {}
        }
    }

    pub(super) fn is_oack(&self) -> bool {
        matches!(self.state, State::Oack { .. })
    }

    pub(super) fn arm(&mut self, now: Instant) {
        let since = *self.last_progress.get_or_insert(now);
        if self.deadline.is_none() {
            // An unverified client gets no resend but of a short OACK: the
            // timer otherwise only ends the wait for it.
            let resend = self.is_oack() && self.guard.may_resend_on_timer(self.oack_len);
            self.deadline = Some(if self.guard.is_verified() || resend {
                now + self.rto.current()
            } else {
                since + self.cfg.give_up_after
            });
        }
    }

    /// The smoothed round trip to the client, once one was measured.
    pub fn round_trip(&self) -> Option<Duration> {
        self.rto.srtt()
    }

    /// When [`Sender::handle_timeout`] must be called next (or
    /// [`Sender::poll_transmit`], when a window's next burst is due).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        [self.deadline, self.pace_at].into_iter().flatten().min()
    }
}
