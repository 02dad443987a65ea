//! The entry points: order of the layouts, the fallbacks, hostile trees.

use super::fixtures::{signed, unsigned, MS_CA};
use super::*;
use crate::catalogue::tree::MemTree;

fn distro(r: &Recognised) -> &str {
    match &r.kind {
        Kind::Linux { distro } => distro,
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_iso_is_booted_whole_with_sanboot() {
    let tree = MemTree::new()
        .with_size("README.TXT", 100)
        .with("EFI/BOOT/BOOTX64.EFI", unsigned())
        .with_size("EFI/BOOT/BOOTAA64.EFI", 1000);
    let r = recognise(&tree);
    assert_eq!(r.kind, Kind::Sanboot);
    assert_eq!(r.notes, [SANBOOT_NOTE]);
    let arches: Vec<Arch> = r.boots.iter().map(|b| b.arch).collect();
    assert_eq!(arches, [Arch::X86_64, Arch::Arm64]);
    assert!(r
        .boots
        .iter()
        .all(|b| b.kernel.is_empty() && b.initrds.is_empty()));
    let bios_only = recognise(&MemTree::new().with_size("isolinux/isolinux.bin", 10));
    assert_eq!(bios_only.boots.len(), 1);
    assert_eq!(bios_only.boots[0].arch, Arch::X86_64);
}

#[test]
fn a_directory_that_is_no_layout_is_a_plain_kernel_and_initrd_or_nothing() {
    let plain = MemTree::new()
        .with("vmlinuz", unsigned())
        .with_size("initrd.img", 10);
    assert_eq!(distro(&recognise_directory(&plain).unwrap()), "directory");
    assert_eq!(
        recognise_directory(&MemTree::new().with_size("notes.txt", 3)),
        None
    );
    assert_eq!(recognise_directory(&MemTree::new()), None);
}

#[test]
fn an_unpacked_distribution_in_a_directory_is_recognised_as_that_distribution() {
    let tree = MemTree::new()
        .with("install.amd/vmlinuz", signed("Debian Secure Boot CA"))
        .with_size("install.amd/initrd.gz", 19_000_000)
        .with("vmlinuz", unsigned())
        .with_size("initrd.gz", 10);
    assert_eq!(
        distro(&recognise_directory(&tree).unwrap()),
        "debian-installer"
    );
}

#[test]
fn a_debian_live_image_is_live_though_it_carries_an_installer() {
    let tree = MemTree::new()
        .with("live/vmlinuz", unsigned())
        .with_size("live/initrd.img", 10)
        .with_size("live/filesystem.squashfs", 10)
        .with("install.amd/vmlinuz", unsigned())
        .with_size("install.amd/initrd.gz", 10);
    assert_eq!(distro(&recognise(&tree)), "debian-live");
}

#[test]
fn windows_comes_after_the_linux_layouts() {
    let tree = MemTree::new()
        .with_size("bootmgr", 1)
        .with_size("boot/bcd", 1)
        .with_size("boot/boot.sdi", 1)
        .with_size("sources/boot.wim", 1)
        .with("EFI/BOOT/BOOTX64.EFI", signed(MS_CA));
    assert_eq!(recognise(&tree).kind, Kind::WindowsPe);
}

#[test]
fn a_hostile_tree_never_panics() {
    let huge = u64::MAX / 2;
    let tree = MemTree::new()
        .with_size(".disk/info", huge)
        .with_size(".treeinfo", huge)
        .with(
            "isolinux/txt.cfg",
            "label\nkernel\nappend initrd=,,,/ ---\nlabel x\nkernel /../../etc/passwd\n",
        )
        .with(
            "boot/grub/grub.cfg",
            "menuentry '\nlinux (\ninitrd\n}\n}\nmenuentry \"x\" {\nlinux /casper/\n",
        )
        .with_size("casper/vmlinuz", huge)
        .with_size("casper/initrd", 0)
        .with("EFI/BOOT/BOOTX64.EFI", b"MZ\x00".to_vec())
        .with_size("EFI/BOOT/grubx64.efi", huge)
        .with_size("arch/boot//vmlinuz-linux", 1)
        .with_size("arch/boot/x86_64/vmlinuz-linux", 1)
        .with_size("live/vmlinuz", 0)
        .with_size("live/filesystem.squashfs", 0);
    let r = recognise(&tree);
    assert!(!r.boots.is_empty());
    let _ = recognise_directory(&tree);
}

#[test]
fn names_that_are_not_ascii_never_split_a_character() {
    let mut tree = MemTree::new();
    for name in [
        "liv€/x",
        "l€",
        "€€€€€€€€€€€€€€€€/vmlinuz-linux",
        "arch/boot/€/vmlinuz-linux",
        "casper€",
        "boot/vmlinuz-€",
        "isolinu€/a.cfg",
    ] {
        tree = tree.with(name, "label €\nkernel /€\nmenuentry '€' {\nlinux /€ €\n}\n");
    }
    let tree = tree
        .with(".alpine-release", "€ €")
        .with_size("boot/initramfs-€", 1)
        .with_size("boot/modloop-€", 1);
    let _ = recognise(&tree);
    let _ = recognise_directory(&tree);
}
