//! Uploads with real clients: bytes on disk, `--create`, `--umask`, the
//! world-writable rule for replacing files, `--max-upload`, and that an
//! aborted upload leaves neither the file nor its temporary file behind.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::clients::{atftp_put, busybox_put, curl_put, tftp_hpa_get, tftp_hpa_put};
use support::raw::{wrq, Packet, RawClient};
use support::{
    assert_file_is, mode_of, pseudo_random, require_tool, scratch, wait_bounded, Server,
};

/// Local files of the sizes every client uploads; (name, content).
fn local_sizes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    [0usize, 512, 1 << 20]
        .iter()
        .map(|&n| {
            let name = format!("up{n}");
            let body = pseudo_random(n, 1000 + n as u64);
            std::fs::write(dir.join(&name), &body).unwrap();
            (name, body)
        })
        .collect()
}

/// Asserts no `.netboot-upload-*` file is left in the root.
#[track_caller]
fn assert_no_temp_files(srv: &Server) {
    let left: Vec<String> = srv
        .root_entries()
        .into_iter()
        .filter(|n| n.starts_with(".netboot-upload-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn every_client_uploads_every_size_with_create() {
    let srv = Server::start(&["--create"]);
    let local = scratch();
    let files = local_sizes(local.path());
    type Put = fn(&Server, &std::path::Path, &str) -> support::ClientRun;
    let clients: [(&str, &str, Put); 4] = [
        ("tftp", "tftp-hpa", |s, l, r| {
            tftp_hpa_put(s, l, r, "binary")
        }),
        ("atftp", "atftp", |s, l, r| {
            atftp_put(s, l, r, &["blksize 1024", "tsize 0"])
        }),
        ("curl", "curl", |s, l, r| curl_put(s, l, r, Some(1468))),
        ("busybox", "busybox", |s, l, r| {
            busybox_put(s, l, r, Some(1024))
        }),
    ];
    for (tool, package, put) in clients {
        if !require_tool(tool, package) {
            continue;
        }
        for (name, body) in &files {
            let remote = format!("{tool}-{name}");
            let run = put(&srv, &local.path().join(name), &remote);
            assert!(
                run.status.success() && !run.output().contains("Error"),
                "{tool} {name}: {run:?}"
            );
            assert_file_is(&srv.root().join(&remote), body);
        }
    }
    assert_no_temp_files(&srv);
}

#[test]
fn upload_without_create_is_refused_and_creates_nothing() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&[]);
    let local = scratch();
    let path = local.path().join("new");
    std::fs::write(&path, pseudo_random(2000, 5)).unwrap();
    let run = tftp_hpa_put(&srv, &path, "new", "binary");
    // tftpd-hpa answers a missing file without -c with ERROR 1 too; the
    // text fits the 12-byte request in whole words.
    assert!(run.output().contains("Error code 1: No file\n"), "{run:?}");
    assert!(srv.root_entries().is_empty(), "{:?}", srv.root_entries());
}

#[test]
fn uploaded_files_get_their_mode_from_the_umask() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let local = scratch();
    let path = local.path().join("f");
    let body = pseudo_random(1500, 9);
    std::fs::write(&path, &body).unwrap();
    // Without --umask uploads are rw-rw-rw- as with tftpd-hpa.
    for (umask, want) in [(None, 0o666), (Some("027"), 0o640), (Some("022"), 0o644)] {
        let mut args = vec!["--create"];
        if let Some(u) = umask {
            args.extend(["--umask", u]);
        }
        let srv = Server::start(&args);
        let run = tftp_hpa_put(&srv, &path, "f", "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        let on_disk = srv.root().join("f");
        assert_file_is(&on_disk, &body);
        assert_eq!(mode_of(&on_disk), want, "umask {umask:?}");
    }
}

