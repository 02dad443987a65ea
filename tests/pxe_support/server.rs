//! The DHCP + TFTP server under test, started inside the lab namespace, and the
//! TFTP root it serves.
//!
//! `server_command` is the one place that knows how each server is started:
//! netboot (`netboot serve`) or dnsmasq, kept as a reference that proves the
//! harness and the firmware work independently of netboot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::dnsmasq::{dnsmasq, Mode};
use super::lab::{Lab, BRIDGE, NEIGHBOUR_IF, RANGE_FIRST, RANGE_LAST, SERVER_IP};
use super::process::{read_lossy, tail, Guarded};

/// Boot file for BIOS clients that are not iPXE (arch 0).
pub const BOOT_BIOS: &str = "pxelinux.0";
/// Boot file for UEFI x64 clients that are not iPXE (arch 7/9).
pub const BOOT_UEFI: &str = "ipxe.efi";
/// Script for clients that are already iPXE (user class "iPXE").
pub const BOOT_IPXE: &str = "boot.ipxe";

/// How long a server may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Binary boot files copied from the distribution at run time (never committed).
const SYSTEM_FILES: &[(&str, &str)] = &[
    ("/usr/lib/PXELINUX/pxelinux.0", "pxelinux.0"),
    ("/usr/lib/syslinux/modules/bios/ldlinux.c32", "ldlinux.c32"),
    ("/usr/lib/syslinux/modules/bios/cat.c32", "cat.c32"),
    ("/usr/lib/ipxe/ipxe.efi", "ipxe.efi"),
];

/// Text fixtures from `tests/fixtures/pxe`.
const FIXTURES: &[&str] = &[
    "boot.ipxe",
    "pxelinux.cfg/default",
    "marker.txt",
    "installer.ipxe",
];

/// The iPXE script that boots the Debian installer over HTTP.
pub const INSTALLER_IPXE: &str = "installer.ipxe";

/// The iPXE script of [`ServerKind::NetbootSanboot`].
pub const SANBOOT_IPXE: &str = "sanboot.ipxe";

/// Where debian-installer-12-netboot-amd64 puts the installer's kernel and
/// initrd.
const INSTALLER: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

/// The installer's kernel and initrd into the boot root, where
/// `installer.ipxe` names them.
fn copy_installer(root: &Path) -> Result<(), String> {
    let dir = root.join("debian-installer/amd64");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for name in ["linux", "initrd.gz"] {
        let from = Path::new(INSTALLER).join(name);
        std::fs::copy(&from, dir.join(name)).map_err(|e| {
            format!(
                "{}: {e} (install debian-installer-12-netboot-amd64)",
                from.display()
            )
        })?;
    }
    Ok(())
}

/// Which server answers DHCP and TFTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    /// `netboot serve`: DHCP and TFTP.
    Netboot,
    /// dnsmasq for both: the reference.
    Dnsmasq,
    /// dnsmasq for DHCP only, `netboot tftp` on port 69 for TFTP: proves
    /// netboot's TFTP against real firmware before `netboot serve` exists.
    DnsmasqNetbootTftp,
    /// A site DHCP server (dnsmasq, addresses only) on a neighbour host and
    /// `netboot serve --proxy` answering only the boot questions.
    NetbootProxy,
    /// The same topology with dnsmasq as the ProxyDHCP: the reference.
    DnsmasqProxy,
    /// netboot's DHCP responder (the `dhcp_lab` example) + `netboot tftp`:
    /// all netboot, before `netboot serve` wires the two together.
    NetbootParts,
    /// Site DHCP + `dhcp_lab --proxy` + `netboot tftp`.
    NetbootPartsProxy,
    /// `netboot serve` with no `boot.ipxe` anywhere: iPXE gets the script
    /// netboot writes itself.
    NetbootNoScript,
    /// `netboot serve` sending iPXE `installer.ipxe`, which boots the Debian
    /// installer's kernel and initrd, fetched over HTTP.
    NetbootInstaller,
    /// `netboot serve` with no `boot.ipxe` and a Debian installer ISO in the
    /// root: iPXE boots it from the catalogue's menu (a profile for every
    /// machine picks the entry).
    NetbootCatalogue,
    /// `netboot serve` with no boot-file flags and no profile: a Debian
    /// installer ISO with Debian's signed shim, GRUB and kernel in the root
    /// beside `ipxe.efi`; a UEFI machine gets the ISO's shim
    /// (tests/pxe_boot_secure.rs).
    #[allow(dead_code)]
    NetbootSecureBoot,
    /// `netboot serve` sending iPXE `sanboot.ipxe` (the test writes it and
    /// the disk image it names into the root; tests/pxe_boot_sanboot.rs).
    #[allow(dead_code)]
    NetbootSanboot,
}

