//! The anti-amplification rule both transfer machines share: until the
//! client has proven its address (by answering on the transfer's own port),
//! it may have been spoofed, so it is sent at most one datagram per request
//! datagram received, plus at most [`TIMER_RESENDS`] resends on a timer of
//! a datagram no longer than the request; and an ERROR to it is no longer
//! than its request. An address that never asked thus gets at most
//! `1 + TIMER_RESENDS` times the bytes sent in its name.

use crate::tftp::packet::{self, ErrorCode};

/// Resends on a timer allowed before the client answers, in all.
pub(super) const TIMER_RESENDS: u32 = 2;

/// Tracks whether the client is proven, and what it may still be sent.
#[derive(Debug, Clone)]
pub(super) struct PeerGuard {
    verified: bool,
    /// Datagrams still allowed to an unverified client.
    credits: u32,
    /// Length of the request datagram.
    request_len: usize,
    /// Timer resends still allowed before the client answers.
    timer_resends: u32,
}

impl PeerGuard {
    /// A guard for a transfer opened by a request of `request_len` bytes,
    /// which earns the first reply.
    pub(super) fn new(request_len: usize) -> Self {
        Self {
            verified: false,
            credits: 1,
            request_len,
            timer_resends: TIMER_RESENDS,
        }
    }

    /// The client answered on the transfer port: its address is real.
    pub(super) fn verify(&mut self) {
        self.verified = true;
    }

    /// True once the client has answered.
    pub(super) fn is_verified(&self) -> bool {
        self.verified
    }

    /// The request came again: one more reply is allowed. Returns false
    /// (and allows nothing) once the client is verified, as the copy is
    /// then stale.
    pub(super) fn repeat(&mut self) -> bool {
        if self.verified {
            return false;
        }
        self.credits = self.credits.saturating_add(1);
        true
    }

    /// True when a datagram of `len` bytes may still be resent on a timer:
    /// always once verified; before that, when it is no longer than the
    /// request and fewer than [`TIMER_RESENDS`] were.
    pub(super) fn may_resend_on_timer(&self, len: usize) -> bool {
        self.verified || (len <= self.request_len && self.timer_resends > 0)
    }

    /// The timer fired for a datagram of `len` bytes: one more datagram is
    /// allowed when [`PeerGuard::may_resend_on_timer`] says so. Returns
    /// whether it was.
    pub(super) fn resend_on_timer(&mut self, len: usize) -> bool {
        if self.verified {
            return true;
        }
        if !self.may_resend_on_timer(len) {
            return false;
        }
        self.timer_resends -= 1;
        self.credits = self.credits.saturating_add(1);
        true
    }

    /// Takes the right to send one datagram; always granted once verified.
    pub(super) fn allow(&mut self) -> bool {
        if self.verified {
            return true;
        }
        match self.credits.checked_sub(1) {
            Some(left) => {
                self.credits = left;
                true
            }
            None => false,
        }
    }

    /// An ERROR datagram: whole once verified, else cut to the request's
    /// length (or nothing when even an empty message does not fit).
    pub(super) fn error(&self, code: ErrorCode, message: &str) -> Option<Vec<u8>> {
        if self.verified {
            Some(packet::error_packet(code, message))
        } else {
            packet::error_within(code, message, self.request_len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reply_per_request_until_verified() {
        let mut guard = PeerGuard::new(12);
        assert!(guard.allow());
        assert!(!guard.allow(), "one request, one reply");
        assert!(guard.repeat());
        assert!(guard.allow());
        assert!(!guard.allow());
        guard.verify();
        assert!(!guard.repeat(), "a stale request after verification");
        assert!((0..100).all(|_| guard.allow()));
    }

    #[test]
    fn timer_resends_are_bounded_and_no_longer_than_the_request() {
        let mut guard = PeerGuard::new(20);
        assert!(guard.allow());
        assert!(!guard.resend_on_timer(21), "longer than the request");
        assert!(!guard.allow());
        for _ in 0..TIMER_RESENDS {
            assert!(guard.may_resend_on_timer(20));
            assert!(guard.resend_on_timer(20));
            assert!(guard.allow());
            assert!(!guard.allow(), "one datagram per timer resend");
        }
        assert!(!guard.may_resend_on_timer(20));
        assert!(!guard.resend_on_timer(20), "the bound is reached");
        assert!(!guard.allow());
        assert!(guard.repeat(), "a repeated request still earns a reply");
        assert!(guard.allow());
        guard.verify();
        assert!(guard.resend_on_timer(1000), "no bound once verified");
    }

    #[test]
    fn errors_to_an_unverified_client_fit_its_request() {
        let mut guard = PeerGuard::new(12);
        let cut = guard.error(ErrorCode::AccessViolation, "Access violation: x");
        assert_eq!(cut.as_deref(), Some(&b"\x00\x05\x00\x02Denied\x00"[..]));
        assert_eq!(PeerGuard::new(4).error(ErrorCode::NotDefined, ""), None);
        guard.verify();
        let whole = guard.error(ErrorCode::AccessViolation, "Access violation: x");
        assert_eq!(whole.map(|e| e.len()), Some(24));
    }
}
