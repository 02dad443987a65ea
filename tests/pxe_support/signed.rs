#![allow(dead_code)] // each test crate uses a part
//! Boots through the signed chain `boot-images/fill.sh` puts in the root
//! (Debian's signed shim `shimx64.efi` and GRUB `grubx64.efi`), from
//! netboot with the shipped example profiles and no boot-file flag, or from
//! dnsmasq configured by hand as its users must (boot file, a hand-written
//! `grub.cfg` where Debian's netboot GRUB looks for it, the installer's
//! files copied in). One function per boot, returning the seconds from VM
//! start to the marker, for the tests and the firmware suite alike.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::lab::{Lab, SERVER_IP};
use super::machine::Machine;
use super::process::{read_lossy, tail, Guarded};
use super::server::{empty_dir, CATALOGUE_ISO};
use super::vm::{Firmware, Vm};
use super::wire::Wire;
use super::{keep_artifacts, Capture};

/// A MAC no example profile names (`ipxe-chain.yaml` claims 52:54:00:*),
/// so the VM gets the server's defaults.
pub const FRESH_MAC: &str = "02:77:00:00:00:10";
/// A MAC `ipxe-chain.yaml` gives `ipxe.efi` (unsigned) to.
pub const IPXE_CHAIN_MAC: &str = "52:54:00:77:00:20";

/// Said by netboot's generated `grub.cfg` (and, for the reference, the
/// hand-written one) once GRUB has read it.
pub const GRUB_MARKER: &str = "GRUB read the";
/// The installer's initrd unpacked and running.
pub const INIT_LINE: &str = "Run /init as init process";
/// The kernel's line when the firmware booted it with Secure Boot on.
pub const SECURE_BOOT_LINE: &str = "Secure boot enabled";
/// GRUB's menu from netboot says this when GRUB runs locked down (the
/// hand-written one for dnsmasq too).
pub const LOCKDOWN_LINE: &str = "Secure Boot is on";
/// OVMF's words when Secure Boot refuses an image.
pub const REFUSED_LINE: &str = "Access Denied";

/// Where Debian's installer netboot files are.
const INSTALLER: &str = super::iso::INSTALLER;
/// Where the installer's netboot GRUB (fill.sh's `grubx64.efi` when it
/// comes from debian-installer-12-netboot-amd64) reads its menu.
const DI_GRUB_CFG: &str = "debian-installer/amd64/grub/grub.cfg";
/// The same for ARM64 (fill.sh's `grubaa64.efi`).
const DI_ARM64_GRUB_CFG: &str = "debian-installer/arm64/grub/grub.cfg";
/// The same for the GRUB of grub-efi-amd64-signed (`grubnetx64.efi.signed`).
const PKG_GRUB_CFG: &str = "grub/grub.cfg";

/// The server a boot runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Netboot,
    Dnsmasq,
}

/// The boots through the signed chain (issue 14's cases 3, 5, 6 and the
/// negative control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// 3: OVMF PXE → shim → GRUB → a line of its `grub.cfg`.
    GrubMenu,
    /// 5: the Debian installer to `/init` via shim and GRUB.
    Installer,
    /// 6: the same with Secure Boot on.
    InstallerSecure,
    /// 6's negative control: `ipxe.efi` given by a profile, Secure Boot on.
    UnsignedRefused,
    /// AAVMF PXE (arch 11) → `shimaa64.efi` → `grubaa64.efi` → its menu.
    Arm64GrubMenu,
    /// The same with Secure Boot on (AAVMF with Microsoft's keys).
    Arm64GrubMenuSecure,
}

impl Case {
    pub fn name(self) -> &'static str {
        match self {
            Case::GrubMenu => "signed-grub-menu",
            Case::Installer => "signed-installer",
            Case::InstallerSecure => "signed-installer-secure-boot",
            Case::UnsignedRefused => "unsigned-ipxe-refused",
            Case::Arm64GrubMenu => "arm64-signed-grub-menu",
            Case::Arm64GrubMenuSecure => "arm64-signed-grub-menu-secure-boot",
        }
    }

    fn secure(self) -> bool {
        matches!(
            self,
            Case::InstallerSecure | Case::UnsignedRefused | Case::Arm64GrubMenuSecure
        )
    }

    fn arm64(self) -> bool {
        matches!(self, Case::Arm64GrubMenu | Case::Arm64GrubMenuSecure)
    }

    fn markers(self) -> &'static [&'static str] {
        match self {
            Case::GrubMenu | Case::Arm64GrubMenu => &[GRUB_MARKER],
            Case::Arm64GrubMenuSecure => &[LOCKDOWN_LINE, GRUB_MARKER],
            Case::Installer => &[INIT_LINE],
            Case::InstallerSecure => &[SECURE_BOOT_LINE, INIT_LINE],
            Case::UnsignedRefused => &[REFUSED_LINE],
        }
    }

    fn mac(self) -> &'static str {
        match self {
            Case::UnsignedRefused => IPXE_CHAIN_MAC,
            _ => FRESH_MAC,
        }
    }
}

