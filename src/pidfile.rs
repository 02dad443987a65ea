//! `--pidfile`: the PID written before privileges are dropped, and the file
//! removed again on exit. The file is handed to the user the server runs as,
//! so it may remove it from a sticky directory such as `/tmp`; where that
//! user may not remove it at all (a root-owned directory like `/run`) it is
//! emptied instead, as the start-up warning from [`Pidfile::removable`] says.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why the PID file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the PID file {path}: {source} (check the directory exists and is writable, or drop --pidfile)")]
pub struct PidfileError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// A written PID file, removed (or emptied) when dropped.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    file: File,
}

impl Pidfile {
    /// Writes this process's PID and a newline to `path` (mode 0644).
    pub fn create(path: &Path) -> Result<Self, PidfileError> {
        let fail = |source| PidfileError {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(path)
            .map_err(fail)?;
        writeln!(file, "{}", std::process::id()).map_err(fail)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Gives the file to `uid`/`gid` (the user the server will run as).
    pub fn hand_to(&self, uid: u32, gid: u32) -> Result<(), PidfileError> {
        std::os::unix::fs::fchown(&self.file, Some(uid), Some(gid)).map_err(|source| PidfileError {
            path: self.path.clone(),
            source,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this process may remove the file (write and search
    /// permission on its directory), asked as the user it runs as now.
    pub fn removable(&self) -> bool {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        nix::unistd::access(
            dir,
            nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
        )
        .is_ok()
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                // no stale PID left behind at least
                let emptied = self.file.set_len(0).is_ok();
                tracing::warn!(
                    "cannot remove the PID file {}: {e}{}",
                    self.path.display(),
                    if emptied { "; emptied it instead" } else { "" }
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_pid_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netboot.pid");
        let pid = Pidfile::create(&path).unwrap();
        assert!(pid.removable());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
        drop(pid);
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_directory_is_a_clear_error() {
        let e = Pidfile::create(Path::new("/nonexistent-dir/netboot.pid")).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent-dir/netboot.pid"),
            "{e}"
        );
    }
}
