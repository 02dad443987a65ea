//! Router advertisements on segments `serve` serves over IPv4 only: an
//! answer to a Router Solicitation saying "no router, nothing to configure
//! here" (router lifetime 0, neither M nor O, no prefix), and nothing
//! unsolicited.
//!
//! Why: iPXE configures IPv4 and IPv6 together and waits for both; its IPv6
//! side solicits routers until an RA comes or its timer gives up, which on
//! a segment without one holds every iPXE boot for seconds. The first RA
//! without M or O ends that wait. The answer comes 0.6 to 1 s after the
//! solicitation, later than any router answers (RFC 4861: within 0.5 s),
//! and a router's RA heard first, solicited or not, silences netboot on
//! that segment for good (as on IPv6 segments). `dhcp6.router_advertisements:
//! false` turns it off; ProxyDHCP mode never sends it (another server owns
//! the segment).

use std::time::Duration;

use crate::config::FileConfig;
use crate::dhcp::config::Mode;
use crate::ra::advertiser::Timing;
use crate::ra::shell::RaLink;
use crate::ra::wire::Advert;

use super::plan::ServePlan;

/// When the answers go: after the listening, only to solicitations, later
/// than a router's.
pub fn timing() -> Timing {
    Timing {
        min_response_delay: Duration::from_millis(600),
        max_response_delay: Duration::from_millis(1000),
        unsolicited: false,
        ..Timing::default()
    }
}

/// An RA that configures nothing.
fn nothing() -> Advert {
    Advert {
        hop_limit: 0,
        flags: 0,
        router_lifetime: 0,
        prefixes: Vec::new(),
    }
}

/// One RA socket per served interface (opened now, before the privilege
/// drop); none when turned off, in ProxyDHCP mode, or where the interface
/// has no IPv6 (said at debug level).
pub fn links(file: &FileConfig, plan: &ServePlan) -> Vec<RaLink> {
    if file.dhcp6.router_advertisements == Some(false) || plan.dhcp.mode != Mode::Authoritative {
        return Vec::new();
    }
    plan.networks
        .iter()
        .filter_map(|(name, _)| {
            let index = nix::net::if_::if_nametoindex(name.as_str()).ok()?;
            RaLink::open(name, index, nothing())
                .inspect_err(|e| tracing::debug!(interface = %name, "no router advertisements on {name}: {e}"))
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advert_configures_nothing_and_answers_after_routers() {
        let a = nothing();
        assert_eq!((a.flags, a.router_lifetime), (0, 0));
        assert!(a.prefixes.is_empty());
        let t = timing();
        assert!(!t.unsolicited);
        assert!(t.min_response_delay > Timing::default().max_response_delay);
    }
}
