//! Alpine Linux: `boot/vmlinuz-<flavour>`, `boot/initramfs-<flavour>` and
//! `boot/modloop-<flavour>` (`lts`, `virt`, ...) with the packages in
//! `apks/<arch>/`, booted with the initramfs's network options
//! (`alpine_repo=`, `modloop=`, `ip=dhcp`).

use super::bootcfg;
use super::{args, common};
use crate::catalogue::model::{Arch, Kind, Recognised};
use crate::catalogue::tree::Tree;

/// An Alpine ISO.
pub fn try_alpine(tree: &dyn Tree) -> Option<Recognised> {
    let release = common::text(tree, ".alpine-release");
    if release.is_none() && tree.find("apks/.boot_repository").is_none() {
        return None;
    }
    let mut kernels = common::files_in(tree, "boot", "vmlinuz-");
    kernels.sort_by_key(|k| !k.ends_with("-lts"));
    let (kernel, flavour, initrd, modloop) = kernels.into_iter().find_map(|k| {
        let flavour = &common::file_name(k)["vmlinuz-".len()..];
        let initrd = common::find(tree, &format!("boot/initramfs-{flavour}"))?;
        let modloop = common::find(tree, &format!("boot/modloop-{flavour}"))?;
        Some((k.to_string(), flavour.to_string(), initrd, modloop))
    })?;
    let release = release.unwrap_or_default();
    let arch = apk_arch(tree)
        .or_else(|| common::arch_in(&release))
        .or_else(|| common::efi_arches(tree).first().copied())
        .unwrap_or(Arch::X86_64);
    let entries = bootcfg::entries(tree);
    let distro_args = bootcfg::for_kernel(&entries, &kernel)
        .map(|e| e.args.as_slice())
        .unwrap_or_default();
    let modloop_arg = format!("modloop={{tree_url}}{modloop}");
    let args = args::network(
        distro_args,
        &["alpine_repo={tree_url}apks", &modloop_arg, "ip=dhcp"],
    );
    let version = version(&release);
    Some(Recognised {
        kind: Kind::Linux { distro: "alpine".into() },
        title: format!("Alpine Linux {version} ({flavour})").replace("  ", " "),
        boots: vec![common::boot(tree, arch, &kernel, vec![initrd], args)],
        notes: vec![
            "boots to Alpine's diskless system: packages come from the ISO's apks/ over HTTP (alpine_repo=)".into(),
        ],
    })
}

/// The version in `.alpine-release`: its first word (`3.20.3`), or the
/// numeric part of an image name there (`alpine-virt-3.20.3-x86_64`).
fn version(release: &str) -> &str {
    let word = release.split_whitespace().next().unwrap_or("");
    let numeric = word
        .split('-')
        .find(|p| p.starts_with(|c: char| c.is_ascii_digit()));
    numeric.unwrap_or(word)
}

/// The architecture of the packages in `apks/<arch>/`.
fn apk_arch(tree: &dyn Tree) -> Option<Arch> {
    tree.files().keys().find_map(|p| {
        let rest = p.strip_prefix("apks/")?;
        let (dir, file) = rest.split_once('/')?;
        (file == "APKINDEX.tar.gz").then(|| common::arch_word(dir))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::SecureBoot;
    use crate::catalogue::recognise::fixtures::{pe_image, unsigned};
    use crate::catalogue::recognise::pe::MACHINE_ARM64;
    use crate::catalogue::tree::MemTree;

    const SYSLINUX: &str =
        "SERIAL 0 115200\nTIMEOUT 10\nPROMPT 1\nDEFAULT lts\n\nLABEL lts\nMENU LABEL Linux lts\n\
        KERNEL /boot/vmlinuz-lts\nINITRD /boot/initramfs-lts\nFDTDIR /boot/dtbs-lts\n\
        APPEND modules=loop,squashfs,sd-mod,usb-storage quiet console=tty0 console=ttyS0,115200\n";

    /// alpine-standard-3.20.3-x86_64.iso.
    fn standard() -> MemTree {
        MemTree::new()
            .with(".alpine-release", "3.20.3 240906\n")
            .with_size("apks/.boot_repository", 0)
            .with_size("apks/x86_64/APKINDEX.tar.gz", 30_000)
            .with_size("apks/x86_64/alpine-base-3.20.3-r0.apk", 1_500)
            .with("boot/vmlinuz-lts", unsigned())
            .with_size("boot/initramfs-lts", 16_000_000)
            .with_size("boot/modloop-lts", 110_000_000)
            .with_size("boot/config-lts", 250_000)
            .with("boot/syslinux/syslinux.cfg", SYSLINUX)
            .with("efi/boot/bootx64.efi", unsigned())
    }

    #[test]
    fn recognises_the_standard_iso() {
        let r = try_alpine(&standard()).unwrap();
        assert_eq!(
            r.kind,
            Kind::Linux {
                distro: "alpine".into()
            }
        );
        assert_eq!(r.title, "Alpine Linux 3.20.3 (lts)");
        let b = &r.boots[0];
        assert_eq!(
            (b.arch, b.kernel.as_str()),
            (Arch::X86_64, "boot/vmlinuz-lts")
        );
        assert_eq!(b.initrds, ["boot/initramfs-lts"]);
        assert_eq!(
            b.args,
            "modules=loop,squashfs,sd-mod,usb-storage quiet console=tty0 console=ttyS0,115200 \
             alpine_repo={tree_url}apks modloop={tree_url}boot/modloop-lts ip=dhcp"
        );
        assert!(
            matches!(&b.secure_boot, SecureBoot::Unsigned { reason } if reason.starts_with("efi/boot/bootx64.efi carries no"))
        );
    }

    #[test]
    fn recognises_the_arm64_virt_flavour() {
        let tree = MemTree::new()
            .with(".alpine-release", "3.20.3 240906\n")
            .with_size("apks/aarch64/APKINDEX.tar.gz", 30_000)
            .with("boot/vmlinuz-virt", pe_image(MACHINE_ARM64, None))
            .with_size("boot/initramfs-virt", 9_000_000)
            .with_size("boot/modloop-virt", 20_000_000);
        let r = try_alpine(&tree).unwrap();
        assert_eq!(r.boots[0].arch, Arch::Arm64);
        assert_eq!(
            r.boots[0].args,
            "alpine_repo={tree_url}apks modloop={tree_url}boot/modloop-virt ip=dhcp"
        );
        assert_eq!(
            try_alpine(&MemTree::new().with_size("boot/vmlinuz-lts", 5)),
            None
        );
    }
}
