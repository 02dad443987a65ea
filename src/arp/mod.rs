//! ARP as both of its users need it: the bare-port check (`autoaddr`, is a
//! candidate address free?) and the DHCP server (is an address free before
//! it is offered?). The pure parts only: the Ethernet/IPv4 wire format
//! ([`Arp`]), the RFC 5227 probe (requests with sender IP 0.0.0.0 asking
//! for the address) and the rule that decides from the ARP traffic seen
//! meanwhile whether another machine holds (or is about to take) it
//! ([`conflict`], run by a [`Prober`]), and when a check sends and listens
//! ([`schedule`]). Bytes and time in, bytes and a verdict out; the sockets
//! are the callers' (`crate::packet`).
//!
//! [`Prober::new`]'s timing is shorter than RFC 5227's (three probes 1–2 s
//! apart): three probes 250 ms apart and 1 s of listening in all, enough for
//! any host on a switched segment to answer, short enough for an interactive
//! start-up. The DHCP server gives its own ([`Prober::with_timing`]).

pub mod schedule;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::mac::MacAddr;

use crate::udp4::ETH_P_IP;
use schedule::Schedule;

/// Length of an Ethernet/IPv4 ARP packet (without the Ethernet header).
pub const ARP_LEN: usize = 28;
/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
const OP_REQUEST: u16 = 1;
const OP_REPLY: u16 = 2;

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp {
    /// 1 request, 2 reply.
    pub op: u16,
    /// Sender hardware address.
    pub sha: [u8; 6],
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target hardware address.
    pub tha: [u8; 6],
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

impl Arp {
    /// The probe for `target` from `mac` (RFC 5227 2.1.1: sender IP zero).
    pub fn probe(mac: [u8; 6], target: Ipv4Addr) -> Self {
        Self {
            op: OP_REQUEST,
            sha: mac,
            spa: Ipv4Addr::UNSPECIFIED,
            tha: [0; 6],
            tpa: target,
        }
    }

    /// Parses an Ethernet/IPv4 ARP packet; anything else is `None`.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let b = bytes.get(..ARP_LEN)?;
        let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        if be16(0) != 1 || be16(2) != ETH_P_IP || b[4] != 6 || b[5] != 4 {
            return None;
        }
        let mac =
            |i: usize| -> [u8; 6] { [b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5]] };
        let ip = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
        Some(Self {
            op: be16(6),
            sha: mac(8),
            spa: ip(14),
            tha: mac(18),
            tpa: ip(24),
        })
    }

    /// The 28 bytes on the wire.
    pub fn emit(&self) -> [u8; ARP_LEN] {
        let mut b = [0u8; ARP_LEN];
        b[0..2].copy_from_slice(&1u16.to_be_bytes());
        b[2..4].copy_from_slice(&ETH_P_IP.to_be_bytes());
        b[4] = 6;
        b[5] = 4;
        b[6..8].copy_from_slice(&self.op.to_be_bytes());
        b[8..14].copy_from_slice(&self.sha);
        b[14..18].copy_from_slice(&self.spa.octets());
        b[18..24].copy_from_slice(&self.tha);
        b[24..28].copy_from_slice(&self.tpa.octets());
        b
    }
}

/// Another machine on the link claims the probed address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// Its MAC address.
    pub mac: MacAddr,
    /// True when it is itself probing for the address (not yet using it).
    pub probing: bool,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.probing {
            write!(f, "machine {} is probing for it", self.mac.colon())
        } else {
            write!(f, "machine {} answers ARP for it", self.mac.colon())
        }
    }
}

/// The RFC 5227 conflict rule for one received packet while probing `target`.
pub fn conflict(ours: [u8; 6], target: Ipv4Addr, packet: &Arp) -> Option<Conflict> {
    if packet.sha == ours || !matches!(packet.op, OP_REQUEST | OP_REPLY) {
        return None;
    }
    let mac = MacAddr(packet.sha);
    if packet.spa == target {
        return Some(Conflict {
            mac,
            probing: false,
        });
    }
    let other_probe =
        packet.op == OP_REQUEST && packet.spa.is_unspecified() && packet.tpa == target;
    other_probe.then_some(Conflict { mac, probing: true })
}

/// One ARP probe of one address: when to send, and what the replies mean.
#[derive(Debug, Clone)]
pub struct Prober {
    mac: [u8; 6],
    target: Ipv4Addr,
    schedule: Schedule,
    found: Option<Conflict>,
}

impl Prober {
    /// Three probes at 0, 250 and 500 ms; listens for 1 s in all.
    pub fn new(now: Instant, mac: [u8; 6], target: Ipv4Addr) -> Self {
        let ms = Duration::from_millis;
        Self::with_timing(now, mac, target, &[ms(0), ms(250), ms(500)], ms(1000))
    }

    /// Probes sent at the offsets `sends` from `now`; listens for `listen`
    /// in all (the DHCP server's probe before an offer is shorter).
    pub fn with_timing(
        now: Instant,
        mac: [u8; 6],
        target: Ipv4Addr,
        sends: &[Duration],
        listen: Duration,
    ) -> Self {
        Self {
            mac,
            target,
            schedule: Schedule::new(now, sends, listen),
            found: None,
        }
    }

    /// The address being probed.
    pub fn target(&self) -> Ipv4Addr {
        self.target
    }

