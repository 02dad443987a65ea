//! Hot reload: rebuild the registry when a file under the profiles directory
//! changes (debounced) or on SIGHUP, and swap it in whole. SIGHUP is handled
//! from the moment [`watch`] returns, even when the directory does not exist
//! (then a reload says there is nothing to reload, and loads the directory
//! once it has been created). A bad edit keeps the
//! last good registry in service and logs every diagnostic; an exchange in
//! flight keeps the `Arc<Registry>` it loaded, so it always sees one
//! consistent registry.

use std::time::SystemTime;

use crate::events::event::{Reload, Reloaded as What};
use crate::events::{Event, Events};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::boot::ProfileLookup;
use crate::watch::{self, settle};

use super::lookup::Registry;
use super::source::check;

/// Called with the new registry after each reload that swapped one in
/// (`serve` checks its reservations against the served subnets).
pub type AfterSwap = Arc<dyn Fn(&Registry) + Send + Sync>;

/// What one reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// The new registry is in service.
    Swapped {
        /// Profiles loaded.
        profiles: usize,
        /// Fixed addresses reserved.
        reservations: usize,
    },
    /// The profiles have problems; the previous registry stays.
    Kept {
        /// The problems, as logged (`file:line: ...`).
        errors: Vec<String>,
    },
    /// There is no profiles directory: nothing changed.
    NoDirectory,
}

/// Loads the profiles once and swaps them in if they are valid. Blocking I/O:
/// from async code, call it through `spawn_blocking` (as [`watch`] does).
pub fn reload(profiles_dir: &Path, boot_root: &Path, shared: &ArcSwap<Registry>) -> Reloaded {
    if !profiles_dir.is_dir() {
        tracing::info!(dir = %profiles_dir.display(), "no profiles directory: nothing to reload");
        return Reloaded::NoDirectory;
    }
    match check(profiles_dir, boot_root) {
        Ok(registry) => {
            let profiles = registry.profile_count();
            let reservations = registry.reservations().len();
            let reservations6 = registry.reservations6().len();
            shared.store(Arc::new(registry));
            tracing::info!(profiles, reservations, reservations6, dir = %profiles_dir.display(), "profiles loaded");
            Reloaded::Swapped {
                profiles,
                reservations,
            }
        }
        Err(diags) => {
            for d in &diags {
                tracing::warn!("{d}");
            }
            tracing::warn!(
                problems = diags.len(),
                dir = %profiles_dir.display(),
                "profiles not reloaded; keeping the last good registry"
            );
            Reloaded::Kept {
                errors: diags.iter().map(ToString::to_string).collect(),
            }
        }
    }
}

/// Watches `profiles_dir` (and its subdirectories, for templates) and
/// listens for SIGHUP, reloading into `shared` until `cancel` fires, and
/// calling `after_swap` with each registry swapped in. The first load is
/// the caller's (`check` at startup); this only reloads.
pub fn watch(
    profiles_dir: PathBuf,
    boot_root: PathBuf,
    shared: Arc<ArcSwap<Registry>>,
    cancel: CancellationToken,
    after_swap: Option<AfterSwap>,
    events: Events,
) -> JoinHandle<()> {
    // installed before returning, so a SIGHUP right after start-up is ours
    let mut hup = hangups();
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let _watcher = start_watcher(&profiles_dir, tx);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(()) = rx.recv() => {
                    if !settle(&mut rx, &cancel).await {
                        break;
                    }
                    tracing::debug!("profiles changed on disk");
                }
                Some(()) = next_hangup(&mut hup) => tracing::info!("SIGHUP: reloading profiles"),
            }
            let (dir, root, reg) = (profiles_dir.clone(), boot_root.clone(), shared.clone());
            let (hook, events) = (after_swap.clone(), events.clone());
            let done = tokio::task::spawn_blocking(move || {
                let reloaded = reload(&dir, &root, &reg);
                report(&events, &reloaded);
                if let (Reloaded::Swapped { .. }, Some(hook)) = (reloaded, hook) {
                    hook(&reg.load());
                }
            })
            .await;
            if let Err(e) = done {
                tracing::warn!("profile reload task failed: {e}");
            }
        }
    })
}

/// Tells the event stream what a reload did.
fn report(events: &Events, reloaded: &Reloaded) {
    let (ok, detail) = match reloaded {
        Reloaded::Swapped {
            profiles,
            reservations,
        } => (
            true,
            format!("{profiles} profiles, {reservations} reservations"),
        ),
        Reloaded::Kept { errors } => (false, errors.join("\n")),
        Reloaded::NoDirectory => return,
    };
    events.emit(Event::Reload(Reload {
        at: SystemTime::now(),
        what: What::Profiles,
        ok,
        detail,
    }));
}

