use super::*;

fn client(arch: Option<u16>, class: Option<&str>, ipxe: bool) -> ClientId {
    ClientId {
        mac: MacAddr([2, 0, 0, 0, 0, 1]),
        arch,
        vendor_class: class.map(str::to_string),
        is_ipxe: ipxe,
    }
}

const TFTP: BootParams<'static> = BootParams {
    tftp_server: Ipv4Addr::new(10, 0, 0, 1),
    server_ip: Ipv4Addr::new(10, 0, 0, 1),
    server_name: None,
    http_port: None,
};

fn profile() -> ClientProfile {
    ClientProfile {
        name: "p".into(),
        boot: BootFiles {
            bios: Some("undionly.kpxe".into()),
            uefi_ia32: Some("ia32.efi".into()),
            uefi_x64: Some("ipxe.efi".into()),
            uefi_arm64: Some("arm64.efi".into()),
            http: Some("http://10.0.0.1/boot.efi".into()),
            ipxe: Some("boot.ipxe".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn arch_selects_file() {
    let p = profile();
    let cases = [
        (None, Some("PXEClient"), false, Some("undionly.kpxe")),
        (None, None, false, None),
        (None, Some("Cisco Systems, Inc."), false, None),
        (None, Some("U-Boot.armv8"), false, None),
        (
            Some(0),
            Some("PXEClient:Arch:00000"),
            false,
            Some("undionly.kpxe"),
        ),
        (Some(6), None, false, Some("ia32.efi")),
        (Some(7), None, false, Some("ipxe.efi")),
        (Some(9), None, false, Some("ipxe.efi")),
        (Some(11), None, false, Some("arm64.efi")),
        (Some(15), None, false, Some("http://10.0.0.1/boot.efi")),
        (
            Some(16),
            Some("HTTPClient:Arch:00016"),
            false,
            Some("http://10.0.0.1/boot.efi"),
        ),
        (Some(19), None, false, Some("http://10.0.0.1/boot.efi")),
        (Some(7), Some("PXEClient"), true, Some("boot.ipxe")),
        (Some(0), None, true, Some("boot.ipxe")),
        (Some(10), None, false, None),
    ];
    for (arch, class, ipxe, want) in cases {
        let (file, _) = select(&client(arch, class, ipxe), Some(&p), &TFTP);
        assert_eq!(file.as_deref(), want, "arch {arch:?} ipxe {ipxe}");
    }
}

#[test]
fn only_a_profile_gives_a_file_to_what_is_not_boot_firmware() {
    let router = client(None, Some("ciscopnp"), false);
    let mut p = profile();
    assert_eq!(
        select(&router, Some(&p), &TFTP),
        (None, BootNote::NoFileFor(Family::Other))
    );
    assert!(BootNote::NoFileFor(Family::Other)
        .to_string()
        .contains("boot.other"));
    p.boot.other = Some("network-confg".into());
    assert_eq!(
        select(&router, Some(&p), &TFTP),
        (
            Some("network-confg".to_string()),
            BootNote::File(Family::Other)
        )
    );
}

#[test]
fn with_http_on_http_clients_get_their_arch_file_and_ipxe_its_script_as_urls() {
    let web = BootParams {
        http_port: Some(8080),
        ..TFTP
    };
    let mut p = profile();
    p.boot.http = None;
    let x64 = client(Some(16), Some("HTTPClient:Arch:00016:UNDI:003001"), false);
    assert_eq!(
        select(&x64, Some(&p), &web).0.as_deref(),
        Some("http://10.0.0.1:8080/ipxe.efi")
    );
    let arm = client(Some(19), Some("HTTPClient:Arch:00019"), false);
    assert_eq!(
        select(&arm, Some(&p), &web).0.as_deref(),
        Some("http://10.0.0.1:8080/arm64.efi")
    );
    assert_eq!(
        select(&x64, Some(&p), &TFTP).0,
        None,
        "no HTTP server, no URL"
    );
    let ipxe = client(Some(7), None, true);
    assert_eq!(
        select(&ipxe, Some(&p), &web).0.as_deref(),
        Some("http://10.0.0.1:8080/boot.ipxe")
    );
    let port80 = BootParams {
        http_port: Some(80),
        ..TFTP
    };
    assert_eq!(
        select(&ipxe, Some(&p), &port80).0.as_deref(),
        Some("http://10.0.0.1/boot.ipxe")
    );
    p.boot.http = Some("http://mirror/boot.efi".into());
    assert_eq!(
        select(&x64, Some(&p), &web).0.as_deref(),
        Some("http://mirror/boot.efi")
    );
    let bios = client(Some(0), Some("PXEClient"), false);
    assert_eq!(
        select(&bios, Some(&p), &web).0.as_deref(),
        Some("undionly.kpxe"),
        "TFTP for PXE"
    );
}

#[test]
fn missing_file_is_explained() {
    let mut p = profile();
    p.boot.uefi_x64 = None;
    let (file, note) = select(&client(Some(9), None, false), Some(&p), &TFTP);
    assert_eq!(file, None);
    assert_eq!(note, BootNote::NoFileFor(Family::UefiX64));
    assert_eq!(
        select(&client(Some(21), None, false), Some(&p), &TFTP).1,
        BootNote::NoFileFor(Family::UbootArm32)
    );
    let (file, note) = select(&client(Some(1), None, false), Some(&p), &TFTP);
    assert_eq!((file, note), (None, BootNote::UnsupportedArch(1)));
    assert!(note.to_string().contains("NEC/PC98"), "{note}");
    assert!(BootNote::UnsupportedArch(42)
        .to_string()
        .contains("not in IANA's registry"));
    assert_eq!(
        select(&client(None, None, false), None, &TFTP).1,
        BootNote::NoProfile
    );
}

/// A profile that gives every `boot:` key a file named after the key.
fn every_key() -> ClientProfile {
    let mut boot = BootFiles::default();
    for key in BootFiles::KEYS {
        let name = if key.starts_with("http") {
            format!("http://10.0.0.1/{key}")
        } else {
            format!("{key}.file")
        };
        *boot.slot(key).unwrap() = Some(name);
    }
    ClientProfile {
        name: "all".into(),
        boot,
        ..Default::default()
    }
}

#[test]
fn every_code_gets_exactly_the_file_of_its_family() {
    let p = every_key();
    for code in 0..=41u16 {
        let row = crate::arch::lookup(code).unwrap();
        let (file, note) = select(&client(Some(code), None, false), Some(&p), &TFTP);
        let want = match (row.family, row.transport) {
            (None, crate::arch::Transport::Pxe) => None,
            (None, crate::arch::Transport::Http) => Some("http://10.0.0.1/http".to_string()),
            (Some(f), crate::arch::Transport::Pxe) => Some(format!("{}.file", f.key())),
            (Some(f), crate::arch::Transport::Http) => {
                Some(format!("http://10.0.0.1/{}", f.http_key().unwrap()))
            }
        };
        assert_eq!(file, want, "code {code} ({note})");
    }
}

#[test]
fn http_clients_fall_back_to_their_family_file_on_our_server() {
    let web = BootParams {
        http_port: Some(80),
        ..TFTP
    };
    let mut p = every_key();
    p.boot.http = None;
    p.boot.http_by_arch = Default::default();
    let cases = [
        (15, "uefi_ia32"),
        (16, "uefi_x64"),
        (18, "uefi_arm32"),
        (19, "uefi_arm64"),
        (20, "bios"),
        (24, "uboot_arm64"),
        (26, "uefi_riscv32"),
        (28, "uefi_riscv64"),
        (40, "uefi_loongarch64"),
    ];
    for (code, key) in cases {
        let (file, _) = select(&client(Some(code), None, false), Some(&p), &web);
        assert_eq!(
            file,
            Some(format!("http://10.0.0.1/{key}.file")),
            "code {code}"
        );
    }
    let (file, note) = select(&client(Some(30), None, false), Some(&p), &web);
    assert_eq!((file, note), (None, BootNote::NoFileFor(Family::Http)));
}

#[test]
fn uboot_gets_its_script_whatever_arm_code_it_sends() {
    let p = every_key();
    for (code, want) in [
        (11, "uboot_arm64"),
        (22, "uboot_arm64"),
        (10, "uboot_arm32"),
    ] {
        let uboot = client(Some(code), Some("U-Boot.armv8"), false);
        let (file, note) = select(&uboot, Some(&p), &TFTP);
        assert_eq!(file, Some(format!("{want}.file")), "code {code}: {note}");
    }
    // its second DHCP round for `bootefi` says PXEClient: the UEFI file
    let efi = client(Some(11), Some("PXEClient:Arch:00011:UNDI:003000"), false);
    assert_eq!(
        select(&efi, Some(&p), &TFTP).0.as_deref(),
        Some("uefi_arm64.file")
    );
    let riscv = client(Some(27), Some("U-Boot"), false);
    assert_eq!(
        select(&riscv, Some(&p), &TFTP).0.as_deref(),
        Some("uefi_riscv64.file")
    );
}

#[test]
fn an_http_client_without_option_93_is_known_by_its_vendor_class() {
    let web = BootParams {
        http_port: Some(80),
        ..TFTP
    };
    let mut p = every_key();
    p.boot.http = None;
    let arm = client(None, Some("HTTPClient:Arch:00019:UNDI:003000"), false);
    assert_eq!(
        select(&arm, Some(&p), &web).0.as_deref(),
        Some("http://10.0.0.1/http_arm64")
    );
    p.boot.http_by_arch = Default::default();
    assert_eq!(
        select(&arm, Some(&p), &web).0.as_deref(),
        Some("http://10.0.0.1/uefi_arm64.file")
    );
    let odd = client(None, Some("HTTPClient:Arch:x"), false);
    assert_eq!(select(&odd, Some(&p), &web).0, None);
}
