//! `netboot serve`: flags of the appliance mode (DHCP + TFTP + profiles).
//! Everything a flag sets can also be written in `netboot.yaml`; a flag wins
//! over the file.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Args;

use crate::serve::options::ServeOptions;

/// Flags of `netboot serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// `netboot.yaml` to read (paths in it are relative to its directory);
    /// default: `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Interface to serve DHCP on; repeatable.
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interfaces: Vec<String>,

    /// Directory served over TFTP.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Directory of profile YAML files.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,

    /// Where leases are kept.
    #[arg(long, value_name = "DIR", env = "NETBOOT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Keep leases in this PostgreSQL database instead of the state
    /// directory (shared with other netboot servers):
    /// `postgres://USER:PASSWORD@HOST/DB` or `postgres:///DB?host=/SOCKET/DIR`.
    #[arg(long, value_name = "URL")]
    pub leases_url: Option<String>,

    /// Run as a standby beside another DHCP server: hold each OFFER this
    /// many milliseconds and drop it when the client took the other's.
    #[arg(long = "answer-delay", value_name = "MS")]
    pub answer_delay_ms: Option<u64>,

    /// Address pool, `FIRST-LAST`, inside the interface's subnet.
    #[arg(long, value_name = "FIRST-LAST")]
    pub range: Option<String>,

    /// Boot file for BIOS clients (arch 0).
    #[arg(long, value_name = "FILE")]
    pub boot_bios: Option<String>,

    /// Boot file for UEFI x64 clients (arch 7 and 9).
    #[arg(long, value_name = "FILE")]
    pub boot_uefi: Option<String>,

    /// Boot file for UEFI ARM64 clients (arch 11).
    #[arg(long, value_name = "FILE")]
    pub boot_uefi_arm64: Option<String>,

    /// What a client that is already iPXE gets (a script, or a URL).
    #[arg(long, value_name = "FILE")]
    pub boot_ipxe: Option<String>,

    /// ProxyDHCP: another DHCP server hands out addresses; netboot only
    /// answers PXE clients with boot information.
    #[arg(long, overrides_with = "no_proxy")]
    pub proxy: bool,

    /// Hand out addresses even if netboot.yaml says `dhcp.proxy: true`.
    #[arg(long, overrides_with = "proxy")]
    pub no_proxy: bool,

    /// Answer only machines whose MAC a profile names.
    #[arg(long, overrides_with = "no_known_clients_only")]
    pub known_clients_only: bool,

    /// Answer every machine even if netboot.yaml says
    /// `dhcp.known_clients_only: true`.
    #[arg(long, overrides_with = "known_clients_only")]
    pub no_known_clients_only: bool,

    /// Check that no machine uses an address before offering it (ARP on the
    /// link, ping behind a relay) even if netboot.yaml says
    /// `dhcp.ping_check: false` (the default is to check).
    #[arg(long, overrides_with = "no_ping")]
    pub ping: bool,

    /// Do not probe an address before offering it.
    #[arg(long, overrides_with = "ping")]
    pub no_ping: bool,

    /// Server host name sent in the `sname` header field; default: this
    /// machine's host name.
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,

    /// Lease time, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub lease_time: Option<u64>,

    /// Router handed out (option 3).
    #[arg(long, value_name = "IP")]
    pub router: Option<Ipv4Addr>,

    /// DNS server handed out (option 6); repeatable.
    #[arg(long, value_name = "IP")]
    pub dns: Vec<Ipv4Addr>,

    /// On a port with no IPv4 address: the address (with prefix) netboot
    /// assigns to the interface while it runs, instead of the first free
    /// candidate (10.42.0.1/24, …).
    #[arg(long, value_name = "CIDR")]
    pub assign_address: Option<String>,

    /// Our address on the interface, when it has several.
    #[arg(long, value_name = "IP")]
    pub server_address: Option<Ipv4Addr>,

    /// TFTP port.
    #[arg(long, value_name = "PORT")]
    pub tftp_port: Option<u16>,

    /// Let TFTP uploads create files (router config backups).
    #[arg(long, overrides_with = "no_create")]
    pub create: bool,

    /// Uploads may not create files even if netboot.yaml says
    /// `tftp.create: true`.
    #[arg(long, overrides_with = "create")]
    pub no_create: bool,

    /// tftpd-hpa map file of TFTP file-name rewriting rules (read again
    /// on SIGHUP).
    #[arg(long, value_name = "FILE")]
    pub map_file: Option<PathBuf>,

    /// Look a missing TFTP name up ignoring case (the default).
    #[arg(long, overrides_with = "no_case_insensitive")]
    pub case_insensitive: bool,

    /// Only exact TFTP names, even if netboot.yaml says
    /// `tftp.case_insensitive: true`.
    #[arg(long, overrides_with = "case_insensitive")]
    pub no_case_insensitive: bool,

    /// Ports for TFTP transfers, `LOW:HIGH`.
    #[arg(long, value_name = "LOW:HIGH")]
    pub port_range: Option<String>,

    /// Concurrent TFTP transfers in all (default 512).
    #[arg(long, value_name = "N")]
    pub max_transfers: Option<usize>,

    /// Concurrent TFTP transfers per client address (default 16).
    #[arg(long, value_name = "N")]
    pub max_per_client: Option<usize>,

    /// Longest a TFTP transfer polls its socket for a fast client's ACK
    /// before it sleeps, microseconds (at most 10000; 0 = always sleep;
    /// default 100).
    #[arg(long, value_name = "MICROSECONDS")]
    pub busy_poll: Option<u64>,

    /// Drop a TFTP client silent this many seconds (default 15).
    #[arg(long, value_name = "SECONDS")]
    pub tftp_timeout: Option<u64>,

    /// TFTP retransmission timeout before the first round-trip
    /// measurement, microseconds (default 1000000).
    #[arg(long, value_name = "MICROSECONDS")]
    pub retransmit: Option<u64>,

    /// More detail in the logs.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// HTTP port (default: 80 when netboot may bind it, else 8080).
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<u16>,

    /// No HTTP server (TFTP only), even if netboot.yaml says
    /// `http.enabled: true`.
    #[arg(long, overrides_with = "http")]
    pub no_http: bool,

    /// Run the HTTP server even if netboot.yaml says `http.enabled: false`.
    #[arg(long, overrides_with = "no_http")]
    pub http: bool,

    /// Serve the status page, its JSON API and Prometheus metrics on this
    /// address (default 127.0.0.1:9090 when given without one).
    #[arg(long, value_name = "ADDR:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:9090")]
    pub status: Option<String>,

    /// User to serve as once the sockets are open, when started as root;
    /// default: `netboot` if that user exists, else `nobody`. `root` keeps
    /// root (with a warning).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Write the PID to FILE (before dropping root); removed on exit.
    #[arg(long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,
}

