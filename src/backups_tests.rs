//! Unit tests of `backups`: finding histories, picking a file, selecting
//! versions, the listing and the diff.

use super::*;
use std::time::{Duration, UNIX_EPOCH};

/// Writes `body` at `path` (directories made) stored at `at` seconds.
fn stored_at(path: &Path, body: &str, at: u64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(at))
        .unwrap();
}

/// A root with `backups/r1-confg` (two versions) and `site/r1-confg` and
/// `site/sw1` (one each).
fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v = |p: &str| root.join(p);
    stored_at(
        &v("backups/r1-confg"),
        "hostname r1\nntp server 192.0.2.3\n",
        1_796_613_300,
    );
    stored_at(
        &v("backups/.netboot-versions/r1-confg/20261206T031500Z"),
        "hostname r1\nntp server 192.0.2.2\n",
        1_796_526_900,
    );
    stored_at(
        &v("backups/.netboot-versions/r1-confg/20261205T031500Z"),
        "hostname r1\nntp server 192.0.2.1\n",
        1_796_440_500,
    );
    stored_at(&v("site/r1-confg"), "b\n", 9);
    stored_at(
        &v("site/.netboot-versions/r1-confg/19700101T000001Z"),
        "a\n",
        1,
    );
    stored_at(&v("site/sw1"), "y\n", 9);
    stored_at(&v("site/.netboot-versions/sw1/19700101T000001Z"), "x\n", 1);
    stored_at(
        &v("site/.netboot-versions/sw1/.netboot-upload-junk"),
        "z\n",
        1,
    );
    stored_at(&v("pxelinux.0"), "boot", 1);
    dir
}

#[test]
fn every_file_with_history_is_found_newest_first() {
    let dir = sample();
    let all = find_all(dir.path()).unwrap();
    let names: Vec<&str> = all.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["backups/r1-confg", "site/r1-confg", "site/sw1"]);
    let labels: Vec<&str> = all[0].items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["current", "20261206T031500Z", "20261205T031500Z"]);
    assert_eq!(all[0].items[0].when, "2026-12-07 03:15:00 UTC");
    assert_eq!(all[2].items.len(), 2, "temporary files are not versions");
}

#[test]
fn a_file_is_picked_by_path_or_by_a_unique_name() {
    let dir = sample();
    let base = dir.path();
    let all = || find_all(base).unwrap();
    assert_eq!(
        pick(all(), "site/r1-confg", base).unwrap().name,
        "site/r1-confg"
    );
    assert_eq!(pick(all(), "sw1", base).unwrap().name, "site/sw1");
    let e = pick(all(), "r1-confg", base).unwrap_err().to_string();
    assert!(e.contains("backups/r1-confg, site/r1-confg"), "{e}");
    let e = pick(all(), "r9", base).unwrap_err().to_string();
    assert!(
        e.contains("files with history: backups/r1-confg, site/r1-confg, site/sw1"),
        "{e}"
    );
}

#[test]
fn versions_are_selected_by_number_label_or_prefix() {
    let dir = sample();
    let h = pick(
        find_all(dir.path()).unwrap(),
        "backups/r1-confg",
        dir.path(),
    )
    .unwrap();
    assert_eq!(select(&h, "0").unwrap(), 0);
    assert_eq!(select(&h, "current").unwrap(), 0);
    assert_eq!(select(&h, "2").unwrap(), 2);
    assert_eq!(select(&h, "20261205T031500Z").unwrap(), 2);
    assert_eq!(select(&h, "20261206").unwrap(), 1, "unique prefix");
    let e = select(&h, "2026").unwrap_err().to_string();
    assert!(
        e.contains("current, 20261206T031500Z, 20261205T031500Z"),
        "{e}"
    );
    assert!(select(&h, "3").is_err());
}

#[test]
fn the_report_lists_and_diffs_the_last_two_by_default() {
    let dir = sample();
    let mut out = Vec::new();
    report(dir.path(), Some("backups/r1-confg"), None, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("backups/r1-confg: 3 versions\n"), "{text}");
    assert!(
        text.contains("    0  current               2026-12-07 03:15:00 UTC      33 bytes\n"),
        "{text}"
    );
    assert!(
        text.contains("--- backups/r1-confg (20261206T031500Z, 2026-12-06 03:15:00 UTC)\n"),
        "{text}"
    );
    assert!(
        text.contains("+++ backups/r1-confg (current, 2026-12-07 03:15:00 UTC)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n hostname r1\n-ntp server 192.0.2.2\n+ntp server 192.0.2.3\n"),
        "{text}"
    );

    let mut out = Vec::new();
    report(
        dir.path(),
        Some("backups/r1-confg"),
        Some("2"),
        Some("1"),
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("-ntp server 192.0.2.1\n+ntp server 192.0.2.2\n"),
        "{text}"
    );

    let mut out = Vec::new();
    report(
        dir.path(),
        Some("sw1"),
        Some("0"),
        Some("current"),
        &mut out,
    )
    .unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .ends_with("current and current are the same\n"));
}

#[test]
fn without_a_name_every_file_is_listed() {
    let dir = sample();
    let mut out = Vec::new();
    report(dir.path(), None, None, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches(" versions\n").count(), 3, "{text}");
    let empty = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    report(empty.path(), None, None, None, &mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .starts_with("no upload history under"));
}

#[test]
fn binary_files_are_only_said_to_differ() {
    assert_eq!(unified("a", b"same", "b", b"same"), "");
    assert_eq!(
        unified("a", b"\0x", "b", b"\0y"),
        "Binary files a and b differ\n"
    );
}
