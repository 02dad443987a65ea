//! Watching a directory for changes, debounced: the shared half of the
//! profile registry's reload and the image catalogue's rescan. Editors and
//! copies write a file in several steps; a change is reported once things
//! have been quiet for [`DEBOUNCE`] (or at least every [`MAX_DEBOUNCE`]).

use std::path::Path;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Quiet time after the last change before acting on it.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Longest wait for quiet; a directory that never stops changing is still
/// acted on this often.
pub const MAX_DEBOUNCE: Duration = Duration::from_secs(2);

/// Which events count as a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// Anything but reads (profiles: a write is seen as a modification).
    Modifications,
    /// Files created, removed, renamed, changed in their metadata, or
    /// closed after writing, but not each write into a file: a copy of a
    /// 4 GiB ISO is one change, at its end, not a rescan every
    /// [`MAX_DEBOUNCE`] of a file that is not whole yet (the image root).
    WholeFiles,
}

impl Events {
    fn counts(self, kind: &EventKind) -> bool {
        use notify::event::{AccessKind, AccessMode, ModifyKind};
        match kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => self == Events::WholeFiles,
            EventKind::Access(_) => false,
            EventKind::Modify(ModifyKind::Data(_)) => self == Events::Modifications,
            _ => true,
        }
    }
}

/// Starts watching `dir` recursively; each change is a message on `tx`
/// (dropped when one is already pending: nothing is lost). `what` names the
/// directory in log lines. `None` (logged) when it cannot be watched.
pub fn start(
    dir: &Path,
    what: &str,
    events: Events,
    tx: mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if events.counts(&event.kind) {
                let _ = tx.try_send(());
            }
        }
    };
    let watched = notify::recommended_watcher(handler).and_then(|mut w| {
        w.watch(dir, RecursiveMode::Recursive)?;
        Ok(w)
    });
    match watched {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), "cannot watch {what} for changes ({e}); reload with SIGHUP");
            None
        }
    }
}

/// Waits until no change arrived for [`DEBOUNCE`] (at most [`MAX_DEBOUNCE`]).
/// False when cancelled meanwhile.
pub async fn settle(rx: &mut mpsc::Receiver<()>, cancel: &CancellationToken) -> bool {
    let deadline = tokio::time::Instant::now() + MAX_DEBOUNCE;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return false,
            _ = tokio::time::sleep(DEBOUNCE) => return true,
            _ = tokio::time::sleep_until(deadline) => return true,
            more = rx.recv() => if more.is_none() { return true },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, ModifyKind, RenameMode,
    };

    #[test]
    fn the_image_root_counts_whole_files_not_each_write() {
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        let read = EventKind::Access(AccessKind::Close(AccessMode::Read));
        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        let chmod = EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions));
        let created = EventKind::Create(CreateKind::File);
        for kind in [&closed, &renamed, &chmod, &created] {
            assert!(Events::WholeFiles.counts(kind), "{kind:?}");
        }
        assert!(!Events::WholeFiles.counts(&write));
        assert!(!Events::WholeFiles.counts(&read));
        // profiles: an editor's write is the change
        assert!(Events::Modifications.counts(&write));
        assert!(!Events::Modifications.counts(&closed));
    }
}
