//! The command line as administrators use it: a tftpd-hpa flag line taken
//! verbatim, `--user` (really dropping root), `--port-range`, bad flags.
//! IPv6 and the address families are in `tftp_ipv6.rs`.

mod support;

use std::process::Command;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use support::clients::{tftp_hpa_get, tftp_hpa_put};
use support::raw::{ack, rrq, wrq, Packet, RawClient, ERR_ACCESS};
use support::{
    assert_file_is, assert_same_bytes, pseudo_random, require_root, require_tool, run_client,
    scratch, Server, CLIENT_TIMEOUT,
};

fn current_user() -> String {
    let run = run_client(Command::new("id").arg("-un"), CLIENT_TIMEOUT);
    run.assert_success();
    run.stdout.trim().to_string()
}

#[test]
fn the_tftpd_hpa_flag_line_works_verbatim() {
    let user = current_user();
    let srv = Server::start(&[
        "--secure",
        "--create",
        "--blocksize",
        "1468",
        "--max-blocksize",
        "65535",
        "--verbose",
        "--address",
        "127.0.0.1:0",
        "--user",
        &user,
    ]);
    let body = pseudo_random(300_000, 1468);
    srv.put_file("pxelinux.0", &body, 0o644);
    // A client asking for the largest block gets at most --blocksize.
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("pxelinux.0", "octet", &[("blksize", "65464")]));
    let oack = client.recv();
    assert_eq!(oack.option("blksize"), Some("1468"), "{oack:?}");
    client.send(&ack(0));
    assert_same_bytes(&client.read_rest(None, 1468, 1), &body, "raw");
    if require_tool("tftp", "tftp-hpa") {
        let local = scratch();
        let out = local.path().join("pxelinux.0");
        let run = tftp_hpa_get(&srv, "pxelinux.0", &out, "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&out, &body);
        // --create: uploads make new files.
        let run = tftp_hpa_put(&srv, &out, "uploaded", "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&srv.root().join("uploaded"), &body);
    }
    // --verbose logs at debug level.
    assert!(
        srv.wait_for_log("DEBUG", std::time::Duration::from_secs(5)),
        "{}",
        srv.log()
    );
}

#[test]
fn an_unknown_user_is_a_clear_startup_error() {
    let err = match Server::try_start(&["--user", "nosuchuser"]) {
        Ok(_) => panic!("the server started with --user nosuchuser"),
        Err(log) => log,
    };
    assert!(err.contains("nosuchuser"), "{err}");
    assert!(err.contains("no user named"), "{err}");
}

/// The server's real, effective, saved and file-system user and group
/// IDs, from /proc.
fn ids_of(pid: u32) -> (Vec<u32>, Vec<u32>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> Vec<u32> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"));
        line[name.len()..]
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    };
    (field("Uid:"), field("Gid:"))
}

#[test]
fn user_drops_root_for_good_before_serving() {
    if !require_root("--user switches from root to another user") {
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
    // --permissive: only the process's own permissions decide.
    let srv = Server::start(&["--user", "nobody", "--create", "--permissive"]);
    let (uids, gids) = ids_of(srv.pid());
    assert!(uids.iter().all(|u| *u == uid), "uids {uids:?}");
    assert!(gids.iter().all(|g| *g == gid), "gids {gids:?}");

    let body = pseudo_random(5000, 65534);
    srv.put_file("public", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("public", "octet", &[]));
    assert_same_bytes(&client.read_rest(None, 512, 1), &body, "as nobody");

    // Readable by root alone: nobody cannot open it.
    srv.put_file("root-only", b"secret", 0o600);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("root-only", "octet", &[]));
    assert!(
        matches!(client.recv(), Packet::Error(ERR_ACCESS, _)),
        "root's file served"
    );

    // An upload lands owned by nobody; the root-owned 0755 root refuses it.
    let drop = srv.root().join("drop");
    std::fs::create_dir(&drop).unwrap();
    nix::unistd::chown(&drop, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let upload = pseudo_random(3000, 1);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("drop/new", "octet", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    client.write_all(&upload, 512);
    let landed = drop.join("new");
    assert_file_is(&landed, &upload);
    let meta = std::fs::metadata(&landed).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid), "owner of the upload");
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("new", "octet", &[]));
    assert!(matches!(client.recv(), Packet::Error(ERR_ACCESS, _)));
    assert!(!srv.root().join("new").exists());
}

/// Every task's `Uid:` and `CapEff:` lines of `pid`.
fn task_ids_and_caps(pid: u32) -> Vec<(String, String)> {
    let dir = format!("/proc/{pid}/task");
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("status")).ok())
        .map(|status| {
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            (field("Uid:"), field("CapEff:"))
        })
        .collect()
}

