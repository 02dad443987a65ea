//! End-to-end PXE boots of real VM firmware against a DHCP + TFTP server, all
//! inside a network namespace the test creates (never the root namespace).
//!
//! - BIOS: SeaBIOS + the e1000's iPXE ROM → DHCP (arch 0, user class iPXE) →
//!   `boot.ipxe` → `chain pxelinux.0` → PXELINUX runs `cat.c32 marker.txt`,
//!   whose text reaches the serial log.
//! - UEFI: OVMF's own PXE over virtio-net (arch 7) → `ipxe.efi` → iPXE DHCPs
//!   again → `boot.ipxe` → its `echo` reaches the serial log.
//! - UEFI HTTP boot (`netboot_uefi_http_*`): OVMF with PXE switched off asks
//!   as `HTTPClient` (arch 16), gets `http://10.77.0.1/ipxe.efi` with no flag
//!   beyond the interface, then iPXE gets `boot.ipxe` over HTTP.
//! - The Debian installer (`*_boots_the_debian_installer_over_http`): iPXE
//!   gets `installer.ipxe` over HTTP and fetches the installer's kernel and
//!   initrd over HTTP by relative names; the kernel's command line and its
//!   "Run /init" (the initrd unpacked) reach the serial console.
//! - The image catalogue (`*_boots_an_iso_from_the_catalogue`): a Debian
//!   installer ISO built with Debian's tools is moved into the root while
//!   netboot runs, and the VM starts once the catalogue lists it; a profile for
//!   every machine says `menu: {entry: ...}`; iPXE gets `netboot.ipxe`, then
//!   its menu, then the kernel and initrd from inside the ISO over HTTP.
//! - Secure Boot with no configuration (OVMF's Secure Boot build, the ISO's
//!   signed shim, GRUB and kernel): tests/pxe_boot_secure.rs.
//! - Without any `boot.ipxe` (`netboot_without_a_script_*`): iPXE gets the
//!   `netboot.ipxe` netboot writes, which chains the image catalogue's menu;
//!   with nothing catalogued, on BIOS it chains PXELINUX, on UEFI it says on
//!   the console what is missing (never a BIOS binary).
//!
//! The `netboot_*` and `netboot_proxy_*` tests (`netboot serve`) run by
//! default, about 20 s per BIOS boot and 35 s per UEFI boot; the dnsmasq
//! references and the `netboot_parts_*` / `netboot_tftp_*` variants are
//! `#[ignore]`d (run them with `--ignored`).
//!
//! Needs root and qemu-system-x86, ipxe-qemu, ovmf, ipxe, pxelinux,
//! syslinux-common (plus dnsmasq-base for the reference runs); prints SKIP
//! without them, or panics when `CI` is set. tcpdump, when installed, records
//! the exchange and the wire checks run on it. Set `NETBOOT_PXE_ARTIFACTS=DIR`
//! to keep serial logs, server logs and captures. See docs/pxe-lab.md.

mod pxe_support;

use std::time::Instant;

use pxe_support::lab::Lab;
use pxe_support::process::tail;
use pxe_support::server::{
    drop_in_catalogue_iso, make_boot_root, start_server, ServerKind, BOOT_BIOS, BOOT_IPXE,
    BOOT_UEFI,
};
use pxe_support::vm::{Firmware, Vm};
use pxe_support::wire::Wire;
use pxe_support::{boot_lock, boot_timeout, keep_artifacts, prerequisites_met, Capture};

/// What each firmware path prints on the serial console once it has booted.
/// Without a `boot.ipxe`, BIOS iPXE still reaches PXELINUX through the
/// script netboot writes, and UEFI iPXE shows that script's words (never a
/// BIOS binary).
fn marker(kind: ServerKind, firmware: Firmware) -> &'static str {
    match (kind, firmware) {
        (ServerKind::NetbootInstaller | ServerKind::NetbootCatalogue, _) => {
            "Run /init as init process"
        }
        (_, Firmware::Bios) => "NETBOOT-PXELINUX-MARKER",
        (ServerKind::NetbootNoScript, Firmware::Uefi) => {
            "(no boot.ipxe, no image in the catalogue)"
        }
        (_, Firmware::Uefi | Firmware::UefiHttp) => "NETBOOT-IPXE-MARKER platform=efi",
    }
}

/// The script iPXE is sent to.
fn ipxe_script(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::NetbootNoScript | ServerKind::NetbootCatalogue => "netboot.ipxe",
        ServerKind::NetbootInstaller => pxe_support::server::INSTALLER_IPXE,
        _ => BOOT_IPXE,
    }
}

