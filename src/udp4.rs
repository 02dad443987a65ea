//! IPv4/UDP packets built by hand, for the places that send whole IP packets
//! on an AF_PACKET socket: the bare-port check's DISCOVER
//! ([`crate::autoaddr::sniff`]) and the DHCP server's unicast replies to
//! clients without an address ([`crate::dhcp::unicast`]); and read, for the
//! places that hear them (the bare-port check, [`crate::dhcp::rogue`]).
//! Pure: bytes in, bytes out.
//!
//! [`headers`] returns the 28 header bytes alone, on the stack, so a caller
//! can send them and a payload it already has with one gathered send and no
//! copy; [`packet`] joins them into one buffer.

use std::net::{Ipv4Addr, SocketAddrV4};

/// EtherType of IPv4 (also ARP's protocol type for IPv4 addresses).
pub const ETH_P_IP: u16 = 0x0800;
/// IPv4 (20, no options) plus UDP (8) header bytes.
pub const HEADERS_LEN: usize = 28;
/// IP protocol number of UDP.
pub const UDP: u8 = 17;
const TTL: u8 = 64;

/// The UDP payload of an IPv4 packet addressed to `port`, with the
/// packet's source address; `None` for anything else (not IPv4, not UDP, a
/// fragment, another port, truncated).
pub fn payload_to(packet: &[u8], port: u16) -> Option<(Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 || packet.len() < ihl + 8 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]])).min(packet.len());
    let fragment = u16::from_be_bytes([packet[6], packet[7]]) & 0x3fff;
    if packet[9] != UDP || fragment != 0 || total < ihl + 8 {
        return None;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let udp = packet.get(ihl..total)?;
    if u16::from_be_bytes([udp[2], udp[3]]) != port {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([udp[4], udp[5]])).clamp(8, udp.len());
    Some((src, &udp[8..len]))
}

/// The IPv4 and UDP headers of a datagram `src` → `dst` carrying `payload`:
/// IPv4 header checksum and UDP checksum (RFC 768, over the pseudo-header)
/// both filled in. `None` when the payload does not fit in one IPv4 packet.
pub fn headers(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Option<[u8; HEADERS_LEN]> {
    let udp_len = u16::try_from(8 + payload.len()).ok()?;
    let total = u16::try_from(HEADERS_LEN + payload.len()).ok()?;
    let mut h = [0u8; HEADERS_LEN];
    h[0] = 0x45; // version 4, 5 words of header
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[8] = TTL;
    h[9] = UDP;
    h[12..16].copy_from_slice(&src.ip().octets());
    h[16..20].copy_from_slice(&dst.ip().octets());
    let ip_sum = checksum(&h[..20]);
    h[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    h[20..22].copy_from_slice(&src.port().to_be_bytes());
    h[22..24].copy_from_slice(&dst.port().to_be_bytes());
    h[24..26].copy_from_slice(&udp_len.to_be_bytes());
    // pseudo-header (addresses, protocol, length), UDP header, payload
    let mut sum = add(0, &h[12..20]);
    sum += u32::from(UDP) + u32::from(udp_len);
    sum = add(sum, &h[20..26]);
    sum = add(sum, payload);
    // 0 means "no checksum" in IPv4 UDP: a computed 0 is sent as all ones
    let udp_sum = match fold(sum) {
        0xffff => 0xffff,
        s => !s,
    };
    h[26..28].copy_from_slice(&udp_sum.to_be_bytes());
    Some(h)
}

/// [`headers`] and `payload` in one buffer (empty when it does not fit).
pub fn packet(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let Some(h) = headers(src, dst, payload) else {
        return Vec::new();
    };
    let mut p = Vec::with_capacity(HEADERS_LEN + payload.len());
    p.extend_from_slice(&h);
    p.extend_from_slice(payload);
    p
}

/// The Internet checksum (RFC 1071) of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    !fold(add(0, bytes))
}

/// Adds `bytes` as big-endian 16-bit words (an odd last byte padded with 0)
/// to the running sum. Only the last slice of a sum may have odd length.
fn add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        // fold early so the sum never overflows, whatever the length
        if sum > 0xffff_0000 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn sa(ip: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(ip), port)
    }

    /// Verifies a UDP checksum the way a receiver does: the sum over
    /// pseudo-header, header and payload comes out as all ones.
    fn udp_verifies(p: &[u8]) -> bool {
        let len = u16::from_be_bytes([p[24], p[25]]);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&p[12..20]);
        pseudo.extend_from_slice(&[0, UDP]);
        pseudo.extend_from_slice(&len.to_be_bytes());
        pseudo.extend_from_slice(&p[20..]);
        checksum(&pseudo) == 0
    }

    #[test]
    fn headers_carry_addresses_ports_lengths_and_valid_checksums() {
        let payload = b"hello, odd length";
        let p = packet(sa([10, 0, 0, 1], 67), sa([10, 0, 0, 50], 68), payload);
        assert_eq!(p.len(), 28 + payload.len());
        assert_eq!(p[0], 0x45);
        assert_eq!(usize::from(u16::from_be_bytes([p[2], p[3]])), p.len());
        assert_eq!((p[8], p[9]), (64, 17));
        assert_eq!(&p[12..20], &[10, 0, 0, 1, 10, 0, 0, 50]);
        assert_eq!(checksum(&p[..20]), 0, "IPv4 header checksum verifies");
        assert_eq!(u16::from_be_bytes([p[20], p[21]]), 67);
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 68);
        assert_eq!(
            usize::from(u16::from_be_bytes([p[24], p[25]])),
            8 + payload.len()
        );
        assert_ne!(
            u16::from_be_bytes([p[26], p[27]]),
            0,
            "UDP checksum present"
        );
        assert!(udp_verifies(&p));
        assert_eq!(&p[28..], payload);
    }

    #[test]
    fn known_header_checksum() {
        // the worked example of many textbooks: 45 00 00 73 00 00 40 00 40 11 ... = b861
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
    }

    #[test]
    fn too_big_for_ipv4_is_refused() {
        let big = vec![0u8; 65_536];
        assert!(headers(sa([0; 4], 1), sa([0; 4], 2), &big).is_none());
        assert!(packet(sa([0; 4], 1), sa([0; 4], 2), &big).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_payload_checksums_verify(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500),
            src in proptest::prelude::any::<[u8; 4]>(),
            dst in proptest::prelude::any::<[u8; 4]>(),
        ) {
            let p = packet(sa(src, 67), sa(dst, 68), &payload);
            proptest::prop_assert_eq!(checksum(&p[..20]), 0);
            proptest::prop_assert!(udp_verifies(&p));
        }
    }
}
