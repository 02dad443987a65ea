//! Whether the lease database answers, and when to try it again.
//!
//! Pure state (time comes in): the first failure after success is a
//! [`Change::Down`] (warn once), later failures only lengthen the wait
//! before the next try (1 s doubling to 10 s), and the first success after
//! a failure is a [`Change::Back`]. While the wait runs, writes fail at once
//! instead of each waiting for a connection timeout, so no OFFER or ACK
//! leaves for a lease the database has not recorded.

use std::time::{Duration, Instant};

/// The first wait after a failure.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between tries.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// What a result changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing worth a log line.
    None,
    /// The database just stopped answering.
    Down,
    /// It answers again after being down this long.
    Back(Duration),
}

/// The database's health as this server last saw it.
#[derive(Debug, Clone, Default)]
pub struct Health {
    down: Option<Outage>,
}

#[derive(Debug, Clone)]
struct Outage {
    since: Instant,
    wait: Duration,
    next_try: Instant,
}

impl Health {
    /// True when a query may be sent now: the database was fine, or the
    /// wait after the last failure is over.
    pub fn may_try(&self, now: Instant) -> bool {
        self.down.as_ref().is_none_or(|o| now >= o.next_try)
    }

    /// How long until the next try, while down.
    pub fn retry_in(&self, now: Instant) -> Option<Duration> {
        self.down
            .as_ref()
            .map(|o| o.next_try.saturating_duration_since(now))
    }

    /// A query failed at `now`.
    pub fn failed(&mut self, now: Instant) -> Change {
        match &mut self.down {
            Some(o) => {
                o.wait = (o.wait * 2).min(MAX_WAIT);
                o.next_try = now + o.wait;
                Change::None
            }
            None => {
                self.down = Some(Outage {
                    since: now,
                    wait: FIRST_WAIT,
                    next_try: now + FIRST_WAIT,
                });
                Change::Down
            }
        }
    }

    /// A query succeeded at `now`.
    pub fn succeeded(&mut self, now: Instant) -> Change {
        match self.down.take() {
            Some(o) => Change::Back(now.saturating_duration_since(o.since)),
            None => Change::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_down_then_waits_that_double_up_to_thirty_seconds_then_back() {
        let t0 = Instant::now();
        let mut h = Health::default();
        assert!(h.may_try(t0));
        assert_eq!(h.failed(t0), Change::Down);
        assert!(!h.may_try(t0 + Duration::from_millis(999)));
        assert!(h.may_try(t0 + FIRST_WAIT));
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            now += Duration::from_secs(1);
            assert_eq!(h.failed(now), Change::None, "only the first failure warns");
            waits.push(h.retry_in(now).unwrap().as_secs());
        }
        assert_eq!(waits, [2, 4, 8, 10, 10, 10, 10]);
        assert!(h.retry_in(now).is_some());
        let back = now + MAX_WAIT;
        assert_eq!(h.succeeded(back), Change::Back(back - t0));
        assert!(h.retry_in(back).is_none() && h.may_try(back));
        assert_eq!(h.succeeded(back), Change::None);
    }
}