/// Boots one VM against one server and checks the console and the wire.
fn boot(kind: ServerKind, firmware: Firmware) {
    let _one_at_a_time = boot_lock();
    if !prerequisites_met(kind) {
        return;
    }
    let name = format!("{}-{}", kind.name(), firmware.name());
    let mut lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    if kind.is_proxy() {
        lab.add_neighbour()
            .unwrap_or_else(|e| panic!("{name}: neighbour: {e}"));
    }
    println!(
        "{name}: namespace {}, scratch {}",
        lab.ns.name(),
        lab.dir().display()
    );
    let root = make_boot_root(&lab).unwrap_or_else(|e| panic!("{name}: boot root: {e}"));
    let capture = Capture::start(&lab);
    let mut server = start_server(kind, &lab, &root).unwrap_or_else(|e| panic!("{name}: {e}"));
    if kind == ServerKind::NetbootCatalogue {
        drop_in_catalogue_iso(&lab, &root, &mut server).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let started = Instant::now();
    // the installer's initrd unpacks to more than 256 MiB
    let memory = if matches!(
        kind,
        ServerKind::NetbootInstaller | ServerKind::NetbootCatalogue
    ) {
        1024
    } else {
        256
    };
    let mut vm = Vm::start(&lab, firmware, memory).unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcome = vm.wait_for(marker(kind, firmware), boot_timeout());
    let elapsed = started.elapsed();
    vm.stop();
    server.stop();
    let wire = capture.finish();
    let summary = wire.as_ref().map(Wire::summary).unwrap_or_default();
    let report = format!("{name}: {outcome:?} after {elapsed:.1?}\n{summary}");
    keep_artifacts(&lab, &name, &report);
    println!("{report}");
    if let Err(e) = outcome {
        panic!(
            "{name}: {e}\n--- serial ---\n{}\n--- server log ---\n{}\n--- wire ---\n{summary}",
            tail(&vm.serial(), 40),
            server.log_tail(60),
        );
    }
    if let Some(wire) = wire {
        check_wire(kind, firmware, &wire);
    }
    if over_http(kind) {
        // after iPXE, everything comes over netboot's HTTP server
        let log = server.log_tail(400);
        let mut wanted = vec![format!("path=/{}}}: sent status=200", ipxe_script(kind))];
        if firmware == Firmware::UefiHttp {
            wanted.push(format!("path=/{BOOT_UEFI}}}: sent status=200"));
        }
        if kind == ServerKind::NetbootInstaller {
            let marker = "netboot-marker=KERNEL-OVER-HTTP";
            assert!(
                vm.serial().contains(marker),
                "{name}: the kernel's command line is not on the console"
            );
            for f in ["linux", "initrd.gz"] {
                let path = root.join("debian-installer/amd64").join(f);
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                wanted.push(format!(
                    "path=/debian-installer/amd64/{f}}}: sent status=200 bytes={size}"
                ));
            }
        } else if kind == ServerKind::NetbootCatalogue {
            wanted.extend(catalogue_fetches(firmware));
        } else if firmware == Firmware::Bios {
            wanted.extend(
                [
                    "pxelinux.0",
                    "ldlinux.c32",
                    "pxelinux.cfg/default",
                    "cat.c32",
                ]
                .map(|f| format!("path=/{f}}}: sent status=200")),
            );
        }
        for line in wanted {
            assert!(
                log.contains(&line),
                "{name}: no `{line}` in the server log:\n{log}"
            );
        }
    }
}

/// `netboot serve` runs its HTTP server, and sends iPXE there.
fn over_http(kind: ServerKind) -> bool {
    matches!(
        kind,
        ServerKind::Netboot
            | ServerKind::NetbootProxy
            | ServerKind::NetbootNoScript
            | ServerKind::NetbootInstaller
            | ServerKind::NetbootCatalogue
    )
}

/// What iPXE fetches when the catalogue's menu boots the ISO's installer:
/// its menu, then the kernel and initrd from inside the ISO, whole.
fn catalogue_fetches(firmware: Firmware) -> Vec<String> {
    let menu = pxe_support::catalogue::menu_file(firmware);
    let inst = std::path::Path::new(pxe_support::iso::INSTALLER);
    let size = |f: &str| std::fs::metadata(inst.join(f)).map_or(0, |m| m.len());
    vec![
        format!("path=/{menu}}}: sent status=200"),
        format!(
            "path=/{}/install.amd/vmlinuz}}: sent status=200 bytes={}",
            pxe_support::server::CATALOGUE_ISO,
            size("linux")
        ),
        format!(
            "path=/{}/install.amd/initrd.gz}}: sent status=200 bytes={}",
            pxe_support::server::CATALOGUE_ISO,
            size("initrd.gz")
        ),
    ]
}

/// The firmware asked what we expect and the server answered with the right
/// boot file for each stage.
fn check_wire(kind: ServerKind, firmware: Firmware, wire: &Wire) {
    let name = ipxe_script(kind);
    let url = format!("http://{}/{name}", pxe_support::lab::SERVER_IP);
    let (script, tftp_script): (&str, &[&str]) = if over_http(kind) {
        (&url, &[])
    } else {
        (name, std::slice::from_ref(&name))
    };
    match firmware {
        Firmware::Bios => {
            assert_boot_file(
                wire,
                "iPXE ROM (arch 0)",
                |d| d.arch() == Some(0) && d.is_ipxe(),
                script,
            );
            if !over_http(kind) {
                assert_in_order(
                    wire,
                    &[
                        name,
                        BOOT_BIOS,
                        "ldlinux.c32",
                        "pxelinux.cfg/default",
                        "cat.c32",
                    ],
                );
            }
        }
        Firmware::UefiHttp => {
            let efi = format!("http://{}/{BOOT_UEFI}", pxe_support::lab::SERVER_IP);
            assert_boot_file(
                wire,
                "OVMF HTTP boot (arch 16)",
                |d| d.arch() == Some(16) && !d.is_ipxe(),
                &efi,
            );
            assert_boot_file(wire, "ipxe.efi (iPXE)", |d| d.is_ipxe(), script);
        }
        Firmware::Uefi => {
            assert_boot_file(
                wire,
                "OVMF PXE (arch 7)",
                |d| d.arch() == Some(7) && !d.is_ipxe(),
                BOOT_UEFI,
            );
            assert_boot_file(wire, "ipxe.efi (iPXE)", |d| d.is_ipxe(), script);
            assert_in_order(wire, &[&[BOOT_UEFI], tftp_script].concat());
        }
    }
}

/// Some client request matching `client` got a reply naming `file`.
fn assert_boot_file(
    wire: &Wire,
    what: &str,
    client: impl Fn(&pxe_support::wire::Dhcp) -> bool,
    file: &str,
) {
    let mut asked = false;
    for request in wire.requests().filter(|d| client(d)) {
        asked = true;
        if wire.replies_to(request.xid).any(|r| r.boot_file() == file) {
            return;
        }
    }
    assert!(
        asked,
        "no DHCP request from {what} on the wire:\n{}",
        wire.summary()
    );
    panic!("{what} was never offered {file:?}:\n{}", wire.summary());
}

/// `files` were requested over TFTP in this order (other requests may interleave).
fn assert_in_order(wire: &Wire, files: &[&str]) {
    let requested = wire.requested_files();
    let mut rest = requested.iter();
    for file in files {
        assert!(
            rest.any(|r| r.trim_start_matches('/') == *file),
            "TFTP request for {file:?} missing or out of order in {requested:?}"
        );
    }
}

#[test]
fn netboot_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::Netboot, Firmware::Bios);
}

