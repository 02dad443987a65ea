//! `netboot serve` beyond one interface and plain flags, end to end inside
//! network namespaces this test creates and deletes: two interfaces, each
//! served from its own subnet as our address there; unicast replies to a
//! client that cleared the broadcast bit, as seen on the wire; settings from
//! `--config` and from `./netboot.yaml`, with flags over them; SIGHUP
//! without a profiles directory; a reservation of our own address refused at
//! start-up.

mod netns;
#[allow(dead_code)]
#[path = "pxe_support/pcap.rs"]
mod pcap;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netns::{boot_root, Lab, CLIENT_MAC, SERVER_IF, SERVER_IP};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

/// The last octet of a leased 10.231.0.x address, if it is one.
fn host_part(lease: &HashMap<String, String>, net: &str) -> Option<u8> {
    lease.get("ip")?.strip_prefix(net)?.parse().ok()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn two_interfaces_are_each_served_from_their_own_subnet() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    let second = lab.add_link("vs1", "10.232.0.1/24", "52:54:00:12:34:57");
    lab.start_serve_on(&[], &["--interface", "vs1", "--no-ping"]);
    assert!(
        lab.log_contains("netboot serves interface vs1 as 10.232.0.1/24"),
        "{}",
        lab.log()
    );
    let first = lab.udhcpc_pxe(&[]);
    assert!(
        host_part(&first, "10.231.0.").is_some(),
        "{first:?}\n{}",
        lab.log()
    );
    assert_eq!(first["serverid"], SERVER_IP);
    assert_eq!(first["siaddr"], SERVER_IP);

    let other = lab.udhcpc_in(&second, netns::PXE_BIOS);
    assert!(
        host_part(&other, "10.232.0.").is_some(),
        "{other:?}\n{}",
        lab.log()
    );
    assert_eq!(other["serverid"], "10.232.0.1", "{other:?}");
    assert_eq!(other["siaddr"], "10.232.0.1", "{other:?}");
    assert_eq!(other["subnet"], "255.255.255.0");
    assert_eq!(other["boot_file"], "undionly.kpxe");

    // and the boot file comes over TFTP from our address on that network
    let got = tftp_from(&lab, &second, &other["ip"], "10.232.0.1", "undionly.kpxe");
    assert_eq!(
        got.as_deref(),
        Some(&b"iPXE stand-in\n"[..]),
        "{}",
        lab.log()
    );
}

/// Gives client namespace `ns` the address `ip`/24 and fetches `remote`
/// from `server` with busybox tftp (bounded).
fn tftp_from(lab: &Lab, ns: &str, ip: &str, server: &str, remote: &str) -> Option<Vec<u8>> {
    let added = Command::new("ip")
        .args(["-n", ns, "addr", "add", &format!("{ip}/24"), "dev"])
        .arg(netns::CLIENT_IF)
        .status()
        .unwrap();
    assert!(added.success());
    lab.tftp_get_in(ns, server, remote)
}

/// One DHCP message of a capture: who sent it where, and its header.
struct Seen {
    reply: bool,
    xid: [u8; 4],
    broadcast_flag: bool,
    yiaddr: [u8; 4],
    dst: [u8; 4],
    eth_dst: [u8; 6],
}

fn dhcp_messages(capture: &Path) -> Vec<Seen> {
    let bytes = std::fs::read(capture).unwrap_or_default();
    pcap::udp_datagrams(&bytes)
        .iter()
        .filter(|d| d.payload.len() >= 240 && matches!((d.sport, d.dport), (67, 68) | (68, 67)))
        .map(|d| Seen {
            reply: d.payload[0] == 2,
            xid: d.payload[4..8].try_into().unwrap(),
            broadcast_flag: d.payload[10] & 0x80 != 0,
            yiaddr: d.payload[16..20].try_into().unwrap(),
            dst: d.dst,
            eth_dst: d.eth_dst,
        })
        .collect()
}

/// Starts tcpdump on the server's side of the link (DHCP only) and waits
/// until it listens; returns the capture file and the adopted process.
fn start_capture(lab: &mut Lab) -> (std::path::PathBuf, usize) {
    let capture = lab.path("dhcp.pcap");
    let tcpdump_log = lab.path("tcpdump.log");
    let child = lab
        .server_cmd("tcpdump")
        .args(["-i", SERVER_IF, "-n", "-U", "--immediate-mode", "-w"])
        .arg(&capture)
        .arg("udp port 67 or udp port 68")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&tcpdump_log).unwrap())
        .spawn()
        .unwrap();
    let idx = lab.adopt(child);
    let start = Instant::now();
    while !std::fs::read_to_string(&tcpdump_log)
        .unwrap_or_default()
        .contains("listening on")
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "tcpdump did not start: {}",
            std::fs::read_to_string(&tcpdump_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (capture, idx)
}

