//! The validated configuration of the TFTP server, built once from the
//! command line (or `netboot.yaml`) and shared read-only by every transfer.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::fs::RootPolicy;
use super::mapfile::SharedRules;
use super::options::OptionPolicy;
use super::rto::RtoBounds;
use crate::regions::Regions;

/// Files that exist only for one client (rendered from profile templates),
/// and per-client path rewrites. The profile registry implements it; the
/// TFTP server asks it before looking at the disk.
pub trait ClientFiles: Send + Sync {
    /// A path rewrite for this client, if its profile has one.
    fn rewrite(&self, client: IpAddr, path: &str) -> Option<String>;
    /// The bytes of `path` for this client, if it is one of its own files.
    fn file(&self, client: IpAddr, path: &str) -> Option<Result<Vec<u8>, String>>;
    /// The directory (inside the root) this client's uploads land in, if
    /// its profile names one; it takes the place of `--upload-dir`.
    fn upload_dir(&self, _client: IpAddr) -> Option<String> {
        None
    }
    /// How many previous versions this client's uploads keep, if its
    /// profile says; it takes the place of `--keep-versions`.
    fn keep_versions(&self, _client: IpAddr) -> Option<usize> {
        None
    }
    /// The client's MAC, when its lease says (for log lines).
    fn mac(&self, _client: IpAddr) -> Option<String> {
        None
    }
    /// The client is being sent `path` (over TFTP or HTTP): a one-shot boot
    /// may be over.
    fn fetched(&self, _client: IpAddr, _path: &str) {}
}

/// Default of [`TftpConfig::busy_poll`]: a loopback or LAN round trip.
pub const DEFAULT_BUSY_POLL: Duration = Duration::from_micros(100);
/// Largest [`TftpConfig::busy_poll`] the command line and config accept, in
/// microseconds.
pub const MAX_BUSY_POLL_US: u64 = 10_000;

/// Everything the TFTP server needs to run.
#[derive(Clone)]
pub struct TftpConfig {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// An IPv6 wildcard address (`[::]`) serves IPv6 only (`-6`); without
    /// it `[::]` serves IPv4 too. A specific IPv6 address is always IPv6
    /// only.
    pub ipv6_only: bool,
    /// The served directory and its rules.
    pub root: RootPolicy,
    /// Option limits.
    pub options: OptionPolicy,
    /// tftpd-hpa style name remapping: the rules in force, swapped whole
    /// when the map file is read again (SIGHUP).
    pub remap: SharedRules,
    /// The map file the rules come from (`--map-file`, `tftp.map_file`).
    pub map_file: Option<PathBuf>,
    /// Retransmission timeout bounds (initial from `--retransmit`).
    pub rto: RtoBounds,
    /// Silence after which a transfer is abandoned (`--timeout`).
    pub give_up_after: Duration,
    /// How long to linger after the final ACK of an upload.
    pub dally: Duration,
    /// Ports for transfer sockets (`--port-range`).
    pub port_range: Option<(u16, u16)>,
    /// Concurrent transfers in all (see [`super::admission`]).
    pub max_transfers: usize,
    /// Concurrent transfers a client address always gets, and the slots
    /// kept free for others when it runs more.
    pub max_per_client: usize,
    /// Cap blksize at the path MTU.
    pub mtu_clamp: bool,
    /// Directory (inside the root) every upload lands in, whatever
    /// directory the client names (`--upload-dir`).
    pub upload_dir: Option<String>,
    /// Previous versions kept of a file an upload replaces
    /// (`--keep-versions`, `tftp.keep_versions`; 0: none).
    pub keep_versions: usize,
    /// Log a debug line per DATA and ACK sent or received (`netboot tftp
    /// -v`, `netboot serve -vv`).
    pub trace_blocks: bool,
    /// A transfer of known size that runs longer than this logs progress
    /// every 10 %.
    pub progress_after: Duration,
    /// Per-client files and rewrites, when the profile registry runs.
    pub client_files: Option<Arc<dyn ClientFiles>>,
    /// Files inside files of the root (the image catalogue's ISOs), served
    /// as regions of the containing file (`serve` only).
    pub regions: Option<Arc<dyn Regions>>,
    /// Longest a transfer whose client answers within microseconds checks
    /// its socket without sleeping before it sleeps (`--busy-poll`; zero:
    /// never). See [`super::udp::TransferSocket::recv_until`].
    pub busy_poll: Duration,
    /// Where transfers are reported.
    pub events: crate::events::Events,
}

impl TftpConfig {
    /// A configuration serving `root` with the defaults of `netboot tftp`.
    pub fn new(listen: Vec<SocketAddr>, root: RootPolicy) -> Self {
        Self {
            listen,
            ipv6_only: false,
            root,
            options: OptionPolicy::default(),
            remap: SharedRules::default(),
            map_file: None,
            rto: RtoBounds::default(),
            give_up_after: Duration::from_secs(15),
            dally: Duration::from_secs(3),
            port_range: None,
            max_transfers: 512,
            max_per_client: 16,
            mtu_clamp: false,
            upload_dir: None,
            keep_versions: 0,
            trace_blocks: false,
            progress_after: Duration::from_secs(3),
            client_files: None,
            regions: None,
            busy_poll: DEFAULT_BUSY_POLL,
            events: crate::events::Events::default(),
        }
    }
}

impl TftpConfig {
    /// Sets the retransmission timeout before the first round-trip
    /// measurement (`--retransmit`), which is also the largest it grows to
    /// (at least 1 s), and the lowest it adapts down to (`--rto-min`, at
    /// most `initial`).
    pub fn set_retransmit(&mut self, initial: Duration, min: Duration) {
        self.rto.initial = initial;
        self.rto.max = initial.max(Duration::from_secs(1));
        self.rto.min = min.max(Duration::from_millis(1)).min(initial);
    }
}

/// Smallest `--retransmit` accepted, in microseconds.
pub const MIN_RETRANSMIT_US: u64 = 1000;

/// Parses a transfer port range, `LOW:HIGH`; the error says what a valid
/// one looks like (the caller names the flag or key).
pub fn parse_port_range(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("{text:?} is not LOW:HIGH with 1 <= LOW <= HIGH <= 65535");
    let (low, high) = text.split_once(':').ok_or_else(bad)?;
    let low: u16 = low.trim().parse().map_err(|_| bad())?;
    let high: u16 = high.trim().parse().map_err(|_| bad())?;
    if low == 0 || low > high {
        return Err(bad());
    }
    Ok((low, high))
}

impl std::fmt::Debug for TftpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TftpConfig")
            .field("listen", &self.listen)
            .field("root", &self.root)
            .field("options", &self.options)
            .field("rto", &self.rto)
            .field("port_range", &self.port_range)
            .field("max_transfers", &self.max_transfers)
            .field("busy_poll", &self.busy_poll)
            .finish_non_exhaustive()
    }
}
