//! Secure Boot with zero configuration, in qemu: OVMF's Secure Boot build
//! with Microsoft's keys enrolled boots a catalogued ISO through Debian's
//! signed shim, GRUB and kernel, and nothing it would refuse is offered.
//!
//! `netboot serve` runs in a namespace the test creates (as
//! tests/pxe_boot.rs does) with no boot-file flag and no profile; the root
//! holds `ipxe.efi` and a Debian installer ISO built with Debian's tools
//! (`pxe_support/iso.rs`: the signed `bootnetx64.efi` shim and
//! `grubx64.efi`, the signed installer kernel), whose own boot arguments
//! name the serial console. `netboot next` picks the ISO for the VM's one
//! boot (a machine nobody picked an entry for boots its local disk). Then:
//! OVMF PXE (arch 7) is offered the ISO's shim, not `ipxe.efi`; shim and
//! GRUB come over TFTP from inside the ISO; GRUB gets the catalogue's
//! `grub.cfg`, the kernel and initrd come over HTTP from inside the ISO;
//! the kernel says "Secure boot enabled" and the installer reaches `/init`.
//! The same boot with Secure Boot off (plain OVMF) takes the same path: the
//! default works whether or not the machine enforces Secure Boot.
//!
//! Needs root and qemu-system-x86, ovmf, ipxe, debian-installer-12-netboot-amd64,
//! xorriso, isolinux, mtools, dosfstools (see tests/pxe_boot.rs); prints SKIP
//! without them, or panics when `CI` is set. About 40 s per boot.

#[allow(dead_code)] // the other boots' helpers are not used here
mod pxe_support;

use std::path::Path;
use std::time::{Duration, Instant};

use pxe_support::lab::Lab;
use pxe_support::process::tail;
use pxe_support::server::{make_boot_root, start_server, ServerKind, CATALOGUE_ISO};
use pxe_support::vm::{Firmware, Vm, OVMF_CODE_SECBOOT, OVMF_VARS_MS, VM_MAC};
use pxe_support::wire::Wire;
use pxe_support::{boot_lock, boot_timeout, keep_artifacts, prerequisites_met, Capture};

/// The kernel's line when the firmware booted it with Secure Boot on.
const SECURE_BOOT_LINE: &str = "Secure boot enabled";
/// The installer's initrd unpacked and running.
const INIT_LINE: &str = "Run /init as init process";

/// The shim's path in the root, as the DHCP reply names it.
fn shim() -> String {
    format!("{CATALOGUE_ISO}/EFI/boot/bootx64.efi")
}

#[test]
fn netboot_secure_boot_uefi_boots_an_iso_from_the_catalogue() {
    boot(true);
}

/// The same path with Secure Boot off (plain OVMF): shim and GRUB boot the
/// same way, so the default works whether or not the machine enforces it.
#[test]
fn netboot_uefi_without_secure_boot_boots_the_same_shim_path() {
    boot(false);
}

