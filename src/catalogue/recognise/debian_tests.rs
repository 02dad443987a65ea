use super::*;
use crate::catalogue::model::SecureBoot;
use crate::catalogue::recognise::fixtures::{signed, signed_arm64, unsigned, MS_CA};
use crate::catalogue::tree::MemTree;

const DEBIAN_CA: &str = "Debian Secure Boot CA";
const INFO: &str =
    "Debian GNU/Linux 12.8.0 \"Bookworm\" - Official amd64 NETINST with firmware 20241109-11:04";

const TXT_CFG: &str = "label install\n\tmenu label ^Install\n\tkernel /install.amd/vmlinuz\n\
    \tappend vga=788 initrd=/install.amd/initrd.gz --- quiet \n";
const GTK_CFG: &str = "default installgui\nlabel installgui\n\tmenu label ^Graphical install\n\
    \tmenu default\n\tkernel /install.amd/vmlinuz\n\tappend vga=788 initrd=/install.amd/gtk/initrd.gz --- quiet \n";
const GRUB_CFG: &str = "if [ ${iso_path} ] ; then\nset loopback=\"findiso=${iso_path}\"\nexport loopback\nfi\n\
    menuentry --hotkey=g 'Graphical install' {\n    set background_color=black\n\
    \x20   linux    /install.amd/vmlinuz vga=788 --- quiet\n    initrd   /install.amd/gtk/initrd.gz\n}\n\
    menuentry --hotkey=i 'Install' {\n    set background_color=black\n\
    \x20   linux    /install.amd/vmlinuz vga=788 --- quiet\n    initrd   /install.amd/initrd.gz\n}\n";

/// Debian 12 netinst amd64 as the ISO lays it out.
fn netinst() -> MemTree {
    MemTree::new()
        .with(".disk/info", INFO)
        .with_size(".disk/base_installable", 0)
        .with("EFI/boot/bootx64.efi", signed(MS_CA))
        .with("EFI/boot/grubx64.efi", signed(DEBIAN_CA))
        .with_size("boot/grub/efi.img", 2_949_120)
        .with("boot/grub/grub.cfg", GRUB_CFG)
        .with("install.amd/vmlinuz", signed(DEBIAN_CA))
        .with_size("install.amd/initrd.gz", 19_120_448)
        .with("install.amd/gtk/vmlinuz", signed(DEBIAN_CA))
        .with_size("install.amd/gtk/initrd.gz", 37_615_290)
        .with_size("isolinux/isolinux.bin", 38_912)
        .with(
            "isolinux/isolinux.cfg",
            "path \ninclude menu.cfg\ndefault vesamenu.c32\nprompt 0\ntimeout 0\n",
        )
        .with(
            "isolinux/menu.cfg",
            "menu hshift 4\nmenu width 70\ninclude gtk.cfg\ninclude txt.cfg\n",
        )
        .with("isolinux/gtk.cfg", GTK_CFG)
        .with("isolinux/txt.cfg", TXT_CFG)
        .with_size(
            "pool/main/l/linux-signed-amd64/linux-image-6.1.0-27-amd64_6.1.115-1_amd64.deb",
            69_000_000,
        )
        .with_size("dists/bookworm/Release", 4_000)
}

#[test]
fn recognises_the_amd64_netinst_with_a_signed_chain() {
    let r = try_installer(&netinst()).unwrap();
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "debian-installer".into()
        }
    );
    assert_eq!(r.title, "Debian GNU/Linux 12.8.0 \"Bookworm\" installer");
    assert_eq!(r.boots.len(), 1);
    let b = &r.boots[0];
    assert_eq!(
        (b.arch, b.kernel.as_str()),
        (Arch::X86_64, "install.amd/vmlinuz")
    );
    assert_eq!(b.initrds, ["install.amd/initrd.gz"]);
    assert_eq!(b.args, "vga=788 --- quiet");
    assert_eq!(
        b.secure_boot,
        SecureBoot::Signed {
            shim: "EFI/boot/bootx64.efi".into(),
            grub: "EFI/boot/grubx64.efi".into(),
            signer: Some(MS_CA.into())
        }
    );
    assert_eq!(r.notes[0], CD_INITRD_NOTE);
    assert!(r.notes[1].contains("install.amd/gtk/"));
    assert_eq!(try_live(&netinst()), None);
}

