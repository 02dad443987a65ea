//! A lossy UDP relay for TFTP benchmarks (not part of the appliance): the
//! kernel here has no `netem`, so loss comes from this userspace hop.
//!
//! It listens on one port. Each client address gets a session with its own
//! upstream socket: the client's request goes to the server's listening
//! port, the first reply teaches the session the server's transfer ID, and
//! from then on datagrams flow both ways (the client keeps talking to the
//! relay's port, which it takes for the server's transfer ID); a repeated
//! request still goes to the server's listening port. A seeded
//! generator drops the given fraction of datagrams in each direction, so a
//! run is repeatable.
//!
//! ```text
//! cargo run --release --example lossy_relay -- \
//!     --listen 127.0.0.1:7000 --server 127.0.0.1:6969 --loss 0.01 --seed 1
//! ```
//!
//! Prints `relay listening on ADDR` to stderr when ready, and one line of
//! totals (`forwarded`, `dropped` per direction, and `kernel_dropped`:
//! datagrams the kernel dropped because one of the relay's sockets was full)
//! when it ends: on SIGTERM or SIGINT, or after `--max-seconds`.
//!
//! As an instrument it must lose only what the generator drops, and cost
//! the machine as little as it can, since a real link does not take CPU
//! from the server:
//! - every socket gets a receive buffer of `--rcvbuf` bytes (4 MiB): with
//!   the default 208 KiB the listening socket, which takes every client's
//!   ACKs, overflowed in a 300-client storm (3,500 datagrams, 1.6 % more
//!   loss, in bursts, most of it on the opening burst of requests);
//! - `--nice` (e.g. -10, needs root) lowers the relay's nice value before
//!   its threads start (they inherit it), so on a machine whose cores are
//!   busy with the server and the clients the relay forwards a datagram when
//!   it arrives instead of queueing it behind them, as a link would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, Parser)]
#[command(about = "Seeded lossy UDP relay for TFTP")]
struct Args {
    /// Address clients send their requests to.
    #[arg(long)]
    listen: SocketAddr,
    /// The TFTP server's listening address.
    #[arg(long)]
    server: SocketAddr,
    /// Fraction of datagrams dropped in each direction (0.01 = 1 %).
    #[arg(long, default_value_t = 0.01)]
    loss: f64,
    /// Seed of the drop pattern.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The relay ends after this many seconds whatever happens.
    #[arg(long, default_value_t = 900)]
    max_seconds: u64,
    /// A session with no traffic for this many seconds is forgotten.
    #[arg(long, default_value_t = 30)]
    idle_seconds: u64,
    /// Receive buffer of every socket, bytes (capped by net.core.rmem_max
    /// unless the relay may use SO_RCVBUFFORCE).
    #[arg(long, default_value_t = 4 << 20)]
    rcvbuf: usize,
    /// Nice value to run at (negative needs root); unchanged when absent.
    #[arg(long, allow_hyphen_values = true)]
    nice: Option<i32>,
}

/// Counters for both directions, over all sessions.
#[derive(Default)]
struct Totals {
    up_forwarded: AtomicU64,
    up_dropped: AtomicU64,
    down_forwarded: AtomicU64,
    down_dropped: AtomicU64,
    /// Dropped by the kernel on a full socket (sessions already ended).
    kernel_dropped: AtomicU64,
}

impl Totals {
    /// The totals, with `kernel_dropped` more drops from sockets still open.
    fn line(&self, kernel_dropped: u64) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "relay totals: client_to_server_forwarded={} client_to_server_dropped={} \
             server_to_client_forwarded={} server_to_client_dropped={} kernel_dropped={}",
            get(&self.up_forwarded),
            get(&self.up_dropped),
            get(&self.down_forwarded),
            get(&self.down_dropped),
            get(&self.kernel_dropped) + kernel_dropped
        )
    }
}

/// splitmix64: small, seeded, good enough to pick which datagrams to drop.
struct Dropper {
    state: u64,
    loss: f64,
}

impl Dropper {
    fn new(seed: u64, loss: f64) -> Self {
        Self { state: seed, loss }
    }

    fn drop_next(&mut self) -> bool {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < self.loss
    }
}

/// One client's transfer through the relay.
struct Session {
    upstream: UdpSocket,
    /// The server's transfer ID, learnt from its first reply.
    tid: Mutex<Option<SocketAddr>>,
    up_drops: Mutex<Dropper>,
}

type Sessions = Arc<Mutex<HashMap<SocketAddr, Arc<Session>>>>;

/// A UDP socket bound to `addr` with a receive buffer of `rcvbuf` bytes.
fn bind(addr: SocketAddr, rcvbuf: usize) -> anyhow::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // SO_RCVBUFFORCE (root) beyond net.core.rmem_max, else SO_RCVBUF.
    let size = libc::c_int::try_from(rcvbuf)?;
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        socket.set_recv_buffer_size(rcvbuf)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(UdpSocket::from_std(socket.into())?)
}

