//! The sockets of the served interfaces: a UDP listener per interface and
//! port (`SO_BINDTODEVICE`), and per interface its [`Link`]: the packet
//! sockets for unicast replies ([`FrameSender`]) and ARP probes
//! ([`ArpProbes`]). Each is opened once at start; one that cannot be opened
//! (no CAP_NET_RAW, not Ethernet) is logged once at info and its job done the
//! fallback way (broadcast replies, ping probes).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::task::Poll;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tracing::info;

use crate::autoaddr::link::link_info;
use crate::dhcp::arp_probe::ArpProbes;
use crate::dhcp::config::{DhcpConfig, Mode};
use crate::dhcp::reply::Port;
use crate::dhcp::server::DhcpError;
use crate::dhcp::unicast::FrameSender;

/// One UDP socket the server receives on.
pub(crate) struct Listener {
    pub sock: Arc<UdpSocket>,
    pub port: Port,
    /// Our address on the interface: what requests arriving here are served as.
    pub server_ip: Ipv4Addr,
    /// The interface below it, when one is configured.
    pub link: Option<Arc<Link>>,
}

/// One served interface below IP.
pub(crate) struct Link {
    /// The interface name.
    pub name: String,
    /// Where unicast frames come from: our address there, the server port.
    pub source: SocketAddrV4,
    /// Unicast replies to clients without an address; `None`: broadcast.
    pub frames: Option<FrameSender>,
    /// ARP probes of on-link addresses; `None`: ping.
    pub arp: Option<ArpProbes>,
}

impl Link {
    /// Opens what it can on interface `name`, logging what it cannot.
    fn open(name: &str, source: SocketAddrV4) -> Self {
        let (frames, arp) = match link_info(name) {
            Ok(l) => {
                let frames = FrameSender::open(l.index).map_err(|e| {
                    info!(interface = name, error = %e, "cannot open a packet socket for unicast replies (it needs CAP_NET_RAW): replies to clients without an address are broadcast instead");
                });
                let arp = ArpProbes::open(l.index, l.mac).map_err(|e| {
                    info!(interface = name, error = %e, "cannot open an ARP socket for address probes (it needs CAP_NET_RAW): addresses are probed by ping instead, at most {} new a second", crate::dhcp::probing::ICMP_PER_SECOND);
                });
                (frames.ok(), arp.ok())
            }
            Err(e) => {
                info!(interface = name, error = %e, "no link-layer access: replies to clients without an address are broadcast, and addresses are probed by ping");
                (None, None)
            }
        };
        Self {
            name: name.to_string(),
            source,
            frames,
            arp,
        }
    }
}

/// A listener per interface (or one on every interface) and port.
pub(crate) fn open_listeners(config: &DhcpConfig) -> Result<Vec<Listener>, DhcpError> {
    let devices: Vec<(Option<Arc<Link>>, Ipv4Addr)> = if config.interfaces.is_empty() {
        vec![(None, config.server_ip)]
    } else {
        config
            .interfaces
            .iter()
            .map(|i| {
                let source = SocketAddrV4::new(i.server_ip, config.server_port);
                (Some(Arc::new(Link::open(&i.name, source))), i.server_ip)
            })
            .collect()
    };
    let mut ports = vec![(config.server_port, Port::Dhcp)];
    if config.mode == Mode::Proxy {
        ports.push((config.proxy_port, Port::BootServer));
    }
    let mut out = Vec::new();
    for (link, server_ip) in &devices {
        let device = link.as_ref().map(|l| l.name.as_str());
        for &(port, kind) in &ports {
            let addr = SocketAddrV4::new(config.bind_addr, port);
            let what = format!("{addr} on {}", device.unwrap_or("any interface"));
            let sock = bind(addr, device).map_err(|source| DhcpError::Socket { what, source })?;
            out.push(Listener {
                sock: Arc::new(sock),
                port: kind,
                server_ip: *server_ip,
                link: link.clone(),
            });
        }
    }
    Ok(out)
}

fn bind(addr: SocketAddrV4, device: Option<&str>) -> std::io::Result<UdpSocket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    sock.set_broadcast(true)?;
    // bursts of thousands of DISCOVERs must queue, not drop (best effort:
    // the kernel caps it at net.core.rmem_max)
    let _ = sock.set_recv_buffer_size(4 << 20);
    let _ = sock.set_send_buffer_size(4 << 20);
    if let Some(dev) = device {
        sock.bind_device(Some(dev.as_bytes()))?;
    }
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock.into())
}

/// Waits for a datagram on any listener; returns the listener's index.
pub(crate) async fn recv_any(
    listeners: &[Listener],
    buf: &mut [u8],
) -> (usize, std::io::Result<(usize, SocketAddr)>) {
    std::future::poll_fn(|cx| {
        for (i, l) in listeners.iter().enumerate() {
            let mut rb = tokio::io::ReadBuf::new(buf);
            if let Poll::Ready(r) = l.sock.poll_recv_from(cx, &mut rb) {
                let n = rb.filled().len();
                return Poll::Ready((i, r.map(|addr| (n, addr))));
            }
        }
        Poll::Pending
    })
    .await
}