#[test]
fn replacing_a_file_needs_it_world_writable_unless_permissive() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let local = scratch();
    let path = local.path().join("new");
    let new = pseudo_random(3000, 11);
    std::fs::write(&path, &new).unwrap();
    let old = b"old contents".to_vec();

    let srv = Server::start(&["--create"]);
    let target = srv.put_file("existing", &old, 0o644);
    let run = tftp_hpa_put(&srv, &path, "existing", "binary");
    let out = run.output();
    // An access violation, as tftpd-hpa's "File must have global write
    // permissions" (cut to whole words to fit the request).
    assert!(out.contains("Error code 2: "), "{run:?}");
    assert!(!out.contains("Error code 6"), "{run:?}");
    assert_file_is(&target, &old);
    assert_no_temp_files(&srv);

    let target = srv.put_file("shared", &old, 0o666);
    let run = tftp_hpa_put(&srv, &path, "shared", "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&target, &new);

    let srv = Server::start(&["--permissive"]);
    let target = srv.put_file("existing", &old, 0o644);
    let run = tftp_hpa_put(&srv, &path, "existing", "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_file_is(&target, &new);
}

/// The nightly router backup: the same name uploaded again replaces the
/// first copy under `--secure --create` with no other flag, as with
/// tftpd-hpa.
#[test]
fn the_same_name_uploaded_twice_replaces_the_first() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--secure", "--create"]);
    let local = scratch();
    let path = local.path().join("r1-confg");
    for night in 1..=2u64 {
        let body = format!("hostname r1\n! night {night}\n").into_bytes();
        std::fs::write(&path, &body).unwrap();
        let run = tftp_hpa_put(&srv, &path, "r1-confg", "binary");
        assert!(!run.output().contains("Error"), "night {night}: {run:?}");
        assert_file_is(&srv.root().join("r1-confg"), &body);
        assert_eq!(mode_of(&srv.root().join("r1-confg")), 0o666);
    }
    assert_no_temp_files(&srv);
}

#[test]
fn an_upload_over_max_upload_is_refused_and_leaves_nothing() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create", "--max-upload", "10000"]);
    let local = scratch();
    let small = local.path().join("small");
    let big = local.path().join("big");
    std::fs::write(&small, pseudo_random(10_000, 1)).unwrap();
    std::fs::write(&big, pseudo_random(10_001, 2)).unwrap();
    let run = tftp_hpa_put(&srv, &big, "big", "binary");
    assert!(run.output().contains("Error code 3"), "{run:?}");
    let run = tftp_hpa_put(&srv, &small, "small", "binary");
    assert!(!run.output().contains("Error"), "{run:?}");
    assert_eq!(srv.root_entries(), vec!["small".to_string()]);
}

/// Waits (bounded) until `cond` holds.
fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

#[test]
fn a_client_killed_mid_upload_leaves_no_file_and_no_temp_file() {
    if !require_tool("curl", "curl") {
        return;
    }
    let srv = Server::start(&["--create", "--timeout", "2"]);
    // curl uploads from its stdin: feed it some blocks, keep the pipe open
    // so the transfer stalls mid-way, then kill it.
    let mut curl = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-T", "-"])
        .arg(format!("tftp://{}/aborted", srv.addr))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = curl.stdin.take().unwrap();
    stdin.write_all(&pseudo_random(8192, 3)).unwrap();
    stdin.flush().unwrap();
    let started = wait_until(Duration::from_secs(10), || {
        srv.root_entries()
            .iter()
            .any(|n| n.starts_with(".netboot-upload-"))
    });
    curl.kill().unwrap();
    wait_bounded(&mut curl, Duration::from_secs(5));
    drop(stdin);
    assert!(started, "upload never began: {}", srv.log());
    // The server gives up after --timeout 2 (plus retransmissions).
    let cleaned = wait_until(Duration::from_secs(10), || srv.root_entries().is_empty());
    assert!(
        cleaned,
        "left behind: {:?}\n{}",
        srv.root_entries(),
        srv.log()
    );
}

