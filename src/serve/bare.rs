//! `serve` on a bare port (an interface with no IPv4 address): look at the
//! interface and at who manages it, refuse to hand out addresses on top of
//! another DHCP server, make sure a configured pool lies in the /24 netboot
//! takes, add the address, and only then print the start-up summary (it
//! says the address was added).

use std::net::Ipv4Addr;

use crate::autoaddr::{self, AssignedAddress, AutoAddrError, Manager, Plan};
use crate::config::FileConfig;
use crate::net::Ipv4Net;
use crate::serve::options::ServeOptions;

use super::plan::parse_range;
use super::ServeError;

/// What `serve` learns about one interface before touching it.
pub(super) struct Look {
    /// Use its address, or take one.
    pub plan: Plan,
    /// Who manages it, when netboot is to add an address.
    pub manager: Option<Manager>,
}

/// Decides what to do about `ifname` (blocking: about 3.5 s on a bare port,
/// plus up to 2 s asking NetworkManager; run it off the async threads).
pub(super) fn look(ifname: &str, explicit: Option<Ipv4Net>) -> Result<Look, AutoAddrError> {
    let plan = autoaddr::plan(ifname, explicit)?;
    let manager = match plan {
        Plan::Existing(_) => None,
        Plan::Assign { .. } => autoaddr::manager_of(ifname),
    };
    Ok(Look { plan, manager })
}

/// Where a pool for the primary interface was written, for the messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum RangeFrom<'a> {
    /// `--range` on the command line.
    Flag,
    /// `dhcp.range` in this config file.
    File(&'a std::path::Path),
}

/// Sets `args.range` to the pool netboot serves on the /24 it takes for
/// `ifname` (see [`pool`]): `--range`, else the config file's `dhcp.range`,
/// when it lies in the /24; else the whole /24 but the server address.
pub(super) fn set_pool(
    args: &mut ServeOptions,
    file: &FileConfig,
    ifname: &str,
    net: Ipv4Net,
) -> Result<(), ServeError> {
    let config = args
        .config
        .as_deref()
        .unwrap_or(std::path::Path::new("netboot.yaml"));
    let given = match (&args.range, &file.dhcp.range) {
        (Some(flag), _) => Some((flag.as_str(), RangeFrom::Flag)),
        (None, Some(range)) => Some((range.as_str(), RangeFrom::File(config))),
        (None, None) => None,
    };
    if let Some(range) = pool(ifname, net, given)? {
        args.range = Some(range);
    }
    Ok(())
}

/// The `--range` to serve on the /24 netboot takes: `None` when the given
/// range (flag or file) lies in it and is used as it is, else the whole /24
/// but the server address. A range outside it is an error, found before the
/// address is added.
pub(super) fn pool(
    ifname: &str,
    net: Ipv4Net,
    given: Option<(&str, RangeFrom<'_>)>,
) -> Result<Option<String>, ServeError> {
    let Some((text, from)) = given else {
        let (first, last) = autoaddr::pool_range(net);
        return Ok(Some(format!("{first}-{last}")));
    };
    let (first, last) = parse_range(text)?;
    if net.contains(first) && net.contains(last) {
        return Ok(None);
    }
    let what = match from {
        RangeFrom::Flag => "--range".to_string(),
        RangeFrom::File(path) => format!("dhcp.range in {}", path.display()),
    };
    let (a, b) = autoaddr::pool_range(net);
    let mut fix = format!("use a range inside it (e.g. {a}-{b})");
    let same = |ip: Ipv4Addr| Ipv4Net {
        addr: ip,
        prefix: 24,
    };
    if same(first).network() == same(last).network() {
        let server = Ipv4Addr::from(u32::from(same(first).network()) + 1);
        fix += &format!(
            ", or have netboot take your range's subnet with `--assign-address {server}/24`"
        );
    }
    Err(ServeError::Interface(format!(
        "{what} is {text}, which does not lie in {}/{}, the subnet netboot takes for {ifname} \
         (it has no IPv4 address); {fix}, or give {ifname} an address in your range's subnet \
         yourself (`sudo ip addr add ADDRESS/PREFIX dev {ifname}`)",
        net.network(),
        net.prefix,
    )))
}

/// Adds the planned address and prints the start-up summary, which says so.
/// A plan in which another DHCP server answered is refused (nothing added).
pub(super) fn take(ifname: &str, look: &Look) -> Result<AssignedAddress, ServeError> {
    let net = match &look.plan {
        Plan::Existing(net) => {
            return Err(ServeError::Interface(format!(
                "{ifname} has {net} already; netboot adds no address to it"
            )))
        }
        Plan::Assign {
            foreign_dhcp: Some(foreign),
            ..
        } => {
            return Err(ServeError::ForeignDhcp {
                interface: ifname.to_string(),
                found: *foreign,
            })
        }
        Plan::Assign { net, .. } => *net,
    };
    let guard = autoaddr::assign(ifname, net)?;
    eprintln!("{}", look.plan.summary(ifname, look.manager.as_ref()));
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: Ipv4Net = Ipv4Net {
        addr: Ipv4Addr::new(10, 42, 0, 1),
        prefix: 24,
    };

    #[test]
    fn without_a_range_the_pool_is_the_whole_24_but_the_server() {
        assert_eq!(
            pool("eth0", NET, None).unwrap().as_deref(),
            Some("10.42.0.2-10.42.0.254")
        );
    }

    #[test]
    fn a_range_inside_the_24_is_kept() {
        let file = std::path::Path::new("netboot.yaml");
        for from in [RangeFrom::Flag, RangeFrom::File(file)] {
            let got = pool("eth0", NET, Some(("10.42.0.50-10.42.0.60", from))).unwrap();
            assert_eq!(got, None);
        }
    }

    #[test]
    fn a_range_outside_the_24_is_a_clear_error() {
        let file = std::path::Path::new("/etc/netboot/netboot.yaml");
        let e = pool(
            "eth0",
            NET,
            Some(("192.168.1.100-192.168.1.200", RangeFrom::File(file))),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("dhcp.range in /etc/netboot/netboot.yaml is 192.168.1.100-192.168.1.200, which does not lie in 10.42.0.0/24, the subnet netboot takes for eth0"),
            "{e}"
        );
        assert!(e.contains("e.g. 10.42.0.2-10.42.0.254"), "{e}");
        assert!(e.contains("`--assign-address 192.168.1.1/24`"), "{e}");
        let e = pool(
            "eth0",
            NET,
            Some(("10.42.0.200-10.42.1.5", RangeFrom::Flag)),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--range is 10.42.0.200-10.42.1.5"), "{e}");
        assert!(!e.contains("--assign-address"), "{e}");
        assert!(pool("eth0", NET, Some(("x-y", RangeFrom::Flag))).is_err());
    }
}
