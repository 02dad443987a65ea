//! A plain directory with a kernel (`vmlinuz*` or `linux`) and an initrd
//! (`initrd*`) side by side: booted as it is; its arguments, title and
//! architecture can come from the `entry.yaml` beside them (read by the
//! catalogue, not here).

use super::common;
use crate::catalogue::model::{Arch, Kind, Recognised};
use crate::catalogue::tree::Tree;

/// A directory's kernel and initrd, at its top level.
pub fn try_directory(tree: &dyn Tree) -> Option<Recognised> {
    let top = |pred: &dyn Fn(&str) -> bool| {
        tree.files()
            .keys()
            .find(|p| !p.contains('/') && pred(&p.to_ascii_lowercase()))
            .cloned()
    };
    let kernel = top(&|name| name.starts_with("vmlinuz") || name == "linux")?;
    let initrd = top(&|name| name.starts_with("initrd"))?;
    let arch = common::kernel_arch(tree, &kernel).unwrap_or(Arch::X86_64);
    Some(Recognised {
        kind: Kind::Linux {
            distro: "directory".into(),
        },
        title: format!("{kernel} + {initrd}"),
        boots: vec![common::boot(
            tree,
            arch,
            &kernel,
            vec![initrd],
            String::new(),
        )],
        notes: Vec::new(),
    })
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
}
