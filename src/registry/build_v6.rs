//! The IPv6 keys of a profile, checked one by one: `address6` (a fixed
//! DHCPv6 address), `duid` (a host's DHCPv6 DUID) and `boot_params6`
//! (DHCPv6 option 60, boot file parameters). Whether an address is given
//! twice is checked across profiles in `checks`.

use std::net::Ipv6Addr;

use crate::dhcp6::duid;

use super::build::Cx;
use super::locate::Seg;
use super::wire::WireProfile;

/// Option 60's parameters together, encoded, at most (the reply must fit
/// one datagram beside the boot URL and the addresses).
pub const MAX_BOOT_PARAMS6: usize = 1024;

/// The shortest DUID: a two-byte type and at least one byte of it.
const MIN_DUID: usize = 3;

impl Cx<'_> {
    /// A global or unique local IPv6 address.
    pub(super) fn ipv6(&mut self, at: &[Seg<'_>], text: &str) -> Option<Ipv6Addr> {
        let Ok(ip) = text.trim().parse::<Ipv6Addr>() else {
            self.err(
                at,
                format!("bad IPv6 address {text:?}: write one such as fd00:99::50"),
            );
            return None;
        };
        let link_local = ip.segments()[0] & 0xffc0 == 0xfe80;
        if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || link_local {
            self.err(
                at,
                format!(
                    "{ip} cannot be handed out by DHCPv6 (unspecified, loopback, multicast or \
                     link-local); give a global or unique local address on the served /64"
                ),
            );
            return None;
        }
        Some(ip)
    }

    /// A DUID in hex (`00:04:…`, `00-04-…` or `0004…`).
    pub(super) fn duid(&mut self, at: &[Seg<'_>], text: &str) -> Option<Vec<u8>> {
        match duid::parse_hex(text.trim()) {
            Some(d) if d.len() >= MIN_DUID => Some(d),
            _ => {
                self.err(
                    at,
                    format!(
                        "bad DUID {text:?}: write its bytes in hex (3 to 130 of them), e.g. \
                         00:04:8f:3a:… as `journalctl`, dhclient's lease file or the client shows it"
                    ),
                );
                None
            }
        }
    }

    /// `boot_params6`: non-empty strings, together no longer than
    /// [`MAX_BOOT_PARAMS6`] bytes as option 60 encodes them.
    pub(super) fn boot_params6(&mut self, w: &WireProfile) -> Vec<String> {
        let mut out = Vec::new();
        for (i, p) in w.boot_params6.iter().enumerate() {
            if p.is_empty() || p.chars().any(char::is_control) {
                self.err(
                    &[Seg::Key("boot_params6"), Seg::Idx(i)],
                    format!(
                        "boot parameter {p:?} is empty or holds a control character; \
                         write each parameter as plain text"
                    ),
                );
            } else {
                out.push(p.clone());
            }
        }
        let size: usize = out.iter().map(|p| 2 + p.len()).sum();
        if size > MAX_BOOT_PARAMS6 {
            self.err(
                &[Seg::Key("boot_params6")],
                format!(
                    "boot_params6 take {size} bytes in option 60, more than {MAX_BOOT_PARAMS6}; \
                     shorten them, or put them in a file the boot loader reads"
                ),
            );
        }
        out
    }
}
