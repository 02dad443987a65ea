//! Unicast replies to clients that have no address yet (RFC 2131 §4.1,
//! broadcast bit clear): the reply goes to yiaddr:68 in an Ethernet frame
//! addressed to chaddr. The kernel cannot send that through a UDP socket
//! without a neighbour entry yiaddr → chaddr, and the client cannot answer
//! ARP for an address it does not have; writing such entries (as dnsmasq
//! does) fills the machine-wide neighbour table with one per client. So the
//! server builds the IPv4/UDP packet itself ([`crate::udp4`]) and sends it on
//! an AF_PACKET socket of the interface to chaddr, with EtherType IPv4: the
//! kernel adds the Ethernet header and nothing else.
//!
//! One socket per interface, opened at start (CAP_NET_RAW). It is created
//! with protocol 0 and so receives nothing. One `sendmsg` per reply, the 28
//! header bytes on the stack gathered with the encoded reply: no copy and no
//! allocation.

use std::io::{self, IoSlice};
use std::net::SocketAddrV4;

use socket2::Socket;
use tokio::io::unix::AsyncFd;

use crate::mac::MacAddr;
use crate::packet::{link_addr, PacketSocket};
use crate::udp4::{self, ETH_P_IP};

/// Sends IPv4 packets as link-layer frames to a given MAC on one interface.
pub struct FrameSender {
    sock: AsyncFd<Socket>,
    index: u32,
}

impl FrameSender {
    /// Opens the packet socket alone (CAP_NET_RAW; no runtime needed), for
    /// [`FrameSender::new`] once privileges are dropped.
    pub fn socket(index: u32) -> io::Result<Socket> {
        let sock = PacketSocket::open(index, 0)?.into_socket();
        sock.set_nonblocking(true)?;
        // a group commit sends its ACKs back to back (best effort)
        let _ = sock.set_send_buffer_size(4 << 20);
        Ok(sock)
    }

    /// Puts `sock` (from [`FrameSender::socket`]) on the runtime.
    pub fn new(sock: Socket, index: u32) -> io::Result<Self> {
        // SAFETY: the Socket owns its fd, which stays open and the same
        // until the AsyncFd (its owner from here on) is dropped
        let sock = unsafe { AsyncFd::register(sock) }?;
        Ok(Self { sock, index })
    }

    /// Sends `payload` as a UDP datagram `src` → `dst` in a frame to `mac`.
    pub async fn send(
        &self,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        mac: MacAddr,
        payload: &[u8],
    ) -> io::Result<()> {
        let headers = udp4::headers(src, dst, payload).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "datagram too big for IPv4")
        })?;
        let to = link_addr(self.index, ETH_P_IP, Some(mac.octets()));
        let parts = [IoSlice::new(&headers), IoSlice::new(payload)];
        loop {
            // the common case needs no wake-up: the socket buffer has room
            match self.sock.get_ref().send_to_vectored(&parts, &to) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sock.writable().await?.clear_ready();
                }
                other => return other.map(drop),
            }
        }
    }
}
