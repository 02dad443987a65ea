//! Writing a batch of lease records in one transaction: one conditional
//! statement per record, pipelined on one connection, in address order (so
//! two servers writing the same rows lock them in the same order and do not
//! deadlock); a record whose address another client holds changes nothing
//! and comes back refused; a batch that loses a race inside the database is
//! tried again, and one that keeps losing is not an outage.

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::try_join_all;
use tokio_postgres::types::ToSql;

use super::{PgError, PgStore};
use crate::dhcp::pool::{Lease, Secs};

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
const ATTEMPTS: usize = 4;

impl PgStore {
    /// Writes `leases` in one transaction; returns those refused because
    /// another client holds their address (nothing of theirs is written).
    /// While the database is down, fails at once until the next try is due.
    pub async fn append_batch(&self, leases: &[Lease]) -> Result<Vec<Lease>, PgError> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        self.watch.gate()?;
        let mut ordered = leases.to_vec();
        // stable: two records of one address keep their order
        ordered.sort_by_key(|l| l.ip);
        let result = self.write_batch(&ordered).await;
        if matches!(result, Err(PgError::Contended { .. })) {
            return result;
        }
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
                Err(e) if lost_race(&e) => return Err(self.contended(&e)),
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

    /// A race lost on every attempt: the database answered, so not an outage.
    fn contended(&self, e: &tokio_postgres::Error) -> PgError {
        match super::error::classify(&self.config, e) {
            PgError::Query { target, reason } => PgError::Contended { target, reason },
            other => other,
        }
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

fn to_db(secs: Secs) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn unix_now() -> Secs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
