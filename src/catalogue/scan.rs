//! The bounded walk of the boot root that finds candidates (ISO files;
//! directories holding a kernel and an initrd, an `entry.yaml`, or Windows
//! PE), recognises each and builds the [`Catalogue`]. An ISO unchanged since
//! the previous scan (same size and modification time) is not read again.
//! Nothing here fails: a candidate that cannot be used is listed as skipped
//! with the reason.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use super::dir_tree::DirTree;
use super::entry_file::{self, EntryFile};
use super::iso_source::{self, IsoProblem};
use super::model::{Arch, Boot, Kind, SecureBoot};
use super::recognise::directory;
use super::tree::Tree;
use super::{recognise, Catalogue, Entry, Skipped, Source};

/// Deepest level of the root searched for candidates.
const MAX_DEPTH: usize = 4;
/// Most directory entries looked at in one scan.
const MAX_VISITED: usize = 50_000;

/// A thing found by the walk.
enum Candidate {
    Iso(String),
    Directory(String),
}

/// Scans `root`, reusing what `previous` knew of unchanged ISOs.
pub fn scan(root: &Path, previous: Option<&Catalogue>) -> Catalogue {
    let mut found = Vec::new();
    let mut visited = 0;
    walk(root, "", 0, &mut visited, &mut found);
    let mut catalogue = Catalogue {
        root: root.to_path_buf(),
        ..Catalogue::default()
    };
    for candidate in found {
        match candidate {
            Candidate::Iso(id) => add_iso(root, id, previous, &mut catalogue),
            Candidate::Directory(id) => add_directory(root, id, &mut catalogue),
        }
    }
    catalogue.entries.sort_by(|a, b| a.id.cmp(&b.id));
    catalogue.skipped.sort_by(|a, b| a.id.cmp(&b.id));
    catalogue
}

fn walk(dir: &Path, prefix: &str, depth: usize, visited: &mut usize, out: &mut Vec<Candidate>) {
    let Ok(items) = std::fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        *visited += 1;
        if *visited > MAX_VISITED {
            return;
        }
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Ok(kind) = item.file_type() else { continue };
        if name.starts_with('.') || name == "pxelinux.cfg" {
            continue;
        }
        let id = format!("{prefix}{name}");
        if kind.is_file() && is_iso_name(&name) {
            out.push(Candidate::Iso(id));
        } else if kind.is_dir() && depth < MAX_DEPTH {
            if looks_bootable(&item.path()) {
                out.push(Candidate::Directory(id));
            } else {
                walk(&item.path(), &format!("{id}/"), depth + 1, visited, out);
            }
        }
    }
}

fn is_iso_name(name: &str) -> bool {
    name.len() > 4 && name[name.len() - 4..].eq_ignore_ascii_case(".iso")
}