/// Datagrams the kernel dropped on `socket` because it was full.
fn kernel_drops(socket: &UdpSocket) -> u64 {
    // SK_MEMINFO_VARS is 9 on every kernel since 4.12.
    let mut info = [0u32; 9];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    let ok = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
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

/// Lowers (or raises) the nice value of the calling thread, which the
/// runtime's threads then inherit.
fn set_nice(nice: i32) -> anyhow::Result<()> {
    // PRIO_PROCESS with 0: the calling thread on Linux.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        anyhow::bail!(
            "lossy_relay: cannot set nice {nice}: {} (run as root, or leave out --nice)",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(nice) = args.nice {
        set_nice(nice)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let listen = Arc::new(bind(args.listen, args.rcvbuf)?);
    eprintln!("relay listening on {}", listen.local_addr()?);
    let totals = Arc::new(Totals::default());
    let sessions: Sessions = Arc::default();
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let relay = relay_loop(
        &args,
        Arc::clone(&listen),
        Arc::clone(&totals),
        Arc::clone(&sessions),
    );
    tokio::select! {
        result = relay => result?,
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = tokio::time::sleep(Duration::from_secs(args.max_seconds)) => {
            eprintln!("relay: --max-seconds reached");
        }
    }
    let open: u64 = sessions.lock().map_or(0, |map| {
        map.values().map(|s| kernel_drops(&s.upstream)).sum()
    });
    eprintln!("{}", totals.line(open + kernel_drops(&listen)));
    Ok(())
}

async fn relay_loop(
    args: &Args,
    listen: Arc<UdpSocket>,
    totals: Arc<Totals>,
    sessions: Sessions,
) -> anyhow::Result<()> {
    let mut ordinal = 0u64;
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, client) = match listen.recv_from(&mut buf).await {
            Ok(r) => r,
            // An ICMP error from a client that went away: not fatal.
            Err(_) => continue,
        };
        let existing = sessions.lock().ok().and_then(|s| s.get(&client).cloned());
        let session = match existing {
            Some(session) => session,
            None => {
                ordinal += 1;
                let session = open_session(args, ordinal).await?;
                if let Ok(mut map) = sessions.lock() {
                    map.insert(client, Arc::clone(&session));
                }
                let down = Dropper::new(mix(args.seed, ordinal, 2), args.loss);
                tokio::spawn(downstream(
                    Arc::clone(&session),
                    Arc::clone(&listen),
                    client,
                    down,
                    Arc::clone(&totals),
                    Arc::clone(&sessions),
                    Duration::from_secs(args.idle_seconds),
                ));
                session
            }
        };
        let dropped = session
            .up_drops
            .lock()
            .map(|mut d| d.drop_next())
            .unwrap_or(false);
        if dropped {
            totals.up_dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // A request (a client asking again after a lost first reply) goes
        // to the listening port, as it would on a real link; the rest to
        // the transfer ID.
        let is_request = matches!(buf.get(..2), Some([0, 1]) | Some([0, 2]));
        let tid = session.tid.lock().ok().and_then(|t| *t);
        let to = match tid {
            Some(tid) if !is_request => tid,
            _ => args.server,
        };
        if session.upstream.send_to(&buf[..len], to).await.is_ok() {
            totals.up_forwarded.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn open_session(args: &Args, ordinal: u64) -> anyhow::Result<Arc<Session>> {
    let local = SocketAddr::new(args.listen.ip(), 0);
    Ok(Arc::new(Session {
        upstream: bind(local, args.rcvbuf)?,
        tid: Mutex::new(None),
        up_drops: Mutex::new(Dropper::new(mix(args.seed, ordinal, 1), args.loss)),
    }))
}

/// Server → client: learn the transfer ID, drop some, forward the rest.
async fn downstream(
    session: Arc<Session>,
    listen: Arc<UdpSocket>,
    client: SocketAddr,
    mut drops: Dropper,
    totals: Arc<Totals>,
    sessions: Sessions,
    idle: Duration,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let received = tokio::time::timeout(idle, session.upstream.recv_from(&mut buf)).await;
        let (len, from) = match received {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => continue,
            Err(_) => break,
        };
        if let Ok(mut tid) = session.tid.lock() {
            if tid.is_none() {
                *tid = Some(from);
            }
        }
        if drops.drop_next() {
            totals.down_dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if listen.send_to(&buf[..len], client).await.is_ok() {
            totals.down_forwarded.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Ok(mut map) = sessions.lock() {
        map.remove(&client);
    }
    totals
        .kernel_dropped
        .fetch_add(kernel_drops(&session.upstream), Ordering::Relaxed);
}

fn mix(seed: u64, ordinal: u64, direction: u64) -> u64 {
    seed ^ ordinal.wrapping_mul(0xA24B_AED4_963E_E407) ^ direction.rotate_left(32)
}
