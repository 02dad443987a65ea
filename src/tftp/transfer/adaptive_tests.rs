//! The effective window driven by scripted window outcomes: clients that
//! keep part of each window, one that keeps everything, a lossy link, and
//! a buffer that frees up midway.

use std::time::{Duration, Instant};

use super::*;

const RTO: Duration = Duration::from_millis(10);
/// Virtual time one window takes.
const WINDOW_TIME: Duration = Duration::from_millis(1);

/// A client whose buffer holds `capacity` blocks, seen from the sender:
/// a burst that fits arrives whole (paced bursts are taken in before the
/// next one lands), a larger one loses its tail after `capacity`.
fn full_buffer(w: &AdaptiveWindow, sent: usize, capacity: usize) -> WindowEnd {
    if w.burst() <= capacity || sent <= capacity {
        WindowEnd::Whole { sent }
    } else {
        WindowEnd::TailCut { kept: capacity }
    }
}

/// Runs `windows` windows against `client`; returns the tail cuts (each
/// cost a retransmission timeout), and moves the clock on.
fn run(
    w: &mut AdaptiveWindow,
    t: &mut Instant,
    windows: usize,
    mut client: impl FnMut(&AdaptiveWindow, Instant) -> WindowEnd,
) -> usize {
    let mut cuts = 0;
    for _ in 0..windows {
        let end = client(w, *t);
        if matches!(end, WindowEnd::TailCut { .. }) {
            cuts += 1;
            *t += RTO;
        }
        w.window_ended(*t, end, RTO);
        *t += WINDOW_TIME;
    }
    cuts
}

#[test]
fn a_client_that_keeps_three_of_four_gets_bursts_of_three() {
    let mut w = AdaptiveWindow::new(4);
    let t0 = Instant::now();
    let first = w.window_ended(t0, WindowEnd::TailCut { kept: 3 }, RTO);
    assert_eq!(first, Some((4, 3)), "the change is reported");
    let mut t = t0;
    // one more cut at the same place confirms it; then, for the next
    // 300 ms (below the probe delay of 32 timeouts), none at all
    let cuts = run(&mut w, &mut t, 300, |w, _| full_buffer(w, 4, 3));
    assert_eq!((cuts, w.burst()), (1, 3));
}

#[test]
fn failed_probes_back_off_so_they_cost_a_few_percent() {
    let mut w = AdaptiveWindow::new(4);
    let mut t = Instant::now();
    // ten seconds of windows against a client that keeps three
    let cuts = run(&mut w, &mut t, 10_000, |w, _| full_buffer(w, 4, 3));
    let lost = RTO * cuts as u32;
    assert!(cuts <= 8, "{cuts} cuts");
    assert!(lost < (t - Instant::now()) / 20, "{lost:?} lost to cuts");
    assert_eq!((w.burst(), w.min_burst()), (3, 3));
}

#[test]
fn a_client_that_keeps_three_of_sixteen_gets_bursts_of_three() {
    let mut w = AdaptiveWindow::new(16);
    let mut t = Instant::now();
    let cuts = run(&mut w, &mut t, 200, |w, _| full_buffer(w, 16, 3));
    assert_eq!(
        (cuts, w.burst()),
        (2, 3),
        "two cuts at one place find the size"
    );
}

#[test]
fn a_client_that_keeps_one_of_sixteen_gets_one_block_at_a_time() {
    let mut w = AdaptiveWindow::new(16);
    let mut t = Instant::now();
    let cuts = run(&mut w, &mut t, 200, |w, _| full_buffer(w, 16, 1));
    assert_eq!((cuts, w.burst(), w.min_burst()), (2, 1, 1));
}

#[test]
fn a_client_that_keeps_everything_never_sees_a_change() {
    let mut w = AdaptiveWindow::new(16);
    let t0 = Instant::now();
    for i in 0..1000 {
        let change = w.window_ended(t0 + WINDOW_TIME * i, WindowEnd::Whole { sent: 16 }, RTO);
        assert_eq!(change, None);
    }
    assert_eq!((w.burst(), w.min_burst()), (16, 16));
}

/// A deterministic pseudo-random generator.
struct XorShift(u64);
impl XorShift {
    fn below(&mut self, per_mille: u64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % 1000 < per_mille
    }
}

/// A window of `sent` blocks over a link that drops each with the given
/// chance: whole, a gap the client reports at once (a later block came), or
/// a tail cut when every block from the first loss on was lost.
fn lossy(rng: &mut XorShift, sent: usize, per_mille: u64) -> WindowEnd {
    let lost: Vec<bool> = (0..sent).map(|_| rng.below(per_mille)).collect();
    match lost.iter().position(|l| *l) {
        None => WindowEnd::Whole { sent },
        Some(kept) if lost[kept..].iter().all(|l| *l) => WindowEnd::TailCut { kept },
        Some(_) => WindowEnd::Gap,
    }
}

