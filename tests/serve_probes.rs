//! The probe before an offer, end to end with `netboot serve` inside network
//! namespaces this test creates and deletes: a machine that holds a pool
//! address and answers ARP but ignores pings is found and its address
//! skipped; and probing hundreds of new clients (perfdhcp) leaves the
//! server namespace's neighbour table as it was, where ICMP probes of silent
//! on-link addresses used to leave an entry each in the machine-wide table.

mod netns;

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netns::{ip, Lab, SERVER_IF};

const SQUATTER_MAC: &str = "52:54:00:99:99:99";

/// `netboot serve` probing a pool on 10.231.0.0/16, perfdhcp's side at
/// 10.231.0.2 (it sends from there, as a relay on this link).
fn perfdhcp_lab() -> Lab {
    let mut lab = Lab::bare();
    ip(&[
        "-n",
        &lab.srv,
        "addr",
        "add",
        "10.231.0.1/16",
        "dev",
        SERVER_IF,
    ]);
    lab.client_addr("10.231.0.2/16");
    lab.start_serve_on(&[], &["--range", "10.231.1.1-10.231.2.254"]);
    lab
}

/// How many requests the server decided to probe for.
fn probes(lab: &Lab) -> usize {
    lab.log()
        .lines()
        .filter(|l| l.contains("reason=probing 10.231."))
        .count()
}

/// The address of an `ip neigh show` line.
fn neighbour_ip(line: &str) -> Option<Ipv4Addr> {
    line.split_whitespace().next()?.parse().ok()
}

#[test]
fn an_address_answering_arp_but_not_ping_is_not_offered() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    let squatter = lab.add_squatter("10.231.0.50/24", SQUATTER_MAC, "52:54:00:12:34:58");
    // the probe is on by default; .50 is the first address handed out
    lab.start_serve_on(&[], &["--range", "10.231.0.50-10.231.0.60"]);
    let cli = lab.cli.clone();
    let lease = lab.udhcpc_on(&cli, "br0", &[]);
    assert_eq!(
        lease.get("ip").map(String::as_str),
        Some("10.231.0.51"),
        "the next address, not the squatter's: {lease:?}\n{}",
        lab.log()
    );
    let why = format!("machine {SQUATTER_MAC} answers ARP for it");
    assert!(
        lab.log_contains("address in use, not offered") && lab.log_contains(&why),
        "the log says why 10.231.0.50 was skipped:\n{}",
        lab.log()
    );
    // the admin sees it in the lease table, held back from clients
    netns::assert_lease_listed(&lab.path("state"), &["10.231.0.50", "declined"]);
    // neither probe left a neighbour entry for the addresses it asked about
    let probed: Vec<String> = lab
        .server_neighbours()
        .into_iter()
        .filter(|l| l.starts_with("10.231.0.50 ") || l.starts_with("10.231.0.51 "))
        .collect();
    assert!(probed.is_empty(), "{probed:?}");
    // and a ping probe would have missed the squatter (checked last: this
    // ping itself resolves .50)
    let ping = Command::new("ip")
        .args([
            "netns", "exec", &lab.srv, "busybox", "ping", "-c", "2", "-W", "1",
        ])
        .arg("10.231.0.50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !ping.success(),
        "{squatter} answered a ping: the test proves nothing"
    );
}

#[test]
fn probing_hundreds_of_new_clients_leaves_the_neighbour_table_alone() {
    if !netns::ready(&["perfdhcp"]) {
        return;
    }
    let lab = perfdhcp_lab();
    let before = lab.server_neighbours().len();
    // 300 simulated clients, each new, at 300 exchanges/s for 3 s
    let report = lab.path("perfdhcp.txt");
    let mut perfdhcp = lab
        .client_cmd("timeout")
        .args(["30", "perfdhcp", "-4", "-l", netns::CLIENT_IF])
        .args(["-r", "300", "-R", "300", "-p", "3"])
        // an answer up to 5 s late still counts (perfdhcp's default is 1 s):
        // on a loaded machine a lease's fsync alone can take that long
        .args(["-d", "5", "-d", "5"])
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // watch the table while the probes run and for a while after
    let mut pool_entries = Vec::new();
    let mut most = 0;
    let start = Instant::now();
    let mut ended = None;
    while start.elapsed() < Duration::from_secs(40) {
        let now = lab.server_neighbours();
        most = most.max(now.len());
        pool_entries.extend(now.into_iter().filter(|l| {
            neighbour_ip(l).is_some_and(|a| matches!(a.octets(), [10, 231, 1 | 2, _]))
        }));
        match ended {
            None => {
                if perfdhcp.try_wait().unwrap().is_some() {
                    ended = Some(Instant::now());
                }
            }
            // an ICMP probe's entry lasts seconds: keep looking after the run
            Some(t) if t.elapsed() > Duration::from_secs(2) => break,
            Some(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if ended.is_none() {
        let _ = perfdhcp.kill();
    }
    let _ = perfdhcp.wait();
    assert!(ended.is_some(), "perfdhcp did not end within 40 s");
    let text = std::fs::read_to_string(&report).unwrap();
    let probes = probes(&lab);
    assert!(
        probes >= 250,
        "only {probes} probes: nothing was tested\n{text}"
    );
    assert!(
        pool_entries.is_empty(),
        "{:?}",
        &pool_entries[..pool_entries.len().min(10)]
    );
    // perfdhcp's own address (the relay the replies go to) may appear
    assert!(most <= before + 1, "{most} entries (from {before})");
    let (sent, acks) = netns::perfdhcp_counts(&text);
    assert!(
        sent >= 600 && acks * 10 >= sent * 9,
        "perfdhcp completed {acks} of {sent} exchanges\n{text}\n{}",
        lab.log()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A client that sends DISCOVERs with new transaction ids while its first
/// address is being probed (perfdhcp does, as some firmware does) gets an
/// OFFER for each of them when the probe ends, not only for the first.
#[test]
fn discovers_sent_during_a_probe_are_all_answered() {
    if !netns::ready(&["perfdhcp"]) {
        return;
    }
    let lab = perfdhcp_lab();
    // 4 clients, each sending a DISCOVER every 80 ms for 2 s: about 4 of
    // each client's first 5 arrive during its first address's 400-ms probe
    let report = lab.path("perfdhcp.txt");
    let status = lab
        .client_cmd("timeout")
        .args(["30", "perfdhcp", "-4", "-l", netns::CLIENT_IF])
        .args(["-r", "50", "-R", "4", "-p", "2", "-W", "1500000"])
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    let waited = probes(&lab);
    assert!(waited >= 4, "{waited} probes: nothing was tested\n{text}");
    let (sent, acks) = netns::perfdhcp_counts(&text);
    assert!(
        sent >= 80 && acks + 2 >= sent,
        "perfdhcp ({status}) completed {acks} of {sent} exchanges\n{text}"
    );
}
