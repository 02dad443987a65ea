//! `netboot check` as an admin runs it on a broken setup: every mistake of
//! meaning (not only of keys and types) is found, named with its key or flag,
//! file:line and the fix, and `netboot serve` refuses the same settings at
//! start (inside a network namespace this test makes). Error messages say
//! each thing once: no position twice, no OS error twice, no boot-file hint
//! under a YAML syntax error, and one line naming `fill.sh` for a fresh
//! checkout whose boot root is still empty.

mod netns;

use std::path::Path;
use std::process::Command;

use netns::Lab;

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

/// Runs `netboot ARGS` in `dir`: (success, stdout + stderr).
fn netboot(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A directory with `root/` (one boot file, `backups/`), `profiles/` and
/// `netboot.yaml` holding `yaml`.
fn setup(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("root/backups")).unwrap();
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    std::fs::write(dir.path().join("root/undionly.kpxe"), b"x").unwrap();
    std::fs::write(dir.path().join("netboot.yaml"), yaml).unwrap();
    dir
}

const BROKEN: &str = "\
root: root
profiles: profiles
dhcp:
  range: banana
  relay_pools:
    - subnet: banana
      range: 10.1.0.1-10.1.0.9
    - subnet: 10.2.0.0/24
      range: 10.2.0.99-10.2.0.10
boot:
  bios: missing.0
  http: notaurl
tftp:
  upload_dir: ../../etc
";

#[test]
fn check_finds_every_mistake_of_meaning_with_its_line() {
    let dir = setup(BROKEN);
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(!ok, "{out}");
    for line in [
        "netboot.yaml:4:10: dhcp.range: range \"banana\" is not FIRST-LAST",
        "netboot.yaml:6:7: dhcp.relay_pools.0: subnet \"banana\" is not ADDRESS/PREFIX",
        "netboot.yaml:8:7: dhcp.relay_pools.1: range \"10.2.0.99-10.2.0.10\" runs backwards",
        "netboot.yaml:11:9: boot.bios: boot file missing.0 is not in",
        "netboot.yaml:12:9: boot.http: \"notaurl\" is not a URL",
        "netboot.yaml:14:15: tftp.upload_dir: \"../../etc\" must be a directory inside the boot root",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert!(out.contains("6 problem(s) in the settings"), "{out}");
}

#[test]
fn check_refuses_a_missing_profiles_dir_and_upload_dir() {
    let dir = setup("root: root\ntftp:\n  upload_dir: nothere\n");
    let (ok, out) = netboot(dir.path(), &["check", "--profiles", "typo"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("--profiles: the profiles directory typo does not exist"),
        "{out}"
    );
    assert!(
        out.contains("nothere is not a directory; create it"),
        "{out}"
    );
    assert!(!out.contains("ok: 0 profile(s)"), "{out}");

    // a profile's upload_dir too, at its line
    let dir = setup("root: root\n");
    let profile = "name: routers\nmatch:\n  mac_prefix: 00:1e:bd\nupload_dir: configs/\n";
    std::fs::write(dir.path().join("profiles/r.yaml"), profile).unwrap();
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("profiles/r.yaml:4:13: upload_dir `configs/`"),
        "{out}"
    );
    std::fs::create_dir(dir.path().join("root/configs")).unwrap();
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("ok: 1 profile(s)"), "{out}");
}

