//! `netboot serve` end to end with real clients, inside network namespaces
//! this test creates and deletes: udhcpc gets its reserved lease and boot
//! file from a profile, busybox tftp fetches the boot file and the file
//! rendered for that client (and a path rewrite of its profile; another
//! client gets neither), profiles reload on change (a bad edit keeps the
//! last good registry), `netboot leases` lists the lease, a router's backup
//! lands in its profile's `upload_dir` (the next night's replaces it and
//! the first is kept, `keep_versions`; a crash's temporary file is removed
//! at start), and quick mode
//! runs with nothing but `--interface`. dhclient and nmap are in
//! `serve_dhclient_nmap.rs`, several interfaces, unicast and config files in
//! `serve_networks.rs`.

mod netns;

use std::process::Command;
use std::time::Duration;

use netns::{assert_lease_listed, boot_root, Lab, ServeDirs, CLIENT_MAC, SERVER_IP};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

/// Fetches `remote` over TFTP from the client namespace with busybox.
fn tftp_get(lab: &Lab, remote: &str) -> Option<Vec<u8>> {
    lab.tftp_get_in(&lab.cli, SERVER_IP, remote)
}

fn profile(hostname: &str, boot: &str) -> String {
    format!(
        "name: desk\nmatch:\n  mac: {CLIENT_MAC}\naddress: 10.231.0.42\nhostname: {hostname}\n\
         tftp_servers: [self]\nboot:\n  bios: {boot}\nfiles:\n  \"SEP{{{{ mac.upper }}}}.cnf.xml\":\n    \
         content: \"<device><name>{{{{ hostname }}}}</name><ip>{{{{ ip }}}}</ip></device>\\n\"\n\
         rewrite:\n  - {{from: grub.cfg, to: desk/grub.cfg}}\n"
    )
}

fn wait_for(lab: &mut Lab, needle: &str) {
    lab.wait_log(needle, Duration::from_secs(15));
}

#[test]
fn profile_reservation_boot_file_and_rendered_file() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    let state = lab.path("state");
    let desk = profile("desk-01", "pxelinux.0");
    let ServeDirs { root, .. } = lab.start_serve_on(
        &[("desk.yaml", &desk)],
        &["--state-dir", state.to_str().unwrap(), "--no-ping"],
    );
    assert!(
        lab.log_contains("netboot serves interface vs0 as 10.231.0.1/24"),
        "{}",
        lab.log()
    );

    let lease = lab.udhcpc_pxe(&["-O", "150"]);
    assert_eq!(
        lease.get("ip").map(String::as_str),
        Some("10.231.0.42"),
        "{lease:?}\n{}",
        lab.log()
    );
    assert_eq!(lease.get("siaddr").map(String::as_str), Some(SERVER_IP));
    assert_eq!(
        lease.get("boot_file").map(String::as_str),
        Some("pxelinux.0")
    );
    assert_eq!(lease.get("hostname").map(String::as_str), Some("desk-01"));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        lease.get("sname").map(String::as_str),
        Some(host.trim()),
        "sname is the server's host name"
    );
    assert_eq!(
        lease.get("opt150").map(String::as_str),
        Some("0ae70001"),
        "option 150 = our address"
    );

    lab.client_addr("10.231.0.42/24");
    let got = tftp_get(&lab, "pxelinux.0").expect("boot file over TFTP");
    assert_eq!(got, std::fs::read(root.join("pxelinux.0")).unwrap());
    let sep = tftp_get(&lab, "SEP525400123456.cnf.xml").expect("rendered file over TFTP");
    assert_eq!(
        String::from_utf8(sep).unwrap(),
        "<device><name>desk-01</name><ip>10.231.0.42</ip></device>\n"
    );

    // The profile's rewrite: this client asking grub.cfg gets its own.
    std::fs::create_dir_all(root.join("desk")).unwrap();
    std::fs::write(root.join("grub.cfg"), "menuentry everyone\n").unwrap();
    std::fs::write(root.join("desk/grub.cfg"), "menuentry desk\n").unwrap();
    let grub = tftp_get(&lab, "grub.cfg").expect("grub.cfg over TFTP");
    assert_eq!(grub, b"menuentry desk\n", "rewritten for this client");

    assert_lease_listed(&state, &[CLIENT_MAC, "10.231.0.42", "bound"]);

    // Another machine (another MAC, a lease from the pool) gets neither the
    // first one's rendered file nor its rewrite.
    let flushed = lab
        .client_cmd("ip")
        .args(["addr", "flush", "dev", netns::CLIENT_IF])
        .status()
        .unwrap();
    assert!(flushed.success());
    lab.client_mac("52:54:00:99:88:77");
    let other = lab.udhcpc(&[]);
    let other_ip = other
        .get("ip")
        .cloned()
        .expect("a lease for the second MAC");
    assert_ne!(other_ip, "10.231.0.42");
    assert_eq!(
        other.get("boot_file").map(String::as_str).unwrap_or(""),
        "",
        "an operating system's DHCP client (no PXEClient, no option 93) gets no boot file"
    );
    lab.client_addr(&format!("{other_ip}/24"));
    assert_eq!(
        tftp_get(&lab, "SEP525400123456.cnf.xml"),
        None,
        "another client's rendered file is not served\n{}",
        lab.log()
    );
    let grub = tftp_get(&lab, "grub.cfg").expect("grub.cfg over TFTP");
    assert_eq!(grub, b"menuentry everyone\n", "no rewrite for a stranger");
}

