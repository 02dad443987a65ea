//! Which networks `netboot explain` takes `serve` to serve, and which of
//! them a client's request arrives on. `serve` learns its networks from
//! the interfaces (an address already there, or one it takes on a bare
//! port); explain reads the interfaces' addresses as `ip addr` does and
//! assumes what a bare port would get, sending nothing. Pure apart from
//! [`served`]'s read of the interface list.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::autoaddr::candidates::FIRST;
use crate::config::FileConfig;
use crate::dhcp::config::DhcpConfig;
use crate::net::{self, Interface, Ipv4Net};
use crate::serve::plan::parse_range;
use crate::serve::ServeOptions;

/// The networks taken as served, with how each was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// (interface, our address on it), as `serve::plan::plan` takes them.
    pub nets: Vec<(String, Ipv4Net)>,
    /// One line per network: where its address came from.
    pub notes: Vec<String>,
}

/// The served networks for these options and file (reads the interfaces).
pub fn served(opts: &ServeOptions, file: &FileConfig) -> Served {
    let names = if opts.interfaces.is_empty() {
        file.all_interfaces()
    } else {
        opts.interfaces.clone()
    };
    let facts = Facts {
        wanted: opts.server_address.or(file.server_address),
        range: opts.range.as_deref().or(file.dhcp.range.as_deref()),
    };
    match net::interfaces() {
        Ok(listing) => choose(&names, &listing, &facts),
        Err(e) => {
            let mut served = choose(&names, &BTreeMap::new(), &facts);
            served
                .notes
                .insert(0, format!("cannot list this machine's interfaces ({e})"));
            served
        }
    }
}

/// What the settings say about our address.
struct Facts<'a> {
    /// `--server-address` / `server_address:`.
    wanted: Option<Ipv4Addr>,
    /// `--range` / `dhcp.range`, as written.
    range: Option<&'a str>,
}

fn choose(names: &[String], listing: &BTreeMap<String, Interface>, facts: &Facts<'_>) -> Served {
    let mut out = Served {
        nets: Vec::new(),
        notes: Vec::new(),
    };
    if names.is_empty() {
        let net = assumed(facts);
        out.notes.push(format!(
            "no interface is named (--interface, `interface:` in netboot.yaml): assumed one with {net}"
        ));
        out.nets.push(("(unnamed)".to_string(), net));
        return out;
    }
    for name in names {
        let iface = listing.get(name);
        let found = iface.and_then(|i| {
            i.ipv4
                .iter()
                .find(|n| facts.wanted.is_none_or(|w| n.addr == w))
                .copied()
        });
        let (net, note) = match (found, iface) {
            (Some(net), _) => (net, format!("{name}: {net}, the interface's address")),
            (None, Some(_)) => {
                let net = assumed(facts);
                (net, format!("{name}: no usable IPv4 address here; `serve` takes one on a bare port (the first free of 10.42.0.1/24, ...), assumed {net}"))
            }
            (None, None) => {
                let net = assumed(facts);
                (
                    net,
                    format!("{name}: no such interface on this machine; assumed {net}"),
                )
            }
        };
        out.notes.push(note);
        out.nets.push((name.clone(), net));
    }
    out
}

/// The address assumed for a network not found here: the server address
/// given (as a /24), else .1 of the /24 holding the range, else 10.42.0.1/24.
fn assumed(facts: &Facts<'_>) -> Ipv4Net {
    let in_24 = |ip: Ipv4Addr, host: Option<u8>| {
        let [a, b, c, d] = ip.octets();
        Ipv4Net {
            addr: Ipv4Addr::new(a, b, c, host.unwrap_or(d)),
            prefix: 24,
        }
    };
    if let Some(ip) = facts.wanted {
        return in_24(ip, None);
    }
    match facts.range.map(parse_range) {
        Some(Ok((first, _))) => in_24(first, Some(1)),
        _ => FIRST,
    }
}

/// Where a request arrives: the interface (or relay), our address there,
/// and the relay agent's address when it is relayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// Our address on the receiving interface (server id, next-server).
    pub server_ip: Ipv4Addr,
    /// `giaddr`, for a pool behind a relay.
    pub giaddr: Option<Ipv4Addr>,
    /// In words, for the report.
    pub note: String,
}

/// The network `ip` is on (`None`: the first served interface).
pub fn arrival(
    nets: &[(String, Ipv4Net)],
    dhcp: &DhcpConfig,
    ip: Option<Ipv4Addr>,
) -> Result<Arrival, String> {
    let (first_name, first) = nets.first().ok_or("no network is served")?;
    let Some(ip) = ip else {
        return Ok(Arrival {
            server_ip: first.addr,
            giaddr: None,
            note: format!("on {first_name} ({first}), the first served interface (give --ip to choose another)"),
        });
    };
    if let Some((name, net)) = nets.iter().find(|(_, n)| n.contains(ip)) {
        return Ok(Arrival {
            server_ip: net.addr,
            giaddr: None,
            note: format!("on {name} ({net}), whose subnet holds {ip}"),
        });
    }
    let relayed = dhcp.pools.iter().find(|p| p.subnet().contains(ip));
    if let Some(pool) = relayed {
        let subnet = pool.subnet();
        let agent = pool
            .routers
            .first()
            .copied()
            .unwrap_or_else(|| Ipv4Addr::from(u32::from(subnet.network()) + 1));
        return Ok(Arrival {
            server_ip: first.addr,
            giaddr: Some(agent),
            note: format!("relayed from {subnet} (relay agent {agent}), whose pool holds {ip}; answered on {first_name} ({first})"),
        });
    }
    let mut known: Vec<String> = nets.iter().map(|(n, net)| format!("{n} {net}")).collect();
    known.extend(
        dhcp.pools
            .iter()
            .filter(|p| !nets.iter().any(|(_, n)| p.subnet().contains(n.addr)))
            .map(|p| format!("relay pool {}", p.subnet())),
    );
    Err(format!(
        "--ip {ip} is on no network netboot serves ({}); give an address on one of them",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv4Net {
        let (a, p) = text.split_once('/').unwrap();
        Ipv4Net {
            addr: a.parse().unwrap(),
            prefix: p.parse().unwrap(),
        }
    }

    #[test]
    fn an_interface_address_wins_else_one_is_assumed() {
        let mut listing = BTreeMap::new();
        listing.insert(
            "eth0".to_string(),
            Interface {
                name: "eth0".into(),
                ipv4: vec![net("192.168.7.2/24")],
                ..Interface::default()
            },
        );
        let none = Facts {
            wanted: None,
            range: None,
        };
        let names = ["eth0".to_string(), "eth9".to_string()];
        let got = choose(&names, &listing, &none);
        assert_eq!(got.nets[0].1, net("192.168.7.2/24"));
        assert_eq!(got.nets[1].1, FIRST);
        assert!(
            got.notes[1].contains("no such interface"),
            "{:?}",
            got.notes
        );
        let ranged = Facts {
            wanted: None,
            range: Some("10.9.8.100-10.9.8.200"),
        };
        assert_eq!(choose(&[], &listing, &ranged).nets[0].1, net("10.9.8.1/24"));
        let wanted = Facts {
            wanted: Some("172.16.0.5".parse().unwrap()),
            range: None,
        };
        assert_eq!(
            choose(&[], &listing, &wanted).nets[0].1,
            net("172.16.0.5/24")
        );
    }
}
