//! What `netboot serve` is asked to do, as plain data: the facts its flags
//! carry (built from the command line by `cli::serve`; `netboot check`
//! builds one too), with no parsing attached. Everything in `serve` takes
//! this, never the flags themselves. A value here wins over `netboot.yaml`,
//! which wins over the default; `None` means "not given".

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// The input of `netboot serve` (and of the checks `netboot check` runs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// `netboot.yaml` to read (paths in it are relative to its directory);
    /// `None`: `./netboot.yaml` when it exists.
    pub config: Option<PathBuf>,
    /// Interfaces to serve DHCP on; empty: those the file names.
    pub interfaces: Vec<String>,
    /// Directory served over TFTP (and HTTP).
    pub root: Option<PathBuf>,
    /// Directory of profile YAML files.
    pub profiles: Option<PathBuf>,
    /// Where leases are kept.
    pub state_dir: Option<PathBuf>,
    /// A PostgreSQL lease database URL (instead of the state directory's
    /// journal).
    pub leases_url: Option<String>,
    /// `--answer-delay MS`: hold OFFERs this long (a standby).
    pub answer_delay_ms: Option<u64>,
    /// Address pool, `FIRST-LAST` as written (checked by the plan, which
    /// names where it came from).
    pub range: Option<String>,
    /// Boot file for BIOS clients (arch 0).
    pub boot_bios: Option<String>,
    /// Boot file for UEFI x64 clients (arch 7 and 9).
    pub boot_uefi: Option<String>,
    /// Boot file for UEFI ARM64 clients (arch 11).
    pub boot_uefi_arm64: Option<String>,
    /// What a client that is already iPXE gets (a script, or a URL).
    pub boot_ipxe: Option<String>,
    /// ProxyDHCP on (`Some(true)`) or off (`Some(false)`).
    pub proxy: Option<bool>,
    /// Answer only machines whose MAC a profile names, or every machine.
    pub known_clients_only: Option<bool>,
    /// Probe an address (ARP on the link, ping behind a relay) before
    /// offering it, or not.
    pub ping: Option<bool>,
    /// Server host name sent in `sname`; empty means none.
    pub server_name: Option<String>,
    /// Lease time, seconds.
    pub lease_time: Option<u64>,
    /// Router handed out (option 3).
    pub router: Option<Ipv4Addr>,
    /// DNS servers handed out (option 6); empty: those of the file.
    pub dns: Vec<Ipv4Addr>,
    /// On a bare port: the address (with prefix, as written) to assign
    /// instead of the first free candidate.
    pub assign_address: Option<String>,
    /// Our address on the interface, when it has several.
    pub server_address: Option<Ipv4Addr>,
    /// TFTP port.
    pub tftp_port: Option<u16>,
    /// TFTP uploads may create files, or may not.
    pub create: Option<bool>,
    /// tftpd-hpa map file of TFTP file-name rewriting rules.
    pub map_file: Option<PathBuf>,
    /// Look a missing TFTP name up ignoring case, or only exact names.
    pub case_insensitive: Option<bool>,
    /// Ports for TFTP transfers, `LOW:HIGH` as written.
    pub port_range: Option<String>,
    /// Concurrent TFTP transfers in all.
    pub max_transfers: Option<usize>,
    /// Concurrent TFTP transfers per client address.
    pub max_per_client: Option<usize>,
    /// Longest a TFTP transfer polls for a fast client's ACK, microseconds.
    pub busy_poll: Option<u64>,
    /// Drop a TFTP client silent this many seconds.
    pub tftp_timeout: Option<u64>,
    /// TFTP retransmission timeout before the first round-trip
    /// measurement, microseconds.
    pub retransmit: Option<u64>,
    /// Log detail: 0 normal, 1 more, 2 and up also every TFTP block.
    pub verbose: u8,
    /// HTTP port.
    pub http_port: Option<u16>,
    /// The HTTP server on (`Some(true)`) or off (`Some(false)`).
    pub http: Option<bool>,
    /// The status page's address (`--status`).
    pub status: Option<String>,
    /// User to serve as once the sockets are open, when started as root.
    pub user: Option<String>,
    /// File to write the PID to (before dropping root); removed on exit.
    pub pidfile: Option<PathBuf>,
}
