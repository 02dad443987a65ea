//! The dnsmasq reference: how an instance is started for each part it
//! plays in a boot (everything, DHCP only, a site's DHCP server, ProxyDHCP).

use std::path::Path;
use std::process::Command;

use super::lab::{Lab, BRIDGE, RANGE_FIRST, RANGE_LAST, SERVER_IP};
use super::server::{Launch, BOOT_BIOS, BOOT_IPXE, BOOT_UEFI};

/// What a dnsmasq instance does.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// Addresses and boot files, TFTP from this root.
    Full(&'a Path),
    /// Addresses and boot files; TFTP is someone else's.
    BootDhcp,
    /// Addresses only: the site's DHCP server in proxy setups.
    SiteDhcp,
    /// ProxyDHCP (boot files, no addresses) and TFTP from this root.
    Proxy(&'a Path),
}

/// The lab's pool as dnsmasq's `--dhcp-range`.
fn range() -> String {
    format!("--dhcp-range={RANGE_FIRST},{RANGE_LAST},255.255.255.0")
}

/// The flags every instance starts with: in the foreground, no DNS, no
/// configuration or lease file, the log on stderr, bound to `interface`.
fn base_args(cmd: &mut Command, interface: &str) {
    cmd.args(["-d", "--port=0", "--conf-file=/dev/null", "--leasefile-ro"])
        .args(["--pid-file=", "--log-facility=-", "--log-dhcp"])
        .arg(format!("--interface={interface}"))
        .arg("--bind-interfaces");
}

/// dnsmasq on the lab's bridge configured by hand, as its users must: the
/// lab's pool, their `--dhcp-match`/`--dhcp-boot` lines (`boot`), TFTP
/// from `root`.
pub fn by_hand(lab: &Lab, root: &Path, boot: &[String]) -> Launch {
    let mut cmd = lab.ns.command("dnsmasq");
    base_args(&mut cmd, BRIDGE);
    cmd.arg(range())
        .args(boot)
        .arg("--enable-tftp")
        .arg(format!("--tftp-root={}", root.display()));
    Launch {
        name: "dnsmasq",
        command: cmd,
        ready: &["DHCP, ", "TFTP root is"],
    }
}

/// dnsmasq on `interface`, started by `cmd` (`ip netns exec NS dnsmasq`).
pub fn dnsmasq(mut cmd: Command, mode: Mode, interface: &str) -> Launch {
    base_args(&mut cmd, interface);
    match mode {
        Mode::Proxy(_) => cmd.arg("--dhcp-range=10.77.0.0,proxy,255.255.255.0"),
        _ => cmd.arg(range()),
    };
    cmd.arg("--dhcp-match=set:ipxe,175")
        .arg("--dhcp-match=set:efi,option:client-arch,7")
        .arg("--dhcp-match=set:efi,option:client-arch,9");
    match mode {
        Mode::SiteDhcp => {}
        // As ProxyDHCP, dnsmasq stays silent unless a pxe-service matches the
        // client's architecture; its BC_EFI is arch 7, X86-64_EFI arch 9.
        Mode::Proxy(_) => {
            let bios = BOOT_BIOS.trim_end_matches(".0"); // dnsmasq appends ".0"
            for (csa, file) in [
                ("x86PC", bios),
                ("BC_EFI", BOOT_UEFI),
                ("X86-64_EFI", BOOT_UEFI),
            ] {
                cmd.arg(format!("--pxe-service=tag:!ipxe,{csa},netboot,{file}"))
                    .arg(format!("--pxe-service=tag:ipxe,{csa},netboot,{BOOT_IPXE}"));
            }
        }
        Mode::Full(_) | Mode::BootDhcp => {
            let boot = |tags: &str, file: &str| format!("--dhcp-boot={tags}{file},,{SERVER_IP}");
            cmd.arg(boot("tag:ipxe,", BOOT_IPXE))
                .arg(boot("tag:!ipxe,tag:efi,", BOOT_UEFI))
                .arg(boot("tag:!ipxe,tag:!efi,", BOOT_BIOS));
        }
    }
    let ready: &'static [&'static str] = match mode {
        Mode::Full(root) | Mode::Proxy(root) => {
            cmd.arg("--enable-tftp")
                .arg(format!("--tftp-root={}", root.display()));
            &["DHCP, ", "TFTP root is"]
        }
        Mode::BootDhcp | Mode::SiteDhcp => &["DHCP, IP range"],
    };
    Launch {
        name: "dnsmasq",
        command: cmd,
        ready,
    }
}

/// Extra files the dnsmasq reference needs.
pub const DNSMASQ_FILES: &[(&str, &str)] = &[("/usr/sbin/dnsmasq", "dnsmasq-base")];
