//! The ISO 9660 reader of the image catalogue: an image's file tree (Rock
//! Ridge names, else Joliet, else the primary names as Linux shows them),
//! each file's extents in the image (so the HTTP server sends a kernel as a
//! byte range of the ISO, never unpacking it), and its El Torito boot images.
//!
//! Only metadata is read (descriptors, directories, the boot catalogue), so
//! indexing a 4 GiB image reads a few hundred KiB. Everything is bounded by
//! `Limits` and checked against the image's length; an image that is still
//! being copied gives `IsoError::Truncated`.
//!
//! - `source`: positioned reads (`ReadAt`) and the budgeted cursor.
//! - `descriptors`: the volume descriptor set (checked here, before parsing).
//! - `walk`: the directory walk over `hadris-iso`'s records.
//! - `names`: names as Linux mounts them.
//! - `eltorito`: the boot catalogue.
//! - `tree`: `IsoTree`, the image as a catalogue `Tree`.

mod descriptors;
mod eltorito;
mod error;
mod names;
mod source;
mod tree;
mod walk;

use std::cell::Cell;
use std::collections::BTreeMap;

pub use error::IsoError;
pub use source::ReadAt;
pub use tree::IsoTree;

use names::Names;
use source::Budgeted;
use walk::{check_inside, Walk};

/// The ISO 9660 logical block (the only size read).
const SECTOR: u64 = 2048;

/// A run of bytes in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Where it starts, in bytes from the start of the image.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// A regular file of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoFile {
    /// Its bytes in the image, in order (several for a file over 4 GiB).
    pub extents: Vec<Extent>,
    /// Its size: the extents' lengths added up.
    pub size: u64,
}

impl IsoFile {
    /// Where bytes `offset..offset + len` of the file lie in the image, in
    /// order; clipped at the file's end (empty past it).
    pub fn ranges(&self, offset: u64, len: u64) -> Vec<Extent> {
        let mut out = Vec::new();
        let (mut skip, mut left) = (offset, len.min(self.size.saturating_sub(offset)));
        for e in &self.extents {
            if left == 0 {
                break;
            }
            if skip >= e.len {
                skip -= e.len;
                continue;
            }
            let take = (e.len - skip).min(left);
            out.push(Extent {
                offset: e.offset + skip,
                len: take,
            });
            left -= take;
            skip = 0;
        }
        out
    }
}

/// The firmware an El Torito entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// PC BIOS (platform ID 0).
    Bios,
    /// UEFI (platform ID 0xEF).
    Efi,
    /// PowerPC (1).
    PowerPc,
    /// Mac (2).
    Mac,
    /// Any other platform ID.
    Other(u8),
}

/// How an El Torito boot image is presented to the firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulation {
    /// Loaded as it is (isolinux, GRUB's eltorito.img, an EFI system partition image).
    NoEmulation,
    /// A 1.2, 1.44 or 2.88 MB floppy image.
    Floppy,
    /// A hard disk image.
    HardDisk,
    /// A media type El Torito does not define.
    Other(u8),
}

/// A bootable entry of the El Torito catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootImage {
    /// The firmware it is for.
    pub platform: Platform,
    /// How it is presented.
    pub emulation: Emulation,
    /// The boot image's bytes: the whole file when it is a file of the tree
    /// (e.g. `boot/grub/efi.img`), a floppy's size, else the catalogue's
    /// sector count.
    pub extent: Extent,
    /// The file of the tree that starts where the boot image does, if any.
    pub path: Option<String>,
}

/// What the reader found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoImage {
    /// The primary volume identifier (e.g. `Debian 12.8.0 amd64 n`).
    pub volume_id: String,
    /// Every regular file, by relative `/`-separated path.
    pub files: BTreeMap<String, IsoFile>,
    /// Every regular file's size, by path (the `Tree` view).
    pub sizes: BTreeMap<String, u64>,
    /// The El Torito catalogue's bootable entries, in catalogue order.
    pub boot: Vec<BootImage>,
}

/// Bounds on the work and memory indexing one image may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Directories nested deeper than this are refused.
    pub max_depth: usize,
    /// More regular files than this are refused.
    pub max_files: usize,
    /// Directory records (all directories' sizes added up), in bytes.
    pub max_directory_bytes: u64,
    /// Everything the directory parser reads (directories, path table,
    /// Rock Ridge continuation areas), in bytes.
    pub max_metadata_bytes: u64,
    /// The path table (read whole by the parser), in bytes.
    pub max_path_table_bytes: u64,
}

impl Default for Limits {
    /// Well above what installer and live images hold: they stop hostile
    /// images, and images that are not boot images, without cutting short
    /// a real one.
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_files: 500_000,
            max_directory_bytes: 128 << 20,
            max_metadata_bytes: 256 << 20,
            max_path_table_bytes: 16 << 20,
        }
    }
}

