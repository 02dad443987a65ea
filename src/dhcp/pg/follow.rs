//! Following the other servers' writes: as soon as another server's commit
//! is announced ([`super::nudge`], at most every [`GAP`]), and every second
//! in any case, the rows other servers wrote since the last look are read
//! and handed to this server's decision core, so a lease granted elsewhere is honoured here (a RENEW,
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
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{from_row, PgError, PgStore};
use crate::dhcp::pool::Lease;

/// How often the database is read without being told of a commit.
pub const EVERY: Duration = Duration::from_secs(1);
/// The least time between two reads when commits are announced.
const GAP: Duration = Duration::from_millis(100);
/// How long to wait before listening again once the listening connection broke.
const RELISTEN: Duration = Duration::from_secs(10);

const CHANGED: &str = "SELECT ip, mac, expires, state, hostname FROM netboot_leases
    WHERE txid >= $1 AND server <> $2 ORDER BY txid";

/// Sends the rows other servers write (from `horizon`, see
/// [`PgStore::open_following`]) on `tx` until `cancel` fires or the
/// receiver is gone.
pub async fn follow(
    store: PgStore,
    horizon: i64,
    tx: mpsc::Sender<Vec<Lease>>,
    cancel: CancellationToken,
) {
    follow_every(store, horizon, EVERY, tx, cancel).await;
}

/// [`follow`], reading at least every `every` (tests lengthen it to see the
/// announced commits alone).
pub async fn follow_every(
    store: PgStore,
    mut horizon: i64,
    every: Duration,
    tx: mpsc::Sender<Vec<Lease>>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut nudges = Nudges::default();
    loop {
        nudges.listen(&store).await;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
            _ = nudges.next() => {}
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

/// The announcements of other servers' commits, listened to again after
/// the listening connection broke, and read no closer than [`GAP`] apart.
#[derive(Default)]
struct Nudges {
    rx: Option<mpsc::Receiver<()>>,
    /// Not before then: listen again, read again.
    relisten: Option<Instant>,
    last: Option<Instant>,
}

impl Nudges {
    /// Listens, unless it does or tried less than [`RELISTEN`] ago.
    async fn listen(&mut self, store: &PgStore) {
        let due = self.relisten.is_none_or(|t| Instant::now() >= t);
        if self.rx.is_none() && due && store.watch.gate().is_ok() {
            self.relisten = Some(Instant::now() + RELISTEN);
            self.rx = store.nudges().await;
        }
    }

    /// Returns when a commit was announced (never while nothing listens).
    async fn next(&mut self) {
        let Some(rx) = self.rx.as_mut() else {
            return std::future::pending().await;
        };
        if rx.recv().await.is_none() {
            self.rx = None;
            return std::future::pending().await;
        }
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + GAP).await;
        }
        self.last = Some(Instant::now());
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
