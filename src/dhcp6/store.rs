//! DHCPv6 leases kept crash-safe: the DHCPv4 store's files and rules
//! (`crate::dhcp::store::Store`: a lock, a snapshot and a journal of
//! `CRC32HEX JSON` lines, one `write` + `fdatasync` per append, torn tails
//! skipped, compaction through a temp file and rename) with records of
//! their own in `leases6.*` beside the DHCPv4 ones.
//!
//! PostgreSQL (`crate::dhcp::pg`) keeps only DHCPv4 leases; it would need a
//! table keyed by the IPv6 address (DUID, IAID, MAC, expiry, state) and a
//! `Journal` of `Lease6` to hold these too.

use std::net::Ipv6Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dhcp::lease::{LeaseState, Secs};
use crate::dhcp::store::{self, Line, Names, Store, StoreError};
use crate::mac::MacAddr;

use super::duid;
use super::table::Lease6;

const NAMES: Names = Names {
    snapshot: "leases6.snapshot",
    journal: "leases6.journal",
    lock: "leases6.lock",
    snapshot_tmp: "leases6.snapshot.tmp",
};

/// Every file the v6 store keeps (handed to the user `serve` drops to).
pub const FILES: [&str; 4] = [
    NAMES.snapshot,
    NAMES.journal,
    NAMES.lock,
    NAMES.snapshot_tmp,
];

/// The open v6 store.
pub type Lease6Store = Store<Lease6>;

#[derive(Serialize, Deserialize)]
struct Record {
    addr: Ipv6Addr,
    duid: String,
    iaid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    expires: Secs,
    state: String,
}

impl Line for Lease6 {
    const NAMES: Names = NAMES;
    fn key(&self) -> u128 {
        u128::from(self.addr)
    }
    fn json(&self) -> String {
        let rec = Record {
            addr: self.addr,
            duid: duid::hex(&self.duid),
            iaid: self.iaid,
            mac: self.mac.map(|m| m.colon()),
            expires: self.expires,
            state: self.state.as_str().to_string(),
        };
        // a plain struct of strings and numbers always serializes
        serde_json::to_string(&rec).unwrap_or_default()
    }
    fn from_json(json: &str) -> Option<Self> {
        let rec: Record = serde_json::from_str(json).ok()?;
        let mac = match rec.mac {
            Some(m) => Some(m.parse::<MacAddr>().ok()?),
            None => None,
        };
        Some(Lease6 {
            addr: rec.addr,
            duid: duid::parse_hex(&rec.duid)?,
            iaid: rec.iaid,
            mac,
            expires: rec.expires,
            state: LeaseState::parse(&rec.state)?,
        })
    }
}

/// Opens (creating) the v6 store in `dir` with the leases found.
pub fn open(dir: &Path) -> Result<(Lease6Store, Vec<Lease6>), StoreError> {
    Store::open(dir)
}

/// Reads the v6 leases of `dir` without opening the store.
pub fn load(dir: &Path) -> Result<Vec<Lease6>, StoreError> {
    store::load_lines(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(n: u8, state: LeaseState) -> Lease6 {
        Lease6 {
            addr: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, u16::from(n)),
            duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, n],
            iaid: u32::from(n),
            mac: n.is_multiple_of(2).then_some(MacAddr([2, 0, 0, 0, 0, n])),
            expires: 1000 + u64::from(n),
            state,
        }
    }

    #[test]
    fn v6_leases_survive_a_reopen_and_live_beside_the_v4_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (_v4, _) = crate::dhcp::store::LeaseStore::open(dir.path()).unwrap();
        let (mut s, found) = open(dir.path()).unwrap();
        assert!(found.is_empty());
        s.append(&[lease(1, LeaseState::Bound), lease(2, LeaseState::Bound)])
            .unwrap();
        s.append(&[lease(1, LeaseState::Released)]).unwrap();
        assert!(open(dir.path()).is_err(), "a second v6 store is refused");
        drop(s);
        let got = load(dir.path()).unwrap();
        assert_eq!(
            got,
            vec![lease(1, LeaseState::Released), lease(2, LeaseState::Bound)]
        );
        let (_, again) = open(dir.path()).unwrap();
        assert_eq!(again, got);
        assert!(crate::dhcp::store::load(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_torn_tail_loses_only_the_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = open(dir.path()).unwrap();
        s.append(&[lease(1, LeaseState::Bound)]).unwrap();
        drop(s);
        let one = store::frame(&lease(2, LeaseState::Bound).json());
        let path = dir.path().join(NAMES.journal);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&one[..one.len() / 2]);
        std::fs::write(&path, text).unwrap();
        assert_eq!(load(dir.path()).unwrap(), vec![lease(1, LeaseState::Bound)]);
    }
}
