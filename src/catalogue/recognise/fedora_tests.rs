use super::*;
use crate::catalogue::model::SecureBoot;
use crate::catalogue::recognise::fixtures::{signed, signed_arm64, MS_CA};
use crate::catalogue::tree::MemTree;

const REDHAT: &str = "Red Hat Secure Boot CA 5";
const ROCKY: &str = "Rocky Enterprise Software Foundation Secure Boot CA";

const ROCKY_TREEINFO: &str = "[checksums]
images/efiboot.img = sha256:1f0e2b5c
images/install.img = sha256:77aa02d1

[general]
; WARNING.0 = This section provides compatibility with pre-productmd treeinfos.
arch = x86_64
family = Rocky Linux
name = Rocky Linux 9.5
packagedir = BaseOS/Packages
platforms = x86_64,xen
repository = BaseOS
version = 9.5

[header]
type = productmd.treeinfo
version = 1.2

[images-x86_64]
efiboot.img = images/efiboot.img
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[images-xen]
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[release]
name = Rocky Linux
short = Rocky
version = 9.5

[stage2]
mainimage = images/install.img

[tree]
arch = x86_64
platforms = x86_64,xen
variants = AppStream,BaseOS

[variant-BaseOS]
id = BaseOS
packages = BaseOS/Packages
repository = BaseOS
";

const ROCKY_GRUB: &str = "set default=\"1\"\nsearch --no-floppy --set=root -l 'Rocky-9-5-x86_64-dvd'\n\
menuentry 'Install Rocky Linux 9.5' --class fedora --class gnu-linux --class gnu --class os {\n\
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Rocky-9-5-x86_64-dvd quiet\n\
\tinitrdefi /images/pxeboot/initrd.img\n}\n\
menuentry 'Test this media & install Rocky Linux 9.5' --class fedora --class gnu-linux --class gnu --class os {\n\
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Rocky-9-5-x86_64-dvd rd.live.check quiet\n\
\tinitrdefi /images/pxeboot/initrd.img\n}\n";

/// Rocky Linux 9.5 DVD (x86_64), with its BaseOS repository.
fn rocky_dvd() -> MemTree {
    MemTree::new()
        .with(".treeinfo", ROCKY_TREEINFO)
        .with(".discinfo", "1731920000.000000\nRocky Linux 9.5\nx86_64\n")
        .with("EFI/BOOT/BOOTX64.EFI", signed(MS_CA))
        .with("EFI/BOOT/grubx64.efi", signed(ROCKY))
        .with("EFI/BOOT/grub.cfg", ROCKY_GRUB)
        .with_size("images/efiboot.img", 9_000_000)
        .with_size("images/install.img", 900_000_000)
        .with("images/pxeboot/vmlinuz", signed(ROCKY))
        .with_size("images/pxeboot/initrd.img", 110_000_000)
        .with_size("isolinux/isolinux.bin", 38_912)
        .with_size("BaseOS/repodata/repomd.xml", 4_000)
        .with_size("BaseOS/Packages/b/bash-5.1.8-9.el9.x86_64.rpm", 1_800_000)
}

#[test]
fn recognises_a_dvd_and_installs_from_its_repository() {
    let r = try_fedora(&rocky_dvd()).unwrap();
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "fedora".into()
        }
    );
    assert_eq!(r.title, "Rocky Linux 9.5 installer");
    assert_eq!(r.boots.len(), 1, "images-xen is no architecture");
    let b = &r.boots[0];
    assert_eq!(
        (b.arch, b.kernel.as_str()),
        (Arch::X86_64, "images/pxeboot/vmlinuz")
    );
    assert_eq!(b.initrds, ["images/pxeboot/initrd.img"]);
    assert_eq!(b.args, "quiet inst.repo={tree_url} ip=dhcp");
    assert!(
        matches!(&b.secure_boot, SecureBoot::Signed { shim, .. } if shim == "EFI/BOOT/BOOTX64.EFI")
    );
}

#[test]
fn a_boot_disc_without_packages_loads_only_stage2() {
    let tree = MemTree::new()
        .with(".treeinfo", "[general]\nname = Fedora-41\nversion = 41\narch = aarch64\n\n[release]\nname = Fedora\nversion = 41\n\n[images-aarch64]\nkernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n")
        .with("EFI/BOOT/BOOTAA64.EFI", signed_arm64(MS_CA))
        .with("EFI/BOOT/grubaa64.efi", signed_arm64(REDHAT))
        .with("images/pxeboot/vmlinuz", signed_arm64("Fedora Secure Boot CA"))
        .with_size("images/pxeboot/initrd.img", 100_000_000)
        .with_size("images/install.img", 800_000_000);
    let r = try_fedora(&tree).unwrap();
    assert_eq!(r.title, "Fedora 41 installer");
    assert_eq!(r.boots[0].arch, Arch::Arm64);
    assert_eq!(r.boots[0].args, "inst.stage2={tree_url} ip=dhcp");
    assert!(matches!(r.boots[0].secure_boot, SecureBoot::Signed { .. }));
    assert!(r.notes[0].contains("mirrors"));
}

#[test]
fn recognises_live_media_without_treeinfo() {
    let grub = "set default=\"0\"\nsearch --no-floppy --set=root -l 'Fedora-WS-Live-41-1-4'\n\
        menuentry 'Start Fedora-Workstation-Live 41' --class fedora --class gnu-linux --class gnu --class os {\n\
        \tlinux /images/pxeboot/vmlinuz root=live:CDLABEL=Fedora-WS-Live-41-1-4  rd.live.image quiet rhgb\n\
        \tinitrd /images/pxeboot/initrd.img\n}\n";
    let tree = MemTree::new()
        .with("EFI/BOOT/BOOTX64.EFI", signed(MS_CA))
        .with("EFI/BOOT/grubx64.efi", signed(REDHAT))
        .with("boot/grub2/grub.cfg", grub)
        .with("images/pxeboot/vmlinuz", signed("Fedora Secure Boot CA"))
        .with_size("images/pxeboot/initrd.img", 40_000_000)
        .with_size("LiveOS/squashfs.img", 2_400_000_000);
    let r = try_fedora(&tree).unwrap();
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "fedora-live".into()
        }
    );
    assert_eq!(r.title, "Fedora-Workstation-Live 41 live");
    assert_eq!(
        r.boots[0].args,
        "quiet rhgb root=live:{tree_url}LiveOS/squashfs.img rd.live.image ip=dhcp"
    );
    assert!(
        r.notes[0].contains("(2289 MiB) into memory"),
        "{:?}",
        r.notes
    );
}

#[test]
fn nothing_fedora_like_is_not_fedora() {
    assert_eq!(
        try_fedora(&MemTree::new().with_size("images/pxeboot/vmlinuz", 10)),
        None
    );
    assert_eq!(
        try_fedora(&MemTree::new().with(".treeinfo", "[images-x86_64]\nkernel = nope\n")),
        None
    );
}
