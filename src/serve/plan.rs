//! From flags, `netboot.yaml` and the interface's addresses to one plan:
//! the DHCP and TFTP configurations, the profile directory and the default
//! boot files. Pure apart from reading which files exist in the root, so
//! the start-up message can say exactly what will be served.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::boot::BootFiles;
use crate::cli::serve::ServeArgs;
use crate::config::FileConfig;
use crate::dhcp::config::{DhcpConfig, Mode, PoolConfig, Subnet};
use crate::net::Ipv4Net;
use crate::tftp::config::TftpConfig;
use crate::tftp::fs::RootPolicy;

/// Everything `netboot serve` will run.
#[derive(Debug, Clone)]
pub struct ServePlan {
    /// DHCP responder configuration.
    pub dhcp: DhcpConfig,
    /// TFTP server configuration.
    pub tftp: TftpConfig,
    /// Profile directory (may not exist: then no profiles).
    pub profiles: PathBuf,
    /// Boot files for clients no profile gives one to.
    pub defaults: BootFiles,
    /// The served network, per interface.
    pub networks: Vec<(String, Ipv4Net)>,
}

/// Why the flags and file do not make a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A value is malformed or contradicts another.
    #[error("{0}")]
    Invalid(String),
    /// The TFTP root cannot be served.
    #[error("cannot serve {path}: {source}")]
    Root {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn invalid(message: impl Into<String>) -> PlanError {
    PlanError::Invalid(message.into())
}

/// Builds the plan. `networks` are the served interfaces with the address
/// chosen on each; `base` is the directory relative paths in the file are
/// taken from.
pub fn plan(
    args: &ServeArgs,
    file: &FileConfig,
    base: &Path,
    networks: Vec<(String, Ipv4Net)>,
) -> Result<ServePlan, PlanError> {
    let (_, primary) = networks
        .first()
        .cloned()
        .ok_or_else(|| invalid("no interface to serve: give --interface IF"))?;
    let in_base = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let root = args
        .root
        .clone()
        .or_else(|| file.root.as_deref().map(in_base))
        .unwrap_or_else(|| PathBuf::from("boot-images"));
    let root = root.canonicalize().map_err(|source| PlanError::Root {
        path: root.clone(),
        source,
    })?;
    let profiles = args
        .profiles
        .clone()
        .or_else(|| file.profiles.as_deref().map(in_base))
        .unwrap_or_else(|| PathBuf::from("profiles"));
    let state_dir = args
        .state_dir
        .clone()
        .or_else(|| file.state_dir.as_deref().map(in_base))
        .unwrap_or_else(default_state_dir);

    let dhcp = dhcp_config(args, file, &networks, primary, state_dir)?;
    let tftp = tftp_config(args, file, &networks, root)?;
    let defaults = default_boot_files(args, file, &tftp.root.root);
    Ok(ServePlan {
        dhcp,
        tftp,
        profiles,
        defaults,
        networks,
    })
}

/// `/var/lib/netboot` for root, `./netboot-state` otherwise.
fn default_state_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        PathBuf::from("/var/lib/netboot")
    } else {
        PathBuf::from("netboot-state")
    }
}

