//! From flags, `netboot.yaml` and the interfaces' addresses to one plan:
//! the DHCP and TFTP configurations, the profile directory and the default
//! boot files. Pure apart from reading which files exist in the root (and
//! the host name), so the start-up message can say exactly what will be
//! served. The DHCP half (a pool per interface) is in `plan/dhcp.rs`.

mod dhcp;

pub use dhcp::{default_range, host_name, parse_range, switch};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::boot::BootFiles;
use crate::cli::serve::ServeArgs;
use crate::config::FileConfig;
use crate::dhcp::config::DhcpConfig;
use crate::net::Ipv4Net;
use crate::registry::{Diagnostic, Registry};
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
    /// The `netboot.yaml` read, if any.
    pub config_file: Option<PathBuf>,
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
    if networks.is_empty() {
        return Err(invalid("no interface to serve: give --interface IF"));
    }
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
    let state_dir = state_dir(args.state_dir.as_deref(), file, base);

    let dhcp = dhcp::dhcp_config(args, file, &networks, state_dir)?;
    let tftp = tftp_config(args, file, &networks, root)?;
    let defaults = default_boot_files(args, file, &tftp.root.root);
    Ok(ServePlan {
        dhcp,
        tftp,
        profiles,
        defaults,
        networks,
        config_file: super::config_path(args.config.as_deref()),
    })
}

/// Where leases are kept: `flag` (`--state-dir` or `NETBOOT_STATE_DIR`),
/// else `state_dir:` in the file (relative to its directory `base`), else
/// [`default_state_dir`]. `netboot serve` and `netboot leases` both look
/// there.
pub fn state_dir(flag: Option<&Path>, file: &FileConfig, base: &Path) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| file.state_dir.as_deref().map(|p| base.join(p)))
        .unwrap_or_else(default_state_dir)
}

/// `/var/lib/netboot` for root, `./netboot-state` otherwise.
pub fn default_state_dir() -> PathBuf {
    default_state_dir_for(nix::unistd::Uid::effective().is_root())
}

fn default_state_dir_for(root: bool) -> PathBuf {
    if root {
        PathBuf::from("/var/lib/netboot")
    } else {
        PathBuf::from("netboot-state")
    }
}

/// [`own_addresses_reserved`] as a start-up error.
pub fn refuse_own_reservations(plan: &ServePlan, registry: &Registry) -> Result<(), PlanError> {
    let found = own_addresses_reserved(plan, registry);
    if found.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    Err(invalid(lines.join("\n")))
}

/// Profiles that reserve one of our own addresses, as errors at the place
/// they are written: such a client would be offered an address it can
/// never have.
pub fn own_addresses_reserved(plan: &ServePlan, registry: &Registry) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (ip, loc) in registry.fixed_addresses() {
        if let Some((name, _)) = plan.networks.iter().find(|(_, n)| n.addr == ip) {
            out.push(loc.diag(format!(
                "address {ip} is netboot's own address on {name}; reserve another address for this machine"
            )));
        }
    }
    out
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
    let permissive = section.permissive.unwrap_or(false);
    let mut cfg = TftpConfig::new(
        listen,
        RootPolicy {
            root,
            secure: section.secure.unwrap_or(true),
            create: dhcp::switch(args.create, args.no_create, section.create, false),
            permissive,
            case_insensitive: true,
            // as tftpd-hpa: uploads rw-rw-rw- so the next one may replace them
            umask: crate::tftp::fs::default_umask(permissive),
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
    if let Some(us) = section.busy_poll_us {
        if us > crate::tftp::config::MAX_BUSY_POLL_US {
            return Err(invalid("tftp.busy_poll_us must be at most 10000"));
        }
        cfg.busy_poll = std::time::Duration::from_micros(us);
    }
    cfg.upload_dir = section.upload_dir.clone();
    cfg.keep_versions = section.keep_versions.unwrap_or(0);
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
mod tests;