/// What one boot left behind.
pub struct Outcome {
    /// Seconds from VM start to the last marker, or why it failed.
    pub result: Result<Duration, String>,
    pub serial: String,
    pub log: String,
    pub wire: Option<Wire>,
}

/// Fills `<lab>/root` with `boot-images/fill.sh --no-install` (and the
/// `backups/` directory the example profiles upload to).
pub fn fill_root(lab: &Lab) -> Result<PathBuf, String> {
    let root = lab.path("root");
    let fill = Path::new(env!("CARGO_MANIFEST_DIR")).join("boot-images/fill.sh");
    let out = Command::new("bash")
        .arg(&fill)
        .arg("--no-install")
        .arg(&root)
        .output()
        .map_err(|e| format!("{}: {e}", fill.display()))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("fill.sh failed:\n{text}"));
    }
    for f in ["shimx64.efi", "grubx64.efi"] {
        if !root.join(f).is_file() {
            return Err(format!(
                "fill.sh copied no {f} (install debian-installer-12-netboot-amd64):\n{text}"
            ));
        }
    }
    std::fs::create_dir_all(root.join("backups")).map_err(|e| e.to_string())?;
    Ok(root)
}

/// Boots `case` from `server`; `name` labels logs and artifacts.
pub fn boot(case: Case, server: Server) -> Outcome {
    let name = format!("{}-{}", case.name(), server_name(server));
    let failed = |e: String| Outcome {
        result: Err(e),
        serial: String::new(),
        log: String::new(),
        wire: None,
    };
    let lab = match Lab::new() {
        Ok(lab) => lab,
        Err(e) => return failed(format!("{name}: lab: {e}")),
    };
    let root =
        match fill_root(&lab).and_then(|root| prepare(case, server, &lab, &root).map(|_| root)) {
            Ok(root) => root,
            Err(e) => return failed(format!("{name}: {e}")),
        };
    let capture = Capture::start(&lab);
    let log_path = lab.path(&format!("{}.log", server_name(server)));
    let mut process = match launch(case, server, &lab, &root).and_then(|(cmd, ready)| {
        let mut p = Guarded::spawn(server_name(server), cmd, &log_path)?;
        p.wait_for_log(ready, Duration::from_secs(30))?;
        Ok(p)
    }) {
        Ok(p) => p,
        Err(e) => return failed(format!("{name}: {e}")),
    };
    if let Err(e) = pick_installer(case, server, &lab, &root) {
        process.stop();
        return failed(format!("{name}: {e}"));
    }
    let started = Instant::now();
    let vm = if case.arm64() {
        Machine::arm64(&lab, case.secure(), case.mac())
    } else if case.secure() {
        Vm::start_secure_boot_as(&lab, 1024, case.mac()).map(Machine::X86)
    } else {
        Vm::start_as(&lab, Firmware::Uefi, 1024, case.mac()).map(Machine::X86)
    };
    let mut vm = match vm {
        Ok(vm) => vm,
        Err(e) => {
            process.stop();
            return failed(format!("{name}: {e}"));
        }
    };
    let mut result = Ok(Duration::ZERO);
    for marker in case.markers() {
        result = vm.wait_for(marker).map(|_| started.elapsed());
        if result.is_err() {
            break;
        }
    }
    vm.stop();
    process.stop();
    let wire = capture.finish();
    let summary = wire.as_ref().map(Wire::summary).unwrap_or_default();
    keep_artifacts(&lab, &name, &format!("{result:?}\n{summary}"));
    Outcome {
        result,
        serial: vm.serial(),
        log: read_lossy(&log_path),
        wire,
    }
}

fn server_name(server: Server) -> &'static str {
    match server {
        Server::Netboot => "netboot",
        Server::Dnsmasq => "dnsmasq",
    }
}

