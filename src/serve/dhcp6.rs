//! IPv6 in `serve`: the DHCPv6 server and the router advertisements, in
//! two steps before the privilege drop: [`links`] finds our IPv6 address
//! on each served interface (and adds it to TFTP's listen addresses, for
//! the `tftp://[addr]/` URLs), then [`prepare`] turns `dhcp6:` into a bound
//! [`Dhcp6Server`] and one RA socket per interface ([`V6`]); [`V6::run`]
//! serves them. Off unless `dhcp6.range` is given or `dhcp6.enabled` is
//! true (stateless without a range); then only the answers of
//! [`super::ra_only`] to router solicitations.

use std::net::Ipv6Addr;

use tokio_util::sync::CancellationToken;

use crate::config::FileConfig;
use crate::dhcp::server::LookupSource;
use crate::dhcp6::links::{self, Link6};
use crate::dhcp6::server::{Dhcp6Server, SERVER_PORT};
use crate::dhcp6::ula::{self, UlaAddress};
use crate::dhcp6::{duid, Dhcp6Config, Holder6, Pool6, Reservation6};
use crate::events::Events;
use crate::mac::MacAddr;
use crate::ra::advertiser::Timing;
use crate::ra::shell::RaLink;
use crate::ra::wire::{Advert, PrefixInfo, FLAG_M, FLAG_O};

use super::plan::ServePlan;
use super::ServeError;

/// The served interfaces as DHCPv6 serves them, and on bare ports the
/// unique local /64 netboot took.
pub struct Links6 {
    links: Vec<Link6>,
    /// The ULA prefix netboot picked (bare ports only).
    ula: Option<Ipv6Addr>,
    /// The addresses it added (removed when these drop).
    added: Vec<UlaAddress>,
}

