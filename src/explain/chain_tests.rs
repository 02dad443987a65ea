//! The chain over a fake set of files.

use std::collections::HashMap;

use super::*;

#[derive(Default)]
struct Fake {
    files: HashMap<String, Found>,
    rewrites: HashMap<String, String>,
}

impl Fake {
    fn root(mut self, name: &str, text: &str) -> Self {
        let found = Found::Root {
            size: text.len() as u64,
            text: Some(text.to_string()),
        };
        self.files.insert(name.to_string(), found);
        self
    }

    fn rendered(mut self, name: &str, text: &str) -> Self {
        let found = Found::Rendered {
            by: "profile lab".into(),
            text: text.to_string(),
        };
        self.files.insert(name.to_string(), found);
        self
    }
}

impl Files for Fake {
    fn find(&self, name: &str) -> (Found, Option<String>) {
        let rewritten = self.rewrites.get(name).cloned();
        let looked = rewritten.as_deref().unwrap_or(name);
        let found = self.files.get(looked).cloned().unwrap_or(Found::Missing);
        (found, rewritten)
    }
}

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 50, 1);

fn start<'a>(family: Family, file: &'a str, ipxe_file: Option<&'a str>) -> Start<'a> {
    Start {
        family,
        file: Some(file),
        next_server: SERVER,
        server_ip: SERVER,
        ipxe_file,
        mac: "52:54:00:10:00:01".parse().unwrap(),
        ip: Ipv4Addr::new(192, 168, 50, 11),
    }
}

fn summary(links: &[Link]) -> Vec<String> {
    links
        .iter()
        .map(|l| {
            let state = match &l.found {
                Found::Rendered { .. } => "rendered",
                Found::Root { .. } => "root",
                Found::InIso { .. } => "iso",
                Found::Missing => "missing",
                Found::Broken { .. } => "broken",
                Found::Elsewhere { .. } => "elsewhere",
            };
            format!("{}: {} [{state}]", l.stage, l.name)
        })
        .collect()
}

#[test]
fn ipxe_binary_then_script_then_kernel_and_initrd() {
    let files = Fake::default().root("snponly.efi", "").rendered(
        "lab.ipxe",
        "#!ipxe\nkernel http://192.168.50.1/debian/linux auto=true\ninitrd http://192.168.50.1/debian/initrd.gz\nboot\n",
    ).root("debian/linux", "");
    let s = start(
        Family::UefiX64,
        "snponly.efi",
        Some("http://192.168.50.1/lab.ipxe"),
    );
    assert_eq!(
        summary(&chain(&s, &files)),
        [
            "firmware (UEFI x64 PXE) loads: snponly.efi [root]",
            "iPXE asks DHCP again and runs: lab.ipxe [rendered]",
            "the script's kernel: debian/linux [root]",
            "the script's initrd: debian/initrd.gz [missing]",
        ]
    );
}

#[test]
fn pxelinux_finds_the_per_mac_config_and_its_files() {
    let cfg = "DEFAULT install\nLABEL install\n  KERNEL debian/linux\n  APPEND initrd=debian/initrd.gz auto=true\n";
    let files = Fake::default()
        .root("pxelinux.0", "")
        .rendered("pxelinux.cfg/01-52-54-00-10-00-01", cfg)
        .root("debian/linux", "")
        .root("debian/initrd.gz", "");
    let got = summary(&chain(&start(Family::Bios, "pxelinux.0", None), &files));
    assert_eq!(
        got,
        [
            "firmware (BIOS PXE) loads: pxelinux.0 [root]",
            "PXELINUX reads its configuration: pxelinux.cfg/01-52-54-00-10-00-01 [rendered]",
            "the configuration's kernel: debian/linux [root]",
            "the configuration's initrd: debian/initrd.gz [root]",
        ]
    );
}

