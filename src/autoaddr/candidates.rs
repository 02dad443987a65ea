//! Which subnet quick mode takes on a bare port: the documented, ordered list
//! of candidate /24s (server at .1, pool .2–.254), and `--assign-address CIDR`
//! parsing for a user who wants to choose. Pure: no I/O.

use std::net::Ipv4Addr;

use crate::net::Ipv4Net;

use super::error::AutoAddrError;

/// The candidate /24 networks, best first (see `docs/bare-port.md` for why).
///
/// 1. `10.42.0.0/24`: NetworkManager's "shared" mode uses it, so a laptop user
///    who has shared a port before recognises it.
/// 2. `10.43.0.0/24`: the next one over.
/// 3. `192.168.42.0/24`: a different private block, in case a site routes 10/8.
/// 4. `172.30.42.0/24`: the third private block.
/// 5. `10.250.42.0/24`, 6. `192.168.250.0/24`: far from the usual defaults of
///    home routers, Docker, libvirt and VirtualBox.
const LIST: [[u8; 3]; 6] = [
    [10, 42, 0],
    [10, 43, 0],
    [192, 168, 42],
    [172, 30, 42],
    [10, 250, 42],
    [192, 168, 250],
];

/// The first candidate, `10.42.0.1/24` (what error messages suggest).
pub const FIRST: Ipv4Net = Ipv4Net {
    addr: Ipv4Addr::new(LIST[0][0], LIST[0][1], LIST[0][2], 1),
    prefix: 24,
};

/// The ordered candidate subnets; each item is the server address with its
/// prefix (`10.42.0.1/24`).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    next: usize,
}

impl Candidates {
    /// The list from the start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every candidate, in order.
    pub fn all() -> Vec<Ipv4Net> {
        Self::new().collect()
    }
}

impl Iterator for Candidates {
    type Item = Ipv4Net;

    fn next(&mut self) -> Option<Ipv4Net> {
        let [a, b, c] = *LIST.get(self.next)?;
        self.next += 1;
        Some(Ipv4Net {
            addr: Ipv4Addr::new(a, b, c, 1),
            prefix: 24,
        })
    }
}

/// The addresses a DHCP pool may hand out in `net`: every host address from
/// the first to the last. When the server holds the first host address (the
/// candidates' `.1`) the range starts after it; otherwise the server address
/// lies inside the range and the lease table must skip it (the DHCP
/// `LeaseTable` is given the server address and never hands it out).
pub fn pool_range(net: Ipv4Net) -> (Ipv4Addr, Ipv4Addr) {
    let first = u32::from(net.network()).saturating_add(1);
    let last = u32::from(net.broadcast()).saturating_sub(1);
    let first = if u32::from(net.addr) == first {
        first.saturating_add(1)
    } else {
        first
    };
    (Ipv4Addr::from(first), Ipv4Addr::from(last))
}

/// Parses `--assign-address`, e.g. `10.9.0.1/24`: the server address and the
/// prefix of the segment. The prefix must be 8..=30 and the address must be a
/// host address of its subnet (not the network or broadcast address).
pub fn parse_assign(text: &str) -> Result<Ipv4Net, AutoAddrError> {
    let bad = |why: String| AutoAddrError::BadAssign {
        input: text.to_string(),
        why,
    };
    let text = text.trim();
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(bad(format!(
            "it needs a prefix length, e.g. `{text}/24` (the server address and the size of the segment)"
        )));
    };
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| bad(format!("`{addr}` is not an IPv4 address")))?;
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad(format!("`{prefix}` is not a prefix length (8 to 30)")))?;
    if !(8..=30).contains(&prefix) {
        return Err(bad(format!(
            "prefix /{prefix} is outside 8..30 (a /31 or /32 leaves no room for clients)"
        )));
    }
    if addr.is_loopback() || addr.is_multicast() || addr.is_unspecified() || addr.is_broadcast() {
        return Err(bad(format!("{addr} cannot be used on an Ethernet segment")));
    }
    let net = Ipv4Net { addr, prefix };
    if addr == net.network() {
        return Err(bad(format!(
            "{addr} is the network address of {}/{prefix}; use a host address such as {}/{prefix}",
            net.network(),
            Ipv4Addr::from(u32::from(net.network()) + 1)
        )));
    }
    if addr == net.broadcast() {
        return Err(bad(format!(
            "{addr} is the broadcast address of {}/{prefix}; use a host address such as {}/{prefix}",
            net.network(),
            Ipv4Addr::from(u32::from(net.network()) + 1)
        )));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv4Net {
        parse_assign(text).unwrap()
    }

    #[test]
    fn candidates_start_with_network_manager_shared_subnet() {
        let all = Candidates::all();
        assert_eq!(all[0].to_string(), "10.42.0.1/24");
        assert_eq!(all[1].to_string(), "10.43.0.1/24");
        assert_eq!(all.len(), LIST.len());
        for c in &all {
            assert_eq!(c.prefix, 24);
            assert_eq!(c.addr.octets()[3], 1);
            assert!(c.addr.is_private(), "{c}");
        }
    }

    #[test]
    fn candidate_pool_is_two_to_254() {
        let (first, last) = pool_range(Candidates::all()[0]);
        assert_eq!(first, Ipv4Addr::new(10, 42, 0, 2));
        assert_eq!(last, Ipv4Addr::new(10, 42, 0, 254));
    }

    #[test]
    fn explicit_pool_keeps_the_whole_host_range() {
        assert_eq!(
            pool_range(net("10.9.0.100/24")),
            (Ipv4Addr::new(10, 9, 0, 1), Ipv4Addr::new(10, 9, 0, 254))
        );
        assert_eq!(
            pool_range(net("10.9.0.1/30")),
            (Ipv4Addr::new(10, 9, 0, 2), Ipv4Addr::new(10, 9, 0, 2))
        );
    }

    #[test]
    fn parses_good_addresses() {
        assert_eq!(net("10.9.0.1/24").to_string(), "10.9.0.1/24");
        assert_eq!(net(" 192.168.7.20/16 ").to_string(), "192.168.7.20/16");
        assert_eq!(net("10.0.0.1/8").prefix, 8);
        assert_eq!(net("10.0.0.1/30").prefix, 30);
    }

    fn err(text: &str) -> String {
        parse_assign(text).unwrap_err().to_string()
    }

    #[test]
    fn refuses_bad_addresses_with_reasons() {
        assert!(
            err("10.9.0.1").contains("10.9.0.1/24"),
            "{}",
            err("10.9.0.1")
        );
        assert!(err("10.9.0.0/24").contains("network address"));
        assert!(err("10.9.0.0/24").contains("10.9.0.1/24"));
        assert!(err("10.9.0.255/24").contains("broadcast address"));
        assert!(err("10.9.0.1/31").contains("outside 8..30"));
        assert!(err("10.9.0.1/7").contains("outside 8..30"));
        assert!(err("10.9.0.1/x").contains("not a prefix length"));
        assert!(err("10.9.0/24").contains("not an IPv4 address"));
        assert!(err("127.0.0.5/8").contains("cannot be used"));
        assert!(err("224.0.0.5/8").contains("cannot be used"));
        assert!(err("").contains("prefix length"));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse_assign(&s);
        }

        #[test]
        fn accepted_nets_have_a_pool(a in proptest::prelude::any::<u32>(), p in 8u8..=30) {
            if let Ok(n) = parse_assign(&format!("{}/{p}", Ipv4Addr::from(a))) {
                let (first, last) = pool_range(n);
                proptest::prop_assert!(first <= last);
                proptest::prop_assert!(n.contains(first) && n.contains(last));
            }
        }
    }
}
