//! The served directory: turning a requested name into a file inside the
//! root, opening it for reading, and uploads that land atomically.
//!
//! Confinement rules (always): the name is taken relative to the root (a
//! leading `/` means "from the root", as GRUB asks, and as tftpd-hpa's
//! `--secure` chroot behaves); a `..` component, an empty component after
//! remapping, or a NUL byte is an access violation. With `--secure` the
//! resolved file must also stay inside the root once symlinks are followed.
//! Only regular files are ever read or replaced: devices, FIFOs and
//! directories are refused without being opened at all (the name is looked
//! at without following links first, and what was opened is checked to be
//! that same regular file).
//!
//! Uploads follow tftpd-hpa's rules: a missing file needs `--create`
//! (else ERROR 1), an existing one must be world-writable unless
//! `--permissive` (else ERROR 2), and new files are `0666 & ~umask` with a
//! umask of 0 unless one is given ([`default_umask`]). They are written to
//! a hidden temporary file in the target directory, synced, and renamed
//! over the target only after the last block (keeping the replaced file
//! when history is on, see [`super::history`]), so an aborted upload leaves
//! nothing behind and a reader never sees half a file. Names starting with
//! `.netboot-` are netboot's own and refused.
//!
//! Here: names, confinement and reading; `upload` holds the upload rules
//! and [`Upload`].

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use super::packet::ErrorCode;
use super::roots::{self, ServedDir};

/// How the root is served; set from the command line.
#[derive(Debug, Clone)]
pub struct RootPolicy {
    /// The served directory (absolute, canonical).
    pub root: PathBuf,
    /// Refuse files whose real path leaves the root (`--secure`).
    pub secure: bool,
    /// Allow uploads to create new files (`--create`).
    pub create: bool,
    /// Relax the "existing file must be world-writable" rule for uploads
    /// and the "world-readable" rule for downloads (`--permissive`).
    pub permissive: bool,
    /// Retry a missing name case-insensitively, component by component.
    pub case_insensitive: bool,
    /// Permission bits cleared on uploaded files (`--umask`).
    pub umask: u32,
    /// Largest upload accepted, in bytes.
    pub max_upload: Option<u64>,
    /// Every served directory in lookup order, `root` first (`netboot
    /// tftp DIR1 DIR2`); empty means `root` alone. See [`roots`].
    pub dirs: Vec<ServedDir>,
}

/// Why a request for a file is refused; maps onto a TFTP error.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The name tries to leave the root or is malformed.
    #[error("access violation: {0}")]
    Access(String),
    /// No such file.
    #[error("file not found")]
    NotFound,
    /// An upload names a file that does not exist, and uploads may not
    /// create files. tftpd-hpa answers this with ERROR 1 too.
    #[error("file does not exist and uploads may not create files (--create)")]
    NoCreate,
    /// The upload would replace a file that is not world-writable (without
    /// `--permissive`), as tftpd-hpa refuses it: ERROR 2.
    #[error(
        "file is not world-writable, so an upload may not replace it (chmod o+w, or --permissive)"
    )]
    NotWritable,
    /// The upload does not fit.
    #[error("disk full or allocation exceeded: {0}")]
    DiskFull(String),
    /// Any other I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl FsError {
    /// The TFTP error code and message to send.
    pub fn to_tftp(&self) -> (ErrorCode, String) {
        match self {
            FsError::Access(why) => (
                ErrorCode::AccessViolation,
                format!("Access violation: {why}"),
            ),
            FsError::NotFound | FsError::NoCreate => {
                (ErrorCode::FileNotFound, "File not found".into())
            }
            FsError::NotWritable => (
                ErrorCode::AccessViolation,
                "Access violation: file not world-writable".into(),
            ),
            FsError::DiskFull(why) => (ErrorCode::DiskFull, format!("Disk full: {why}")),
            FsError::Io(e) if e.raw_os_error() == Some(libc::ENOSPC) => (
                ErrorCode::DiskFull,
                "Disk full or allocation exceeded".into(),
            ),
            FsError::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                (ErrorCode::AccessViolation, "Permission denied".into())
            }
            FsError::Io(e) => (ErrorCode::NotDefined, e.to_string()),
        }
    }
}

/// Names starting with this are netboot's own (temporary uploads, upload
/// history) and refused over TFTP, for reading and writing.
const RESERVED: &[u8] = b".netboot-";

