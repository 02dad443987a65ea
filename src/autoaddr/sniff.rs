//! Is another DHCP server on the segment? A sans-IO core: it builds a
//! broadcast DHCPDISCOVER (from 0.0.0.0:68, the interface's own MAC as chaddr,
//! broadcast flag set) as a whole IPv4/UDP packet, and recognises an OFFER
//! answering it in whatever IPv4 packets arrive. Bytes and time in, bytes and
//! a verdict out.
//!
//! Whole packets on an AF_PACKET socket, rather than a UDP socket on port 68,
//! because the port may belong to the machine's own DHCP client, because an
//! interface without an address has no route for the offer, and because
//! reverse-path filtering drops offers from a subnet the machine has no route
//! to. That is why DHCP clients use packet sockets too.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};

use crate::dhcp::wire;
use crate::mac::MacAddr;
use crate::udp4;

use crate::arp::schedule::Schedule;

const CLIENT_PORT: u16 = 68;
const SERVER_PORT: u16 = 67;

/// Another DHCP server answered our DISCOVER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignDhcp {
    /// Its server identifier (option 54), else the packet's source address.
    pub server: Ipv4Addr,
    /// The address it offered us.
    pub offered: Ipv4Addr,
}

impl std::fmt::Display for ForeignDhcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another DHCP server ({}) answers on this segment (it offered {})",
            self.server, self.offered
        )
    }
}

/// A broadcast DHCPDISCOVER from `mac` with transaction id `xid`, as an IPv4
/// packet (0.0.0.0:68 to 255.255.255.255:67).
pub fn discover(mac: MacAddr, xid: u32) -> Vec<u8> {
    let zero = Ipv4Addr::UNSPECIFIED;
    let mut msg = Message::new_with_id(xid, zero, zero, zero, zero, &mac.octets());
    msg.set_flags(Flags::default().set_broadcast());
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(MessageType::Discover));
    opts.insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::ServerIdentifier,
    ]));
    // a DISCOVER this small always encodes; an empty payload would just be ignored
    let dhcp = wire::encode(&mut msg, wire::MAX_REPLY).unwrap_or_default();
    udp4::packet(
        SocketAddrV4::new(zero, CLIENT_PORT),
        SocketAddrV4::new(Ipv4Addr::BROADCAST, SERVER_PORT),
        &dhcp,
    )
}

/// The OFFER answering transaction `xid`, if `packet` (an IPv4 packet) is one.
pub fn offer(packet: &[u8], xid: u32) -> Option<ForeignDhcp> {
    let (src, payload) = udp4::payload_to(packet, CLIENT_PORT)?;
    let msg = wire::decode(payload).ok()?;
    if msg.opcode() != Opcode::BootReply || msg.xid() != xid {
        return None;
    }
    if !matches!(
        msg.opts().get(OptionCode::MessageType),
        Some(DhcpOption::MessageType(MessageType::Offer))
    ) {
        return None;
    }
    let server = match msg.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(id)) => *id,
        _ => src,
    };
    Some(ForeignDhcp {
        server,
        offered: msg.yiaddr(),
    })
}

/// One foreign-server check: two DISCOVERs (at 0 and 1 s), 3.5 s of
/// listening unless told otherwise.
#[derive(Debug, Clone)]
pub struct Listener {
    mac: MacAddr,
    xid: u32,
    schedule: Schedule,
    found: Option<ForeignDhcp>,
}

impl Listener {
    /// The default listening time. dnsmasq (the server of most home and
    /// small-office routers) pings an address for 3 s before it offers it to
    /// a new client, so a shorter wait would miss exactly the server most
    /// likely to be there.
    pub const WAIT: Duration = Duration::from_millis(3500);

    /// A check from `mac` with transaction id `xid`, listening for `wait`.
    pub fn new(now: Instant, mac: MacAddr, xid: u32, wait: Duration) -> Self {
        let sends = [Duration::ZERO, Duration::from_secs(1)];
        Self {
            mac,
            xid,
            schedule: Schedule::new(now, &sends, wait),
            found: None,
        }
    }