#[test]
fn user_holds_on_every_thread_and_the_pidfile_goes_on_sigterm() {
    if !require_root("--user switches from root to another user") {
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    // like /run/netboot: a directory nobody owns, inside one nobody can enter
    let run = scratch();
    std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let own = run.path().join("run");
    std::fs::create_dir(&own).unwrap();
    nix::unistd::chown(&own, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let pidfile = own.join("netboot-tftp.pid");
    let mut srv = Server::start(&["--user", "nobody", "--pidfile", pidfile.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{}\n", srv.pid())
    );
    let uid = nobody.uid.as_raw();
    let tasks = task_ids_and_caps(srv.pid());
    assert!(tasks.len() > 1, "{tasks:?}");
    for (uids, caps) in &tasks {
        assert_eq!(*uids, format!("{uid} {uid} {uid} {uid}"), "{tasks:?}");
        assert_eq!(caps, "0000000000000000", "{tasks:?}");
    }
    let body = pseudo_random(3000, 7);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f", "octet", &[]));
    assert_same_bytes(&client.read_rest(None, 512, 1), &body, "as nobody");

    let status = srv.terminate().expect("no exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}\n{}", srv.log());
    assert!(!pidfile.exists(), "PID file left behind:\n{}", srv.log());
}

#[test]
fn started_like_its_systemd_unit_it_binds_port_69_then_keeps_no_capability() {
    if !require_root("a namespace of its own for port 69") || !require_tool("setpriv", "util-linux")
    {
        return;
    }
    // what netboot-tftp.service does: user netboot (nobody here) with the
    // ambient CAP_NET_BIND_SERVICE, in a network namespace of its own
    let wrapper = [
        "unshare",
        "--net",
        "sh",
        "-c",
        "ip link set lo up && exec \"$@\"",
        "sh",
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=+net_bind_service",
        "--ambient-caps=+net_bind_service",
        "--bounding-set=-all,+net_bind_service",
        "--",
    ];
    let srv = Server::start_wrapped(&wrapper, &["--address", "127.0.0.1:69"]);
    assert_eq!(srv.port(), 69);
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let uid = nobody.uid.as_raw();
    let tasks = task_ids_and_caps(srv.pid());
    assert!(tasks.len() > 1, "{tasks:?}");
    for (uids, caps) in &tasks {
        assert_eq!(*uids, format!("{uid} {uid} {uid} {uid}"), "{tasks:?}");
        assert_eq!(caps, "0000000000000000", "{tasks:?}");
    }
}

#[test]
fn a_pidfile_the_user_cannot_remove_is_announced_and_emptied() {
    if !require_root("--user switches from root to another user") {
        return;
    }
    // like /run: root's, so nobody may not remove what is in it
    let run = scratch();
    std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let pidfile = run.path().join("netboot-tftp.pid");
    let mut srv = Server::start(&["--user", "nobody", "--pidfile", pidfile.to_str().unwrap()]);
    assert!(
        srv.wait_for_log(
            "may not remove the PID file",
            std::time::Duration::from_secs(5)
        ),
        "{}",
        srv.log()
    );
    assert!(srv.log().contains("/run/netboot"), "{}", srv.log());
    let status = srv.terminate().expect("no exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}\n{}", srv.log());
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        "",
        "not emptied"
    );
}

#[test]
fn transfers_use_ports_from_the_port_range() {
    // A range of its own per test run, unlikely to be busy.
    let low = 40_000 + (std::process::id() % 2000) as u16 * 10;
    let range = format!("{low}:{}", low + 9);
    let srv = Server::start(&["--port-range", &range]);
    srv.put_file("f", &pseudo_random(1500, 1), 0o644);
    for _ in 0..3 {
        let mut client = RawClient::new(srv.addr);
        client.request(&rrq("f", "octet", &[]));
        client.read_rest(None, 512, 1);
        let port = client.peer.unwrap().port();
        assert!(
            (low..=low + 9).contains(&port),
            "port {port} not in {range}"
        );
    }
}

#[test]
fn bad_flags_are_refused_with_the_flag_named() {
    for (args, needle) in [
        (&["--blocksize", "100"][..], "--blocksize"),
        (&["--umask", "999"][..], "--umask"),
        (&["--refuse", "multicast"][..], "--refuse"),
        (&["--port-range", "9:1"][..], "--port-range"),
        (&["--busy-poll", "20000"][..], "--busy-poll"),
    ] {
        let err = match Server::try_start(args) {
            Ok(_) => panic!("started with {args:?}"),
            Err(log) => log,
        };
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn a_port_another_server_holds_is_a_clear_startup_error() {
    let first = Server::start(&[]);
    let addr = first.addr.to_string();
    let err = match Server::try_start(&["--address", &addr]) {
        Ok(_) => panic!("a second server started on {addr}, sharing the first one's port"),
        Err(log) => log,
    };
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("another TFTP server"),
        "{err}"
    );
    // the first one still serves
    first.put_file("f", b"still here", 0o644);
    let mut client = RawClient::new(first.addr);
    client.request(&rrq("f", "octet", &[]));
    assert_eq!(client.read_rest(None, 512, 1), b"still here");
}
