//! TFTP wire format (RFC 1350, RFC 2347 OACK): parse a datagram into a
//! [`Packet`] borrowing from it, and encode packets into a buffer. No I/O.
//!
//! Parsing is strict where ambiguity would be dangerous (opcode, NUL-terminated
//! strings, mode) and lenient where real clients are sloppy: trailing NUL
//! padding after a request, a missing NUL after an error message, and extra
//! bytes after an ACK's block number are accepted.

use std::fmt;

/// TFTP opcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Opcode {
    /// Read request.
    Rrq = 1,
    /// Write request.
    Wrq = 2,
    /// Data block.
    Data = 3,
    /// Acknowledgement.
    Ack = 4,
    /// Error.
    Error = 5,
    /// Option acknowledgement (RFC 2347).
    Oack = 6,
}

/// Transfer mode named in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Raw bytes.
    Octet,
    /// Text with CR LF line ends on the wire.
    Netascii,
    /// Obsolete RFC 1350 mail mode; parsed so it can be refused politely.
    Mail,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Octet => "octet",
            Mode::Netascii => "netascii",
            Mode::Mail => "mail",
        })
    }
}

/// TFTP error codes (RFC 1350, 8 from RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0: not defined, see message.
    NotDefined,
    /// 1: file not found.
    FileNotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTid,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: option negotiation refused (RFC 2347).
    OptionRefused,
    /// Any other code a peer sent.
    Other(u16),
}

impl ErrorCode {
    /// The numeric code on the wire.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTid => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionRefused => 8,
            ErrorCode::Other(c) => c,
        }
    }

    /// The code for a number read from the wire.
    pub fn from_code(code: u16) -> Self {
        match code {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTid,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionRefused,
            c => ErrorCode::Other(c),
        }
    }
}

/// A read or write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The file name exactly as sent (may not be UTF-8).
    pub filename: &'a [u8],
    /// Transfer mode.
    pub mode: Mode,
    /// Options in the order sent; names as sent (compare case-insensitively).
    pub options: Vec<(&'a str, &'a str)>,
}

/// A parsed TFTP packet borrowing from the datagram it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request.
    Rrq(Request<'a>),
    /// Write request.
    Wrq(Request<'a>),
    /// Data block `block` with its payload.
    Data {
        /// Block number on the wire.
        block: u16,
        /// Payload (0..=blksize bytes).
        data: &'a [u8],
    },
    /// Acknowledgement of `block`.
    Ack {
        /// Block number on the wire.
        block: u16,
    },
    /// Error from the peer.
    Error {
        /// Error code.
        code: ErrorCode,
        /// Human-readable message (lossy if not UTF-8).
        message: String,
    },
    /// Option acknowledgement.
    Oack {
        /// Options accepted, in order.
        options: Vec<(&'a str, &'a str)>,
    },
}

/// Why a datagram is not a valid TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer than the bytes the opcode needs.
    #[error("packet too short")]
    TooShort,
    /// Opcode outside 1..=6.
    #[error("unknown opcode {0}")]
    UnknownOpcode(u16),
    /// A string field is not NUL-terminated.
    #[error("unterminated string field")]
    Unterminated,
    /// The request's file name is empty.
    #[error("empty file name")]
    EmptyFilename,
    /// A mode other than octet, netascii or mail.
    #[error("unknown transfer mode {0:?}")]
    UnknownMode(String),
    /// An option name or value is not ASCII/UTF-8.
    #[error("option text is not valid UTF-8")]
    BadOptionText,
    /// An option name without a value.
    #[error("option {0:?} has no value")]
    OptionWithoutValue(String),
}

