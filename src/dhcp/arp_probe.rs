//! The ARP probe of an on-link address before it is offered: one AF_PACKET
//! socket per interface (EtherType ARP) shared by every probe on it, and one
//! receive task that hands each ARP packet to the probes waiting for the
//! addresses it names ([`Waiting`]). Each probe runs the sans-IO
//! [`Prober`] (shared with the bare-port check) with the server's timing:
//! requests at 0 and half of `ping_timeout`, a verdict after `ping_timeout`.
//!
//! The requests are RFC 5227 probes: from the interface's MAC with sender IP
//! 0.0.0.0. A host holding the address answers them like any request (Linux
//! replies to the sender's MAC), but, with no sender address to learn, no
//! host adds an entry for us, and our kernel adds none either (it neither
//! resolves anything nor accepts the unsolicited reply). So probing leaves
//! the machine's shared neighbour table as it was, whatever the rate.

use std::io::{self, Read};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use socket2::{SockAddr, Socket};
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tracing::warn;

use crate::arp::{Arp, Conflict, Prober, ETH_P_ARP};
use crate::dhcp::probing::Waiting;
use crate::mac::MacAddr;
use crate::packet::{link_addr, PacketSocket};

type Pending = Arc<Mutex<Waiting<mpsc::Sender<Arp>>>>;

/// The ARP probes of one interface.
pub struct ArpProbes {
    sock: Arc<AsyncFd<Socket>>,
    mac: [u8; 6],
    broadcast: SockAddr,
    pending: Pending,
    receiver: tokio::task::JoinHandle<()>,
}

impl Drop for ArpProbes {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

fn lock(p: &Pending) -> MutexGuard<'_, Waiting<mpsc::Sender<Arp>>> {
    // the map stays consistent whatever panicked while holding it
    p.lock().unwrap_or_else(|e| e.into_inner())
}

impl ArpProbes {
    /// Opens the packet socket alone (CAP_NET_RAW; no runtime needed), for
    /// [`ArpProbes::start`] once privileges are dropped.
    pub fn socket(index: u32) -> io::Result<Socket> {
        let sock = PacketSocket::open(index, ETH_P_ARP)?.into_socket();
        sock.set_nonblocking(true)?;
        // our own requests are not looped back to this socket anyway; this
        // also keeps out the kernel's own outgoing ARP (best effort, 4.20+)
        let _ = ignore_outgoing(&sock);
        Ok(sock)
    }

    /// Puts `sock` (from [`ArpProbes::socket`]) on the runtime and starts
    /// its receive task.
    pub fn start(sock: Socket, index: u32, mac: MacAddr) -> io::Result<Self> {
        // SAFETY: the Socket owns its fd, which stays open and the same
        // until the AsyncFd (its owner from here on) is dropped
        let sock = Arc::new(unsafe { AsyncFd::register(sock) }?);
        let pending = Pending::default();
        let receiver = tokio::spawn(receive(Arc::clone(&sock), Arc::clone(&pending)));
        Ok(Self {
            sock,
            mac: mac.octets(),
            broadcast: link_addr(index, ETH_P_ARP, Some([0xff; 6])),
            pending,
            receiver,
        })
    }

    /// Probes `ip` for `timeout`: `Some(conflict)` as soon as a machine
    /// answers for it (or announces or probes it), `None` when the link
    /// stayed silent.
    pub async fn probe(&self, ip: Ipv4Addr, timeout: Duration) -> io::Result<Option<Conflict>> {
        let (tx, mut rx) = mpsc::channel(4);
        if !lock(&self.pending).insert(ip, tx) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{ip} is already being probed"),
            ));
        }
        let _registered = Registered {
            pending: &self.pending,
            ip,
        };
        let start = tokio::time::Instant::now();
        let sends = [Duration::ZERO, timeout / 2];
        let mut prober = Prober::with_timing(start.into_std(), self.mac, ip, &sends, timeout);
        loop {
            let now = tokio::time::Instant::now().into_std();
            while let Some(request) = prober.poll_transmit(now) {
                self.send(&request).await?;
            }
            if let Some(verdict) = prober.verdict(now) {
                return Ok(verdict);
            }
            let until = tokio::time::Instant::from_std(prober.poll_timeout());
            tokio::select! {
                got = rx.recv() => match got {
                    Some(packet) => prober.handle_arp(&packet),
                    // the receive task is gone: nothing more can be heard
                    None => tokio::time::sleep_until(until).await,
                },
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            match self.sock.get_ref().send_to(frame, &self.broadcast) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sock.writable().await?.clear_ready();
                }
                other => return other.map(drop),
            }
        }
    }
}

/// Removes a probe from the map when it ends, however it ends.
struct Registered<'a> {
    pending: &'a Pending,
    ip: Ipv4Addr,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        lock(self.pending).remove(self.ip);
    }
}

/// Reads every ARP packet of the interface and passes it to the probes it
/// concerns. A probe that is not keeping up misses packets (`try_send`):
/// the first one that matters already decided it.
async fn receive(sock: Arc<AsyncFd<Socket>>, pending: Pending) {
    let mut buf = [0u8; 256];
    loop {
        let n = match sock.readable().await {
            Ok(mut ready) => match ready.try_io(|s| {
                let mut sock: &Socket = s.get_ref();
                sock.read(&mut buf)
            }) {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    warn!(error = %e, "ARP probe socket receive failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(_would_block) => continue,
            },
            Err(e) => {
                warn!(error = %e, "ARP probe socket unusable; probes hear nothing more");
                return;
            }
        };
        let Some(packet) = buf.get(..n).and_then(Arp::parse) else {
            continue;
        };
        for tx in lock(&pending).concerned(&packet) {
            let _ = tx.try_send(packet);
        }
    }
}

fn ignore_outgoing(sock: &Socket) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: a valid fd, a documented SOL_PACKET option and a pointer to a
    // live c_int of the length passed
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(sock),
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
