//! A download (RRQ): the file opened (a client's rendered file, a file
//! inside an ISO, or one of the root), then the [`Sender`] driven against
//! the socket: blocks read ahead while the client takes in a window, each
//! window sent in one batch, ACKs, repeats and timeouts fed back.

use std::time::Instant;

use tracing::{debug, warn};

use super::super::fs::FsError;
use super::super::netascii;
use super::super::options::Negotiated;
use super::super::packet::{ErrorCode, Mode, Packet};
use super::super::source::Source;
use super::super::transfer::{Batch, Outcome, Sender, SenderConfig};
use super::super::udp;
use super::report::{log_end, trace_sent, Progress};
use super::{Event, OwnedRequest, Session, CHUNK_BYTES};

impl Session {
    pub(super) fn run_read(&mut self, request: &OwnedRequest, name: &str) {
        let mut source = match self.open_source(request, name) {
            Ok(source) => source,
            Err(err) => return self.refuse_fs(&err, name, false),
        };
        let negotiated = self.negotiate(request);
        let size = source.len();
        let mut sender = self.sender(request, &negotiated, size);
        let started = Instant::now();
        let mut progress = self.progress(name, Some(size), false, started);
        self.drive_read(&mut sender, &mut source, &mut progress);
        let outcome = sender.outcome().cloned().unwrap_or(Outcome::TimedOut);
        let elapsed = started.elapsed();
        log_end(
            "RRQ",
            request,
            &negotiated,
            &outcome,
            sender.stats(),
            elapsed,
            Some(size),
        );
        let tsize = negotiated.tsize_requested.is_some();
        progress.end(&outcome, sender.stats(), tsize);
    }

    /// Runs the download to its end: blocks read (and read ahead while the
    /// client takes in a window), sent, and what comes back fed in.
    fn drive_read(&mut self, sender: &mut Sender, source: &mut Source, progress: &mut Progress) {
        let mut batch = Batch::new(udp::MAX_SEGMENTS, udp::MAX_BATCH_BYTES);
        let mut buf = vec![0u8; 65536];
        loop {
            while sender.wants_block() {
                read_block(sender, source);
            }
            self.transmit(sender, &mut batch);
            if sender.is_finished() {
                break;
            }
            // while the client takes in what was just sent
            while sender.wants_read_ahead() {
                read_block(sender, source);
            }
            progress.report(sender.stats().bytes);
            let event = self.wait(sender.poll_timeout(), sender.round_trip(), &mut buf);
            self.on_read_event(sender, event, &buf);
        }
    }

    /// The machine for a download of `size` bytes, as negotiated.
    fn sender(&self, request: &OwnedRequest, negotiated: &Negotiated, size: u64) -> Sender {
        Sender::new(SenderConfig {
            blksize: negotiated.blksize,
            windowsize: negotiated.windowsize,
            rollover: negotiated.rollover,
            rto: self.rto_bounds(negotiated),
            give_up_after: self.cfg.give_up_after,
            oack: negotiated.needs_oack().then(|| negotiated.oack(Some(size))),
            request_len: request.wire_len,
        })
    }

    /// Sends everything the sender has due now; a failed send aborts it.
    fn transmit(&mut self, sender: &mut Sender, batch: &mut Batch) {
        let now = Instant::now();
        while sender.poll_transmit(now, batch) {
            if self.cfg.trace_blocks {
                trace_sent(sender.datagrams(batch));
            }
            if let Err(e) = self.send_batch(sender, batch) {
                warn!("send failed: {e}");
                sender.abort(ErrorCode::NotDefined, "send failed");
            }
        }
    }

    /// Feeds what a wait brought (`buf` holds a datagram) to the sender.
    fn on_read_event(&self, sender: &mut Sender, event: Event, buf: &[u8]) {
        match event {
            Event::Datagram(len, from) => {
                let Some(packet) = self.accept(&buf[..len], from) else {
                    return;
                };
                match packet {
                    Packet::Ack { block } => {
                        self.note_answer();
                        if self.cfg.trace_blocks {
                            debug!(block, "ACK received");
                        }
                        sender.handle_ack(Instant::now(), block);
                        log_window_change(sender);
                    }
                    Packet::Error { code, message } => sender.handle_error(code, &message),
                    _ => sender.handle_illegal("unexpected packet on a read transfer"),
                }
            }
            Event::Repeated => sender.handle_repeated_request(Instant::now()),
            Event::Timeout => sender.handle_timeout(Instant::now()),
            Event::Cancelled => sender.abort(ErrorCode::NotDefined, "server shutting down"),
        }
    }

    fn open_source(&self, request: &OwnedRequest, name: &str) -> Result<Source, FsError> {
        let name = match &self.cfg.client_files {
            Some(files) => files
                .rewrite(self.peer.ip(), name)
                .unwrap_or_else(|| name.to_string()),
            None => name.to_string(),
        };
        if let Some(files) = &self.cfg.client_files {
            let relative = super::super::fs::relative_path(name.as_bytes())?;
            let key = relative.to_string_lossy();
            if let Some(rendered) = files.file(self.peer.ip(), &key) {
                let bytes = rendered.map_err(|e| FsError::Io(std::io::Error::other(e)))?;
                return Ok(encode_mode(bytes, request.mode));
            }
        }
        let regions = self.cfg.regions.as_deref();
        let netascii = request.mode == Mode::Netascii;
        let root = &self.cfg.root;
        let source =
            super::super::open::open_download(root, regions, &name, netascii, CHUNK_BYTES)?;
        if let Some(files) = &self.cfg.client_files {
            files.fetched(self.peer.ip(), &name);
        }
        Ok(source)
    }

    /// Sends what `batch` stands for: one datagram as it is, several in one
    /// segmented send.
    fn send_batch(&mut self, sender: &Sender, batch: &Batch) -> std::io::Result<()> {
        if batch.len() == 1 {
            return match sender.datagrams(batch).next() {
                Some(datagram) => self.socket.send_to(datagram, self.peer),
                None => Ok(()),
            };
        }
        let datagrams: Vec<&[u8]> = sender.datagrams(batch).collect();
        self.socket
            .send_all(&datagrams, batch.segment_size(), self.peer)
    }
}

/// Reads the sender's next block from `source`; a failed read aborts it.
fn read_block(sender: &mut Sender, source: &mut Source) {
    if let Err(e) = sender.push_block_with(|payload| source.read_block(payload)) {
        warn!("read failed: {e}");
        sender.abort(ErrorCode::NotDefined, "read error");
    }
}

/// A debug line when the effective window (blocks per burst) changed: a
/// shrink means the client keeps only part of each window (a small receive
/// buffer).
fn log_window_change(sender: &mut Sender) {
    match sender.take_window_change() {
        Some((from, to)) if to < from => debug!(from, to, "effective window shrank"),
        Some((from, to)) => debug!(from, to, "effective window grew"),
        None => {}
    }
}

fn encode_mode(bytes: Vec<u8>, mode: Mode) -> Source {
    match mode {
        Mode::Netascii => {
            let mut wire = Vec::with_capacity(bytes.len());
            netascii::Encoder.encode(&bytes, &mut wire);
            Source::memory(wire)
        }
        _ => Source::memory(bytes),
    }
}
