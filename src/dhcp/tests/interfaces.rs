//! Several served interfaces (pool, server id and next-server chosen by the
//! receiving interface), the reply destination rules of RFC 2131 §4.1, and
//! a reservation of the server's own address.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{DhcpOption, Flags, HType, MessageType, OptionCode, UnknownOption};

use super::*;
use crate::dhcp::config::Interface;

/// Our address on the second interface.
const SECOND: Ipv4Addr = Ipv4Addr::new(10, 233, 0, 1);

/// [`config`] served on two interfaces: vs0 (10.231.0.1) and vs1
/// (10.233.0.1), each with a pool on its own subnet.
fn two_interfaces() -> DhcpConfig {
    let mut c = config();
    c.interfaces = vec![Interface::new("vs0", SERVER), Interface::new("vs1", SECOND)];
    let second = PoolConfig::new(
        Subnet::parse("10.233.0.0/24").unwrap(),
        Ipv4Addr::new(10, 233, 0, 1),
        Ipv4Addr::new(10, 233, 0, 9),
    )
    .unwrap();
    c.pools.push(second);
    c
}

fn on(server_ip: Ipv4Addr) -> Context {
    Context { server_ip, ..ctx() }
}

fn send_on(lab: &mut Lab, m: &Message, server_ip: Ipv4Addr) -> Decision {
    lab.core.handle(m, &on(server_ip), &lab.profiles, lab.now)
}

fn server_id(m: &Message) -> Option<&DhcpOption> {
    opt(m, OptionCode::ServerIdentifier)
}

#[test]
fn each_interface_serves_its_own_subnet_with_its_own_address() {
    let mut lab = Lab::new(two_interfaces());
    let offer = send_on(&mut lab, &msg(MessageType::Discover, mac(1)), SECOND)
        .reply
        .unwrap()
        .message;
    // 10.233.0.1 is ours on vs1: the pool skips it
    assert_eq!(offer.yiaddr(), Ipv4Addr::new(10, 233, 0, 2));
    assert_eq!(
        server_id(&offer),
        Some(&DhcpOption::ServerIdentifier(SECOND))
    );
    assert_eq!(offer.siaddr(), SECOND);
    assert_eq!(
        opt(&offer, OptionCode::TFTPServerName),
        Some(&DhcpOption::TFTPServerName(b"10.233.0.1".to_vec()))
    );
    let mut req = msg(MessageType::Request, mac(1));
    req.opts_mut().insert(DhcpOption::ServerIdentifier(SECOND));
    req.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(offer.yiaddr()));
    let d = send_on(&mut lab, &req, SECOND);
    assert!(matches!(d.reason, Reason::Ack { .. }), "{}", d.reason);
    let ack = d.reply.unwrap().message;
    assert_eq!(ack.yiaddr(), Ipv4Addr::new(10, 233, 0, 2));
    assert_eq!(server_id(&ack), Some(&DhcpOption::ServerIdentifier(SECOND)));
    assert_eq!(
        opt(&ack, OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );

    // the first interface is unchanged
    let first = send_on(&mut lab, &msg(MessageType::Discover, mac(2)), SERVER)
        .reply
        .unwrap()
        .message;
    assert_eq!(first.yiaddr(), Ipv4Addr::new(10, 231, 0, 100));
    assert_eq!(
        server_id(&first),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(first.siaddr(), SERVER);
}

#[test]
fn renewal_on_the_second_interface_is_served_from_its_pool() {
    let mut lab = Lab::new(two_interfaces());
    let ip = send_on(&mut lab, &msg(MessageType::Discover, mac(1)), SECOND)
        .reply
        .unwrap()
        .message
        .yiaddr();
    let mut req = msg(MessageType::Request, mac(1));
    req.opts_mut().insert(DhcpOption::ServerIdentifier(SECOND));
    req.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
    send_on(&mut lab, &req, SECOND);
    let mut renew = msg(MessageType::Request, mac(1));
    renew.set_ciaddr(ip);
    let d = send_on(&mut lab, &renew, SECOND);
    assert_eq!(d.reply.unwrap().kind, MessageType::Ack, "{}", d.reason);
    // the same renewal arriving on the other interface is off-subnet: NAK
    let d = send_on(&mut lab, &renew, SERVER);
    assert_eq!(d.reply.unwrap().kind, MessageType::Nak);
}

#[test]
fn self_in_option_150_is_our_address_on_the_receiving_interface() {
    let mut lab = Lab::new(two_interfaces());
    let mut phone = lab.profiles.default.clone().unwrap();
    phone.tftp_servers = vec![Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 9, 9, 9)];
    lab.profiles.default = Some(phone);
    let offer = send_on(&mut lab, &msg(MessageType::Discover, mac(1)), SECOND)
        .reply
        .unwrap()
        .message;
    assert_eq!(
        opt(&offer, OptionCode::TFTPServerAddress),
        Some(&DhcpOption::Unknown(UnknownOption::new(
            OptionCode::TFTPServerAddress,
            vec![10, 233, 0, 1, 10, 9, 9, 9]
        )))
    );
}

