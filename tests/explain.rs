//! `netboot explain` as an admin runs it, against the example profiles in
//! `profiles/` (plus one that matches by architecture), a temporary boot
//! root and state directory, and a netboot.yaml naming an interface this
//! machine does not have (so the network is the one assumed from the
//! range, the same on every machine). Offline: no namespace, no socket.

#[path = "pxe_support/iso.rs"]
mod iso;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use netboot::dhcp::{store::LeaseStore, Lease, LeaseState};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

const ARM: &str = "\
name: arm-boards
match:
  arch: uefi-arm64
boot:
  uefi_arm64: grubaa64.efi
";

const SETTINGS: &str = "\
interface: nb-explain-none0
dhcp:
  range: 192.168.50.100-192.168.50.199
  dns: [192.168.50.1]
http:
  port: 8080
";

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// The example profiles (and arm-boards.yaml), a root with the usual
    /// boot files and the lab's kernel (no initrd), a state directory.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("profiles");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles"),
            &profiles,
        );
        std::fs::write(profiles.join("arm-boards.yaml"), ARM).unwrap();
        let root = dir.path().join("root");
        for dir in ["backups", "debian"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "pxelinux.0",
            "snponly.efi",
            "undionly.kpxe",
            "ipxe.efi",
            "grubaa64.efi",
            "debian/linux",
        ] {
            std::fs::write(root.join(file), b"boot file\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("state")).unwrap();
        std::fs::write(dir.path().join("netboot.yaml"), SETTINGS).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `netboot explain ARGS...` with this site's settings: (status, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(BIN)
            .arg("explain")
            .args(args)
            .arg("--config")
            .arg(self.path("netboot.yaml"))
            .arg("--profiles")
            .arg(self.path("profiles"))
            .arg("--root")
            .arg(self.path("root"))
            .arg("--state-dir")
            .arg(self.path("state"))
            .env_remove("NETBOOT_STATE_DIR")
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    fn explain(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "netboot explain {args:?} failed: {err}\n{out}");
        out
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn has(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l.trim() == line),
        "no line {line:?} in:\n{text}"
    );
}

const BIOS_PXE: &[&str] = &[
    "--arch",
    "0",
    "--vendor-class",
    "PXEClient:Arch:00000:UNDI:002001",
];

#[test]
fn a_lab_pc_in_every_mac_spelling_gets_its_host_entry_reply_and_chain() {
    let site = Site::new();
    for mac in [
        "52:54:00:10:00:01",
        "52-54-00-10-00-01",
        "5254.0010.0001",
        "525400100001",
    ] {
        let out = site.explain(&[&[mac][..], BIOS_PXE].concat());
        has(&out, "client 52:54:00:10:00:01: arch 0 (bios), vendor class \"PXEClient:Arch:00000:UNDI:002001\"");
    }
    let out = site.explain(&[&["5254.0010.0001"][..], BIOS_PXE].concat());
    has(
        &out,
        "nb-explain-none0: no such interface on this machine; assumed 192.168.50.1/24",
    );
    has(&out, "profile lab (lab.yaml:7), by exact MAC: exact MAC 52:54:00:10:00:01 (host name lab-pc-01, fixed address 192.168.50.11)");
    has(
        &out,
        "DISCOVER -> OFFER: offered 192.168.50.11; boot file for bios",
    );
    has(
        &out,
        "REQUEST -> ACK: acknowledged 192.168.50.11; boot file for bios",
    );
    has(&out, "yiaddr 192.168.50.11 (the client's address), siaddr 192.168.50.1 (next server), giaddr 0.0.0.0, flags unicast");
    for option in [
        "option   1 subnet mask: 255.255.255.0",
        "option   6 DNS server: 192.168.50.1",
        "option  12 host name: \"lab-pc-01\"",
        "option  15 domain name: \"lab.example\"",
        "option  42 NTP server: 192.168.50.1",
        "option  43 vendor specific (PXE): discovery control 8 (boot the file in this reply)",
        "option  51 lease time: 3600 s",
        "option  53 message type: OFFER",
        "option  54 server identifier: 192.168.50.1",
        "option  60 vendor class: \"PXEClient\"",
        "option  67 boot file name: \"pxelinux.0\"",
    ] {
        has(&out, option);
    }
    has(
        &out,
        "1. firmware (BIOS PXE) loads pxelinux.0: in the boot root, 10 bytes",
    );
    has(&out, "2. PXELINUX reads its configuration pxelinux.cfg/01-52-54-00-10-00-01: rendered for this client by its profile's `files:`");
    has(
        &out,
        "3. the configuration's kernel debian/linux: in the boot root, 10 bytes",
    );
    has(&out, "4. the configuration's initrd debian/initrd.gz: MISSING: not in the boot root, and nothing renders it");
}

