//! Temporary upload files (`.netboot-upload-*`) left behind by a crash or
//! a power cut: a running server removes its own when a transfer fails,
//! but nobody else ever would. At start-up the root is walked (bounded, no
//! symlinks followed) and those untouched for a minute are removed: an
//! upload in progress writes its file at least every few seconds, so a
//! second server sharing the root keeps its live ones.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Name prefix of every temporary file netboot writes beside an upload.
pub const TEMP_PREFIX: &str = ".netboot-upload-";

/// A temporary file older than this is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// Directories deeper than this below the root are not looked into.
const MAX_DEPTH: usize = 32;

/// At most this many directory entries are looked at in all.
const MAX_ENTRIES: usize = 200_000;

/// What a sweep did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Files removed.
    pub removed: Vec<PathBuf>,
    /// Files that could not be removed, with why.
    pub failed: Vec<(PathBuf, io::Error)>,
    /// The walk stopped at [`MAX_ENTRIES`].
    pub truncated: bool,
}

/// Removes stale temporary upload files under `root` (modified before
/// `now - STALE_AFTER`).
pub fn sweep(root: &Path, now: SystemTime) -> Sweep {
    let mut out = Sweep::default();
    let cutoff = now
        .checked_sub(STALE_AFTER)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                out.truncated = true;
                return out;
            }
            // file_type does not follow symlinks
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth < MAX_DEPTH {
                pending.push((entry.path(), depth + 1));
            } else if kind.is_file() && is_temp(&entry.file_name()) {
                consider(&entry.path(), cutoff, &mut out);
            }
        }
    }
    out
}

fn is_temp(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(TEMP_PREFIX.as_bytes())
}

fn consider(path: &Path, cutoff: SystemTime, out: &mut Sweep) {
    let modified = fs::symlink_metadata(path).and_then(|m| m.modified());
    match modified {
        Ok(when) if when <= cutoff => match fs::remove_file(path) {
            Ok(()) => out.removed.push(path.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => out.failed.push((path.to_path_buf(), e)),
        },
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => out.failed.push((path.to_path_buf(), e)),
    }
}

/// Sweeps `root` and logs what was removed (one line per file) and what
/// could not be.
pub fn sweep_and_log(root: &Path) {
    let result = sweep(root, SystemTime::now());
    for path in &result.removed {
        tracing::info!(path = %path.display(), "removed a stale temporary upload file");
    }
    for (path, e) in &result.failed {
        tracing::warn!(
            path = %path.display(),
            "cannot remove a stale temporary upload file: {e}; remove it by hand"
        );
    }
    if result.truncated {
        tracing::warn!(
            "stopped looking for stale temporary upload files after {MAX_ENTRIES} entries in {}",
            root.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aged(path: &Path, age: Duration) {
        fs::write(path, b"partial").unwrap();
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[test]
    fn only_old_temporary_files_go_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("backups/site-a");
        fs::create_dir_all(&deep).unwrap();
        let old_top = dir.path().join(".netboot-upload-abc");
        let old_deep = deep.join(".netboot-upload-def");
        let live = deep.join(".netboot-upload-live");
        let other = deep.join("r1-confg");
        aged(&old_top, Duration::from_secs(3600));
        aged(&old_deep, Duration::from_secs(120));
        aged(&live, Duration::from_secs(1));
        aged(&other, Duration::from_secs(3600));
        let result = sweep(dir.path(), SystemTime::now());
        let mut removed = result.removed.clone();
        removed.sort();
        let mut want = vec![old_top.clone(), old_deep.clone()];
        want.sort();
        assert_eq!(removed, want);
        assert!(live.exists() && other.exists());
        assert!(!old_top.exists() && !old_deep.exists());
        assert!(result.failed.is_empty() && !result.truncated);
    }

    #[test]
    fn symlinked_directories_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join(".netboot-upload-x");
        aged(&victim, Duration::from_secs(3600));
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        assert!(sweep(dir.path(), SystemTime::now()).removed.is_empty());
        assert!(victim.exists());
    }
}
