//! Scripted exchanges through the decision core: request in, reply fields
//! out. Shared fixtures here; `exchange` covers the RFC 2131 flows, `boot`
//! the PXE/proxy/known-only/probe logic.

mod boot;
mod exchange;
mod interfaces;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcproto::v4::{relay, DhcpOption, Flags, Message, MessageType, OptionCode};

use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::config::{DhcpConfig, Mode, PoolConfig, Subnet};
use crate::dhcp::decide::{Core, Decision, Reason};
use crate::dhcp::pool::LeaseState;
use crate::dhcp::pxe::BootNote;
use crate::dhcp::reply::{Context, Destination, Port};
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

/// A request from network-boot firmware (option 93 = 0, BIOS), as most
/// tests here want; [`os_msg`] is one from an operating system or a router.
pub(crate) fn msg(kind: MessageType, m: MacAddr) -> Message {
    let mut msg = os_msg(kind, m);
    msg.opts_mut()
        .insert(DhcpOption::ClientSystemArchitecture(0u16.into()));
    msg
}

/// A request with no sign of network-boot firmware (no option 60 or 93).
pub(crate) fn os_msg(kind: MessageType, m: MacAddr) -> Message {
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
        server_ip: SERVER,
    }
}

pub(crate) struct Lab {
    pub core: Core,
    pub profiles: Profiles,
    pub now: u64,
}

impl Lab {
    pub fn new(cfg: DhcpConfig) -> Self {
        let profiles = profiles();
        let mut core = Core::new(cfg);
        core.set_reservations(&profiles.reservations());
        Self {
            core,
            profiles,
            now: 1_000_000,
        }
    }

    pub fn send(&mut self, m: &Message) -> Decision {
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

    pub fn discover(&mut self, m: MacAddr) -> Message {
        let d = self.send(&msg(MessageType::Discover, m));
        d.reply
            .unwrap_or_else(|| panic!("no offer: {}", d.reason))
            .message
    }

    pub fn request(&mut self, m: MacAddr, ip: Ipv4Addr) -> Decision {
        let mut r = msg(MessageType::Request, m);
        r.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
        r.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
        self.send(&r)
    }

    pub fn lease(&mut self, m: MacAddr) -> Ipv4Addr {
        let ip = self.discover(m).yiaddr();
        let d = self.request(m, ip);
        assert!(matches!(d.reason, Reason::Ack { .. }), "{}", d.reason);
        ip
    }
}

pub(crate) fn opt(m: &Message, code: OptionCode) -> Option<&DhcpOption> {
    m.opts().get(code)
}
