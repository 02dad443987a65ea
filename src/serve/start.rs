//! The two halves of `netboot serve`. [`prepare`] runs before the async
//! runtime exists, while the process has one thread: it adds a bare port's
//! address, binds every socket, writes the PID file and drops root, so every
//! thread started afterwards inherits the unprivileged user and the few
//! capabilities kept (capabilities are per thread on Linux). [`Prepared::run`]
//! serves on the runtime until cancelled, and removes the addresses netboot
//! added on every exit path.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::autoaddr::{self, AssignedAddress};
use crate::dhcp::rogue_watch::RogueWatch;
use crate::dhcp::server::Sockets;
use crate::dhcp::view::LeaseView;
use crate::events::Events;
use crate::pidfile::Pidfile;
use crate::privileges;
use crate::registry::{self, Registry};
use crate::serve::options::ServeOptions;
use crate::status::control::Control;
use crate::status::StatusServer;
use crate::tftp::server::TftpServer;

use super::plan::{self, plan, ServePlan};
use super::preflight::{preflight, Preflight};
use super::{
    describe, files, lookup, networks, reservations, reservations6, user, Networks, ServeError,
};
use super::{menus, observe};
use crate::catalogue;
use crate::dhcp::config::{Mode, Subnet};
use crate::http::config::DEFAULT_PORT;
use crate::http::HttpServer;
use crate::regions::Regions;
use crate::tftp::config::ClientFiles;

/// Everything opened with privileges, ready to serve without them.
pub struct Prepared {
    plan: ServePlan,
    registry: Arc<ArcSwap<Registry>>,
    leases: LeaseView,
    tftp: TftpServer,
    http: Option<HttpServer>,
    dhcp: Sockets,
    assigned: Vec<Arc<AssignedAddress>>,
    pidfile: Option<Pidfile>,
    /// The subnets served, for the reservation check after each reload.
    served: Option<Vec<Subnet>>,
    /// The image catalogue, scanned and watched once running (when HTTP runs).
    catalogue: catalogue::live::Shared,
    /// The stream every server reports to.
    events: Events,
    /// The status page, when asked for, and what it may change.
    status: Option<(StatusServer, Option<Control>)>,
    /// Listens for other DHCP servers (when we hand out addresses).
    rogue: Option<RogueWatch>,
    dhcp6: Option<super::dhcp6::V6>,
    /// The profiles' IPv6 reservations checked after each reload.
    check6: Option<reservations6::Check6>,
}

