//! The sockets of the served interfaces: a UDP listener per interface and
//! port (`SO_BINDTODEVICE`), and per interface its [`Link`]: the packet
//! sockets for unicast replies ([`FrameSender`]) and ARP probes
//! ([`ArpProbes`]). They are opened once at start, in two steps:
//! [`Sockets::open`] needs privileges but no runtime (so `serve` opens them
//! before it drops root and starts the runtime), [`Sockets::register`] puts
//! them on the runtime. One that cannot be opened (no CAP_NET_RAW, not
//! Ethernet) is logged once at info and its job done the fallback way
//! (broadcast replies, ping probes).

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
use crate::mac::MacAddr;

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

/// The DHCP server's sockets, open but not yet on the runtime.
pub struct Sockets {
    links: Vec<OpenLink>,
    listeners: Vec<OpenListener>,
}

struct OpenListener {
    sock: std::net::UdpSocket,
    port: Port,
    server_ip: Ipv4Addr,
    /// Index into `links`.
    link: Option<usize>,
}

/// A served interface's packet sockets, open but not on the runtime.
struct OpenLink {
    name: String,
    source: SocketAddrV4,
    index: u32,
    mac: MacAddr,
    frames: Option<Socket>,
    arp: Option<Socket>,
}

impl OpenLink {
    /// Opens what it can on interface `name`, logging what it cannot.
    fn open(name: &str, source: SocketAddrV4) -> Self {
        let mut link = Self {
            name: name.to_string(),
            source,
            index: 0,
            mac: MacAddr([0; 6]),
            frames: None,
            arp: None,
        };
        match link_info(name) {
            Ok(l) => {
                (link.index, link.mac) = (l.index, l.mac);
                link.frames = FrameSender::socket(l.index).map_err(|e| {
                    info!(interface = name, error = %e, "cannot open a packet socket for unicast replies (it needs CAP_NET_RAW): replies to clients without an address are broadcast instead");
                }).ok();
                link.arp = ArpProbes::socket(l.index).map_err(|e| {
                    info!(interface = name, error = %e, "cannot open an ARP socket for address probes (it needs CAP_NET_RAW): addresses are probed by ping instead, at most {} new a second", crate::dhcp::probing::ICMP_PER_SECOND);
                }).ok();
            }
            Err(e) => {
                info!(interface = name, error = %e, "no link-layer access: replies to clients without an address are broadcast, and addresses are probed by ping");
            }
        }
        link
    }

    /// Puts the packet sockets on the runtime (the ARP one with its
    /// receive task).
    fn register(self) -> Link {
        let frames = self.frames.and_then(|s| {
            FrameSender::new(s, self.index)
                .map_err(|e| info!(interface = %self.name, error = %e, "cannot use the packet socket for unicast replies: they are broadcast instead"))
                .ok()
        });
        let arp = self.arp.and_then(|s| {
            ArpProbes::start(s, self.index, self.mac)
                .map_err(|e| info!(interface = %self.name, error = %e, "cannot use the ARP socket: addresses are probed by ping instead"))
                .ok()
        });
        Link {
            name: self.name,
            source: self.source,
            frames,
            arp,
        }
    }
}

impl Sockets {
    /// Checks `config` and opens a listener per interface (or one on every
    /// interface) and port, and each interface's packet sockets. Needs the
    /// privileges (ports below 1024, CAP_NET_RAW) but no runtime.
    pub fn open(config: &DhcpConfig) -> Result<Self, DhcpError> {
        config.validate()?;
        let links: Vec<OpenLink> = config
            .interfaces
            .iter()
            .map(|i| OpenLink::open(&i.name, SocketAddrV4::new(i.server_ip, config.server_port)))
            .collect();
        let devices: Vec<(Option<usize>, Ipv4Addr)> = if links.is_empty() {
            vec![(None, config.server_ip)]
        } else {
            links
                .iter()
                .enumerate()
                .map(|(n, l)| (Some(n), *l.source.ip()))
                .collect()
        };
        let mut ports = vec![(config.server_port, Port::Dhcp)];
        if config.mode == Mode::Proxy {
            ports.push((config.proxy_port, Port::BootServer));
        }
        let mut listeners = Vec::new();
        for &(link, server_ip) in &devices {
            let device = link.and_then(|n| links.get(n)).map(|l| l.name.as_str());
            for &(port, kind) in &ports {
                let addr = SocketAddrV4::new(config.bind_addr, port);
                let what = format!("{addr} on {}", device.unwrap_or("any interface"));
                let sock =
                    bind(addr, device).map_err(|source| DhcpError::Socket { what, source })?;
                listeners.push(OpenListener {
                    sock,
                    port: kind,
                    server_ip,
                    link,
                });
            }
        }
        Ok(Self { links, listeners })
    }

    /// Puts every socket on the runtime.
    pub(crate) fn register(self) -> Result<Vec<Listener>, DhcpError> {
        let links: Vec<Arc<Link>> = self
            .links
            .into_iter()
            .map(|l| Arc::new(l.register()))
            .collect();
        self.listeners
            .into_iter()
            .map(|l| {
                let link = l.link.and_then(|n| links.get(n)).cloned();
                let what = l.sock.local_addr().map_or_else(
                    |_| "a listener".to_string(),
                    |a| format!("{a}, put on the runtime,"),
                );
                let sock = UdpSocket::from_std(l.sock)
                    .map_err(|source| DhcpError::Socket { what, source })?;
                Ok(Listener {
                    sock: Arc::new(sock),
                    port: l.port,
                    server_ip: l.server_ip,
                    link,
                })
            })
            .collect()
    }
}

fn bind(addr: SocketAddrV4, device: Option<&str>) -> std::io::Result<std::net::UdpSocket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    sock.set_broadcast(true)?;
    // bursts of thousands of DISCOVERs must queue, not drop
    force_buffers(&sock, 4 << 20);
    if let Some(dev) = device {
        sock.bind_device(Some(dev.as_bytes()))?;
    }
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Asks for `bytes` of receive and send buffer: past net.core.rmem_max /
/// wmem_max (208 KiB on a stock kernel) when the socket is opened with
/// CAP_NET_ADMIN (`serve` opens its sockets before it drops root), else up
/// to those limits.
fn force_buffers(sock: &Socket, bytes: usize) {
    let forced = |option| {
        let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        // SAFETY: a valid fd, a documented SOL_SOCKET option and a pointer
        // to a live c_int of the length passed
        let rc = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(sock),
                libc::SOL_SOCKET,
                option,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    };
    if !forced(libc::SO_RCVBUFFORCE) {
        let _ = sock.set_recv_buffer_size(bytes);
    }
    if !forced(libc::SO_SNDBUFFORCE) {
        let _ = sock.set_send_buffer_size(bytes);
    }
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
