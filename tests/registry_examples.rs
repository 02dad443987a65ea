//! The shipped example profiles validate against a boot root holding the
//! files `boot-images/fill.sh` fetches, and answer as their comments say.

use std::net::Ipv4Addr;
use std::path::Path;

use netboot::boot::{ClientId, ProfileLookup};
use netboot::mac::MacAddr;
use netboot::registry::{check, ClientFacts, Registry};

const BOOT_FILES: &[&str] = &[
    "pxelinux.0",
    "ldlinux.c32",
    "undionly.kpxe",
    "ipxe.efi",
    "snponly.efi",
];

fn load() -> Registry {
    let boot = tempfile::tempdir().unwrap();
    std::fs::create_dir(boot.path().join("backups")).unwrap();
    for f in BOOT_FILES {
        std::fs::write(boot.path().join(f), b"").unwrap();
    }
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    match check(&profiles, boot.path()) {
        Ok(reg) => reg,
        Err(diags) => {
            let lines: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            panic!("example profiles do not validate:\n{}", lines.join("\n"));
        }
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn who(reg: &Registry, m: &str, arch: Option<u16>, vendor: Option<&str>) -> String {
    let client = ClientId {
        mac: mac(m),
        arch,
        vendor_class: vendor.map(str::to_string),
        is_ipxe: false,
    };
    reg.lookup(&client).map(|p| p.name).unwrap_or_default()
}

fn facts(m: &str) -> ClientFacts {
    let mut facts = ClientFacts::new(
        mac(m),
        Ipv4Addr::new(192, 168, 50, 11),
        Ipv4Addr::new(192, 168, 50, 1),
    );
    facts.http_url = Some("http://192.168.50.1:8080".into());
    facts
}

fn file(reg: &Registry, m: &str, path: &str) -> String {
    let bytes = reg.virtual_file(&facts(m), path).unwrap().unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn examples_validate() {
    let reg = load();
    let mut names = reg.profile_names();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "cisco-phones",
            "cisco-pnp",
            "default",
            "ipxe-chain",
            "lab",
            "routers",
            "uboot-boards"
        ]
    );
    assert_eq!(reg.reservations().len(), 3);
}

#[test]
fn examples_match_as_documented() {
    let reg = load();
    assert_eq!(who(&reg, "52:54:00:10:00:02", Some(7), None), "lab");
    assert_eq!(who(&reg, "52:54:00:99:00:02", Some(9), None), "ipxe-chain");
    let phone = Some("Cisco Systems, Inc. IP Phone CP-7945G");
    assert_eq!(who(&reg, "00:1b:54:aa:0f:e1", None, phone), "cisco-phones");
    assert_eq!(who(&reg, "00:1e:bd:01:02:03", None, None), "routers");
    assert_eq!(
        who(&reg, "00:11:22:33:44:55", None, Some("ciscopnp")),
        "cisco-pnp"
    );
    assert_eq!(who(&reg, "00:11:22:33:44:55", Some(0), None), "default");
    let uboot = Some("U-Boot.armv8");
    assert_eq!(
        who(&reg, "02:00:00:00:00:22", Some(22), uboot),
        "uboot-boards"
    );
    let lab = reg
        .lookup(&ClientId {
            mac: mac("52:54:00:10:00:01"),
            arch: Some(0),
            vendor_class: None,
            is_ipxe: false,
        })
        .unwrap();
    assert_eq!(lab.fixed_address, Some(Ipv4Addr::new(192, 168, 50, 11)));
    assert_eq!(lab.hostname.as_deref(), Some("lab-pc-01"));
    assert_eq!(lab.boot.bios.as_deref(), Some("pxelinux.0"));
    assert!(lab.known);
}

#[test]
fn example_files_render() {
    let reg = load();
    let sep = file(&reg, "00:1b:54:aa:0f:e1", "SEP001B54AA0FE1.cnf.xml");
    assert!(sep.contains("for 001B54AA0FE1"), "{sep}");
    assert!(
        sep.contains("<loadServer>192.168.50.1</loadServer>"),
        "{sep}"
    );
    let pxe = file(
        &reg,
        "52:54:00:10:00:02",
        "pxelinux.cfg/01-52-54-00-10-00-02",
    );
    assert!(pxe.contains("hostname=lab-pc-02"), "{pxe}");
    assert!(pxe.contains("console=ttyS0,115200"), "{pxe}");
    let vm = file(&reg, "52:54:00:99:00:02", "boot.ipxe");
    assert!(vm.starts_with("#!ipxe\n"), "{vm}");
    assert!(vm.contains("http://192.168.50.1:8080/vm/vmlinuz"), "{vm}");
    let fallback = file(&reg, "00:11:22:33:44:55", "/pxelinux.cfg/default");
    assert!(fallback.contains("LOCALBOOT 0"), "{fallback}");
    assert_eq!(
        reg.rewrite_path(&mac("52:54:00:10:00:03"), "/grub.cfg"),
        Some("grub/lab.cfg".to_string())
    );
    assert_eq!(reg.upload_dir(&mac("00:1e:bd:01:02:03")), Some("backups/"));
    assert_eq!(
        reg.upload_keep_versions(&mac("00:1e:bd:01:02:03")),
        Some(30)
    );
}

/// The U-Boot example renders the distro-boot script and the `pxe get`
/// configuration for a board that said U-Boot in its DHCP request.
#[test]
fn the_uboot_example_renders_both_flows() {
    let reg = load();
    let mut board = facts("02:00:00:00:00:22");
    board.arch = Some(22);
    board.vendor_class = Some("U-Boot.armv8".into());
    let script = reg.virtual_file(&board, "boot.scr.uimg").unwrap().unwrap();
    let script = String::from_utf8_lossy(&script);
    assert!(
        script.contains("tftpboot ${kernel_addr_r} debian-installer/arm64/linux"),
        "{script}"
    );
    assert!(script.contains("for 02:00:00:00:00:22"), "{script}");
    let cfg = reg
        .virtual_file(&board, "pxelinux.cfg/01-02-00-00-00-00-22")
        .unwrap()
        .unwrap();
    let cfg = String::from_utf8(cfg).unwrap();
    assert!(cfg.contains("kernel debian-installer/arm64/linux"), "{cfg}");
}
