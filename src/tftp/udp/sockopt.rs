//! Socket options of the transfer sockets: IP fragmentation always allowed
//! (clients asking for blocks above the MTU rely on it), and the path MTU
//! to a client for `--mtu-clamp`.

use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Lets the kernel fragment datagrams larger than the path MTU.
pub(super) fn allow_fragmentation(socket: &StdUdpSocket) {
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
