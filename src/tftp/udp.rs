//! UDP sockets for the TFTP shell: the listener (async, on the runtime) and
//! the per-transfer sockets (one ephemeral port, the transfer ID, each),
//! which are blocking sockets driven by the transfer's own thread.
//!
//! A window of equal-sized DATA datagrams goes out in one `sendmsg` with UDP
//! generic segmentation offload (`UDP_SEGMENT`), gathered straight from the
//! sender's buffers, so a window of 16 blocks costs one system call and no
//! copy. Where the kernel or device refuses segmentation (old kernels,
//! blocks larger than the MTU), the socket falls back to one datagram per
//! call for the rest of the transfer.

use std::io::{self, IoSlice};
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::UdpSocket;

/// Socket buffer size asked for: a few windows of the largest blocks.
const BUFFER_BYTES: usize = 4 << 20;

/// Datagrams the kernel accepts in one segmented send (`UDP_MAX_SEGMENTS`
/// of older kernels; newer ones take more).
pub const MAX_SEGMENTS: usize = 64;

/// Bytes one segmented send may carry (one IP packet's worth).
pub const MAX_SEGMENTED_BYTES: usize = 65_000;

/// Longest single wait, so a transfer notices shutdown promptly.
const MAX_WAIT: Duration = Duration::from_millis(200);

fn new_socket(addr: SocketAddr, reuse: bool, only_v6: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if reuse {
        socket.set_reuse_address(true)?;
    }
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    // Bigger buffers only help; failing to get them is not fatal.
    let _ = socket.set_send_buffer_size(BUFFER_BYTES);
    let _ = socket.set_recv_buffer_size(BUFFER_BYTES);
    Ok(socket)
}

/// Binds a listening socket for the runtime.
pub fn bind(addr: SocketAddr, reuse: bool) -> io::Result<UdpSocket> {
    // `[::]` serves IPv4 too unless the admin bound a specific address.
    bind_with(addr, reuse, !addr.ip().is_unspecified())
}

/// Like [`bind`], with the IPv6 socket serving IPv6 alone when `only_v6`
/// (ignored for IPv4).
pub fn bind_with(addr: SocketAddr, reuse: bool, only_v6: bool) -> io::Result<UdpSocket> {
    let socket = new_socket(addr, reuse, only_v6)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

fn bind_blocking(addr: SocketAddr) -> io::Result<StdUdpSocket> {
    // A transfer socket is bound to the address the request came to.
    let socket = new_socket(addr, false, !addr.ip().is_unspecified())?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Binds a (blocking) transfer socket on `ip`, on a port from `range` when
/// given.
pub fn bind_transfer(
    local: SocketAddr,
    range: Option<(u16, u16)>,
    seed: u64,
) -> io::Result<StdUdpSocket> {
    let Some((low, high)) = range else {
        return bind_blocking(SocketAddr::new(local.ip(), 0));
    };
    let span = u64::from(high - low) + 1;
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free port in --port-range");
    for attempt in 0..span.min(64) {
        let port = low + ((seed.wrapping_add(attempt.wrapping_mul(7919))) % span) as u16;
        match bind_blocking(SocketAddr::new(local.ip(), port)) {
            Ok(socket) => return Ok(socket),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

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
}

impl TransferSocket {
    /// Wraps a bound blocking socket.
    pub fn new(socket: StdUdpSocket) -> Self {
        // Clients that ask for blocks larger than the MTU rely on IP
        // fragmentation, so never forbid it.
        allow_fragmentation(&socket);
        Self {
            socket,
            segmentation: true,
        }
    }

    /// Datagrams one send may carry.
    pub fn max_segments(&self) -> usize {
        if self.segmentation {
            MAX_SEGMENTS
        } else {
            1
        }
    }

    /// Sends `datagrams` (all `segment` bytes long but maybe the last) to
    /// `peer`, in one segmented send when there are several.
    pub fn send_all(
        &mut self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        if datagrams.len() > 1 && self.segmentation {
            match self.send_segmented(datagrams, segment, peer) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::debug!("segmented send failed ({e}); sending datagrams singly");
                    self.segmentation = false;
                }
            }
        }
        for datagram in datagrams {
            self.send_to(datagram, peer)?;
        }
        Ok(())
    }

    fn send_segmented(
        &self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        let slices: Vec<IoSlice<'_>> = datagrams.iter().map(|d| IoSlice::new(d)).collect();
        let size = u16::try_from(segment).map_err(|_| io::Error::other("segment too large"))?;
        let control = [ControlMessage::UdpGsoSegments(&size)];
        let addr = SockaddrStorage::from(peer);
        let total: usize = datagrams.iter().map(|d| d.len()).sum();
        let sent = sendmsg(
            self.socket.as_raw_fd(),
            &slices,
            &control,
            MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(io::Error::from)?;
        if sent == total {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "segmented send took {sent} of {total} bytes"
            )))
        }
    }

    /// Sends one datagram.
    pub fn send_to(&self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.socket.send_to(datagram, peer).map(|_| ())
    }

    /// Waits for a datagram until `deadline` (or for a slice of at most
    /// [`MAX_WAIT`]).
    pub fn recv_until(&self, buf: &mut [u8], deadline: Option<Instant>) -> Received {
        let wait = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(MAX_WAIT),
                _ => return Received::Timeout,
            },
            None => MAX_WAIT,
        };
        // Round up to whole milliseconds: never wake before the deadline.
        let millis = wait.as_micros().div_ceil(1000);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, timeout) {
            Ok(0) => {
                if deadline.is_some_and(|at| Instant::now() >= at) {
                    Received::Timeout
                } else {
                    Received::Again
                }
            }
            Ok(_) => match self.socket.recv_from(buf) {
                Ok((len, from)) => Received::Datagram(len, from),
                Err(e) => {
                    tracing::debug!("receive error: {e}");
                    Received::Again
                }
            },
            Err(e) => {
                tracing::debug!("poll error: {e}");
                Received::Again
            }
        }
    }
}

fn allow_fragmentation(socket: &StdUdpSocket) {
    let sock = SockRef::from(socket);
    // Errors only mean the option does not apply to this family.
    let _ = setsockopt_int(
        &sock,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    );
    let _ = setsockopt_int(
        &sock,
        libc::IPPROTO_IPV6,
        libc::IPV6_MTU_DISCOVER,
        libc::IPV6_PMTUDISC_DONT,
    );
}

fn setsockopt_int(
    sock: &SockRef<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a valid fd, a pointer to a live c_int and its exact size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The largest block the path to `peer` carries without fragmentation
/// (for `--mtu-clamp`), from the kernel's idea of the route's MTU.
pub fn path_block_limit(local: SocketAddr, peer: SocketAddr) -> Option<u16> {
    let domain = Domain::for_address(peer);
    let probe = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).ok()?;
    probe.bind(&SocketAddr::new(local.ip(), 0).into()).ok()?;
    probe.connect(&peer.into()).ok()?;
    let sock = SockRef::from(&probe);
    let mtu = if peer.is_ipv4() {
        getsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_MTU).ok()?
    } else {
        getsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_MTU).ok()?
    };
    let overhead = if peer.is_ipv4() {
        20 + 8 + 4
    } else {
        40 + 8 + 4
    };
    u16::try_from(mtu.saturating_sub(overhead)).ok()
}

fn getsockopt_int(
    sock: &SockRef<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd, a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}
