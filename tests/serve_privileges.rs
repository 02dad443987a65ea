//! `netboot serve` started as root drops to an unprivileged user once its
//! sockets are open, on every thread (capabilities are per thread on
//! Linux), keeping CAP_NET_RAW, and CAP_NET_ADMIN only while it keeps an
//! address on a bare port. Checked in /proc/PID/task/*/status, then a udhcpc
//! lease, a TFTP fetch and a lease on disk show it still serves; its PID
//! file goes on SIGTERM. Also `--user root`, and the start-up refusals that
//! name the fix. All inside network namespaces this test creates
//! (tests/netns).

mod netns;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use netns::bare::quick_dir;
use netns::{assert_lease_listed, Lab, ServeDirs, CLIENT_MAC, SERVER_IF, SERVER_IP};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");
const CAP_NET_ADMIN: u64 = 1 << 12;
const CAP_NET_RAW: u64 = 1 << 13;

/// One thread's identity, from /proc/PID/task/TID/status.
#[derive(Debug)]
struct Task {
    tid: String,
    name: String,
    uids: Vec<u32>,
    gids: Vec<u32>,
    groups: String,
    /// CapInh, CapPrm, CapEff, CapBnd, CapAmb.
    caps: [u64; 5],
}

fn tasks(pid: u32) -> Vec<Task> {
    let dir = format!("/proc/{pid}/task");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| {
            let tid = e.ok()?.file_name().to_string_lossy().into_owned();
            // a thread that ended meanwhile is simply not there any more
            let status = std::fs::read_to_string(format!("{dir}/{tid}/status")).ok()?;
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} for task {tid}"))
                    .trim()
                    .to_string()
            };
            let ids = |name: &str| -> Vec<u32> {
                field(name)
                    .split_whitespace()
                    .map(|n| n.parse().unwrap())
                    .collect()
            };
            let cap = |name: &str| u64::from_str_radix(&field(name), 16).unwrap();
            Some(Task {
                name: field("Name:"),
                uids: ids("Uid:"),
                gids: ids("Gid:"),
                groups: field("Groups:"),
                caps: ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"].map(cap),
                tid,
            })
        })
        .collect()
}

/// Every thread of `pid` runs as `uid`/`gid` (real, effective, saved and
/// file-system ids), in no other group, with exactly `caps` permitted,
/// effective and bounding and none inheritable or ambient.
fn assert_every_task(pid: u32, uid: u32, gid: u32, caps: u64, log: &str) {
    assert_every_task_bounded(pid, uid, gid, caps, caps, log);
}

/// [`assert_every_task`] with the bounding set `bounding`.
fn assert_every_task_bounded(pid: u32, uid: u32, gid: u32, caps: u64, bounding: u64, log: &str) {
    let all = tasks(pid);
    assert!(all.len() > 1, "only {} task(s): {all:?}", all.len());
    for t in &all {
        let what = format!("task {} ({}): {t:?}\n{log}", t.tid, t.name);
        assert!(t.uids.iter().all(|u| *u == uid), "uids of {what}");
        assert!(t.gids.iter().all(|g| *g == gid), "gids of {what}");
        assert!(
            t.groups.is_empty() || t.groups == gid.to_string(),
            "groups of {what}"
        );
        assert_eq!(
            t.caps,
            [0, caps, caps, bounding, 0],
            "capabilities of {what}"
        );
    }
}

fn nobody() -> (u32, u32) {
    let u = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    (u.uid.as_raw(), u.gid.as_raw())
}

/// The user a root `serve` drops to by default.
fn default_user() -> (u32, u32) {
    match nix::unistd::User::from_name("netboot").unwrap() {
        Some(u) => (u.uid.as_raw(), u.gid.as_raw()),
        None => nobody(),
    }
}

fn owner(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .uid()
}

