use super::*;

const DEBIAN_TXT_CFG: &str = "\
default install
label install
\tmenu label ^Install
\tmenu default
\tkernel /install.amd/vmlinuz
\tappend vga=788 initrd=/install.amd/initrd.gz --- quiet
";

const ARCH_SYS_CFG: &str = "\
LABEL arch64
TEXT HELP
Boot the Arch Linux install medium on BIOS.
It allows you to install Arch Linux or perform system maintenance.
ENDTEXT
MENU LABEL Arch Linux install medium (x86_64, BIOS)
LINUX /arch/boot/x86_64/vmlinuz-linux
INITRD /arch/boot/intel-ucode.img,/arch/boot/amd-ucode.img,/arch/boot/x86_64/initramfs-linux.img
APPEND archisobasedir=arch archisosearchuuid=2024-12-01-10-26-33-00

LABEL existing
MENU LABEL Boot existing OS
COM32 chain.c32
APPEND hd0 0
";

const FEDORA_GRUB: &str = "\
set default=\"1\"
function load_video {
  insmod all_video
}
search --no-floppy --set=root -l 'Fedora-S-dvd-x86_64-41'
menuentry 'Install Fedora 41' --class fedora --class gnu-linux --class gnu --class os {
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-41 quiet
\tinitrdefi /images/pxeboot/initrd.img
}
submenu 'Troubleshooting -->' {
\tmenuentry 'Rescue a Fedora system' --class fedora {
\t\tlinuxefi ($root)/images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-41 inst.rescue quiet
\t\tinitrdefi /images/pxeboot/initrd.img
\t}
}
";

#[test]
fn reads_a_debian_isolinux_entry_with_its_initrd_in_append() {
    let e = syslinux(DEBIAN_TXT_CFG);
    assert_eq!(
        e,
        vec![Entry {
            title: "Install".into(),
            kernel: "install.amd/vmlinuz".into(),
            initrds: vec!["install.amd/initrd.gz".into()],
            args: vec!["vga=788".into(), "---".into(), "quiet".into()],
        }]
    );
}

#[test]
fn reads_upper_case_syslinux_with_help_text_and_initrd_lists() {
    let e = syslinux(ARCH_SYS_CFG);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].title, "Arch Linux install medium (x86_64, BIOS)");
    assert_eq!(e[0].kernel, "arch/boot/x86_64/vmlinuz-linux");
    assert_eq!(
        e[0].initrds,
        [
            "arch/boot/intel-ucode.img",
            "arch/boot/amd-ucode.img",
            "arch/boot/x86_64/initramfs-linux.img"
        ]
    );
    assert_eq!(
        e[0].args,
        [
            "archisobasedir=arch",
            "archisosearchuuid=2024-12-01-10-26-33-00"
        ]
    );
}

#[test]
fn reads_grub_menuentries_in_submenus_and_device_prefixes() {
    let e = grub(FEDORA_GRUB);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].title, "Install Fedora 41");
    assert_eq!(e[0].kernel, "images/pxeboot/vmlinuz");
    assert_eq!(e[0].initrds, ["images/pxeboot/initrd.img"]);
    assert_eq!(
        e[0].args,
        ["inst.stage2=hd:LABEL=Fedora-S-dvd-x86_64-41", "quiet"]
    );
    assert_eq!(e[1].title, "Rescue a Fedora system");
    assert_eq!(e[1].kernel, "images/pxeboot/vmlinuz");
}

#[test]
fn garbage_gives_no_entries() {
    assert!(grub("menuentry\n{\n}\nlinux\n").is_empty());
    assert!(syslinux("append x\nkernel\nlabel\nmenu\n").is_empty());
    assert_eq!(grub("menuentry \"Unclosed {\n linux /k a").len(), 1);
}
