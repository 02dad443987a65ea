//! Upload history (`--keep-versions N`): when an upload replaces a file,
//! the previous one is kept beside it, named after the time it was stored,
//! and the oldest beyond N are removed. `netboot backups` reads them.
//!
//! Layout: the versions of `DIR/r1-confg` are `DIR/.netboot-versions/
//! r1-confg/20261207T031500Z` (UTC modification time of that version; a
//! `.N` suffix when two share a second). Names starting with `.netboot-`
//! are refused over TFTP (see [`super::fs::relative_path`]), so history is
//! never downloaded or overwritten by a client.
//!
//! Order of the steps, so that a crash between any two loses nothing and
//! the current file is always present and whole: the new data is synced in
//! its temporary file; the old file gets a second name in the versions
//! directory (a hard link: no copy, no half-written version; a copy to a
//! temporary file then renamed where links are impossible), synced; the
//! temporary file is renamed over the target, synced; then old versions
//! are pruned. An upload with the same bytes as the current file keeps no
//! version.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tempfile::NamedTempFile;

use super::stale::TEMP_PREFIX;

/// The directory, beside the uploads, holding their versions.
pub const VERSIONS_DIR: &str = ".netboot-versions";

/// One kept version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Its file.
    pub path: PathBuf,
    /// Its name: the UTC time it was stored, `20261207T031500Z[.N]`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// Where the versions of `target` live.
pub fn versions_dir(target: &Path) -> Option<PathBuf> {
    let name = target.file_name()?;
    Some(target.parent()?.join(VERSIONS_DIR).join(name))
}

/// Renames the synced `temp` over `target`, first keeping the file it
/// replaces as a version when `keep` is above 0, then pruning the versions
/// to the newest `keep`. Returns the version kept, if any.
pub fn replace(temp: NamedTempFile, target: &Path, keep: usize) -> io::Result<Option<PathBuf>> {
    let kept = if keep > 0 {
        // Refused rather than replaced without it: the history asked for
        // would lose a version, and the current file stays as it is.
        keep_current(temp.path(), target).map_err(|e| {
            let what = format!("cannot keep the file it replaces as a version: {e}");
            io::Error::new(e.kind(), what)
        })?
    } else {
        None
    };
    temp.persist(target).map_err(|e| e.error)?;
    if let Some(dir) = target.parent() {
        File::open(dir)?.sync_all()?;
    }
    if keep > 0 {
        // The upload is in place: a version that cannot be removed now is
        // removed by the next upload.
        if let Some(dir) = versions_dir(target) {
            if let Err(e) = prune(&dir, keep) {
                tracing::warn!(dir = %dir.display(), "cannot remove old versions: {e}");
            }
        }
    }
    Ok(kept)
}

/// Gives the current `target` a name in its versions directory, unless it
/// is missing, not a file, already kept, or the same bytes as `new`.
fn keep_current(new: &Path, target: &Path) -> io::Result<Option<PathBuf>> {
    let current = match fs::metadata(target) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if same_bytes(new, target)? {
        return Ok(None);
    }
    let Some(dir) = versions_dir(target) else {
        return Ok(None);
    };
    let existing = list(&dir)?;
    let already = existing.last().and_then(|v| fs::metadata(&v.path).ok());
    if already.is_some_and(|m| m.dev() == current.dev() && m.ino() == current.ino()) {
        return Ok(None); // a crash after linking, before the rename
    }
    make_dirs(&dir)?;
    let stamp = utc_stamp(current.modified()?);
    let kept = link_or_copy(target, &dir, &stamp)?;
    File::open(&dir)?.sync_all()?;
    Ok(Some(kept))
}

fn make_dirs(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)?;
    if let Some(parent) = dir.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// A new name for `target` in `dir`: `stamp`, or `stamp.N` when taken.
fn link_or_copy(target: &Path, dir: &Path, stamp: &str) -> io::Result<PathBuf> {
    let symlink = fs::symlink_metadata(target)?.file_type().is_symlink();
    for n in 0..1000 {
        let name = if n == 0 {
            stamp.to_string()
        } else {
            format!("{stamp}.{n}")
        };
        let path = dir.join(name);
        let made = if symlink {
            copy_into(target, &path)
        } else {
            match fs::hard_link(target, &path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => copy_into(target, &path),
                other => other,
            }
        };
        match made {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "1000 versions stored in the same second in {}",
        dir.display()
    )))
}

/// Copies `from` to a temporary file beside `to`, syncs it and gives it
/// the name `to` (failing if taken): never a half-written version.
fn copy_into(from: &Path, to: &Path) -> io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    io::copy(&mut File::open(from)?, temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(to).map_err(|e| e.error)?;
    Ok(())
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        if n != read_full(&mut fb, &mut bb)? || ba[..n] != bb[..n] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Removes all but the newest `keep` versions in `dir`.
fn prune(dir: &Path, keep: usize) -> io::Result<()> {
    let versions = list(dir)?;
    let excess = versions.len().saturating_sub(keep);
    for old in &versions[..excess] {
        match fs::remove_file(&old.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => tracing::debug!(path = %old.path.display(), "old version removed"),
        }
    }
    Ok(())
}

/// The versions in `dir`, oldest first; none when it does not exist.
pub fn list(dir: &Path) -> io::Result<Vec<Version>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(key) = sort_key(&name) else {
            continue; // temporary files, anything not ours
        };
        let meta = entry.metadata()?;
        if meta.is_file() {
            out.push((
                key,
                Version {
                    path: entry.path(),
                    name,
                    size: meta.len(),
                },
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

/// `20261207T031500Z` or `20261207T031500Z.3` → (stamp, 3).
fn sort_key(name: &str) -> Option<(String, u32)> {
    let (stamp, n) = match name.split_once('.') {
        Some((stamp, n)) => (stamp, n.parse().ok()?),
        None => (name, 0),
    };
    let ok = stamp.len() == 16
        && stamp.as_bytes()[8] == b'T'
        && stamp.ends_with('Z')
        && stamp[..8]
            .bytes()
            .chain(stamp[9..15].bytes())
            .all(|b| b.is_ascii_digit());
    ok.then(|| (stamp.to_string(), n))
}

/// `20261207T031500Z` for a time (UTC, whole seconds; before 1970 is 1970).
pub fn utc_stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rest / 3600, rest / 60 % 60, rest % 60);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

/// `2026-12-07 03:15:00 UTC` for a version name (`None` if not one).
pub fn readable(name: &str) -> Option<String> {
    let (stamp, n) = sort_key(name)?;
    let b = |r: std::ops::Range<usize>| &stamp[r];
    let suffix = if n > 0 {
        format!(" (#{n})")
    } else {
        String::new()
    };
    Some(format!(
        "{}-{}-{} {}:{}:{} UTC{suffix}",
        b(0..4),
        b(4..6),
        b(6..8),
        b(9..11),
        b(11..13),
        b(13..15)
    ))
}

/// Year, month, day of a count of days since 1970-01-01 (the proleptic
/// Gregorian calendar, in 400-year eras).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
