//! The HTTP server's validated configuration, built by `netboot http` from
//! its flags or by `netboot serve` from its plan, shared read-only by every
//! connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::events::Events;
use crate::regions::Regions;
use crate::tftp::config::ClientFiles;
use crate::tftp::fs::RootPolicy;

/// Default port of `netboot http` and of `serve` when port 80 is not ours.
pub const DEFAULT_PORT: u16 = 8080;

/// Everything the HTTP server needs.
#[derive(Clone)]
pub struct HttpConfig {
    /// Addresses to listen on (each must be bound, or the server fails).
    pub listen: Vec<SocketAddr>,
    /// Addresses to listen on as well when they can be bound (`serve`: the
    /// served interfaces' IPv6 addresses); one that cannot is a warning.
    pub also_listen: Vec<SocketAddr>,
    /// The served tree, confined as TFTP's `--secure` confines it.
    pub root: RootPolicy,
    /// Per-client rendered files and path rewrites (`serve` only).
    pub client_files: Option<Arc<dyn ClientFiles>>,
    /// Files inside files of the root (the image catalogue's ISOs).
    pub regions: Option<Arc<dyn Regions>>,
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_per_client: usize,
    /// A request's header must arrive within this (slow clients are cut).
    pub header_timeout: Duration,
    /// Largest request header, request line included.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
    /// Where transfers are reported.
    pub events: Events,
}

impl HttpConfig {
    /// Serving `root` on `listen` with the default limits.
    pub fn new(listen: Vec<SocketAddr>, root: RootPolicy) -> Self {
        Self {
            listen,
            also_listen: Vec::new(),
            root,
            client_files: None,
            regions: None,
            max_connections: 1024,
            max_per_client: 64,
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 16 << 10,
            max_headers: 64,
            events: Events::default(),
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("listen", &self.listen)
            .field("also_listen", &self.also_listen)
            .field("root", &self.root.root)
            .field("max_connections", &self.max_connections)
            .field("max_per_client", &self.max_per_client)
            .finish_non_exhaustive()
    }
}
