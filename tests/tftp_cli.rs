//! The command line as administrators use it: a tftpd-hpa flag line taken
//! verbatim, `--user`, IPv6 on `::1`, `--port-range`, bad flags.

mod support;

use std::process::Command;

use support::clients::{atftp_get, curl_get, tftp_hpa_get, tftp_hpa_put};
use support::raw::{ack, rrq, Packet, RawClient};
use support::{
    assert_file_is, assert_same_bytes, ipv6_loopback_available, pseudo_random, require_tool,
    run_client, scratch, Server, CLIENT_TIMEOUT,
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

#[test]
fn dropping_to_nobody_still_serves_world_readable_files() {
    if current_user() != "root" {
        support::skip("not root, cannot switch users");
        return;
    }
    let srv = Server::start(&["--user", "nobody", "--create"]);
    let body = pseudo_random(5000, 65534);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f", "octet", &[]));
    assert_same_bytes(&client.read_rest(None, 512, 1), &body, "as nobody");
    // nobody may not write into the root-owned 0755 directory.
    let mut client = RawClient::new(srv.addr);
    client.request(&support::raw::wrq("new", "octet", &[]));
    assert!(matches!(client.recv(), Packet::Error(2, _)));
    assert!(!srv.root().join("new").exists());
}

#[test]
fn ipv6_loopback_serves_curl_tftp_hpa_and_atftp() {
    if !ipv6_loopback_available() {
        support::skip("::1 is not configured on this machine");
        return;
    }
    let srv = Server::start(&["--address", "[::1]:0"]);
    assert!(srv.addr.is_ipv6());
    let body = pseudo_random(200_000, 6);
    srv.put_file("f6", &body, 0o644);
    let local = scratch();
    let out = local.path().join("f6");
    if require_tool("curl", "curl") {
        curl_get(&srv, "f6", &out, Some(1468)).assert_success();
        assert_file_is(&out, &body);
    }
    if require_tool("tftp", "tftp-hpa") {
        std::fs::remove_file(&out).ok();
        let run = tftp_hpa_get(&srv, "f6", &out, "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&out, &body);
    }
    if require_tool("atftp", "atftp") {
        std::fs::remove_file(&out).ok();
        atftp_get(&srv, "f6", &out, &["blksize 1024"], &[]).assert_success();
        assert_file_is(&out, &body);
    }
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f6", "octet", &[]));
    assert_same_bytes(&client.read_rest(None, 512, 1), &body, "raw over ::1");
}

#[test]
fn two_addresses_are_both_served() {
    if !ipv6_loopback_available() {
        support::skip("::1 is not configured on this machine");
        return;
    }
    let srv = Server::start(&["--address", "127.0.0.1:0", "--address", "[::1]:0"]);
    assert_eq!(srv.addrs.len(), 2, "{:?}", srv.addrs);
    srv.put_file("f", b"both", 0o644);
    for addr in srv.addrs.clone() {
        let mut client = RawClient::new(addr);
        client.request(&rrq("f", "octet", &[]));
        assert_eq!(client.read_rest(None, 512, 1), b"both");
    }
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
    ] {
        let err = match Server::try_start(args) {
            Ok(_) => panic!("started with {args:?}"),
            Err(log) => log,
        };
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