#[test]
fn every_kind_of_match_and_every_why_not_line() {
    let site = Site::new();
    let phone = "Cisco Systems, Inc. IP Phone CP-7945G";
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["52:54:00:10:00:02", "--arch", "7"],
            "profile lab (lab.yaml:10), by exact MAC: exact MAC 52:54:00:10:00:02 (host name lab-pc-02, fixed address 192.168.50.12)",
            &[
                "not ipxe-chain (ipxe-chain.yaml:4): matches too (MAC prefix 52:54:00:*), but lab wins: exact MAC comes before MAC prefix",
                "not routers (router-backup.yaml:8): MAC prefix 00:1e:bd:* does not match 52:54:00:10:00:02",
                "not cisco-phones (cisco-phones.yaml:3): wants vendor class \"Cisco Systems, Inc. IP Phone*\", client sent none (no option 60)",
                "not arm-boards (arm-boards.yaml:1): wants arch 11 (uefi-arm64), client sent 7 (uefi-x64)",
                "not default (default.yaml:4): matches too (default), but lab wins: exact MAC comes before default",
            ],
        ),
        (
            &["52:54:00:42:00:01", "--arch", "0"],
            "profile ipxe-chain (ipxe-chain.yaml:7), by MAC prefix: MAC prefix 52:54:00:*",
            &["not lab (lab.yaml:4): not one of its hosts (52:54:00:10:00:01, 52:54:00:10:00:02, 52:54:00:10:00:03)"],
        ),
        (
            &["00:0d:29:aa:bb:cc", "--vendor-class", phone],
            "profile cisco-phones (cisco-phones.yaml:6), by vendor class: vendor class \"Cisco Systems, Inc. IP Phone*\"",
            &[
                "not cisco-pnp (router-backup.yaml:22): wants vendor class \"ciscopnp\", client sent \"Cisco Systems, Inc. IP Phone CP-7945G\"",
                "not arm-boards (arm-boards.yaml:1): wants arch 11 (uefi-arm64), client sent none (no option 93)",
                "not default (default.yaml:4): matches too (default), but cisco-phones wins: vendor class comes before default",
            ],
        ),
        (
            &["00:1e:bd:00:00:01", "--vendor-class", "ciscopnp"],
            "profile routers (router-backup.yaml:11), by MAC prefix: MAC prefix 00:1e:bd:*",
            &["not cisco-pnp (router-backup.yaml:22): matches too (vendor class \"ciscopnp\"), but routers wins: MAC prefix comes before vendor class"],
        ),
        (
            &["02:00:00:00:00:01", "--arch", "uefi-arm64"],
            "profile arm-boards (arm-boards.yaml:3), by architecture: arch 11",
            &["not default (default.yaml:4): matches too (default), but arm-boards wins: architecture comes before default"],
        ),
        (
            &["02:00:00:00:00:01"],
            "profile default (default.yaml:7), by default: default",
            &["not routers (router-backup.yaml:8): MAC prefix 00:1e:bd:* does not match 02:00:00:00:00:01"],
        ),
    ];
    for (args, profile, why_nots) in cases {
        let out = site.explain(args);
        has(&out, profile);
        for line in *why_nots {
            has(&out, line);
        }
    }
}

