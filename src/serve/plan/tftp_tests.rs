//! The TFTP settings of `netboot serve`: each from its flag, else its key,
//! else the default, and bad values refused naming the flag or the key.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use crate::config::FileConfig;
use crate::net::Ipv4Net;
use crate::serve::options::ServeOptions;
use crate::serve::plan::{plan, PlanError, ServePlan};
use crate::tftp::remap::Remapped;

fn nets() -> Vec<(String, Ipv4Net)> {
    vec![(
        "vs0".to_string(),
        Ipv4Net {
            addr: Ipv4Addr::new(10, 0, 0, 1),
            prefix: 24,
        },
    )]
}

fn planned(args: &ServeOptions, text: &str, base: &Path) -> Result<ServePlan, PlanError> {
    let file = FileConfig::parse(Path::new("n.yaml"), text).unwrap();
    plan(args, &file, base, nets())
}

fn args_in(dir: &Path) -> ServeOptions {
    ServeOptions {
        root: Some(dir.to_path_buf()),
        state_dir: Some(dir.join("state")),
        ..ServeOptions::default()
    }
}

#[test]
fn defaults_are_those_of_netboot_tftp() {
    let dir = tempfile::tempdir().unwrap();
    let p = planned(&args_in(dir.path()), "", Path::new(".")).unwrap();
    assert!(p.tftp.root.case_insensitive);
    assert!(p.tftp.remap.load().is_empty() && p.tftp.map_file.is_none());
    assert_eq!((p.tftp.max_transfers, p.tftp.max_per_client), (512, 16));
    assert_eq!(p.tftp.port_range, None);
    assert_eq!(p.tftp.give_up_after, Duration::from_secs(15));
    assert_eq!(p.tftp.rto.initial, Duration::from_secs(1));
}

#[test]
fn keys_are_read_and_the_map_file_is_found_beside_netboot_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tftpd.map"), "r ^old$ new\n").unwrap();
    let text = "tftp:\n  map_file: tftpd.map\n  case_insensitive: false\n  port_range: 5000:5100\n  \
                max_transfers: 40\n  max_per_client: 2\n  timeout: 30\n  retransmit_us: 200000\n  busy_poll_us: 0\n";
    let p = planned(&args_in(dir.path()), text, dir.path()).unwrap();
    let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mapped = p.tftp.remap.load().apply("old", false, client);
    assert_eq!(mapped, Remapped::Name("new".into()));
    assert_eq!(p.tftp.map_file, Some(dir.path().join("tftpd.map")));
    assert!(!p.tftp.root.case_insensitive);
    assert_eq!(p.tftp.port_range, Some((5000, 5100)));
    assert_eq!((p.tftp.max_transfers, p.tftp.max_per_client), (40, 2));
    assert_eq!(p.tftp.give_up_after, Duration::from_secs(30));
    assert_eq!(p.tftp.rto.initial, Duration::from_millis(200));
    assert_eq!(p.tftp.busy_poll, Duration::ZERO);
}

#[test]
fn flags_win_over_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flag.map"), "r ^old$ flag\n").unwrap();
    let args = ServeOptions {
        map_file: Some(dir.path().join("flag.map")),
        case_insensitive: Some(true),
        port_range: Some("6000:6001".into()),
        max_transfers: Some(3),
        max_per_client: Some(1),
        busy_poll: Some(50),
        tftp_timeout: Some(5),
        retransmit: Some(100_000),
        ..args_in(dir.path())
    };
    let text =
        "tftp:\n  map_file: absent.map\n  case_insensitive: false\n  port_range: 5000:5100\n  \
                max_transfers: 40\n  busy_poll_us: 0\n  timeout: 30\n";
    let p = planned(&args, text, dir.path()).unwrap();
    let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mapped = p.tftp.remap.load().apply("old", false, client);
    assert_eq!(mapped, Remapped::Name("flag".into()));
    assert!(p.tftp.root.case_insensitive);
    assert_eq!(p.tftp.port_range, Some((6000, 6001)));
    assert_eq!((p.tftp.max_transfers, p.tftp.max_per_client), (3, 1));
    assert_eq!(p.tftp.busy_poll, Duration::from_micros(50));
    assert_eq!(p.tftp.give_up_after, Duration::from_secs(5));
    assert_eq!(p.tftp.rto.initial, Duration::from_millis(100));
    let off = ServeOptions {
        case_insensitive: Some(false),
        ..args_in(dir.path())
    };
    assert!(
        !planned(&off, "", dir.path())
            .unwrap()
            .tftp
            .root
            .case_insensitive
    );
}

#[test]
fn bad_values_name_the_flag_or_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.map"), "# ok\nrz x\n").unwrap();
    let key_err = |text: &str| {
        let err = planned(&args_in(dir.path()), text, dir.path()).map(|_| ());
        err.unwrap_err().to_string()
    };
    for (text, want) in [
        ("tftp:\n  port_range: 9:1\n", "tftp.port_range"),
        (
            "tftp:\n  max_transfers: 0\n",
            "tftp.max_transfers must be at least 1",
        ),
        ("tftp:\n  max_per_client: 0\n", "tftp.max_per_client"),
        (
            "tftp:\n  timeout: 0\n",
            "tftp.timeout must be at least 1 second",
        ),
        ("tftp:\n  retransmit_us: 10\n", "tftp.retransmit_us"),
        ("tftp:\n  busy_poll_us: 20000\n", "tftp.busy_poll_us"),
        (
            "tftp:\n  map_file: bad.map\n",
            "bad.map: line 2: unknown flag 'z'",
        ),
        ("tftp:\n  map_file: none.map\n", "none.map"),
    ] {
        let err = key_err(text);
        assert!(err.contains(want), "{text}: {err}");
    }
    let args = ServeOptions {
        port_range: Some("x".into()),
        ..args_in(dir.path())
    };
    let err = planned(&args, "", dir.path()).map(|_| ()).unwrap_err();
    assert!(err.to_string().starts_with("--port-range:"), "{err}");
}
