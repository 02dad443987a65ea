//! `netboot http`'s own flags through the binary: `--pidfile` (written
//! before privileges go, removed on SIGTERM) and `--address` on IPv6
//! loopback beside IPv4.

mod http_support;

use std::os::unix::fs::PermissionsExt;

use http_support::{curl, have, pattern, HttpServer};

#[test]
fn the_pidfile_holds_the_pid_and_goes_on_sigterm() {
    // as a user would run it unprivileged: no --user
    let run = tempfile::tempdir().unwrap();
    let pidfile = run.path().join("netboot-http.pid");
    let mut srv = HttpServer::start(&["--pidfile", pidfile.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{}\n", srv.pid())
    );
    let mode = std::fs::metadata(&pidfile).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644, "mode {mode:o}");
    let status = srv.terminate().expect("no exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}\n{}", srv.log());
    assert!(!pidfile.exists(), "PID file left behind:\n{}", srv.log());
}

#[test]
fn with_user_the_pidfile_is_handed_over_and_removed_on_exit() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "root is required in CI: --user switches from root to another user"
        );
        eprintln!("skipping: not root (--user switches from root to another user)");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    // like /run/netboot: a directory nobody owns, inside one nobody can enter
    let run = tempfile::tempdir().unwrap();
    std::fs::set_permissions(run.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let own = run.path().join("run");
    std::fs::create_dir(&own).unwrap();
    nix::unistd::chown(&own, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let pidfile = own.join("netboot-http.pid");
    let mut srv = HttpServer::start(&["--user", "nobody", "--pidfile", pidfile.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{}\n", srv.pid())
    );
    let status = srv.terminate().expect("no exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}\n{}", srv.log());
    assert!(!pidfile.exists(), "PID file left behind:\n{}", srv.log());
}

#[test]
fn an_unwritable_pidfile_is_refused_with_the_path_and_the_fix() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netboot"))
        .args(["http", "--address", "127.0.0.1:0", "--pidfile"])
        .arg("/nonexistent-dir/netboot-http.pid")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("cannot write the PID file /nonexistent-dir/netboot-http.pid")
            && err.contains("check the directory exists"),
        "{err}"
    );
}

#[test]
fn curl_fetches_over_ipv6_loopback_beside_ipv4() {
    if !have("curl") {
        return;
    }
    let srv = HttpServer::start(&["--address", "[::1]:0"]);
    // start() returns at the first listener's line; the second follows
    srv.wait_log("HTTP listening on http://[::1]:");
    let addrs = srv.listening();
    let v6 = addrs
        .iter()
        .find(|a| a.is_ipv6())
        .unwrap_or_else(|| panic!("no IPv6 listener: {addrs:?}\n{}", srv.log()));
    assert_eq!(v6.ip().to_string(), "::1");
    let data = pattern(1 << 20);
    std::fs::write(srv.root().join("ipxe.efi"), &data).unwrap();
    let (body, code) = curl(&["-g", &format!("http://{v6}/ipxe.efi")]);
    assert_eq!(code, 200);
    assert!(body == data, "IPv6 body differs");
    let (part, code) = curl(&["-g", "-r", "1000-1999", &format!("http://{v6}/ipxe.efi")]);
    assert_eq!(code, 206);
    assert!(part == data[1000..2000], "IPv6 range differs");
    assert!(srv.wait_log("peer=[::1]:"), "{}", srv.log());
    let (body, code) = curl(&[&srv.url("ipxe.efi")]);
    assert_eq!((code, body == data), (200, true));
}
