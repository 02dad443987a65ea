//! One transfer, end to end: resolve the request, negotiate options, then
//! run the sans-IO [`Sender`] or [`Receiver`] against a socket of its own,
//! the file, and the clock. Logs one line when the transfer ends (and
//! progress for long ones).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::config::TftpConfig;
use super::fs::{FsError, Upload};
use super::netascii;
use super::options::{negotiate, Negotiated};
use super::packet::{ErrorCode, Mode, Packet};
use super::remap::Remapped;
use super::source::Source;
use super::transfer::{
    Batch, Outcome, Receiver, ReceiverConfig, Sender, SenderConfig, TransferStats,
};
use super::udp::{self, TransferSocket};

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
}

/// Bytes read or written in one chunk.
const CHUNK_BYTES: usize = 256 << 10;
/// Transfers shorter than this log no progress lines.
const PROGRESS_AFTER: Duration = Duration::from_secs(3);

enum Event {
    Datagram(usize, SocketAddr),
    /// A receive error (an ICMP error from the client): the timer decides.
    Nothing,
    Timeout,
    Cancelled,
}

impl Session {
    /// Runs the transfer to its end.
    pub async fn run(mut self, request: OwnedRequest) {
        if request.mode == Mode::Mail {
            self.refuse(ErrorCode::IllegalOperation, "mail mode is not supported")
                .await;
            return;
        }
        let name = match self
            .cfg
            .remap
            .apply(&request.name(), request.write, self.peer.ip())
        {
            Remapped::Name(name) => name,
            Remapped::Refused => {
                info!("refused by the map file");
                self.refuse(ErrorCode::AccessViolation, "Access violation")
                    .await;
                return;
            }
        };
        if request.write {
            self.run_write(&request, &name).await;
        } else {
            self.run_read(&request, &name).await;
        }
    }

    async fn refuse(&self, code: ErrorCode, message: &str) {
        let packet = Packet::Error {
            code,
            message: message.to_string(),
        }
        .to_bytes();
        if let Err(e) = self.socket.send_to(&packet, self.peer).await {
            debug!("could not send ERROR: {e}");
        }
    }

