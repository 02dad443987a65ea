//! Arch Linux (archiso): `arch/boot/x86_64/vmlinuz-linux` and
//! `initramfs-linux.img`, microcode images first when the disc has them,
//! booted with archiso's HTTP boot (`archiso_http_srv=`, which fetches
//! `arch/x86_64/airootfs.sfs` into memory, and `ip=dhcp` for its network).

use super::bootcfg::{self, Entry};
use super::{args, common};
use crate::catalogue::model::{Boot, Kind, Recognised};
use crate::catalogue::tree::Tree;

const UCODE: [&str; 2] = ["arch/boot/intel-ucode.img", "arch/boot/amd-ucode.img"];

/// The arguments archiso's HTTP boot needs.
const ADDED: [&str; 3] = [
    "archisobasedir=arch",
    "archiso_http_srv={tree_url}",
    "ip=dhcp",
];

/// An Arch Linux install medium.
pub fn try_archlinux(tree: &dyn Tree) -> Option<Recognised> {
    let entries = bootcfg::entries(tree);
    let found: Vec<(Boot, String)> = tree
        .files()
        .keys()
        .filter(|p| is_kernel(p))
        .filter_map(|kernel| arch_boot(tree, &entries, kernel))
        .collect();
    if found.is_empty() {
        return None;
    }
    let roots: Vec<&str> = found.iter().map(|(_, root)| root.as_str()).collect();
    let note = format!(
        "archiso downloads {} into memory at boot (archiso_http_srv=): the machine needs more RAM than that",
        roots.join(", ")
    );
    let version = common::text(tree, "arch/version").map(|v| v.trim().to_string());
    Some(Recognised {
        kind: Kind::Linux {
            distro: "arch".into(),
        },
        title: match version {
            Some(v) if !v.is_empty() => format!("Arch Linux {v} install medium"),
            _ => "Arch Linux install medium".into(),
        },
        boots: found.into_iter().map(|(boot, _)| boot).collect(),
        notes: vec![note],
    })
}

/// The way to boot `arch/boot/<dir>/vmlinuz-linux`, and its root image with
/// its size, when the disc has that root image and an initramfs.
fn arch_boot(tree: &dyn Tree, entries: &[Entry], kernel: &str) -> Option<(Boot, String)> {
    let dir = &kernel["arch/boot/".len()..kernel.len() - "/vmlinuz-linux".len()];
    let arch = common::arch_word(dir)?;
    let root = ["sfs", "erofs"]
        .iter()
        .find_map(|ext| common::find(tree, &format!("arch/{dir}/airootfs.{ext}")))?;
    let entry = bootcfg::for_kernel(entries, kernel);
    let mut initrds = entry
        .map(|e| bootcfg::initrds_in(tree, e))
        .unwrap_or_default();
    if initrds.is_empty() {
        initrds = UCODE.iter().filter_map(|p| common::find(tree, p)).collect();
        initrds.push(common::find(
            tree,
            &format!("arch/boot/{dir}/initramfs-linux.img"),
        )?);
    }
    let args = args::network(entry.map(|e| e.args.as_slice()).unwrap_or_default(), &ADDED);
    let size = format!("{root} ({} MiB)", common::mib(tree, &root));
    Some((common::boot(tree, arch, kernel, initrds, args), size))
}

