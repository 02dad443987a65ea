//! What `netboot serve` checks before it touches anything (an interface, a
//! socket, the lease store), and all that `netboot check` runs: the file
//! and the flags that need no interface (ranges, relay pools, lease time,
//! TFTP settings, default boot files, the upload directory), the boot root
//! and profiles directory, then the profiles themselves. One code path, so
//! `check` says ok exactly when `serve` would start; every problem is found
//! in one pass and named with its key or flag, its file:line and the fix.

use std::path::{Path, PathBuf};

use tracing::warn;

use super::plan::{self, at_range, at_relay, lease_time, parse_range, relay_pool};
use super::{load_file, ServeError};
use crate::config::FileConfig;
use crate::registry::{self, Diagnostics, Registry};
use crate::serve::options::ServeOptions;

/// Settings and profiles that passed every check.
pub struct Preflight {
    /// `netboot.yaml` (or the defaults).
    pub file: FileConfig,
    /// The directory the file's relative paths are taken from.
    pub base: PathBuf,
    /// The boot root, canonical.
    pub root: PathBuf,
    /// The profiles directory (may not exist when it is the default).
    pub profiles: PathBuf,
    /// The validated profiles.
    pub registry: Registry,
}

/// Problems in `netboot.yaml` or the flags, each on a line of its own.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.0))]
pub struct SettingsProblems(pub Vec<String>);

fn render(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => {
            let lines: Vec<String> = many.iter().map(|p| format!("  {p}")).collect();
            format!(
                "{} problem(s) in the settings:\n{}",
                many.len(),
                lines.join("\n")
            )
        }
    }
}

/// Runs every check `serve` runs before it starts.
pub fn preflight(args: &ServeOptions) -> Result<Preflight, ServeError> {
    let (file, base) = load_file(args.config.as_deref())?;
    let dirs = plan::directories(args, &file, &base);
    let mut problems = Vec::new();
    let root = match dirs.root.canonicalize() {
        Ok(root) if root.is_dir() => Some(root),
        Ok(_) => {
            problems.push(format!(
                "{}: the boot root {} is not a directory",
                dirs.root_place,
                dirs.root.display()
            ));
            None
        }
        Err(e) => {
            problems.push(format!(
                "{}: the boot root {} cannot be used ({}); create it, or name another with --root",
                dirs.root_place,
                dirs.root.display(),
                io_reason(&e)
            ));
            None
        }
    };
    if dirs.profiles_given && !dirs.profiles.is_dir() {
        problems.push(format!(
            "{}: the profiles directory {} does not exist; create it, or name the right one",
            dirs.profiles_place,
            dirs.profiles.display()
        ));
    }
    settings(args, &file, &base, root.as_deref(), &mut problems);
    let Some(root) = root.filter(|_| problems.is_empty()) else {
        return Err(ServeError::Settings(SettingsProblems(problems)));
    };
    let registry = load_registry(&dirs.profiles, &root)?;
    let in_file = super::reservations6::file_addresses(&file);
    let clashes = super::reservations6::clashes(&in_file, &registry);
    if !clashes.is_empty() {
        return Err(ServeError::Settings(SettingsProblems(clashes)));
    }
    for note in half_chains(&|name| root.join(name).is_file()) {
        warn!("{}: {note}", root.display());
    }
    Ok(Preflight {
        file,
        base,
        root,
        profiles: dirs.profiles,
        registry,
    })
}

/// A signed shim in the root without the GRUB it loads (or the reverse of
/// nothing: GRUB alone is just a boot loader): the chain is not the UEFI
/// default then, and shim would stop with "Failed to open".
fn half_chains(exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    use crate::catalogue::signed_boot::{ROOT_ARM64, ROOT_X64};
    [ROOT_X64, ROOT_ARM64]
        .into_iter()
        .filter(|(shim, grub)| exists(shim) && !exists(grub))
        .map(|(shim, grub)| {
            format!(
                "{shim} is here but {grub}, the GRUB it loads, is not, so it is not the \
                 UEFI default; run boot-images/fill.sh again, or add {grub}"
            )
        })
        .collect()
}

/// Loads the profiles; a missing directory means "no profiles" (the caller
/// has refused a missing directory that was asked for by name).
pub fn load_registry(profiles: &Path, root: &Path) -> Result<Registry, ServeError> {
    if !profiles.is_dir() {
        warn!(
            "no profiles directory at {}: every client gets the default boot files",
            profiles.display()
        );
        return Ok(Registry::default());
    }
    registry::check(profiles, root).map_err(|d| ServeError::Profiles(Diagnostics(d)))
}

fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    text.find(" (os error")
        .map_or(text.clone(), |at| text[..at].to_string())
}

