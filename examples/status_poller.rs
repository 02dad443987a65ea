//! Many "browsers" on the status page, for tests/bench/status_cost.sh: N
//! threads, each keeping one HTTP/1.1 connection to the status server and
//! fetching a path (`/api/status` by default) every interval, as the page
//! does, for a bounded number of seconds. Prints one line of counts at the
//! end: `pollers=N requests=R ok=K errors=E bytes=B max_ms=M`.
//!
//! ```sh
//! status_poller --address 127.0.0.1:9090 --pollers 50 --seconds 10
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the command line asks.
struct Args {
    address: SocketAddr,
    pollers: usize,
    seconds: u64,
    interval_ms: u64,
    path: String,
    stop_file: Option<std::path::PathBuf>,
}

/// Counts shared by the pollers.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    ok: AtomicU64,
    errors: AtomicU64,
    bytes: AtomicU64,
    max_ms: AtomicU64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        address: "127.0.0.1:9090".parse().map_err(|e| format!("{e}"))?,
        pollers: 50,
        seconds: 10,
        interval_ms: 1000,
        path: "/api/status".into(),
        stop_file: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--address" => args.address = value.parse().map_err(|e| bad(&e))?,
            "--pollers" => args.pollers = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| bad(&e))?,
            "--interval-ms" => args.interval_ms = value.parse().map_err(|e| bad(&e))?,
            "--path" => args.path = value,
            "--stop-file" => args.stop_file = Some(value.into()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.seconds > 3600 {
        return Err("--seconds: at most 3600".into());
    }
    Ok(args)
}

/// One request on `conn`; the body's length.
fn fetch(conn: &mut BufReader<TcpStream>, args: &Args) -> std::io::Result<u64> {
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nCache-Control: no-store\r\n\r\n",
        args.path, args.address
    );
    conn.get_mut().write_all(req.as_bytes())?;
    let mut line = String::new();
    conn.read_line(&mut line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("answer: {}", line.trim())));
    }
    let mut length = None;
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<u64>().ok();
            }
        }
    }
    let length = length.ok_or_else(|| std::io::Error::other("no Content-Length"))?;
    std::io::copy(&mut conn.by_ref().take(length), &mut std::io::sink())
}

fn connect(args: &Args) -> std::io::Result<BufReader<TcpStream>> {
    let s = TcpStream::connect_timeout(&args.address, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(BufReader::with_capacity(64 << 10, s))
}

/// One browser: a request every interval until `end`, reconnecting after an error.
fn poll(args: &Args, counts: &Counts, end: Instant, offset: Duration) {
    std::thread::sleep(offset);
    let mut conn = None;
    let mut next = Instant::now();
    let stopped = || args.stop_file.as_ref().is_some_and(|f| f.exists());
    while Instant::now() < end && !stopped() {
        counts.requests.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let got = match conn.take() {
            Some(c) => Ok(c),
            None => connect(args),
        }
        .and_then(|mut c| fetch(&mut c, args).map(|n| (c, n)));
        match got {
            Ok((c, n)) => {
                conn = Some(c);
                counts.ok.fetch_add(1, Ordering::Relaxed);
                counts.bytes.fetch_add(n, Ordering::Relaxed);
                let ms = t0.elapsed().as_millis() as u64;
                counts.max_ms.fetch_max(ms, Ordering::Relaxed);
            }
            Err(_) => {
                counts.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        next += Duration::from_millis(args.interval_ms);
        let now = Instant::now();
        if next > now {
            // short naps, so that the stop file is seen soon
            let nap = (next - now).min(end.saturating_duration_since(now));
            let until = now + nap;
            while Instant::now() < until && !stopped() {
                std::thread::sleep(
                    Duration::from_millis(50).min(until.saturating_duration_since(Instant::now())),
                );
            }
        } else {
            next = now;
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("status_poller: {e}");
            std::process::exit(2);
        }
    };
    let counts = Arc::new(Counts::default());
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let threads: Vec<_> = (0..args.pollers)
        .map(|i| {
            let (args, counts) = (Arc::clone(&args), Arc::clone(&counts));
            // spread the pollers over the interval, as browsers would be
            let offset = Duration::from_millis(args.interval_ms * i as u64 / args.pollers as u64);
            std::thread::spawn(move || poll(&args, &counts, end, offset))
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let c = &counts;
    println!(
        "pollers={} requests={} ok={} errors={} bytes={} max_ms={}",
        args.pollers,
        c.requests.load(Ordering::Relaxed),
        c.ok.load(Ordering::Relaxed),
        c.errors.load(Ordering::Relaxed),
        c.bytes.load(Ordering::Relaxed),
        c.max_ms.load(Ordering::Relaxed)
    );
}
