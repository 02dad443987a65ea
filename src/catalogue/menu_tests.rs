use std::sync::Arc;

use super::*;
use crate::catalogue::model::Recognised;
use crate::catalogue::Source;

fn linux(id: &str, arch: Arch, args: &str) -> Entry {
    Entry {
        id: id.into(),
        source: Source::Iso(Arc::default()),
        size: 1,
        recognised: Recognised {
            kind: Kind::Linux {
                distro: "debian-installer".into(),
            },
            title: format!("{id} title"),
            boots: vec![Boot {
                arch,
                kernel: "install.amd/vmlinuz".into(),
                initrds: vec!["install.amd/initrd.gz".into()],
                args: args.into(),
                secure_boot: SecureBoot::Unsigned {
                    reason: "no shim".into(),
                },
            }],
            notes: vec![],
        },
        stamp: None,
    }
}

fn catalogue() -> Catalogue {
    Catalogue {
        entries: vec![
            linux(
                "debian 12.iso",
                Arch::X86_64,
                "url={iso_url} fetch={tree_url}live/fs",
            ),
            linux("arm.iso", Arch::Arm64, ""),
        ],
        ..Catalogue::default()
    }
}

const BASE: &str = "http://10.0.0.1:8080/";

fn script(client: Client, choice: &Choice) -> String {
    let ctx = Context {
        base_url: BASE,
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: None,
        choice,
        extra_args: Some("console=ttyS0"),
    };
    ipxe(&catalogue(), client, &ctx)
}

#[test]
fn client_from_the_file_name_ipxe_asks_for() {
    assert_eq!(
        Client::from_file_name("menu-efi-x86_64.ipxe"),
        Some(Client {
            efi: true,
            arch: Arch::X86_64
        })
    );
    assert_eq!(
        Client::from_file_name("menu-pcbios-i386.ipxe"),
        Some(Client {
            efi: false,
            arch: Arch::I386
        })
    );
    assert_eq!(Client::from_file_name("menu-efi-riscv.ipxe"), None);
    assert_eq!(Client::from_file_name("boot.ipxe"), None);
}

#[test]
fn a_bios_client_gets_x86_entries_and_the_local_disk_by_default() {
    let s = script(
        Client {
            efi: false,
            arch: Arch::I386,
        },
        &Choice::default(),
    );
    assert!(s.starts_with("#!ipxe\n"), "{s}");
    assert!(s.contains("item e0 debian 12.iso title\n"), "{s}");
    assert!(!s.contains("arm.iso"), "{s}");
    assert!(
        s.contains("choose --default local --timeout 10000 target"),
        "{s}"
    );
    assert!(
        s.contains("kernel http://10.0.0.1:8080/debian%2012.iso/install.amd/vmlinuz url=http://10.0.0.1:8080/debian%2012.iso fetch=http://10.0.0.1:8080/debian%2012.iso/live/fs console=ttyS0 || goto failed\n"),
        "{s}"
    );
    assert!(s.contains("initrd -n initrd.gz http://10.0.0.1:8080/debian%2012.iso/install.amd/initrd.gz || goto failed\n"), "{s}");
}

#[test]
fn an_efi_kernel_is_told_its_initrd_by_name() {
    let s = script(
        Client {
            efi: true,
            arch: Arch::X86_64,
        },
        &Choice::default(),
    );
    assert!(
        s.contains(" console=ttyS0 initrd=initrd.gz || goto failed\n"),
        "{s}"
    );
    let arm = script(
        Client {
            efi: true,
            arch: Arch::Arm64,
        },
        &Choice::default(),
    );
    assert!(arm.contains("item e0 arm.iso title"), "{arm}");
    assert!(!arm.contains("debian"), "{arm}");
}

