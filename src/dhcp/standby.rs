//! A standby server's held OFFERs (`dhcp.answer_delay_ms`,
//! `--answer-delay`): with another server on the same segment, the standby
//! holds each OFFER this long and drops it when the client goes on in the
//! meantime (a REQUEST, which a client sends once another server's OFFER
//! reached it). So the primary answers every client while it runs, and the
//! standby answers those the primary leaves unanswered, as ISC's failover
//! secondary does.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::dhcp::commit::{send, Commit, Outgoing};
use crate::dhcp::pool::Lease;
use crate::dhcp::report::Report;
use crate::mac::MacAddr;

/// Held offers beyond which finished entries are swept.
const SWEEP_ABOVE: usize = 4096;

/// The OFFERs held now, by client.
#[derive(Debug)]
pub(crate) struct Standby {
    delay: Duration,
    held: HashMap<MacAddr, CancellationToken>,
}

impl Standby {
    /// `None` without a delay (the usual case: answer at once).
    pub(crate) fn new(delay: Duration) -> Option<Self> {
        (!delay.is_zero()).then(|| Self {
            delay,
            held: HashMap::new(),
        })
    }

    /// `mac` went on past DISCOVER: its held OFFER never leaves.
    pub(crate) fn client_moved_on(&mut self, mac: MacAddr) {
        if let Some(token) = self.held.remove(&mac) {
            token.cancel();
        }
    }

    /// Holds an OFFER: after the delay its records go to the committer
    /// (which sends it once they are written) or, with none, it is sent;
    /// when the client moved on first, it is reported withheld.
    pub(crate) fn hold_offer(
        &mut self,
        mac: MacAddr,
        commit: mpsc::UnboundedSender<Commit>,
        changes: Vec<Lease>,
        out: Option<Outgoing>,
        report: Report,
    ) {
        self.hold(mac, move |go| async move {
            match (go, changes.is_empty(), out) {
                (false, _, _) => {
                    tracing::info!(%mac, "standby: held OFFER dropped, the client took another server's");
                    report.withheld("the client took another server's offer");
                }
                (true, false, out) => {
                    let _ = commit.send(Commit::Leases(changes, out, Some(Box::new(report))));
                }
                (true, true, out) => {
                    if let Some(o) = out {
                        send(&o).await;
                    }
                    report.sent();
                }
            }
        });
    }

    /// Runs `then(true)` after the delay, or `then(false)` as soon as the
    /// client moved on.
    fn hold<F>(&mut self, mac: MacAddr, then: impl FnOnce(bool) -> F + Send + 'static)
    where
        F: Future<Output = ()> + Send,
    {
        if self.held.len() > SWEEP_ABOVE {
            self.held.retain(|_, t| !t.is_cancelled());
        }
        let token = CancellationToken::new();
        if let Some(older) = self.held.insert(mac, token.clone()) {
            older.cancel();
        }
        let delay = self.delay;
        tokio::spawn(async move {
            let send = tokio::select! {
                _ = token.cancelled() => false,
                _ = tokio::time::sleep(delay) => true,
            };
            // marks the entry finished for the sweep
            token.cancel();
            then(send).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
    }

    #[tokio::test]
    async fn an_offer_leaves_after_the_delay_unless_the_client_moved_on() {
        let mut s = Standby::new(Duration::from_millis(400)).unwrap();
        let (sent, dropped) = counter();
        for mac in [1u8, 2] {
            let (a, b) = (Arc::clone(&sent), Arc::clone(&dropped));
            s.hold(MacAddr([2, 0, 0, 0, 0, mac]), move |send| async move {
                let which = if send { a } else { b };
                which.fetch_add(1, Ordering::SeqCst);
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.client_moved_on(MacAddr([2, 0, 0, 0, 0, 1]));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            (sent.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst)),
            (0, 1)
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            (sent.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst)),
            (1, 1)
        );
    }

    #[test]
    fn no_delay_no_standby() {
        assert!(Standby::new(Duration::ZERO).is_none());
    }
}
