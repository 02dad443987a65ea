//! DHCPv6 datagrams decoded safely: dhcproto 0.15 subtracts from an
//! option's length before checking it for a few options (authentication,
//! status code, vendor class, vendor options), which panics (debug builds)
//! or wraps (release) on a too-short option, and reads its fixed-size
//! options (preference, elapsed time, server unicast, rapid commit,
//! reconfigure) without looking at their length, so a wrong length shifts
//! everything after it (both found by the `dhcp6_decide` fuzz target).
//! [`decode`] walks every option, nested ones included, and refuses such a
//! datagram before dhcproto sees it.

use dhcproto::v6::Message;
use dhcproto::Decodable;

/// Deepest nesting followed (IA → address → status, relay in relay ...).
const MAX_DEPTH: u8 = 8;

/// Why a datagram was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("an option shorter than its fixed part, a fixed-size one of another size, or one running past the end")]
    ShortOption,
    #[error("{0}")]
    Decode(String),
}

/// Decodes a DHCPv6 message (not relayed).
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if !bytes.get(4..).is_none_or(|opts| options_ok(opts, 0)) {
        return Err(WireError::ShortOption);
    }
    Message::from_bytes(bytes).map_err(|e| WireError::Decode(e.to_string()))
}

/// The options of a relay message inside option 9 are sane (dhcproto
/// decodes it with the 34-byte relay header whatever its type; a truncated
/// header is dhcproto's to refuse). At the top level every message is
/// decoded with the 4-byte header, relay types too.
fn relayed_ok(bytes: &[u8], depth: u8) -> bool {
    bytes.get(34..).is_none_or(|opts| options_ok(opts, depth))
}

fn options_ok(mut bytes: &[u8], depth: u8) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    while bytes.len() >= 4 {
        let code = u16::from_be_bytes([bytes[0], bytes[1]]);
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        let Some(body) = bytes.get(4..4 + len) else {
            // dhcproto reads some options without looking at the length
            return false;
        };
        if !option_ok(code, body, depth + 1) {
            return false;
        }
        bytes = &bytes[4 + len..];
    }
    bytes.is_empty()
}

fn option_ok(code: u16, body: &[u8], depth: u8) -> bool {
    let nested = |skip: usize| body.get(skip..).is_none_or(|rest| options_ok(rest, depth));
    match code {
        9 => relayed_ok(body, depth),
        7 | 19 => body.len() == 1,
        8 => body.len() == 2,
        12 => body.len() == 16,
        14 | 20 => body.is_empty(),
        11 => body.len() >= 11,
        13 => body.len() >= 2,
        16 => body.len() >= 4,
        17 => body.len() >= 4 && nested(4),
        3 | 25 => nested(12),
        4 => nested(4),
        5 => nested(24),
        26 => nested(25),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fixed_parts_are_refused_before_dhcproto_sees_them() {
        // the fuzz target's find: a SOLICIT whose option 16 is 0 bytes long
        let crash = [0, 0, 0, 0, 0, 0x10, 0, 0];
        assert_eq!(decode(&crash), Err(WireError::ShortOption));
        // nested in an IA_NA's address: a status code of one byte
        let mut m = vec![1, 0, 0, 1];
        m.extend_from_slice(&[0, 3, 0, 12 + 4 + 24 + 5]);
        m.extend_from_slice(&[0; 12]);
        m.extend_from_slice(&[0, 5, 0, 24 + 5]);
        m.extend_from_slice(&[0; 24]);
        m.extend_from_slice(&[0, 13, 0, 1, 0]);
        assert_eq!(decode(&m), Err(WireError::ShortOption));
        // the same with a whole status code decodes
        let mut ok = vec![1, 0, 0, 1];
        ok.extend_from_slice(&[0, 3, 0, 12 + 4 + 24 + 6]);
        ok.extend_from_slice(&[0; 12]);
        ok.extend_from_slice(&[0, 5, 0, 24 + 6]);
        ok.extend_from_slice(&[0; 24]);
        ok.extend_from_slice(&[0, 13, 0, 2, 0, 0]);
        assert!(decode(&ok).is_ok());
        let found = include_bytes!("../../fuzz/corpus/dhcp6_decide/vendor_class_short");
        assert_eq!(decode(&found[1..]), Err(WireError::ShortOption));
        // a relay type at the top level has a 4-byte header as any other
        let found = include_bytes!("../../fuzz/corpus/dhcp6_decide/relay_type_on_top");
        assert_eq!(decode(&found[1..]), Err(WireError::ShortOption));
        // an option running past the end: refused, not left to dhcproto
        let found = include_bytes!("../../fuzz/corpus/dhcp6_decide/option_past_the_end");
        assert_eq!(decode(&found[1..]), Err(WireError::ShortOption));
        // an elapsed time of 0 bytes: dhcproto would read 2 bytes past it
        let found = include_bytes!("../../fuzz/corpus/dhcp6_decide/elapsed_time_short");
        assert_eq!(decode(&found[1..]), Err(WireError::ShortOption));
        for len in 0..4u8 {
            let vendor = [1, 0, 0, 1, 0, 16, 0, len, 0, 0, 0, 0];
            assert_eq!(
                decode(&vendor[..8 + usize::from(len)]),
                Err(WireError::ShortOption)
            );
        }
    }
}
