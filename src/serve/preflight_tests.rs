use std::path::Path;

use super::*;

/// A boot root with one boot file and an upload directory, and a file
/// `netboot.yaml` beside it with `text`.
fn setup(text: &str) -> (tempfile::TempDir, ServeOptions) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("root/backups")).unwrap();
    std::fs::write(dir.path().join("root/undionly.kpxe"), b"x").unwrap();
    std::fs::write(dir.path().join("netboot.yaml"), text).unwrap();
    let args = ServeOptions {
        config: Some(dir.path().join("netboot.yaml")),
        ..ServeOptions::default()
    };
    (dir, args)
}

fn problems(text: &str) -> Vec<String> {
    let (_dir, args) = setup(text);
    match preflight(&args) {
        Err(ServeError::Settings(SettingsProblems(p))) => p,
        Err(other) => vec![other.to_string()],
        Ok(_) => vec![],
    }
}

#[test]
fn good_settings_pass_and_bad_ones_are_all_named_at_their_line() {
    let ok = "root: root\nprofiles: root\ndhcp:\n  range: 10.0.0.10-10.0.0.20\nboot:\n  bios: undionly.kpxe\n  http: http://10.0.0.1/boot.efi\ntftp:\n  upload_dir: backups\n";
    assert_eq!(problems(ok), Vec::<String>::new());
    let bad = "root: root\ndhcp:\n  range: 10.0.0.20-10.0.0.10\n  relay_pools:\n    - subnet: banana\n      range: 10.1.0.1-10.1.0.9\n    - subnet: 10.2.0.0/24\n      range: 10.3.0.1-10.3.0.9\nboot:\n  bios: missing.0\n  http: notaurl\ntftp:\n  upload_dir: ../../etc\n";
    let found = problems(bad);
    let expect = [
        ("netboot.yaml:3:10: dhcp.range:", "backwards"),
        (
            "netboot.yaml:5:7: dhcp.relay_pools.0:",
            "not ADDRESS/PREFIX",
        ),
        (
            "netboot.yaml:7:7: dhcp.relay_pools.1:",
            "not inside the pool's subnet",
        ),
        ("netboot.yaml:10:9: boot.bios:", "fill.sh"),
        ("netboot.yaml:11:9: boot.http:", "not a URL"),
        (
            "netboot.yaml:13:15: tftp.upload_dir:",
            "inside the boot root",
        ),
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for ((start, words), got) in expect.iter().zip(&found) {
        assert!(got.contains(start) && got.contains(words), "{got}");
    }
}

#[test]
fn missing_directories_and_upload_dir_are_refused() {
    let found = problems("root: root\nprofiles: typo\ntftp:\n  upload_dir: nothere\n");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("netboot.yaml:2:11: profiles: the profiles directory"),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("nothere is not a directory; create it"),
        "{}",
        found[1]
    );
    let found = problems("root: nowhere\n");
    assert!(
        found[0].contains("netboot.yaml:1:7: root: the boot root"),
        "{found:?}"
    );
}

#[test]
fn flags_are_named_instead_of_keys() {
    let (dir, mut args) = setup("root: root\n");
    args.range = Some("banana".into());
    args.boot_bios = Some("nope.0".into());
    args.profiles = Some(dir.path().join("typo"));
    let Err(ServeError::Settings(SettingsProblems(found))) = preflight(&args) else {
        panic!("accepted");
    };
    assert!(
        found.iter().any(|p| p.starts_with("--range: ")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("--boot-bios: ")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("--profiles: ")),
        "{found:?}"
    );
    assert!(Path::new(&dir.path().join("netboot.yaml")).exists());
}

#[test]
fn http_listen_entries_are_checked_at_their_line() {
    let found =
        problems("root: root\nhttp:\n  listen:\n    - \"[::]:8080\"\n    - 10.0.0.1:http\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .contains("netboot.yaml:5:7: http.listen.1: \"10.0.0.1:http\" is not [ADDRESS][:PORT]"),
        "{found:#?}"
    );
    assert_eq!(
        problems("root: root\nprofiles: root\nhttp:\n  listen: [\":8080\", 10.0.0.1]\n"),
        Vec::<String>::new()
    );
}

#[test]
fn every_family_key_is_checked_at_its_line() {
    let text = "root: root\nprofiles: root\ndhcp:\n  range: 10.0.0.10-10.0.0.20\nboot:\n  bios: undionly.kpxe\n  uefi_riscv64: riscv/grubriscv64.efi\n  uboot_arm64: undionly.kpxe\n  http_arm64: grubaa64.efi\n";
    let p = problems(text);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p[0].contains(
            "netboot.yaml:7:17: boot.uefi_riscv64: boot file riscv/grubriscv64.efi is not in"
        ),
        "{p:#?}"
    );
    assert!(
        p[1].contains("netboot.yaml:9:15: boot.http_arm64: \"grubaa64.efi\" is not a URL"),
        "{p:#?}"
    );
}

#[test]
fn a_shim_without_its_grub_is_named_with_the_fix() {
    let notes = half_chains(&|n| n == "shimx64.efi" || n == "shimaa64.efi" || n == "grubaa64.efi");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("shimx64.efi is here but grubx64.efi"),
        "{notes:?}"
    );
    assert!(notes[0].contains("run boot-images/fill.sh again"));
    assert!(half_chains(&|_| true).is_empty());
}

#[test]
fn dhcp6_settings_are_checked_at_their_line() {
    let found = problems(
        "root: root\nprofiles: root\ndhcp6:\n  range: fd00::9-fd00::1\n  reservations:\n    - mac: 52:54:00:12:34:56\n      duid: \"00:03\"\n      address: fd00::5\n",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("netboot.yaml:4:10: dhcp6.range") && found[0].contains("swap"),
        "{found:#?}"
    );
    assert!(
        found[1].contains("dhcp6.reservations.0.address") && found[1].contains("exactly one"),
        "{found:#?}"
    );
    assert_eq!(
        problems("root: root\nprofiles: root\ndhcp6:\n  range: fd00::/64\n  reservations:\n    - duid: 00:03:00:01:52:54:00:12:34:56\n      address: fd00::1005\n"),
        Vec::<String>::new()
    );
}
