//! PXE over IPv6 (RFC 5970): who the client is (option 61 architecture,
//! option 16 vendor class, option 15 user class `iPXE`, the MAC from its
//! DUID or EUI-64 link-local address) and the boot options it gets: option
//! 59 (boot file URL), option 60 (boot file parameters, from the profile's
//! `boot_params6`, to clients that ask for it), option 16 `HTTPClient`
//! echoed to HTTP boot clients.
//! The file itself is chosen by `dhcp::pxe::select` over the profile, as
//! for DHCPv4; only the URL is written here.
//!
//! Option 61 carries the same codes as DHCPv4 option 93; the lead maps it
//! through the shared architecture map when that lands.

use std::net::{Ipv4Addr, Ipv6Addr};

use dhcproto::v6::{DhcpOption, DhcpOptions, Message, OptionCode, UnknownOption, VendorClass};

use crate::boot::{ClientId, ClientProfile};
use crate::dhcp::pxe::{self, BootNote, BootParams};
use crate::mac::MacAddr;

use super::duid;

/// Option 59, OPT_BOOTFILE_URL.
const BOOTFILE_URL: u16 = 59;
/// Option 60, OPT_BOOTFILE_PARAM.
pub const BOOTFILE_PARAM: u16 = 60;

/// The client's DUID (option 1).
pub fn client_duid(msg: &Message) -> Option<&[u8]> {
    match msg.opts().get(OptionCode::ClientId) {
        Some(DhcpOption::ClientId(d)) if !d.is_empty() => Some(d),
        _ => None,
    }
}

/// The MAC of the client: from its DUID, else from its EUI-64 source.
pub fn client_mac(msg: &Message, peer: Ipv6Addr) -> Option<MacAddr> {
    client_duid(msg)
        .and_then(duid::mac_of)
        .or_else(|| duid::mac_of_eui64(&peer))
}

/// The profile-matching view of a request (the MAC all zero when unknown).
pub fn client_id(msg: &Message, peer: Ipv6Addr) -> ClientId {
    let arch = match msg.opts().get(OptionCode::ClientArchType) {
        Some(DhcpOption::ClientArchType(a)) => a.first().map(|a| u16::from(*a)),
        _ => None,
    };
    let vendor_class = match msg.opts().get(OptionCode::VendorClass) {
        Some(DhcpOption::VendorClass(v)) => v
            .data
            .first()
            .map(|d| String::from_utf8_lossy(d).into_owned()),
        _ => None,
    };
    let is_ipxe = match msg.opts().get(OptionCode::UserClass) {
        Some(DhcpOption::UserClass(u)) => u.data.iter().any(|d| d.as_slice() == b"iPXE"),
        _ => false,
    };
    ClientId {
        mac: client_mac(msg, peer).unwrap_or(MacAddr([0; 6])),
        arch,
        vendor_class,
        is_ipxe,
    }
}

/// Whether `msg` comes from PXE firmware asking for its boot file (option
/// 61, vendor class `PXEClient…`, not iPXE) in a SOLICIT or REQUEST: such
/// a client is also sent an RA of its own (`ra::firmware`).
pub fn is_pxe_firmware(msg: &Message, peer: Ipv6Addr) -> bool {
    use dhcproto::v6::MessageType::{Request, Solicit};
    let client = client_id(msg, peer);
    matches!(msg.msg_type(), Solicit | Request)
        && client.arch.is_some()
        && !client.is_ipxe
        && client
            .vendor_class
            .is_some_and(|v| v.starts_with("PXEClient"))
}

/// The boot file URL for a client, and the note for the log.
pub fn url(
    client: &ClientId,
    profile: Option<&ClientProfile>,
    ours: Ipv6Addr,
    http_port: Option<u16>,
) -> (Option<String>, BootNote) {
    let params = BootParams {
        tftp_server: Ipv4Addr::UNSPECIFIED,
        server_ip: Ipv4Addr::UNSPECIFIED,
        server_name: None,
        http_port,
    };
    let (file, note) = pxe::select(client, profile, &params);
    (file.map(|f| locate(&f, ours, http_port)), note)
}

