//! ARM64 boots in qemu (TCG) inside a network namespace the test creates,
//! each to a marker on the serial console, from `netboot serve` with no
//! boot-file flag (the root laid out, and a profile where the case is about
//! profiles), then from dnsmasq in the same run for the time comparison:
//!
//! - case 8, AAVMF (ARM64 UEFI, arch 11) → Debian's signed `grubaa64.efi`
//!   (netboot's default `uefi_arm64` when the root has it) → the `grub.cfg`
//!   at its built-in prefix `/debian-installer/arm64/grub/`, whose `echo`
//!   reaches the console;
//! - case 9, U-Boot (`qemu_arm64`: vendor class `U-Boot.armv8`, arch 11)
//!   distro boot: `dhcp` + `boot.scr.uimg`, rendered for the client by a
//!   profile (netboot wraps it in the script image header) or made with
//!   `mkimage` for dnsmasq; and the `pxe get` flow: a rendered script runs
//!   `pxe get; pxe boot`, which fetches `pxelinux.cfg/01-<mac>`, rendered by
//!   the same profile, and prints its label.
//!
//! The installer boot (`..._to_init`, about 36 s per server, 78 s for the
//! pair) is `#[ignore]`d; the other three take 3-12 s per server.
//!
//! Needs root and qemu-system-arm, u-boot-qemu, u-boot-tools,
//! qemu-efi-aarch64, debian-installer-12-netboot-arm64, dnsmasq-base; fails
//! naming them when missing. `NETBOOT_PXE_ARTIFACTS=DIR` keeps the logs.

#[allow(dead_code)] // the x86 pieces of the harness
mod pxe_support;

use std::path::Path;
use std::time::Instant;

use pxe_support::arm;
use pxe_support::lab::Lab;
use pxe_support::process::tail;
use pxe_support::server::{start_launches, Launch};
use pxe_support::vm::Vm;
use pxe_support::wire::Wire;
use pxe_support::{boot_lock, boot_timeout, keep_artifacts, Capture};

/// Which server a boot runs against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    Netboot,
    Dnsmasq,
}

/// Which firmware boots.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Firmware {
    Uboot,
    Aavmf,
}

/// One boot's outcome: seconds from VM start to the marker, the console, the wire.
struct Booted {
    seconds: f64,
    serial: String,
    wire: Option<Wire>,
}

/// Boots `firmware` against the server `launch` builds from a fresh lab
/// and root, until `marker` is on the console.
fn boot(
    name: &str,
    firmware: Firmware,
    marker: &str,
    launch: impl FnOnce(&Lab, &Path) -> Result<Launch, String>,
) -> Booted {
    let _one_at_a_time = boot_lock();
    arm::require();
    let lab = Lab::new().unwrap_or_else(|e| panic!("{name}: lab: {e}"));
    let root = arm::root(&lab);
    let launch = launch(&lab, &root).unwrap_or_else(|e| panic!("{name}: setup: {e}"));
    let capture = Capture::start(&lab);
    let mut server = start_launches(&lab, vec![launch]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let args = match firmware {
        Firmware::Uboot => arm::uboot(),
        Firmware::Aavmf => arm::aavmf(&lab).unwrap_or_else(|e| panic!("{name}: {e}")),
    };
    let started = Instant::now();
    let mut vm = Vm::start_arm64(&lab, name, &args, firmware == Firmware::Aavmf)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let outcome = vm.wait_for(marker, boot_timeout());
    let seconds = started.elapsed().as_secs_f64();
    vm.stop();
    server.stop();
    let wire = capture.finish();
    let summary = wire.as_ref().map(Wire::summary).unwrap_or_default();
    let report = format!("{name}: {outcome:?} after {seconds:.1} s\n{summary}");
    keep_artifacts(&lab, name, &report);
    println!("{report}");
    if let Err(e) = outcome {
        panic!(
            "{name}: {e}\n--- serial ---\n{}\n--- server log ---\n{}\n--- wire ---\n{summary}",
            tail(&vm.serial(), 40),
            server.log_tail(60),
        );
    }
    Booted {
        seconds,
        serial: vm.serial(),
        wire,
    }
}

/// The line of `text` holding `marker`.
fn line_with<'a>(text: &'a str, marker: &str) -> &'a str {
    text.lines().find(|l| l.contains(marker)).unwrap_or("")
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
}

