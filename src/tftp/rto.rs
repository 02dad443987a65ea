//! Adaptive retransmission timeout (RFC 1123 §4.2.3.2, computed as in
//! RFC 6298): smoothed round-trip time and its variance from ACKs of blocks
//! sent once (Karn's rule), exponential backoff on timeouts.
//!
//! Every reference server waits a fixed second before resending; on a LAN
//! the round trip is well under a millisecond, so a lost packet should cost
//! a few milliseconds, not a second.

use std::time::Duration;

/// Bounds of the retransmission timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtoBounds {
    /// Timeout before the first round-trip sample.
    pub initial: Duration,
    /// Lower bound, so a burst of jitter does not trigger spurious resends.
    pub min: Duration,
    /// Upper bound, also the cap of the backoff.
    pub max: Duration,
}

impl Default for RtoBounds {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(1000),
            min: Duration::from_millis(10),
            max: Duration::from_millis(1000),
        }
    }
}

/// Round-trip estimator and current timeout.
#[derive(Debug, Clone)]
pub struct Rto {
    bounds: RtoBounds,
    srtt: Option<Duration>,
    rttvar: Duration,
    backoff: u32,
}

impl Rto {
    /// A fresh estimator.
    pub fn new(bounds: RtoBounds) -> Self {
        Self {
            bounds,
            srtt: None,
            rttvar: Duration::ZERO,
            backoff: 0,
        }
    }

    /// Feeds one round-trip sample (only from blocks that were sent once).
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let err = srtt.abs_diff(rtt);
                self.rttvar = self.rttvar * 3 / 4 + err / 4;
                self.srtt = Some(srtt * 7 / 8 + rtt / 8);
            }
        }
        self.backoff = 0;
    }

    /// Progress was made without a usable sample: forget the backoff.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Progress was made, but only on resent data (no usable sample): undo
    /// one doubling. A peer that answers earns a shorter timer, yet a link
    /// slower than the estimate keeps enough backoff for the next window to
    /// complete without a resend and give a clean sample.
    pub fn ease_backoff(&mut self) {
        self.backoff = self.backoff.saturating_sub(1);
    }

    /// A timeout fired: double the timeout (capped by `max`).
    pub fn back_off(&mut self) {
        self.backoff = (self.backoff + 1).min(16);
    }

    /// The smoothed round-trip time, once known.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The timeout to arm now.
    pub fn current(&self) -> Duration {
        let base = match self.srtt {
            None => self.bounds.initial,
            Some(srtt) => srtt + (self.rttvar * 4).max(Duration::from_micros(500)),
        };
        let base = base.clamp(self.bounds.min, self.bounds.max.max(self.bounds.min));
        base.saturating_mul(1 << self.backoff)
            .min(self.bounds.max.max(self.bounds.min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn starts_at_initial_then_follows_the_link() {
        let mut rto = Rto::new(RtoBounds::default());
        assert_eq!(rto.current(), ms(1000));
        for _ in 0..20 {
            rto.sample(Duration::from_micros(200));
        }
        assert_eq!(rto.current(), ms(10), "clamped to the minimum on a LAN");
    }

    #[test]
    fn backs_off_exponentially_up_to_max() {
        let mut rto = Rto::new(RtoBounds::default());
        for _ in 0..5 {
            rto.sample(ms(20));
        }
        let first = rto.current();
        rto.back_off();
        assert_eq!(rto.current(), first * 2);
        for _ in 0..10 {
            rto.back_off();
        }
        assert_eq!(rto.current(), ms(1000));
        rto.sample(ms(20));
        assert!(rto.current() < ms(100), "a fresh sample ends the backoff");
    }

    #[test]
    fn easing_undoes_one_doubling() {
        let mut rto = Rto::new(RtoBounds::default());
        rto.sample(ms(20));
        let base = rto.current();
        rto.back_off();
        rto.back_off();
        rto.ease_backoff();
        assert_eq!(rto.current(), base * 2);
        rto.ease_backoff();
        rto.ease_backoff();
        assert_eq!(rto.current(), base);
    }

    #[test]
    fn variance_widens_the_timeout() {
        let mut steady = Rto::new(RtoBounds::default());
        let mut jittery = Rto::new(RtoBounds::default());
        for i in 0..20 {
            steady.sample(ms(30));
            jittery.sample(if i % 2 == 0 { ms(10) } else { ms(50) });
        }
        assert!(jittery.current() > steady.current());
    }
}
