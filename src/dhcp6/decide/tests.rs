//! Addresses handed out (SOLICIT, REQUEST, Rapid Commit, reservations, a
//! restored table), the server-id rules and the boot URL, through the
//! DHCPv6 core as a client would send them; the helpers `held_tests` shares.

use std::net::{Ipv4Addr, Ipv6Addr};

use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, Message, MessageType, OptionCode, Status, UserClass,
    VendorClass, IANA,
};
use dhcproto::{Decodable, Encodable};

use super::*;
use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::lease::LeaseState;
use crate::dhcp6::duid;
use crate::dhcp6::{Dhcp6Config, Holder6, Pool6, Reservation6};
use crate::mac::MacAddr;

pub(super) struct Files;

impl ProfileLookup for Files {
    fn lookup(&self, _client: &ClientId) -> Option<ClientProfile> {
        Some(ClientProfile {
            name: "default".into(),
            boot: BootFiles {
                bios: Some("undionly.kpxe".into()),
                uefi_x64: Some("ipxe.efi".into()),
                ipxe: Some("boot.ipxe".into()),
                other: Some("hello.txt".into()),
                ..Default::default()
            },
            ..Default::default()
        })
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        Vec::new()
    }
}

pub(super) const MAC: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 7]);

pub(super) fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub(super) fn core() -> Core6 {
    let mut cfg = Dhcp6Config::new(duid::server_ll(MacAddr([2, 0, 0, 0, 0, 1])));
    cfg.pools = vec![Pool6::parse("fd00:1::100-fd00:1::103").unwrap()];
    cfg.http_port = Some(8080);
    Core6::new(cfg)
}

pub(super) fn ctx() -> Context6 {
    Context6 {
        peer: a("fe80::5054:ff:fe00:7"),
        ours: a("fd00:1::1"),
    }
}

pub(super) fn client_duid(n: u8) -> Vec<u8> {
    let mut mac = MAC;
    mac.0[5] = n;
    duid::server_ll(mac)
}

pub(super) fn msg(kind: MessageType, client: u8, ias: &[(u32, Option<&str>)]) -> Message {
    let mut m = Message::new_with_id(kind, [1, 2, 3]);
    m.opts_mut()
        .insert(DhcpOption::ClientId(client_duid(client)));
    for (id, addr) in ias {
        let mut opts = DhcpOptions::new();
        if let Some(addr) = addr {
            opts.insert(DhcpOption::IAAddr(IAAddr {
                addr: a(addr),
                preferred_life: 0,
                valid_life: 0,
                opts: DhcpOptions::new(),
            }));
        }
        m.opts_mut().insert(DhcpOption::IANA(IANA {
            id: *id,
            t1: 0,
            t2: 0,
            opts,
        }));
    }
    m
}

pub(super) fn to_us(mut m: Message, c: &Core6) -> Message {
    m.opts_mut()
        .insert(DhcpOption::ServerId(c.config().server_duid.clone()));
    m
}

pub(super) fn addrs(m: &Message) -> Vec<(u32, Ipv6Addr, u32)> {
    let mut out = Vec::new();
    for o in m.opts().iter() {
        if let DhcpOption::IANA(ia) = o {
            for i in ia.opts.iter() {
                if let DhcpOption::IAAddr(x) = i {
                    out.push((ia.id, x.addr, x.valid_life));
                }
            }
        }
    }
    out
}

pub(super) fn top_status(m: &Message) -> Option<Status> {
    match m.opts().get(OptionCode::StatusCode) {
        Some(DhcpOption::StatusCode(s)) => Some(s.status),
        _ => None,
    }
}

pub(super) fn ia_status(m: &Message) -> Option<Status> {
    m.opts().iter().find_map(|o| match o {
        DhcpOption::IANA(ia) => match ia.opts.get(OptionCode::StatusCode) {
            Some(DhcpOption::StatusCode(s)) => Some(s.status),
            _ => None,
        },
        _ => None,
    })
}

/// What goes on the wire decodes back to the same message.
pub(super) fn wire(m: &Message) -> Message {
    Message::from_bytes(&m.to_vec().unwrap()).unwrap()
}

/// A client bound (Rapid Commit) with one IA; its address.
pub(super) fn bound(c: &mut Core6, client: u8, iaid: u32, now: u64) -> Ipv6Addr {
    let mut m = msg(MessageType::Solicit, client, &[(iaid, None)]);
    m.opts_mut().insert(DhcpOption::RapidCommit);
    let d = c.handle(&m, &ctx(), &Files, now);
    addrs(&d.reply.unwrap())[0].1
}

