//! Messages about addresses a client holds (RENEW, REBIND, RELEASE,
//! DECLINE, CONFIRM) and INFORMATION-REQUEST, through the DHCPv6 core as a
//! client would send them.

use dhcproto::v6::{DhcpOption, MessageType, Status};

use super::tests::{a, addrs, bound, core, ctx, ia_status, msg, to_us, top_status, wire, Files};
use super::*;
use crate::dhcp::lease::LeaseState;

#[test]
fn renew_extends_and_an_unknown_ia_gets_no_binding() {
    let mut c = core();
    let ip = bound(&mut c, 7, 1, 100);
    let renew = to_us(
        msg(MessageType::Renew, 7, &[(1, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&renew, &ctx(), &Files, 2000);
    assert_eq!(addrs(d.reply.as_ref().unwrap()), vec![(1, ip, 3600)]);
    assert_eq!(d.changes[0].expires, 2000 + 3600);
    // an address another client holds is not extended for this one
    let theirs = to_us(
        msg(MessageType::Renew, 8, &[(5, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&theirs, &ctx(), &Files, 2001);
    assert_eq!(
        ia_status(d.reply.as_ref().unwrap()),
        Some(Status::NoBinding)
    );
    assert!(d.changes.is_empty());
    assert_eq!(d.reason, Reason6::NoBinding);
}

#[test]
fn rebind_extends_ours_and_zeroes_what_is_not_on_link() {
    let mut c = core();
    let ip = bound(&mut c, 7, 1, 100);
    let d = c.handle(
        &msg(MessageType::Rebind, 7, &[(1, Some(&ip.to_string()))]),
        &ctx(),
        &Files,
        3000,
    );
    assert_eq!(addrs(d.reply.as_ref().unwrap()), vec![(1, ip, 3600)]);
    let d = c.handle(
        &msg(MessageType::Rebind, 7, &[(2, Some("2001:db8::5"))]),
        &ctx(),
        &Files,
        3000,
    );
    assert_eq!(
        addrs(d.reply.as_ref().unwrap()),
        vec![(2, a("2001:db8::5"), 0)]
    );
}

#[test]
fn an_expired_lease_is_rebound_to_its_owner_and_then_reused_by_others() {
    let mut c = core();
    let ip = bound(&mut c, 7, 1, 100);
    // expired: the owner renewing still gets it back (nobody took it)
    let renew = to_us(
        msg(MessageType::Renew, 7, &[(1, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&renew, &ctx(), &Files, 100 + 3600 + 5);
    assert_eq!(addrs(d.reply.as_ref().unwrap())[0].1, ip);
    // fill the pool, let everything expire: a newcomer gets the oldest
    for n in 20..23 {
        bound(&mut c, n, 1, 200);
    }
    let d = c.handle(
        &msg(MessageType::Solicit, 30, &[(1, None)]),
        &ctx(),
        &Files,
        300,
    );
    assert_eq!(d.reason, Reason6::NoAddrs("the pool has no free address"));
    assert_eq!(
        top_status(d.reply.as_ref().unwrap()),
        Some(Status::NoAddrsAvail)
    );
    let d = c.handle(
        &msg(MessageType::Solicit, 30, &[(1, None)]),
        &ctx(),
        &Files,
        5000,
    );
    assert_eq!(addrs(d.reply.as_ref().unwrap())[0].1, a("fd00:1::101"));
}

#[test]
fn release_and_decline_change_the_lease() {
    let mut c = core();
    let ip = bound(&mut c, 7, 1, 100);
    let rel = to_us(
        msg(MessageType::Release, 7, &[(1, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&rel, &ctx(), &Files, 200);
    assert_eq!(top_status(d.reply.as_ref().unwrap()), Some(Status::Success));
    assert_eq!(d.changes[0].state, LeaseState::Released);
    assert_eq!(d.reason, Reason6::Released(vec![ip]));
    // a release of what it does not hold: NoBinding for that IA
    let d = c.handle(&rel, &ctx(), &Files, 201);
    assert_eq!(
        ia_status(d.reply.as_ref().unwrap()),
        Some(Status::NoBinding)
    );
    // the same client comes back to the same address
    assert_eq!(bound(&mut c, 7, 1, 300), ip);
    let dec = to_us(
        msg(MessageType::Decline, 7, &[(1, Some(&ip.to_string()))]),
        &c,
    );
    let d = c.handle(&dec, &ctx(), &Files, 400);
    assert_eq!(d.changes[0].state, LeaseState::Declined);
    assert_eq!(d.changes[0].expires, 400 + 600);
    // declined: not even its last holder gets it while the hold lasts
    assert_ne!(bound(&mut c, 7, 1, 500), ip);
}

#[test]
fn confirm_says_whether_the_addresses_are_on_link() {
    let mut c = core();
    let d = c.handle(
        &msg(MessageType::Confirm, 7, &[(1, Some("fd00:1::5"))]),
        &ctx(),
        &Files,
        1,
    );
    assert_eq!(top_status(d.reply.as_ref().unwrap()), Some(Status::Success));
    let d = c.handle(
        &msg(MessageType::Confirm, 7, &[(1, Some("fd00:9::5"))]),
        &ctx(),
        &Files,
        1,
    );
    assert_eq!(
        top_status(d.reply.as_ref().unwrap()),
        Some(Status::NotOnLink)
    );
    let d = c.handle(
        &msg(MessageType::Confirm, 7, &[(1, None)]),
        &ctx(),
        &Files,
        1,
    );
    assert!(d.reply.is_none());
}

#[test]
fn information_request_gets_the_boot_url_and_no_address() {
    let mut c = core();
    c.cfg.dns = vec![a("fd00:1::53")];
    let m = msg(MessageType::InformationRequest, 7, &[]);
    let d = c.handle(&m, &ctx(), &Files, 1);
    let r = wire(&d.reply.unwrap());
    assert_eq!(r.msg_type(), MessageType::Reply);
    assert!(addrs(&r).is_empty());
    assert_eq!(
        boot::boot_url(r.opts()).as_deref(),
        Some("tftp://[fd00:1::1]/hello.txt")
    );
    assert_eq!(
        r.opts().get(OptionCode::DomainNameServers),
        Some(&DhcpOption::DomainNameServers(vec![a("fd00:1::53")]))
    );
}

#[test]
fn stateless_mode_answers_information_but_advertises_no_address() {
    let mut c = core();
    c.cfg.pools.clear();
    let d = c.handle(
        &msg(MessageType::Solicit, 7, &[(1, None)]),
        &ctx(),
        &Files,
        1,
    );
    assert_eq!(
        top_status(d.reply.as_ref().unwrap()),
        Some(Status::NoAddrsAvail)
    );
    let d = c.handle(
        &msg(MessageType::InformationRequest, 7, &[]),
        &ctx(),
        &Files,
        1,
    );
    assert!(d.reply.is_some());
}
