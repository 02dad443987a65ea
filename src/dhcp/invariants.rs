//! Property test of the pool's promise: never one address granted to two
//! clients, never a reserved address to another MAC, whatever the sequence of
//! DISCOVER / REQUEST / RELEASE / DECLINE / probe results / time jumps.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use dhcproto::v4::{DhcpOption, Message, MessageType};
use proptest::prelude::*;

use crate::boot::ClientProfile;
use crate::dhcp::config::{PoolConfig, Subnet};
use crate::dhcp::decide::{Core, Decision, Reason};
use crate::dhcp::tests::{config, ctx, mac, msg, Profiles, SERVER};
use crate::mac::MacAddr;

#[derive(Debug, Clone)]
enum Op {
    Discover { m: u8, want: Option<u8> },
    Select { m: u8, ip: u8, other_server: bool },
    Reboot { m: u8, ip: u8 },
    Renew { m: u8, ip: u8 },
    Release { m: u8, ip: u8 },
    Decline { m: u8, ip: u8 },
    Probe { answered: bool },
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0u8..24;
    let ip = 95u8..125;
    prop_oneof![
        3 => (m.clone(), proptest::option::of(ip.clone())).prop_map(|(m, want)| Op::Discover { m, want }),
        3 => (m.clone(), ip.clone(), any::<bool>()).prop_map(|(m, ip, other_server)| Op::Select { m, ip, other_server }),
        1 => (m.clone(), ip.clone()).prop_map(|(m, ip)| Op::Reboot { m, ip }),
        1 => (m.clone(), ip.clone()).prop_map(|(m, ip)| Op::Renew { m, ip }),
        1 => (m.clone(), ip.clone()).prop_map(|(m, ip)| Op::Release { m, ip }),
        1 => (m.clone(), ip.clone()).prop_map(|(m, ip)| Op::Decline { m, ip }),
        1 => any::<bool>().prop_map(|answered| Op::Probe { answered }),
        1 => (0u64..900).prop_map(Op::Wait),
    ]
}

fn addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 231, 0, n)
}

/// The outside view: who was told an address is theirs, until when.
#[derive(Default)]
struct Model {
    holds: HashMap<Ipv4Addr, (MacAddr, u64)>,
}

struct Harness {
    core: Core,
    profiles: Profiles,
    reserved: HashMap<Ipv4Addr, MacAddr>,
    model: Model,
    now: u64,
    pending_probe: Option<(Ipv4Addr, Message)>,
}

impl Harness {
    fn new(ping: bool) -> Self {
        let mut cfg = config();
        cfg.pools.truncate(1);
        let subnet = Subnet::parse("10.231.0.0/24").unwrap();
        cfg.pools[0] = PoolConfig::new(subnet, addr(100), addr(119)).unwrap();
        cfg.lease_time = Duration::from_secs(600);
        cfg.ping_check = ping;
        let mut profiles = Profiles::default();
        for (m, ip) in [(7u8, 105u8), (8, 50)] {
            let p = ClientProfile {
                fixed_address: Some(addr(ip)),
                known: true,
                ..Default::default()
            };
            profiles.by_mac.insert(mac(m), p);
        }
        let mut core = Core::new(cfg);
        let reserved = [(mac(7), addr(105)), (mac(8), addr(50))];
        core.set_reservations(&reserved);
        Self {
            core,
            profiles,
            reserved: reserved.iter().map(|&(m, ip)| (ip, m)).collect(),
            model: Model::default(),
            now: 1_000,
            pending_probe: None,
        }
    }

