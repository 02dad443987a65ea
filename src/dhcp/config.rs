//! The validated DHCP configuration: what the responder serves, where, and how.
//!
//! No serde here: the lead's config layer maps `netboot.yaml` and flags onto
//! these types. Every check lives in the constructors ([`Subnet::new`],
//! [`PoolConfig::new`]) and in [`DhcpConfig::validate`], so the core can rely on
//! a pool range lying inside its subnet and pools never overlapping.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A prefix length outside 0..=30 (a /31 or /32 has no room for clients).
    #[error("prefix length /{0} is not usable for a DHCP subnet (expected 8..=30)")]
    BadPrefix(u8),
    /// The range is not inside the subnet, or is reversed.
    #[error("range {first}-{last} is not inside subnet {subnet} (or first > last)")]
    BadRange {
        first: Ipv4Addr,
        last: Ipv4Addr,
        subnet: String,
    },
    /// Two pools share addresses.
    #[error("pools {0} and {1} overlap")]
    Overlap(String, String),
    /// Authoritative mode without any pool.
    #[error("no address pool configured (authoritative mode needs at least one)")]
    NoPool,
    /// A zero lease time or hold time.
    #[error("{0} must be at least one second")]
    ZeroDuration(&'static str),
}

/// An IPv4 subnet: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

impl Subnet {
    /// Builds the subnet containing `addr` with `prefix` bits (host bits are cleared).
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, ConfigError> {
        if !(8..=30).contains(&prefix) {
            return Err(ConfigError::BadPrefix(prefix));
        }
        let mask = mask_bits(prefix);
        Ok(Self {
            network: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        })
    }

    /// Parses `10.0.0.0/24`.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.split_once('/')?;
        Self::new(addr.parse().ok()?, prefix.parse().ok()?).ok()
    }

    /// The network address.
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The subnet mask (option 1).
    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask_bits(self.prefix))
    }

    /// The directed broadcast address (option 28).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask_bits(self.prefix))
    }

    /// True when `addr` lies in this subnet (network and broadcast included).
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask_bits(self.prefix) == u32::from(self.network)
    }

    /// True when `addr` is a usable host address (not network, not broadcast).
    pub fn is_host(&self, addr: Ipv4Addr) -> bool {
        self.contains(addr) && addr != self.network && addr != self.broadcast()
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask_bits(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// One address pool: a range inside a subnet, and the options handed out with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    subnet: Subnet,
    first: Ipv4Addr,
    last: Ipv4Addr,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain_name: Option<String>,
}

impl PoolConfig {
    /// A pool handing out `first..=last`, which must lie inside `subnet`.
    pub fn new(subnet: Subnet, first: Ipv4Addr, last: Ipv4Addr) -> Result<Self, ConfigError> {
        if !subnet.contains(first) || !subnet.contains(last) || first > last {
            return Err(ConfigError::BadRange {
                first,
                last,
                subnet: subnet.to_string(),
            });
        }
        Ok(Self {
            subnet,
            first,
            last,
            routers: Vec::new(),
            dns_servers: Vec::new(),
            domain_name: None,
        })
    }

    /// The subnet the pool lives in.
    pub fn subnet(&self) -> Subnet {
        self.subnet
    }

    /// First address of the range.
    pub fn first(&self) -> Ipv4Addr {
        self.first
    }

    /// Last address of the range.
    pub fn last(&self) -> Ipv4Addr {
        self.last
    }

    fn overlaps(&self, other: &PoolConfig) -> bool {
        self.subnet.contains(other.subnet.network) || other.subnet.contains(self.subnet.network)
    }
}

/// How the responder behaves towards clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A full DHCP server: hands out addresses and boot information.
    #[default]
    Authoritative,
    /// ProxyDHCP: another server hands out addresses; we only answer PXE
    /// clients with boot information (no `yiaddr`), on port 67 and 4011.
    Proxy,
}

/// One interface the responder answers on, and our address there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface name (`SO_BINDTODEVICE`).
    pub name: String,
    /// Our address on it: the server identifier (54), the default
    /// next-server, and the address whose subnet selects the pool for
    /// requests that arrive on this interface without a relay.
    pub server_ip: Ipv4Addr,
}

impl Interface {
    /// An interface served with our address `server_ip` on it.
    pub fn new(name: impl Into<String>, server_ip: Ipv4Addr) -> Self {
        Self {
            name: name.into(),
            server_ip,
        }
    }
}

/// Everything the DHCP responder needs, validated by [`DhcpConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpConfig {
    /// Interfaces to answer on, each with our address there; empty = one
    /// socket on every interface with `server_ip` (meant for loopback
    /// benchmarks only).
    pub interfaces: Vec<Interface>,
    /// Our address when no interface is configured: server identifier (54),
    /// and the address whose subnet selects the pool for requests that are
    /// not relayed. With interfaces, each one's own address is used for what
    /// arrives on it.
    pub server_ip: Ipv4Addr,
    /// `sname` header field (server host name), if any.
    pub server_name: Option<String>,
    /// TFTP server given as siaddr/option 66 unless a profile says otherwise;
    /// `None` = our address on the interface the request arrived on.
    pub tftp_server: Option<Ipv4Addr>,
    /// Address pools (authoritative mode).
    pub pools: Vec<PoolConfig>,
    /// Authoritative or ProxyDHCP.
    pub mode: Mode,
    /// Answer only clients whose profile is `known` (matched by MAC).
    pub known_clients_only: bool,
    /// Lease time (option 51); T1/T2 are 50 % and 87.5 % of it.
    pub lease_time: Duration,
    /// How long an OFFER reserves its address.
    pub offer_hold: Duration,
    /// How long a declined (or ping-answering) address stays out of use.
    pub decline_hold: Duration,
    /// Ping an address before offering it for the first time.
    pub ping_check: bool,
    /// How long to wait for a ping answer.
    pub ping_timeout: Duration,
    /// Where leases are persisted; `None` keeps them in memory only.
    pub state_dir: Option<PathBuf>,
    /// A PostgreSQL lease database (`postgres://...`) used instead of the
    /// state directory's journal, shared with other servers.
    pub leases_url: Option<String>,
    /// How long a standby holds each OFFER before it leaves, dropping it
    /// when the client goes on meanwhile (`dhcp.answer_delay_ms`); zero
    /// answers at once.
    pub answer_delay: Duration,
    /// Address the sockets bind to (0.0.0.0 normally).
    pub bind_addr: Ipv4Addr,
    /// Server port (67; other values for loopback benchmarks).
    pub server_port: u16,
    /// Client port replies go to (68).
    pub client_port: u16,
    /// PXE boot server discovery port answered in proxy mode (4011).
    pub proxy_port: u16,
    /// Port of our HTTP server, when it runs: UEFI HTTP boot clients then
    /// get `http://<our address>:<port>/<file>` for their architecture, and
    /// iPXE gets its script over HTTP.
    pub http_port: Option<u16>,
}

