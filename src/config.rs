//! `netboot.yaml`: the serde shape of the file exactly as users write it
//! (every key documented in `docs/configuration.md`, unknown keys refused),
//! read with errors that name the file and line. The conversion into the
//! servers' validated configurations lives in `serve::plan`, where command
//! line flags are laid over it (flags win).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::boot::BootFiles;
use crate::registry::locate::{Seg, SourceMap};
use crate::registry::parse::serde_diag;
use crate::registry::Diagnostic;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Interface to serve (same as `interfaces: [..]` with one entry).
    pub interface: Option<String>,
    /// Interfaces to serve.
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// Directory served over TFTP (relative to the file's directory).
    pub root: Option<PathBuf>,
    /// Directory of profile YAML files (relative to the file's directory).
    pub profiles: Option<PathBuf>,
    /// Where leases are kept.
    pub state_dir: Option<PathBuf>,
    /// Our address on the served network, when the interface has several.
    pub server_address: Option<Ipv4Addr>,
    /// User `serve` runs as once its sockets are open (`--user`).
    pub user: Option<String>,
    /// DHCP settings.
    #[serde(default)]
    pub dhcp: DhcpSection,
    /// `boot:` default boot files (profiles override them per client);
    /// every key of [`BootFiles::KEYS`] but `other`.
    #[serde(default, deserialize_with = "crate::boot::deserialize_defaults")]
    pub boot: BootFiles,
    /// TFTP settings.
    #[serde(default)]
    pub tftp: TftpSection,
    /// HTTP settings.
    #[serde(default)]
    pub http: HttpSection,
    /// The status page, API and metrics.
    #[serde(default)]
    pub status: StatusSection,
    /// The DHCPv6 server (PXE over IPv6).
    #[serde(default)]
    pub dhcp6: Dhcp6Section,
    /// Where the file was read from, to point errors at a key's line.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// The path and text a [`FileConfig`] was parsed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// The file as named.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// `dhcp:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DhcpSection {
    /// `proxy: true` for ProxyDHCP (another server hands out addresses).
    pub proxy: Option<bool>,
    /// Pool on the served interface's subnet: `FIRST-LAST`.
    pub range: Option<String>,
    /// Lease time in seconds.
    pub lease_time: Option<u64>,
    /// Option 3; default: none.
    pub router: Option<Ipv4Addr>,
    /// Option 6.
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain: Option<String>,
    /// Answer only MACs that a profile names.
    pub known_clients_only: Option<bool>,
    /// Ping an address before offering it.
    pub ping_check: Option<bool>,
    /// Server host name in the `sname` header field; default: this
    /// machine's host name; `""` sends none.
    pub server_name: Option<String>,
    /// Pools for relayed networks (giaddr).
    #[serde(default)]
    pub relay_pools: Vec<RelayPool>,
    /// Keep leases in a PostgreSQL database (`postgres://...`) instead of
    /// the state directory, shared with other servers.
    pub leases: Option<String>,
    /// A standby beside another server: hold each OFFER this long and
    /// drop it when the client took the other server's meanwhile.
    pub answer_delay_ms: Option<u64>,
}

/// One pool served through a relay agent.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RelayPool {
    /// `10.1.0.0/24`.
    pub subnet: String,
    /// `FIRST-LAST` inside it.
    pub range: String,
    /// Option 3 for that network.
    pub router: Option<Ipv4Addr>,
    /// Option 6 for that network.
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
}

/// `tftp:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TftpSection {
    /// Port (69).
    pub port: Option<u16>,
    /// Refuse symlinks leading out of the root (default true in `serve`).
    pub secure: Option<bool>,
    /// Uploads may create files.
    pub create: Option<bool>,
    /// Drop the world-readable/-writable checks.
    pub permissive: Option<bool>,
    /// Largest blksize.
    pub max_blocksize: Option<u16>,
    /// Largest windowsize.
    pub max_windowsize: Option<u16>,
    /// Largest upload in bytes.
    pub max_upload: Option<u64>,
    /// Directory inside the root every upload lands in.
    pub upload_dir: Option<String>,
    /// Previous versions kept of a file an upload replaces (0: none).
    pub keep_versions: Option<usize>,
    /// `--busy-poll` of `netboot tftp`, microseconds (0 = always sleep).
    pub busy_poll_us: Option<u64>,
    /// tftpd-hpa map file (relative to this file's directory).
    pub map_file: Option<PathBuf>,
    /// Look a missing name up ignoring case (default true in `serve`).
    pub case_insensitive: Option<bool>,
    /// Ports for transfers, `LOW:HIGH`.
    pub port_range: Option<String>,
    /// Concurrent transfers in all.
    pub max_transfers: Option<usize>,
    /// Concurrent transfers per client address.
    pub max_per_client: Option<usize>,
    /// Seconds of silence after which a transfer is dropped.
    pub timeout: Option<u64>,
    /// Retransmission timeout before the first round-trip measurement, µs.
    pub retransmit_us: Option<u64>,
}

/// `http:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Serve HTTP beside TFTP (default true).
    pub enabled: Option<bool>,
    /// Port (default: 80 when netboot may bind it, else 8080).
    pub port: Option<u16>,
    /// Where to listen, `ADDRESS` or `ADDRESS:PORT` each (default: each
    /// served interface's IPv4 address and its IPv6 addresses).
    pub listen: Option<Vec<String>>,
}

