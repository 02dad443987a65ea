//! Late copies of a request already served, without I/O.
//!
//! A client repeats its request until it hears from the server. Under a
//! boot storm a copy can wait in the listening socket's queue until after
//! the transfer it asked for has ended, and its client has gone. Started
//! again, that transfer would send its OACK or first block to the client's
//! port, and the kernel hands ports out again: a new client waiting there
//! for its own first answer takes the first one that comes, and downloads
//! the wrong file, intact, without an error (seen in a storm of 200 busybox,
//! tftp-hpa, atftp and curl clients from one address).
//!
//! The rule: a copy of a request (the same datagram from the same address
//! and port) that the kernel received before its client first answered the
//! transfer (its first ACK of a download, first DATA of an upload) was sent
//! before the client heard from us: it is late, and dropped. A request sent
//! after that, even the same datagram from the same port, is a new request
//! and starts a new transfer. Transfers that ended without an answer (a
//! size probe the firmware aborted) are not remembered: firmware asks again
//! at once, often with the same datagram.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::admission::Client;

/// How long an ended transfer is remembered. A copy older than this would
/// have been answered long since (the listener reads far faster).
pub const REMEMBERED_FOR: Duration = Duration::from_secs(60);

/// Ended transfers remembered at once; past that the oldest is forgotten.
pub const MAX_REMEMBERED: usize = 4096;

/// The clients of recently ended transfers, and when each first answered.
#[derive(Debug, Default)]
pub struct LateCopies {
    ended: HashMap<Client, Ended>,
}

#[derive(Debug, Clone, Copy)]
struct Ended {
    at: Instant,
    answered: SystemTime,
}

impl LateCopies {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// The transfer of `client` ended at `now`; its client first answered
    /// at `answered` (`None`: never, and it is not remembered).
    pub fn ended(&mut self, client: Client, answered: Option<SystemTime>, now: Instant) {
        let Some(answered) = answered else {
            return;
        };
        if self.ended.len() >= MAX_REMEMBERED {
            self.forget_old(now);
        }
        self.ended.insert(client, Ended { at: now, answered });
    }

    /// Whether a request of `client` the kernel received at `received` is
    /// a late copy of one already served. A request without an arrival
    /// time never is.
    pub fn is_late(&self, client: &Client, received: Option<SystemTime>) -> bool {
        match (received, self.ended.get(client)) {
            (Some(received), Some(ended)) => received < ended.answered,
            _ => false,
        }
    }

    /// Ended transfers remembered now.
    pub fn len(&self) -> usize {
        self.ended.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.ended.is_empty()
    }

    /// Forgets transfers older than [`REMEMBERED_FOR`], and the oldest one
    /// if that left the memory full.
    fn forget_old(&mut self, now: Instant) {
        self.ended
            .retain(|_, e| now.saturating_duration_since(e.at) <= REMEMBERED_FOR);
        if self.ended.len() >= MAX_REMEMBERED {
            let oldest = self.ended.iter().min_by_key(|(_, e)| e.at).map(|(c, _)| *c);
            if let Some(oldest) = oldest {
                self.ended.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(port: u16, datagram: &[u8]) -> Client {
        Client::new(format!("192.0.2.7:{port}").parse().unwrap(), datagram)
    }

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(ms)
    }

    #[test]
    fn a_copy_received_before_the_client_first_answered_is_late() {
        let mut late = LateCopies::new();
        let a = client(2000, b"RRQ boot6");
        late.ended(a, Some(at(100)), Instant::now());
        assert!(late.is_late(&a, Some(at(40))), "sent before our reply");
        assert!(!late.is_late(&a, Some(at(900))), "asked again, afresh");
        assert!(!late.is_late(&a, None), "no arrival time: not judged");
    }

    #[test]
    fn another_request_from_the_same_port_is_never_late() {
        let mut late = LateCopies::new();
        late.ended(client(2000, b"RRQ boot6"), Some(at(100)), Instant::now());
        assert!(!late.is_late(&client(2000, b"RRQ boot2"), Some(at(40))));
        assert!(!late.is_late(&client(2001, b"RRQ boot6"), Some(at(40))));
    }

    #[test]
    fn a_transfer_its_client_never_answered_is_not_remembered() {
        // A size probe: OACK, then the firmware's ERROR, then the same
        // request again at once.
        let mut late = LateCopies::new();
        let probe = client(1024, b"RRQ pxelinux.0 tsize 0");
        late.ended(probe, None, Instant::now());
        assert!(late.is_empty());
        assert!(!late.is_late(&probe, Some(at(0))));
    }

    #[test]
    fn memory_is_bounded_and_forgets_the_oldest_first() {
        let mut late = LateCopies::new();
        let t0 = Instant::now();
        for port in 0..MAX_REMEMBERED as u16 {
            let when = t0 + Duration::from_millis(u64::from(port));
            late.ended(client(port, b"r"), Some(at(100)), when);
        }
        assert_eq!(late.len(), MAX_REMEMBERED);
        let now = t0 + Duration::from_secs(5);
        late.ended(client(60000, b"r"), Some(at(100)), now);
        assert_eq!(late.len(), MAX_REMEMBERED);
        assert!(!late.is_late(&client(0, b"r"), Some(at(1))), "oldest gone");
        assert!(late.is_late(&client(1, b"r"), Some(at(1))));
        // A minute later the old ones all go at once.
        let later = now + REMEMBERED_FOR;
        late.ended(client(60001, b"r"), Some(at(100)), later);
        assert_eq!(late.len(), 2);
    }
}
