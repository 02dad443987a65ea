//! The DHCPv6 shell: one UDP socket on port 547 (bound with privileges,
//! before the drop) that joins ff02::1:2 on every served interface; each
//! datagram is decoded, decided by [`Core6`] with our address on the
//! interface it came in on (the link-local source's scope, else the /64 of
//! a client's unicast from its leased address: `links::link_of`), its lease
//! changes written to the v6 journal (one write + `fdatasync`), and only
//! then the reply sent to the client's address, port 546. A tracing span
//! per exchange. PXE firmware is sent an RA of its own just before its
//! reply ([`RouterHint`], `ra::firmware`). The profiles' IPv6 reservations
//! reach the core whenever the lookup is swapped (a reload), as DHCPv4's
//! do. Relayed messages (RELAY-FORW) are not served yet.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use dhcproto::Encodable;

use socket2::{Domain, Protocol, Socket, Type};
use tokio_util::sync::CancellationToken;
use tracing::{info, info_span, warn};

use crate::boot::ProfileLookup;
use crate::dhcp::lease::Secs;
use crate::dhcp::server::LookupSource;
use crate::events::{event::Exchange, Event, Events};
use crate::mac::MacAddr;

use super::decide::{Context6, Core6};
use super::links::Link6;
use super::store::{self, Lease6Store};
use super::Dhcp6Config;
use crate::ra::shell::RouterHint;

/// The server port.
pub const SERVER_PORT: u16 = 547;
/// The client port.
pub const CLIENT_PORT: u16 = 546;
/// All_DHCP_Relay_Agents_and_Servers.
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// Why the DHCPv6 server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum Dhcp6Error {
    #[error("DHCPv6: cannot listen on [::]:{port}: {source}; is another DHCPv6 server running? stop it, or turn DHCPv6 off (`dhcp6: {{enabled: false}}`)")]
    Bind { port: u16, source: std::io::Error },
    #[error("DHCPv6: cannot join ff02::1:2 on {interface}: {source}; check that IPv6 is enabled there (`sysctl net.ipv6.conf.{interface}.disable_ipv6`)")]
    Join {
        interface: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::dhcp::store::StoreError),
}

/// The bound server, not yet running.
pub struct Dhcp6Server {
    socket: std::net::UdpSocket,
    links: Vec<Link6>,
    core: Core6,
    store: Option<Lease6Store>,
    hints: Vec<RouterHint>,
}

impl Dhcp6Server {
    /// PXE firmware on these links is sent an RA of its own before its
    /// reply (`ra::firmware`).
    pub fn with_router_hints(mut self, hints: Vec<RouterHint>) -> Self {
        self.hints = hints;
        self
    }

    /// Binds port `port` (547 but in tests), joins the servers' group on
    /// each link and opens the v6 lease store in `state_dir`.
    pub fn bind(
        cfg: Dhcp6Config,
        links: Vec<Link6>,
        port: u16,
        state_dir: Option<&Path>,
    ) -> Result<Self, Dhcp6Error> {
        let bind_err = |source| Dhcp6Error::Bind { port, source };
        let sock = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).map_err(bind_err)?;
        sock.set_only_v6(true).map_err(bind_err)?;
        sock.set_reuse_address(true).map_err(bind_err)?;
        let any = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
        sock.bind(&any.into()).map_err(bind_err)?;
        sock.set_multicast_loop_v6(false).map_err(bind_err)?;
        for link in &links {
            sock.join_multicast_v6(&ALL_SERVERS, link.index)
                .map_err(|source| Dhcp6Error::Join {
                    interface: link.name.clone(),
                    source,
                })?;
        }
        sock.set_nonblocking(true).map_err(bind_err)?;
        let mut core = Core6::new(cfg);
        let store = match state_dir {
            Some(dir) => {
                let (store, leases) = store::open(dir)?;
                core.restore(&leases);
                Some(store)
            }
            None => None,
        };
        Ok(Self {
            socket: sock.into(),
            links,
            core,
            store,
            hints: Vec::new(),
        })
    }

    /// Serves until `cancel`, reporting each answered exchange to `events`.
    pub async fn run(self, lookup: LookupSource, events: Events, cancel: CancellationToken) {
        let Self {
            socket,
            links,
            core,
            store,
            hints,
        } = self;
        let socket = match tokio::net::UdpSocket::from_std(socket) {
            Ok(s) => s,
            Err(e) => {
                warn!("DHCPv6: cannot serve: {e}");
                return;
            }
        };
        let mut shell = Shell {
            links,
            core,
            store,
            current: None,
        };
        let mut buf = vec![0u8; 2048];
        loop {
            let (len, peer) = tokio::select! {
                _ = cancel.cancelled() => return,
                got = socket.recv_from(&mut buf) => match got {
                    Ok(got) => got,
                    Err(e) => {
                        warn!("DHCPv6: receive failed: {e}");
                        continue;
                    }
                },
            };
            let SocketAddr::V6(peer) = peer else { continue };
            let received = std::time::Instant::now();
            let Some((reply, mut report, firmware)) = shell.exchange(&buf[..len], peer, &lookup)
            else {
                continue;
            };
            if let Some(hint) = hints
                .iter()
                .find(|h| firmware && h.index == peer.scope_id())
            {
                hint.send(*peer.ip());
            }
            let to = SocketAddrV6::new(*peer.ip(), CLIENT_PORT, 0, peer.scope_id());
            match socket.send_to(&reply, to).await {
                Ok(_) => {
                    report.latency = received.elapsed();
                    events.emit(Event::Dhcp(report));
                }
                Err(e) => warn!("DHCPv6: reply to {to} failed: {e}"),
            }
        }
    }
}

