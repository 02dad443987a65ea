//! `netboot tftp`: the standalone TFTP server's flags, compatible with
//! tftpd-hpa's (so `/etc/default/tftpd-hpa` options work verbatim), and
//! their conversion into a validated
//! [`TftpConfig`](crate::tftp::config::TftpConfig) (`convert`).

use std::path::PathBuf;

use clap::Args;

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
}

#[path = "tftp_convert.rs"]
mod convert;
#[path = "tftp_dirs.rs"]
mod dirs;

pub use convert::parse_address;
pub use dirs::version_text;

#[cfg(test)]
#[path = "tftp_tests.rs"]
mod tests;
