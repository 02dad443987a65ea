//! Unit tests of `tftp::fs`: confinement, FIFOs and devices, uploads.

use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

fn policy(dir: &Path) -> RootPolicy {
    RootPolicy {
        root: dir.canonicalize().unwrap(),
        secure: true,
        create: false,
        permissive: false,
        case_insensitive: false,
        umask: 0o022,
        max_upload: None,
        dirs: Vec::new(),
    }
}

fn world_readable(path: &Path, body: &[u8]) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn shapes_that_leave_the_root_are_refused() {
    for bad in [
        &b"../etc/passwd"[..],
        b"a/../../b",
        b"/..",
        b"a/..",
        b"",
        b"/",
        b"a\0b",
    ] {
        assert!(
            matches!(relative_path(bad), Err(FsError::Access(_))),
            "{bad:?}"
        );
    }
    assert_eq!(
        relative_path(b"/boot//grub/./x").unwrap(),
        Path::new("boot/grub/x")
    );
    assert_eq!(
        relative_path(b"//etc/passwd").unwrap(),
        Path::new("etc/passwd")
    );
}

#[test]
fn reads_inside_root_and_refuses_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    world_readable(&dir.path().join("pxelinux.0"), b"boot");
    world_readable(&outside.path().join("secret"), b"no");
    symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
    let p = policy(dir.path());
    let (_, size) = p.open_read(&p.resolve(b"/pxelinux.0").unwrap()).unwrap();
    assert_eq!(size, 4);
    assert!(matches!(
        p.open_read(&p.resolve(b"link").unwrap()),
        Err(FsError::Access(_))
    ));
    assert!(matches!(
        p.open_read(&p.resolve(b"missing").unwrap()),
        Err(FsError::NotFound)
    ));
    let lax = RootPolicy { secure: false, ..p };
    assert!(lax.open_read(&lax.resolve(b"link").unwrap()).is_ok());
}

#[test]
fn fifos_and_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    nix::unistd::mkfifo(
        &dir.path().join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o666),
    )
    .unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let p = policy(dir.path());
    for name in [&b"fifo"[..], b"sub"] {
        assert!(matches!(
            p.open_read(&p.resolve(name).unwrap()),
            Err(FsError::Access(_))
        ));
    }
    assert!(matches!(
        p.open_read(Path::new("/dev/null")),
        Err(FsError::Access(_))
    ));
}

#[test]
fn a_device_node_inside_the_root_is_refused() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "mknod needs root, and CI is set"
        );
        eprintln!("SKIP: mknod needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null");
    nix::sys::stat::mknod(
        &node,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let p = RootPolicy {
        permissive: true,
        ..policy(dir.path())
    };
    assert!(matches!(
        p.open_read(&p.resolve(b"null").unwrap()),
        Err(FsError::Access(_))
    ));
}

#[test]
fn case_insensitive_lookup_finds_windows_names() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("Boot")).unwrap();
    world_readable(&dir.path().join("Boot/BCD"), b"bcd");
    let p = RootPolicy {
        case_insensitive: true,
        ..policy(dir.path())
    };
    let path = p.resolve(b"/boot/bcd").unwrap();
    assert_eq!(p.open_read(&path).unwrap().1, 3);
}

#[test]
fn upload_needs_create_and_lands_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let p = policy(dir.path());
    let target = p.resolve(b"router-confg").unwrap();
    let refused = p.begin_upload(&target, None).unwrap_err();
    assert!(matches!(refused, FsError::NoCreate), "{refused:?}");
    assert_eq!(refused.to_tftp().0, ErrorCode::FileNotFound, "as tftpd-hpa");
    let p = RootPolicy { create: true, ..p };
    let mut up = p.begin_upload(&target, Some(10)).unwrap();
    up.write(b"hostname r1\n").unwrap();
    assert!(!target.exists(), "nothing visible before commit");
    up.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"hostname r1\n");
    let mode = fs::metadata(&target).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o644, "umask applied");
    let leftovers = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1);
}

#[test]
fn aborted_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = RootPolicy {
        create: true,
        ..policy(dir.path())
    };
    let mut up = p.begin_upload(&p.resolve(b"x").unwrap(), None).unwrap();
    up.write(b"partial").unwrap();
    drop(up);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn existing_file_replaced_only_when_world_writable() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cfg");
    world_readable(&target, b"old");
    let p = RootPolicy {
        create: true,
        ..policy(dir.path())
    };
    let refused = p.begin_upload(&target, None).unwrap_err();
    assert!(matches!(refused, FsError::NotWritable), "{refused:?}");
    assert_eq!(refused.to_tftp().0, ErrorCode::AccessViolation);
    fs::set_permissions(&target, fs::Permissions::from_mode(0o666)).unwrap();
    let mut up = p.begin_upload(&target, None).unwrap();
    up.write(b"new").unwrap();
    up.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"new");
}

#[test]
fn an_announced_size_must_fit_the_limit_and_the_free_space() {
    assert!(upload_fits(100, None, 100).is_ok());
    assert!(upload_fits(100, Some(100), 1000).is_ok());
    assert!(matches!(
        upload_fits(101, None, 100),
        Err(FsError::DiskFull(why)) if why.contains("100 free")
    ));
    assert!(matches!(
        upload_fits(101, Some(100), u64::MAX),
        Err(FsError::DiskFull(why)) if why.contains("upload limit")
    ));
    assert_eq!(
        upload_fits(1, None, 0).unwrap_err().to_tftp().0,
        ErrorCode::DiskFull
    );
}

#[test]
fn size_limits_are_disk_full() {
    let dir = tempfile::tempdir().unwrap();
    let p = RootPolicy {
        create: true,
        max_upload: Some(5),
        ..policy(dir.path())
    };
    let path = p.resolve(b"big").unwrap();
    assert!(matches!(
        p.begin_upload(&path, Some(6)),
        Err(FsError::DiskFull(_))
    ));
    assert!(matches!(
        p.begin_upload(&path, Some(u64::MAX)),
        Err(FsError::DiskFull(_))
    ));
    let mut up = p.begin_upload(&path, None).unwrap();
    assert!(matches!(up.write(b"123456"), Err(FsError::DiskFull(_))));
}

#[test]
fn uploads_are_world_writable_by_default_so_the_next_one_replaces_them() {
    assert_eq!(default_umask(false), 0);
    let dir = tempfile::tempdir().unwrap();
    let p = RootPolicy {
        create: true,
        umask: default_umask(false),
        ..policy(dir.path())
    };
    let target = p.resolve(b"r1-confg").unwrap();
    for night in [&b"first\n"[..], b"second\n"] {
        let mut up = p.begin_upload(&target, None).unwrap();
        up.write(night).unwrap();
        up.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), night);
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o666);
    }
}

#[test]
fn netboots_own_files_are_reserved_names() {
    for name in [
        &b".netboot-versions/r1-confg/20261207T031500Z"[..],
        b"backups/.netboot-versions/x",
        b"/.netboot-upload-abc",
    ] {
        assert!(
            matches!(relative_path(name), Err(FsError::Access(_))),
            "{name:?}"
        );
    }
    assert!(relative_path(b".netboot.cfg").is_ok(), "only the prefix");
}
