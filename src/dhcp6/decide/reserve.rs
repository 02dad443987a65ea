//! Reservations in the DHCPv6 decision: the client's fixed address (its
//! profile's `address6`, else a profile's or `dhcp6.reservations`' entry
//! for its DUID, then for its MAC), the addresses no other client may get,
//! and a client moved onto its reserved address when it renews another
//! (the old one is returned with lifetimes 0 and released), as DHCPv4
//! moves a client by NAKing its RENEW.

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, DhcpOptions, IAAddr, IANA};

use crate::boot::ClientProfile;
use crate::dhcp::lease::LeaseState;
use crate::mac::MacAddr;

use super::super::config::{Holder6, Pool6, Reservation6};
use super::super::ia::Ia;
use super::super::table::Lease6;
use super::{Core6, Ex};

impl Core6 {
    /// Replaces the profiles' reservations (start-up and each reload);
    /// `dhcp6.reservations` from `netboot.yaml` stay.
    pub fn set_profile_reservations(&mut self, reservations: Vec<Reservation6>) {
        self.profile_reservations = reservations;
    }

    /// Every reservation: the profiles' first, then `netboot.yaml`'s.
    fn all_reservations(&self) -> impl Iterator<Item = &Reservation6> {
        self.profile_reservations
            .iter()
            .chain(&self.cfg.reservations)
    }

    /// Every reserved address (never handed out to another client).
    pub(super) fn reserved_addrs(&self) -> Vec<Ipv6Addr> {
        self.all_reservations().map(|r| r.addr).collect()
    }

    /// The fixed address of a client: its profile's, else the first
    /// reservation for its DUID, else the first for its MAC.
    pub(super) fn fixed_for(
        &self,
        profile: Option<&ClientProfile>,
        duid: &[u8],
        mac: Option<MacAddr>,
    ) -> Option<Ipv6Addr> {
        let by = |want: &dyn Fn(&Holder6) -> bool| {
            self.all_reservations()
                .find(|r| want(&r.holder))
                .map(|r| r.addr)
        };
        profile
            .and_then(|p| p.fixed_address6)
            .or_else(|| by(&|h| matches!(h, Holder6::Duid(d) if !duid.is_empty() && d == duid)))
            .or_else(|| by(&|h| matches!(h, Holder6::Mac(m) if Some(*m) == mac)))
    }

    /// True when `addr` is reserved, and not for this client.
    pub(super) fn reserved_for_other(&self, addr: Ipv6Addr, ex: &Ex<'_>) -> bool {
        ex.fixed != Some(addr) && self.all_reservations().any(|r| r.addr == addr)
    }

    /// The client's fixed address when it can have it here: on the pool's
    /// /64, not our own address, not held by another client.
    pub(super) fn usable_fixed(&self, ex: &Ex<'_>, pool: &Pool6) -> Option<Ipv6Addr> {
        ex.fixed.filter(|a| {
            pool.on_link(*a) && *a != ex.ctx.ours && self.table.free_for(*a, &ex.duid, ex.now)
        })
    }

    /// The IA of a client that renews addresses other than its reserved
    /// `to`: `to` with full lifetimes, the others with 0 (RFC 8415
    /// §18.3.4), and the lease changes (`to` bound, the others released).
    pub(super) fn move_to(
        &mut self,
        ex: &Ex<'_>,
        ia: &Ia,
        to: Ipv6Addr,
    ) -> (DhcpOption, Vec<Lease6>) {
        let mut changes = vec![self.take(ex, to, ia.id, LeaseState::Bound)];
        let valid = self.cfg.lease_time;
        let mut opts = DhcpOptions::new();
        opts.insert(iaaddr(to, valid));
        for old in ia.addrs.iter().copied().filter(|a| *a != to) {
            opts.insert(iaaddr(old, 0));
            if self.table.held_by(old, &ex.duid, ex.now) {
                let mut lease = self.take(ex, old, ia.id, LeaseState::Released);
                lease.expires = ex.now;
                changes.push(self.table.set(lease));
            }
        }
        let option = DhcpOption::IANA(IANA {
            id: ia.id,
            t1: valid / 2,
            t2: valid / 5 * 4,
            opts,
        });
        (option, changes)
    }
}

fn iaaddr(addr: Ipv6Addr, life: u32) -> DhcpOption {
    DhcpOption::IAAddr(IAAddr {
        addr,
        preferred_life: life,
        valid_life: life,
        opts: DhcpOptions::new(),
    })
}