/// The decision side of a running server.
struct Shell {
    links: Vec<Link6>,
    core: Core6,
    store: Option<Lease6Store>,
    /// The lookup whose reservations the core holds.
    current: Option<Arc<dyn ProfileLookup>>,
}

impl Shell {
    /// The current profiles; the core's reservations refreshed when they
    /// were swapped.
    fn profiles(&mut self, lookup: &LookupSource) -> Arc<dyn ProfileLookup> {
        let fresh = lookup();
        let same = self
            .current
            .as_ref()
            .is_some_and(|c| std::ptr::addr_eq(Arc::as_ptr(c), Arc::as_ptr(&fresh)));
        if !same {
            self.core.set_profile_reservations(fresh.reservations6());
            self.current = Some(Arc::clone(&fresh));
        }
        fresh
    }

    /// One datagram: decode, decide, persist; the reply's bytes when one
    /// may leave, and whether the client is PXE firmware.
    fn exchange(
        &mut self,
        data: &[u8],
        peer: SocketAddrV6,
        lookup: &LookupSource,
    ) -> Option<(Vec<u8>, Exchange, bool)> {
        let link = super::links::link_of(&self.links, &peer)?;
        let req = match super::wire::decode(data) {
            Ok(m) => m,
            Err(e) => {
                info!(peer = %peer.ip(), "DHCPv6: undecodable datagram ({e}); ignored");
                return None;
            }
        };
        let span =
            info_span!("dhcp6", interface = %link.name, peer = %peer.ip(), xid = req.xid_num());
        let _entered = span.enter();
        let ctx = Context6 {
            peer: *peer.ip(),
            ours: link.ours,
        };
        let profiles = self.profiles(lookup);
        let d = self.core.handle(&req, &ctx, profiles.as_ref(), unix_now());
        let profile = d.profile.as_deref().unwrap_or("-");
        info!(message = ?req.msg_type(), profile, "DHCPv6 {}", d.reason);
        if !d.changes.is_empty() {
            if let Some(store) = &mut self.store {
                if let Err(e) = store.append(&d.changes) {
                    warn!("DHCPv6: reply withheld, the lease could not be written: {e}");
                    return None;
                }
            }
        }
        let reply = d.reply?;
        let report = Exchange {
            at: SystemTime::now(),
            mac: super::boot::client_mac(&req, *peer.ip()).unwrap_or(MacAddr([0; 6])),
            message: name(req.msg_type()),
            reply: Some(name(reply.msg_type())),
            address: None,
            reason: format!("DHCPv6 {}", d.reason),
            profile: d.profile,
            latency: std::time::Duration::ZERO,
        };
        let firmware = super::boot::is_pxe_firmware(&req, *peer.ip());
        Some((reply.to_vec().ok()?, report, firmware))
    }
}

/// A message type as the log and the status page spell it: `SOLICIT`,
/// `INFORMATION-REQUEST`.
fn name(kind: dhcproto::v6::MessageType) -> String {
    match kind {
        dhcproto::v6::MessageType::InformationRequest => "INFORMATION-REQUEST".into(),
        other => format!("{other:?}").to_uppercase(),
    }
}

fn unix_now() -> Secs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
