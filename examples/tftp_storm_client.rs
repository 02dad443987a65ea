//! A boot storm for benchmarks (not part of the appliance): N firmware-like
//! TFTP clients started at once, each downloading one file in lock-step.
//!
//! Each client behaves like PXE firmware: it sends its request (with
//! blksize, and tsize when asked), resends its last packet (the request, or
//! its last ACK) after `--timeout-ms` of silence, and gives up after
//! `--retries` silent timeouts in a row, or at once on an ERROR. A resent
//! copy of the block it last ACKed gets that ACK again. Clients either all
//! come from 127.0.0.1 (one address: a NAT, a container lab) or each from
//! an address of its own in 127.1.0.0/16 (`--many-addresses`; the loopback
//! /8 answers all of them without any set-up). `--loss` drops datagrams in
//! the client, both ways, as a lossy link would, without a relay's cost.
//!
//! ```text
//! cargo run --release --example tftp_storm_client -- \
//!     --server 127.0.0.1:6969 --file boot.efi --expect /srv/tftp/boot.efi --clients 300
//! ```
//!
//! Prints one line of `key=value` pairs: `clients=N failed=F gave_up=G
//! errors=E wrong=W p50_s=… p99_s=… max_s=… total_s=…` (per-client times
//! of the clients that finished; `total_s` from the start to the last
//! client's end), then where the tail's time went: `tail=K` clients at or
//! above p99, `tail_first_waits=…` how many of them waited out their own
//! timer in the first exchange (request, OACK, ACK 0: before DATA 1
//! arrived), `tail_data_waits=…` how many did after it, `tail_stall_s=…`
//! the median over them of the time spent in gaps of more than 50 ms
//! between new DATA blocks, and `first_waits=…` the clients that waited in
//! the first exchange overall. On stderr: the first few failures and, with
//! `--timelines N`, the timeline of the N slowest clients.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use clap::Parser;
use netboot::tftp::packet::{Mode, Packet, Request};

#[derive(Debug, Parser, Clone)]
#[command(about = "TFTP boot storm: many firmware-like clients at once")]
struct Args {
    /// Server address (its listening port), or a relay in front of it.
    #[arg(long)]
    server: SocketAddr,
    /// Remote file name.
    #[arg(long)]
    file: String,
    /// Local copy of the file, to check what arrives.
    #[arg(long)]
    expect: PathBuf,
    /// Clients started at once.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Each client from an address of its own (127.1.x.y), not 127.0.0.1.
    #[arg(long)]
    many_addresses: bool,
    /// Block size asked for.
    #[arg(long, default_value_t = 1468)]
    blksize: u16,
    /// Ask tsize too.
    #[arg(long)]
    tsize: bool,
    /// Silence after which the last packet is sent again, milliseconds.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Silent timeouts in a row after which a client gives up.
    #[arg(long, default_value_t = 4)]
    retries: u32,
    /// Bound on one client, seconds (a client still going is a failure).
    #[arg(long, default_value_t = 120)]
    deadline_s: u64,
    /// Fraction of datagrams lost each way, dropped in the client itself
    /// (a lossy link without a relay in between).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Seed of the drop pattern (each client mixes in its number).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the timeline of this many of the slowest clients on stderr.
    #[arg(long, default_value_t = 0)]
    timelines: usize,
}

/// A gap between new DATA blocks longer than this counts as a stall.
const STALL: Duration = Duration::from_millis(50);

/// Where one client's time went.
#[derive(Debug, Default, Clone)]
struct Timeline {
    /// When the OACK arrived (from the client's start).
    oack: Option<Duration>,
    /// When DATA 1 arrived.
    first_data: Option<Duration>,
    /// Silent timeouts (own 1 s timer) before DATA 1: request or ACK 0 resent.
    first_waits: u32,
    /// Silent timeouts after DATA 1.
    data_waits: u32,
    /// Longest gap between two new DATA blocks.
    longest_gap: Duration,
    /// Time in gaps longer than [`STALL`] between new DATA blocks.
    stalled: Duration,
    /// Gaps longer than [`STALL`].
    stalls: u32,
    /// Copies of a block already ACKed (the ACK was lost, or the server's
    /// timer fired before it arrived).
    repeats: u32,
}

impl Timeline {
    /// A new DATA block arrived `gap` after the previous one.
    fn block(&mut self, gap: Duration) {
        self.longest_gap = self.longest_gap.max(gap);
        if gap > STALL {
            self.stalled += gap;
            self.stalls += 1;
        }
    }
}