#[test]
fn serve_drops_to_nobody_on_every_thread_and_still_serves() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let (uid, gid) = nobody();
    let mut lab = Lab::new();
    // like /run/netboot: a directory the user owns holds the PID file
    let run = lab.path("run");
    std::fs::create_dir(&run).unwrap();
    nix::unistd::chown(&run, Some(uid.into()), Some(gid.into())).unwrap();
    let pidfile = run.join("netboot.pid");
    let state = lab.path("state");
    let ServeDirs { root, .. } = lab.start_serve_on(
        &[],
        &[
            "--user",
            "nobody",
            "--pidfile",
            pidfile.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    let pid = lab.server_pid();
    assert!(
        lab.log_contains("runs as user nobody, keeping CAP_NET_RAW"),
        "{}",
        lab.log()
    );
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{pid}\n")
    );
    assert_every_task(pid, uid, gid, CAP_NET_RAW, &lab.log());

    // DHCP (with the ARP probe before the offer) and TFTP as nobody
    let lease = lab.udhcpc(&[]);
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.231.0."), "{lease:?}\n{}", lab.log());
    assert_eq!(lease.get("siaddr").map(String::as_str), Some(SERVER_IP));
    lab.client_addr(&format!("{ip}/24"));
    let got = lab.tftp_get_in(&lab.cli, SERVER_IP, "pxelinux.0");
    assert_eq!(
        got,
        std::fs::read(root.join("pxelinux.0")).ok(),
        "{}",
        lab.log()
    );
    // the lease reached the disk, in files nobody owns
    assert_lease_listed(&state, &[CLIENT_MAC, &ip]);
    for name in ["leases.journal", "leases.lock", "leases.snapshot"] {
        assert_eq!(owner(&state.join(name)), uid, "owner of {name}");
    }
    assert_eq!(owner(&state), uid, "owner of the state directory");
    // threads started while serving inherited the same
    assert_every_task(pid, uid, gid, CAP_NET_RAW, &lab.log());

    let status = lab.stop_server_with("TERM");
    assert!(status.success(), "{status}\n{}", lab.log());
    assert!(!pidfile.exists(), "PID file left behind");
}

#[test]
fn a_bare_port_keeps_net_admin_to_restore_and_remove_its_address() {
    if !netns::ready(&["udhcpc", "busybox"]) {
        return;
    }
    let (uid, gid) = default_user();
    let mut lab = Lab::bare();
    let cwd = quick_dir(&lab);
    lab.start_serve(&[], Some(&cwd));
    let pid = lab.server_pid();
    assert!(
        lab.log_contains("keeping CAP_NET_ADMIN and CAP_NET_RAW"),
        "{}",
        lab.log()
    );
    assert_every_task(pid, uid, gid, CAP_NET_RAW | CAP_NET_ADMIN, &lab.log());
    let addr = "10.42.0.1/24";
    assert!(lab.server_addrs().contains(addr), "{}", lab.server_addrs());

    // taken away while serving: put back without root
    netns::ip(&["-n", &lab.srv, "addr", "del", addr, "dev", SERVER_IF]);
    let start = Instant::now();
    while !lab.server_addrs().contains(addr) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        lab.server_addrs().contains(addr),
        "not put back:\n{}",
        lab.log()
    );
    let lease = lab.udhcpc(&[]);
    assert!(lease.contains_key("ip"), "{lease:?}\n{}", lab.log());

    // and removed on SIGTERM without root
    let status = lab.stop_server_with("TERM");
    assert!(status.success(), "{status}\n{}", lab.log());
    let left = lab.server_addrs();
    assert!(!left.contains(addr), "address left behind: {left}");
}

