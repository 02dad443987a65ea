//! A read-only view of the granted leases, shared with the TFTP server so it
//! can tell which client (MAC, host name) an IP address belongs to and serve
//! that client its own rendered files. Updated after leases reach the disk.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, RwLock};

use crate::dhcp::lease::{Lease, LeaseState};
use crate::mac::MacAddr;

/// Who holds an address, as far as the TFTP side needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The client's hardware address.
    pub mac: MacAddr,
    /// The host name it was given, if any.
    pub hostname: Option<String>,
    /// When the lease ends (seconds since the Unix epoch).
    pub expires: u64,
}

/// Bound leases by address; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LeaseView {
    inner: Arc<RwLock<HashMap<Ipv4Addr, Holder>>>,
}

impl LeaseView {
    /// Applies lease records in order: bound ones are added, others removed.
    pub fn apply(&self, leases: &[Lease]) {
        let Ok(mut map) = self.inner.write() else {
            return;
        };
        for lease in leases {
            if lease.state == LeaseState::Bound {
                map.insert(
                    lease.ip,
                    Holder {
                        mac: lease.mac,
                        hostname: lease.hostname.clone(),
                        expires: lease.expires,
                    },
                );
            } else if map.get(&lease.ip).is_some_and(|h| h.mac == lease.mac) {
                map.remove(&lease.ip);
            }
        }
    }

    /// Every bound lease, by address.
    pub fn bound(&self) -> Vec<(Ipv4Addr, Holder)> {
        let Ok(map) = self.inner.read() else {
            return Vec::new();
        };
        let mut all: Vec<(Ipv4Addr, Holder)> = map.iter().map(|(ip, h)| (*ip, h.clone())).collect();
        all.sort_by_key(|(ip, _)| *ip);
        all
    }

    /// The holder of `ip`, if it has a bound lease.
    pub fn holder(&self, ip: Ipv4Addr) -> Option<Holder> {
        self.inner.read().ok()?.get(&ip).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(ip: [u8; 4], mac: u8, state: LeaseState) -> Lease {
        Lease {
            ip: Ipv4Addr::from(ip),
            mac: MacAddr([2, 0, 0, 0, 0, mac]),
            expires: 0,
            state,
            hostname: Some(format!("h{mac}")),
        }
    }

    #[test]
    fn tracks_bound_leases_only() {
        let view = LeaseView::default();
        view.apply(&[lease([10, 0, 0, 5], 1, LeaseState::Bound)]);
        assert_eq!(
            view.holder(Ipv4Addr::new(10, 0, 0, 5)).map(|h| h.mac.0[5]),
            Some(1)
        );
        view.apply(&[lease([10, 0, 0, 5], 2, LeaseState::Released)]);
        assert!(
            view.holder(Ipv4Addr::new(10, 0, 0, 5)).is_some(),
            "another MAC's record"
        );
        view.apply(&[lease([10, 0, 0, 5], 1, LeaseState::Released)]);
        assert!(view.holder(Ipv4Addr::new(10, 0, 0, 5)).is_none());
    }
}
