//! UDP sockets for the TFTP shell: the listener (async, on the runtime) and
//! the per-transfer sockets (one ephemeral port, the transfer ID, each),
//! which are blocking sockets driven by the transfer's own thread: a wait is
//! a blocking receive bounded by the socket's receive timeout, after a brief
//! busy poll when the client is known to answer within microseconds.
//!
//! A window of equal-sized DATA datagrams goes out in one `sendmsg` with UDP
//! generic segmentation offload (`UDP_SEGMENT`), gathered straight from the
//! sender's buffers, so a window of 16 blocks costs one system call and no
//! copy. Datagrams too large to be segments of one send (blocks near 64 KiB)
//! go out together with one `sendmmsg`, and so does everything once the
//! kernel or device has refused segmentation (old kernels, blocks larger than
//! the MTU).
//!
//! Submodules: `bind` (the sockets' creation and binding), `send` (a window
//! out in one or few system calls), `recv` (bounded waits, the brief busy
//! poll), `sockopt` (fragmentation allowed, the path MTU), `stamped` (the
//! listener's receive, with the kernel's arrival time).

use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::time::Duration;

mod bind;
mod recv;
mod send;
mod sockopt;
mod stamped;

pub use bind::{bind_transfer, bind_with};
pub use send::{MAX_BATCH_BYTES, MAX_SEGMENTS};
pub use sockopt::path_block_limit;
pub use stamped::{enable_timestamps, recv_stamped, Stamped};

/// What a wait on a transfer socket brought.
#[derive(Debug)]
pub enum Received {
    /// A datagram of this length from this address.
    Datagram(usize, SocketAddr),
    /// The deadline passed.
    Timeout,
    /// Nothing yet, but the caller should look around (shutdown) and wait
    /// again: a long wait is cut into slices, and receive errors (an ICMP
    /// error from the client) land here too.
    Again,
}

/// A transfer socket: blocking sends, waits bounded by a deadline, and
/// segmented sends where the kernel has them.
pub struct TransferSocket {
    socket: StdUdpSocket,
    segmentation: bool,
    /// The receive timeout the socket has now.
    timeout: std::cell::Cell<Option<Duration>>,
    /// Whether the next wait may poll (see [`recv::PollGate`]).
    poll_gate: std::cell::Cell<recv::PollGate>,
}

impl TransferSocket {
    /// Wraps a bound blocking socket.
    pub fn new(socket: StdUdpSocket) -> Self {
        // Clients that ask for blocks larger than the MTU rely on IP
        // fragmentation, so never forbid it.
        sockopt::allow_fragmentation(&socket);
        Self {
            socket,
            segmentation: true,
            timeout: std::cell::Cell::new(None),
            poll_gate: std::cell::Cell::new(recv::PollGate::default()),
        }
    }

    /// Sends one datagram.
    pub fn send_to(&self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.socket.send_to(datagram, peer).map(|_| ())
    }
}

#[cfg(test)]
mod tests;
