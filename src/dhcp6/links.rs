//! The served interfaces as the DHCPv6 server sees them: index, MAC and our
//! global or unique-local address there (getifaddrs).

use std::net::Ipv6Addr;

use crate::mac::MacAddr;

/// One served interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link6 {
    pub name: String,
    pub index: u32,
    pub mac: Option<MacAddr>,
    /// Our global or ULA address (the host of boot URLs).
    pub ours: Ipv6Addr,
}

/// True for a link-local address (fe80::/10).
pub fn is_link_local(ip: &Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The interface `name` with its first global or ULA IPv6 address, or why not.
pub fn link(name: &str) -> Result<Link6, String> {
    let all: Vec<_> = nix::ifaddrs::getifaddrs()
        .map_err(|e| format!("cannot list the interfaces: {e}"))?
        .filter(|i| i.interface_name == name)
        .collect();
    let index = nix::net::if_::if_nametoindex(name)
        .map_err(|_| format!("no interface {name}; name an existing one with --interface"))?;
    let mac = all.iter().find_map(|i| {
        let ll = i.address.as_ref()?.as_link_addr()?;
        MacAddr::from_slice(&ll.addr()?)
    });
    let ours = all
        .iter()
        .filter_map(|i| i.address.as_ref()?.as_sockaddr_in6().map(|a| a.ip()))
        .find(|ip| !is_link_local(ip) && !ip.is_loopback() && !ip.is_multicast());
    let ours = ours.ok_or_else(|| {
        format!(
            "{name} has no global or unique-local IPv6 address for the boot URLs; add one \
             (`sudo ip -6 addr add fd00:1::1/64 dev {name}`) or turn DHCPv6 off (`dhcp6: {{enabled: false}}`)"
        )
    })?;
    Ok(Link6 {
        name: name.to_string(),
        index,
        mac,
        ours,
    })
}
