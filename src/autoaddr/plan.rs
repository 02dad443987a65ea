//! Deciding what quick mode does on an interface: use the address it has, or
//! take the first candidate subnet nobody uses (on this machine or on the
//! link), while listening for another DHCP server on the segment. Also the
//! start-up message that says what was done and how to make it permanent.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::net::{self, Ipv4Net};

use super::candidates::{pool_range, Candidates};
use super::error::AutoAddrError;
use super::link::{self, LinkInfo};
use super::manager::Manager;
use super::sniff::{ForeignDhcp, Listener};

/// What `serve` should do about the interface's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The interface has an IPv4 address: use it, touch nothing.
    Existing(Ipv4Net),
    /// The interface has none: add `net` with [`super::assign`].
    Assign {
        /// The server address and prefix to add (`10.42.0.1/24`).
        net: Ipv4Net,
        /// Candidates passed over, with the reason.
        skipped: Vec<Skip>,
        /// Another DHCP server answered on the segment: do not hand out
        /// addresses (suggest `--proxy`).
        foreign_dhcp: Option<ForeignDhcp>,
        /// Carrier was present on the interface when checked.
        carrier: bool,
    },
}

/// A candidate subnet that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The candidate (server address and prefix).
    pub net: Ipv4Net,
    /// Why, in plain words.
    pub why: String,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}: {}",
            self.net.network(),
            self.net.prefix,
            self.why
        )
    }
}

/// Knobs of the link checks (the defaults are what `plan` uses).
#[derive(Debug, Clone)]
pub struct Checks {
    /// How long to listen for another DHCP server's OFFER.
    pub dhcp_wait: Duration,
}

impl Default for Checks {
    fn default() -> Self {
        Self {
            dhcp_wait: Listener::WAIT,
        }
    }
}

/// Decides with the default checks; see [`plan_with`].
pub fn plan(ifname: &str, explicit: Option<Ipv4Net>) -> Result<Plan, AutoAddrError> {
    plan_with(ifname, explicit, &Checks::default())
}

/// Decides what to do about `ifname`'s address. Blocks for about 3.5 s when
/// the interface has no address (the DHCP listen, [`Checks::dhcp_wait`], and
/// the ARP probes, 1 s per candidate, run side by side), returns at once when
/// it has one.
///
/// `explicit` (from `--assign-address`) replaces the candidate list; it is
/// still probed, and an answer is an error rather than a skip.
pub fn plan_with(
    ifname: &str,
    explicit: Option<Ipv4Net>,
    checks: &Checks,
) -> Result<Plan, AutoAddrError> {
    let iface = net::interface(ifname)?;
    // a 169.254/16 address is what an IPv4LL fallback leaves when DHCP found
    // no server: the port is as bare as without one (and the address stays)
    if let Some(&existing) = iface.ipv4.iter().find(|n| !n.addr.is_link_local()) {
        if let Some(asked) = explicit.filter(|&e| e != existing) {
            tracing::warn!(
                "{ifname} already has {existing}; netboot uses it and ignores --assign-address {asked}"
            );
        }
        return Ok(Plan::Existing(existing));
    }
    let link = link::link_info(ifname)?;
    if !link.up {
        return Err(AutoAddrError::down(ifname));
    }
    let (chosen, foreign) = std::thread::scope(|scope| {
        let listen = scope.spawn(|| link::dhcp_listen(&link, checks.dhcp_wait));
        let chosen = choose(&link, explicit);
        (chosen, listened(ifname, listen.join()))
    });
    let with_hint = |e: AutoAddrError| match explicit {
        Some(net) => e.suggesting(net),
        None => e,
    };
    let (net, skipped) = chosen.map_err(with_hint)?;
    Ok(Plan::Assign {
        net,
        skipped,
        foreign_dhcp: foreign.map_err(with_hint)?,
        carrier: link.running,
    })
}

/// The DHCP listener's verdict. A listener that panicked checked nothing, so
/// that is an error, never "no other server" (which would let netboot hand
/// out addresses on top of one).
fn listened(
    ifname: &str,
    joined: std::thread::Result<Result<Option<ForeignDhcp>, AutoAddrError>>,
) -> Result<Option<ForeignDhcp>, AutoAddrError> {
    joined.unwrap_or_else(|_| {
        Err(AutoAddrError::ListenerFailed {
            ifname: ifname.to_string(),
        })
    })
}

