//! The image catalogue's benchmark (issue 12): not a test, run by hand with
//! `bash tests/bench/catalogue_bench.sh` (as root; it needs what
//! tests/pxe_boot.rs needs). Two measurements, printed as markdown tables:
//!
//! 1. Power-on to the Debian installer's `/init` on the serial console
//!    (qemu, SeaBIOS with the e1000's iPXE ROM, then `ipxe.efi`'s OVMF twin
//!    on UEFI), three ways in each round, one after the other, so a slow
//!    moment of the machine hits all three alike:
//!    - **ISO**: the installer ISO in the catalogue; iPXE gets the menu and
//!      reads the kernel and initrd out of the ISO over HTTP;
//!    - **HTTP**: the same kernel and initrd as files, over HTTP
//!      (`installer.ipxe`);
//!    - **TFTP**: the same files over TFTP (`installer.ipxe` rewritten to
//!      `tftp://` URLs).
//! 2. A 4 GiB installer ISO copied with `cp` into the root of a running
//!    `netboot serve`: how long the copy takes, and how long after `cp`
//!    exits the catalogue lists it (the log's `catalogue: ISO added`).
//!
//! `CATALOGUE_BENCH_ROUNDS` (default 3), `CATALOGUE_BENCH_FIRMWARE`
//! (`bios`, `uefi`, `both` or `none`: only the 4 GiB ISO; default `both`).

#[allow(dead_code)]
mod pxe_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pxe_support::catalogue::INIT_MARKER;
use pxe_support::lab::Lab;
use pxe_support::server::{
    drop_in_catalogue_iso, make_boot_root, server_commands, start_launches, ServerKind,
    INSTALLER_IPXE,
};
use pxe_support::vm::{Firmware, Vm};
use pxe_support::{boot_lock, boot_timeout, prerequisites_met};

#[derive(Clone, Copy, Debug)]
enum Way {
    Iso,
    Http,
    Tftp,
}

const WAYS: [Way; 3] = [Way::Iso, Way::Http, Way::Tftp];

/// `installer.ipxe` with the kernel and initrd over TFTP from the server
/// that gave iPXE its address.
const TFTP_SCRIPT: &str = "#!ipxe\n\
    kernel tftp://${next-server}/debian-installer/amd64/linux initrd=initrd.gz console=ttyS0,115200n8\n\
    initrd tftp://${next-server}/debian-installer/amd64/initrd.gz\n\
    boot\n";

/// The 4 GiB ISO's padding: 4000 MiB of zeros beside the installer.
const PAD_BYTES: u64 = 4000 << 20;

#[test]
#[ignore = "a benchmark of VM boots (minutes); run tests/bench/catalogue_bench.sh"]
fn catalogue_benchmark() {
    let _one_at_a_time = boot_lock();
    assert!(
        prerequisites_met(ServerKind::NetbootCatalogue),
        "the catalogue benchmark needs root and the packages above"
    );
    let rounds: usize = env_or("CATALOGUE_BENCH_ROUNDS", "3").parse().unwrap_or(3);
    let firmwares: Vec<Firmware> = match env_or("CATALOGUE_BENCH_FIRMWARE", "both").as_str() {
        "bios" => vec![Firmware::Bios],
        "uefi" => vec![Firmware::Uefi],
        "none" => vec![],
        _ => vec![Firmware::Bios, Firmware::Uefi],
    };
    println!("load average before: {}", load_average());
    for firmware in firmwares {
        boot_table(firmware, rounds);
    }
    appear_table();
    println!("load average after: {}", load_average());
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
}