/// Checks every reply's destination against its request's broadcast bit:
/// clear → yiaddr at the client's MAC, set → broadcast. Returns how many of
/// each were seen.
fn check_destinations(seen: &[Seen]) -> (usize, usize) {
    let flag_of: HashMap<[u8; 4], bool> = seen
        .iter()
        .filter(|m| !m.reply)
        .map(|m| (m.xid, m.broadcast_flag))
        .collect();
    let mac: Vec<u8> = CLIENT_MAC
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let (mut to_yiaddr, mut to_all) = (0, 0);
    for r in seen.iter().filter(|m| m.reply) {
        let asked_broadcast = flag_of.get(&r.xid).copied();
        let dst = Ipv4Addr::from(r.dst);
        match asked_broadcast {
            Some(false) => {
                assert_eq!(r.dst, r.yiaddr, "unicast to yiaddr, not {dst}");
                assert_eq!(r.eth_dst.to_vec(), mac, "unicast frame to the client's MAC");
                to_yiaddr += 1;
            }
            Some(true) => {
                assert_eq!(dst, Ipv4Addr::BROADCAST);
                assert_eq!(r.eth_dst, [0xff; 6]);
                to_all += 1;
            }
            None => panic!("a reply to a request not on the wire"),
        }
    }
    (to_yiaddr, to_all)
}

#[test]
fn replies_are_unicast_unless_the_client_asks_for_broadcast() {
    if !netns::ready(&["udhcpc", "tcpdump"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_serve_on(&[], &["--no-ping"]);
    let (capture, idx) = start_capture(&mut lab);
    // busybox udhcpc clears the broadcast bit unless given -B
    let unicast = lab.udhcpc(&[]);
    // Right after the exchange the server's neighbour table has no entry
    // for the address it unicast to. Nothing else could have made one: the
    // client only records its lease (it never configures or uses the
    // address) and has no address at all, so an entry for yiaddr could only
    // come from the way the server sends (an ARP entry written for it, or
    // the kernel resolving it for a UDP send), which is what must not happen.
    let yiaddr = format!("{} ", unicast.get("ip").map_or("?", String::as_str));
    let neigh = lab.server_neighbours();
    assert!(
        !neigh.iter().any(|l| l.starts_with(&yiaddr)),
        "a neighbour entry for {yiaddr}: {neigh:?}"
    );
    let broadcast = lab.udhcpc(&["-B"]);
    lab.stop_child(idx);
    assert!(unicast.contains_key("ip"), "{}", lab.log());
    assert!(broadcast.contains_key("ip"), "{}", lab.log());

    let (to_yiaddr, to_all) = check_destinations(&dhcp_messages(&capture));
    assert!(
        to_yiaddr >= 2 && to_all >= 2,
        "OFFER and ACK each way: {to_yiaddr} unicast, {to_all} broadcast replies"
    );
}

#[test]
fn config_file_settings_reach_the_client_and_flags_win() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let site = lab.path("site");
    boot_root(&site.join("images"));
    std::fs::create_dir_all(site.join("profiles")).unwrap();
    let config = site.join("netboot.yaml");
    std::fs::write(
        &config,
        "root: images\nprofiles: profiles\ndhcp:\n  range: 10.231.0.60-10.231.0.69\n  \
         lease_time: 900\n  ping_check: false\n  server_name: pxe-lab\nboot:\n  bios: pxelinux.0\n",
    )
    .unwrap();
    lab.start_serve(
        &["--config", text(&config), "--boot-bios", "undionly.kpxe"],
        None,
    );
    let said = format!("netboot reads its settings from {}", config.display());
    assert!(lab.log_contains(&said), "{}", lab.log());
    let lease = lab.udhcpc_pxe(&[]);
    let host = host_part(&lease, "10.231.0.");
    assert!(
        host.is_some_and(|h| (60..=69).contains(&h)),
        "the file's range: {lease:?}\n{}",
        lab.log()
    );
    assert_eq!(lease["lease"], "900", "the file's lease time");
    assert_eq!(lease["sname"], "pxe-lab", "the file's server name");
    assert_eq!(lease["boot_file"], "undionly.kpxe", "the flag wins");
    assert_eq!(lease["siaddr"], SERVER_IP);

    // `netboot leases` finds the lease where serve put it (NETBOOT_STATE_DIR)
    let out = Command::new(BIN)
        .arg("leases")
        .env("NETBOOT_STATE_DIR", lab.path("state"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains(CLIENT_MAC) && l.contains(&lease["ip"])),
        "{table}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn netboot_yaml_in_the_working_directory_is_read_and_flags_override_it() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let cwd = lab.path("quick");
    boot_root(&cwd.join("boot-images"));
    std::fs::write(
        cwd.join("netboot.yaml"),
        "dhcp:\n  proxy: true\n  range: 10.231.0.70-10.231.0.79\n  ping_check: false\n",
    )
    .unwrap();
    // without --no-proxy this would be ProxyDHCP and udhcpc would get nothing
    lab.start_serve(&["--no-proxy"], Some(&cwd));
    assert!(
        lab.log_contains("netboot reads its settings from netboot.yaml"),
        "{}",
        lab.log()
    );
    let lease = lab.udhcpc(&[]);
    assert!(
        host_part(&lease, "10.231.0.").is_some_and(|h| (70..=79).contains(&h)),
        "{lease:?}\n{}",
        lab.log()
    );
}

#[test]
fn sighup_without_a_profiles_directory_reloads_instead_of_killing() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    // no profiles directory at all where serve looks by default (./profiles)
    let site = lab.path("site");
    boot_root(&site.join("boot-images"));
    lab.start_serve(&["--no-ping"], Some(&site));
    let profiles = site.join("profiles");
    assert!(lab.signal_server("HUP"));
    lab.wait_log("nothing to reload", Duration::from_secs(15));
    assert!(lab.server_running(), "SIGHUP killed the server");
    let lease = lab.udhcpc(&[]);
    assert!(host_part(&lease, "10.231.0.").is_some(), "{}", lab.log());

    // once the directory exists, SIGHUP loads it
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("desk.yaml"),
        format!("name: desk\nmatch:\n  mac: {CLIENT_MAC}\naddress: 10.231.0.42\n"),
    )
    .unwrap();
    assert!(lab.signal_server("HUP"));
    lab.wait_log("profiles loaded", Duration::from_secs(15));
    assert_eq!(
        lab.udhcpc(&[]).get("ip").map(String::as_str),
        Some("10.231.0.42"),
        "{}",
        lab.log()
    );
}

