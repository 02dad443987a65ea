//! Issue 14, firmware case 10: OVMF PXE over IPv6 with its IPv4 PXE switched
//! off (fw_cfg), netboot the only DHCPv6 server and the only source of
//! router advertisements on the link, inside a namespace the test creates.
//! OVMF waits for an RA (M flag), SOLICITs with option 61 arch 7, gets
//! option 59 `tftp://[fd00:99::1]/ipxe.efi`, fetches it over TFTP on IPv6;
//! iPXE then gets `boot.ipxe`, whose echo reaches the serial console. The
//! firmware is also sent a router advertisement of its own naming netboot
//! its default router (src/ra/firmware.rs: without one EDK2 waits 10 s for
//! a route before it fetches the file).
//!
//! netboot runs with the lab's flags only (`--interface`, `--root`, the
//! state directory, the v4 range) and `dhcp6: {range}` in `netboot.yaml`.
//! The dnsmasq reference (configured by hand) runs in the firmware suite
//! (tests/firmware_suite.rs, row 10). Needs root, qemu-system-x86, ovmf,
//! ipxe; see tests/pxe_support/ipv6.rs.

#[allow(dead_code)] // the other boots' helpers are not used here
mod pxe_support;

use pxe_support::ipv6::{boot, check_netboot, tails, V6Server};
use pxe_support::server::ServerKind;
use pxe_support::{boot_lock, prerequisites_met};

#[test]
fn netboot_boots_ovmf_pxe_over_ipv6() {
    let _one_at_a_time = boot_lock();
    if !prerequisites_met(ServerKind::Netboot) {
        return;
    }
    let outcome = boot(V6Server::Netboot);
    match &outcome.result {
        Ok(took) => println!(
            "OVMF PXE over IPv6 from netboot: {:.1} s",
            took.as_secs_f64()
        ),
        Err(e) => panic!("{e}\n{}", tails(&outcome)),
    }
    if let Err(e) = check_netboot(&outcome) {
        panic!("OVMF PXE over IPv6 from netboot: {e}\n{}", tails(&outcome));
    }
}
