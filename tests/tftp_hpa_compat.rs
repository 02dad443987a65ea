//! tftpd-hpa drop-in details through the binary: `-r` with tftpd-hpa's own
//! option names, `-V`, several directories, full paths with and without
//! `-s`, map-file flags `4`/`6`/`~`, the escapes `\U` `\L` `\E` `\x`, an `a`
//! rule's message, and the map file read again on SIGHUP.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use support::clients::{busybox_get, tftp_hpa_get, Endpoint};
use support::raw::{ack, rrq, Packet, RawClient, ERR_ACCESS};
use support::{
    assert_same_bytes, pseudo_random, require_ipv6_loopback, require_tool, run_client, scratch,
    Server, CLIENT_TIMEOUT,
};

/// Writes a map file in its own directory (kept alive by the returned
/// guard) and returns its path as a flag value.
fn map_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = scratch();
    let path = dir.path().join("tftpd.map");
    std::fs::write(&path, text).unwrap();
    let arg = path.to_str().unwrap().to_string();
    (dir, arg)
}

/// One of a server's listening addresses, for a client to use.
struct At(SocketAddr);

impl Endpoint for At {
    fn endpoint(&self) -> SocketAddr {
        self.0
    }
}

/// Downloads `remote` with tftp-hpa and returns the bytes (panics on an
/// error reply, showing the client's output).
fn hpa_fetch(srv: &impl Endpoint, remote: &str) -> Vec<u8> {
    let local = scratch();
    let out = local.path().join("got");
    let run = tftp_hpa_get(srv, remote, &out, "binary");
    assert!(!run.output().contains("Error"), "{remote}: {run:?}");
    std::fs::read(&out).unwrap_or_else(|e| panic!("{remote}: {e}; {run:?}"))
}

/// tftp-hpa's output for a download that the server refuses.
fn hpa_refusal(srv: &impl Endpoint, remote: &str) -> String {
    let local = scratch();
    let run = tftp_hpa_get(srv, remote, &local.path().join("got"), "binary");
    run.output()
}

#[test]
fn refuse_takes_tftpd_hpa_option_names() {
    let body = pseudo_random(5000, 2);
    // granted when not refused: a power of two, and the µs timeout
    let srv = Server::start(&[]);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq(
        "f",
        "octet",
        &[("blksize2", "1500"), ("utimeout", "50000")],
    ));
    let oack = client.recv();
    assert_eq!(oack.option("blksize2"), Some("1024"), "{oack:?}");
    assert_eq!(oack.option("utimeout"), Some("50000"), "{oack:?}");
    client.send(&ack(0));
    assert_same_bytes(&client.read_rest(None, 1024, 1), &body, "blksize2");
    // refused: plain 512-byte lock-step, no OACK
    let srv = Server::start(&["-r", "blksize2", "--refuse", "utimeout"]);
    srv.put_file("f", &body, 0o644);
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq(
        "f",
        "octet",
        &[("blksize2", "1500"), ("utimeout", "50000")],
    ));
    let first = client.recv();
    assert!(
        matches!(&first, Packet::Data(1, d) if d.len() == 512),
        "{first:?}"
    );
    assert_same_bytes(&client.read_rest(Some(first), 512, 1), &body, "refused");
    // a name tftpd-hpa does not know either stops the server, naming it
    let err = Server::try_start(&["-r", "multicast"]).err().unwrap();
    assert!(
        err.contains("--refuse") && err.contains("multicast"),
        "{err}"
    );
}

#[test]
fn version_flag_prints_the_version_and_exits() {
    for flag in ["-V", "--version"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_netboot"));
        cmd.args(["tftp", flag, "/nonexistent"]);
        let run = run_client(&mut cmd, CLIENT_TIMEOUT);
        run.assert_success();
        let want = format!("netboot {}", env!("CARGO_PKG_VERSION"));
        assert!(run.stdout.starts_with(&want), "{run:?}");
        assert!(run.stdout.contains("with remap"), "{run:?}");
    }
}