/// Indexes the image in `src`: its files, their extents and its boot entries.
/// Reads only the volume descriptors, the directories (with the path table
/// and Rock Ridge continuation areas) and the boot catalogue.
///
/// Errors: `NotIso` (no ISO 9660 volume), `Truncated` (the volume, a
/// directory, a file or a boot image ends past the end of `src`: a copy
/// still under way), `Damaged`/`DirectoryLoop` (inconsistent structures),
/// `TooLarge` (a `Limits` bound), `Unsupported`, `Io`.
pub fn read_image(src: &(impl ReadAt + ?Sized), limits: &Limits) -> Result<IsoImage, IsoError> {
    let len = src.len();
    let d = descriptors::read(src)?;
    check_inside("the volume", 0, d.volume_bytes, len)?;
    if u64::from(d.path_table_size) > limits.max_path_table_bytes {
        return Err(IsoError::TooLarge {
            what: "bytes of path table",
            limit: limits.max_path_table_bytes,
        });
    }
    let (budget, spent) = (Cell::new(limits.max_metadata_bytes), Cell::new(false));
    let walk = Walk {
        names: Names::Primary,
        len,
        limits,
        spent: &spent,
    };
    let img = walk::Image::open(Budgeted::new(src, len, &budget, &spent)).map_err(|e| {
        if spent.get() {
            walk::failure(&walk, "", "")
        } else {
            IsoError::Damaged(e.to_string())
        }
    })?;
    let (root, names) = root(&img);
    let files = walk::files(&img, root, &Walk { names, ..walk })?;
    let boot = match d.boot_catalog {
        Some(sector) => boot_images(src, sector, &files)?,
        None => Vec::new(),
    };
    let sizes = files.iter().map(|(p, f)| (p.clone(), f.size)).collect();
    Ok(IsoImage {
        volume_id: d.volume_id,
        files,
        sizes,
        boot,
    })
}

/// The tree to list: Rock Ridge's, else Joliet's, else the primary one.
fn root<R: ReadAt + ?Sized>(
    img: &walk::Image<'_, R>,
) -> (hadris_iso::directory::DirectoryRef, Names) {
    use hadris_iso::file::EntryType;
    let primary = img.root_dir().dir_ref();
    if img.supports_rrip() {
        return (primary, Names::RockRidge);
    }
    img.root_dirs()
        .iter()
        .find(|r| matches!(r.entry_type(), EntryType::Joliet { .. }))
        .map_or((primary, Names::Primary), |r| (r.dir_ref(), Names::Joliet))
}

/// The catalogue's bootable entries; at most four sectors are read.
fn boot_images(
    src: &(impl ReadAt + ?Sized),
    sector: u32,
    files: &BTreeMap<String, IsoFile>,
) -> Result<Vec<BootImage>, IsoError> {
    let (offset, len) = (u64::from(sector) * SECTOR, src.len());
    check_inside("the El Torito boot catalogue", offset, 64, len)?;
    let mut catalogue = vec![0u8; (4 * SECTOR).min(len - offset) as usize];
    src.read_exact_at(&mut catalogue, offset)?;
    let starts: BTreeMap<u64, (&String, u64)> = files
        .iter()
        .filter_map(|(p, f)| Some((f.extents.first()?.offset, (p, f.size))))
        .collect();
    eltorito::parse(&catalogue)
        .into_iter()
        .map(|e| boot_image(e, &starts, len))
        .collect()
}

fn boot_image(
    e: eltorito::Entry,
    starts: &BTreeMap<u64, (&String, u64)>,
    len: u64,
) -> Result<BootImage, IsoError> {
    let offset = u64::from(e.load_rba) * SECTOR;
    let emulation = match e.media {
        0 => Emulation::NoEmulation,
        1..=3 => Emulation::Floppy,
        4 => Emulation::HardDisk,
        other => Emulation::Other(other),
    };
    let path = starts.get(&offset);
    let size = match (path, e.media) {
        (Some((_, size)), _) => *size,
        (None, 1) => 1_228_800,
        (None, 2) => 1_474_560,
        (None, 3) => 2_949_120,
        (None, _) => u64::from(e.sectors) * 512,
    };
    check_inside("the El Torito boot image", offset, size, len)?;
    let platform = match e.platform {
        0 => Platform::Bios,
        1 => Platform::PowerPc,
        2 => Platform::Mac,
        0xEF => Platform::Efi,
        other => Platform::Other(other),
    };
    let extent = Extent { offset, len: size };
    Ok(BootImage {
        platform,
        emulation,
        extent,
        path: path.map(|(p, _)| (*p).clone()),
    })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "multi_extent_tests.rs"]
mod multi_extent_tests;
