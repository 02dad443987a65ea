//! `netboot serve --leases-url` end to end: a PostgreSQL cluster of the
//! test's own (tests/support/pg.rs) and a namespace pair (tests/netns);
//! udhcpc gets a lease, the row is in the database (and nothing in the
//! state directory; `netboot leases` and `netboot explain` show it from
//! there), a restart of netboot gives the client the same address,
//! and after the row is moved in the database the next start hands out the
//! database's address: the leases are read from there. With the database
//! stopped, no OFFER and no ACK leaves and the outage is logged once; once
//! it runs again, service comes back by itself.

mod netns;
#[path = "support/pg.rs"]
mod pg;

use netns::{boot_root, Lab, CLIENT_MAC};

/// Runs the netboot binary with `args` (outside the namespaces); its
/// standard output, after asserting it succeeded.
fn netboot_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netboot"))
        .args(args)
        .output()
        .expect("netboot");
    assert!(
        out.status.success(),
        "netboot {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A test cluster, its URL, a lab, and a directory holding a stand-in
/// boot root (`boot-images/`) for `serve` to start in.
fn with_database() -> (pg::Cluster, String, Lab, std::path::PathBuf) {
    let pg = pg::Cluster::start();
    let url = pg.url("netboot");
    let lab = Lab::new();
    let cwd = lab.path("quick");
    boot_root(&cwd.join("boot-images"));
    (pg, url, lab, cwd)
}

fn row(pg: &pg::Cluster) -> String {
    pg.psql(&format!(
        "SELECT host(ip) || ' ' || state || ' ' || pool FROM netboot_leases WHERE mac = '{CLIENT_MAC}'"
    ))
}

#[test]
fn leases_live_in_postgres_across_restarts() {
    if !netns::ready(&["udhcpc", "psql"]) {
        return;
    }
    let (pg, url, mut lab, cwd) = with_database();
    let args = ["--no-ping", "--leases-url", url.as_str()];
    lab.start_serve(&args, Some(&cwd));
    assert!(
        lab.log_contains("leases kept in PostgreSQL"),
        "{}",
        lab.log()
    );
    assert!(
        !lab.log().contains(pg::PASSWORD),
        "the password is logged:\n{}",
        lab.log()
    );
    let ip = lab.udhcpc(&[]).get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.231.0."), "no lease:\n{}", lab.log());
    assert_eq!(row(&pg), format!("{ip} bound 10.231.0.0/24"));
    assert!(
        !lab.path("state").join("leases.journal").exists(),
        "the embedded journal was written too"
    );
    let leases = netboot_cli(&["leases", "--leases-url", &url]);
    assert!(
        leases.contains(&ip) && leases.contains(CLIENT_MAC) && leases.contains("bound"),
        "{leases}"
    );
    let root = cwd.join("boot-images");
    let profiles = lab.path("no-profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let (ok, explained) = lab.server_run(
        env!("CARGO_BIN_EXE_netboot"),
        &[
            "explain",
            CLIENT_MAC,
            "-i",
            "vs0",
            "--leases-url",
            &url,
            "--root",
            root.to_str().unwrap(),
            "--profiles",
            profiles.to_str().unwrap(),
        ],
    );
    assert!(
        ok && explained.contains(&ip),
        "explain does not show the lease:\n{explained}"
    );

    lab.stop_server();
    lab.start_serve(&args, Some(&cwd));
    assert!(
        lab.log_contains("leases=1"),
        "the lease was not loaded:\n{}",
        lab.log()
    );
    let again = lab.udhcpc(&[]).get("ip").cloned().unwrap_or_default();
    assert_eq!(again, ip, "another address after a restart:\n{}", lab.log());

    lab.stop_server();
    pg.psql(&format!(
        "UPDATE netboot_leases SET ip = '10.231.0.200' WHERE mac = '{CLIENT_MAC}'"
    ));
    lab.start_serve(&args, Some(&cwd));
    let moved = lab.udhcpc(&[]).get("ip").cloned().unwrap_or_default();
    assert_eq!(
        moved,
        "10.231.0.200",
        "not the database's address:\n{}",
        lab.log()
    );
    assert_eq!(row(&pg), "10.231.0.200 bound 10.231.0.0/24");
}

#[test]
fn the_database_down_means_no_lease_then_service_comes_back_by_itself() {
    if !netns::ready(&["udhcpc", "psql"]) {
        return;
    }
    let (pg, url, mut lab, cwd) = with_database();
    lab.start_serve(&["--no-ping", "--leases-url", url.as_str()], Some(&cwd));
    pg.stop();
    for _ in 0..2 {
        let got = lab.udhcpc(&[]);
        assert!(
            got.is_empty(),
            "a lease while the database is down: {got:?}"
        );
        // udhcpc REQUESTs only an offered address: none means no OFFER left
        assert!(
            !lab.log().contains("kind=Some(Request)"),
            "an OFFER left while the database was down:\n{}",
            lab.log()
        );
    }
    let log = lab.log();
    assert_eq!(
        log.matches("lease database down").count(),
        1,
        "not one warning:\n{log}"
    );
    pg.restart();
    assert_eq!(row(&pg), "", "a row written while down");
    lab.wait_log("lease database is back", std::time::Duration::from_secs(30));

    let ip = lab.udhcpc(&[]).get("ip").cloned().unwrap_or_default();
    assert!(
        ip.starts_with("10.231.0."),
        "no lease once it is back:\n{}",
        lab.log()
    );
    assert!(lab.log_contains("lease database is back"), "{}", lab.log());
    assert_eq!(row(&pg), format!("{ip} bound 10.231.0.0/24"));
}