/// The first free candidate (or the explicit one), with the skipped ones.
fn choose(
    link: &LinkInfo,
    explicit: Option<Ipv4Net>,
) -> Result<(Ipv4Net, Vec<Skip>), AutoAddrError> {
    let local = local_addresses(&link.name);
    let candidates: Vec<Ipv4Net> = match explicit {
        Some(net) => vec![net],
        None => Candidates::new().collect(),
    };
    let mut skipped = Vec::new();
    for net in candidates {
        let why = match local.iter().find(|(_, other)| overlaps(net, *other)) {
            Some((ifname, other)) => Some(format!("this machine uses {other} on {ifname}")),
            None => link::arp_probe(link, net.addr)?.map(|c| format!("{} is taken: {c}", net.addr)),
        };
        match (why, explicit) {
            (None, _) => return Ok((net, skipped)),
            (Some(why), Some(_)) => return Err(AutoAddrError::ExplicitInUse { net, why }),
            (Some(why), None) => {
                tracing::info!("not using {}/{}: {why}", net.network(), net.prefix);
                skipped.push(Skip { net, why });
            }
        }
    }
    Err(AutoAddrError::NoFreeSubnet {
        skipped: skipped.iter().map(Skip::to_string).collect(),
    })
}

/// IPv4 addresses on the machine's other interfaces (a candidate must not
/// overlap them, or routing would break).
fn local_addresses(except: &str) -> Vec<(String, Ipv4Net)> {
    net::interfaces()
        .map(|all| {
            all.into_values()
                .filter(|i| i.name != except)
                .flat_map(|i| i.ipv4.into_iter().map(move |n| (i.name.clone(), n)))
                .collect()
        })
        .unwrap_or_default()
}

/// True when the two subnets share addresses.
pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    let prefix = a.prefix.min(b.prefix);
    let wider = |n: Ipv4Net| Ipv4Net { prefix, ..n }.network();
    wider(a) == wider(b)
}

impl Plan {
    /// The server address and prefix `serve` will use.
    pub fn net(&self) -> Ipv4Net {
        match self {
            Self::Existing(net) | Self::Assign { net, .. } => *net,
        }
    }

    /// The pool to serve when the address was assigned (`.2`–`.254`).
    pub fn pool(&self) -> (Ipv4Addr, Ipv4Addr) {
        pool_range(self.net())
    }

    /// The start-up message: what netboot did, why, the pool, warnings, what
    /// the network manager of the interface (if any) may do and how to stop
    /// it, and how to keep the address permanently. Print it once the
    /// address is on the interface: it says it was added.
    pub fn summary(&self, ifname: &str, manager: Option<&Manager>) -> String {
        let (net, skipped, foreign, carrier) = match self {
            Self::Existing(net) => {
                return format!(
                    "{ifname} has {net}; netboot serves with that address and does not change the interface"
                )
            }
            Self::Assign {
                net,
                skipped,
                foreign_dhcp,
                carrier,
            } => (*net, skipped, foreign_dhcp, *carrier),
        };
        let (first, last) = pool_range(net);
        let mut out = format!(
            "{ifname} had no IPv4 address, so netboot added {net} to it for this run (it is removed again \
             when netboot stops); clients get addresses {first}-{last}."
        );
        for skip in skipped {
            out += &format!("\n  not {skip}");
        }
        if let Some(f) = foreign {
            out += &format!(
                "\n  warning: {f}; netboot will not hand out addresses on this segment. \
                 Use `--proxy` to add boot information to that server's answers instead."
            );
        }
        if !carrier {
            out +=
                &format!("\n  warning: {ifname} has no link (carrier); is the cable plugged in?");
        }
        if let Some(manager) = manager {
            out += &format!(
                "\n  warning: {}; if the address goes anyway, netboot notices within seconds and puts it back",
                manager.advice()
            );
        }
        out + &permanent_hint(ifname, net)
    }
}