impl ServeArgs {
    /// The options these flags give `serve` (a pair `--x`/`--no-x` becomes
    /// one `Option<bool>`: clap keeps only the last of the two given).
    pub fn into_options(self) -> ServeOptions {
        ServeOptions {
            config: self.config,
            interfaces: self.interfaces,
            root: self.root,
            profiles: self.profiles,
            state_dir: self.state_dir,
            leases_url: self.leases_url,
            answer_delay_ms: self.answer_delay_ms,
            range: self.range,
            boot_bios: self.boot_bios,
            boot_uefi: self.boot_uefi,
            boot_uefi_arm64: self.boot_uefi_arm64,
            boot_ipxe: self.boot_ipxe,
            proxy: pair(self.proxy, self.no_proxy),
            known_clients_only: pair(self.known_clients_only, self.no_known_clients_only),
            ping: pair(self.ping, self.no_ping),
            server_name: self.server_name,
            lease_time: self.lease_time,
            router: self.router,
            dns: self.dns,
            assign_address: self.assign_address,
            server_address: self.server_address,
            tftp_port: self.tftp_port,
            create: pair(self.create, self.no_create),
            map_file: self.map_file,
            case_insensitive: pair(self.case_insensitive, self.no_case_insensitive),
            port_range: self.port_range,
            max_transfers: self.max_transfers,
            max_per_client: self.max_per_client,
            busy_poll: self.busy_poll,
            tftp_timeout: self.tftp_timeout,
            retransmit: self.retransmit,
            verbose: self.verbose,
            http_port: self.http_port,
            http: pair(self.http, self.no_http),
            status: self.status,
            user: self.user,
            pidfile: self.pidfile,
        }
    }
}