#[test]
fn solicit_advertises_then_request_binds_and_persists() {
    let mut c = core();
    let d = c.handle(
        &msg(MessageType::Solicit, 7, &[(9, None)]),
        &ctx(),
        &Files,
        1000,
    );
    let adv = wire(&d.reply.unwrap());
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert_eq!(adv.xid(), [1, 2, 3]);
    assert_eq!(addrs(&adv), vec![(9, a("fd00:1::100"), 3600)]);
    assert!(d.changes.is_empty(), "an advertise persists nothing");
    assert_eq!(
        adv.opts().get(OptionCode::ClientId),
        Some(&DhcpOption::ClientId(client_duid(7)))
    );
    let req = to_us(
        msg(MessageType::Request, 7, &[(9, Some("fd00:1::100"))]),
        &c,
    );
    let d = c.handle(&req, &ctx(), &Files, 1001);
    let reply = wire(&d.reply.unwrap());
    assert_eq!(reply.msg_type(), MessageType::Reply);
    assert_eq!(addrs(&reply), vec![(9, a("fd00:1::100"), 3600)]);
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].state, LeaseState::Bound);
    assert_eq!(d.changes[0].expires, 1001 + 3600);
    assert_eq!(d.changes[0].mac, Some(MacAddr([0x52, 0x54, 0, 0, 0, 7])));
    // another client gets another address
    let d = c.handle(
        &msg(MessageType::Solicit, 8, &[(1, None)]),
        &ctx(),
        &Files,
        1002,
    );
    assert_eq!(addrs(&d.reply.unwrap())[0].1, a("fd00:1::101"));
}

#[test]
fn rapid_commit_replies_at_once_only_when_enabled() {
    for enabled in [true, false] {
        let mut c = core();
        c.cfg.rapid_commit = enabled;
        let mut m = msg(MessageType::Solicit, 7, &[(1, None)]);
        m.opts_mut().insert(DhcpOption::RapidCommit);
        let d = c.handle(&m, &ctx(), &Files, 10);
        let r = wire(&d.reply.unwrap());
        if enabled {
            assert_eq!(r.msg_type(), MessageType::Reply);
            assert!(r.opts().get(OptionCode::RapidCommit).is_some());
            assert_eq!(d.changes.len(), 1);
            assert!(matches!(d.reason, Reason6::Bound { rapid: true, .. }));
        } else {
            assert_eq!(r.msg_type(), MessageType::Advertise);
            assert!(r.opts().get(OptionCode::RapidCommit).is_none());
            assert!(d.changes.is_empty());
        }
    }
}

#[test]
fn server_id_rules_drop_misdirected_messages() {
    let mut c = core();
    let other = DhcpOption::ServerId(vec![0, 3, 0, 1, 9, 9, 9, 9, 9, 9]);
    let mut req = msg(MessageType::Request, 7, &[(1, None)]);
    let d = c.handle(&req, &ctx(), &Files, 1);
    assert!(d.reply.is_none(), "REQUEST without server id");
    req.opts_mut().insert(other.clone());
    let d = c.handle(&req, &ctx(), &Files, 1);
    assert_eq!(d.reason, Reason6::Silent("for another server"));
    let sol = to_us(msg(MessageType::Solicit, 7, &[(1, None)]), &c);
    assert!(c.handle(&sol, &ctx(), &Files, 1).reply.is_none());
    let mut info = Message::new_with_id(MessageType::InformationRequest, [0; 3]);
    info.opts_mut().insert(other);
    assert!(c.handle(&info, &ctx(), &Files, 1).reply.is_none());
    let mut no_client = Message::new_with_id(MessageType::Solicit, [0; 3]);
    no_client.opts_mut().insert(DhcpOption::ElapsedTime(0));
    assert!(c.handle(&no_client, &ctx(), &Files, 1).reply.is_none());
}

fn with_arch(mut m: Message, arch: u16) -> Message {
    m.opts_mut()
        .insert(DhcpOption::ClientArchType(vec![arch.into()]));
    m.opts_mut().insert(DhcpOption::VendorClass(VendorClass {
        num: 343,
        data: vec![format!("PXEClient:Arch:{arch:05}:UNDI:003016").into_bytes()],
    }));
    m
}

#[test]
fn boot_url_follows_the_architecture_http_class_and_ipxe() {
    let mut c = core();
    let d = c.handle(
        &with_arch(msg(MessageType::Solicit, 7, &[(1, None)]), 7),
        &ctx(),
        &Files,
        1,
    );
    assert_eq!(
        boot::boot_url(d.reply.unwrap().opts()).as_deref(),
        Some("tftp://[fd00:1::1]/ipxe.efi")
    );
    // an HTTP boot client: http URL on our port, vendor class echoed
    let mut m = msg(MessageType::Solicit, 7, &[(1, None)]);
    m.opts_mut()
        .insert(DhcpOption::ClientArchType(vec![16.into()]));
    m.opts_mut().insert(DhcpOption::VendorClass(VendorClass {
        num: 343,
        data: vec![b"HTTPClient:Arch:00016:UNDI:003016".to_vec()],
    }));
    let r = c.handle(&m, &ctx(), &Files, 1).reply.unwrap();
    assert_eq!(
        boot::boot_url(r.opts()).as_deref(),
        Some("http://[fd00:1::1]:8080/ipxe.efi")
    );
    assert_eq!(
        r.opts().get(OptionCode::VendorClass),
        Some(&DhcpOption::VendorClass(VendorClass {
            num: 343,
            data: vec![b"HTTPClient".to_vec()]
        }))
    );
    // iPXE: its script over HTTP
    let mut m = with_arch(msg(MessageType::Solicit, 7, &[(1, None)]), 7);
    m.opts_mut().insert(DhcpOption::UserClass(UserClass {
        data: vec![b"iPXE".to_vec()],
    }));
    let r = c.handle(&m, &ctx(), &Files, 1).reply.unwrap();
    assert_eq!(
        boot::boot_url(r.opts()).as_deref(),
        Some("http://[fd00:1::1]:8080/boot.ipxe")
    );
}