#[test]
fn a_raw_client_that_goes_silent_mid_upload_leaves_nothing() {
    let srv = Server::start(&["--create", "--timeout", "2"]);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("silent", "octet", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    for block in 1..=3u16 {
        client.send(&support::raw::data(
            block,
            &pseudo_random(512, block.into()),
        ));
        client.expect_ack(block);
    }
    let temp_seen = srv
        .root_entries()
        .iter()
        .any(|n| n.starts_with(".netboot-upload-"));
    assert!(temp_seen, "{:?}", srv.root_entries());
    let cleaned = wait_until(Duration::from_secs(10), || srv.root_entries().is_empty());
    assert!(
        cleaned,
        "left behind: {:?}\n{}",
        srv.root_entries(),
        srv.log()
    );
}

#[test]
fn a_raw_upload_lands_atomically_and_intact() {
    let srv = Server::start(&["--create"]);
    let body = pseudo_random(5000, 77);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("raw-up", "octet", &[("blksize", "1000")]));
    match client.recv() {
        Packet::Oack(opts) => assert_eq!(opts, vec![("blksize".into(), "1000".into())]),
        other => panic!("expected OACK, got {other:?}"),
    }
    // 5000 is a multiple of 1000: the transfer ends with an empty block.
    client.write_all(&body, 1000);
    assert_file_is(&srv.root().join("raw-up"), &body);
    assert_eq!(srv.root_entries(), vec!["raw-up".to_string()]);
}

#[test]
fn upload_dir_collects_router_backups() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    // `copy running-config tftp:` from a router: the upload lands in the
    // backup directory whatever directory it names.
    let srv = Server::start(&["--create", "--upload-dir", "backups"]);
    std::fs::create_dir(srv.root().join("backups")).unwrap();
    let dir = scratch();
    let config = b"hostname r1\n!\ninterface Gi0/0\n ip address 192.0.2.1 255.255.255.0\n".to_vec();
    let local = dir.path().join("r1-confg");
    std::fs::write(&local, &config).unwrap();
    tftp_hpa_put(&srv, &local, "/r1-confg", "binary").assert_success();
    assert_file_is(&srv.root().join("backups/r1-confg"), &config);
    assert!(
        !srv.root().join("r1-confg").exists(),
        "nothing outside the backup directory"
    );
}

/// Sets the modification time of `path` to `age` ago.
fn age_file(path: &std::path::Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - age)
        .unwrap();
}

#[test]
fn temporary_files_left_by_a_crash_are_removed_at_start() {
    // What a crash mid-upload leaves: temporary files at any depth. One
    // touched a moment ago may belong to another server's live upload.
    let srv = Server::start_prepared(&["--create"], &|root| {
        std::fs::create_dir_all(root.join("backups")).unwrap();
        for name in [".netboot-upload-Ab12Cd", "backups/.netboot-upload-Zz99"] {
            std::fs::write(root.join(name), b"half a config").unwrap();
            age_file(&root.join(name), Duration::from_secs(3600));
        }
        std::fs::write(root.join("backups/.netboot-upload-live"), b"x").unwrap();
        std::fs::write(root.join("backups/r1-confg"), b"kept").unwrap();
        age_file(&root.join("backups/r1-confg"), Duration::from_secs(3600));
    });
    assert_eq!(srv.root_entries(), vec!["backups".to_string()]);
    let mut left: Vec<String> = std::fs::read_dir(srv.root().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".netboot-upload-live", "r1-confg"]);
    let removed = srv.log_lines("removed a stale temporary upload file");
    assert_eq!(removed.len(), 2, "{}", srv.log());
    assert!(
        removed
            .iter()
            .any(|l| l.contains("backups/.netboot-upload-Zz99")),
        "{removed:?}"
    );
}

