//! `netboot serve` with `dhcp6:` against busybox's DHCPv6 client, udhcpc6,
//! run only inside the client namespace of the lab (`netns::v6`). Debian's
//! busybox has no udhcpc6 applet: `tests/tools/build-udhcpc6.sh` builds one
//! from Debian's busybox source (`.ci/install-deps.sh` runs it), and these
//! tests fail when it is missing.
//!
//! udhcpc6 runs a script of ours at each event (`bound`, `renew`,
//! `deconfig`, ...): it appends the variables udhcpc6 set to a file and,
//! as a user's script would, puts the address on the interface (udhcpc6
//! renews and releases by unicast from it). The tests check what a user
//! would: the address is the pool's and the one netboot stored, the boot
//! file URL is netboot's, a renewal keeps the address and extends the
//! lease, a release on exit frees it, and stateless mode gets the URL.

mod netns;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use netns::v6::{ipv6_lab, serve_v6, serve_v6_with, SERVER_V6};
use netns::{Lab, CLIENT_IF, CLIENT_MAC};

/// Where `tests/tools/build-udhcpc6.sh` installs it (`UDHCPC6_BIN` there
/// and here says otherwise).
const DEFAULT_BIN: &str = "/usr/local/bin/busybox-udhcpc6";

/// The boot file URL of the lab's profile, on netboot's ULA.
fn boot_url() -> String {
    format!("tftp://[{SERVER_V6}]/undionly.kpxe")
}

/// The busybox with udhcpc6, or the test fails saying how to build it.
fn udhcpc6_bin() -> String {
    let bin = std::env::var("UDHCPC6_BIN").unwrap_or_else(|_| DEFAULT_BIN.to_string());
    assert!(
        Path::new(&bin).is_file(),
        "{bin} is missing: Debian's busybox has no udhcpc6 applet; build one from Debian's \
         busybox source with `sudo tests/tools/build-udhcpc6.sh` (.ci/install-deps.sh runs it)"
    );
    bin
}

/// The event script: one block per event (`event=NAME`, then the variables
/// udhcpc6 exports, then an empty line); the address on the interface
/// while it is bound, as a user's script would.
fn write_script(lab: &Lab, events: &Path) -> PathBuf {
    let script = lab.path("udhcpc6.sh");
    let body = format!(
        r#"#!/bin/sh
{{
  echo "event=$1"
  for v in interface ipv6 lease dns bootfile_url; do eval "echo $v=\$$v"; done
  echo
}} >> {events}
case "$1" in
  bound|renew) [ -z "$ipv6" ] || ip -6 addr replace "$ipv6/128" dev "$interface" nodad ;;
  deconfig) ip -6 addr flush dev "$interface" scope global ;;
esac
exit 0
"#,
        events = events.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

/// One udhcpc6 running in the client namespace (bounded by `timeout`).
struct Udhcpc6 {
    idx: usize,
    pid_file: PathBuf,
    events: PathBuf,
    /// udhcpc6's messages (stderr).
    log: PathBuf,
}

