//! The map file on disk: read and parsed with errors that name the file,
//! and read again on SIGHUP, as tftpd-hpa does. The rules in force live in
//! an [`ArcSwap`] shared with every transfer, so a reload swaps them whole:
//! a transfer sees the old rules or the new ones, never a mix, and a file
//! that no longer parses keeps the old rules (with a warning that says
//! where the file is wrong).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::remap::RemapRules;

/// The rules in force, shared by the server and the reload task.
pub type SharedRules = Arc<ArcSwap<RemapRules>>;

/// A map file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("map file {}: {message}", path.display())]
pub struct MapFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (a parse error names the line).
    pub message: String,
}

/// Reads and parses the map file at `path`.
pub fn load(path: &Path) -> Result<RemapRules, MapFileError> {
    let error = |message: String| MapFileError {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    RemapRules::parse(&text).map_err(|e| error(e.to_string()))
}

/// Reads `path` again into `rules`; on failure the rules in force stay.
/// True when the new rules were swapped in.
pub fn reload(path: &Path, rules: &ArcSwap<RemapRules>) -> bool {
    match load(path) {
        Ok(new) => {
            tracing::info!(
                "map file {} re-read: {} rule(s) in force",
                path.display(),
                new.len()
            );
            rules.store(Arc::new(new));
            true
        }
        Err(e) => {
            tracing::warn!(
                "{e}; the previous rules stay in force until it is fixed and SIGHUP is sent again"
            );
            false
        }
    }
}

/// Listens for SIGHUP until `cancel` fires, reading `path` again into
/// `rules` each time (without a map file, it only says so: SIGHUP never
/// stops the server). The handler is installed before this returns, so a
/// SIGHUP sent as soon as the server is up is not fatal. Call from within
/// a tokio runtime.
pub fn reload_on_hangup(
    path: Option<PathBuf>,
    rules: SharedRules,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    let hangups = signal(SignalKind::hangup());
    tokio::spawn(async move {
        let mut hangups = match hangups {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP ({e}); restart to re-read the map file");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                got = hangups.recv() => if got.is_none() { break },
            }
            let Some(path) = path.clone() else {
                tracing::info!("SIGHUP: no map file to re-read");
                continue;
            };
            let rules = Arc::clone(&rules);
            let done = tokio::task::spawn_blocking(move || reload(&path, &rules)).await;
            if let Err(e) = done {
                tracing::warn!("map file reload failed: {e}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    use crate::tftp::remap::Remapped;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn a_bad_edit_keeps_the_rules_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map");
        std::fs::write(&path, "r ^old new\n").unwrap();
        let rules = ArcSwap::from_pointee(load(&path).unwrap());
        std::fs::write(&path, "r ^old newer\nrz broken\n").unwrap();
        assert!(!reload(&path, &rules));
        let name = |r: &ArcSwap<RemapRules>| r.load().apply("old", false, CLIENT);
        assert_eq!(name(&rules), Remapped::Name("new".into()));
        std::fs::write(&path, "r ^old newer\n").unwrap();
        assert!(reload(&path, &rules));
        assert_eq!(name(&rules), Remapped::Name("newer".into()));
        let err = load(&dir.path().join("absent")).unwrap_err().to_string();
        assert!(err.contains("absent"), "{err}");
    }
}
