//! A minimal packet-level TFTP client written from RFC 1350/2347/7440 for
//! the tests, independent of netboot's own codec: build RRQ/WRQ/ACK/DATA/
//! ERROR by hand, parse what comes back, and drive simple transfers.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// TFTP error codes used by the tests.
pub const ERR_NOT_FOUND: u16 = 1;
/// Access violation.
pub const ERR_ACCESS: u16 = 2;
/// Unknown transfer ID.
pub const ERR_UNKNOWN_TID: u16 = 5;
/// Option negotiation refused (RFC 2347).
pub const ERR_OPTION: u16 = 8;
/// Not defined (see the message).
pub const ERR_NOT_DEFINED: u16 = 0;
/// Disk full or allocation exceeded.
pub const ERR_DISK_FULL: u16 = 3;
/// Illegal TFTP operation.
pub const ERR_ILLEGAL: u16 = 4;

/// A packet received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// DATA: block number and payload.
    Data(u16, Vec<u8>),
    /// ACK of a block.
    Ack(u16),
    /// ERROR: code and message.
    Error(u16, String),
    /// OACK: options in the order sent, names lower-cased.
    Oack(Vec<(String, String)>),
    /// Anything else (raw bytes).
    Other(Vec<u8>),
}

impl Packet {
    /// Parses one datagram.
    pub fn parse(buf: &[u8]) -> Packet {
        if buf.len() < 2 {
            return Packet::Other(buf.to_vec());
        }
        let op = u16::from_be_bytes([buf[0], buf[1]]);
        let body = &buf[2..];
        match op {
            3 if body.len() >= 2 => Packet::Data(be16(body), body[2..].to_vec()),
            4 if body.len() == 2 => Packet::Ack(be16(body)),
            5 if body.len() >= 2 => {
                let msg = body[2..].split(|b| *b == 0).next().unwrap_or(&[]);
                Packet::Error(be16(body), String::from_utf8_lossy(msg).into_owned())
            }
            6 => Packet::Oack(parse_options(body)),
            _ => Packet::Other(buf.to_vec()),
        }
    }

