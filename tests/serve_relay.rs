//! `netboot serve` behind a real DHCP relay (ISC `dhcrelay`), inside network
//! namespaces this test creates and deletes:
//!
//! ```text
//! server ns            relay ns (router)                far ns
//! vs0 10.231.0.1 ─── vc0 10.231.0.2 │ vr0 10.240.0.1 ─── vc0 (udhcpc, tftp)
//!                                    │     10.240.0.10 (answers pings)
//! ```
//!
//! A client on the far segment gets a lease from `dhcp.relay_pools` (the
//! pool whose subnet holds the relay's giaddr) with that network's router,
//! our address as server id and next-server; the pool's first address,
//! which a machine there already uses, is found by the ping probe (the
//! off-link probe path) and skipped; the client then fetches its boot file
//! and a file rendered for its MAC over TFTP through the router, and
//! `netboot leases` lists the lease.

mod netns;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use netns::{assert_lease_listed, ip, Lab, ServeDirs, CLIENT_IF, SERVER_IF, SERVER_IP};

const RELAY_UP: &str = "10.231.0.2";
const FAR_MAC: &str = "52:54:00:40:00:07";

/// Runs `program ARGS` inside namespace `ns` to its end.
fn in_ns(ns: &str, program: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .output()
        .expect("run in namespace")
}

/// Runs `program ARGS` inside `ns`, failing the test when it fails.
fn in_ns_ok(ns: &str, program: &str, args: &[&str]) {
    let out = in_ns(ns, program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} in {ns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (bounded) until something in `ns` listens on UDP port 67.
fn wait_for_port_67(ns: &str, relay_log: &std::path::Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let out = in_ns(ns, "ss", &["-H", "-uln", "sport", "= :67"]);
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "dhcrelay did not come up within 10 s:\n{}",
        std::fs::read_to_string(relay_log).unwrap_or_default()
    );
}

#[test]
fn a_client_behind_a_relay_is_served_from_its_relay_pool_and_boots() {
    if !netns::ready(&["udhcpc", "busybox", "dhcrelay", "ss"]) {
        return;
    }
    let mut lab = Lab::new();
    // The lab's client namespace becomes the router with the relay on it.
    let relay = lab.cli.clone();
    lab.client_addr(&format!("{RELAY_UP}/24"));
    let far = lab.add_segment_behind_client("vr0", "10.240.0.1/24", FAR_MAC);
    // A machine on the far segment already holding the pool's first address
    // (the router itself; it answers pings for it).
    ip(&["-n", &relay, "addr", "add", "10.240.0.10/24", "dev", "vr0"]);
    in_ns_ok(&relay, "sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    ip(&[
        "-n",
        &lab.srv,
        "route",
        "add",
        "10.240.0.0/24",
        "via",
        RELAY_UP,
        "dev",
        SERVER_IF,
    ]);

    let relay_log = lab.path("dhcrelay.log");
    let pid_file = lab.path("dhcrelay.pid");
    let child = Command::new("ip")
        .args(["netns", "exec", &relay, "dhcrelay", "-4", "-d", "-pf"])
        .arg(&pid_file)
        .args(["-id", "vr0", "-iu", CLIENT_IF, SERVER_IP])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&relay_log).unwrap())
        .spawn()
        .expect("start dhcrelay");
    lab.adopt(child);
    wait_for_port_67(&relay, &relay_log);

    let phone = format!(
        "name: far-phone\nmatch:\n  mac: {FAR_MAC}\nhostname: far-01\nfiles:\n  \
         \"SEP{{{{ mac.upper }}}}.cnf.xml\":\n    \
         content: \"<device><name>{{{{ hostname }}}}</name><ip>{{{{ ip }}}}</ip></device>\\n\"\n"
    );
    let config = lab.path("netboot.yaml");
    std::fs::write(
        &config,
        "dhcp:\n  relay_pools:\n    - subnet: 10.240.0.0/24\n      range: 10.240.0.10-10.240.0.20\n      \
         router: 10.240.0.1\n      dns: [10.240.0.1]\n",
    )
    .unwrap();
    let state = lab.path("state");
    let ServeDirs { root, .. } = lab.start_serve_on(
        &[("far-phone.yaml", &phone)],
        &[
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );

    let lease = lab.udhcpc_in(&far, netns::PXE_BIOS);
    let relay_text = || std::fs::read_to_string(&relay_log).unwrap_or_default();
    assert_eq!(
        lease.get("ip").map(String::as_str),
        Some("10.240.0.11"),
        "a lease from the relay pool, its first address (in use) skipped\n{lease:?}\n\
         server:\n{}\nrelay:\n{}",
        lab.log(),
        relay_text()
    );
    assert!(
        lab.log_contains("address in use, not offered (it answered the ping probe)"),
        "the ping probe found 10.240.0.10:\n{}",
        lab.log()
    );
    assert_eq!(
        lease.get("subnet").map(String::as_str),
        Some("255.255.255.0")
    );
    assert_eq!(lease.get("router").map(String::as_str), Some("10.240.0.1"));
    assert_eq!(lease.get("dns").map(|d| d.trim()), Some("10.240.0.1"));
    assert_eq!(lease.get("serverid").map(String::as_str), Some(SERVER_IP));
    assert_eq!(lease.get("siaddr").map(String::as_str), Some(SERVER_IP));
    assert_eq!(lease.get("hostname").map(String::as_str), Some("far-01"));
    let boot_file = lease.get("boot_file").cloned().unwrap_or_default();
    assert!(
        root.join(&boot_file).is_file(),
        "boot file {boot_file:?} from the root"
    );

    // The client takes its lease and boots through the router.
    in_ns_ok(
        &far,
        "ip",
        &["addr", "add", "10.240.0.11/24", "dev", CLIENT_IF],
    );
    in_ns_ok(
        &far,
        "ip",
        &["route", "add", "default", "via", "10.240.0.1"],
    );
    let fetch = |remote: &str| lab.tftp_get_in(&far, SERVER_IP, remote);
    let got = fetch(&boot_file).expect("boot file over TFTP through the router");
    assert_eq!(got, std::fs::read(root.join(&boot_file)).unwrap());
    let sep = fetch("SEP525400400007.cnf.xml").expect("the file rendered for this client");
    assert_eq!(
        String::from_utf8(sep).unwrap(),
        "<device><name>far-01</name><ip>10.240.0.11</ip></device>\n"
    );

    assert_lease_listed(&state, &[FAR_MAC, "10.240.0.11", "bound"]);
}
