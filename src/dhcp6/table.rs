//! The DHCPv6 lease table: one record per address (who holds it, for which
//! IA, until when, in which state), the allocation rule (reservation, the
//! client's current address, a fresh one, the oldest expired one) and the
//! state changes the decision core asks for. Pure: time comes in.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use crate::dhcp::lease::{LeaseState, Secs};
use crate::mac::MacAddr;

use super::config::Pool6;

/// How many fresh addresses a search looks at before reusing expired ones
/// (a /64 is far too big to walk).
const SCAN: usize = 65_536;

/// One address's record, as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6 {
    pub addr: Ipv6Addr,
    /// The client's DUID.
    pub duid: Vec<u8>,
    /// The IA_NA's IAID.
    pub iaid: u32,
    /// The client's MAC, when known (for the lease view and `leases`).
    pub mac: Option<MacAddr>,
    pub expires: Secs,
    pub state: LeaseState,
}

impl Lease6 {
    fn holds(&self, duid: &[u8], now: Secs) -> bool {
        self.duid == duid
            && self.expires > now
            && matches!(self.state, LeaseState::Bound | LeaseState::Offered)
    }

    fn busy(&self, now: Secs) -> bool {
        self.expires > now && self.state != LeaseState::Released
    }
}

/// Every address with a record.
#[derive(Debug, Clone, Default)]
pub struct Table6 {
    leases: BTreeMap<u128, Lease6>,
}

impl Table6 {
    /// Loads persisted records (start-up); later records win.
    pub fn restore(&mut self, leases: &[Lease6]) {
        for l in leases {
            self.leases.insert(u128::from(l.addr), l.clone());
        }
    }

    /// Every record, by address.
    pub fn all(&self) -> impl Iterator<Item = &Lease6> {
        self.leases.values()
    }

    /// The record of `addr`.
    pub fn get(&self, addr: Ipv6Addr) -> Option<&Lease6> {
        self.leases.get(&u128::from(addr))
    }

    /// True when `addr` may go to `duid` now: no record, or its own, or
    /// one that is over (expired, released; a decline only once its hold ends).
    pub fn free_for(&self, addr: Ipv6Addr, duid: &[u8], now: Secs) -> bool {
        match self.get(addr) {
            None => true,
            Some(l) if l.duid == duid && l.state != LeaseState::Declined => true,
            Some(l) => !l.busy(now),
        }
    }

    /// The address `duid`'s IA `iaid` has (or had) in `pool`.
    pub fn current(&self, pool: &Pool6, duid: &[u8], iaid: u32) -> Option<Ipv6Addr> {
        self.leases
            .values()
            .find(|l| {
                l.duid == duid
                    && l.iaid == iaid
                    && pool.contains(l.addr)
                    && l.state != LeaseState::Declined
            })
            .map(|l| l.addr)
    }

    /// An address for a new IA: the first never used, else the one that
    /// expired longest ago; `reserved` addresses are skipped.
    pub fn fresh(&self, pool: &Pool6, reserved: &[Ipv6Addr], now: Secs) -> Option<Ipv6Addr> {
        let unused = pool
            .iter()
            .take(SCAN)
            .find(|a| self.get(*a).is_none() && !reserved.contains(a));
        unused.or_else(|| {
            self.leases
                .values()
                .filter(|l| pool.contains(l.addr) && !l.busy(now) && !reserved.contains(&l.addr))
                .min_by_key(|l| l.expires)
                .map(|l| l.addr)
        })
    }

    /// True when `duid` holds `addr` (offered or bound, unexpired).
    pub fn held_by(&self, addr: Ipv6Addr, duid: &[u8], now: Secs) -> bool {
        self.get(addr).is_some_and(|l| l.holds(duid, now))
    }

    /// Records `lease` and returns it (the change to persist).
    pub fn set(&mut self, lease: Lease6) -> Lease6 {
        self.leases.insert(u128::from(lease.addr), lease.clone());
        lease
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(addr: &str, duid: u8, expires: Secs, state: LeaseState) -> Lease6 {
        Lease6 {
            addr: addr.parse().unwrap(),
            duid: vec![duid],
            iaid: 1,
            mac: None,
            expires,
            state,
        }
    }

    #[test]
    fn fresh_skips_used_and_reserved_then_reuses_the_oldest_expired() {
        let pool = Pool6::parse("fd00::10-fd00::12").unwrap();
        let mut t = Table6::default();
        t.set(lease("fd00::10", 1, 100, LeaseState::Bound));
        let r: Ipv6Addr = "fd00::11".parse().unwrap();
        assert_eq!(t.fresh(&pool, &[r], 50), Some("fd00::12".parse().unwrap()));
        t.set(lease("fd00::12", 2, 90, LeaseState::Bound));
        assert_eq!(t.fresh(&pool, &[r], 50), None);
        assert_eq!(t.fresh(&pool, &[r], 95), Some("fd00::12".parse().unwrap()));
        assert!(t.free_for("fd00::10".parse().unwrap(), &[1], 50));
        assert!(!t.free_for("fd00::10".parse().unwrap(), &[2], 50));
        assert!(t.free_for("fd00::10".parse().unwrap(), &[2], 100));
    }
}
