//! A bare port's IPv6 half: a unique local /64 of netboot's own (RFC 4193:
//! `fd` + a random 40-bit global ID, kept in the state directory so the
//! prefix survives restarts, + subnet 0), its `::1` added to the interface
//! without duplicate address detection (netboot just made the prefix up),
//! and removed again when the guard drops.

use std::io::Read;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::autoaddr::netlink;

/// The file in the state directory holding the global ID (10 hex digits).
pub const FILE: &str = "ula-global-id";

/// The global ID kept in `state_dir` (made and written the first time), or
/// a fresh one without a state directory.
pub fn global_id(state_dir: Option<&Path>) -> std::io::Result<[u8; 5]> {
    let path = state_dir.map(|d| d.join(FILE));
    if let Some(kept) = path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| parse(t.trim()))
    {
        return Ok(kept);
    }
    let mut id = [0u8; 5];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut id)?;
    if let (Some(path), Some(dir)) = (path, state_dir) {
        std::fs::create_dir_all(dir)?;
        let text: String = id.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(path, format!("{text}\n"))?;
    }
    Ok(id)
}

fn parse(text: &str) -> Option<[u8; 5]> {
    let bytes = super::duid::parse_hex(text)?;
    bytes.try_into().ok()
}

/// `fdXX:XXXX:XXXX::/64` of a global ID.
pub fn prefix(id: [u8; 5]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfd;
    o[1..6].copy_from_slice(&id);
    Ipv6Addr::from(o)
}

/// `<prefix>::1`, netboot's address in its ULA /64.
pub fn server_address(id: [u8; 5]) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(prefix(id)) | 1)
}

/// The address netboot added; removed on drop.
#[derive(Debug)]
pub struct UlaAddress {
    index: u32,
    addr: Ipv6Addr,
}

impl UlaAddress {
    /// Adds `addr/64` to interface `index` (CAP_NET_ADMIN). An address
    /// already there is taken as it is, and left there on drop.
    pub fn assign(index: u32, addr: Ipv6Addr) -> std::io::Result<Option<Self>> {
        match netlink::request(
            RouteNetlinkMessage::NewAddress(message(index, addr)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Ok(()) => Ok(Some(Self { index, addr })),
            Err(e) if netlink::is_present(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for UlaAddress {
    fn drop(&mut self) {
        let msg = RouteNetlinkMessage::DelAddress(message(self.index, self.addr));
        if let Err(e) = netlink::request(msg, NLM_F_REQUEST | NLM_F_ACK) {
            if !netlink::is_gone(&e) {
                tracing::warn!("could not remove {}/64: {e}; remove it with `sudo ip -6 addr del {}/64 dev IF`", self.addr, self.addr);
            }
        }
    }
}

fn message(index: u32, addr: Ipv6Addr) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = AddressFamily::Inet6;
    msg.header.prefix_len = 64;
    msg.header.scope = AddressScope::Universe;
    msg.header.index = index;
    msg.attributes = vec![
        AddressAttribute::Address(IpAddr::V6(addr)),
        AddressAttribute::Flags(AddressFlags::Nodad),
    ];
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_id_is_kept_and_makes_an_fd_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let id = global_id(Some(dir.path())).unwrap();
        assert_eq!(global_id(Some(dir.path())).unwrap(), id, "kept");
        let p = prefix(id);
        assert_eq!(p.octets()[0], 0xfd);
        assert_eq!(&p.octets()[1..6], &id);
        assert_eq!(u128::from(p) & u128::from(u64::MAX), 0, "subnet 0, a /64");
        assert_eq!(server_address(id), Ipv6Addr::from(u128::from(p) | 1));
    }
}
