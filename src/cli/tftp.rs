//! `netboot tftp`: the standalone TFTP server's flags, compatible with
//! tftpd-hpa's (so `/etc/default/tftpd-hpa` options work verbatim), and
//! their conversion into a validated [`TftpConfig`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::tftp::config::{self, TftpConfig, MAX_BUSY_POLL_US, MIN_RETRANSMIT_US};
use crate::tftp::fs::{default_umask, RootPolicy};
use crate::tftp::mapfile;
use crate::tftp::options::{MAX_BLKSIZE, MIN_BLKSIZE};

/// Port used when no `--address` is given: unprivileged, so the server
/// runs without root. tftpd-hpa configurations name `:69` explicitly.
pub const DEFAULT_PORT: u16 = 6969;

/// Flags of `netboot tftp`.
#[derive(Debug, Clone, Args)]
pub struct TftpArgs {
    /// Directories to serve, searched in turn (tftpd-hpa takes several;
    /// with --secure only one).
    #[arg(value_name = "DIRECTORY", default_value = "boot-images")]
    pub directories: Vec<PathBuf>,

    /// Address to listen on, `[ADDRESS][:PORT]` as tftpd-hpa takes it
    /// (`0.0.0.0:69`, `:69`, `[::1]:6969`, `127.0.0.1`); repeatable.
    /// Default: `[::]:6969` (IPv6 and IPv4).
    #[arg(short = 'a', long = "address", value_name = "ADDR")]
    pub address: Vec<String>,

    /// IPv4 only: the default and `:PORT` addresses mean 0.0.0.0.
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// IPv6 only: `[::]` no longer takes IPv4 as well.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,

    /// Refuse any file whose real path (after symlinks) leaves DIRECTORY.
    #[arg(short = 's', long)]
    pub secure: bool,

    /// Let uploads create new files.
    #[arg(short = 'c', long)]
    pub create: bool,

    /// Drop to this user after binding the sockets.
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Permission bits cleared on uploaded files, octal. Default, as with
    /// tftpd-hpa: 000 (uploads are rw-rw-rw-, so the next upload may
    /// replace them), or the inherited umask with --permissive.
    #[arg(short = 'U', long, value_name = "OCTAL")]
    pub umask: Option<String>,

    /// Serve files that are not world-readable and replace files that are
    /// not world-writable.
    #[arg(short = 'p', long)]
    pub permissive: bool,

    /// Give up on a client silent for this many seconds.
    #[arg(short = 't', long, value_name = "SECONDS", default_value_t = 15)]
    pub timeout: u64,

