//! Address pools and the lease table: who holds which address until when.
//!
//! Pure data, no I/O, no clock: every call takes `now` (seconds since the Unix
//! epoch). The table is keyed by address, so one address has at most one
//! holder by construction; a per-pool cursor hands out never-used addresses in
//! O(1) amortised time, and a per-pool expiry index reuses expired addresses
//! oldest first in O(log n). Static reservations are never handed to another
//! MAC.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use crate::dhcp::config::{PoolConfig, Subnet};
pub use crate::dhcp::lease::{Allocation, Holder, Lease, LeaseState, Secs};
use crate::mac::MacAddr;

#[derive(Debug, Clone)]
struct Entry {
    mac: MacAddr,
    expires: Secs,
    state: LeaseState,
    probed: bool,
    hostname: Option<String>,
}

#[derive(Debug, Clone)]
struct PoolState {
    subnet: Subnet,
    first: u32,
    last: u32,
    /// Every address above the cursor (within the range) has never been used.
    cursor: u64,
    /// (expires, address) of every entry in this pool's subnet.
    by_expiry: BTreeSet<(Secs, u32)>,
}

/// All pools and every lease record.
#[derive(Debug, Clone)]
pub struct LeaseTable {
    server_addrs: Vec<Ipv4Addr>,
    pools: Vec<PoolState>,
    entries: HashMap<Ipv4Addr, Entry>,
    by_mac: HashMap<(usize, MacAddr), Ipv4Addr>,
    reserved_ip: HashMap<Ipv4Addr, MacAddr>,
    reserved_mac: HashMap<MacAddr, Ipv4Addr>,
}

impl LeaseTable {
    /// An empty table over `pools`; `server_addrs` (ours, one per served
    /// interface) are never handed out.
    pub fn new(pools: &[PoolConfig], server_addrs: &[Ipv4Addr]) -> Self {
        let pools = pools
            .iter()
            .map(|p| PoolState {
                subnet: p.subnet(),
                first: u32::from(p.first()),
                last: u32::from(p.last()),
                cursor: u64::from(u32::from(p.first())),
                by_expiry: BTreeSet::new(),
            })
            .collect();
        Self {
            server_addrs: server_addrs.to_vec(),
            pools,
            entries: HashMap::new(),
            by_mac: HashMap::new(),
            reserved_ip: HashMap::new(),
            reserved_mac: HashMap::new(),
        }
    }

    /// Replaces the static reservations (MAC → address).
    pub fn set_reservations(&mut self, reservations: &[(MacAddr, Ipv4Addr)]) {
        self.reserved_ip = reservations.iter().map(|&(m, ip)| (ip, m)).collect();
        self.reserved_mac = reservations.iter().copied().collect();
    }

    /// The reservation for this MAC, if any.
    pub fn reservation(&self, mac: MacAddr) -> Option<Ipv4Addr> {
        self.reserved_mac.get(&mac).copied()
    }

    /// True when `ip` is one of our own addresses.
    pub fn is_server(&self, ip: Ipv4Addr) -> bool {
        self.server_addrs.contains(&ip)
    }

    /// The MAC an address is reserved for, if any.
    pub fn reserved_for(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        self.reserved_ip.get(&ip).copied()
    }

    /// Index of the pool whose subnet contains `addr`.
    pub fn pool_for(&self, addr: Ipv4Addr) -> Option<usize> {
        self.pools.iter().position(|p| p.subnet.contains(addr))
    }

    /// The subnet of pool `pool`.
    pub fn subnet(&self, pool: usize) -> Option<Subnet> {
        self.pools.get(pool).map(|p| p.subnet)
    }

    /// Who holds `ip` at `now`.
    pub fn holder(&self, ip: Ipv4Addr, now: Secs) -> Holder {
        match self.entries.get(&ip) {
            Some(e) if e.expires > now => match e.state {
                LeaseState::Offered | LeaseState::Bound => Holder::Client(e.mac),
                LeaseState::Declined => Holder::Declined,
                LeaseState::Released => Holder::Free,
            },
            _ => Holder::Free,
        }
    }

    /// The lease record of `ip`, whatever its state.
    pub fn lease(&self, ip: Ipv4Addr) -> Option<Lease> {
        self.entries.get(&ip).map(|e| to_lease(ip, e))
    }

