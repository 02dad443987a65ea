//! ARM64 boots (tests/pxe_boot_arm.rs): U-Boot (`u-boot-qemu`'s qemu_arm64)
//! and AAVMF (`qemu-efi-aarch64`) under `qemu-system-aarch64`, against
//! `netboot serve` with no boot-file flag, or the dnsmasq reference.
#![allow(dead_code)] // only tests/pxe_boot_arm.rs uses these

use std::path::{Path, PathBuf};
use std::process::Command;

use super::lab::{Lab, SERVER_IP};
use super::server::Launch;

pub const UBOOT_BIN: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";
pub const AAVMF_CODE: &str = "/usr/share/AAVMF/AAVMF_CODE.fd";
pub const AAVMF_VARS: &str = "/usr/share/AAVMF/AAVMF_VARS.fd";
/// Debian's arm64 netboot tree: signed `grubaa64.efi` and `grub/`.
pub const INSTALLER_ARM64: &str = "/usr/lib/debian-installer/images/12/arm64/text";

/// What the ARM boots need, with the Debian package of each.
const REQUIRED: &[(&str, &str)] = &[
    ("/usr/bin/qemu-system-aarch64", "qemu-system-arm"),
    (UBOOT_BIN, "u-boot-qemu"),
    ("/usr/bin/mkimage", "u-boot-tools"),
    (AAVMF_CODE, "qemu-efi-aarch64"),
    (AAVMF_VARS, "qemu-efi-aarch64"),
    (
        "/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/grubaa64.efi",
        "debian-installer-12-netboot-arm64",
    ),
    ("/usr/sbin/dnsmasq", "dnsmasq-base"),
];

/// Panics naming what is missing: these tests never skip silently.
pub fn require() {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|(file, _)| !Path::new(file).exists())
        .map(|(_, package)| *package)
        .collect();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root && missing.is_empty(),
        "ARM64 boot tests need root (namespaces, taps, port 67) and packages {:?} \
         (.ci/install-deps.sh installs them)",
        missing
    );
}

/// qemu's firmware arguments for U-Boot.
pub fn uboot() -> Vec<String> {
    vec!["-bios".into(), UBOOT_BIN.into()]
}

/// qemu's firmware arguments for AAVMF, with a copy of its variables.
pub fn aavmf(lab: &Lab) -> Result<Vec<String>, String> {
    let vars = lab.path("AAVMF_VARS.fd");
    std::fs::copy(AAVMF_VARS, &vars).map_err(|e| format!("copy {AAVMF_VARS}: {e}"))?;
    Ok(vec![
        "-drive".into(),
        format!("if=pflash,format=raw,readonly=on,file={AAVMF_CODE}"),
        "-drive".into(),
        format!("if=pflash,format=raw,file={}", vars.display()),
    ])
}

/// A U-Boot script image made by `mkimage`, as a dnsmasq user makes one.
pub fn mkimage_script(text: &str, out: &Path) -> Result<(), String> {
    let src = out.with_extension("txt");
    std::fs::write(&src, text).map_err(|e| e.to_string())?;
    let status = Command::new("mkimage")
        .args([
            "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none", "-d",
        ])
        .arg(&src)
        .arg(out)
        .output()
        .map_err(|e| format!("mkimage: {e}"))?;
    if !status.status.success() {
        return Err(format!("mkimage: {status:?}"));
    }
    std::fs::remove_file(&src).map_err(|e| e.to_string())
}

/// An empty boot root.
pub fn root(lab: &Lab) -> PathBuf {
    empty_dir(lab.path("root"))
}

/// `netboot serve` on the bridge with no boot-file flag: the root and the
/// profiles directory are all it is given.
pub fn netboot(lab: &Lab, root: &Path, profiles: &Path) -> Launch {
    super::serve_command(lab, root, profiles, &[])
}

/// dnsmasq serving `root` over TFTP with one boot file for everyone, as
/// its users configure it for an ARM64 lab (`--dhcp-boot`).
pub fn dnsmasq_reference(lab: &Lab, root: &Path, file: &str) -> Launch {
    super::dnsmasq::by_hand(lab, root, &[format!("--dhcp-boot={file},,{SERVER_IP}")])
}

/// A directory made (if need be) for the test.
pub fn empty_dir(path: PathBuf) -> PathBuf {
    super::server::empty_dir(path)
}