/// Plans, adds bare-port addresses, loads the profiles, prints what is
/// served, binds TFTP and DHCP, writes the PID file and drops root. Call it
/// before any other thread exists (no async runtime yet).
pub fn prepare(mut args: ServeOptions) -> Result<Prepared, ServeError> {
    // everything that can be checked without touching an interface first
    let Preflight {
        file,
        base,
        registry,
        ..
    } = preflight(&args)?;
    let target = privileges::choose(args.user.as_deref().or(file.user.as_deref()))?;
    let Networks { nets, assigned } = networks(&mut args, &file)?;
    let mut plan = plan(&args, &file, &base, nets)?;
    plan::refuse_own_reservations(&plan, &registry)?;
    let events = observe::events(&plan);
    observe::loaded_at_start(&events, &registry, &plan);
    plan.tftp.events = events.clone();
    if let Some(http) = &mut plan.http {
        http.events = events.clone();
    }
    let http = bind_http(&mut plan)?;
    eprint!("{}", describe(&plan, &registry));
    let served = served_subnets(&plan);
    if let Some(served) = &served {
        reservations::warn_outside(&registry, served);
    }
    let shared = Arc::new(ArcSwap::from_pointee(registry));
    let leases = LeaseView::default();
    let catalogue = catalogue::live::empty(plan.tftp.root.root.clone());
    let client_files: Arc<dyn ClientFiles> = Arc::new(files::RegistryFiles {
        registry: Arc::clone(&shared),
        leases: leases.clone(),
        networks: plan.networks.iter().map(|(_, n)| *n).collect(),
        generated: plan.generated.clone(),
        http_port: plan.dhcp.http_port,
        menus: menus::Menus {
            catalogue: Arc::clone(&catalogue),
            state_dir: plan.dhcp.state_dir.clone().unwrap_or_default(),
        },
    });
    plan.tftp.client_files = Some(Arc::clone(&client_files));
    let regions: Arc<dyn Regions> = Arc::new(catalogue::live::IsoFiles(Arc::clone(&catalogue)));
    plan.tftp.regions = Some(Arc::clone(&regions));
    let http = http.map(|h| h.with_client_files(client_files).with_regions(regions));
    let status = match plan.status {
        Some(addr) => Some((
            StatusServer::bind(addr)?,
            observe::control(&plan, &catalogue),
        )),
        None => None,
    };
    let bare: Vec<String> = assigned.iter().map(|a| a.interface().to_string()).collect();
    let links6 = super::dhcp6::links(&file, &mut plan, &bare)?;
    let tftp = TftpServer::bind(plan.tftp.clone())?;
    let dhcp = Sockets::open(&plan.dhcp)?;
    let dhcp6 = super::dhcp6::prepare(&file, &plan, links6)?;
    let check6 = dhcp6.as_ref().and_then(|v| v.pools()).map(|pools| {
        let check = reservations6::Check6 {
            pools: pools.to_vec(),
            in_file: reservations6::file_addresses(&file),
        };
        check.warn(&shared.load());
        check
    });
    if check6.is_none() {
        if let Some(line) = reservations6::unserved(&shared.load()) {
            tracing::warn!("{line}");
        }
    }
    let rogue = (plan.dhcp.mode == Mode::Authoritative).then(|| {
        let names: Vec<String> = plan.networks.iter().map(|(name, _)| name.clone()).collect();
        RogueWatch::open(&names)
    });
    let pidfile = args.pidfile.as_deref().map(Pidfile::create).transpose()?;
    user::drop_privileges(&target, &plan, !assigned.is_empty(), pidfile.as_ref())?;
    Ok(Prepared {
        plan,
        registry: shared,
        leases,
        tftp,
        http,
        dhcp,
        assigned,
        pidfile,
        served,
        catalogue,
        events,
        status,
        rogue,
        dhcp6,
        check6,
    })
}

/// The subnets whose addresses we hand out (none in ProxyDHCP mode, where
/// reservations mean nothing).
fn served_subnets(plan: &ServePlan) -> Option<Vec<Subnet>> {
    (plan.dhcp.mode == Mode::Authoritative)
        .then(|| plan.dhcp.pools.iter().map(|p| p.subnet()).collect())
}

/// Binds the HTTP server of the plan, if it has one: on the port given, or
/// on 80 and, when 80 cannot be had (no privilege, or taken), on 8080. The
/// port bound goes to the DHCP side (URLs for HTTP boot and iPXE) and back
/// into the plan for the start-up message.
fn bind_http(plan: &mut ServePlan) -> Result<Option<HttpServer>, ServeError> {
    let Some(cfg) = plan.http.clone() else {
        return Ok(None);
    };
    let server = match HttpServer::bind(cfg.clone()) {
        Ok(server) => server,
        Err(e) if !plan.http_port_given => {
            info!("HTTP: {e}; using port {DEFAULT_PORT} instead (give --http-port to choose)");
            let mut cfg = cfg;
            cfg.listen.iter_mut().for_each(|a| a.set_port(DEFAULT_PORT));
            cfg.also_listen
                .iter_mut()
                .for_each(|a| a.set_port(DEFAULT_PORT));
            HttpServer::bind(cfg)?
        }
        Err(e) => return Err(e.into()),
    };
    let bound = server.local_addrs();
    // the port clients are sent to: that of the address DHCP names
    plan.dhcp.http_port = match plan.networks.first() {
        Some((_, net)) => crate::http::listen::url_port(&bound, net.addr),
        None => bound.first().map(|a| a.port()),
    };
    if let Some(cfg) = &mut plan.http {
        cfg.listen = bound;
    }
    Ok(Some(server))
}

