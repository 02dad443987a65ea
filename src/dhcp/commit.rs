//! Group commit: the lease changes of every decision queued while the previous
//! `fdatasync` ran are written with one write and one `fdatasync`, and only
//! then are those replies sent, so no ACK leaves before its lease is on disk.
//! Sending also carries out the core's choice of destination: a unicast to a
//! client without an address goes out as a frame to its MAC (`unicast`).
//!
//! The store is reached through the [`Journal`] trait, so tests can put a
//! slow or failing store behind the committer. A store shared with other
//! servers (PostgreSQL) may refuse single records of a batch (another server
//! holds the address): those replies are withheld, the others leave.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::warn;

use crate::dhcp::listen::Link;
use crate::dhcp::pool::{Lease, LeaseState};
use crate::dhcp::reply::Destination;
use crate::dhcp::report::Report;
use crate::dhcp::store::{Journal, StoreError};
use crate::dhcp::view::LeaseView;
use crate::mac::MacAddr;

/// A reply waiting to be sent.
pub(crate) struct Outgoing {
    pub sock: Arc<UdpSocket>,
    pub bytes: Vec<u8>,
    pub dest: Destination,
    /// The interface the request arrived on (for a frame to the client's MAC).
    pub link: Option<Arc<Link>>,
}

/// Work for the committer, in decision order.
pub(crate) enum Commit {
    /// Persist these records, then send the reply and report the decision.
    Leases(Vec<Lease>, Option<Outgoing>, Option<Box<Report>>),
    /// Rewrite the snapshot with this complete state.
    Compact(Vec<Lease>),
}

/// Sends a reply where the core said. A unicast to a client without an
/// address goes out as a frame to its MAC on the interface's packet socket;
/// without one (no CAP_NET_RAW, no interface configured) or when that send
/// fails, it is broadcast, as RFC 2131 allows.
pub(crate) async fn send(o: &Outgoing) {
    let dest = match o.dest {
        Destination::Ip(addr) => addr,
        Destination::Link { addr, mac } => {
            let link = o.link.as_deref();
            if let Some((link, frames)) = link.and_then(|l| Some((l, l.frames.as_ref()?))) {
                match frames.send(link.source, addr, mac, &o.bytes).await {
                    Ok(()) => return,
                    Err(e) => {
                        warn!(%addr, %mac, interface = %link.name, error = %e, "unicast frame failed; broadcasting the reply");
                    }
                }
            }
            SocketAddrV4::new(Ipv4Addr::BROADCAST, addr.port())
        }
    };
    // the common case needs no wake-up: the socket buffer has room
    let result = match o.sock.try_send_to(&o.bytes, dest.into()) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            o.sock.send_to(&o.bytes, dest).await
        }
        other => other,
    };
    if let Err(e) = result {
        warn!(%dest, error = %e, "dhcp send failed");
    }
}

/// Group commit: everything queued while the previous sync ran is written
/// with one sync, then those replies leave.
pub(crate) async fn commit_loop<S: Journal>(
    mut store: Option<S>,
    mut rx: mpsc::UnboundedReceiver<Commit>,
    view: LeaseView,
) {
    let persist = store.is_some();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 8192 {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let mut outgoing = Vec::with_capacity(batch.len());
        let mut jobs = Vec::new();
        let mut pending = Vec::new();
        let mut changes = Vec::new();
        for c in batch {
            match c {
                Commit::Leases(leases, out, report) => {
                    let keys: Vec<Key> = leases.iter().map(key).collect();
                    changes.extend(leases.iter().cloned());
                    pending.extend(leases);
                    outgoing.push((out, report, keys));
                }
                Commit::Compact(all) => {
                    jobs.push(Job::Append(std::mem::take(&mut pending)));
                    jobs.push(Job::Compact(all));
                }
            }
        }
        jobs.push(Job::Append(pending));
        let (ok, refused) = match store.take() {
            None => (!persist, HashSet::new()),
            Some(s) => match tokio::task::spawn_blocking(move || run_jobs(s, jobs)).await {
                Ok((s, result)) => {
                    store = Some(s);
                    match result {
                        Ok(refused) => (true, refused),
                        Err(e) if e.is_known_outage() => {
                            tracing::debug!(error = %e, "lease store down: withholding replies");
                            (false, HashSet::new())
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "lease store write failed: withholding ACKs");
                            (false, HashSet::new())
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "lease store task panicked; leases no longer persisted");
                    (false, HashSet::new())
                }
            },
        };
        if ok {
            // an offer changes nobody's lease (a renewing client's included)
            changes.retain(|l| !refused.contains(&key(l)) && l.state != LeaseState::Offered);
            view.apply(&changes);
        }
        // every reply first, then the reports: no ACK waits for another's report
        let taken: Vec<bool> = outgoing
            .iter()
            .map(|(_, _, keys)| keys.iter().any(|k| refused.contains(k)))
            .collect();
        for ((out, _, _), &taken) in outgoing.iter().zip(&taken) {
            if let (true, false, Some(o)) = (ok, taken, out) {
                send(o).await;
            }
        }
        for ((_, report, _), taken) in outgoing.into_iter().zip(taken) {
            match (report, ok, taken) {
                (Some(r), true, false) => r.sent(),
                (Some(r), true, true) => {
                    r.withheld("another server holds the address in the lease database")
                }
                (Some(r), false, _) => r.withheld("the lease store could not be written"),
                (None, _, _) => {}
            }
        }
    }
}

