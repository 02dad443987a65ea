//! Network interfaces as the server sees them: which exist, whether they are
//! up, and their IPv4 addresses with prefix lengths. Read-only.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;

/// An IPv4 address on an interface, with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length (24 for a /24).
    pub prefix: u8,
}

impl Ipv4Net {
    /// The subnet mask.
    pub fn mask(&self) -> Ipv4Addr {
        let bits = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix.min(32)))
        };
        Ipv4Addr::from(bits)
    }

    /// The network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & u32::from(self.mask()))
    }

    /// The broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) | !u32::from(self.mask()))
    }

    /// True when `ip` is inside this subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & u32::from(self.mask()) == u32::from(self.network())
    }
}

impl std::fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// What we know of one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// Its name (`eth0`).
    pub name: String,
    /// Administratively up.
    pub up: bool,
    /// Carrier present (RUNNING).
    pub running: bool,
    /// Loopback interface.
    pub loopback: bool,
    /// IPv4 addresses.
    pub ipv4: Vec<Ipv4Net>,
}

/// Every interface of this network namespace, by name.
pub fn interfaces() -> std::io::Result<BTreeMap<String, Interface>> {
    let mut out: BTreeMap<String, Interface> = BTreeMap::new();
    for ifa in getifaddrs().map_err(std::io::Error::from)? {
        let entry = out
            .entry(ifa.interface_name.clone())
            .or_insert_with(|| Interface {
                name: ifa.interface_name.clone(),
                ..Interface::default()
            });
        entry.up |= ifa.flags.contains(InterfaceFlags::IFF_UP);
        entry.running |= ifa.flags.contains(InterfaceFlags::IFF_RUNNING);
        entry.loopback |= ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK);
        let (Some(addr), Some(mask)) = (ifa.address, ifa.netmask) else {
            continue;
        };
        let (Some(addr), Some(mask)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) else {
            continue;
        };
        entry.ipv4.push(Ipv4Net {
            addr: addr.ip(),
            prefix: u32::from(mask.ip()).count_ones() as u8,
        });
    }
    Ok(out)
}

/// Looks up one interface; the error lists the interfaces that exist.
pub fn interface(name: &str) -> Result<Interface, NetError> {
    let all = interfaces().map_err(NetError::List)?;
    all.get(name).cloned().ok_or_else(|| NetError::NoSuchInterface {
        name: name.to_string(),
        existing: all.keys().cloned().collect(),
    })
}

/// Interface lookup failures.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The interface list could not be read.
    #[error("cannot list network interfaces: {0}")]
    List(std::io::Error),
    /// No interface of that name.
    #[error("there is no interface {name:?}; interfaces here: {}", existing.join(", "))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The names that exist.
        existing: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_arithmetic() {
        let net = Ipv4Net {
            addr: Ipv4Addr::new(10, 42, 0, 1),
            prefix: 24,
        };
        assert_eq!(net.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(net.network(), Ipv4Addr::new(10, 42, 0, 0));
        assert_eq!(net.broadcast(), Ipv4Addr::new(10, 42, 0, 255));
        assert!(net.contains(Ipv4Addr::new(10, 42, 0, 200)));
        assert!(!net.contains(Ipv4Addr::new(10, 42, 1, 1)));
        assert_eq!(net.to_string(), "10.42.0.1/24");
    }

    #[test]
    fn loopback_is_listed() {
        let all = interfaces().unwrap();
        let lo = all.get("lo").expect("every namespace has lo");
        assert!(lo.loopback);
        assert!(matches!(
            interface("no-such-if0"),
            Err(NetError::NoSuchInterface { existing, .. }) if existing.contains(&"lo".to_string())
        ));
    }
}