/// The served interfaces with our IPv6 address on each when DHCPv6 is on
/// (`None`: off); TFTP also listens on those addresses. On a bare port
/// (`bare` names those netboot gave an IPv4 address) DHCPv6 is on unless
/// `dhcp6.enabled` is false, and the port gets `<ULA prefix>::1/64`.
pub fn links(
    file: &FileConfig,
    plan: &mut ServePlan,
    bare: &[String],
) -> Result<Option<Links6>, ServeError> {
    let sec = &file.dhcp6;
    let asked = sec.enabled.unwrap_or(sec.range.is_some());
    let on_bare = !bare.is_empty() && sec.enabled != Some(false);
    if !asked && !on_bare {
        return Ok(None);
    }
    match find_links(plan, bare, on_bare) {
        Ok(found) => Ok(Some(found)),
        // on by default on a bare port only: without IPv6 there, IPv4 goes on alone
        Err(e) if !asked => {
            tracing::warn!("no DHCPv6 on the bare port: {e}");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn find_links(plan: &mut ServePlan, bare: &[String], on_bare: bool) -> Result<Links6, ServeError> {
    let (mut ula, mut added) = (None, Vec::new());
    if on_bare {
        let id = ula::global_id(plan.dhcp.state_dir.as_deref()).map_err(|e| {
            let dir = plan
                .dhcp
                .state_dir
                .as_deref()
                .unwrap_or(std::path::Path::new("-"));
            ServeError::Dhcp6(format!(
                "cannot keep the ULA global ID in {}: {e}; give a writable --state-dir",
                dir.display()
            ))
        })?;
        for name in bare {
            added.extend(add_ula(name, ula::server_address(id))?);
        }
        ula = Some(ula::prefix(id));
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
    Ok(Links6 { links, ula, added })
}

fn add_ula(name: &str, addr: Ipv6Addr) -> Result<Option<UlaAddress>, ServeError> {
    let index = nix::net::if_::if_nametoindex(name)
        .map_err(|e| ServeError::Dhcp6(format!("no interface {name}: {e}")))?;
    let added = UlaAddress::assign(index, addr).map_err(|e| {
        ServeError::Dhcp6(format!(
            "cannot add {addr}/64 to {name}: {e}; run as root, or set `dhcp6: {{enabled: false}}`"
        ))
    })?;
    tracing::info!(interface = %name, "bare port: {addr}/64 added to {name} (a unique local prefix of netboot's own)");
    Ok(added)
}

/// The bound DHCPv6 server (none on IPv4-only segments) and RA sockets,
/// ready to run.
pub struct V6 {
    dhcp: Option<Dhcp6Server>,
    ra: Vec<RaLink>,
    ra_timing: Timing,
    /// Bare ports' ULA addresses, removed after the servers stop.
    added: Vec<UlaAddress>,
    /// The pools DHCPv6 hands addresses from (`None`: no DHCPv6 server).
    pools: Option<Vec<Pool6>>,
}

impl V6 {
    /// The pools the DHCPv6 server hands addresses from, when it runs
    /// (empty: stateless).
    pub fn pools(&self) -> Option<&[Pool6]> {
        self.pools.as_deref()
    }

    /// Serves DHCPv6 and advertises until `cancel`.
    pub async fn run(self, lookup: LookupSource, events: Events, cancel: CancellationToken) {
        let threads: Vec<_> = self
            .ra
            .into_iter()
            .filter_map(|l| match l.spawn(self.ra_timing, cancel.clone()) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!("router advertisements: no thread: {e}");
                    None
                }
            })
            .collect();
        match self.dhcp {
            Some(dhcp) => dhcp.run(lookup, events, cancel).await,
            None => cancel.cancelled().await,
        }
        let _ =
            tokio::task::spawn_blocking(move || threads.into_iter().for_each(|t| drop(t.join())))
                .await;
        // the bare ports' ULA addresses go last (CAP_NET_ADMIN is kept there)
        drop(self.added);
    }
}

/// The RA a link gets: M when there is a pool, O always, router lifetime
/// 0 (netboot is no default router), the pool's /64 as on-link (and for
/// SLAAC too when it is the ULA prefix netboot picked: `autonomous`).
fn advert(pool: Option<&Pool6>, ours: Ipv6Addr, autonomous: bool) -> Advert {
    let prefixes = pool
        .filter(|p| p.on_link(ours))
        .map(|_| PrefixInfo {
            prefix: Ipv6Addr::from(u128::from(ours) & !u128::from(u64::MAX)),
            len: 64,
            on_link: true,
            autonomous,
            valid: 86_400,
            preferred: 14_400,
        })
        .into_iter()
        .collect();
    Advert {
        hop_limit: 0,
        flags: if pool.is_some() {
            FLAG_M | FLAG_O
        } else {
            FLAG_O
        },
        router_lifetime: 0,
        prefixes,
    }
}

/// The bound DHCPv6 server for `links` (from [`links`]) and its RA sockets.
pub fn prepare(
    file: &FileConfig,
    plan: &ServePlan,
    links: Option<Links6>,
) -> Result<Option<V6>, ServeError> {
    let Some(Links6 { links, ula, added }) = links else {
        let ra = super::ra_only::links(file, plan);
        return Ok((!ra.is_empty()).then(|| V6 {
            dhcp: None,
            ra,
            ra_timing: super::ra_only::timing(),
            added: Vec::new(),
            pools: None,
        }));
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
    } else if let Some(prefix) = ula {
        let pool = Pool6::parse(&format!("{prefix}/64"))
            .map_err(|e| ServeError::Dhcp6(format!("the ULA pool: {e}")))?;
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
    let ra = if sec.router_advertisements.unwrap_or(true) {
        links
            .iter()
            .map(|l| {
                RaLink::open(&l.name, l.index, advert(cfg.pools.first(), l.ours, ula.is_some_and(|u| cfg.pools.first().is_some_and(|p| p.on_link(u))))).map_err(|e| {
                    ServeError::Dhcp6(format!(
                        "router advertisements on {}: {e}; run as root, or set                          `dhcp6: {{router_advertisements: false}}`",
                        l.name
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let hints = ra
        .iter()
        .filter_map(|l| l.hint().inspect_err(no_hint).ok())
        .collect();
    let pools = Some(cfg.pools.clone());
    let dhcp = Dhcp6Server::bind(cfg, links, SERVER_PORT, plan.dhcp.state_dir.as_deref())
        .map_err(|e| ServeError::Dhcp6(e.to_string()))?
        .with_router_hints(hints);
    Ok(Some(V6 {
        dhcp: Some(dhcp),
        ra,
        ra_timing: Timing::default(),
        added,
        pools,
    }))
}

/// A link's socket could not be cloned for the firmware's own RAs.
fn no_hint(e: &std::io::Error) {
    tracing::warn!(
        "PXE firmware gets no router advertisement of its own, so its IPv6 boots wait 10 s \
         for a route: {e}"
    );
}

/// What `netboot check` (and `serve` before it touches an interface) says
/// about `dhcp6:`: each problem with file:line and the fix.
pub fn problems(file: &FileConfig) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(range) = &file.dhcp6.range {
        if let Err(e) = Pool6::parse(range) {
            out.push(format!("{}: {e}", file.place(&["dhcp6", "range"])));
        }
    }
    if let Err(e) = reservations(file) {
        out.push(e.to_string());
    }
    out
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
