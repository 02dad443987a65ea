//! Extra DHCP options given in profiles: the typed values operators write,
//! checked and encoded to the bytes that go on the wire.

use std::net::Ipv4Addr;

use super::wire::WireOption;

/// Option codes the DHCP server fills itself (or that have their own profile
/// key), with the reason given when a profile tries to set them.
const RESERVED: &[(u8, &str)] = &[
    (0, "pad is not an option"),
    (255, "end is not an option"),
    (12, "use the `hostname` key"),
    (50, "the server manages requested-address"),
    (51, "the server manages the lease time"),
    (52, "the server manages option overload"),
    (53, "the server manages the message type"),
    (54, "the server manages the server identifier"),
    (55, "parameter request list comes from clients"),
    (57, "maximum message size comes from clients"),
    (61, "client identifier comes from clients"),
    (66, "use the `next_server` key"),
    (67, "use the `boot` key"),
    (150, "use the `tftp_servers` key"),
];

/// Encodes one option value, or says why it cannot be sent.
pub fn encode(code: u8, value: &WireOption) -> Result<Vec<u8>, String> {
    if let Some((_, why)) = RESERVED.iter().find(|(c, _)| *c == code) {
        return Err(format!("option {code} cannot be set here: {why}"));
    }
    let bytes = match one_value(value)? {
        Typed::Ipv4(list) => {
            let mut out = Vec::new();
            for text in list {
                let ip: Ipv4Addr = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("option {code}: bad IPv4 address {text:?}"))?;
                out.extend_from_slice(&ip.octets());
            }
            out
        }
        Typed::String(s) => s.as_bytes().to_vec(),
        Typed::Bytes(b) => b,
        Typed::Hex(h) => parse_hex(h).ok_or_else(|| {
            format!("option {code}: {h:?} is not hex bytes (write \"01:04:0a\", \"01 04 0a\" or \"01040a\")")
        })?,
    };
    if bytes.is_empty() {
        return Err(format!("option {code}: empty value"));
    }
    if bytes.len() > 255 {
        return Err(format!(
            "option {code}: {} bytes, more than the 255 one option can carry",
            bytes.len()
        ));
    }
    Ok(bytes)
}

enum Typed<'a> {
    Ipv4(&'a [String]),
    String(&'a str),
    Bytes(Vec<u8>),
    Hex(&'a str),
}

fn one_value(v: &WireOption) -> Result<Typed<'_>, String> {
    let mut found = Vec::new();
    if let Some(list) = &v.ipv4 {
        found.push(Typed::Ipv4(list.as_slice()));
    }
    if let Some(s) = &v.string {
        found.push(Typed::String(s));
    }
    if let Some(n) = v.u8 {
        found.push(Typed::Bytes(vec![n]));
    }
    if let Some(n) = v.u16 {
        found.push(Typed::Bytes(n.to_be_bytes().to_vec()));
    }
    if let Some(n) = v.u32 {
        found.push(Typed::Bytes(n.to_be_bytes().to_vec()));
    }
    if let Some(b) = v.bool {
        found.push(Typed::Bytes(vec![u8::from(b)]));
    }
    if let Some(h) = &v.hex {
        found.push(Typed::Hex(h));
    }
    if found.len() != 1 {
        return Err(
            "give exactly one of ipv4, string, u8, u16, u32, bool, hex as the option's value"
                .to_string(),
        );
    }
    found.pop().ok_or_else(String::new)
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-' | '.'))
        .collect();
    if !digits.len().is_multiple_of(2) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..digits.len() / 2)
        .map(|i| u8::from_str_radix(&digits[i * 2..i * 2 + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::wire::OneOrMany;

    fn opt(f: impl FnOnce(&mut WireOption)) -> WireOption {
        let mut o = WireOption::default();
        f(&mut o);
        o
    }

    #[test]
    fn encodes_every_type() {
        let ips =
            opt(|o| o.ipv4 = Some(OneOrMany::Many(vec!["10.0.0.1".into(), "10.0.0.2".into()])));
        assert_eq!(encode(6, &ips), Ok(vec![10, 0, 0, 1, 10, 0, 0, 2]));
        assert_eq!(
            encode(15, &opt(|o| o.string = Some("lab".into()))),
            Ok(b"lab".to_vec())
        );
        assert_eq!(encode(23, &opt(|o| o.u8 = Some(64))), Ok(vec![64]));
        assert_eq!(encode(26, &opt(|o| o.u16 = Some(1500))), Ok(vec![5, 220]));
        assert_eq!(
            encode(2, &opt(|o| o.u32 = Some(3600))),
            Ok(vec![0, 0, 14, 16])
        );
        assert_eq!(encode(19, &opt(|o| o.bool = Some(true))), Ok(vec![1]));
        assert_eq!(
            encode(43, &opt(|o| o.hex = Some("06:01:08".into()))),
            Ok(vec![6, 1, 8])
        );
        assert_eq!(
            encode(43, &opt(|o| o.hex = Some("060108".into()))),
            Ok(vec![6, 1, 8])
        );
    }

    #[test]
    fn rejects_bad_values_and_reserved_codes() {
        let one = opt(|o| o.u8 = Some(1));
        assert!(encode(53, &one).is_err());
        assert!(encode(150, &one).is_err());
        assert!(encode(43, &opt(|o| o.hex = Some("0g".into()))).is_err());
        assert!(encode(43, &opt(|o| o.hex = Some("123".into()))).is_err());
        assert!(encode(15, &opt(|o| o.string = Some(String::new()))).is_err());
        assert!(encode(15, &opt(|o| o.string = Some("x".repeat(256)))).is_err());
        let bad = opt(|o| o.ipv4 = Some(OneOrMany::One("10.0.0.300".into())));
        assert!(encode(6, &bad).unwrap_err().contains("10.0.0.300"));
        assert!(encode(6, &WireOption::default()).is_err());
        let two = opt(|o| {
            o.u8 = Some(1);
            o.string = Some("x".into());
        });
        assert!(encode(6, &two).unwrap_err().contains("exactly one"));
    }
}
