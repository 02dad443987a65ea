//! The probes the decision loop runs: one task per probed address (ARP on
//! the link, ICMP within the [`Budget`] for relayed pools, see
//! [`crate::dhcp::probing`]), and the requests that wait for its verdict.
//!
//! A client that sends another DISCOVER while its address is being probed
//! (a retransmission, or a new transaction id as perfdhcp and some firmware
//! send) waits for the same probe and is answered when it ends, with the
//! request that started it, instead of being dropped.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dhcproto::v4::Message;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::dhcp::listen::Link;
use crate::dhcp::probe;
use crate::dhcp::probing::{self, Budget, Method};
use crate::dhcp::reply::Context;

/// At most this many requests wait for one probe; later ones are dropped
/// (the client retransmits). perfdhcp, starting an exchange for one MAC
/// every 17 ms (200 clients at 12,000/s), sends 24 during a 400-ms probe.
pub const MAX_WAITING: usize = 32;

/// A request as the decision loop received it.
pub(super) struct Request {
    pub msg: Message,
    pub ctx: Context,
    /// Index of the listener it came in on (replies leave there).
    pub listener: usize,
    /// When it arrived.
    pub received: Instant,
}

/// A probe that ended, with the requests that waited for it (the one that
/// started it first).
pub(super) struct Done {
    pub ip: Ipv4Addr,
    /// Why the address is in use; `None` when the probe heard nothing.
    pub in_use: Option<String>,
    /// How it was probed (`arp`, `icmp`), `None` when it was not.
    pub by: Option<&'static str>,
    pub requests: Vec<Request>,
}

/// What a probe task sends back.
struct Finished {
    ip: Ipv4Addr,
    in_use: Option<String>,
    method: Method,
}

/// The probes in flight and the requests waiting for them.
pub(super) struct Probes {
    waiting: HashMap<Ipv4Addr, Vec<Request>>,
    /// Bounds ICMP probes (ARP probes need no bound: they cost the kernel nothing).
    icmp: Budget,
    tx: mpsc::Sender<Finished>,
    rx: mpsc::Receiver<Finished>,
}

impl Probes {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel(1024);
        Self {
            waiting: HashMap::new(),
            icmp: Budget::icmp(),
            tx,
            rx,
        }
    }

    /// Probes `ip` for `req` in a task of its own, or, when a probe of `ip`
    /// is already running, lets `req` wait for its verdict. `on_link`: `ip`
    /// is on the link `link` serves (probed by ARP there).
    pub fn start(
        &mut self,
        ip: Ipv4Addr,
        req: Request,
        link: Option<Arc<Link>>,
        on_link: bool,
        timeout: Duration,
    ) {
        if let Some(waiting) = self.waiting.get_mut(&ip) {
            join(waiting, req, ip);
            return;
        }
        self.waiting.insert(ip, vec![req]);
        let has_arp = link.as_ref().is_some_and(|l| l.arp.is_some());
        let mut method = probing::method(on_link, link.is_some(), has_arp);
        if method == Method::Icmp && !self.icmp.try_start(Instant::now()) {
            debug!(%ip, in_flight = self.icmp.in_flight(), "ping probe budget used up: offering without a probe");
            method = Method::Skip;
        }
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let in_use = run(method, link.as_deref(), ip, timeout).await;
            let _ = tx.send(Finished { ip, in_use, method }).await;
        });
    }

    /// The next probe to end, with its waiting requests.
    pub async fn next(&mut self) -> Done {
        loop {
            // `self.tx` keeps the channel open: `None` never comes
            let Some(f) = self.rx.recv().await else {
                std::future::pending::<()>().await;
                continue;
            };
            if f.method == Method::Icmp {
                self.icmp.finish();
            }
            let requests = self.waiting.remove(&f.ip).unwrap_or_default();
            return Done {
                ip: f.ip,
                in_use: f.in_use,
                by: by(f.method),
                requests,
            };
        }
    }
}

