//! `netboot leases` as a shell user runs it: it finds the state directory as
//! `netboot serve` does, and piped into `head` it stops quietly when the
//! reader has had enough (no panic, exit status 0).

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use netboot::dhcp::{store::LeaseStore, Lease, LeaseState};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");
const MAC: &str = "52:54:00:12:34:56";

#[test]
fn leases_piped_into_head_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // far more than a pipe holds (64 KiB), so the writes after `head`
    // exits must meet a closed pipe
    let leases: Vec<Lease> = (0..10_000u32)
        .map(|n| Lease {
            ip: Ipv4Addr::from(0x0ae7_0000 + n),
            mac: netboot::mac::MacAddr([2, 0, 0, 0, (n >> 8) as u8, n as u8]),
            expires: u64::MAX / 2,
            state: LeaseState::Bound,
            hostname: Some(format!("host-{n}")),
        })
        .collect();
    let (mut store, _) = LeaseStore::open(dir.path()).unwrap();
    store.append(&leases).unwrap();
    drop(store);

    let mut leases_cmd = Command::new(BIN)
        .arg("leases")
        .env("NETBOOT_STATE_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = leases_cmd.stdout.take().unwrap();
    let head = Command::new("head")
        .args(["-n", "1"])
        .stdin(pipe)
        .output()
        .unwrap();
    let done = leases_cmd.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(
        String::from_utf8_lossy(&head.stdout)
            .split_whitespace()
            .next(),
        Some("MAC"),
        "head printed the header line"
    );
    assert!(
        done.status.success(),
        "netboot leases | head -n 1: {}\n{stderr}",
        done.status
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}

#[test]
fn leases_finds_the_state_directory_as_serve_does() {
    let dir = tempfile::tempdir().unwrap();
    let lease = Lease {
        ip: Ipv4Addr::new(10, 231, 0, 77),
        mac: MAC.parse().unwrap(),
        expires: u64::MAX / 2,
        state: LeaseState::Bound,
        hostname: Some("desk".into()),
    };
    let (mut store, _) = LeaseStore::open(&dir.path().join("kept")).unwrap();
    store.append(&[lease]).unwrap();
    drop(store);
    let listed = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains(MAC) && text.contains("10.231.0.77")
    };
    // the environment variable serve honours
    assert!(listed(
        Command::new(BIN)
            .arg("leases")
            .env("NETBOOT_STATE_DIR", dir.path().join("kept"))
    ));
    // ./netboot.yaml's state_dir, read without --config
    std::fs::write(dir.path().join("netboot.yaml"), "state_dir: kept\n").unwrap();
    assert!(listed(
        Command::new(BIN)
            .arg("leases")
            .env_remove("NETBOOT_STATE_DIR")
            .current_dir(dir.path())
    ));
}
