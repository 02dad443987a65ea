//! `netboot backups`: flags, and where the history is looked for (the
//! directory given, else the boot root as `netboot check` finds it).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::FileConfig;

/// Flags of `netboot backups`.
#[derive(Debug, Clone, Args)]
pub struct BackupsArgs {
    /// A file with history: its path as listed (`backups/r1-confg`), or its
    /// name alone when only one file has it. Without it, every file with
    /// history is listed.
    pub name: Option<String>,

    /// The older side of the diff: a number back from the newest (0 is the
    /// current file, 1 the one it replaced), `current`, or a version name
    /// or a unique prefix of one (`20261206`). Default: 1.
    #[arg(long, value_name = "VERSION", requires = "name")]
    pub from: Option<String>,

    /// The newer side of the diff, as --from. Default: 0 (current).
    #[arg(long, value_name = "VERSION", requires = "name")]
    pub to: Option<String>,

    /// Directory to search for upload history instead of the boot root.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["root", "config"])]
    pub dir: Option<PathBuf>,

    /// Boot root (searched whole, so every upload_dir is found).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// `netboot.yaml` naming the root; default: `./netboot.yaml` when it
    /// exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl BackupsArgs {
    /// The directory to search: `--dir`, `--root`, the file's `root:`
    /// (relative to the file), or `boot-images`.
    pub fn search_dir(&self, file: &FileConfig, base: &Path) -> PathBuf {
        self.dir
            .clone()
            .or_else(|| self.root.clone())
            .or_else(|| file.root.as_deref().map(|r| base.join(r)))
            .unwrap_or_else(|| "boot-images".into())
    }
}
