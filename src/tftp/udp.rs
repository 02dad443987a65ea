//! UDP sockets for the TFTP shell: the listener, the per-transfer sockets
//! (one ephemeral port, the transfer ID, each), and batched sending.
//!
//! A window of equal-sized DATA datagrams goes out in one `sendmsg` with UDP
//! generic segmentation offload when the kernel has it (through quinn-udp,
//! which also detects kernels and devices without it and falls back), so a
//! window of 16 blocks costs one system call instead of 16.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::transfer::Batch;

/// Socket buffer size asked for: a few windows of the largest blocks.
const BUFFER_BYTES: usize = 4 << 20;

/// Binds a UDP socket with the options a TFTP server wants.
pub fn bind(addr: SocketAddr, reuse: bool) -> io::Result<UdpSocket> {
    // `[::]` serves IPv4 too unless the admin bound a specific address.
    bind_with(addr, reuse, !addr.ip().is_unspecified())
}

/// Like [`bind`], with the IPv6 socket serving IPv6 alone when `only_v6`
/// (ignored for IPv4).
pub fn bind_with(addr: SocketAddr, reuse: bool, only_v6: bool) -> io::Result<UdpSocket> {
    let domain = Domain::for_address(addr);
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if reuse {
        socket.set_reuse_address(true)?;
    }
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    // Bigger buffers only help; failing to get them is not fatal.
    let _ = socket.set_send_buffer_size(BUFFER_BYTES);
    let _ = socket.set_recv_buffer_size(BUFFER_BYTES);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Binds a transfer socket on `ip`, on a port from `range` when given.
pub fn bind_transfer(
    local: SocketAddr,
    range: Option<(u16, u16)>,
    seed: u64,
) -> io::Result<UdpSocket> {
    let Some((low, high)) = range else {
        return bind(SocketAddr::new(local.ip(), 0), false);
    };
    let span = u64::from(high - low) + 1;
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free port in --port-range");
    for attempt in 0..span.min(64) {
        let port = low + ((seed.wrapping_add(attempt.wrapping_mul(7919))) % span) as u16;
        match bind(SocketAddr::new(local.ip(), port), false) {
            Ok(socket) => return Ok(socket),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

/// A transfer socket plus the state for segmented sends.
pub struct TransferSocket {
    socket: UdpSocket,
    state: Option<quinn_udp::UdpSocketState>,
}

impl TransferSocket {
    /// Wraps a bound socket; segmentation offload is used where available.
    pub fn new(socket: UdpSocket) -> Self {
        let state = quinn_udp::UdpSocketState::new((&socket).into()).ok();
        if state.is_some() {
            // quinn-udp forbids IP fragmentation (QUIC wants that); TFTP
            // clients that ask for blocks larger than the MTU rely on it.
            allow_fragmentation(&socket);
        }
        Self { socket, state }
    }

    /// The socket, for receiving.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Datagrams one `sendmsg` may carry with segmentation offload.
    pub fn max_segments(&self) -> usize {
        self.state
            .as_ref()
            .map_or(1, |s| s.max_gso_segments().max(1))
    }

    /// Sends every datagram of `batch` to `peer`.
    pub async fn send_batch(&mut self, batch: &Batch, peer: SocketAddr) -> io::Result<()> {
        if batch.len() > 1 {
            if let Some(state) = &self.state {
                let transmit = quinn_udp::Transmit {
                    destination: peer,
                    ecn: None,
                    contents: batch.bytes(),
                    segment_size: Some(batch.segment_size()),
                    src_ip: None,
                };
                let sent = loop {
                    self.socket.writable().await?;
                    match self.socket.try_io(Interest::WRITABLE, || {
                        state.try_send((&self.socket).into(), &transmit)
                    }) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        other => break other,
                    }
                };
                match sent {
                    Ok(()) => return Ok(()),
                    // Segmentation refused (large segments, odd devices):
                    // send one by one from now on.
                    Err(e) => {
                        tracing::debug!("segmented send failed ({e}); sending datagrams singly");
                        self.state = None;
                    }
                }
            }
        }
        for datagram in batch.datagrams() {
            self.socket.send_to(datagram, peer).await?;
        }
        Ok(())
    }

    /// Sends one datagram.
    pub async fn send_to(&self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.socket.send_to(datagram, peer).await.map(|_| ())
    }
}

fn allow_fragmentation(socket: &UdpSocket) {
    let sock = SockRef::from(socket);
    let off = libc::IP_PMTUDISC_DONT;
    // Errors only mean the option does not apply to this family.
    let _ = setsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, off);
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
    use std::os::fd::AsRawFd;
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
    use std::os::fd::AsRawFd;
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