    fn request(
        m: u8,
        sid: Option<Ipv4Addr>,
        requested: Option<Ipv4Addr>,
        ciaddr: Option<Ipv4Addr>,
    ) -> Message {
        let mut r = msg(MessageType::Request, mac(m));
        if let Some(s) = sid {
            r.opts_mut().insert(DhcpOption::ServerIdentifier(s));
        }
        if let Some(ip) = requested {
            r.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
        }
        if let Some(c) = ciaddr {
            r.set_ciaddr(c);
        }
        r
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let req = match *op {
            Op::Wait(s) => {
                self.now += s;
                return Ok(());
            }
            Op::Probe { answered } => {
                let Some((ip, req)) = self.pending_probe.take() else {
                    return Ok(());
                };
                let d =
                    self.core
                        .probe_result(ip, answered, &req, &ctx(), &self.profiles, self.now);
                return self.check(&req, d);
            }
            Op::Discover { m, want } => {
                let mut d = msg(MessageType::Discover, mac(m));
                if let Some(w) = want {
                    d.opts_mut().insert(DhcpOption::RequestedIpAddress(addr(w)));
                }
                d
            }
            Op::Select {
                m,
                ip,
                other_server,
            } => {
                let sid = if other_server { addr(254) } else { SERVER };
                Self::request(m, Some(sid), Some(addr(ip)), None)
            }
            Op::Reboot { m, ip } => Self::request(m, None, Some(addr(ip)), None),
            Op::Renew { m, ip } => Self::request(m, None, None, Some(addr(ip))),
            Op::Release { m, ip } => {
                let mut r = msg(MessageType::Release, mac(m));
                r.set_ciaddr(addr(ip));
                r
            }
            Op::Decline { m, ip } => {
                let mut r = msg(MessageType::Decline, mac(m));
                r.opts_mut()
                    .insert(DhcpOption::RequestedIpAddress(addr(ip)));
                r
            }
        };
        let d = self.core.handle(&req, &ctx(), &self.profiles, self.now);
        self.check(&req, d)
    }

    fn check(&mut self, req: &Message, d: Decision) -> Result<(), TestCaseError> {
        let m = MacAddr::from_slice(req.chaddr()).unwrap();
        if let Some(ip) = d.probe {
            self.pending_probe = Some((ip, req.clone()));
        }
        match d.reason {
            Reason::Released(ip) | Reason::Declined(ip) => {
                self.model.holds.remove(&ip);
            }
            Reason::Silent(why) if why.contains("another server") => {
                self.model
                    .holds
                    .retain(|_, (holder, until)| !(*holder == m && *until <= self.now + 30));
            }
            _ => {}
        }
        let Some(reply) = d.reply else { return Ok(()) };
        let ip = reply.message.yiaddr();
        if ip.is_unspecified() {
            return Ok(());
        }
        if let Some(owner) = self.reserved.get(&ip) {
            prop_assert_eq!(*owner, m, "reserved {} handed to {}", ip, m);
        }
        if let Some((holder, until)) = self.model.holds.get(&ip) {
            prop_assert!(
                *holder == m || *until <= self.now,
                "{} given to {} while {} holds it until {} (now {})",
                ip,
                m,
                holder,
                until,
                self.now
            );
        }
        let until = match reply.kind {
            MessageType::Ack => self.now + 600,
            _ => self.now + 30,
        };
        let keep = self
            .model
            .holds
            .get(&ip)
            .filter(|(h, u)| *h == m && *u > until)
            .is_some();
        if !keep {
            self.model.holds.insert(ip, (m, until));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_two_holders_never_reserved_to_others(ops in proptest::collection::vec(op(), 1..200), ping in any::<bool>()) {
        let mut h = Harness::new(ping);
        for op in &ops {
            h.apply(op)?;
        }
    }
}

/// The sans-IO modules stay sans-IO: no tokio, sockets, files or clock
/// outside their tests (which may build instants).
#[test]
fn core_modules_do_no_io() {
    let sources = [
        ("config.rs", include_str!("config.rs")),
        ("lease.rs", include_str!("lease.rs")),
        ("pool.rs", include_str!("pool.rs")),
        ("pxe.rs", include_str!("pxe.rs")),
        ("probing.rs", include_str!("probing.rs")),
        ("reason.rs", include_str!("reason.rs")),
        ("reply.rs", include_str!("reply.rs")),
        ("wire.rs", include_str!("wire.rs")),
        ("decide/mod.rs", include_str!("decide/mod.rs")),
        ("decide/request.rs", include_str!("decide/request.rs")),
        ("decide/proxy.rs", include_str!("decide/proxy.rs")),
    ];
    let banned = [
        "tokio::",
        "UdpSocket",
        "std::fs",
        "Instant::now",
        "SystemTime",
        "socket2::",
    ];
    crate::tidy::assert_code_free_of(&sources, &banned);
}