#[test]
fn reservations_by_duid_and_by_mac_win() {
    let mut c = core();
    c.cfg.reservations = vec![
        Reservation6 {
            holder: Holder6::Duid(client_duid(7)),
            addr: a("fd00:1::103"),
        },
        Reservation6 {
            holder: Holder6::Mac(MacAddr([0x52, 0x54, 0, 0, 0, 8])),
            addr: a("fd00:1::102"),
        },
    ];
    assert_eq!(bound(&mut c, 7, 1, 1), a("fd00:1::103"));
    assert_eq!(bound(&mut c, 8, 1, 1), a("fd00:1::102"));
    // nobody else gets a reserved address
    assert_eq!(bound(&mut c, 9, 1, 1), a("fd00:1::100"));
    assert_eq!(bound(&mut c, 10, 1, 1), a("fd00:1::101"));
    let d = c.handle(
        &msg(MessageType::Solicit, 11, &[(1, None)]),
        &ctx(),
        &Files,
        1,
    );
    assert!(matches!(d.reason, Reason6::NoAddrs(_)));
}

#[test]
fn a_restored_table_keeps_addresses_apart() {
    let mut c = core();
    let ip = bound(&mut c, 7, 1, 100);
    let leases: Vec<Lease6> = c.table().all().cloned().collect();
    let mut again = core();
    again.restore(&leases);
    assert_ne!(bound(&mut again, 8, 1, 200), ip);
    assert_eq!(bound(&mut again, 7, 1, 200), ip);
}

/// What OVMF's PXE sends (no Rapid Commit, arch 7, PXEClient) is advertised
/// with Preference 255, so it requests at once rather than collecting
/// ADVERTISEs for 4 s; the REPLY carries no Preference.
#[test]
fn an_advertise_has_preference_255_and_a_reply_none() {
    let mut c = core();
    let solicit = with_arch(msg(MessageType::Solicit, 7, &[(1, None)]), 7);
    let adv = wire(&c.handle(&solicit, &ctx(), &Files, 1).reply.unwrap());
    assert_eq!(adv.msg_type(), MessageType::Advertise);
    assert_eq!(
        adv.opts().get(OptionCode::Preference),
        Some(&DhcpOption::Preference(255))
    );
    let req = to_us(
        msg(MessageType::Request, 7, &[(1, Some("fd00:1::100"))]),
        &c,
    );
    let reply = wire(&c.handle(&req, &ctx(), &Files, 2).reply.unwrap());
    assert_eq!(reply.msg_type(), MessageType::Reply);
    assert_eq!(reply.opts().get(OptionCode::Preference), None);
}

/// OVMF's SOLICIT and REQUEST (arch 7, `PXEClient`) are PXE firmware's and
/// get an RA of their own (`ra::firmware`); iPXE, an HTTP boot client, a
/// client without option 61 and a RENEW do not.
#[test]
fn pxe_firmware_is_told_apart_for_its_router_advertisement() {
    let peer = ctx().peer;
    let fw = |kind| with_arch(msg(kind, 7, &[(1, None)]), 7);
    assert!(boot::is_pxe_firmware(&fw(MessageType::Solicit), peer));
    assert!(boot::is_pxe_firmware(&fw(MessageType::Request), peer));
    assert!(!boot::is_pxe_firmware(&fw(MessageType::Renew), peer));
    let mut ipxe = fw(MessageType::Solicit);
    ipxe.opts_mut().insert(DhcpOption::UserClass(UserClass {
        data: vec![b"iPXE".to_vec()],
    }));
    assert!(!boot::is_pxe_firmware(&ipxe, peer));
    let plain = msg(MessageType::Solicit, 7, &[(1, None)]);
    assert!(!boot::is_pxe_firmware(&plain, peer));
    let mut http = msg(MessageType::Solicit, 7, &[(1, None)]);
    http.opts_mut()
        .insert(DhcpOption::ClientArchType(vec![16.into()]));
    http.opts_mut().insert(DhcpOption::VendorClass(VendorClass {
        num: 343,
        data: vec![b"HTTPClient:Arch:00016:UNDI:003016".to_vec()],
    }));
    assert!(!boot::is_pxe_firmware(&http, peer));
}