    /// The next probe to broadcast, when one is due.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<[u8; ARP_LEN]> {
        if self.found.is_some() {
            return None;
        }
        self.schedule
            .poll_send(now)
            .then(|| Arp::probe(self.mac, self.target).emit())
    }

    /// Feeds one received ARP packet (any bytes: garbage is ignored).
    pub fn handle(&mut self, bytes: &[u8]) {
        if let Some(p) = Arp::parse(bytes) {
            self.handle_arp(&p);
        }
    }

    /// Feeds one ARP packet that was already parsed.
    pub fn handle_arp(&mut self, packet: &Arp) {
        if self.found.is_none() {
            self.found = conflict(self.mac, self.target, packet);
        }
    }

    /// When to call again.
    pub fn poll_timeout(&self) -> Instant {
        self.schedule.poll_timeout()
    }

    /// `Some(result)` once decided: a conflict as soon as one is seen, or
    /// `None` inside (no one answered) once the listening time is over.
    pub fn verdict(&self, now: Instant) -> Option<Option<Conflict>> {
        match self.found {
            Some(c) => Some(Some(c)),
            None if self.schedule.expired(now) => Some(None),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pure and shared: no sockets, files or clock outside the tests, and
    /// nothing from either of its users.
    #[test]
    fn arp_does_no_io_and_depends_on_neither_user() {
        let sources = [
            ("arp/mod.rs", include_str!("mod.rs")),
            ("arp/schedule.rs", include_str!("schedule.rs")),
        ];
        let banned = [
            "tokio::",
            "socket2",
            "Socket",
            "std::fs",
            "Instant::now",
            "SystemTime",
            "libc::",
            "crate::autoaddr",
            "crate::dhcp",
        ];
        crate::tidy::assert_code_free_of(&sources, &banned);
    }

    const OURS: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const THEIRS: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const T: Ipv4Addr = Ipv4Addr::new(10, 42, 0, 1);

    #[test]
    fn probe_round_trips_and_has_zero_sender_ip() {
        let p = Arp::probe(OURS, T);
        let bytes = p.emit();
        assert_eq!(&bytes[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&bytes[14..18], &[0, 0, 0, 0]);
        assert_eq!(Arp::parse(&bytes), Some(p));
    }

    #[test]
    fn parse_refuses_short_and_foreign_packets() {
        let mut bytes = Arp::probe(OURS, T).emit();
        assert_eq!(Arp::parse(&bytes[..27]), None);
        bytes[3] = 0xdd; // not IPv4
        assert_eq!(Arp::parse(&bytes), None);
    }

    /// The holder of `T` answering our probe.
    fn reply_from_owner() -> Arp {
        Arp {
            op: OP_REPLY,
            sha: THEIRS,
            spa: T,
            tha: OURS,
            tpa: Ipv4Addr::UNSPECIFIED,
        }
    }

    #[test]
    fn reply_from_owner_is_a_conflict() {
        let c = conflict(OURS, T, &reply_from_owner()).unwrap();
        assert!(!c.probing);
        assert!(c.to_string().contains("02:00:00:00:00:02"));
    }

    #[test]
    fn other_prober_is_a_conflict_our_own_probe_is_not() {
        assert!(conflict(OURS, T, &Arp::probe(THEIRS, T)).unwrap().probing);
        assert_eq!(conflict(OURS, T, &Arp::probe(OURS, T)), None);
        let other_addr = Arp::probe(THEIRS, Ipv4Addr::new(10, 42, 0, 9));
        assert_eq!(conflict(OURS, T, &other_addr), None);
    }

    #[test]
    fn gratuitous_request_from_owner_is_a_conflict() {
        let announce = Arp {
            op: OP_REQUEST,
            sha: THEIRS,
            spa: T,
            tha: [0; 6],
            tpa: T,
        };
        assert!(conflict(OURS, T, &announce).is_some());
    }

    #[test]
    fn silent_link_means_free_after_one_second() {
        let t0 = Instant::now();
        let mut p = Prober::new(t0, OURS, T);
        let mut sent = 0;
        let mut now = t0;
        while p.verdict(now).is_none() {
            while p.poll_transmit(now).is_some() {
                sent += 1;
            }
            now = p.poll_timeout();
        }
        assert_eq!(sent, 3);
        assert_eq!(now - t0, Duration::from_secs(1));
        assert_eq!(p.verdict(now), Some(None));
    }

    #[test]
    fn answer_ends_the_probe_at_once() {
        let t0 = Instant::now();
        let mut p = Prober::new(t0, OURS, T);
        assert!(p.poll_transmit(t0).is_some());
        p.handle(&Arp::probe(OURS, T).emit()); // our own, looped back
        p.handle(b"garbage");
        assert_eq!(p.verdict(t0), None);
        p.handle(&reply_from_owner().emit());
        assert!(matches!(p.verdict(t0), Some(Some(_))));
        assert!(p.poll_transmit(t0 + Duration::from_millis(300)).is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_safe(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut p = Prober::new(Instant::now(), OURS, T);
            p.handle(&bytes);
            if let Some(a) = Arp::parse(&bytes) {
                proptest::prop_assert_eq!(Arp::parse(&a.emit()), Some(a));
            }
        }
    }
}
