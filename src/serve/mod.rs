//! `netboot serve`: the appliance. Works out what to serve (`plan`), loads
//! the profile registry, prints in plain words what it is about to do, opens
//! its sockets and drops root (`start::prepare`, one thread, no runtime yet),
//! then runs the DHCP responder, the TFTP server and the registry watcher
//! under one cancellation token until SIGINT or SIGTERM (`start::Prepared`).

mod bare;
pub mod dhcp6;
pub mod files;
pub mod ipxe_script;
pub mod lookup;
pub mod menus;
mod observe;
pub mod options;
pub mod plan;
pub mod preflight;
mod ra_only;
pub mod reservations;
pub mod reservations6;
mod start;
#[cfg(test)]
mod tidy;
pub mod user;

pub use options::ServeOptions;
pub use start::{prepare, Prepared};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::autoaddr::{self, AssignedAddress, AutoAddrError, Plan};
use crate::catalogue::signed_boot::Why;
use crate::config::{ConfigFileError, FileConfig};
use crate::dhcp::config::Mode;
use crate::net::{self, Ipv4Net, NetError};
use crate::registry::{Diagnostics, Registry};
use crate::tftp::server::TftpError;
use plan::{PlanError, ServePlan};

/// Why `netboot serve` could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `netboot.yaml` is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// Flags and file do not make a plan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// An interface is missing.
    #[error(transparent)]
    Net(#[from] NetError),
    /// An interface cannot be served as it is.
    #[error("{0}")]
    Interface(String),
    /// The settings (file and flags) cannot be served.
    #[error(transparent)]
    Settings(#[from] preflight::SettingsProblems),
    /// The profiles do not validate.
    #[error(transparent)]
    Profiles(Diagnostics),
    /// The TFTP server cannot start.
    #[error(transparent)]
    Tftp(#[from] TftpError),
    /// The bare-port address could not be chosen or assigned.
    #[error(transparent)]
    AutoAddr(#[from] AutoAddrError),
    /// Another DHCP server answers on a bare port.
    #[error("another DHCP server ({}, which offered {}) answers on {interface}; netboot will not hand out addresses on top of it. To add boot information to that network instead, take an address from it (e.g. `sudo dhclient {interface}`) and run `netboot serve --interface {interface} --proxy`.", found.server, found.offered)]
    ForeignDhcp {
        /// The interface.
        interface: String,
        /// Who answered, and what it offered.
        found: autoaddr::ForeignDhcp,
    },
    /// The HTTP server cannot start.
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// The DHCPv6 server cannot start (the message names the key or flag and the fix).
    #[error("{0}")]
    Dhcp6(String),
    /// The status page's address cannot be bound.
    #[error(transparent)]
    Status(#[from] crate::status::StatusError),
    /// The DHCP responder stopped.
    #[error(transparent)]
    Dhcp(#[from] crate::dhcp::server::DhcpError),
    /// Root could not be dropped.
    #[error(transparent)]
    Privileges(#[from] crate::privileges::PrivilegeError),
    /// The PID file could not be written.
    #[error(transparent)]
    Pidfile(#[from] crate::pidfile::PidfileError),
    /// The state directory cannot be given to the user served as.
    #[error("{0}")]
    StateDir(String),
    /// The user served as cannot reach a directory it needs.
    #[error("{0}")]
    Access(String),
}

/// The `netboot.yaml` to read: `--config`, else `./netboot.yaml` when it
/// exists, else none.
pub fn config_path(config: Option<&Path>) -> Option<PathBuf> {
    match config {
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from("netboot.yaml")).filter(|p| p.is_file()),
    }
}

/// Reads the file [`config_path`] names (if any): the file and the
/// directory its relative paths are taken from.
pub fn load_file(config: Option<&Path>) -> Result<(FileConfig, PathBuf), ConfigFileError> {
    match config_path(config) {
        Some(path) => {
            let file = FileConfig::load(&path)?;
            let base = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            Ok((file, base))
        }
        None => Ok((FileConfig::default(), PathBuf::from("."))),
    }
}

/// The served interfaces with our address on each, and the addresses
/// netboot assigned itself (removed again when the guards drop).
struct Networks {
    nets: Vec<(String, Ipv4Net)>,
    assigned: Vec<Arc<AssignedAddress>>,
}

fn networks(args: &mut ServeOptions, file: &FileConfig) -> Result<Networks, ServeError> {
    let names = if args.interfaces.is_empty() {
        file.all_interfaces()
    } else {
        args.interfaces.clone()
    };
    if names.is_empty() {
        return Err(ServeError::Interface(
            "no interface given: run `netboot serve --interface IF` (see `ip link` for names)"
                .into(),
        ));
    }
    let explicit = args
        .assign_address
        .as_deref()
        .map(autoaddr::parse_assign)
        .transpose()?;
    let wanted = args.server_address.or(file.server_address);
    let mut out = Networks {
        nets: Vec::new(),
        assigned: Vec::new(),
    };
    for name in names {
        if let Some(ip) = wanted {
            out.nets.push((name.clone(), existing_address(&name, ip)?));
            continue;
        }
        let look = bare::look(&name, explicit)?;
        let net = match look.plan {
            Plan::Existing(net) => net,
            Plan::Assign {
                foreign_dhcp: Some(foreign),
                ..
            } => {
                return Err(ServeError::ForeignDhcp {
                    interface: name,
                    found: foreign,
                })
            }
            Plan::Assign { net, .. } => {
                // the pool of the primary (first) network, checked before
                // anything is added to the interface
                if out.nets.is_empty() {
                    bare::set_pool(args, file, &name, net)?;
                }
                out.assigned.push(Arc::new(bare::take(&name, &look)?));
                net
            }
        };
        out.nets.push((name, net));
    }
    Ok(out)
}

/// `--server-address`: it must already be on the interface.
fn existing_address(name: &str, ip: std::net::Ipv4Addr) -> Result<Ipv4Net, ServeError> {
    let iface = net::interface(name)?;
    if !iface.up {
        return Err(ServeError::Interface(format!(
            "interface {name} is down; bring it up with `sudo ip link set {name} up`"
        )));
    }
    iface
        .ipv4
        .iter()
        .find(|n| n.addr == ip)
        .copied()
        .ok_or_else(|| {
            ServeError::Interface(format!("interface {name} does not have the address {ip}"))
        })
}

/// What will be served, in plain words.
pub fn describe(plan: &ServePlan, registry: &Registry) -> String {
    let mut out = String::new();
    if let Some(path) = &plan.config_file {
        out.push_str(&format!(
            "netboot reads its settings from {}\n",
            path.display()
        ));
    }
    for (name, net) in &plan.networks {
        out.push_str(&format!("netboot serves interface {name} as {net}\n"));
    }
    match plan.dhcp.mode {
        Mode::Proxy => out.push_str(
            "  DHCP: ProxyDHCP (another server hands out addresses; netboot only answers PXE clients, on ports 67 and 4011)\n",
        ),
        Mode::Authoritative => {
            for pool in &plan.dhcp.pools {
                out.push_str(&format!(
                    "  DHCP: addresses {} to {} in {}, leases of {} s{}\n",
                    pool.first(),
                    pool.last(),
                    pool.subnet(),
                    plan.dhcp.lease_time.as_secs(),
                    if plan.dhcp.ping_check { ", each probed (ARP, or ping behind a relay) before it is offered" } else { "" }
                ));
            }
        }
    }
    if plan.dhcp.known_clients_only {
        out.push_str("  DHCP: only machines named in the profiles get an answer\n");
    }
    if let Some(name) = &plan.dhcp.server_name {
        out.push_str(&format!("  DHCP: server name (sname) {name}\n"));
    }
    let listen: Vec<String> = plan.tftp.listen.iter().map(ToString::to_string).collect();
    out.push_str(&format!(
        "  TFTP: {} from {}{}\n",
        listen.join(", "),
        plan.tftp.root.root.display(),
        if plan.tftp.root.create {
            " (uploads may create files)"
        } else {
            ""
        }
    ));
    if let Some(map) = &plan.tftp.map_file {
        out.push_str(&format!(
            "  TFTP: {} map rule(s) from {} (read again on SIGHUP)\n",
            plan.tftp.remap.load().len(),
            map.display()
        ));
    }
    match &plan.http {
        Some(http) => {
            let urls: Vec<String> = http.listen.iter().map(|a| format!("http://{a}/")).collect();
            out.push_str(&format!(
                "  HTTP: {} (the same files; UEFI HTTP boot and iPXE are sent here)\n",
                urls.join(", ")
            ));
        }
        None => out.push_str("  HTTP: off\n"),
    }
    let d = &plan.defaults;
    let show = |f: &Option<String>| match f {
        Some(name) if plan.generated.iter().any(|(g, _)| g == name) => {
            format!("{name} (written by netboot: the root has no boot.ipxe)")
        }
        Some(name) => name.clone(),
        None => "(none)".into(),
    };
    out.push_str(&format!(
        "  boot files: BIOS {}, UEFI x64 {}, UEFI ARM64 {}, iPXE clients {}\n",
        show(&d.bios),
        uefi_x64_summary(plan, show(&d.uefi_x64)),
        uefi_arm64_summary(plan, show(&d.uefi_arm64)),
        show(&d.ipxe)
    ));
    let others = other_families(d);
    if !others.is_empty() {
        out.push_str(&format!("  other firmware: {others}\n"));
    }
    out.push_str(&format!(
        "  profiles: {} from {} ({} reserved addresses)\n",
        registry.profile_count(),
        plan.profiles.display(),
        crate::boot::ProfileLookup::reservations(registry).len()
    ));
    if let Some(dir) = &plan.dhcp.state_dir {
        out.push_str(&format!("  leases kept in {}\n", dir.display()));
    }
    if let Some(addr) = plan.status {
        out.push_str(&format!(
            "  status: http://{addr}/ (the page, /api/status, /metrics)\n"
        ));
    }
    out
}

/// The defaults of every family the line above leaves out, `key file`,
/// for those that have one (U-Boot, RISC-V, LoongArch, ...).
fn other_families(d: &crate::boot::BootFiles) -> String {
    const SHOWN: [&str; 5] = ["bios", "uefi_x64", "uefi_arm64", "ipxe", "other"];
    crate::boot::BootFiles::KEYS
        .iter()
        .filter(|k| !SHOWN.contains(k))
        .filter_map(|k| Some(format!("{k} {}", d.get(k)?)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The UEFI x64 default as the start-up summary says it: the file PXE
/// machines get and why (a signed shim when there is one), and what HTTP
/// boot and iPXE clients get when that differs.
fn uefi_x64_summary(plan: &ServePlan, shown: String) -> String {
    let root = plan.tftp.root.root.clone();
    let defaults = lookup::Defaults::from_plan(plan, crate::catalogue::live::empty(root));
    let pxe = defaults.uefi_x64_pxe(None);
    let catalogue = match pxe.why {
        Why::Present | Why::Nothing if plan.http.is_some() => {
            " (a catalogued ISO's signed shim instead, when there is one)"
        }
        _ => "",
    };
    match &pxe.file {
        Some(file) if *file != shown && !plan.uefi_x64_configured => format!(
            "{file} for PXE: {}{catalogue}; {shown} for HTTP boot",
            pxe.reason()
        ),
        _ if plan.uefi_x64_configured || plan.http.is_none() => shown,
        _ => format!("{shown} (PXE: {}{catalogue})", pxe.reason()),
    }
}

/// The UEFI ARM64 default as the start-up summary says it.
fn uefi_arm64_summary(plan: &ServePlan, shown: String) -> String {
    let root = plan.tftp.root.root.clone();
    let defaults = lookup::Defaults::from_plan(plan, crate::catalogue::live::empty(root));
    let pxe = defaults.uefi_arm64_pxe();
    match (&pxe.why, &pxe.file) {
        (Why::RootChain, Some(file)) if *file != shown => {
            format!("{file} for PXE: {}; {shown} for HTTP boot", pxe.reason())
        }
        (Why::RootChain, Some(file)) => format!("{file} for PXE: {}", pxe.reason()),
        _ => shown,
    }
}

#[cfg(test)]
mod summary_tests {
    use super::other_families;
    use crate::boot::BootFiles;

    #[test]
    fn other_families_lists_the_set_keys_the_main_line_leaves_out() {
        let mut d = BootFiles {
            bios: Some("undionly.kpxe".into()),
            ..BootFiles::default()
        };
        assert_eq!(other_families(&d), "");
        *d.slot("uboot_arm64").unwrap() = Some("boot.scr.uimg".into());
        *d.slot("uefi_riscv64").unwrap() = Some("grubriscv64.efi".into());
        assert_eq!(
            other_families(&d),
            "uefi_riscv64 grubriscv64.efi, uboot_arm64 boot.scr.uimg"
        );
    }
}
