//! One transfer, end to end: resolve the request, negotiate options, then
//! run the sans-IO [`Sender`](super::transfer::Sender) or
//! [`Receiver`](super::transfer::Receiver) against a socket of its own,
//! the file, and the clock. Logs one line when the transfer ends (and
//! progress for long ones).
//!
//! A transfer runs on a thread of its own with blocking I/O, as tftpd-hpa
//! runs a process per transfer: in lock-step every block is a round trip,
//! and a thread asleep in a receive on its own socket wakes straight into the
//! next send, with no runtime in between (no event loop hand-off, no
//! cross-thread wake-up). File reads and writes block only that thread.
//!
//! Here: the request's remapping, refusals, negotiation and the wait; `read`
//! drives a download, `write` an upload (through `sink`), `report` logs
//! them, `tid` tells whose datagrams they are.

use crate::events::event::Protocol;
use crate::events::{NewTransfer, Tracker};
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::config::TftpConfig;
use super::fs::FsError;
use super::options::{negotiate, Negotiated};
use super::packet::{error_within, ErrorCode, Mode, Packet};
use super::remap::Remapped;
use super::udp::{self, Received, TransferSocket};

/// A request, owned, as the listener hands it over.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// File name as sent.
    pub filename: Vec<u8>,
    /// Transfer mode.
    pub mode: Mode,
    /// Options as sent.
    pub options: Vec<(String, String)>,
    /// A write (upload) request.
    pub write: bool,
    /// Length of the request datagram: no reply to it (before the client
    /// has proven its address) is larger, beyond one OACK or DATA.
    pub wire_len: usize,
}

impl OwnedRequest {
    /// The file name for logs and rules (lossy for non-UTF-8 names).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.filename).into_owned()
    }
}

/// Everything a transfer needs from its surroundings.
pub struct Session {
    /// Server configuration.
    pub cfg: Arc<TftpConfig>,
    /// The transfer's own socket.
    pub socket: TransferSocket,
    /// The client's address and port (its transfer ID).
    pub peer: SocketAddr,
    /// Address the request arrived on.
    pub local: SocketAddr,
    /// Cancelled at shutdown.
    pub cancel: CancellationToken,
    /// One message per copy of the request the client sent again from the
    /// same port (the listener routes them here).
    pub repeats: mpsc::Receiver<()>,
    /// The request's length: an ERROR refusing it is cut to this.
    pub first_reply_limit: usize,
    /// When the client first answered (its first ACK of a download, first
    /// DATA of an upload): `None` to start with.
    pub answered: Cell<Option<SystemTime>>,
}

mod read;
mod report;
mod sink;
pub mod tid;
mod write;

use report::Progress;

/// Bytes read or written in one chunk.
const CHUNK_BYTES: usize = 256 << 10;

enum Event {
    Datagram(usize, SocketAddr),
    /// The client sent its request again.
    Repeated,
    Timeout,
    Cancelled,
}

impl Session {
    /// Runs the transfer to its end, blocking the calling thread. Returns
    /// when the client first answered, if it did (see
    /// [`crate::tftp::late_copies`]).
    pub fn run(mut self, request: OwnedRequest) -> Option<SystemTime> {
        self.serve(&request);
        self.answered.get()
    }

    fn serve(&mut self, request: &OwnedRequest) {
        if request.mode == Mode::Mail {
            self.refuse(ErrorCode::IllegalOperation, "mail mode is not supported");
            return;
        }
        let name = match self
            .cfg
            .remap
            .load()
            .apply(&request.name(), request.write, self.peer.ip())
        {
            Remapped::Name(name) => name,
            Remapped::Refused(message) => {
                info!("refused by the map file");
                let message = message.as_deref().unwrap_or("Access violation");
                self.refuse(ErrorCode::AccessViolation, message);
                return;
            }
        };
        if request.write {
            self.run_write(request, &name);
        } else {
            self.run_read(request, &name);
        }
    }

    /// The client has answered (an ACK of ours, or DATA of its upload).
    fn note_answer(&self) {
        if self.answered.get().is_none() {
            self.answered.set(Some(SystemTime::now()));
        }
    }

    /// Refuses the request with an ERROR no larger than the request (its
    /// source address may be spoofed).
    fn refuse(&self, code: ErrorCode, message: &str) {
        let Some(packet) = error_within(code, message, self.first_reply_limit) else {
            return;
        };
        if let Err(e) = self.socket.send_to(&packet, self.peer) {
            debug!("could not send ERROR: {e}");
        }
    }

    fn refuse_fs(&self, err: &FsError, name: &str, upload: bool) {
        let (code, message) = err.to_tftp();
        match err {
            FsError::NotFound => info!("file not found"),
            FsError::Io(e) => warn!("refused: {e}"),
            other => info!("refused: {other}"),
        }
        let events = &self.cfg.events;
        Tracker::refused(
            events,
            self.transfer(name, None, upload),
            code.code(),
            &message,
        );
        self.refuse(code, &message);
    }

