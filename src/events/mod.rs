//! The one stream of what happens in netboot. Every subsystem reports
//! through an [`Events`] handle (DHCP decisions, probes, TFTP and HTTP
//! transfers with their progress, reloads, other DHCP servers heard); each
//! event is folded into the live state ([`live`]), counted in the metrics
//! ([`metrics`]) and offered to subscribers. The status page, the API and
//! `/metrics` read only these; no subsystem keeps a copy of its own.
//!
//! Reporting never waits: folding and counting take a short lock, and
//! subscribers read from a bounded broadcast channel where a slow one
//! misses events instead of holding anyone up.
//!
//! A stream nobody reads ([`Events::unread`]: `serve` without a status
//! address, which is where the page, the API and `/metrics` live) neither
//! folds nor counts: an exchange then costs what it did before the stream.

pub mod event;
pub mod live;
pub mod metrics;
mod transfer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use tokio::sync::broadcast;

pub use event::Event;
pub use transfer::{NewTransfer, Tracker};

/// Events a subscriber may fall behind by before it misses some.
const BACKLOG: usize = 1024;

/// A handle on the stream; cheap to clone.
#[derive(Clone)]
pub struct Events(Arc<Inner>);

struct Inner {
    /// Whether the live state and the metrics are kept (someone reads them).
    kept: bool,
    live: Mutex<live::Live>,
    metrics: metrics::Metrics,
    tx: broadcast::Sender<Arc<Event>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Default for Events {
    /// A stream whose live state and metrics are kept.
    fn default() -> Self {
        Self::with(true)
    }
}

impl Events {
    /// A stream whose live state and metrics nobody reads, so they are not
    /// kept; subscribers still get every event.
    pub fn unread() -> Self {
        Self::with(false)
    }

    fn with(kept: bool) -> Self {
        let (tx, _) = broadcast::channel(BACKLOG);
        Events(Arc::new(Inner {
            kept,
            live: Mutex::new(live::Live::default()),
            metrics: metrics::Metrics::default(),
            tx,
            next_id: AtomicU64::new(1),
        }))
    }

    /// Reports `event`.
    pub fn emit(&self, event: Event) {
        if self.0.kept {
            let applied = self.live().apply(&event, SystemTime::now());
            self.0.metrics.record(&event, &applied);
        }
        if self.0.tx.receiver_count() > 0 {
            let _ = self.0.tx.send(Arc::new(event));
        }
    }

    /// A fresh transfer id.
    pub fn next_id(&self) -> event::TransferId {
        self.0.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.tx.subscribe()
    }

    /// The live state, locked: read it and let go.
    pub fn live(&self) -> MutexGuard<'_, live::Live> {
        self.0.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The metrics.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.0.metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::event::{Reload, Reloaded};

    fn reload() -> Event {
        Event::Reload(Reload {
            at: SystemTime::now(),
            what: Reloaded::Profiles,
            ok: false,
            detail: "p.yaml:2: unknown key".into(),
        })
    }

    #[test]
    fn a_stream_nobody_reads_keeps_no_state_but_still_reaches_subscribers() {
        let unread = Events::unread();
        let mut rx = unread.subscribe();
        unread.emit(reload());
        assert_eq!(unread.live().reloads().count(), 0);
        assert!(matches!(rx.try_recv().as_deref(), Ok(Event::Reload(_))));

        let read = Events::default();
        read.emit(reload());
        assert_eq!(read.live().reloads().count(), 1);
    }
}
