use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::events::event::{Event, Exchange, Progress, Protocol, Rogue, Started};

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn mac() -> MacAddr {
    "52:54:00:10:00:01".parse().unwrap()
}

fn dhcp(at: u64, message: &str, reply: Option<&str>, ip: Option<&str>) -> Event {
    Event::Dhcp(Exchange {
        at: t(at),
        mac: mac(),
        message: message.into(),
        reply: reply.map(Into::into),
        address: ip.map(|a| a.parse().unwrap()),
        reason: "pool".into(),
        profile: Some("lab".into()),
        latency: Duration::from_micros(300),
    })
}

fn started(id: u64, at: u64, file: &str) -> Event {
    let peer: SocketAddr = "10.0.0.5:2000".parse().unwrap();
    Event::TransferStarted(Started {
        id,
        protocol: Protocol::Tftp,
        at: t(at),
        peer,
        mac: Some(mac()),
        file: file.into(),
        size: Some(1000),
        upload: false,
        moved: Default::default(),
    })
}

fn ended(id: u64, at: u64, outcome: Outcome, bytes: u64) -> Event {
    Event::TransferEnded(Ended {
        id,
        at: t(at),
        outcome,
        bytes,
        retransmissions: 2,
    })
}

fn whats(live: &Live) -> Vec<String> {
    let client = live.client_of(mac()).unwrap();
    client.boot.iter().map(|s| s.what.clone()).collect()
}

#[test]
fn a_boot_reads_as_its_timeline_with_each_file_and_its_outcome() {
    let mut live = Live::default();
    live.apply(&dhcp(0, "DISCOVER", Some("OFFER"), Some("10.0.0.5")), t(0));
    live.apply(&dhcp(1, "REQUEST", Some("ACK"), Some("10.0.0.5")), t(1));
    live.apply(&started(7, 2, "undionly.kpxe"), t(2));
    let p = Event::TransferProgress(Progress { id: 7, bytes: 400 });
    assert_eq!(
        live.apply(&p, t(3)).bytes,
        Some((Protocol::Tftp, false, 400))
    );
    assert_eq!(live.running().next().unwrap().bytes, 400);
    let end = ended(7, 4, Outcome::Done, 1000);
    assert_eq!(
        live.apply(&end, t(4)).bytes,
        Some((Protocol::Tftp, false, 600))
    );
    assert_eq!(live.running().count(), 0);
    assert_eq!(
        whats(&live),
        [
            "DISCOVER",
            "OFFER 10.0.0.5",
            "REQUEST",
            "ACK 10.0.0.5",
            "undionly.kpxe"
        ]
    );
    let client = live.client_of(mac()).unwrap();
    assert_eq!(client.profile.as_deref(), Some("lab"));
    assert_eq!(client.address, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(client.boot[4].detail, "done: 1000 bytes in 2.0 s");
    let done = live.finished().next().unwrap();
    assert_eq!(done.outcome, Some(Outcome::Done));
    assert_eq!(done.retransmissions, 2);
}

#[test]
fn where_a_boot_stopped_is_the_last_step() {
    let mut live = Live::default();
    live.apply(&started(1, 0, "pxelinux.0"), t(0));
    let why = "client stopped answering".to_string();
    live.apply(&ended(1, 9, Outcome::Gone { why }, 512), t(9));
    let client = live.client_of(mac()).unwrap();
    let last = client.boot.back().unwrap();
    assert_eq!(last.what, "pxelinux.0");
    assert_eq!(
        last.detail,
        "stopped after 512 bytes: client stopped answering"
    );
    live.apply(&started(2, 10, "missing.efi"), t(10));
    let why = "File not found".to_string();
    live.apply(&ended(2, 10, Outcome::Failed { code: 1, why }, 0), t(10));
    let last = live
        .client_of(mac())
        .unwrap()
        .boot
        .back()
        .unwrap()
        .detail
        .clone();
    assert_eq!(last, "failed (1): File not found");
}

#[test]
fn a_discover_after_a_long_silence_starts_a_new_boot_and_retries_do_not() {
    let mut live = Live::default();
    live.apply(&dhcp(0, "DISCOVER", Some("OFFER"), Some("10.0.0.5")), t(0));
    live.apply(&dhcp(4, "DISCOVER", Some("OFFER"), Some("10.0.0.5")), t(4));
    assert_eq!(whats(&live).len(), 4);
    live.apply(&dhcp(1000, "DISCOVER", None, None), t(1000));
    assert_eq!(whats(&live), ["DISCOVER", "no reply"]);
}

#[test]
fn every_list_is_bounded() {
    let mut live = Live::default();
    for id in 0..(FINISHED_KEPT as u64 + 10) {
        live.apply(&started(id, id, "f"), t(id));
        live.apply(&ended(id, id, Outcome::Done, 1), t(id));
    }
    assert_eq!(live.finished().count(), FINISHED_KEPT);
    assert!(live.client_of(mac()).unwrap().boot.len() <= STEPS_KEPT);
    for i in 0..(CLIENTS_KEPT as u64 + 5) {
        let b = i.to_be_bytes();
        let other: MacAddr = format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", b[4], b[5], b[6], b[7])
            .parse()
            .unwrap();
        let Event::Dhcp(mut x) = dhcp(100 + i, "DISCOVER", None, None) else {
            unreachable!()
        };
        x.mac = other;
        live.apply(&Event::Dhcp(x), t(100 + i));
    }
    let kept = live.clients().len();
    assert!(
        kept <= CLIENTS_KEPT && kept > CLIENTS_KEPT * 7 / 8,
        "{kept}"
    );
    assert!(
        live.client_of(mac()).is_none(),
        "the stalest client is forgotten first"
    );
}

#[test]
fn another_dhcp_server_is_remembered_once_with_its_clients() {
    let mut live = Live::default();
    let rogue = |at| {
        Event::RogueDhcp(Rogue {
            at: t(at),
            server: "10.0.0.99".parse().unwrap(),
            client: mac(),
            message: "OFFER".into(),
            interface: "br0".into(),
        })
    };
    assert!(live.apply(&rogue(0), t(0)).new_rogue);
    assert!(!live.apply(&rogue(5), t(5)).new_rogue);
    let server = live.rogues().next().unwrap();
    assert_eq!((server.replies, server.clients.len()), (2, 1));
    assert_eq!(server.last_seen, t(5));
}
