//! Fuzz target: arbitrary bytes as an ISO image through
//! `catalogue::iso::read_image`, then every file read back through the
//! `Tree`. Whatever the bytes: no panic, no read outside the image (the
//! source below asserts it on every read), an end (the limits), every
//! extent and boot image inside the image, each file's size its extents'
//! sum, paths relative with no empty, `.` or `..` part, and a file's bytes
//! the image's bytes at the extents the index gives.

#![no_main]

use std::io;

use libfuzzer_sys::fuzz_target;
use netboot::catalogue::iso::{read_image, IsoTree, Limits, ReadAt};
use netboot::catalogue::tree::Tree;

/// The image as a slice that fails the run on any read past its end.
struct Strict<'a>(&'a [u8]);

impl ReadAt for Strict<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let end = offset.checked_add(buf.len() as u64);
        assert!(
            end.is_some_and(|e| e <= self.0.len() as u64),
            "read {}+{} of {}",
            offset,
            buf.len(),
            self.0.len()
        );
        self.0.read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

fn limits() -> Limits {
    Limits {
        max_depth: 32,
        max_files: 2_000,
        max_directory_bytes: 4 << 20,
        max_metadata_bytes: 16 << 20,
        max_path_table_bytes: 1 << 20,
    }
}

fn check_path(path: &str) {
    assert!(!path.starts_with('/') && !path.contains('\0'), "{path:?}");
    for part in path.split('/') {
        assert!(!part.is_empty() && part != "." && part != "..", "{path:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let src = Strict(data);
    let Ok(image) = read_image(&src, &limits()) else {
        return;
    };
    let len = data.len() as u64;
    for boot in &image.boot {
        assert!(boot.extent.offset + boot.extent.len <= len, "{boot:?}");
    }
    assert_eq!(image.files.len(), image.sizes.len());
    for (path, file) in &image.files {
        check_path(path);
        assert_eq!(image.sizes.get(path), Some(&file.size));
        assert_eq!(file.size, file.extents.iter().map(|e| e.len).sum::<u64>());
        for e in &file.extents {
            assert!(e.offset + e.len <= len, "{path}: {e:?}");
        }
    }
    let tree = IsoTree::from_parts(image, src);
    // At most the first 64 KiB of the first 200 files: bounded per input.
    for (path, size) in tree.files().iter().take(200) {
        let bytes = tree
            .read_at(path, 0, 65536)
            .expect("a file inside the image reads");
        assert_eq!(bytes.len() as u64, (*size).min(65536));
        let file = &tree.image().files[path];
        let mut expected = Vec::new();
        for r in file.ranges(0, 65536) {
            expected.extend_from_slice(&data[r.offset as usize..(r.offset + r.len) as usize]);
        }
        assert_eq!(bytes, expected, "{path}");
    }
});
