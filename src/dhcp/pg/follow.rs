//! Following the other servers' writes: every second, the rows other
//! servers wrote since the last look are read and handed to this server's
//! decision core, so a lease granted elsewhere is honoured here (a RENEW,
//! REBIND or INIT-REBOOT that reaches this server is ACKed) and a RELEASE
//! or DECLINE seen elsewhere frees or quarantines the address here too.
//!
//! "Since the last look" uses transaction ids: each row carries the id of
//! the transaction that wrote it (`txid`), and each look first takes the
//! oldest transaction still running (the horizon); the next look reads
//! every row from that horizon on. A transaction that committed after one
//! look is younger than that look's horizon, so no write is missed; a few
//! rows are read twice, which changes nothing.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{from_row, PgError, PgStore};
use crate::dhcp::pool::Lease;

/// How often the database is read.
const EVERY: Duration = Duration::from_secs(1);

const CHANGED: &str = "SELECT ip, mac, expires, state, hostname FROM netboot_leases
    WHERE txid >= $1 AND server <> $2 ORDER BY txid";

/// Sends the rows other servers write (from `horizon`, see
/// [`PgStore::open_following`]) on `tx` until `cancel` fires or the
/// receiver is gone.
pub async fn follow(
    store: PgStore,
    mut horizon: i64,
    tx: mpsc::Sender<Vec<Lease>>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if store.watch.gate().is_err() {
            continue;
        }
        let result = store.changes_since(horizon).await;
        store.watch.record(&result);
        match result {
            Ok((next, rows)) => {
                horizon = next;
                if !rows.is_empty() && tx.send(rows).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::debug!(error = %e, "reading other servers' leases failed"),
        }
    }
}

impl PgStore {
    /// The next horizon and the rows other servers wrote from `horizon` on.
    async fn changes_since(&self, horizon: i64) -> Result<(i64, Vec<Lease>), PgError> {
        let next = self.horizon().await?;
        let client = self.client().await?;
        let rows = client
            .query(CHANGED, &[&horizon, &self.server])
            .await
            .map_err(|e| self.fail(e))?;
        Ok((next, rows.iter().filter_map(from_row).collect()))
    }
}
