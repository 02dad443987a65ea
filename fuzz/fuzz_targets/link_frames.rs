//! Frames the bare-port checks and the DHCP address probe read off the
//! link: ARP packets (the conflict probe), IPv4/UDP packets that may carry a
//! foreign DHCP OFFER, and ICMP echo replies (raw and datagram sockets).
//! None may panic, and each parse must agree with what it was given: an ARP
//! packet that parses re-emits to its first 28 bytes, and an OFFER is only
//! ever reported for the transaction asked about.

#![no_main]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use netboot::arp::{self, Arp, Prober};
use netboot::autoaddr::sniff::{self, Listener};
use netboot::dhcp::probe;
use netboot::mac::MacAddr;

const OURS: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const TARGET: Ipv4Addr = Ipv4Addr::new(10, 42, 0, 1);

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let xid = u32::from(selector).wrapping_mul(0x0101_0101);

    if let Some(packet) = Arp::parse(frame) {
        assert_eq!(&packet.emit()[..], &frame[..28]);
        let _ = arp::conflict(OURS, TARGET, &packet);
    }
    let now = Instant::now();
    let mut prober = Prober::new(now, OURS, TARGET);
    let _ = prober.poll_transmit(now);
    prober.handle(frame);
    let _ = prober.verdict(now + Duration::from_secs(2));

    // The packet's own xid, when it has one, so the OFFER path is reached.
    let own_xid = frame
        .get(32..36)
        .map_or(xid, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    for id in [xid, own_xid] {
        if let Some(found) = sniff::offer(frame, id) {
            let _ = found.to_string();
        }
    }
    let mut listener = Listener::new(now, MacAddr(OURS), own_xid, Duration::from_secs(1));
    let _ = listener.poll_transmit(now);
    listener.handle(frame);
    let _ = listener.verdict(now + Duration::from_secs(2));

    let ident = u16::from(selector) << 8 | 0x5a;
    for raw in [false, true] {
        let _ = probe::is_reply(frame, raw, ident, TARGET);
    }
});
