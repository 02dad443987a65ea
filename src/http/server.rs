//! The HTTP server: listeners, the limits (connections in all and per
//! client address, request header size and count, a deadline for a
//! request's header so a client sending one byte a second is dropped), one
//! hyper HTTP/1.1 connection per task with keep-alive, and shutdown that
//! lets requests in progress finish their current response.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::config::HttpConfig;
use super::handler;
use super::sendfile::{SendfileSpans, SendfileStream};
use crate::tftp::config::ClientFiles;

/// Why the HTTP server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// A listen address could not be bound.
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// No listen address.
    #[error("no address to listen on for HTTP")]
    NoListenAddress,
}

/// hyper's write queue per connection (and its read buffer's limit, never
/// below the request header limit): hyper asks the body for its next chunk
/// once the queue is under this, so a connection holds the chunk being
/// written and at most the next (chunks are at most [`super::body::CHUNK`]),
/// not hyper's default ~400 KiB queue; the next chunk is read while the
/// last 128 KiB of this one go out.
pub const WRITE_QUEUE: usize = 128 << 10;

/// How long shutdown waits for responses in progress.
const DRAIN: Duration = Duration::from_secs(3);

/// A bound HTTP server, ready to run. Binding needs no runtime (it may
/// happen before root is dropped, while the process has one thread); the
/// sockets join the runtime in [`HttpServer::run`].
pub struct HttpServer {
    cfg: Arc<HttpConfig>,
    listeners: Vec<(std::net::TcpListener, SocketAddr)>,
}

impl HttpServer {
    /// Binds every listen address (call before dropping privileges).
    pub fn bind(cfg: HttpConfig) -> Result<Self, HttpError> {
        if cfg.listen.is_empty() {
            return Err(HttpError::NoListenAddress);
        }
        let mut listeners = Vec::new();
        for &addr in &cfg.listen {
            let fail = |source| HttpError::Bind { addr, source };
            let listener = bind_tcp(addr, only_v6(&cfg.listen, addr)).map_err(fail)?;
            let local = listener.local_addr().map_err(fail)?;
            listeners.push((listener, local));
        }
        for &addr in &cfg.also_listen {
            match bind_tcp_freebind(addr).and_then(|l| Ok((l.local_addr()?, l))) {
                Ok((local, listener)) => listeners.push((listener, local)),
                Err(e) => warn!("HTTP not on {addr}: {e} (serving the other addresses)"),
            }
        }
        Ok(Self {
            cfg: Arc::new(cfg),
            listeners,
        })
    }

    /// The same server, serving each client's own files too (`serve`).
    pub fn with_client_files(mut self, files: Arc<dyn ClientFiles>) -> Self {
        let mut cfg = (*self.cfg).clone();
        cfg.client_files = Some(files);
        self.cfg = Arc::new(cfg);
        self
    }

    /// Serves the files inside these files of the root too.
    pub fn with_regions(mut self, regions: Arc<dyn crate::regions::Regions>) -> Self {
        let mut cfg = (*self.cfg).clone();
        cfg.regions = Some(regions);
        self.cfg = Arc::new(cfg);
        self
    }

    /// The addresses bound (ports resolved when 0 was asked).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|(_, a)| *a).collect()
    }

    /// Serves until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        let tracker = TaskTracker::new();
        let limits = Arc::new(Limits::new(&self.cfg));
        for (listener, local) in self.listeners {
            let listener = match TcpListener::from_std(listener) {
                Ok(l) => l,
                Err(e) => {
                    warn!("HTTP on {local} cannot start: {e}");
                    continue;
                }
            };
            info!(
                "HTTP listening on http://{local}/, serving {}",
                self.cfg.root.root.display()
            );
            let accept = Accept {
                cfg: Arc::clone(&self.cfg),
                limits: Arc::clone(&limits),
                tracker: tracker.clone(),
                cancel: cancel.clone(),
            };
            tracker.spawn(accept.run(listener));
        }
        cancel.cancelled().await;
        tracker.close();
        if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
            warn!("some HTTP responses did not end within {DRAIN:?} of shutdown");
        }
    }
}

/// An IPv6 socket takes IPv4 too only when it is the wildcard and no IPv4
/// address of `listen` has its port.
fn only_v6(listen: &[SocketAddr], addr: SocketAddr) -> bool {
    let v4_too = listen
        .iter()
        .any(|a| a.is_ipv4() && a.port() == addr.port());
    !addr.ip().is_unspecified() || v4_too
}

fn bind_tcp(addr: SocketAddr, only_v6: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = tcp_socket(addr)?;
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    listen_on(socket, addr)
}

/// An interface's own address, bound even while it is still tentative
/// (IPv6 duplicate address detection runs for a second or two after a
/// link comes up, as when netboot starts at boot).
fn bind_tcp_freebind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = tcp_socket(addr)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
        socket.set_freebind_v6(true)?;
    } else {
        socket.set_freebind_v4(true)?;
    }
    listen_on(socket, addr)
}

fn tcp_socket(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
}

fn listen_on(socket: socket2::Socket, addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    // TIME_WAIT from a previous run must not block a restart; two servers
    // on one port are still refused (no SO_REUSEPORT).
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Connections in all and per client address.
struct Limits {
    total: usize,
    per_client: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place under the limits, given back on drop.
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.limits.open.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

impl Limits {
    fn new(cfg: &HttpConfig) -> Self {
        Self {
            total: cfg.max_connections.max(1),
            per_client: cfg.max_per_client.max(1),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().ok()?;
        let all: usize = open.values().sum();
        let mine = open.get(&ip).copied().unwrap_or(0);
        if all >= self.total || mine >= self.per_client {
            return None;
        }
        open.insert(ip, mine + 1);
        Some(Slot {
            limits: Arc::clone(self),
            ip,
        })
    }
}

struct Accept {
    cfg: Arc<HttpConfig>,
    limits: Arc<Limits>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Accept {
    async fn run(self, listener: TcpListener) {
        loop {
            let (stream, peer) = tokio::select! {
                () = self.cancel.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        debug!("HTTP accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let Some(slot) = self.limits.admit(peer.ip()) else {
                warn!(%peer, "HTTP connection refused: too many connections");
                continue;
            };
            let cfg = Arc::clone(&self.cfg);
            let cancel = self.cancel.clone();
            self.tracker.spawn(async move {
                serve_connection(cfg, stream, peer, cancel).await;
                drop(slot);
            });
        }
    }
}

async fn serve_connection(
    cfg: Arc<HttpConfig>,
    stream: TcpStream,
    peer: SocketAddr,
    cancel: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let spans = SendfileSpans::default();
    let service = {
        let (cfg, spans) = (Arc::clone(&cfg), spans.clone());
        service_fn(move |req| {
            let (cfg, spans) = (Arc::clone(&cfg), spans.clone());
            async move { Ok::<_, Infallible>(handler::handle(&cfg, peer, req, Some(spans)).await) }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_timeout)
        .max_headers(cfg.max_headers)
        .max_header_size(cfg.max_header_bytes)
        .max_buf_size(WRITE_QUEUE.max(cfg.max_header_bytes + 1024))
        // GRUB 2.06's HTTP client matches `Content-Length: ` case-sensitively;
        // without it, it reads to the connection's end and cannot load a kernel
        .title_case_headers(true)
        .keep_alive(true)
        .writev(true); // a queue of the body's buffers, never copied: see `sendfile`
    let stream = SendfileStream::new(stream, spans);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                debug!(%peer, "HTTP connection ended: {e}");
            }
        }
        () = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn).await;
        }
    }
}
