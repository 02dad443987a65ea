//! The layout recognisers: what a candidate's files (an ISO's inside, or a
//! directory) are, which kernel and initrds boot it per architecture, with
//! which arguments to find the rest over HTTP, and whether each way can boot
//! with Secure Boot on. Pure apart from `Tree` reads (no `std::fs`, no clock).
//!
//! One module per family, each a `try_*` tried in order (`LAYOUTS`), then
//! Windows PE; `recognise` ends with the iPXE `sanboot` fallback for an ISO,
//! `recognise_directory` with a plain kernel + initrd folder (`directory`).
//! Kernel arguments may hold `{tree_url}` and `{iso_url}` (see `model::Boot`).
//!
//! - `bootcfg`: the distribution's own isolinux/syslinux and GRUB entries.
//! - `args`: those entries' arguments, less the boot medium's, plus the family's.
//! - `pe`, `signer`, `secure`: Authenticode signatures and the Secure Boot verdict.
//! - `common`: text files, architecture names, titles, building a `Boot`.

pub mod alpine;
pub mod archlinux;
pub mod args;
pub mod bootcfg;
pub mod common;
pub mod debian;
pub mod directory;
pub mod fedora;
pub mod pe;
pub mod secure;
pub mod signer;
pub mod ubuntu;
pub mod windows;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::catalogue::model::{Arch, Boot, Kind, Recognised, SecureBoot};
use crate::catalogue::tree::Tree;

/// A layout recogniser.
type Layout = fn(&dyn Tree) -> Option<Recognised>;

/// The distribution layouts, in the order they are tried (Debian live
/// before the installer: live images carry an installer too), then Windows PE.
const LAYOUTS: [Layout; 7] = [
    debian::try_live,
    debian::try_installer,
    ubuntu::try_ubuntu,
    fedora::try_fedora,
    archlinux::try_archlinux,
    alpine::try_alpine,
    windows::try_windows,
];

/// The note of an ISO whose layout is not known.
pub const SANBOOT_NOTE: &str = "layout not recognised; booted whole with iPXE sanboot";

/// What an ISO's files are: a known layout, or a `Kind::Sanboot` entry
/// (whose title is empty: the catalogue names it after the file).
pub fn recognise(tree: &dyn Tree) -> Recognised {
    LAYOUTS
        .iter()
        .find_map(|layout| layout(tree))
        .unwrap_or_else(|| sanboot(tree))
}

/// What a directory's files are: a known layout, else a plain kernel and
/// initrd at its top level, else nothing bootable.
pub fn recognise_directory(tree: &dyn Tree) -> Option<Recognised> {
    LAYOUTS
        .iter()
        .find_map(|layout| layout(tree))
        .or_else(|| directory::try_directory(tree))
}

/// The fallback for an ISO: booted whole, on the architectures whose UEFI
/// loader it carries (x86-64 when it has none: a BIOS El Torito image).
fn sanboot(tree: &dyn Tree) -> Recognised {
    let mut arches = common::efi_arches(tree);
    if arches.is_empty() {
        arches.push(Arch::X86_64);
    }
    let boots = arches.into_iter().map(|arch| Boot {
        arch,
        kernel: String::new(),
        initrds: Vec::new(),
        args: String::new(),
        secure_boot: SecureBoot::Unsigned {
            reason: "booted whole through iPXE sanboot; iPXE is not signed for Secure Boot".into(),
        },
    });
    Recognised {
        kind: Kind::Sanboot,
        title: String::new(),
        boots: boots.collect(),
        notes: vec![SANBOOT_NOTE.into()],
    }
}

#[cfg(test)]
mod tests;