impl Udhcpc6 {
    /// Starts `udhcpc6 -i vc0 -f -s SCRIPT -p PIDFILE ARGS`.
    fn start(lab: &mut Lab, args: &[&str]) -> Self {
        let bin = udhcpc6_bin();
        let events = lab.path("udhcpc6.events");
        let pid_file = lab.path("udhcpc6.pid");
        let script = write_script(lab, &events);
        let child = lab
            .client_cmd("timeout")
            .args(["60", &bin, "udhcpc6", "-i", CLIENT_IF, "-f", "-s"])
            .arg(&script)
            .arg("-p")
            .arg(&pid_file)
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(lab.path("udhcpc6.log")).unwrap())
            .spawn()
            .unwrap();
        let idx = lab.adopt(child);
        Self {
            idx,
            pid_file,
            events,
            log: lab.path("udhcpc6.log"),
        }
    }

    /// The events so far, in order.
    fn events(&self) -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(&self.events).unwrap_or_default();
        text.split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|b| {
                b.lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    /// The variables of the `n`-th (from 1) event named `event`, waiting up
    /// to `limit` for it; the test fails showing the events and the log.
    fn wait(&self, lab: &Lab, event: &str, n: usize, limit: Duration) -> HashMap<String, String> {
        let start = Instant::now();
        loop {
            let all = self.events();
            let mut named = all
                .iter()
                .filter(|e| e.get("event").map(String::as_str) == Some(event));
            if let Some(found) = named.nth(n - 1) {
                return found.clone();
            }
            assert!(
                start.elapsed() < limit,
                "no `{event}` #{n} from udhcpc6 within {limit:?}; events: {all:?}\n{}",
                self.logs(lab)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What udhcpc6 said, and the server's log: for failure messages.
    fn logs(&self, lab: &Lab) -> String {
        let own = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!("udhcpc6 said:\n{own}\nserver log:\n{}", lab.log())
    }

    /// udhcpc6's own process ID (from its PID file: `timeout` runs it).
    fn pid(&self) -> String {
        let text = std::fs::read_to_string(&self.pid_file).unwrap();
        text.trim().to_string()
    }

    /// Sends `signal` to udhcpc6 (which we started), by its PID.
    fn signal(&self, signal: &str) {
        let pid = self.pid();
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Waits (bounded) for udhcpc6 to end after a SIGTERM; the guard kills
    /// what is left.
    fn wait_exit(&self, lab: &mut Lab) {
        let start = Instant::now();
        while Path::new(&self.pid_file).exists() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        lab.stop_child(self.idx);
    }
}

impl Drop for Udhcpc6 {
    /// A test that fails midway leaves no udhcpc6 behind: the lab's guard
    /// kills `timeout`, which passes no SIGKILL on. Its PID file is gone
    /// once it ended by itself.
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status();
        }
    }
}

/// Waits (bounded) until the client namespace has the route netboot's RA
/// puts on link for the pool's /64.
fn wait_for_on_link_prefix(lab: &Lab) {
    let start = Instant::now();
    loop {
        let out = lab
            .client_cmd("ip")
            .args(["-6", "route", "show", "fd00:231::/64", "dev", CLIENT_IF])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("fd00:231::/64") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(25),
            "no on-link route for fd00:231::/64 from netboot's RA: {text}\n{}",
            lab.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The last record netboot journaled for `addr`: (state, expiry, DUID, MAC).
fn journaled(lab: &Lab, addr: &str) -> (String, u64, String, String) {
    let path = lab.path("state").join("leases6.journal");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let record = text
        .lines()
        .rev()
        .filter_map(|l| l.split_once(' ').map(|(_, json)| json))
        .filter_map(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .find(|v| v["addr"] == addr)
        .unwrap_or_else(|| panic!("no record of {addr} in {}:\n{text}", path.display()));
    let field = |k: &str| record[k].as_str().unwrap_or_default().to_string();
    let expires = record["expires"].as_u64().unwrap_or_default();
    (field("state"), expires, field("duid"), field("mac"))
}

/// The address of an event (udhcpc6 writes all 32 hex digits).
fn addr(event: &HashMap<String, String>) -> String {
    let text = event.get("ipv6").map(String::as_str).unwrap_or_default();
    text.parse::<std::net::Ipv6Addr>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| panic!("no address in {event:?}"))
}

/// The valid lifetime of an event. udhcpc6 1.35 exports `lease` in network
/// byte order read as a host number (its `option_to_env` has no `ntohl`;
/// its own timers do), so 3600 reads 269352960 on x86: undone here.
fn lease(event: &HashMap<String, String>) -> u32 {
    let raw: u32 = event
        .get("lease")
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("no lease in {event:?}"));
    u32::from_be_bytes(raw.to_ne_bytes())
}

/// udhcpc6's DUID: a DUID-LL of the client's MAC.
fn duid_ll(mac: &str) -> String {
    format!("00:03:00:01:{mac}")
}

#[test]
fn udhcpc6_gets_a_pool_address_and_the_boot_url_renews_and_releases_it() {
    udhcpc6_bin();
    if !netns::ready(&["timeout"]) {
        return;
    }
    let mut lab = ipv6_lab();
    serve_v6(&mut lab, "");
    // a host asks DHCPv6 once netboot's RA said so; that RA also puts the
    // /64 on link, which udhcpc6's unicasts need (its address is a /128)
    wait_for_on_link_prefix(&lab);
    // -O 59: the boot file URL by option number; -R: release on exit
    let client = Udhcpc6::start(&mut lab, &["-O", "59", "-R", "-t", "3", "-T", "3"]);
    let bound = client.wait(&lab, "bound", 1, Duration::from_secs(20));
    assert_eq!(
        addr(&bound),
        "fd00:231::100",
        "{bound:?}\n{}",
        client.logs(&lab)
    );
    assert_eq!(bound["bootfile_url"], boot_url(), "{bound:?}");
    assert_eq!(lease(&bound), 3600, "{bound:?}");
    assert!(
        lab.log_contains("DHCPv6 bound fd00:231::100"),
        "{}",
        lab.log()
    );
    let (state, first_expiry, duid, mac) = journaled(&lab, "fd00:231::100");
    assert_eq!(state, "bound");
    assert_eq!(duid, duid_ll(CLIENT_MAC));
    assert_eq!(mac, CLIENT_MAC);

    // SIGUSR1: udhcpc6 renews at once with a REQUEST by unicast from its
    // address, which netboot answers; udhcpc6 1.35 listens for that answer
    // on an IPv4 socket, misses it, and takes its renewal from the same
    // REQUEST sent by multicast 3 s (-T) later
    std::thread::sleep(Duration::from_millis(1100));
    client.signal("USR1");
    let renewed = client.wait(&lab, "renew", 1, Duration::from_secs(15));
    assert_eq!(addr(&renewed), "fd00:231::100", "{renewed:?}");
    assert_eq!(renewed["bootfile_url"], boot_url(), "{renewed:?}");
    assert!(
        lab.log_contains("peer=fd00:231::100"),
        "netboot ignored the unicast REQUEST from the leased address:\n{}",
        client.logs(&lab)
    );
    let log = lab.log();
    assert!(
        log.lines()
            .any(|l| l.contains("peer=fd00:231::100") && l.contains("bound fd00:231::100")),
        "{log}"
    );
    let (state, expiry, _, _) = journaled(&lab, "fd00:231::100");
    assert_eq!(state, "bound");
    assert!(
        expiry > first_expiry,
        "lease not extended: {expiry} <= {first_expiry}"
    );

    // SIGTERM with -R: a RELEASE, and netboot frees the address
    client.signal("TERM");
    client.wait_exit(&mut lab);
    assert!(
        lab.log_contains("DHCPv6 released fd00:231::100"),
        "{}",
        client.logs(&lab)
    );
    let (state, _, _, _) = journaled(&lab, "fd00:231::100");
    assert_eq!(state, "released", "{}", lab.log());
}

#[test]
fn udhcpc6_stateless_gets_the_boot_url_and_dns_from_an_information_request() {
    udhcpc6_bin();
    if !netns::ready(&["timeout"]) {
        return;
    }
    let mut lab = ipv6_lab();
    serve_v6_with(
        &mut lab,
        "dhcp6:\n  enabled: true\n  dns: [fd00:231::53]\n",
        "",
    );
    // -l: INFORMATION-REQUEST; -q: quit once answered
    let client = Udhcpc6::start(&mut lab, &["-l", "-q", "-O", "bootfile_url", "-O", "dns"]);
    // udhcpc6 names the answer to its first INFORMATION-REQUEST `renew`
    let info = client.wait(&lab, "renew", 1, Duration::from_secs(20));
    assert_eq!(info["bootfile_url"], boot_url(), "{info:?}\n{}", lab.log());
    assert_eq!(
        info["dns"], "fd00:0231:0000:0000:0000:0000:0000:0053",
        "{info:?}"
    );
    assert_eq!(info["ipv6"], "", "no address in stateless mode: {info:?}");
    assert!(lab.log_contains("DHCPv6 information"), "{}", lab.log());
    client.wait_exit(&mut lab);
}
