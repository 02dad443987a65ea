//! The DHCP + TFTP server under test, started inside the lab namespace, and the
//! TFTP root it serves.
//!
//! `server_command` is the one place that knows how each server is started:
//! netboot (`netboot serve`) or dnsmasq, kept as a reference that proves the
//! harness and the firmware work independently of netboot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::lab::{Lab, BRIDGE, RANGE_FIRST, RANGE_LAST, SERVER_IP};
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
const FIXTURES: &[&str] = &["boot.ipxe", "pxelinux.cfg/default", "marker.txt"];

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
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Netboot => "netboot",
            ServerKind::Dnsmasq => "dnsmasq",
            ServerKind::DnsmasqNetbootTftp => "dnsmasq-netboot-tftp",
        }
    }

    /// Whether dnsmasq is part of this setup.
    pub fn uses_dnsmasq(self) -> bool {
        self != ServerKind::Netboot
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
/// This is the one place that knows how each server is started.
pub fn server_commands(kind: ServerKind, lab: &Lab, root: &Path) -> Vec<Launch> {
    match kind {
        ServerKind::Netboot => vec![netboot_serve(lab, root)],
        ServerKind::Dnsmasq => vec![dnsmasq(lab, Some(root))],
        ServerKind::DnsmasqNetbootTftp => vec![dnsmasq(lab, None), netboot_tftp(lab, root)],
    }
}

fn netboot_serve(lab: &Lab, root: &Path) -> Launch {
    let mut cmd = lab.ns.command(env!("CARGO_BIN_EXE_netboot"));
    cmd.args(["serve", "--interface", BRIDGE, "--root"])
        .arg(root)
        .args(["--range", &format!("{RANGE_FIRST}-{RANGE_LAST}")])
        .args(["--boot-bios", BOOT_BIOS, "--boot-uefi", BOOT_UEFI])
        .args(["--boot-ipxe", BOOT_IPXE, "--state-dir"])
        .arg(lab.path("state"))
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1");
    let ready = &["DHCP listening on", "TFTP listening on"];
    Launch {
        name: "netboot",
        command: cmd,
        ready,
    }
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

/// dnsmasq as DHCP server, and as TFTP server when `tftp_root` is given.
fn dnsmasq(lab: &Lab, tftp_root: Option<&Path>) -> Launch {
    let mut cmd = lab.ns.command("dnsmasq");
    cmd.args(["-d", "--port=0", "--conf-file=/dev/null", "--leasefile-ro"])
        .args(["--pid-file=", "--log-facility=-", "--log-dhcp"])
        .arg(format!("--interface={BRIDGE}"))
        .arg("--bind-interfaces")
        .arg(format!(
            "--dhcp-range={RANGE_FIRST},{RANGE_LAST},255.255.255.0"
        ))
        .arg("--dhcp-match=set:ipxe,175")
        .arg("--dhcp-match=set:efi,option:client-arch,7")
        .arg("--dhcp-match=set:efi,option:client-arch,9")
        .arg(format!("--dhcp-boot=tag:ipxe,{BOOT_IPXE},,{SERVER_IP}"))
        .arg(format!(
            "--dhcp-boot=tag:!ipxe,tag:efi,{BOOT_UEFI},,{SERVER_IP}"
        ))
        .arg(format!(
            "--dhcp-boot=tag:!ipxe,tag:!efi,{BOOT_BIOS},,{SERVER_IP}"
        ));
    let ready: &'static [&'static str] = match tftp_root {
        Some(root) => {
            cmd.arg("--enable-tftp")
                .arg(format!("--tftp-root={}", root.display()));
            &["DHCP, IP range", "TFTP root is"]
        }
        None => &["DHCP, IP range"],
    };
    Launch {
        name: "dnsmasq",
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

    /// Stops every process, last started first.
    pub fn stop(&mut self) {
        for p in self.processes.iter_mut().rev() {
            p.stop();
        }
    }
}

/// Starts every process of `kind` and waits until each says it is ready.
pub fn start_server(kind: ServerKind, lab: &Lab, root: &Path) -> Result<Server, String> {
    let mut server = Server {
        processes: Vec::new(),
    };
    for launch in server_commands(kind, lab, root) {
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
];

/// Extra files the dnsmasq reference needs.
pub const DNSMASQ_FILES: &[(&str, &str)] = &[("/usr/sbin/dnsmasq", "dnsmasq-base")];