#[test]
fn a_lease_in_the_state_dir_is_the_address_offered_and_the_store_is_left_alone() {
    let site = Site::new();
    let lease = Lease {
        ip: Ipv4Addr::new(192, 168, 50, 150),
        mac: "52:54:00:77:00:01".parse().unwrap(),
        expires: u64::MAX / 4,
        state: LeaseState::Bound,
        hostname: None,
    };
    let (mut store, _) = LeaseStore::open(&site.path("state")).unwrap();
    store.append(&[lease]).unwrap();
    drop(store);
    let before = listing(&site.path("state"));
    let out = site.explain(&[
        "52:54:00:77:00:01",
        "--arch",
        "0",
        "--vendor-class",
        "PXEClient",
    ]);
    assert!(
        out.contains("lease of this MAC in the store: 192.168.50.150 (bound, expires in "),
        "{out}"
    );
    has(
        &out,
        "DISCOVER -> OFFER: offered 192.168.50.150; boot file for bios",
    );
    has(
        &out,
        "1. firmware (BIOS PXE) loads undionly.kpxe: in the boot root, 10 bytes",
    );
    has(&out, "2. iPXE asks DHCP again and runs boot.ipxe: rendered for this client by its profile's `files:`");
    has(
        &out,
        "3. the script's kernel vm/vmlinuz: MISSING: not in the boot root, and nothing renders it",
    );
    assert!(
        out.contains(", file \"http://192.168.50.1:8080/boot.ipxe\"\n"),
        "{out}"
    );
    assert_eq!(
        listing(&site.path("state")),
        before,
        "the state directory is unchanged"
    );
}

/// Each file of `dir` with its bytes.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn ipxe_asking_gets_its_script_over_http_and_json_says_the_same() {
    let site = Site::new();
    let args = ["52:54:00:10:00:03", "--arch", "7", "--user-class", "iPXE"];
    let out = site.explain(&args);
    has(
        &out,
        "client 52:54:00:10:00:03: arch 7 (uefi-x64), vendor class none, iPXE",
    );
    has(
        &out,
        "option  67 boot file name: \"http://192.168.50.1:8080/lab.ipxe\"",
    );
    has(
        &out,
        "1. firmware (iPXE) loads lab.ipxe: rendered for this client by its profile's `files:`",
    );
    has(
        &out,
        "2. the script's kernel debian/linux: in the boot root, 10 bytes",
    );
    let json = site.explain(&[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["profile"]["matched"]["profile"], "lab");
    assert_eq!(v["profile"]["matched"]["selector"], "exact_mac");
    assert_eq!(v["exchange"][1]["reply"], "ACK");
    assert_eq!(v["chain"][0]["name"], "lab.ipxe");
    assert_eq!(v["chain"][0]["found"]["kind"], "rendered");
}

#[test]
fn mistakes_are_named_with_their_fix() {
    let site = Site::new();
    let (ok, _, err) = site.run(&["52:54:00:10:00"]);
    assert!(!ok);
    assert!(
        err.contains("`52:54:00:10:00` is not a MAC address (expected six hex pairs"),
        "{err}"
    );
    let (ok, _, err) = site.run(&["52:54:00:10:00:01", "--ip", "10.9.9.9"]);
    assert!(!ok);
    assert!(
        err.contains("--ip 10.9.9.9 is on no network netboot serves (nb-explain-none0 192.168.50.1/24); give an address on one of them"),
        "{err}"
    );
    let (ok, _, err) = site.run(&["52:54:00:10:00:01", "--arch", "sparc"]);
    assert!(
        !ok && err.contains("`sparc` is not an architecture"),
        "{err}"
    );
}

#[test]
fn a_phone_gets_an_address_and_its_rendered_config_and_a_router_its_uploads() {
    let site = Site::new();
    let phone = "Cisco Systems, Inc. IP Phone CP-7945G";
    let out = site.explain(&["00:0d:29:aa:bb:cc", "--vendor-class", phone]);
    has(&out, "option 150 TFTP server addresses: 192.168.50.1");
    has(&out, "option  42 NTP server: 192.168.60.1");
    has(
        &out,
        "(no boot file in the reply: the client gets an address only)",
    );
    has(
        &out,
        "SEP000D29AABBCC.cnf.xml: rendered for this client by profile cisco-phones",
    );
    let out = site.explain(&["00:1e:bd:00:00:01"]);
    has(
        &out,
        "network-confg: rendered for this client by profile routers",
    );
    has(
        &out,
        "its uploads (TFTP write requests) land in backups/ (profile routers), the last 30 versions kept",
    );
}