impl DhcpConfig {
    /// Where leases are kept: the database when one is named, else the
    /// state directory's journal, else memory only.
    pub fn backend(&self) -> crate::dhcp::store::Backend {
        use crate::dhcp::store::Backend;
        match (&self.leases_url, &self.state_dir) {
            (Some(url), _) => Backend::Postgres(url.clone()),
            (None, Some(dir)) => Backend::Embedded(dir.clone()),
            (None, None) => Backend::Memory,
        }
    }

    /// True when offers are recorded before they leave: with a shared
    /// database, so that no OFFER names an address the database does not
    /// know (the embedded journal keeps only what was acknowledged).
    pub fn records_offers(&self) -> bool {
        self.leases_url.is_some()
    }

    /// A configuration with the usual defaults around one server address.
    pub fn new(server_ip: Ipv4Addr) -> Self {
        Self {
            interfaces: Vec::new(),
            server_ip,
            server_name: None,
            tftp_server: None,
            pools: Vec::new(),
            mode: Mode::Authoritative,
            known_clients_only: false,
            lease_time: Duration::from_secs(3600),
            offer_hold: Duration::from_secs(30),
            decline_hold: Duration::from_secs(600),
            ping_check: false,
            ping_timeout: Duration::from_millis(400),
            state_dir: None,
            leases_url: None,
            answer_delay: Duration::ZERO,
            bind_addr: Ipv4Addr::UNSPECIFIED,
            server_port: 67,
            client_port: 68,
            proxy_port: 4011,
            http_port: None,
        }
    }

    /// Checks the parts that depend on each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.mode == Mode::Authoritative && self.pools.is_empty() {
            return Err(ConfigError::NoPool);
        }
        for (name, d) in [
            ("lease_time", self.lease_time),
            ("offer_hold", self.offer_hold),
            ("decline_hold", self.decline_hold),
        ] {
            if d.as_secs() == 0 {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        for (i, a) in self.pools.iter().enumerate() {
            for b in &self.pools[i + 1..] {
                if a.overlaps(b) {
                    return Err(ConfigError::Overlap(
                        a.subnet.to_string(),
                        b.subnet.to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The TFTP server clients are pointed at by default, for a request
    /// that arrived where our address is `server_ip`.
    pub fn tftp_server(&self, server_ip: Ipv4Addr) -> Ipv4Addr {
        self.tftp_server.unwrap_or(server_ip)
    }

    /// Every address of ours: never handed to a client.
    pub fn server_addrs(&self) -> Vec<Ipv4Addr> {
        let mut out = vec![self.server_ip];
        for i in &self.interfaces {
            if !out.contains(&i.server_ip) {
                out.push(i.server_ip);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_math() {
        let s = Subnet::new(Ipv4Addr::new(10, 231, 0, 77), 24).unwrap();
        assert_eq!(s.network(), Ipv4Addr::new(10, 231, 0, 0));
        assert_eq!(s.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 231, 0, 255));
        assert!(s.is_host(Ipv4Addr::new(10, 231, 0, 1)));
        assert!(!s.is_host(Ipv4Addr::new(10, 231, 0, 255)));
        assert!(!s.contains(Ipv4Addr::new(10, 231, 1, 1)));
        assert_eq!(
            Subnet::parse("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert!(Subnet::parse("10.1.2.3/31").is_none());
    }

    #[test]
    fn rejects_bad_pools() {
        let s = Subnet::parse("10.0.0.0/24").unwrap();
        assert!(PoolConfig::new(
            s,
            "10.0.0.10".parse().unwrap(),
            "10.0.1.10".parse().unwrap()
        )
        .is_err());
        assert!(
            PoolConfig::new(s, "10.0.0.10".parse().unwrap(), "10.0.0.5".parse().unwrap()).is_err()
        );
        let mut c = DhcpConfig::new("10.0.0.1".parse().unwrap());
        assert_eq!(c.validate(), Err(ConfigError::NoPool));
        let p = PoolConfig::new(
            s,
            "10.0.0.10".parse().unwrap(),
            "10.0.0.20".parse().unwrap(),
        )
        .unwrap();
        c.pools = vec![p.clone(), p];
        assert!(matches!(c.validate(), Err(ConfigError::Overlap(..))));
        c.pools.pop();
        assert_eq!(c.validate(), Ok(()));
        c.mode = Mode::Proxy;
        c.pools.clear();
        assert_eq!(c.validate(), Ok(()));
    }
}