/// A directory whose own files name a kernel and an initrd, an
/// `entry.yaml`, or Windows PE's `bootmgr` / `sources`.
fn looks_bootable(dir: &Path) -> bool {
    let Ok(items) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<String> = items
        .flatten()
        .filter_map(|i| i.file_name().to_str().map(str::to_ascii_lowercase))
        .collect();
    let has = |pred: &dyn Fn(&str) -> bool| names.iter().any(|n| pred(n));
    let kernel = has(&directory::is_kernel_name);
    let initrd = has(&directory::is_initrd_name);
    (kernel && initrd)
        || has(&|n| n == entry_file::NAME)
        || (has(&|n| n == "bootmgr") && has(&|n| n == "sources"))
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn add_iso(root: &Path, id: String, previous: Option<&Catalogue>, out: &mut Catalogue) {
    let path = root.join(&id);
    let stamp = stamp(&path);
    if let Some(prev) = previous.filter(|_| stamp.is_some()) {
        if let Some(entry) = prev.entries.iter().find(|e| e.id == id && e.stamp == stamp) {
            out.entries.push(entry.clone());
            return;
        }
        if let Some(skipped) = prev.skipped.iter().find(|s| s.id == id && s.stamp == stamp) {
            out.skipped.push(skipped.clone());
            return;
        }
    }
    match iso_source::open(&path) {
        Ok(iso) => {
            let mut recognised = recognise::recognise(iso.tree.as_ref());
            if recognised.title.is_empty() {
                recognised.title = if iso.volume_id.trim().is_empty() {
                    id.clone()
                } else {
                    iso.volume_id.clone()
                };
            }
            if recognised.kind == Kind::Sanboot && recognised.boots.is_empty() {
                recognised.boots.push(whole_image());
            }
            let entry = Entry {
                id,
                source: Source::Iso(Arc::new(iso.regions)),
                size: stamp.map_or(0, |s| s.1),
                recognised,
                stamp,
            };
            tracing::info!(entry = %entry.id, kind = ?entry.recognised.kind, "catalogue: ISO added");
            out.entries.push(entry);
        }
        Err(problem) => skip(
            out,
            id,
            problem.to_string(),
            stamp,
            matches!(problem, IsoProblem::Incomplete(_)),
        ),
    }
}

fn add_directory(root: &Path, id: String, out: &mut Catalogue) {
    let tree = match DirTree::open(&root.join(&id)) {
        Ok(tree) => tree,
        Err(e) => return skip(out, id, format!("cannot list it: {e}"), None, false),
    };
    let settings = match entry_settings(&tree, &id) {
        Ok(settings) => settings,
        Err(why) => return skip(out, id, why, None, false),
    };
    let mut recognised = match recognise_directory(&tree, &settings, &id) {
        Ok(recognised) => recognised,
        Err(why) => return skip(out, id, why, None, false),
    };
    let plain = recognised.kind
        == (Kind::Linux {
            distro: "directory".into(),
        });
    if plain || recognised.title.is_empty() {
        recognised.title.clone_from(&id);
    }
    settings.apply(&mut recognised);
    let size = tree.files().values().sum();
    out.entries.push(Entry {
        id,
        source: Source::Directory,
        size,
        recognised,
        stamp: None,
    });
}

/// What a directory boots: a known layout or a plain kernel and initrd,
/// else the kernel (and initrds) its `entry.yaml` names; every file
/// `entry.yaml` names must be in the directory.
fn recognise_directory(
    tree: &DirTree,
    settings: &EntryFile,
    id: &str,
) -> Result<super::model::Recognised, String> {
    let mut named = settings
        .kernel
        .iter()
        .chain(settings.initrd.iter().flatten());
    let files = tree.files();
    if let Some(missing) = named.find(|f| !files.contains_key(f.as_str())) {
        return Err(format!(
            "{id}/{}: names {missing}, which is not in the directory (fix the name, or add the file)",
            entry_file::NAME
        ));
    }
    if let Some(found) = recognise::recognise_directory(tree) {
        return Ok(found);
    }
    match &settings.kernel {
        Some(kernel) => {
            let initrds = settings.initrd.clone().unwrap_or_default();
            directory::from_files(tree, kernel, &initrds)
                .map_err(|missing| format!("{missing}: not in the directory"))
        }
        None => Err(format!(
            "no kernel (vmlinuz*, linux, bzImage) and initrd (initrd*, initramfs*) found in it; \
             name them in {id}/{}",
            entry_file::NAME
        )),
    }
}

/// How an image of unknown layout boots: whole, through iPXE's sanboot,
/// on x86 (BIOS or UEFI, as its El Torito catalogue allows).
fn whole_image() -> Boot {
    Boot {
        arch: Arch::X86_64,
        kernel: String::new(),
        initrds: Vec::new(),
        args: String::new(),
        secure_boot: SecureBoot::Unsigned {
            reason: "booted whole through iPXE, which is not signed".into(),
        },
    }
}

fn entry_settings(tree: &DirTree, id: &str) -> Result<EntryFile, String> {
    let Some(name) = tree.find(entry_file::NAME).map(str::to_owned) else {
        return Ok(EntryFile::default());
    };
    let shown = Path::new(id).join(&name);
    let bytes = tree
        .read(&name, entry_file::MAX_BYTES)
        .map_err(|e| e.to_string())?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", shown.display()))?;
    entry_file::parse(&shown, &text).map_err(|d| d.to_string())
}

fn skip(
    out: &mut Catalogue,
    id: String,
    reason: String,
    stamp: Option<(SystemTime, u64)>,
    waiting: bool,
) {
    if waiting {
        tracing::info!(entry = %id, "catalogue: not yet: {reason}");
    } else {
        tracing::warn!(entry = %id, "catalogue: skipped: {reason}");
    }
    out.skipped.push(Skipped { id, reason, stamp });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn directories_with_a_kernel_and_an_initrd_are_entries_and_the_rest_is_skipped_or_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "tools/rescue/vmlinuz", b"kernel");
        write(root, "tools/rescue/initrd.img", b"initrd");
        write(
            root,
            "tools/rescue/entry.yaml",
            b"title: Rescue\nargs: console=ttyS0\n",
        );
        write(root, "tools/typo/vmlinuz", b"kernel");
        write(root, "tools/typo/initrd.img", b"initrd");
        write(root, "tools/typo/entry.yaml", b"titel: x\n");
        write(root, ".hidden/vmlinuz", b"kernel");
        write(root, ".hidden/initrd.img", b"initrd");
        write(root, "pxelinux.cfg/default", b"default local\n");
        write(root, "junk.iso", &[0x5a; 40_000]);
        let catalogue = scan(root, None);
        let ids: Vec<&str> = catalogue.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["tools/rescue"]);
        let rescue = &catalogue.entries[0].recognised;
        assert_eq!(rescue.title, "Rescue");
        assert_eq!(rescue.boots[0].args, "console=ttyS0");
        assert_eq!(rescue.boots[0].kernel, "vmlinuz");
        let skipped: Vec<(&str, &str)> = catalogue
            .skipped
            .iter()
            .map(|s| (s.id.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(skipped[0].0, "junk.iso");
        assert!(
            skipped[0].1.starts_with("not an ISO 9660 image"),
            "{skipped:?}"
        );
        assert_eq!(skipped[1].0, "tools/typo");
        assert!(
            skipped[1]
                .1
                .starts_with("tools/typo/entry.yaml:1:1: unknown field `titel`"),
            "{skipped:?}"
        );
    }

    #[test]
    fn an_unchanged_iso_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "junk.iso", &[0x5a; 40_000]);
        let mut first = scan(dir.path(), None);
        first.skipped[0].reason = "what the last scan said".into();
        let second = scan(dir.path(), Some(&first));
        assert_eq!(second.skipped[0].reason, "what the last scan said");
    }
    #[test]
    fn a_directory_the_walk_takes_is_an_entry_whatever_its_kernel_is_called() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "gentoo/bzImage", b"kernel");
        write(root, "gentoo/initramfs-6.6.img", b"initrd");
        write(root, "custom/kernel.efi", b"kernel");
        write(root, "custom/rootfs.cpio.gz", b"initrd");
        write(
            root,
            "custom/entry.yaml",
            b"kernel: kernel.efi\ninitrd: [rootfs.cpio.gz]\n",
        );
        write(root, "typo/vmlinuz", b"kernel");
        write(root, "typo/initrd.img", b"initrd");
        write(root, "typo/entry.yaml", b"initrd: [initrd.im]\n");
        write(root, "empty/entry.yaml", b"title: nothing here\n");
        let catalogue = scan(root, None);
        let boots: Vec<(&str, &str, &[String])> = catalogue
            .entries
            .iter()
            .map(|e| {
                let b = &e.recognised.boots[0];
                (e.id.as_str(), b.kernel.as_str(), b.initrds.as_slice())
            })
            .collect();
        assert_eq!(
            boots,
            [
                ("custom", "kernel.efi", &["rootfs.cpio.gz".to_string()][..]),
                ("gentoo", "bzImage", &["initramfs-6.6.img".to_string()][..]),
            ]
        );
        let skipped: Vec<(&str, &str)> = catalogue
            .skipped
            .iter()
            .map(|s| (s.id.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    "empty",
                    "no kernel (vmlinuz*, linux, bzImage) and initrd (initrd*, initramfs*) \
                     found in it; name them in empty/entry.yaml"
                ),
                (
                    "typo",
                    "typo/entry.yaml: names initrd.im, which is not in the directory \
                     (fix the name, or add the file)"
                ),
            ]
        );
    }
}
