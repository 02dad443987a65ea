//! `netboot tftp`'s flags turned into a validated [`TftpConfig`]: the
//! served directories and upload rules, the options granted, timing,
//! limits, the listen addresses (tftpd-hpa's `[ADDRESS][:PORT]`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::{dirs, invalid, CliError, TftpArgs, DEFAULT_PORT};
use crate::tftp::config::{self, TftpConfig, MAX_BUSY_POLL_US, MIN_RETRANSMIT_US};
use crate::tftp::fs::{default_umask, RootPolicy};
use crate::tftp::mapfile;
use crate::tftp::options::{MAX_BLKSIZE, MIN_BLKSIZE};

impl TftpArgs {
    /// Checks the flags and builds the server configuration.
    pub fn to_config(&self) -> Result<TftpConfig, CliError> {
        let root = self.root_policy()?;
        let mut cfg = TftpConfig::new(self.listen_addrs()?, root);
        self.set_options(&mut cfg)?;
        self.set_timing(&mut cfg)?;
        self.set_limits(&mut cfg)?;
        cfg.trace_blocks = self.verbosity() >= 1;
        cfg.progress_after = Duration::from_millis(self.progress_after_ms);
        cfg.ipv6_only = self.ipv6;
        Ok(cfg)
    }

    /// The served directories and the rules for reading and uploading.
    fn root_policy(&self) -> Result<RootPolicy, CliError> {
        let dirs = dirs::served_dirs(&self.directories, self.secure)?;
        let root = dirs[0].path.clone();
        let umask = match &self.umask {
            None => default_umask(self.permissive),
            Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    invalid("--umask", format!("{text:?} is not an octal mask like 022"))
                })?,
        };
        Ok(RootPolicy {
            root,
            secure: self.secure,
            create: self.create,
            permissive: self.permissive,
            case_insensitive: self.case_insensitive,
            umask,
            max_upload: self.max_upload,
            dirs,
        })
    }

    /// The options granted: block size, window, refused ones, MTU clamp.
    fn set_options(&self, cfg: &mut TftpConfig) -> Result<(), CliError> {
        cfg.options.max_blksize = self.max_blksize()?;
        if self.max_windowsize == 0 {
            return Err(invalid("--max-windowsize", "must be at least 1"));
        }
        cfg.options.max_windowsize = self.max_windowsize;
        cfg.options.refused = self.refused()?;
        cfg.mtu_clamp = self.mtu_clamp;
        Ok(())
    }

    /// Giving up, retransmission and busy polling.
    fn set_timing(&self, cfg: &mut TftpConfig) -> Result<(), CliError> {
        if self.timeout == 0 {
            return Err(invalid("--timeout", "must be at least 1 second"));
        }
        cfg.give_up_after = Duration::from_secs(self.timeout);
        if self.retransmit < MIN_RETRANSMIT_US {
            return Err(invalid(
                "--retransmit",
                "must be at least 1000 microseconds",
            ));
        }
        cfg.set_retransmit(
            Duration::from_micros(self.retransmit),
            Duration::from_millis(self.rto_min),
        );
        if self.busy_poll > MAX_BUSY_POLL_US {
            return Err(invalid("--busy-poll", "must be at most 10000 microseconds"));
        }
        cfg.busy_poll = Duration::from_micros(self.busy_poll);
        Ok(())
    }

    /// Ports, the map file, transfer limits, uploads' directory and history.
    fn set_limits(&self, cfg: &mut TftpConfig) -> Result<(), CliError> {
        cfg.port_range = self
            .port_range
            .as_deref()
            .map(parse_port_range)
            .transpose()?;
        if let Some(path) = &self.map_file {
            let rules = mapfile::load(path).map_err(|e| CliError::MapFile {
                path: e.path,
                message: e.message,
            })?;
            cfg.remap.store(std::sync::Arc::new(rules));
            cfg.map_file = Some(path.clone());
        }
        if self.max_transfers == 0 || self.max_per_client == 0 {
            return Err(invalid(
                "--max-transfers/--max-per-client",
                "must be at least 1",
            ));
        }
        cfg.max_transfers = self.max_transfers;
        cfg.upload_dir = self.upload_dir.clone();
        cfg.keep_versions = self.keep_versions;
        cfg.max_per_client = self.max_per_client;
        Ok(())
    }

    fn max_blksize(&self) -> Result<u16, CliError> {
        let mut max = u32::from(MAX_BLKSIZE);
        if let Some(b) = self.blocksize {
            if !(512..=u32::from(MAX_BLKSIZE)).contains(&b) {
                return Err(invalid(
                    "--blocksize",
                    format!("{b} is outside 512..{MAX_BLKSIZE}"),
                ));
            }
            max = max.min(b);
        }
        if let Some(b) = self.max_blocksize {
            if b < u32::from(MIN_BLKSIZE) {
                return Err(invalid(
                    "--max-blocksize",
                    format!("{b} is below {MIN_BLKSIZE}"),
                ));
            }
            max = max.min(b);
        }
        Ok(max as u16)
    }

    fn refused(&self) -> Result<Vec<String>, CliError> {
        const KNOWN: [&str; 7] = [
            "blksize",
            "blksize2",
            "tsize",
            "timeout",
            "utimeout",
            "windowsize",
            "rollover",
        ];
        self.refuse
            .iter()
            .map(|o| {
                let o = o.to_ascii_lowercase();
                if KNOWN.contains(&o.as_str()) {
                    Ok(o)
                } else {
                    Err(invalid(
                        "--refuse",
                        format!("unknown option {o:?} (known: {})", KNOWN.join(", ")),
                    ))
                }
            })
            .collect()
    }

    fn listen_addrs(&self) -> Result<Vec<SocketAddr>, CliError> {
        if self.address.is_empty() {
            let ip = if self.ipv4 {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            return Ok(vec![SocketAddr::new(ip, DEFAULT_PORT)]);
        }
        let mut out = Vec::new();
        for text in &self.address {
            let addr = parse_address(text, self.ipv4)?;
            if (self.ipv4 && addr.is_ipv6()) || (self.ipv6 && addr.is_ipv4()) {
                return Err(invalid(
                    "--address",
                    format!(
                        "{text} contradicts {}",
                        if self.ipv4 { "--ipv4" } else { "--ipv6" }
                    ),
                ));
            }
            out.push(addr);
        }
        Ok(out)
    }
}

/// Parses tftpd-hpa's `[address][:port]`. An empty address is the wildcard
/// of the chosen family (IPv6 dual-stack unless `-4`).
pub fn parse_address(text: &str, ipv4: bool) -> Result<SocketAddr, CliError> {
    let bad = || invalid("--address", format!("{text:?} is not [ADDRESS][:PORT]"));
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 69));
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = if port.is_empty() {
        69
    } else {
        port.parse().map_err(|_| bad())?
    };
    let ip = match host.trim_matches(['[', ']']) {
        "" if ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        other => other.parse().map_err(|_| bad())?,
    };
    Ok(SocketAddr::new(ip, port))
}

fn parse_port_range(text: &str) -> Result<(u16, u16), CliError> {
    config::parse_port_range(text).map_err(|message| invalid("--port-range", message))
}