    /// The next DISCOVER to broadcast, when one is due.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.found.is_some() {
            return None;
        }
        self.schedule
            .poll_send(now)
            .then(|| discover(self.mac, self.xid))
    }

    /// Feeds one received IPv4 packet (any bytes: garbage is ignored).
    pub fn handle(&mut self, packet: &[u8]) {
        if self.found.is_none() {
            self.found = offer(packet, self.xid);
        }
    }

    /// When to call again.
    pub fn poll_timeout(&self) -> Instant {
        self.schedule.poll_timeout()
    }

    /// `Some(result)` once decided: the first OFFER seen, or `None` inside
    /// once the listening time is over.
    pub fn verdict(&self, now: Instant) -> Option<Option<ForeignDhcp>> {
        match self.found {
            Some(f) => Some(Some(f)),
            None if self.schedule.expired(now) => Some(None),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0, 1, 2, 3]);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

    fn reply(kind: MessageType, xid: u32) -> Vec<u8> {
        let zero = Ipv4Addr::UNSPECIFIED;
        let yi = Ipv4Addr::new(192, 168, 1, 50);
        let mut m = Message::new_with_id(xid, zero, yi, zero, zero, &MAC.octets());
        m.set_opcode(Opcode::BootReply);
        m.opts_mut().insert(DhcpOption::MessageType(kind));
        m.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
        let dhcp = wire::encode(&mut m, 1400).unwrap();
        udp4::packet(
            SocketAddrV4::new(SERVER, 67),
            SocketAddrV4::new(Ipv4Addr::BROADCAST, 68),
            &dhcp,
        )
    }

    #[test]
    fn discover_is_a_valid_broadcast_packet() {
        let p = discover(MAC, 0xabcd);
        assert_eq!(udp4::checksum(&p[..20]), 0, "IPv4 header checksum verifies");
        assert_eq!(&p[12..20], &[0, 0, 0, 0, 255, 255, 255, 255]);
        assert_eq!(u16::from_be_bytes([p[20], p[21]]), 68);
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 67);
        let msg = wire::decode(&p[28..]).unwrap();
        assert_eq!(msg.xid(), 0xabcd);
        assert!(msg.flags().broadcast());
        assert_eq!(&msg.chaddr()[..6], &MAC.octets());
        assert_eq!(
            msg.opts().get(OptionCode::MessageType),
            Some(&DhcpOption::MessageType(MessageType::Discover))
        );
    }

    #[test]
    fn recognises_the_offer_for_our_xid_only() {
        let got = offer(&reply(MessageType::Offer, 7), 7).unwrap();
        assert_eq!(got.server, SERVER);
        assert_eq!(got.offered, Ipv4Addr::new(192, 168, 1, 50));
        assert!(got.to_string().contains("192.168.1.1"));
        assert_eq!(offer(&reply(MessageType::Offer, 8), 7), None);
        assert_eq!(offer(&reply(MessageType::Ack, 7), 7), None);
        assert_eq!(offer(&discover(MAC, 7), 7), None, "our own DISCOVER");
    }

    #[test]
    fn listener_stops_at_the_offer_or_the_deadline() {
        let t0 = Instant::now();
        let mut l = Listener::new(t0, MAC, 7, Listener::WAIT);
        assert!(l.poll_transmit(t0).is_some());
        assert!(l.poll_transmit(t0).is_none());
        assert_eq!(l.verdict(t0), None);
        assert!(l.poll_transmit(l.poll_timeout()).is_some());
        assert_eq!(l.poll_timeout(), t0 + Listener::WAIT);
        assert_eq!(l.verdict(t0 + Listener::WAIT), Some(None));
        let mut l = Listener::new(t0, MAC, 7, Listener::WAIT);
        l.handle(&reply(MessageType::Offer, 7));
        assert!(matches!(l.verdict(t0), Some(Some(_))));
    }

    #[test]
    fn truncated_and_fragmented_packets_are_ignored() {
        let good = reply(MessageType::Offer, 7);
        for n in 0..good.len() {
            let _ = offer(&good[..n], 7);
        }
        let mut frag = good.clone();
        frag[6] = 0x20; // more fragments
        assert_eq!(offer(&frag, 7), None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_safe(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = offer(&bytes, 7);
        }
    }
}
