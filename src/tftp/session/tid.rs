//! Transfer IDs (RFC 1350): which datagrams arriving on a transfer's own
//! port belong to it, and the ERROR 5 a stranger gets. Pure, so the rule is
//! tested without sockets.

use std::net::SocketAddr;

use crate::tftp::packet::{error_within, ErrorCode, MIN_ERROR_LEN};

/// Whose datagram it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The transfer's client, from the address and port it started with.
    Peer,
    /// Anyone else: ignored, but answered with this ERROR 5 (when any).
    Stranger(Option<Vec<u8>>),
    /// Our own listening socket (a datagram looped back): ignored silently.
    Ignored,
}

/// Classifies a datagram of `len` bytes from `from` on the transfer with
/// client `peer`, started on listening address `local`. A stranger's source
/// may be spoofed, so its ERROR 5 is no longer than what it sent (the bare
/// 5-byte ERROR at least, which RFC 1350 asks for).
pub fn check(from: SocketAddr, peer: SocketAddr, local: SocketAddr, len: usize) -> Origin {
    if from == peer {
        return Origin::Peer;
    }
    if from == local {
        return Origin::Ignored;
    }
    let limit = len.max(MIN_ERROR_LEN);
    Origin::Stranger(error_within(
        ErrorCode::UnknownTid,
        "Unknown transfer ID",
        limit,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tftp::packet::Packet;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_the_clients_address_and_port_belong_to_the_transfer() {
        let peer = addr("192.0.2.7:2000");
        let local = addr("192.0.2.1:69");
        assert_eq!(check(peer, peer, local, 4), Origin::Peer);
        assert_eq!(check(local, peer, local, 4), Origin::Ignored);
        for stranger in ["192.0.2.7:2001", "192.0.2.8:2000", "[2001:db8::7]:2000"] {
            let Origin::Stranger(Some(reply)) = check(addr(stranger), peer, local, 4) else {
                panic!("{stranger} is a stranger");
            };
            match Packet::parse(&reply).unwrap() {
                Packet::Error { code, .. } => assert_eq!(code, ErrorCode::UnknownTid),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_strangers_error_5_is_no_larger_than_its_packet() {
        let peer = addr("192.0.2.7:2000");
        let local = addr("192.0.2.1:69");
        let stranger = addr("192.0.2.7:2001");
        let Origin::Stranger(Some(small)) = check(stranger, peer, local, 4) else {
            panic!("no reply");
        };
        assert_eq!(
            small.len(),
            MIN_ERROR_LEN,
            "a 4-byte ACK gets the bare ERROR"
        );
        let Origin::Stranger(Some(big)) = check(stranger, peer, local, 516) else {
            panic!("no reply");
        };
        assert_eq!(
            Packet::parse(&big).unwrap(),
            Packet::Error {
                code: ErrorCode::UnknownTid,
                message: "Unknown transfer ID".into()
            }
        );
    }
}
