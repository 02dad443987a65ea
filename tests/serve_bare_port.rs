//! Quick mode on a bare laptop port (no IPv4 address, no config): the real
//! `netboot serve --interface vs0` picks a free private /24, assigns its
//! address for as long as it runs, serves DHCP and TFTP from it, puts the
//! address back when something takes it away, and removes it on SIGTERM,
//! SIGINT and a fatal error. Also `--assign-address` and a config file's
//! range. All inside network namespaces this test creates (tests/netns);
//! the refusals are in `serve_bare_port_refusals.rs`.

mod netns;

use std::path::Path;
use std::time::Duration;

use netns::bare::{quick_dir, serve_to_exit};
use netns::{Lab, SERVER_IF};

/// udhcpc as a BIOS PXE client: vendor class PXEClient, option 93 = 0.
fn bios_lease(lab: &Lab) -> std::collections::HashMap<String, String> {
    lab.udhcpc(&["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000"])
}

/// Fetches `name` from `server` with busybox tftp in the client namespace
/// and compares it with the file in `cwd/boot-images`.
fn fetch_matches(lab: &Lab, cwd: &Path, server: &str, name: &str) {
    let got = lab.tftp_get_in(&lab.cli, server, name);
    assert!(got.is_some(), "tftp {name} from {server}:\n{}", lab.log());
    assert_eq!(got, std::fs::read(cwd.join("boot-images").join(name)).ok());
}

/// SIGTERM or SIGINT: a clean exit, the address gone.
fn stop_and_check_removed(lab: &mut Lab, signal: &str, addr: &str) {
    let status = lab.stop_server_with(signal);
    assert!(
        status.success(),
        "exit after SIG{signal}: {status}\n{}",
        lab.log()
    );
    let left = lab.server_addrs();
    assert!(!left.contains(addr), "address left behind: {left}");
}

#[test]
fn bare_port_gets_an_address_serves_and_gives_it_back() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    let before = lab.server_addrs();
    assert!(before.trim().is_empty(), "not a bare port: {before}");
    // the command line is exactly `serve --interface vs0`
    lab.start_serve(&[], Some(&cwd));
    assert!(
        lab.server_addrs().contains("inet 10.42.0.1/24"),
        "{}",
        lab.server_addrs()
    );
    let log = lab.log();
    let lines: Vec<&str> = log.lines().collect();
    let summary = "vs0 had no IPv4 address, so netboot added 10.42.0.1/24 to it for this run \
                   (it is removed again when netboot stops); clients get addresses 10.42.0.2-10.42.0.254.";
    let at = lines.iter().position(|l| *l == summary);
    let added = lines
        .iter()
        .position(|l| l.contains("added address to the interface for this run"));
    assert!(
        matches!((added, at), (Some(a), Some(s)) if a < s),
        "the summary follows the assignment:\n{log}"
    );
    assert!(
        log.contains(
            "  to keep 10.42.0.1/24 on vs0 permanently: with NetworkManager, \
             `sudo nmcli connection add type ethernet ifname vs0 con-name netboot-vs0 \
             ipv4.method manual ipv4.addresses 10.42.0.1/24`"
        ),
        "{log}"
    );
    assert!(
        log.contains("  DHCP: addresses 10.42.0.2 to 10.42.0.254 in 10.42.0.0/24"),
        "{log}"
    );
    assert!(!log.contains("warning:"), "nothing to warn about:\n{log}");

    let lease = bios_lease(&lab);
    assert_eq!(
        lease.get("serverid").map(String::as_str),
        Some("10.42.0.1"),
        "{lease:?}\n{log}"
    );
    assert_eq!(lease.get("siaddr").map(String::as_str), Some("10.42.0.1"));
    assert_eq!(
        lease.get("boot_file").map(String::as_str),
        Some("undionly.kpxe"),
        "a BIOS client gets the BIOS file: {lease:?}"
    );
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.42.0.") && ip != "10.42.0.1", "{ip}");

    lab.client_addr(&format!("{ip}/24"));
    fetch_matches(&lab, &cwd, "10.42.0.1", "undionly.kpxe");
    stop_and_check_removed(&mut lab, "TERM", "10.42.0.1");
}

#[test]
fn sigint_removes_the_address_and_exits_cleanly() {
    if !netns::ready(&[]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    assert!(lab.server_addrs().contains("inet 10.42.0.1/24"));
    stop_and_check_removed(&mut lab, "INT", "10.42.0.1");
    assert!(
        lab.log_contains("removed the address netboot added"),
        "{}",
        lab.log()
    );
}

#[test]
fn a_fatal_error_after_the_address_was_added_removes_it() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::bare();
    let cwd = quick_dir(&lab);
    // something else holds the TFTP port in the server namespace, so the
    // TFTP server cannot start: found only once the address is there
    let holder = netns::in_netns(&lab.srv, || std::net::UdpSocket::bind("0.0.0.0:69"))
        .expect("hold port 69 in the server namespace");
    let (status, text) = serve_to_exit(&lab, &[], &[], &cwd);
    drop(holder);
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        text.contains("netboot added 10.42.0.1/24 to it"),
        "the address was added first:\n{text}"
    );
    assert!(
        text.contains("netboot: cannot listen on 10.42.0.1:69"),
        "{text}"
    );
    assert!(text.contains("removed the address netboot added"), "{text}");
    let left = lab.server_addrs();
    assert!(left.trim().is_empty(), "address left behind: {left}");
}