/// The ISO's name in the root for [`ServerKind::NetbootCatalogue`].
pub const CATALOGUE_ISO: &str = "debian-12-netinst.iso";

/// [`ServerKind::NetbootCatalogue`]'s ISO moved into the root of the
/// running `server` (as a user drops it in), once the catalogue lists it.
#[allow(dead_code)] // tests/pxe_boot.rs, tests/catalogue_bench.rs
pub fn drop_in_catalogue_iso(lab: &Lab, root: &Path, server: &mut Server) -> Result<(), String> {
    let built = lab.path("iso-work").join(CATALOGUE_ISO);
    std::fs::rename(&built, root.join(CATALOGUE_ISO))
        .map_err(|e| format!("{}: {e}", built.display()))?;
    let added = format!("entry={CATALOGUE_ISO}");
    server.wait_for_log(&["catalogue: ISO added", &added], Duration::from_secs(20))
}

/// Every machine boots the ISO's installer, with the serial console (and
/// the kernel's messages: the disc's own arguments say `quiet`).
const CATALOGUE_PROFILE: &str = "name: lab\nmatch: {default: true}\n\
    menu:\n  entry: debian-12-netinst.iso\n  args: console=ttyS0,115200n8 loglevel=7\n";

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Netboot => "netboot",
            ServerKind::Dnsmasq => "dnsmasq",
            ServerKind::DnsmasqNetbootTftp => "dnsmasq-netboot-tftp",
            ServerKind::NetbootProxy => "netboot-proxy",
            ServerKind::DnsmasqProxy => "dnsmasq-proxy",
            ServerKind::NetbootParts => "netboot-parts",
            ServerKind::NetbootPartsProxy => "netboot-parts-proxy",
            ServerKind::NetbootNoScript => "netboot-no-script",
            ServerKind::NetbootInstaller => "netboot-installer",
            ServerKind::NetbootCatalogue => "netboot-catalogue",
            ServerKind::NetbootSanboot => "netboot-sanboot",
            ServerKind::NetbootSecureBoot => "netboot-secure-boot",
        }
    }

    /// Whether a separate site DHCP server hands out the addresses.
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            ServerKind::NetbootProxy | ServerKind::DnsmasqProxy | ServerKind::NetbootPartsProxy
        )
    }

    /// Whether dnsmasq is part of this setup.
    pub fn uses_dnsmasq(self) -> bool {
        !matches!(
            self,
            ServerKind::Netboot
                | ServerKind::NetbootParts
                | ServerKind::NetbootNoScript
                | ServerKind::NetbootInstaller
                | ServerKind::NetbootCatalogue
                | ServerKind::NetbootSanboot
                | ServerKind::NetbootSecureBoot
        )
    }
}

/// One process of a server setup: its name, command and the lines it prints
/// once ready.
pub struct Launch {
    pub name: &'static str,
    pub command: Command,
    pub ready: &'static [&'static str],
}