#[test]
fn started_like_the_systemd_unit_it_lets_go_of_what_it_no_longer_needs() {
    if !netns::ready(&["udhcpc", "busybox", "setpriv"]) {
        return;
    }
    let (uid, gid) = nobody();
    let mut lab = Lab::new();
    // what systemd sets up: StateDirectory= owned by the user, then the
    // user with the unit's ambient capabilities and bounding set
    let state = lab.path("state");
    std::fs::create_dir(&state).unwrap();
    nix::unistd::chown(&state, Some(uid.into()), Some(gid.into())).unwrap();
    let root = lab.path("root");
    netns::boot_root(&root);
    let caps = "+net_bind_service,+net_raw,+net_admin";
    let (reuid, regid) = (format!("--reuid={uid}"), format!("--regid={gid}"));
    let (inh, amb) = (
        format!("--inh-caps={caps}"),
        format!("--ambient-caps={caps}"),
    );
    let bounding = format!("--bounding-set=-all,{caps}");
    let wrapper = [
        "setpriv",
        &reuid,
        &regid,
        "--clear-groups",
        &inh,
        &amb,
        &bounding,
        "--",
    ];
    let profiles = lab.path("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    lab.start_serve_wrapped(
        &wrapper,
        &[
            "--root",
            root.to_str().unwrap(),
            "--profiles",
            profiles.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    let pid = lab.server_pid();
    // CAP_NET_BIND_SERVICE went once the ports were bound, CAP_NET_ADMIN
    // (no bare port) right away; the bounding set is systemd's
    let unit_bounding = (1 << 10) | CAP_NET_ADMIN | CAP_NET_RAW;
    assert_every_task_bounded(pid, uid, gid, CAP_NET_RAW, unit_bounding, &lab.log());
    let lease = lab.udhcpc(&[]);
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.231.0."), "{lease:?}\n{}", lab.log());
    lab.client_addr(&format!("{ip}/24"));
    let got = lab.tftp_get_in(&lab.cli, SERVER_IP, "pxelinux.0");
    assert_eq!(
        got,
        std::fs::read(root.join("pxelinux.0")).ok(),
        "{}",
        lab.log()
    );
    assert_lease_listed(&state, &[CLIENT_MAC, &ip]);
    let status = lab.stop_server_with("TERM");
    assert!(status.success(), "{status}\n{}", lab.log());
}

#[test]
fn user_root_keeps_root_with_a_warning() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_serve_on(&[], &["--user", "root"]);
    assert!(
        lab.log_contains("serving as root (--user root)"),
        "{}",
        lab.log()
    );
    let main = tasks(lab.server_pid());
    let first = main.first().expect("a task");
    assert_eq!(first.uids, vec![0, 0, 0, 0], "{first:?}");
    assert_ne!(
        first.caps[2] & (1 << 21),
        0,
        "CAP_SYS_ADMIN kept: {first:?}"
    );
}

/// Runs `serve` in the lab's server namespace to its end (no profiles;
/// leases in the lab unless `args` say otherwise); its output.
fn serve_fails(lab: &Lab, args: &[&str]) -> String {
    let profiles = lab.path("no-profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let state = lab.path("state");
    let mut all = vec!["20", BIN, "serve", "--interface", SERVER_IF, "--no-ping"];
    all.extend_from_slice(&["--profiles", profiles.to_str().unwrap()]);
    if !args.contains(&"--state-dir") {
        all.extend_from_slice(&["--state-dir", state.to_str().unwrap()]);
    }
    all.extend_from_slice(args);
    let (ok, text) = lab.server_run("timeout", &all);
    assert!(!ok, "serve {args:?} started:\n{text}");
    text
}

#[test]
fn refusals_name_the_user_and_the_fix() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::new();
    let root = lab.path("root");
    netns::boot_root(&root);
    let root = root.to_str().unwrap();

    let text = serve_fails(&lab, &["--root", root, "--user", "nosuchuser"]);
    assert!(text.contains("no user named \"nosuchuser\""), "{text}");

    // a state directory holding someone else's files is not given away
    let shared = lab.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("notes.txt"), "mine\n").unwrap();
    let text = serve_fails(
        &lab,
        &[
            "--root",
            root,
            "--user",
            "nobody",
            "--state-dir",
            shared.to_str().unwrap(),
        ],
    );
    assert!(
        text.contains("holds files other than netboot's leases")
            && text.contains(&format!("sudo chown nobody {}", shared.display())),
        "{text}"
    );
    assert_eq!(owner(&shared), 0, "the directory was given away");

    // a root only root can read
    let private = lab.path("private");
    netns::boot_root(&private);
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let text = serve_fails(
        &lab,
        &["--root", private.to_str().unwrap(), "--user", "nobody"],
    );
    assert!(
        text.contains(&format!(
            "user nobody (which netboot runs as) cannot read the TFTP root {}",
            private.display()
        )) && text.contains("sudo chmod a+rX"),
        "{text}"
    );
}