#[test]
fn random_loss_does_not_collapse_the_window_as_a_full_buffer_does() {
    for (per_mille, seed) in [(10, 1), (50, 2), (50, 3)] {
        let mut w = AdaptiveWindow::new(16);
        let mut rng = XorShift(seed);
        let mut t = Instant::now();
        let mut sum = 0;
        for _ in 0..2000 {
            let end = lossy(&mut rng, w.burst().max(16), per_mille);
            w.window_ended(t, end, RTO);
            sum += w.burst();
            t += WINDOW_TIME;
        }
        let mean = sum / 2000;
        assert!(
            w.min_burst() >= 12 && mean >= 14,
            "{per_mille}‰: min {} mean {mean}",
            w.min_burst()
        );
    }
    // the full buffer of the same size of window: down to what it keeps
    let mut w = AdaptiveWindow::new(16);
    let mut t = Instant::now();
    run(&mut w, &mut t, 100, |w, _| full_buffer(w, 16, 4));
    assert_eq!(w.burst(), 4);
}

#[test]
fn a_buffer_that_frees_up_midway_gets_the_whole_window_back() {
    let mut w = AdaptiveWindow::new(16);
    let t0 = Instant::now();
    let mut t = t0;
    run(&mut w, &mut t, 2000, |w, _| full_buffer(w, 16, 3));
    assert_eq!(w.burst(), 3);
    let freed = t;
    let mut back_at = None;
    for _ in 0..10_000 {
        let end = full_buffer(&w, 16, 64);
        w.window_ended(t, end, RTO);
        if w.burst() == 16 && back_at.is_none() {
            back_at = Some(t);
        }
        t += WINDOW_TIME;
    }
    let took = back_at.expect("the window grew back") - freed;
    // at most one probe delay (32 timeouts, doubled at most 4 times)
    assert!(took <= RTO * 32 * 16, "took {took:?}");
    assert_eq!(w.burst(), 16);
}

#[test]
fn a_cut_past_the_burst_lengthens_the_pause_and_whole_windows_shorten_it() {
    let mut w = AdaptiveWindow::new(8);
    let t0 = Instant::now();
    let per_block = Duration::from_micros(50);
    w.sample(per_block * 3, 3);
    w.window_ended(t0, WindowEnd::TailCut { kept: 2 }, RTO);
    assert_eq!(w.burst(), 4, "one cut at most halves");
    w.window_ended(t0, WindowEnd::TailCut { kept: 2 }, RTO);
    // a burst of two takes the client two blocks' time
    assert_eq!((w.burst(), w.pause(w.burst(), RTO)), (2, per_block * 2));
    // a later burst of a window was lost whole: the client is slower
    // than the pause
    w.window_ended(t0, WindowEnd::TailCut { kept: 0 }, RTO);
    w.window_ended(t0, WindowEnd::TailCut { kept: 0 }, RTO);
    assert_eq!((w.burst(), w.pause(w.burst(), RTO)), (2, per_block * 2 * 4));
    for _ in 0..10 {
        w.window_ended(t0, WindowEnd::TailCut { kept: 0 }, RTO);
    }
    assert_eq!(w.pause(w.burst(), RTO), per_block * 2 * MAX_PAUSE_SCALE);
    w.window_ended(t0, WindowEnd::Whole { sent: 8 }, RTO);
    assert_eq!(w.pause(w.burst(), RTO), per_block * 2 * MAX_PAUSE_SCALE / 2);
    // never so long that the retransmission timer fires first
    assert_eq!(
        w.pause(w.burst(), Duration::from_micros(600)),
        Duration::from_micros(300)
    );
}

#[test]
fn the_pace_follows_the_fastest_recent_answers() {
    let mut w = AdaptiveWindow::new(4);
    let t0 = Instant::now();
    w.window_ended(t0, WindowEnd::TailCut { kept: 2 }, RTO);
    let us = Duration::from_micros;
    // nothing measured yet: a 32nd of the timeout per block
    assert_eq!(w.pause(w.burst(), RTO), RTO / 16);
    w.sample(us(4000), 1); // a slow first answer
    w.sample(us(120), 3); // a burst of three answered in 120 µs
    assert_eq!(w.pause(w.burst(), RTO), us(80));
    w.sample(us(1000), 1); // one slow answer moves it an eighth of the way
    assert_eq!(w.pause(w.burst(), RTO), us(80 + 2 * 120));
}

#[test]
fn gaps_change_nothing() {
    let mut w = AdaptiveWindow::new(16);
    let t0 = Instant::now();
    for _ in 0..100 {
        assert_eq!(w.window_ended(t0, WindowEnd::Gap, RTO), None);
    }
    assert_eq!(w.burst(), 16);
}
