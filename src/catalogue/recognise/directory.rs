//! A plain directory with a kernel (`vmlinuz*`, `linux`, `bzImage`) and an
//! initrd (`initrd*`, `initramfs*`) side by side: booted as it is; its
//! arguments, title and architecture can come from the `entry.yaml` beside
//! them (read by the catalogue, not here), which may also name a kernel and
//! initrds of any name ([`from_files`]). The name rules are shared with the
//! catalogue's walk (`scan::looks_bootable`), so a directory the walk takes
//! for an entry is one this recognises.

use super::common;
use crate::catalogue::model::{Arch, Kind, Recognised};
use crate::catalogue::tree::Tree;

/// A kernel's file name, as directories and `netboot` name them.
pub fn is_kernel_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("vmlinuz") || name == "linux" || name == "bzimage"
}

/// An initrd's file name.
pub fn is_initrd_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("initrd") || name.starts_with("initramfs")
}

/// A directory's kernel and initrd, at its top level.
pub fn try_directory(tree: &dyn Tree) -> Option<Recognised> {
    let top = |pred: fn(&str) -> bool| {
        tree.files()
            .keys()
            .find(|p| !p.contains('/') && pred(p))
            .cloned()
    };
    let kernel = top(is_kernel_name)?;
    let initrd = top(is_initrd_name)?;
    Some(plain(tree, &kernel, vec![initrd]))
}

/// The kernel and initrds `entry.yaml` names, when each is in the tree;
/// else the first one missing.
pub fn from_files(tree: &dyn Tree, kernel: &str, initrds: &[String]) -> Result<Recognised, String> {
    let files = tree.files();
    if let Some(missing) = std::iter::once(kernel)
        .chain(initrds.iter().map(String::as_str))
        .find(|f| !files.contains_key(*f))
    {
        return Err(missing.to_string());
    }
    Ok(plain(tree, kernel, initrds.to_vec()))
}

fn plain(tree: &dyn Tree, kernel: &str, initrds: Vec<String>) -> Recognised {
    let arch = common::kernel_arch(tree, kernel).unwrap_or(Arch::X86_64);
    let title = std::iter::once(kernel)
        .chain(initrds.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" + ");
    Recognised {
        kind: Kind::Linux {
            distro: "directory".into(),
        },
        title,
        boots: vec![common::boot(tree, arch, kernel, initrds, String::new())],
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::SecureBoot;
    use crate::catalogue::recognise::fixtures::{signed, signed_arm64, MS_CA};
    use crate::catalogue::tree::MemTree;

    #[test]
    fn finds_debians_netboot_linux_and_initrd() {
        let tree = MemTree::new()
            .with("linux", signed("Debian Secure Boot CA"))
            .with_size("initrd.gz", 30_000_000)
            .with("entry.yaml", "title: Debian installer\n");
        let r = try_directory(&tree).unwrap();
        assert_eq!(
            r.kind,
            Kind::Linux {
                distro: "directory".into()
            }
        );
        let b = &r.boots[0];
        assert_eq!(
            (b.arch, b.kernel.as_str(), b.args.as_str()),
            (Arch::X86_64, "linux", "")
        );
        assert_eq!(b.initrds, ["initrd.gz"]);
        assert_eq!(
            b.secure_boot,
            SecureBoot::Unsigned {
                reason: "no shim at EFI/BOOT/BOOTX64.EFI".into()
            }
        );
    }

    #[test]
    fn a_directory_with_its_own_shim_and_grub_can_be_signed() {
        let tree = MemTree::new()
            .with(
                "vmlinuz-6.1.0-26-arm64",
                signed_arm64("Debian Secure Boot CA"),
            )
            .with_size("initrd.img-6.1.0-26-arm64", 30_000_000)
            .with("EFI/BOOT/BOOTAA64.EFI", signed_arm64(MS_CA))
            .with(
                "EFI/BOOT/grubaa64.efi",
                signed_arm64("Debian Secure Boot CA"),
            );
        let r = try_directory(&tree).unwrap();
        assert_eq!(r.boots[0].arch, Arch::Arm64);
        assert!(matches!(r.boots[0].secure_boot, SecureBoot::Signed { .. }));
        assert_eq!(
            try_directory(
                &MemTree::new()
                    .with_size("sub/vmlinuz", 1)
                    .with_size("initrd", 1)
            ),
            None
        );
    }
    #[test]
    fn bzimage_and_initramfs_names_are_a_kernel_and_an_initrd() {
        let tree = MemTree::new()
            .with_size("bzImage", 9_000_000)
            .with_size("initramfs-6.6.img", 20_000_000);
        let r = try_directory(&tree).unwrap();
        assert_eq!(r.boots[0].kernel, "bzImage");
        assert_eq!(r.boots[0].initrds, ["initramfs-6.6.img"]);
        assert_eq!(r.title, "bzImage + initramfs-6.6.img");
    }

    #[test]
    fn named_files_are_used_when_each_is_there() {
        let tree = MemTree::new()
            .with_size("kernel.efi", 9_000_000)
            .with_size("rootfs.cpio.gz", 20_000_000)
            .with_size("firmware.cpio", 1_000);
        let initrds = ["rootfs.cpio.gz".to_string(), "firmware.cpio".to_string()];
        let r = from_files(&tree, "kernel.efi", &initrds).unwrap();
        assert_eq!(r.boots[0].kernel, "kernel.efi");
        assert_eq!(r.boots[0].initrds, initrds);
        assert_eq!(try_directory(&tree), None);
        let typo = ["rootfs.cpio.gz".to_string(), "firmwre.cpio".to_string()];
        assert_eq!(
            from_files(&tree, "kernel.efi", &typo),
            Err("firmwre.cpio".into())
        );
    }
}
