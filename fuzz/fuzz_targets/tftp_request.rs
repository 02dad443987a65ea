//! Fuzz target: a request from the network through everything that looks at
//! it before the disk does: `Packet::parse`, option negotiation under a
//! policy taken from the input, the tftpd-hpa map file (parsed from the
//! input too) and `fs::relative_path`.
//!
//! Input layout: 9 header bytes (flags, max blksize, max windowsize, MTU
//! limit, file size), then the request body (what follows the opcode), then
//! optionally `\n#MAP\n` and the text of a map file (its first 256 bytes).

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netboot::tftp::blocknum::Rollover;
use netboot::tftp::fs::relative_path;
use netboot::tftp::options::{negotiate, Negotiated, OptionPolicy, MAX_BLKSIZE, MIN_BLKSIZE};
use netboot::tftp::packet::Packet;
use netboot::tftp::remap::{RemapRules, Remapped, MAX_REWRITTEN_LEN};

const HEADER: usize = 9;
const MAP_MARK: &[u8] = b"\n#MAP\n";
/// Bytes of map file text used.
const MAP_MAX: usize = 256;
const KNOWN: [&str; 7] = [
    "blksize",
    "windowsize",
    "timeout",
    "tsize",
    "rollover",
    "blksize2",
    "utimeout",
];
/// Options that set the same thing as another (tftpd-hpa's extensions).
fn kind(name: &str) -> &str {
    match name {
        "blksize2" => "blksize",
        "utimeout" => "timeout",
        other => other,
    }
}

struct Setup {
    write: bool,
    policy: OptionPolicy,
    mtu_limit: Option<u16>,
    client: IpAddr,
    size: u64,
}

fn setup(header: &[u8; HEADER]) -> Setup {
    let flags = header[0];
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let refused = KNOWN
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (8 << i) != 0)
        .map(|(_, name)| name.to_string())
        .collect();
    let client = if flags & 4 != 0 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, word(5)))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, header[5], header[6]))
    };
    Setup {
        write: flags & 1 != 0,
        policy: OptionPolicy {
            max_blksize: word(1),
            max_windowsize: word(3),
            refused,
        },
        mtu_limit: (flags & 2 != 0).then(|| word(5)),
        client,
        size: u64::from(word(7)) * 1000,
    }
}

/// A path `relative_path` accepted must stay inside the root and keep every
/// meaningful component of the name, in order.
fn check_confined(name: &[u8], path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    assert!(!bytes.is_empty(), "empty path accepted for {name:?}");
    assert!(
        !bytes.starts_with(b"/"),
        "absolute path {path:?} from {name:?}"
    );
    assert!(path.is_relative() && !path.has_root());
    assert!(!bytes.contains(&0), "NUL in {path:?}");
    for component in path.components() {
        assert!(
            matches!(component, Component::Normal(_)),
            "{component:?} in {path:?} from {name:?}"
        );
    }
    let out: Vec<&[u8]> = bytes.split(|&b| b == b'/').collect();
    for segment in &out {
        assert!(
            !segment.is_empty() && *segment != b".." && *segment != b".",
            "bad segment in {path:?} from {name:?}"
        );
    }
    let kept: Vec<&[u8]> = name
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty() && *s != b".")
        .collect();
    assert_eq!(out, kept, "relative_path lost or changed part of {name:?}");
}

fn check_name(name: &[u8]) {
    if let Ok(path) = relative_path(name) {
        check_confined(name, &path);
    } else {
        let has_dotdot = name.split(|&b| b == b'/').any(|s| s == b"..");
        let empty = name
            .split(|&b| b == b'/')
            .all(|s| s.is_empty() || s == b".");
        // names starting `.netboot-` are netboot's own (uploads, history)
        let reserved = name
            .split(|&b| b == b'/')
            .any(|s| s.starts_with(b".netboot-"));
        assert!(
            has_dotdot || empty || reserved || name.contains(&0),
            "relative_path refused a harmless name {name:?}"
        );
    }
}