#[test]
fn a_reservation_of_our_own_address_is_never_offered() {
    let mut lab = Lab::new(config());
    let mut p = lab.profiles.by_mac[&mac(50)].clone();
    p.fixed_address = Some(SERVER);
    lab.profiles.by_mac.insert(mac(50), p);
    let reservations = lab.profiles.reservations();
    lab.core.set_reservations(&reservations);
    let d = lab.send(&msg(MessageType::Discover, mac(50)));
    assert!(d.reply.is_none());
    assert_eq!(d.reason, Reason::ReservedIsServer(SERVER));
    assert!(d.reason.to_string().contains("netboot's own address"));
}

fn broadcast() -> Destination {
    Destination::Ip(SocketAddrV4::new(Ipv4Addr::BROADCAST, 68))
}

#[test]
fn unicast_to_a_new_client_only_when_it_asked_for_it() {
    let mut lab = Lab::new(config());
    // broadcast bit clear: yiaddr at chaddr
    let r = lab.send(&msg(MessageType::Discover, mac(1))).reply.unwrap();
    assert_eq!(
        r.dest,
        Destination::Link {
            addr: SocketAddrV4::new(r.message.yiaddr(), 68),
            mac: mac(1)
        }
    );
    assert_eq!(r.dest.addr().ip(), &r.message.yiaddr());
    // broadcast bit set: broadcast, offer and ack alike
    let mut d = msg(MessageType::Discover, mac(2));
    d.set_flags(Flags::default().set_broadcast());
    let offer = lab.send(&d).reply.unwrap();
    assert_eq!(offer.dest, broadcast());
    let mut req = msg(MessageType::Request, mac(2));
    req.set_flags(Flags::default().set_broadcast());
    req.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    req.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(offer.message.yiaddr()));
    assert_eq!(lab.send(&req).reply.unwrap().dest, broadcast());
    // not Ethernet (no MAC to put in the ARP cache): broadcast
    let mut ib = msg(MessageType::Discover, mac(3));
    ib.set_htype(HType::from(32u8));
    assert_eq!(lab.send(&ib).reply.unwrap().dest, broadcast());
    // a NAK is broadcast even with the bit clear
    let mut reboot = msg(MessageType::Request, mac(4));
    reboot
        .opts_mut()
        .insert(DhcpOption::RequestedIpAddress(Ipv4Addr::new(
            192, 168, 1, 5,
        )));
    let nak = lab.send(&reboot).reply.unwrap();
    assert_eq!(nak.kind, MessageType::Nak);
    assert_eq!(nak.dest, broadcast());
}

#[test]
fn proxy_offers_have_no_address_to_unicast_to() {
    let mut cfg = config();
    cfg.mode = Mode::Proxy;
    let mut lab = Lab::new(cfg);
    let mut d = msg(MessageType::Discover, mac(1));
    d.opts_mut().insert(DhcpOption::ClassIdentifier(
        b"PXEClient:Arch:00000".to_vec(),
    ));
    let r = lab.send(&d).reply.unwrap();
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(r.dest, broadcast());
}