/// How to keep the address without netboot adding it each time.
fn permanent_hint(ifname: &str, net: Ipv4Net) -> String {
    format!(
        "\n  to keep {net} on {ifname} permanently: with NetworkManager, \
         `sudo nmcli connection add type ethernet ifname {ifname} con-name netboot-{ifname} \
         ipv4.method manual ipv4.addresses {net}`; with ifupdown, add to /etc/network/interfaces \
         `auto {ifname}` / `iface {ifname} inet static` / `    address {net}`; \
         with systemd-networkd, a .network file with `[Match] Name={ifname}` and `[Network] Address={net}`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Ipv4Net {
        super::super::parse_assign(text).unwrap()
    }

    #[test]
    fn overlap_rules() {
        assert!(overlaps(n("10.42.0.1/24"), n("10.42.0.77/24")));
        assert!(overlaps(n("10.42.0.1/24"), n("10.0.0.1/8")));
        assert!(overlaps(n("10.0.0.1/8"), n("10.42.0.1/24")));
        assert!(!overlaps(n("10.42.0.1/24"), n("10.43.0.1/24")));
        assert!(!overlaps(n("10.42.0.1/24"), n("192.168.42.1/24")));
    }

    #[test]
    fn summary_of_an_assignment_says_what_why_pool_and_how_to_keep_it() {
        let plan = Plan::Assign {
            net: n("10.43.0.1/24"),
            skipped: vec![Skip {
                net: n("10.42.0.1/24"),
                why: "10.42.0.1 is taken: machine 02:00:00:00:00:02 answers ARP for it".into(),
            }],
            foreign_dhcp: Some(ForeignDhcp {
                server: Ipv4Addr::new(192, 168, 1, 1),
                offered: Ipv4Addr::new(192, 168, 1, 50),
            }),
            carrier: false,
        };
        let s = plan.summary("eth0", None);
        assert!(s.contains("eth0 had no IPv4 address"), "{s}");
        assert!(s.contains("added 10.43.0.1/24"), "{s}");
        assert!(s.contains("10.43.0.2-10.43.0.254"), "{s}");
        assert!(s.contains("not 10.42.0.0/24: 10.42.0.1 is taken"), "{s}");
        assert!(s.contains("--proxy"), "{s}");
        assert!(s.contains("192.168.1.1"), "{s}");
        assert!(s.contains("no link"), "{s}");
        assert!(
            s.contains("ipv4.method manual ipv4.addresses 10.43.0.1/24"),
            "{s}"
        );
        assert!(s.contains("iface eth0 inet static"), "{s}");
        assert_eq!(plan.net(), n("10.43.0.1/24"));
    }

    /// The network-manager notice is part of the summary; the managers are
    /// found from sample state files as on a real machine.
    #[test]
    fn summary_names_the_network_manager_and_how_to_release_the_port() {
        let plan = Plan::Assign {
            net: n("10.42.0.1/24"),
            skipped: vec![],
            foreign_dhcp: None,
            carrier: true,
        };
        let run = tempfile::tempdir().unwrap();
        let nm = run.path().join("NetworkManager/devices");
        std::fs::create_dir_all(&nm).unwrap();
        std::fs::write(nm.join("3"), "[device]\nmanaged=true\n").unwrap();
        let manager = super::super::manager::manager_in(run.path(), "eth0", 3, None).unwrap();
        let s = plan.summary("eth0", Some(&manager));
        let (what, rest) = s
            .split_once("\n  warning: NetworkManager manages eth0")
            .unwrap();
        assert!(what.contains("netboot added 10.42.0.1/24"), "{s}");
        assert!(
            rest.contains("`sudo nmcli device set eth0 managed no`"),
            "{s}"
        );
        assert!(rest.contains("puts it back"), "{s}");
        assert!(
            rest.contains("to keep 10.42.0.1/24 on eth0 permanently"),
            "{s}"
        );

        std::fs::remove_file(nm.join("3")).unwrap();
        let links = run.path().join("systemd/netif/links");
        std::fs::create_dir_all(&links).unwrap();
        std::fs::write(links.join("3"), "ADMIN_STATE=configured\n").unwrap();
        let manager = super::super::manager::manager_in(run.path(), "eth0", 3, None).unwrap();
        let s = plan.summary("eth0", Some(&manager));
        assert!(
            s.contains("warning: systemd-networkd manages eth0") && s.contains("Unmanaged=yes"),
            "{s}"
        );
        assert!(!plan.summary("eth0", None).contains("manages"));
    }

    #[test]
    fn a_listener_that_panicked_is_an_error_not_a_quiet_segment() {
        let joined = std::thread::spawn(|| -> Result<Option<ForeignDhcp>, AutoAddrError> {
            panic!("(expected) listener failure")
        })
        .join();
        let e = listened("eth0", joined).unwrap_err();
        assert!(matches!(e, AutoAddrError::ListenerFailed { .. }), "{e}");
        assert!(e.to_string().contains("does not hand out addresses"), "{e}");
        let quiet = std::thread::spawn(|| Ok(None)).join();
        assert_eq!(listened("eth0", quiet).unwrap(), None);
    }

    #[test]
    fn summary_of_an_existing_address() {
        let plan = Plan::Existing(n("192.168.1.5/24"));
        let s = plan.summary("eth0", None);
        assert!(
            s.contains("192.168.1.5/24") && s.contains("does not change"),
            "{s}"
        );
    }

    #[test]
    fn existing_address_is_used_and_missing_interface_is_listed() {
        let lo = plan("lo", Some(n("10.42.0.1/24"))).unwrap();
        let loopback = Ipv4Net {
            addr: Ipv4Addr::LOCALHOST,
            prefix: 8,
        };
        assert_eq!(lo, Plan::Existing(loopback));
        assert!(matches!(
            plan("no-such-if0", None),
            Err(AutoAddrError::NoSuchInterface(_))
        ));
    }
}