#[test]
fn several_directories_are_searched_in_turn() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let first = scratch();
    let first_dir = first.path().to_str().unwrap().to_string();
    std::fs::write(first.path().join("both"), b"from the first").unwrap();
    // `netboot tftp FIRST ROOT`: the test root is the second directory
    let srv = Server::start(&[&first_dir]);
    let only_second = pseudo_random(3000, 22);
    srv.put_file("pxelinux.cfg/default", &only_second, 0o644);
    srv.put_file("both", b"from the second", 0o644);
    assert_eq!(hpa_fetch(&srv, "pxelinux.cfg/default"), only_second);
    assert_eq!(hpa_fetch(&srv, "both"), b"from the first");
    // a full path under the second directory, as tftpd-hpa without -s
    // wants it, names that directory's file
    let full = format!("{}/both", srv.root().display());
    assert_eq!(hpa_fetch(&srv, &full), b"from the second");
    assert!(hpa_refusal(&srv, "missing").contains("Error code 1"));
    // tftpd-hpa's -s serves exactly one directory
    let err = Server::try_start(&["-s", &first_dir]).err().unwrap();
    assert!(
        err.contains("--secure") && err.contains("exactly one directory"),
        "{err}"
    );
}

#[test]
fn full_paths_with_and_without_secure() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let body = pseudo_random(2000, 33);
    // -s is tftpd-hpa's chroot: `/x` is ROOT/x, and ROOT's own path means
    // ROOT/ROOT (not found), as it does inside the chroot
    let secure = Server::start(&["-s"]);
    secure.put_file("pxelinux.0", &body, 0o644);
    assert_eq!(hpa_fetch(&secure, "/pxelinux.0"), body);
    let full = format!("{}/pxelinux.0", secure.root().display());
    let out = hpa_refusal(&secure, &full);
    assert!(out.contains("Error code 1"), "{out}");
    let outside = format!("{}/elsewhere", secure.outside().display());
    std::fs::write(&outside, b"secret").unwrap();
    assert!(hpa_refusal(&secure, &outside).contains("Error code 1"));
    // without -s a full path under the directory is that file
    let open = Server::start(&[]);
    open.put_file("pxelinux.0", &body, 0o644);
    let full = format!("{}/pxelinux.0", open.root().display());
    assert_eq!(hpa_fetch(&open, &full), body);
    assert_eq!(hpa_fetch(&open, "/pxelinux.0"), body);
    let outside = format!("{}/elsewhere", open.outside().display());
    std::fs::write(&outside, b"secret").unwrap();
    assert!(hpa_refusal(&open, &outside).contains("Error code 1"));
}

#[test]
fn map_rules_for_one_family_and_the_client_in_hex() {
    if !require_tool("tftp", "tftp-hpa") || !require_ipv6_loopback() {
        return;
    }
    let (_keep, map) = map_file(
        "# family-specific rules, then a per-host file by hex address\n\
         r4 ^boot$ boot.v4\n\
         r6 ^boot$ boot.v6\n\
         r  ^host$ hosts/\\x\n",
    );
    let srv = Server::start(&[
        "-m",
        &map,
        "--address",
        "127.0.0.1:0",
        "--address",
        "[::1]:0",
    ]);
    srv.put_file("boot.v4", b"IPv4 boot", 0o644);
    srv.put_file("boot.v6", b"IPv6 boot", 0o644);
    srv.put_file("hosts/7F000001", b"host 127.0.0.1", 0o644);
    srv.put_file("hosts/00000000000000000000000000000001", b"host ::1", 0o644);
    let v4 = srv.addrs.iter().find(|a| a.is_ipv4()).copied().unwrap();
    let v6 = srv.addrs.iter().find(|a| a.is_ipv6()).copied().unwrap();
    let from = At;
    assert_eq!(hpa_fetch(&from(v4), "boot"), b"IPv4 boot");
    assert_eq!(hpa_fetch(&from(v6), "boot"), b"IPv6 boot");
    assert_eq!(hpa_fetch(&from(v4), "host"), b"host 127.0.0.1");
    assert_eq!(hpa_fetch(&from(v6), "host"), b"host ::1");
}

