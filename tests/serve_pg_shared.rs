//! Two `netboot serve` instances on one segment sharing one PostgreSQL
//! lease database (tests/support/pg.rs; a bridge in namespaces,
//! tests/netns/segment.rs). Both run; the second one's bridge port is down
//! while ISC dhclient gets a lease from the first, so the second hears of
//! that lease only through the database. The first is killed with
//! SIGKILL; dhclient started again asks for its address in INIT-REBOOT (a
//! REQUEST without a server id, which a server must ignore unless it knows
//! the client's lease) and the second acknowledges it. The database holds
//! one bound lease for the client.
//!
//! A standby (`--answer-delay 1500`) beside a primary: the primary answers
//! while it runs (the standby's held OFFER is dropped when the client's
//! REQUEST names the primary); once the primary is killed, a new client
//! gets its lease from the standby.
//!
//! Under load (perfdhcp, 200 clients at 50 exchanges/s, relayed from the
//! client namespace): one server killed with SIGKILL in the middle, then
//! the database stopped and started again in the middle; no address or
//! client is bound twice in the database and there are at least as many
//! bound leases as clients that were ACKed.
//!
//! A third server serving a relayed segment (`dhcp.relay_pools`, ISC
//! dhcrelay on a router namespace) from its own pool in the same database.

mod netns;
#[path = "support/pg.rs"]
mod pg;

use std::process::Stdio;
use std::time::{Duration, Instant};

use netns::segment::{Segment, SEGMENT_CLIENT_MAC};

