//! A UDP relay on 127.0.0.1 that stands between a real TFTP client and the
//! server and loses the server's first replies on purpose, to check that a
//! client whose first OACK or DATA is lost recovers by sending its request
//! again (the server never resends to a client that has not answered yet).
//!
//! The client sees one address (the relay's) for the listening port and the
//! transfer port alike, which every client accepts: the transfer port is
//! whatever the first reply comes from. Each client port gets its own
//! upstream socket, so the server sees a repeated request coming from the
//! same address and port as the first one.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::clients::Endpoint;

/// The relay runs at most this long, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(120);

/// What went through the relay.
#[derive(Debug, Default, Clone)]
pub struct Relayed {
    /// Requests (RRQ/WRQ) the client sent, repeats included.
    pub requests: usize,
    /// Opcodes of the server datagrams dropped.
    pub dropped: Vec<u16>,
    /// Server datagrams passed on to the client.
    pub passed: usize,
}

/// A running relay; stopped and joined on drop.
pub struct LossyRelay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    relayed: Arc<Mutex<Relayed>>,
    thread: Option<JoinHandle<()>>,
}

struct Upstream {
    sock: UdpSocket,
    /// The server's transfer port, once it has sent from one.
    transfer: Option<SocketAddr>,
}

impl LossyRelay {
    /// Relays to the server listening on `server`, dropping its first
    /// `drop_first` datagrams (to any client).
    pub fn start(server: SocketAddr, drop_first: usize) -> LossyRelay {
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind relay");
        front.set_nonblocking(true).unwrap();
        let addr = front.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let relayed = Arc::new(Mutex::new(Relayed::default()));
        let (stop2, relayed2) = (Arc::clone(&stop), Arc::clone(&relayed));
        let thread = std::thread::spawn(move || {
            relay(&front, server, drop_first, &stop2, &relayed2);
        });
        LossyRelay {
            addr,
            stop,
            relayed,
            thread: Some(thread),
        }
    }

    /// What went through so far.
    pub fn relayed(&self) -> Relayed {
        self.relayed.lock().unwrap().clone()
    }
}

impl Endpoint for LossyRelay {
    fn endpoint(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn opcode(datagram: &[u8]) -> u16 {
    match datagram {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

fn relay(
    front: &UdpSocket,
    server: SocketAddr,
    drop_first: usize,
    stop: &AtomicBool,
    relayed: &Mutex<Relayed>,
) {
    let started = Instant::now();
    let mut clients: HashMap<SocketAddr, Upstream> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    let mut seen_from_server = 0usize;
    while !stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
        let mut busy = false;
        while let Ok((n, client)) = front.recv_from(&mut buf) {
            busy = true;
            let up = clients.entry(client).or_insert_with(|| {
                let sock = UdpSocket::bind("127.0.0.1:0").expect("bind upstream");
                sock.set_nonblocking(true).unwrap();
                Upstream {
                    sock,
                    transfer: None,
                }
            });
            let to = if matches!(opcode(&buf[..n]), 1 | 2) {
                relayed.lock().unwrap().requests += 1;
                server
            } else {
                match up.transfer {
                    Some(t) => t,
                    None => continue,
                }
            };
            let _ = up.sock.send_to(&buf[..n], to);
        }
        for (client, up) in clients.iter_mut() {
            while let Ok((n, from)) = up.sock.recv_from(&mut buf) {
                busy = true;
                up.transfer = Some(from);
                seen_from_server += 1;
                let mut r = relayed.lock().unwrap();
                if seen_from_server <= drop_first {
                    r.dropped.push(opcode(&buf[..n]));
                    continue;
                }
                r.passed += 1;
                let _ = front.send_to(&buf[..n], client);
            }
        }
        if !busy {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
