//! PXE over IPv6 (issue 14, case 10): OVMF with its IPv4 PXE switched off
//! boots `ipxe.efi` over DHCPv6 + TFTP on IPv6, on an IPv6-only link where
//! the server is the only DHCPv6 server and the only source of router
//! advertisements.
//!
//! IPv6 is switched on inside the lab's namespace only (no duplicate
//! address detection, so the server's ULA is usable at once). netboot gets
//! the `dhcp6:` section of `netboot.yaml` and no flag beyond the lab's;
//! dnsmasq is configured by hand as its users must (a DHCPv6 range,
//! `enable-ra`, option 59 by hand for the firmware and for iPXE).
#![allow(dead_code)] // only tests/pxe_boot_ipv6.rs and tests/firmware_suite.rs use these

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::dnsmasq;
use super::lab::{Lab, BRIDGE};
use super::process::{run, tail};
use super::server::{empty_dir, make_boot_root, start_launches, Launch, BOOT_IPXE, BOOT_UEFI};
use super::vm::Vm;
use super::{boot_timeout, keep_artifacts, Capture};

/// The server's unique local address on the lab bridge.
pub const SERVER_V6: &str = "fd00:99::1";
/// The DHCPv6 pool, on the server's /64.
pub const V6_FIRST: &str = "fd00:99::100";
pub const V6_LAST: &str = "fd00:99::1ff";

/// What `boot.ipxe` prints once iPXE runs it.
pub const MARKER: &str = "NETBOOT-IPXE-MARKER platform=efi";

/// Which server the VM boots from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V6Server {
    /// `netboot serve` with `dhcp6: {range: ...}` in netboot.yaml.
    Netboot,
    /// dnsmasq configured by hand for DHCPv6, RAs and TFTP.
    Dnsmasq,
}

impl V6Server {
    pub fn name(self) -> &'static str {
        match self {
            V6Server::Netboot => "netboot",
            V6Server::Dnsmasq => "dnsmasq",
        }
    }
}

/// One boot: seconds to the marker (or why not), the serial console, the
/// server's log and the capture's summary.
pub struct Outcome {
    pub result: Result<Duration, String>,
    pub serial: String,
    pub log: String,
}

/// Boots OVMF over IPv6 from `server` to [`MARKER`]; the caller holds the
/// boot lock and has checked the prerequisites.
pub fn boot(server: V6Server) -> Outcome {
    let name = format!("ipv6-{}", server.name());
    let mut serial = String::new();
    let mut log = String::new();
    let result = (|| -> Result<Duration, String> {
        let lab = Lab::new()?;
        ipv6_on(&lab)?;
        let root = make_boot_root(&lab)?;
        let capture = Capture::start(&lab);
        let launch = match server {
            V6Server::Netboot => netboot(&lab, &root)?,
            V6Server::Dnsmasq => dnsmasq_by_hand(&lab, &root),
        };
        let mut running = start_launches(&lab, vec![launch])?;
        let started = Instant::now();
        let mut vm = Vm::start_uefi_ipv6(&lab, 256)?;
        let outcome = vm
            .wait_for(MARKER, boot_timeout())
            .map(|_| started.elapsed());
        vm.stop();
        running.stop();
        serial = vm.serial();
        log = running.log_tail(400);
        let summary = capture.finish().map(|w| w.summary()).unwrap_or_default();
        keep_artifacts(&lab, &name, &format!("{outcome:?}\n{summary}"));
        outcome
    })();
    Outcome {
        result: result.map_err(|e| format!("{name}: {e}")),
        serial,
        log,
    }
}

/// IPv6 on inside the lab's namespace (no duplicate address detection) and
/// the server's ULA on the bridge, usable once this returns.
pub fn ipv6_on(lab: &Lab) -> Result<(), String> {
    for key in ["all", "default", BRIDGE] {
        for (setting, value) in [("disable_ipv6", "0"), ("accept_dad", "0")] {
            let key = format!("net.ipv6.conf.{key}.{setting}={value}");
            run(lab.ns.command("sysctl").args(["-q", "-w", &key]))?;
        }
    }
    let addr = format!("{SERVER_V6}/64");
    run(Command::new("ip")
        .args(["-n", lab.ns.name(), "-6", "addr", "add", &addr])
        .args(["dev", BRIDGE, "nodad"]))?;
    wait_for_address(lab)
}

