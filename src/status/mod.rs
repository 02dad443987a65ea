//! The status server: a live page, a JSON API and Prometheus metrics on an
//! address of its own (`--status`, `status:`; 127.0.0.1:9090 by default),
//! apart from the boot HTTP server so that it can stay on loopback while
//! boot files are served to the network. Everything it shows comes from the
//! event stream ([`crate::events`]) and the lease view; the page is inside
//! the binary.

pub mod api;
mod cache;
pub mod control;
mod routes;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

pub use api::Sources;

/// Largest body of a request that changes something.
const MAX_BODY: usize = 16 << 10;

/// Connections served at once (a browser holds a few; 50 of them fit).
const MAX_CONNECTIONS: usize = 512;

/// Why the status server cannot start.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot serve the status page on {addr}: {source} (choose another with --status ADDR:PORT)"
)]
pub struct StatusError {
    /// The address.
    pub addr: SocketAddr,
    /// Why.
    pub source: std::io::Error,
}

/// The status server, bound.
pub struct StatusServer {
    listener: std::net::TcpListener,
    local: SocketAddr,
}

impl StatusServer {
    /// Binds `addr` (before privileges are dropped).
    pub fn bind(addr: SocketAddr) -> Result<Self, StatusError> {
        let fail = |source| StatusError { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        let local = listener.local_addr().map_err(fail)?;
        Ok(Self { listener, local })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Serves `sources` until `cancel`.
    pub async fn run(self, sources: Sources, cancel: CancellationToken) {
        let listener = match TcpListener::from_std(self.listener) {
            Ok(l) => l,
            Err(e) => return warn!("status page on {} cannot start: {e}", self.local),
        };
        info!(
            "status page on http://{}/ (metrics at /metrics)",
            self.local
        );
        let sources = Arc::new(Shared {
            sources,
            status: cache::Cached::default(),
        });
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let tracker = TaskTracker::new();
        loop {
            let (stream, peer) = tokio::select! {
                () = cancel.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        debug!("status accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                debug!(%peer, "status connection refused: too many");
                continue;
            };
            let (sources, cancel) = (Arc::clone(&sources), cancel.clone());
            tracker.spawn(async move {
                serve_connection(sources, stream, cancel).await;
                drop(slot);
            });
        }
        tracker.close();
        let _ = tokio::time::timeout(Duration::from_secs(2), tracker.wait()).await;
    }
}

/// What every connection reads: the sources and the shared status document.
struct Shared {
    sources: Sources,
    status: cache::Cached,
}

impl Shared {
    /// The answer to a GET or HEAD.
    fn answer<B>(
        &self,
        req: &hyper::Request<B>,
    ) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
        if req.method() == hyper::Method::GET && req.uri().path() == "/api/status" {
            let doc = self
                .status
                .get(std::time::Instant::now(), || self.sources.status_json());
            return routes::respond(doc, "application/json");
        }
        routes::answer(&self.sources, req)
    }
}

async fn serve_connection(
    sources: Arc<Shared>,
    stream: tokio::net::TcpStream,
    cancel: CancellationToken,
) {
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let sources = Arc::clone(&sources);
        async move {
            if req.method() == hyper::Method::POST || req.method() == hyper::Method::DELETE {
                let (parts, body) = req.into_parts();
                let body = Limited::new(body, MAX_BODY).collect().await;
                let body = body.map(|b| b.to_bytes()).unwrap_or_default();
                let req = hyper::Request::from_parts(parts, ());
                return Ok::<_, Infallible>(routes::change(&sources.sources, &req, &body));
            }
            Ok::<_, Infallible>(sources.answer(&req))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_headers(64)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = cancel.cancelled() => conn.as_mut().graceful_shutdown(),
    }
}
