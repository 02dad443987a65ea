//! `netboot serve` with the TFTP settings `netboot tftp` has, given in
//! netboot.yaml's `tftp:` section, inside network namespaces this test
//! creates and deletes: a map file (beside netboot.yaml) that SIGHUP reads
//! again along with the profiles, transfer ports from `port_range`, case
//! folding switched off; and a bad key refused at start naming the key.

mod netns;

use std::net::UdpSocket;
use std::time::Duration;

use netns::{Lab, SERVER_IP};

const CLIENT_IP: &str = "10.231.0.77";

/// Fetches `remote` over TFTP from the client namespace with busybox.
fn tftp_get(lab: &Lab, remote: &str) -> Option<Vec<u8>> {
    lab.tftp_get_in(&lab.cli, SERVER_IP, remote)
}

/// Sends an RRQ for a one-block file from the client namespace and returns
/// the port the DATA came from (the transfer's port), ACKing it.
fn transfer_port(lab: &Lab, remote: &str) -> u16 {
    let remote = remote.to_string();
    netns::in_netns(&lab.cli, move || {
        let sock = UdpSocket::bind(format!("{CLIENT_IP}:0")).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rrq = vec![0, 1];
        rrq.extend_from_slice(remote.as_bytes());
        rrq.extend_from_slice(b"\0octet\0");
        sock.send_to(&rrq, format!("{SERVER_IP}:69")).unwrap();
        let mut buf = [0u8; 1024];
        let (n, from) = sock.recv_from(&mut buf).expect("DATA from the server");
        assert_eq!(&buf[..4], &[0, 3, 0, 1], "DATA block 1: {:?}", &buf[..n]);
        sock.send_to(&[0, 4, 0, 1], from).unwrap();
        from.port()
    })
}

#[test]
fn yaml_tftp_settings_and_the_map_file_reread_on_sighup() {
    if !netns::ready(&["busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.client_addr(&format!("{CLIENT_IP}/24"));
    let map = lab.path("tftpd.map");
    std::fs::write(&map, "r ^alias$ one\n").unwrap();
    let config = lab.path("netboot.yaml");
    std::fs::write(
        &config,
        "tftp:\n  map_file: tftpd.map\n  port_range: 41000:41009\n  case_insensitive: false\n  \
         max_per_client: 4\n",
    )
    .unwrap();
    let dirs = lab.start_serve_on(&[], &["--no-ping", "--config", config.to_str().unwrap()]);
    assert!(
        lab.log_contains("TFTP: 1 map rule(s) from"),
        "{}",
        lab.log()
    );
    for (name, body) in [("one", "first target\n"), ("two", "second target\n")] {
        std::fs::write(dirs.root.join(name), body).unwrap();
    }
    assert_eq!(
        tftp_get(&lab, "alias").as_deref(),
        Some(&b"first target\n"[..])
    );
    // case folding is off: only the exact name
    assert_eq!(tftp_get(&lab, "PXELINUX.0"), None, "{}", lab.log());
    assert!(tftp_get(&lab, "pxelinux.0").is_some());
    for _ in 0..3 {
        let port = transfer_port(&lab, "pxelinux.0");
        assert!((41000..=41009).contains(&port), "transfer port {port}");
    }
    // the same SIGHUP that reloads the profiles reads the map file again
    std::fs::write(&map, "r ^alias$ two\n").unwrap();
    assert!(lab.signal_server("HUP"));
    lab.wait_log("re-read: 1 rule(s) in force", Duration::from_secs(10));
    assert_eq!(
        tftp_get(&lab, "alias").as_deref(),
        Some(&b"second target\n"[..])
    );
    assert!(lab.server_running(), "SIGHUP must not stop the server");
}

#[test]
fn a_bad_tftp_key_is_refused_naming_it() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::new();
    let config = lab.path("netboot.yaml");
    std::fs::write(&config, "tftp:\n  port_range: 5000-5100\n").unwrap();
    let root = lab.path("root");
    netns::boot_root(&root);
    let (ok, out) = lab.server_run(
        "timeout",
        &[
            "10",
            env!("CARGO_BIN_EXE_netboot"),
            "serve",
            "--interface",
            "vs0",
            "--no-ping",
            "--root",
            root.to_str().unwrap(),
            "--state-dir",
            lab.path("state").to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("tftp.port_range: \"5000-5100\" is not LOW:HIGH"),
        "{out}"
    );
}