/// A file name as a URL on our address; `select`'s HTTP URLs (made on
/// 0.0.0.0) are moved to our IPv6 address; other URLs stay.
fn locate(file: &str, ours: Ipv6Addr, http_port: Option<u16>) -> String {
    if let Some(port) = http_port {
        let stand_in = pxe::http_url(Ipv4Addr::UNSPECIFIED, port, "");
        if let Some(path) = file.strip_prefix(&stand_in) {
            return http_url(ours, port, path);
        }
    }
    if file.contains("://") {
        return file.to_string();
    }
    format!("tftp://[{ours}]/{}", file.trim_start_matches('/'))
}

/// `http://[addr][:port]/path` (no `:80`).
pub fn http_url(ours: Ipv6Addr, port: u16, path: &str) -> String {
    let path = path.trim_start_matches('/');
    if port == 80 {
        format!("http://[{ours}]/{path}")
    } else {
        format!("http://[{ours}]:{port}/{path}")
    }
}

/// Writes option 59 (when there is a file) and echoes an HTTP client's
/// vendor class.
pub fn apply(opts: &mut DhcpOptions, req: &Message, client: &ClientId, file: Option<&str>) {
    if let Some(file) = file {
        opts.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(BOOTFILE_URL),
            file.as_bytes().to_vec(),
        )));
    }
    if pxe::is_http(client) {
        let num = match req.opts().get(OptionCode::VendorClass) {
            Some(DhcpOption::VendorClass(v)) => v.num,
            _ => 343,
        };
        opts.insert(DhcpOption::VendorClass(VendorClass {
            num,
            data: vec![b"HTTPClient".to_vec()],
        }));
    }
}

/// Option 60's payload (RFC 5970 §3.2): each parameter as a two-byte
/// length and its UTF-8 bytes, in order (`None` when one is too long).
pub fn encode_params(params: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for p in params {
        let len = u16::try_from(p.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    Some(out)
}

/// True when the request's option request option (6) names `code`.
pub fn asked_for(req: &Message, code: u16) -> bool {
    match req.opts().get(OptionCode::ORO) {
        Some(DhcpOption::ORO(oro)) => oro.opts.iter().any(|c| u16::from(*c) == code),
        _ => false,
    }
}

/// Writes option 60 when the profile has boot parameters and the client
/// asked for them (RFC 5970: only in answer to its option request).
pub fn apply_params(opts: &mut DhcpOptions, req: &Message, params: &[String]) {
    if params.is_empty() || !asked_for(req, BOOTFILE_PARAM) {
        return;
    }
    if let Some(data) = encode_params(params) {
        opts.insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(BOOTFILE_PARAM),
            data,
        )));
    }
}

/// The boot file parameters in a reply (tests): option 60 decoded.
pub fn boot_params(opts: &DhcpOptions) -> Option<Vec<String>> {
    let data = opts.iter().find_map(|o| match o {
        DhcpOption::Unknown(u) if u16::from(u.code()) == BOOTFILE_PARAM => Some(u.data()),
        _ => None,
    })?;
    let (mut rest, mut out) = (data, Vec::new());
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let p = rest.get(2..2 + len)?;
        out.push(String::from_utf8_lossy(p).into_owned());
        rest = &rest[2 + len..];
    }
    rest.is_empty().then_some(out)
}

/// The boot file URL in a reply, if any (tests and the fuzz target).
pub fn boot_url(opts: &DhcpOptions) -> Option<String> {
    opts.iter().find_map(|o| match o {
        DhcpOption::Unknown(u) if u16::from(u.code()) == BOOTFILE_URL => {
            Some(String::from_utf8_lossy(u.data()).into_owned())
        }
        _ => None,
    })
}
