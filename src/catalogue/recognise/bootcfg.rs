//! The boot entries a distribution's own boot loader configs name, so the
//! recognisers boot the kernel, initrds and arguments the distribution boots
//! from its disc: isolinux/syslinux `.cfg` files (`label`, `menu label`,
//! `kernel`/`linux`, `initrd`, `append ... initrd=a,b`) and GRUB configs
//! (`menuentry 'title' {`, `linux`/`linuxefi`, `initrd`/`initrdefi`, `}`).
//! No includes are followed: every config file in the usual places is read.

use super::common;
use crate::catalogue::tree::Tree;

/// One boot entry of a config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Its menu title (the label when there is none).
    pub title: String,
    /// The kernel's path as the config spells it, without a leading `/`.
    pub kernel: String,
    /// The initrds' paths, in order.
    pub initrds: Vec<String>,
    /// The kernel arguments (syslinux's `initrd=` taken out).
    pub args: Vec<String>,
}

/// Where distributions keep their boot loader configs (directories whose
/// `.cfg` files are syslinux configs, then GRUB configs).
const SYSLINUX_DIRS: [&str; 5] = [
    "isolinux",
    "syslinux",
    "boot/isolinux",
    "boot/syslinux",
    "arch/boot/syslinux",
];
const GRUB_FILES: [&str; 6] = [
    "boot/grub/grub.cfg",
    "boot/grub2/grub.cfg",
    "EFI/BOOT/grub.cfg",
    "grub/grub.cfg",
    "boot/grub/loopback.cfg",
    "boot/grub/x86_64-efi/grub.cfg",
];

/// Every entry of every config in the tree: syslinux ones first.
pub fn entries(tree: &dyn Tree) -> Vec<Entry> {
    let mut out = Vec::new();
    for dir in SYSLINUX_DIRS {
        for path in common::files_in(tree, dir, "") {
            if path.to_ascii_lowercase().ends_with(".cfg") {
                out.extend(syslinux(&common::text(tree, path).unwrap_or_default()));
            }
        }
    }
    for path in GRUB_FILES {
        out.extend(grub(&common::text(tree, path).unwrap_or_default()));
    }
    out
}

/// A path from a config: no leading `/`, no GRUB device `(...)`.
fn clean_path(path: &str) -> String {
    let path = path.trim_matches(['"', '\'']);
    let path = match path.strip_prefix('(') {
        Some(rest) => rest.split_once(')').map_or(rest, |(_, p)| p),
        None => path,
    };
    path.trim_start_matches("::")
        .trim_start_matches('/')
        .to_string()
}

/// The entries of a syslinux/isolinux config.
pub fn syslinux(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<Entry> = None;
    let mut in_help = false;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or("").to_ascii_lowercase();
        let rest: Vec<&str> = words.collect();
        if in_help {
            in_help = key != "endtext";
            continue;
        }
        match (key.as_str(), &mut cur) {
            ("text", _) => in_help = true,
            ("label", _) => {
                out.extend(cur.take().filter(|e| !e.kernel.is_empty()));
                cur = Some(Entry {
                    title: rest.join(" "),
                    ..Entry::default()
                });
            }
            ("menu", Some(e))
                if rest
                    .first()
                    .is_some_and(|w| w.eq_ignore_ascii_case("label")) =>
            {
                e.title = rest[1..].join(" ").replace('^', "");
            }
            ("kernel" | "linux", Some(e)) => {
                e.kernel = rest.first().map(|p| clean_path(p)).unwrap_or_default()
            }
            ("initrd", Some(e)) => e
                .initrds
                .extend(rest.iter().flat_map(|w| w.split(',')).map(clean_path)),
            ("append", Some(e)) => {
                for word in rest {
                    match word.strip_prefix("initrd=") {
                        Some(list) => e.initrds.extend(list.split(',').map(clean_path)),
                        None => e.args.push(word.to_string()),
                    }
                }
            }
            _ => {}
        }
    }
    out.extend(cur.filter(|e| !e.kernel.is_empty()));
    out
}

/// The title of a `menuentry` line: its first quoted string, else its first
/// word that is not an option (`--hotkey=i`).
fn menuentry_title(rest: &str) -> String {
    if let Some(start) = rest.find(['\'', '"']) {
        let quote = &rest[start..start + 1];
        return rest[start + 1..]
            .split(quote)
            .next()
            .unwrap_or("")
            .to_string();
    }
    let word = rest.split_whitespace().find(|w| !w.starts_with("--"));
    word.unwrap_or("").trim_end_matches('{').to_string()
}

/// The entries of a GRUB config.
pub fn grub(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<Entry> = None;
    for line in text.lines() {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or("");
        let rest: Vec<&str> = words.collect();
        match key {
            "menuentry" => {
                out.extend(cur.take().filter(|e| !e.kernel.is_empty()));
                let title = menuentry_title(&line["menuentry".len()..]);
                cur = Some(Entry {
                    title,
                    ..Entry::default()
                });
            }
            "linux" | "linuxefi" | "linux16" => {
                let e = cur.get_or_insert_with(Entry::default);
                e.kernel = rest.first().map(|p| clean_path(p)).unwrap_or_default();
                e.args = rest.iter().skip(1).map(|w| w.to_string()).collect();
            }
            "initrd" | "initrdefi" | "initrd16" => {
                let e = cur.get_or_insert_with(Entry::default);
                e.initrds = rest.iter().map(|p| clean_path(p)).collect();
            }
            "}" => out.extend(cur.take().filter(|e| !e.kernel.is_empty())),
            _ => {}
        }
    }
    out.extend(cur.filter(|e| !e.kernel.is_empty()));
    out
}

/// The first entry whose kernel is `kernel` (a tree path; compared without case).
pub fn for_kernel<'e>(entries: &'e [Entry], kernel: &str) -> Option<&'e Entry> {
    entries
        .iter()
        .find(|e| e.kernel.eq_ignore_ascii_case(kernel))
}

/// The entry's initrds that the tree has, as the tree spells them.
pub fn initrds_in(tree: &dyn Tree, entry: &Entry) -> Vec<String> {
    entry
        .initrds
        .iter()
        .filter_map(|p| common::find(tree, p))
        .collect()
}

#[cfg(test)]
#[path = "bootcfg_tests.rs"]
mod tests;