impl From<ServeArgs> for ServeOptions {
    fn from(args: ServeArgs) -> Self {
        args.into_options()
    }
}

/// A flag pair `--x` / `--no-x`: on, off, or not given.
fn pair(on: bool, off: bool) -> Option<bool> {
    if on {
        Some(true)
    } else if off {
        Some(false)
    } else {
        None
    }
}

/// Flags of `netboot check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// `netboot.yaml` to check along with the profiles it names.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory of profile YAML files.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,

    /// Boot root the profiles' boot files must exist in.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

impl CheckArgs {
    /// The `netboot serve` options these stand for, so `check` runs the
    /// same checks as `serve`.
    pub fn as_serve_options(&self) -> ServeOptions {
        ServeOptions {
            config: self.config.clone(),
            profiles: self.profiles.clone(),
            root: self.root.clone(),
            ..ServeOptions::default()
        }
    }
}

/// Flags of `netboot leases`.
#[derive(Debug, Clone, Default, Args)]
pub struct LeasesArgs {
    /// State directory holding the lease store (found as `netboot serve`
    /// finds it).
    #[arg(long, value_name = "DIR", env = "NETBOOT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// `netboot.yaml` naming the state directory; default:
    /// `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read the leases from this PostgreSQL database (as `serve
    /// --leases-url`); default: `dhcp.leases` in netboot.yaml, else the
    /// state directory.
    #[arg(long, value_name = "URL")]
    pub leases_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> ServeOptions {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: ServeArgs,
        }
        let all = std::iter::once("serve").chain(line.iter().copied());
        <Cli as clap::Parser>::try_parse_from(all)
            .unwrap()
            .args
            .into_options()
    }

    #[test]
    fn the_last_of_a_flag_pair_wins_on_the_command_line() {
        assert_eq!(parse(&["--proxy", "--no-proxy"]).proxy, Some(false));
        assert_eq!(parse(&["--no-proxy", "--proxy"]).proxy, Some(true));
        let o = parse(&[
            "--no-ping",
            "--ping",
            "--known-clients-only",
            "--no-known-clients-only",
        ]);
        assert_eq!((o.ping, o.known_clients_only), (Some(true), Some(false)));
        let o = parse(&["--create", "--no-case-insensitive", "--no-http"]);
        assert_eq!(o.create, Some(true));
        assert_eq!(o.case_insensitive, Some(false));
        assert_eq!(o.http, Some(false));
    }

    #[test]
    fn flags_not_given_are_none() {
        let mut o = parse(&[]);
        o.state_dir = None; // NETBOOT_STATE_DIR may be set around the tests
        assert_eq!(o, ServeOptions::default());
    }

    #[test]
    fn values_carry_over_unchanged() {
        let o = parse(&[
            "-i",
            "eth0",
            "--interface",
            "eth1",
            "--range",
            "10.0.0.5-10.0.0.9",
            "--dns",
            "10.0.0.53",
            "--lease-time",
            "600",
            "--port-range",
            "5000:5100",
            "-vv",
            "--pidfile",
            "/run/n.pid",
        ]);
        assert_eq!(o.interfaces, ["eth0", "eth1"]);
        assert_eq!(o.range.as_deref(), Some("10.0.0.5-10.0.0.9"));
        assert_eq!(o.dns, [Ipv4Addr::new(10, 0, 0, 53)]);
        assert_eq!(o.lease_time, Some(600));
        assert_eq!(o.port_range.as_deref(), Some("5000:5100"));
        assert_eq!(o.verbose, 2);
        assert_eq!(o.pidfile, Some(PathBuf::from("/run/n.pid")));
    }

    #[test]
    fn check_stands_for_serve_with_the_same_directories() {
        let check = CheckArgs {
            config: Some("n.yaml".into()),
            profiles: Some("p".into()),
            root: Some("r".into()),
        };
        let o = check.as_serve_options();
        assert_eq!(o.config, Some(PathBuf::from("n.yaml")));
        assert_eq!(o.profiles, Some(PathBuf::from("p")));
        assert_eq!(o.root, Some(PathBuf::from("r")));
        assert_eq!(o.interfaces, Vec::<String>::new());
    }
}
