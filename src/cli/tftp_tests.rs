//! Unit tests of `netboot tftp` flag parsing and validation.

use super::*;
use clap::Parser;

use crate::tftp::options::MAX_BLKSIZE;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: TftpArgs,
}

fn parse(argv: &[&str]) -> Result<TftpArgs, clap::Error> {
    let mut full = vec!["netboot"];
    full.extend_from_slice(argv);
    Wrapper::try_parse_from(full).map(|w| w.args)
}

#[test]
fn tftpd_hpa_line_works_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = parse(&[
        "--secure",
        "--create",
        "--blocksize",
        "1468",
        "--max-blocksize",
        "65535",
        "--verbose",
        "--address",
        "0.0.0.0:69",
        "--user",
        "tftp",
        d,
    ])
    .unwrap();
    let cfg = args.to_config().unwrap();
    assert_eq!(cfg.options.max_blksize, 1468);
    assert!(cfg.root.secure && cfg.root.create && cfg.trace_blocks);
    assert_eq!(cfg.listen, vec!["0.0.0.0:69".parse().unwrap()]);
    assert_eq!(args.user.as_deref(), Some("tftp"));
    let short = parse(&[
        "-l",
        "-L",
        "-s",
        "-c",
        "-B",
        "1468",
        "-a",
        ":69",
        "-R",
        "4096:32767",
        "-U",
        "002",
        d,
    ])
    .unwrap();
    let cfg = short.to_config().unwrap();
    assert_eq!(cfg.port_range, Some((4096, 32767)));
    assert_eq!(cfg.root.umask, 0o002);
}

#[test]
fn the_umask_defaults_as_tftpd_hpa_chooses_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let umask = |args: &[&str]| parse(args).unwrap().to_config().unwrap().root.umask;
    assert_eq!(umask(&["-c", d]), 0, "uploads rw-rw-rw-");
    assert_eq!(umask(&["-c", "-U", "027", d]), 0o027);
    assert_eq!(umask(&["-p", "-U", "007", d]), 0o007);
}

#[test]
fn addresses_in_every_tftpd_hpa_form() {
    let p = |t: &str| parse_address(t, false).unwrap();
    assert_eq!(p("0.0.0.0:69"), "0.0.0.0:69".parse().unwrap());
    assert_eq!(p(":69"), "[::]:69".parse().unwrap());
    assert_eq!(p("127.0.0.1"), "127.0.0.1:69".parse().unwrap());
    assert_eq!(p("[::1]:6969"), "[::1]:6969".parse().unwrap());
    assert_eq!(p("[::1]"), "[::1]:69".parse().unwrap());
    assert_eq!(
        parse_address(":69", true).unwrap(),
        "0.0.0.0:69".parse().unwrap()
    );
    assert!(parse_address("nonsense:x", false).is_err());
}

#[test]
fn one_family_flags_pick_the_wildcard_and_the_socket_mode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let cfg = |argv: &[&str]| {
        let mut full = argv.to_vec();
        full.push(d);
        parse(&full).unwrap().to_config().unwrap()
    };
    let both = cfg(&[]);
    assert_eq!(both.listen, vec!["[::]:6969".parse().unwrap()]);
    assert!(!both.ipv6_only);
    let v4 = cfg(&["-4"]);
    assert_eq!(v4.listen, vec!["0.0.0.0:6969".parse().unwrap()]);
    let v4 = cfg(&["-4", "--address", ":69"]);
    assert_eq!(v4.listen, vec!["0.0.0.0:69".parse().unwrap()]);
    let v6 = cfg(&["-6"]);
    assert_eq!(v6.listen, vec!["[::]:6969".parse().unwrap()]);
    assert!(v6.ipv6_only);
    let v6 = cfg(&["-6", "--address", ":69"]);
    assert_eq!(v6.listen, vec!["[::]:69".parse().unwrap()]);
    assert!(v6.ipv6_only);
    assert!(parse(&["-6", "--address", "0.0.0.0:69", d])
        .unwrap()
        .to_config()
        .is_err());
}

#[test]
fn contradictions_and_bad_values_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(parse(&["-4", "-6", d]).is_err());
    assert!(parse(&["--bogus", d]).is_err());
    for bad in [
        vec!["-4", "--address", "[::1]:69", d],
        vec!["--blocksize", "100", d],
        vec!["--port-range", "2000:1000", d],
        vec!["--umask", "999", d],
        vec!["--refuse", "multicast", d],
        vec!["--timeout", "0", d],
    ] {
        let args = parse(&bad).unwrap();
        assert!(args.to_config().is_err(), "{bad:?}");
    }
    assert!(parse(&["/nonexistent/dir"]).unwrap().to_config().is_err());
}

#[test]
fn max_blocksize_above_the_rfc_limit_means_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let args = parse(&["--max-blocksize", "65535", dir.path().to_str().unwrap()]).unwrap();
    assert_eq!(args.to_config().unwrap().options.max_blksize, MAX_BLKSIZE);
}

#[test]
fn several_directories_unless_secure() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (a, b) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let cfg = parse(&[a, b]).unwrap().to_config().unwrap();
    let dirs: Vec<_> = cfg.root.dirs.iter().map(|d| d.named.clone()).collect();
    assert_eq!(dirs, vec![PathBuf::from(a), PathBuf::from(b)]);
    assert_eq!(cfg.root.root, PathBuf::from(a).canonicalize().unwrap());
    let err = parse(&["-s", a, b]).unwrap().to_config().unwrap_err();
    assert!(err.to_string().contains("exactly one directory"), "{err}");
}

#[test]
fn tftpd_hpa_option_names_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = parse(&["-r", "blksize2", "-r", "UTIMEOUT", "-V", d]).unwrap();
    assert!(args.version);
    let cfg = args.to_config().unwrap();
    assert_eq!(cfg.options.refused, vec!["blksize2", "utimeout"]);
    assert!(version_text().contains(env!("CARGO_PKG_VERSION")));
}
