//! The disk side of loading: listing and reading the profile files, reading
//! template files, and asking whether boot files exist. Everything else in
//! loading is pure and lives in `build` and `checks`.

use std::path::{Path, PathBuf};

use super::build::{SourceFile, Sources};
use super::checks::build_registry;
use super::diag::{Diagnostic, Pos};
use super::lookup::Registry;

/// Loads and validates every profile in `profiles_dir` (files ending in
/// `.yaml` or `.yml`, not hidden, in file-name order) against the boot files
/// under `boot_root`. Returns the registry, or every problem found.
pub fn check(profiles_dir: &Path, boot_root: &Path) -> Result<Registry, Vec<Diagnostic>> {
    let files = read_profile_files(profiles_dir)?;
    let sources = FsSources {
        profiles_dir: profiles_dir.to_path_buf(),
        boot_root: boot_root.to_path_buf(),
    };
    build_registry(&files, &sources)
}

/// Reads the profile files of `dir`, sorted by name.
pub fn read_profile_files(dir: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let whole = |e: std::io::Error| {
        vec![Diagnostic::new(
            dir,
            Pos::default(),
            format!("cannot read the profiles directory: {e}"),
        )]
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(whole)? {
        let path = entry.map_err(whole)?.path();
        if is_profile_file(&path) {
            paths.push(path);
        }
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push(SourceFile { path, text }),
            Err(e) => diags.push(Diagnostic::new(
                &path,
                Pos::default(),
                format!("cannot read: {e}"),
            )),
        }
    }
    if diags.is_empty() {
        Ok(files)
    } else {
        Err(diags)
    }
}

/// Whether `path` names a profile file: `*.yaml` / `*.yml`, not hidden, a file.
pub fn is_profile_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    yaml && !name.starts_with('.') && path.is_file()
}

struct FsSources {
    profiles_dir: PathBuf,
    boot_root: PathBuf,
}

impl Sources for FsSources {
    fn read_template(&self, rel: &str) -> Result<(PathBuf, String), String> {
        let path = self.profiles_dir.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((path, text)),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn boot_file_exists(&self, rel: &str) -> bool {
        self.boot_root.join(rel).is_file()
    }

    fn boot_dir_exists(&self, rel: &str) -> bool {
        self.boot_root.join(rel).is_dir()
    }
}
