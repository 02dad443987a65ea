//! Watches the lease database's health for every query this server sends
//! (writes and the follower's reads): logs the outage once and the return,
//! reports both to the event stream (metric `netboot_lease_store_up`, the
//! status page), and refuses queries at once while the wait after a failure
//! runs ([`Health`]).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use super::health::{Change, Health};
use super::PgError;
use crate::events::event::StoreHealth;
use crate::events::{Event, Events};

/// Shared by every clone of a store.
#[derive(Debug, Clone)]
pub(super) struct Watch(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    target: String,
    state: Mutex<State>,
    events: OnceLock<Events>,
}

#[derive(Debug, Default)]
struct State {
    health: Health,
    last_error: String,
}

impl Watch {
    pub(super) fn new(target: String) -> Self {
        Self(Arc::new(Inner {
            target,
            state: Mutex::new(State::default()),
            events: OnceLock::new(),
        }))
    }

    /// Where health changes are reported (once; later calls are ignored).
    pub(super) fn report_to(&self, events: Events) {
        let _ = self.0.events.set(events);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // a panic elsewhere while holding it leaves plain data: go on
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err` while the database is down and the next try is not due.
    pub(super) fn gate(&self) -> Result<(), PgError> {
        let state = self.state();
        let now = Instant::now();
        if state.health.may_try(now) {
            return Ok(());
        }
        Err(PgError::Down {
            target: self.0.target.clone(),
            reason: state.last_error.clone(),
            retry_secs: state.health.retry_in(now).map_or(0, |d| d.as_secs() + 1),
        })
    }

    /// `e` as the caller should see it: while the database is down (this
    /// failure made it so, or it already was), a [`PgError::Down`], which
    /// the committer does not log again per batch.
    pub(super) fn as_outage(&self, e: PgError) -> PgError {
        if matches!(e, PgError::Down { .. }) {
            return e;
        }
        let state = self.state();
        PgError::Down {
            target: self.0.target.clone(),
            reason: e.to_string(),
            retry_secs: state
                .health
                .retry_in(Instant::now())
                .map_or(0, |d| d.as_secs() + 1),
        }
    }

    /// Notes how a query went.
    pub(super) fn record<T>(&self, result: &Result<T, PgError>) {
        let now = Instant::now();
        let change = {
            let mut state = self.state();
            match result {
                Ok(_) => state.health.succeeded(now),
                Err(e) => {
                    state.last_error = e.to_string();
                    state.health.failed(now)
                }
            }
        };
        self.announce(change, result.as_ref().err());
    }

    fn announce(&self, change: Change, error: Option<&PgError>) {
        let target = &self.0.target;
        let (up, detail) = match (change, error) {
            (Change::None, _) => return,
            (Change::Down, Some(e)) => {
                tracing::warn!(database = %target, error = %e,
                    "lease database down: no OFFER or ACK until it answers again; retrying by itself");
                (false, e.to_string())
            }
            (Change::Down, None) => return,
            (Change::Back(after), _) => {
                tracing::info!(database = %target, down_secs = after.as_secs(), "lease database is back");
                (true, target.clone())
            }
        };
        if let Some(events) = self.0.events.get() {
            events.emit(Event::LeaseStore(StoreHealth {
                at: SystemTime::now(),
                up,
                detail,
            }));
        }
    }
}
