//! **PXE firmware's default route** (pure): EDK2's PXE over IPv6 (OVMF,
//! most UEFI machines) looks for a route to the boot server in its IPv6
//! route table for up to 10 s once DHCPv6 has bound, before it has read the
//! server's address from the boot URL, so only a default route (prefix
//! length 0) matches. With netboot's RAs alone (router lifetime 0) there is
//! none and every boot waits the full 10 s (`PxeBcCheckRouteTable`,
//! `PXEBC_IP6_ROUTE_TABLE_TIMEOUT` in NetworkPkg/UefiPxeBcDxe).
//!
//! So a PXE firmware that asks DHCPv6 for its boot file (option 61, vendor
//! class `PXEClient`, not iPXE) also gets a router advertisement of its own,
//! sent to its link-local address only, that names netboot a default router
//! for [`FIRMWARE_ROUTER_LIFETIME`]. Other hosts never see it: to them
//! netboot stays no router.

use super::wire::Advert;

/// Router lifetime, seconds, of the RA sent to PXE firmware alone: the
/// least RFC 4861 §6.2.1 allows beside 0 with netboot's MaxRtrAdvInterval
/// (600 s).
pub const FIRMWARE_ROUTER_LIFETIME: u16 = 600;

/// The link's RA as sent to one PXE firmware: the same flags and prefixes,
/// netboot a default router for [`FIRMWARE_ROUTER_LIFETIME`].
pub fn advert_for_firmware(link: &Advert) -> Advert {
    Advert {
        router_lifetime: FIRMWARE_ROUTER_LIFETIME,
        ..link.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ra::wire::{self, Icmp6, PrefixInfo, FLAG_M, FLAG_O};

    #[test]
    fn the_firmware_gets_the_links_advert_with_a_router_lifetime() {
        let link = Advert {
            hop_limit: 0,
            flags: FLAG_M | FLAG_O,
            router_lifetime: 0,
            prefixes: vec![PrefixInfo {
                prefix: "fd00:99::".parse().unwrap(),
                len: 64,
                on_link: true,
                autonomous: false,
                valid: 86_400,
                preferred: 14_400,
            }],
        };
        let got = advert_for_firmware(&link);
        assert_eq!(got.router_lifetime, 600);
        assert_eq!(got.flags, FLAG_M | FLAG_O);
        assert_eq!(got.prefixes, link.prefixes);
        // on the wire: bytes 6-7 are the router lifetime
        let bytes = wire::build(&got);
        assert_eq!(&bytes[6..8], &[0x02, 0x58]);
        assert_eq!(wire::parse(&bytes), Some(Icmp6::Advertisement(got)));
    }
}
