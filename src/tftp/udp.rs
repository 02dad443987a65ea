//! UDP sockets for the TFTP shell: the listener (async, on the runtime) and
//! the per-transfer sockets (one ephemeral port, the transfer ID, each),
//! which are blocking sockets driven by the transfer's own thread: a wait is
//! a blocking receive bounded by the socket's receive timeout, after a brief
//! busy poll when the client is known to answer within microseconds.
//!
//! A window of equal-sized DATA datagrams goes out in one `sendmsg` with UDP
//! generic segmentation offload (`UDP_SEGMENT`), gathered straight from the
//! sender's buffers, so a window of 16 blocks costs one system call and no
//! copy. Datagrams too large to be segments of one send (blocks near 64 KiB)
//! go out together with one `sendmmsg`, and so does everything once the
//! kernel or device has refused segmentation (old kernels, blocks larger than
//! the MTU).

use std::io::{self, IoSlice};
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};
use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Socket buffer size asked for: a few windows of the largest blocks.
const BUFFER_BYTES: usize = 4 << 20;

/// Datagrams the kernel accepts in one segmented send (`UDP_MAX_SEGMENTS`
/// of older kernels; newer ones take more), and datagrams per `sendmmsg`.
pub const MAX_SEGMENTS: usize = 64;

/// Bytes one segmented send may carry (one IP packet's worth).
const MAX_SEGMENTED_BYTES: usize = 65_000;

/// Bytes of one batch handed to [`TransferSocket::send_all`]: a window of
/// the largest blocks.
pub const MAX_BATCH_BYTES: usize = MAX_SEGMENTS * 65_536;

/// Longest single wait, so a transfer notices shutdown promptly.
const MAX_WAIT: Duration = Duration::from_millis(200);

/// Waits shorter than this use `ppoll` rather than the socket's receive
/// timeout, which is rounded up to whole clock ticks.
const PRECISE_WAIT: Duration = Duration::from_millis(2);

/// How far the socket's receive timeout may be from the wanted wait before
/// it is set again.
const TIMEOUT_TOLERANCE: Duration = Duration::from_millis(1);

fn new_socket(addr: SocketAddr, only_v6: bool) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(only_v6)?;
    }
    // Bigger buffers only help; failing to get them is not fatal.
    let _ = socket.set_send_buffer_size(BUFFER_BYTES);
    let _ = socket.set_recv_buffer_size(BUFFER_BYTES);
    Ok(socket)
}

