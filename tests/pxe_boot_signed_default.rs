//! Secure Boot as the UEFI default with only `boot-images/fill.sh` run: the
//! root holds fill.sh's files (Debian's signed shim `shimx64.efi` and
//! netboot GRUB `grubx64.efi` beside iPXE and PXELINUX), `netboot serve`
//! runs with the shipped example profiles and no boot-file flag, in a
//! namespace the test creates. Issue 14's cases:
//!
//! - 3: OVMF PXE (arch 7) is offered `shimx64.efi`, shim loads
//!   `grubx64.efi`, GRUB reads the `grub.cfg` netboot generates where
//!   Debian's GRUB looks for it (`debian-installer/amd64/grub/grub.cfg`),
//!   whose line reaches the console;
//! - 5: the same chain boots the Debian installer (an ISO in the catalogue,
//!   picked with `netboot next`) to `/init`;
//! - 6: the same with Secure Boot on (OVMF's secboot build, Microsoft's
//!   keys): the kernel says "Secure boot enabled"; and the negative
//!   control: a machine the example profile `ipxe-chain.yaml` gives the
//!   unsigned `ipxe.efi` fetches it and the firmware refuses to run it.
//!
//! The same boots from dnsmasq, and the timings side by side, are in the
//! firmware suite (`tests/run.sh --firmware`, tests/firmware_suite.rs).
//! Needs root, qemu-system-x86, ovmf, ipxe, pxelinux, syslinux-common,
//! debian-installer-12-netboot-amd64, xorriso, isolinux, mtools, dosfstools;
//! prints SKIP without them, or panics when `CI` is set.

#[allow(dead_code)] // the other boots' helpers are not used here
mod pxe_support;

use pxe_support::process::tail;
use pxe_support::server::ServerKind;
use pxe_support::signed::{boot, Case, Outcome, Server, FRESH_MAC, IPXE_CHAIN_MAC};
use pxe_support::wire::Wire;
use pxe_support::{boot_lock, prerequisites_met};

/// Runs `case` from netboot; panics with the console, log and wire on failure.
fn netboot(case: Case) -> Option<Outcome> {
    let _one_at_a_time = boot_lock();
    if !prerequisites_met(ServerKind::NetbootSecureBoot) {
        return None;
    }
    let outcome = boot(case, Server::Netboot);
    let summary = outcome.wire.as_ref().map(Wire::summary).unwrap_or_default();
    match &outcome.result {
        Ok(t) => println!("{}: {:.1} s\n{summary}", case.name(), t.as_secs_f64()),
        Err(e) => panic!(
            "{}: {e}\n--- serial ---\n{}\n--- server log ---\n{}\n--- wire ---\n{summary}",
            case.name(),
            tail(&outcome.serial, 60),
            tail(&outcome.log, 80)
        ),
    }
    Some(outcome)
}

/// The firmware's PXE (arch 7, not iPXE) was offered only `file`.
fn offered_only(wire: &Wire, file: &str) {
    let offered: Vec<String> = wire
        .requests()
        .filter(|d| d.arch() == Some(7) && !d.is_ipxe())
        .flat_map(|d| wire.replies_to(d.xid).map(|r| r.boot_file().to_string()))
        .collect();
    assert!(!offered.is_empty(), "no reply to OVMF:\n{}", wire.summary());
    assert!(
        offered.iter().all(|f| f == file),
        "OVMF was offered {offered:?}, not only {file}:\n{}",
        wire.summary()
    );
}

/// TFTP requests for each of `files`, in this order.
fn requested_in_order(wire: &Wire, files: &[&str]) {
    let requested = wire.requested_files();
    let mut from = 0;
    for f in files {
        let at = requested[from..]
            .iter()
            .position(|r| r.trim_start_matches('/') == *f)
            .unwrap_or_else(|| panic!("no request for {f} after {:?}", &requested[..from]));
        from += at + 1;
    }
}

