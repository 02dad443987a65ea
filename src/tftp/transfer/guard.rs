//! The anti-amplification rule both transfer machines share: until the
//! client has proven its address (by answering on the transfer's own port),
//! it may have been spoofed, so it is sent at most one datagram per request
//! datagram received, and an ERROR to it is no longer than its request.

use crate::tftp::packet::{self, ErrorCode};

/// Tracks whether the client is proven, and what it may still be sent.
#[derive(Debug, Clone)]
pub(super) struct PeerGuard {
    verified: bool,
    /// Datagrams still allowed to an unverified client.
    credits: u32,
    /// Length of the request datagram.
    request_len: usize,
}

impl PeerGuard {
    /// A guard for a transfer opened by a request of `request_len` bytes,
    /// which earns the first reply.
    pub(super) fn new(request_len: usize) -> Self {
        Self {
            verified: false,
            credits: 1,
            request_len,
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