/// Binds a listening socket, non-blocking and ready for the runtime (it
/// needs none yet: privileges are dropped in between), the IPv6 socket
/// serving IPv6 alone when `only_v6` (ignored for IPv4).
pub fn bind_with(addr: SocketAddr, only_v6: bool) -> io::Result<StdUdpSocket> {
    let socket = new_socket(addr, only_v6)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

fn bind_blocking(addr: SocketAddr) -> io::Result<StdUdpSocket> {
    // A transfer socket is bound to the address the request came to.
    let socket = new_socket(addr, !addr.ip().is_unspecified())?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Binds a (blocking) transfer socket on `ip`, on a port from `range` when
/// given.
pub fn bind_transfer(
    local: SocketAddr,
    range: Option<(u16, u16)>,
    seed: u64,
) -> io::Result<StdUdpSocket> {
    let Some((low, high)) = range else {
        return bind_blocking(SocketAddr::new(local.ip(), 0));
    };
    let span = u64::from(high - low) + 1;
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no free port in --port-range");
    for attempt in 0..span.min(64) {
        let port = low + ((seed.wrapping_add(attempt.wrapping_mul(7919))) % span) as u16;
        match bind_blocking(SocketAddr::new(local.ip(), port)) {
            Ok(socket) => return Ok(socket),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

/// What a wait on a transfer socket brought.
#[derive(Debug)]
pub enum Received {
    /// A datagram of this length from this address.
    Datagram(usize, SocketAddr),
    /// The deadline passed.
    Timeout,
    /// Nothing yet, but the caller should look around (shutdown) and wait
    /// again: a long wait is cut into slices, and receive errors (an ICMP
    /// error from the client) land here too.
    Again,
}

/// A transfer socket: blocking sends, waits bounded by a deadline, and
/// segmented sends where the kernel has them.
pub struct TransferSocket {
    socket: StdUdpSocket,
    segmentation: bool,
    /// The receive timeout the socket has now.
    timeout: std::cell::Cell<Option<Duration>>,
}

impl TransferSocket {
    /// Wraps a bound blocking socket.
    pub fn new(socket: StdUdpSocket) -> Self {
        // Clients that ask for blocks larger than the MTU rely on IP
        // fragmentation, so never forbid it.
        allow_fragmentation(&socket);
        Self {
            socket,
            segmentation: true,
            timeout: std::cell::Cell::new(None),
        }
    }

    /// Sends `datagrams` (all `segment` bytes long but maybe the last) to
    /// `peer`: in segmented sends of as many as fit one, or else all in one
    /// `sendmmsg`.
    pub fn send_all(
        &mut self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        if let [datagram] = datagrams {
            return self.send_to(datagram, peer);
        }
        let per_send = (MAX_SEGMENTED_BYTES / segment.max(1)).min(MAX_SEGMENTS);
        let mut sent = 0;
        if self.segmentation && per_send >= 2 {
            for group in datagrams.chunks(per_send) {
                let result = match group {
                    [one] => self.send_to(one, peer),
                    _ => self.send_segmented(group, segment, peer),
                };
                if let Err(e) = result {
                    tracing::debug!("segmented send failed ({e}); no segmentation from now on");
                    self.segmentation = false;
                    break;
                }
                sent += group.len();
            }
        }
        self.send_many(&datagrams[sent..], peer)
    }

    /// Sends each datagram as it is, up to [`MAX_SEGMENTS`] per system call
    /// (`sendmmsg`; nix's wrapper reads uninitialised receive state when its
    /// results are counted, so this calls libc itself).
    fn send_many(&self, mut datagrams: &[&[u8]], peer: SocketAddr) -> io::Result<()> {
        let addr = socket2::SockAddr::from(peer);
        while !datagrams.is_empty() {
            let count = datagrams.len().min(MAX_SEGMENTS);
            let mut iovecs: Vec<libc::iovec> = datagrams[..count]
                .iter()
                .map(|d| libc::iovec {
                    iov_base: d.as_ptr().cast_mut().cast(),
                    iov_len: d.len(),
                })
                .collect();
            let mut headers: Vec<libc::mmsghdr> = iovecs
                .iter_mut()
                .map(|iov| {
                    // SAFETY: mmsghdr is plain C data; all zeroes is valid.
                    let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    h.msg_hdr.msg_name = addr.as_ptr().cast_mut().cast();
                    h.msg_hdr.msg_namelen = addr.len();
                    h.msg_hdr.msg_iov = iov;
                    h.msg_hdr.msg_iovlen = 1;
                    h
                })
                .collect();
            // SAFETY: `headers` holds `count` initialised mmsghdr whose
            // pointers (address, iovecs, datagrams) outlive the call; the
            // kernel only reads them and writes each msg_len.
            let sent = unsafe {
                libc::sendmmsg(
                    self.socket.as_raw_fd(),
                    headers.as_mut_ptr(),
                    count as libc::c_uint,
                    0,
                )
            };
            match usize::try_from(sent) {
                Err(_) => return Err(io::Error::last_os_error()),
                Ok(0) => return Err(io::Error::other("sendmmsg sent nothing")),
                Ok(done) => datagrams = &datagrams[done.min(count)..],
            }
        }
        Ok(())
    }

    fn send_segmented(
        &self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        let slices: Vec<IoSlice<'_>> = datagrams.iter().map(|d| IoSlice::new(d)).collect();
        let size = u16::try_from(segment).map_err(|_| io::Error::other("segment too large"))?;
        let control = [ControlMessage::UdpGsoSegments(&size)];
        let addr = SockaddrStorage::from(peer);
        let total: usize = datagrams.iter().map(|d| d.len()).sum();
        let sent = sendmsg(
            self.socket.as_raw_fd(),
            &slices,
            &control,
            MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(io::Error::from)?;
        if sent == total {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "segmented send took {sent} of {total} bytes"
            )))
        }
    }

    /// Sends one datagram.
    pub fn send_to(&self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.socket.send_to(datagram, peer).map(|_| ())
    }

    /// Waits for a datagram until `deadline` (or for a slice of at most
    /// [`MAX_WAIT`]). For up to `busy` of it the socket is checked without
    /// sleeping (see [`TransferSocket::poll_briefly`]), then the thread sleeps
    /// in the receive.
    pub fn recv_until(
        &self,
        buf: &mut [u8],
        deadline: Option<Instant>,
        busy: Duration,
    ) -> Received {
        let wait = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(MAX_WAIT),
                _ => return Received::Timeout,
            },
            None => MAX_WAIT,
        };
        if let Some(got) = self.poll_briefly(buf, busy.min(wait)) {
            return got;
        }
        let wait = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(MAX_WAIT),
                _ => return Received::Timeout,
            },
            None => wait,
        };
        if wait < PRECISE_WAIT {
            return self.wait_precisely(buf, wait, deadline);
        }
        // The wait is the socket's receive timeout, set only when it is off
        // by more than the tolerance: in lock-step the wait is the same
        // retransmission timeout block after block, so a block costs one
        // receive and one send, no further system call.
        let current = self.timeout.get();
        if current.is_none_or(|c| c.abs_diff(wait) > TIMEOUT_TOLERANCE) {
            if let Err(e) = self.socket.set_read_timeout(Some(wait)) {
                tracing::debug!("cannot set the receive timeout: {e}");
                return Received::Again;
            }
            self.timeout.set(Some(wait));
        }
        match self.socket.recv_from(buf) {
            Ok((len, from)) => Received::Datagram(len, from),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if deadline.is_some_and(|at| Instant::now() >= at) {
                    Received::Timeout
                } else {
                    Received::Again
                }
            }
            Err(e) => {
                tracing::debug!("receive error: {e}");
                Received::Again
            }
        }
    }
}

