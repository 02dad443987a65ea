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

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
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

    /// Prepares an upload to `path`: checks the rules, and the announced
    /// size (tsize) against the limit and the free space.
    pub fn begin_upload(&self, path: &Path, announced: Option<u64>) -> Result<Upload, FsError> {
        let parent = path
            .parent()
            .ok_or_else(|| FsError::Access("no directory".into()))?;
        let parent_real = self.confine(parent)?;
        let file_name = path
            .file_name()
            .ok_or_else(|| FsError::Access("no file name".into()))?;
        let target = parent_real.join(file_name);
        match target.symlink_metadata() {
            Ok(meta) => {
                if meta.file_type().is_symlink() {
                    self.confine(&target)?;
                    let followed = fs::metadata(&target)?;
                    self.check_replace(&followed)?;
                } else {
                    self.check_replace(&meta)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !self.create {
                    return Err(FsError::NoCreate);
                }
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(size) = announced {
            self.check_room(&parent_real, size)?;
        }
        let temp = tempfile::Builder::new()
            .prefix(super::stale::TEMP_PREFIX)
            .tempfile_in(&parent_real)?;
        let mode = 0o666 & !self.umask;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
        Ok(Upload {
            temp: Some(temp),
            target,
            written: 0,
            limit: self.max_upload,
            keep_versions: 0,
        })
    }

    fn check_replace(&self, meta: &fs::Metadata) -> Result<(), FsError> {
        if !meta.is_file() {
            return Err(FsError::Access("not a regular file".into()));
        }
        if !self.permissive && meta.mode() & 0o002 == 0 {
            return Err(FsError::NotWritable);
        }
        Ok(())
    }

    fn check_room(&self, dir: &Path, size: u64) -> Result<(), FsError> {
        let stat = nix::sys::statvfs::statvfs(dir).map_err(io::Error::from)?;
        let free = stat.blocks_available().saturating_mul(stat.fragment_size());
        upload_fits(size, self.max_upload, free)
    }
}

/// The umask uploads get when none is given, as tftpd-hpa chooses it: 0
/// (files created `rw-rw-rw-`, so the next upload of the same name may
/// replace them), or with `--permissive` the umask the process inherited.
pub fn default_umask(permissive: bool) -> u32 {
    if permissive {
        inherited_umask().unwrap_or(0o022)
    } else {
        0
    }
}

/// The process's umask, read from `/proc/self/status` (setting it to read
/// it would race with other threads creating files).
fn inherited_umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}

/// Whether an upload announced (tsize) as `size` bytes is allowed under the
/// upload `limit` and fits in `free` bytes of the file system.
pub fn upload_fits(size: u64, limit: Option<u64>, free: u64) -> Result<(), FsError> {
    if let Some(limit) = limit {
        if size > limit {
            return Err(FsError::DiskFull(format!(
                "{size} bytes exceed the upload limit of {limit}"
            )));
        }
    }
    if size > free {
        return Err(FsError::DiskFull(format!(
            "{size} bytes announced, {free} free"
        )));
    }
    Ok(())
}

fn not_found_or(e: io::Error) -> FsError {
    if e.kind() == io::ErrorKind::NotFound {
        FsError::NotFound
    } else {
        FsError::Io(e)
    }
}

/// An upload in progress: a hidden temporary file beside its target.
/// Dropping it without [`Upload::commit`] deletes the temporary file.
#[derive(Debug)]
pub struct Upload {
    temp: Option<tempfile::NamedTempFile>,
    target: PathBuf,
    written: u64,
    limit: Option<u64>,
    keep_versions: usize,
}

impl Upload {
    /// Appends received bytes.
    pub fn write(&mut self, data: &[u8]) -> Result<(), FsError> {
        self.written += data.len() as u64;
        if let Some(limit) = self.limit {
            if self.written > limit {
                return Err(FsError::DiskFull(format!(
                    "upload limit of {limit} bytes reached"
                )));
            }
        }
        let temp = self
            .temp
            .as_mut()
            .ok_or_else(|| FsError::Access("upload already finished".into()))?;
        temp.as_file_mut().write_all(data)?;
        Ok(())
    }

    /// Keeps the file this upload replaces as one of the newest `n`
    /// versions beside it (0: none; see [`super::history`]).
    pub fn keep_versions(&mut self, n: usize) {
        self.keep_versions = n;
    }

    /// Syncs the data and renames the file into place (keeping the one it
    /// replaces when asked), then syncs the directory so the rename
    /// survives a crash.
    pub fn commit(&mut self) -> Result<u64, FsError> {
        let temp = self
            .temp
            .take()
            .ok_or_else(|| FsError::Access("upload already finished".into()))?;
        temp.as_file().sync_all()?;
        let kept = super::history::replace(temp, &self.target, self.keep_versions)?;
        if let Some(version) = kept {
            tracing::info!(version = %version.display(), "previous version kept");
        }
        Ok(self.written)
    }

    /// Where the upload will land.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

#[cfg(test)]
#[path = "fs_tests.rs"]
mod tests;