/// U-Boot boards' profile: `boot.scr.uimg` and `pxelinux.cfg/01-<mac>`
/// rendered per client; `script` is the script's body.
fn uboot_profile(script: &str) -> String {
    format!(
        "name: uboot-boards\n\
         match: {{vendor_class: 'U-Boot*'}}\n\
         files:\n  \
           boot.scr.uimg:\n    content: |\n      {script}\n  \
           \"pxelinux.cfg/{{{{ mac.pxelinux }}}}\":\n    content: |\n      \
             default NETBOOT-UBOOT-PXE-{{{{ mac.dash }}}}\n      \
             label NETBOOT-UBOOT-PXE-{{{{ mac.dash }}}}\n"
    )
}

const SCRIPT_MARKER: &str = "NETBOOT-UBOOT-SCRIPT";
const PXE_MARKER: &str = "NETBOOT-UBOOT-PXE";
const GRUB_MARKER: &str = "NETBOOT-GRUB-ARM64";

fn netboot_with_profile(profile: String) -> impl FnOnce(&Lab, &Path) -> Result<Launch, String> {
    move |lab, root| {
        let profiles = arm::empty_dir(lab.path("profiles"));
        write(&profiles, "uboot.yaml", &profile)?;
        Ok(arm::netboot(lab, root, &profiles))
    }
}

/// The wire: U-Boot's first DHCP says who it is, the offer names
/// `boot.scr.uimg`, and the script was asked for over TFTP.
fn check_uboot_wire(wire: &Wire, server: Server) {
    let first = wire.requests().next().expect("a DHCP request");
    let vci = String::from_utf8_lossy(first.option(60).unwrap_or_default()).into_owned();
    assert!(vci.starts_with("U-Boot"), "vendor class {vci:?}");
    println!("U-Boot sends arch {:?}, vendor class {vci}", first.arch());
    let files = wire.requested_files();
    assert!(files.contains(&"boot.scr.uimg"), "{files:?}");
    if server == Server::Netboot {
        let offered: Vec<String> = wire.replies_to(first.xid).map(|r| r.boot_file()).collect();
        assert!(offered.iter().any(|f| f == "boot.scr.uimg"), "{offered:?}");
    }
}

#[test]
fn uboot_arm64_default_flow_runs_the_script_netboot_renders() {
    let script = format!("echo {SCRIPT_MARKER} {{{{ mac.dash }}}} from {{{{ server_ip }}}}");
    let ours = boot(
        "uboot-netboot",
        Firmware::Uboot,
        SCRIPT_MARKER,
        netboot_with_profile(uboot_profile(&script)),
    );
    let line = line_with(&ours.serial, SCRIPT_MARKER);
    assert!(line.contains(" from 10.77.0.1"), "{line:?}");
    let mac = line.split_whitespace().nth(1).unwrap_or("");
    assert!(
        mac.len() == 17 && mac.split('-').count() == 6,
        "rendered with the client's MAC: {line:?}"
    );
    if let Some(wire) = &ours.wire {
        check_uboot_wire(wire, Server::Netboot);
    }
    let theirs = boot(
        "uboot-dnsmasq",
        Firmware::Uboot,
        SCRIPT_MARKER,
        |lab, root| {
            arm::mkimage_script(
                &format!("echo {SCRIPT_MARKER} dnsmasq\n"),
                &root.join("boot.scr.uimg"),
            )?;
            Ok(arm::dnsmasq_reference(lab, root, "boot.scr.uimg"))
        },
    );
    if let Some(wire) = &theirs.wire {
        check_uboot_wire(wire, Server::Dnsmasq);
    }
    println!(
        "U-Boot default flow to the script's marker: netboot {:.1} s, dnsmasq {:.1} s",
        ours.seconds, theirs.seconds
    );
}

#[test]
fn uboot_arm64_pxe_flow_gets_its_rendered_pxelinux_cfg() {
    let ours = boot(
        "uboot-pxe-netboot",
        Firmware::Uboot,
        PXE_MARKER,
        netboot_with_profile(uboot_profile("pxe get; pxe boot")),
    );
    let line = line_with(&ours.serial, PXE_MARKER);
    assert!(line.starts_with("1:\t"), "U-Boot's label line: {line:?}");
    if let Some(wire) = &ours.wire {
        let files = wire.requested_files();
        // the first name U-Boot asks for is the MAC's, which the profile renders
        let first = files.iter().find(|f| f.starts_with("pxelinux.cfg/"));
        let mac = first.and_then(|f| f.strip_prefix("pxelinux.cfg/01-"));
        assert!(mac.is_some_and(|m| line.contains(m)), "{files:?} {line:?}");
    }
    let theirs = boot(
        "uboot-pxe-dnsmasq",
        Firmware::Uboot,
        PXE_MARKER,
        |lab, root| {
            arm::mkimage_script("pxe get; pxe boot\n", &root.join("boot.scr.uimg"))?;
            let dir = arm::empty_dir(root.join("pxelinux.cfg"));
            let label = format!("{PXE_MARKER}-dnsmasq");
            write(
                &dir,
                "default",
                &format!("default {label}\nlabel {label}\n"),
            )?;
            Ok(arm::dnsmasq_reference(lab, root, "boot.scr.uimg"))
        },
    );
    println!(
        "U-Boot pxe flow to the label: netboot {:.1} s, dnsmasq {:.1} s",
        ours.seconds, theirs.seconds
    );
}

