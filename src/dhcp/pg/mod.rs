//! The PostgreSQL lease store: several netboot servers share one lease
//! database (`dhcp.leases: postgres://...`, `--leases-url`).
//!
//! [`PgStore::open`] connects (a small deadpool of tokio-postgres
//! connections, TCP or a Unix socket directory), migrates the schema
//! (`schema.rs`) and loads every lease. [`PgStore::append_batch`] writes a
//! batch in one transaction (the group commit of the embedded journal), one
//! statement per record: the address's row is inserted, or updated only if
//! it is free, expired, released or already this client's (an offer never
//! shortens or demotes the client's own bound lease of that address), and
//! when a *bound* record was written the client's other leases in that pool
//! are released: servers on one segment may each offer an address, the
//! ACK alone moves the client. A
//! record whose address another server holds changes no row: it is
//! returned as refused (its reply is withheld) and the rest of the batch
//! commits, so one taken address never holds up unrelated clients. The
//! primary key (pool, ip) and the exclusion constraint "one bound lease per
//! client and pool" (checked at commit) guard the rules inside the database
//! whichever server writes; a batch that loses a race on them (or a
//! deadlock) is retried once as a whole, which then sees the winner's rows.

mod batch;
mod error;
mod follow;
mod health;
mod nudge;
pub mod schema;
mod watch;

use std::net::IpAddr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{Config, NoTls};

pub use error::{describe, PgError};
pub use follow::{follow, follow_every, EVERY};

use crate::dhcp::config::Subnet;
use crate::dhcp::pool::{Lease, LeaseState, Secs};
use crate::dhcp::store::{Journal, StoreError};
use crate::mac::MacAddr;

/// How long a connection attempt may take unless the URL says
/// (`connect_timeout=`): a server that drops packets fails the start.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections kept open; one writer needs one, the rest serve readers.
const POOL_SIZE: usize = 4;

/// An open PostgreSQL lease store.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    config: Config,
    /// The subnets of this server's pools: a lease's pool is the first that
    /// holds its address.
    subnets: Vec<Subnet>,
    /// This server among those sharing the database (written with each
    /// row, so that [`follow`] skips its own).
    server: String,
    watch: watch::Watch,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", describe(&self.config))
    }
}

impl PgStore {
    /// Connects to `url`, migrates the schema and loads every lease.
    pub async fn open(url: &str, subnets: Vec<Subnet>) -> Result<(Self, Vec<Lease>), PgError> {
        let (store, leases, _) = Self::open_following(url, subnets).await?;
        Ok((store, leases))
    }

    /// [`Self::open`], also giving where [`follow`] starts: the oldest
    /// transaction the load may not have seen.
    pub async fn open_following(
        url: &str,
        subnets: Vec<Subnet>,
    ) -> Result<(Self, Vec<Lease>, i64), PgError> {
        let store = Self::connect(url, subnets)?;
        store.migrate().await?;
        let horizon = store.horizon().await?;
        let leases = store.load().await?;
        Ok((store, leases, horizon))
    }

    /// Every lease in the database at `url`, for `netboot leases` and
    /// `netboot explain`: read only (nothing is migrated or written).
    pub async fn read(url: &str) -> Result<Vec<Lease>, PgError> {
        let store = Self::connect(url, Vec::new())?;
        match store.load().await {
            Err(PgError::Query { target, reason }) if reason.contains("does not exist") => {
                Err(PgError::Query {
                    target,
                    reason: format!(
                        "{reason}: it holds no netboot leases yet (netboot serve creates its \
                         tables when it first starts)"
                    ),
                })
            }
            other => other,
        }
    }

    /// A pool of connections to `url` (none is opened yet).
    fn connect(url: &str, subnets: Vec<Subnet>) -> Result<Self, PgError> {
        let mut config: Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Url {
                url: redact(url),
                reason: e.to_string(),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| query(&config, e))?;
        let store = Self {
            pool,
            watch: watch::Watch::new(describe(&config)),
            config,
            subnets,
            server: server_name(),
        };
        Ok(store)
    }

    /// Where health changes are reported (the DHCP server's event stream).
    pub fn report_to(&self, events: crate::events::Events) {
        self.watch.report_to(events);
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, PgError> {
        self.pool
            .get()
            .await
            .map_err(|e| error::classify_pool(&self.config, e))
    }

    fn fail(&self, e: tokio_postgres::Error) -> PgError {
        error::classify(&self.config, &e)
    }

    async fn migrate(&self) -> Result<(), PgError> {
        let mut client = self.client().await?;
        match schema::migrate(&mut client)
            .await
            .map_err(|e| self.fail(e))?
        {
            schema::Outcome::Current { version, applied } => {
                if applied > 0 {
                    tracing::info!(database = %describe(&self.config), version, applied, "lease database schema migrated");
                }
                Ok(())
            }
            schema::Outcome::Newer { found } => Err(PgError::SchemaNewer {
                target: describe(&self.config),
                found,
                known: schema::KNOWN,
            }),
        }
    }

    /// The oldest transaction still running: every row written by an older
    /// one is visible to any query sent after this one.
    async fn horizon(&self) -> Result<i64, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        Ok(row.get(0))
    }

    /// Every lease in the database (all pools, all servers).
    pub async fn load(&self) -> Result<Vec<Lease>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT ip, mac, expires, state, hostname FROM netboot_leases ORDER BY ip",
                &[],
            )
            .await
            .map_err(|e| self.fail(e))?;
        let mut leases = Vec::with_capacity(rows.len());
        for row in rows {
            match from_row(&row) {
                Some(l) => leases.push(l),
                None => tracing::warn!(?row, "lease database: skipping a row netboot cannot read"),
            }
        }
        Ok(leases)
    }
}

/// The committer calls the store from a blocking thread: run the async
/// client on the runtime from there.
impl Journal for PgStore {
    fn append(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, StoreError> {
        let handle = tokio::runtime::Handle::current();
        Ok(handle.block_on(self.append_batch(leases))?)
    }

    /// The database is the state itself, shared with other servers: there
    /// is nothing to rewrite.
    fn compact(&mut self, _all: &[Lease]) -> Result<(), StoreError> {
        Ok(())
    }
}

fn from_row(row: &tokio_postgres::Row) -> Option<Lease> {
    let IpAddr::V4(ip) = row.try_get::<_, IpAddr>(0).ok()? else {
        return None;
    };
    let mac: String = row.try_get(1).ok()?;
    let expires: i64 = row.try_get(2).ok()?;
    let state: String = row.try_get(3).ok()?;
    Some(Lease {
        ip,
        mac: mac.parse::<MacAddr>().ok()?,
        expires: Secs::try_from(expires).ok()?,
        state: LeaseState::parse(&state)?,
        hostname: row.try_get(4).ok()?,
    })
}

/// This process among the servers sharing the database: host, PID and
/// start time (a restarted server is a new one: it loaded everything).
fn server_name() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{host}/{}/{started:x}", std::process::id())
}

fn query(config: &Config, e: impl std::fmt::Display) -> PgError {
    PgError::Query {
        target: describe(config),
        reason: e.to_string(),
    }
}

/// `url` with the password (between `:` and `@` after `//`) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("//") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}//{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://dhcp:s3cret@db/leases"),
            "postgres://dhcp:***@db/leases"
        );
        assert_eq!(
            redact("postgres:///netboot?host=/run/postgresql"),
            "postgres:///netboot?host=/run/postgresql"
        );
    }
}