#[test]
fn an_address_taken_away_while_serving_is_put_back() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    let first = bios_lease(&lab);
    let first_ip = first.get("ip").cloned().unwrap_or_default();
    assert!(first_ip.starts_with("10.42.0."), "{first:?}\n{}", lab.log());

    // what a network manager might do
    netns::ip(&[
        "-n",
        &lab.srv,
        "addr",
        "del",
        "10.42.0.1/24",
        "dev",
        SERVER_IF,
    ]);
    lab.wait_log(
        "10.42.0.1/24 had been removed from vs0 (by a network manager?); netboot put it back",
        Duration::from_secs(15),
    );
    let addrs = lab.server_addrs();
    assert!(addrs.contains("inet 10.42.0.1/24"), "{addrs}");

    // another machine still gets a lease and its boot file
    lab.client_mac("52:54:00:ab:cd:ef");
    let second = bios_lease(&lab);
    assert_eq!(
        second.get("serverid").map(String::as_str),
        Some("10.42.0.1"),
        "{second:?}\n{}",
        lab.log()
    );
    let ip = second.get("ip").cloned().unwrap_or_default();
    assert!(
        ip.starts_with("10.42.0.") && ip != first_ip,
        "{ip} / {first_ip}"
    );
    lab.client_addr(&format!("{ip}/24"));
    fetch_matches(&lab, &cwd, "10.42.0.1", "undionly.kpxe");
    stop_and_check_removed(&mut lab, "TERM", "10.42.0.1");
}

#[test]
fn assign_address_chooses_the_subnet() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    lab.start_serve(&["--assign-address", "10.9.0.1/24"], Some(&cwd));
    let addrs = lab.server_addrs();
    assert!(addrs.contains("inet 10.9.0.1/24"), "{addrs}");
    assert!(
        lab.log_contains("netboot added 10.9.0.1/24 to it")
            && lab.log_contains("clients get addresses 10.9.0.2-10.9.0.254."),
        "{}",
        lab.log()
    );
    let lease = bios_lease(&lab);
    assert_eq!(
        lease.get("serverid").map(String::as_str),
        Some("10.9.0.1"),
        "{lease:?}\n{}",
        lab.log()
    );
    assert_eq!(lease.get("siaddr").map(String::as_str), Some("10.9.0.1"));
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.9.0.") && ip != "10.9.0.1", "{ip}");
    stop_and_check_removed(&mut lab, "TERM", "10.9.0.1");
}

#[test]
fn a_config_file_range_inside_the_subnet_is_served() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    std::fs::write(
        cwd.join("netboot.yaml"),
        "dhcp:\n  range: 10.42.0.50-10.42.0.60\n",
    )
    .unwrap();
    lab.start_serve(&["--config", "netboot.yaml"], Some(&cwd));
    assert!(
        lab.log_contains("  DHCP: addresses 10.42.0.50 to 10.42.0.60 in 10.42.0.0/24"),
        "{}",
        lab.log()
    );
    let lease = bios_lease(&lab);
    let ip: std::net::Ipv4Addr = lease
        .get("ip")
        .and_then(|ip| ip.parse().ok())
        .unwrap_or_else(|| panic!("no lease: {lease:?}\n{}", lab.log()));
    let low = std::net::Ipv4Addr::new(10, 42, 0, 50);
    let high = std::net::Ipv4Addr::new(10, 42, 0, 60);
    assert!((low..=high).contains(&ip), "{ip}");
    stop_and_check_removed(&mut lab, "TERM", "10.42.0.1");
}

#[test]
fn a_candidate_in_use_on_the_link_is_skipped() {
    if !netns::ready(&[]) {
        return;
    }
    let mut lab = Lab::bare();
    lab.client_addr("10.42.0.1/24");
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    let addrs = lab.server_addrs();
    assert!(
        addrs.contains("inet 10.43.0.1/24"),
        "{addrs}\n{}",
        lab.log()
    );
    assert!(!addrs.contains("10.42.0.1"), "{addrs}");
    assert!(
        lab.log_contains(
            "  not 10.42.0.0/24: 10.42.0.1 is taken: machine 52:54:00:12:34:56 answers ARP for it"
        ),
        "{}",
        lab.log()
    );
    stop_and_check_removed(&mut lab, "TERM", "10.43.0.1");
}
