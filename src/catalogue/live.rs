//! The catalogue in service: held in an `ArcSwap` and swapped whole by a
//! rescan when something under the root changes (or on SIGHUP), so a menu
//! or a download always sees one consistent catalogue and a broken ISO never
//! takes the menu down. Also the TFTP and HTTP servers' view of the files inside
//! catalogued ISOs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{scan, Catalogue};
use crate::events::event::{Reload, Reloaded};
use crate::events::{Event, Events};
use crate::regions::{Region, Regions};
use crate::watch::{self, Events as Changes};

/// The catalogue every server reads.
pub type Shared = Arc<ArcSwap<Catalogue>>;

/// An empty catalogue of `root`, filled by [`watch`]'s first scan.
pub fn empty(root: PathBuf) -> Shared {
    Arc::new(ArcSwap::from_pointee(Catalogue {
        root,
        ..Catalogue::default()
    }))
}

/// Called with the new catalogue after each scan (`serve` says there what
/// UEFI machines are sent when that changed).
pub type AfterScan = Box<dyn FnMut(&Catalogue) + Send>;

/// Scans the root into `shared` at once, then again whenever something
/// under it changes or on SIGHUP, until `cancel`, reporting each change
/// to `events`; `after` sees each new catalogue.
pub fn watch(
    shared: Shared,
    events: Events,
    cancel: CancellationToken,
    mut after: Option<AfterScan>,
) -> JoinHandle<()> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    tokio::spawn(async move {
        let root = shared.load().root.clone();
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let _watcher = watch::start(&root, "the boot root", Changes::WholeFiles, tx);
        rescan(&shared, &events).await;
        if let Some(f) = &mut after {
            f(&shared.load());
        }
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(()) = rx.recv() => if !watch::settle(&mut rx, &cancel).await { break },
                Some(()) = async { hup.as_mut()?.recv().await } => {},
            }
            rescan(&shared, &events).await;
            if let Some(f) = &mut after {
                f(&shared.load());
            }
        }
    })
}

async fn rescan(shared: &Shared, events: &Events) {
    let (shared, events) = (Arc::clone(shared), events.clone());
    let done = tokio::task::spawn_blocking(move || {
        let old = shared.load_full();
        let new = scan(&old.root, Some(&old));
        if changed(&old, &new) {
            let root = new.root.display().to_string();
            let (entries, skipped) = (new.entries.len(), new.skipped.len());
            tracing::info!(entries, skipped, root, "image catalogue");
            events.emit(Event::Reload(Reload {
                at: SystemTime::now(),
                what: Reloaded::Catalogue,
                ok: true,
                detail: summary(&new),
            }));
        }
        shared.store(Arc::new(new));
    })
    .await;
    if let Err(e) = done {
        tracing::warn!("catalogue rescan failed: {e}");
    }
}

/// The catalogue in a line or a few: its entries, and each ISO skipped
/// with why.
fn summary(catalogue: &Catalogue) -> String {
    let mut text = format!("{} entries", catalogue.entries.len());
    for skipped in &catalogue.skipped {
        text.push_str(&format!("\nskipped {}: {}", skipped.id, skipped.reason));
    }
    text
}

fn changed(old: &Catalogue, new: &Catalogue) -> bool {
    let ids = |c: &Catalogue| c.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    ids(old) != ids(new) || old.skipped != new.skipped
}

/// The files inside catalogued ISOs, for the TFTP and HTTP servers.
pub struct IsoFiles(pub Shared);

impl Regions for IsoFiles {
    fn region(&self, name: &str) -> Option<Result<Region, String>> {
        let catalogue = self.0.load();
        let (iso, extents) = catalogue.iso_file(name)?;
        Some(match extents {
            [] => Ok(Region {
                file: iso.to_string(),
                offset: 0,
                len: 0,
            }),
            [(offset, len)] => Ok(Region {
                file: iso.to_string(),
                offset: *offset,
                len: *len,
            }),
            _ => Err(format!(
                "{name} is stored in several pieces in {iso}: not served"
            )),
        })
    }

    fn holds(&self, name: &str) -> bool {
        self.0.load().inside_iso(name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalogue::model::{Kind, Recognised};
    use crate::catalogue::{Entry, Source};

    fn files() -> IsoFiles {
        let mut regions = BTreeMap::new();
        regions.insert("EFI/boot/bootx64.efi".to_string(), vec![(4096, 100)]);
        regions.insert("split.bin".to_string(), vec![(0, 10), (100, 10)]);
        let entry = Entry {
            id: "d/debian.iso".into(),
            source: Source::Iso(Arc::new(regions)),
            size: 1 << 20,
            recognised: Recognised {
                kind: Kind::Sanboot,
                title: "Debian".into(),
                boots: vec![],
                notes: vec![],
            },
            stamp: None,
        };
        let catalogue = Catalogue {
            entries: vec![entry],
            ..Catalogue::default()
        };
        IsoFiles(Arc::new(ArcSwap::from_pointee(catalogue)))
    }

    #[test]
    fn files_inside_an_iso_are_its_regions_and_others_inside_it_are_not_found() {
        let files = files();
        let want = Region {
            file: "d/debian.iso".into(),
            offset: 4096,
            len: 100,
        };
        assert_eq!(
            files.region("/d/debian.iso/EFI/boot/bootx64.efi"),
            Some(Ok(want.clone()))
        );
        assert_eq!(
            files.region("d/debian.iso/efi/BOOT/BOOTX64.EFI"),
            Some(Ok(want))
        );
        assert!(
            matches!(files.region("d/debian.iso/split.bin"), Some(Err(e)) if e.contains("several pieces"))
        );
        assert_eq!(
            files.region("d/debian.iso/EFI/boot/revocations_sbat.efi"),
            None
        );
        assert!(files.holds("d/debian.iso/EFI/boot/revocations_sbat.efi"));
        assert!(!files.holds("d/debian.isox/a"));
        assert!(
            !files.holds("d/debian.iso"),
            "the ISO itself is a file of the root"
        );
        assert!(!files.holds("d/other.iso/a"));
    }
}
