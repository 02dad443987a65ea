//! The same map file and files served by tftpd-hpa (`in.tftpd`, the
//! reference) and by `netboot tftp -s`, each on 127.0.0.1 and ::1, and the
//! same names asked of both with tftp-hpa: every name must end the same way
//! (the same file's bytes, or the same TFTP error code). Covers `g`, `\U`
//! `\L` `\E`, `\x` and `\i` for both families, `4`/`6`, `~`, `e`, `a`, and
//! escaped spaces and `#` in fields. Then, without `-s`, full paths under
//! two directories.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::clients::{tftp_hpa_get, Endpoint};
use support::{require_ipv6_loopback, require_root, require_tool, scratch, Server};

const MAP: &str = "\
r  ^(.*)/(.*)$   \\U\\1\\E/\\L\\2-X   # case escapes
rg //            /
rg /\\./          /
r  ^host$        hosts/\\x/\\i
r4 ^boot$        boot.v4
r6 ^boot$        boot.v6
re ^stop$        stopped
r  ^stopped$     not-reached
r  a\\ b          c\\#d
a  ^secret.*$    No\\ secrets
a~ ^(BOOT|A|hosts|boot|xc|stop|plain|one)  Only\\ known\\ names
";

const FILES: &[&str] = &[
    "BOOT/grub.cfg-x",
    "A/b-x",
    "hosts/7F000001/127.0.0.1",
    "hosts/00000000000000000000000000000001/::1",
    "boot.v4",
    "boot.v6",
    "stopped",
    "not-reached",
    "xc#dy",
    "plain",
];

const NAMES: &[&str] = &[
    "boot/GRUB.CFG",
    "a////b",
    "a/./././b",
    "host",
    "boot",
    "stop",
    "xa by",
    "plain",
    "one-missing",
    "secret-name",
    "elsewhere",
];

/// A tftpd-hpa this test started, killed (by its own handle) on drop.
struct Reference {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Endpoint for Reference {
    fn endpoint(&self) -> SocketAddr {
        self.addr
    }
}

/// Starts `in.tftpd -L -s` on a free port of `ip`, serving `root` with
/// the map file `map`, as the current user.
fn start_reference(ip: &str, root: &Path, map: &Path) -> Reference {
    let map = map.to_str().unwrap();
    spawn_reference(ip, &["-s", "-m", map, root.to_str().unwrap()])
}

/// Starts `in.tftpd -L ARGS` on a free port of `ip`, as the current user.
fn spawn_reference(ip: &str, args: &[&str]) -> Reference {
    let probe = UdpSocket::bind(format!("{ip}:0")).expect("a free port");
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .expect("a user name")
        .name;
    let child = Command::new("in.tftpd")
        .args(["-L", "-u", &user, "-a", &addr.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn in.tftpd");
    let mut reference = Reference { child, addr };
    // listening once the port is taken
    let deadline = Instant::now() + Duration::from_secs(5);
    while UdpSocket::bind(addr).is_ok() {
        if let Ok(Some(status)) = reference.child.try_wait() {
            panic!("in.tftpd on {addr} exited with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "in.tftpd did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    reference
}

/// How a download ended: the bytes, or the TFTP error code.
fn outcome(srv: &impl Endpoint, name: &str) -> Result<Vec<u8>, String> {
    let local = scratch();
    let out = local.path().join("got");
    let run = tftp_hpa_get(srv, name, &out, "binary");
    let text = run.output();
    match text.find("Error code") {
        Some(at) => Err(text[at..].chars().take(12).collect()),
        None => std::fs::read(&out).map_err(|e| format!("{e}: {text}")),
    }
}

struct At(SocketAddr);

impl Endpoint for At {
    fn endpoint(&self) -> SocketAddr {
        self.0
    }
}

#[test]
fn map_files_rewrite_names_as_tftpd_hpa_does() {
    if !require_root("in.tftpd -s chroots into the directory")
        || !require_tool("in.tftpd", "tftpd-hpa")
        || !require_tool("tftp", "tftp-hpa")
        || !require_ipv6_loopback()
    {
        return;
    }
    let dir = scratch();
    let map = dir.path().join("tftpd.map");
    std::fs::write(&map, MAP).unwrap();
    let srv = Server::start(&[
        "-s",
        "-m",
        map.to_str().unwrap(),
        "--address",
        "127.0.0.1:0",
        "--address",
        "[::1]:0",
    ]);
    for file in FILES {
        srv.put_file(file, file.as_bytes(), 0o644);
    }
    let reference = [
        start_reference("127.0.0.1", srv.root(), &map),
        start_reference("[::1]", srv.root(), &map),
    ];
    let mut compared = 0;
    for theirs in &reference {
        let ours = At(*srv
            .addrs
            .iter()
            .find(|a| a.is_ipv4() == theirs.addr.is_ipv4())
            .unwrap());
        for name in NAMES {
            let want = outcome(theirs, name);
            let got = outcome(&ours, name);
            assert_eq!(got, want, "{name:?} from {}", theirs.addr);
            compared += usize::from(want.is_ok());
        }
    }
    assert!(
        compared >= 14,
        "only {compared} names were served by tftpd-hpa"
    );
}

#[test]
fn full_paths_under_several_directories_as_tftpd_hpa_serves_them() {
    if !require_tool("in.tftpd", "tftpd-hpa") || !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let first = scratch();
    let first_dir = first.path().to_str().unwrap().to_string();
    std::fs::write(first.path().join("a"), b"first a").unwrap();
    let srv = Server::start(&[&first_dir]);
    srv.put_file("sub/b", b"second b", 0o644);
    for dir in [first.path(), srv.root()] {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        first.path().join("a"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let second_dir = srv.root().to_str().unwrap().to_string();
    let theirs = spawn_reference("127.0.0.1", &[&first_dir, &second_dir]);
    let names = [
        format!("{first_dir}/a"),
        format!("{second_dir}/sub/b"),
        format!("{second_dir}/missing"),
        format!(
            "{second_dir}/../{}",
            first.path().file_name().unwrap().to_str().unwrap()
        ),
        format!("{second_dir}/sub/../sub/b"),
    ];
    let mut served = 0;
    for name in &names {
        let want = outcome(&theirs, name);
        assert_eq!(outcome(&srv, name), want, "{name:?}");
        served += usize::from(want.is_ok());
    }
    assert_eq!(served, 2, "tftpd-hpa served the two full paths");
}