/// The root as a lab lays it out for ARM64 UEFI: Debian's signed
/// `grubaa64.efi` at the top, its prefix directory with a `grub.cfg` that
/// echoes the marker.
fn arm64_uefi_root(root: &Path) -> Result<(), String> {
    let from = Path::new(arm::INSTALLER_ARM64).join("debian-installer/arm64/grubaa64.efi");
    std::fs::copy(&from, root.join("grubaa64.efi"))
        .map_err(|e| format!("{}: {e}", from.display()))?;
    let prefix = arm::empty_dir(root.join("debian-installer/arm64/grub"));
    write(
        &prefix,
        "grub.cfg",
        &format!("echo {GRUB_MARKER} $net_default_mac\nsleep 30\n"),
    )
}

#[test]
fn aavmf_arm64_uefi_boots_grub_with_no_flags() {
    let ours = boot(
        "aavmf-netboot",
        Firmware::Aavmf,
        GRUB_MARKER,
        |lab, root| {
            arm64_uefi_root(root)?;
            Ok(arm::netboot(
                lab,
                root,
                &arm::empty_dir(lab.path("no-profiles")),
            ))
        },
    );
    if let Some(wire) = &ours.wire {
        let first = wire.requests().next().expect("a DHCP request");
        assert_eq!(first.arch(), Some(11), "AAVMF is ARM64 UEFI");
        let offered: Vec<String> = wire.replies_to(first.xid).map(|r| r.boot_file()).collect();
        assert!(offered.iter().any(|f| f == "grubaa64.efi"), "{offered:?}");
    }
    let theirs = boot(
        "aavmf-dnsmasq",
        Firmware::Aavmf,
        GRUB_MARKER,
        |lab, root| {
            arm64_uefi_root(root)?;
            Ok(arm::dnsmasq_reference(lab, root, "grubaa64.efi"))
        },
    );
    println!(
        "AAVMF to GRUB's marker: netboot {:.1} s, dnsmasq {:.1} s",
        ours.seconds, theirs.seconds
    );
}

/// Case 8 to the end: the same GRUB boots the arm64 installer's kernel and
/// initrd (73 MB over GRUB's TFTP) to `/init`. Over a minute under TCG, so
/// `#[ignore]`d: `cargo test --test pxe_boot_arm -- --ignored`.
#[test]
#[ignore]
fn aavmf_arm64_uefi_boots_the_debian_installer_to_init() {
    const INIT: &str = "Run /init as init process";
    let installer = |root: &Path| -> Result<(), String> {
        arm64_uefi_root(root)?;
        let from = Path::new(arm::INSTALLER_ARM64).join("debian-installer/arm64");
        let to = root.join("debian-installer/arm64");
        for name in ["linux", "initrd.gz"] {
            std::fs::copy(from.join(name), to.join(name)).map_err(|e| format!("{name}: {e}"))?;
        }
        write(
            &to.join("grub"),
            "grub.cfg",
            "linux /debian-installer/arm64/linux console=ttyAMA0 loglevel=7 ---\n\
             initrd /debian-installer/arm64/initrd.gz\nboot\n",
        )
    };
    let ours = boot(
        "aavmf-installer-netboot",
        Firmware::Aavmf,
        INIT,
        |lab, root| {
            installer(root)?;
            Ok(arm::netboot(
                lab,
                root,
                &arm::empty_dir(lab.path("no-profiles")),
            ))
        },
    );
    let theirs = boot(
        "aavmf-installer-dnsmasq",
        Firmware::Aavmf,
        INIT,
        |lab, root| {
            installer(root)?;
            Ok(arm::dnsmasq_reference(lab, root, "grubaa64.efi"))
        },
    );
    println!(
        "AAVMF to the installer's /init: netboot {:.1} s, dnsmasq {:.1} s",
        ours.seconds, theirs.seconds
    );
}