fn dhcp_config(
    args: &ServeArgs,
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
    primary: Ipv4Net,
    state_dir: PathBuf,
) -> Result<DhcpConfig, PlanError> {
    let section = &file.dhcp;
    let mut cfg = DhcpConfig::new(primary.addr);
    cfg.interfaces = networks.iter().map(|(name, _)| name.clone()).collect();
    cfg.mode = if args.proxy || section.proxy.unwrap_or(false) {
        Mode::Proxy
    } else {
        Mode::Authoritative
    };
    cfg.known_clients_only = args.known_clients_only || section.known_clients_only.unwrap_or(false);
    cfg.ping_check = !args.no_ping && section.ping_check.unwrap_or(true);
    if let Some(secs) = args.lease_time.or(section.lease_time) {
        if secs < 60 {
            return Err(invalid(format!(
                "lease time {secs}s is too short (60 s at least)"
            )));
        }
        cfg.lease_time = Duration::from_secs(secs);
    }
    cfg.state_dir = Some(state_dir);
    if cfg.mode == Mode::Proxy {
        return Ok(cfg);
    }
    let subnet =
        Subnet::new(primary.network(), primary.prefix).map_err(|e| invalid(e.to_string()))?;
    let range = args.range.as_deref().or(section.range.as_deref());
    let (first, last) = match range {
        Some(text) => parse_range(text)?,
        None => default_range(primary),
    };
    let mut pool = PoolConfig::new(subnet, first, last)
        .map_err(|e| invalid(format!("--range {first}-{last}: {e}")))?;
    pool.routers = args.router.or(section.router).into_iter().collect();
    pool.dns_servers = if args.dns.is_empty() {
        section.dns.clone()
    } else {
        args.dns.clone()
    };
    pool.domain_name = section.domain.clone();
    cfg.pools.push(pool);
    for relay in &section.relay_pools {
        let subnet = Subnet::parse(&relay.subnet).ok_or_else(|| {
            invalid(format!(
                "relay pool subnet {:?} is not ADDRESS/PREFIX",
                relay.subnet
            ))
        })?;
        let (first, last) = parse_range(&relay.range)?;
        let mut pool = PoolConfig::new(subnet, first, last).map_err(|e| invalid(e.to_string()))?;
        pool.routers = relay.router.into_iter().collect();
        pool.dns_servers = relay.dns.clone();
        pool.domain_name = section.domain.clone();
        cfg.pools.push(pool);
    }
    cfg.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(cfg)
}

/// `FIRST-LAST`.
pub fn parse_range(text: &str) -> Result<(Ipv4Addr, Ipv4Addr), PlanError> {
    let bad = || {
        invalid(format!(
            "range {text:?} is not FIRST-LAST (e.g. 10.0.0.100-10.0.0.199)"
        ))
    };
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let first: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
    let last: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
    if first > last {
        return Err(bad());
    }
    Ok((first, last))
}

/// The upper half of the subnet's host addresses, so that addresses people
/// set by hand (usually low) stay clear; the server's own address is
/// skipped by the pool.
pub fn default_range(net: Ipv4Net) -> (Ipv4Addr, Ipv4Addr) {
    let network = u32::from(net.network());
    let broadcast = u32::from(net.broadcast());
    let low = network + 1;
    let high = broadcast.saturating_sub(1).max(low);
    let mid = (network + (broadcast - network) / 2 + 1).clamp(low, high);
    (Ipv4Addr::from(mid), Ipv4Addr::from(high))
}

fn tftp_config(
    args: &ServeArgs,
    file: &FileConfig,
    networks: &[(String, Ipv4Net)],
    root: PathBuf,
) -> Result<TftpConfig, PlanError> {
    let section = &file.tftp;
    let port = args.tftp_port.or(section.port).unwrap_or(69);
    let listen = networks
        .iter()
        .map(|(_, net)| SocketAddr::new(net.addr.into(), port))
        .collect();
    let mut cfg = TftpConfig::new(
        listen,
        RootPolicy {
            root,
            secure: section.secure.unwrap_or(true),
            create: args.create || section.create.unwrap_or(false),
            permissive: section.permissive.unwrap_or(false),
            case_insensitive: true,
            umask: 0o022,
            max_upload: section.max_upload,
        },
    );
    if let Some(max) = section.max_blocksize {
        if max < 512 {
            return Err(invalid("tftp.max_blocksize must be at least 512"));
        }
        cfg.options.max_blksize = max.min(crate::tftp::options::MAX_BLKSIZE);
    }
    if let Some(max) = section.max_windowsize {
        cfg.options.max_windowsize = max.max(1);
    }
    cfg.upload_dir = section.upload_dir.clone();
    cfg.trace_blocks = args.verbose >= 2;
    Ok(cfg)
}

