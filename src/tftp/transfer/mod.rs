//! The sans-IO TFTP transfer state machines: [`Sender`] for read requests,
//! [`Receiver`] for write requests. They take packets, file data and the
//! current time, and give back datagrams to send, data to write, the next
//! deadline and the outcome. They never touch a socket, a file or the clock.

mod guard;
mod receiver;
mod sender;

#[cfg(test)]
mod receiver_tests;
#[cfg(test)]
mod rollover_tests;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod unverified_tests;

pub use receiver::{Receiver, ReceiverConfig};
pub use sender::{Sender, SenderConfig};

use crate::tftp::packet::ErrorCode;

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every byte arrived and was acknowledged.
    Complete,
    /// The peer sent an ERROR. `during_oack` marks an abort right after our
    /// OACK, which is how UEFI firmware ends its size probe.
    PeerError {
        /// The peer's error code.
        code: ErrorCode,
        /// The peer's message.
        message: String,
        /// The ERROR answered our OACK.
        during_oack: bool,
    },
    /// We ended it with this ERROR (disk full, read failure, bad packet).
    LocalError {
        /// Code sent to the peer.
        code: ErrorCode,
        /// Message sent to the peer.
        message: String,
    },
    /// The peer stopped answering.
    TimedOut,
}

/// Counters reported when a transfer ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Payload bytes acknowledged (read) or received in order (write).
    pub bytes: u64,
    /// Data datagrams sent, first copies and resends.
    pub blocks_sent: u64,
    /// Data datagrams sent again.
    pub retransmitted: u64,
    /// Timer expiries that led to a resend.
    pub timeouts: u64,
    /// ACKs inside a window that restarted it.
    pub window_restarts: u64,
    /// Duplicate or stale ACKs ignored.
    pub duplicate_acks: u64,
}

/// Datagrams to send in one go. Data datagrams in one batch share a length
/// except the last, which is what UDP generic segmentation offload needs.
#[derive(Debug, Default)]
pub struct Batch {
    buf: Vec<u8>,
    segment: usize,
    count: usize,
    max_count: usize,
    max_bytes: usize,
}

impl Batch {
    /// A batch of at most `max_count` datagrams and `max_bytes` bytes.
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(max_bytes),
            segment: 0,
            count: 0,
            max_count: max_count.max(1),
            max_bytes,
        }
    }

    /// Empties the batch.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.segment = 0;
        self.count = 0;
    }

    /// True when no datagram is in the batch.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True when no further datagram can be added.
    pub fn is_full(&self) -> bool {
        self.count >= self.max_count || (self.count > 0 && self.last_is_short())
    }

    fn last_is_short(&self) -> bool {
        self.buf.len() != self.segment * self.count
    }

    /// True when a datagram of `len` bytes may join the batch.
    pub fn fits(&self, len: usize) -> bool {
        if self.count == 0 {
            return true;
        }
        !self.is_full() && len <= self.segment && self.buf.len() + len <= self.max_bytes
    }

    /// Adds a datagram; the caller checked [`Batch::fits`].
    pub fn push(&mut self, datagram: &[u8]) {
        if self.count == 0 {
            self.segment = datagram.len();
        }
        self.buf.extend_from_slice(datagram);
        self.count += 1;
    }

    /// The datagrams back to back.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Length of every datagram but possibly the last.
    pub fn segment_size(&self) -> usize {
        self.segment
    }

    /// Number of datagrams.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The datagrams one by one.
    pub fn datagrams(&self) -> impl Iterator<Item = &[u8]> {
        self.buf.chunks(self.segment.max(1))
    }
}
