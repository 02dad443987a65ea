//! One transfer's reports, the same for TFTP and HTTP: started, bytes so
//! far (a few times a second at most, whatever the block or chunk rate),
//! ended; a transfer dropped without an end is reported as gone.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::event::{Ended, Event, Outcome, Progress, Protocol, Started, TransferId};
use super::Events;
use crate::mac::MacAddr;

/// Progress is reported at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What is known of a transfer when it starts.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// TFTP or HTTP.
    pub protocol: Protocol,
    /// The client.
    pub peer: SocketAddr,
    /// Its MAC, when a lease names it.
    pub mac: Option<MacAddr>,
    /// The file.
    pub file: String,
    /// Bytes to move, when known.
    pub size: Option<u64>,
    /// An upload (TFTP write).
    pub upload: bool,
}

/// Reports one transfer.
pub struct Tracker {
    events: Events,
    id: TransferId,
    /// The count the live state reads.
    moved: Arc<AtomicU64>,
    bytes: u64,
    reported: Instant,
    ended: bool,
}

impl Tracker {
    /// Reports the start of `t`.
    pub fn start(events: &Events, t: NewTransfer) -> Self {
        let id = events.next_id();
        let moved = Arc::new(AtomicU64::new(0));
        events.emit(Event::TransferStarted(Started {
            id,
            protocol: t.protocol,
            at: SystemTime::now(),
            peer: t.peer,
            mac: t.mac,
            file: t.file,
            size: t.size,
            upload: t.upload,
            moved: Arc::clone(&moved),
        }));
        Tracker {
            events: events.clone(),
            id,
            moved,
            bytes: 0,
            reported: Instant::now(),
            ended: false,
        }
    }

    /// Reports a request refused before any byte moved (`code`: the TFTP
    /// error code or HTTP status).
    pub fn refused(events: &Events, t: NewTransfer, code: u16, why: &str) {
        let why = why.to_string();
        Tracker::start(events, t).end(Outcome::Failed { code, why }, 0, 0);
    }

    /// `bytes` moved so far; reported when the last report is old enough.
    pub fn progress(&mut self, bytes: u64) {
        self.bytes = bytes;
        self.moved.store(bytes, Ordering::Relaxed);
        if self.reported.elapsed() >= PROGRESS_EVERY {
            self.reported = Instant::now();
            let (id, bytes) = (self.id, self.bytes);
            self.events
                .emit(Event::TransferProgress(Progress { id, bytes }));
        }
    }

    /// Reports the end.
    pub fn end(mut self, outcome: Outcome, bytes: u64, retransmissions: u64) {
        self.finish(outcome, bytes, retransmissions);
    }

    fn finish(&mut self, outcome: Outcome, bytes: u64, retransmissions: u64) {
        self.ended = true;
        self.events.emit(Event::TransferEnded(Ended {
            id: self.id,
            at: SystemTime::now(),
            outcome,
            bytes,
            retransmissions,
        }));
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if !self.ended {
            let why = "ended before it was done".to_string();
            self.finish(Outcome::Gone { why }, self.bytes, 0);
        }
    }
}