#[test]
fn messages_say_each_thing_once() {
    let dir = setup("root: root\n");
    let (ok, out) = netboot(dir.path(), &["check", "--config", "nope.yaml"]);
    assert!(!ok);
    assert_eq!(out.matches("No such file or directory").count(), 1, "{out}");
    assert!(!out.contains("os error"), "{out}");
    assert!(out.contains("cannot read nope.yaml"), "{out}");

    std::fs::write(dir.path().join("bad.yaml"), "dhcp:\n  lease_time: abc\n").unwrap();
    let (_, out) = netboot(dir.path(), &["check", "--config", "bad.yaml"]);
    assert!(out.contains("bad.yaml:2:15: dhcp.lease_time"), "{out}");
    assert!(!out.contains("at line"), "position said twice: {out}");

    let bad_yaml = "name: x\nmatch:\n  mac: 52:54:00:00:00:01\nboot:\n  bios: [\n";
    std::fs::write(dir.path().join("profiles/bad.yaml"), bad_yaml).unwrap();
    let (_, out) = netboot(dir.path(), &["check"]);
    assert!(out.contains("profiles/bad.yaml:6:1:"), "{out}");
    assert!(
        !out.contains("fill.sh"),
        "a syntax error has no boot-file hint: {out}"
    );

    let template = "name: x\nmatch:\n  mac: 52:54:00:00:00:01\nfiles:\n  a.txt:\n    content: \"{{ consol }}\"\n";
    std::fs::write(dir.path().join("profiles/bad.yaml"), template).unwrap();
    let (_, out) = netboot(dir.path(), &["check"]);
    assert!(
        out.contains("profiles/bad.yaml:6:14:") && out.contains("`consol` is undefined"),
        "{out}"
    );
}

#[test]
fn the_shipped_profiles_before_fill_sh_give_one_line() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir(empty.path().join("backups")).unwrap();
    let root = empty.path().to_str().unwrap();
    let (ok, out) = netboot(repo, &["check", "--root", root, "--profiles", "profiles"]);
    assert!(!ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("run `sudo boot-images/fill.sh`"), "{out}");
    assert!(
        lines[0].contains("pxelinux.0 (profiles/default.yaml:"),
        "{out}"
    );
}

#[test]
fn leases_of_a_missing_state_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent");
    let (ok, out) = netboot(
        dir.path(),
        &["leases", "--state-dir", missing.to_str().unwrap()],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("does not exist"), "{out}");
    assert!(!out.contains("MAC"), "no empty table: {out}");
}

#[test]
fn serve_refuses_at_start_what_check_refuses() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::new();
    let dir = setup(BROKEN);
    let config = dir.path().join("netboot.yaml");
    let state = dir.path().join("state");
    let args = [
        "20",
        BIN,
        "serve",
        "--interface",
        netns::SERVER_IF,
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    let (ok, out) = lab.server_run("timeout", &args);
    assert!(!ok, "{out}");
    let (_, check) = netboot(dir.path(), &["check", "--config", config.to_str().unwrap()]);
    assert!(
        out.contains(check.trim()),
        "serve says what check says:\n{out}\n---\n{check}"
    );
    assert!(!state.exists(), "nothing touched before the refusal");
}

/// The IPv6 keys of a profile: a bad `address6` at its line, then an
/// `address6` that `dhcp6.reservations` in netboot.yaml reserves too,
/// named at both places; the same profile with its own address is ok.
#[test]
fn check_names_a_bad_address6_and_one_netboot_yaml_reserves_too() {
    let yaml = "\
root: root
profiles: profiles
dhcp6:
  range: fd00:99::100-fd00:99::1ff
  reservations:
    - {mac: 52:54:00:00:00:09, address: 'fd00:99::50'}
";
    let dir = setup(yaml);
    let profile = |addr: &str| {
        format!("name: desk\nhosts:\n  - mac: 52:54:00:00:00:01\n    address6: {addr}\n")
    };
    std::fs::write(
        dir.path().join("profiles/desk.yaml"),
        profile("fd00:99::zz"),
    )
    .unwrap();
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("profiles/desk.yaml:4:15: bad IPv6 address \"fd00:99::zz\""),
        "{out}"
    );
    std::fs::write(
        dir.path().join("profiles/desk.yaml"),
        profile("fd00:99::50"),
    )
    .unwrap();
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "profiles/desk.yaml:3: profile `desk` reserves address6 fd00:99::50, which \
             netboot.yaml reserves too (netboot.yaml:6:"
        ),
        "{out}"
    );
    std::fs::write(
        dir.path().join("profiles/desk.yaml"),
        profile("fd00:99::51"),
    )
    .unwrap();
    let (ok, out) = netboot(dir.path(), &["check"]);
    assert!(ok, "{out}");
}