/// Starts the file watcher; without one (no inotify? no directory yet?),
/// SIGHUP still works.
fn start_watcher(dir: &Path, tx: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    if !dir.is_dir() {
        tracing::info!(dir = %dir.display(), "no profiles directory to watch; once it exists, load it with SIGHUP");
        return None;
    }
    watch::start(dir, "profiles", watch::Events::Modifications, tx)
}

type Hangups = Option<tokio::signal::unix::Signal>;

fn hangups() -> Hangups {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("cannot listen for SIGHUP ({e}); reloads follow file changes only");
            None
        }
    }
}

async fn next_hangup(hup: &mut Hangups) -> Option<()> {
    match hup {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const GOOD: &str = "name: a\nmatch: {default: true}\n";
    const GOOD_TWO: &str =
        "- name: a\n  match: {default: true}\n- name: b\n  match: {arch: bios}\n";

    #[test]
    fn reload_keeps_last_good_on_bad_edit() {
        let dir = tempfile::tempdir().unwrap();
        let shared = ArcSwap::from_pointee(Registry::default());
        std::fs::write(dir.path().join("p.yaml"), GOOD).unwrap();
        let swapped = reload(dir.path(), dir.path(), &shared);
        assert_eq!(
            swapped,
            Reloaded::Swapped {
                profiles: 1,
                reservations: 0
            }
        );
        std::fs::write(dir.path().join("p.yaml"), "name: [\n").unwrap();
        assert!(matches!(
            reload(dir.path(), dir.path(), &shared),
            Reloaded::Kept { errors } if errors.len() == 1
        ));
        assert_eq!(shared.load().profile_names(), vec!["a"]);
    }

    #[test]
    fn reload_without_a_directory_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let shared = ArcSwap::from_pointee(Registry::default());
        let before = shared.load_full();
        let missing = dir.path().join("profiles");
        assert_eq!(reload(&missing, dir.path(), &shared), Reloaded::NoDirectory);
        assert!(Arc::ptr_eq(&before, &shared.load_full()));
        std::fs::create_dir(&missing).unwrap();
        std::fs::write(missing.join("p.yaml"), GOOD).unwrap();
        assert!(matches!(
            reload(&missing, dir.path(), &shared),
            Reloaded::Swapped { profiles: 1, .. }
        ));
    }

    async fn wait_for(shared: &ArcSwap<Registry>, want: &[&str]) -> bool {
        for _ in 0..100 {
            if shared.load().profile_names() == want {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn watch_swaps_good_edits_and_keeps_last_good() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.yaml");
        std::fs::write(&file, GOOD).unwrap();
        let first = check(dir.path(), dir.path()).unwrap();
        let shared = Arc::new(ArcSwap::from_pointee(first));
        let cancel = CancellationToken::new();
        let events = Events::default();
        let task = watch(
            dir.path().into(),
            dir.path().into(),
            shared.clone(),
            cancel.clone(),
            None,
            events.clone(),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;

        std::fs::write(&file, GOOD_TWO).unwrap();
        assert!(wait_for(&shared, &["a", "b"]).await, "good edit swapped in");

        let before = shared.load_full();
        std::fs::write(&file, "- name: a\n  match: {arch: nope}\n").unwrap();
        tokio::time::sleep(crate::watch::DEBOUNCE * 4).await;
        assert!(
            Arc::ptr_eq(&before, &shared.load_full()),
            "bad edit kept the old registry"
        );
        let rejected = events.live().reloads().find(|r| !r.ok).cloned();
        let detail = rejected.expect("the rejected edit is reported").detail;
        assert!(detail.contains("p.yaml:2"), "{detail}");

        std::fs::write(
            dir.path().join("q.yaml"),
            "name: c\nmatch: {arch: uefi-x64}\n",
        )
        .unwrap();
        std::fs::write(&file, GOOD).unwrap();
        assert!(
            wait_for(&shared, &["a", "c"]).await,
            "fixed edit swapped in"
        );

        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn sighup_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let boot = tempfile::tempdir().unwrap();
        let text = "name: a\nmatch: {default: true}\nboot: {bios: pxelinux.0}\n";
        std::fs::write(dir.path().join("p.yaml"), text).unwrap();
        assert!(check(dir.path(), boot.path()).is_err(), "boot file missing");
        let shared = Arc::new(ArcSwap::from_pointee(Registry::default()));
        let cancel = CancellationToken::new();
        let task = watch(
            dir.path().into(),
            boot.path().into(),
            shared.clone(),
            cancel.clone(),
            None,
            Events::default(),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The boot root is not watched: adding the file changes nothing until SIGHUP.
        std::fs::write(boot.path().join("pxelinux.0"), b"").unwrap();
        // SAFETY: raising a signal in our own process, whose handler the
        // watch task has installed.
        unsafe { libc::raise(libc::SIGHUP) };
        assert!(wait_for(&shared, &["a"]).await, "SIGHUP reloaded");
        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }
}
