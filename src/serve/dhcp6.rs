//! The DHCPv6 server in `serve`, in two steps before the privilege drop:
//! [`links`] finds our IPv6 address on each served interface (and adds it
//! to TFTP's listen addresses, for the `tftp://[addr]/` URLs), then
//! [`prepare`] turns `dhcp6:` into a bound [`Dhcp6Server`]. Off unless
//! `dhcp6.range` is given or `dhcp6.enabled` is true (stateless without a
//! range).

use crate::config::FileConfig;
use crate::dhcp6::links::{self, Link6};
use crate::dhcp6::server::{Dhcp6Server, SERVER_PORT};
use crate::dhcp6::{duid, Dhcp6Config, Holder6, Pool6, Reservation6};
use crate::mac::MacAddr;

use super::plan::ServePlan;
use super::ServeError;

/// The served interfaces with our IPv6 address on each when DHCPv6 is on
/// (`None`: off); TFTP also listens on those addresses.
pub fn links(file: &FileConfig, plan: &mut ServePlan) -> Result<Option<Vec<Link6>>, ServeError> {
    let sec = &file.dhcp6;
    if !sec.enabled.unwrap_or(sec.range.is_some()) {
        return Ok(None);
    }
    let links = plan
        .networks
        .iter()
        .map(|(name, _)| links::link(name))
        .collect::<Result<Vec<Link6>, String>>()
        .map_err(ServeError::Dhcp6)?;
    let port = plan.tftp.listen.first().map_or(69, |a| a.port());
    for l in &links {
        let addr = std::net::SocketAddr::new(l.ours.into(), port);
        if !plan.tftp.listen.contains(&addr) {
            plan.tftp.listen.push(addr);
        }
    }
    Ok(Some(links))
}

/// The bound DHCPv6 server for `links` (from [`links`]).
pub fn prepare(
    file: &FileConfig,
    plan: &ServePlan,
    links: Option<Vec<Link6>>,
) -> Result<Option<Dhcp6Server>, ServeError> {
    let Some(links) = links else {
        return Ok(None);
    };
    let sec = &file.dhcp6;
    let mac = links
        .iter()
        .find_map(|l| l.mac)
        .unwrap_or(MacAddr([2, 0, 0, 0, 0, 1]));
    let mut cfg = Dhcp6Config::new(duid::server_ll(mac));
    if let Some(range) = &sec.range {
        let pool = Pool6::parse(range)
            .map_err(|e| ServeError::Dhcp6(format!("{}: {e}", file.place(&["dhcp6", "range"]))))?;
        if !links.iter().any(|l| pool.on_link(l.ours)) {
            return Err(ServeError::Dhcp6(format!(
                "{}: the range {range} is on no served interface's /64; give a range on the \
                 /64 of an address of the interface",
                file.place(&["dhcp6", "range"])
            )));
        }
        cfg.pools = vec![pool];
    }
    cfg.lease_time = sec.lease_time.unwrap_or(cfg.lease_time).max(60);
    cfg.rapid_commit = sec.rapid_commit.unwrap_or(true);
    cfg.dns = sec.dns.clone();
    cfg.http_port = plan.http.as_ref().and(plan.dhcp.http_port);
    cfg.reservations = reservations(file)?;
    for l in &links {
        tracing::info!(interface = %l.name, address = %l.ours, "DHCPv6 on {} (boot URLs name {})", l.name, l.ours);
    }
    let server = Dhcp6Server::bind(cfg, links, SERVER_PORT, plan.dhcp.state_dir.as_deref())
        .map_err(|e| ServeError::Dhcp6(e.to_string()))?;
    Ok(Some(server))
}

fn reservations(file: &FileConfig) -> Result<Vec<Reservation6>, ServeError> {
    let mut out = Vec::new();
    for (i, r) in file.dhcp6.reservations.iter().enumerate() {
        let at = |key: &str| file.place(&["dhcp6", "reservations", &i.to_string(), key]);
        let holder = match (&r.duid, &r.mac) {
            (Some(d), None) => Holder6::Duid(duid::parse_hex(d).ok_or_else(|| {
                ServeError::Dhcp6(format!(
                    "{}: `{d}` is not a DUID; write its bytes in hex, e.g. 00:03:00:01:52:54:00:12:34:56",
                    at("duid")
                ))
            })?),
            (None, Some(m)) => Holder6::Mac(m.parse::<MacAddr>().map_err(|e| {
                ServeError::Dhcp6(format!("{}: {e}", at("mac")))
            })?),
            _ => {
                return Err(ServeError::Dhcp6(format!(
                    "{}: a reservation names exactly one of `duid` and `mac`",
                    at("address")
                )))
            }
        };
        out.push(Reservation6 {
            holder,
            addr: r.address,
        });
    }
    Ok(out)
}