/// Boots the VM (Secure Boot on or off) through the catalogue's shim with
/// no configuration, and checks the console, the wire and netboot's log.
fn boot(secure: bool) {
    let _one_at_a_time = boot_lock();
    let kind = ServerKind::NetbootSecureBoot;
    if !prerequisites_met(kind) {
        return;
    }
    for firmware in [OVMF_CODE_SECBOOT, OVMF_VARS_MS] {
        assert!(
            Path::new(firmware).exists(),
            "{firmware} missing: install ovmf"
        );
    }
    let (name, kernel_line) = if secure {
        ("netboot-secure-boot-uefi", SECURE_BOOT_LINE)
    } else {
        ("netboot-shim-uefi-secure-boot-off", "Secure boot disabled")
    };
    let lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    println!(
        "{name}: namespace {}, scratch {}",
        lab.ns.name(),
        lab.dir().display()
    );
    let root = make_boot_root(&lab).unwrap_or_else(|e| panic!("{name}: boot root: {e}"));
    let capture = Capture::start(&lab);
    let mut server = start_server(kind, &lab, &root).unwrap_or_else(|e| panic!("{name}: {e}"));
    let chosen = format!("get {}: the signed shim of {CATALOGUE_ISO}", shim());
    server
        .wait_for_log(&[&chosen], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{name}: the shim is not the UEFI default: {e}"));
    boot_once(&lab, &root);
    let started = Instant::now();
    let vm = if secure {
        Vm::start_secure_boot(&lab, 1024)
    } else {
        Vm::start(&lab, Firmware::Uefi, 1024)
    };
    let mut vm = vm.unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcome = vm
        .wait_for(kernel_line, boot_timeout())
        .and_then(|_| vm.wait_for(INIT_LINE, boot_timeout()));
    let elapsed = started.elapsed();
    vm.stop();
    server.stop();
    let wire = capture.finish();
    let summary = wire.as_ref().map(Wire::summary).unwrap_or_default();
    let report = format!("{name}: {outcome:?} after {elapsed:.1?}\n{summary}");
    keep_artifacts(&lab, name, &report);
    println!("{report}");
    let log = server.log_tail(600);
    if let Err(e) = outcome {
        panic!(
            "{name}: {e}\n--- serial ---\n{}\n--- server log ---\n{}\n--- wire ---\n{summary}",
            tail(&vm.serial(), 60),
            tail(&log, 80),
        );
    }
    if let Some(wire) = wire {
        check_wire(&wire);
    }
    let channel = check_log(&log);
    println!(
        "{name}: shim and GRUB over TFTP, kernel and initrd over {channel}, all from inside the ISO, {elapsed:.1?} to /init"
    );
}

/// `netboot next VM_MAC ISO`: the VM boots the ISO once.
fn boot_once(lab: &Lab, root: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netboot"))
        .args(["next", VM_MAC, CATALOGUE_ISO, "--root"])
        .arg(root)
        .arg("--state-dir")
        .arg(lab.path("state"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "netboot next: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// OVMF's PXE (arch 7, not iPXE) was offered the shim inside the ISO,
/// never `ipxe.efi`, and asked for shim then GRUB beside it over TFTP.
fn check_wire(wire: &Wire) {
    let shim = shim();
    let offered: Vec<String> = wire
        .requests()
        .filter(|d| d.arch() == Some(7) && !d.is_ipxe())
        .flat_map(|d| wire.replies_to(d.xid).map(|r| r.boot_file().to_string()))
        .collect();
    assert!(
        !offered.is_empty(),
        "no reply to OVMF's PXE:\n{}",
        wire.summary()
    );
    assert!(
        offered.iter().all(|f| *f == shim),
        "OVMF was offered {offered:?}, not only {shim}:\n{}",
        wire.summary()
    );
    let grub = format!("{CATALOGUE_ISO}/EFI/boot/grubx64.efi");
    let requested = wire.requested_files();
    let at = |f: &str| {
        requested
            .iter()
            .position(|r| r.trim_start_matches('/') == f)
    };
    match (at(&shim), at(&grub)) {
        (Some(s), Some(g)) if s < g => {}
        _ => panic!("TFTP requests for {shim} then {grub} missing in {requested:?}"),
    }
}

/// netboot's log: shim and GRUB sent whole over TFTP from inside the ISO,
/// then the kernel and initrd from inside the ISO: over HTTP when the
/// GRUB has HTTP, else over TFTP (Debian 12's signed netboot GRUB has TFTP
/// only; the `grub.cfg` netboot writes chooses). Returns which.
fn check_log(log: &str) -> &'static str {
    let inst = Path::new(pxe_support::iso::INSTALLER);
    let size = |f: &str| std::fs::metadata(inst.join(f)).map_or(0, |m| m.len());
    for (f, src) in [
        ("bootx64.efi", "bootnetx64.efi"),
        ("grubx64.efi", "grubx64.efi"),
    ] {
        assert!(
            tftp_complete(log, &format!("EFI/boot/{f}"), size(src)),
            "no complete TFTP transfer of {f} from inside the ISO:\n{log}"
        );
    }
    let files = [("vmlinuz", "linux"), ("initrd.gz", "initrd.gz")];
    let over_http = files.iter().all(|(f, src)| {
        log.contains(&format!(
            "path=/{CATALOGUE_ISO}/install.amd/{f}}}: sent status=200 bytes={}",
            size(src)
        ))
    });
    let over_tftp = files
        .iter()
        .all(|(f, src)| tftp_complete(log, &format!("install.amd/{f}"), size(src)));
    assert!(
        over_http || over_tftp,
        "the kernel and initrd were not sent whole from inside the ISO:\n{log}"
    );
    assert!(
        log.contains("one-shot boot over"),
        "the one-shot boot ended:\n{log}"
    );
    if over_http {
        "HTTP"
    } else {
        "TFTP"
    }
}

/// Some TFTP transfer of `inner` (inside the ISO) completed with `bytes`.
fn tftp_complete(log: &str, inner: &str, bytes: u64) -> bool {
    log.lines().any(|l| {
        l.contains(&format!("{CATALOGUE_ISO}/{inner}}}"))
            && l.contains("transfer complete")
            && l.contains(&format!(" bytes={bytes} "))
    })
}
