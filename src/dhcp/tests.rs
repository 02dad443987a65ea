//! Scripted exchanges through the decision core: request in, reply fields out.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcproto::v4::{relay, DhcpOption, Flags, Message, MessageType, OptionCode, UnknownOption};

use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::config::{DhcpConfig, Mode, PoolConfig, Subnet};
use crate::dhcp::decide::{Core, Decision, Reason};
use crate::dhcp::pool::LeaseState;
use crate::dhcp::pxe::BootNote;
use crate::dhcp::reply::{Context, Port};
use crate::dhcp::wire;
use crate::mac::MacAddr;

pub(crate) const SERVER: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 1);
const OTHER: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 254);

#[derive(Default)]
pub(crate) struct Profiles {
    pub by_mac: HashMap<MacAddr, ClientProfile>,
    pub default: Option<ClientProfile>,
}

impl ProfileLookup for Profiles {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        self.by_mac
            .get(&client.mac)
            .cloned()
            .or_else(|| self.default.clone())
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        self.by_mac
            .iter()
            .filter_map(|(m, p)| p.fixed_address.map(|ip| (*m, ip)))
            .collect()
    }
}

pub(crate) fn mac(n: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0, 0, 0, n])
}

pub(crate) fn config() -> DhcpConfig {
    let subnet = Subnet::parse("10.231.0.0/24").unwrap();
    let mut pool = PoolConfig::new(
        subnet,
        Ipv4Addr::new(10, 231, 0, 100),
        Ipv4Addr::new(10, 231, 0, 199),
    )
    .unwrap();
    pool.routers = vec![SERVER];
    pool.dns_servers = vec![Ipv4Addr::new(10, 231, 0, 53)];
    pool.domain_name = Some("lab.test".into());
    let relayed = PoolConfig::new(
        Subnet::parse("10.232.0.0/24").unwrap(),
        Ipv4Addr::new(10, 232, 0, 10),
        Ipv4Addr::new(10, 232, 0, 20),
    )
    .unwrap();
    let mut c = DhcpConfig::new(SERVER);
    c.pools = vec![pool, relayed];
    c.lease_time = Duration::from_secs(3600);
    c.server_name = Some("netboot".into());
    c
}

pub(crate) fn profiles() -> Profiles {
    let boot = BootFiles {
        bios: Some("undionly.kpxe".into()),
        uefi_x64: Some("ipxe.efi".into()),
        uefi_arm64: Some("arm64.efi".into()),
        http: Some("http://10.231.0.1/boot.efi".into()),
        ipxe: Some("http://10.231.0.1/boot.ipxe".into()),
        ..Default::default()
    };
    let default = ClientProfile {
        name: "default".into(),
        boot: boot.clone(),
        ..Default::default()
    };
    let known = ClientProfile {
        name: "web1".into(),
        known: true,
        fixed_address: Some(Ipv4Addr::new(10, 231, 0, 50)),
        hostname: Some("web1".into()),
        boot,
        tftp_servers: vec![Ipv4Addr::new(10, 231, 0, 2), Ipv4Addr::new(10, 231, 0, 3)],
        extra_options: vec![(224, b"hello".to_vec()), (53, vec![2])],
        ..Default::default()
    };
    let mut p = Profiles {
        default: Some(default),
        ..Default::default()
    };
    p.by_mac.insert(mac(50), known);
    p
}

pub(crate) fn msg(kind: MessageType, m: MacAddr) -> Message {
    let mut msg = Message::new_with_id(
        0x1234_5678,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &m.octets(),
    );
    msg.opts_mut().insert(DhcpOption::MessageType(kind));
    msg
}

pub(crate) fn ctx() -> Context {
    Context {
        source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        port: Port::Dhcp,
    }
}

struct Lab {
    core: Core,
    profiles: Profiles,
    now: u64,
}

impl Lab {
    fn new(cfg: DhcpConfig) -> Self {
        let profiles = profiles();
        let mut core = Core::new(cfg);
        core.set_reservations(&profiles.reservations());
        Self {
            core,
            profiles,
            now: 1_000_000,
        }
    }

    fn send(&mut self, m: &Message) -> Decision {
        // every request goes through the wire both ways, as in the shell
        let bytes = wire::encode(&mut m.clone(), 1500).unwrap();
        let m = wire::decode(&bytes).unwrap();
        let d = self.core.handle(&m, &ctx(), &self.profiles, self.now);
        if let Some(r) = &d.reply {
            assert_eq!(
                wire::decode(&r.bytes).unwrap().opts().msg_type(),
                Some(r.kind)
            );
        }
        d
    }

    fn discover(&mut self, m: MacAddr) -> Message {
        let d = self.send(&msg(MessageType::Discover, m));
        d.reply
            .unwrap_or_else(|| panic!("no offer: {}", d.reason))
            .message
    }