#[test]
fn a_default_entry_and_a_single_entry() {
    let choice = Choice::Menu {
        default: Some("debian 12.iso".into()),
        timeout_s: 3,
    };
    let s = script(
        Client {
            efi: true,
            arch: Arch::X86_64,
        },
        &choice,
    );
    assert!(
        s.contains("choose --default e0 --timeout 3000 target"),
        "{s}"
    );
    let one = script(
        Client {
            efi: true,
            arch: Arch::X86_64,
        },
        &Choice::Entry("debian 12.iso".into()),
    );
    assert!(!one.contains("menu"), "{one}");
    assert!(one.contains("boot || goto fail\n"), "{one}");
    let missing = script(
        Client {
            efi: true,
            arch: Arch::X86_64,
        },
        &Choice::Entry("gone.iso".into()),
    );
    assert!(
        missing.contains("entry gone.iso is not in the catalogue"),
        "{missing}"
    );
    assert!(missing.contains("choose --default local"), "{missing}");
}

#[test]
fn titles_cannot_inject_ipxe_settings_or_lines() {
    let mut cat = catalogue();
    cat.entries[0].recognised.title = "evil ${net0/ip}\nchain http://x".into();
    let ctx = Context {
        base_url: BASE,
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: None,
        choice: &Choice::default(),
        extra_args: None,
    };
    let s = ipxe(
        &cat,
        Client {
            efi: false,
            arch: Arch::I386,
        },
        &ctx,
    );
    assert!(
        s.contains("item e0 evil  {net0/ip} chain http://x\n"),
        "{s}"
    );
}

#[test]
fn with_nothing_catalogued_bios_chains_pxelinux_and_efi_goes_on() {
    let empty = Catalogue::default();
    let ctx = Context {
        base_url: BASE,
        done_url: None,
        has_wimboot: false,
        has_pxelinux: true,
        ipxe_efi: None,
        choice: &Choice::default(),
        extra_args: None,
    };
    let bios = ipxe(
        &empty,
        Client {
            efi: false,
            arch: Arch::I386,
        },
        &ctx,
    );
    assert!(bios.contains("chain pxelinux.0 ||\n"), "{bios}");
    let efi = ipxe(
        &empty,
        Client {
            efi: true,
            arch: Arch::X86_64,
        },
        &ctx,
    );
    assert!(!efi.contains("chain"), "{efi}");
    assert!(efi.trim_end().ends_with("exit"), "{efi}");
}

fn other(id: &str, kind: Kind, initrds: &[&str]) -> Entry {
    let mut e = linux(id, Arch::X86_64, "");
    e.recognised.kind = kind;
    e.recognised.boots[0].kernel = String::new();
    e.recognised.boots[0].initrds = initrds.iter().map(|s| s.to_string()).collect();
    e
}

#[test]
fn windows_pe_needs_wimboot_and_an_unknown_iso_is_sanbooted() {
    let winpe = other(
        "win11.iso",
        Kind::WindowsPe,
        &["bootmgr", "boot/bcd", "boot/boot.sdi", "sources/boot.wim"],
    );
    let cat = Catalogue {
        entries: vec![winpe, other("odd.iso", Kind::Sanboot, &[])],
        ..Catalogue::default()
    };
    let client = Client {
        efi: true,
        arch: Arch::X86_64,
    };
    let mut ctx = Context {
        base_url: BASE,
        done_url: None,
        has_wimboot: false,
        has_pxelinux: false,
        ipxe_efi: None,
        choice: &Choice::default(),
        extra_args: None,
    };
    let without = ipxe(&cat, client, &ctx);
    assert!(
        !without.contains("win11"),
        "no wimboot, no Windows entry: {without}"
    );
    assert!(
        without.contains("item e0 odd.iso title [whole image: sanboot]"),
        "{without}"
    );
    assert!(
        without.contains("sanboot --no-describe http://10.0.0.1:8080/odd.iso || goto failed"),
        "{without}"
    );
    ctx.has_wimboot = true;
    let with = ipxe(&cat, client, &ctx);
    assert!(
        with.contains("kernel http://10.0.0.1:8080/wimboot || goto failed"),
        "{with}"
    );
    assert!(
        with.contains("initrd -n bcd http://10.0.0.1:8080/win11.iso/boot/bcd || goto failed"),
        "{with}"
    );
    assert!(
        with.contains("initrd -n boot.wim http://10.0.0.1:8080/win11.iso/sources/boot.wim"),
        "{with}"
    );
}
