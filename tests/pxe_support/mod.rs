//! Harness for end-to-end PXE boots: a qemu VM (BIOS or UEFI firmware) boots
//! from a DHCP + TFTP server, all inside a network namespace the test creates.
//!
//! Pieces: `lab` (namespace, bridge, tap, scratch dir), `server` (netboot or
//! the dnsmasq reference, and the TFTP root; `serve_command` is every
//! `netboot serve` on the bridge), `vm` (qemu and its serial log),
//! `pcap` + `wire` (tcpdump capture decoded into DHCP options and TFTP
//! requests), `process` (children stopped by PID on drop), `zero_config`
//! (`netboot serve` with no configuration, for the Secure Boot boot),
//! `signed` (boots through fill.sh's signed shim and GRUB, from netboot or
//! a hand-configured dnsmasq), `machine` (its x86-64 or ARM64 VM),
//! `catalogue` (roots, profiles and `netboot next` for the image catalogue's
//! boots) and `boot_sector` (the sanboot tests' boot sector). Boots run one at a time.

pub mod arm;
pub mod boot_sector;
pub mod catalogue;
pub mod dnsmasq;
pub mod ipv6;
pub mod iso;
pub mod lab;
pub mod machine;
pub mod pcap;
pub mod process;
pub mod server;
pub mod signed;
pub mod vm;
pub mod wire;
pub mod zero_config;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use dnsmasq::DNSMASQ_FILES;
use lab::{Lab, BRIDGE};
use process::Guarded;
pub use server::serve_command;
use server::{ServerKind, REQUIRED_FILES};

/// Software-emulated boots on a busy 2-core machine: generous but bounded.
/// A UEFI boot takes 35-45 s on a quiet machine; at a load average of 30 one
/// took 142 s.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// Upper bound for `NETBOOT_PXE_TIMEOUT`.
const MAX_BOOT_TIMEOUT: Duration = Duration::from_secs(900);

/// How long one boot may take: `NETBOOT_PXE_TIMEOUT` seconds (capped at
/// 900), else 240 s.
pub fn boot_timeout() -> Duration {
    std::env::var("NETBOOT_PXE_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(BOOT_TIMEOUT, |s| {
            Duration::from_secs(s).min(MAX_BOOT_TIMEOUT)
        })
}

static BOOT_LOCK: Mutex<()> = Mutex::new(());

/// Serialises boots: two emulated VMs at once would starve each other.
pub fn boot_lock() -> MutexGuard<'static, ()> {
    BOOT_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Checks root and the distribution packages. Returns false (after printing
/// SKIP) when something is missing, or panics naming the packages when the
/// environment variable `CI` is set.
pub fn prerequisites_met(kind: ServerKind) -> bool {
    let mut missing: Vec<&str> = Vec::new();
    let extra = if kind.uses_dnsmasq() {
        DNSMASQ_FILES
    } else {
        &[]
    };
    for (file, package) in REQUIRED_FILES.iter().chain(extra) {
        if !Path::new(file).exists() && !missing.contains(package) {
            missing.push(package);
        }
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root && missing.is_empty() {
        return true;
    }
    let mut needs = Vec::new();
    if !root {
        needs.push("root (network namespaces, taps, port 67)".to_string());
    }
    if !missing.is_empty() {
        needs.push(format!(
            "packages {} (apt-get install -y --no-install-recommends {})",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    let why = format!("PXE boot test needs {}", needs.join(" and "));
    if std::env::var_os("CI").is_some() {
        panic!("{why}");
    }
    eprintln!("SKIP: {why}");
    false
}

/// A tcpdump capture of all UDP on the lab bridge. Without tcpdump (or when
/// it does not start) the wire checks are skipped with a note, or, when the
/// environment variable `CI` is set, the test fails.
pub struct Capture {
    process: Option<Guarded>,
    file: PathBuf,
}

impl Capture {
    /// Starts tcpdump and waits until it listens; without tcpdump, a no-op
    /// (a failure in CI).
    pub fn start(lab: &Lab) -> Capture {
        let file = lab.path("capture.pcap");
        let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(tcpdump) = tcpdump else {
            no_capture("tcpdump not installed (apt-get install tcpdump)");
            return Capture {
                process: None,
                file,
            };
        };
        let mut cmd = lab.ns.command(tcpdump);
        // --immediate-mode: without it libpcap may hold packets in its ring
        // and lose them when stopped (seen: 6 of 282 packets written).
        cmd.args(["-i", BRIDGE, "-n", "-U", "--immediate-mode"])
            .args(["-s", "1600", "-w"])
            .arg(&file)
            .arg("udp");
        let process = Guarded::spawn("tcpdump", cmd, &lab.path("tcpdump.log"))
            .and_then(|mut p| {
                p.wait_for_log(&["listening on"], Duration::from_secs(10))?;
                Ok(p)
            })
            .map_err(|e| no_capture(&format!("capture not running: {e}")))
            .ok();
        Capture { process, file }
    }

    /// Stops the capture and decodes it (empty without tcpdump).
    pub fn finish(mut self) -> Option<wire::Wire> {
        let mut process = self.process.take()?;
        process.stop();
        Some(wire::Wire::read(&self.file))
    }
}

/// The wire checks cannot run: a note, or a failure when `CI` is set.
fn no_capture(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why}: the option 93 wire checks cannot run (CI is set, so this is a failure)");
    }
    eprintln!("note: {why}; no wire checks");
}

/// Copies the lab's logs, serial consoles and capture to
/// `$NETBOOT_PXE_ARTIFACTS/<name>/` when that variable is set.
pub fn keep_artifacts(lab: &Lab, name: &str, summary: &str) {
    let Some(base) = std::env::var_os("NETBOOT_PXE_ARTIFACTS") else {
        return;
    };
    let dest = Path::new(&base).join(name);
    if let Err(e) = std::fs::create_dir_all(&dest) {
        eprintln!("artifacts: {e}");
        return;
    }
    let _ = std::fs::write(dest.join("wire.txt"), summary);
    let Ok(entries) = std::fs::read_dir(lab.dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let keep = path.extension().is_some_and(|e| e == "log" || e == "pcap");
        if keep {
            let _ = std::fs::copy(&path, dest.join(entry.file_name()));
        }
    }
    eprintln!("artifacts kept in {}", dest.display());
}
