use super::*;

fn table(first: u8, last: u8) -> LeaseTable {
    let s = Subnet::parse("10.0.0.0/24").unwrap();
    let p = PoolConfig::new(
        s,
        Ipv4Addr::new(10, 0, 0, first),
        Ipv4Addr::new(10, 0, 0, last),
    )
    .unwrap();
    LeaseTable::new(&[p], &[Ipv4Addr::new(10, 0, 0, 1)])
}

fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 0, n])
}

#[test]
fn skips_server_network_broadcast_and_reserved() {
    let mut t = table(0, 255);
    t.set_reservations(&[(mac(9), Ipv4Addr::new(10, 0, 0, 2))]);
    let a = t.allocate(0, mac(1), None, 0).unwrap();
    assert_eq!(a.ip, Ipv4Addr::new(10, 0, 0, 3));
    assert!(a.needs_probe);
    t.offer(a.ip, mac(1), 30, false);
    let b = t.allocate(0, mac(2), None, 0).unwrap();
    assert_eq!(b.ip, Ipv4Addr::new(10, 0, 0, 4));
    // same client asks again: same address
    assert_eq!(t.allocate(0, mac(1), None, 1).unwrap().ip, a.ip);
}

#[test]
fn exhaustion_then_oldest_expired_first() {
    let mut t = table(10, 12);
    for (i, exp) in [(1u8, 100u64), (2, 50), (3, 200)] {
        let a = t.allocate(0, mac(i), None, 0).unwrap();
        t.bind(a.ip, mac(i), exp, None);
    }
    assert!(t.allocate(0, mac(4), None, 10).is_none());
    // at 150 two are expired; the one that expired at 50 (10.0.0.11) goes first
    assert_eq!(
        t.allocate(0, mac(4), None, 150).unwrap().ip,
        Ipv4Addr::new(10, 0, 0, 11)
    );
}

#[test]
fn returning_client_gets_its_address_back() {
    let mut t = table(10, 20);
    let a = t.allocate(0, mac(1), None, 0).unwrap();
    t.bind(a.ip, mac(1), 100, None);
    t.release(a.ip, mac(1), 50).unwrap();
    let again = t.allocate(0, mac(1), None, 60).unwrap();
    assert_eq!(again.ip, a.ip);
    assert!(!again.needs_probe);
}

#[test]
fn declined_address_is_skipped_until_hold_ends() {
    let mut t = table(10, 10);
    t.decline(Ipv4Addr::new(10, 0, 0, 10), mac(1), 600);
    assert!(t.allocate(0, mac(2), None, 100).is_none());
    assert_eq!(
        t.allocate(0, mac(2), None, 600).unwrap().ip,
        Ipv4Addr::new(10, 0, 0, 10)
    );
}

#[test]
fn release_by_other_mac_is_ignored() {
    let mut t = table(10, 20);
    let a = t.allocate(0, mac(1), None, 0).unwrap();
    t.bind(a.ip, mac(1), 100, None);
    assert!(t.release(a.ip, mac(2), 10).is_none());
    assert_eq!(t.holder(a.ip, 10), Holder::Client(mac(1)));
}
