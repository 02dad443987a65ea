//! A read-only view of a candidate's files: a directory on disk, the inside
//! of an ISO image, or (in tests) a map in memory. The recognisers see only
//! this, so the same code recognises a layout in a folder and in an ISO.

use std::collections::BTreeMap;

/// Why a file of a tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// No such file in the tree.
    #[error("{0}: no such file")]
    Missing(String),
    /// The file is larger than the caller's limit.
    #[error("{path}: {size} bytes, more than the {limit} read here")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// The files of a candidate. Paths are relative, `/`-separated, without a
/// leading slash, as the image or directory spells them (Rock Ridge or Joliet
/// names for an ISO; the recognisers compare case-insensitively).
pub trait Tree {
    /// Every regular file with its size, in path order.
    fn files(&self) -> &BTreeMap<String, u64>;
    /// `len` bytes of `path` from `offset` (fewer at its end).
    fn read_at(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, TreeError>;

    /// A small file whole; refused past `limit` bytes.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, TreeError> {
        let size = self
            .size(path)
            .ok_or_else(|| TreeError::Missing(path.into()))?;
        if size > limit {
            return Err(TreeError::TooLarge {
                path: path.into(),
                size,
                limit,
            });
        }
        self.read_at(path, 0, size as usize)
    }

    /// The size of `path`, when it is a file of the tree.
    fn size(&self, path: &str) -> Option<u64> {
        self.files().get(path).copied()
    }

    /// The path of a file as the tree spells it, matched without regard to case.
    fn find(&self, path: &str) -> Option<&str> {
        let wanted = path.trim_start_matches('/');
        if let Some((name, _)) = self.files().get_key_value(wanted) {
            return Some(name);
        }
        self.files()
            .keys()
            .find(|name| name.eq_ignore_ascii_case(wanted))
            .map(String::as_str)
    }
}

/// A tree held in memory: for tests, and for small synthetic trees.
#[derive(Debug, Default, Clone)]
pub struct MemTree {
    sizes: BTreeMap<String, u64>,
    contents: BTreeMap<String, Vec<u8>>,
}

impl MemTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file with these bytes.
    pub fn with(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        self.sizes.insert(path.to_string(), bytes.len() as u64);
        self.contents.insert(path.to_string(), bytes);
        self
    }

    /// Adds a file of this size whose contents do not matter (zeros).
    pub fn with_size(mut self, path: &str, size: u64) -> Self {
        self.sizes.insert(path.to_string(), size);
        self.contents.remove(path);
        self
    }
}

impl Tree for MemTree {
    fn files(&self) -> &BTreeMap<String, u64> {
        &self.sizes
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, TreeError> {
        let size = self
            .size(path)
            .ok_or_else(|| TreeError::Missing(path.into()))?;
        let end = size.min(offset.saturating_add(len as u64));
        let start = offset.min(end);
        let Some(bytes) = self.contents.get(path) else {
            return Ok(vec![0; (end - start) as usize]);
        };
        Ok(bytes[start as usize..end as usize].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_file_whatever_its_case_and_reads_it() {
        let tree = MemTree::new().with("Install.amd/VMLINUZ", b"kernel".to_vec());
        assert_eq!(
            tree.find("/install.amd/vmlinuz"),
            Some("Install.amd/VMLINUZ")
        );
        assert_eq!(tree.read("Install.amd/VMLINUZ", 100).unwrap(), b"kernel");
        assert_eq!(
            tree.read_at("Install.amd/VMLINUZ", 2, 100).unwrap(),
            b"rnel"
        );
        assert!(matches!(
            tree.read("Install.amd/VMLINUZ", 3),
            Err(TreeError::TooLarge { .. })
        ));
        assert!(matches!(tree.read("nope", 3), Err(TreeError::Missing(_))));
    }
}