/// The root-relative path of a request, checked for shape only.
pub fn relative_path(name: &[u8]) -> Result<PathBuf, FsError> {
    if name.contains(&0) {
        return Err(FsError::Access("NUL byte in file name".into()));
    }
    let start = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
    let trimmed = &name[start..];
    let path = Path::new(OsStr::from_bytes(trimmed));
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) if part.as_encoded_bytes().starts_with(RESERVED) => {
                return Err(FsError::Access(
                    "name reserved for netboot's own files".into(),
                ))
            }
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(FsError::Access("'..' in file name".into())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(FsError::Access("absolute file name".into()))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(FsError::Access("empty file name".into()));
    }
    Ok(out)
}

impl RootPolicy {
    /// Resolves a request's name to a path under the root. A missing file is
    /// not an error here (uploads create files); the path returned exists up
    /// to its parent directory.
    /// With several directories, the first that has the name wins (an
    /// upload of a new file goes to the first candidate).
    pub fn resolve(&self, name: &[u8]) -> Result<PathBuf, FsError> {
        let relative = relative_path(name)?;
        let alone = [ServedDir {
            path: self.root.clone(),
            named: self.root.clone(),
        }];
        let dirs = if self.dirs.is_empty() {
            &alone[..]
        } else {
            &self.dirs
        };
        let candidates = roots::candidates(name, &relative, dirs, !self.secure);
        if let Some(found) = candidates.iter().find(|p| p.symlink_metadata().is_ok()) {
            return Ok(found.clone());
        }
        if self.case_insensitive {
            let mut found = dirs
                .iter()
                .filter_map(|dir| self.find_case_insensitive(&dir.path, &relative));
            if let Some(path) = found.next() {
                return Ok(path);
            }
        }
        Ok(candidates
            .into_iter()
            .next()
            .unwrap_or_else(|| self.root.join(&relative)))
    }

    fn find_case_insensitive(&self, base: &Path, relative: &Path) -> Option<PathBuf> {
        let mut current = base.to_path_buf();
        for part in relative.components() {
            let exact = current.join(part);
            if exact.symlink_metadata().is_ok() {
                current = exact;
                continue;
            }
            let wanted = part.as_os_str().to_string_lossy().to_lowercase();
            let found = fs::read_dir(&current)
                .ok()?
                .flatten()
                .find(|entry| entry.file_name().to_string_lossy().to_lowercase() == wanted)?;
            current = found.path();
        }
        Some(current)
    }

    /// With `--secure`, refuses a path whose real location leaves the root.
    fn confine(&self, path: &Path) -> Result<PathBuf, FsError> {
        let real = match path.canonicalize() {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FsError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if self.secure && !real.starts_with(&self.root) {
            return Err(FsError::Access(
                "path leads outside the served directory".into(),
            ));
        }
        Ok(real)
    }

    /// Opens a file for a download.
    pub fn open_read(&self, path: &Path) -> Result<(File, u64), FsError> {
        let real = self.confine(path)?;
        // Look first, not following links (`real` has none left): a FIFO
        // or a device is refused unopened. Opening a FIFO would wake a
        // writer waiting on it; opening a device can have side effects.
        let seen = fs::symlink_metadata(&real).map_err(not_found_or)?;
        if !seen.file_type().is_file() {
            return Err(FsError::Access("not a regular file".into()));
        }
        // The name can be swapped between the look and the open: no links,
        // no blocking, no controlling terminal, then check it is the file
        // that was looked at.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&real)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => FsError::Access("file replaced while opening".into()),
                _ => not_found_or(e),
            })?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.dev() != seen.dev() || meta.ino() != seen.ino() {
            return Err(FsError::Access("file replaced while opening".into()));
        }
        if !self.permissive && meta.mode() & 0o004 == 0 {
            return Err(FsError::Access("file is not world-readable".into()));
        }
        Ok((file, meta.len()))
    }
}

fn not_found_or(e: io::Error) -> FsError {
    if e.kind() == io::ErrorKind::NotFound {
        FsError::NotFound
    } else {
        FsError::Io(e)
    }
}

mod upload;

pub use upload::{default_umask, upload_fits, Upload};

#[cfg(test)]
#[path = "fs_tests.rs"]
mod tests;
