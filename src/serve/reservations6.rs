//! The profiles' IPv6 reservations against what `serve` knows beside them:
//! an address also in `dhcp6.reservations` of `netboot.yaml` (refused by
//! `check` and `serve`, warned after a reload, which keeps serving), and an
//! address on no DHCPv6 pool's /64 (that machine would get none: warned at
//! start and after each reload, as [`super::reservations`] does for IPv4).

use std::net::Ipv6Addr;
use std::sync::Arc;

use crate::config::FileConfig;
use crate::dhcp6::Pool6;
use crate::registry::{AfterSwap, Registry};

/// `dhcp6.reservations`' addresses, each with its place in `netboot.yaml`.
pub fn file_addresses(file: &FileConfig) -> Vec<(Ipv6Addr, String)> {
    file.dhcp6
        .reservations
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = file.place(&["dhcp6", "reservations", &i.to_string(), "address"]);
            (r.address, at)
        })
        .collect()
}

/// One line per profile address that `netboot.yaml` reserves too.
pub fn clashes(in_file: &[(Ipv6Addr, String)], registry: &Registry) -> Vec<String> {
    registry
        .fixed_addresses6()
        .into_iter()
        .filter_map(|(ip, name, loc)| {
            let (_, at) = in_file.iter().find(|(a, _)| *a == ip)?;
            Some(format!(
                "{loc}: profile `{name}` reserves address6 {ip}, which netboot.yaml reserves too \
                 ({at}); keep one of the two"
            ))
        })
        .collect()
}

/// One line per profile address on no pool's /64.
pub fn outside(registry: &Registry, pools: &[Pool6]) -> Vec<String> {
    let served: Vec<String> = pools
        .iter()
        .map(|p| format!("{}-{}", p.first(), p.last()))
        .collect();
    let served = if served.is_empty() {
        "none: DHCPv6 is stateless".to_string()
    } else {
        served.join(", ")
    };
    registry
        .fixed_addresses6()
        .into_iter()
        .filter(|(ip, _, _)| !pools.iter().any(|p| p.on_link(*ip)))
        .map(|(ip, name, loc)| {
            format!(
                "{loc}: profile `{name}` reserves {ip}, on no /64 DHCPv6 serves ({served}): that \
                 machine will get no IPv6 address; reserve one on a served /64, or serve its prefix"
            )
        })
        .collect()
}

/// Profiles that reserve IPv6 addresses while no DHCPv6 server runs:
/// one line saying where the first is and how to turn DHCPv6 on.
pub fn unserved(registry: &Registry) -> Option<String> {
    let all = registry.fixed_addresses6();
    let (ip, name, loc) = all.first()?;
    Some(format!(
        "{loc}: profile `{name}` reserves {ip} ({} address6 in all), but DHCPv6 is off: give \
         `dhcp6: {{range: ...}}` in netboot.yaml to hand them out",
        all.len()
    ))
}

/// What is checked after each reload: the pools served and the file's
/// reservations.
#[derive(Clone)]
pub struct Check6 {
    pub pools: Vec<Pool6>,
    pub in_file: Vec<(Ipv6Addr, String)>,
}

impl Check6 {
    /// Logs every clash and every address outside the pools as warnings.
    pub fn warn(&self, registry: &Registry) {
        let lines = clashes(&self.in_file, registry)
            .into_iter()
            .chain(outside(registry, &self.pools));
        for line in lines {
            tracing::warn!("{line}");
        }
    }
}

/// The IPv4 check and this one after every reload, whichever run.
pub fn after_reload(v4: Option<AfterSwap>, v6: Option<Check6>) -> Option<AfterSwap> {
    match (v4, v6) {
        (v4, None) => v4,
        (None, Some(v6)) => Some(Arc::new(move |r: &Registry| v6.warn(r))),
        (Some(v4), Some(v6)) => Some(Arc::new(move |r: &Registry| {
            v4(r);
            v6.warn(r);
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let text = "name: lab\nhosts:\n  - mac: 52:54:00:10:00:01\n    address6: fd00:99::50\n  \
                    - duid: 00:04:01:02:03\n    address6: fd00:98::7\n";
        crate::registry::of_one_file("profiles/lab.yaml", text)
    }

    #[test]
    fn an_address6_on_no_served_64_is_named() {
        let pools = [Pool6::parse("fd00:99::100-fd00:99::1ff").unwrap()];
        let found = outside(&registry(), &pools);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "profiles/lab.yaml:5: profile `lab` reserves fd00:98::7, on no /64 DHCPv6 \
                 serves (fd00:99::100-fd00:99::1ff)"
            ),
            "{}",
            found[0]
        );
        assert_eq!(outside(&registry(), &[]).len(), 2);
        assert_eq!(
            unserved(&registry()).unwrap(),
            "profiles/lab.yaml:3: profile `lab` reserves fd00:99::50 (2 address6 in all), but \
             DHCPv6 is off: give `dhcp6: {range: ...}` in netboot.yaml to hand them out"
        );
    }

    #[test]
    fn an_address6_netboot_yaml_reserves_too_is_a_clash() {
        let in_file = vec![(
            "fd00:99::50".parse().unwrap(),
            "netboot.yaml:7:16: dhcp6.reservations.0.address".to_string(),
        )];
        let found = clashes(&in_file, &registry());
        assert_eq!(
            found,
            vec![
                "profiles/lab.yaml:3: profile `lab` reserves address6 fd00:99::50, which \
                 netboot.yaml reserves too (netboot.yaml:7:16: dhcp6.reservations.0.address); \
                 keep one of the two"
                    .to_string()
            ]
        );
    }
}
