//! Bytes to a DHCP message and back, safely.
//!
//! dhcproto does the decoding, but a few of its option decoders assert on the
//! option length (they panic in debug builds and fuzzers). [`decode`] walks the
//! option area first and rejects such packets with a reason, so bad input
//! never panics. [`encode`] enforces the client's maximum message size.

use dhcproto::v4::{DhcpOption, Message, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

/// Why a datagram is not a DHCP request we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("datagram of {0} bytes is too short for BOOTP (236 + magic cookie)")]
    TooShort(usize),
    #[error("hardware address length {0} is more than 16")]
    BadHlen(u8),
    #[error("no DHCP magic cookie")]
    NoMagic,
    #[error("option {code} has an impossible length {len}")]
    BadOptionLength { code: u8, len: usize },
    #[error("undecodable message: {0}")]
    Decode(String),
    #[error("reply does not fit in {0} bytes")]
    TooBig(usize),
    #[error("cannot encode reply: {0}")]
    Encode(String),
}

const HEADER: usize = 236;
const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// RFC 2131: every client accepts 576-byte IP datagrams, i.e. 548 bytes of DHCP.
pub const MIN_MAX_SIZE: usize = 548;
/// We never send more than an Ethernet frame's worth of DHCP.
pub const MAX_REPLY: usize = 1472;

/// Decodes a request after checking the options dhcproto would choke on.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() < HEADER + 4 {
        return Err(WireError::TooShort(bytes.len()));
    }
    if bytes[HEADER..HEADER + 4] != MAGIC {
        return Err(WireError::NoMagic);
    }
    // dhcproto slices chaddr by hlen: more than 16 would panic
    if bytes[2] > 16 {
        return Err(WireError::BadHlen(bytes[2]));
    }
    check_options(&bytes[HEADER + 4..])?;
    Message::decode(&mut Decoder::new(bytes)).map_err(|e| WireError::Decode(e.to_string()))
}

/// Walks the TLVs, merging runs of one code as RFC 3396 (and dhcproto) do,
/// and checks the lengths of options whose decoders assume a size.
fn check_options(mut opts: &[u8]) -> Result<(), WireError> {
    let mut run: Option<(u8, usize)> = None;
    loop {
        let code = match opts.first() {
            None | Some(255) => break,
            Some(0) => {
                opts = &opts[1..];
                flush(run.take())?;
                continue;
            }
            Some(&c) => c,
        };
        let Some(&len) = opts.get(1) else { break };
        let len = usize::from(len);
        if opts.len() < 2 + len {
            break;
        }
        run = match run {
            Some((c, total)) if c == code => Some((c, total + len)),
            other => {
                flush(other)?;
                Some((code, len))
            }
        };
        opts = &opts[2 + len..];
    }
    flush(run)
}

fn flush(run: Option<(u8, usize)>) -> Result<(), WireError> {
    let Some((code, len)) = run else {
        return Ok(());
    };
    let ok = match code {
        80 => len == 0,
        81 => len >= 3,
        94 => len == 3,
        151 => len >= 1,
        152..=155 => len == 4,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(WireError::BadOptionLength { code, len })
    }
}

/// Encodes a reply, dropping optional options (largest code first) until it
/// fits in `max` bytes. Options 53, 54, 1, 51 and 82 are never dropped.
pub fn encode(msg: &mut Message, max: usize) -> Result<Vec<u8>, WireError> {
    loop {
        let mut buf = Vec::with_capacity(576);
        msg.encode(&mut Encoder::new(&mut buf))
            .map_err(|e| WireError::Encode(e.to_string()))?;
        if buf.len() <= max {
            return Ok(buf);
        }
        let victim = msg
            .opts()
            .iter()
            .map(|(code, _)| *code)
            .filter(|c| !essential(*c))
            .max_by_key(|c| u8::from(*c));
        match victim {
            Some(code) => {
                msg.opts_mut().remove(code);
            }
            None => return Err(WireError::TooBig(max)),
        }
    }
}

fn essential(code: OptionCode) -> bool {
    matches!(
        code,
        OptionCode::MessageType
            | OptionCode::ServerIdentifier
            | OptionCode::SubnetMask
            | OptionCode::AddressLeaseTime
            | OptionCode::RelayAgentInformation
            | OptionCode::BootfileName
            | OptionCode::ClassIdentifier
    )
}

/// The largest reply this client accepts (option 57), clamped to
/// [`MIN_MAX_SIZE`]..=[`MAX_REPLY`]; the IP and UDP headers (28 bytes) are
/// part of option 57's count.
pub fn max_reply_size(req: &Message) -> usize {
    match req.opts().get(OptionCode::MaxMessageSize) {
        Some(DhcpOption::MaxMessageSize(n)) => {
            (usize::from(*n).saturating_sub(28)).clamp(MIN_MAX_SIZE, MAX_REPLY)
        }
        _ => MIN_MAX_SIZE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::v4::MessageType;

    fn discover_bytes(extra: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER];
        b[0] = 1;
        b[1] = 1;
        b[2] = 6;
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&[53, 1, 1]);
        b.extend_from_slice(extra);
        b.push(255);
        b
    }

    #[test]
    fn decodes_a_discover() {
        let m = decode(&discover_bytes(&[])).unwrap();
        assert_eq!(m.opts().msg_type(), Some(MessageType::Discover));
    }

    #[test]
    fn rejects_panicky_option_lengths() {
        for bad in [
            &[94u8, 1, 0][..],
            &[151, 0],
            &[152, 1, 0],
            &[81, 1, 0],
            &[80, 1, 0],
        ] {
            assert!(matches!(
                decode(&discover_bytes(bad)),
                Err(WireError::BadOptionLength { .. })
            ));
        }
        assert_eq!(decode(&[0; 10]), Err(WireError::TooShort(10)));
        assert_eq!(decode(&[0; 300]), Err(WireError::NoMagic));
    }

    #[test]
    fn encode_trims_to_max_size() {
        let mut m = decode(&discover_bytes(&[])).unwrap();
        m.opts_mut().insert(DhcpOption::DomainName("x".repeat(200)));
        m.opts_mut().insert(DhcpOption::Hostname("y".repeat(200)));
        m.opts_mut().insert(DhcpOption::Message("z".repeat(200)));
        let bytes = encode(&mut m, 548).unwrap();
        assert!(bytes.len() <= 548);
        assert!(m.opts().get(OptionCode::MessageType).is_some());
    }
}