/// The files in `dir`, sorted by name, with their bytes.
fn files_in(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn keep_versions_keeps_the_previous_uploads_beside_the_current_one() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&[
        "--create",
        "--upload-dir",
        "backups",
        "--keep-versions",
        "2",
    ]);
    std::fs::create_dir(srv.root().join("backups")).unwrap();
    let local = scratch();
    let path = local.path().join("r1-confg");
    let nights: Vec<Vec<u8>> = (1..=4)
        .map(|n| format!("hostname r1\n!\nntp server 192.0.2.{n}\n").into_bytes())
        .collect();
    // the same bytes twice keep no version
    for body in [&nights[0], &nights[1], &nights[1], &nights[2], &nights[3]] {
        std::fs::write(&path, body).unwrap();
        let run = tftp_hpa_put(&srv, &path, "r1-confg", "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
    }
    assert_file_is(&srv.root().join("backups/r1-confg"), &nights[3]);
    let history = srv.root().join("backups/.netboot-versions/r1-confg");
    let kept = files_in(&history);
    let bodies: Vec<&Vec<u8>> = kept.iter().map(|(_, b)| b).collect();
    assert_eq!(bodies, [&nights[1], &nights[2]], "{kept:?}");
    for (name, _) in &kept {
        assert!(netboot::tftp::history::readable(name).is_some(), "{name}");
    }
    assert_eq!(
        srv.log_lines("previous version kept").len(),
        3,
        "{}",
        srv.log()
    );
    assert_no_temp_files(&srv);

    // "What changed on r1 since last night": the listing and the diff.
    let root = srv.root().to_str().unwrap();
    let text = backups(&["--root", root, "r1-confg"]);
    assert!(text.starts_with("backups/r1-confg: 3 versions\n"), "{text}");
    assert!(text.contains("    0  current "), "{text}");
    assert!(
        text.contains("\n-ntp server 192.0.2.3\n+ntp server 192.0.2.4\n"),
        "{text}"
    );
    let text = backups(&[
        "--root",
        root,
        "backups/r1-confg",
        "--from",
        "2",
        "--to",
        "1",
    ]);
    assert!(
        text.contains("\n-ntp server 192.0.2.2\n+ntp server 192.0.2.3\n"),
        "{text}"
    );
    // netboot.yaml names the root, as for `netboot check`
    let config = local.path().join("netboot.yaml");
    std::fs::write(&config, format!("root: {root}\n")).unwrap();
    let text = backups(&["--config", config.to_str().unwrap()]);
    assert_eq!(
        text.lines().next(),
        Some("backups/r1-confg: 3 versions"),
        "{text}"
    );
}

/// Runs `netboot backups ARGS` and returns what it printed; it must succeed.
fn backups(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netboot"))
        .arg("backups")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "netboot backups {args:?}: {text}{err}"
    );
    text
}

#[test]
fn history_and_temporary_files_are_out_of_reach_over_tftp() {
    if !require_tool("tftp", "tftp-hpa") {
        return;
    }
    let srv = Server::start(&["--create", "--permissive"]);
    srv.put_file(
        ".netboot-versions/r1-confg/20261207T031500Z",
        b"secret",
        0o666,
    );
    let local = scratch();
    let got = local.path().join("got");
    let run = tftp_hpa_get(
        &srv,
        ".netboot-versions/r1-confg/20261207T031500Z",
        &got,
        "binary",
    );
    assert!(run.output().contains("Error code 2"), "{run:?}");
    std::fs::write(&got, b"overwrite").unwrap();
    let run = tftp_hpa_put(
        &srv,
        &got,
        ".netboot-versions/r1-confg/20261207T031500Z",
        "binary",
    );
    assert!(run.output().contains("Error code 2"), "{run:?}");
    let run = tftp_hpa_put(&srv, &got, ".netboot-upload-x", "binary");
    assert!(run.output().contains("Error code 2"), "{run:?}");
    assert_file_is(
        &srv.root()
            .join(".netboot-versions/r1-confg/20261207T031500Z"),
        b"secret",
    );
}
