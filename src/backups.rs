//! `netboot backups`: the upload history kept by `--keep-versions` (see
//! [`crate::tftp::history`]), read back: every file that has versions under
//! a directory, each file's versions with time and size, and a unified diff
//! between any two ("what changed on r1 since last night").
//!
//! Versions are numbered back from the current file: 0 is the current
//! file, 1 the version it replaced, and so on. The diff is
//! [`similar`]'s unified diff of the lines.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::tftp::history::{self, VERSIONS_DIR};

/// Directories deeper than this below the searched one are not looked into.
const MAX_DEPTH: usize = 16;

/// One state of a file: the current one or a kept version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `current`, or the version's name (`20261207T031500Z`).
    pub label: String,
    /// When it was stored, `2026-12-07 03:15:00 UTC`.
    pub when: String,
    /// Size in bytes.
    pub size: u64,
    /// Its file.
    pub path: PathBuf,
}

/// A file with history: its states, newest first.
#[derive(Debug, Clone)]
pub struct History {
    /// Its path relative to the searched directory (`backups/r1-confg`).
    pub name: String,
    /// Newest first; the current file first when it exists.
    pub items: Vec<Item>,
}

/// Why `netboot backups` cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum BackupsError {
    /// The directory to search does not exist.
    #[error("{0} is not a directory; name the boot root with --root DIR or a netboot.yaml with --config FILE, or the directory to search with --dir DIR")]
    NoDir(PathBuf),
    /// A directory or file cannot be read.
    #[error("cannot read {path}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// No file of that name has history.
    #[error("no history of {name:?} under {base}; files with history: {known}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The searched directory.
        base: PathBuf,
        /// The names that have history, or "none".
        known: String,
    },
    /// The name matches several files.
    #[error("{name:?} matches {candidates}; give the path shown by `netboot backups`")]
    Ambiguous {
        /// The name asked for.
        name: String,
        /// The files it matches.
        candidates: String,
    },
    /// A `--from`/`--to` selector names no version.
    #[error("no version {selector:?} of {name}; use a number (0 = current, 1 = the one before), `current`, or a name: {labels}")]
    BadSelector {
        /// The selector given.
        selector: String,
        /// The file.
        name: String,
        /// The versions it has.
        labels: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupsError + '_ {
    move |source| BackupsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every file under `base` that has kept versions, sorted by name.
pub fn find_all(base: &Path) -> Result<Vec<History>, BackupsError> {
    let mut found = Vec::new();
    let mut pending = vec![(base.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))?.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if !kind.is_dir() {
                continue;
            }
            if entry.file_name() == VERSIONS_DIR {
                found.extend(histories_in(base, &dir, &entry.path())?);
            } else if depth < MAX_DEPTH {
                pending.push((entry.path(), depth + 1));
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// The histories in one versions directory (`dir/.netboot-versions`).
fn histories_in(base: &Path, dir: &Path, versions: &Path) -> Result<Vec<History>, BackupsError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(versions).map_err(io_err(versions))?.flatten() {
        let kept = history::list(&entry.path()).map_err(io_err(&entry.path()))?;
        if kept.is_empty() {
            continue;
        }
        let current = dir.join(entry.file_name());
        let mut items: Vec<Item> = current_item(&current).into_iter().collect();
        items.extend(kept.into_iter().rev().map(|v| Item {
            when: history::readable(&v.name).unwrap_or_default(),
            label: v.name,
            size: v.size,
            path: v.path,
        }));
        let name = current.strip_prefix(base).unwrap_or(&current);
        out.push(History {
            name: name.to_string_lossy().into_owned(),
            items,
        });
    }
    Ok(out)
}

fn current_item(path: &Path) -> Option<Item> {
    let meta = fs::metadata(path).ok().filter(|m| m.is_file())?;
    let stamp = history::utc_stamp(meta.modified().ok()?);
    Some(Item {
        label: "current".into(),
        when: history::readable(&stamp).unwrap_or_default(),
        size: meta.len(),
        path: path.to_path_buf(),
    })
}

/// The history of `name`: its path as listed, or its file name alone when
/// only one file has that name.
pub fn pick(mut all: Vec<History>, name: &str, base: &Path) -> Result<History, BackupsError> {
    let wanted = name.trim_start_matches('/');
    if let Some(exact) = all.iter().position(|h| h.name == wanted) {
        return Ok(all.swap_remove(exact));
    }
    let file_name = |h: &History| h.name.rsplit('/').next().unwrap_or_default().to_string();
    let (mut matches, others): (Vec<History>, Vec<History>) =
        all.into_iter().partition(|h| file_name(h) == wanted);
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(BackupsError::NotFound {
            name: name.into(),
            base: base.to_path_buf(),
            known: join_or_none(others.iter().map(|h| h.name.as_str())),
        }),
        _ => Err(BackupsError::Ambiguous {
            name: name.into(),
            candidates: join_or_none(matches.iter().map(|h| h.name.as_str())),
        }),
    }
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let joined = names.collect::<Vec<_>>().join(", ");
    if joined.is_empty() {
        "none".into()
    } else {
        joined
    }
}

/// The index in `history.items` that `selector` names: a number back from
/// the newest, `current`, or a version name or unique prefix of one.
pub fn select(history: &History, selector: &str) -> Result<usize, BackupsError> {
    let items = &history.items;
    let by_number = selector.parse::<usize>().ok().filter(|n| *n < items.len());
    let by_label = || {
        let exact = items.iter().position(|i| i.label == selector);
        let prefixed: Vec<usize> = (0..items.len())
            .filter(|&n| !selector.is_empty() && items[n].label.starts_with(selector))
            .collect();
        exact.or((prefixed.len() == 1).then(|| prefixed[0]))
    };
    by_number
        .or_else(by_label)
        .ok_or_else(|| BackupsError::BadSelector {
            selector: selector.into(),
            name: history.name.clone(),
            labels: join_or_none(items.iter().map(|i| i.label.as_str())),
        })
}

/// The listing of one file's states, numbered back from the newest.
pub fn format_items(history: &History) -> String {
    let mut out = format!("{}: {} versions\n", history.name, history.items.len());
    for (n, item) in history.items.iter().enumerate() {
        out.push_str(&format!(
            "  {n:>3}  {:<20}  {:<27}  {} bytes\n",
            item.label, item.when, item.size
        ));
    }
    out
}

/// A unified diff from `old` to `new` (empty when they are the same);
/// files with NUL bytes are only said to differ.
pub fn unified(old_label: &str, old: &[u8], new_label: &str, new: &[u8]) -> String {
    if old == new {
        return String::new();
    }
    if old.contains(&0) || new.contains(&0) {
        return format!("Binary files {old_label} and {new_label} differ\n");
    }
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

/// Prints every file with history under `base`, or with `name` that
/// file's versions and the diff between `from` and `to` (defaults: 1 and
/// 0, the previous state and the newest).
pub fn report(
    base: &Path,
    name: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), BackupsError> {
    if !base.is_dir() {
        return Err(BackupsError::NoDir(base.to_path_buf()));
    }
    let all = find_all(base)?;
    let stdout = |e| io_err(Path::new("standard output"))(e);
    let Some(name) = name else {
        if all.is_empty() {
            let text = format!(
                "no upload history under {} (uploads keep versions with --keep-versions N)\n",
                base.display()
            );
            return out.write_all(text.as_bytes()).map_err(stdout);
        }
        for history in &all {
            out.write_all(format_items(history).as_bytes())
                .map_err(stdout)?;
        }
        return Ok(());
    };
    let history = pick(all, name, base)?;
    out.write_all(format_items(&history).as_bytes())
        .map_err(stdout)?;
    let old = &history.items[select(&history, from.unwrap_or("1"))?];
    let new = &history.items[select(&history, to.unwrap_or("0"))?];
    let read = |item: &Item| fs::read(&item.path).map_err(io_err(&item.path));
    let label = |item: &Item| format!("{} ({}, {})", history.name, item.label, item.when);
    let diff = unified(&label(old), &read(old)?, &label(new), &read(new)?);
    let text = if diff.is_empty() {
        format!("\n{} and {} are the same\n", old.label, new.label)
    } else {
        format!("\n{diff}")
    };
    out.write_all(text.as_bytes()).map_err(stdout)
}

#[cfg(test)]
#[path = "backups_tests.rs"]
mod tests;
