//! `netboot serve` against ISC dhclient and `nmap --script
//! broadcast-dhcp-discover`, inside network namespaces this test creates and
//! deletes: the reservation, boot file, next-server, server name, router,
//! DNS and server id reach dhclient, and nmap is offered a pool address.

mod netns;

use std::process::Stdio;
use std::time::{Duration, Instant};

use netns::{Lab, CLIENT_MAC, SERVER_IP};

/// Starts `netboot serve` with a profile reserving 10.231.0.50 as `web1`
/// for the client's MAC and giving it a file as the operating system's
/// DHCP client it is (`boot.other`: dhclient is no PXE firmware), router
/// and DNS options, default boot files.
fn serve_with_reservation(lab: &mut Lab) {
    let web1 = format!(
        "name: web1\nmatch:\n  mac: {CLIENT_MAC}\naddress: 10.231.0.50\nhostname: web1\n\
         boot:\n  other: undionly.kpxe\n"
    );
    lab.start_serve_on(
        &[("web1.yaml", &web1)],
        &[
            "--range",
            "10.231.0.100-10.231.0.199",
            "--router",
            "10.231.0.1",
            "--dns",
            "10.231.0.53",
            "--boot-bios",
            "undionly.kpxe",
        ],
    );
}

#[test]
fn dhclient_gets_its_reservation_filename_and_next_server() {
    if !netns::ready(&["dhclient"]) {
        return;
    }
    let mut lab = Lab::new();
    serve_with_reservation(&mut lab);
    let lease_file = lab.path("dhclient.leases");
    // dhclient's lease file has no siaddr; its script sees it as new_next_server
    let env_file = lab.path("dhclient.env");
    let script = lab.path("dhclient.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$reason\" = BOUND ] && env > {}.tmp && mv {}.tmp {}\nexit 0\n",
            env_file.display(),
            env_file.display(),
            env_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let child = lab
        .client_cmd("dhclient")
        .args(["-1", "-d", "-v", "-sf"])
        .arg(&script)
        .arg("-lf")
        .arg(&lease_file)
        .arg("-pf")
        .arg(lab.path("dhclient.pid"))
        .arg(netns::CLIENT_IF)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let idx = lab.adopt(child);
    let start = Instant::now();
    let mut text = String::new();
    let mut env = String::new();
    while start.elapsed() < Duration::from_secs(20) {
        text = std::fs::read_to_string(&lease_file).unwrap_or_default();
        env = std::fs::read_to_string(&env_file).unwrap_or_default();
        if text.contains("fixed-address") && !env.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    lab.kill_child(idx);
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_string)
    };
    assert_eq!(
        var("new_next_server").as_deref(),
        Some(SERVER_IP),
        "siaddr\n{env}"
    );
    assert_eq!(var("new_filename").as_deref(), Some("undionly.kpxe"));
    assert_eq!(
        var("new_tftp_server_name").as_deref(),
        Some(SERVER_IP),
        "option 66"
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        var("new_server_name").as_deref(),
        Some(host.trim()),
        "sname is the server's host name"
    );
    assert!(
        text.contains("fixed-address 10.231.0.50;"),
        "{text}\n{}",
        lab.log()
    );
    assert!(text.contains("filename \"undionly.kpxe\";"), "{text}");
    assert!(text.contains("option host-name \"web1\";"), "{text}");
    assert!(text.contains("option routers 10.231.0.1;"), "{text}");
    assert!(
        text.contains("option domain-name-servers 10.231.0.53;"),
        "{text}"
    );
    assert!(
        text.contains("option dhcp-server-identifier 10.231.0.1;"),
        "{text}"
    );
}

#[test]
fn nmap_broadcast_discover_sees_the_offer() {
    if !netns::ready(&["nmap"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.client_addr("10.231.0.250/24");
    serve_with_reservation(&mut lab);
    let out = lab
        .client_cmd("timeout")
        .args([
            "60",
            "nmap",
            "-n",
            "--script",
            "broadcast-dhcp-discover",
            "-e",
            netns::CLIENT_IF,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // nmap sends from a random MAC, so it gets a pool address, not the reservation.
    let offered: Option<std::net::Ipv4Addr> = text.lines().find_map(|l| {
        l.trim_start_matches(['|', '_', ' '])
            .strip_prefix("IP Offered: ")?
            .trim()
            .parse()
            .ok()
    });
    assert!(
        offered.is_some_and(|ip| {
            let [a, b, c, d] = ip.octets();
            (a, b, c) == (10, 231, 0) && (100..=199).contains(&d)
        }),
        "offered {offered:?}, not in 10.231.0.100-199:\n{text}\n{}",
        lab.log()
    );
    assert!(text.contains("Server Identifier: 10.231.0.1"), "{text}");
    assert!(text.contains("Subnet Mask: 255.255.255.0"), "{text}");
    assert!(text.contains("Router: 10.231.0.1"), "{text}");
    assert!(text.contains("Domain Name Server: 10.231.0.53"), "{text}");
}
