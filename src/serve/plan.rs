//! From flags, `netboot.yaml` and the interfaces' addresses to one plan:
//! the DHCP and TFTP configurations, the profile directory and the default
//! boot files. Pure apart from reading which files exist in the root (and
//! the host name), so the start-up message can say exactly what will be
//! served. The DHCP half (a pool per interface) is in `plan/dhcp.rs`.

mod dhcp;
pub mod http;
mod tftp_settings;

pub use dhcp::{
    at_range, at_relay, default_range, host_name, lease_time, parse_range, relay_pool, server_name,
    switch,
};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::boot::BootFiles;
use crate::catalogue::signed_boot::RootChains;
use crate::config::FileConfig;
use crate::dhcp::config::DhcpConfig;
use crate::http::HttpConfig;
use crate::net::Ipv4Net;
use crate::registry::{Diagnostic, Registry};
use crate::serve::options::ServeOptions;
use crate::tftp::config::TftpConfig;
use crate::tftp::fs::RootPolicy;

use super::ipxe_script;

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
    /// A flag or `netboot.yaml` named the UEFI x64 boot file: it wins over
    /// a catalogued ISO's signed shim (`catalogue::signed_boot`).
    pub uefi_x64_configured: bool,
    /// A flag or `netboot.yaml` named the UEFI ARM64 boot file.
    pub uefi_arm64_configured: bool,
    /// The signed chains (`fill.sh`'s shim + GRUB) in the root, looked for
    /// when HTTP is on (netboot serves the `grub.cfg` their GRUB reads
    /// then): a UEFI PXE machine's default when nothing is configured.
    pub root_chains: RootChains,
    /// The served network, per interface.
    pub networks: Vec<(String, Ipv4Net)>,
    /// The `netboot.yaml` read, if any.
    pub config_file: Option<PathBuf>,
    /// Files netboot serves that it wrote itself (the default iPXE script
    /// when the root has none): (name, bytes).
    pub generated: Vec<(String, Vec<u8>)>,
    /// The HTTP server, unless switched off; its port is 80 unless one was
    /// given (then `http_port_given`), and `serve` falls back to 8080 when
    /// 80 cannot be bound.
    pub http: Option<HttpConfig>,
    /// `--http-port` or `http.port` was given.
    pub http_port_given: bool,
    /// Where the status page, API and metrics are served, when they are.
    pub status: Option<SocketAddr>,
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
    args: &ServeOptions,
    file: &FileConfig,
    base: &Path,
    networks: Vec<(String, Ipv4Net)>,
) -> Result<ServePlan, PlanError> {
    if networks.is_empty() {
        return Err(invalid("no interface to serve: give --interface IF"));
    }
    let Directories { root, profiles, .. } = directories(args, file, base);
    let root = root.canonicalize().map_err(|source| PlanError::Root {
        path: root.clone(),
        source,
    })?;
    let state_dir = state_dir(args.state_dir.as_deref(), file, base);

    let dhcp = dhcp::dhcp_config(args, file, &networks, state_dir)?;
    let tftp = tftp_config(args, file, base, &networks, root)?;
    let mut defaults = default_boot_files(args, file, &tftp.root.root);
    let mut generated = Vec::new();
    if defaults.ipxe.is_none() {
        defaults.ipxe = Some(ipxe_script::NAME.to_string());
        generated.push((
            ipxe_script::NAME.to_string(),
            ipxe_script::script().into_bytes(),
        ));
    }
    let http_port = args.http_port.or(file.http.port);
    let http = if dhcp::switch(args.http, file.http.enabled, true) {
        let port = http_port.unwrap_or(80);
        let mut root = tftp.root.clone();
        root.secure = true;
        let mut cfg = HttpConfig::new(http::listen(file, &networks, port)?, root);
        cfg.also_listen = http::also_listen(file, &networks, port);
        Some(cfg)
    } else {
        None
    };
    let root_chains = match &http {
        Some(_) => RootChains::find(|name| tftp.root.root.join(name).is_file()),
        None => RootChains::default(),
    };
    Ok(ServePlan {
        dhcp,
        tftp,
        profiles,
        defaults,
        uefi_x64_configured: args.boot_uefi.is_some() || file.boot.uefi_x64.is_some(),
        uefi_arm64_configured: args.boot_uefi_arm64.is_some() || file.boot.uefi_arm64.is_some(),
        root_chains,
        networks,
        config_file: super::config_path(args.config.as_deref()),
        generated,
        http,
        // a port written in http.listen is kept as written, too
        http_port_given: http_port.is_some() || file.http.listen.is_some(),
        status: status_address(args, file)?,
    })
}

/// The status page's address: `--status`, else `status:` in the file
/// (on when it says `enabled: true` or gives `listen`).
fn status_address(args: &ServeOptions, file: &FileConfig) -> Result<Option<SocketAddr>, PlanError> {
    let section = &file.status;
    let on = section.enabled.unwrap_or(section.listen.is_some());
    let text = match (&args.status, on) {
        (Some(given), _) => given.clone(),
        (None, true) => section
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_STATUS.into()),
        (None, false) => return Ok(None),
    };
    text.parse().map(Some).map_err(|_| {
        PlanError::Invalid(format!(
            "status address {text:?} is not ADDRESS:PORT (e.g. {DEFAULT_STATUS} or [::1]:9090)"
        ))
    })
}

