//! A DHCP message as encoded, in words: the header fields that matter to a
//! boot and every option in the order it is on the wire, each decoded by
//! its code (addresses, times, names, PXE's option 43), unknown ones in hex.
//! Pure; reads the bytes `dhcp::reply` produced, so it shows what would be
//! sent, after any trimming to the client's size limit.

use std::net::Ipv4Addr;

/// Offset of the options after the fixed header and the magic cookie.
const OPTIONS_AT: usize = 240;

/// The header and each option of `bytes`, one line each.
pub fn describe(bytes: &[u8]) -> Vec<String> {
    let Some(header) = bytes.get(..OPTIONS_AT) else {
        return vec![format!("(only {} bytes: not a DHCP message)", bytes.len())];
    };
    let mut out = header_lines(header);
    let mut rest = &bytes[OPTIONS_AT..];
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => rest = tail,
            255 => break,
            _ => {
                let Some((&len, tail)) = tail.split_first() else {
                    out.push(format!("option {code}: cut short"));
                    break;
                };
                let Some(data) = tail.get(..usize::from(len)) else {
                    out.push(format!("option {code}: cut short"));
                    break;
                };
                out.push(format!("option {code:>3} {}", option(code, data)));
                rest = &tail[usize::from(len)..];
            }
        }
    }
    out
}

fn ip_at(h: &[u8], at: usize) -> Ipv4Addr {
    let mut o = [0u8; 4];
    o.copy_from_slice(&h[at..at + 4]);
    Ipv4Addr::from(o)
}

/// A NUL-padded header string (`sname`, `file`).
fn field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn header_lines(h: &[u8]) -> Vec<String> {
    let flags = u16::from_be_bytes([h[10], h[11]]);
    let cast = if flags & 0x8000 != 0 {
        "broadcast"
    } else {
        "unicast"
    };
    let mut out = vec![format!(
        "yiaddr {} (the client's address), siaddr {} (next server), giaddr {}, flags {cast}",
        ip_at(h, 16),
        ip_at(h, 20),
        ip_at(h, 24)
    )];
    let (sname, file) = (field(&h[44..108]), field(&h[108..236]));
    out.push(format!(
        "sname {}, file {}",
        quoted_or_none(&sname),
        quoted_or_none(&file)
    ));
    out
}

fn quoted_or_none(text: &str) -> String {
    if text.is_empty() {
        "(empty)".to_string()
    } else {
        format!("{text:?}")
    }
}

/// `name: value` for one option.
fn option(code: u8, data: &[u8]) -> String {
    let value = match code {
        1 | 3 | 4 | 5 | 6 | 9 | 28 | 41 | 42 | 44 | 45 | 50 | 54 | 150 => ips(data),
        51 | 58 | 59 => seconds(data),
        2 => offset(data),
        53 => message_type(data),
        57 => uint(data),
        93 => archs(data),
        12 | 14 | 15 | 17 | 40 | 56 | 60 | 64 | 66 | 67 | 77 => text(data),
        43 => vendor(data),
        _ => None,
    };
    let value = value.unwrap_or_else(|| hex(data));
    match name(code) {
        Some(n) => format!("{n}: {value}"),
        None => format!("(code {code}): {value}"),
    }
}

fn name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "subnet mask",
        2 => "time offset",
        3 => "router",
        4 => "time server",
        6 => "DNS server",
        12 => "host name",
        15 => "domain name",
        17 => "root path",
        28 => "broadcast address",
        42 => "NTP server",
        43 => "vendor specific (PXE)",
        44 => "NetBIOS name server",
        50 => "requested address",
        51 => "lease time",
        53 => "message type",
        54 => "server identifier",
        57 => "maximum message size",
        58 => "renewal (T1)",
        59 => "rebinding (T2)",
        60 => "vendor class",
        66 => "TFTP server name",
        67 => "boot file name",
        77 => "user class",
        82 => "relay agent information",
        93 => "client architecture",
        97 => "client machine id (UUID)",
        150 => "TFTP server addresses",
        175 => "iPXE encapsulated",
        _ => return None,
    })
}

