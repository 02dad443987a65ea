//! The thin blocking shell under the link checks: what the interface is
//! (index, MAC, up, IPv4 addresses), and the loop that feeds a sans-IO check
//! on an AF_PACKET socket bound to it ([`crate::arp::Prober`],
//! [`super::sniff::Listener`]) with packets and time until it decides. Every
//! wait is bounded by the check's own deadline.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use nix::ifaddrs::getifaddrs;

use crate::arp::{self, Conflict, Prober};
use crate::mac::MacAddr;
use crate::net::{self, Ipv4Net};
use crate::packet::PacketSocket;
use crate::udp4::ETH_P_IP;

use super::error::AutoAddrError;
use super::sniff::{ForeignDhcp, Listener};

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
    let mut sock = PacketSocket::open(link.index, ETH_P_IP).map_err(fail)?;
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
