//! ICMPv6 Router Solicitation and Router Advertisement (RFC 4861 §4.1,
//! §4.2, §4.6.2) as netboot reads and writes them: the ICMPv6 message only
//! (the kernel adds the IPv6 header and the checksum on a raw ICMPv6 socket).

use std::net::Ipv6Addr;

/// ICMPv6 type of a Router Solicitation.
pub const ROUTER_SOLICITATION: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ROUTER_ADVERTISEMENT: u8 = 134;
/// "Managed address configuration": addresses from DHCPv6.
pub const FLAG_M: u8 = 0x80;
/// "Other configuration": other settings (the boot URL) from DHCPv6.
pub const FLAG_O: u8 = 0x40;
const OPT_PREFIX: u8 = 3;
const PREFIX_ON_LINK: u8 = 0x80;
const PREFIX_AUTONOMOUS: u8 = 0x40;

/// A prefix information option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInfo {
    pub prefix: Ipv6Addr,
    pub len: u8,
    /// L: the prefix is on this link.
    pub on_link: bool,
    /// A: hosts may make addresses in it (SLAAC).
    pub autonomous: bool,
    pub valid: u32,
    pub preferred: u32,
}

/// What a Router Advertisement says, as far as netboot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub hop_limit: u8,
    /// M and O (and any other flag bits as sent).
    pub flags: u8,
    /// Seconds the sender is a default router; 0: it is none.
    pub router_lifetime: u16,
    pub prefixes: Vec<PrefixInfo>,
}

/// An ICMPv6 message netboot tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Icmp6 {
    Solicitation,
    Advertisement(Advert),
}

/// Parses an ICMPv6 message (from its type byte on); `None` for anything
/// but a well-formed RS or RA with code 0.
pub fn parse(bytes: &[u8]) -> Option<Icmp6> {
    let (&kind, rest) = bytes.split_first()?;
    if *rest.first()? != 0 {
        return None;
    }
    match kind {
        ROUTER_SOLICITATION if bytes.len() >= 8 => {
            options(bytes.get(8..)?)?;
            Some(Icmp6::Solicitation)
        }
        ROUTER_ADVERTISEMENT if bytes.len() >= 16 => {
            let opts = options(bytes.get(16..)?)?;
            let prefixes = opts
                .iter()
                .filter(|(t, _)| *t == OPT_PREFIX)
                .filter_map(|(_, body)| prefix(body))
                .collect();
            Some(Icmp6::Advertisement(Advert {
                hop_limit: bytes[4],
                flags: bytes[5],
                router_lifetime: u16::from_be_bytes([bytes[6], bytes[7]]),
                prefixes,
            }))
        }
        _ => None,
    }
}

/// The options as (type, whole option bytes); `None` when one is malformed
/// (length 0 or past the end), as RFC 4861 §6.1.2 asks.
fn options(mut bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let kind = *bytes.first()?;
        let len = usize::from(*bytes.get(1)?) * 8;
        if len == 0 || len > bytes.len() {
            return None;
        }
        out.push((kind, &bytes[..len]));
        bytes = &bytes[len..];
    }
    Some(out)
}

fn prefix(opt: &[u8]) -> Option<PrefixInfo> {
    if opt.len() != 32 {
        return None;
    }
    let u32_at = |i: usize| u32::from_be_bytes([opt[i], opt[i + 1], opt[i + 2], opt[i + 3]]);
    let mut p = [0u8; 16];
    p.copy_from_slice(&opt[16..32]);
    Some(PrefixInfo {
        len: opt[2],
        on_link: opt[3] & PREFIX_ON_LINK != 0,
        autonomous: opt[3] & PREFIX_AUTONOMOUS != 0,
        valid: u32_at(4),
        preferred: u32_at(8),
        prefix: Ipv6Addr::from(p),
    })
}

/// The bytes of a Router Advertisement (checksum left 0 for the kernel).
pub fn build(advert: &Advert) -> Vec<u8> {
    let mut out = vec![
        ROUTER_ADVERTISEMENT,
        0,
        0,
        0,
        advert.hop_limit,
        advert.flags,
    ];
    out.extend_from_slice(&advert.router_lifetime.to_be_bytes());
    out.extend_from_slice(&[0; 8]); // reachable time, retrans timer: unspecified
    for p in &advert.prefixes {
        let mut flags = 0;
        if p.on_link {
            flags |= PREFIX_ON_LINK;
        }
        if p.autonomous {
            flags |= PREFIX_AUTONOMOUS;
        }
        out.extend_from_slice(&[OPT_PREFIX, 4, p.len, flags]);
        out.extend_from_slice(&p.valid.to_be_bytes());
        out.extend_from_slice(&p.preferred.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&p.prefix.octets());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advert_round_trips_and_junk_is_refused() {
        let a = Advert {
            hop_limit: 64,
            flags: FLAG_M | FLAG_O,
            router_lifetime: 0,
            prefixes: vec![PrefixInfo {
                prefix: "fd00:1::".parse().unwrap(),
                len: 64,
                on_link: true,
                autonomous: false,
                valid: 86400,
                preferred: 14400,
            }],
        };
        let bytes = build(&a);
        assert_eq!(bytes.len(), 16 + 32);
        assert_eq!(parse(&bytes), Some(Icmp6::Advertisement(a.clone())));
        assert_eq!(
            parse(&[133, 0, 0, 0, 0, 0, 0, 0]),
            Some(Icmp6::Solicitation)
        );
        // source link-layer option of an RS
        let rs = [133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1];
        assert_eq!(parse(&rs), Some(Icmp6::Solicitation));
        assert_eq!(parse(&[133, 1, 0, 0, 0, 0, 0, 0]), None, "code 1");
        assert_eq!(parse(&[134, 0, 0, 0]), None, "short");
        let mut zero_len = build(&a);
        zero_len[17] = 0;
        assert_eq!(parse(&zero_len), None);
        let mut past_end = build(&a);
        past_end[17] = 5;
        assert_eq!(parse(&past_end), None);
        assert_eq!(parse(&[]), None);
    }
}