/// The checks of the settings that need no interface.
fn settings(
    args: &ServeOptions,
    file: &FileConfig,
    base: &Path,
    root: Option<&Path>,
    out: &mut Vec<String>,
) {
    let section = &file.dhcp;
    if let Some(range) = args.range.as_deref().or(section.range.as_deref()) {
        if let Err(e) = parse_range(range) {
            out.push(at_range(args, file, e).to_string());
        }
    }
    for (i, relay) in section.relay_pools.iter().enumerate() {
        if let Err(e) = relay_pool(relay) {
            out.push(at_relay(file, i, e).to_string());
        }
    }
    if let Err(e) = lease_time(args, section) {
        out.push(format!(
            "{}: {e}",
            flag_or_key(
                args.lease_time.is_some(),
                "--lease-time",
                file,
                &["dhcp", "lease_time"]
            )
        ));
    }
    if let Err(e) = plan::server_name(args, section) {
        out.push(e.to_string());
    }
    if let Err(e) = plan::http::configured_listen(file, 80) {
        out.push(e.to_string());
    }
    out.extend(super::dhcp6::problems(file));
    let Some(root) = root else { return };
    if let Err(e) = plan::tftp_config(args, file, base, &[], root.to_path_buf()) {
        out.push(e.to_string());
    }
    boot_files(args, file, root, out);
    upload_dir(file, root, out);
}

fn flag_or_key(flag_given: bool, flag: &str, file: &FileConfig, key: &[&str]) -> String {
    if flag_given {
        flag.to_string()
    } else {
        file.place(key)
    }
}

/// Default boot files given by flag or file: each a file in the root (or,
/// for `boot.http`, an http:// or https:// URL).
fn boot_files(args: &ServeOptions, file: &FileConfig, root: &Path, out: &mut Vec<String>) {
    let b = &file.boot;
    let given = [
        (&args.boot_bios, "--boot-bios", &b.bios, "bios"),
        (&args.boot_uefi, "--boot-uefi", &b.uefi_x64, "uefi_x64"),
        (&None, "", &b.uefi_ia32, "uefi_ia32"),
        (
            &args.boot_uefi_arm64,
            "--boot-uefi-arm64",
            &b.uefi_arm64,
            "uefi_arm64",
        ),
        (&args.boot_ipxe, "--boot-ipxe", &b.ipxe, "ipxe"),
    ];
    for (flag_value, flag, key_value, key) in given {
        let Some(name) = flag_value.as_ref().or(key_value.as_ref()) else {
            continue;
        };
        if let Some(problem) = boot_file_problem(name, root) {
            let place = flag_or_key(flag_value.is_some(), flag, file, &["boot", key]);
            out.push(format!("{place}: {problem}"));
        }
    }
    let flagged = [
        "bios",
        "uefi_x64",
        "uefi_ia32",
        "uefi_arm64",
        "ipxe",
        "http",
    ];
    for (key, value) in b.entries() {
        let Some(value) = value.as_ref().filter(|_| !flagged.contains(&key)) else {
            continue;
        };
        let problem = if key.starts_with("http_") {
            (!is_url(value)).then(|| {
                format!(
                    "{value:?} is not a URL: HTTP boot clients need http://HOST/PATH (or https://)"
                )
            })
        } else {
            boot_file_problem(value, root)
        };
        if let Some(problem) = problem {
            out.push(format!("{}: {problem}", file.place(&["boot", key])));
        }
    }
    if let Some(url) = &b.http {
        if !is_url(url) {
            out.push(format!(
                "{}: {url:?} is not a URL: UEFI HTTP boot clients need http://HOST/PATH (or https://)",
                file.place(&["boot", "http"])
            ));
        }
    }
}

fn is_url(text: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        text.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    })
}

/// Why `name` cannot be a boot file in `root`, if it cannot.
fn boot_file_problem(name: &str, root: &Path) -> Option<String> {
    if is_url(name) {
        return None;
    }
    let relative = match crate::tftp::fs::relative_path(name.as_bytes()) {
        Ok(relative) => relative,
        Err(e) => return Some(format!("{name:?} cannot be served: {e}")),
    };
    if root.join(&relative).is_file() {
        return None;
    }
    Some(format!(
        "boot file {name} is not in {}; copy it there (`sudo boot-images/fill.sh` copies the usual ones from Debian's packages)",
        root.display()
    ))
}

/// `tftp.upload_dir`: a directory inside the root.
fn upload_dir(file: &FileConfig, root: &Path, out: &mut Vec<String>) {
    let Some(dir) = &file.tftp.upload_dir else {
        return;
    };
    let place = file.place(&["tftp", "upload_dir"]);
    match crate::tftp::fs::relative_path(dir.as_bytes()) {
        Err(e) => out.push(format!(
            "{place}: {dir:?} must be a directory inside the boot root ({e})"
        )),
        Ok(relative) if !root.join(&relative).is_dir() => out.push(format!(
            "{place}: {} is not a directory; create it (`mkdir -p {}`), writable by the user netboot runs as",
            root.join(&relative).display(),
            root.join(&relative).display()
        )),
        Ok(_) => {}
    }
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;
