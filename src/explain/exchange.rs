//! The DHCP exchange `netboot explain` plays through the server's own
//! decision core (`dhcp::decide::Core`), offline: a DISCOVER built from the
//! flags, then the REQUEST a client sends for the address offered. A probe
//! the core asks for is taken as unanswered (the address free). Pure: the
//! core, its lease table and the lookup are handed in.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode};

use crate::boot::ProfileLookup;
use crate::dhcp::decide::Core;
use crate::dhcp::pool::Secs;
use crate::dhcp::reply::{Context, Destination, Port, Reply};
use crate::mac::MacAddr;

/// What the synthetic client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `chaddr`.
    pub mac: MacAddr,
    /// Option 93.
    pub arch: Option<u16>,
    /// Option 60.
    pub vendor_class: Option<String>,
    /// Option 77 (`iPXE` marks iPXE).
    pub user_class: Option<String>,
}

/// One message sent and what the core made of it.
#[derive(Debug, Clone)]
pub struct Step {
    /// DISCOVER or REQUEST.
    pub sent: MessageType,
    /// The core's reason, as the server logs it.
    pub reason: String,
    /// The address the core probed first (taken as free), if it did.
    pub probed: Option<Ipv4Addr>,
    /// The reply, if any.
    pub reply: Option<Reply>,
}

/// The xid of the synthetic exchange (`nbxp`).
const XID: u32 = 0x6e62_7870;

/// DISCOVER, then (when the core offered an address) REQUEST.
pub fn play(
    core: &mut Core,
    lookup: &dyn ProfileLookup,
    client: &Client,
    server_ip: Ipv4Addr,
    giaddr: Option<Ipv4Addr>,
    now: Secs,
) -> Vec<Step> {
    let ctx = Context {
        source: match giaddr {
            Some(agent) => SocketAddrV4::new(agent, 67),
            None => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        },
        port: Port::Dhcp,
        server_ip,
    };
    let discover = message(client, MessageType::Discover, giaddr);
    let first = step(core, lookup, &discover, &ctx, now);
    let offered = first
        .reply
        .as_ref()
        .filter(|r| r.kind == MessageType::Offer)
        .map(|r| r.message.yiaddr())
        .filter(|ip| !ip.is_unspecified());
    let mut steps = vec![first];
    if let Some(ip) = offered {
        let mut request = message(client, MessageType::Request, giaddr);
        request
            .opts_mut()
            .insert(DhcpOption::ServerIdentifier(server_ip));
        request
            .opts_mut()
            .insert(DhcpOption::RequestedIpAddress(ip));
        steps.push(step(core, lookup, &request, &ctx, now));
    }
    steps
}

fn step(
    core: &mut Core,
    lookup: &dyn ProfileLookup,
    req: &Message,
    ctx: &Context,
    now: Secs,
) -> Step {
    let mut decision = core.handle(req, ctx, lookup, now);
    let probed = decision.probe;
    if let Some(ip) = probed {
        decision = core.probe_result(ip, false, req, ctx, lookup, now);
    }
    Step {
        sent: req.opts().msg_type().unwrap_or(MessageType::Unknown(0)),
        reason: decision.reason.to_string(),
        probed,
        reply: decision.reply,
    }
}

/// A request as the client would send it.
fn message(client: &Client, kind: MessageType, giaddr: Option<Ipv4Addr>) -> Message {
    let zero = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(
        XID,
        zero,
        zero,
        zero,
        giaddr.unwrap_or(zero),
        &client.mac.octets(),
    );
    m.set_opcode(Opcode::BootRequest);
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(kind));
    if let Some(arch) = client.arch {
        opts.insert(DhcpOption::ClientSystemArchitecture(arch.into()));
    }
    if let Some(class) = &client.vendor_class {
        opts.insert(DhcpOption::ClassIdentifier(class.as_bytes().to_vec()));
    }
    if let Some(class) = &client.user_class {
        opts.insert(DhcpOption::UserClass(class.as_bytes().to_vec()));
    }
    m
}

/// Where a reply goes, in words.
pub fn destination(dest: &Destination) -> String {
    match dest {
        Destination::Ip(a) if a.ip().is_broadcast() => format!("broadcast to {a}"),
        Destination::Ip(a) => format!("to {a}"),
        Destination::Link { addr, mac } => {
            format!("to {addr} in a frame to {mac} (the client has no address yet)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boot::{BootFiles, ClientId, ClientProfile};
    use crate::dhcp::config::{DhcpConfig, PoolConfig, Subnet};

    struct One;
    impl ProfileLookup for One {
        fn lookup(&self, _: &ClientId) -> Option<ClientProfile> {
            Some(ClientProfile {
                name: "one".into(),
                boot: BootFiles {
                    ipxe: Some("boot.ipxe".into()),
                    bios: Some("undionly.kpxe".into()),
                    ..BootFiles::default()
                },
                ..ClientProfile::default()
            })
        }
        fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
            Vec::new()
        }
    }

    fn core() -> Core {
        let server = Ipv4Addr::new(10, 0, 0, 1);
        let mut cfg = DhcpConfig::new(server);
        let subnet = Subnet::new(Ipv4Addr::new(10, 0, 0, 0), 24).unwrap();
        let pool = PoolConfig::new(
            subnet,
            Ipv4Addr::new(10, 0, 0, 100),
            Ipv4Addr::new(10, 0, 0, 110),
        );
        cfg.pools = vec![pool.unwrap()];
        cfg.ping_check = true;
        Core::new(cfg)
    }

    #[test]
    fn discover_then_request_get_offer_then_ack_with_the_probe_taken_as_free() {
        let client = Client {
            mac: "52:54:00:00:00:01".parse().unwrap(),
            arch: Some(0),
            vendor_class: Some("PXEClient:Arch:00000".into()),
            user_class: Some("iPXE".into()),
        };
        let steps = play(
            &mut core(),
            &One,
            &client,
            Ipv4Addr::new(10, 0, 0, 1),
            None,
            1000,
        );
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].sent, MessageType::Discover);
        assert_eq!(steps[0].probed, Some(Ipv4Addr::new(10, 0, 0, 100)));
        let offer = steps[0].reply.as_ref().unwrap();
        assert_eq!(offer.kind, MessageType::Offer);
        let ack = steps[1].reply.as_ref().unwrap();
        assert_eq!(ack.kind, MessageType::Ack);
        assert_eq!(ack.message.yiaddr(), Ipv4Addr::new(10, 0, 0, 100));
        assert!(
            steps[1].reason.contains("boot file for ipxe"),
            "{}",
            steps[1].reason
        );
    }
}