#[test]
fn a_routers_backup_lands_in_its_profiles_upload_dir() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    // a crash during an earlier backup left a temporary file
    let stale = lab.path("root").join("backups/.netboot-upload-Crash1");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"half a config").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .and_then(|f| f.set_modified(old))
        .unwrap();
    // serve runs as nobody (no user `netboot` here): the upload directory
    // is given to it, as an administrator would
    let user = nix::unistd::User::from_name("netboot")
        .unwrap()
        .or(nix::unistd::User::from_name("nobody").unwrap())
        .expect("user nobody");
    let backups = stale.parent().unwrap();
    nix::unistd::chown(backups, Some(user.uid), Some(user.gid)).unwrap();
    let ServeDirs { root, .. } = lab.start_serve_on(
        &[(
            "routers.yaml",
            "name: routers\nmatch:\n  mac_prefix: 52:54:00\ntftp_servers: [self]\n\
             upload_dir: backups/\nkeep_versions: 5\nboot:\n  other: network-confg\n\
             files:\n  network-confg:\n    content: \"ip host netboot 10.231.0.1\\n\"\n",
        )],
        &["--no-ping", "--create"],
    );
    assert!(
        !stale.exists(),
        "stale temporary file removed at start\n{}",
        lab.log()
    );
    let lease = lab.udhcpc(&["-V", "ciscopnp"]);
    let ip = lease.get("ip").cloned().expect("a lease");
    assert_eq!(
        lease.get("boot_file").map(String::as_str),
        Some("network-confg"),
        "autoinstall's file from the profile's boot.other, not a PXE loader"
    );
    lab.client_addr(&format!("{ip}/24"));
    // two nights: the second backup replaces the first, which is kept
    let nights: [&[u8]; 2] = [
        b"hostname edge-1\ninterface Gi0/0\n ip address dhcp\nend\n",
        b"hostname edge-1\ninterface Gi0/0\n ip address dhcp\n shutdown\nend\n",
    ];
    for config in nights {
        let local = lab.path("running-config");
        std::fs::write(&local, config).unwrap();
        let status = lab
            .client_cmd("timeout")
            .args(["20", "busybox", "tftp", "-p", "-l"])
            .arg(&local)
            .args(["-r", "edge-1-confg", SERVER_IP])
            .status()
            .unwrap();
        assert!(status.success(), "{}", lab.log());
        assert_eq!(
            std::fs::read(root.join("backups/edge-1-confg"))
                .ok()
                .as_deref(),
            Some(config),
            "the upload is in the profile's upload_dir\n{}",
            lab.log()
        );
    }
    assert!(!root.join("edge-1-confg").exists(), "and nowhere else");
    let versions = root.join("backups/.netboot-versions/edge-1-confg");
    let kept: Vec<Vec<u8>> = std::fs::read_dir(&versions)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        kept,
        [nights[0]],
        "the profile's keep_versions\n{}",
        lab.log()
    );
}

