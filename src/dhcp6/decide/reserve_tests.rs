//! Reservations from the profiles (by MAC, by DUID, hot-swapped) and from
//! `netboot.yaml` in the DHCPv6 decision; a client moved onto its
//! reservation; option 60 (boot file parameters) only when asked for.

use std::net::Ipv4Addr;

use dhcproto::v6::{DhcpOption, MessageType, OptionCode, Status, ORO};

use super::tests::{a, addrs, bound, client_duid, core, ctx, ia_status, msg, to_us, wire, MAC};
use super::*;
use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::lease::LeaseState;
use crate::dhcp6::{Holder6, Reservation6};
use crate::mac::MacAddr;

/// Profiles as the registry gives them: MAC 52:54:00:00:00:07 reserves
/// `addr` and has boot parameters; one DUID-UUID machine reserves ::60.
struct Profiles {
    addr: Ipv6Addr,
}

const UUID: [u8; 18] = [0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

impl ProfileLookup for Profiles {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        let mine = client.mac == MAC;
        Some(ClientProfile {
            name: if mine { "mine" } else { "default" }.into(),
            boot: BootFiles {
                other: Some("hello.txt".into()),
                ..Default::default()
            },
            fixed_address6: mine.then_some(self.addr),
            boot_params6: if mine {
                vec!["console=ttyS0".into(), "ip=dhcp6".into()]
            } else {
                Vec::new()
            },
            ..Default::default()
        })
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        Vec::new()
    }
    fn reservations6(&self) -> Vec<Reservation6> {
        vec![
            Reservation6 {
                holder: Holder6::Mac(MAC),
                addr: self.addr,
            },
            Reservation6 {
                holder: Holder6::Duid(UUID.to_vec()),
                addr: a("fd00:1::60"),
            },
        ]
    }
    fn lookup_duid(&self, duid: &[u8], _: &ClientId) -> Option<ClientProfile> {
        (duid == UUID).then(|| ClientProfile {
            name: "uuid".into(),
            fixed_address6: Some(a("fd00:1::60")),
            ..Default::default()
        })
    }
}

fn with_profiles(addr: &str) -> (Core6, Profiles) {
    let p = Profiles { addr: a(addr) };
    let mut c = core();
    c.set_profile_reservations(p.reservations6());
    (c, p)
}

/// A rapid-commit SOLICIT of `client` decided with `p`: its address.
fn bound_with(c: &mut Core6, p: &Profiles, client: u8, now: u64) -> Option<Ipv6Addr> {
    let mut m = msg(MessageType::Solicit, client, &[(1, None)]);
    m.opts_mut().insert(DhcpOption::RapidCommit);
    let d = c.handle(&m, &ctx(), p, now);
    addrs(&d.reply?).first().map(|x| x.1)
}

#[test]
fn a_profile_reservation_by_mac_wins_and_is_kept_from_others() {
    // the first address of the range is reserved for client 7
    let (mut c, p) = with_profiles("fd00:1::100");
    assert_eq!(bound_with(&mut c, &p, 8, 1), Some(a("fd00:1::101")));
    assert_eq!(bound_with(&mut c, &p, 7, 1), Some(a("fd00:1::100")));
    // outside the range, on the pool's /64: given all the same
    let (mut c, p) = with_profiles("fd00:1::50");
    assert_eq!(bound_with(&mut c, &p, 7, 1), Some(a("fd00:1::50")));
    // on another /64: not given (no address rather than another)
    let (mut c, p) = with_profiles("fd00:2::50");
    assert_eq!(bound_with(&mut c, &p, 7, 1), None);
}

#[test]
fn a_reservation_by_duid_serves_a_client_whose_duid_holds_no_mac() {
    let (mut c, p) = with_profiles("fd00:1::50");
    let mut m = msg(MessageType::Solicit, 9, &[(1, None)]);
    m.opts_mut().insert(DhcpOption::ClientId(UUID.to_vec()));
    m.opts_mut().insert(DhcpOption::RapidCommit);
    let peer = Context6 {
        peer: a("fe80::1234:5678:9abc:def0"),
        ours: ctx().ours,
    };
    let d = c.handle(&m, &peer, &p, 1);
    assert_eq!(d.profile.as_deref(), Some("uuid"));
    assert_eq!(addrs(&d.reply.unwrap())[0].1, a("fd00:1::60"));
    // nobody else gets it, whatever the order
    for n in 10..13 {
        assert_ne!(bound_with(&mut c, &p, n, 2), Some(a("fd00:1::60")));
    }
}