    /// The transfer of `name` as the event stream knows it.
    fn transfer(&self, name: &str, size: Option<u64>, upload: bool) -> NewTransfer {
        let files = self.cfg.client_files.as_ref();
        NewTransfer {
            protocol: Protocol::Tftp,
            peer: self.peer,
            mac: files
                .and_then(|f| f.mac(self.peer.ip()))
                .and_then(|m| m.parse().ok()),
            file: name.to_string(),
            size,
            upload,
        }
    }

    /// Progress lines and the event stream's reports for `name`.
    fn progress(&self, name: &str, size: Option<u64>, upload: bool, started: Instant) -> Progress {
        let tracker = Tracker::start(&self.cfg.events, self.transfer(name, size, upload));
        Progress::new(size, started, self.cfg.progress_after).tracked(tracker)
    }

    fn negotiate(&self, request: &OwnedRequest) -> Negotiated {
        let requested: Vec<(&str, &str)> = request
            .options
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mtu_limit = if self.cfg.mtu_clamp {
            udp::path_block_limit(self.local, self.peer)
        } else {
            None
        };
        negotiate(&requested, &self.cfg.options, mtu_limit)
    }

    fn rto_bounds(&self, negotiated: &Negotiated) -> super::rto::RtoBounds {
        let mut bounds = self.cfg.rto;
        if let Some(timeout) = negotiated.timeout {
            // The client's timeout option caps our backoff and seeds it;
            // the adaptive estimate still shortens it on a fast link.
            bounds.initial = timeout;
            bounds.max = timeout;
        }
        bounds
    }

    /// Waits for a datagram, a repeated request, the deadline, or shutdown.
    /// The socket is watched in slices (see [`udp::TransferSocket::recv_until`]),
    /// and a repeated request or shutdown is noticed between them.
    /// A client whose round trip is known is waited for by polling first
    /// ([`busy_poll_budget`]).
    fn wait(
        &mut self,
        deadline: Option<Instant>,
        round_trip: Option<Duration>,
        buf: &mut [u8],
    ) -> Event {
        let busy = busy_poll_budget(self.cfg.busy_poll, round_trip);
        loop {
            if self.cancel.is_cancelled() {
                return Event::Cancelled;
            }
            if !self.repeats.is_empty() {
                // What the client sent before repeating its request comes
                // first: its ACK may already be queued (then the copy is
                // stale), and the copy must not be answered as if unanswered.
                if let Ok(Some((len, from))) = self.socket.try_recv(buf) {
                    return Event::Datagram(len, from);
                }
                if self.repeats.try_recv().is_ok() {
                    return Event::Repeated;
                }
            }
            match self.socket.recv_until(buf, deadline, busy) {
                Received::Datagram(len, from) => return Event::Datagram(len, from),
                Received::Timeout => return Event::Timeout,
                Received::Again => {}
            }
        }
    }

    /// Parses a datagram from the peer. One from another address or port is
    /// answered with ERROR 5 and otherwise ignored (RFC 1350).
    fn accept<'b>(&self, datagram: &'b [u8], from: SocketAddr) -> Option<Packet<'b>> {
        match tid::check(from, self.peer, self.local, datagram.len()) {
            tid::Origin::Peer => {}
            tid::Origin::Stranger(reply) => {
                debug!(%from, "packet from an unknown transfer ID");
                if let Some(reply) = reply {
                    let _ = self.socket.send_to(&reply, from);
                }
                return None;
            }
            tid::Origin::Ignored => return None,
        }
        match Packet::parse(datagram) {
            Ok(packet) => Some(packet),
            Err(e) => {
                debug!("malformed packet ignored: {e}");
                None
            }
        }
    }
}

/// How long to poll before sleeping: twice the client's round trip, at most
/// `cap`, and nothing while the round trip is unknown or not shorter than
/// `cap` (the answer would not come within the poll).
fn busy_poll_budget(cap: Duration, round_trip: Option<Duration>) -> Duration {
    match round_trip {
        Some(rtt) if rtt < cap => (rtt * 2).min(cap),
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_client_known_to_answer_within_the_cap_is_polled_for() {
        let cap = Duration::from_micros(100);
        let us = Duration::from_micros;
        assert_eq!(busy_poll_budget(cap, None), Duration::ZERO, "unknown");
        assert_eq!(busy_poll_budget(cap, Some(us(20))), us(40));
        assert_eq!(busy_poll_budget(cap, Some(us(70))), cap);
        assert_eq!(
            busy_poll_budget(cap, Some(us(100))),
            Duration::ZERO,
            "too far"
        );
        assert_eq!(
            busy_poll_budget(Duration::ZERO, Some(us(5))),
            Duration::ZERO,
            "off"
        );
    }
}
