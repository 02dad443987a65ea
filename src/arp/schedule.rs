//! When a link check sends and how long it listens: a few transmissions at
//! fixed offsets from the start, then silence until a hard deadline. Pure:
//! the caller passes the time in, so every check is bounded by construction.

use std::time::{Duration, Instant};

/// A bounded send-and-listen timetable.
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Instant,
    sends: Vec<Duration>,
    sent: usize,
    total: Duration,
}

impl Schedule {
    /// Sends at each offset in `sends` (ascending) after `start`, listens until
    /// `start + total`.
    pub fn new(start: Instant, sends: &[Duration], total: Duration) -> Self {
        Self {
            start,
            sends: sends.to_vec(),
            sent: 0,
            total,
        }
    }

    /// True when a transmission is due at `now`; each due one is reported once.
    pub fn poll_send(&mut self, now: Instant) -> bool {
        match self.sends.get(self.sent) {
            Some(&at) if now >= self.start + at && !self.expired(now) => {
                self.sent += 1;
                true
            }
            _ => false,
        }
    }

    /// True once the listening time is over.
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.deadline()
    }

    /// The end of the listening time.
    pub fn deadline(&self) -> Instant {
        self.start + self.total
    }

    /// The next instant something happens (a send or the deadline).
    pub fn poll_timeout(&self) -> Instant {
        let end = self.deadline();
        self.sends
            .get(self.sent)
            .map(|&at| (self.start + at).min(end))
            .unwrap_or(end)
    }

    /// How many transmissions went out.
    pub fn sent(&self) -> usize {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn sends_at_offsets_then_expires() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, &[Duration::ZERO, 250 * MS, 500 * MS], 1000 * MS);
        assert!(s.poll_send(t0));
        assert!(!s.poll_send(t0), "each send once");
        assert_eq!(s.poll_timeout(), t0 + 250 * MS);
        assert!(!s.poll_send(t0 + 249 * MS));
        assert!(s.poll_send(t0 + 260 * MS));
        assert!(s.poll_send(t0 + 700 * MS));
        assert_eq!(s.sent(), 3);
        assert_eq!(s.poll_timeout(), t0 + 1000 * MS);
        assert!(!s.expired(t0 + 999 * MS));
        assert!(s.expired(t0 + 1000 * MS));
    }

    #[test]
    fn late_caller_catches_up_one_send_per_poll() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, &[Duration::ZERO, 10 * MS], 100 * MS);
        let late = t0 + 50 * MS;
        assert!(s.poll_send(late));
        assert!(s.poll_send(late));
        assert!(!s.poll_send(late));
    }

    #[test]
    fn nothing_is_sent_after_the_deadline() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, &[Duration::ZERO, 500 * MS], 100 * MS);
        assert!(s.poll_send(t0));
        assert_eq!(s.poll_timeout(), t0 + 100 * MS);
        assert!(!s.poll_send(t0 + 600 * MS));
    }
}
