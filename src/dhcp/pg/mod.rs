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

mod error;
mod follow;
mod health;
pub mod schema;
mod watch;

use std::net::{IpAddr, Ipv4Addr};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::try_join_all;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls};

pub use error::{describe, PgError};
pub use follow::follow;

use crate::dhcp::config::Subnet;
use crate::dhcp::pool::{Lease, LeaseState, Secs};
use crate::dhcp::store::{Journal, StoreError};
use crate::mac::MacAddr;

/// How long a connection attempt may take unless the URL says
/// (`connect_timeout=`): a server that drops packets fails the start.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connections kept open; one writer needs one, the rest serve readers.
const POOL_SIZE: usize = 4;

/// Writes a record unless another client holds the address (returns 0
/// rows then); when written as bound, frees the client's other leases in
/// the pool.
const UPSERT: &str = "WITH up AS (
    INSERT INTO netboot_leases (pool, ip, mac, expires, state, hostname, server, txid)
    VALUES ($1, $2, $3, $4, $5, $6, $8, pg_current_xact_id()::text::bigint)
    ON CONFLICT (pool, ip) DO UPDATE SET mac = EXCLUDED.mac,
        state = CASE WHEN netboot_leases.mac = EXCLUDED.mac AND netboot_leases.state = 'bound'
            AND EXCLUDED.state = 'offered' AND netboot_leases.expires > $7
            THEN 'bound' ELSE EXCLUDED.state END,
        expires = CASE WHEN netboot_leases.mac = EXCLUDED.mac AND netboot_leases.state = 'bound'
            AND EXCLUDED.state = 'offered' AND netboot_leases.expires > $7
            THEN GREATEST(netboot_leases.expires, EXCLUDED.expires) ELSE EXCLUDED.expires END,
        hostname = EXCLUDED.hostname, updated_at = now(),
        server = EXCLUDED.server, txid = EXCLUDED.txid
    WHERE netboot_leases.mac = EXCLUDED.mac OR netboot_leases.state = 'released'
        OR netboot_leases.expires <= $7
    RETURNING 1
), moved AS (
    UPDATE netboot_leases SET state = 'released', updated_at = now(), server = $8,
        txid = pg_current_xact_id()::text::bigint
    WHERE pool = $1 AND mac = $3 AND ip <> $2 AND state IN ('offered', 'bound')
        AND $5 = 'bound' AND EXISTS (SELECT 1 FROM up)
)
SELECT count(*) FROM up";

/// One record's parameters: pool, address, MAC, expiry, state, host name.
type Values = (String, IpAddr, String, i64, &'static str, Option<String>);

/// How often a batch is tried when it loses a race inside the database.
const ATTEMPTS: usize = 2;

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

    /// Writes `leases` in one transaction; returns those refused because
    /// another client holds their address (nothing of theirs is written).
    /// While the database is down, fails at once until the next try is due.
    pub async fn append_batch(&self, leases: &[Lease]) -> Result<Vec<Lease>, PgError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        self.watch.gate()?;
        let result = self.write_batch(leases).await;
        self.watch.record(&result);
        result.map_err(|e| self.watch.as_outage(e))
    }

    async fn write_batch(&self, leases: &[Lease]) -> Result<Vec<Lease>, PgError> {
        let mut client = self.client().await?;
        let mut attempt = 1;
        loop {
            match self.try_batch(&mut client, leases).await {
                Err(e) if attempt < ATTEMPTS && lost_race(&e) => {
                    tracing::debug!(error = %e, "lease batch lost a race in the database; trying again");
                    attempt += 1;
                }
                Err(e) => return Err(self.fail(e)),
                Ok(refused) => return Ok(refused),
            }
        }
    }

    async fn try_batch(
        &self,
        client: &mut deadpool_postgres::Client,
        leases: &[Lease],
    ) -> Result<Vec<Lease>, tokio_postgres::Error> {
        let tx = client.transaction().await?;
        let upsert = tx.prepare_cached(UPSERT).await?;
        let now = to_db(unix_now());
        let values: Vec<Values> = leases.iter().map(|l| self.values(l)).collect();
        let params: Vec<[&(dyn ToSql + Sync); 8]> = values
            .iter()
            .map(|v| -> [&(dyn ToSql + Sync); 8] {
                [&v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &now, &self.server]
            })
            .collect();
        // sent back to back without waiting for each answer (tokio-postgres
        // pipelines the queries of one client); the server runs them in order
        let written = try_join_all(params.iter().map(|p| tx.query_one(&upsert, p))).await?;
        let refused = leases
            .iter()
            .zip(written)
            .filter(|(_, row)| row.get::<_, i64>(0) == 0)
            .map(|(l, _)| l.clone())
            .collect();
        tx.commit().await?;
        Ok(refused)
    }

    /// The statement's parameters for `l` (all but the clock).
    fn values(&self, l: &Lease) -> Values {
        (
            self.pool_of(l.ip),
            IpAddr::V4(l.ip),
            l.mac.colon(),
            to_db(l.expires),
            l.state.as_str(),
            l.hostname.clone(),
        )
    }

    /// The pool key of `ip`: its pool's subnet, or `-` outside every pool.
    fn pool_of(&self, ip: Ipv4Addr) -> String {
        self.subnets
            .iter()
            .find(|s| s.contains(ip))
            .map_or_else(|| "-".to_string(), |s| s.to_string())
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

/// A batch failed on a rule another transaction's commit broke (or a
/// deadlock between two servers): trying it again sees that commit.
fn lost_race(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        [
            SqlState::EXCLUSION_VIOLATION,
            SqlState::UNIQUE_VIOLATION,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
        ]
        .contains(c)
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

fn to_db(secs: Secs) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn unix_now() -> Secs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
