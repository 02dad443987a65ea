//! `netboot images` (the image catalogue, as `serve` would build it now) and
//! `netboot next` (a machine's one-shot boot): flags, and the two commands,
//! which find the boot root and the state directory as `serve` does.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::catalogue::next_boot::{self, NextBoot, Until};
use crate::catalogue::{report, scan};
use crate::config::ConfigFileError;
use crate::mac::MacAddr;
use crate::serve::{self, ServeOptions};

/// Flags of `netboot images`.
#[derive(Debug, Clone, Default, Args)]
pub struct ImagesArgs {
    /// Boot root to scan (default: as `netboot serve` finds it).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// `netboot.yaml` naming the boot root; default: `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Flags of `netboot next`.
#[derive(Debug, Clone, Default, Args)]
pub struct NextArgs {
    /// The machine (any common MAC spelling). Without it: list the one-shot boots set.
    pub mac: Option<String>,

    /// The catalogue entry it boots once (as `netboot images` names it).
    #[arg(requires = "mac")]
    pub entry: Option<String>,

    /// When the one-shot boot is over: once the machine has fetched the
    /// entry's kernel, or once the installer has requested `{done_url}`.
    #[arg(long, value_enum, default_value = "kernel")]
    pub until: UntilArg,

    /// Cancel the machine's one-shot boot.
    #[arg(long, requires = "mac", conflicts_with = "entry")]
    pub clear: bool,

    /// State directory (found as `netboot serve` finds it).
    #[arg(long, value_name = "DIR", env = "NETBOOT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Boot root whose catalogue names the entry (default: as `serve` finds it).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// `netboot.yaml`; default: `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--until`.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum UntilArg {
    /// The entry's kernel has been fetched.
    #[default]
    Kernel,
    /// The installer requested `{done_url}`.
    Done,
}

/// Why `images` or `next` could not do it.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    /// `netboot.yaml` unusable.
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// A bad MAC.
    #[error("{0:?} is not a MAC address (use aa:bb:cc:dd:ee:ff)")]
    Mac(String),
    /// The entry is not in the catalogue.
    #[error("{entry:?} is not in the image catalogue of {root}; entries: {known}")]
    NoEntry {
        /// As given.
        entry: String,
        /// The root scanned.
        root: String,
        /// What is there.
        known: String,
    },
    /// A MAC without an entry or `--clear`.
    #[error("name the entry the machine boots next (`netboot next MAC ENTRY`), or give --clear")]
    NoEntryGiven,
    /// The state directory could not be written.
    #[error("cannot write the one-shot boot in {dir}: {error}")]
    State {
        /// The state directory.
        dir: String,
        /// Why.
        error: std::io::Error,
    },
}

fn root_of(
    root: &Option<PathBuf>,
    config: Option<&Path>,
) -> Result<(PathBuf, PathBuf), ImagesError> {
    let (file, base) = serve::load_file(config)?;
    let options = ServeOptions {
        root: root.clone(),
        config: config.map(Path::to_path_buf),
        ..ServeOptions::default()
    };
    let dirs = serve::plan::directories(&options, &file, &base);
    Ok((dirs.root, serve::plan::state_dir(None, &file, &base)))
}

/// `netboot images`: the report.
pub fn images(args: &ImagesArgs) -> Result<String, ImagesError> {
    let (root, _) = root_of(&args.root, args.config.as_deref())?;
    Ok(report::render(&scan(&root, None)))
}

/// `netboot next`: sets, clears or lists one-shot boots; the text to print.
pub fn next(args: &NextArgs) -> Result<String, ImagesError> {
    let (root, file_state) = root_of(&args.root, args.config.as_deref())?;
    let state = args.state_dir.clone().unwrap_or(file_state);
    let Some(mac) = &args.mac else {
        return Ok(listing(&state));
    };
    let mac: MacAddr = mac.parse().map_err(|_| ImagesError::Mac(mac.clone()))?;
    let failed = |error| ImagesError::State {
        dir: state.display().to_string(),
        error,
    };
    if args.clear {
        let had = next_boot::clear(&state, &mac).map_err(failed)?;
        return Ok(if had {
            format!("{mac}: one-shot boot cancelled\n")
        } else {
            format!("{mac}: had no one-shot boot\n")
        });
    }
    let Some(entry) = args.entry.clone() else {
        return Err(ImagesError::NoEntryGiven);
    };
    let catalogue = scan(&root, None);
    if catalogue.entry(&entry).is_none() {
        let known: Vec<&str> = catalogue.entries.iter().map(|e| e.id.as_str()).collect();
        return Err(ImagesError::NoEntry {
            entry,
            root: root.display().to_string(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let until = match args.until {
        UntilArg::Kernel => Until::Kernel,
        UntilArg::Done => Until::Done,
    };
    next_boot::set(
        &state,
        &mac,
        &NextBoot {
            entry: entry.clone(),
            until,
        },
    )
    .map_err(failed)?;
    let when = match until {
        Until::Kernel => "once it has fetched the kernel",
        Until::Done => "once the installer requests its done URL",
    };
    Ok(format!(
        "{mac}: boots {entry} next, then its profile's choice again ({when})\n"
    ))
}

fn listing(state: &Path) -> String {
    let all = next_boot::list(state);
    if all.is_empty() {
        return "no one-shot boot is set\n".into();
    }
    all.iter()
        .map(|(mac, next)| {
            format!("{mac}  {}  (until {:?})\n", next.entry, next.until).to_lowercase()
        })
        .collect()
}