fn ips(data: &[u8]) -> Option<String> {
    if data.is_empty() || !data.len().is_multiple_of(4) {
        return None;
    }
    let list: Vec<String> = data
        .chunks(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]).to_string())
        .collect();
    Some(list.join(", "))
}

fn u32_of(data: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(data.try_into().ok()?))
}

fn seconds(data: &[u8]) -> Option<String> {
    u32_of(data).map(|s| format!("{s} s"))
}

fn offset(data: &[u8]) -> Option<String> {
    u32_of(data).map(|s| format!("{} s", s.cast_signed()))
}

fn uint(data: &[u8]) -> Option<String> {
    match data {
        [a, b] => Some(u16::from_be_bytes([*a, *b]).to_string()),
        _ => u32_of(data).map(|v| v.to_string()),
    }
}

fn archs(data: &[u8]) -> Option<String> {
    if data.is_empty() || !data.len().is_multiple_of(2) {
        return None;
    }
    let list: Vec<String> = data
        .chunks(2)
        .map(|c| crate::registry::matcher::arch_name(u16::from_be_bytes([c[0], c[1]])))
        .collect();
    Some(list.join(", "))
}

fn message_type(data: &[u8]) -> Option<String> {
    let names = [
        "", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
    ];
    let &[t] = data else { return None };
    names
        .get(usize::from(t))
        .filter(|n| !n.is_empty())
        .map(|n| n.to_string())
}

fn text(data: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(data).ok()?;
    (!s.chars().any(char::is_control)).then(|| format!("{s:?}"))
}

/// Option 43 as PXE sub-options (6 = discovery control).
fn vendor(data: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some((&sub, tail)) = rest.split_first() {
        if sub == 255 {
            break;
        }
        let (&len, tail) = tail.split_first()?;
        let value = tail.get(..usize::from(len))?;
        parts.push(match (sub, value) {
            (6, [8]) => "discovery control 8 (boot the file in this reply)".to_string(),
            _ => format!("sub-option {sub} = {}", hex(value)),
        });
        rest = &tail[usize::from(len)..];
    }
    Some(parts.join(", "))
}

fn hex(data: &[u8]) -> String {
    let bytes: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
    format!("{} ({} bytes)", bytes.join(" "), data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; OPTIONS_AT];
        m[0] = 2;
        m[16..20].copy_from_slice(&[192, 168, 50, 11]);
        m[108..117].copy_from_slice(b"lab.ipxe\0");
        m[236..240].copy_from_slice(&[99, 130, 83, 99]);
        m.extend_from_slice(options);
        m
    }

    #[test]
    fn header_and_options_in_wire_order() {
        let opts = [
            53, 1, 2, // OFFER
            54, 4, 192, 168, 50, 1, //
            51, 4, 0, 0, 14, 16, // 3600 s
            2, 4, 0xff, 0xff, 0xf1, 0xf0, // -3600 s
            67, 8, b'l', b'a', b'b', b'.', b'i', b'p', b'x', b'e', //
            43, 4, 6, 1, 8, 255, //
            150, 4, 192, 168, 50, 1, //
            200, 2, 0xab, 0xcd, //
            255,
        ];
        let lines = describe(&message(&opts));
        assert_eq!(
            lines,
            [
                "yiaddr 192.168.50.11 (the client's address), siaddr 0.0.0.0 (next server), giaddr 0.0.0.0, flags unicast",
                "sname (empty), file \"lab.ipxe\"",
                "option  53 message type: OFFER",
                "option  54 server identifier: 192.168.50.1",
                "option  51 lease time: 3600 s",
                "option   2 time offset: -3600 s",
                "option  67 boot file name: \"lab.ipxe\"",
                "option  43 vendor specific (PXE): discovery control 8 (boot the file in this reply)",
                "option 150 TFTP server addresses: 192.168.50.1",
                "option 200 (code 200): ab cd (2 bytes)",
            ]
        );
    }

    #[test]
    fn truncated_input_is_said_not_panicked_on() {
        assert_eq!(describe(&[1, 2, 3]), ["(only 3 bytes: not a DHCP message)"]);
        let lines = describe(&message(&[67, 9, b'x']));
        assert_eq!(lines.last().unwrap(), "option 67: cut short");
    }
}