    /// Retransmission timeout before the first round-trip measurement, in
    /// microseconds (it then adapts to the link).
    #[arg(
        short = 'T',
        long,
        value_name = "MICROSECONDS",
        default_value_t = 1_000_000
    )]
    pub retransmit: u64,

    /// Lower bound of the adaptive retransmission timeout, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    pub rto_min: u64,

    /// Longest a transfer checks its socket without sleeping while its
    /// client, whose round trip is known to be shorter, is expected to
    /// answer (microseconds, at most 10000; 0 = always sleep).
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 100)]
    pub busy_poll: u64,

    /// Never grant this option (blksize, blksize2, tsize, timeout,
    /// utimeout, windowsize, rollover); repeatable.
    #[arg(short = 'r', long = "refuse", value_name = "OPTION")]
    pub refuse: Vec<String>,

    /// Largest block size granted (tftpd-hpa's -B), 512..65464.
    #[arg(short = 'B', long, value_name = "BYTES")]
    pub blocksize: Option<u32>,

    /// Largest block size granted; values above 65464 mean 65464.
    #[arg(long, value_name = "BYTES")]
    pub max_blocksize: Option<u32>,

    /// Largest window (RFC 7440 windowsize) granted.
    #[arg(long, value_name = "BLOCKS", default_value_t = 64)]
    pub max_windowsize: u16,

    /// Cap blksize so a block fits the path MTU to the client.
    #[arg(long)]
    pub mtu_clamp: bool,

    /// Ports for transfers, `LOW:HIGH`.
    #[arg(short = 'R', long, value_name = "LOW:HIGH")]
    pub port_range: Option<String>,

    /// tftpd-hpa style map file of file-name rewriting rules.
    #[arg(short = 'm', long, value_name = "FILE")]
    pub map_file: Option<PathBuf>,

    /// When a name is not found, look it up ignoring case (Windows clients).
    #[arg(long)]
    pub case_insensitive: bool,

    /// Directory inside DIRECTORY that every upload lands in (for router
    /// config backups: `copy running-config tftp:` then lands in it).
    #[arg(long, value_name = "SUBDIR")]
    pub upload_dir: Option<String>,

    /// Keep this many previous versions of a file an upload replaces, in
    /// `.netboot-versions/` beside it (`netboot backups` lists and diffs
    /// them); 0 keeps none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_versions: usize,

    /// Largest upload accepted, bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_upload: Option<u64>,

    /// Concurrent transfers in all; more requests wait for a slot, never
    /// refused.
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub max_transfers: usize,

    /// Concurrent transfers a client address always gets; beyond them it
    /// uses free slots while N stay free for other addresses.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub max_per_client: usize,

    /// Debug logs: each request with its options, and a line per DATA and
    /// ACK sent or received.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Transfers running longer than this log progress every 10 %, in
    /// milliseconds (for tests; the default suits people).
    #[arg(long, value_name = "MS", default_value_t = 3000, hide = true)]
    pub progress_after_ms: u64,

    /// tftpd-hpa's verbosity level (same effect as that many -v).
    #[arg(long, value_name = "N")]
    pub verbosity: Option<u8>,

    /// Write the process ID to this file.
    #[arg(short = 'P', long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,

    /// Print the version and what this server supports, then exit
    /// (tftpd-hpa's `-V`).
    #[arg(short = 'V', long)]
    pub version: bool,

    /// Accepted for tftpd-hpa compatibility: netboot always runs standalone.
    #[arg(short = 'l', long)]
    pub listen: bool,

    /// Accepted for tftpd-hpa compatibility: netboot always runs in the
    /// foreground (use systemd or `&` to background it).
    #[arg(short = 'L', long)]
    pub foreground: bool,
}

/// Flags that do not make a valid configuration.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value is malformed or out of range.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The directory cannot be served.
    #[error("cannot serve {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The map file cannot be read or parsed.
    #[error("--map-file {path}: {message}")]
    MapFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn invalid(flag: &'static str, message: impl Into<String>) -> CliError {
    CliError::Invalid {
        flag,
        message: message.into(),
    }
}

impl TftpArgs {
    /// The verbosity asked for by `-v` and `--verbosity`.
    pub fn verbosity(&self) -> u8 {
        self.verbose.max(self.verbosity.unwrap_or(0))
    }

    /// Checks the flags and builds the server configuration.
    pub fn to_config(&self) -> Result<TftpConfig, CliError> {
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
        let mut cfg = TftpConfig::new(
            self.listen_addrs()?,
            RootPolicy {
                root,
                secure: self.secure,
                create: self.create,
                permissive: self.permissive,
                case_insensitive: self.case_insensitive,
                umask,
                max_upload: self.max_upload,
                dirs,
            },
        );
        cfg.options.max_blksize = self.max_blksize()?;
        if self.max_windowsize == 0 {
            return Err(invalid("--max-windowsize", "must be at least 1"));
        }
        cfg.options.max_windowsize = self.max_windowsize;
        cfg.options.refused = self.refused()?;
        cfg.mtu_clamp = self.mtu_clamp;
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
        cfg.trace_blocks = self.verbosity() >= 1;
        cfg.progress_after = Duration::from_millis(self.progress_after_ms);
        cfg.ipv6_only = self.ipv6;
        Ok(cfg)
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

#[path = "tftp_dirs.rs"]
mod dirs;

pub use dirs::version_text;

#[cfg(test)]
#[path = "tftp_tests.rs"]
mod tests;