#[test]
fn pxelinux_falls_back_to_hex_address_then_default_and_says_when_none() {
    let files = Fake::default()
        .root("pxelinux.0", "")
        .root("pxelinux.cfg/C0A832", "LABEL x\n  LINUX k\n");
    let got = summary(&chain(&start(Family::Bios, "pxelinux.0", None), &files));
    assert_eq!(
        got[1],
        "PXELINUX reads its configuration: pxelinux.cfg/C0A832 [root]"
    );
    assert_eq!(got[2], "the configuration's kernel: k [missing]");
    let none = Fake::default().root("pxelinux.0", "");
    let got = summary(&chain(&start(Family::Bios, "pxelinux.0", None), &none));
    assert_eq!(
        got[1],
        "PXELINUX reads its configuration: pxelinux.cfg/default (nor pxelinux.cfg/01-52-54-00-10-00-01) [missing]"
    );
}

#[test]
fn grub_config_through_a_rewrite_with_devices_stripped() {
    let mut files = Fake::default()
        .root("grubx64.efi", "")
        .root(
            "grub/lab.cfg",
            "menuentry x {\n linux (http,192.168.50.1)/vm/vmlinuz quiet\n initrd (http,192.168.50.1)/vm/initrd.img\n}\n",
        )
        .root("vm/vmlinuz", "");
    files
        .rewrites
        .insert("grub.cfg".into(), "grub/lab.cfg".into());
    let links = chain(&start(Family::UefiX64, "grubx64.efi", None), &files);
    assert_eq!(
        summary(&links)[1..],
        [
            "GRUB reads its configuration: grub.cfg [root]",
            "the configuration's kernel: vm/vmlinuz [root]",
            "the configuration's initrd: vm/initrd.img [missing]",
        ]
    );
    assert_eq!(links[1].rewritten.as_deref(), Some("grub/lab.cfg"));
}

#[test]
fn chained_scripts_get_the_clients_platform_and_missing_first_file_stops() {
    let files = Fake::default()
        .root(
            "netboot.ipxe",
            "#!ipxe\nchain menu-${platform}-${buildarch}.ipxe || goto failed\n",
        )
        .rendered(
            "menu-pcbios-i386.ipxe",
            "#!ipxe\nkernel ${base}vmlinuz\nsanboot http://10.9.9.9/disk.iso\n",
        );
    let s = start(Family::Ipxe, "http://192.168.50.1/netboot.ipxe", None);
    assert_eq!(
        summary(&chain(&s, &files)),
        [
            "firmware (iPXE) loads: netboot.ipxe [root]",
            "the script chains: menu-efi-x86_64.ipxe [missing]",
        ]
    );
    let bios = Start {
        family: Family::Bios,
        ..start(Family::Bios, "undionly.kpxe", Some("netboot.ipxe"))
    };
    let files = files.root("undionly.kpxe", "");
    let got = summary(&chain(&bios, &files));
    assert_eq!(
        got[2],
        "the script chains: menu-pcbios-i386.ipxe [rendered]"
    );
    assert_eq!(got[3], "the script's kernel: ${base}vmlinuz [elsewhere]");
    assert_eq!(
        got[4],
        "the script's disk image: http://10.9.9.9/disk.iso [elsewhere]"
    );
    let missing = chain(&start(Family::Bios, "nothing.0", None), &Fake::default());
    assert_eq!(
        summary(&missing),
        ["firmware (BIOS PXE) loads: nothing.0 [missing]"]
    );
}

#[test]
fn another_tftp_server_is_not_checked() {
    let mut s = start(Family::Bios, "pxelinux.0", None);
    s.next_server = Ipv4Addr::new(10, 1, 1, 1);
    let links = chain(&s, &Fake::default());
    assert_eq!(
        links[0].found,
        Found::elsewhere("the profile sends the client to the TFTP server 10.1.1.1")
    );
}

