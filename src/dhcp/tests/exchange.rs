//! RFC 2131 flows: DISCOVER/OFFER/REQUEST/ACK, NAKs, renewals, release,
//! decline, inform, relays and size limits.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{DhcpOption, MessageType, OptionCode, UnknownOption};

use super::*;

#[test]
fn discover_offer_request_ack_with_all_options() {
    let mut lab = Lab::new(config());
    let offer = lab.discover(mac(1));
    assert_eq!(offer.opts().msg_type(), Some(MessageType::Offer));
    let ip = offer.yiaddr();
    assert_eq!(ip, Ipv4Addr::new(10, 231, 0, 100));
    let d = lab.request(mac(1), ip);
    let ack = d.reply.unwrap();
    assert_eq!(ack.kind, MessageType::Ack);
    // broadcast bit clear, no ciaddr: unicast to the new address at chaddr
    assert_eq!(
        ack.dest,
        Destination::Link {
            addr: SocketAddrV4::new(ip, 68),
            mac: mac(1)
        }
    );
    let m = &ack.message;
    assert_eq!(m.yiaddr(), ip);
    assert_eq!(m.xid(), 0x1234_5678);
    assert_eq!(
        opt(m, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(
        opt(m, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(3600))
    );
    assert_eq!(
        opt(m, OptionCode::Renewal),
        Some(&DhcpOption::Renewal(1800))
    );
    assert_eq!(
        opt(m, OptionCode::Rebinding),
        Some(&DhcpOption::Rebinding(3150))
    );
    assert_eq!(
        opt(m, OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(
        opt(m, OptionCode::Router),
        Some(&DhcpOption::Router(vec![SERVER]))
    );
    assert_eq!(
        opt(m, OptionCode::DomainNameServer),
        Some(&DhcpOption::DomainNameServer(vec![Ipv4Addr::new(
            10, 231, 0, 53
        )]))
    );
    assert_eq!(
        opt(m, OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lab.test".into()))
    );
    assert_eq!(
        opt(m, OptionCode::BroadcastAddr),
        Some(&DhcpOption::BroadcastAddr(Ipv4Addr::new(10, 231, 0, 255)))
    );
    assert_eq!(m.siaddr(), SERVER);
    assert_eq!(m.fname_str().unwrap().unwrap(), "undionly.kpxe");
    assert_eq!(m.sname_str().unwrap().unwrap(), "netboot");
    assert_eq!(
        opt(m, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(b"undionly.kpxe".to_vec()))
    );
    assert_eq!(
        opt(m, OptionCode::TFTPServerName),
        Some(&DhcpOption::TFTPServerName(b"10.231.0.1".to_vec()))
    );
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].state, LeaseState::Bound);
    assert_eq!(d.changes[0].expires, lab.now + 3600);
}

#[test]
fn concurrent_discovers_get_different_addresses_and_returning_client_keeps_its_own() {
    let mut lab = Lab::new(config());
    let a = lab.discover(mac(1)).yiaddr();
    let b = lab.discover(mac(2)).yiaddr();
    assert_ne!(a, b);
    assert_eq!(lab.discover(mac(1)).yiaddr(), a);
    let ip = lab.lease(mac(3));
    lab.now += 10_000; // expired
    assert_eq!(lab.discover(mac(3)).yiaddr(), ip);
}

#[test]
fn with_a_shared_database_offers_are_recorded_unless_the_client_holds_the_address() {
    let mut cfg = config();
    cfg.leases_url = Some("postgres:///netboot".into());
    let mut lab = Lab::new(cfg);
    let d = lab.send(&msg(MessageType::Discover, mac(1)));
    let ip = d.reply.as_ref().unwrap().message.yiaddr();
    assert_eq!(d.changes.len(), 1, "a new client's offer is recorded");
    assert_eq!(d.changes[0].state, LeaseState::Offered);
    assert_eq!(lab.request(mac(1), ip).changes[0].state, LeaseState::Bound);
    let again = lab.send(&msg(MessageType::Discover, mac(1)));
    assert_eq!(again.reply.unwrap().message.yiaddr(), ip);
    assert!(
        again.changes.is_empty(),
        "its own bound lease: {:?}",
        again.changes
    );
    // without a database nothing is recorded for an offer
    let mut lab = Lab::new(config());
    assert!(lab
        .send(&msg(MessageType::Discover, mac(1)))
        .changes
        .is_empty());
}

#[test]
fn reservation_is_honoured_and_never_given_to_others() {
    let mut lab = Lab::new(config());
    let reserved = Ipv4Addr::new(10, 231, 0, 50);
    // another client asking for the reserved address does not get it
    let mut d = msg(MessageType::Discover, mac(7));
    d.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(reserved));
    let offer = lab.send(&d).reply.unwrap();
    assert_ne!(offer.message.yiaddr(), reserved);
    let n = lab.request(mac(7), reserved);
    assert!(matches!(n.reason, Reason::Nak { .. }));
    // the owner gets it, with its hostname, option 150 and extra options
    let offered = lab.discover(mac(50)).yiaddr();
    let ack = lab.request(mac(50), offered).reply.unwrap().message;
    assert_eq!(ack.yiaddr(), reserved);
    assert_eq!(
        opt(&ack, OptionCode::Hostname),
        Some(&DhcpOption::Hostname("web1".into()))
    );
    let mut tftp = [0u8; 8];
    tftp[..4].copy_from_slice(&[10, 231, 0, 2]);
    tftp[4..].copy_from_slice(&[10, 231, 0, 3]);
    assert_eq!(
        opt(&ack, OptionCode::TFTPServerAddress),
        Some(&DhcpOption::Unknown(UnknownOption::new(
            OptionCode::TFTPServerAddress,
            tftp.to_vec()
        )))
    );
    assert_eq!(
        opt(&ack, OptionCode::Unknown(224)),
        Some(&DhcpOption::Unknown(UnknownOption::new(
            OptionCode::Unknown(224),
            b"hello".to_vec()
        )))
    );
    assert_eq!(
        ack.opts().msg_type(),
        Some(MessageType::Ack),
        "extra option 53 must not override"
    );
}

#[test]
fn request_for_another_server_withdraws_our_offer_silently() {
    let mut lab = Lab::new(config());
    let ip = lab.discover(mac(1)).yiaddr();
    let mut r = msg(MessageType::Request, mac(1));
    r.opts_mut().insert(DhcpOption::ServerIdentifier(OTHER));
    r.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
    let d = lab.send(&r);
    assert!(d.reply.is_none());
    assert!(matches!(d.reason, Reason::Silent(_)));
    // the address is free again for someone else who asks for it
    let mut d = msg(MessageType::Discover, mac(2));
    d.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
    assert_eq!(lab.send(&d).reply.unwrap().message.yiaddr(), ip);
}

#[test]
fn init_reboot_wrong_subnet_naks_unknown_is_silent_known_acks() {
    let mut lab = Lab::new(config());
    let reboot = |ip: Ipv4Addr, m: MacAddr| {
        let mut r = msg(MessageType::Request, m);
        r.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
        r
    };
    let d = lab.send(&reboot(Ipv4Addr::new(192, 168, 1, 5), mac(1)));
    let nak = d.reply.unwrap();
    assert_eq!(nak.kind, MessageType::Nak);
    assert_eq!(
        nak.dest,
        Destination::Ip(SocketAddrV4::new(Ipv4Addr::BROADCAST, 68))
    );
    assert_eq!(nak.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    let d = lab.send(&reboot(Ipv4Addr::new(10, 231, 0, 150), mac(1)));
    assert!(d.reply.is_none(), "{}", d.reason);
    let ip = lab.lease(mac(2));
    let d = lab.send(&reboot(ip, mac(2)));
    assert_eq!(d.reply.unwrap().kind, MessageType::Ack);
    // someone else's address: NAK
    let d = lab.send(&reboot(ip, mac(3)));
    assert_eq!(d.reply.unwrap().kind, MessageType::Nak);
}

#[test]
fn renewing_unicasts_to_ciaddr_and_extends() {
    let mut lab = Lab::new(config());
    let ip = lab.lease(mac(1));
    lab.now += 1800;
    let mut r = msg(MessageType::Request, mac(1));
    r.set_ciaddr(ip);
    let d = lab.send(&r);
    let ack = d.reply.unwrap();
    assert_eq!(ack.kind, MessageType::Ack);
    assert_eq!(ack.dest, Destination::Ip(SocketAddrV4::new(ip, 68)));
    assert_eq!(d.changes[0].expires, lab.now + 3600);
    // rebinding another client's address: NAK
    let mut r = msg(MessageType::Request, mac(2));
    r.set_ciaddr(ip);
    assert_eq!(lab.send(&r).reply.unwrap().kind, MessageType::Nak);
}

#[test]
fn release_frees_and_decline_holds() {
    let mut lab = Lab::new(config());
    let ip = lab.lease(mac(1));
    let mut rel = msg(MessageType::Release, mac(1));
    rel.set_ciaddr(ip);
    rel.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    let d = lab.send(&rel);
    assert!(d.reply.is_none());
    assert_eq!(d.reason, Reason::Released(ip));
    assert_eq!(d.changes[0].state, LeaseState::Released);

    let ip2 = lab.lease(mac(2));
    let mut dec = msg(MessageType::Decline, mac(2));
    dec.opts_mut().insert(DhcpOption::RequestedIpAddress(ip2));
    dec.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    let d = lab.send(&dec);
    assert_eq!(d.reason, Reason::Declined(ip2));
    assert_eq!(d.changes[0].state, LeaseState::Declined);
    // nobody gets it during the hold, not even the decliner
    for n in 3..10 {
        assert_ne!(lab.discover(mac(n)).yiaddr(), ip2);
    }
    assert_ne!(lab.discover(mac(2)).yiaddr(), ip2);
    // a decline from a client that does not hold the address is ignored
    let mut dec = msg(MessageType::Decline, mac(9));
    dec.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
    assert!(lab.send(&dec).changes.is_empty());
}

#[test]
fn inform_acks_without_lease() {
    let mut lab = Lab::new(config());
    let mut inf = msg(MessageType::Inform, mac(1));
    inf.set_ciaddr(Ipv4Addr::new(10, 231, 0, 77));
    let d = lab.send(&inf);
    let r = d.reply.unwrap();
    assert_eq!(r.kind, MessageType::Ack);
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(opt(&r.message, OptionCode::AddressLeaseTime).is_none());
    assert!(opt(&r.message, OptionCode::SubnetMask).is_some());
    assert_eq!(
        r.dest,
        Destination::Ip(SocketAddrV4::new(Ipv4Addr::new(10, 231, 0, 77), 68))
    );
    assert!(d.changes.is_empty());
}

#[test]
fn relayed_requests_use_the_relay_pool_and_echo_option_82() {
    let mut lab = Lab::new(config());
    let mut d = msg(MessageType::Discover, mac(1));
    d.set_giaddr(Ipv4Addr::new(10, 232, 0, 1));
    let mut info = relay::RelayAgentInformation::default();
    info.insert(relay::RelayInfo::AgentCircuitId(b"port7".to_vec()));
    d.opts_mut()
        .insert(DhcpOption::RelayAgentInformation(info.clone()));
    let r = lab.send(&d).reply.unwrap();
    assert_eq!(r.message.yiaddr(), Ipv4Addr::new(10, 232, 0, 10));
    assert_eq!(
        r.dest,
        Destination::Ip(SocketAddrV4::new(Ipv4Addr::new(10, 232, 0, 1), 67))
    );
    assert_eq!(
        opt(&r.message, OptionCode::RelayAgentInformation),
        Some(&DhcpOption::RelayAgentInformation(info))
    );
    assert_eq!(r.message.giaddr(), Ipv4Addr::new(10, 232, 0, 1));
    // a relay with no pool: no answer
    d.set_giaddr(Ipv4Addr::new(172, 16, 0, 1));
    assert_eq!(
        lab.send(&d).reason,
        Reason::NoPool(Ipv4Addr::new(172, 16, 0, 1))
    );
}

#[test]
fn broadcast_flag_and_max_message_size() {
    let mut lab = Lab::new(config());
    let mut d = msg(MessageType::Discover, mac(1));
    d.set_flags(Flags::default().set_broadcast());
    d.opts_mut().insert(DhcpOption::MaxMessageSize(576));
    let mut p = profiles();
    let mut big = p.default.clone().unwrap();
    big.extra_options = (200..230).map(|c| (c, vec![b'x'; 40])).collect();
    p.default = Some(big);
    lab.profiles = p;
    let r = lab.send(&d).reply.unwrap();
    assert!(r.bytes.len() <= 548, "{} bytes", r.bytes.len());
    assert!(r.message.flags().broadcast());
    assert_eq!(
        r.dest,
        Destination::Ip(SocketAddrV4::new(Ipv4Addr::BROADCAST, 68))
    );
    assert!(opt(&r.message, OptionCode::SubnetMask).is_some());
    assert!(opt(&r.message, OptionCode::BootfileName).is_some());
}

/// Rough throughput of the core alone (run with
/// `cargo test --release --lib core_throughput -- --ignored --nocapture`).
#[test]
#[ignore]
fn core_throughput() {
    let mut cfg = config();
    let subnet = crate::dhcp::config::Subnet::parse("10.231.0.0/16").unwrap();
    cfg.pools = vec![crate::dhcp::config::PoolConfig::new(
        subnet,
        Ipv4Addr::new(10, 231, 1, 0),
        Ipv4Addr::new(10, 231, 200, 255),
    )
    .unwrap()];
    let mut lab = Lab::new(cfg);
    let start = std::time::Instant::now();
    let n = 20_000u32;
    for i in 0..n {
        let m = MacAddr([2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        let d = msg(MessageType::Discover, m);
        let bytes = crate::dhcp::wire::encode(&mut d.clone(), 1500).unwrap();
        let d = crate::dhcp::wire::decode(&bytes).unwrap();
        let offer = lab
            .core
            .handle(&d, &ctx(), &lab.profiles, lab.now)
            .reply
            .unwrap();
        let mut r = msg(MessageType::Request, m);
        r.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
        r.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(offer.message.yiaddr()));
        let bytes = crate::dhcp::wire::encode(&mut r, 1500).unwrap();
        let r = crate::dhcp::wire::decode(&bytes).unwrap();
        let ack = lab.core.handle(&r, &ctx(), &lab.profiles, lab.now);
        assert_eq!(ack.reply.unwrap().kind, MessageType::Ack);
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{n} DORA exchanges in {secs:.3} s = {:.0}/s",
        f64::from(n) / secs
    );
}

#[test]
fn relayed_nak_goes_to_the_relay_with_broadcast_flag() {
    let mut lab = Lab::new(config());
    let mut r = msg(MessageType::Request, mac(1));
    r.set_giaddr(Ipv4Addr::new(10, 232, 0, 1));
    r.opts_mut()
        .insert(DhcpOption::RequestedIpAddress(Ipv4Addr::new(
            10, 231, 0, 100,
        )));
    let nak = lab.send(&r).reply.unwrap();
    assert_eq!(nak.kind, MessageType::Nak);
    assert_eq!(
        nak.dest,
        Destination::Ip(SocketAddrV4::new(Ipv4Addr::new(10, 232, 0, 1), 67))
    );
    assert!(nak.message.flags().broadcast());
}
