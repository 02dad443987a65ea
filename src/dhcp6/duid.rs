//! DUIDs (RFC 8415 §11) as far as netboot needs them: the MAC inside a
//! client's DUID-LLT or DUID-LL (for profile matching and reservations by
//! MAC), the MAC inside an EUI-64 link-local address (clients whose DUID
//! carries none, such as DUID-UUID), and the server's own DUID-LL.

use std::net::Ipv6Addr;

use crate::mac::MacAddr;

/// DUID type 1: link-layer address plus time.
const LLT: u16 = 1;
/// DUID type 3: link-layer address.
const LL: u16 = 3;
/// Hardware type 1: Ethernet.
const ETHERNET: u16 = 1;

/// The Ethernet MAC inside a DUID-LLT or DUID-LL, if it holds one.
pub fn mac_of(duid: &[u8]) -> Option<MacAddr> {
    let kind = u16::from_be_bytes([*duid.first()?, *duid.get(1)?]);
    let hw = u16::from_be_bytes([*duid.get(2)?, *duid.get(3)?]);
    let lladdr = match kind {
        LLT => duid.get(8..)?,
        LL => duid.get(4..)?,
        _ => return None,
    };
    if hw != ETHERNET || lladdr.len() != 6 {
        return None;
    }
    MacAddr::from_slice(lladdr)
}

/// The MAC an EUI-64 interface identifier (`…:xxff:fexx:…`) was made from.
pub fn mac_of_eui64(addr: &Ipv6Addr) -> Option<MacAddr> {
    let o = addr.octets();
    if o[11] != 0xff || o[12] != 0xfe {
        return None;
    }
    Some(MacAddr([o[8] ^ 0x02, o[9], o[10], o[13], o[14], o[15]]))
}

/// Our DUID-LL made from an interface's MAC.
pub fn server_ll(mac: MacAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    out.extend_from_slice(&LL.to_be_bytes());
    out.extend_from_slice(&ETHERNET.to_be_bytes());
    out.extend_from_slice(&mac.octets());
    out
}

/// A DUID as lower-case hex pairs joined by `:` (the journal's and the
/// configuration's spelling).
pub fn hex(duid: &[u8]) -> String {
    duid.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses [`hex`] output (also accepts `-` or no separators).
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let plain: String = text.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    if plain.is_empty() || !plain.len().is_multiple_of(2) || plain.len() > 260 {
        return None;
    }
    (0..plain.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(plain.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_come_out_of_llt_ll_and_eui64_only() {
        let mac = MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(mac_of(&server_ll(mac)), Some(mac));
        let llt = [0, 1, 0, 1, 1, 2, 3, 4, 0x52, 0x54, 0, 0x12, 0x34, 0x56];
        assert_eq!(mac_of(&llt), Some(mac));
        // DUID-UUID (type 4) and a truncated one hold no MAC
        assert_eq!(mac_of(&[0, 4, 1, 2, 3, 4, 5, 6, 7, 8]), None);
        assert_eq!(mac_of(&[0, 3, 0]), None);
        let ll: Ipv6Addr = "fe80::5054:ff:fe12:3456".parse().unwrap();
        assert_eq!(mac_of_eui64(&ll), Some(mac));
        assert_eq!(mac_of_eui64(&"fe80::1".parse().unwrap()), None);
    }

    #[test]
    fn hex_round_trips() {
        let d = vec![0, 3, 0, 1, 0xab, 0xcd];
        assert_eq!(hex(&d), "00:03:00:01:ab:cd");
        assert_eq!(parse_hex(&hex(&d)), Some(d.clone()));
        assert_eq!(parse_hex("000300-01abcd"), Some(d));
        assert_eq!(parse_hex("0g"), None);
        assert_eq!(parse_hex(""), None);
    }
}
