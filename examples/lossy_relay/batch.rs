//! The relay's system calls: datagrams received and sent in batches
//! (`recvmmsg`, `sendmmsg`), the `epoll` set of session sockets, a socket's
//! kernel drop count, and waiting for SIGTERM/SIGINT with a bound.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::RawFd;
use std::time::Duration;

use socket2::SockAddr;

/// Datagrams received in one `recvmmsg`, each with its source.
pub struct RecvBatch {
    buffers: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    lens: Vec<(usize, libc::socklen_t)>,
}

impl RecvBatch {
    /// Room for `count` datagrams of up to `size` bytes.
    pub fn new(count: usize, size: usize) -> Self {
        Self {
            buffers: vec![vec![0; size]; count],
            // SAFETY: all-zero is a valid sockaddr_storage.
            addrs: vec![unsafe { std::mem::zeroed() }; count],
            lens: vec![(0, 0); count],
        }
    }

    /// Waits for at least one datagram on `fd` (blocking), takes what is
    /// queued up to the batch's size; returns how many.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut iovecs: Vec<libc::iovec> = self
            .buffers
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .zip(self.addrs.iter_mut())
            .map(|(iov, addr)| {
                // SAFETY: all-zero is a valid mmsghdr; the pointers set below
                // stay valid for the call.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        loop {
            // SAFETY: `headers` points into buffers and addresses owned by
            // `self` and `iovecs`, all alive for the call.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    headers.len() as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                for (len, h) in self.lens.iter_mut().zip(&headers).take(n) {
                    *len = (h.msg_len as usize, h.msg_hdr.msg_namelen);
                }
                return Ok(n);
            }
            let err = io::Error::last_os_error();
            // EINTR, or an ICMP error from a client that went away.
            if !matches!(err.raw_os_error(), Some(libc::EINTR | libc::ECONNREFUSED)) {
                return Err(err);
            }
        }
    }

    /// Datagram `i` of the last batch, and its source.
    pub fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let (len, addr_len) = self.lens[i];
        (
            &self.buffers[i][..len],
            socket_addr(&self.addrs[i], addr_len),
        )
    }
}

/// The IPv4 or IPv6 address the kernel wrote into `storage`.
fn socket_addr(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match i32::from(storage.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::from((ip, u16::from_be(a.sin6_port))))
        }
        _ => None,
    }
}

/// Datagrams to clients, sent in one `sendmmsg` from the listening socket.
pub struct SendBatch {
    buffers: Vec<Vec<u8>>,
    queued: Vec<(usize, SockAddr)>,
}

impl SendBatch {
    /// Room for `count` datagrams of up to `size` bytes.
    pub fn new(count: usize, size: usize) -> Self {
        Self {
            buffers: vec![vec![0; size]; count],
            queued: Vec::with_capacity(count),
        }
    }

    /// True when no more datagram fits.
    pub fn is_full(&self) -> bool {
        self.queued.len() >= self.buffers.len()
    }

    /// Receives one datagram from `socket` (non-blocking) into the next
    /// free slot; [`SendBatch::commit`] queues it. None when nothing is
    /// there (or on an error).
    pub fn recv_into(&mut self, socket: &UdpSocket) -> Option<(usize, SocketAddr)> {
        let slot = self.buffers.get_mut(self.queued.len())?;
        socket.recv_from(slot).ok()
    }

    /// Queues the datagram just received, `len` bytes, for `to`.
    pub fn commit(&mut self, len: usize, to: SocketAddr) {
        self.queued.push((len, SockAddr::from(to)));
    }

    /// Sends what is queued from `fd`; returns how many were sent.
    pub fn flush(&mut self, fd: RawFd) -> u64 {
        let mut iovecs: Vec<libc::iovec> = self
            .queued
            .iter()
            .zip(self.buffers.iter_mut())
            .map(|((len, _), b)| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: *len,
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .zip(&self.queued)
            .map(|(iov, (_, to))| {
                // SAFETY: all-zero is a valid mmsghdr; the pointers stay
                // valid for the calls below.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = to.as_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = to.len();
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        let mut sent = 0;
        let mut at = 0;
        while at < headers.len() {
            // SAFETY: `headers[at..]` points at live buffers and addresses.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    headers[at..].as_mut_ptr(),
                    (headers.len() - at) as libc::c_uint,
                    0,
                )
            };
            match n {
                // One that cannot be sent is skipped (lost, as on a link).
                n if n <= 0 => at += 1,
                n => {
                    at += n as usize;
                    sent += n as u64;
                }
            }
        }
        self.queued.clear();
        sent
    }
}

/// Adds `fd` to the epoll set `epoll` (readable, level-triggered) as `key`.
pub fn watch(epoll: RawFd, fd: RawFd, key: u64) -> io::Result<()> {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: key,
    };
    // SAFETY: a live epoll descriptor and event.
    if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits until sockets of the epoll set are readable; fills `ready` with
/// their keys.
pub fn wait_readable(epoll: RawFd, ready: &mut Vec<usize>) -> io::Result<()> {
    // SAFETY: all-zero is a valid epoll_event.
    let mut events = [unsafe { std::mem::zeroed::<libc::epoll_event>() }; 256];
    loop {
        // SAFETY: the buffer holds `events.len()` events.
        let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), events.len() as i32, -1) };
        if n >= 0 {
            ready.clear();
            ready.extend(events[..n as usize].iter().map(|e| e.u64 as usize));
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Datagrams the kernel dropped on `fd` because its buffer was full.
pub fn kernel_drops(fd: RawFd) -> u64 {
    // SK_MEMINFO_VARS is 9 on every kernel since 4.12.
    let mut info = [0u32; 9];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the buffer holds `len` bytes.
    let ok = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if ok == 0 {
        u64::from(info[libc::SK_MEMINFO_DROPS as usize])
    } else {
        0
    }
}

/// Blocks SIGTERM and SIGINT in this thread and the threads it starts, so
/// that [`wait_for_signal`] takes them.
pub fn block_stop_signals() -> io::Result<libc::sigset_t> {
    // SAFETY: sigset manipulation on a local set, then the thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(set)
    }
}

/// Waits for SIGTERM or SIGINT, at most `max`; true when one came.
pub fn wait_for_signal(set: &libc::sigset_t, max: Duration) -> bool {
    let end = std::time::Instant::now() + max;
    loop {
        let Some(left) = end.checked_duration_since(std::time::Instant::now()) else {
            return false;
        };
        let timeout = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: a live signal set and timespec.
        let n = unsafe { libc::sigtimedwait(set, std::ptr::null_mut(), &timeout) };
        if n > 0 {
            return true;
        }
    }
}