#[test]
fn every_kind_of_found_serializes_to_json() {
    let all = [
        Found::Rendered {
            by: "x".into(),
            text: "t".into(),
        },
        Found::Root {
            size: 3,
            text: None,
        },
        Found::InIso {
            iso: "d.iso".into(),
        },
        Found::Missing,
        Found::Broken { why: "w".into() },
        Found::elsewhere("w"),
    ];
    let kinds: Vec<String> = all
        .iter()
        .map(|f| {
            serde_json::to_value(f).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "rendered",
            "root",
            "in_iso",
            "missing",
            "broken",
            "elsewhere"
        ]
    );
    assert_eq!(
        serde_json::to_value(Found::elsewhere("w")).unwrap(),
        serde_json::json!({"kind": "elsewhere", "why": "w"})
    );
}

#[test]
fn a_uboot_script_that_runs_pxe_get_reads_the_macs_configuration() {
    let files = Fake::default()
        .rendered("boot.scr.uimg", "'V\u{0}header pxe get; pxe boot\n")
        .rendered(
            "pxelinux.cfg/01-52-54-00-10-00-01",
            "default l\nlabel l\n  kernel boards/Image\n",
        );
    let got = summary(&chain(
        &start(Family::UbootArm64, "boot.scr.uimg", None),
        &files,
    ));
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[1].contains("pxelinux.cfg/01-52-54-00-10-00-01"),
        "{got:#?}"
    );
    assert!(got[2].contains("boards/Image"), "{got:#?}");
    let plain = Fake::default().rendered("boot.scr.uimg", "echo hi\n");
    let got = summary(&chain(
        &start(Family::UbootArm64, "boot.scr.uimg", None),
        &plain,
    ));
    assert_eq!(got.len(), 1, "{got:#?}");
}

#[test]
fn shim_then_its_grub_then_the_grub_cfg_at_grubs_prefix() {
    let files = Fake::default()
        .root("debian-installer/amd64/shimx64.efi", "")
        .root("debian-installer/amd64/grubx64.efi", "")
        .rendered(
            "debian-installer/amd64/grub/grub.cfg",
            "menuentry x {\n linux /debian-installer/amd64/linux quiet\n initrd /debian-installer/amd64/initrd.gz\n}\n",
        )
        .root("debian-installer/amd64/linux", "")
        .root("debian-installer/amd64/initrd.gz", "");
    let s = start(Family::UefiX64, "debian-installer/amd64/shimx64.efi", None);
    assert_eq!(
        summary(&chain(&s, &files)),
        [
            "firmware (UEFI x64 PXE) loads: debian-installer/amd64/shimx64.efi [root]",
            "shim loads GRUB from its own directory: debian-installer/amd64/grubx64.efi [root]",
            "GRUB reads its configuration: debian-installer/amd64/grub/grub.cfg [rendered]",
            "the configuration's kernel: debian-installer/amd64/linux [root]",
            "the configuration's initrd: debian-installer/amd64/initrd.gz [root]",
        ]
    );
    // fill.sh's layout: shim and GRUB at the top, GRUB reading grub/grub.cfg
    let files = Fake::default()
        .root("shimaa64.efi", "")
        .root("grubaa64.efi", "")
        .rendered("grub/grub.cfg", "set timeout=5\n");
    let s = start(Family::UefiArm64, "shimaa64.efi", None);
    assert_eq!(
        summary(&chain(&s, &files)),
        [
            "firmware (UEFI ARM64 PXE) loads: shimaa64.efi [root]",
            "shim loads GRUB from its own directory: grubaa64.efi [root]",
            "GRUB reads its configuration: grub/grub.cfg [rendered]",
        ]
    );
    // a shim whose GRUB is missing: the chain says so and stops
    let files = Fake::default().root("shimx64.efi", "");
    let s = start(Family::UefiX64, "shimx64.efi", None);
    let links = summary(&chain(&s, &files));
    assert_eq!(
        links.last().map(String::as_str),
        Some("shim loads GRUB from its own directory: grubx64.efi [missing]")
    );
}
