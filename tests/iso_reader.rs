//! The ISO 9660 reader (`netboot::catalogue::iso`) over images built here
//! with xorriso, as distributions build theirs: Rock Ridge + Joliet with a
//! BIOS and an EFI El Torito entry, Joliet only, plain ISO 9660, a file over
//! 4 GiB (several extents, in a sparse image), and the same images cut
//! short, corrupted or looped. Each test checks what a user would: the
//! names, the sizes, the bytes read back, the boot entries, the message.
//! Needs xorriso (Debian package `xorriso`, in .ci/install-deps.sh).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use netboot::catalogue::iso::{read_image, Emulation, IsoError, IsoTree, Limits, Platform, ReadAt};
use netboot::catalogue::tree::Tree;

const LONG_NAME: &str = "isolinux/A Very Long File Name With Spaces.cfg";
const DEEP: &str = "deep/a/b/c/d/e/f/g/h/i/file.txt";

/// Runs `xorriso -as mkisofs ARGS`; fails loudly when xorriso is missing.
fn mkisofs(args: &[&str], stdout: Stdio) -> std::process::Child {
    Command::new("xorriso")
        .arg("-as")
        .arg("mkisofs")
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("xorriso is required for the ISO reader tests (apt-get install xorriso, see .ci/install-deps.sh): {e}")
        })
}

fn build(dir: &Path, out: &Path, args: &[&str]) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "-V",
        "NETBOOT_TEST",
        "-o",
        out.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    let output = mkisofs(&all, Stdio::null()).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "xorriso failed: {err}");
}

/// A deterministic "kernel": bytes no two offsets of which are alike by chance.
fn kernel_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A tree laid out like an installer's, with the awkward cases.
fn source_tree(root: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("install.amd/vmlinuz", kernel_bytes(300_000)),
        ("install.amd/initrd.gz", kernel_bytes(5000)[100..].to_vec()),
        ("isolinux/isolinux.bin", kernel_bytes(2048)),
        (LONG_NAME, b"label install\n".to_vec()),
        ("EFI/boot/efi.img", vec![0xEF; 65536]),
        ("empty", Vec::new()),
        (DEEP, b"deep\n".to_vec()),
    ];
    for (path, bytes) in &files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::os::unix::fs::symlink("install.amd/vmlinuz", root.join("vmlinuz-link")).unwrap();
    files
}

struct Built {
    _dir: tempfile::TempDir,
    iso: PathBuf,
    files: Vec<(&'static str, Vec<u8>)>,
}

fn built(args: &[&str]) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let files = source_tree(&src);
    let iso = dir.path().join("image.iso");
    build(&src, &iso, args);
    Built {
        _dir: dir,
        iso,
        files,
    }
}

const BOOTABLE: &[&str] = &[
    "-R",
    "-J",
    "-b",
    "isolinux/isolinux.bin",
    "-c",
    "isolinux/boot.cat",
    "-no-emul-boot",
    "-boot-load-size",
    "4",
    "-eltorito-alt-boot",
    "-e",
    "EFI/boot/efi.img",
    "-no-emul-boot",
];

fn open(iso: &Path) -> IsoTree<File> {
    IsoTree::open(File::open(iso).unwrap(), &Limits::default()).unwrap()
}

#[test]
fn rock_ridge_names_sizes_bytes_and_boot_entries() {
    let b = built(BOOTABLE);
    let tree = open(&b.iso);
    assert_eq!(tree.image().volume_id, "NETBOOT_TEST");
    let mut expected: Vec<&str> = b.files.iter().map(|(p, _)| *p).collect();
    expected.push("isolinux/boot.cat");
    expected.sort();
    let listed: Vec<&str> = tree.files().keys().map(String::as_str).collect();
    assert_eq!(
        listed, expected,
        "the symlink is not a file; everything else is"
    );
    for (path, bytes) in &b.files {
        assert_eq!(tree.size(path), Some(bytes.len() as u64), "{path}");
        assert_eq!(&tree.read(path, 1 << 20).unwrap(), bytes, "{path}");
    }
    let kernel = &b.files[0].1;
    assert_eq!(
        tree.read_at("install.amd/vmlinuz", 299_990, 100).unwrap(),
        kernel[299_990..]
    );
    assert_eq!(
        tree.read_at("install.amd/vmlinuz", 400_000, 10).unwrap(),
        b""
    );
    assert!(tree.image().files["empty"].extents.is_empty());

    let boot = &tree.image().boot;
    assert_eq!(boot.len(), 2, "{boot:?}");
    assert_eq!(boot[0].platform, Platform::Bios);
    assert_eq!(boot[0].emulation, Emulation::NoEmulation);
    assert_eq!(boot[0].path.as_deref(), Some("isolinux/isolinux.bin"));
    assert_eq!(boot[1].platform, Platform::Efi);
    assert_eq!(boot[1].path.as_deref(), Some("EFI/boot/efi.img"));
    assert_eq!(boot[1].extent.len, 65536);
    let mut esp = vec![0u8; 65536];
    let file = File::open(&b.iso).unwrap();
    file.read_exact_at(&mut esp, boot[1].extent.offset).unwrap();
    assert_eq!(
        esp,
        vec![0xEF; 65536],
        "the EFI boot image's extent holds its bytes"
    );
}

