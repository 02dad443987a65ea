//! Reading `tcpdump -w` captures: classic pcap records, Ethernet, IPv4, UDP.
//! Just enough to hand DHCP and TFTP payloads to `wire`; never panics on a
//! truncated or foreign file.

/// One UDP datagram from a capture (not every test reads every field).
#[allow(dead_code)]
pub struct Datagram<'a> {
    /// Seconds since the first packet of the capture.
    pub at: f64,
    /// Ethernet destination.
    pub eth_dst: [u8; 6],
    /// IPv4 destination.
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub payload: &'a [u8],
}

/// The UDP datagrams of a classic little- or big-endian pcap with Ethernet
/// link type, with times relative to the first packet. Anything else (other
/// link types, truncated records, non-UDP frames) is skipped.
pub fn udp_datagrams(bytes: &[u8]) -> Vec<Datagram<'_>> {
    let mut out = Vec::new();
    let Some(magic) = bytes.get(0..4) else {
        return out;
    };
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return out,
    };
    let nanos = matches!(magic, [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d]);
    let u32_at = |b: &[u8], i: usize| -> Option<u32> {
        let a: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    if u32_at(bytes, 20) != Some(1) {
        return out; // not Ethernet
    }
    let mut pos = 24;
    let mut first: Option<f64> = None;
    while let (Some(sec), Some(frac), Some(caplen)) = (
        u32_at(bytes, pos),
        u32_at(bytes, pos + 4),
        u32_at(bytes, pos + 8),
    ) {
        let start = pos + 16;
        let Some(frame) = bytes.get(start..start + caplen as usize) else {
            break;
        };
        let t = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        let at = t - *first.get_or_insert(t);
        if let Some(u) = udp_payload(frame) {
            out.push(Datagram {
                at,
                eth_dst: u.eth_dst,
                dst: u.dst,
                sport: u.sport,
                dport: u.dport,
                payload: u.payload,
            });
        }
        pos = start + caplen as usize;
    }
    out
}

/// The parts of a UDP frame a test looks at.
struct Udp<'a> {
    eth_dst: [u8; 6],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &'a [u8],
}

/// Ethernet (optionally one VLAN tag) → IPv4 → UDP.
fn udp_payload(frame: &[u8]) -> Option<Udp<'_>> {
    let be16 = |b: &[u8], i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
    let mut off = 12;
    let mut ethertype = be16(frame, off)?;
    if ethertype == 0x8100 {
        off += 4;
        ethertype = be16(frame, off)?;
    }
    let ip = frame.get(off + 2..)?;
    if ethertype != 0x0800 || ip.first()? >> 4 != 4 || *ip.get(9)? != 17 {
        return None;
    }
    let udp = ip.get(usize::from(ip[0] & 0x0f) * 4..)?;
    let len = usize::from(be16(udp, 4)?).clamp(8, udp.len());
    Some(Udp {
        eth_dst: frame.get(0..6)?.try_into().ok()?,
        dst: ip.get(16..20)?.try_into().ok()?,
        sport: be16(udp, 0)?,
        dport: be16(udp, 2)?,
        payload: udp.get(8..len)?,
    })
}