impl TransferSocket {
    /// Waits up to `wait` for a datagram with `ppoll`, whose timer is
    /// precise to microseconds, where the socket's receive timeout counts
    /// whole clock ticks (up to 4 ms): the pause between two bursts of a
    /// window is a round trip, tens of microseconds on a LAN.
    fn wait_precisely(
        &self,
        buf: &mut [u8],
        wait: Duration,
        deadline: Option<Instant>,
    ) -> Received {
        let mut fd = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::c_long::try_from(wait.as_nanos()).unwrap_or(0),
        };
        // SAFETY: one valid pollfd, a valid timespec, no signal mask.
        let ready = unsafe { libc::ppoll(&mut fd, 1, &timeout, std::ptr::null()) };
        if ready > 0 {
            if let Ok(Some((len, from))) = self.try_recv(buf) {
                return Received::Datagram(len, from);
            }
        }
        if deadline.is_some_and(|at| Instant::now() >= at) {
            Received::Timeout
        } else {
            Received::Again
        }
    }

    /// Checks the socket without sleeping for up to `busy`, giving the CPU
    /// to anything else runnable between checks; the datagram if one came.
    ///
    /// A thread asleep in a receive is woken by the sender's CPU, and on a
    /// virtual machine whose idle CPUs halt (no idle polling), waking a
    /// halted CPU is an exit to the hypervisor that costs about as much as
    /// the round trip itself: in lock-step on loopback that doubled the time
    /// per block. The shell asks for this only when the client answers
    /// within microseconds (the measured round trip is shorter than the
    /// budget), and at most one thread per CPU but one polls at any moment
    /// ([`PollSlot`]), so a busy server never spends more than that.
    fn poll_briefly(&self, buf: &mut [u8], busy: Duration) -> Option<Received> {
        if busy.is_zero() {
            return None;
        }
        let _slot = PollSlot::take()?;
        let until = Instant::now() + busy;
        loop {
            match self.try_recv(buf) {
                Ok(Some((len, from))) => return Some(Received::Datagram(len, from)),
                Ok(None) => {}
                // an ICMP error and the like: the sleeping receive reports it
                Err(_) => return None,
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// A datagram already queued on the socket, taken without waiting;
    /// `None` when there is none.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the kernel
        // only writes initialised bytes into the buffer.
        let uninit = unsafe { &mut *(std::ptr::from_mut(buf) as *mut [std::mem::MaybeUninit<u8>]) };
        match SockRef::from(&self.socket).recv_from_with_flags(uninit, libc::MSG_DONTWAIT) {
            Ok((len, from)) => Ok(from.as_socket().map(|from| (len, from))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One of the process's busy-poll slots: one per CPU but one, so polling
/// transfers leave at least one CPU to everything else (none on a machine
/// with a single CPU).
struct PollSlot;

static POLLING: AtomicUsize = AtomicUsize::new(0);

impl PollSlot {
    fn take() -> Option<Self> {
        static SLOTS: OnceLock<usize> = OnceLock::new();
        let slots =
            *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()) - 1);
        POLLING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < slots).then_some(n + 1)
            })
            .ok()
            .map(|_| PollSlot)
    }
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        POLLING.fetch_sub(1, Ordering::AcqRel);
    }
}

fn allow_fragmentation(socket: &StdUdpSocket) {
    let sock = SockRef::from(socket);
    // Errors only mean the option does not apply to this family.
    let _ = setsockopt_int(
        &sock,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    );
    let _ = setsockopt_int(
        &sock,
        libc::IPPROTO_IPV6,
        libc::IPV6_MTU_DISCOVER,
        libc::IPV6_PMTUDISC_DONT,
    );
}

fn setsockopt_int(
    sock: &SockRef<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a valid fd, a pointer to a live c_int and its exact size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The largest block the path to `peer` carries without fragmentation
/// (for `--mtu-clamp`), from the kernel's idea of the route's MTU.
pub fn path_block_limit(local: SocketAddr, peer: SocketAddr) -> Option<u16> {
    let domain = Domain::for_address(peer);
    let probe = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).ok()?;
    probe.bind(&SocketAddr::new(local.ip(), 0).into()).ok()?;
    probe.connect(&peer.into()).ok()?;
    let sock = SockRef::from(&probe);
    let mtu = if peer.is_ipv4() {
        getsockopt_int(&sock, libc::IPPROTO_IP, libc::IP_MTU).ok()?
    } else {
        getsockopt_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_MTU).ok()?
    };
    let overhead = if peer.is_ipv4() {
        20 + 8 + 4
    } else {
        40 + 8 + 4
    };
    u16::try_from(mtu.saturating_sub(overhead)).ok()
}

fn getsockopt_int(
    sock: &SockRef<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd, a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
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
}
