//! The TFTP settings `netboot serve` shares with `netboot tftp`: map file,
//! case folding, transfer ports, limits, busy poll, timeouts. Each comes
//! from its flag, else from the `tftp:` key in netboot.yaml, else the
//! default, and a bad value is refused naming the flag or the key.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{dhcp::switch, invalid, PlanError};
use crate::config::TftpSection;
use crate::serve::options::ServeOptions;
use crate::tftp::config::{self, TftpConfig, MAX_BUSY_POLL_US, MIN_RETRANSMIT_US};
use crate::tftp::mapfile;

/// The flag's value with its name, else the key's with its name.
fn pick<T: Clone>(
    flag: &Option<T>,
    flag_name: &'static str,
    key: &Option<T>,
    key_name: &'static str,
) -> Option<(T, &'static str)> {
    flag.clone()
        .map(|v| (v, flag_name))
        .or_else(|| key.clone().map(|v| (v, key_name)))
}

/// Lays the flags and `section` over `cfg`; `base` is the directory of
/// netboot.yaml (a map file named there is relative to it).
pub(super) fn apply(
    args: &ServeOptions,
    section: &TftpSection,
    base: &Path,
    cfg: &mut TftpConfig,
) -> Result<(), PlanError> {
    let map = args
        .map_file
        .clone()
        .or_else(|| section.map_file.as_deref().map(|p| base.join(p)));
    if let Some(path) = map {
        let rules = mapfile::load(&path).map_err(|e| invalid(e.to_string()))?;
        cfg.remap.store(Arc::new(rules));
        cfg.map_file = Some(path);
    }
    cfg.root.case_insensitive = switch(args.case_insensitive, section.case_insensitive, true);
    let ports = (&args.port_range, "--port-range", &section.port_range);
    if let Some((text, name)) = pick(ports.0, ports.1, ports.2, "tftp.port_range") {
        let range = config::parse_port_range(&text).map_err(|m| invalid(format!("{name}: {m}")))?;
        cfg.port_range = Some(range);
    }
    limits(args, section, cfg)?;
    timing(args, section, cfg)
}

fn at_least_one(value: Option<(usize, &str)>) -> Result<Option<usize>, PlanError> {
    match value {
        Some((0, name)) => Err(invalid(format!("{name} must be at least 1"))),
        other => Ok(other.map(|(v, _)| v)),
    }
}

fn limits(
    args: &ServeOptions,
    section: &TftpSection,
    cfg: &mut TftpConfig,
) -> Result<(), PlanError> {
    let all = pick(
        &args.max_transfers,
        "--max-transfers",
        &section.max_transfers,
        "tftp.max_transfers",
    );
    if let Some(n) = at_least_one(all)? {
        cfg.max_transfers = n;
    }
    let one = pick(
        &args.max_per_client,
        "--max-per-client",
        &section.max_per_client,
        "tftp.max_per_client",
    );
    if let Some(n) = at_least_one(one)? {
        cfg.max_per_client = n;
    }
    Ok(())
}

fn timing(
    args: &ServeOptions,
    section: &TftpSection,
    cfg: &mut TftpConfig,
) -> Result<(), PlanError> {
    if let Some((us, name)) = pick(
        &args.busy_poll,
        "--busy-poll",
        &section.busy_poll_us,
        "tftp.busy_poll_us",
    ) {
        if us > MAX_BUSY_POLL_US {
            return Err(invalid(format!(
                "{name} must be at most {MAX_BUSY_POLL_US} microseconds"
            )));
        }
        cfg.busy_poll = Duration::from_micros(us);
    }
    if let Some((secs, name)) = pick(
        &args.tftp_timeout,
        "--tftp-timeout",
        &section.timeout,
        "tftp.timeout",
    ) {
        if secs == 0 {
            return Err(invalid(format!("{name} must be at least 1 second")));
        }
        cfg.give_up_after = Duration::from_secs(secs);
    }
    let retransmit = pick(
        &args.retransmit,
        "--retransmit",
        &section.retransmit_us,
        "tftp.retransmit_us",
    );
    if let Some((us, name)) = retransmit {
        if us < MIN_RETRANSMIT_US {
            return Err(invalid(format!(
                "{name} must be at least {MIN_RETRANSMIT_US} microseconds"
            )));
        }
        let min = cfg.rto.min;
        cfg.set_retransmit(Duration::from_micros(us), min);
    }
    Ok(())
}

#[cfg(test)]
#[path = "tftp_tests.rs"]
mod tests;
