//! Adding and removing one IPv4 address through rtnetlink, synchronously.
//!
//! A blocking `NETLINK_ROUTE` socket (netlink-sys) carrying messages built by
//! netlink-packet-route: one request, one acknowledgement, no runtime. That
//! is what lets [`super::AssignedAddress`] remove its address from `Drop`
//! inside a tokio runtime, outside one, or while one shuts down, without
//! spawning `ip`.

use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::net::Ipv4Net;

/// How long the kernel may take to acknowledge (it answers in microseconds;
/// the bound only guards against a wedged socket).
const ACK_WAIT: Duration = Duration::from_secs(2);

/// The RTM_NEWADDR / RTM_DELADDR body for `net` on interface `index`.
pub fn address_message(index: u32, net: Ipv4Net) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = AddressFamily::Inet;
    msg.header.prefix_len = net.prefix;
    msg.header.scope = AddressScope::Universe;
    msg.header.index = index;
    msg.attributes = vec![
        AddressAttribute::Local(IpAddr::V4(net.addr)),
        AddressAttribute::Address(IpAddr::V4(net.addr)),
        AddressAttribute::Broadcast(net.broadcast()),
    ];
    msg
}

/// Adds `net` to interface `index`. `EEXIST` when it is already there,
/// `EPERM` without CAP_NET_ADMIN, `ENODEV` when the interface is gone.
pub fn add(index: u32, net: Ipv4Net) -> std::io::Result<()> {
    let body = RouteNetlinkMessage::NewAddress(address_message(index, net));
    request(body, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
}

/// Removes `net` from interface `index`. `EADDRNOTAVAIL` when it is not there.
pub fn remove(index: u32, net: Ipv4Net) -> std::io::Result<()> {
    let body = RouteNetlinkMessage::DelAddress(address_message(index, net));
    request(body, NLM_F_REQUEST | NLM_F_ACK)
}

/// True when an error means "the address is not there (any more)".
pub fn is_gone(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL | libc::ENODEV | libc::ENOENT | libc::ESRCH)
    )
}

/// True when an error means "the address is already there".
pub fn is_present(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EEXIST)
}

/// Sends one request and waits (bounded) for its acknowledgement.
pub(crate) fn request(body: RouteNetlinkMessage, flags: u16) -> std::io::Result<()> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    set_timeout(&socket, ACK_WAIT)?;
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = 1;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(body));
    msg.finalize();
    let mut buf = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut buf);
    socket.send(&buf, 0)?;
    let mut reply = vec![0u8; 8192];
    loop {
        let n = socket.recv(&mut &mut reply[..], 0)?;
        let mut rest = reply.get(..n).unwrap_or(&[]);
        while !rest.is_empty() {
            let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            let len = (parsed.header.length as usize).max(16).min(rest.len());
            rest = &rest[len..];
            if parsed.header.sequence_number != 1 {
                continue;
            }
            if let NetlinkPayload::Error(e) = parsed.payload {
                return match e.code {
                    None => Ok(()),
                    Some(_) => Err(e.to_io()),
                };
            }
        }
    }
}

fn set_timeout(socket: &Socket, limit: Duration) -> std::io::Result<()> {
    let tv = libc::timeval {
        tv_sec: limit.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(limit.subsec_micros() as i32),
    };
    // SAFETY: a valid fd, a valid timeval and its exact size
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(socket),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::addr_of!(tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Parseable};
    use std::net::Ipv4Addr;

    const EXAMPLE: Ipv4Net = Ipv4Net {
        addr: Ipv4Addr::new(10, 42, 0, 1),
        prefix: 24,
    };

    #[test]
    fn message_round_trips() {
        let msg = address_message(7, EXAMPLE);
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        let back = AddressMessage::parse(buf.as_slice()).unwrap();
        assert_eq!(back.header.index, 7);
        assert_eq!(back.header.prefix_len, 24);
        assert!(back
            .attributes
            .contains(&AddressAttribute::Broadcast(Ipv4Addr::new(10, 42, 0, 255))));
    }

    #[test]
    fn error_classes() {
        assert!(is_gone(&std::io::Error::from_raw_os_error(
            libc::EADDRNOTAVAIL
        )));
        assert!(is_present(&std::io::Error::from_raw_os_error(libc::EEXIST)));
        assert!(!is_gone(&std::io::Error::from_raw_os_error(libc::EPERM)));
    }

    #[test]
    fn removing_an_absent_address_from_a_missing_interface_is_gone_or_refused() {
        // index 0x7fff_fff0 does not exist; root gets ENODEV, others EPERM
        let e = remove(0x7fff_fff0, EXAMPLE).unwrap_err();
        assert!(
            is_gone(&e) || e.kind() == std::io::ErrorKind::PermissionDenied,
            "{e}"
        );
    }
}
