//! Arbitrary bytes through the DHCPv6 decode (`dhcp6::wire`, which guards
//! dhcproto against short options) and the decision core: must
//! never panic, and every reply must encode and decode again. The first byte
//! picks rapid commit, stateless mode, the HTTP port and the clock; the rest
//! is the datagram, fed twice so the later paths see a table with leases.

#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use dhcproto::v6::Message;
use dhcproto::{Decodable, Encodable};
use libfuzzer_sys::fuzz_target;
use netboot::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use netboot::dhcp6::{duid, Context6, Core6, Dhcp6Config, Holder6, Pool6, Reservation6};
use netboot::mac::MacAddr;

struct Profiles;

impl ProfileLookup for Profiles {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        (client.mac.0[5] & 1 == 0).then(|| ClientProfile {
            name: "fuzz".into(),
            boot: BootFiles {
                bios: Some("a".into()),
                uefi_x64: Some("b".repeat(300)),
                ipxe: Some("c".into()),
                http: Some("http://x/y".into()),
                other: Some("o".into()),
                ..Default::default()
            },
            // a profile's reservation and option 60 for some clients
            fixed_address6: (client.mac.0[4] & 1 == 0)
                .then(|| Ipv6Addr::new(0xfd00, 1, 0, 0, 0, 0, 0, 0x42)),
            boot_params6: vec!["console=ttyS0".into(), "d".repeat(300)],
            ..Default::default()
        })
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        Vec::new()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, packet)) = data.split_first() else {
        return;
    };
    let Ok(req) = netboot::dhcp6::wire::decode(packet) else {
        return;
    };
    let mut cfg = Dhcp6Config::new(duid::server_ll(MacAddr([2, 0, 0, 0, 0, 1])));
    if knobs & 1 == 0 {
        if let Ok(pool) = Pool6::parse("fd00:1::10-fd00:1::13") {
            cfg.pools = vec![pool];
        }
    }
    cfg.rapid_commit = knobs & 2 != 0;
    cfg.http_port = (knobs & 4 != 0).then_some(8080);
    cfg.reservations = vec![Reservation6 {
        holder: Holder6::Mac(MacAddr([0x52, 0x54, 0, 0, 0, 2])),
        addr: Ipv6Addr::new(0xfd00, 1, 0, 0, 0, 0, 0, 0x12),
    }];
    let ctx = Context6 {
        peer: Ipv6Addr::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe00, 2),
        ours: Ipv6Addr::new(0xfd00, 1, 0, 0, 0, 0, 0, 1),
    };
    let mut core = Core6::new(cfg);
    let now = u64::from(knobs) << 16;
    for t in [now, now + 1, now + 100_000] {
        let d = core.handle(&req, &ctx, &Profiles, t);
        if let Some(reply) = d.reply {
            let bytes = reply.to_vec().expect("a reply encodes");
            assert!(Message::from_bytes(&bytes).is_ok(), "a reply decodes");
        }
    }
});
