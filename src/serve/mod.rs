//! `netboot serve`: the appliance. Works out what to serve (`plan`), loads
//! the profile registry, prints in plain words what it is about to do, then
//! runs the DHCP responder, the TFTP server and the registry watcher under
//! one cancellation token until SIGINT or SIGTERM.

mod bare;
pub mod files;
pub mod lookup;
pub mod plan;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::autoaddr::{self, AssignedAddress, AutoAddrError, Plan};
use crate::cli::serve::ServeArgs;
use crate::config::{ConfigFileError, FileConfig};
use crate::dhcp::config::Mode;
use crate::dhcp::view::LeaseView;
use crate::net::{self, Ipv4Net, NetError};
use crate::registry::{self, Diagnostics, Registry};
use crate::tftp::server::{TftpError, TftpServer};
use plan::{plan, PlanError, ServePlan};

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
    /// The profiles do not validate.
    #[error("{0}\n(boot files named by profiles must exist in the TFTP root; boot-images/fill.sh copies the usual ones from Debian's packages)")]
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
    /// The DHCP responder stopped.
    #[error(transparent)]
    Dhcp(#[from] crate::dhcp::server::DhcpError),
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

async fn networks(args: &mut ServeArgs, file: &FileConfig) -> Result<Networks, ServeError> {
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
        let ifname = name.clone();
        let look = tokio::task::spawn_blocking(move || bare::look(&ifname, explicit))
            .await
            .map_err(|e| ServeError::Interface(format!("interface check failed: {e}")))??;
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
                let ifname = name.clone();
                let guard = tokio::task::spawn_blocking(move || bare::take(&ifname, &look))
                    .await
                    .map_err(|e| {
                        ServeError::Interface(format!("adding the address failed: {e}"))
                    })??;
                out.assigned.push(Arc::new(guard));
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

/// Loads the profiles; a missing directory means "no profiles".
pub fn load_registry(profiles: &Path, root: &Path) -> Result<Registry, ServeError> {
    if !profiles.is_dir() {
        warn!(
            "no profiles directory at {}: every client gets the default boot files",
            profiles.display()
        );
        return Ok(Registry::default());
    }
    registry::check(profiles, root).map_err(|d| ServeError::Profiles(Diagnostics(d)))
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
    let d = &plan.defaults;
    let show = |f: &Option<String>| f.clone().unwrap_or_else(|| "(none)".into());
    out.push_str(&format!(
        "  boot files: BIOS {}, UEFI x64 {}, UEFI ARM64 {}, iPXE clients {}\n",
        show(&d.bios),
        show(&d.uefi_x64),
        show(&d.uefi_arm64),
        show(&d.ipxe)
    ));
    out.push_str(&format!(
        "  profiles: {} from {} ({} reserved addresses)\n",
        registry.profile_count(),
        plan.profiles.display(),
        crate::boot::ProfileLookup::reservations(registry).len()
    ));
    if let Some(dir) = &plan.dhcp.state_dir {
        out.push_str(&format!("  leases kept in {}\n", dir.display()));
    }
    out
}

/// Runs `netboot serve` until SIGINT/SIGTERM (`cancel`). Addresses netboot
/// added to bare ports are removed on the way out, whether it stops on a
/// signal or on a fatal error.
pub async fn run(mut args: ServeArgs, cancel: CancellationToken) -> Result<(), ServeError> {
    let (file, base) = load_file(args.config.as_deref())?;
    let Networks { nets, assigned } = networks(&mut args, &file).await?;
    let keep = cancel.child_token();
    let watchers: Vec<_> = assigned
        .iter()
        .map(|guard| {
            let guard = Arc::clone(guard);
            let stop = keep.clone();
            tokio::spawn(async move { autoaddr::watch(&guard, Duration::from_secs(2), stop).await })
        })
        .collect();
    let result = serve(&args, &file, &base, nets, cancel).await;
    // the watchers stop first, so none puts an address back after its removal
    keep.cancel();
    for w in watchers {
        let _ = w.await;
    }
    for guard in &assigned {
        if let Err(e) = guard.remove() {
            warn!(
                "could not remove {} from {}: {e}; remove it with `sudo ip addr del {} dev {}`",
                guard.net(),
                guard.interface(),
                guard.net(),
                guard.interface()
            );
        }
    }
    info!("stopped");
    result
}

/// Plans, loads the profiles, prints what is served and runs the servers
/// until `cancel` or a fatal error.
async fn serve(
    args: &ServeArgs,
    file: &FileConfig,
    base: &Path,
    nets: Vec<(String, Ipv4Net)>,
    cancel: CancellationToken,
) -> Result<(), ServeError> {
    let mut plan = plan(args, file, base, nets)?;
    let registry = load_registry(&plan.profiles, &plan.tftp.root.root)?;
    plan::refuse_own_reservations(&plan, &registry)?;
    eprint!("{}", describe(&plan, &registry));
    let shared = Arc::new(ArcSwap::from_pointee(registry));
    let leases = LeaseView::default();
    plan.tftp.client_files = Some(Arc::new(files::RegistryFiles {
        registry: Arc::clone(&shared),
        leases: leases.clone(),
        networks: plan.networks.iter().map(|(_, n)| *n).collect(),
    }));

    let tftp = TftpServer::bind(plan.tftp.clone())?;
    // always: SIGHUP must reload (or say there is nothing to), never kill
    let watcher = Some(registry::watch(
        plan.profiles.clone(),
        plan.tftp.root.root.clone(),
        Arc::clone(&shared),
        cancel.child_token(),
    ));
    // the map file is read again on the same SIGHUP as the profiles
    let map_reload = plan.tftp.map_file.clone().map(|path| {
        let rules = Arc::clone(&plan.tftp.remap);
        crate::tftp::mapfile::reload_on_hangup(Some(path), rules, cancel.child_token())
    });
    let tftp_task = tokio::spawn(tftp.run(cancel.child_token()));
    let lookup = lookup::source(Arc::clone(&shared), plan.defaults.clone());
    let dhcp_result =
        crate::dhcp::server::run_with_view(plan.dhcp.clone(), lookup, leases, cancel.child_token())
            .await;
    // The DHCP side ends on shutdown or on a fatal error; either way the
    // rest stops too.
    cancel.cancel();
    let _ = tftp_task.await;
    if let Some(w) = watcher {
        let _ = w.await;
    }
    if let Some(m) = map_reload {
        let _ = m.await;
    }
    dhcp_result.map_err(ServeError::from)
}
