//! `netboot serve` with no configuration but what serving the lab's bridge
//! needs ([`super::server::ServerKind::NetbootSecureBoot`]): no boot-file
//! flag, no profile, no `netboot.yaml`; the root holds `ipxe.efi` and a
//! Debian installer ISO with Debian's signed shim, GRUB and kernel, whose
//! own boot arguments name the serial console.

use std::path::Path;

use super::lab::Lab;
use super::server::{empty_dir, Launch, BOOT_IPXE, CATALOGUE_ISO};

/// The ISO's own kernel arguments: the kernel and the installer on the
/// serial console, the kernel's messages shown (no `quiet`), so no profile
/// needs to add them.
pub const ISO_ARGS: &str = "vga=788 console=ttyS0,115200n8 loglevel=7 ---";

/// Builds the ISO beside `root` (no `boot.ipxe` there), for
/// [`super::server::drop_in_catalogue_iso`] once `serve` runs, and returns
/// the launch.
pub fn launch(lab: &Lab, root: &Path) -> Result<Launch, String> {
    launch_built(lab, root, &[], &lab.path("iso-work").join(CATALOGUE_ISO))
}

/// The ISO built into `root`, with `extra` flags for `serve`.
#[allow(dead_code)] // tests/pxe_boot_secure.rs
pub fn launch_with(lab: &Lab, root: &Path, extra: &[&str]) -> Result<Launch, String> {
    launch_built(lab, root, extra, &root.join(CATALOGUE_ISO))
}

fn launch_built(lab: &Lab, root: &Path, extra: &[&str], to: &Path) -> Result<Launch, String> {
    std::fs::remove_file(root.join(BOOT_IPXE)).map_err(|e| format!("{e}"))?;
    let work = empty_dir(lab.path("iso-work"));
    let iso = super::iso::debian_installer_iso_with(&work, ISO_ARGS)?;
    std::fs::rename(&iso, to).map_err(|e| e.to_string())?;
    // an empty profile directory: no profile applies
    let profiles = empty_dir(lab.path("no-profiles"));
    Ok(super::serve_command(lab, root, &profiles, extra))
}
