//! Fuzz target: the layout recognisers (`catalogue::recognise`) on a hostile
//! tree (names, config files, sizes). They must never panic, and every way
//! to boot they give must name only files of the tree (the menus serve those
//! paths), with at least one way per result.
//!
//! Input layout: entries separated by 0xFF, each `path\0contents`; an entry
//! whose path starts with `#` is a file of the size given by its first 8
//! contents bytes (little-endian), with zero contents.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netboot::catalogue::model::Recognised;
use netboot::catalogue::recognise::{recognise, recognise_directory};
use netboot::catalogue::tree::{MemTree, Tree};

fn tree_of(data: &[u8]) -> MemTree {
    let mut tree = MemTree::new();
    for entry in data.split(|&b| b == 0xFF) {
        let (path, contents) = match entry.iter().position(|&b| b == 0) {
            Some(at) => (&entry[..at], &entry[at + 1..]),
            None => (entry, &[][..]),
        };
        let path = String::from_utf8_lossy(path);
        match path.strip_prefix('#') {
            Some(sized) => {
                let mut size = [0u8; 8];
                let n = contents.len().min(8);
                size[..n].copy_from_slice(&contents[..n]);
                tree = tree.with_size(sized, u64::from_le_bytes(size));
            }
            None => tree = tree.with(&path, contents.to_vec()),
        }
    }
    tree
}

fn check(tree: &MemTree, r: &Recognised) {
    assert!(!r.boots.is_empty(), "{r:?}");
    for boot in &r.boots {
        let files = (!boot.kernel.is_empty()).then_some(&boot.kernel);
        for path in files.into_iter().chain(&boot.initrds) {
            assert!(tree.size(path).is_some(), "{path:?} is not in the tree: {r:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let tree = tree_of(data);
    check(&tree, &recognise(&tree));
    if let Some(r) = recognise_directory(&tree) {
        check(&tree, &r);
    }
});