#[test]
fn netboot_yaml_reservations_still_count_beside_the_profiles() {
    let (mut c, p) = with_profiles("fd00:1::50");
    c.cfg.reservations = vec![Reservation6 {
        holder: Holder6::Duid(client_duid(8)),
        addr: a("fd00:1::100"),
    }];
    assert_eq!(bound_with(&mut c, &p, 9, 1), Some(a("fd00:1::101")));
    assert_eq!(bound_with(&mut c, &p, 8, 1), Some(a("fd00:1::100")));
}

#[test]
fn a_client_renewing_another_address_moves_to_its_reservation() {
    let mut c = core();
    let old = bound(&mut c, 7, 1, 100);
    assert_eq!(old, a("fd00:1::100"));
    // a reload reserves ::50 for it
    let p = Profiles {
        addr: a("fd00:1::50"),
    };
    c.set_profile_reservations(p.reservations6());
    let renew = to_us(
        msg(MessageType::Renew, 7, &[(1, Some(&old.to_string()))]),
        &c,
    );
    let d = c.handle(&renew, &ctx(), &p, 200);
    assert_eq!(
        d.reason.to_string(),
        "moved to its reserved address fd00:1::50; fd00:1::100 given back (lifetime 0)"
    );
    let mut got = addrs(&wire(d.reply.as_ref().unwrap()));
    got.sort_by_key(|x| std::cmp::Reverse(x.2));
    assert_eq!(
        got,
        vec![(1, a("fd00:1::50"), 3600), (1, old, 0)],
        "the reserved address, and the old one with lifetime 0"
    );
    let states: Vec<(Ipv6Addr, LeaseState)> = d.changes.iter().map(|l| (l.addr, l.state)).collect();
    assert_eq!(
        states,
        vec![
            (a("fd00:1::50"), LeaseState::Bound),
            (old, LeaseState::Released)
        ]
    );
    // the old address is free again for others
    let lease = c.table().get(old).unwrap();
    assert_eq!((lease.state, lease.expires), (LeaseState::Released, 200));
    assert!(c.table().free_for(old, &client_duid(8), 201));
}

#[test]
fn an_address_reserved_for_another_is_not_renewed_nor_kept() {
    let mut c = core();
    let ip = bound(&mut c, 8, 1, 100);
    assert_eq!(ip, a("fd00:1::100"));
    // a reload reserves client 8's address for client 7
    let p = Profiles { addr: ip };
    c.set_profile_reservations(p.reservations6());
    let renew = to_us(
        msg(MessageType::Renew, 8, &[(1, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&renew, &ctx(), &p, 200);
    assert_eq!(
        ia_status(d.reply.as_ref().unwrap()),
        Some(Status::NoBinding)
    );
    // a new SOLICIT of client 8 gets another address
    assert_eq!(bound_with(&mut c, &p, 8, 201), Some(a("fd00:1::101")));
}

#[test]
fn a_request_binding_the_reservation_releases_the_old_lease() {
    let mut c = core();
    let old = bound(&mut c, 7, 1, 100);
    let p = Profiles {
        addr: a("fd00:1::50"),
    };
    c.set_profile_reservations(p.reservations6());
    let req = to_us(
        msg(MessageType::Request, 7, &[(1, Some(&old.to_string()))]),
        &c,
    );
    let d = c.handle(&req, &ctx(), &p, 200);
    assert_eq!(
        addrs(d.reply.as_ref().unwrap()),
        vec![(1, a("fd00:1::50"), 3600)]
    );
    assert!(d
        .changes
        .iter()
        .any(|l| l.addr == old && l.state == LeaseState::Released));
}

#[test]
fn option_60_is_encoded_length_prefixed_and_sent_only_when_asked() {
    assert_eq!(
        boot::encode_params(&["a".into(), "bc".into()]),
        Some(vec![0, 1, b'a', 0, 2, b'b', b'c'])
    );
    let (mut c, p) = with_profiles("fd00:1::50");
    let plain = msg(MessageType::Solicit, 7, &[(1, None)]);
    let r = wire(&c.handle(&plain, &ctx(), &p, 1).reply.unwrap());
    assert!(r.opts().get(OptionCode::OptBootfileParam).is_none());
    assert_eq!(boot::boot_params(r.opts()), None);
    let mut asking = msg(MessageType::Solicit, 7, &[(1, None)]);
    asking.opts_mut().insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(59), OptionCode::from(60)],
    }));
    let r = wire(&c.handle(&asking, &ctx(), &p, 1).reply.unwrap());
    assert_eq!(
        boot::boot_params(r.opts()),
        Some(vec!["console=ttyS0".to_string(), "ip=dhcp6".to_string()])
    );
    // a client whose profile has none gets none, asked or not
    let mut other = msg(MessageType::InformationRequest, 8, &[]);
    other.opts_mut().insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(60)],
    }));
    let r = wire(&c.handle(&other, &ctx(), &p, 1).reply.unwrap());
    assert_eq!(boot::boot_params(r.opts()), None);
}
