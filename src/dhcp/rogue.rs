//! Another DHCP server on a served segment, noticed while serving: every
//! OFFER, ACK or NAK heard on a served interface whose server is not us is
//! another server answering our clients, the commonest reason a machine
//! does not boot. A sans-IO core: an IPv4 packet and our addresses in, what
//! was heard out. [`crate::dhcp::rogue_watch`] does the listening.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType, Opcode, OptionCode};

use crate::dhcp::wire;
use crate::mac::MacAddr;
use crate::udp4;

/// The DHCP client port, where servers' replies go.
const CLIENT_PORT: u16 = 68;

/// A reply from a server that is not us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// Its server identifier (option 54), else the packet's source.
    pub server: Ipv4Addr,
    /// The client it answered (`chaddr`).
    pub client: MacAddr,
    /// `OFFER`, `ACK` or `NAK`.
    pub message: &'static str,
}

/// What `packet` (an IPv4 packet) says, when it is another server's reply
/// to a DHCP client; `ours` are netboot's own addresses.
pub fn heard(packet: &[u8], ours: &[Ipv4Addr]) -> Option<Heard> {
    let (source, payload) = udp4::payload_to(packet, CLIENT_PORT)?;
    let msg = wire::decode(payload).ok()?;
    if msg.opcode() != Opcode::BootReply {
        return None;
    }
    let message = match msg.opts().get(OptionCode::MessageType) {
        Some(DhcpOption::MessageType(MessageType::Offer)) => "OFFER",
        Some(DhcpOption::MessageType(MessageType::Ack)) => "ACK",
        Some(DhcpOption::MessageType(MessageType::Nak)) => "NAK",
        _ => return None,
    };
    let server = match msg.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(id)) => *id,
        _ => source,
    };
    if ours.contains(&server) || ours.contains(&source) {
        return None;
    }
    Some(Heard {
        server,
        client: MacAddr::from_slice(msg.chaddr())?,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::v4::{Flags, Message};
    use std::net::SocketAddrV4;

    fn reply(kind: MessageType, server: Ipv4Addr, to_port: u16) -> Vec<u8> {
        let mac = [0x52, 0x54, 0, 0, 0, 9];
        let mut msg = Message::new(
            Ipv4Addr::UNSPECIFIED,
            "10.0.0.50".parse().unwrap(),
            server,
            Ipv4Addr::UNSPECIFIED,
            &mac,
        );
        msg.set_opcode(Opcode::BootReply)
            .set_flags(Flags::default().set_broadcast());
        msg.opts_mut().insert(DhcpOption::MessageType(kind));
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        let bytes = wire::encode(&mut msg, wire::MAX_REPLY).unwrap();
        let from = SocketAddrV4::new(server, 67);
        udp4::packet(
            from,
            SocketAddrV4::new(Ipv4Addr::BROADCAST, to_port),
            &bytes,
        )
    }

    #[test]
    fn another_servers_offer_is_heard_with_its_client() {
        let rogue: Ipv4Addr = "192.168.77.1".parse().unwrap();
        let ours = ["10.0.0.1".parse().unwrap()];
        let heard = heard(&reply(MessageType::Offer, rogue, 68), &ours).unwrap();
        assert_eq!(heard.server, rogue);
        assert_eq!(heard.message, "OFFER");
        assert_eq!(heard.client.to_string(), "52:54:00:00:00:09");
    }

    #[test]
    fn our_own_replies_requests_and_other_ports_are_not() {
        let ours: Ipv4Addr = "10.0.0.1".parse().unwrap();
        assert_eq!(heard(&reply(MessageType::Ack, ours, 68), &[ours]), None);
        let rogue = "10.0.0.9".parse().unwrap();
        assert_eq!(heard(&reply(MessageType::Offer, rogue, 67), &[ours]), None);
        assert_eq!(
            heard(&reply(MessageType::Discover, rogue, 68), &[ours]),
            None
        );
        assert_eq!(heard(&[0x45, 0, 0], &[ours]), None);
    }
}
