//! Building replies: header fields copied from the request, the lease options,
//! relay information echo, the destination chosen per RFC 2131 §4.1, and the
//! size limit of the client.
//!
//! The destination is decided here, not in the shell: a client that has no
//! address yet and cleared the broadcast bit gets [`Destination::Link`]
//! (yiaddr at chaddr), and the shell carries that out with a link-layer
//! frame to chaddr, or broadcasts when it cannot.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};

use crate::dhcp::config::{DhcpConfig, PoolConfig};
use crate::dhcp::wire::{self, WireError};
use crate::mac::MacAddr;

/// Which socket a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The DHCP server port (67).
    Dhcp,
    /// The PXE boot server discovery port (4011, proxy mode).
    BootServer,
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// Source address and port of the datagram.
    pub source: SocketAddrV4,
    /// The socket it arrived on.
    pub port: Port,
    /// Our address on the interface it arrived on: the server identifier,
    /// the default next-server, and (unless relayed) the pool's subnet.
    pub server_ip: Ipv4Addr,
}

/// Where a reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// An address the kernel can reach as it is: a relay, the client's
    /// ciaddr, the source of a port-4011 request, or 255.255.255.255.
    Ip(SocketAddrV4),
    /// A client without an address that asked for unicast (broadcast bit
    /// clear): `addr` is yiaddr:68, `mac` its chaddr. The kernel cannot
    /// resolve that address by ARP yet, so the shell sends the IPv4/UDP
    /// packet itself in a frame to `mac` (`unicast`); when it cannot, it
    /// broadcasts instead (RFC 2131 §4.1 allows that).
    Link {
        /// yiaddr and the client port.
        addr: SocketAddrV4,
        /// The client's hardware address.
        mac: MacAddr,
    },
}

impl Destination {
    /// The IP destination (yiaddr for [`Destination::Link`]).
    pub fn addr(&self) -> SocketAddrV4 {
        match self {
            Self::Ip(a) | Self::Link { addr: a, .. } => *a,
        }
    }
}

/// A reply ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// OFFER, ACK or NAK.
    pub kind: MessageType,
    /// The message as sent (after size trimming).
    pub message: Message,
    /// The encoded datagram.
    pub bytes: Vec<u8>,
    /// Where to send it.
    pub dest: Destination,
}

/// A reply skeleton: BOOTREPLY with the request's xid, flags, giaddr and
/// chaddr, and options 53 and 54.
pub fn skeleton(req: &Message, kind: MessageType, server_id: Ipv4Addr) -> Message {
    let mut m = Message::new_with_id(
        req.xid(),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        req.giaddr(),
        &[],
    );
    m.set_opcode(Opcode::BootReply);
    m.set_htype(req.htype());
    m.set_chaddr(
        req.chaddr()
            .get(..usize::from(req.hlen().min(16)))
            .unwrap_or(&[]),
    );
    m.set_flags(req.flags());
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(server_id));
    m
}

/// Options 1, 3, 6, 15, 28 of a pool, and 51/58/59 when `lease_secs` is given.
pub fn lease_options(m: &mut Message, pool: &PoolConfig, lease_secs: Option<u32>) {
    let subnet = pool.subnet();
    let opts = m.opts_mut();
    opts.insert(DhcpOption::SubnetMask(subnet.mask()));
    opts.insert(DhcpOption::BroadcastAddr(subnet.broadcast()));
    if !pool.routers.is_empty() {
        opts.insert(DhcpOption::Router(pool.routers.clone()));
    }
    if !pool.dns_servers.is_empty() {
        opts.insert(DhcpOption::DomainNameServer(pool.dns_servers.clone()));
    }
    if let Some(domain) = &pool.domain_name {
        opts.insert(DhcpOption::DomainName(domain.clone()));
    }
    if let Some(secs) = lease_secs {
        opts.insert(DhcpOption::AddressLeaseTime(secs));
        opts.insert(DhcpOption::Renewal(secs / 2));
        opts.insert(DhcpOption::Rebinding(
            u32::try_from(u64::from(secs) * 7 / 8).unwrap_or(u32::MAX),
        ));
    }
}

/// RFC 2131 §4.1: relay → the relay's server port; PXE boot server request
/// → back to its source; NAK → broadcast; ciaddr set → unicast to it;
/// broadcast bit set, no yiaddr (proxy offers) or not Ethernet → broadcast;
/// otherwise unicast to yiaddr at chaddr ([`Destination::Link`]).
pub fn destination(
    req: &Message,
    reply: &Message,
    kind: MessageType,
    ctx: &Context,
    cfg: &DhcpConfig,
) -> Destination {
    if !req.giaddr().is_unspecified() {
        return Destination::Ip(SocketAddrV4::new(req.giaddr(), cfg.server_port));
    }
    if ctx.port == Port::BootServer {
        return Destination::Ip(ctx.source);
    }
    let broadcast = Destination::Ip(SocketAddrV4::new(Ipv4Addr::BROADCAST, cfg.client_port));
    if kind == MessageType::Nak {
        return broadcast;
    }
    if !req.ciaddr().is_unspecified() {
        return Destination::Ip(SocketAddrV4::new(req.ciaddr(), cfg.client_port));
    }
    let yiaddr = reply.yiaddr();
    if req.flags().broadcast() || yiaddr.is_unspecified() || yiaddr.is_broadcast() {
        return broadcast;
    }
    match ethernet_mac(req) {
        Some(mac) => Destination::Link {
            addr: SocketAddrV4::new(yiaddr, cfg.client_port),
            mac,
        },
        None => broadcast,
    }
}

/// chaddr, when the request is from Ethernet (htype 1, hlen 6).
fn ethernet_mac(req: &Message) -> Option<MacAddr> {
    if req.htype() != dhcproto::v4::HType::Eth || req.hlen() != 6 {
        return None;
    }
    MacAddr::from_slice(req.chaddr())
}

/// Echoes option 82, encodes within the client's size limit, and addresses
/// the reply.
pub fn finish(
    mut message: Message,
    req: &Message,
    kind: MessageType,
    ctx: &Context,
    cfg: &DhcpConfig,
) -> Result<Reply, WireError> {
    if let Some(info @ DhcpOption::RelayAgentInformation(_)) =
        req.opts().get(OptionCode::RelayAgentInformation)
    {
        message.opts_mut().insert(info.clone());
    }
    let bytes = wire::encode(&mut message, wire::max_reply_size(req))?;
    Ok(Reply {
        kind,
        dest: destination(req, &message, kind, ctx, cfg),
        message,
        bytes,
    })
}