fn check_negotiated(requested: &[(&str, &str)], s: &Setup, n: &Negotiated) {
    let names: Vec<&str> = n.accepted.iter().map(|(name, _)| name.as_str()).collect();
    // The granted names are a subsequence of the requested ones.
    let mut from = 0;
    for (i, name) in names.iter().enumerate() {
        assert!(KNOWN.contains(name), "unknown option {name} granted");
        assert!(
            !names[..i].iter().any(|n| kind(n) == kind(name)),
            "{name} granted twice"
        );
        assert!(
            !s.policy.refused.iter().any(|r| r == name),
            "{name} refused"
        );
        let pos = requested[from..]
            .iter()
            .position(|(r, _)| r.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("{name} granted out of the request's order"));
        from += pos + 1;
    }
    let value = |name: &str| n.accepted.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    match value("blksize").or(value("blksize2")) {
        Some(v) => {
            let cap = s
                .policy
                .max_blksize
                .min(s.mtu_limit.unwrap_or(MAX_BLKSIZE))
                .clamp(MIN_BLKSIZE, MAX_BLKSIZE);
            assert!(
                (MIN_BLKSIZE..=cap).contains(&n.blksize),
                "blksize {}",
                n.blksize
            );
            assert_eq!(*v, n.blksize.to_string());
            if value("blksize2").is_some() {
                assert!(n.blksize.is_power_of_two(), "blksize2 {}", n.blksize);
            }
        }
        None => assert_eq!(n.blksize, 512),
    }
    match value("windowsize") {
        Some(v) => {
            assert!((1..=s.policy.max_windowsize.max(1)).contains(&n.windowsize));
            assert_eq!(*v, n.windowsize.to_string());
        }
        None => assert_eq!(n.windowsize, 1),
    }
    match (value("timeout"), value("utimeout")) {
        (Some(v), None) => {
            let t = n.timeout.expect("timeout granted but not set");
            assert!(t >= Duration::from_secs(1) && t <= Duration::from_secs(255));
            assert_eq!(*v, t.as_secs().to_string());
        }
        (None, Some(v)) => {
            let t = n.timeout.expect("utimeout granted but not set");
            assert!(t >= Duration::from_millis(10) && t <= Duration::from_secs(255));
            assert_eq!(*v, t.as_micros().to_string());
        }
        (None, None) => assert_eq!(n.timeout, None),
        (Some(_), Some(_)) => panic!("timeout and utimeout both granted"),
    }
    assert_eq!(value("tsize").is_some(), n.tsize_requested.is_some());
    match value("rollover").map(String::as_str) {
        Some("0") => assert_eq!(n.rollover, Rollover::ToZero),
        Some("1") => assert_eq!(n.rollover, Rollover::ToOne),
        Some(other) => panic!("rollover granted as {other:?}"),
        None => assert_eq!(n.rollover, Rollover::ToZero),
    }
    assert_eq!(n.needs_oack(), !n.accepted.is_empty());
}

/// The OACK built from the negotiation must survive the wire.
fn check_oack(n: &Negotiated, size: Option<u64>) {
    let oack = n.oack(size);
    assert_eq!(oack.len(), n.accepted.len());
    let options: Vec<(&str, &str)> = oack.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (name, value) in &options {
        if *name == "tsize" {
            if let Some(size) = size {
                assert_eq!(*value, size.to_string());
            }
        }
    }
    let bytes = Packet::Oack {
        options: options.clone(),
    }
    .to_bytes();
    assert_eq!(Packet::parse(&bytes), Ok(Packet::Oack { options }));
}

fn check_remap(map: &[u8], name: &[u8], s: &Setup) {
    let text = String::from_utf8_lossy(map);
    let Ok(rules) = RemapRules::parse(&text) else {
        return;
    };
    let lossy = String::from_utf8_lossy(name);
    match rules.apply(&lossy, s.write, s.client) {
        Remapped::Name(mapped) => {
            assert!(
                mapped == lossy || mapped.len() <= MAX_REWRITTEN_LEN,
                "the map file grew a name to {} bytes",
                mapped.len()
            );
            check_name(mapped.as_bytes());
        }
        Remapped::Refused(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((header, rest)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let s = setup(header);
    let (body, map) = match rest.windows(MAP_MARK.len()).position(|w| w == MAP_MARK) {
        Some(at) => (&rest[..at], Some(&rest[at + MAP_MARK.len()..])),
        None => (rest, None),
    };
    let mut datagram = vec![0, if s.write { 2 } else { 1 }];
    datagram.extend_from_slice(body);
    let name = match Packet::parse(&datagram) {
        Ok(Packet::Rrq(req)) | Ok(Packet::Wrq(req)) => {
            let n = negotiate(&req.options, &s.policy, s.mtu_limit);
            check_negotiated(&req.options, &s, &n);
            check_oack(&n, Some(s.size));
            check_oack(&n, None);
            req.filename
        }
        Ok(other) => panic!("a request parsed as {other:?}"),
        Err(_) => body,
    };
    check_name(name);
    if let Some(map) = map {
        // Real map files are a few short rules; longer text mostly fuzzes
        // the regex crate's compiler, slowly.
        check_remap(&map[..map.len().min(MAP_MAX)], name, &s);
    }
});
