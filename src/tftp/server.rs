//! The TFTP listener: receives requests on the well-known port, admits them
//! under the server's limits (the rules are [`super::admission`]'s: a request
//! over a limit is held, never refused, and starts when a slot frees), and
//! starts one transfer with its own socket (a new transfer ID) and its own
//! thread (see [`super::session`]) per request.
//! A request repeated (the same datagram) from the same address and port
//! while its transfer runs goes to that transfer (which answers it only while
//! the client has not yet proven its address), never to a second one.
//! Shutdown cancels every transfer and waits a bounded time for them to send
//! their final ERROR.

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, info_span, warn};

use super::admission::{Client, Started};
use super::config::TftpConfig;
use super::packet::{error_within, ErrorCode, Packet, ParseError};
use super::session::{OwnedRequest, Session};
use super::udp::{self, TransferSocket};

mod admit;
use admit::{Admission, Admit, Pending, Ticket};

/// Errors that stop the TFTP server.
#[derive(Debug, thiserror::Error)]
pub enum TftpError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Another server already listens there.
    #[error(
        "cannot listen on {addr}: another TFTP server (tftpd-hpa, dnsmasq, another netboot) \
         already serves that port; stop it, or listen elsewhere (--address)"
    )]
    InUse {
        /// The address.
        addr: SocketAddr,
    },
    /// No listen address was given.
    #[error("no address to listen on")]
    NoListenAddress,
}

/// A bound TFTP server, ready to run.
pub struct TftpServer {
    cfg: Arc<TftpConfig>,
    /// Bound but not yet on the runtime: binding needs no runtime, so it
    /// happens before privileges are dropped and the runtime starts.
    listeners: Vec<(std::net::UdpSocket, SocketAddr)>,
}

/// How long shutdown waits for transfers to end.
const DRAIN: Duration = Duration::from_secs(3);

impl TftpServer {
    /// Binds every listen address (no runtime needed). Call before dropping
    /// privileges.
    pub fn bind(cfg: TftpConfig) -> Result<Self, TftpError> {
        if cfg.listen.is_empty() {
            return Err(TftpError::NoListenAddress);
        }
        let mut listeners = Vec::new();
        for &addr in &cfg.listen {
            // `[::]` also takes IPv4 unless -6 asked for IPv6 alone, or
            // `0.0.0.0` on the same port is listed as well.
            let ipv4_listed = cfg
                .listen
                .iter()
                .any(|a| a.is_ipv4() && a.ip().is_unspecified() && a.port() == addr.port());
            let only_v6 = cfg.ipv6_only || !addr.ip().is_unspecified() || ipv4_listed;
            // No SO_REUSEADDR: a port another server (tftpd-hpa, dnsmasq, a
            // second netboot) already serves is an error, not shared.
            let socket = udp::bind_with(addr, only_v6).map_err(|source| {
                if source.kind() == std::io::ErrorKind::AddrInUse {
                    TftpError::InUse { addr }
                } else {
                    TftpError::Bind { addr, source }
                }
            })?;
            let local = socket
                .local_addr()
                .map_err(|source| TftpError::Bind { addr, source })?;
            listeners.push((socket, local));
        }
        Ok(Self {
            cfg: Arc::new(cfg),
            listeners,
        })
    }

    /// The addresses actually bound (ports resolved when 0 was asked).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|(_, a)| *a).collect()
    }

    /// Serves until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        // No transfer runs yet: temporary files a crash left are removed
        // before the first request.
        let root = self.cfg.root.root.clone();
        let swept = tokio::task::spawn_blocking(move || super::stale::sweep_and_log(&root));
        if let Err(e) = swept.await {
            warn!("looking for stale temporary upload files failed: {e}");
        }
        let (to_start, mut held_starts) = mpsc::unbounded_channel();
        let shared = Arc::new(Admission::new(&self.cfg, to_start));
        let tracker = TaskTracker::new();
        let mut listeners = Vec::new();
        for (socket, local) in self.listeners {
            let socket = match UdpSocket::from_std(socket) {
                Ok(s) => s,
                Err(e) => {
                    error!("cannot serve TFTP on {local}: {e}");
                    continue;
                }
            };
            let family = match local {
                SocketAddr::V6(_) if local.ip().is_unspecified() && !self.cfg.ipv6_only => {
                    " (IPv6 and IPv4)"
                }
                SocketAddr::V6(_) => " (IPv6 only)",
                SocketAddr::V4(_) => "",
            };
            info!(
                "TFTP listening on {local}, serving {}{family}",
                self.cfg.root.root.display()
            );
            let listener = Arc::new(Listener {
                cfg: Arc::clone(&self.cfg),
                socket,
                local,
                // Its place in `listeners`, where held requests find it.
                index: listeners.len(),
                admission: Arc::clone(&shared),
                tracker: tracker.clone(),
                cancel: cancel.clone(),
            });
            tracker.spawn(Arc::clone(&listener).run());
            listeners.push(listener);
        }
        // Held requests start here when a transfer's end frees a slot.
        let stop = cancel.clone();
        tracker.spawn(async move {
            loop {
                let started = tokio::select! {
                    () = stop.cancelled() => return,
                    started = held_starts.recv() => started,
                };
                let Some(started) = started else { return };
                if let Some(listener) = listeners.get(started.item.listener) {
                    listener.start_held(started).await;
                }
            }
        });
        cancel.cancelled().await;
        tracker.close();
        if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
            warn!("some transfers did not end within {DRAIN:?} of shutdown");
        }
    }
}

