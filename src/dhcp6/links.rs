//! The served interfaces as the DHCPv6 server sees them: index, MAC and our
//! global or unique-local address there (getifaddrs); which one a datagram
//! came over.

use std::net::{Ipv6Addr, SocketAddrV6};

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

/// The served link a datagram from `peer` came over. A link-local source
/// says it by its scope; a source without one is a client writing from the
/// address we gave it (busybox udhcpc6 sends RENEW-time REQUESTs and its
/// RELEASE by unicast from there): the link whose /64 holds it.
pub fn link_of<'a>(links: &'a [Link6], peer: &SocketAddrV6) -> Option<&'a Link6> {
    if is_link_local(peer.ip()) || peer.scope_id() != 0 {
        return links.iter().find(|l| l.index == peer.scope_id());
    }
    let net = |ip: &Ipv6Addr| u128::from(*ip) >> 64;
    links.iter().find(|l| net(&l.ours) == net(peer.ip()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Vec<Link6> {
        [(2, "fd00:1::1"), (3, "fd00:2::1")]
            .into_iter()
            .map(|(index, ours)| Link6 {
                name: format!("eth{index}"),
                index,
                mac: None,
                ours: ours.parse().unwrap(),
            })
            .collect()
    }

    fn peer(ip: &str, scope: u32) -> SocketAddrV6 {
        SocketAddrV6::new(ip.parse().unwrap(), 546, 0, scope)
    }

    #[test]
    fn a_link_local_source_names_its_link_by_scope() {
        let links = links();
        let found = link_of(&links, &peer("fe80::5054:ff:fe12:3456", 3));
        assert_eq!(found.map(|l| l.index), Some(3));
        assert!(link_of(&links, &peer("fe80::1", 9)).is_none());
    }

    #[test]
    fn a_unicast_from_a_leased_address_is_served_on_the_link_of_its_64() {
        let links = links();
        let found = link_of(&links, &peer("fd00:2::100", 0));
        assert_eq!(found.map(|l| l.index), Some(3));
        assert!(link_of(&links, &peer("fd00:9::100", 0)).is_none());
    }
}