#[test]
fn an_ipv4_client_on_a_dual_stack_socket_gets_the_ipv4_rules() {
    let (_keep, map) = map_file("r4 ^boot$ boot.v4\nr6 ^boot$ boot.v6\n");
    let srv = Server::start(&["-m", &map, "--address", "[::]:0"]);
    srv.put_file("boot.v4", b"IPv4 boot", 0o644);
    srv.put_file("boot.v6", b"IPv6 boot", 0o644);
    let target = format!("127.0.0.1:{}", srv.port()).parse().unwrap();
    let mut client = RawClient::bound("127.0.0.1:0", target);
    client.request(&rrq("boot", "octet", &[]));
    assert_eq!(client.read_rest(None, 512, 1), b"IPv4 boot");
}

#[test]
fn map_case_escapes_inverse_rules_and_refusal_messages() {
    if !require_tool("tftp", "tftp-hpa") || !require_tool("busybox", "busybox") {
        return;
    }
    let (_keep, map) = map_file(
        "rg \\\\ /                                # Windows separators\n\
         r  ^/?boot/(.*)\\.(CFG)$ boot/\\L\\1\\E.\\2    # lower-case the stem\n\
         r  ^up/(.*)$ \\U\\1\n\
         aG ^secrets/.*$ No\\ secrets\\ here\\ for\\ \\i\n\
         a~ ^(boot|up|[A-Z]) Only\\ boot\\ files\n",
    );
    let srv = Server::start(&["-m", &map]);
    srv.put_file("boot/grub.CFG", b"grub config", 0o644);
    srv.put_file("LOUD.TXT", b"upper", 0o644);
    assert_eq!(hpa_fetch(&srv, "\\boot\\GRUB.CFG"), b"grub config");
    assert_eq!(hpa_fetch(&srv, "up/loud.txt"), b"upper");
    let out = hpa_refusal(&srv, "secrets/of-the-lab/keys.txt");
    assert!(
        out.contains("Error code 2: No secrets here for 127.0.0.1"),
        "{out}"
    );
    let local = scratch();
    let run = busybox_get(&srv, "elsewhere/file.bin", &local.path().join("x"), None);
    assert!(!run.status.success(), "{run:?}");
    assert!(run.output().contains("Only boot files"), "{run:?}");
    // the raw reply is ERROR 2 with the rule's message
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("elsewhere/a-long-enough-name.bin", "octet", &[]));
    assert_eq!(
        client.recv(),
        Packet::Error(ERR_ACCESS, "Only boot files".into())
    );
}

/// SIGHUP to the server this test started (by its PID).
fn send_hangup(pid: u32) {
    let run = run_client(
        Command::new("kill").args(["-HUP", &pid.to_string()]),
        CLIENT_TIMEOUT,
    );
    run.assert_success();
}

#[test]
fn sighup_reads_the_map_file_again() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let (keep, map) = map_file("r ^alias$ one\n");
    let srv = Server::start(&["--map-file", &map]);
    srv.put_file("one", b"first target", 0o644);
    srv.put_file("two", b"second target", 0o644);
    assert_eq!(hpa_fetch(&srv, "alias"), b"first target");
    let hangup = |count: usize| {
        send_hangup(srv.pid());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            let seen = srv.log_lines("re-read").len() + srv.log_lines("stay in force").len();
            if seen >= count {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no reload logged after SIGHUP {count}:\n{}", srv.log());
    };
    std::fs::write(keep.path().join("tftpd.map"), "r ^alias$ two\n").unwrap();
    hangup(1);
    assert_eq!(hpa_fetch(&srv, "alias"), b"second target");
    // a broken edit keeps the rules in force, says where, and the server runs on
    std::fs::write(keep.path().join("tftpd.map"), "r ^alias$ one\nrq bad\n").unwrap();
    hangup(2);
    assert!(srv.log().contains("line 2"), "{}", srv.log());
    assert_eq!(hpa_fetch(&srv, "alias"), b"second target");
    // without a map file SIGHUP is harmless too
    let plain = Server::start(&[]);
    plain.put_file("f", b"still here", 0o644);
    send_hangup(plain.pid());
    assert!(plain.wait_for_log("no map file to re-read", Duration::from_secs(5)));
    assert_eq!(hpa_fetch(&plain, "f"), b"still here");
}
