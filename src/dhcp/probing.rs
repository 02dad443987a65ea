//! The probe before an offer, the parts without I/O: how an address is
//! probed ([`method`]), the [`Budget`] that bounds ICMP probes, and which
//! pending ARP probes a received ARP packet concerns ([`Waiting`]).
//!
//! Why two ways: an ICMP echo to a silent address on the link makes the
//! kernel resolve it first, which leaves an INCOMPLETE entry in the
//! neighbour table for seconds. That table is one for the whole machine
//! (every network namespace), capped by `net.ipv4.neigh.default.gc_thresh3`;
//! past the cap no host on the machine can reach a new neighbour. An ARP
//! request sent on a packet socket creates no entry, here or at the probed
//! host (sender IP 0.0.0.0), and also finds machines that drop pings. So an
//! address on the receiving interface's own subnet is probed by ARP; ICMP is
//! left for pools behind a relay on another subnet (off-link addresses,
//! whose echo only needs the router's entry), and for links where no packet
//! socket could be opened, always within the budget.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::arp::Arp;
use crate::dhcp::config::PoolConfig;

/// How one address is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// ARP requests on the receiving interface's packet socket.
    Arp,
    /// One ICMP echo through the receiving interface (within the [`Budget`]).
    Icmp,
    /// Not probed: offered as if the probe had stayed silent.
    Skip,
}

/// True when `ip` is on the receiving interface's own link: it lies in the
/// subnet of a pool that also holds `server_ip`, our address there. That is
/// the pool of every direct request, and of a relayed one whose relay sits
/// on this link (perfdhcp, for one, presents itself as such a relay); a
/// relay on another subnet gets off-link addresses.
pub fn on_link(pools: &[PoolConfig], server_ip: Ipv4Addr, ip: Ipv4Addr) -> bool {
    pools.iter().any(|p| {
        let s = p.subnet();
        s.contains(server_ip) && s.contains(ip)
    })
}

/// The method for address `ip`, [`on_link`] or not, asked for on an
/// interface that is configured (`device`) and has a working ARP socket
/// (`arp`). No interface (loopback benchmarks): never probed, since a probe
/// must not leave by a route we did not choose.
pub fn method(on_link: bool, device: bool, arp: bool) -> Method {
    match (device, on_link, arp) {
        (false, _, _) => Method::Skip,
        (true, true, true) => Method::Arp,
        (true, _, _) => Method::Icmp,
    }
}

/// At most this many ICMP probes at a time.
pub const ICMP_IN_FLIGHT: usize = 256;
/// At most this many new ICMP probes per second. Each on-link echo can hold
/// a neighbour entry for about 5 s before the kernel may reclaim it, so this
/// keeps even the fallback below the default `gc_thresh2` (512).
pub const ICMP_PER_SECOND: usize = 100;

/// A cap on probes in flight and on probes started per second.
#[derive(Debug, Clone)]
pub struct Budget {
    max_in_flight: usize,
    per_second: usize,
    in_flight: usize,
    window: Option<Instant>,
    started: usize,
}

impl Budget {
    /// At most `max_in_flight` at a time and `per_second` new ones in any
    /// one-second window.
    pub fn new(max_in_flight: usize, per_second: usize) -> Self {
        Self {
            max_in_flight,
            per_second,
            in_flight: 0,
            window: None,
            started: 0,
        }
    }

    /// The budget of ICMP probes.
    pub fn icmp() -> Self {
        Self::new(ICMP_IN_FLIGHT, ICMP_PER_SECOND)
    }

    /// Takes one probe out of the budget at `now`; false when none is left
    /// (the caller offers without probing).
    pub fn try_start(&mut self, now: Instant) -> bool {
        let fresh = self
            .window
            .is_none_or(|w| now.saturating_duration_since(w) >= Duration::from_secs(1));
        if fresh {
            self.window = Some(now);
            self.started = 0;
        }
        if self.in_flight >= self.max_in_flight || self.started >= self.per_second {
            return false;
        }
        self.in_flight += 1;
        self.started += 1;
        true
    }

