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
//! client's end) and, on stderr, the first few failures.

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
    Done(Duration),
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
    for end in ends.iter().filter(|e| !matches!(e, End::Done(_))).take(5) {
        eprintln!("failure: {end:?}");
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

fn summary(ends: &[End], total: Duration) -> String {
    let mut times: Vec<f64> = ends
        .iter()
        .filter_map(|e| match e {
            End::Done(t) => Some(t.as_secs_f64()),
            _ => None,
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let count = |f: fn(&End) -> bool| ends.iter().filter(|e| f(e)).count();
    let pct = |p: f64| {
        let i = ((times.len() as f64 * p).ceil() as usize).saturating_sub(1);
        times.get(i).copied().unwrap_or(f64::NAN)
    };
    format!(
        "clients={} failed={} gave_up={} errors={} wrong={} p50_s={:.3} p99_s={:.3} max_s={:.3} total_s={:.3}",
        ends.len(),
        ends.len() - times.len(),
        count(|e| matches!(e, End::GaveUp(_))),
        count(|e| matches!(e, End::Error(_))),
        count(|e| matches!(e, End::Wrong(_))),
        pct(0.5),
        pct(0.99),
        times.last().copied().unwrap_or(f64::NAN),
        total.as_secs_f64(),
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
    link.send(&last_sent, to);
    // The retransmission timer runs from the last packet sent.
    let mut timer = Instant::now() + timeout;
    loop {
        if Instant::now() >= deadline {
            return End::GaveUp(format!("deadline, {} bytes", got.len()));
        }
        let Some((len, from)) = link.recv(&mut buf, timer) else {
            silent += 1;
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
                last_sent = Packet::Ack { block: 0 }.to_bytes();
            }
            Packet::Data { block, data } if block == next => {
                got.extend_from_slice(data);
                last_sent = Packet::Ack { block }.to_bytes();
                next = next.wrapping_add(1);
                if data.len() < blksize {
                    link.send(&last_sent, from);
                    return if got == expected {
                        End::Done(t0.elapsed())
                    } else {
                        End::Wrong(format!("{} bytes of {}", got.len(), expected.len()))
                    };
                }
            }
            // A resent copy of the block last ACKed: that ACK was lost.
            Packet::Data { block, .. } if block == next.wrapping_sub(1) => {}
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