    /// The value of option `name` in an OACK.
    pub fn option(&self, name: &str) -> Option<&str> {
        match self {
            Packet::Oack(opts) => opts
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn parse_options(body: &[u8]) -> Vec<(String, String)> {
    let mut fields = body
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
        if k.is_empty() {
            break;
        }
        out.push((k.to_ascii_lowercase(), v));
    }
    out
}

/// RRQ (opcode 1) or WRQ (opcode 2) with options.
fn request(opcode: u16, file: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut p = opcode.to_be_bytes().to_vec();
    for field in [file, mode]
        .into_iter()
        .chain(options.iter().flat_map(|(k, v)| [*k, *v]))
    {
        p.extend_from_slice(field.as_bytes());
        p.push(0);
    }
    p
}

/// A read request.
pub fn rrq(file: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    request(1, file, mode, options)
}

/// A write request.
pub fn wrq(file: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    request(2, file, mode, options)
}

/// A DATA packet.
pub fn data(block: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 3];
    p.extend_from_slice(&block.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An ACK packet.
pub fn ack(block: u16) -> Vec<u8> {
    let mut p = vec![0, 4];
    p.extend_from_slice(&block.to_be_bytes());
    p
}

/// An ERROR packet.
pub fn error(code: u16, msg: &str) -> Vec<u8> {
    let mut p = vec![0, 5];
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(msg.as_bytes());
    p.push(0);
    p
}

/// One client socket talking to a server: requests go to the listening
/// address, everything after to the transfer's port (the server's TID).
pub struct RawClient {
    /// The socket (its port is the client's TID).
    pub sock: UdpSocket,
    /// The server's listening address.
    pub server: SocketAddr,
    /// The transfer's address, learned from the first reply.
    pub peer: Option<SocketAddr>,
}

impl RawClient {
    /// A client bound to an ephemeral port of the server's loopback family.
    pub fn new(server: SocketAddr) -> RawClient {
        let local = if server.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        };
        RawClient::bound(local, server)
    }

    /// A client bound to `local` (an address of the namespace it runs in).
    pub fn bound(local: &str, server: SocketAddr) -> RawClient {
        let sock = UdpSocket::bind(local).expect("bind raw client");
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        RawClient {
            sock,
            server,
            peer: None,
        }
    }

    /// Sends a request to the listening port (and forgets the old TID).
    pub fn request(&mut self, packet: &[u8]) {
        self.peer = None;
        self.sock.send_to(packet, self.server).unwrap();
    }

    /// Sends to the transfer's port.
    pub fn send(&self, packet: &[u8]) {
        let peer = self.peer.expect("no transfer port yet");
        self.sock.send_to(packet, peer).unwrap();
    }

    /// Receives one packet (5 s bound), remembering the transfer port.
    #[track_caller]
    pub fn recv(&mut self) -> Packet {
        self.recv_within(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no packet from the server within 5 s"))
    }

    /// Receives one packet, or `None` after `wait`.
    #[track_caller]
    pub fn recv_within(&mut self, wait: Duration) -> Option<Packet> {
        self.recv_datagram(wait).map(|d| Packet::parse(&d))
    }

    /// Receives one datagram as raw bytes (remembering the transfer port as
    /// [`RawClient::recv`] does), or `None` after `wait`.
    #[track_caller]
    pub fn recv_datagram(&mut self, wait: Duration) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65536];
        self.sock
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .unwrap();
        let received = self.sock.recv_from(&mut buf);
        self.sock
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (n, from) = received.ok()?;
        assert_eq!(from.ip(), self.server.ip(), "packet from a stranger");
        match self.peer {
            None => self.peer = Some(from),
            Some(p) => assert_eq!(p, from, "packet from another port mid-transfer"),
        }
        buf.truncate(n);
        Some(buf)
    }

    /// Every datagram that arrives within `wait` (raw bytes, in order).
    #[track_caller]
    pub fn collect_for(&mut self, wait: Duration) -> Vec<Vec<u8>> {
        let deadline = std::time::Instant::now() + wait;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return out;
            }
            if let Some(d) = self.recv_datagram(left) {
                out.push(d);
            }
        }
    }

    /// Sends `packet` to the listening port again, keeping the transfer
    /// port learned so far (a client repeating its request).
    pub fn repeat_request(&self, packet: &[u8]) {
        self.sock.send_to(packet, self.server).unwrap();
    }

    /// Receives DATA blocks after an RRQ (or after the ACK of an OACK),
    /// acknowledging every `window`-th block and the last one, until a
    /// short block. `first` is a packet already received, if any. Like a
    /// real client it copes with the server's retransmissions: a block out
    /// of sequence (a duplicate, or one after a loss) is dropped and the
    /// last block received in order is acknowledged again, as is the last
    /// block when the server goes quiet. Returns the payload.
    #[track_caller]
    pub fn read_rest(&mut self, first: Option<Packet>, blksize: usize, window: u16) -> Vec<u8> {
        let mut out = Vec::new();
        let mut expected: u16 = 1;
        let mut in_window: u16 = 0;
        let mut pending = first;
        let mut quiet_rounds = 0;
        loop {
            let packet = match pending.take() {
                Some(p) => p,
                None => match self.recv_within(Duration::from_millis(500)) {
                    Some(p) => p,
                    None => {
                        quiet_rounds += 1;
                        assert!(
                            quiet_rounds < 20,
                            "server silent, expecting DATA {expected}"
                        );
                        self.send(&ack(expected.wrapping_sub(1)));
                        continue;
                    }
                },
            };
            quiet_rounds = 0;
            let (block, payload) = match packet {
                Packet::Data(b, p) => (b, p),
                other => panic!("expected DATA {expected}, got {other:?}"),
            };
            if block != expected {
                self.send(&ack(expected.wrapping_sub(1)));
                in_window = 0;
                continue;
            }
            out.extend_from_slice(&payload);
            in_window += 1;
            let last = payload.len() < blksize;
            if last || in_window == window {
                self.send(&ack(block));
                in_window = 0;
            }
            if last {
                return out;
            }
            expected = expected.wrapping_add(1);
        }
    }

    /// Waits for ACK `block`, skipping retransmitted ACKs of the block
    /// before.
    #[track_caller]
    pub fn expect_ack(&mut self, block: u16) {
        loop {
            match self.recv() {
                Packet::Ack(b) if b == block => return,
                Packet::Ack(b) if b == block.wrapping_sub(1) => {}
                other => panic!("expected ACK {block}, got {other:?}"),
            }
        }
    }

    /// Sends `payload` as DATA blocks of `blksize` in lock-step after a WRQ
    /// was answered with ACK 0 or an OACK, sending a block again when its
    /// ACK is late and ignoring duplicate ACKs.
    #[track_caller]
    pub fn write_all(&mut self, payload: &[u8], blksize: usize) {
        let mut block: u16 = 1;
        let mut chunks = payload.chunks(blksize).collect::<Vec<_>>();
        if payload.len().is_multiple_of(blksize) {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let packet = data(block, chunk);
            let mut tries = 0;
            self.send(&packet);
            loop {
                match self.recv_within(Duration::from_millis(500)) {
                    Some(Packet::Ack(b)) if b == block => break,
                    Some(Packet::Ack(b)) if b == block.wrapping_sub(1) => {}
                    Some(other) => panic!("expected ACK {block}, got {other:?}"),
                    None => {
                        tries += 1;
                        assert!(tries < 20, "no ACK {block} from the server");
                        self.send(&packet);
                    }
                }
            }
            block = block.wrapping_add(1);
        }
    }
}