/// The processes that make up `kind` on the lab bridge, serving `root`.
/// This is the one place that knows how each server is started. Proxy setups
/// need the lab's neighbour namespace (`Lab::add_neighbour`).
pub fn server_commands(kind: ServerKind, lab: &Lab, root: &Path) -> Result<Vec<Launch>, String> {
    let site_dhcp = || -> Result<Launch, String> {
        let nb = lab
            .neighbour
            .as_ref()
            .ok_or("proxy setup needs the neighbour")?;
        let mut launch = dnsmasq(nb.command("dnsmasq"), Mode::SiteDhcp, NEIGHBOUR_IF);
        launch.name = "site-dhcp";
        Ok(launch)
    };
    let ours = |mode| dnsmasq(lab.ns.command("dnsmasq"), mode, BRIDGE);
    Ok(match kind {
        ServerKind::Netboot => vec![netboot_serve(lab, root, false)],
        ServerKind::NetbootInstaller => {
            copy_installer(root)?;
            vec![netboot_serve_with(
                lab,
                root,
                false,
                Some(INSTALLER_IPXE),
                None,
            )]
        }
        ServerKind::NetbootSanboot => {
            vec![netboot_serve_with(
                lab,
                root,
                false,
                Some(SANBOOT_IPXE),
                None,
            )]
        }
        ServerKind::NetbootNoScript => {
            std::fs::remove_file(root.join(BOOT_IPXE)).map_err(|e| format!("{e}"))?;
            vec![netboot_serve_with(lab, root, false, None, None)]
        }
        ServerKind::NetbootCatalogue => {
            std::fs::remove_file(root.join(BOOT_IPXE)).map_err(|e| format!("{e}"))?;
            // built beside the root; [`drop_in_catalogue_iso`] moves it in
            let work = empty_dir(lab.path("iso-work"));
            let iso = super::iso::debian_installer_iso(&work)?;
            std::fs::rename(&iso, work.join(CATALOGUE_ISO)).map_err(|e| e.to_string())?;
            let profiles = empty_dir(lab.path("catalogue-profiles"));
            std::fs::write(profiles.join("lab.yaml"), CATALOGUE_PROFILE)
                .map_err(|e| e.to_string())?;
            vec![netboot_serve_with(lab, root, false, None, Some(profiles))]
        }
        ServerKind::NetbootSecureBoot => vec![super::zero_config::launch(lab, root)?],
        ServerKind::Dnsmasq => vec![ours(Mode::Full(root))],
        ServerKind::DnsmasqNetbootTftp => vec![ours(Mode::BootDhcp), netboot_tftp(lab, root)],
        ServerKind::NetbootProxy => vec![site_dhcp()?, netboot_serve(lab, root, true)],
        ServerKind::DnsmasqProxy => vec![site_dhcp()?, ours(Mode::Proxy(root))],
        ServerKind::NetbootParts => vec![dhcp_lab(lab, false)?, netboot_tftp(lab, root)],
        ServerKind::NetbootPartsProxy => {
            vec![site_dhcp()?, dhcp_lab(lab, true)?, netboot_tftp(lab, root)]
        }
    })
}

pub(super) fn empty_dir(path: PathBuf) -> PathBuf {
    let _ = std::fs::create_dir_all(&path);
    path
}

fn netboot_serve(lab: &Lab, root: &Path, proxy: bool) -> Launch {
    netboot_serve_with(lab, root, proxy, Some(BOOT_IPXE), None)
}

/// `netboot serve` on the bridge; `ipxe` is the `--boot-ipxe` given, if any.
/// No profiles unless given: every client gets the `--boot-*` files.
fn netboot_serve_with(
    lab: &Lab,
    root: &Path,
    proxy: bool,
    ipxe: Option<&str>,
    profiles: Option<PathBuf>,
) -> Launch {
    let mut extra = vec!["--boot-bios", BOOT_BIOS, "--boot-uefi", BOOT_UEFI];
    if let Some(script) = ipxe {
        extra.extend(["--boot-ipxe", script]);
    }
    if proxy {
        extra.push("--proxy");
    }
    let profiles = profiles.unwrap_or_else(|| empty_dir(lab.path("no-profiles")));
    serve_command(lab, root, &profiles, &extra)
}

/// `netboot serve -v` on the lab's bridge serving `root` with the profiles
/// in `profiles`, its state in the lab's `state`, the lab's range unless
/// `extra` (more flags) holds `--proxy`; run from the lab's scratch dir so
/// no `netboot.yaml` or `profiles/` of the checkout applies.
pub fn serve_command(lab: &Lab, root: &Path, profiles: &Path, extra: &[&str]) -> Launch {
    let mut cmd = lab.ns.command(env!("CARGO_BIN_EXE_netboot"));
    cmd.args(["serve", "--interface", BRIDGE, "--root"])
        .arg(root)
        .arg("--state-dir")
        .arg(lab.path("state"))
        .arg("-v")
        .arg("--profiles")
        .arg(profiles)
        .args(extra)
        .current_dir(lab.dir())
        .env("NO_COLOR", "1");
    if !extra.contains(&"--proxy") {
        cmd.args(["--range", &format!("{RANGE_FIRST}-{RANGE_LAST}")]);
    }
    Launch {
        name: "netboot",
        command: cmd,
        ready: &["DHCP listening on", "TFTP listening on"],
    }
}

/// netboot's DHCP responder through the `dhcp_lab` example binary, which
/// cargo builds beside the test executable.
fn dhcp_lab(lab: &Lab, proxy: bool) -> Result<Launch, String> {
    let exe = std::env::current_exe().map_err(|e| format!("test executable: {e}"))?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("examples").join("dhcp_lab"))
        .filter(|bin| bin.exists())
        .ok_or("examples/dhcp_lab missing: run `cargo build --example dhcp_lab`")?;
    let mut cmd = lab.ns.command(bin);
    cmd.args(["--interface", BRIDGE, "--server-ip", SERVER_IP])
        .args([
            "--bios",
            BOOT_BIOS,
            "--uefi-x64",
            BOOT_UEFI,
            "--ipxe",
            BOOT_IPXE,
        ])
        .arg("--state-dir")
        .arg(lab.path("state"))
        .env("RUST_LOG", "debug");
    if proxy {
        cmd.arg("--proxy");
    } else {
        cmd.args(["--subnet", "10.77.0.0/24"])
            .args(["--range", &format!("{RANGE_FIRST}-{RANGE_LAST}")]);
    }
    Ok(Launch {
        name: "netboot-dhcp",
        command: cmd,
        ready: &["dhcp listening on"],
    })
}