#[test]
fn case_3_ovmf_pxe_gets_the_signed_shim_then_grub_then_netboots_grub_menu() {
    let Some(outcome) = netboot(Case::GrubMenu) else {
        return;
    };
    assert!(
        outcome
            .serial
            .contains("netboot: GRUB read the menu netboot wrote"),
        "{}",
        tail(&outcome.serial, 40)
    );
    assert!(
        outcome
            .log
            .contains("UEFI x64 PXE machines without a profile's boot file get shimx64.efi: the signed shim in the root"),
        "the log says the default and why:\n{}",
        tail(&outcome.log, 60)
    );
    assert!(
        outcome.log.contains(
            "UEFI x64 shimx64.efi for PXE: the signed shim in the root (from boot-images/fill.sh)"
        ),
        "the start-up summary says the default and why:\n{}",
        tail(&outcome.log, 60)
    );
    if let Some(wire) = &outcome.wire {
        offered_only(wire, "shimx64.efi");
        requested_in_order(
            wire,
            &[
                "shimx64.efi",
                "grubx64.efi",
                "debian-installer/amd64/grub/grub.cfg",
            ],
        );
    }
    println!("{FRESH_MAC}: shim -> GRUB -> netboot's grub.cfg");
}

#[test]
fn case_5_the_debian_installer_boots_through_the_signed_shim_and_grub() {
    let Some(outcome) = netboot(Case::Installer) else {
        return;
    };
    assert!(
        outcome.serial.contains("Secure boot disabled"),
        "{}",
        tail(&outcome.serial, 40)
    );
    if let Some(wire) = &outcome.wire {
        offered_only(wire, "shimx64.efi");
        requested_in_order(wire, &["shimx64.efi", "grubx64.efi"]);
    }
}

#[test]
fn case_6_the_installer_boots_with_secure_boot_on() {
    let Some(outcome) = netboot(Case::InstallerSecure) else {
        return;
    };
    assert!(
        outcome
            .serial
            .contains("netboot: Secure Boot is on: only signed entries are shown"),
        "GRUB runs locked down:\n{}",
        tail(&outcome.serial, 40)
    );
    if let Some(wire) = &outcome.wire {
        offered_only(wire, "shimx64.efi");
    }
}

#[test]
fn case_6_negative_control_unsigned_ipxe_from_a_profile_is_fetched_and_refused() {
    let Some(outcome) = netboot(Case::UnsignedRefused) else {
        return;
    };
    assert!(
        !outcome.serial.contains("iPXE initialising"),
        "iPXE ran under Secure Boot:\n{}",
        tail(&outcome.serial, 40)
    );
    assert!(
        outcome
            .log
            .lines()
            .any(|l| l.contains("ipxe.efi") && l.contains("transfer complete")),
        "ipxe.efi was not sent whole:\n{}",
        tail(&outcome.log, 60)
    );
    if let Some(wire) = &outcome.wire {
        offered_only(wire, "ipxe.efi");
    }
    println!("{IPXE_CHAIN_MAC}: ipxe.efi fetched, refused by the firmware");
}

/// The wire's boot files offered to `arch` requests (not iPXE).
fn offered_to(wire: &Wire, arch: u16) -> Vec<String> {
    wire.requests()
        .filter(|d| d.arch() == Some(arch) && !d.is_ipxe())
        .flat_map(|d| wire.replies_to(d.xid).map(|r| r.boot_file().to_string()))
        .collect()
}

#[test]
fn arm64_aavmf_pxe_gets_the_signed_shim_then_grub_then_netboots_grub_menu() {
    let Some(outcome) = netboot(Case::Arm64GrubMenu) else {
        return;
    };
    if let Some(wire) = &outcome.wire {
        let offered = offered_to(wire, 11);
        assert!(
            !offered.is_empty() && offered.iter().all(|f| f == "shimaa64.efi"),
            "AAVMF was offered {offered:?}:\n{}",
            wire.summary()
        );
        requested_in_order(
            wire,
            &[
                "shimaa64.efi",
                "grubaa64.efi",
                "debian-installer/arm64/grub/grub.cfg",
            ],
        );
    }
}

#[test]
fn arm64_with_secure_boot_on_runs_grub_locked_down() {
    let Some(outcome) = netboot(Case::Arm64GrubMenuSecure) else {
        return;
    };
    assert!(
        outcome
            .serial
            .contains("netboot: Secure Boot is on: only signed entries are shown"),
        "{}",
        tail(&outcome.serial, 40)
    );
}
