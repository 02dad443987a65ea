//! **When to advertise** (pure; time and randomness come in): listen first,
//! and only when no other router has advertised, send unsolicited RAs at
//! RFC 4861 §6.2.4 intervals (the first three at most 16 s apart, then
//! between MinRtrAdvInterval and MaxRtrAdvInterval), answer a Router
//! Solicitation within 0.5 s but never sooner than 3 s after the last RA
//! (§6.2.6); fall silent for good as soon as another router's RA is heard.

use std::time::{Duration, Instant};

/// The timing constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long to listen for other routers before the first RA.
    pub listen: Duration,
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// MAX_INITIAL_RTR_ADVERT_INTERVAL.
    pub initial_interval: Duration,
    /// MAX_INITIAL_RTR_ADVERTISEMENTS.
    pub initial_count: u32,
    /// MIN_DELAY_BETWEEN_RAS.
    pub min_delay: Duration,
    /// MAX_RA_DELAY_TIME.
    pub max_response_delay: Duration,
    /// The least delay before answering a Router Solicitation (0 in RFC
    /// 4861; longer lets a real router, answering within 0.5 s, speak first
    /// and silence us).
    pub min_response_delay: Duration,
    /// Unsolicited RAs too; `false`: only answers to solicitations.
    pub unsolicited: bool,
}

impl Default for Timing {
    /// RFC 4861's defaults (MaxRtrAdvInterval 600 s, Min a third of it)
    /// after 3 s of listening.
    fn default() -> Self {
        Self {
            listen: Duration::from_secs(3),
            min_interval: Duration::from_secs(198),
            max_interval: Duration::from_secs(600),
            initial_interval: Duration::from_secs(16),
            initial_count: 3,
            min_delay: Duration::from_secs(3),
            max_response_delay: Duration::from_millis(500),
            min_response_delay: Duration::ZERO,
            unsolicited: true,
        }
    }
}

/// Far enough away to mean "not by itself".
const NEVER: Duration = Duration::from_secs(365 * 86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Listening {
        until: Instant,
    },
    Advertising {
        next: Instant,
        sent: u32,
        last: Option<Instant>,
    },
    Silenced,
}

/// One interface's advertiser.
#[derive(Debug, Clone)]
pub struct Advertiser {
    timing: Timing,
    state: State,
    rng: u64,
}

impl Advertiser {
    /// Starts listening at `now`; `seed` drives the random intervals.
    pub fn new(now: Instant, timing: Timing, seed: u64) -> Self {
        Self {
            timing,
            state: State::Listening {
                until: now + timing.listen,
            },
            rng: seed | 1,
        }
    }

    /// Another router advertised. True when this silenced us (log it once).
    pub fn heard_advert(&mut self) -> bool {
        let was = self.state != State::Silenced;
        self.state = State::Silenced;
        was
    }

    /// True once another router was heard.
    pub fn silenced(&self) -> bool {
        self.state == State::Silenced
    }

    /// A host solicited: the next RA comes within MAX_RA_DELAY_TIME, but
    /// no sooner than MIN_DELAY_BETWEEN_RAS after the last one.
    pub fn heard_solicitation(&mut self, now: Instant) {
        let delay = self.random(
            self.timing.min_response_delay,
            self.timing.max_response_delay,
        );
        let min_delay = self.timing.min_delay;
        if let State::Advertising { next, last, .. } = &mut self.state {
            let earliest = last.map_or(now, |l| l + min_delay);
            *next = (*next).min((now + delay).max(earliest));
        }
    }

    /// True when an RA should leave now (call at or after [`Self::next_wake`]).
    pub fn poll(&mut self, now: Instant) -> bool {
        match self.state {
            State::Listening { until } if now >= until => {
                let next = if self.timing.unsolicited {
                    now
                } else {
                    now + NEVER
                };
                self.state = State::Advertising {
                    next,
                    sent: 0,
                    last: None,
                };
                self.poll(now)
            }
            State::Advertising { next, sent, .. } if now >= next => {
                let sent = sent + 1;
                let next = if self.timing.unsolicited {
                    now + self.interval(sent)
                } else {
                    now + NEVER
                };
                self.state = State::Advertising {
                    next,
                    sent,
                    last: Some(now),
                };
                true
            }
            _ => false,
        }
    }

