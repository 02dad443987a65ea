//! The directory walk: every regular file of one tree of the image (the
//! Rock Ridge / primary tree, or the Joliet one) with its extents, through
//! `hadris-iso`'s directory records. Bounded in depth, files and directory
//! bytes; every extent checked to lie inside the image; a directory that
//! contains its own ancestor is a loop. Symlinks, devices and relocated
//! directories' stand-ins are not files.

use std::cell::Cell;
use std::collections::BTreeMap;

use hadris_iso::directory::DirectoryRef;
use hadris_iso::read::{DirEntry, IsoImage as Parsed};

use super::names::{self, Names};
use super::source::Budgeted;
use super::{Extent, IsoError, IsoFile, Limits, ReadAt, SECTOR};

/// The parsed image the walk reads through.
pub(super) type Image<'a, R> = Parsed<Budgeted<'a, R>>;

/// What the walk needs besides the image.
pub(super) struct Walk<'a> {
    pub names: Names,
    pub len: u64,
    pub limits: &'a Limits,
    /// Set by the cursor when the metadata budget ran out.
    pub spent: &'a Cell<bool>,
}

struct Dir {
    path: String,
    at: DirectoryRef,
    /// The sectors of this directory and its ancestors.
    ancestors: Vec<usize>,
}

/// Every regular file under `root`, by path.
pub(super) fn files<R: ReadAt + ?Sized>(
    img: &Image<'_, R>,
    root: DirectoryRef,
    walk: &Walk<'_>,
) -> Result<BTreeMap<String, IsoFile>, IsoError> {
    let mut files = BTreeMap::new();
    let mut directory_bytes = 0u64;
    let root_sector = root.extent.0;
    let mut stack = vec![Dir {
        path: String::new(),
        at: root,
        ancestors: vec![root_sector],
    }];
    while let Some(dir) = stack.pop() {
        directory_bytes = directory_bytes.saturating_add(dir.at.size as u64);
        if directory_bytes > walk.limits.max_directory_bytes {
            return Err(too_large(
                "bytes of directory records",
                walk.limits.max_directory_bytes,
            ));
        }
        check_inside(
            &dir_name(&dir.path),
            dir.at.extent.0 as u64 * SECTOR,
            dir.at.size as u64,
            walk.len,
        )?;
        for entry in img.open_dir(dir.at).entries() {
            let entry = entry.map_err(|e| failure(walk, &dir.path, &e.to_string()))?;
            visit(img, &dir, entry, walk, &mut stack, &mut files)?;
        }
    }
    Ok(files)
}

fn visit<R: ReadAt + ?Sized>(
    img: &Image<'_, R>,
    dir: &Dir,
    entry: DirEntry,
    walk: &Walk<'_>,
    stack: &mut Vec<Dir>,
    files: &mut BTreeMap<String, IsoFile>,
) -> Result<(), IsoError> {
    if entry.is_special() || !plain(&entry) {
        return Ok(());
    }
    let nm = entry
        .rrip
        .as_ref()
        .and_then(|r| r.alternate_name.as_deref());
    let Some(name) = names::name(walk.names, entry.name(), nm) else {
        return Ok(());
    };
    let path = if dir.path.is_empty() {
        name
    } else {
        format!("{}/{name}", dir.path)
    };
    if entry.is_directory() {
        return push_dir(img, dir, &entry, path, walk, stack);
    }
    if files.len() >= walk.limits.max_files {
        return Err(too_large("files", walk.limits.max_files as u64));
    }
    let file = file(&path, &entry, walk.len)?;
    files.entry(path).or_insert(file);
    Ok(())
}

/// Not a symlink, device, FIFO or socket (Rock Ridge), nor a relocated
/// directory's original place (reached through its child link instead).
fn plain(entry: &DirEntry) -> bool {
    let Some(rr) = entry.rrip.as_ref() else {
        return true;
    };
    let kind = rr
        .posix_attributes
        .as_ref()
        .map(|px| px.file_mode.read() & 0o170000);
    rr.symlink_target.is_none()
        && !rr.is_relocated
        && matches!(kind, None | Some(0o100000 | 0o040000))
}

fn push_dir<R: ReadAt + ?Sized>(
    img: &Image<'_, R>,
    parent: &Dir,
    entry: &DirEntry,
    path: String,
    walk: &Walk<'_>,
    stack: &mut Vec<Dir>,
) -> Result<(), IsoError> {
    if parent.ancestors.len() >= walk.limits.max_depth {
        return Err(too_large("directory depth", walk.limits.max_depth as u64));
    }
    let at = entry
        .as_dir_ref(img)
        .map_err(|e| failure(walk, &path, &e.to_string()))?;
    if parent.ancestors.contains(&at.extent.0) {
        return Err(IsoError::DirectoryLoop(dir_name(&path)));
    }
    let mut ancestors = parent.ancestors.clone();
    ancestors.push(at.extent.0);
    stack.push(Dir {
        path,
        at,
        ancestors,
    });
    Ok(())
}

/// The file's extents (empty ones dropped), each inside the image.
fn file(path: &str, entry: &DirEntry, len: u64) -> Result<IsoFile, IsoError> {
    let mut extents = Vec::new();
    let mut size = 0u64;
    for x in entry.extents() {
        let e = Extent {
            offset: x.sector.0 as u64 * SECTOR,
            len: u64::from(x.length),
        };
        if e.len == 0 {
            continue;
        }
        check_inside(&format!("file {path}"), e.offset, e.len, len)?;
        size += e.len;
        extents.push(e);
    }
    Ok(IsoFile { extents, size })
}

/// `Truncated` when `offset + size` lies past `len`.
pub(super) fn check_inside(what: &str, offset: u64, size: u64, len: u64) -> Result<(), IsoError> {
    let end = offset.saturating_add(size);
    if end > len {
        return Err(IsoError::Truncated {
            what: what.to_string(),
            end,
            len,
        });
    }
    Ok(())
}

fn dir_name(path: &str) -> String {
    format!("directory /{path}")
}

fn too_large(what: &'static str, limit: u64) -> IsoError {
    IsoError::TooLarge { what, limit }
}

/// A parser error: the budget's end, or damage in the directory at `path`.
pub(super) fn failure(walk: &Walk<'_>, path: &str, error: &str) -> IsoError {
    if walk.spent.get() {
        return too_large("bytes of metadata read", walk.limits.max_metadata_bytes);
    }
    IsoError::Damaged(format!("{}: {error}", dir_name(path)))
}
