//! The RA shell: one raw ICMPv6 socket per served interface (opened with
//! privileges; CAP_NET_RAW is kept), a thread each that listens for other
//! routers' RAs and for solicitations and sends netboot's RA to ff02::1
//! when the [`Advertiser`] says so. Hop limit 255 on everything sent.
//! [`RouterHint`] (a clone of the socket) sends PXE firmware its own RA.

use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::advertiser::{Advertiser, Timing};
use super::wire::{self, Advert, Icmp6};

/// All nodes.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All routers (where solicitations go).
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// Longest sleep, so cancellation is seen promptly.
const TICK: Duration = Duration::from_millis(250);

/// One interface ready to advertise on.
pub struct RaLink {
    name: String,
    index: u32,
    socket: Socket,
    advert: Advert,
    /// Set once another router's RA was heard (shared with the hints).
    silenced: Arc<AtomicBool>,
}

/// Sends one PXE firmware the link's RA with netboot as its default router
/// ([`super::firmware`]), unicast, unless another router advertises on
/// the link. A clone of the link's raw socket, used by the DHCPv6 server.
pub struct RouterHint {
    pub index: u32,
    socket: Socket,
    advert: Advert,
    silenced: Arc<AtomicBool>,
}

impl RouterHint {
    /// Sends the RA to `to` (a link-local address on this link).
    pub fn send(&self, to: Ipv6Addr) {
        if self.silenced.load(Ordering::Relaxed) {
            return;
        }
        let addr = SockAddr::from(SocketAddrV6::new(to, 0, 0, self.index));
        match self.socket.send_to(&wire::build(&self.advert), &addr) {
            Ok(_) => tracing::debug!(peer = %to, "router advertisement for PXE firmware sent"),
            Err(e) => warn!(peer = %to, "router advertisement to {to} failed: {e}"),
        }
    }
}

impl RaLink {
    /// Opens the raw socket on interface `name` (index `index`) that will
    /// send `advert`.
    pub fn open(name: &str, index: u32, advert: Advert) -> std::io::Result<Self> {
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        socket.bind_device(Some(name.as_bytes()))?;
        socket.set_multicast_hops_v6(255)?;
        socket.set_unicast_hops_v6(255)?;
        socket.set_multicast_loop_v6(false)?;
        socket.join_multicast_v6(&ALL_ROUTERS, index)?;
        socket.set_read_timeout(Some(TICK))?;
        Ok(Self {
            name: name.to_string(),
            index,
            socket,
            advert,
            silenced: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The hint the DHCPv6 server sends PXE firmware on this link.
    pub fn hint(&self) -> std::io::Result<RouterHint> {
        Ok(RouterHint {
            index: self.index,
            socket: self.socket.try_clone()?,
            advert: super::firmware::advert_for_firmware(&self.advert),
            silenced: Arc::clone(&self.silenced),
        })
    }

    /// Runs on a thread of its own until `cancel`.
    pub fn spawn(
        self,
        timing: Timing,
        cancel: CancellationToken,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(format!("ra-{}", self.name))
            .spawn(move || self.run(timing, &cancel))
    }

    fn run(self, timing: Timing, cancel: &CancellationToken) {
        let seed = u64::from(std::process::id()) << 32
            ^ u64::from(self.index)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        let mut adv = Advertiser::new(Instant::now(), timing, seed);
        info!(interface = %self.name, "router advertisements: listening {:?} for other routers on {}", timing.listen, self.name);
        let mut buf = [0u8; 1500];
        while !cancel.is_cancelled() {
            let now = Instant::now();
            let wait = adv.next_wake().map_or(TICK, |w| {
                w.saturating_duration_since(now)
                    .clamp(Duration::from_millis(1), TICK)
            });
            let _ = self.socket.set_read_timeout(Some(wait));
            if let Ok((len, from)) = nix::sys::socket::recvfrom::<nix::sys::socket::SockaddrIn6>(
                self.socket.as_raw_fd(),
                &mut buf,
            ) {
                let from = from.map(|a| a.ip());
                self.heard(&mut adv, &buf[..len], from);
            }
            if adv.poll(Instant::now()) {
                self.send();
            }
        }
    }

    fn heard(&self, adv: &mut Advertiser, bytes: &[u8], from: Option<Ipv6Addr>) {
        match wire::parse(bytes) {
            Some(Icmp6::Advertisement(_)) if adv.heard_advert() => {
                self.silenced.store(true, Ordering::Relaxed);
                let from = from.map_or_else(|| "?".to_string(), |a| a.to_string());
                info!(interface = %self.name, router = %from, "another router ({from}) advertises on {}: netboot sends no router advertisements there", self.name);
            }
            Some(Icmp6::Solicitation) => adv.heard_solicitation(Instant::now()),
            _ => {}
        }
    }

    fn send(&self) {
        let to = SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, self.index));
        match self.socket.send_to(&wire::build(&self.advert), &to) {
            Ok(_) => tracing::debug!(interface = %self.name, "router advertisement sent"),
            Err(e) => {
                warn!(interface = %self.name, "router advertisement on {} failed: {e}", self.name)
            }
        }
    }
}
