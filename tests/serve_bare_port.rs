//! Quick mode on a bare laptop port (no IPv4 address, no config): netboot
//! picks a free private /24, assigns its address for as long as it runs,
//! serves DHCP and TFTP from it, and removes it on SIGTERM; it takes the
//! next candidate when the first is in use, refuses to hand out addresses
//! when another DHCP server answers, and says what to run when it lacks the
//! privilege. All inside network namespaces this test creates.

mod netns;

use std::process::{Command, Stdio};
use std::time::Duration;

use netns::{Lab, CLIENT_IF, SERVER_IF};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

/// A working directory with `boot-images/` holding a BIOS boot file.
fn quick_dir(lab: &Lab) -> std::path::PathBuf {
    let dir = lab.path("laptop");
    std::fs::create_dir_all(dir.join("boot-images")).unwrap();
    let file = dir.join("boot-images/undionly.kpxe");
    std::fs::write(&file, b"iPXE stand-in for the bare-port test\n").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    dir
}

#[test]
fn bare_port_gets_an_address_serves_and_gives_it_back() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    assert!(
        lab.server_addrs().contains("10.42.0.1/24"),
        "{}",
        lab.server_addrs()
    );
    let log = lab.log();
    assert!(
        log.contains("10.42.0.1"),
        "the start-up message names the address:\n{log}"
    );

    let lease = lab.udhcpc(&[]);
    assert_eq!(
        lease.get("serverid").map(String::as_str),
        Some("10.42.0.1"),
        "{lease:?}\n{log}"
    );
    assert_eq!(lease.get("siaddr").map(String::as_str), Some("10.42.0.1"));
    assert_eq!(
        lease.get("boot_file").map(String::as_str),
        Some("undionly.kpxe")
    );
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.42.0.") && ip != "10.42.0.1", "{ip}");

    lab.client_addr(&format!("{ip}/24"));
    let local = lab.path("fetched");
    let status = lab
        .client_cmd("timeout")
        .args(["20", "busybox", "tftp", "-g", "-r", "undionly.kpxe", "-l"])
        .arg(&local)
        .arg("10.42.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(cwd.join("boot-images/undionly.kpxe")).unwrap()
    );

    lab.stop_server();
    assert!(
        !lab.server_addrs().contains("10.42.0.1"),
        "address left behind: {}",
        lab.server_addrs()
    );
}

#[test]
fn a_candidate_in_use_on_the_link_is_skipped() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::bare();
    lab.client_addr("10.42.0.1/24");
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    let addrs = lab.server_addrs();
    assert!(addrs.contains("10.43.0.1/24"), "{addrs}\n{}", lab.log());
    assert!(!addrs.contains("10.42.0.1"), "{addrs}");
    lab.stop_server();
    assert!(!lab.server_addrs().contains("10.43.0.1"));
}

#[test]
fn a_foreign_dhcp_server_means_no_addresses_and_a_hint_at_proxy() {
    if !netns::ready(&["dnsmasq"]) {
        return;
    }
    let mut lab = Lab::bare();
    lab.client_addr("192.168.77.1/24");
    let leases = lab.path("dnsmasq.leases");
    let dnsmasq = lab
        .client_cmd("dnsmasq")
        .args([
            "-d",
            "--port=0",
            "--bind-interfaces",
            "--no-resolv",
            "--dhcp-range=192.168.77.50,192.168.77.99,1h",
        ])
        .arg(format!("--interface={CLIENT_IF}"))
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .arg("--pid-file=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    lab.adopt(dnsmasq);
    std::thread::sleep(Duration::from_millis(500));
    let cwd = quick_dir(&lab);
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.srv,
            "timeout",
            "60",
            BIN,
            "serve",
            "--interface",
            SERVER_IF,
        ])
        .env("NETBOOT_STATE_DIR", lab.path("state"))
        .current_dir(&cwd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("another DHCP server") && text.contains("--proxy"),
        "{text}"
    );
    assert!(
        lab.server_addrs().is_empty(),
        "nothing assigned: {}",
        lab.server_addrs()
    );
}

#[test]
fn without_the_privilege_it_names_the_command_to_run() {
    if !netns::ready(&["setpriv"]) {
        return;
    }
    let lab = Lab::bare();
    let cwd = quick_dir(&lab);
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.srv,
            "timeout",
            "60",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
        ])
        .args([
            "--clear-groups",
            "--inh-caps=-all",
            BIN,
            "serve",
            "--interface",
            SERVER_IF,
        ])
        .env("NETBOOT_STATE_DIR", lab.path("state"))
        .current_dir(&cwd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("sudo") && text.contains("setcap"),
        "the message names the fix: {text}"
    );
    assert!(lab.server_addrs().is_empty());
}

#[test]
fn a_missing_interface_lists_the_ones_that_exist() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::bare();
    let (ok, text) = lab.server_run("timeout", &["30", BIN, "serve", "--interface", "eth9"]);
    assert!(!ok);
    assert!(text.contains("eth9") && text.contains(SERVER_IF), "{text}");
}
