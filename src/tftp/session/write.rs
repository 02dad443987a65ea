//! An upload (WRQ): the name placed in the upload directory (the client's
//! profile's, else `--upload-dir`), the upload begun under the root's rules,
//! then the [`Receiver`] driven against the socket: data decoded into the
//! sink, committed (synced, renamed) before the last ACK.

use std::time::Instant;

use tracing::{debug, info, warn};

use super::super::fs::Upload;
use super::super::options::Negotiated;
use super::super::packet::{ErrorCode, Packet};
use super::super::transfer::{Outcome, Receiver, ReceiverConfig};
use super::report::{log_end, trace_datagram, Progress};
use super::sink::Sink;
use super::{Event, OwnedRequest, Session};

impl Session {
    pub(super) fn run_write(&mut self, request: &OwnedRequest, name: &str) {
        let name = self.upload_name(name);
        let name = name.as_str();
        let negotiated = self.negotiate(request);
        let announced = negotiated.tsize_requested;
        let upload = match self.begin_upload(name, announced) {
            Ok(upload) => upload,
            Err(err) => return self.refuse_fs(&err, name, true),
        };
        let target = upload.target().to_path_buf();
        let mut receiver = self.receiver(request, &negotiated);
        let started = Instant::now();
        let mut progress = self.progress(name, announced, true, started);
        let mut sink = Sink::new(request.mode, upload);
        self.drive_write(&mut receiver, &mut sink, &mut progress);
        let outcome = match receiver.outcome() {
            Some(outcome) => outcome.clone(),
            None if receiver.is_committed() => Outcome::Complete,
            None => Outcome::TimedOut,
        };
        let elapsed = started.elapsed();
        log_end(
            "WRQ",
            request,
            &negotiated,
            &outcome,
            receiver.stats(),
            elapsed,
            announced,
        );
        progress.end(&outcome, receiver.stats(), false);
        if outcome == Outcome::Complete {
            info!(path = %target.display(), "upload stored");
        }
    }

    /// Runs the upload to its end: ACKs sent, data stored and committed,
    /// and what comes back fed in.
    fn drive_write(&mut self, receiver: &mut Receiver, sink: &mut Sink, progress: &mut Progress) {
        let mut buf = vec![0u8; 65536];
        loop {
            self.transmit_acks(receiver);
            if receiver.is_finished() {
                break;
            }
            if store(receiver, sink) {
                continue;
            }
            progress.report(receiver.stats().bytes);
            let event = self.wait(receiver.poll_timeout(), receiver.round_trip(), &mut buf);
            self.on_write_event(receiver, event, &buf);
        }
    }

    /// `name` inside the upload directory: the client's, else the server's.
    fn upload_name(&self, name: &str) -> String {
        let client_dir = self
            .cfg
            .client_files
            .as_ref()
            .and_then(|files| files.upload_dir(self.peer.ip()));
        match client_dir.as_ref().or(self.cfg.upload_dir.as_ref()) {
            Some(dir) => format!("{}/{}", dir.trim_matches('/'), name.trim_start_matches('/')),
            None => name.to_string(),
        }
    }

    /// The upload of `name` begun under the root's rules, keeping as many
    /// versions as the client's profile (else the server) says.
    fn begin_upload(
        &self,
        name: &str,
        announced: Option<u64>,
    ) -> Result<Upload, super::super::fs::FsError> {
        let root = &self.cfg.root;
        let mut upload = root
            .resolve(name.as_bytes())
            .and_then(|path| root.begin_upload(&path, announced))?;
        let client_keep = self
            .cfg
            .client_files
            .as_ref()
            .and_then(|files| files.keep_versions(self.peer.ip()));
        upload.keep_versions(client_keep.unwrap_or(self.cfg.keep_versions));
        Ok(upload)
    }

    /// The machine for an upload, as negotiated.
    fn receiver(&self, request: &OwnedRequest, negotiated: &Negotiated) -> Receiver {
        Receiver::new(ReceiverConfig {
            blksize: negotiated.blksize,
            windowsize: negotiated.windowsize,
            rollover: negotiated.rollover,
            rto: self.rto_bounds(negotiated),
            give_up_after: self.cfg.give_up_after,
            oack: negotiated.needs_oack().then(|| negotiated.oack(None)),
            dally: self.cfg.dally,
            request_len: request.wire_len,
        })
    }

    /// Sends the ACKs (or OACK, ERROR) the receiver has due now.
    fn transmit_acks(&self, receiver: &mut Receiver) {
        let now = Instant::now();
        while let Some(datagram) = receiver.poll_transmit(now) {
            if self.cfg.trace_blocks {
                trace_datagram(&datagram);
            }
            if let Err(e) = self.socket.send_to(&datagram, self.peer) {
                debug!("send failed: {e}");
            }
        }
    }

    /// Feeds what a wait brought (`buf` holds a datagram) to the receiver.
    fn on_write_event(&self, receiver: &mut Receiver, event: Event, buf: &[u8]) {
        match event {
            Event::Datagram(len, from) => {
                let Some(packet) = self.accept(&buf[..len], from) else {
                    return;
                };
                match packet {
                    Packet::Data { block, data } => {
                        self.note_answer();
                        if self.cfg.trace_blocks {
                            debug!(block, bytes = data.len(), "DATA received");
                        }
                        receiver.handle_data(Instant::now(), block, data);
                    }
                    Packet::Error { code, message } => receiver.handle_error(code, &message),
                    _ => receiver.abort(
                        ErrorCode::IllegalOperation,
                        "unexpected packet on a write transfer",
                    ),
                }
            }
            Event::Repeated => receiver.handle_repeated_request(Instant::now()),
            Event::Timeout => receiver.handle_timeout(Instant::now()),
            Event::Cancelled => receiver.abort(ErrorCode::NotDefined, "server shutting down"),
        }
    }
}

/// Moves the receiver's data into the sink, and commits once it is all
/// there; a failed write aborts the receiver. True when the receiver has
/// something new to send (the commit's outcome, an abort) before any wait.
fn store(receiver: &mut Receiver, sink: &mut Sink) -> bool {
    while let Some(data) = receiver.poll_write() {
        sink.push(&data);
    }
    if receiver.needs_commit() {
        let result = sink.commit();
        receiver.commit_done(Instant::now(), result.map_err(|e| e.to_tftp()));
        return true;
    }
    if let Err(err) = sink.flush_if_full() {
        warn!("write failed: {err}");
        let (code, message) = err.to_tftp();
        receiver.abort(code, &message);
        return true;
    }
    false
}
