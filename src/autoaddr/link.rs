//! The thin blocking shell under the link checks: what the interface is
//! (index, MAC, up, IPv4 addresses), an AF_PACKET socket bound to it, and the
//! loop that feeds a sans-IO check ([`super::arp::Prober`],
//! [`super::sniff::Listener`]) with packets and time until it decides. Every
//! wait is bounded by the check's own deadline.

use std::io::Read;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use nix::ifaddrs::getifaddrs;
use socket2::{Domain, SockAddr, SockAddrStorage, Socket, Type};

use crate::mac::MacAddr;
use crate::net::{self, Ipv4Net};

use super::arp::{self, Conflict, Prober};
use super::error::AutoAddrError;
use super::sniff::{self, ForeignDhcp, Listener};

/// What quick mode needs to know about the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Its name.
    pub name: String,
    /// Its kernel index.
    pub index: u32,
    /// Its Ethernet address.
    pub mac: MacAddr,
    /// Administratively up.
    pub up: bool,
    /// Carrier present.
    pub running: bool,
    /// Its IPv4 addresses.
    pub ipv4: Vec<Ipv4Net>,
}

/// Looks the interface up: a missing one lists those that exist, one without
/// a MAC address is refused. Down is reported in `up`, not as an error.
pub fn link_info(ifname: &str) -> Result<LinkInfo, AutoAddrError> {
    let iface = net::interface(ifname)?;
    let index = nix::net::if_::if_nametoindex(ifname).map_err(|e| AutoAddrError::Check {
        ifname: ifname.to_string(),
        source: e.into(),
    })?;
    let not_ethernet = || AutoAddrError::NotEthernet {
        ifname: ifname.to_string(),
    };
    let mac = mac_of(ifname).ok_or_else(not_ethernet)?;
    if mac == MacAddr([0; 6]) {
        return Err(not_ethernet());
    }
    Ok(LinkInfo {
        name: iface.name,
        index,
        mac,
        up: iface.up,
        running: iface.running,
        ipv4: iface.ipv4,
    })
}

fn mac_of(ifname: &str) -> Option<MacAddr> {
    getifaddrs()
        .ok()?
        .filter(|ifa| ifa.interface_name == ifname)
        .filter_map(|ifa| ifa.address?.as_link_addr()?.addr())
        .map(MacAddr)
        .next()
}

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

/// A sans-IO link check as the shell drives it.
trait LinkCheck {
    type Verdict;
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>>;
    fn receive(&mut self, packet: &[u8]);
    fn timeout(&self) -> Instant;
    fn decided(&self, now: Instant) -> Option<Self::Verdict>;
}

impl LinkCheck for Prober {
    type Verdict = Option<Conflict>;
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.poll_transmit(now).map(|p| p.to_vec())
    }
    fn receive(&mut self, packet: &[u8]) {
        self.handle(packet)
    }
    fn timeout(&self) -> Instant {
        self.poll_timeout()
    }
    fn decided(&self, now: Instant) -> Option<Self::Verdict> {
        self.verdict(now)
    }
}

impl LinkCheck for Listener {
    type Verdict = Option<ForeignDhcp>;
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.poll_transmit(now)
    }
    fn receive(&mut self, packet: &[u8]) {
        self.handle(packet)
    }
    fn timeout(&self) -> Instant {
        self.poll_timeout()
    }
    fn decided(&self, now: Instant) -> Option<Self::Verdict> {
        self.verdict(now)
    }
}

/// Feeds `check` until it decides; it decides by its deadline at the latest.
fn drive<C: LinkCheck>(sock: &mut PacketSocket, check: &mut C) -> std::io::Result<C::Verdict> {
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        while let Some(packet) = check.transmit(now) {
            sock.broadcast(&packet)?;
        }
        if let Some(verdict) = check.decided(now) {
            return Ok(verdict);
        }
        let wait = check.timeout().saturating_duration_since(now);
        if let Some(n) = sock.recv(&mut buf, wait)? {
            check.receive(buf.get(..n).unwrap_or(&[]));
        }
    }
}

/// ARP-probes `target` on the link (about 1 s; less when someone answers).
pub fn arp_probe(link: &LinkInfo, target: Ipv4Addr) -> Result<Option<Conflict>, AutoAddrError> {
    let fail = |e| AutoAddrError::check(&link.name, e);
    let mut sock = PacketSocket::open(link.index, arp::ETH_P_ARP).map_err(fail)?;
    let mut prober = Prober::new(Instant::now(), link.mac.octets(), target);
    drive(&mut sock, &mut prober).map_err(fail)
}

/// Broadcasts a DISCOVER and listens `wait` for another DHCP server's OFFER.
pub fn dhcp_listen(link: &LinkInfo, wait: Duration) -> Result<Option<ForeignDhcp>, AutoAddrError> {
    let fail = |e| AutoAddrError::check(&link.name, e);
    let mut sock = PacketSocket::open(link.index, sniff::ETH_P_IP).map_err(fail)?;
    let mut listener = Listener::new(Instant::now(), link.mac, xid(link.mac), wait);
    drive(&mut sock, &mut listener).map_err(fail)
}

/// A transaction id that differs between runs and interfaces.
fn xid(mac: MacAddr) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let [_, _, a, b, c, d] = mac.octets();
    nanos ^ std::process::id().rotate_left(16) ^ u32::from_be_bytes([a, b, c, d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_not_ethernet_and_missing_is_listed() {
        assert!(matches!(
            link_info("lo"),
            Err(AutoAddrError::NotEthernet { .. })
        ));
        let err = link_info("no-such-if0").unwrap_err();
        assert!(err.to_string().contains("lo"), "{err}");
    }
}
