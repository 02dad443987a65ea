//! Unit tests of `tftp::history`: versions kept, pruned, deduplicated,
//! and the crash windows between the steps.

use super::*;
use std::io::Write;
use std::time::Duration;

fn temp_with(dir: &Path, body: &[u8]) -> NamedTempFile {
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .unwrap();
    temp.write_all(body).unwrap();
    temp
}

/// Writes `body` as `target` stored at `at` seconds after the epoch.
fn stored_at(target: &Path, body: &[u8], at: u64) {
    fs::write(target, body).unwrap();
    let file = File::options().write(true).open(target).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(at))
        .unwrap();
}

fn bodies(dir: &Path) -> Vec<Vec<u8>> {
    list(dir)
        .unwrap()
        .iter()
        .map(|v| fs::read(&v.path).unwrap())
        .collect()
}

#[test]
fn stamps_are_utc_calendar_times() {
    assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
    // 2026-12-07 03:15:00 UTC
    let t = UNIX_EPOCH + Duration::from_secs(1_796_613_300);
    assert_eq!(utc_stamp(t), "20261207T031500Z");
    // a leap day
    let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(utc_stamp(t), "20000229T000000Z");
    assert_eq!(
        readable("20261207T031500Z.2").as_deref(),
        Some("2026-12-07 03:15:00 UTC (#2)")
    );
    assert_eq!(readable(".netboot-upload-x"), None);
}

#[test]
fn each_replacement_keeps_the_previous_file_pruned_to_n() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("r1-confg");
    let versions = versions_dir(&target).unwrap();
    stored_at(&target, b"night 1\n", 1_000_000);
    for (night, at) in [(2u64, 1_086_400u64), (3, 1_172_800), (4, 1_259_200)] {
        let body = format!("night {night}\n");
        let kept = replace(temp_with(dir.path(), body.as_bytes()), &target, 2).unwrap();
        assert!(kept.is_some(), "night {night}");
        let file = File::options().write(true).open(&target).unwrap();
        file.set_modified(UNIX_EPOCH + Duration::from_secs(at))
            .unwrap();
    }
    assert_eq!(fs::read(&target).unwrap(), b"night 4\n");
    assert_eq!(bodies(&versions), [b"night 2\n", b"night 3\n"]);
    let names: Vec<String> = list(&versions)
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["19700113T134640Z", "19700114T134640Z"]);
}

#[test]
fn the_same_bytes_again_keep_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sw1.cfg");
    stored_at(&target, b"same\n", 5);
    let kept = replace(temp_with(dir.path(), b"same\n"), &target, 5).unwrap();
    assert_eq!(kept, None);
    assert!(list(&versions_dir(&target).unwrap()).unwrap().is_empty());
    assert_eq!(fs::read(&target).unwrap(), b"same\n");
}

#[test]
fn without_history_nothing_is_kept_and_no_directory_made() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("f");
    stored_at(&target, b"old", 5);
    assert_eq!(
        replace(temp_with(dir.path(), b"new"), &target, 0).unwrap(),
        None
    );
    assert!(!dir.path().join(VERSIONS_DIR).exists());
    // a first upload has nothing to keep
    let fresh = dir.path().join("g");
    assert_eq!(
        replace(temp_with(dir.path(), b"x"), &fresh, 3).unwrap(),
        None
    );
}

#[test]
fn a_crash_after_linking_loses_nothing_and_keeps_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("r1");
    stored_at(&target, b"v1", 100);
    // the crash: the old file was linked, the new one never renamed
    let linked = keep_current(temp_with(dir.path(), b"v2").path(), &target)
        .unwrap()
        .unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"v1", "current file intact");
    assert_eq!(fs::read(&linked).unwrap(), b"v1");
    // the router uploads again after the restart
    replace(temp_with(dir.path(), b"v2"), &target, 5).unwrap();
    let versions = versions_dir(&target).unwrap();
    assert_eq!(bodies(&versions), [b"v1"], "one version of v1, not two");
    assert_eq!(fs::read(&target).unwrap(), b"v2");
}

#[test]
fn versions_sharing_a_second_get_a_suffix_and_stay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("r1");
    for body in [&b"a"[..], b"b", b"c"] {
        stored_at(&target, body, 7);
        let mut temp = temp_with(dir.path(), b"next");
        temp.write_all(body).unwrap();
        replace(temp, &target, 10).unwrap();
    }
    let versions = versions_dir(&target).unwrap();
    let names: Vec<String> = list(&versions)
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        names,
        [
            "19700101T000007Z",
            "19700101T000007Z.1",
            "19700101T000007Z.2"
        ]
    );
    assert_eq!(bodies(&versions), [b"a", b"b", b"c"]);
}

#[test]
fn a_symlinked_target_is_kept_by_copy() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    stored_at(&real, b"through the link", 9);
    let target = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &target).unwrap();
    replace(temp_with(dir.path(), b"new"), &target, 1).unwrap();
    let versions = versions_dir(&target).unwrap();
    assert_eq!(bodies(&versions), [b"through the link"]);
    let kept = &list(&versions).unwrap()[0].path;
    assert!(!fs::symlink_metadata(kept).unwrap().file_type().is_symlink());
}

#[test]
fn when_no_version_can_be_kept_the_current_file_stays() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("r1");
    stored_at(&target, b"v1", 100);
    // something in the way of the versions directory
    fs::write(dir.path().join(VERSIONS_DIR), b"not a directory").unwrap();
    let err = replace(temp_with(dir.path(), b"v2"), &target, 3).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot keep the file it replaces as a version"),
        "{err}"
    );
    assert_eq!(fs::read(&target).unwrap(), b"v1");
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}
