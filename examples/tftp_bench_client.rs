//! A fast TFTP download client for benchmarks (not part of the appliance).
//!
//! It asks for a file with blksize, windowsize and tsize options, receives
//! with a large socket buffer and UDP generic receive offload (one `recvmmsg`
//! can return a whole window), acknowledges per window as RFC 7440 says (the
//! last block of each window; after a gap, the last block received in
//! order), keeps nothing on disk and checks every block against the source
//! file in memory. It is meant to not be the bottleneck when measuring a
//! server, and to be correct enough to measure other servers too.
//!
//! ```text
//! cargo run --release --example tftp_bench_client -- \
//!     --server 127.0.0.1:6969 --file big.bin --expect /srv/tftp/big.bin \
//!     --blksize 1468 --windowsize 16 [--clients 100]
//! ```
//!
//! Prints one line of `key=value` pairs: `ok=1 clients=N bytes=… secs=…
//! mib_per_s=… slowest_s=…` (aggregate rate over the wall time of all
//! clients), or `ok=0 bytes=… error=…` (bytes received in all) and exit
//! status 1.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use clap::Parser;
use netboot::tftp::packet::{ErrorCode, Mode, Packet, Request};

#[derive(Debug, Parser, Clone)]
#[command(about = "TFTP download benchmark client")]
struct Args {
    /// Server address (its listening port).
    #[arg(long)]
    server: SocketAddr,
    /// Remote file name.
    #[arg(long)]
    file: String,
    /// Local copy of the file: every block is compared with it.
    #[arg(long)]
    expect: PathBuf,
    /// Block size to ask for (none asked when 512 and no other option).
    #[arg(long, default_value_t = 512)]
    blksize: u16,
    /// Window size to ask for (1 = lock-step, option not sent).
    #[arg(long, default_value_t = 1)]
    windowsize: u16,
    /// Ask tsize 0 and check the size the server announces.
    #[arg(long)]
    tsize: bool,
    /// Concurrent downloads of the file, each with its own socket.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Resend the last packet after this much silence, milliseconds.
    #[arg(long, default_value_t = 1000)]
    rexmt_ms: u64,
    /// Give up a download after this many seconds in all.
    #[arg(long, default_value_t = 120)]
    deadline_s: u64,
}

/// Socket receive buffer asked for.
const RCVBUF: usize = 8 << 20;
/// Resends of one packet before giving up.
const MAX_RESENDS: u32 = 10;

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => println!("ok=1 {line}"),
        Err((bytes, e)) => {
            println!("ok=0 bytes={bytes} error={e:?}");
            std::process::exit(1);
        }
    }
}

/// The result line, or the bytes received in all and the first error.
fn run(args: &Args) -> Result<String, (u64, String)> {
    let expected = Arc::new(
        std::fs::read(&args.expect).map_err(|e| (0, format!("{}: {e}", args.expect.display())))?,
    );
    let clients = args.clients.max(1);
    let barrier = Arc::new(Barrier::new(clients));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (args, expected, barrier) = (args.clone(), expected.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let t0 = Instant::now();
                download(&args, &expected).map(|stats| (stats, t0.elapsed()))
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    let mut totals = Stats::default();
    let mut failures = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok(Ok((stats, took))) => {
                slowest = slowest.max(took);
                totals.add(&stats);
            }
            Ok(Err((bytes, e))) => {
                totals.bytes += bytes;
                failures.push(e);
            }
            Err(_) => failures.push("client thread panicked".into()),
        }
    }
    let wall = started.elapsed().as_secs_f64();
    if let Some(first) = failures.first() {
        let why = format!("{} of {clients} failed, first: {first}", failures.len());
        return Err((totals.bytes, why));
    }
    let mib = totals.bytes as f64 / (1024.0 * 1024.0);
    Ok(format!(
        "clients={clients} bytes={} secs={wall:.3} mib_per_s={:.1} slowest_s={:.3} \
         blksize={} windowsize={} gap_acks={} dup_blocks={} resends={}",
        totals.bytes,
        mib / wall.max(1e-9),
        slowest.as_secs_f64(),
        totals.blksize,
        totals.windowsize,
        totals.gap_acks,
        totals.dup_blocks,
        totals.resends,
    ))
}

/// What one download saw.
#[derive(Debug, Default, Clone)]
struct Stats {
    bytes: u64,
    blksize: usize,
    windowsize: usize,
    gap_acks: u64,
    dup_blocks: u64,
    resends: u64,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        self.bytes += other.bytes;
        self.blksize = other.blksize;
        self.windowsize = other.windowsize;
        self.gap_acks += other.gap_acks;
        self.dup_blocks += other.dup_blocks;
        self.resends += other.resends;
    }
}

