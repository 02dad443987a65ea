//! Uploads under the root's rules (tftpd-hpa's): a missing file needs
//! `--create`, an existing one must be a world-writable regular file unless
//! `--permissive`, the announced size must fit the limit and the disk; then
//! a hidden temporary file beside the target (mode `0666 & ~umask`), synced
//! and renamed over it on commit (keeping the replaced file with history).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{FsError, RootPolicy};

impl RootPolicy {
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
        self.check_target(&target)?;
        if let Some(size) = announced {
            self.check_room(&parent_real, size)?;
        }
        let temp = tempfile::Builder::new()
            .prefix(crate::tftp::stale::TEMP_PREFIX)
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

    /// Whether an upload may land on `target`: replace it (a regular file,
    /// world-writable unless `--permissive`; a link must stay confined) or,
    /// when it does not exist, create it (`--create`).
    fn check_target(&self, target: &Path) -> Result<(), FsError> {
        match target.symlink_metadata() {
            Ok(meta) => {
                if meta.file_type().is_symlink() {
                    self.confine(target)?;
                    let followed = fs::metadata(target)?;
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
        Ok(())
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
    /// versions beside it (0: none; see [`crate::tftp::history`]).
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
        let kept = crate::tftp::history::replace(temp, &self.target, self.keep_versions)?;
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
