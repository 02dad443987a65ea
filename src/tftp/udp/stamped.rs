//! The listener's receive, with the time the kernel took the datagram in
//! (`SO_TIMESTAMPNS`), not the time the listener got round to it: under a
//! boot storm a request can wait in the socket's queue for longer than a
//! whole transfer, and only its arrival time tells a late copy of a request
//! already served from a new request (see [`crate::tftp::late_copies`]).

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, SystemTime};

use nix::sys::socket::{self, recvmsg, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage};
use nix::sys::time::TimeSpec;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Asks the kernel to stamp every datagram `socket` receives. Without the
/// stamps (an old kernel) requests are taken as they are read.
pub fn enable_timestamps(socket: &impl AsFd) -> io::Result<()> {
    socket::setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// A datagram read from a listening socket.
#[derive(Debug, Clone, Copy)]
pub struct Stamped {
    /// Its length in the buffer.
    pub len: usize,
    /// Who sent it.
    pub from: SocketAddr,
    /// When the kernel received it, if the socket has timestamps on.
    pub received: Option<SystemTime>,
}

/// Receives one datagram into `buf`, with its arrival time.
pub async fn recv_stamped(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Stamped> {
    socket
        .async_io(Interest::READABLE, || recv_once(socket, buf))
        .await
}

fn recv_once(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Stamped> {
    let mut space = nix::cmsg_space!(TimeSpec);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let from = msg
        .address
        .as_ref()
        .and_then(socket_addr)
        .ok_or_else(|| io::Error::other("a datagram without a sender's address"))?;
    let received = msg.cmsgs().ok().and_then(|mut cmsgs| {
        cmsgs.find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmTimestampns(ts) => Some(system_time(ts)),
            _ => None,
        })
    });
    Ok(Stamped {
        len: msg.bytes,
        from,
        received: received.flatten(),
    })
}

fn socket_addr(addr: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    addr.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}

fn system_time(ts: TimeSpec) -> Option<SystemTime> {
    let secs = u64::try_from(ts.tv_sec()).ok()?;
    let nanos = u32::try_from(ts.tv_nsec()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_datagram_comes_with_its_sender_and_the_time_it_arrived() {
        let listener = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        enable_timestamps(&listener).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = listener.local_addr().unwrap();
        // The kernel turns stamping on a moment after the first socket asks
        // (a deferred work item); until then a datagram is stamped when read.
        for _ in 0..50 {
            let before = SystemTime::now();
            client.send_to(b"\x00\x01f\x00octet\x00", to).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let mut buf = [0u8; 64];
            let got = recv_stamped(&listener, &mut buf).await.unwrap();
            assert_eq!(&buf[..got.len], b"\x00\x01f\x00octet\x00");
            assert_eq!(got.from, client.local_addr().unwrap());
            let received = got.received.expect("a kernel timestamp");
            assert!(
                received >= before - Duration::from_millis(5),
                "{received:?}"
            );
            let waited = SystemTime::now().duration_since(received).unwrap();
            if waited >= Duration::from_millis(25) {
                return; // stamped on arrival, 30 ms before it was read
            }
        }
        panic!("no datagram was stamped on arrival");
    }

    #[tokio::test]
    async fn without_timestamps_a_datagram_still_arrives() {
        let listener = UdpSocket::bind("[::1]:0").await.unwrap();
        let client = UdpSocket::bind("[::1]:0").await.unwrap();
        client
            .send_to(b"hello", listener.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let got = recv_stamped(&listener, &mut buf).await.unwrap();
        assert_eq!(&buf[..got.len], b"hello");
        assert_eq!(got.from, client.local_addr().unwrap());
        assert!(got.received.is_none());
    }
}