    /// When [`Self::poll`] may next say yes; `None` once silenced.
    pub fn next_wake(&self) -> Option<Instant> {
        match self.state {
            State::Listening { until } => Some(until),
            State::Advertising { next, .. } => Some(next),
            State::Silenced => None,
        }
    }

    fn interval(&mut self, sent: u32) -> Duration {
        let t = self.random(self.timing.min_interval, self.timing.max_interval);
        if sent <= self.timing.initial_count {
            t.min(self.timing.initial_interval)
        } else {
            t
        }
    }

    /// Uniform in `[lo, hi]` (xorshift64).
    fn random(&mut self, lo: Duration, hi: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let span = hi.saturating_sub(lo).as_millis() as u64;
        lo + Duration::from_millis(self.rng % (span + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sends(a: &mut Advertiser, from: Instant, secs: u64) -> Vec<u64> {
        let mut out = Vec::new();
        for ms in (0..secs * 1000).step_by(50) {
            let now = from + Duration::from_millis(ms);
            if a.poll(now) {
                out.push(ms);
            }
        }
        out
    }

    #[test]
    fn listens_first_then_three_quick_ones_then_rfc_intervals() {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, Timing::default(), 42);
        let at = sends(&mut a, t0, 2000);
        assert_eq!(at[0], 3000, "first RA right after listening");
        for w in at.windows(2).take(3) {
            assert!(w[1] - w[0] <= 16_000, "{at:?}");
        }
        for w in at.windows(2).skip(3) {
            assert!((198_000..=600_050).contains(&(w[1] - w[0])), "{at:?}");
        }
    }

    #[test]
    fn another_router_silences_it_for_good() {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, Timing::default(), 7);
        assert!(a.heard_advert());
        assert!(!a.heard_advert(), "said once");
        assert!(sends(&mut a, t0, 100).is_empty());
        assert_eq!(a.next_wake(), None);
        // also after it started advertising
        let mut b = Advertiser::new(t0, Timing::default(), 7);
        assert_eq!(sends(&mut b, t0, 5), vec![3000]);
        b.heard_advert();
        assert!(sends(&mut b, t0 + Duration::from_secs(5), 1000).is_empty());
    }

    #[test]
    fn a_solicitation_is_answered_within_half_a_second_but_not_within_3s_of_the_last() {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, Timing::default(), 9);
        assert!(a.poll(t0 + Duration::from_secs(3)));
        // right after an RA: not before 3 s have passed
        let rs = t0 + Duration::from_secs(4);
        a.heard_solicitation(rs);
        let next = a.next_wake().unwrap();
        assert_eq!(next, t0 + Duration::from_secs(6));
        assert!(a.poll(next));
        // much later: within 0.5 s
        let rs = next + Duration::from_secs(10);
        a.heard_solicitation(rs);
        let wake = a.next_wake().unwrap();
        assert!(wake >= rs && wake <= rs + Duration::from_millis(500));
    }

    #[test]
    fn answering_only_sends_nothing_unasked_and_answers_after_a_real_router_would() {
        let timing = Timing {
            min_response_delay: Duration::from_millis(600),
            max_response_delay: Duration::from_millis(1000),
            unsolicited: false,
            ..Timing::default()
        };
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, timing, 7);
        assert!(sends(&mut a, t0, 100).is_empty(), "nothing unasked");
        let asked = t0 + Duration::from_secs(100);
        a.heard_solicitation(asked);
        let at = sends(&mut a, asked, 30);
        assert_eq!(at.len(), 1, "{at:?}");
        assert!((600..=1050).contains(&at[0]), "{at:?}");
        // a router's answer heard first silences it for good
        let mut b = Advertiser::new(t0, timing, 7);
        b.heard_solicitation(asked);
        assert!(b.heard_advert());
        assert!(sends(&mut b, asked, 30).is_empty());
    }
}
