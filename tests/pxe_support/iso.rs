#![allow(dead_code)] // each test crate uses a part
//! A Debian-installer ISO built for the tests with Debian's own tools, laid
//! out as Debian lays out its netinst ISO: `install.amd/vmlinuz` and
//! `initrd.gz` (the installer's, from debian-installer-12-netboot-amd64),
//! `.disk/info`, `isolinux/` for BIOS El Torito, and an EFI FAT image
//! `boot/grub/efi.img` plus `EFI/boot/` holding Debian's signed shim and
//! GRUB, made hybrid by xorriso with isolinux's MBR. Needs xorriso,
//! isolinux, syslinux-common, mtools and dosfstools.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's package puts the installer's netboot files.
pub const INSTALLER: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

/// The `.disk/info` line the ISO carries (its title).
pub const DISK_INFO: &str = "Debian GNU/Linux 12 \"Bookworm\" - netboot test amd64 NETINST";

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", from.display()))
}

/// The kernel arguments Debian's netinst ISO gives its installer.
pub const DEBIAN_ARGS: &str = "vga=788 --- quiet";

/// Builds the ISO in `work` (a scratch directory) and returns its path.
pub fn debian_installer_iso(work: &Path) -> Result<PathBuf, String> {
    debian_installer_iso_with(work, DEBIAN_ARGS)
}

/// The same ISO with `args` as the kernel arguments in its isolinux and
/// GRUB configurations (e.g. a serial console, for a test that boots it
/// with no configuration of netboot's).
pub fn debian_installer_iso_with(work: &Path, args: &str) -> Result<PathBuf, String> {
    build_iso(work, args, 0)
}

/// The ISO with a file of `pad` bytes of zeros (`pad.bin`) as well, to make
/// it as large as a DVD image (the file is sparse before xorriso reads it).
pub fn padded_installer_iso(work: &Path, pad: u64) -> Result<PathBuf, String> {
    build_iso(work, DEBIAN_ARGS, pad)
}

fn build_iso(work: &Path, args: &str, pad: u64) -> Result<PathBuf, String> {
    let tree = work.join("iso-tree");
    let inst = Path::new(INSTALLER);
    for dir in ["install.amd", ".disk", "isolinux", "boot/grub", "EFI/boot"] {
        std::fs::create_dir_all(tree.join(dir)).map_err(|e| e.to_string())?;
    }
    copy(&inst.join("linux"), &tree.join("install.amd/vmlinuz"))?;
    copy(&inst.join("initrd.gz"), &tree.join("install.amd/initrd.gz"))?;
    std::fs::write(tree.join(".disk/info"), DISK_INFO).map_err(|e| e.to_string())?;
    copy(
        Path::new("/usr/lib/ISOLINUX/isolinux.bin"),
        &tree.join("isolinux/isolinux.bin"),
    )?;
    copy(
        Path::new("/usr/lib/syslinux/modules/bios/ldlinux.c32"),
        &tree.join("isolinux/ldlinux.c32"),
    )?;
    std::fs::write(
        tree.join("isolinux/isolinux.cfg"),
        format!("default install\nlabel install\n  kernel /install.amd/vmlinuz\n  append initrd=/install.amd/initrd.gz {args}\n"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        tree.join("boot/grub/grub.cfg"),
        format!("menuentry 'Install' {{\n  linux /install.amd/vmlinuz {args}\n  initrd /install.amd/initrd.gz\n}}\n"),
    )
    .map_err(|e| e.to_string())?;
    copy(
        &inst.join("bootnetx64.efi"),
        &tree.join("EFI/boot/bootx64.efi"),
    )?;
    copy(
        &inst.join("grubx64.efi"),
        &tree.join("EFI/boot/grubx64.efi"),
    )?;
    efi_image(&tree)?;
    if pad > 0 {
        let file = std::fs::File::create(tree.join("pad.bin")).map_err(|e| e.to_string())?;
        file.set_len(pad).map_err(|e| e.to_string())?;
    }
    let iso = work.join("debian-12-netboot-test-amd64.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-r", "-J", "-V", "Debian 12 netboot test"])
        .arg("-o")
        .arg(&iso)
        .args(["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat"])
        .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"])
        .args([
            "-eltorito-alt-boot",
            "-e",
            "boot/grub/efi.img",
            "-no-emul-boot",
        ])
        .args([
            "-isohybrid-gpt-basdat",
            "-isohybrid-mbr",
            "/usr/lib/ISOLINUX/isohdpfx.bin",
        ])
        .arg(&tree))?;
    std::fs::remove_dir_all(&tree).map_err(|e| e.to_string())?;
    Ok(iso)
}

/// `boot/grub/efi.img`: a FAT image with `EFI/boot/bootx64.efi` and `grubx64.efi`.
fn efi_image(tree: &Path) -> Result<(), String> {
    let img = tree.join("boot/grub/efi.img");
    run(Command::new("mkfs.vfat").arg("-C").arg(&img).arg("8192"))?;
    run(Command::new("mmd")
        .arg("-i")
        .arg(&img)
        .args(["::/EFI", "::/EFI/boot"]))?;
    for name in ["bootx64.efi", "grubx64.efi"] {
        run(Command::new("mcopy")
            .arg("-i")
            .arg(&img)
            .arg(tree.join("EFI/boot").join(name))
            .arg(format!("::/EFI/boot/{name}")))?;
    }
    Ok(())
}
