//! The Fedora / RHEL family (Fedora, RHEL, AlmaLinux, Rocky Linux, CentOS
//! Stream, Oracle Linux): the installer's `images/pxeboot/vmlinuz` and
//! `initrd.img` (or what `.treeinfo`'s `[images-ARCH]` names), booted with
//! Anaconda's `inst.repo=` (a disc with packages) or `inst.stage2=` (a boot or
//! netinst disc), and live media (`LiveOS/squashfs.img`) booted with dracut's
//! `root=live:URL`.

use std::collections::BTreeMap;

use super::bootcfg::{self, Entry};
use super::{args, common};
use crate::catalogue::model::{Arch, Boot, Kind, Recognised};
use crate::catalogue::tree::Tree;

/// `.treeinfo`: section -> key -> value.
type TreeInfo = BTreeMap<String, BTreeMap<String, String>>;

fn parse_treeinfo(text: &str) -> TreeInfo {
    let mut out = TreeInfo::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
        } else if let Some((k, v)) = line.split_once('=') {
            let keys = out.entry(section.clone()).or_default();
            keys.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

fn value<'t>(info: &'t TreeInfo, section: &str, key: &str) -> Option<&'t str> {
    info.get(section)?.get(key).map(String::as_str)
}

/// `Rocky Linux 9.5` from `[release]` (or the older `[general]`).
fn title(info: &TreeInfo) -> Option<String> {
    let name = value(info, "release", "name").or_else(|| value(info, "general", "name"))?;
    let version = value(info, "release", "version").or_else(|| value(info, "general", "version"));
    Some(match version {
        Some(v) if !name.contains(v) => format!("{name} {v}"),
        _ => name.to_string(),
    })
}

/// (arch, kernel, initrd) for each `[images-ARCH]` whose files the tree has.
fn treeinfo_images(tree: &dyn Tree, info: &TreeInfo) -> Vec<(Arch, String, String)> {
    let images = info.iter().filter_map(|(section, keys)| {
        let arch = common::arch_word(section.strip_prefix("images-")?)?;
        let kernel = common::find(tree, keys.get("kernel")?)?;
        let initrd = common::find(tree, keys.get("initrd")?)?;
        Some((arch, kernel, initrd))
    });
    images.collect()
}

/// How a disc boots over HTTP: the arguments added, the distro name, the
/// title's last word and a note.
struct Plan {
    added: Vec<String>,
    distro: &'static str,
    what: &'static str,
    note: String,
}

/// Live media fetch their squashfs; an installer fetches the packages on the
/// disc when it has a repository, else only its stage 2.
fn plan(tree: &dyn Tree, live: Option<&str>) -> Plan {
    let has_repo = tree
        .files()
        .keys()
        .any(|p| p.to_ascii_lowercase().ends_with("repodata/repomd.xml"));
    let (added, distro, what, note) = match (live, has_repo) {
        (Some(squashfs), _) => (
            vec![format!("root=live:{{tree_url}}{squashfs}"), "rd.live.image".into()],
            "fedora-live",
            "live",
            format!(
                "dracut downloads {squashfs} ({} MiB) into memory at boot: the machine needs more RAM than that",
                common::mib(tree, squashfs)
            ),
        ),
        (None, true) => (
            vec!["inst.repo={tree_url}".into()],
            "fedora",
            "installer",
            "Anaconda installs from the packages on the ISO over HTTP (inst.repo=)".into(),
        ),
        (None, false) => (
            vec!["inst.stage2={tree_url}".into()],
            "fedora",
            "installer",
            "a boot/netinst disc: Anaconda loads its stage 2 from the ISO (inst.stage2=) \
             and the packages from the distribution's mirrors"
                .into(),
        ),
    };
    let mut added = added;
    added.push("ip=dhcp".into());
    Plan {
        added,
        distro,
        what,
        note,
    }
}

/// A Fedora-family installer or live disc.
pub fn try_fedora(tree: &dyn Tree) -> Option<Recognised> {
    let info = parse_treeinfo(&common::text(tree, ".treeinfo").unwrap_or_default());
    let entries = bootcfg::entries(tree);
    let live = common::find(tree, "LiveOS/squashfs.img");
    let mut found = treeinfo_images(tree, &info);
    if found.is_empty() {
        found = from_configs(tree, &entries, &info, live.is_some());
    }
    if found.is_empty() {
        return None;
    }
    let plan = plan(tree, live.as_deref());
    let added: Vec<&str> = plan.added.iter().map(String::as_str).collect();
    let boots: Vec<Boot> = found
        .into_iter()
        .map(|(arch, kernel, initrd)| {
            let entry = bootcfg::for_kernel(&entries, &kernel);
            let args = args::network(entry.map(|e| e.args.as_slice()).unwrap_or_default(), &added);
            common::boot(tree, arch, &kernel, vec![initrd], args)
        })
        .collect();
    let first_title = entries
        .first()
        .map(|e| e.title.trim_start_matches("Start ").to_string());
    let name = title(&info)
        .or(first_title)
        .unwrap_or_else(|| "Fedora".into());
    Some(Recognised {
        kind: Kind::Linux {
            distro: plan.distro.into(),
        },
        title: format!("{name} {}", plan.what),
        boots,
        notes: vec![plan.note],
    })
}

/// Without `.treeinfo`: the kernel of the first config entry that is a
/// Fedora installer (`images/pxeboot/`) or, on live media, that boots
/// `root=live:`; else `images/pxeboot/vmlinuz` itself.
fn from_configs(
    tree: &dyn Tree,
    entries: &[Entry],
    info: &TreeInfo,
    live: bool,
) -> Vec<(Arch, String, String)> {
    let fits = |e: &&Entry| {
        e.kernel.to_ascii_lowercase().starts_with("images/pxeboot/")
            || (live
                && e.args
                    .iter()
                    .any(|a| a.starts_with("root=live:") || a == "rd.live.image"))
    };
    let (kernel, initrd) = match entries.iter().find(fits) {
        Some(e) => (
            common::find(tree, &e.kernel),
            bootcfg::initrds_in(tree, e).into_iter().next(),
        ),
        None => (
            common::find(tree, "images/pxeboot/vmlinuz"),
            common::find(tree, "images/pxeboot/initrd.img"),
        ),
    };
    let (Some(kernel), Some(initrd)) = (kernel, initrd) else {
        return Vec::new();
    };
    let arch = value(info, "tree", "arch")
        .or_else(|| value(info, "general", "arch"))
        .and_then(common::arch_word)
        .or_else(|| common::efi_arches(tree).first().copied())
        .or_else(|| common::kernel_arch(tree, &kernel))
        .unwrap_or(Arch::X86_64);
    vec![(arch, kernel, initrd)]
}

#[cfg(test)]
#[path = "fedora_tests.rs"]
mod tests;
