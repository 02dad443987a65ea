//! The image catalogue: everything bootable under the boot root (ISO files,
//! directories with a kernel and an initrd, Windows PE) found, recognised and
//! turned into menu entries, with no configuration.
//!
//! - `tree`: the files of a candidate (a directory, or the inside of an ISO)
//!   as one read-only view the recognisers work on; `dir_tree` for a directory.
//! - `model`: what recognition yields (kind, architectures, kernel, initrds,
//!   arguments, Secure Boot verdict).
//! - `iso_source`: an ISO file opened for the catalogue: its tree and where
//!   each of its files lies in the image, so files are served straight out
//!   of the ISO.
//! - `recognise`: the pure layout recognisers (Debian, Ubuntu, Fedora family,
//!   Arch, Alpine, Windows PE, unknown), with Secure Boot verdicts.
//! - `entry_file`: a directory entry's optional `entry.yaml`.
//! - `menu`, `grub_menu`: the iPXE and GRUB menus for one client (pure).
//! - `live`: the catalogue in service, rescanned on change; `next_boot`:
//!   one-shot boots; `report`: `netboot images`.
//! - `signed_boot`: the signed shim an x86-64 UEFI PXE machine is sent
//!   when nothing configured names its boot file (pure).
//! - `scan`: the bounded walk of the root that finds candidates and builds
//!   the [`Catalogue`], reusing what it knew of unchanged ISOs.

pub mod dir_tree;
pub mod entry_file;
pub mod grub_menu;
pub mod iso;
pub mod iso_source;
pub mod live;
pub mod menu;
pub mod model;
pub mod next_boot;
pub mod recognise;
pub mod report;
pub mod scan;
pub mod signed_boot;
pub mod tree;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use model::Recognised;

pub use scan::scan;

/// Where an entry's files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A directory under the root: its files are files of the root.
    Directory,
    /// An ISO image: its files are regions of the image.
    Iso(Arc<IsoRegions>),
}

/// Where each file of an ISO lies in the image: path → (offset, length) of
/// each extent, in order.
pub type IsoRegions = BTreeMap<String, Vec<(u64, u64)>>;

/// One bootable thing found under the root.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path relative to the root (`debian-12.8.0-amd64-netinst.iso`,
    /// `tools/memtest`): the entry's name in menus, URLs and `netboot next`.
    pub id: String,
    /// Directory or ISO.
    pub source: Source,
    /// Bytes: the ISO's size, or the sum of the directory's files.
    pub size: u64,
    /// What it is and how it boots.
    pub recognised: Recognised,
    /// The ISO's modification time and size when it was read (reuse key).
    pub stamp: Option<(SystemTime, u64)>,
}

/// A candidate that is not in the menu, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its path relative to the root.
    pub id: String,
    /// Why, in a user's words.
    pub reason: String,
    /// The ISO's modification time and size when it was read.
    pub stamp: Option<(SystemTime, u64)>,
}

/// Everything found under one root at one moment; immutable once built
/// (a rescan builds a new one and swaps it whole).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// The root scanned.
    pub root: PathBuf,
    /// Bootable entries, in path order.
    pub entries: Vec<Entry>,
    /// Candidates left out.
    pub skipped: Vec<Skipped>,
}

impl Catalogue {
    /// The entry named `id`.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Whether `name` lies inside a catalogued ISO (`debian.iso/...`),
    /// whether or not the ISO has that file.
    pub fn inside_iso(&self, name: &str) -> bool {
        let name = name.trim_start_matches('/');
        self.entries.iter().any(|entry| {
            matches!(entry.source, Source::Iso(_))
                && name
                    .strip_prefix(entry.id.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// For a request path inside an ISO (`debian.iso/install.amd/vmlinuz`):
    /// the ISO's path relative to the root and the file's extents in it.
    /// `None` when the path is not inside a catalogued ISO.
    pub fn iso_file(&self, name: &str) -> Option<(&str, &[(u64, u64)])> {
        let name = name.trim_start_matches('/');
        self.entries.iter().find_map(|entry| {
            let Source::Iso(regions) = &entry.source else {
                return None;
            };
            let inner = name.strip_prefix(entry.id.as_str())?.strip_prefix('/')?;
            let extents = regions.get(inner).or_else(|| {
                regions
                    .iter()
                    .find(|(path, _)| path.eq_ignore_ascii_case(inner))
                    .map(|(_, e)| e)
            })?;
            Some((entry.id.as_str(), extents.as_slice()))
        })
    }
}