/// Every way booted `rounds` times on `firmware`: a markdown table of the
/// seconds, median and range.
fn boot_table(firmware: Firmware, rounds: usize) {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); WAYS.len()];
    for round in 1..=rounds {
        for (i, way) in WAYS.iter().enumerate() {
            let took = boot(*way, firmware)
                .unwrap_or_else(|e| panic!("{way:?} on {}: {e}", firmware.name()));
            println!("round {round}, {way:?} on {}: {took:.1} s", firmware.name());
            times[i].push(took);
        }
    }
    println!(
        "\n{}: power-on to the installer's /init, s (median, min-max of {rounds})\n",
        firmware.name()
    );
    println!("| way | s |\n|---|---|");
    for (way, t) in WAYS.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let median = t[t.len() / 2];
        let (min, max) = (t[0], t[t.len() - 1]);
        println!("| {way:?} | **{median:.1}** ({min:.1}-{max:.1}) |");
    }
    println!();
}

/// One boot of the installer `way` on `firmware`, in a lab of its own:
/// seconds from qemu's start to `/init` on the console.
fn boot(way: Way, firmware: Firmware) -> Result<f64, String> {
    let lab = Lab::new()?;
    let root = make_boot_root(&lab)?;
    let kind = match way {
        Way::Iso => ServerKind::NetbootCatalogue,
        Way::Http | Way::Tftp => ServerKind::NetbootInstaller,
    };
    let launches = server_commands(kind, &lab, &root)?;
    if let Way::Tftp = way {
        std::fs::write(root.join(INSTALLER_IPXE), TFTP_SCRIPT).map_err(|e| e.to_string())?;
    }
    let mut server = start_launches(&lab, launches)?;
    if let Way::Iso = way {
        drop_in_catalogue_iso(&lab, &root, &mut server)?;
    }
    let mut vm = Vm::start(&lab, firmware, 1024)?;
    let took = vm.wait_for(INIT_MARKER, boot_timeout());
    vm.stop();
    server.stop();
    let took = took.map_err(|e| format!("{e}\n{}", server.log_tail(30)))?;
    Ok(took.as_secs_f64())
}

/// The 4 GiB ISO copied into a running server's root.
fn appear_table() {
    let (copy, appear) = appear().unwrap_or_else(|e| panic!("4 GiB ISO: {e}"));
    println!("\n4 GiB ISO copied into the root of a running `netboot serve`\n");
    println!("| `cp` took | listed after `cp` exited |\n|---|---|");
    println!("| {copy:.1} s | **{appear:.2} s** |\n");
}

fn appear() -> Result<(f64, f64), String> {
    let lab = Lab::new()?;
    let root = make_boot_root(&lab)?;
    let work = lab.path("big-iso");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let iso = pxe_support::iso::padded_installer_iso(&work, PAD_BYTES)?;
    let mut server = start_launches(
        &lab,
        server_commands(ServerKind::NetbootCatalogue, &lab, &root)?,
    )?;
    let log = lab.path("netboot.log");
    let started = Instant::now();
    let status = Command::new("cp")
        .arg(&iso)
        .arg(root.join("big-dvd.iso"))
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    let copied = Instant::now();
    let listed = match status.success() {
        true => wait_for_line(&log, "entry=big-dvd.iso", Duration::from_secs(60)),
        false => Err(format!("cp: {status}")),
    };
    let _ = std::fs::remove_file(&iso);
    server.stop();
    // what the catalogue said of it meanwhile, with the log's timestamps
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    for line in text.lines().filter(|l| l.contains("big-dvd.iso")) {
        println!("  {line}");
    }
    let listed = listed.map_err(|e| format!("{e}\n{}", server.log_tail(30)))?;
    let _ = std::fs::remove_file(root.join("big-dvd.iso"));
    Ok((
        copied.duration_since(started).as_secs_f64(),
        listed.duration_since(copied).as_secs_f64(),
    ))
}

/// When a `catalogue: ISO added` line holding `needle` appeared in `log`.
fn wait_for_line(log: &Path, needle: &str, timeout: Duration) -> Result<Instant, String> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text
            .lines()
            .any(|l| l.contains("catalogue: ISO added") && l.contains(needle))
        {
            return Ok(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "no `catalogue: ISO added` for {needle} within {timeout:?}"
    ))
}
