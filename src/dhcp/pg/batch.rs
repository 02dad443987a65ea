//! Writing a batch of lease records in one transaction and one statement:
//! the records go in as arrays (`unnest`), in address order, so two servers
//! writing the same rows lock them in the same order and do not deadlock; a
//! record whose address another client holds changes nothing and comes
//! back refused; a batch that loses a race inside the database is tried
//! again, and one that keeps losing is not an outage.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use tokio_postgres::types::ToSql;

use super::{PgError, PgStore};
use crate::dhcp::pool::{Lease, Secs};

/// Writes each record unless another client holds its address (and tells
/// the other servers at commit, [`super::nudge`]); a lease
/// bound now frees the client's other leases in the pool (those not in the
/// batch: a row takes one change per statement). Returns the addresses
/// written. Every step is an index lookup per record (no join between the
/// records: the planner cannot know how many an array holds), so a batch
/// of thousands costs thousands of lookups, not millions.
const UPSERT: &str = "WITH up AS (
    INSERT INTO netboot_leases AS l (pool, ip, mac, expires, state, hostname, server, txid)
    SELECT pool, ip, mac, expires, state, hostname, $8, pg_current_xact_id()::text::bigint
    FROM unnest($1::text[], $2::inet[], $3::text[], $4::int8[], $5::text[], $6::text[])
        AS t(pool, ip, mac, expires, state, hostname)
    ORDER BY pool, ip
    ON CONFLICT (pool, ip) DO UPDATE SET mac = EXCLUDED.mac,
        state = CASE WHEN l.mac = EXCLUDED.mac AND l.state = 'bound'
            AND EXCLUDED.state = 'offered' AND l.expires > $7
            THEN 'bound' ELSE EXCLUDED.state END,
        expires = CASE WHEN l.mac = EXCLUDED.mac AND l.state = 'bound'
            AND EXCLUDED.state = 'offered' AND l.expires > $7
            THEN GREATEST(l.expires, EXCLUDED.expires) ELSE EXCLUDED.expires END,
        hostname = EXCLUDED.hostname, updated_at = now(),
        server = EXCLUDED.server, txid = EXCLUDED.txid
    WHERE l.mac = EXCLUDED.mac OR l.state = 'released' OR l.expires <= $7
    RETURNING l.pool, l.ip, l.mac, l.state
), moved AS (
    UPDATE netboot_leases o SET state = 'released', updated_at = now(), server = $8,
        txid = pg_current_xact_id()::text::bigint
    FROM up
    WHERE up.state = 'bound' AND o.pool = up.pool AND o.mac = up.mac AND o.ip <> up.ip
        AND o.state IN ('offered', 'bound') AND o.ip <> ALL ($2::inet[])
)
SELECT up.ip FROM up CROSS JOIN (SELECT pg_notify('netboot_leases', $8)) AS told";

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
        let rows = last_per_address(leases);
        let pools: Vec<String> = rows.iter().map(|l| self.pool_of(l.ip)).collect();
        let ips: Vec<IpAddr> = rows.iter().map(|l| IpAddr::V4(l.ip)).collect();
        let macs: Vec<String> = rows.iter().map(|l| l.mac.colon()).collect();
        let expires: Vec<i64> = rows.iter().map(|l| to_db(l.expires)).collect();
        let states: Vec<&str> = rows.iter().map(|l| l.state.as_str()).collect();
        let names: Vec<Option<String>> = rows.iter().map(|l| l.hostname.clone()).collect();
        let now = to_db(unix_now());
        let params: [&(dyn ToSql + Sync); 8] = [
            &pools,
            &ips,
            &macs,
            &expires,
            &states,
            &names,
            &now,
            &self.server,
        ];
        let tx = client.transaction().await?;
        let upsert = tx.prepare_cached(UPSERT).await?;
        let written: HashSet<IpAddr> = tx
            .query(&upsert, &params)
            .await?
            .iter()
            .map(|row| row.get::<_, IpAddr>(0))
            .collect();
        tx.commit().await?;
        let refused = leases
            .iter()
            .filter(|l| !written.contains(&IpAddr::V4(l.ip)));
        Ok(refused.cloned().collect())
    }

    /// A race lost on every attempt: the database answered, so not an outage.
    fn contended(&self, e: &tokio_postgres::Error) -> PgError {
        match super::error::classify(&self.config, e) {
            PgError::Query { target, reason } => PgError::Contended { target, reason },
            other => other,
        }
    }

    /// The pool key of `ip`: its pool's subnet, or `-` outside every pool.
    fn pool_of(&self, ip: Ipv4Addr) -> String {
        self.subnets
            .iter()
            .find(|s| s.contains(ip))
            .map_or_else(|| "-".to_string(), |s| s.to_string())
    }
}

/// The last record of each address (`leases` in address order): a row
/// takes one change per statement, and the later record is the newer word.
fn last_per_address(leases: &[Lease]) -> Vec<&Lease> {
    let mut rows: Vec<&Lease> = Vec::with_capacity(leases.len());
    for l in leases {
        match rows.last_mut() {
            Some(last) if last.ip == l.ip => *last = l,
            _ => rows.push(l),
        }
    }
    rows
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_batch_announces_itself_on_the_channel_followers_listen_to() {
        let notify = format!("pg_notify('{}', $8)", super::super::nudge::CHANNEL);
        assert!(super::UPSERT.contains(&notify), "{}", super::UPSERT);
    }
}