    async fn refuse_fs(&self, err: &FsError) {
        let (code, message) = err.to_tftp();
        match err {
            FsError::NotFound => info!("file not found"),
            FsError::Io(e) => warn!("refused: {e}"),
            other => info!("refused: {other}"),
        }
        self.refuse(code, &message).await;
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

    async fn open_source(&self, request: &OwnedRequest, name: &str) -> Result<Source, FsError> {
        let name = match &self.cfg.client_files {
            Some(files) => files
                .rewrite(self.peer.ip(), name)
                .unwrap_or_else(|| name.to_string()),
            None => name.to_string(),
        };
        if let Some(files) = &self.cfg.client_files {
            let relative = super::fs::relative_path(name.as_bytes())?;
            let key = relative.to_string_lossy();
            if let Some(rendered) = files.file(self.peer.ip(), &key) {
                let bytes = rendered.map_err(|e| FsError::Io(std::io::Error::other(e)))?;
                return Ok(encode_mode(bytes, request.mode));
            }
        }
        let root = self.cfg.root.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let path = root.resolve(name.as_bytes())?;
            root.open_read(&path)
        })
        .await
        .map_err(|e| FsError::Io(std::io::Error::other(e)))??;
        let (file, size) = opened;
        match request.mode {
            Mode::Netascii => Ok(Source::netascii(file, size).await?),
            _ => Ok(Source::file(file, size, CHUNK_BYTES)),
        }
    }

    async fn run_read(&mut self, request: &OwnedRequest, name: &str) {
        let mut source = match self.open_source(request, name).await {
            Ok(source) => source,
            Err(err) => return self.refuse_fs(&err).await,
        };
        let negotiated = self.negotiate(request);
        let size = source.len();
        let mut sender = Sender::new(SenderConfig {
            blksize: negotiated.blksize,
            windowsize: negotiated.windowsize,
            rollover: negotiated.rollover,
            rto: self.rto_bounds(&negotiated),
            give_up_after: self.cfg.give_up_after,
            oack: negotiated.needs_oack().then(|| negotiated.oack(Some(size))),
        });
        let started = Instant::now();
        let mut progress = Progress::new(Some(size), started);
        let mut batch = Batch::new(self.socket.max_segments().min(64), 64 << 10);
        let mut block = Vec::with_capacity(usize::from(negotiated.blksize));
        let mut buf = vec![0u8; 65536];
        loop {
            while sender.wants_block() {
                match source.next_block(sender.blksize(), &mut block).await {
                    Ok(()) => sender.push_block(&block),
                    Err(e) => {
                        warn!("read failed: {e}");
                        sender.abort(ErrorCode::NotDefined, "read error");
                    }
                }
            }
            let now = Instant::now();
            while sender.poll_transmit(now, &mut batch) {
                if self.cfg.trace_blocks {
                    debug!(datagrams = batch.len(), bytes = batch.bytes().len(), "send");
                }
                if let Err(e) = self.socket.send_batch(&batch, self.peer).await {
                    warn!("send failed: {e}");
                    sender.abort(ErrorCode::NotDefined, "send failed");
                }
            }
            if sender.is_finished() {
                break;
            }
            progress.report(sender.stats().bytes);
            match self.wait(sender.poll_timeout(), &mut buf).await {
                Event::Datagram(len, from) => {
                    let Some(packet) = self.accept(&buf[..len], from).await else {
                        continue;
                    };
                    match packet {
                        Packet::Ack { block } => {
                            if self.cfg.trace_blocks {
                                debug!(block, "ack");
                            }
                            sender.handle_ack(Instant::now(), block);
                        }
                        Packet::Error { code, message } => sender.handle_error(code, &message),
                        _ => sender.handle_illegal("unexpected packet on a read transfer"),
                    }
                }
                Event::Nothing => {}
                Event::Timeout => sender.handle_timeout(Instant::now()),
                Event::Cancelled => sender.abort(ErrorCode::NotDefined, "server shutting down"),
            }
        }
        let outcome = sender.outcome().cloned().unwrap_or(Outcome::TimedOut);
        log_end(
            "RRQ",
            request,
            &negotiated,
            &outcome,
            sender.stats(),
            started.elapsed(),
            Some(size),
        );
    }

    async fn run_write(&mut self, request: &OwnedRequest, name: &str) {
        let name = match &self.cfg.upload_dir {
            Some(dir) => format!("{}/{}", dir.trim_matches('/'), name.trim_start_matches('/')),
            None => name.to_string(),
        };
        let name = name.as_str();
        let negotiated = self.negotiate(request);
        let root = self.cfg.root.clone();
        let name_owned = name.to_string();
        let announced = negotiated.tsize_requested;
        let begun = tokio::task::spawn_blocking(move || {
            let path = root.resolve(name_owned.as_bytes())?;
            root.begin_upload(&path, announced)
        })
        .await
        .map_err(|e| FsError::Io(std::io::Error::other(e)));
        let upload = match begun {
            Ok(Ok(upload)) => upload,
            Ok(Err(err)) | Err(err) => return self.refuse_fs(&err).await,
        };
        let target = upload.target().to_path_buf();
        let mut receiver = Receiver::new(ReceiverConfig {
            blksize: negotiated.blksize,
            windowsize: negotiated.windowsize,
            rollover: negotiated.rollover,
            rto: self.rto_bounds(&negotiated),
            give_up_after: self.cfg.give_up_after,
            oack: negotiated.needs_oack().then(|| negotiated.oack(None)),
            dally: self.cfg.dally,
        });
        let started = Instant::now();
        let mut progress = Progress::new(announced, started);
        let mut sink = Sink::new(request.mode, upload);
        let mut buf = vec![0u8; 65536];
        loop {
            let now = Instant::now();
            while let Some(datagram) = receiver.poll_transmit(now) {
                if let Err(e) = self.socket.send_to(&datagram, self.peer).await {
                    debug!("send failed: {e}");
                }
            }
            if receiver.is_finished() {
                break;
            }
            while let Some(data) = receiver.poll_write() {
                sink.push(&data);
            }
            let result = if receiver.needs_commit() {
                let result = sink.commit().await;
                receiver.commit_done(Instant::now(), result.map_err(|e| e.to_tftp()));
                continue;
            } else {
                sink.flush_if_full().await
            };
            if let Err(err) = result {
                warn!("write failed: {err}");
                let (code, message) = err.to_tftp();
                receiver.abort(code, &message);
                continue;
            }
            progress.report(receiver.stats().bytes);
            match self.wait(receiver.poll_timeout(), &mut buf).await {
                Event::Datagram(len, from) => {
                    let Some(packet) = self.accept(&buf[..len], from).await else {
                        continue;
                    };
                    match packet {
                        Packet::Data { block, data } => {
                            if self.cfg.trace_blocks {
                                debug!(block, len = data.len(), "data");
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
                Event::Nothing => {}
                Event::Timeout => receiver.handle_timeout(Instant::now()),
                Event::Cancelled => receiver.abort(ErrorCode::NotDefined, "server shutting down"),
            }
        }
        let outcome = match receiver.outcome() {
            Some(outcome) => outcome.clone(),
            None if receiver.is_committed() => Outcome::Complete,
            None => Outcome::TimedOut,
        };
        log_end(
            "WRQ",
            request,
            &negotiated,
            &outcome,
            receiver.stats(),
            started.elapsed(),
            announced,
        );
        if outcome == Outcome::Complete {
            info!(path = %target.display(), "upload stored");
        }
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

    /// Waits for a datagram, the deadline, or shutdown.
    async fn wait(&self, deadline: Option<Instant>, buf: &mut [u8]) -> Event {
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = self.socket.socket().recv_from(buf) => match received {
                Ok((len, from)) => Event::Datagram(len, from),
                Err(e) => {
                    debug!("receive error: {e}");
                    Event::Nothing
                }
            },
            () = sleep => Event::Timeout,
            () = self.cancel.cancelled() => Event::Cancelled,
        }
    }

    /// Parses a datagram from the peer. One from another address or port is
    /// answered with ERROR 5 and otherwise ignored (RFC 1350).
    async fn accept<'b>(&self, datagram: &'b [u8], from: SocketAddr) -> Option<Packet<'b>> {
        if from != self.peer {
            if from != self.local {
                debug!(%from, "packet from an unknown transfer ID");
                let error = Packet::Error {
                    code: ErrorCode::UnknownTid,
                    message: "Unknown transfer ID".into(),
                }
                .to_bytes();
                let _ = self.socket.send_to(&error, from).await;
            }
            return None;
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

/// Received bytes on their way to the upload file: decoded from netascii
/// when needed, and written in large chunks on the blocking pool.
struct Sink {
    upload: Option<Upload>,
    decoder: Option<netascii::Decoder>,
    pending: Vec<u8>,
}

impl Sink {
    fn new(mode: Mode, upload: Upload) -> Self {
        Self {
            upload: Some(upload),
            decoder: (mode == Mode::Netascii).then(netascii::Decoder::default),
            pending: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn push(&mut self, data: &[u8]) {
        match &mut self.decoder {
            Some(decoder) => decoder.decode(data, &mut self.pending),
            None => self.pending.extend_from_slice(data),
        }
    }

    async fn flush_if_full(&mut self) -> Result<(), FsError> {
        if self.pending.len() >= CHUNK_BYTES {
            self.flush(false).await?;
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), FsError> {
        if let Some(decoder) = &mut self.decoder {
            decoder.finish(&mut self.pending);
        }
        self.flush(true).await
    }

    /// Writes what is pending (and commits) on the blocking pool. After a
    /// failure or a commit the upload is gone: dropping it removed the
    /// temporary file, or it is in place.
    async fn flush(&mut self, commit: bool) -> Result<(), FsError> {
        let mut upload = self
            .upload
            .take()
            .ok_or_else(|| FsError::Access("upload already closed".into()))?;
        let data = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_BYTES));
        let (upload, result) = tokio::task::spawn_blocking(move || {
            let result = upload.write(&data).and_then(|()| {
                if commit {
                    upload.commit().map(|_| ())
                } else {
                    Ok(())
                }
            });
            (upload, result)
        })
        .await
        .map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        if result.is_ok() && !commit {
            self.upload = Some(upload);
        }
        result
    }
}

/// Progress lines for long transfers: every 10 % once past a few seconds.
struct Progress {
    total: Option<u64>,
    started: Instant,
    next_tenth: u64,
}

impl Progress {
    fn new(total: Option<u64>, started: Instant) -> Self {
        Self {
            total: total.filter(|t| *t > 0),
            started,
            next_tenth: 1,
        }
    }

    fn report(&mut self, bytes: u64) {
        let Some(total) = self.total else { return };
        if self.next_tenth > 9 || bytes < total / 10 * self.next_tenth {
            return;
        }
        let elapsed = self.started.elapsed();
        let tenth = (bytes.saturating_mul(10) / total).min(9);
        if elapsed >= PROGRESS_AFTER {
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

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64().max(1e-9)
}

fn log_end(
    op: &str,
    request: &OwnedRequest,
    negotiated: &Negotiated,
    outcome: &Outcome,
    stats: &TransferStats,
    elapsed: Duration,
    size: Option<u64>,
) {
    let options = negotiated
        .accepted
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let rate = format!("{:.1}", mib_per_s(stats.bytes, elapsed));
    let ms = elapsed.as_millis() as u64;
    match outcome {
        Outcome::Complete => info!(
            op, mode = %request.mode, options, bytes = stats.bytes, ms, mib_per_s = rate,
            retransmitted = stats.retransmitted, timeouts = stats.timeouts,
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
            "transfer timed out"
        ),
    }
}
