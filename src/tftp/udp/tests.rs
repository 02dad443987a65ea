//! The transfer socket against a real receiver on loopback: windows sent
//! whole by each path, and the brief poll.

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::*;

fn receiver() -> (StdUdpSocket, SocketAddr) {
    let socket = StdUdpSocket::bind("127.0.0.1:0").unwrap();
    SockRef::from(&socket)
        .set_recv_buffer_size(8 << 20)
        .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

fn datagrams(count: usize, len: usize, last: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let n = if i + 1 == count { last } else { len };
            (0..n).map(|j| (i * 31 + j) as u8).collect()
        })
        .collect()
}

/// Sends with `send_all` and checks every datagram arrives whole, in order.
fn round_trip(sender: &mut TransferSocket, batch: &[Vec<u8>]) {
    let (rx, addr) = receiver();
    let slices: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
    sender.send_all(&slices, batch[0].len(), addr).unwrap();
    let mut buf = vec![0u8; 70_000];
    for (i, want) in batch.iter().enumerate() {
        let (n, _) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &want[..], "datagram {i}");
    }
}

#[test]
fn windows_arrive_whole_by_segmentation_by_sendmmsg_and_after_a_fallback() {
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut socket = TransferSocket::new(bind_transfer(local, None, 0).unwrap());
    // 1468-byte blocks: segmented sends of up to 44 (65,000 bytes).
    round_trip(&mut socket, &datagrams(50, 1472, 300));
    // 65464-byte blocks cannot be segments of one send: one sendmmsg.
    round_trip(&mut socket, &datagrams(16, 65_468, 65_468));
    // More than one sendmmsg's worth, after segmentation was turned off.
    socket.segmentation = false;
    round_trip(&mut socket, &datagrams(70, 1472, 4));
}

#[test]
fn a_brief_poll_takes_what_is_there_and_gives_up_on_time() {
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let socket = TransferSocket::new(bind_transfer(local, None, 0).unwrap());
    let addr = socket.socket.local_addr().unwrap();
    let client = StdUdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buf = [0u8; 16];
    let polls = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    client.send_to(b"ack", addr).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    match socket.poll_briefly(&mut buf, Duration::from_millis(50)) {
        Some(Received::Datagram(3, from)) if polls => {
            assert_eq!(from, client.local_addr().unwrap());
            assert_eq!(&buf[..3], b"ack");
        }
        None if !polls => {}
        other => panic!("polls={polls}: {other:?}"),
    }
    let start = Instant::now();
    assert!(socket
        .poll_briefly(&mut buf, Duration::from_millis(5))
        .is_none());
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(socket.poll_briefly(&mut buf, Duration::ZERO).is_none());
}