impl<'a> Packet<'a> {
    /// Parses one datagram.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        if buf.len() < 2 {
            return Err(ParseError::TooShort);
        }
        let opcode = u16::from_be_bytes([buf[0], buf[1]]);
        let body = &buf[2..];
        match opcode {
            1 => Ok(Packet::Rrq(parse_request(body)?)),
            2 => Ok(Packet::Wrq(parse_request(body)?)),
            3 => {
                let block = read_u16(body)?;
                Ok(Packet::Data {
                    block,
                    data: &body[2..],
                })
            }
            4 => Ok(Packet::Ack {
                block: read_u16(body)?,
            }),
            5 => {
                let code = ErrorCode::from_code(read_u16(body)?);
                let text = &body[2..];
                let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                Ok(Packet::Error {
                    code,
                    message: String::from_utf8_lossy(&text[..end]).into_owned(),
                })
            }
            6 => Ok(Packet::Oack {
                options: parse_options(body)?,
            }),
            other => Err(ParseError::UnknownOpcode(other)),
        }
    }

    /// The opcode of this packet.
    pub fn opcode(&self) -> Opcode {
        match self {
            Packet::Rrq(_) => Opcode::Rrq,
            Packet::Wrq(_) => Opcode::Wrq,
            Packet::Data { .. } => Opcode::Data,
            Packet::Ack { .. } => Opcode::Ack,
            Packet::Error { .. } => Opcode::Error,
            Packet::Oack { .. } => Opcode::Oack,
        }
    }

    /// Appends the encoded packet to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.opcode() as u16).to_be_bytes());
        match self {
            Packet::Rrq(req) | Packet::Wrq(req) => {
                out.extend_from_slice(req.filename);
                out.push(0);
                out.extend_from_slice(req.mode.to_string().as_bytes());
                out.push(0);
                encode_options(&req.options, out);
            }
            Packet::Data { block, data } => {
                out.extend_from_slice(&block.to_be_bytes());
                out.extend_from_slice(data);
            }
            Packet::Ack { block } => out.extend_from_slice(&block.to_be_bytes()),
            Packet::Error { code, message } => {
                out.extend_from_slice(&code.code().to_be_bytes());
                out.extend_from_slice(message.as_bytes());
                out.push(0);
            }
            Packet::Oack { options } => encode_options(options, out),
        }
    }

    /// The encoded packet as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Writes the 4-byte DATA header for `block` into `out[..4]`.
pub fn write_data_header(out: &mut [u8], block: u16) {
    out[..2].copy_from_slice(&(Opcode::Data as u16).to_be_bytes());
    out[2..4].copy_from_slice(&block.to_be_bytes());
}

/// Encodes an ERROR packet.
pub fn error_packet(code: ErrorCode, message: &str) -> Vec<u8> {
    Packet::Error {
        code,
        message: message.to_string(),
    }
    .to_bytes()
}

/// The smallest ERROR packet: opcode, code and an empty message's NUL.
pub const MIN_ERROR_LEN: usize = 5;

/// Encodes an ERROR packet of at most `limit` bytes. The message is sent
/// whole when it fits; otherwise whole words that do (its head before
/// `": "`, or a shorter standard text for the code, see
/// [`super::error_text`]), down to an empty one, never a cut word. `None`
/// when not even an empty message fits. Replies to a packet that may come
/// from a spoofed address use this, so the server never sends more than it
/// received.
pub fn error_within(code: ErrorCode, message: &str, limit: usize) -> Option<Vec<u8>> {
    let room = limit.checked_sub(MIN_ERROR_LEN)?;
    Some(error_packet(
        code,
        super::error_text::fitting(code, message, room),
    ))
}

fn read_u16(body: &[u8]) -> Result<u16, ParseError> {
    match body {
        [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(ParseError::TooShort),
    }
}

/// Splits off one NUL-terminated field.
fn take_field(body: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let end = body
        .iter()
        .position(|&b| b == 0)
        .ok_or(ParseError::Unterminated)?;
    Ok((&body[..end], &body[end + 1..]))
}

fn parse_request(body: &[u8]) -> Result<Request<'_>, ParseError> {
    let (filename, rest) = take_field(body)?;
    if filename.is_empty() {
        return Err(ParseError::EmptyFilename);
    }
    let (mode, rest) = take_field(rest)?;
    let mode = parse_mode(mode)?;
    Ok(Request {
        filename,
        mode,
        options: parse_options(rest)?,
    })
}

fn parse_mode(raw: &[u8]) -> Result<Mode, ParseError> {
    let text = String::from_utf8_lossy(raw);
    match text.to_ascii_lowercase().as_str() {
        "octet" => Ok(Mode::Octet),
        "netascii" => Ok(Mode::Netascii),
        "mail" => Ok(Mode::Mail),
        _ => Err(ParseError::UnknownMode(text.into_owned())),
    }
}

fn parse_options(mut rest: &[u8]) -> Result<Vec<(&str, &str)>, ParseError> {
    let mut options = Vec::new();
    // Some ROMs pad requests with NULs: an all-zero tail is not an option.
    while rest.iter().any(|&b| b != 0) {
        let (name, after_name) = take_field(rest)?;
        let name = std::str::from_utf8(name).map_err(|_| ParseError::BadOptionText)?;
        let (value, after_value) =
            take_field(after_name).map_err(|_| ParseError::OptionWithoutValue(name.to_string()))?;
        let value = std::str::from_utf8(value).map_err(|_| ParseError::BadOptionText)?;
        options.push((name, value));
        rest = after_value;
    }
    Ok(options)
}

fn encode_options(options: &[(&str, &str)], out: &mut Vec<u8>) {
    for (name, value) in options {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