/// What identifies a record refused by the store.
type Key = (Ipv4Addr, MacAddr);

fn key(l: &Lease) -> Key {
    (l.ip, l.mac)
}

enum Job {
    Append(Vec<Lease>),
    Compact(Vec<Lease>),
}

/// Runs `jobs` in order; the records the store refused, or its error.
fn run_jobs<S: Journal>(mut store: S, jobs: Vec<Job>) -> (S, Result<HashSet<Key>, StoreError>) {
    let mut refused = HashSet::new();
    for job in jobs {
        let r = match job {
            Job::Append(l) => store.append(&l),
            Job::Compact(all) => store.compact(&all).map(|()| Vec::new()),
        };
        match r {
            Ok(r) => refused.extend(r.iter().map(key)),
            Err(e) => return (store, Err(e)),
        }
    }
    (store, Ok(refused))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::dhcp::pool::LeaseState;

    /// A store whose every non-empty append waits for the test's verdict
    /// (true = written, false = the disk failed), logging what it does. It
    /// refuses 10.0.0.13 (another server holds it), as a shared store does.
    struct GatedStore {
        verdicts: std::sync::mpsc::Receiver<bool>,
        events: Arc<Mutex<Vec<String>>>,
    }

    impl Journal for GatedStore {
        fn append(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, StoreError> {
            if leases.is_empty() {
                return Ok(Vec::new());
            }
            let ips: Vec<String> = leases.iter().map(|l| l.ip.to_string()).collect();
            let log = |e: String| self.events.lock().unwrap().push(e);
            log(format!("writing {}", ips.join(",")));
            if self
                .verdicts
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or(false)
            {
                log(format!("on disk {}", ips.join(",")));
                let taken = Ipv4Addr::new(10, 0, 0, 13);
                Ok(leases.iter().filter(|l| l.ip == taken).cloned().collect())
            } else {
                log(format!("failed {}", ips.join(",")));
                Err(StoreError::Io {
                    path: "leases.journal".into(),
                    source: std::io::Error::other("disk full"),
                })
            }
        }
        fn compact(&mut self, _: &[Lease]) -> Result<(), StoreError> {
            Ok(())
        }
    }

    struct Rig {
        to_commit: mpsc::UnboundedSender<Commit>,
        verdicts: std::sync::mpsc::Sender<bool>,
        events: Arc<Mutex<Vec<String>>>,
        view: LeaseView,
        server: Arc<UdpSocket>,
        client: UdpSocket,
    }

    impl Rig {
        async fn new() -> Self {
            let (verdicts, rx) = std::sync::mpsc::channel();
            let events = Arc::new(Mutex::new(Vec::new()));
            let store = GatedStore {
                verdicts: rx,
                events: Arc::clone(&events),
            };
            let (to_commit, commits) = mpsc::unbounded_channel();
            let view = LeaseView::default();
            tokio::spawn(commit_loop(Some(store), commits, view.clone()));
            Self {
                to_commit,
                verdicts,
                events,
                view,
                server: Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()),
                client: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            }
        }

        /// Queues the ACK `[n; 4]` behind the lease of 10.0.0.n.
        fn ack(&self, n: u8) {
            let SocketAddr::V4(to) = self.client.local_addr().unwrap() else {
                unreachable!("bound to 127.0.0.1")
            };
            let lease = Lease {
                ip: Ipv4Addr::new(10, 0, 0, n),
                mac: MacAddr([2, 0, 0, 0, 0, n]),
                expires: 10_000,
                state: LeaseState::Bound,
                hostname: None,
            };
            let out = Outgoing {
                sock: Arc::clone(&self.server),
                bytes: vec![n; 4],
                dest: Destination::Ip(to),
                link: None,
            };
            self.to_commit
                .send(Commit::Leases(vec![lease], Some(out), None))
                .unwrap();
        }

        /// Waits (bounded) until the store logged `event`.
        async fn wait_event(&self, event: &str) {
            for _ in 0..1000 {
                if self.events.lock().unwrap().iter().any(|e| e == event) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("store never logged {event:?}: {:?}", self.events.lock());
        }

        /// The next datagram the client receives, if one comes within `wait`.
        async fn received(&self, wait: Duration) -> Option<Vec<u8>> {
            let mut buf = [0u8; 64];
            let got = tokio::time::timeout(wait, self.client.recv_from(&mut buf)).await;
            got.ok().map(|r| buf[..r.unwrap().0].to_vec())
        }

        fn in_view(&self, n: u8) -> bool {
            self.view.holder(Ipv4Addr::new(10, 0, 0, n)).is_some()
        }
    }

    #[tokio::test]
    async fn no_ack_leaves_before_its_lease_is_on_disk() {
        let rig = Rig::new().await;
        rig.ack(1);
        rig.wait_event("writing 10.0.0.1").await;
        // the write is in progress (held by the store): nothing may be out
        assert_eq!(
            rig.received(Duration::from_millis(300)).await,
            None,
            "an ACK left before its lease was on disk"
        );
        assert!(!rig.in_view(1), "TFTP saw a lease that is not on disk");
        rig.verdicts.send(true).unwrap();
        assert_eq!(
            rig.received(Duration::from_secs(20)).await,
            Some(vec![1; 4]),
            "the ACK once its lease is on disk"
        );
        assert!(rig.in_view(1));
        assert_eq!(
            *rig.events.lock().unwrap(),
            vec!["writing 10.0.0.1", "on disk 10.0.0.1"]
        );
    }

    #[tokio::test]
    async fn acks_are_withheld_when_the_write_fails() {
        let rig = Rig::new().await;
        rig.ack(1);
        rig.wait_event("writing 10.0.0.1").await;
        rig.verdicts.send(false).unwrap();
        rig.wait_event("failed 10.0.0.1").await;
        // the next batch succeeds: its ACK is the first and only one out
        rig.ack(2);
        rig.wait_event("writing 10.0.0.2").await;
        rig.verdicts.send(true).unwrap();
        assert_eq!(
            rig.received(Duration::from_secs(20)).await,
            Some(vec![2; 4]),
            "the ACK of the failed write was sent"
        );
        assert_eq!(rig.received(Duration::from_millis(300)).await, None);
        assert!(!rig.in_view(1), "a lease that is not on disk reached TFTP");
        assert!(rig.in_view(2));
    }

    #[tokio::test]
    async fn a_refused_record_withholds_only_its_own_reply() {
        let rig = Rig::new().await;
        rig.ack(12);
        rig.wait_event("writing 10.0.0.12").await;
        rig.ack(13);
        rig.ack(14);
        rig.verdicts.send(true).unwrap();
        rig.wait_event("writing 10.0.0.13,10.0.0.14").await;
        rig.verdicts.send(true).unwrap();
        let wait = Duration::from_secs(20);
        assert_eq!(rig.received(wait).await, Some(vec![12; 4]));
        assert_eq!(
            rig.received(wait).await,
            Some(vec![14; 4]),
            "the other reply of the batch"
        );
        assert_eq!(rig.received(Duration::from_millis(300)).await, None);
        assert!(rig.in_view(12) && rig.in_view(14));
        assert!(!rig.in_view(13), "a refused lease reached TFTP");
    }
}