    /// The address this MAC last had in `pool`, if the record is still its own.
    pub fn previous(&self, pool: usize, mac: MacAddr) -> Option<Ipv4Addr> {
        let ip = *self.by_mac.get(&(pool, mac))?;
        let e = self.entries.get(&ip)?;
        (e.mac == mac && e.state != LeaseState::Declined).then_some(ip)
    }

    /// True when `mac` may be given `ip` at `now`: in the pool's subnet, a host
    /// address, not ours, not reserved for someone else, not held by another.
    pub fn usable_by(&self, pool: usize, ip: Ipv4Addr, mac: MacAddr, now: Secs) -> bool {
        let Some(p) = self.pools.get(pool) else {
            return false;
        };
        if !p.subnet.is_host(ip) || self.is_server(ip) {
            return false;
        }
        if self.reserved_for(ip).is_some_and(|m| m != mac) {
            return false;
        }
        match self.holder(ip, now) {
            Holder::Free => true,
            Holder::Client(m) => m == mac,
            Holder::Declined => false,
        }
    }

    /// True when `ip` is inside pool `pool`'s dynamic range.
    pub fn in_range(&self, pool: usize, ip: Ipv4Addr) -> bool {
        self.pools
            .get(pool)
            .is_some_and(|p| (p.first..=p.last).contains(&u32::from(ip)))
    }

    /// Picks an address for a dynamic client: its previous one if still
    /// usable, else the requested one if free and in range, else a never-used
    /// one, else the address that expired longest ago. `None` when exhausted.
    pub fn allocate(
        &mut self,
        pool: usize,
        mac: MacAddr,
        requested: Option<Ipv4Addr>,
        now: Secs,
    ) -> Option<Allocation> {
        if let Some(ip) = self.previous(pool, mac) {
            if self.in_range(pool, ip) && self.usable_by(pool, ip, mac, now) {
                let probed = self.entries.get(&ip).is_some_and(|e| e.probed);
                let offered_new = self
                    .entries
                    .get(&ip)
                    .is_some_and(|e| e.state == LeaseState::Offered);
                // An address offered (not yet bound) to this client is still
                // new to it: probe it unless that was done.
                let needs_probe = offered_new && !probed;
                return Some(Allocation { ip, needs_probe });
            }
        }
        if let Some(ip) = requested {
            if self.in_range(pool, ip) && self.usable_by(pool, ip, mac, now) {
                return Some(self.fresh(ip));
            }
        }
        if let Some(ip) = self.next_unused(pool, mac, now) {
            return Some(self.fresh(ip));
        }
        self.oldest_expired(pool, mac, now).map(|ip| self.fresh(ip))
    }

    fn fresh(&self, ip: Ipv4Addr) -> Allocation {
        let probed = self.entries.get(&ip).is_some_and(|e| e.probed);
        Allocation {
            ip,
            needs_probe: !probed,
        }
    }

    fn next_unused(&mut self, pool: usize, mac: MacAddr, now: Secs) -> Option<Ipv4Addr> {
        loop {
            let p = self.pools.get(pool)?;
            if p.cursor > u64::from(p.last) {
                return None;
            }
            let ip = Ipv4Addr::from(u32::try_from(p.cursor).ok()?);
            if !self.entries.contains_key(&ip) && self.usable_by(pool, ip, mac, now) {
                return Some(ip);
            }
            if let Some(p) = self.pools.get_mut(pool) {
                p.cursor += 1;
            }
        }
    }

    fn oldest_expired(&self, pool: usize, mac: MacAddr, now: Secs) -> Option<Ipv4Addr> {
        let p = self.pools.get(pool)?;
        p.by_expiry
            .iter()
            .take_while(|(exp, _)| *exp <= now)
            .map(|&(_, ip)| Ipv4Addr::from(ip))
            .find(|&ip| self.in_range(pool, ip) && self.usable_by(pool, ip, mac, now))
    }

    /// Records that `ip` is offered to `mac` until `until`. A lease the client
    /// already holds for longer is left alone.
    pub fn offer(&mut self, ip: Ipv4Addr, mac: MacAddr, until: Secs, probed: bool) {
        if let Some(e) = self.entries.get(&ip) {
            if e.mac == mac && e.state == LeaseState::Bound && e.expires >= until {
                return;
            }
        }
        let hostname = self.entries.get(&ip).and_then(|e| e.hostname.clone());
        self.put(
            ip,
            Entry {
                mac,
                expires: until,
                state: LeaseState::Offered,
                probed,
                hostname,
            },
        );
    }