/// Waits until the bridge's unique local address is usable (not
/// tentative). Its link-local address comes with a carrier, once qemu
/// opens the tap.
fn wait_for_address(lab: &Lab) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let text = run(Command::new("ip").args([
            "-n",
            lab.ns.name(),
            "-6",
            "addr",
            "show",
            "dev",
            BRIDGE,
        ]))?;
        if text.contains(SERVER_V6) && !text.contains("tentative") {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "the bridge's IPv6 addresses are not ready:\n{text}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `netboot serve` on the bridge with the lab's flags only and
/// `dhcp6: {range}` in the lab's `netboot.yaml` (read from the working
/// directory): the boot files are the root's usual names.
pub fn netboot(lab: &Lab, root: &Path) -> Result<Launch, String> {
    let yaml = format!("dhcp6:\n  range: {V6_FIRST}-{V6_LAST}\n");
    std::fs::write(lab.path("netboot.yaml"), yaml).map_err(|e| format!("netboot.yaml: {e}"))?;
    let profiles = empty_dir(lab.path("no-profiles"));
    let mut launch = super::serve_command(lab, root, &profiles, &[]);
    launch.ready = &["DHCP listening on", "TFTP listening on", "DHCPv6 on br0"];
    Ok(launch)
}

/// dnsmasq as its users must configure it for PXE over IPv6: the v6
/// range, router advertisements, and option 59 by hand (`ipxe.efi` for the
/// firmware, `boot.ipxe` for iPXE, told apart by its user class).
pub fn dnsmasq_by_hand(lab: &Lab, root: &Path) -> Launch {
    let url = |file: &str| format!("tftp://[{SERVER_V6}]/{file}");
    let boot = [
        format!("--dhcp-range={V6_FIRST},{V6_LAST},64"),
        "--enable-ra".to_string(),
        "--dhcp-userclass=set:ipxe6,iPXE".to_string(),
        format!(
            "--dhcp-option=tag:!ipxe6,option6:bootfile-url,{}",
            url(BOOT_UEFI)
        ),
        format!(
            "--dhcp-option=tag:ipxe6,option6:bootfile-url,{}",
            url(BOOT_IPXE)
        ),
    ];
    dnsmasq::by_hand(lab, root, &boot)
}

/// What a user checks after the boot: the firmware booted over IPv6 (and
/// never tried IPv4), netboot bound it over DHCPv6 with its boot file, sent
/// it its own router advertisement, and sent `ipxe.efi` over TFTP on IPv6.
pub fn check_netboot(outcome: &Outcome) -> Result<(), String> {
    let serial = &outcome.serial;
    let log = &outcome.log;
    let wanted = [
        (serial, ">>Start PXE over IPv6"),
        // EDK2 prints SERVER_V6 in full, upper case
        (serial, "Server IP address is FD00:99:0:0:0:0:0:1"),
        (serial, "NBP filename is ipxe.efi"),
        (log, "boot file for uefi_x64 Request"),
        (log, "router advertisement for PXE firmware sent"),
        (log, "tftp{peer=[fd00:99::"),
    ];
    for (text, needle) in wanted {
        if !text.contains(needle) {
            return Err(format!("{needle:?} is missing"));
        }
    }
    if serial.contains("PXE over IPv4") {
        return Err("the firmware tried PXE over IPv4, which was switched off".into());
    }
    let sent = log.lines().any(|l| {
        l.contains("tftp{peer=[fd00:99::")
            && l.contains("file=ipxe.efi")
            && l.contains("transfer complete")
    });
    match sent {
        true => Ok(()),
        false => Err("no complete TFTP transfer of ipxe.efi to an IPv6 peer in the log".into()),
    }
}

/// The last lines of the serial console and the server's log, for
/// failure reports.
pub fn tails(outcome: &Outcome) -> String {
    format!(
        "--- serial ---\n{}\n--- server log ---\n{}",
        tail(&outcome.serial, 40),
        tail(&outcome.log, 60)
    )
}
