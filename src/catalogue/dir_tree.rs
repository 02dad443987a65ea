//! A directory on disk as a [`Tree`]: its regular files, found by a bounded
//! walk that follows no symbolic link and skips hidden names, and read with
//! positioned reads (a file is opened without following a link).

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::tree::{Tree, TreeError};

/// Deepest directory level walked below the entry's directory.
const MAX_DEPTH: usize = 6;
/// Most files listed: a directory entry is a kernel, initrds and a few
/// configuration files, not a mirror.
const MAX_FILES: usize = 4096;

/// The files under one directory.
#[derive(Debug)]
pub struct DirTree {
    dir: PathBuf,
    files: BTreeMap<String, u64>,
}

impl DirTree {
    /// Lists `dir` (bounded: [`MAX_DEPTH`] levels, [`MAX_FILES`] files).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let mut files = BTreeMap::new();
        walk(dir, "", 0, &mut files)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// The directory listed.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    out: &mut BTreeMap<String, u64>,
) -> std::io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') || out.len() >= MAX_FILES {
            continue;
        }
        let kind = item.file_type()?;
        let path = format!("{prefix}{name}");
        if kind.is_file() {
            out.insert(path, item.metadata()?.len());
        } else if kind.is_dir() && depth < MAX_DEPTH {
            walk(&item.path(), &format!("{path}/"), depth + 1, out)?;
        }
    }
    Ok(())
}

impl Tree for DirTree {
    fn files(&self) -> &BTreeMap<String, u64> {
        &self.files
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, TreeError> {
        if !self.files.contains_key(path) {
            return Err(TreeError::Missing(path.into()));
        }
        let io = |error| TreeError::Io {
            path: path.into(),
            error,
        };
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.dir.join(path))
            .map_err(io)?;
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match file
                .read_at(&mut buf[filled..], offset + filled as u64)
                .map_err(io)?
            {
                0 => break,
                n => filled += n,
            }
        }
        buf.truncate(filled);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_regular_files_and_skips_hidden_names_and_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("casper")).unwrap();
        std::fs::write(dir.path().join("casper/vmlinuz"), b"kernel").unwrap();
        std::fs::write(dir.path().join(".hidden"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
        let tree = DirTree::open(dir.path()).unwrap();
        assert_eq!(tree.files().keys().collect::<Vec<_>>(), ["casper/vmlinuz"]);
        assert_eq!(tree.read_at("casper/vmlinuz", 1, 3).unwrap(), b"ern");
        assert!(tree.read_at("passwd", 0, 3).is_err());
    }
}