/// Where the status page listens unless told.
pub const DEFAULT_STATUS: &str = "127.0.0.1:9090";

/// The boot root and the profiles directory, from the flags, else the
/// file (relative to its directory `base`), else the defaults; with where
/// each was named, for errors.
pub struct Directories {
    /// The boot root as named (not yet resolved).
    pub root: PathBuf,
    /// `--root`, the `root` key's place in the file, or "the default boot root".
    pub root_place: String,
    /// The profiles directory.
    pub profiles: PathBuf,
    /// `--profiles`, the `profiles` key's place, or "the default".
    pub profiles_place: String,
    /// The profiles directory was named (a missing one is then an error).
    pub profiles_given: bool,
}

/// See [`Directories`].
pub fn directories(args: &ServeOptions, file: &FileConfig, base: &Path) -> Directories {
    let in_base = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let pick = |flag: &Option<PathBuf>, key: &Option<PathBuf>, name: &str, default: &str| match (
        flag, key,
    ) {
        (Some(path), _) => (path.clone(), format!("--{name}"), true),
        (None, Some(path)) => (in_base(path), file.place(&[name]), true),
        (None, None) => (PathBuf::from(default), format!("{name} (default)"), false),
    };
    let (root, root_place, _) = pick(&args.root, &file.root, "root", "boot-images");
    let (profiles, profiles_place, profiles_given) =
        pick(&args.profiles, &file.profiles, "profiles", "profiles");
    Directories {
        root,
        root_place,
        profiles,
        profiles_place,
        profiles_given,
    }
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
    for (ip, _, loc) in registry.fixed_addresses() {
        if let Some((name, _)) = plan.networks.iter().find(|(_, n)| n.addr == ip) {
            out.push(loc.diag(format!(
                "address {ip} is netboot's own address on {name}; reserve another address for this machine"
            )));
        }
    }
    out
}

/// The TFTP half of the plan (`networks` empty: checks the settings only).
pub fn tftp_config(
    args: &ServeOptions,
    file: &FileConfig,
    base: &Path,
    networks: &[(String, Ipv4Net)],
    root: PathBuf,
) -> Result<TftpConfig, PlanError> {
    let mut cfg = tftp_base(args, file, networks, root)?;
    tftp_settings::apply(args, &file.tftp, base, &mut cfg)?;
    Ok(cfg)
}

/// Listen addresses, the root's rules and the block and window limits.
fn tftp_base(
    args: &ServeOptions,
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
            create: dhcp::switch(args.create, section.create, false),
            permissive,
            case_insensitive: true,
            // as tftpd-hpa: uploads rw-rw-rw- so the next one may replace them
            umask: crate::tftp::fs::default_umask(permissive),
            max_upload: section.max_upload,
            dirs: Vec::new(),
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
    cfg.keep_versions = section.keep_versions.unwrap_or(0);
    cfg.trace_blocks = args.verbose >= 2;
    Ok(cfg)
}

/// Boot files for clients no profile gives one to: flags, then the file,
/// then the first of the usual names that exists in the root.
fn default_boot_files(args: &ServeOptions, file: &FileConfig, root: &Path) -> BootFiles {
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
    // iPXE must not be handed iPXE again, nor a boot loader of another
    // architecture: a script (netboot writes one when the root has none).
    let ipxe = args
        .boot_ipxe
        .clone()
        .or_else(|| file.boot.ipxe.clone())
        .or_else(|| first_present(&["boot.ipxe", "autoexec.ipxe"]));
    let mut files = BootFiles {
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
        ..Default::default()
    };
    for (key, value) in file.boot.entries() {
        match files.slot(key) {
            Some(slot) if slot.is_none() => slot.clone_from(value),
            _ => {}
        }
    }
    for (key, names) in STANDARD_NAMES {
        match files.slot(key) {
            Some(slot) if slot.is_none() && names.is_empty() => *slot = Some(UBOOT_SCRIPT.into()),
            Some(slot) if slot.is_none() => *slot = first_present(names),
            _ => {}
        }
    }
    files
}

/// The usual names of the other families' loaders, first present wins
/// (UEFI's removable-media names, then GRUB's); U-Boot's `boot.scr.uimg`
/// is the name its distro boot asks for whatever the offer says, so it is
/// given even when the root has none (a profile may render it per client).
const STANDARD_NAMES: [(&str, &[&str]); 6] = [
    ("uefi_arm32", &["bootarm.efi", "grubarm.efi"]),
    ("uefi_riscv32", &["bootriscv32.efi"]),
    ("uefi_riscv64", &["bootriscv64.efi", "grubriscv64.efi"]),
    (
        "uefi_loongarch64",
        &["bootloongarch64.efi", "grubloongarch64.efi"],
    ),
    ("uboot_arm32", &[]),
    ("uboot_arm64", &[]),
];

/// U-Boot's distro boot script name (`boot_script_dhcp`).
pub const UBOOT_SCRIPT: &str = "boot.scr.uimg";

#[cfg(test)]
mod tests;