/// The receiving side of one read transfer: in-order blocks, window ACKs.
struct Download<'e> {
    expected: &'e [u8],
    server: SocketAddr,
    /// The server's transfer ID, once it answered.
    tid: Option<SocketAddr>,
    blksize: usize,
    windowsize: usize,
    tsize_asked: bool,
    /// Blocks received in order so far.
    received: u64,
    /// Wire number of the next block expected.
    next_wire: u16,
    /// The server numbers blocks 65535 → 1 instead of → 0.
    rolls_to_one: bool,
    /// Blocks in order since the last ACK.
    in_window: usize,
    /// An ACK for a gap was sent since the last progress.
    gap_acked: bool,
    /// The last packet sent, for resends after silence.
    last_sent: Vec<u8>,
    done: bool,
    stats: Stats,
}

impl<'e> Download<'e> {
    fn new(args: &Args, expected: &'e [u8]) -> Self {
        Self {
            expected,
            server: args.server,
            tid: None,
            blksize: 512,
            windowsize: 1,
            tsize_asked: args.tsize,
            received: 0,
            next_wire: 1,
            rolls_to_one: false,
            in_window: 0,
            gap_acked: false,
            last_sent: Vec::new(),
            done: false,
            stats: Stats::default(),
        }
    }

    fn request(&mut self, args: &Args) -> Vec<u8> {
        let (blk, win) = (args.blksize.to_string(), args.windowsize.to_string());
        let mut options = Vec::new();
        if args.blksize != 512 {
            options.push(("blksize", blk.as_str()));
        }
        if args.windowsize > 1 {
            options.push(("windowsize", win.as_str()));
        }
        if args.tsize {
            options.push(("tsize", "0"));
        }
        let rrq = Packet::Rrq(Request {
            filename: args.file.as_bytes(),
            mode: Mode::Octet,
            options,
        });
        self.last_sent = rrq.to_bytes();
        self.last_sent.clone()
    }

    /// Handles one datagram; returns a datagram to send back, if any, and
    /// where to.
    fn handle(&mut self, datagram: &[u8], from: SocketAddr) -> Result<Reply, String> {
        match self.tid {
            None if from.ip() == self.server.ip() => self.tid = Some(from),
            Some(tid) if tid == from => {}
            _ => {
                let error = Packet::Error {
                    code: ErrorCode::UnknownTid,
                    message: "Unknown transfer ID".into(),
                };
                return Ok(Reply::To(error.to_bytes(), from));
            }
        }
        let packet = Packet::parse(datagram).map_err(|e| format!("bad packet: {e}"))?;
        match packet {
            Packet::Oack { options } if self.received == 0 => {
                self.oack(&options)?;
                Ok(self.ack(0))
            }
            Packet::Data { block, data } => self.data(block, data),
            Packet::Error { code, message } => {
                Err(format!("server error {}: {message}", code.code()))
            }
            _ => Ok(Reply::None),
        }
    }