/// Adds `req` to the requests waiting for the probe of `ip`, unless it is a
/// retransmission of one already there or too many wait.
fn join(waiting: &mut Vec<Request>, req: Request, ip: Ipv4Addr) {
    let same = |r: &Request| r.msg.xid() == req.msg.xid() && r.msg.chaddr() == req.msg.chaddr();
    if waiting.iter().any(same) {
        debug!(%ip, "probe running: retransmission ignored");
    } else if waiting.len() >= MAX_WAITING {
        debug!(%ip, "probe running: too many requests wait for it, dropped");
    } else {
        debug!(%ip, "probe running: the request waits for it");
        waiting.push(req);
    }
}

fn by(method: Method) -> Option<&'static str> {
    match method {
        Method::Arp => Some("arp"),
        Method::Icmp => Some("icmp"),
        Method::Skip => None,
    }
}

/// Runs one probe; why the address is in use, `None` when nothing answered.
async fn run(
    method: Method,
    link: Option<&Link>,
    ip: Ipv4Addr,
    timeout: Duration,
) -> Option<String> {
    match (method, link) {
        (Method::Arp, Some(link)) => match link.arp.as_ref() {
            Some(arp) => arp_probe(arp, ip, timeout).await,
            None => None,
        },
        (Method::Icmp, Some(link)) => ping_probe(ip, &link.name, timeout).await,
        _ => None,
    }
}

/// The ARP probe's verdict as the log line's reason.
async fn arp_probe(
    arp: &crate::dhcp::arp_probe::ArpProbes,
    ip: Ipv4Addr,
    timeout: Duration,
) -> Option<String> {
    match arp.probe(ip, timeout).await {
        Ok(found) => found.map(|c| format!("ARP probe: {c}")),
        Err(e) => {
            warn!(%ip, error = %e, "ARP probe failed; offering without it");
            None
        }
    }
}

/// The ICMP probe's verdict as the log line's reason.
async fn ping_probe(ip: Ipv4Addr, device: &str, timeout: Duration) -> Option<String> {
    match probe::probe(ip, device, timeout).await {
        Ok(true) => Some("it answered the ping probe".to_string()),
        Ok(false) => None,
        Err(e) => {
            warn!(%ip, error = %e, "ping probe unavailable; offering without it");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcp::reply::Port;
    use dhcproto::v4::{Message, MessageType, Opcode};
    use std::net::SocketAddrV4;

    fn request(xid: u32, mac: u8) -> Request {
        let mut msg = Message::default();
        msg.set_opcode(Opcode::BootRequest)
            .set_xid(xid)
            .set_chaddr(&[2, 0, 0, 0, 0, mac]);
        msg.opts_mut()
            .insert(dhcproto::v4::DhcpOption::MessageType(MessageType::Discover));
        Request {
            msg,
            ctx: Context {
                source: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
                port: Port::Dhcp,
                server_ip: Ipv4Addr::new(10, 0, 0, 1),
            },
            listener: 0,
            received: Instant::now(),
        }
    }

    #[tokio::test]
    async fn later_requests_wait_for_the_running_probe() {
        let mut p = Probes::new();
        let ip = Ipv4Addr::new(10, 0, 0, 9);
        let t = Duration::from_millis(10);
        // no link: not probed, but the requests still queue behind it
        p.start(ip, request(1, 1), None, true, t);
        p.start(ip, request(2, 1), None, true, t);
        p.start(ip, request(2, 1), None, true, t);
        p.start(ip, request(7, 2), None, true, t);
        let done = p.next().await;
        assert_eq!(done.ip, ip);
        assert_eq!(done.by, None);
        let xids: Vec<u32> = done.requests.iter().map(|r| r.msg.xid()).collect();
        assert_eq!(xids, [1, 2, 7], "the first first, the retransmission once");
        assert!(p.waiting.is_empty());
    }

    #[tokio::test]
    async fn at_most_max_waiting_requests_wait() {
        let mut p = Probes::new();
        let ip = Ipv4Addr::new(10, 0, 0, 9);
        for xid in 0..40 {
            p.start(ip, request(xid, 1), None, true, Duration::from_millis(10));
        }
        assert_eq!(p.next().await.requests.len(), MAX_WAITING);
    }
}
