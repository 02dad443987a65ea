//! The DHCP half of the plan: the mode and its switches, the lease time,
//! the server name, and one pool per served interface, on that interface's
//! own subnet (the range flag or key applies to the interface whose subnet
//! holds it, the others get the upper half of theirs), plus the pools for
//! relayed networks.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use super::{invalid, PlanError};
use crate::config::{DhcpSection, FileConfig, RelayPool};
use crate::dhcp::config::{DhcpConfig, Interface, Mode, PoolConfig, Subnet};
use crate::net::Ipv4Net;
use crate::serve::options::ServeOptions;

/// A boolean setting: the option (`--x` or `--no-x`) wins, else the file,
/// else `default`.
pub fn switch(option: Option<bool>, file: Option<bool>, default: bool) -> bool {
    option.or(file).unwrap_or(default)
}

/// The DHCP configuration for `networks` (at least one).
/// `--leases-url`, else `dhcp.leases`: a PostgreSQL URL.
fn leases_url(args: &ServeOptions, section: &DhcpSection) -> Result<Option<String>, PlanError> {
    let Some(url) = args.leases_url.clone().or_else(|| section.leases.clone()) else {
        return Ok(None);
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Some(url));
    }
    Err(invalid(format!(
        "dhcp.leases / --leases-url {:?} is not a PostgreSQL URL: write \
         postgres://USER:PASSWORD@HOST/DATABASE or postgres:///DATABASE?host=/SOCKET/DIR, or \
         leave it out to keep leases in the state directory",
        crate::dhcp::pg::redact(&url)
    )))
}

pub(super) fn dhcp_config(
    args: &ServeOptions,
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
    state_dir: PathBuf,
) -> Result<DhcpConfig, PlanError> {
    let section = &file.dhcp;
    let primary = networks
        .first()
        .map(|(_, n)| n.addr)
        .ok_or_else(|| invalid("no interface to serve: give --interface IF"))?;
    let mut cfg = DhcpConfig::new(primary);
    cfg.interfaces = networks
        .iter()
        .map(|(name, net)| Interface::new(name.clone(), net.addr))
        .collect();
    cfg.mode = if switch(args.proxy, section.proxy, false) {
        Mode::Proxy
    } else {
        Mode::Authoritative
    };
    cfg.known_clients_only = switch(args.known_clients_only, section.known_clients_only, false);
    cfg.ping_check = switch(args.ping, section.ping_check, true);
    if let Some(lease) = lease_time(args, section)? {
        cfg.lease_time = lease;
    }
    cfg.server_name = server_name(args, section)?;
    cfg.state_dir = Some(state_dir);
    cfg.leases_url = leases_url(args, section)?;
    cfg.answer_delay = answer_delay(args, section)?;
    if cfg.mode == Mode::Proxy {
        return Ok(cfg);
    }
    cfg.pools = interface_pools(args, file, networks)?;
    for (i, relay) in section.relay_pools.iter().enumerate() {
        let mut pool = relay_pool(relay).map_err(|e| at_relay(file, i, e))?;
        pool.domain_name = section.domain.clone();
        cfg.pools.push(pool);
    }
    cfg.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(cfg)
}

/// `--answer-delay`, else `dhcp.answer_delay_ms`: at most 10 s (clients
/// give up on a server after a few seconds).
fn answer_delay(args: &ServeOptions, section: &DhcpSection) -> Result<Duration, PlanError> {
    let ms = args
        .answer_delay_ms
        .or(section.answer_delay_ms)
        .unwrap_or(0);
    if ms > 10_000 {
        return Err(invalid(format!(
            "dhcp.answer_delay_ms / --answer-delay {ms} is too long: clients retry after a few \
             seconds, so a standby should wait 500 to 2000 ms"
        )));
    }
    Ok(Duration::from_millis(ms))
}

/// `--lease-time`, else `dhcp.lease_time`: at least a minute.
pub fn lease_time(
    args: &ServeOptions,
    section: &DhcpSection,
) -> Result<Option<Duration>, PlanError> {
    let Some(secs) = args.lease_time.or(section.lease_time) else {
        return Ok(None);
    };
    if secs < 60 {
        return Err(invalid(format!(
            "lease time {secs} s is too short: give 60 s at least"
        )));
    }
    Ok(Some(Duration::from_secs(secs)))
}

/// One `dhcp.relay_pools` entry as a pool: the subnet, the range inside it
/// and the router on it.
pub fn relay_pool(relay: &RelayPool) -> Result<PoolConfig, PlanError> {
    let subnet = Subnet::parse(&relay.subnet).ok_or_else(|| {
        invalid(format!(
            "subnet {:?} is not ADDRESS/PREFIX (e.g. 10.1.0.0/24)",
            relay.subnet
        ))
    })?;
    let (first, last) = parse_range(&relay.range)?;
    let mut pool = PoolConfig::new(subnet, first, last).map_err(|_| {
        invalid(format!(
            "range {first}-{last} is not inside the pool's subnet {subnet}"
        ))
    })?;
    if let Some(router) = relay.router.filter(|r| !subnet.is_host(*r)) {
        return Err(invalid(format!(
            "router {router} is not on the pool's subnet {subnet}"
        )));
    }
    pool.routers = relay.router.into_iter().collect();
    pool.dns_servers = relay.dns.clone();
    Ok(pool)
}

