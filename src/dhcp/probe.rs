//! The ICMP address probe: one echo to an address before it is first offered
//! (as dnsmasq and ISC dhcpd do), so a machine squatting on a pool address is
//! noticed before a client is given the same address. Used for relayed pools
//! (off-link addresses) and where no ARP socket could be opened; on-link
//! addresses are probed by ARP (`arp_probe`, see `probing` for why). The
//! shell bounds these probes (`probing::Budget`).
//!
//! Uses an unprivileged ICMP datagram socket when `net.ipv4.ping_group_range`
//! allows, else a raw ICMP socket (root). The socket is bound to the interface
//! the request came in on, so a probe never leaves by another route. The shell
//! runs each probe as its own task: other clients are answered meanwhile.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// Pings `ip` once through `device`; `Ok(true)` when it answered within
/// `timeout`, `Ok(false)` when it stayed silent.
pub async fn probe(ip: Ipv4Addr, device: &str, timeout: Duration) -> std::io::Result<bool> {
    let (sock, raw) = open(device)?;
    sock.connect(&SocketAddrV4::new(ip, 0).into())?;
    let ident = (std::process::id() as u16) ^ (u32::from(ip) as u16);
    sock.send(&echo_request(ident, 1))?;
    // tokio's UDP socket only needs a datagram fd; it never looks at the protocol
    let sock = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(sock))?;
    let wait = async {
        let mut buf = [0u8; 1500];
        loop {
            let n = sock.recv(&mut buf).await?;
            if is_reply(buf.get(..n).unwrap_or(&[]), raw, ident, ip) {
                return Ok(true);
            }
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(result) => result,
        Err(_elapsed) => Ok(false),
    }
}

fn open(device: &str) -> std::io::Result<(Socket, bool)> {
    let (sock, raw) = match Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4)) {
        Ok(s) => (s, false),
        Err(_) => (
            Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?,
            true,
        ),
    };
    sock.bind_device(Some(device.as_bytes()))?;
    sock.set_nonblocking(true)?;
    Ok((sock, raw))
}

/// An ICMP echo request with a valid checksum.
pub fn echo_request(ident: u16, seq: u16) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0] = 8;
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..16].copy_from_slice(b"netboot!");
    let sum = crate::udp4::checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// True for an echo reply from `ip` (raw sockets see the IP header and every
/// ICMP packet, so they also check source and identifier; datagram sockets
/// only get replies to their own echo).
pub fn is_reply(pkt: &[u8], raw: bool, ident: u16, ip: Ipv4Addr) -> bool {
    let icmp = if raw {
        let Some(&vihl) = pkt.first() else {
            return false;
        };
        let ihl = usize::from(vihl & 0x0f) * 4;
        let src = pkt
            .get(12..16)
            .map(|s| Ipv4Addr::new(s[0], s[1], s[2], s[3]));
        if src != Some(ip) {
            return false;
        }
        match pkt.get(ihl..) {
            Some(rest) => rest,
            None => return false,
        }
    } else {
        pkt
    };
    match icmp {
        [0, _, _, _, a, b, ..] => !raw || u16::from_be_bytes([*a, *b]) == ident,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_checksum_verifies() {
        let p = echo_request(0x1234, 1);
        assert_eq!(crate::udp4::checksum(&p), 0);
    }

    #[test]
    fn recognises_replies() {
        let ip = Ipv4Addr::new(10, 0, 0, 5);
        let mut reply = echo_request(7, 1);
        reply[0] = 0;
        assert!(is_reply(&reply, false, 7, ip));
        let mut raw = vec![0x45u8; 20];
        raw[12..16].copy_from_slice(&ip.octets());
        raw.extend_from_slice(&reply);
        assert!(is_reply(&raw, true, 7, ip));
        assert!(!is_reply(&raw, true, 8, ip));
        assert!(!is_reply(&raw, true, 7, Ipv4Addr::new(10, 0, 0, 6)));
        assert!(!is_reply(&[], true, 7, ip));
        assert!(!is_reply(&echo_request(7, 1), false, 7, ip));
    }
}