#[test]
fn profiles_reload_and_a_bad_edit_keeps_the_last_good_registry() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let desk = profile("desk-01", "pxelinux.0");
    let dirs = lab.start_serve_on(&[("desk.yaml", &desk)], &["--no-ping"]);
    let file = dirs.profiles.join("desk.yaml");
    assert_eq!(
        lab.udhcpc_pxe(&["-O", "150"])
            .get("boot_file")
            .map(String::as_str),
        Some("pxelinux.0")
    );

    std::fs::write(&file, profile("desk-01", "undionly.kpxe")).unwrap();
    wait_for(&mut lab, "profiles loaded");
    assert_eq!(
        lab.udhcpc_pxe(&["-O", "150"])
            .get("boot_file")
            .map(String::as_str),
        Some("undionly.kpxe")
    );

    std::fs::write(&file, "name: desk\nmatch:\n  mac: not-a-mac\n").unwrap();
    wait_for(&mut lab, "not-a-mac");
    assert!(
        lab.log_contains("desk.yaml:3"),
        "the bad edit is reported with its line:\n{}",
        lab.log()
    );
    assert_eq!(
        lab.udhcpc_pxe(&["-O", "150"])
            .get("boot_file")
            .map(String::as_str),
        Some("undionly.kpxe"),
        "the last good registry still answers"
    );
}

#[test]
fn quick_mode_needs_only_the_interface() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    let cwd = lab.path("quick");
    boot_root(&cwd.join("boot-images"));
    std::fs::create_dir_all(cwd.join("netboot-state")).unwrap();
    lab.start_serve(&["--no-ping", "--state-dir", "netboot-state"], Some(&cwd));
    let lease = lab.udhcpc_pxe(&["-O", "150"]);
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.231.0."), "{lease:?}\n{}", lab.log());
    assert_eq!(lease.get("siaddr").map(String::as_str), Some(SERVER_IP));
    assert_eq!(
        lease.get("boot_file").map(String::as_str),
        Some("undionly.kpxe")
    );
    lab.client_addr(&format!("{ip}/24"));
    let got = tftp_get(&lab, "undionly.kpxe").expect("boot file");
    assert_eq!(got, b"iPXE stand-in\n");
}

#[test]
fn known_clients_only_ignores_strangers() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_serve_on(
        &[(
            "other.yaml",
            "name: other\nmatch:\n  mac: 52:54:00:99:99:99\nboot:\n  bios: pxelinux.0\n",
        )],
        &["--known-clients-only", "--no-ping"],
    );
    assert!(
        lab.udhcpc_pxe(&["-O", "150"]).is_empty(),
        "a stranger gets no lease"
    );
    assert!(
        lab.log_contains(CLIENT_MAC),
        "the refusal is logged:\n{}",
        lab.log()
    );
}

#[test]
fn check_reports_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("bad.yaml"),
        "name: bad\nmatch:\n  mac: 52:54:00:zz:00:01\n",
    )
    .unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = Command::new(BIN)
        .args([
            "check",
            "--profiles",
            profiles.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:3:"), "{err}");

    std::fs::write(
        profiles.join("bad.yaml"),
        "name: good\nmatch:\n  default: true\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "check",
            "--profiles",
            profiles.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
