//! What a transfer tells the log: progress lines for long transfers and
//! the one line that says how it ended.

use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::OwnedRequest;
use crate::events::event::Outcome as Reported;
use crate::events::Tracker;
use crate::tftp::options::Negotiated;
use crate::tftp::transfer::{Outcome, TransferStats};

/// Progress lines for long transfers: every 10 % once past a few seconds;
/// and the transfer's reports to the event stream.
pub(super) struct Progress {
    total: Option<u64>,
    started: Instant,
    /// Transfers shorter than this log no progress lines.
    after: Duration,
    next_tenth: u64,
    tracker: Option<Tracker>,
}

impl Progress {
    pub(super) fn new(total: Option<u64>, started: Instant, after: Duration) -> Self {
        Self {
            total: total.filter(|t| *t > 0),
            started,
            after,
            next_tenth: 1,
            tracker: None,
        }
    }

    /// The same, reporting to the event stream through `tracker`.
    pub(super) fn tracked(self, tracker: Tracker) -> Self {
        Self {
            tracker: Some(tracker),
            ..self
        }
    }

    /// Reports the end to the event stream.
    pub(super) fn end(&mut self, outcome: &Outcome, stats: &TransferStats, tsize: bool) {
        if let Some(tracker) = self.tracker.take() {
            let ended = event_outcome(outcome, tsize);
            tracker.end(ended, stats.bytes, stats.retransmitted);
        }
    }

    pub(super) fn report(&mut self, bytes: u64) {
        if let Some(tracker) = &mut self.tracker {
            tracker.progress(bytes);
        }
        let Some(total) = self.total else { return };
        if self.next_tenth > 9 || bytes < total / 10 * self.next_tenth {
            return;
        }
        let elapsed = self.started.elapsed();
        let tenth = (bytes.saturating_mul(10) / total).min(9);
        if elapsed >= self.after {
            info!(
                percent = tenth * 10,
                bytes,
                total,
                mib_per_s = format!("{:.1}", mib_per_s(bytes, elapsed)),
                "progress"
            );
        }
        self.next_tenth = tenth + 1;
    }
}

/// A transfer's outcome as the event stream tells it (`tsize`: the client
/// asked for the size, so an end right after the OACK is a size probe).
fn event_outcome(outcome: &Outcome, tsize: bool) -> Reported {
    match outcome {
        Outcome::Complete => Reported::Done,
        Outcome::PeerError {
            during_oack: true, ..
        } if tsize => Reported::SizeProbe,
        Outcome::PeerError { code, message, .. } => Reported::Failed {
            code: code.code(),
            why: format!("ended by the client: {message}"),
        },
        Outcome::LocalError { code, message } => Reported::Failed {
            code: code.code(),
            why: message.clone(),
        },
        Outcome::TimedOut => Reported::Gone {
            why: "the client stopped answering".into(),
        },
    }
}

/// `--verbose`: one debug line per datagram of a batch sent.
pub(super) fn trace_sent<'a>(datagrams: impl Iterator<Item = &'a [u8]>) {
    for datagram in datagrams {
        trace_datagram(datagram);
    }
}

/// `--verbose`: one debug line for a datagram sent (DATA with its block
/// number and size, ACK with its block number, OACK, ERROR).
pub(super) fn trace_datagram(datagram: &[u8]) {
    let field = |at: usize| {
        datagram
            .get(at..at + 2)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    };
    match field(0) {
        3 => debug!(
            block = field(2),
            bytes = datagram.len().saturating_sub(4),
            "DATA sent"
        ),
        4 => debug!(block = field(2), "ACK sent"),
        5 => debug!(code = field(2), "ERROR sent"),
        6 => debug!("OACK sent"),
        other => debug!(opcode = other, "datagram sent"),
    }
}

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64().max(1e-9)
}

/// The window as the closing line shows it: the negotiated size, or for a
/// download whose effective window changed, "final (min N) of negotiated".
fn window_text(negotiated: u16, stats: &TransferStats) -> String {
    let (min, last) = (stats.window_min, stats.window_final);
    let negotiated = u64::from(negotiated);
    if last == 0 || (min == negotiated && last == negotiated) {
        negotiated.to_string()
    } else {
        format!("{last} (min {min}) of {negotiated}")
    }
}

pub(super) fn log_end(
    op: &str,
    request: &OwnedRequest,
    negotiated: &Negotiated,
    outcome: &Outcome,
    stats: &TransferStats,
    elapsed: Duration,
    size: Option<u64>,
) {
    // As agreed in the OACK: an RRQ's tsize is the size sent back.
    let options = negotiated
        .oack(size)
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let rate = format!("{:.1}", mib_per_s(stats.bytes, elapsed));
    let window = window_text(negotiated.windowsize, stats);
    let ms = elapsed.as_millis() as u64;
    match outcome {
        Outcome::Complete => info!(
            op, mode = %request.mode, options, bytes = stats.bytes, ms, mib_per_s = rate,
            retransmitted = stats.retransmitted, timeouts = stats.timeouts, window,
            "transfer complete"
        ),
        Outcome::PeerError {
            during_oack: true, ..
        } if negotiated.tsize_requested.is_some() => {
            info!(
                op,
                size,
                options,
                "size probe answered (the client ended it after the OACK, as UEFI firmware does)"
            )
        }
        Outcome::PeerError { code, message, .. } => info!(
            op,
            bytes = stats.bytes,
            ms,
            code = code.code(),
            message = message.as_str(),
            "transfer ended by the client"
        ),
        Outcome::LocalError { code, message } => warn!(
            op,
            bytes = stats.bytes,
            ms,
            code = code.code(),
            message = message.as_str(),
            "transfer failed"
        ),
        Outcome::TimedOut => warn!(
            op,
            bytes = stats.bytes,
            ms,
            timeouts = stats.timeouts,
            window,
            "transfer timed out"
        ),
    }
}