    fn request(&mut self, m: MacAddr, ip: Ipv4Addr) -> Decision {
        let mut r = msg(MessageType::Request, m);
        r.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
        r.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
        self.send(&r)
    }

    fn lease(&mut self, m: MacAddr) -> Ipv4Addr {
        let ip = self.discover(m).yiaddr();
        let d = self.request(m, ip);
        assert!(matches!(d.reason, Reason::Ack { .. }), "{}", d.reason);
        ip
    }
}

fn opt(m: &Message, code: OptionCode) -> Option<&DhcpOption> {
    m.opts().get(code)
}

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
    assert_eq!(ack.dest, SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
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
    assert_eq!(nak.dest, SocketAddrV4::new(Ipv4Addr::BROADCAST, 68));
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
    assert_eq!(ack.dest, SocketAddrV4::new(ip, 68));
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
    assert_eq!(r.dest, SocketAddrV4::new(Ipv4Addr::new(10, 231, 0, 77), 68));
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
    assert_eq!(r.dest, SocketAddrV4::new(Ipv4Addr::new(10, 232, 0, 1), 67));
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
    assert_eq!(r.dest.ip(), &Ipv4Addr::BROADCAST);
    assert!(opt(&r.message, OptionCode::SubnetMask).is_some());
    assert!(opt(&r.message, OptionCode::BootfileName).is_some());
}

fn pxe_discover(m: MacAddr, arch: u16, class: &str) -> Message {
    let mut d = msg(MessageType::Discover, m);
    d.opts_mut()
        .insert(DhcpOption::ClientSystemArchitecture(arch.into()));
    d.opts_mut()
        .insert(DhcpOption::ClassIdentifier(class.as_bytes().to_vec()));
    d.opts_mut()
        .insert(DhcpOption::ClientMachineIdentifier(vec![
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ]));
    d
}

#[test]
fn pxe_options_per_arch_ipxe_and_http() {
    let mut lab = Lab::new(config());
    for (arch, class, file, echo) in [
        (
            0u16,
            "PXEClient:Arch:00000:UNDI:002001",
            "undionly.kpxe",
            "PXEClient",
        ),
        (
            7,
            "PXEClient:Arch:00007:UNDI:003016",
            "ipxe.efi",
            "PXEClient",
        ),
        (
            9,
            "PXEClient:Arch:00009:UNDI:003016",
            "ipxe.efi",
            "PXEClient",
        ),
        (
            11,
            "PXEClient:Arch:00011:UNDI:003000",
            "arm64.efi",
            "PXEClient",
        ),
        (
            16,
            "HTTPClient:Arch:00016:UNDI:003001",
            "http://10.231.0.1/boot.efi",
            "HTTPClient",
        ),
    ] {
        let offer = lab
            .send(&pxe_discover(mac(1), arch, class))
            .reply
            .unwrap()
            .message;
        assert_eq!(
            opt(&offer, OptionCode::BootfileName),
            Some(&DhcpOption::BootfileName(file.as_bytes().to_vec())),
            "arch {arch}"
        );
        assert_eq!(offer.fname_str().unwrap().unwrap(), file);
        assert_eq!(
            opt(&offer, OptionCode::ClassIdentifier),
            Some(&DhcpOption::ClassIdentifier(echo.as_bytes().to_vec()))
        );
        assert!(
            opt(&offer, OptionCode::ClientMachineIdentifier).is_some(),
            "option 97 echoed"
        );
    }
    let mut ipxe = pxe_discover(mac(2), 0, "PXEClient:Arch:00000:UNDI:002001");
    ipxe.opts_mut()
        .insert(DhcpOption::UserClass(b"iPXE".to_vec()));
    let offer = lab.send(&ipxe).reply.unwrap().message;
    assert_eq!(
        opt(&offer, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(
            b"http://10.231.0.1/boot.ipxe".to_vec()
        ))
    );
    let mut ipxe175 = pxe_discover(mac(3), 7, "PXEClient");
    ipxe175
        .opts_mut()
        .insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::Unknown(175),
            vec![1, 1, 1],
        )));
    let offer = lab.send(&ipxe175).reply.unwrap().message;
    assert_eq!(
        offer.fname_str().unwrap().unwrap(),
        "http://10.231.0.1/boot.ipxe"
    );
    // an arch without a file: address only, with the reason
    let d = lab.send(&pxe_discover(mac(4), 10, "PXEClient:Arch:00010"));
    assert!(matches!(
        d.reason,
        Reason::Offer {
            boot: BootNote::UnsupportedArch(10),
            ..
        }
    ));
    let offer = d.reply.unwrap().message;
    assert!(opt(&offer, OptionCode::BootfileName).is_none());
    assert_ne!(offer.yiaddr(), Ipv4Addr::UNSPECIFIED);
}