fn netboot_tftp(lab: &Lab, root: &Path) -> Launch {
    let mut cmd = lab.ns.command(env!("CARGO_BIN_EXE_netboot"));
    cmd.args(["tftp", "--address", &format!("{SERVER_IP}:69"), "-v"])
        .arg(root)
        .env("NO_COLOR", "1");
    let ready = &["TFTP listening on"];
    Launch {
        name: "netboot-tftp",
        command: cmd,
        ready,
    }
}

/// The running processes of one server setup, stopped when dropped.
pub struct Server {
    processes: Vec<Guarded>,
}

impl Server {
    /// The last lines of every process's log, for failure reports.
    pub fn log_tail(&self, lines: usize) -> String {
        self.processes
            .iter()
            .map(|p| {
                format!(
                    "[{}]\n{}",
                    p.log().display(),
                    tail(&read_lossy(p.log()), lines)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until the last process started prints every one of `needles`.
    #[allow(dead_code)] // tests/pxe_boot_secure.rs
    pub fn wait_for_log(&mut self, needles: &[&str], timeout: Duration) -> Result<(), String> {
        match self.processes.last_mut() {
            Some(p) => p.wait_for_log(needles, timeout).map(|_| ()),
            None => Err("no server process".into()),
        }
    }

    /// Stops every process, last started first.
    pub fn stop(&mut self) {
        for p in self.processes.iter_mut().rev() {
            p.stop();
        }
    }
}

/// Starts every process of `kind` and waits until each says it is ready.
pub fn start_server(kind: ServerKind, lab: &Lab, root: &Path) -> Result<Server, String> {
    start_launches(lab, server_commands(kind, lab, root)?)
}

/// Starts each launch in turn and waits until each says it is ready.
pub fn start_launches(lab: &Lab, launches: Vec<Launch>) -> Result<Server, String> {
    let mut server = Server {
        processes: Vec::new(),
    };
    for launch in launches {
        let log = lab.path(&format!("{}.log", launch.name));
        let mut process = Guarded::spawn(launch.name, launch.command, &log)?;
        process.wait_for_log(launch.ready, READY_TIMEOUT)?;
        server.processes.push(process);
    }
    Ok(server)
}

/// Fills `<lab>/root` with the boot loaders and the text fixtures.
pub fn make_boot_root(lab: &Lab) -> Result<PathBuf, String> {
    let root = lab.path("root");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pxe");
    let copies = SYSTEM_FILES
        .iter()
        .map(|(from, to)| (PathBuf::from(from), root.join(to)))
        .chain(FIXTURES.iter().map(|f| (fixtures.join(f), root.join(f))));
    for (from, to) in copies {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        }
        std::fs::copy(&from, &to).map_err(|e| format!("copy {}: {e}", from.display()))?;
    }
    Ok(root)
}

/// Distribution files a boot needs, with the Debian package that ships each.
pub const REQUIRED_FILES: &[(&str, &str)] = &[
    ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
    ("/usr/lib/ipxe/qemu/pxe-e1000.rom", "ipxe-qemu"),
    (super::vm::OVMF_CODE, "ovmf"),
    (super::vm::OVMF_VARS, "ovmf"),
    ("/usr/lib/ipxe/ipxe.efi", "ipxe"),
    ("/usr/lib/PXELINUX/pxelinux.0", "pxelinux"),
    (
        "/usr/lib/syslinux/modules/bios/ldlinux.c32",
        "syslinux-common",
    ),
    ("/usr/lib/syslinux/modules/bios/cat.c32", "syslinux-common"),
    // the installer booted over HTTP, and the ISO the catalogue tests build
    (
        "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux",
        "debian-installer-12-netboot-amd64",
    ),
    ("/usr/bin/xorriso", "xorriso"),
    ("/usr/lib/ISOLINUX/isolinux.bin", "isolinux"),
    ("/usr/bin/mcopy", "mtools"),
    ("/usr/sbin/mkfs.vfat", "dosfstools"),
];
