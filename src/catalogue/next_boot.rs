//! One-shot boot (`netboot next MAC ENTRY`): the entry a machine boots once,
//! kept as one small file per machine under `next-boot/` in the state
//! directory (written whole: temporary file, fsync, rename), so it survives
//! restarts and `netboot next` needs no running server. `serve` reads it
//! when it writes the machine's menu and removes it when the machine has
//! fetched the entry's kernel, or has asked for its done URL, as the entry
//! says.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mac::MacAddr;

/// The directory under the state directory.
pub const DIR: &str = "next-boot";

/// When a one-shot boot is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// Once the machine has fetched the entry's kernel (or image).
    #[default]
    Kernel,
    /// Once the installer has requested the entry's `{done_url}`.
    Done,
}

/// A machine's next boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextBoot {
    /// The catalogue entry.
    pub entry: String,
    /// When it is over.
    #[serde(default)]
    pub until: Until,
}

fn path(state_dir: &Path, mac: &MacAddr) -> PathBuf {
    state_dir.join(DIR).join(mac.dash())
}

/// Sets `mac`'s next boot.
pub fn set(state_dir: &Path, mac: &MacAddr, next: &NextBoot) -> std::io::Result<()> {
    let dir = state_dir.join(DIR);
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    // readable by `serve`, which runs as its own user
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    let text = serde_json::to_string(next).map_err(std::io::Error::other)?;
    writeln!(tmp, "{text}")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path(state_dir, mac)).map_err(|e| e.error)?;
    std::fs::File::open(&dir)?.sync_all()
}

/// `mac`'s next boot, if one is set (an unreadable file is logged and ignored).
pub fn get(state_dir: &Path, mac: &MacAddr) -> Option<NextBoot> {
    let file = path(state_dir, mac);
    let text = std::fs::read_to_string(&file).ok()?;
    match serde_json::from_str(&text) {
        Ok(next) => Some(next),
        Err(e) => {
            tracing::warn!(file = %file.display(), "ignoring an unreadable one-shot boot: {e}");
            None
        }
    }
}

/// Removes `mac`'s next boot; true when there was one.
pub fn clear(state_dir: &Path, mac: &MacAddr) -> std::io::Result<bool> {
    match std::fs::remove_file(path(state_dir, mac)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Every machine with a next boot set, by MAC.
pub fn list(state_dir: &Path) -> Vec<(MacAddr, NextBoot)> {
    let Ok(items) = std::fs::read_dir(state_dir.join(DIR)) else {
        return Vec::new();
    };
    let mut out: Vec<(MacAddr, NextBoot)> = items
        .flatten()
        .filter_map(|i| i.file_name().to_str()?.parse::<MacAddr>().ok())
        .filter_map(|mac| Some((mac, get(state_dir, &mac)?)))
        .collect();
    out.sort_by_key(|(mac, _)| *mac);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_list_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let mac: MacAddr = "52:54:00:12:34:56".parse().unwrap();
        let next = NextBoot {
            entry: "debian.iso".into(),
            until: Until::Done,
        };
        assert_eq!(get(dir.path(), &mac), None);
        set(dir.path(), &mac, &next).unwrap();
        assert_eq!(get(dir.path(), &mac), Some(next.clone()));
        assert_eq!(list(dir.path()), vec![(mac, next)]);
        assert!(clear(dir.path(), &mac).unwrap());
        assert!(!clear(dir.path(), &mac).unwrap());
        assert!(list(dir.path()).is_empty());
    }
}