#[test]
fn a_reservation_of_our_own_address_is_refused_at_start() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::new();
    let root = lab.path("root");
    boot_root(&root);
    let profiles = lab.path("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("desk.yaml"),
        format!("name: desk\nmatch:\n  mac: {CLIENT_MAC}\naddress: {SERVER_IP}\n"),
    )
    .unwrap();
    let (ok, out) = lab.server_run(
        "timeout",
        &[
            "20",
            BIN,
            "serve",
            "--interface",
            SERVER_IF,
            "--root",
            text(&root),
        ]
        .into_iter()
        .chain(["--profiles", text(&profiles)])
        .chain(["--state-dir", text(&lab.path("state"))])
        .collect::<Vec<_>>(),
    );
    assert!(!ok, "serve started with the reservation:\n{out}");
    assert!(out.contains("desk.yaml:"), "{out}");
    assert!(
        out.contains("10.231.0.1 is netboot's own address on vs0"),
        "{out}"
    );
}

#[test]
fn a_second_server_on_the_same_lease_store_or_tftp_port_is_refused() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let state = lab.path("state");
    let dirs = lab.start_serve_on(&[], &["--state-dir", text(&state), "--no-ping"]);
    let base = [
        "--root",
        text(&dirs.root),
        "--profiles",
        text(&dirs.profiles),
    ];
    let second = |extra: &[&str]| {
        lab.server_run(
            "timeout",
            &["20", BIN, "serve", "--interface", SERVER_IF]
                .into_iter()
                .chain(base)
                .chain(extra.iter().copied())
                .collect::<Vec<_>>(),
        )
    };
    // the same TFTP port
    let other_state = lab.path("other-state");
    let (ok, out) = second(&["--state-dir", text(&other_state)]);
    assert!(!ok, "a second server shared port 69:\n{out}");
    assert!(
        out.contains("cannot listen on 10.231.0.1:69: another TFTP server"),
        "{out}"
    );
    // the same leases, on another TFTP port
    let (ok, out) = second(&["--state-dir", text(&state), "--tftp-port", "1069"]);
    assert!(!ok, "a second server shared the lease store:\n{out}");
    assert!(out.contains("is in use by another netboot (PID "), "{out}");
    assert!(out.contains("--state-dir"), "{out}");
    // the first one still serves
    let lease = lab.udhcpc(&[]);
    assert!(
        host_part(&lease, "10.231.0.").is_some(),
        "{lease:?}\n{}",
        lab.log()
    );
}
