//! Arbitrary bytes through the DHCP decode and the decision core, in both
//! modes and on both ports: must never panic. The first byte picks the mode,
//! port, probe and clock; the rest is the datagram, also re-fed after a
//! DISCOVER so the request paths see a table with an offer in it.

#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netboot::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use netboot::dhcp::reply::{Context, Port};
use netboot::dhcp::{wire, Core, DhcpConfig, Mode, PoolConfig, Subnet};
use netboot::mac::MacAddr;

struct Profiles;

impl ProfileLookup for Profiles {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        let known = client.mac.0[5] & 1 == 1;
        Some(ClientProfile {
            name: "fuzz".into(),
            known,
            fixed_address: known.then(|| Ipv4Addr::new(10, 0, 0, 5)),
            hostname: Some("h".into()),
            boot: BootFiles {
                bios: Some("a".into()),
                uefi_x64: Some("b".repeat(200)),
                ipxe: Some("c".into()),
                ..Default::default()
            },
            tftp_servers: vec![Ipv4Addr::new(10, 0, 0, 1)],
            extra_options: vec![(224, vec![1; 300]), (53, vec![9])],
            ..Default::default()
        })
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        vec![(MacAddr([0; 6]), Ipv4Addr::new(10, 0, 0, 6))]
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, packet)) = data.split_first() else {
        return;
    };
    let Ok(req) = wire::decode(packet) else {
        return;
    };
    let Some(subnet) = Subnet::parse("10.0.0.0/24") else {
        return;
    };
    let Ok(pool) = PoolConfig::new(
        subnet,
        Ipv4Addr::new(10, 0, 0, 2),
        Ipv4Addr::new(10, 0, 0, 9),
    ) else {
        return;
    };
    let mut cfg = DhcpConfig::new(Ipv4Addr::new(10, 0, 0, 1));
    cfg.pools = vec![pool];
    cfg.mode = if knobs & 1 == 0 {
        Mode::Authoritative
    } else {
        Mode::Proxy
    };
    cfg.ping_check = knobs & 2 != 0;
    cfg.known_clients_only = knobs & 8 != 0;
    cfg.lease_time = Duration::from_secs(u64::from(knobs) * 1000 + 1);
    let port = if knobs & 4 == 0 {
        Port::Dhcp
    } else {
        Port::BootServer
    };
    let ctx = Context {
        source: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 7), 68),
        port,
        server_ip: Ipv4Addr::new(10, 0, 0, 1),
    };
    let mut core = Core::new(cfg);
    core.set_reservations(&Profiles.reservations());
    let now = u64::from(knobs) << 20;
    let d = core.handle(&req, &ctx, &Profiles, now);
    if let Some(ip) = d.probe {
        let _ = core.probe_result(ip, knobs & 16 != 0, &req, &ctx, &Profiles, now);
    }
    let _ = core.handle(&req, &ctx, &Profiles, now + 1);
    if let Some(r) = d.reply {
        // what we send must decode again
        assert!(wire::decode(&r.bytes).is_ok());
        assert!(r.bytes.len() <= wire::MAX_REPLY);
    }
});