/// Runs dhclient once in the segment's client namespace until its script
/// sees a lease (BOUND or REBOOT), bounded; returns the script's
/// environment (empty when none came).
fn dhclient(seg: &Segment) -> String {
    let env_file = seg.path("dhclient.env");
    let _ = std::fs::remove_file(&env_file);
    let script = seg.path("dhclient.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$reason\" in BOUND|REBOOT) env > {0}.tmp && mv {0}.tmp {0};; esac\nexit 0\n",
            env_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = seg
        .client_cmd("dhclient")
        .args(["-1", "-d", "-v", "-sf"])
        .arg(&script)
        .arg("-lf")
        .arg(seg.path("dhclient.leases"))
        .arg("-pf")
        .arg(seg.path("dhclient.pid"))
        .arg("eth0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut env = String::new();
    while start.elapsed() < Duration::from_secs(25) && env.is_empty() {
        std::thread::sleep(Duration::from_millis(100));
        env = std::fs::read_to_string(&env_file).unwrap_or_default();
    }
    let _ = child.kill();
    let _ = child.wait();
    env
}

/// A database and a segment with two servers running on it, the first
/// with `extra0`, the second with `extra1` after the usual arguments.
fn two_servers(extra0: &[&str], extra1: &[&str]) -> (pg::Cluster, Segment) {
    let pg = pg::Cluster::start();
    let url = pg.url("netboot");
    let mut seg = Segment::new(2);
    for (i, extra) in [extra0, extra1].into_iter().enumerate() {
        let args = serve_args(&seg, &url, extra);
        seg.start(i, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    (pg, seg)
}

/// Server arguments for `seg`: a stand-in root, no profiles, one pool,
/// the shared database at `url`, then `extra`.
fn serve_args(seg: &Segment, url: &str, extra: &[&str]) -> Vec<String> {
    let root = seg.path("root");
    netns::boot_root(&root);
    let profiles = seg.path("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let mut args: Vec<String> = vec![
        "--root".into(),
        root.display().to_string(),
        "--profiles".into(),
        profiles.display().to_string(),
        "--leases-url".into(),
        url.into(),
        "--range".into(),
        "10.232.0.10-10.232.0.240".into(),
        "--no-ping".into(),
        "--no-http".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn var<'a>(env: &'a str, name: &str) -> &'a str {
    env.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("")
}

#[test]
fn the_other_server_acknowledges_a_lease_after_the_first_is_killed() {
    if !netns::ready(&["dhclient", "psql"]) {
        return;
    }
    let (pg, mut seg) = two_servers(&[], &[]);
    let (dead, other) = (0, 1);
    seg.port(other, false);

    let first = dhclient(&seg);
    let ip = var(&first, "new_ip_address").to_string();
    assert!(
        ip.starts_with("10.232.0."),
        "no lease:\n{first}\n{}",
        seg.log(dead)
    );
    assert_eq!(
        var(&first, "new_dhcp_server_identifier"),
        Segment::server_ip(dead),
        "{first}"
    );
    seg.port(other, true);
    seg.kill(dead);

    let again = dhclient(&seg);
    assert_eq!(
        var(&again, "reason"),
        "REBOOT",
        "not an INIT-REBOOT:\n{again}\n{}",
        seg.log(other)
    );
    assert_eq!(
        var(&again, "new_ip_address"),
        ip,
        "{again}\n{}",
        seg.log(other)
    );
    assert_eq!(
        var(&again, "new_dhcp_server_identifier"),
        Segment::server_ip(other),
        "{again}"
    );
    assert_eq!(
        pg.psql(&format!(
            "SELECT host(ip) || ' ' || state FROM netboot_leases \
             WHERE mac = '{SEGMENT_CLIENT_MAC}' AND state IN ('offered', 'bound')"
        )),
        format!("{ip} bound")
    );
}

#[test]
fn a_standby_answers_only_once_the_primary_is_gone() {
    if !netns::ready(&["dhclient", "psql"]) {
        return;
    }
    let (_pg, mut seg) = two_servers(&[], &["--answer-delay", "1500"]);
    let (primary, standby) = (0, 1);

    for round in 0..3 {
        seg.client_mac(&format!("52:54:00:ab:cd:1{round}"));
        let _ = std::fs::remove_file(seg.path("dhclient.leases"));
        let got = dhclient(&seg);
        assert_eq!(
            var(&got, "new_dhcp_server_identifier"),
            Segment::server_ip(primary),
            "round {round}: not the primary's lease\n{got}\n{}",
            seg.log(standby)
        );
    }
    assert_eq!(
        seg.log(standby).matches("held OFFER dropped").count(),
        3,
        "{}",
        seg.log(standby)
    );
    seg.kill(primary);
    seg.client_mac("52:54:00:ab:cd:20");
    let _ = std::fs::remove_file(seg.path("dhclient.leases"));
    let got = dhclient(&seg);
    assert_eq!(
        var(&got, "new_dhcp_server_identifier"),
        Segment::server_ip(standby),
        "no lease from the standby\n{got}\n{}",
        seg.log(standby)
    );
    assert!(
        var(&got, "new_ip_address").starts_with("10.232.0."),
        "{got}"
    );
}

/// Runs perfdhcp in the client namespace as a relay on the segment: 200
/// distinct clients at 50 exchanges/s for `secs`; returns its report.
fn perfdhcp(seg: &Segment, secs: u32) -> std::process::Child {
    seg.client_cmd("timeout")
        .args([&(secs + 20).to_string(), "perfdhcp", "-4", "-l", "eth0"])
        .args(["-r", "50", "-R", "200", "-p", &secs.to_string()])
        .stdout(std::fs::File::create(seg.path("perfdhcp.txt")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Addresses bound to two clients, or clients bound to two addresses, in
/// the database (each line one), and the number of bound leases.
fn bound_rows(pg: &pg::Cluster) -> (String, u64) {
    let doubles = pg.psql(
        "SELECT 'ip ' || host(ip) FROM netboot_leases WHERE state = 'bound' \
         GROUP BY ip HAVING count(*) > 1 \
         UNION ALL SELECT 'mac ' || mac FROM netboot_leases WHERE state = 'bound' \
         GROUP BY pool, mac HAVING count(*) > 1",
    );
    let bound = pg.psql("SELECT count(*) FROM netboot_leases WHERE state = 'bound'");
    (doubles, bound.parse().unwrap_or(0))
}

#[test]
fn under_load_a_killed_server_and_a_restarted_database_lose_no_lease_and_double_none() {
    if !netns::ready(&["perfdhcp", "psql"]) {
        return;
    }
    let (pg, mut seg) = two_servers(&[], &[]);
    seg.client_addr("10.232.0.250/24");

    // a server killed with SIGKILL in the middle of the load
    let mut run = perfdhcp(&seg, 6);
    std::thread::sleep(Duration::from_secs(2));
    seg.kill(0);
    // perfdhcp exits non-zero when some exchanges went unanswered
    let _ = run.wait();
    let report = std::fs::read_to_string(seg.path("perfdhcp.txt")).unwrap();
    let (_, acks) = netns::perfdhcp_counts(&report);
    let (doubles, bound) = bound_rows(&pg);
    eprintln!("server killed: {acks} ACKs, {bound} bound leases");
    assert_eq!(doubles, "", "an address or a client bound twice");
    assert!(acks > 0, "no ACK at all:\n{report}\n{}", seg.log(1));
    assert!(
        bound >= acks.min(200),
        "{acks} ACKs but {bound} bound leases:\n{report}"
    );

    // the database stopped and started again in the middle of the load
    let mut run = perfdhcp(&seg, 8);
    std::thread::sleep(Duration::from_secs(2));
    pg.stop();
    std::thread::sleep(Duration::from_secs(2));
    pg.restart();
    // perfdhcp exits non-zero when some exchanges went unanswered
    let _ = run.wait();
    let report = std::fs::read_to_string(seg.path("perfdhcp.txt")).unwrap();
    let (_, acks) = netns::perfdhcp_counts(&report);
    let (doubles, bound) = bound_rows(&pg);
    assert_eq!(doubles, "", "an address or a client bound twice");
    assert!(
        bound >= acks.min(200),
        "{acks} ACKs but {bound} bound leases:\n{report}"
    );
    eprintln!("database restarted: {acks} ACKs, {bound} bound leases");
    seg.wait_log(1, "lease database is back", Duration::from_secs(20));
    assert_eq!(
        seg.log(1).matches("lease database down").count(),
        1,
        "{}",
        seg.log(1)
    );
}

#[test]
fn a_third_server_serves_a_relayed_segment_from_its_own_pool_in_the_same_database() {
    if !netns::ready(&["dhclient", "udhcpc", "dhcrelay", "psql"]) {
        return;
    }
    let pg = pg::Cluster::start();
    let url = pg.url("netboot");
    let mut seg = Segment::new(3);
    let config = seg.path("relayed.yaml");
    std::fs::write(
        &config,
        "dhcp:\n  relay_pools:\n    - subnet: 10.240.0.0/24\n      range: 10.240.0.50-10.240.0.60\n      \
         router: 10.240.0.1\n",
    )
    .unwrap();
    let config = config.display().to_string();
    for i in 0..3 {
        let extra: &[&str] = if i == 2 { &["--config", &config] } else { &[] };
        let args = serve_args(&seg, &url, extra);
        seg.start(i, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    // the relay reaches the third server only: it alone has the far pool
    seg.add_relayed_segment("52:54:00:ab:cd:40", &Segment::server_ip(2), 2);

    let local = dhclient(&seg);
    assert!(
        var(&local, "new_ip_address").starts_with("10.232.0."),
        "{local}"
    );
    let (far_ip, far_server) = seg.udhcpc_far();
    assert!(
        far_ip.starts_with("10.240.0."),
        "no lease on the relayed segment:\n{}",
        seg.log(2)
    );
    assert_eq!(far_server, Segment::server_ip(2));
    assert_eq!(
        pg.psql(
            "SELECT string_agg(DISTINCT pool, ',' ORDER BY pool) FROM netboot_leases \
             WHERE state = 'bound'"
        ),
        "10.232.0.0/24,10.240.0.0/24",
        "both pools in the one database"
    );
    assert_eq!(
        pg.psql("SELECT host(ip) FROM netboot_leases WHERE mac = '52:54:00:ab:cd:40'"),
        far_ip
    );
}