#[test]
fn next_server_from_profile() {
    let mut lab = Lab::new(config());
    let mut p = profiles();
    p.default.as_mut().unwrap().next_server = Some(Ipv4Addr::new(10, 231, 0, 9));
    lab.profiles = p;
    let offer = lab.discover(mac(1));
    assert_eq!(offer.siaddr(), Ipv4Addr::new(10, 231, 0, 9));
    assert_eq!(
        opt(&offer, OptionCode::TFTPServerName),
        Some(&DhcpOption::TFTPServerName(b"10.231.0.9".to_vec()))
    );
}

#[test]
fn proxy_mode_answers_pxe_only_without_address() {
    let mut cfg = config();
    cfg.mode = Mode::Proxy;
    let mut lab = Lab::new(cfg);
    let d = lab.send(&pxe_discover(mac(1), 7, "PXEClient:Arch:00007:UNDI:003016"));
    let r = d.reply.unwrap();
    assert_eq!(r.kind, MessageType::Offer);
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r.message, OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"PXEClient".to_vec()))
    );
    assert_eq!(
        opt(&r.message, OptionCode::VendorExtensions),
        Some(&DhcpOption::VendorExtensions(vec![6, 1, 8, 255]))
    );
    assert_eq!(
        opt(&r.message, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert!(opt(&r.message, OptionCode::AddressLeaseTime).is_none());
    assert_eq!(r.message.fname_str().unwrap().unwrap(), "ipxe.efi");
    assert!(d.changes.is_empty());
    // non-PXE: nothing
    assert!(lab
        .send(&msg(MessageType::Discover, mac(2)))
        .reply
        .is_none());
    // port 4011 request: unicast ACK to the source
    let mut req = pxe_discover(mac(1), 7, "PXEClient:Arch:00007");
    req.opts_mut()
        .insert(DhcpOption::MessageType(MessageType::Request));
    req.set_ciaddr(Ipv4Addr::new(10, 231, 0, 140));
    let src = SocketAddrV4::new(Ipv4Addr::new(10, 231, 0, 140), 4011);
    let ctx4011 = Context {
        source: src,
        port: Port::BootServer,
    };
    let d = lab.core.handle(&req, &ctx4011, &lab.profiles, lab.now);
    let r = d.reply.unwrap();
    assert_eq!(r.kind, MessageType::Ack);
    assert_eq!(r.dest, src);
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r.message, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(b"ipxe.efi".to_vec()))
    );
}

#[test]
fn known_clients_only() {
    let mut cfg = config();
    cfg.known_clients_only = true;
    let mut lab = Lab::new(cfg);
    let d = lab.send(&msg(MessageType::Discover, mac(1)));
    assert!(d.reply.is_none());
    assert_eq!(d.reason, Reason::UnknownClient);
    assert_eq!(
        lab.discover(mac(50)).yiaddr(),
        Ipv4Addr::new(10, 231, 0, 50)
    );
}

#[test]
fn probe_is_requested_once_and_answered_ping_moves_on() {
    let mut cfg = config();
    cfg.ping_check = true;
    let mut lab = Lab::new(cfg);
    let disc = msg(MessageType::Discover, mac(1));
    let d = lab.send(&disc);
    let first = d.probe.unwrap();
    assert!(d.reply.is_none());
    // another client meanwhile gets a different address probed
    let other = lab.send(&msg(MessageType::Discover, mac(2))).probe.unwrap();
    assert_ne!(other, first);
    // the first address answered the ping: marked declined, next one probed
    let d = lab
        .core
        .probe_result(first, true, &disc, &ctx(), &lab.profiles, lab.now);
    assert_eq!(d.changes[0].state, LeaseState::Declined);
    let second = d.probe.unwrap();
    assert_ne!(second, first);
    // silence: offered without another probe
    let d = lab
        .core
        .probe_result(second, false, &disc, &ctx(), &lab.profiles, lab.now);
    assert_eq!(d.reply.unwrap().message.yiaddr(), second);
    // the returning client is not probed again
    assert!(lab.send(&disc).probe.is_none());
}

#[test]
fn garbage_never_panics() {
    let mut lab = Lab::new(config());
    let mut m = msg(MessageType::Discover, mac(1));
    m.set_opcode(dhcproto::v4::Opcode::BootReply);
    assert!(lab.send(&m).reply.is_none());
    let mut m = msg(MessageType::Offer, mac(1));
    m.opts_mut().remove(OptionCode::ServerIdentifier);
    assert!(lab.send(&m).reply.is_none());
    let mut m = msg(MessageType::Request, mac(1));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    assert_eq!(lab.send(&m).reply.unwrap().kind, MessageType::Nak);
}
