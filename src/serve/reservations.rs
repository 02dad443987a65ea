//! Reservations no served subnet can honour: a profile that fixes an
//! address outside every pool netboot serves (an interface's subnet or a
//! relay pool's) means silence for that machine, so `serve` warns at start
//! and after every reload, naming the profile, its file:line and the
//! subnets served.

use std::sync::Arc;

use crate::dhcp::config::Subnet;
use crate::registry::{AfterSwap, Registry};

/// One warning per reservation outside every subnet in `served`.
pub fn outside(registry: &Registry, served: &[Subnet]) -> Vec<String> {
    let list: Vec<String> = served.iter().map(ToString::to_string).collect();
    registry
        .fixed_addresses()
        .into_iter()
        .filter(|(ip, _, _)| !served.iter().any(|s| s.contains(*ip)))
        .map(|(ip, name, loc)| {
            format!(
                "{loc}: profile `{name}` reserves {ip}, outside every subnet netboot serves ({}): \
                 that machine will get no answer; reserve an address in one of them, or serve its subnet",
                list.join(", ")
            )
        })
        .collect()
}

/// Logs [`outside`] as warnings.
pub fn warn_outside(registry: &Registry, served: &[Subnet]) {
    for line in outside(registry, served) {
        tracing::warn!("{line}");
    }
}

/// The same check after every reload.
pub fn after_reload(served: Vec<Subnet>) -> AfterSwap {
    Arc::new(move |registry: &Registry| warn_outside(registry, &served))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_outside_every_served_subnet_is_named() {
        let text = "name: lab\nhosts:\n  - mac: 52:54:00:10:00:01\n    address: 192.168.50.11\n  \
                    - mac: 52:54:00:10:00:02\n    address: 10.0.0.12\n";
        let registry = crate::registry::of_one_file("profiles/lab.yaml", text);
        let served = [
            Subnet::parse("10.0.0.0/24").unwrap(),
            Subnet::parse("10.1.0.0/24").unwrap(),
        ];
        let found = outside(&registry, &served);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("profiles/lab.yaml:3: profile `lab` reserves 192.168.50.11, outside every subnet netboot serves (10.0.0.0/24, 10.1.0.0/24)"),
            "{}",
            found[0]
        );
    }
}
