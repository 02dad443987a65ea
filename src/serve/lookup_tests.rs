//! Tests of the layered lookup and the UEFI PXE defaults.

use super::*;

fn nothing() -> UefiDefault {
    UefiDefault {
        file: None,
        why: Why::Nothing,
    }
}

#[test]
fn defaults_fill_gaps() {
    let layered = Layered {
        registry: Arc::new(Registry::default()),
        defaults: BootFiles {
            bios: Some("undionly.kpxe".into()),
            ..BootFiles::default()
        },
        uefi_x64_pxe: nothing(),
        uefi_arm64_pxe: nothing(),
    };
    let client = ClientId {
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
        arch: Some(0),
        vendor_class: None,
        is_ipxe: false,
    };
    let got = layered.lookup(&client).unwrap();
    assert_eq!(got.boot.bios.as_deref(), Some("undionly.kpxe"));
    assert_eq!(got.name, "built-in defaults");
    let mut boot = BootFiles {
        bios: Some("mine.0".into()),
        ..BootFiles::default()
    };
    fill(&mut boot, &layered.defaults);
    assert_eq!(
        boot.bios.as_deref(),
        Some("mine.0"),
        "a profile's own file wins"
    );
}

fn client(arch: u16, vendor: &str, is_ipxe: bool) -> ClientId {
    ClientId {
        mac: MacAddr([2, 0, 0, 0, 0, 7]),
        arch: Some(arch),
        vendor_class: Some(vendor.into()),
        is_ipxe,
    }
}

#[test]
fn only_uefi_x64_pxe_clients_get_the_signed_shim() {
    let layered = Layered {
        registry: Arc::new(Registry::default()),
        defaults: BootFiles {
            uefi_x64: Some("ipxe.efi".into()),
            ipxe: Some("netboot.ipxe".into()),
            ..BootFiles::default()
        },
        uefi_x64_pxe: UefiDefault {
            file: Some("d.iso/EFI/boot/bootx64.efi".into()),
            why: Why::Catalogue("d.iso".into()),
        },
        uefi_arm64_pxe: UefiDefault {
            file: Some("shimaa64.efi".into()),
            why: Why::RootChain,
        },
    };
    let file = |c: &ClientId| layered.lookup(c).unwrap().boot.uefi_x64;
    for arch in [7, 9] {
        let pxe = client(arch, "PXEClient:Arch:00007:UNDI:003000", false);
        assert_eq!(file(&pxe).as_deref(), Some("d.iso/EFI/boot/bootx64.efi"));
    }
    let http = client(16, "HTTPClient:Arch:00016:UNDI:003000", false);
    assert_eq!(
        file(&http).as_deref(),
        Some("ipxe.efi"),
        "HTTP boot keeps iPXE"
    );
    let ipxe = client(7, "PXEClient:Arch:00007:UNDI:003010", true);
    let got = layered.lookup(&ipxe).unwrap().boot;
    assert_eq!(got.ipxe.as_deref(), Some("netboot.ipxe"));
    let arm = client(11, "PXEClient:Arch:00011:UNDI:003000", false);
    let got = layered.lookup(&arm).unwrap().boot;
    assert_eq!(got.uefi_arm64.as_deref(), Some("shimaa64.efi"));
    let note = layered.default_note(&arm).unwrap();
    assert!(
        note.contains("get shimaa64.efi: the signed shim in the root"),
        "{note}"
    );
    assert!(layered.default_note(&http).is_none());
}

fn defaults(configured: bool, chains: RootChains) -> Defaults {
    Defaults {
        files: BootFiles {
            uefi_x64: Some("ipxe.efi".into()),
            uefi_arm64: Some("grubaa64.efi".into()),
            ..BootFiles::default()
        },
        uefi_x64_configured: configured,
        uefi_arm64_configured: configured,
        root_chains: chains,
        catalogue: live::empty(std::path::PathBuf::from("/nonexistent")),
    }
}

#[test]
fn configured_wins_then_the_roots_chain_then_the_isos_then_one_present() {
    let shim = SignedShim {
        entry: "d.iso".into(),
        boot_file: "d.iso/EFI/boot/bootx64.efi".into(),
    };
    let both = RootChains {
        x64: true,
        arm64: true,
    };
    let none = RootChains::default();
    let x64 = |d: Defaults, s| d.uefi_x64_pxe(s).file;
    assert_eq!(
        x64(defaults(true, both), Some(&shim)).as_deref(),
        Some("ipxe.efi")
    );
    assert_eq!(
        x64(defaults(false, both), Some(&shim)).as_deref(),
        Some("shimx64.efi")
    );
    assert_eq!(
        x64(defaults(false, none), Some(&shim)).as_deref(),
        Some("d.iso/EFI/boot/bootx64.efi")
    );
    assert_eq!(
        x64(defaults(false, none), None).as_deref(),
        Some("ipxe.efi")
    );
    let arm64 = |d: Defaults| d.uefi_arm64_pxe().file;
    assert_eq!(arm64(defaults(true, both)).as_deref(), Some("grubaa64.efi"));
    assert_eq!(
        arm64(defaults(false, both)).as_deref(),
        Some("shimaa64.efi")
    );
    assert_eq!(
        arm64(defaults(false, none)).as_deref(),
        Some("grubaa64.efi")
    );
}

fn signed_entry(id: &str) -> crate::catalogue::Entry {
    use crate::catalogue::model::{Arch, Boot, Kind, Recognised, SecureBoot};
    crate::catalogue::Entry {
        id: id.into(),
        source: crate::catalogue::Source::Iso(Arc::default()),
        size: 1,
        recognised: Recognised {
            kind: Kind::Linux {
                distro: "debian-installer".into(),
            },
            title: id.into(),
            boots: vec![Boot {
                arch: Arch::X86_64,
                kernel: "install.amd/vmlinuz".into(),
                initrds: vec![],
                args: String::new(),
                secure_boot: SecureBoot::Signed {
                    shim: "EFI/boot/bootx64.efi".into(),
                    grub: "EFI/boot/grubx64.efi".into(),
                    signer: None,
                },
            }],
            notes: vec![],
        },
        stamp: None,
    }
}

#[test]
fn the_source_follows_catalogue_rescans() {
    let catalogue = live::empty(std::path::PathBuf::from("/nonexistent"));
    let defaults = Defaults {
        files: BootFiles {
            uefi_x64: Some("ipxe.efi".into()),
            ..BootFiles::default()
        },
        uefi_x64_configured: false,
        uefi_arm64_configured: false,
        root_chains: RootChains::default(),
        catalogue: Arc::clone(&catalogue),
    };
    let source = source(
        Arc::new(ArcSwap::from_pointee(Registry::default())),
        defaults,
    );
    let pxe = client(7, "PXEClient:Arch:00007:UNDI:003000", false);
    let file = || source().lookup(&pxe).unwrap().boot.uefi_x64;
    assert_eq!(file().as_deref(), Some("ipxe.efi"));
    catalogue.store(Arc::new(Catalogue {
        entries: vec![signed_entry("d.iso")],
        ..Catalogue::default()
    }));
    assert_eq!(file().as_deref(), Some("d.iso/EFI/boot/bootx64.efi"));
    catalogue.store(Arc::new(Catalogue::default()));
    assert_eq!(file().as_deref(), Some("ipxe.efi"), "the ISO removed");
}