#[test]
fn joliet_names_when_there_is_no_rock_ridge() {
    let b = built(&["--norock", "-J"]);
    let tree = open(&b.iso);
    assert_eq!(tree.read(LONG_NAME, 100).unwrap(), b"label install\n");
    assert_eq!(
        tree.read("EFI/boot/efi.img", 1 << 20).unwrap(),
        vec![0xEF; 65536]
    );
    assert_eq!(tree.size(DEEP), Some(5));
    assert!(tree.image().boot.is_empty());
}

#[test]
fn plain_iso_9660_names_are_lower_cased_without_versions() {
    let b = built(&["--norock"]);
    let tree = open(&b.iso);
    let listed: Vec<&str> = tree.files().keys().map(String::as_str).collect();
    assert!(listed.contains(&"install.amd/vmlinuz"), "{listed:?}");
    assert!(listed.contains(&"isolinux/a_very_l.cfg"), "{listed:?}");
    assert!(listed.contains(&"efi/boot/efi.img"), "{listed:?}");
    assert_eq!(tree.find("/EFI/BOOT/EFI.IMG"), Some("efi/boot/efi.img"));
    assert_eq!(
        tree.read("install.amd/initrd.gz", 1 << 20).unwrap(),
        b.files[1].1
    );
}

fn copy_of(iso: &Path, len: u64) -> Vec<u8> {
    let mut bytes = std::fs::read(iso).unwrap();
    bytes.truncate(len as usize);
    bytes
}

#[test]
fn a_copy_cut_short_is_truncated_and_garbage_is_not_an_iso() {
    let b = built(BOOTABLE);
    let full = std::fs::metadata(&b.iso).unwrap().len();
    let half = copy_of(&b.iso, full / 2);
    let err = read_image(half.as_slice(), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("truncated: the volume ends at byte {full}, past the end of the image ({} bytes); wait for the copy to finish or copy it again", full / 2)
    );

    // The volume size patched to the cut: now a file is past the end.
    let mut cut = copy_of(&b.iso, 100 * 2048);
    let pvd = 16 * 2048;
    cut[pvd + 80..pvd + 84].copy_from_slice(&100u32.to_le_bytes());
    cut[pvd + 84..pvd + 88].copy_from_slice(&100u32.to_be_bytes());
    match read_image(cut.as_slice(), &Limits::default()) {
        Err(IsoError::Truncated { what, end, len }) => {
            assert!(what.starts_with("file "), "{what}");
            assert!(end > len && len == 100 * 2048, "{end} {len}");
        }
        other => panic!("expected Truncated, got {other:?}"),
    }

    let err = read_image(copy_of(&b.iso, 20_000).as_slice(), &Limits::default()).unwrap_err();
    assert!(matches!(err, IsoError::NotIso(_)), "{err}");
    let garbage = kernel_bytes(1 << 20);
    let err = read_image(garbage.as_slice(), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an ISO 9660 image: no primary volume descriptor at 32 KiB"
    );
}

/// The root directory's sector and the offset of its record named `name`.
fn record(img: &[u8], name: &[u8]) -> (u32, usize) {
    let pvd = 16 * 2048;
    let root = u32::from_le_bytes(img[pvd + 158..pvd + 162].try_into().unwrap());
    let mut at = root as usize * 2048;
    loop {
        let len = img[at] as usize;
        assert!(len > 0, "no record {name:?} in the root directory");
        if &img[at + 33..at + 33 + img[at + 32] as usize] == name {
            return (root, at);
        }
        at += len;
    }
}