/// `arch/boot/<arch>/vmlinuz-linux` (case as archiso writes it).
fn is_kernel(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.starts_with("arch/boot/")
        && lower.ends_with("/vmlinuz-linux")
        && lower["arch/boot/".len()..].matches('/').count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::{Arch, SecureBoot};
    use crate::catalogue::recognise::fixtures::unsigned;
    use crate::catalogue::tree::MemTree;

    const SYS_CFG: &str = "LABEL arch64\nTEXT HELP\nBoot the Arch Linux install medium on BIOS.\nENDTEXT\n\
        MENU LABEL Arch Linux install medium (x86_64, BIOS)\nLINUX /arch/boot/x86_64/vmlinuz-linux\n\
        INITRD /arch/boot/intel-ucode.img,/arch/boot/amd-ucode.img,/arch/boot/x86_64/initramfs-linux.img\n\
        APPEND archisobasedir=arch archisolabel=ARCH_202410\n";
    const PXE_CFG: &str = "LABEL arch64_http\nMENU LABEL Arch Linux install medium (x86_64, HTTP)\n\
        LINUX ::/arch/boot/x86_64/vmlinuz-linux\n\
        INITRD ::/arch/boot/intel-ucode.img,::/arch/boot/amd-ucode.img,::/arch/boot/x86_64/initramfs-linux.img\n\
        APPEND archisobasedir=arch archisolabel=ARCH_202410 archiso_http_srv=http://${pxeserver}/ cms_verify=y\n\
        SYSAPPEND 3\n";

    /// archlinux-2024.10.01-x86_64.iso.
    fn iso() -> MemTree {
        MemTree::new()
            .with("arch/version", "2024.10.01\n")
            .with("arch/boot/x86_64/vmlinuz-linux", unsigned())
            .with_size("arch/boot/x86_64/initramfs-linux.img", 130_000_000)
            .with_size("arch/boot/intel-ucode.img", 8_000_000)
            .with_size("arch/boot/amd-ucode.img", 80_000)
            .with_size("arch/x86_64/airootfs.sfs", 860_000_000)
            .with_size("arch/x86_64/airootfs.sha512", 140)
            .with("boot/syslinux/archiso_sys-linux.cfg", SYS_CFG)
            .with("boot/syslinux/archiso_pxe-linux.cfg", PXE_CFG)
            .with("EFI/BOOT/BOOTx64.EFI", unsigned())
            .with(
                "loader/entries/01-archiso-x86_64-linux.conf",
                "title Arch Linux install medium\n",
            )
    }

    #[test]
    fn recognises_archiso_and_boots_it_over_http() {
        let r = try_archlinux(&iso()).unwrap();
        assert_eq!(
            r.kind,
            Kind::Linux {
                distro: "arch".into()
            }
        );
        assert_eq!(r.title, "Arch Linux 2024.10.01 install medium");
        let b = &r.boots[0];
        assert_eq!(
            (b.arch, b.kernel.as_str()),
            (Arch::X86_64, "arch/boot/x86_64/vmlinuz-linux")
        );
        assert_eq!(
            b.initrds,
            [
                "arch/boot/intel-ucode.img",
                "arch/boot/amd-ucode.img",
                "arch/boot/x86_64/initramfs-linux.img"
            ]
        );
        assert_eq!(
            b.args,
            "archisolabel=ARCH_202410 archisobasedir=arch archiso_http_srv={tree_url} ip=dhcp"
        );
        assert_eq!(
            b.secure_boot,
            SecureBoot::Unsigned {
                reason: "EFI/BOOT/BOOTx64.EFI carries no Authenticode signature".into()
            }
        );
        assert!(
            r.notes[0].contains("arch/x86_64/airootfs.sfs (821 MiB)"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn without_configs_or_microcode_the_initramfs_alone_is_booted() {
        let tree = MemTree::new()
            .with("arch/boot/x86_64/vmlinuz-linux", unsigned())
            .with_size("arch/boot/x86_64/initramfs-linux.img", 130_000_000)
            .with_size("arch/x86_64/airootfs.erofs", 900_000_000);
        let r = try_archlinux(&tree).unwrap();
        assert_eq!(r.title, "Arch Linux install medium");
        assert_eq!(r.boots[0].initrds, ["arch/boot/x86_64/initramfs-linux.img"]);
        assert_eq!(
            r.boots[0].args,
            "archisobasedir=arch archiso_http_srv={tree_url} ip=dhcp"
        );
        let no_root = MemTree::new().with("arch/boot/x86_64/vmlinuz-linux", unsigned());
        assert_eq!(try_archlinux(&no_root), None);
    }
}
