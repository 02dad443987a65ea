//! What went over the lab bridge: a capture taken with tcpdump inside the
//! namespace, read back into DHCP messages and TFTP requests so a test can
//! assert what the firmware asked and what the server answered, and print the
//! exact options for the record.
//!
//! Only classic pcap files with Ethernet framing (what `tcpdump -w` writes on a
//! bridge) are read; anything else is skipped, never panicked on.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::pcap::udp_datagrams;

/// One DHCP message seen on the wire.
#[derive(Debug, Clone)]
pub struct Dhcp {
    /// Seconds since the first packet of the capture.
    pub at: f64,
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub op: u8,
    /// UDP destination port (67/68, or 4011 for PXE boot-server requests).
    pub port: u16,
    pub xid: u32,
    pub siaddr: [u8; 4],
    /// The BOOTP `file` header field, up to its first NUL.
    pub file: String,
    /// Options in wire order, raw.
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Dhcp {
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    /// Option 53.
    pub fn msg_type(&self) -> u8 {
        self.option(53)
            .and_then(|v| v.first().copied())
            .unwrap_or(0)
    }

    /// Option 93, first architecture.
    pub fn arch(&self) -> Option<u16> {
        self.option(93)
            .filter(|v| v.len() >= 2)
            .map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    /// True when option 77 (user class) says iPXE.
    pub fn is_ipxe(&self) -> bool {
        self.option(77)
            .is_some_and(|v| String::from_utf8_lossy(v).contains("iPXE"))
    }

    /// The boot file a reply names: option 67, else the `file` field.
    pub fn boot_file(&self) -> String {
        match self.option(67) {
            Some(v) => String::from_utf8_lossy(v)
                .trim_end_matches('\0')
                .to_string(),
            None => self.file.clone(),
        }
    }
}

/// One TFTP request, option acknowledgement or error seen on the wire.
#[derive(Debug, Clone)]
pub enum Tftp {
    Request {
        at: f64,
        /// The client's port: the transfer's packets carry it.
        port: u16,
        write: bool,
        file: String,
        options: Vec<(String, String)>,
    },
    Oack {
        at: f64,
        options: Vec<(String, String)>,
    },
    Error {
        at: f64,
        code: u16,
        message: String,
    },
}

/// Everything read from a capture.
#[derive(Debug, Default)]
pub struct Wire {
    pub dhcp: Vec<Dhcp>,
    pub tftp: Vec<Tftp>,
    /// Time of the last non-DHCP UDP packet to or from each port.
    pub last_packet: HashMap<u16, f64>,
}

impl Wire {
    /// Reads a capture file; a missing or foreign file gives an empty `Wire`.
    pub fn read(path: &Path) -> Wire {
        std::fs::read(path)
            .map(|b| parse_pcap(&b))
            .unwrap_or_default()
    }

    /// Names of the files requested over TFTP, in order.
    pub fn requested_files(&self) -> Vec<&str> {
        self.tftp
            .iter()
            .filter_map(|t| match t {
                Tftp::Request { file, .. } => Some(file.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Client messages (BOOTREQUEST).
    pub fn requests(&self) -> impl Iterator<Item = &Dhcp> {
        self.dhcp.iter().filter(|d| d.op == 1)
    }

    /// Server replies to the transaction `xid`.
    pub fn replies_to(&self, xid: u32) -> impl Iterator<Item = &Dhcp> {
        self.dhcp.iter().filter(move |d| d.op == 2 && d.xid == xid)
    }

    /// A readable account of every DHCP option and TFTP request seen, in
    /// time order.
    pub fn summary(&self) -> String {
        let mut lines: Vec<(f64, String)> = Vec::new();
        for d in &self.dhcp {
            lines.push((d.at, describe_dhcp(d)));
        }
        for t in &self.tftp {
            lines.push(match t {
                Tftp::Request {
                    at,
                    port,
                    write,
                    file,
                    options,
                } => {
                    let op = if *write { "WRQ" } else { "RRQ" };
                    let took = self.last_packet.get(port).map_or(0.0, |end| end - at);
                    let line = format!("{at:7.2}s TFTP {op} {file:?} {options:?} ({took:.2}s)\n");
                    (*at, line)
                }
                Tftp::Oack { at, options } => (*at, format!("{at:7.2}s TFTP OACK {options:?}\n")),
                Tftp::Error { at, code, message } => {
                    (*at, format!("{at:7.2}s TFTP ERROR {code} {message:?}\n"))
                }
            });
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        lines.into_iter().map(|(_, l)| l).collect()
    }
}

fn describe_dhcp(d: &Dhcp) -> String {
    let mut out = String::new();
    let who = if d.op == 1 { "client" } else { "server" };
    let _ = writeln!(
        out,
        "{:7.2}s DHCP {} from {who} to port {} xid={:08x} siaddr={} file={:?}",
        d.at,
        msg_type_name(d.msg_type()),
        d.port,
        d.xid,
        std::net::Ipv4Addr::from(d.siaddr),
        d.file
    );
    for (code, value) in &d.options {
        let _ = writeln!(out, "           opt {code:3} {}", show_value(*code, value));
    }
    out
}

fn msg_type_name(t: u8) -> &'static str {
    match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        _ => "?",
    }
}

/// Text options as text, the rest as hex.
fn show_value(code: u8, value: &[u8]) -> String {
    match code {
        12 | 15 | 60 | 66 | 67 | 77 => format!("{:?}", String::from_utf8_lossy(value)),
        55 => format!("{value:?}"),
        _ => value
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Decodes a capture file's bytes (see `pcap::udp_datagrams`).
pub fn parse_pcap(bytes: &[u8]) -> Wire {
    let mut wire = Wire::default();
    for d in udp_datagrams(bytes) {
        classify(&mut wire, d.at, d.sport, d.dport, d.payload);
    }
    wire
}

fn classify(wire: &mut Wire, at: f64, sport: u16, dport: u16, payload: &[u8]) {
    let dhcp_ports = [67, 68, 4011];
    if dhcp_ports.contains(&sport) || dhcp_ports.contains(&dport) {
        if let Some(mut d) = parse_dhcp(at, payload) {
            d.port = dport;
            wire.dhcp.push(d);
        }
    } else if let Some(t) = parse_tftp(at, sport, dport, payload) {
        wire.tftp.push(t);
    } else {
        wire.last_packet.insert(sport, at);
        wire.last_packet.insert(dport, at);
    }
}

/// A BOOTP/DHCP message: fixed header, magic cookie, then TLV options.
pub fn parse_dhcp(at: f64, p: &[u8]) -> Option<Dhcp> {
    if p.len() < 240 || p[236..240] != [99, 130, 83, 99] {
        return None;
    }
    let file_field = &p[108..236];
    let file_end = file_field
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(file_field.len());
    let mut options = Vec::new();
    let mut i = 240;
    while let Some(&code) = p.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let len = usize::from(*p.get(i + 1)?);
                options.push((code, p.get(i + 2..i + 2 + len)?.to_vec()));
                i += 2 + len;
            }
        }
    }
    Some(Dhcp {
        at,
        op: p[0],
        port: 0,
        xid: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        siaddr: [p[20], p[21], p[22], p[23]],
        file: String::from_utf8_lossy(&file_field[..file_end]).into_owned(),
        options,
    })
}

/// TFTP RRQ/WRQ (to port 69), OACK and ERROR; DATA and ACK give `None`.
pub fn parse_tftp(at: f64, sport: u16, dport: u16, p: &[u8]) -> Option<Tftp> {
    let opcode = u16::from_be_bytes([*p.first()?, *p.get(1)?]);
    let strings = || -> Vec<String> {
        let body = p.get(2..).unwrap_or_default();
        let body = body.strip_suffix(&[0]).unwrap_or(body);
        body.split(|&b| b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    };
    let pairs = |s: &[String]| -> Vec<(String, String)> {
        s.chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect()
    };
    match opcode {
        1 | 2 if dport == 69 => {
            let s = strings();
            let file = s.first()?.clone();
            let options = pairs(s.get(2..).unwrap_or_default());
            Some(Tftp::Request {
                at,
                port: sport,
                write: opcode == 2,
                file,
                options,
            })
        }
        6 => Some(Tftp::Oack {
            at,
            options: pairs(&strings()),
        }),
        5 => {
            let code = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
            let text = p.get(4..).unwrap_or_default();
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            let message = String::from_utf8_lossy(&text[..end]).into_owned();
            Some(Tftp::Error { at, code, message })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DHCP DISCOVER from an iPXE BIOS client, as bytes.
    fn discover() -> Vec<u8> {
        let mut p = vec![0u8; 240];
        p[0] = 1;
        p[4..8].copy_from_slice(&0xdead_beef_u32.to_be_bytes());
        p[236..240].copy_from_slice(&[99, 130, 83, 99]);
        p.extend_from_slice(&[53, 1, 1, 0, 93, 2, 0, 0, 77, 4]);
        p.extend_from_slice(b"iPXE");
        p.push(255);
        p
    }

    /// Wraps a UDP payload in Ethernet/IPv4/UDP and a one-record pcap file.
    fn pcap_with(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17]);
        frame.extend_from_slice(&[0u8; 10]);
        let udp_len = u16::try_from(8 + payload.len()).unwrap();
        for v in [sport, dport, udp_len, 0] {
            frame.extend_from_slice(&v.to_be_bytes());
        }
        frame.extend_from_slice(payload);
        let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        file.extend_from_slice(&[0u8; 8]);
        file.extend_from_slice(&65535u32.to_le_bytes());
        file.extend_from_slice(&1u32.to_le_bytes());
        let len = u32::try_from(frame.len()).unwrap();
        for v in [7u32, 0, len, len] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        file.extend_from_slice(&frame);
        file
    }

    #[test]
    fn dhcp_options_are_read_in_wire_order() {
        let d = parse_dhcp(0.0, &discover()).unwrap();
        assert_eq!((d.op, d.xid, d.msg_type()), (1, 0xdead_beef, 1));
        assert_eq!(d.arch(), Some(0));
        assert!(d.is_ipxe());
        let codes: Vec<u8> = d.options.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, [53, 93, 77]);
    }

    #[test]
    fn pcap_record_is_decoded_to_dhcp() {
        let wire = parse_pcap(&pcap_with(68, 67, &discover()));
        assert_eq!(wire.dhcp.len(), 1);
        assert!(wire.summary().contains("DISCOVER from client"));
    }

    #[test]
    fn tftp_request_error_and_oack() {
        let rrq = b"\x00\x01ipxe.efi\x00octet\x00tsize\x000\x00blksize\x001468\x00";
        let wire = parse_pcap(&pcap_with(1024, 69, rrq));
        assert_eq!(wire.requested_files(), ["ipxe.efi"]);
        match &wire.tftp[0] {
            Tftp::Request { options, .. } => assert_eq!(options.len(), 2),
            other => panic!("{other:?}"),
        }
        let err = parse_tftp(0.0, 69, 1024, b"\x00\x05\x00\x08User aborted\x00").unwrap();
        assert!(
            matches!(err, Tftp::Error { code: 8, ref message, .. } if message == "User aborted")
        );
        let oack = parse_tftp(0.0, 69, 1024, b"\x00\x06tsize\x00850528\x00").unwrap();
        assert!(matches!(oack, Tftp::Oack { ref options, .. } if options[0].1 == "850528"));
    }

    #[test]
    fn truncated_or_foreign_input_never_panics() {
        let good = pcap_with(68, 67, &discover());
        for cut in 0..good.len() {
            let _ = parse_pcap(&good[..cut]);
            let _ = parse_dhcp(0.0, &discover()[..cut.min(discover().len())]);
            let _ = parse_tftp(0.0, 1024, 69, &good[..cut.min(20)]);
        }
        assert!(parse_pcap(b"not a pcap file at all").dhcp.is_empty());
    }
}
