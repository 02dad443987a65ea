//! The sans-IO TFTP transfer state machines: [`Sender`] for read requests,
//! [`Receiver`] for write requests. They take packets, file data and the
//! current time, and give back datagrams to send, data to write, the next
//! deadline and the outcome. They never touch a socket, a file or the clock.

pub mod adaptive;
mod guard;
mod receiver;
mod sender;

#[cfg(test)]
mod adaptive_sim_tests;
#[cfg(test)]
mod first_exchange_tests;
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
#[cfg(test)]
mod window_tests;

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
    /// Smallest effective window (blocks per burst) of a download (0 for
    /// an upload).
    pub window_min: u64,
    /// Effective window at the end of a download (0 for an upload).
    pub window_final: u64,
}

/// Datagrams to send in one go, described rather than copied: a control
/// datagram (OACK or ERROR) owned by the batch, or a run of DATA datagrams
/// still held in the sender's window ([`Sender::datagrams`] gives them).
/// Data datagrams in one batch share a length except the last, which is
/// what UDP generic segmentation offload needs.
#[derive(Debug, Default)]
pub struct Batch {
    control: Option<Vec<u8>>,
    /// Position in the sender's window of the first data datagram.
    first: usize,
    count: usize,
    segment: usize,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
}

impl Batch {
    /// A batch of at most `max_count` datagrams and `max_bytes` bytes.
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        Self {
            max_count: max_count.max(1),
            max_bytes,
            ..Self::default()
        }
    }

    /// Empties the batch.
    pub fn clear(&mut self) {
        self.control = None;
        self.first = 0;
        self.count = 0;
        self.segment = 0;
        self.bytes = 0;
    }

    /// True when no datagram is in the batch.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True when no further datagram can be added.
    fn is_full(&self) -> bool {
        self.control.is_some()
            || self.count >= self.max_count
            || (self.count > 0 && self.bytes != self.segment * self.count)
    }

    /// True when a data datagram of `len` bytes may join the batch.
    fn fits(&self, len: usize) -> bool {
        if self.count == 0 {
            return true;
        }
        !self.is_full() && len <= self.segment && self.bytes + len <= self.max_bytes
    }

    /// Makes the batch one control datagram.
    fn set_control(&mut self, datagram: Vec<u8>) {
        self.clear();
        self.control = Some(datagram);
        self.count = 1;
    }

    /// Adds the data datagram at `position` in the window, of `len` bytes;
    /// the caller checked [`Batch::fits`] and adds positions in order.
    fn push_data(&mut self, position: usize, len: usize) {
        if self.count == 0 {
            self.first = position;
            self.segment = len;
        }
        self.count += 1;
        self.bytes += len;
    }

    /// The control datagram, when the batch is one.
    fn control(&self) -> Option<&[u8]> {
        self.control.as_deref()
    }

    /// Total bytes of the datagrams.
    pub fn byte_len(&self) -> usize {
        self.control.as_ref().map_or(self.bytes, Vec::len)
    }

    /// Length of every datagram but possibly the last.
    pub fn segment_size(&self) -> usize {
        self.control.as_ref().map_or(self.segment, Vec::len)
    }

    /// Number of datagrams.
    pub fn len(&self) -> usize {
        self.count
    }
}