impl Prepared {
    /// Serves until SIGINT/SIGTERM (`cancel`) or a fatal error. Addresses
    /// netboot added to bare ports are removed on the way out, and the PID
    /// file with them.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), ServeError> {
        let keep = cancel.child_token();
        let watchers: Vec<_> = self
            .assigned
            .iter()
            .map(|guard| {
                let guard = Arc::clone(guard);
                let stop = keep.clone();
                tokio::spawn(
                    async move { autoaddr::watch(&guard, Duration::from_secs(2), stop).await },
                )
            })
            .collect();
        let defaults = lookup::Defaults::from_plan(&self.plan, Arc::clone(&self.catalogue));
        let after_scan = lookup::log_changes(defaults.clone());
        let catalogue = self.http.is_some().then(|| {
            catalogue::live::watch(
                self.catalogue,
                self.events.clone(),
                keep.clone(),
                Some(after_scan),
            )
        });
        let assigned = self.assigned.clone();
        let pidfile = self.pidfile;
        let ours = self.plan.networks.iter().map(|(_, n)| n.addr).collect();
        let rogue = self
            .rogue
            .map(|w| w.start(ours, self.events.clone(), keep.clone()));
        let status = self.status.map(|(server, control)| {
            let mut sources = observe::sources(&self.plan, &self.leases, &self.events);
            sources.control = control;
            tokio::spawn(server.run(sources, keep.clone()))
        });
        let servers = Servers {
            tftp: self.tftp,
            http: self.http,
            dhcp: self.dhcp,
            events: self.events,
            defaults,
            dhcp6: self.dhcp6,
        };
        let after_reload =
            reservations6::after_reload(self.served.map(reservations::after_reload), self.check6);
        let result = serve(
            self.plan,
            self.registry,
            self.leases,
            servers,
            after_reload,
            cancel,
        )
        .await;
        // the watchers stop first, so none puts an address back after its removal
        keep.cancel();
        for w in watchers {
            let _ = w.await;
        }
        if let Some(task) = catalogue {
            let _ = task.await;
        }
        if let Some(task) = status {
            let _ = task.await;
        }
        if let Some(threads) = rogue {
            let _ = tokio::task::spawn_blocking(move || {
                threads.into_iter().for_each(|t| drop(t.join()))
            })
            .await;
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
        drop(pidfile);
        info!("stopped");
        result
    }
}

/// The bound servers, the stream they report to, and the default boot
/// files the DHCP side fills in.
struct Servers {
    tftp: TftpServer,
    http: Option<HttpServer>,
    dhcp: Sockets,
    events: Events,
    defaults: lookup::Defaults,
    dhcp6: Option<super::dhcp6::V6>,
}

/// Runs the servers until `cancel` or a fatal error.
async fn serve(
    plan: ServePlan,
    shared: Arc<ArcSwap<Registry>>,
    leases: LeaseView,
    servers: Servers,
    after_reload: Option<registry::AfterSwap>,
    cancel: CancellationToken,
) -> Result<(), ServeError> {
    let Servers {
        tftp,
        http,
        dhcp,
        events,
        defaults,
        dhcp6,
    } = servers;
    // always: SIGHUP must reload (or say there is nothing to), never kill
    let watcher = registry::watch(
        plan.profiles.clone(),
        plan.tftp.root.root.clone(),
        Arc::clone(&shared),
        cancel.child_token(),
        after_reload,
        events.clone(),
    );
    // the map file is read again on the same SIGHUP as the profiles
    let map_reload = plan.tftp.map_file.clone().map(|path| {
        let rules = Arc::clone(&plan.tftp.remap);
        crate::tftp::mapfile::reload_on_hangup(Some(path), rules, cancel.child_token())
    });
    let tftp_task = tokio::spawn(tftp.run(cancel.child_token()));
    let http_task = http.map(|h| tokio::spawn(h.run(cancel.child_token())));
    let lookup = lookup::source(Arc::clone(&shared), defaults);
    let dhcp6_task = dhcp6
        .map(|s| tokio::spawn(s.run(Arc::clone(&lookup), events.clone(), cancel.child_token())));
    let dhcp_result = crate::dhcp::server::run_with_sockets(
        plan.dhcp.clone(),
        dhcp,
        lookup,
        leases,
        events,
        cancel.child_token(),
    )
    .await;
    // The DHCP side ends on shutdown or on a fatal error; either way the
    // rest stops too.
    cancel.cancel();
    let _ = tftp_task.await;
    if let Some(task) = dhcp6_task {
        let _ = task.await;
    }
    if let Some(task) = http_task {
        let _ = task.await;
    }
    let _ = watcher.await;
    if let Some(m) = map_reload {
        let _ = m.await;
    }
    dhcp_result.map_err(ServeError::from)
}