/// A client's socket on a link that loses `loss` of the datagrams each way.
struct Link<'s> {
    socket: &'s UdpSocket,
    loss: f64,
    state: u64,
}

impl Link<'_> {
    /// splitmix64: whether the next datagram is lost.
    fn lost(&mut self) -> bool {
        if self.loss <= 0.0 {
            return false;
        }
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < self.loss
    }

    fn send(&mut self, datagram: &[u8], to: SocketAddr) {
        if !self.lost() {
            let _ = self.socket.send_to(datagram, to);
        }
    }

    /// The next datagram that is not lost, until `until`.
    fn recv(&mut self, buf: &mut [u8], until: Instant) -> Option<(usize, SocketAddr)> {
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            let _ = self
                .socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            let got = self.socket.recv_from(buf).ok()?;
            if !self.lost() {
                return Some(got);
            }
        }
    }
}

/// How one client ended (the texts are printed with `Debug`).
#[derive(Debug)]
#[allow(dead_code)]
enum End {
    Done(Duration, Timeline),
    GaveUp(String),
    Error(String),
    Wrong(String),
}

fn main() {
    let args = Args::parse();
    let expected = match std::fs::read(&args.expect) {
        Ok(bytes) => Arc::new(bytes),
        Err(e) => {
            eprintln!("{}: {e}", args.expect.display());
            std::process::exit(2);
        }
    };
    let clients = args.clients.max(1);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (args, expected, barrier) = (args.clone(), expected.clone(), barrier.clone());
            std::thread::spawn(move || {
                let socket = bind(&args, i);
                barrier.wait();
                match socket {
                    Ok(socket) => {
                        let state = args.seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407);
                        let link = Link {
                            socket: &socket,
                            loss: args.loss,
                            state,
                        };
                        download(&args, link, &expected)
                    }
                    Err(e) => End::Error(format!("bind: {e}")),
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let ends: Vec<End> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or(End::Error("client panicked".into())))
        .collect();
    println!("{}", summary(&ends, started.elapsed()));
    for end in ends.iter().filter(|e| !matches!(e, End::Done(..))).take(5) {
        eprintln!("failure: {end:?}");
    }
    for (time, timeline) in slowest(&ends).into_iter().take(args.timelines) {
        eprintln!(
            "slow client: {:.3} s {}",
            time.as_secs_f64(),
            describe(timeline)
        );
    }
}

/// The client's socket: 127.0.0.1, or 127.1.x.y of its own.
fn bind(args: &Args, i: usize) -> std::io::Result<UdpSocket> {
    let ip = if args.many_addresses {
        let n = i + 1;
        Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250) as u8 + 1)
    } else {
        Ipv4Addr::LOCALHOST
    };
    UdpSocket::bind(SocketAddr::new(IpAddr::V4(ip), 0))
}

/// The clients that finished, slowest first.
fn slowest(ends: &[End]) -> Vec<(Duration, &Timeline)> {
    let mut done: Vec<(Duration, &Timeline)> = ends
        .iter()
        .filter_map(|e| match e {
            End::Done(t, timeline) => Some((*t, timeline)),
            _ => None,
        })
        .collect();
    done.sort_by_key(|d| std::cmp::Reverse(d.0));
    done
}

fn describe(t: &Timeline) -> String {
    let at = |d: Option<Duration>| d.map_or("-".into(), |d| format!("{:.3}", d.as_secs_f64()));
    format!(
        "oack_at={} data1_at={} first_waits={} data_waits={} stalls={} stalled_s={:.3} \
         longest_gap_s={:.3} repeats={}",
        at(t.oack),
        at(t.first_data),
        t.first_waits,
        t.data_waits,
        t.stalls,
        t.stalled.as_secs_f64(),
        t.longest_gap.as_secs_f64(),
        t.repeats
    )
}

/// Where the tail's time went: the clients at or above p99.
fn tail_summary(ends: &[End], p99: f64) -> String {
    let done = slowest(ends);
    let tail: Vec<&Timeline> = done
        .iter()
        .filter(|(t, _)| t.as_secs_f64() >= p99)
        .map(|(_, tl)| *tl)
        .collect();
    let mut stalled: Vec<f64> = tail.iter().map(|t| t.stalled.as_secs_f64()).collect();
    stalled.sort_by(f64::total_cmp);
    format!(
        "tail={} tail_first_waits={} tail_data_waits={} tail_stall_s={:.3} first_waits={}",
        tail.len(),
        tail.iter().filter(|t| t.first_waits > 0).count(),
        tail.iter().filter(|t| t.data_waits > 0).count(),
        stalled.get(stalled.len() / 2).copied().unwrap_or(f64::NAN),
        done.iter().filter(|(_, t)| t.first_waits > 0).count(),
    )
}

