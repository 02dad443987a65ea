//! Scripted arrivals and releases against the admission core.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{Admission, Client, Decision, Limits, Started};

/// The client at 10.0.0.HOST:PORT with its first request.
fn peer(host: u8, port: u16) -> Client {
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)), port);
    Client::new(addr, b"\x00\x01boot.efi\x00octet\x00")
}

fn limits(max_transfers: usize, max_per_client: usize, max_held: usize) -> Limits {
    Limits {
        max_transfers,
        max_per_client,
        max_held,
        patience: Duration::from_secs(8),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The clients of the requests started, in order.
fn peers(started: &[Started<u32>]) -> Vec<Client> {
    started.iter().map(|s| s.client).collect()
}

#[test]
fn under_the_limits_every_request_starts() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(4, 2, 10));
    for port in 1..=2 {
        assert_eq!(a.request(peer(1, port), 7, t0), Decision::Start(7));
    }
    assert_eq!(a.request(peer(2, 1), 8, t0), Decision::Start(8));
    assert_eq!(a.running(), 3);
    assert_eq!(a.held(), 0);
}

#[test]
fn over_max_transfers_a_request_is_held_and_starts_when_a_slot_frees() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(2, 16, 10));
    a.request(peer(1, 1), 1, t0);
    a.request(peer(2, 1), 2, t0);
    assert_eq!(
        a.request(peer(3, 1), 3, t0 + ms(5)),
        Decision::Held { evicted: None }
    );
    let started = a.finish(peer(1, 1), t0 + ms(300));
    assert_eq!(
        started,
        vec![Started {
            client: peer(3, 1),
            item: 3,
            waited: ms(295)
        }]
    );
    assert_eq!((a.running(), a.held()), (2, 0));
}

#[test]
fn one_address_may_use_free_slots_beyond_its_share_but_leaves_headroom() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(10, 3, 100));
    // Alone, 10.0.0.1 gets 3 as its share, then up to 10 - 3 = 7 in all:
    // 3 slots stay free for someone else.
    let decisions: Vec<bool> = (1..=9)
        .map(|port| matches!(a.request(peer(1, port), 0, t0), Decision::Start(_)))
        .collect();
    assert_eq!(decisions.iter().filter(|s| **s).count(), 7);
    assert!(decisions[..7].iter().all(|s| *s));
    assert_eq!(a.held(), 2);
    // A newcomer starts at once, in the headroom.
    assert_eq!(a.request(peer(2, 1), 5, t0), Decision::Start(5));
}

#[test]
fn a_flooding_address_cannot_starve_another() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(4, 1, 1000));
    // 10.0.0.1 floods: 3 run (4 less 1 of headroom), 100 held.
    for port in 1..=103 {
        a.request(peer(1, port), 0, t0);
    }
    assert_eq!((a.running(), a.held()), (3, 100));
    // 10.0.0.2 starts in the headroom at once; its next three are held
    // behind the flood's hundred...
    assert!(matches!(a.request(peer(2, 1), 0, t0), Decision::Start(_)));
    for port in 2..=4 {
        a.request(peer(2, port), 0, t0 + ms(10));
    }
    // ...yet, as transfers end (oldest first), slots go to the address
    // running fewer, so they start within a few releases, not after 100.
    let mut running: VecDeque<Client> = (1..=3).map(|p| peer(1, p)).collect();
    running.push_back(peer(2, 1));
    let (mut flood, mut other) = (0, 0);
    let mut t = t0 + ms(100);
    while other < 3 {
        let done = running.pop_front().expect("something runs");
        for s in a.finish(done, t) {
            if s.client.ip() == peer(2, 0).ip() {
                other += 1;
            } else {
                flood += 1;
            }
            running.push_back(s.client);
        }
        t += ms(10);
    }
    assert!(flood <= 3, "the flood started {flood} first");
}

#[test]
fn a_slot_kept_as_headroom_goes_to_no_one_beyond_its_share() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(2, 1, 10));
    a.request(peer(1, 1), 0, t0);
    a.request(peer(2, 1), 0, t0);
    a.request(peer(1, 2), 0, t0);
    // 10.0.0.1 runs its share (1) and only one slot is free: it stays free
    // for another address...
    assert!(a.finish(peer(2, 1), t0).is_empty());
    assert!(matches!(a.request(peer(3, 1), 0, t0), Decision::Start(_)));
    // ...and 10.0.0.1's next request waits behind its held one.
    assert_eq!(
        a.request(peer(1, 3), 0, t0),
        Decision::Held { evicted: None }
    );
    assert_eq!(peers(&a.finish(peer(1, 1), t0)), vec![peer(1, 2)]);
}

#[test]
fn within_an_address_the_oldest_held_request_starts_first() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(1, 1, 10));
    a.request(peer(1, 1), 0, t0);
    for port in 2..=5 {
        a.request(peer(1, port), u32::from(port), t0 + ms(u64::from(port)));
    }
    let mut order = Vec::new();
    let mut current = peer(1, 1);
    for i in 0..4 {
        let started = a.finish(current, t0 + ms(100 + i));
        assert_eq!(started.len(), 1);
        current = started[0].client;
        order.push(started[0].item);
    }
    assert_eq!(order, vec![2, 3, 4, 5]);
}

