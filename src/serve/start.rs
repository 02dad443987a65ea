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
use crate::cli::serve::ServeArgs;
use crate::dhcp::server::Sockets;
use crate::dhcp::view::LeaseView;
use crate::pidfile::Pidfile;
use crate::privileges;
use crate::registry::{self, Registry};
use crate::tftp::server::TftpServer;

use super::plan::{self, plan, ServePlan};
use super::{
    describe, files, load_file, load_registry, lookup, networks, user, Networks, ServeError,
};

/// Everything opened with privileges, ready to serve without them.
pub struct Prepared {
    plan: ServePlan,
    registry: Arc<ArcSwap<Registry>>,
    leases: LeaseView,
    tftp: TftpServer,
    dhcp: Sockets,
    assigned: Vec<Arc<AssignedAddress>>,
    pidfile: Option<Pidfile>,
}

/// Plans, adds bare-port addresses, loads the profiles, prints what is
/// served, binds TFTP and DHCP, writes the PID file and drops root. Call it
/// before any other thread exists (no async runtime yet).
pub fn prepare(mut args: ServeArgs) -> Result<Prepared, ServeError> {
    let (file, base) = load_file(args.config.as_deref())?;
    let target = privileges::choose(args.user.as_deref().or(file.user.as_deref()))?;
    let Networks { nets, assigned } = networks(&mut args, &file)?;
    let mut plan = plan(&args, &file, &base, nets)?;
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
    let dhcp = Sockets::open(&plan.dhcp)?;
    let pidfile = args.pidfile.as_deref().map(Pidfile::create).transpose()?;
    user::drop_privileges(&target, &plan, !assigned.is_empty(), pidfile.as_ref())?;
    Ok(Prepared {
        plan,
        registry: shared,
        leases,
        tftp,
        dhcp,
        assigned,
        pidfile,
    })
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
        let assigned = self.assigned.clone();
        let pidfile = self.pidfile;
        let result = serve(
            self.plan,
            self.registry,
            self.leases,
            self.tftp,
            self.dhcp,
            cancel,
        )
        .await;
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
        drop(pidfile);
        info!("stopped");
        result
    }
}

/// Runs the servers until `cancel` or a fatal error.
async fn serve(
    plan: ServePlan,
    shared: Arc<ArcSwap<Registry>>,
    leases: LeaseView,
    tftp: TftpServer,
    dhcp: Sockets,
    cancel: CancellationToken,
) -> Result<(), ServeError> {
    // always: SIGHUP must reload (or say there is nothing to), never kill
    let watcher = registry::watch(
        plan.profiles.clone(),
        plan.tftp.root.root.clone(),
        Arc::clone(&shared),
        cancel.child_token(),
    );
    let tftp_task = tokio::spawn(tftp.run(cancel.child_token()));
    let lookup = lookup::source(Arc::clone(&shared), plan.defaults.clone());
    let dhcp_result = crate::dhcp::server::run_with_sockets(
        plan.dhcp.clone(),
        dhcp,
        lookup,
        leases,
        cancel.child_token(),
    )
    .await;
    // The DHCP side ends on shutdown or on a fatal error; either way the
    // rest stops too.
    cancel.cancel();
    let _ = tftp_task.await;
    let _ = watcher.await;
    dhcp_result.map_err(ServeError::from)
}