    /// Marks the probe of an offered address as done (it did not answer).
    pub fn mark_probed(&mut self, ip: Ipv4Addr) {
        if let Some(e) = self.entries.get_mut(&ip) {
            e.probed = true;
        }
    }

    /// Grants `ip` to `mac` until `expires`; returns the record to persist.
    pub fn bind(
        &mut self,
        ip: Ipv4Addr,
        mac: MacAddr,
        expires: Secs,
        hostname: Option<String>,
    ) -> Lease {
        let entry = Entry {
            mac,
            expires,
            state: LeaseState::Bound,
            probed: true,
            hostname,
        };
        let lease = to_lease(ip, &entry);
        self.put(ip, entry);
        lease
    }

    /// The client gave `ip` back; returns the record to persist, `None` when
    /// `mac` did not hold it.
    pub fn release(&mut self, ip: Ipv4Addr, mac: MacAddr, now: Secs) -> Option<Lease> {
        if self.holder(ip, now) != Holder::Client(mac) {
            return None;
        }
        let e = self.entries.get(&ip)?;
        let entry = Entry {
            expires: now,
            state: LeaseState::Released,
            ..e.clone()
        };
        let lease = to_lease(ip, &entry);
        self.put(ip, entry);
        Some(lease)
    }

    /// Drops an unanswered offer made to `mac` (it chose another server).
    pub fn cancel_offer(&mut self, pool: usize, mac: MacAddr, now: Secs) {
        let Some(&ip) = self.by_mac.get(&(pool, mac)) else {
            return;
        };
        if let Some(e) = self.entries.get(&ip) {
            if e.mac == mac && e.state == LeaseState::Offered {
                let entry = Entry {
                    expires: now,
                    state: LeaseState::Released,
                    ..e.clone()
                };
                self.put(ip, entry);
            }
        }
    }

    /// Takes `ip` out of use until `until` (DECLINE or ping answer).
    pub fn decline(&mut self, ip: Ipv4Addr, mac: MacAddr, until: Secs) -> Lease {
        let entry = Entry {
            mac,
            expires: until,
            state: LeaseState::Declined,
            probed: false,
            hostname: None,
        };
        let lease = to_lease(ip, &entry);
        self.put(ip, entry);
        lease
    }

    /// Loads persisted records (start-up).
    pub fn restore(&mut self, leases: &[Lease]) {
        for l in leases {
            let entry = Entry {
                mac: l.mac,
                expires: l.expires,
                state: l.state,
                probed: true,
                hostname: l.hostname.clone(),
            };
            self.put(l.ip, entry);
        }
    }

    /// Every record worth persisting (offers are not).
    pub fn snapshot(&self) -> Vec<Lease> {
        let mut out: Vec<Lease> = self
            .entries
            .iter()
            .filter(|(_, e)| e.state != LeaseState::Offered)
            .map(|(ip, e)| to_lease(*ip, e))
            .collect();
        out.sort_by_key(|l| u32::from(l.ip));
        out
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no address was ever handed out.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn put(&mut self, ip: Ipv4Addr, entry: Entry) {
        let pool = self.pool_for(ip);
        let key = u32::from(ip);
        if let Some(old) = self.entries.get(&ip) {
            if let Some(p) = pool {
                self.pools[p].by_expiry.remove(&(old.expires, key));
                if old.mac != entry.mac && self.by_mac.get(&(p, old.mac)) == Some(&ip) {
                    self.by_mac.remove(&(p, old.mac));
                }
            }
        }
        if let Some(p) = pool {
            self.pools[p].by_expiry.insert((entry.expires, key));
            if entry.state != LeaseState::Declined {
                self.by_mac.insert((p, entry.mac), ip);
            }
        }
        self.entries.insert(ip, entry);
    }
}

fn to_lease(ip: Ipv4Addr, e: &Entry) -> Lease {
    Lease {
        ip,
        mac: e.mac,
        expires: e.expires,
        state: e.state,
        hostname: e.hostname.clone(),
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