#[test]
fn netboot_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::Netboot, Firmware::Uefi);
}

#[test]
fn netboot_uefi_http_boot_gets_ipxe_and_its_script_over_http() {
    boot(ServerKind::Netboot, Firmware::UefiHttp);
}

#[test]
fn netboot_bios_ipxe_boots_the_debian_installer_over_http() {
    boot(ServerKind::NetbootInstaller, Firmware::Bios);
}

#[test]
fn netboot_uefi_ipxe_boots_the_debian_installer_over_http() {
    boot(ServerKind::NetbootInstaller, Firmware::Uefi);
}

#[test]
fn netboot_without_a_script_bios_ipxe_chains_pxelinux() {
    boot(ServerKind::NetbootNoScript, Firmware::Bios);
}

#[test]
fn netboot_without_a_script_uefi_ipxe_gets_netboots_script() {
    boot(ServerKind::NetbootNoScript, Firmware::Uefi);
}

#[test]
fn netboot_bios_boots_an_iso_from_the_catalogue() {
    boot(ServerKind::NetbootCatalogue, Firmware::Bios);
}

#[test]
fn netboot_uefi_boots_an_iso_from_the_catalogue() {
    boot(ServerKind::NetbootCatalogue, Firmware::Uefi);
}

#[test]
#[ignore = "reference run against dnsmasq; proves the harness and firmware"]
fn dnsmasq_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::Dnsmasq, Firmware::Bios);
}

#[test]
#[ignore = "reference run against dnsmasq; proves the harness and firmware"]
fn dnsmasq_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::Dnsmasq, Firmware::Uefi);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_tftp_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::DnsmasqNetbootTftp, Firmware::Bios);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_tftp_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::DnsmasqNetbootTftp, Firmware::Uefi);
}

#[test]
fn netboot_proxy_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::NetbootProxy, Firmware::Bios);
}

#[test]
fn netboot_proxy_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::NetbootProxy, Firmware::Uefi);
}

#[test]
#[ignore = "reference run against dnsmasq as ProxyDHCP; proves the harness and firmware"]
fn dnsmasq_proxy_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::DnsmasqProxy, Firmware::Bios);
}

#[test]
#[ignore = "reference run against dnsmasq as ProxyDHCP; proves the harness and firmware"]
fn dnsmasq_proxy_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::DnsmasqProxy, Firmware::Uefi);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_parts_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::NetbootParts, Firmware::Bios);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_parts_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::NetbootParts, Firmware::Uefi);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_parts_proxy_bios_ipxe_rom_boots_pxelinux() {
    boot(ServerKind::NetbootPartsProxy, Firmware::Bios);
}

#[test]
#[ignore = "boots VMs (about a minute each); run with --ignored"]
fn netboot_parts_proxy_uefi_ovmf_boots_ipxe_script() {
    boot(ServerKind::NetbootPartsProxy, Firmware::Uefi);
}