#[test]
fn a_repeated_request_while_held_refreshes_it_and_is_not_held_twice() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(1, 1, 10));
    a.request(peer(1, 1), 0, t0);
    assert_eq!(
        a.request(peer(2, 1), 1, t0),
        Decision::Held { evicted: None }
    );
    // Repeated every second for 20 s: one entry, kept alive throughout.
    for s in 1..=20 {
        assert_eq!(
            a.request(peer(2, 1), 99, t0 + Duration::from_secs(s)),
            Decision::Refreshed
        );
        assert_eq!(a.held(), 1);
    }
    let started = a.finish(peer(1, 1), t0 + ms(20_500));
    assert_eq!(peers(&started), vec![peer(2, 1)]);
    assert_eq!(started[0].item, 1, "the first copy is the one held");
    // Its repeats now belong to the running transfer.
    assert_eq!(a.request(peer(2, 1), 2, t0 + ms(20_600)), Decision::Running);
}

#[test]
fn a_held_request_whose_client_went_silent_is_dropped() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(1, 1, 10));
    a.request(peer(1, 1), 0, t0);
    a.request(peer(2, 1), 1, t0); // never repeated
    a.request(peer(3, 1), 2, t0);
    a.request(peer(3, 1), 2, t0 + Duration::from_secs(6)); // still asking
    let started = a.finish(peer(1, 1), t0 + Duration::from_secs(9));
    assert_eq!(peers(&started), vec![peer(3, 1)]);
    assert_eq!(a.held(), 0);
    // Nothing left: the next release starts nobody.
    assert!(a
        .finish(peer(3, 1), t0 + Duration::from_secs(10))
        .is_empty());
}

#[test]
fn held_requests_are_bounded_and_the_fattest_address_yields() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(1, 1, 4));
    a.request(peer(9, 1), 0, t0);
    for port in 1..=4 {
        assert_eq!(
            a.request(peer(1, port), 0, t0),
            Decision::Held { evicted: None }
        );
    }
    // Full. More from the same address: dropped silently.
    assert_eq!(a.request(peer(1, 5), 0, t0), Decision::Dropped);
    // Another address takes the place of the flood's newest.
    assert_eq!(
        a.request(peer(2, 1), 0, t0),
        Decision::Held {
            evicted: Some(peer(1, 4))
        }
    );
    assert_eq!(
        a.request(peer(3, 1), 0, t0),
        Decision::Held {
            evicted: Some(peer(1, 3))
        }
    );
    assert_eq!(
        a.request(peer(4, 1), 0, t0),
        Decision::Held {
            evicted: Some(peer(1, 2))
        }
    );
    // One each: nobody holds two more than 10.0.0.5 does.
    assert_eq!(a.request(peer(5, 1), 0, t0), Decision::Dropped);
    assert_eq!(a.held(), 4);
    // The evicted client asks again: held anew once there is room.
    a.purge(t0);
    assert_eq!(a.request(peer(1, 4), 0, t0), Decision::Dropped);
}

#[test]
fn a_full_queue_makes_room_by_dropping_silent_clients_first() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(1, 1, 2));
    a.request(peer(9, 1), 0, t0);
    a.request(peer(1, 1), 0, t0);
    a.request(peer(1, 2), 0, t0);
    let later = t0 + Duration::from_secs(9);
    assert_eq!(
        a.request(peer(1, 3), 0, later),
        Decision::Held { evicted: None }
    );
    assert_eq!(a.held(), 1);
}

#[test]
fn a_storm_from_one_address_all_starts_eventually() {
    // 500 clients from one address, 64 slots, each transfer 50 ms: every
    // request starts, none dropped, each within the patience.
    let t0 = Instant::now();
    let mut a = Admission::new(limits(64, 16, 1024));
    let mut running = VecDeque::new();
    for port in 1..=500u16 {
        match a.request(peer(1, port), 0, t0) {
            Decision::Start(_) => running.push_back((peer(1, port), t0 + ms(50))),
            Decision::Held { evicted: None } => {}
            other => panic!("{port}: {other:?}"),
        }
    }
    assert_eq!(running.len(), 48);
    let mut started = running.len();
    let mut longest = Duration::ZERO;
    while let Some((done, at)) = running.pop_front() {
        for s in a.finish(done, at) {
            longest = longest.max(s.waited);
            started += 1;
            running.push_back((s.client, at + ms(50)));
        }
    }
    assert_eq!(started, 500);
    assert!(longest < Duration::from_secs(1), "{longest:?}");
}

#[test]
fn limits_of_zero_mean_one() {
    let t0 = Instant::now();
    let mut a = Admission::new(limits(0, 0, 0));
    assert_eq!(a.request(peer(1, 1), 1, t0), Decision::Start(1));
    assert_eq!(
        a.request(peer(1, 2), 2, t0),
        Decision::Held { evicted: None }
    );
}

#[test]
fn another_request_from_the_port_of_a_running_transfer_is_a_new_client() {
    // A client ended and a new one was given its port while the server
    // still runs the old transfer: the new request is not a repeat.
    let t0 = Instant::now();
    let mut a = Admission::new(limits(10, 4, 10));
    let old = peer(1, 1);
    let new = Client::new(old.peer, b"\x00\x01other.efi\x00octet\x00");
    assert_eq!(a.request(old, 1, t0), Decision::Start(1));
    assert_eq!(a.request(old, 1, t0), Decision::Running);
    assert_eq!(a.request(new, 2, t0), Decision::Start(2));
    assert_eq!(a.running(), 2);
}