/// A relay pool's error, at the pool's place in the file.
pub fn at_relay(file: &FileConfig, index: usize, err: PlanError) -> PlanError {
    let i = index.to_string();
    invalid(format!(
        "{}: {err}",
        file.place(&["dhcp", "relay_pools", &i])
    ))
}

/// `--server-name`, else `dhcp.server_name`, else the host name; empty
/// means none. The `sname` field holds 63 bytes.
pub fn server_name(
    args: &ServeOptions,
    section: &DhcpSection,
) -> Result<Option<String>, PlanError> {
    let given = args
        .server_name
        .clone()
        .or_else(|| section.server_name.clone());
    let Some(name) = given else {
        return Ok(host_name().filter(|n| !n.is_empty() && n.len() < 64));
    };
    let name = name.trim().to_string();
    if name.len() >= 64 {
        return Err(invalid(format!(
            "server name {name:?} is too long for the sname field (63 bytes at most)"
        )));
    }
    Ok((!name.is_empty()).then_some(name))
}

/// This machine's host name, if it has a printable one.
pub fn host_name() -> Option<String> {
    let name = nix::unistd::gethostname().ok()?.into_string().ok()?;
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic())).then_some(name)
}

/// One pool per interface, on its own subnet. The range goes to the
/// interface whose subnet holds it, the router (which must be on-link) to
/// the one whose subnet holds it; DNS servers and domain go to all.
fn interface_pools(
    args: &ServeOptions,
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
) -> Result<Vec<PoolConfig>, PlanError> {
    let section = &file.dhcp;
    let subnets = subnets(networks)?;
    let served = || {
        let list: Vec<String> = subnets.iter().map(|(n, s, _)| format!("{n} {s}")).collect();
        list.join(", ")
    };
    let range = args
        .range
        .as_deref()
        .or(section.range.as_deref())
        .map(parse_range)
        .transpose()
        .map_err(|e| at_range(args, file, e))?;
    if let Some((first, last)) = range {
        if !subnets
            .iter()
            .any(|(_, s, _)| s.contains(first) && s.contains(last))
        {
            return Err(invalid(format!(
                "range {first}-{last} is not inside the subnet of a served interface ({})",
                served()
            )));
        }
    }
    let router = args.router.or(section.router);
    if let Some(r) = router {
        if !subnets.iter().any(|(_, s, _)| s.is_host(r)) {
            return Err(invalid(format!(
                "router {r} is not on the subnet of a served interface ({})",
                served()
            )));
        }
    }
    let dns = if args.dns.is_empty() {
        section.dns.clone()
    } else {
        args.dns.clone()
    };
    let mut pools = Vec::new();
    for (name, subnet, net) in &subnets {
        let (first, last) = match range {
            Some((first, last)) if subnet.contains(first) => (first, last),
            _ => default_range(*net),
        };
        let mut pool = PoolConfig::new(*subnet, first, last)
            .map_err(|e| invalid(format!("{name}: range {first}-{last}: {e}")))?;
        pool.routers = router.filter(|r| subnet.is_host(*r)).into_iter().collect();
        pool.dns_servers = dns.clone();
        pool.domain_name = section.domain.clone();
        pools.push(pool);
    }
    Ok(pools)
}

/// Each interface's subnet; two interfaces on one subnet are refused.
fn subnets(networks: &[(String, Ipv4Net)]) -> Result<Vec<(&str, Subnet, Ipv4Net)>, PlanError> {
    let mut out: Vec<(&str, Subnet, Ipv4Net)> = Vec::new();
    for (name, net) in networks {
        let subnet = Subnet::new(net.network(), net.prefix)
            .map_err(|e| invalid(format!("interface {name} ({net}): {e}")))?;
        if let Some((other, _, _)) = out.iter().find(|(_, s, _)| *s == subnet) {
            return Err(invalid(format!(
                "interfaces {other} and {name} are both on {subnet}: serve only one of them"
            )));
        }
        out.push((name.as_str(), subnet, *net));
    }
    Ok(out)
}

/// `FIRST-LAST`.
pub fn parse_range(text: &str) -> Result<(Ipv4Addr, Ipv4Addr), PlanError> {
    let bad = || {
        invalid(format!(
            "range {text:?} is not FIRST-LAST (e.g. 10.0.0.100-10.0.0.199)"
        ))
    };
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let first: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
    let last: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
    if first > last {
        return Err(invalid(format!(
            "range {text:?} runs backwards: write the lower address first ({last}-{first})"
        )));
    }
    Ok((first, last))
}

/// A range error, at `--range` or at `dhcp.range` in the file.
pub fn at_range(args: &ServeOptions, file: &FileConfig, err: PlanError) -> PlanError {
    let place = if args.range.is_some() {
        "--range".to_string()
    } else {
        file.place(&["dhcp", "range"])
    };
    invalid(format!("{place}: {err}"))
}

/// The upper half of the subnet's host addresses, so that addresses people
/// set by hand (usually low) stay clear; the server's own address is
/// skipped by the pool.
pub fn default_range(net: Ipv4Net) -> (Ipv4Addr, Ipv4Addr) {
    let network = u32::from(net.network());
    let broadcast = u32::from(net.broadcast());
    let low = network + 1;
    let high = broadcast.saturating_sub(1).max(low);
    let mid = (network + (broadcast - network) / 2 + 1).clamp(low, high);
    (Ipv4Addr::from(mid), Ipv4Addr::from(high))
}
