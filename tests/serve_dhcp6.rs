//! `netboot serve` with `dhcp6:` against a real DHCPv6 client (ISC
//! `dhclient -6`; busybox `udhcpc6` is `tests/serve_dhcp6_udhcpc6.rs`),
//! inside the network namespaces the lab creates and deletes (IPv6 switched
//! on in them only, `netns::v6`): each gets an address from the v6 pool and
//! the boot file URL, and a restart keeps the lease.

mod netns;

use std::process::Stdio;
use std::time::{Duration, Instant};

use netns::v6::{ipv6_lab, ipv6_on, serve_v6, serve_v6_with, SERVER_V6, V6_POOL};
use netns::{ip, Lab, CLIENT_IF, CLIENT_MAC, SERVER_IF};

/// Runs `dhclient -6` once in the client namespace (bounded) and returns
/// its lease file's text once it holds an address.
fn dhclient6(lab: &mut Lab, name: &str) -> String {
    let lease_file = lab.path(&format!("{name}.leases"));
    let conf = lab.path("dhclient6.conf");
    std::fs::write(
        &conf,
        "also request dhcp6.bootfile-url;\nalso request dhcp6.bootfile-param;\n",
    )
    .unwrap();
    let child = lab
        .client_cmd("timeout")
        .args(["30", "dhclient", "-6", "-1", "-d", "-v", "-sf", "/bin/true"])
        .arg("-cf")
        .arg(&conf)
        .arg("-lf")
        .arg(&lease_file)
        .arg("-pf")
        .arg(lab.path(&format!("{name}.pid")))
        .arg(CLIENT_IF)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let idx = lab.adopt(child);
    let start = Instant::now();
    let mut text = String::new();
    while start.elapsed() < Duration::from_secs(25) {
        text = std::fs::read_to_string(&lease_file).unwrap_or_default();
        if text.contains("iaaddr") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    lab.stop_child(idx);
    text
}

#[test]
fn dhclient6_gets_a_pool_address_and_the_boot_url_and_keeps_it_over_a_restart() {
    if !netns::ready(&["dhclient"]) {
        return;
    }
    let mut lab = ipv6_lab();
    serve_v6(&mut lab, "");
    let lease = dhclient6(&mut lab, "first");
    assert_holds(&lab, &lease, "iaaddr fd00:231::100 ");
    assert!(
        lease.contains(&format!("\"tftp://[{SERVER_V6}]/undionly.kpxe\"")),
        "{lease}"
    );
    assert!(
        lab.log_contains("DHCPv6 bound fd00:231::100"),
        "{}",
        lab.log()
    );
    let journal = std::fs::read_to_string(lab.path("state").join("leases6.journal")).unwrap();
    assert!(journal.contains("\"addr\":\"fd00:231::100\""), "{journal}");
    // a restart keeps it: a second client comes first and gets another
    // address; the first client (same DUID, no lease in its file) gets its own back
    lab.stop_server();
    serve_v6(&mut lab, "");
    lab.client_mac("52:54:00:12:34:99");
    // the server's neighbour entry still names the old MAC
    ip(&["-n", &lab.srv, "neigh", "flush", "dev", SERVER_IF]);
    let other = dhclient6(&mut lab, "second");
    assert_holds(&lab, &other, "iaaddr fd00:231::101 ");
    lab.client_mac(CLIENT_MAC);
    ip(&["-n", &lab.srv, "neigh", "flush", "dev", SERVER_IF]);
    // the same machine: dhclient keeps its DUID in the lease file
    let duid_line = lease
        .lines()
        .find(|l| l.starts_with("default-duid"))
        .expect("dhclient wrote its DUID");
    std::fs::write(lab.path("third.leases"), format!("{duid_line}\n")).unwrap();
    let again = dhclient6(&mut lab, "third");
    assert_holds(&lab, &again, "iaaddr fd00:231::100 ");
}

/// A profile's `address6` for the client's MAC: dhclient gets exactly that
/// address (outside the range, on its /64), never a pool one, and the
/// profile's `boot_params6` as option 60, which it asked for.
#[test]
fn dhclient6_gets_the_address6_its_profile_reserves_and_the_boot_params() {
    if !netns::ready(&["dhclient"]) {
        return;
    }
    let mut lab = ipv6_lab();
    let reserved = "address6: fd00:231::42\nboot_params6: [\"console=ttyS0\", \"auto=true\"]\n";
    serve_v6_with(&mut lab, &format!("dhcp6:\n  range: {V6_POOL}\n"), reserved);
    let lease = dhclient6(&mut lab, "reserved");
    assert_holds(&lab, &lease, "iaaddr fd00:231::42 ");
    assert!(!lease.contains("iaaddr fd00:231::1"), "{lease}");
    // dhclient writes option 60 as its bytes in hex: each parameter's
    // two-byte length, then the parameter (RFC 5970)
    let mut wire = Vec::new();
    for p in ["console=ttyS0", "auto=true"] {
        wire.extend_from_slice(&u16::try_from(p.len()).unwrap().to_be_bytes());
        wire.extend_from_slice(p.as_bytes());
    }
    let hex: Vec<String> = wire.iter().map(|b| format!("{b:x}")).collect();
    let want = format!("option dhcp6.bootfile-param {};", hex.join(":"));
    assert!(lease.contains(&want), "want {want} in {lease}");
    assert!(
        lab.log_contains("DHCPv6 bound fd00:231::42"),
        "{}",
        lab.log()
    );
}

/// A reservation added to the profile while `serve` runs reaches DHCPv6
/// with the reload: the same machine (its DUID kept) then gets the reserved
/// address instead of its pool one, and an `address6` on no served /64 is
/// warned with its file:line.
#[test]
fn an_address6_added_by_a_reload_is_given_to_the_client() {
    if !netns::ready(&["dhclient"]) {
        return;
    }
    let mut lab = ipv6_lab();
    serve_v6(&mut lab, "");
    let first = dhclient6(&mut lab, "before");
    assert_holds(&lab, &first, "iaaddr fd00:231::100 ");
    let profile = format!(
        "- name: desk\n  match:\n    mac: {CLIENT_MAC}\n  address6: fd00:231::42\n  \
         boot:\n    other: undionly.kpxe\n\
         - name: far\n  hosts:\n    - mac: 52:54:00:00:00:77\n      address6: fd00:232::9\n"
    );
    std::fs::write(lab.path("profiles").join("desk.yaml"), profile).unwrap();
    lab.wait_log(
        "desk.yaml:9: profile `far` reserves fd00:232::9, on no /64 DHCPv6 serves",
        Duration::from_secs(10),
    );
    let duid_line = first
        .lines()
        .find(|l| l.starts_with("default-duid"))
        .expect("dhclient wrote its DUID");
    std::fs::write(lab.path("after.leases"), format!("{duid_line}\n")).unwrap();
    let after = dhclient6(&mut lab, "after");
    assert_holds(&lab, &after, "iaaddr fd00:231::42 ");
    // its pool address was given back when it bound the reserved one
    let journal = std::fs::read_to_string(lab.path("state").join("leases6.journal")).unwrap();
    let last_old = journal
        .lines()
        .rfind(|l| l.contains("\"addr\":\"fd00:231::100\""))
        .unwrap_or_default();
    assert!(last_old.contains("\"state\":\"released\""), "{journal}");
}

/// The `Stateful address conf.` / `Stateful other conf.` answers of each
/// RA rdisc6 printed.
fn rdisc6(lab: &Lab, args: &[&str]) -> String {
    let out = lab
        .client_cmd("timeout")
        .args(["20", "rdisc6", "-n"])
        .args(args)
        .arg(CLIENT_IF)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// rdisc6 printed RAs, each with router lifetime 0.
fn no_default_router(text: &str) -> bool {
    let mut lifetimes = text
        .lines()
        .filter(|l| l.trim_start().starts_with("Router lifetime"))
        .peekable();
    lifetimes.peek().is_some()
        && lifetimes.all(|l| {
            l.split(':')
                .nth(1)
                .is_some_and(|v| v.trim().starts_with("0 ("))
        })
}

fn says(text: &str, field: &str, value: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with(field) && l.trim_end().ends_with(value))
}

/// [`says`], or the test fails showing `text` and the server's log.
fn assert_says(lab: &Lab, text: &str, field: &str, value: &str) {
    assert!(says(text, field, value), "{text}\n{}", lab.log());
}

/// `text` (a lease file) holds `needle`, or the test fails showing it and
/// the server's log.
fn assert_holds(lab: &Lab, text: &str, needle: &str) {
    assert!(text.contains(needle), "{text}\n{}", lab.log());
}

/// The server side's IPv6 addresses, as `ip -6 addr show` lists them.
fn server_v6_addrs(lab: &Lab) -> String {
    let out = std::process::Command::new("ip")
        .args(["-n", &lab.srv, "-6", "addr", "show", "dev", SERVER_IF])
        .output()
        .unwrap();
    assert!(out.status.success(), "ip -6 addr show: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rdisc6_sees_netboots_ra_with_m_and_o_when_it_is_alone() {
    if !netns::ready(&["rdisc6"]) {
        return;
    }
    let mut lab = ipv6_lab();
    serve_v6(&mut lab, "");
    // netboot listens 3 s before its first RA; rdisc6 solicits 5 times a 2 s
    let text = rdisc6(&lab, &["-1", "-r", "5", "-w", "2000"]);
    assert_says(&lab, &text, "Stateful address conf.", "Yes");
    assert!(says(&text, "Stateful other conf.", "Yes"), "{text}");
    assert!(
        no_default_router(&text),
        "netboot is no default router: {text}"
    );
    assert!(text.contains("fd00:231::/64"), "{text}");
}

/// On a segment served over IPv4 only (no `dhcp6:`), a router solicitation
/// (iPXE sends them, and waits for an answer) gets an RA that configures
/// nothing: no M, no O, router lifetime 0, no prefix (that none is sent
/// unsolicited is the advertiser's unit test).
#[test]
fn an_ipv4_only_segment_answers_a_solicitation_with_an_ra_that_configures_nothing() {
    if !netns::ready(&["rdisc6"]) {
        return;
    }
    let mut lab = ipv6_lab();
    lab.start_serve_on(&[], &["--range", "10.231.0.100-10.231.0.199"]);
    // solicits every 2 s: the first may fall in netboot's 3-s listening
    let text = rdisc6(&lab, &["-1", "-r", "3", "-w", "2000"]);
    assert_says(&lab, &text, "Stateful address conf.", "No");
    assert!(says(&text, "Stateful other conf.", "No"), "{text}");
    assert!(
        no_default_router(&text),
        "netboot is no default router: {text}"
    );
    assert!(!text.contains(" Prefix "), "no prefix: {text}");
}

/// An RA (M and O clear, router lifetime 1800 s) every 0.5 s for 12 s, from
/// a raw socket in the client namespace: another router on the segment.
const OTHER_ROUTER: &str = r#"
import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
idx = socket.if_nametoindex("vc0")
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
end = time.time() + 12
while time.time() < end:
    s.sendto(ra, ("ff02::1", 0, 0, idx))
    time.sleep(0.5)
"#;

#[test]
fn netboot_stays_silent_where_another_router_advertises() {
    if !netns::ready(&["rdisc6", "python3"]) {
        return;
    }
    let mut lab = ipv6_lab();
    let router = lab
        .client_cmd("python3")
        .args(["-c", OTHER_ROUTER])
        .spawn()
        .unwrap();
    lab.adopt(router);
    std::thread::sleep(Duration::from_millis(500));
    serve_v6(&mut lab, "");
    lab.wait_log("another router", Duration::from_secs(10));
    // listen only (no solicitation) for 5 s: every RA heard is the other router's
    let text = rdisc6(&lab, &["-d", "-m", "-r", "1", "-w", "5000"]);
    assert!(says(&text, "Stateful address conf.", "No"), "{text}");
    assert!(
        !says(&text, "Stateful address conf.", "Yes"),
        "{text}\n{}",
        lab.log()
    );
    assert!(
        lab.log_contains("netboot sends no router advertisements there"),
        "{}",
        lab.log()
    );
}

#[test]
fn a_bare_port_takes_a_ula_prefix_advertises_it_and_gives_it_back() {
    if !netns::ready(&["rdisc6"]) {
        return;
    }
    let mut lab = Lab::bare();
    ipv6_on(&lab);
    let cwd = netns::bare::quick_dir(&lab);
    let state = lab.path("state");
    lab.start_serve(&["--state-dir", state.to_str().unwrap()], Some(&cwd));
    let id = std::fs::read_to_string(state.join("ula-global-id"))
        .unwrap_or_else(|e| panic!("no ula-global-id ({e}):\n{}", lab.log()));
    let id = id.trim();
    assert_eq!(id.len(), 10, "{id}");
    let mut octets = [0u8; 16];
    octets[0] = 0xfd;
    for i in 0..5 {
        octets[i + 1] = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap();
    }
    let prefix = format!("{}/64", std::net::Ipv6Addr::from(octets));
    let addrs = server_v6_addrs(&lab);
    assert!(addrs.contains("inet6 fd"), "{addrs}\n{}", lab.log());
    let text = rdisc6(&lab, &["-1", "-r", "5", "-w", "2000"]);
    assert_says(&lab, &text, "Stateful address conf.", "Yes");
    assert!(says(&text, "Autonomous address conf.", "Yes"), "{text}");
    assert!(text.contains(&prefix), "{prefix} in {text}");
    let status = lab.stop_server_with("TERM");
    assert!(status.success(), "{status}\n{}", lab.log());
    let left = server_v6_addrs(&lab);
    assert!(!left.contains("inet6 fd"), "ULA left behind: {left}");
}
