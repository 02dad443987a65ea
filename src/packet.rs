//! AF_PACKET sockets bound to one interface and one EtherType, for the
//! places that send and receive below IP: the bare-port checks
//! (`autoaddr::link`: ARP probe, foreign-DHCP listen), the DHCP server's ARP
//! probes (`dhcp::arp_probe`) and its unicast replies to clients without an
//! address (`dhcp::unicast`). Opening one needs CAP_NET_RAW.

use std::io::Read;
use std::time::Duration;

use socket2::{Domain, SockAddr, SockAddrStorage, Socket, Type};

/// An AF_PACKET datagram socket (the kernel adds the Ethernet header) that
/// sees one EtherType on one interface.
pub struct PacketSocket {
    sock: Socket,
    index: u32,
    ethertype: u16,
}

impl PacketSocket {
    /// Opens the socket on interface `index` for `ethertype`. It is created
    /// with protocol 0 (receiving nothing) and only then bound, so no frame
    /// from another interface slips in between.
    pub fn open(index: u32, ethertype: u16) -> std::io::Result<Self> {
        let sock = Socket::new(Domain::PACKET, Type::DGRAM, None)?;
        sock.bind(&link_addr(index, ethertype, None))?;
        Ok(Self {
            sock,
            index,
            ethertype,
        })
    }

    /// The socket itself, for a caller that drives it in its own way (the
    /// DHCP server's non-blocking ARP probes and unicast replies). Opened
    /// with EtherType 0 it receives nothing and only sends.
    pub fn into_socket(self) -> Socket {
        self.sock
    }

    /// Lets the kernel pass only the packets `filter` (a classic BPF
    /// program) keeps.
    pub fn attach_filter(&self, filter: &[socket2::SockFilter]) -> std::io::Result<()> {
        self.sock.attach_filter(filter)
    }

    /// Sends `payload` to the Ethernet broadcast address.
    pub fn broadcast(&self, payload: &[u8]) -> std::io::Result<()> {
        let to = link_addr(self.index, self.ethertype, Some([0xff; 6]));
        self.sock.send_to(payload, &to).map(|_| ())
    }

    /// Waits at most `limit` for one packet; `Ok(None)` when none came.
    pub fn recv(&mut self, buf: &mut [u8], limit: Duration) -> std::io::Result<Option<usize>> {
        self.sock
            .set_read_timeout(Some(limit.max(Duration::from_millis(1))))?;
        match self.sock.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// The `sockaddr_ll` for interface `index` and `ethertype` (host order),
/// with `dest` as the destination MAC when given.
pub fn link_addr(index: u32, ethertype: u16, dest: Option<[u8; 6]>) -> SockAddr {
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is one of this platform's sockaddr types and fits in the storage
    let ll = unsafe { storage.view_as::<libc::sockaddr_ll>() };
    ll.sll_family = libc::AF_PACKET as u16;
    ll.sll_protocol = ethertype.to_be();
    ll.sll_ifindex = i32::try_from(index).unwrap_or(0);
    if let Some(mac) = dest {
        ll.sll_halen = 6;
        ll.sll_addr[..6].copy_from_slice(&mac);
    }
    let len = std::mem::size_of::<libc::sockaddr_ll>() as socket2::socklen_t;
    // SAFETY: the storage holds an initialised sockaddr_ll of that length
    unsafe { SockAddr::new(storage, len) }
}