/// What each server needs in the root beyond fill.sh's files: for netboot
/// the installer ISO (cases 5, 6); for dnsmasq the hand-written `grub.cfg`
/// and, for the installer, its kernel and initrd.
fn prepare(case: Case, server: Server, lab: &Lab, root: &Path) -> Result<(), String> {
    let installer = matches!(case, Case::Installer | Case::InstallerSecure);
    match server {
        Server::Netboot if installer => {
            let work = empty_dir(lab.path("iso-work"));
            let iso = super::iso::debian_installer_iso_with(&work, super::zero_config::ISO_ARGS)?;
            std::fs::rename(&iso, root.join(CATALOGUE_ISO)).map_err(|e| e.to_string())
        }
        Server::Netboot => Ok(()),
        Server::Dnsmasq => {
            if installer {
                let dir = root.join("debian-installer/amd64");
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                for f in ["linux", "initrd.gz"] {
                    std::fs::copy(Path::new(INSTALLER).join(f), dir.join(f))
                        .map_err(|e| format!("{INSTALLER}/{f}: {e}"))?;
                }
            }
            let cfg = hand_written_grub_cfg(installer);
            for path in [DI_GRUB_CFG, DI_ARM64_GRUB_CFG, PKG_GRUB_CFG] {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
                std::fs::write(&path, &cfg).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
    }
}

/// The `grub.cfg` a dnsmasq user writes: the installer, or the local disk.
fn hand_written_grub_cfg(installer: bool) -> String {
    let mut cfg = format!(
        "set timeout=5\nif [ \"$lockdown\" = \"y\" ]; then\n  \
         echo 'dnsmasq lab: {LOCKDOWN_LINE}'\nfi\n\
         echo 'dnsmasq lab: {GRUB_MARKER} hand-written grub.cfg'\n"
    );
    if installer {
        cfg.push_str(&format!(
            "set timeout=0\nmenuentry 'Debian installer' {{\n  linux /debian-installer/amd64/linux {}\n  initrd /debian-installer/amd64/initrd.gz\n}}\n",
            super::zero_config::ISO_ARGS
        ));
    }
    cfg.push_str("menuentry 'Local disk' {\n  exit\n}\n");
    cfg
}

/// The server's command and the lines it prints once ready. netboot: the
/// shipped example profiles, no boot-file flag. dnsmasq: UEFI x64 PXE
/// clients get `shimx64.efi` (the VM of the negative control `ipxe.efi`).
fn launch(
    case: Case,
    server: Server,
    lab: &Lab,
    root: &Path,
) -> Result<(Command, &'static [&'static str]), String> {
    match server {
        Server::Netboot => {
            let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
            let launch = super::serve_command(lab, root, &profiles, &[]);
            Ok((launch.command, launch.ready))
        }
        Server::Dnsmasq => {
            let file = match case {
                Case::UnsignedRefused => "ipxe.efi",
                _ => "shimx64.efi",
            };
            let boot = [
                "--dhcp-match=set:efi,option:client-arch,7".to_string(),
                "--dhcp-match=set:efi,option:client-arch,9".to_string(),
                "--dhcp-match=set:arm64,option:client-arch,11".to_string(),
                format!("--dhcp-boot=tag:efi,{file},,{SERVER_IP}"),
                format!("--dhcp-boot=tag:arm64,shimaa64.efi,,{SERVER_IP}"),
            ];
            let launch = super::dnsmasq::by_hand(lab, root, &boot);
            Ok((launch.command, launch.ready))
        }
    }
}

/// netboot: `netboot next` picks the ISO for the VM's one boot (the
/// generated GRUB menu boots the local disk for machines nobody picked an
/// entry for), once the catalogue holds it.
fn pick_installer(case: Case, server: Server, lab: &Lab, root: &Path) -> Result<(), String> {
    if server != Server::Netboot || !matches!(case, Case::Installer | Case::InstallerSecure) {
        return Ok(());
    }
    let log = lab.path("netboot.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !read_lossy(&log).contains("image catalogue entries=1") {
        if Instant::now() > deadline {
            return Err(format!(
                "the catalogue did not list the ISO:\n{}",
                tail(&read_lossy(&log), 40)
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_netboot"))
        .args(["next", FRESH_MAC, CATALOGUE_ISO, "--root"])
        .arg(root)
        .arg("--state-dir")
        .arg(lab.path("state"))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "netboot next: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