#[test]
fn a_directory_that_contains_its_ancestor_is_a_loop() {
    let b = built(&["-R"]);
    let mut img = std::fs::read(&b.iso).unwrap();
    let (root, at) = record(&img, b"DEEP");
    img[at + 2..at + 6].copy_from_slice(&root.to_le_bytes());
    img[at + 6..at + 10].copy_from_slice(&root.to_be_bytes());
    let err = read_image(img.as_slice(), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "damaged ISO 9660 image: directory loop at directory /deep"
    );
}

#[test]
fn limits_refuse_too_many_files_and_too_deep_trees() {
    let b = built(&["-R"]);
    let img = std::fs::read(&b.iso).unwrap();
    let few = Limits {
        max_files: 3,
        ..Limits::default()
    };
    let err = read_image(img.as_slice(), &few).unwrap_err();
    assert!(
        matches!(
            err,
            IsoError::TooLarge {
                what: "files",
                limit: 3
            }
        ),
        "{err}"
    );
    let shallow = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let err = read_image(img.as_slice(), &shallow).unwrap_err();
    assert!(
        matches!(
            err,
            IsoError::TooLarge {
                what: "directory depth",
                ..
            }
        ),
        "{err}"
    );
    let stingy = Limits {
        max_metadata_bytes: 10_000,
        ..Limits::default()
    };
    let err = read_image(img.as_slice(), &stingy).unwrap_err();
    assert_eq!(err.to_string(), "too large to index: bytes of metadata read (limit 10000); such an image is not a boot image");
    assert!(read_image(img.as_slice(), &Limits::default()).is_ok());
}

/// Copies a stream into `out`, leaving holes for blocks of zeros.
fn write_sparse(mut from: impl Read, out: &Path) {
    let mut file = File::create(out).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let zeros = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = from.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if buf[..n] == zeros[..n] {
            file.seek(SeekFrom::Current(n as i64)).unwrap();
        } else {
            file.write_all(&buf[..n]).unwrap();
        }
        len += n as u64;
    }
    file.set_len(len).unwrap();
}

#[test]
fn a_file_over_4_gib_has_several_extents_and_reads_across_them() {
    const SIZE: u64 = (4 << 30) + (64 << 20);
    const FIRST_EXTENT: u64 = (4 << 30) - 2048;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let big = File::create(src.join("live.squashfs")).unwrap();
    big.set_len(SIZE).unwrap();
    for (at, mark) in [
        (0, &b"HEADMARK"[..]),
        (FIRST_EXTENT - 4, b"BOUNDARY"),
        (SIZE - 8, b"TAILMARK"),
    ] {
        std::os::unix::fs::FileExt::write_all_at(&big, mark, at).unwrap();
    }
    std::fs::write(src.join("vmlinuz"), b"kernel").unwrap();
    let iso = dir.path().join("big.iso");
    let mut child = mkisofs(
        &[
            "-R",
            "-J",
            "-iso-level",
            "3",
            "-o",
            "-",
            src.to_str().unwrap(),
        ],
        Stdio::piped(),
    );
    write_sparse(child.stdout.take().unwrap(), &iso);
    assert!(child.wait().unwrap().success());

    let started = Instant::now();
    let tree = open(&iso);
    let took = started.elapsed();
    eprintln!(
        "indexed a {} byte image in {took:?}",
        std::fs::metadata(&iso).unwrap().len()
    );
    assert!(took.as_millis() < 1000, "indexing took {took:?}");
    let file = &tree.image().files["live.squashfs"];
    assert_eq!(file.size, SIZE);
    assert_eq!(file.extents.len(), 2, "{:?}", file.extents);
    assert_eq!(file.extents[0].len, FIRST_EXTENT);
    assert_eq!(tree.read_at("live.squashfs", 0, 8).unwrap(), b"HEADMARK");
    assert_eq!(
        tree.read_at("live.squashfs", FIRST_EXTENT - 4, 8).unwrap(),
        b"BOUNDARY"
    );
    assert_eq!(
        tree.read_at("live.squashfs", SIZE - 8, 100).unwrap(),
        b"TAILMARK"
    );
    assert_eq!(tree.read("vmlinuz", 100).unwrap(), b"kernel");
}