#[test]
fn proxy_mode_and_known_clients_only_as_the_server_would_answer() {
    let site = Site::new();
    std::fs::write(
        site.path("netboot.yaml"),
        "interface: nb-explain-none0\nserver_address: 10.5.5.1\ndhcp:\n  proxy: true\n  known_clients_only: true\n",
    )
    .unwrap();
    let out = site.explain(&[
        "02:00:00:00:00:01",
        "--arch",
        "0",
        "--vendor-class",
        "PXEClient",
    ]);
    has(
        &out,
        "DISCOVER -> no reply: known-clients-only mode: no known profile for this MAC",
    );
    has(&out, "(no reply: the client gets nothing from netboot)");
    let out = site.explain(&[
        "52:54:00:10:00:01",
        "--arch",
        "0",
        "--vendor-class",
        "PXEClient",
    ]);
    has(
        &out,
        "DISCOVER -> OFFER: proxy offer (no address); boot file for bios",
    );
    has(&out, "sent broadcast to 255.255.255.255:68");
    has(&out, "yiaddr 0.0.0.0 (the client's address), siaddr 10.5.5.1 (next server), giaddr 0.0.0.0, flags unicast");
    has(&out, "2. PXELINUX reads its configuration pxelinux.cfg/default (nor pxelinux.cfg/01-52-54-00-10-00-01): MISSING: not in the boot root, and nothing renders it");
    has(&out, "netboot has no lease for this client (ProxyDHCP): files rendered per client are not served to it");
}

#[test]
fn the_catalogue_menu_names_a_kernel_inside_an_iso() {
    let site = Site::new();
    let work = tempfile::tempdir().unwrap();
    let built = iso::debian_installer_iso(work.path()).expect(
        "build the test ISO (needs xorriso, isolinux, syslinux-common, mtools, dosfstools, \
         debian-installer-12-netboot-amd64: see .ci/install-deps.sh)",
    );
    std::fs::rename(&built, site.path("root/debian-12.iso"))
        .or_else(|_| std::fs::copy(&built, site.path("root/debian-12.iso")).map(|_| ()))
        .unwrap();
    // a machine whose profile names no iPXE script: it gets the one netboot
    // writes, which chains the catalogue's menu
    let desk = "name: desk\nmatch:\n  mac: 02:00:00:00:aa:01\nboot:\n  bios: undionly.kpxe\nmenu:\n  default: debian-12.iso\n";
    std::fs::write(site.path("profiles/desk.yaml"), desk).unwrap();
    let out = site.explain(&[
        "02:00:00:00:aa:01",
        "--arch",
        "0",
        "--vendor-class",
        "PXEClient",
    ]);
    has(&out, "2. iPXE asks DHCP again and runs netboot.ipxe: rendered for this client by netboot (the root has no boot.ipxe)");
    has(&out, "3. the script chains menu-pcbios-i386.ipxe: rendered for this client by the image catalogue's menu");
    has(&out, "4. the script's kernel debian-12.iso/install.amd/vmlinuz: inside the catalogued ISO debian-12.iso");
    has(&out, "5. the script's initrd debian-12.iso/install.amd/initrd.gz: inside the catalogued ISO debian-12.iso");
}

