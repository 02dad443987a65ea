use std::sync::Arc;

use super::*;
use crate::catalogue::model::Recognised;
use crate::catalogue::Source;

fn entry(id: &str, secure_boot: SecureBoot) -> Entry {
    Entry {
        id: id.into(),
        source: Source::Iso(Arc::default()),
        size: 1,
        recognised: Recognised {
            kind: Kind::Linux {
                distro: "debian-installer".into(),
            },
            title: format!("{id}'s title"),
            boots: vec![Boot {
                arch: Arch::X86_64,
                kernel: "install.amd/vmlinuz".into(),
                initrds: vec!["install.amd/initrd.gz".into()],
                args: "url={iso_url}".into(),
                secure_boot,
            }],
            notes: vec![],
        },
        stamp: None,
    }
}

fn signed() -> SecureBoot {
    SecureBoot::Signed {
        shim: "EFI/boot/bootx64.efi".into(),
        grub: "EFI/boot/grubx64.efi".into(),
        signer: None,
    }
}

fn cfg(choice: &Choice) -> String {
    let catalogue = Catalogue {
        entries: vec![
            entry("signed.iso", signed()),
            entry(
                "plain.iso",
                SecureBoot::Unsigned {
                    reason: "no shim".into(),
                },
            ),
        ],
        ..Catalogue::default()
    };
    let ctx = Context {
        base_url: "http://10.0.0.1/",
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: None,
        choice,
        extra_args: Some("console=ttyS0"),
    };
    grub_cfg(&catalogue, &ctx)
}

#[test]
fn where_grub_looks_for_its_config() {
    assert!(is_grub_cfg("/grub/grub.cfg"));
    assert!(is_grub_cfg("debian-installer/amd64/grub/grub.cfg"));
    assert!(is_grub_cfg("grub.cfg"));
    assert!(!is_grub_cfg("desk/grub.cfg"));
    assert!(!is_grub_cfg("grub.cfg-01-52-54-00-12-34-56"));
}

#[test]
fn http_device_with_and_without_a_port() {
    assert_eq!(
        http_device("http://10.0.0.1/").as_deref(),
        Some("(http,10.0.0.1)")
    );
    assert_eq!(
        http_device("http://10.0.0.1:8080/").as_deref(),
        Some("(http,10.0.0.1,8080)")
    );
}

#[test]
fn files_come_over_http_when_grub_has_it_else_over_tftp() {
    let s = cfg(&Choice::default());
    assert!(
        s.starts_with(
            "# Written by netboot from the image catalogue.\n\
             set netboot_dev=(tftp,10.0.0.1)\n\
             export netboot_dev\n\
             source (http,10.0.0.1)/netboot-grub-http.cfg\n"
        ),
        "{s}"
    );
    assert_eq!(
        http_probe("http://10.0.0.1:8080/").as_deref(),
        Some(
            "set netboot_dev=(http,10.0.0.1,8080)\nexport netboot_dev\n\
             echo 'netboot: GRUB reaches HTTP'\n"
        )
    );
    assert_eq!(
        tftp_device("http://10.0.0.1:8080/").as_deref(),
        Some("(tftp,10.0.0.1)")
    );
}

#[test]
fn unsigned_entries_are_hidden_under_secure_boot_and_signed_ones_are_marked() {
    let s = cfg(&Choice::default());
    assert!(s.contains("set default=local\nset timeout=10\n"), "{s}");
    assert!(
        s.contains("menuentry 'signed.iso'\\''s title [Secure Boot ok]' --id e0 {"),
        "{s}"
    );
    assert!(
        s.contains("  linux $netboot_dev/signed.iso/install.amd/vmlinuz url=http://10.0.0.1/signed.iso console=ttyS0\n"),
        "{s}"
    );
    assert!(
        s.contains("  initrd $netboot_dev/signed.iso/install.amd/initrd.gz\n"),
        "{s}"
    );
    let plain = s.find("--id e1").unwrap();
    let guard = s[..plain]
        .rfind("if [ \"$lockdown\" != \"y\" ]; then")
        .unwrap();
    assert!(
        guard > s.find("--id e0").unwrap(),
        "only the unsigned entry is guarded: {s}"
    );
    assert!(s.contains("if [ \"$grub_cpu\" = \"x86_64\" ]; then"), "{s}");
}

#[test]
fn one_entry_boots_at_once() {
    let s = cfg(&Choice::Entry("signed.iso".into()));
    assert!(s.contains("set default=e0\nset timeout=0\n"), "{s}");
}

#[test]
fn an_unsigned_default_gives_way_to_the_local_disk_under_secure_boot() {
    let s = cfg(&Choice::Entry("plain.iso".into()));
    let note = "if [ \"$lockdown\" = \"y\" ]; then\n  \
                echo 'netboot: Secure Boot is on: only signed entries are shown'\nfi\n";
    assert!(
        s.contains(&format!(
            "set default=e1\nset timeout=0\n{note}\
            if [ \"$grub_cpu\" = \"x86_64\" ]; then\nif [ \"$lockdown\" = \"y\" ]; then\n  \
            set default=local\nfi\nfi\n"
        )),
        "{s}"
    );
    let s = cfg(&Choice::Entry("signed.iso".into()));
    assert!(!s.contains("  set default=local"), "{s}");
}

#[test]
fn ipxe_is_offered_only_when_present_and_not_locked_down() {
    assert!(!cfg(&Choice::default()).contains("iPXE"));
    let catalogue = Catalogue::default();
    let choice = Choice::default();
    let ctx = Context {
        base_url: "http://10.0.0.1:8080/",
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: Some("ipxe.efi"),
        choice: &choice,
        extra_args: None,
    };
    let s = grub_cfg(&catalogue, &ctx);
    let want = "if [ \"$grub_platform\" = \"efi\" ]; then\n\
        if [ \"$grub_cpu\" = \"x86_64\" ]; then\n\
        if [ \"$lockdown\" != \"y\" ]; then\n\
        menuentry 'iPXE menu (Secure Boot off)' --id ipxe {\n  \
        chainloader $netboot_dev/ipxe.efi\n}\nfi\nfi\nfi\n\
        menuentry 'Boot from the local disk' --id local {";
    assert!(s.contains(want), "{s}");
}

#[test]
fn an_empty_catalogue_still_gives_a_menu_with_the_local_disk_and_ipxe() {
    let choice = Choice::default();
    let ctx = Context {
        base_url: "http://10.0.0.1/",
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: Some("ipxe.efi"),
        choice: &choice,
        extra_args: None,
    };
    let s = grub_cfg(&Catalogue::default(), &ctx);
    assert!(s.contains("set default=local\nset timeout=10\n"), "{s}");
    assert!(
        s.contains(&format!("echo '{MENU_NOTE} (0 entries)'")),
        "{s}"
    );
    assert!(s.contains("if [ \"$lockdown\" != \"y\" ]; then\nmenuentry 'iPXE menu (Secure Boot off)' --id ipxe {\n  chainloader $netboot_dev/ipxe.efi\n"), "{s}");
    assert!(
        s.ends_with("menuentry 'Boot from the local disk' --id local {\n  exit\n}\n"),
        "{s}"
    );
}