fn summary(ends: &[End], total: Duration) -> String {
    let mut times: Vec<f64> = slowest(ends).iter().map(|(t, _)| t.as_secs_f64()).collect();
    times.sort_by(f64::total_cmp);
    let count = |f: fn(&End) -> bool| ends.iter().filter(|e| f(e)).count();
    let pct = |p: f64| {
        let i = ((times.len() as f64 * p).ceil() as usize).saturating_sub(1);
        times.get(i).copied().unwrap_or(f64::NAN)
    };
    format!(
        "clients={} failed={} gave_up={} errors={} wrong={} p50_s={:.3} p99_s={:.3} max_s={:.3} total_s={:.3} {}",
        ends.len(),
        ends.len() - times.len(),
        count(|e| matches!(e, End::GaveUp(_))),
        count(|e| matches!(e, End::Error(_))),
        count(|e| matches!(e, End::Wrong(_))),
        pct(0.5),
        pct(0.99),
        times.last().copied().unwrap_or(f64::NAN),
        total.as_secs_f64(),
        tail_summary(ends, pct(0.99)),
    )
}

/// One lock-step download, firmware-style.
fn download(args: &Args, mut link: Link<'_>, expected: &[u8]) -> End {
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(args.deadline_s);
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let mut last_sent = request(args);
    let mut to = args.server;
    let mut tid: Option<SocketAddr> = None;
    let mut blksize = 512usize;
    let mut got: Vec<u8> = Vec::with_capacity(expected.len());
    let mut next: u16 = 1;
    let mut silent = 0;
    let mut buf = vec![0u8; 65536];
    let mut timeline = Timeline::default();
    let mut last_block = t0;
    link.send(&last_sent, to);
    // The retransmission timer runs from the last packet sent.
    let mut timer = Instant::now() + timeout;
    loop {
        if Instant::now() >= deadline {
            return End::GaveUp(format!("deadline, {} bytes", got.len()));
        }
        let Some((len, from)) = link.recv(&mut buf, timer) else {
            silent += 1;
            if timeline.first_data.is_none() {
                timeline.first_waits += 1;
            } else {
                timeline.data_waits += 1;
            }
            if silent >= args.retries {
                return End::GaveUp(format!("{silent} silent timeouts, {} bytes", got.len()));
            }
            link.send(&last_sent, to);
            timer = Instant::now() + timeout;
            continue;
        };
        if tid.is_some_and(|t| t != from) {
            continue;
        }
        let Ok(packet) = Packet::parse(&buf[..len]) else {
            continue;
        };
        silent = 0;
        match packet {
            Packet::Oack { options } if tid.is_none() || got.is_empty() => {
                for (name, value) in options {
                    if name.eq_ignore_ascii_case("blksize") {
                        blksize = value.parse().unwrap_or(512);
                    }
                }
                timeline.oack.get_or_insert(t0.elapsed());
                last_sent = Packet::Ack { block: 0 }.to_bytes();
            }
            Packet::Data { block, data } if block == next => {
                let now = Instant::now();
                if timeline.first_data.is_none() {
                    timeline.first_data = Some(now - t0);
                } else {
                    timeline.block(now - last_block);
                }
                last_block = now;
                got.extend_from_slice(data);
                last_sent = Packet::Ack { block }.to_bytes();
                next = next.wrapping_add(1);
                if data.len() < blksize {
                    link.send(&last_sent, from);
                    return if got == expected {
                        End::Done(t0.elapsed(), timeline)
                    } else {
                        End::Wrong(format!("{} bytes of {}", got.len(), expected.len()))
                    };
                }
            }
            // A resent copy of the block last ACKed: that ACK was lost.
            Packet::Data { block, .. } if block == next.wrapping_sub(1) => timeline.repeats += 1,
            Packet::Error { code, message } => {
                return End::Error(format!("ERROR {}: {message}", code.code()));
            }
            _ => continue,
        }
        tid = Some(from);
        to = from;
        link.send(&last_sent, to);
        timer = Instant::now() + timeout;
    }
}

fn request(args: &Args) -> Vec<u8> {
    let blksize = args.blksize.to_string();
    let mut options = vec![("blksize", blksize.as_str())];
    if args.tsize {
        options.push(("tsize", "0"));
    }
    Packet::Rrq(Request {
        filename: args.file.as_bytes(),
        mode: Mode::Octet,
        options,
    })
    .to_bytes()
}