#[test]
fn a_multi_arch_disc_gives_a_boot_per_architecture() {
    let tree = netinst()
        .with("install.386/vmlinuz", unsigned())
        .with_size("install.386/initrd.gz", 18_000_000)
        .with("install.a64/vmlinuz", signed_arm64(DEBIAN_CA))
        .with_size("install.a64/initrd.gz", 17_000_000);
    let r = try_installer(&tree).unwrap();
    let arches: Vec<Arch> = r.boots.iter().map(|b| b.arch).collect();
    assert_eq!(arches, [Arch::X86_64, Arch::Arm64, Arch::I386]);
    assert_eq!(
        r.boots[1].secure_boot,
        SecureBoot::Unsigned {
            reason: "no shim at EFI/BOOT/BOOTAA64.EFI".into()
        }
    );
    assert_eq!(r.boots[2].kernel, "install.386/vmlinuz");
    assert_eq!(r.boots[2].args, "", "no config names this kernel");
}

#[test]
fn without_info_or_configs_the_well_known_paths_still_do() {
    let tree = MemTree::new()
        .with("INSTALL.A64/VMLINUZ", signed_arm64(DEBIAN_CA))
        .with_size("INSTALL.A64/INITRD.GZ", 17_000_000);
    let r = try_installer(&tree).unwrap();
    assert_eq!(r.title, "Debian installer");
    assert_eq!(
        r.notes,
        [OTHER_INITRD_NOTE],
        "no package pool: not one of Debian's discs"
    );
    assert_eq!(r.boots[0].arch, Arch::Arm64);
    assert_eq!(r.boots[0].initrds, ["INSTALL.A64/INITRD.GZ"]);
}

const LIVE_CFG: &str = "label live-amd64\n\tmenu label ^Live system (amd64)\n\tmenu default\n\
    \tlinux /live/vmlinuz-6.1.0-26-amd64\n\tinitrd /live/initrd.img-6.1.0-26-amd64\n\
    \tappend boot=live components quiet splash findiso=${iso_path}\n\n\
    label live-amd64-failsafe\n\tmenu label Live system (amd64 fail-safe mode)\n\
    \tlinux /live/vmlinuz-6.1.0-26-amd64\n\tinitrd /live/initrd.img-6.1.0-26-amd64\n\
    \tappend boot=live components memtest noapic noapm nodma nomce nosmp nosplash vga=788\n";

/// Debian 12 live (standard) amd64.
fn live() -> MemTree {
    MemTree::new()
        .with(
            ".disk/info",
            "Debian GNU/Linux 12.8.0 \"Bookworm\" - Official Live amd64 standard 20241109",
        )
        .with("EFI/boot/bootx64.efi", signed(MS_CA))
        .with("EFI/boot/grubx64.efi", signed(DEBIAN_CA))
        .with("isolinux/live.cfg", LIVE_CFG)
        .with("live/vmlinuz-6.1.0-26-amd64", signed(DEBIAN_CA))
        .with_size("live/initrd.img-6.1.0-26-amd64", 45_000_000)
        .with_size("live/filesystem.squashfs", 1_052_000_000)
        .with_size("live/filesystem.packages", 40_000)
        .with("install/vmlinuz", signed(DEBIAN_CA))
        .with_size("install/initrd.gz", 19_000_000)
}

#[test]
fn recognises_a_live_image_and_fetches_its_squashfs() {
    let r = try_live(&live()).unwrap();
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "debian-live".into()
        }
    );
    assert_eq!(r.title, "Debian GNU/Linux 12.8.0 \"Bookworm\" live");
    let b = &r.boots[0];
    assert_eq!(b.kernel, "live/vmlinuz-6.1.0-26-amd64");
    assert_eq!(b.initrds, ["live/initrd.img-6.1.0-26-amd64"]);
    assert_eq!(
        b.args,
        "quiet splash boot=live components fetch={tree_url}live/filesystem.squashfs"
    );
    assert!(matches!(b.secure_boot, SecureBoot::Signed { .. }));
    assert!(
        r.notes[0].contains("(1004 MiB) into memory"),
        "{:?}",
        r.notes
    );
    assert!(r.notes[1].contains("install/"));
    assert_eq!(try_installer(&live()), None);
}

#[test]
fn a_live_image_without_configs_pairs_kernel_and_initrd_by_version() {
    let tree = MemTree::new()
        .with("live/vmlinuz-6.1.0-26-686-pae", unsigned())
        .with_size("live/initrd.img-6.1.0-26-686-pae", 40_000_000)
        .with_size("live/filesystem.squashfs", 900_000_000);
    let r = try_live(&tree).unwrap();
    assert_eq!(r.boots[0].arch, Arch::I386);
    assert_eq!(r.boots[0].initrds, ["live/initrd.img-6.1.0-26-686-pae"]);
    assert_eq!(
        r.boots[0].args,
        "boot=live components fetch={tree_url}live/filesystem.squashfs"
    );
}