    /// One probe taken with [`Budget::try_start`] ended.
    pub fn finish(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Probes in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

/// Pending ARP probes by the address they probe, each with a `T` (the
/// shell's channel to it).
#[derive(Debug)]
pub struct Waiting<T> {
    by_ip: HashMap<Ipv4Addr, T>,
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Self {
            by_ip: HashMap::new(),
        }
    }
}

impl<T> Waiting<T> {
    /// Registers a probe of `ip`; false (and `t` dropped) when one is
    /// already pending for it.
    pub fn insert(&mut self, ip: Ipv4Addr, t: T) -> bool {
        match self.by_ip.entry(ip) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(t);
                true
            }
        }
    }

    /// Ends the probe of `ip`.
    pub fn remove(&mut self, ip: Ipv4Addr) -> Option<T> {
        self.by_ip.remove(&ip)
    }

    /// Probes pending.
    pub fn len(&self) -> usize {
        self.by_ip.len()
    }

    /// True when no probe is pending.
    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }

    /// The probes `packet` may concern, at most two: the one of its sender
    /// address (someone using the address answers or announces), and, for
    /// a probe from 0.0.0.0, the one of its target (someone else about to
    /// take it). Whether it is a conflict is the prober's call
    /// ([`crate::arp::conflict`]).
    pub fn concerned<'a>(&'a self, packet: &Arp) -> impl Iterator<Item = &'a T> + 'a {
        let sender = (!packet.spa.is_unspecified()).then_some(packet.spa);
        let target =
            (packet.spa.is_unspecified() && packet.tpa != packet.spa).then_some(packet.tpa);
        [sender, target]
            .into_iter()
            .flatten()
            .filter_map(|ip| self.by_ip.get(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_link_by_arp_off_link_by_icmp_nothing_without_an_interface() {
        assert_eq!(method(true, true, true), Method::Arp);
        assert_eq!(method(false, true, true), Method::Icmp, "off-link");
        assert_eq!(method(true, true, false), Method::Icmp, "no packet socket");
        assert_eq!(method(true, false, true), Method::Skip);
        assert_eq!(method(false, false, false), Method::Skip);
    }

    #[test]
    fn on_link_means_the_pool_of_our_address_there() {
        use crate::dhcp::config::Subnet;
        let pool = |net: &str, first: [u8; 4], last: [u8; 4]| {
            let s = Subnet::parse(net).unwrap();
            PoolConfig::new(s, Ipv4Addr::from(first), Ipv4Addr::from(last)).unwrap()
        };
        let pools = [
            pool("10.231.0.0/24", [10, 231, 0, 100], [10, 231, 0, 200]),
            pool("10.50.0.0/16", [10, 50, 1, 1], [10, 50, 9, 254]),
        ];
        let ours = Ipv4Addr::new(10, 231, 0, 1);
        assert!(on_link(&pools, ours, Ipv4Addr::new(10, 231, 0, 150)));
        // the pool of a relay on 10.50/16: behind a router from here
        assert!(!on_link(&pools, ours, Ipv4Addr::new(10, 50, 3, 3)));
        // served as 10.50.0.1 on another interface, the same pool is on-link
        assert!(on_link(
            &pools,
            Ipv4Addr::new(10, 50, 0, 1),
            Ipv4Addr::new(10, 50, 3, 3)
        ));
        assert!(!on_link(&[], ours, Ipv4Addr::new(10, 231, 0, 150)));
    }

    #[test]
    fn budget_caps_probes_in_flight() {
        let t0 = Instant::now();
        let mut b = Budget::new(2, 100);
        assert!(b.try_start(t0));
        assert!(b.try_start(t0));
        assert!(!b.try_start(t0), "a third at once");
        b.finish();
        assert!(b.try_start(t0));
        assert_eq!(b.in_flight(), 2);
    }

    #[test]
    fn budget_caps_new_probes_per_second() {
        let t0 = Instant::now();
        let mut b = Budget::new(1000, 3);
        for _ in 0..3 {
            assert!(b.try_start(t0));
            b.finish();
        }
        assert!(!b.try_start(t0 + Duration::from_millis(999)));
        assert!(b.try_start(t0 + Duration::from_secs(1)), "a new second");
        // over a long run, never more than the rate
        let mut b = Budget::icmp();
        let mut started = 0;
        for ms in 0..10_000u64 {
            if b.try_start(t0 + Duration::from_millis(ms)) {
                started += 1;
                b.finish();
            }
        }
        assert!(started <= 10 * ICMP_PER_SECOND, "{started}");
        assert!(started >= 9 * ICMP_PER_SECOND, "{started}");
    }

    #[test]
    fn finish_without_start_does_not_underflow() {
        let mut b = Budget::new(1, 1);
        b.finish();
        assert_eq!(b.in_flight(), 0);
    }

    fn arp(op: u16, spa: [u8; 4], tpa: [u8; 4]) -> Arp {
        Arp {
            op,
            sha: [2, 0, 0, 0, 0, 9],
            spa: Ipv4Addr::from(spa),
            tha: [0; 6],
            tpa: Ipv4Addr::from(tpa),
        }
    }

    #[test]
    fn packets_reach_the_probes_of_the_addresses_they_name() {
        let mut w = Waiting::default();
        assert!(w.insert(Ipv4Addr::new(10, 0, 0, 5), "five"));
        assert!(w.insert(Ipv4Addr::new(10, 0, 0, 6), "six"));
        assert!(!w.insert(Ipv4Addr::new(10, 0, 0, 5), "again"));
        fn got(w: &Waiting<&'static str>, p: &Arp) -> Vec<&'static str> {
            w.concerned(p).copied().collect()
        }
        // the owner answers
        assert_eq!(got(&w, &arp(2, [10, 0, 0, 5], [0, 0, 0, 0])), ["five"]);
        // a gratuitous announcement names the address twice: one delivery
        assert_eq!(got(&w, &arp(1, [10, 0, 0, 6], [10, 0, 0, 6])), ["six"]);
        // another machine's probe for it
        assert_eq!(got(&w, &arp(1, [0, 0, 0, 0], [10, 0, 0, 5])), ["five"]);
        // an ordinary request from 10.0.0.5 for 10.0.0.6: only the sender's
        assert_eq!(got(&w, &arp(1, [10, 0, 0, 5], [10, 0, 0, 6])), ["five"]);
        // nothing pending for these
        assert!(got(&w, &arp(2, [10, 0, 0, 7], [10, 0, 0, 5])).is_empty());
        assert_eq!(w.remove(Ipv4Addr::new(10, 0, 0, 5)), Some("five"));
        assert_eq!(w.len(), 1);
        assert!(got(&w, &arp(2, [10, 0, 0, 5], [0, 0, 0, 0])).is_empty());
    }
}