/// `status:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusSection {
    /// Serve the status page (default false; true when `listen` is given).
    pub enabled: Option<bool>,
    /// Where, `ADDRESS:PORT` (default `127.0.0.1:9090`).
    pub listen: Option<String>,
}

/// `dhcp6:` (see docs/ipv6.md).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dhcp6Section {
    /// On or off; default: on when `range` is given.
    pub enabled: Option<bool>,
    /// IA_NA pool: `FIRST-LAST` or `PREFIX/64`; none: stateless (SLAAC).
    pub range: Option<String>,
    /// Valid lifetime of an address, seconds.
    pub lease_time: Option<u32>,
    /// Answer a SOLICIT with Rapid Commit at once (default true).
    pub rapid_commit: Option<bool>,
    /// DNS servers handed out (option 23).
    #[serde(default)]
    pub dns: Vec<Ipv6Addr>,
    /// Fixed addresses by DUID or MAC.
    #[serde(default)]
    pub reservations: Vec<Dhcp6Reservation>,
    /// Send router advertisements (M and O) where no router does (default true).
    pub router_advertisements: Option<bool>,
}

/// One entry of `dhcp6.reservations`: `duid` or `mac`, and `address`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dhcp6Reservation {
    /// The client's DUID in hex (`00:03:00:01:52:54:00:12:34:56`).
    pub duid: Option<String>,
    /// The client's MAC (from its DUID-LL/LLT or EUI-64 link-local address).
    pub mac: Option<String>,
    /// The address it gets.
    pub address: Ipv6Addr,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// Unreadable.
    #[error("cannot read {}: {}{}", path.display(), reason(error), read_hint(error))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (part of the message, not a separate cause, so it is said once).
        error: std::io::Error,
    },
    /// Not valid YAML for this schema: `file:line:column: what`.
    #[error("{0}")]
    Parse(Diagnostic),
}

/// An I/O error's words without the "(os error N)" suffix.
fn reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn read_hint(error: &std::io::Error) -> &'static str {
    if error.kind() == std::io::ErrorKind::NotFound {
        "; name an existing file with --config, or leave --config out to read ./netboot.yaml when it exists"
    } else {
        ""
    }
}

impl FileConfig {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigFileError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(path, &text)
    }

    /// Parses the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigFileError> {
        let mut parsed: Self = if text.trim().is_empty() {
            Self::default()
        } else {
            serde_norway::from_str(text)
                .map_err(|e| ConfigFileError::Parse(serde_diag(path, &e)))?
        };
        parsed.origin = Some(Origin {
            path: path.to_path_buf(),
            text: text.to_string(),
        });
        Ok(parsed)
    }

    /// Where the value at `key` (`["dhcp", "range"]`) is written, as
    /// `netboot.yaml:4:10: dhcp.range`, or the dotted key alone when the
    /// settings did not come from a file.
    pub fn place(&self, key: &[&str]) -> String {
        let dotted = key.join(".");
        let Some(origin) = &self.origin else {
            return dotted;
        };
        let segs: Vec<Seg<'_>> = key
            .iter()
            .map(|k| match k.parse::<usize>() {
                Ok(i) => Seg::Idx(i),
                Err(_) => Seg::Key(k),
            })
            .collect();
        let pos = SourceMap::new(&origin.text).value_pos(&segs);
        Diagnostic::new(&origin.path, pos, dotted).to_string()
    }

    /// Every interface named, `interface` first.
    pub fn all_interfaces(&self) -> Vec<String> {
        let mut out: Vec<String> = self.interface.iter().cloned().collect();
        out.extend(self.interfaces.iter().cloned());
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let text = "\
interface: eth0
root: boot-images
profiles: profiles
state_dir: /var/lib/netboot
dhcp:
  range: 10.0.0.100-10.0.0.200
  lease_time: 7200
  router: 10.0.0.1
  dns: [10.0.0.1]
  domain: lab.example
  ping_check: true
  relay_pools:
    - subnet: 10.1.0.0/24
      range: 10.1.0.50-10.1.0.99
boot:
  bios: undionly.kpxe
  uefi_x64: ipxe.efi
  ipxe: boot.ipxe
tftp:
  secure: true
  max_windowsize: 16
";
        let cfg = FileConfig::parse(Path::new("netboot.yaml"), text).unwrap();
        assert_eq!(cfg.all_interfaces(), vec!["eth0".to_string()]);
        assert_eq!(cfg.dhcp.relay_pools.len(), 1);
        assert_eq!(cfg.boot.ipxe.as_deref(), Some("boot.ipxe"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let text = "interface: eth0\ndhcp:\n  rnage: 10.0.0.1-10.0.0.9\n";
        let err = FileConfig::parse(Path::new("netboot.yaml"), text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("netboot.yaml:3:"), "{shown}");
        assert!(shown.contains("rnage"), "{shown}");
        let err =
            FileConfig::parse(Path::new("n.yaml"), "dhcp:\n  router: not-an-ip\n").unwrap_err();
        assert!(err.to_string().starts_with("n.yaml:2:"), "{err}");
    }
}