    fn oack(&mut self, options: &[(&str, &str)]) -> Result<(), String> {
        for (name, value) in options {
            let parse = || {
                value
                    .parse::<usize>()
                    .map_err(|e| format!("{name}={value}: {e}"))
            };
            match name.to_ascii_lowercase().as_str() {
                "blksize" => self.blksize = parse()?,
                "windowsize" => self.windowsize = parse()?.max(1),
                "tsize" if self.tsize_asked => {
                    let size = parse()?;
                    if size != self.expected.len() {
                        return Err(format!("tsize {size}, file has {}", self.expected.len()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn data(&mut self, block: u16, data: &[u8]) -> Result<Reply, String> {
        let in_order = block == self.next_wire
            || (self.next_wire == 0 && block == 1 && !self.rolls_to_one && self.received > 0);
        if !in_order {
            return Ok(self.out_of_order(block));
        }
        if block == 1 && self.next_wire == 0 {
            self.rolls_to_one = true;
        }
        let offset = self.received as usize * self.blksize;
        let want = self
            .expected
            .get(offset..(offset + data.len()))
            .ok_or_else(|| format!("block {} runs past the end of the file", self.received + 1))?;
        if want != data {
            return Err(format!("block {} differs from the file", self.received + 1));
        }
        self.received += 1;
        self.stats.bytes += data.len() as u64;
        self.next_wire = block.wrapping_add(1);
        if self.next_wire == 0 && self.rolls_to_one {
            self.next_wire = 1;
        }
        self.gap_acked = false;
        self.in_window += 1;
        if data.len() < self.blksize {
            if self.stats.bytes != self.expected.len() as u64 {
                return Err(format!(
                    "got {} bytes of {}",
                    self.stats.bytes,
                    self.expected.len()
                ));
            }
            self.done = true;
            return Ok(self.ack(block));
        }
        if self.in_window >= self.windowsize {
            return Ok(self.ack(block));
        }
        Ok(Reply::None)
    }

    /// A block behind (a resend) or ahead (a gap) of the one expected.
    fn out_of_order(&mut self, block: u16) -> Reply {
        let last = self.next_wire.wrapping_sub(1);
        let behind = self.next_wire.wrapping_sub(block) <= 32768;
        if behind {
            self.stats.dup_blocks += 1;
            // The server resent up to the block we last ACKed: that ACK
            // was lost, send it again.
            if block == last && self.received > 0 {
                return self.ack(last);
            }
            return Reply::None;
        }
        if self.gap_acked {
            return Reply::None;
        }
        self.gap_acked = true;
        self.stats.gap_acks += 1;
        self.ack(last)
    }

    fn ack(&mut self, block: u16) -> Reply {
        self.in_window = 0;
        self.last_sent = Packet::Ack { block }.to_bytes();
        match self.tid {
            Some(tid) => Reply::To(self.last_sent.clone(), tid),
            None => Reply::None,
        }
    }
}

/// What to send after a datagram.
enum Reply {
    None,
    To(Vec<u8>, SocketAddr),
}

/// One download; on failure, the bytes received so far and why.
fn download(args: &Args, expected: &[u8]) -> Result<Stats, (u64, String)> {
    let mut bytes = 0;
    download_counting(args, expected, &mut bytes).map_err(|e| (bytes, e))
}

fn download_counting(args: &Args, expected: &[u8], bytes: &mut u64) -> Result<Stats, String> {
    let bind: SocketAddr = if args.server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    }
    .parse()
    .map_err(|e| format!("{e}"))?;
    let socket = UdpSocket::bind(bind).map_err(|e| format!("bind: {e}"))?;
    set_rcvbuf(&socket);
    // Non-blocking, with GRO where the kernel has it.
    let state = quinn_udp::UdpSocketState::new((&socket).into()).map_err(|e| format!("{e}"))?;
    let mut dl = Download::new(args, expected);
    let rrq = dl.request(args);
    socket
        .send_to(&rrq, args.server)
        .map_err(|e| format!("send: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(args.deadline_s);
    let mut bufs = vec![vec![0u8; 65536]; 8];
    let mut meta = vec![quinn_udp::RecvMeta::default(); bufs.len()];
    let mut silent_resends = 0;
    while !dl.done {
        if Instant::now() >= deadline {
            return Err(format!("deadline passed after {} bytes", dl.stats.bytes));
        }
        if !wait_readable(&socket, args.rexmt_ms) {
            silent_resends += 1;
            if silent_resends > MAX_RESENDS {
                return Err(format!("server silent, {} bytes received", dl.stats.bytes));
            }
            dl.stats.resends += 1;
            let to = dl.tid.unwrap_or(args.server);
            socket
                .send_to(&dl.last_sent, to)
                .map_err(|e| format!("send: {e}"))?;
            continue;
        }
        silent_resends = 0;
        *bytes = dl.stats.bytes;
        let mut slices: Vec<IoSliceMut<'_>> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
        let count = match state.recv((&socket).into(), &mut slices, &mut meta) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(format!("recv: {e}")),
        };
        'batch: for (m, buf) in meta.iter().zip(bufs.iter()).take(count) {
            let stride = m.stride.max(1);
            for datagram in buf[..m.len].chunks(stride) {
                if let Reply::To(bytes, to) = dl.handle(datagram, m.addr)? {
                    socket
                        .send_to(&bytes, to)
                        .map_err(|e| format!("send: {e}"))?;
                }
                if dl.done {
                    break 'batch;
                }
            }
        }
    }
    dl.stats.blksize = dl.blksize;
    dl.stats.windowsize = dl.windowsize;
    Ok(dl.stats)
}

/// Waits until the socket has data, up to `ms` milliseconds.
fn wait_readable(socket: &UdpSocket, ms: u64) -> bool {
    let mut fds = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, count 1.
    let rc = unsafe { libc::poll(&mut fds, 1, timeout) };
    rc > 0
}

/// Asks for a large receive buffer (past `rmem_max` when running as root).
fn set_rcvbuf(socket: &UdpSocket) {
    let value = RCVBUF as libc::c_int;
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid fd, a pointer to a live c_int and its size.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}
