//! The DHCPv6 server's validated configuration: the address pools (or none:
//! stateless, clients take their address from SLAAC), lifetimes, rapid
//! commit, reservations by DUID or MAC, and our DUID.

use std::net::Ipv6Addr;

use crate::mac::MacAddr;

/// A range of addresses handed out on one /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool6 {
    first: u128,
    last: u128,
}

/// Why a pool cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pool6Error {
    #[error("`{0}` is not FIRST-LAST (two IPv6 addresses) or PREFIX/64; write e.g. fd00:1::100-fd00:1::1ff or fd00:1::/64")]
    Syntax(String),
    #[error("the range {0} ends before it starts; swap the two addresses")]
    Backwards(String),
    #[error("the range {0} spans more than one /64; keep both ends in one /64")]
    Spans(String),
}

impl Pool6 {
    /// Parses `FIRST-LAST`, or a `/64` prefix (then `::1000` to `::ffff`
    /// of it, leaving the low addresses for the server and routers).
    pub fn parse(text: &str) -> Result<Self, Pool6Error> {
        let bad = || Pool6Error::Syntax(text.to_string());
        if let Some((net, len)) = text.split_once('/') {
            let net: Ipv6Addr = net.trim().parse().map_err(|_| bad())?;
            if len.trim() != "64" {
                return Err(bad());
            }
            let base = u128::from(net) & !u128::from(u64::MAX);
            return Ok(Self {
                first: base + 0x1000,
                last: base + 0xffff,
            });
        }
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let first = u128::from(a.trim().parse::<Ipv6Addr>().map_err(|_| bad())?);
        let last = u128::from(b.trim().parse::<Ipv6Addr>().map_err(|_| bad())?);
        if last < first {
            return Err(Pool6Error::Backwards(text.to_string()));
        }
        if first >> 64 != last >> 64 {
            return Err(Pool6Error::Spans(text.to_string()));
        }
        Ok(Self { first, last })
    }

    /// First address.
    pub fn first(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.first)
    }

    /// Last address.
    pub fn last(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.last)
    }

    /// True when `addr` is in the range.
    pub fn contains(&self, addr: Ipv6Addr) -> bool {
        (self.first..=self.last).contains(&u128::from(addr))
    }

    /// True when `addr` is on the pool's /64.
    pub fn on_link(&self, addr: Ipv6Addr) -> bool {
        u128::from(addr) >> 64 == self.first >> 64
    }

    /// Every address, in order (bounded by the caller's use).
    pub fn iter(&self) -> impl Iterator<Item = Ipv6Addr> {
        (self.first..=self.last).map(Ipv6Addr::from)
    }
}

/// Who a reservation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder6 {
    /// A client DUID.
    Duid(Vec<u8>),
    /// A MAC (from a DUID-LL/LLT or an EUI-64 link-local source).
    Mac(MacAddr),
}

/// A fixed address for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation6 {
    pub holder: Holder6,
    pub addr: Ipv6Addr,
}

/// Everything the DHCPv6 core needs besides the lease table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhcp6Config {
    /// Pools (one per served /64); empty: stateless, no IA_NA addresses.
    pub pools: Vec<Pool6>,
    /// Valid lifetime of an address, seconds.
    pub lease_time: u32,
    /// Answer a SOLICIT carrying Rapid Commit with a REPLY at once.
    pub rapid_commit: bool,
    /// Seconds a declined address stays out of use.
    pub decline_hold: u32,
    /// Fixed addresses.
    pub reservations: Vec<Reservation6>,
    /// Our DUID (option 2).
    pub server_duid: Vec<u8>,
    /// Our HTTP server's port, when it runs (HTTP clients and iPXE get
    /// `http://` URLs).
    pub http_port: Option<u16>,
    /// DNS servers handed out (option 23).
    pub dns: Vec<Ipv6Addr>,
}

impl Dhcp6Config {
    /// Defaults around our DUID: no pools (stateless), an hour's lease,
    /// rapid commit allowed.
    pub fn new(server_duid: Vec<u8>) -> Self {
        Self {
            pools: Vec::new(),
            lease_time: 3600,
            rapid_commit: true,
            decline_hold: 600,
            reservations: Vec::new(),
            server_duid,
            http_port: None,
            dns: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_parse_from_ranges_and_prefixes() {
        let p = Pool6::parse("fd00:1::100-fd00:1::1ff").unwrap();
        assert!(p.contains("fd00:1::1aa".parse().unwrap()));
        assert!(!p.contains("fd00:1::2".parse().unwrap()));
        assert!(p.on_link("fd00:1::2".parse().unwrap()));
        let p = Pool6::parse("fd00:2::/64").unwrap();
        assert_eq!(p.first(), "fd00:2::1000".parse::<Ipv6Addr>().unwrap());
        let e = Pool6::parse("fd00::9-fd00::1").unwrap_err();
        assert!(e.to_string().contains("swap"), "{e}");
        assert!(matches!(
            Pool6::parse("fd00::1-fd01::1"),
            Err(Pool6Error::Spans(_))
        ));
        assert!(matches!(
            Pool6::parse("fd00::/48"),
            Err(Pool6Error::Syntax(_))
        ));
    }
}
