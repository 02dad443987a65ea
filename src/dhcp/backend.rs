//! Opening the lease store the configuration names (memory, the embedded
//! journal in the state directory, or a shared PostgreSQL database) with
//! the leases it holds, and with a shared database, following the other
//! servers' writes (`pg::follow`) for the DHCP shell.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::dhcp::config::DhcpConfig;
use crate::dhcp::pg::{self, PgStore};
use crate::dhcp::pool::Lease;
use crate::dhcp::server::DhcpError;
use crate::dhcp::store::{Backend, Journal, LeaseStore, StoreError};
use crate::events::Events;

/// Leases other servers wrote, as they come.
pub(crate) type Others = mpsc::Receiver<Vec<Lease>>;

/// An opened store.
pub(crate) struct Opened {
    /// Where changes are written; `None` keeps them in memory.
    pub store: Option<Box<dyn Journal>>,
    /// What it holds now.
    pub leases: Vec<Lease>,
    /// With a shared database: the other servers' writes from now on.
    pub others: Option<Others>,
}

/// Opens the store `config` names; a shared database reports its health to
/// `events` and is followed until `cancel` fires.
pub(crate) async fn open(
    config: &DhcpConfig,
    events: &Events,
    cancel: &CancellationToken,
) -> Result<Opened, DhcpError> {
    let opened = |store: Option<Box<dyn Journal>>, leases| Opened {
        store,
        leases,
        others: None,
    };
    match config.backend() {
        Backend::Memory => Ok(opened(None, Vec::new())),
        Backend::Embedded(dir) => {
            let (store, leases) = tokio::task::spawn_blocking(move || LeaseStore::open(&dir))
                .await
                .map_err(|e| DhcpError::Task(e.to_string()))??;
            Ok(opened(Some(Box::new(store)), leases))
        }
        Backend::Postgres(url) => {
            let subnets = config.pools.iter().map(|p| p.subnet()).collect();
            let (store, leases, horizon) = PgStore::open_following(&url, subnets)
                .await
                .map_err(StoreError::from)?;
            store.report_to(events.clone());
            info!(database = %pg::redact(&url), "leases kept in PostgreSQL");
            let (tx, rx) = mpsc::channel(16);
            tokio::spawn(pg::follow(store.clone(), horizon, tx, cancel.child_token()));
            Ok(Opened {
                store: Some(Box::new(store)),
                leases,
                others: Some(rx),
            })
        }
    }
}

/// Every lease the store `backend` names holds now, read without
/// changing it (for `netboot leases` and `netboot explain`, outside any
/// runtime): none for memory or a state directory not made yet.
pub fn read_now(backend: &Backend) -> Result<Vec<Lease>, StoreError> {
    match backend {
        Backend::Memory => Ok(Vec::new()),
        Backend::Embedded(dir) if !dir.is_dir() => Ok(Vec::new()),
        Backend::Embedded(dir) => crate::dhcp::store::load(dir),
        Backend::Postgres(url) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| StoreError::Io {
                    path: std::path::PathBuf::from("(runtime)"),
                    source,
                })?;
            Ok(runtime.block_on(PgStore::read(url))?)
        }
    }
}

/// The next rows from other servers; never, without a database to follow.
pub(crate) async fn others(rx: &mut Option<Others>) -> Option<Vec<Lease>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
