#![allow(dead_code)] // each test crate uses a part
//! Image catalogue boots: the roots they serve and `netboot serve` with a
//! profile's `menu:`. A directory entry is the Debian installer's netboot
//! kernel and initrd in a folder of the root with an `entry.yaml`; a
//! sanboot entry is an ISO of no known layout whose El Torito image is
//! the boot sector of [`super::boot_sector`]; `netboot next` is run as a
//! user would run it, against the server's state directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::boot_sector::{boot_sector, deep_offset, write_esp, DEEP_LINE, DISK_BYTES};
use super::lab::Lab;
use super::process::run;
use super::server::{empty_dir, Launch, BOOT_BIOS, BOOT_IPXE, BOOT_UEFI};
use super::vm::Firmware;

/// The kernel arguments a profile adds so the kernel and the installer
/// write to the serial console, the kernel's messages shown.
pub const SERIAL_ARGS: &str = "console=ttyS0,115200n8 loglevel=7";

/// What the Debian installer's kernel prints once its initrd is unpacked.
pub const INIT_MARKER: &str = "Run /init as init process";

/// The menu iPXE chains from `netboot.ipxe` on `firmware`.
pub fn menu_file(firmware: Firmware) -> &'static str {
    match firmware {
        Firmware::Bios => "menu-pcbios-i386.ipxe",
        Firmware::Uefi | Firmware::UefiHttp => "menu-efi-x86_64.ipxe",
    }
}

/// The size of the installer's `name` (`linux`, `initrd.gz`) as Debian ships it.
pub fn installer_size(name: &str) -> u64 {
    std::fs::metadata(Path::new(super::iso::INSTALLER).join(name)).map_or(0, |m| m.len())
}

/// A directory entry `root/id`: the installer's kernel and initrd under the
/// names given, and `entry.yaml` holding `entry_yaml` (none when empty).
pub fn installer_dir(
    root: &Path,
    id: &str,
    kernel: &str,
    initrd: &str,
    entry_yaml: &str,
) -> Result<PathBuf, String> {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // first, so no scan sees the kernel and initrd without it
    if !entry_yaml.is_empty() {
        std::fs::write(dir.join("entry.yaml"), entry_yaml).map_err(|e| e.to_string())?;
    }
    let inst = Path::new(super::iso::INSTALLER);
    for (from, to) in [("linux", kernel), ("initrd.gz", initrd)] {
        let from = inst.join(from);
        std::fs::copy(&from, dir.join(to)).map_err(|e| {
            format!(
                "{}: {e} (install debian-installer-12-netboot-amd64)",
                from.display()
            )
        })?;
    }
    Ok(dir)
}

/// An ISO of no known layout at `root/name`: a BIOS El Torito
/// no-emulation image (the boot sector, padded to a CD sector), with
/// `efi` also a UEFI one (a FAT image whose `EFI/BOOT/BOOTX64.EFI` is
/// `efi`, which the ISO's tree holds too, as distributions' hybrid ISOs
/// do), and [`DEEP_LINE`] at the CD sector the boot sector reads, past the
/// file system (the image is [`DISK_BYTES`] long).
pub fn sanboot_iso(
    lab: &Lab,
    root: &Path,
    name: &str,
    volume: &str,
    efi: Option<&Path>,
) -> Result<PathBuf, String> {
    let tree = empty_dir(lab.path("sanboot-tree"));
    let mut image = boot_sector().to_vec();
    image.resize(2048, 0);
    std::fs::write(tree.join("boot.img"), image).map_err(|e| e.to_string())?;
    let iso = root.join(name);
    let mut xorriso = Command::new("xorriso");
    xorriso
        .args(["-as", "mkisofs", "-V", volume, "-o"])
        .arg(&iso)
        .args(["-b", "boot.img", "-c", "boot.cat", "-no-emul-boot"])
        .args(["-boot-load-size", "4"]);
    if let Some(efi) = efi {
        write_esp(&tree.join("efi.img"), efi, 4096)?;
        std::fs::create_dir_all(tree.join("EFI/BOOT")).map_err(|e| e.to_string())?;
        std::fs::copy(efi, tree.join("EFI/BOOT/BOOTX64.EFI")).map_err(|e| e.to_string())?;
        xorriso.args(["-eltorito-alt-boot", "-e", "efi.img", "-no-emul-boot"]);
    }
    run(xorriso.arg(&tree))?;
    std::fs::remove_dir_all(&tree).map_err(|e| e.to_string())?;
    write_at(
        &iso,
        deep_offset(2048),
        format!("{DEEP_LINE}\r\n\0").as_bytes(),
    )?;
    Ok(iso)
}

fn write_at(path: &Path, offset: u64, bytes: &[u8]) -> Result<(), String> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > offset {
        return Err(format!("{}: {len} bytes, past {offset}", path.display()));
    }
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(bytes))
        .and_then(|()| file.set_len(DISK_BYTES))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A profile directory holding one profile for every machine whose
/// `menu:` is `menu_yaml` (the mapping's lines, indented by two spaces).
pub fn profiles(lab: &Lab, menu_yaml: &str) -> Result<PathBuf, String> {
    let dir = empty_dir(lab.path("catalogue-profiles"));
    let text = format!("name: lab\nmatch: {{default: true}}\nmenu:\n{menu_yaml}");
    std::fs::write(dir.join("lab.yaml"), text).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// `netboot serve` for a catalogue boot: no `boot.ipxe` in the root (iPXE
/// gets netboot's own script, which chains the menu), the loaders for the
/// firmware, the profiles in `profiles`.
pub fn serve(lab: &Lab, root: &Path, profiles: &Path) -> Result<Launch, String> {
    let script = root.join(BOOT_IPXE);
    if script.exists() {
        std::fs::remove_file(&script).map_err(|e| format!("{}: {e}", script.display()))?;
    }
    let flags = ["--boot-bios", BOOT_BIOS, "--boot-uefi", BOOT_UEFI];
    Ok(super::serve_command(lab, root, profiles, &flags))
}

/// The IPv4 address the lease of `mac` holds, from `netboot leases` run
/// against the lab's state directory as a user would.
pub fn leased_address(lab: &Lab, mac: &str) -> Result<String, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netboot"));
    cmd.arg("leases")
        .arg("--state-dir")
        .arg(lab.path("state"))
        .env("NO_COLOR", "1");
    let table = run(&mut cmd)?;
    table
        .lines()
        .filter(|line| line.contains(mac))
        .flat_map(str::split_whitespace)
        .find(|word| word.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .ok_or_else(|| format!("no lease of {mac} in:\n{table}"))
}

/// `netboot next ARGS` against the lab's state directory and `root`, run
/// from the lab's scratch directory (no `netboot.yaml` there): its output,
/// or its error output when it fails.
pub fn netboot_next(lab: &Lab, root: &Path, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netboot"));
    cmd.arg("next")
        .args(args)
        .arg("--state-dir")
        .arg(lab.path("state"))
        .arg("--root")
        .arg(root)
        .current_dir(lab.dir())
        .env("NO_COLOR", "1");
    run(&mut cmd)
}
