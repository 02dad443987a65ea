//! Debian: the installer discs (netinst, DVD: `install.amd/`, `install.a64/`,
//! `install.386/`) and the live images (`live/vmlinuz*`, `live/initrd.img*`,
//! `live/filesystem.squashfs`, booted with live-boot's `fetch=`).

use super::bootcfg::{self, Entry};
use super::{args, common};
use crate::catalogue::model::{Arch, Boot, Kind, Recognised};
use crate::catalogue::tree::Tree;

/// The installer's directory per architecture.
const INSTALL_DIRS: [(&str, Arch); 3] = [
    ("install.amd", Arch::X86_64),
    ("install.a64", Arch::Arm64),
    ("install.386", Arch::I386),
];

/// What a user should know about the installer of one of Debian's own discs
/// (they carry packages: `dists/`, `pool/`), booted over the network.
pub const CD_INITRD_NOTE: &str = "the installer's initrd on this disc is the CD flavour: \
     booted over the network it starts, but it looks for its packages on an installation \
     disc the machine does not have, and there are no kernel arguments that point it at \
     the ISO over HTTP; for an installation from a mirror, use Debian's netboot kernel and \
     initrd (netboot.tar.gz, or the debian-installer-12-netboot-* package) as a directory entry";

/// The same for an image without Debian's package pool (a custom image,
/// for instance of the netboot kernel and initrd).
pub const OTHER_INITRD_NOTE: &str = "the installer's initrd is booted as it is: \
     a netboot initrd installs from a mirror; a CD initrd would look for an installation \
     disc the machine does not have";

/// Whether the tree is one of Debian's discs, with its package pool.
fn has_package_pool(tree: &dyn Tree) -> bool {
    tree.files().keys().any(|p| {
        let lower = p.to_ascii_lowercase();
        lower.starts_with("dists/")
            || lower.starts_with("pool/")
            || lower == ".disk/base_installable"
    })
}

/// A Debian installer disc.
pub fn try_installer(tree: &dyn Tree) -> Option<Recognised> {
    let entries = bootcfg::entries(tree);
    let boots: Vec<Boot> = INSTALL_DIRS
        .iter()
        .filter_map(|&(dir, arch)| installer_boot(tree, &entries, dir, arch))
        .collect();
    if boots.is_empty() {
        return None;
    }
    let name = common::disk_info(tree).unwrap_or_else(|| "Debian".into());
    let note = if has_package_pool(tree) {
        CD_INITRD_NOTE
    } else {
        OTHER_INITRD_NOTE
    };
    let mut notes = vec![note.to_string()];
    if tree.find("install.amd/gtk/vmlinuz").is_some() {
        notes.push("the graphical installer (install.amd/gtk/) is not offered".into());
    }
    Some(Recognised {
        kind: Kind::Linux {
            distro: "debian-installer".into(),
        },
        title: format!("{name} installer"),
        boots,
        notes,
    })
}

fn installer_boot(tree: &dyn Tree, entries: &[Entry], dir: &str, arch: Arch) -> Option<Boot> {
    let kernel = common::find(tree, &format!("{dir}/vmlinuz"))?;
    let initrd = common::find(tree, &format!("{dir}/initrd.gz"))?;
    let entry = bootcfg::for_kernel(entries, &kernel);
    let distro_args = entry.map(|e| e.args.as_slice()).unwrap_or_default();
    let args = args::network(distro_args, &[]);
    Some(common::boot(tree, arch, &kernel, vec![initrd], args))
}

/// A Debian live image (also Kali and other live-build images).
pub fn try_live(tree: &dyn Tree) -> Option<Recognised> {
    let squashfs = common::find(tree, "live/filesystem.squashfs")?;
    let entries = bootcfg::entries(tree);
    let info_arch = common::disk_info_arch(tree);
    let mut boots: Vec<Boot> = Vec::new();
    for kernel in common::files_in(tree, "live", "vmlinuz") {
        let arch = common::arch_in(common::file_name(kernel))
            .or(info_arch)
            .or_else(|| common::kernel_arch(tree, kernel))
            .unwrap_or(Arch::X86_64);
        if boots.iter().any(|b| b.arch == arch) {
            continue;
        }
        let entry = bootcfg::for_kernel(&entries, kernel);
        let Some(initrd) = live_initrd(tree, entry, kernel) else {
            continue;
        };
        let distro_args = entry.map(|e| e.args.as_slice()).unwrap_or_default();
        let fetch = format!("fetch={{tree_url}}{squashfs}");
        let args = args::network(distro_args, &["boot=live", "components", &fetch]);
        boots.push(common::boot(tree, arch, kernel, vec![initrd], args));
    }
    if boots.is_empty() {
        return None;
    }
    let name = common::disk_info(tree).unwrap_or_else(|| "Debian".into());
    let mut notes = vec![format!(
        "live-boot downloads {squashfs} ({} MiB) into memory at boot (fetch=): the machine needs more RAM than that",
        common::mib(tree, &squashfs)
    )];
    if tree.find("install/vmlinuz").is_some() {
        notes.push("the Debian installer on this image (install/) is not offered: its initrd reads from the disc".into());
    }
    Some(Recognised {
        kind: Kind::Linux {
            distro: "debian-live".into(),
        },
        title: format!("{name} live"),
        boots,
        notes,
    })
}

/// The live kernel's initrd: from its config entry, else `initrd.img` with
/// the kernel's version suffix.
fn live_initrd(tree: &dyn Tree, entry: Option<&Entry>, kernel: &str) -> Option<String> {
    if let Some(first) = entry.and_then(|e| bootcfg::initrds_in(tree, e).into_iter().next()) {
        return Some(first);
    }
    let suffix = common::file_name(kernel)
        .get("vmlinuz".len()..)
        .unwrap_or("");
    common::find(tree, &format!("live/initrd.img{suffix}"))
}

#[cfg(test)]
#[path = "debian_tests.rs"]
mod tests;