struct Listener {
    cfg: Arc<TftpConfig>,
    socket: UdpSocket,
    local: SocketAddr,
    /// Its place among the server's listeners.
    index: usize,
    admission: Arc<Admission>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Listener {
    async fn run(self: Arc<Self>) {
        let mut buf = vec![0u8; 65536];
        loop {
            let got = tokio::select! {
                () = self.cancel.cancelled() => return,
                received = udp::recv_stamped(&self.socket, &mut buf) => match received {
                    Ok(got) => got,
                    Err(e) => {
                        debug!("listener receive error: {e}");
                        continue;
                    }
                },
            };
            self.handle(&buf[..got.len], got.from, got.received).await;
        }
    }

    /// A datagram to the well-known port, which the kernel took in at
    /// `received` (if it said).
    async fn handle(
        self: &Arc<Self>,
        datagram: &[u8],
        peer: SocketAddr,
        received: Option<SystemTime>,
    ) {
        let request = match Packet::parse(datagram) {
            Ok(Packet::Rrq(r)) => owned(r, false, datagram.len()),
            Ok(Packet::Wrq(r)) => owned(r, true, datagram.len()),
            Ok(other) => {
                debug!(%peer, opcode = ?other.opcode(), "ignored a non-request on the listen port");
                return;
            }
            Err(e) => return self.malformed(datagram, peer, e).await,
        };
        let pending = Pending {
            listener: self.index,
            request,
        };
        match self
            .admission
            .admit(Client::new(peer, datagram), pending, received)
        {
            Admit::Yes(pending, ticket, repeats) => {
                let seed = datagram.len() as u64;
                self.start(pending.request, peer, (ticket, repeats), seed)
                    .await
            }
            Admit::Repeat => debug!(%peer, "repeated request, passed to its transfer or held"),
            Admit::Late => debug!(%peer, "late copy of a request already served: dropped"),
            Admit::Dropped => {
                debug!(%peer, "too many requests held: dropped, the client will ask again")
            }
            Admit::Held(evicted) => {
                debug!(%peer, "limits reached: request held until a transfer ends");
                if let Some(evicted) = evicted {
                    debug!(peer = %evicted, "held request dropped to make room for another address");
                }
            }
        }
    }

    /// Starts a request that was held.
    async fn start_held(self: &Arc<Self>, started: Started<Pending>) {
        let Started {
            client,
            item,
            waited,
        } = started;
        let peer = client.peer;
        debug!(%peer, ?waited, "held request starts");
        let claim = self.admission.claim_started(client);
        let seed = item.request.wire_len as u64;
        self.start(item.request, peer, claim, seed).await;
    }

    /// Refuses a request with an ERROR no larger than the request (its
    /// source may be spoofed).
    async fn refuse(&self, peer: SocketAddr, request: &OwnedRequest, why: &str) {
        warn!(%peer, file = %request.name(), "refused: {why}");
        if let Some(error) = error_within(ErrorCode::NotDefined, why, request.wire_len) {
            let _ = self.socket.send_to(&error, peer).await;
        }
    }

    async fn start(
        &self,
        request: OwnedRequest,
        peer: SocketAddr,
        admitted: (Ticket, mpsc::Receiver<()>),
        len: u64,
    ) {
        let (ticket, repeats) = admitted;
        let seed = u64::from(peer.port()) ^ len.rotate_left(17);
        let socket = match udp::bind_transfer(self.local, self.cfg.port_range, seed) {
            Ok(socket) => TransferSocket::new(socket),
            Err(e) => {
                warn!(%peer, "no socket for the transfer: {e}");
                return self.refuse(peer, &request, "server out of ports").await;
            }
        };
        let span = info_span!(
            "tftp",
            peer = %peer,
            op = if request.write { "WRQ" } else { "RRQ" },
            file = %request.name()
        );
        debug!(parent: &span, mode = %request.mode, options = ?request.options, "request");
        let session = Session {
            cfg: Arc::clone(&self.cfg),
            socket,
            peer,
            local: self.local,
            cancel: self.cancel.child_token(),
            repeats,
            first_reply_limit: request.wire_len,
            answered: Cell::new(None),
        };
        // Tracked like a task, so shutdown waits for the thread too.
        let token = self.tracker.token();
        let spawned = std::thread::Builder::new()
            .name("tftp-transfer".into())
            .spawn(move || {
                let _entered = span.entered();
                let answered = session.run(request);
                ticket.end(answered);
                drop(token);
            });
        if let Err(e) = spawned {
            warn!(%peer, "cannot start a thread for the transfer: {e}");
        }
    }

    /// A request we cannot parse gets ERROR 4, but never a reply larger than
    /// the request (a spoofed source must not gain an amplifier).
    async fn malformed(&self, datagram: &[u8], peer: SocketAddr, err: ParseError) {
        debug!(%peer, "malformed packet: {err}");
        let is_request = matches!(datagram.get(..2), Some([0, 1]) | Some([0, 2]));
        if !is_request {
            return;
        }
        let reply = error_within(
            ErrorCode::IllegalOperation,
            &err.to_string(),
            datagram.len(),
        );
        if let Some(reply) = reply {
            let _ = self.socket.send_to(&reply, peer).await;
        }
    }
}

fn owned(request: super::packet::Request<'_>, write: bool, wire_len: usize) -> OwnedRequest {
    OwnedRequest {
        filename: request.filename.to_vec(),
        mode: request.mode,
        options: request
            .options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        write,
        wire_len,
    }
}