/// Boot files for clients no profile gives one to: flags, then the file,
/// then the first of the usual names that exists in the root.
fn default_boot_files(args: &ServeArgs, file: &FileConfig, root: &Path) -> BootFiles {
    let first_present = |names: &[&str]| {
        names
            .iter()
            .find(|n| root.join(n).is_file())
            .map(|n| n.to_string())
    };
    let bios = args
        .boot_bios
        .clone()
        .or_else(|| file.boot.bios.clone())
        .or_else(|| first_present(&["undionly.kpxe", "pxelinux.0"]));
    // iPXE must not be handed iPXE again: a script if there is one, else a
    // boot loader that is not iPXE.
    let ipxe = args
        .boot_ipxe
        .clone()
        .or_else(|| file.boot.ipxe.clone())
        .or_else(|| first_present(&["boot.ipxe", "autoexec.ipxe", "pxelinux.0"]));
    BootFiles {
        bios,
        uefi_ia32: file.boot.uefi_ia32.clone(),
        uefi_x64: args
            .boot_uefi
            .clone()
            .or_else(|| file.boot.uefi_x64.clone())
            .or_else(|| first_present(&["ipxe.efi", "snponly.efi", "grubx64.efi", "bootx64.efi"])),
        uefi_arm64: args
            .boot_uefi_arm64
            .clone()
            .or_else(|| file.boot.uefi_arm64.clone())
            .or_else(|| first_present(&["ipxe-arm64.efi", "bootaa64.efi", "grubaa64.efi"])),
        http: file.boot.http.clone(),
        ipxe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Ipv4Net {
        let (a, p) = text.split_once('/').unwrap();
        Ipv4Net {
            addr: a.parse().unwrap(),
            prefix: p.parse().unwrap(),
        }
    }

    #[test]
    fn default_range_is_the_upper_half() {
        assert_eq!(
            default_range(net("10.42.0.1/24")),
            (
                "10.42.0.128".parse().unwrap(),
                "10.42.0.254".parse().unwrap()
            )
        );
        assert_eq!(
            default_range(net("192.168.8.10/22")),
            (
                "192.168.10.0".parse().unwrap(),
                "192.168.11.254".parse().unwrap()
            )
        );
    }

    #[test]
    fn flags_win_over_the_file_and_names_are_found_in_the_root() {
        let root = tempfile::tempdir().unwrap();
        for f in ["undionly.kpxe", "ipxe.efi", "boot.ipxe"] {
            std::fs::write(root.path().join(f), b"x").unwrap();
        }
        let file = FileConfig::parse(
            Path::new("n.yaml"),
            "dhcp:\n  range: 10.0.0.10-10.0.0.20\n  router: 10.0.0.254\nboot:\n  bios: pxelinux.0\n",
        )
        .unwrap();
        let args = ServeArgs {
            root: Some(root.path().to_path_buf()),
            range: Some("10.0.0.30-10.0.0.40".into()),
            state_dir: Some(root.path().join("state")),
            ..ServeArgs::default()
        };
        let plan = plan(
            &args,
            &file,
            Path::new("."),
            vec![("eth0".into(), net("10.0.0.1/24"))],
        )
        .unwrap();
        let pool = &plan.dhcp.pools[0];
        assert_eq!(
            (pool.first(), pool.last()),
            ("10.0.0.30".parse().unwrap(), "10.0.0.40".parse().unwrap())
        );
        assert_eq!(
            pool.routers,
            vec!["10.0.0.254".parse::<Ipv4Addr>().unwrap()]
        );
        assert_eq!(plan.defaults.bios.as_deref(), Some("pxelinux.0"));
        assert_eq!(plan.defaults.uefi_x64.as_deref(), Some("ipxe.efi"));
        assert_eq!(plan.defaults.ipxe.as_deref(), Some("boot.ipxe"));
        assert_eq!(plan.tftp.listen, vec!["10.0.0.1:69".parse().unwrap()]);
        assert!(plan.tftp.root.secure);
    }

    #[test]
    fn bad_ranges_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let args = |range: &str| ServeArgs {
            root: Some(root.path().to_path_buf()),
            range: Some(range.into()),
            ..ServeArgs::default()
        };
        let nets = || vec![("eth0".to_string(), net("10.0.0.1/24"))];
        for bad in ["10.0.0.50", "10.0.0.9-10.0.0.2", "10.0.1.5-10.0.1.9", "x-y"] {
            assert!(
                plan(&args(bad), &FileConfig::default(), Path::new("."), nets()).is_err(),
                "{bad}"
            );
        }
    }
}