#[test]
fn a_file_the_tftp_server_finds_by_case_or_refuses_is_said_so() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    std::fs::rename(site.path("root/debian"), site.path("root/Debian")).unwrap();
    std::fs::rename(
        site.path("root/Debian/linux"),
        site.path("root/Debian/LINUX"),
    )
    .unwrap();
    let initrd = site.path("root/Debian/initrd.gz");
    std::fs::write(&initrd, b"initrd\n").unwrap();
    std::fs::set_permissions(&initrd, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = site.explain(&[&["52:54:00:10:00:01"][..], BIOS_PXE].concat());
    has(
        &out,
        "3. the configuration's kernel debian/linux: in the boot root, 10 bytes",
    );
    has(&out, "4. the configuration's initrd debian/initrd.gz: FAILS: netboot refuses it: access violation: file is not world-readable");
}

#[test]
fn an_address_behind_a_relay_is_asked_through_the_relay_agent() {
    let site = Site::new();
    let relayed = SETTINGS.replace(
        "http:\n",
        "  relay_pools:\n    - subnet: 10.1.0.0/24\n      range: 10.1.0.50-10.1.0.99\n      router: 10.1.0.1\nhttp:\n",
    );
    std::fs::write(site.path("netboot.yaml"), relayed).unwrap();
    let out = site.explain(&[
        "02:00:00:00:00:01",
        "--arch",
        "0",
        "--vendor-class",
        "PXEClient",
        "--ip",
        "10.1.0.7",
    ]);
    has(&out, "the request arrives relayed from 10.1.0.0/24 (relay agent 10.1.0.1), whose pool holds 10.1.0.7; answered on nb-explain-none0 (192.168.50.1/24)");
    has(
        &out,
        "DISCOVER -> OFFER: offered 10.1.0.50; boot file for bios",
    );
    has(&out, "sent to 10.1.0.1:67");
    has(&out, "option   3 router: 10.1.0.1");
    let out = site.explain(&["02:00:00:00:00:01", "--ip", "192.168.50.7"]);
    has(&out, "the request arrives on nb-explain-none0 (192.168.50.1/24), whose subnet holds 192.168.50.7");
}

/// fill.sh's signed chain in the root: an unknown UEFI x64 machine gets the
/// shim, and the chain goes on through the GRUB it loads to the grub.cfg
/// netboot writes for it.
#[test]
fn the_signed_default_is_followed_from_shim_through_grub_to_its_configuration() {
    let site = Site::new();
    for file in ["shimx64.efi", "grubx64.efi"] {
        std::fs::write(site.path("root").join(file), b"signed\n").unwrap();
    }
    let args = [
        "0a:00:27:77:00:01",
        "--arch",
        "7",
        "--vendor-class",
        "PXEClient:Arch:00007:UNDI:003016",
    ];
    let out = site.explain(&args);
    let chain: Vec<&str> = out
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("1. firmware"))
        .take(3)
        .collect();
    assert_eq!(chain.len(), 3, "{out}");
    assert!(
        chain[0].starts_with("1. firmware (UEFI x64 PXE) loads shimx64.efi: in the boot root"),
        "{out}"
    );
    assert!(
        chain[1]
            .starts_with("2. shim loads GRUB from its own directory grubx64.efi: in the boot root"),
        "{out}"
    );
    assert!(
        chain[2].starts_with("3. GRUB reads its configuration grub/grub.cfg: rendered"),
        "{out}"
    );
}

/// A host with `address6` beside `address`: the Profile section names both
/// fixed addresses, and the JSON carries `address6`.
#[test]
fn a_hosts_ipv6_reservation_is_shown_beside_its_ipv4_one() {
    let site = Site::new();
    let v6 = "name: v6-desk\nhosts:\n  - mac: 52:54:00:66:00:01\n    address: 192.168.50.66\n    \
              address6: fd00:50::66\nboot:\n  bios: pxelinux.0\n";
    std::fs::write(site.path("profiles").join("v6.yaml"), v6).unwrap();
    let out = site.explain(&["52:54:00:66:00:01"]);
    assert!(
        out.contains(
            "profile v6-desk (v6.yaml:3), by exact MAC: exact MAC 52:54:00:66:00:01 \
             (fixed address 192.168.50.66, fixed IPv6 address fd00:50::66)"
        ),
        "{out}"
    );
    let json = site.explain(&["52:54:00:66:00:01", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["profile"]["matched"]["address6"], "fd00:50::66");
}
